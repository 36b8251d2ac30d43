// Results that alias each other or an argument are separate, exact arrays:
// the runner copies every result out before it frees any buffer, and frees
// each buffer once.
//
// RUN: rm -rf %t && mkdir -p %t
// RUN: bitserial-run %s --entry matmul_twice --random-inputs --seed 5 --save-inputs %t/m --output %t/y0.npy --output %t/y1.npy --output %t/a.npy --output %t/b.npy --repeat 2
// RUN: env PYTHONPATH=%bitserial_src_root/python %bitserial_python %S/Inputs/expect.py \
// RUN:   x=%t/m0.npy w=%t/m1.npy init=%t/m2.npy y0=%t/y0.npy y1=%t/y1.npy a=%t/a.npy b=%t/b.npy -- \
// RUN:   "y0 == bitserial.matmul(x, w, init=init)" "y1 == bitserial.matmul(x, w, init=init)" \
// RUN:   "y0.dtype == np.int32" "a == x" "b == x" | FileCheck %s --check-prefix=MATMUL
// MATMUL-COUNT-5: PASS
//
// RUN: bitserial-run %s --entry fresh_twice --random-inputs --seed 6 --save-inputs %t/f --output %t/f_y0.npy --output %t/f_y1.npy
// RUN: env PYTHONPATH=%bitserial_src_root/python %bitserial_python %S/Inputs/expect.py \
// RUN:   x=%t/f0.npy w=%t/f1.npy y0=%t/f_y0.npy y1=%t/f_y1.npy -- \
// RUN:   "y0 == bitserial.matmul(x, w)" "y1 == bitserial.matmul(x, w)" | FileCheck %s --check-prefix=FRESH
// FRESH-COUNT-2: PASS
//
// RUN: bitserial-run %s --entry argument_twice --random-inputs --seed 7 --save-inputs %t/a --output %t/a_0.npy --output %t/a_1.npy
// RUN: env PYTHONPATH=%bitserial_src_root/python %bitserial_python %S/Inputs/expect.py x=%t/a0.npy r0=%t/a_0.npy r1=%t/a_1.npy -- \
// RUN:   "r0 == x" "r1 == x" "r0.shape == (3, 130)" | FileCheck %s --check-prefix=ARG
// ARG-COUNT-3: PASS
//
// RUN: bitserial-run %s --entry constant_twice --print | FileCheck %s --check-prefix=CONST
// CONST: result #0: int32 [2]
// CONST-NEXT: 7 -9
// CONST-NEXT: result #1: int32 [2]
// CONST-NEXT: 7 -9

!X = tensor<3x2x3xi64, #bitserial.packed<bits = 2, encoding = signed, length = 130>>
!W = tensor<5x1x3xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 130>>

// A matmul result twice, and an argument twice.
func.func @matmul_twice(%x: tensor<3x130xi8>, %w: tensor<5x130xi8>, %init: tensor<3x5xi32>)
    -> (tensor<3x5xi32>, tensor<3x5xi32>, tensor<3x130xi8>, tensor<3x130xi8>) {
  %px = bitserial.pack %x : tensor<3x130xi8> -> !X
  %pw = bitserial.pack %w : tensor<5x130xi8> -> !W
  %y = bitserial.matmul ins(%px, %pw : !X, !W) outs(%init : tensor<3x5xi32>) -> tensor<3x5xi32>
  return %y, %y, %x, %x : tensor<3x5xi32>, tensor<3x5xi32>, tensor<3x130xi8>, tensor<3x130xi8>
}

// The result is a buffer the function allocates.
func.func @fresh_twice(%x: tensor<3x130xi8>, %w: tensor<5x130xi8>)
    -> (tensor<3x5xi32>, tensor<3x5xi32>) {
  %px = bitserial.pack %x : tensor<3x130xi8> -> !X
  %pw = bitserial.pack %w : tensor<5x130xi8> -> !W
  %zero = arith.constant 0 : i32
  %empty = tensor.empty() : tensor<3x5xi32>
  %init = linalg.fill ins(%zero : i32) outs(%empty : tensor<3x5xi32>) -> tensor<3x5xi32>
  %y = bitserial.matmul ins(%px, %pw : !X, !W) outs(%init : tensor<3x5xi32>) -> tensor<3x5xi32>
  return %y, %y : tensor<3x5xi32>, tensor<3x5xi32>
}

func.func @argument_twice(%x: tensor<3x130xi8>) -> (tensor<3x130xi8>, tensor<3x130xi8>) {
  return %x, %x : tensor<3x130xi8>, tensor<3x130xi8>
}

func.func @constant_twice() -> (tensor<2xi32>, tensor<2xi32>) {
  %c = arith.constant dense<[7, -9]> : tensor<2xi32>
  return %c, %c : tensor<2xi32>, tensor<2xi32>
}
