"""Checks OUT == X @ W^T + INIT for .npy files written by bitserial-run.

    check_matmul.py [--no-range-check] X.npy W.npy INIT.npy OUT.npy

Without --no-range-check, X must be signed 2-bit and W bipolar 1-bit values
(what binary-dense.mlir packs).
"""
import sys

import numpy as np

import bitserial

args = sys.argv[1:]
range_check = "--no-range-check" not in args
args = [a for a in args if a != "--no-range-check"]
x, w, init, out = (np.load(p) for p in args)
if range_check:
    assert x.min() >= -2 and x.max() <= 1, "x outside signed 2-bit range"
    assert set(np.unique(w)) <= {-1, 1}, "w outside bipolar 1-bit range"
expected = bitserial.matmul(x.astype(np.int64), w.astype(np.int64),
                            init=init.astype(np.int64))
if out.dtype != init.dtype or not np.array_equal(out, expected):
    print("MISMATCH", out, expected, sep="\n")
    sys.exit(1)
print(f"exact: {out.shape[0]}x{out.shape[1]} results match the reference")
largest = int(np.abs(expected).max())
print(f"largest |value| {largest} {'>' if largest > 2**31 else '<='} 2^31")
