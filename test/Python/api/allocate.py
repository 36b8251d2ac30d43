"""Calls a function that allocates an n x m i64 tensor: argv = n m."""

import sys

import numpy as np

import bitserial

SOURCE = """
func.func @f(%n: tensor<2xi64>) -> tensor<?x?xi64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %a = tensor.extract %n[%c0] : tensor<2xi64>
  %b = tensor.extract %n[%c1] : tensor<2xi64>
  %i = arith.index_cast %a : i64 to index
  %j = arith.index_cast %b : i64 to index
  %e = tensor.empty(%i, %j) : tensor<?x?xi64>
  %z = arith.constant 7 : i64
  %r = linalg.fill ins(%z : i64) outs(%e : tensor<?x?xi64>) -> tensor<?x?xi64>
  return %r : tensor<?x?xi64>
}
"""

f = bitserial.compile(SOURCE)
print(f(np.array([2, 3])).tolist(), flush=True)
print(f(np.array([int(sys.argv[1]), int(sys.argv[2])])).shape, flush=True)
