// RUN: bitserial-opt %s -split-input-file --convert-bitserial-to-x86-int8 | FileCheck %s
// The annotation of bitserial-select-kernels decides over the bit-product
// rule, also with min-bit-product; the user's bitserial.int8 decides over
// the annotation.
// RUN: bitserial-opt %s -split-input-file --convert-bitserial-to-x86-int8="min-bit-product=65" | FileCheck %s

// 1 x 1 bits, 64 rows: the rule keeps it bit-serial, the annotation takes
// int8.
// CHECK-LABEL: func.func @kernel_int8
// CHECK: func.call @llvm.x86.avx512.vpdpbusd.512
// CHECK-NOT: bitserial.matmul
!A = tensor<64x1x2xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 100>>
!B = tensor<16x1x2xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 100>>
func.func @kernel_int8(%a: !A, %b: !B, %init: tensor<64x16xi32>) -> tensor<64x16xi32> {
  %r = bitserial.matmul ins(%a, %b : !A, !B) outs(%init : tensor<64x16xi32>) {bitserial.kernel = "int8"} -> tensor<64x16xi32>
  return %r : tensor<64x16xi32>
}

// -----

// 8 x 8 bits, 300 rows: the rule takes int8, the annotation keeps it
// bit-serial.
// CHECK-LABEL: func.func @kernel_bitserial
// CHECK-NOT: func.call
// CHECK: bitserial.matmul
// CHECK-SAME: bitserial.kernel = "bitserial"
!A = tensor<300x8x3xi64, #bitserial.packed<bits = 8, encoding = unsigned, length = 147>>
!B = tensor<37x8x3xi64, #bitserial.packed<bits = 8, encoding = signed, length = 147>>
func.func @kernel_bitserial(%a: !A, %b: !B, %init: tensor<300x37xi32>) -> tensor<300x37xi32> {
  %r = bitserial.matmul ins(%a, %b : !A, !B) outs(%init : tensor<300x37xi32>) {bitserial.kernel = "bitserial"} -> tensor<300x37xi32>
  return %r : tensor<300x37xi32>
}

// -----

// bitserial.int8 = false wins over the annotation.
// CHECK-LABEL: func.func @user_false_wins
// CHECK-NOT: func.call
// CHECK: bitserial.matmul
!A = tensor<300x8x3xi64, #bitserial.packed<bits = 8, encoding = unsigned, length = 147>>
!B = tensor<37x8x3xi64, #bitserial.packed<bits = 8, encoding = signed, length = 147>>
func.func @user_false_wins(%a: !A, %b: !B, %init: tensor<300x37xi32>) -> tensor<300x37xi32> {
  %r = bitserial.matmul ins(%a, %b : !A, !B) outs(%init : tensor<300x37xi32>) {bitserial.int8 = false, bitserial.kernel = "int8"} -> tensor<300x37xi32>
  return %r : tensor<300x37xi32>
}

// -----

// An annotation does not make the lowering take what it does not handle:
// batched weights stay bit-serial.
// CHECK-LABEL: func.func @negative_batched_weights
// CHECK-NOT: func.call
// CHECK: bitserial.matmul
!A = tensor<2x30x8x3xi64, #bitserial.packed<bits = 8, encoding = unsigned, length = 147>>
!B = tensor<2x37x8x3xi64, #bitserial.packed<bits = 8, encoding = signed, length = 147>>
func.func @negative_batched_weights(%a: !A, %b: !B, %init: tensor<2x30x37xi32>) -> tensor<2x30x37xi32> {
  %r = bitserial.matmul ins(%a, %b : !A, !B) outs(%init : tensor<2x30x37xi32>) {bitserial.kernel = "int8"} -> tensor<2x30x37xi32>
  return %r : tensor<2x30x37xi32>
}

// -----

// A register block alone (the user's, bitserial-select-kernels leaves it)
// is one of the bit-serial kernel: the rule's int8 choice does not apply.
// CHECK-LABEL: func.func @user_register_block
// CHECK-NOT: func.call
// CHECK: bitserial.matmul
// CHECK-SAME: bitserial.register_block = array<i64: 2, 3>
!A = tensor<300x8x3xi64, #bitserial.packed<bits = 8, encoding = unsigned, length = 147>>
!B = tensor<37x8x3xi64, #bitserial.packed<bits = 8, encoding = signed, length = 147>>
func.func @user_register_block(%a: !A, %b: !B, %init: tensor<300x37xi32>) -> tensor<300x37xi32> {
  %r = bitserial.matmul ins(%a, %b : !A, !B) outs(%init : tensor<300x37xi32>) {bitserial.register_block = array<i64: 2, 3>} -> tensor<300x37xi32>
  return %r : tensor<300x37xi32>
}
