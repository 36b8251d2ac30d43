// bitserial-run compiles only the entry and the functions it refers to:
// @unused calls a declaration nothing defines, which fails only when
// @unused is the entry, and is not in the JIT-compiled object otherwise.
// RUN: bitserial-run %s --entry main --random-inputs --seed 3 --print --dump-object %t.o | FileCheck %s
// RUN: llvm-nm %t.o | FileCheck %s --check-prefix=OBJ
// RUN: not bitserial-run %s --entry unused --random-inputs 2>&1 | FileCheck %s --check-prefix=UNUSED
// CHECK: result #0: int32 [2, 2]
// OBJ-DAG: T main
// OBJ-DAG: T twice
// OBJ-NOT: unused
// UNUSED: error: 'missing' is declared but not defined, and no loaded library provides it

!X = tensor<2x1x2xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 100>>

func.func @main(%x: !X, %w: !X) -> tensor<2x2xi32> {
  %c0 = arith.constant 0 : i32
  %empty = tensor.empty() : tensor<2x2xi32>
  %init = linalg.fill ins(%c0 : i32) outs(%empty : tensor<2x2xi32>) -> tensor<2x2xi32>
  %r = call @twice(%x, %w, %init) : (!X, !X, tensor<2x2xi32>) -> tensor<2x2xi32>
  return %r : tensor<2x2xi32>
}

func.func private @twice(%x: !X, %w: !X, %init: tensor<2x2xi32>) -> tensor<2x2xi32> {
  %m = bitserial.matmul ins(%x, %w : !X, !X) outs(%init : tensor<2x2xi32>) -> tensor<2x2xi32>
  %r = bitserial.matmul ins(%x, %w : !X, !X) outs(%m : tensor<2x2xi32>) -> tensor<2x2xi32>
  return %r : tensor<2x2xi32>
}

func.func private @missing(tensor<2x2xi32>) -> tensor<2x2xi32>

func.func @unused(%a: tensor<2x2xi32>) -> tensor<2x2xi32> {
  %r = call @missing(%a) : (tensor<2x2xi32>) -> tensor<2x2xi32>
  return %r : tensor<2x2xi32>
}
