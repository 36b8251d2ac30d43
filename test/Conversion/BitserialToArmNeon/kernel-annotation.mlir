// RUN: bitserial-opt %s -split-input-file --convert-bitserial-to-arm-neon | FileCheck %s
// The annotation of bitserial-select-kernels decides over the bit-product
// rule (also with min-bit-product); the user's bitserial.int8 decides over
// the annotation. Without dot products nothing changes.
// RUN: bitserial-opt %s -split-input-file --convert-bitserial-to-arm-neon="min-bit-product=65" | FileCheck %s
// RUN: bitserial-opt %s -split-input-file --convert-bitserial-to-arm-neon="dot-product=false" | FileCheck %s --check-prefix=NODOT
// NODOT-NOT: arm_neon

// 1 x 1 bits: the rule keeps it bit-serial, the annotation takes int8.
// CHECK-LABEL: func.func @kernel_int8
// CHECK: arm_neon.intr.sdot
// CHECK-NOT: bitserial.matmul
!A = tensor<8x1x2xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 100>>
!B = tensor<16x1x2xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 100>>
func.func @kernel_int8(%a: !A, %b: !B, %init: tensor<8x16xi32>) -> tensor<8x16xi32> {
  %r = bitserial.matmul ins(%a, %b : !A, !B) outs(%init : tensor<8x16xi32>) {bitserial.kernel = "int8"} -> tensor<8x16xi32>
  return %r : tensor<8x16xi32>
}

// -----

// 3 x 2 bits: the rule takes int8, the annotation keeps it bit-serial.
// CHECK-LABEL: func.func @kernel_bitserial
// CHECK-NOT: arm_neon
// CHECK: bitserial.matmul
!A = tensor<8x3x2xi64, #bitserial.packed<bits = 3, encoding = signed, length = 100>>
!B = tensor<16x2x2xi64, #bitserial.packed<bits = 2, encoding = signed, length = 100>>
func.func @kernel_bitserial(%a: !A, %b: !B, %init: tensor<8x16xi32>) -> tensor<8x16xi32> {
  %r = bitserial.matmul ins(%a, %b : !A, !B) outs(%init : tensor<8x16xi32>) {bitserial.kernel = "bitserial"} -> tensor<8x16xi32>
  return %r : tensor<8x16xi32>
}

// -----

// The user's choice wins over the annotation, either way.
// CHECK-LABEL: func.func @user_choice
// CHECK: bitserial.matmul {{.*}}bitserial.int8 = false
// CHECK: arm_neon.intr.sdot
// CHECK-NOT: bitserial.matmul
!A = tensor<8x3x2xi64, #bitserial.packed<bits = 3, encoding = signed, length = 100>>
!B = tensor<16x2x2xi64, #bitserial.packed<bits = 2, encoding = signed, length = 100>>
func.func @user_choice(%a: !A, %b: !B, %init: tensor<8x16xi32>) -> (tensor<8x16xi32>, tensor<8x16xi32>) {
  %r = bitserial.matmul ins(%a, %b : !A, !B) outs(%init : tensor<8x16xi32>) {bitserial.int8 = false, bitserial.kernel = "int8"} -> tensor<8x16xi32>
  %s = bitserial.matmul ins(%a, %b : !A, !B) outs(%init : tensor<8x16xi32>) {bitserial.int8 = true, bitserial.kernel = "bitserial"} -> tensor<8x16xi32>
  return %r, %s : tensor<8x16xi32>, tensor<8x16xi32>
}
