// RUN: bitserial-opt %s --allow-unregistered-dialect | bitserial-opt --allow-unregistered-dialect | FileCheck %s
// RUN: bitserial-opt %s --allow-unregistered-dialect --mlir-print-op-generic | bitserial-opt --allow-unregistered-dialect | FileCheck %s

// CHECK-LABEL: func.func @pack_signed
// CHECK: bitserial.pack %{{.*}} : tensor<4x70xi8> -> tensor<4x2x2xi64, #bitserial.packed<bits = 2, encoding = signed, length = 70>>
func.func @pack_signed(%x: tensor<4x70xi8>)
    -> tensor<4x2x2xi64, #bitserial.packed<bits = 2, encoding = signed, length = 70>> {
  %p = bitserial.pack %x : tensor<4x70xi8>
      -> tensor<4x2x2xi64, #bitserial.packed<bits = 2, encoding = signed, length = 70>>
  return %p : tensor<4x2x2xi64, #bitserial.packed<bits = 2, encoding = signed, length = 70>>
}

// CHECK-LABEL: func.func @pack_bipolar_words
// CHECK: bitserial.pack %{{.*}} : tensor<2x3x33xi16> -> tensor<2x3x8x5xi8, #bitserial.packed<bits = 8, encoding = bipolar, length = 33>>
func.func @pack_bipolar_words(%x: tensor<2x3x33xi16>)
    -> tensor<2x3x8x5xi8, #bitserial.packed<bits = 8, encoding = bipolar, length = 33>> {
  %p = bitserial.pack %x : tensor<2x3x33xi16>
      -> tensor<2x3x8x5xi8, #bitserial.packed<bits = 8, encoding = bipolar, length = 33>>
  return %p : tensor<2x3x8x5xi8, #bitserial.packed<bits = 8, encoding = bipolar, length = 33>>
}

// CHECK-LABEL: func.func @pack_dynamic_rows
// CHECK: bitserial.pack %{{.*}} : tensor<?x100xi32> -> tensor<?x1x4xi32, #bitserial.packed<bits = 1, encoding = unsigned, length = 100>>
func.func @pack_dynamic_rows(%x: tensor<?x100xi32>)
    -> tensor<?x1x4xi32, #bitserial.packed<bits = 1, encoding = unsigned, length = 100>> {
  %p = bitserial.pack %x : tensor<?x100xi32>
      -> tensor<?x1x4xi32, #bitserial.packed<bits = 1, encoding = unsigned, length = 100>>
  return %p : tensor<?x1x4xi32, #bitserial.packed<bits = 1, encoding = unsigned, length = 100>>
}

// CHECK-LABEL: func.func @unpack
// CHECK: bitserial.unpack %{{.*}} : tensor<4x2x2xi64, #bitserial.packed<bits = 2, encoding = signed, length = 70>> -> tensor<4x70xi32>
func.func @unpack(%p: tensor<4x2x2xi64, #bitserial.packed<bits = 2, encoding = signed, length = 70>>)
    -> tensor<4x70xi32> {
  %x = bitserial.unpack %p
      : tensor<4x2x2xi64, #bitserial.packed<bits = 2, encoding = signed, length = 70>> -> tensor<4x70xi32>
  return %x : tensor<4x70xi32>
}


!A = tensor<8x2x2xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 100>>
!B = tensor<16x1x2xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 100>>

// CHECK-LABEL: func.func @matmul
// CHECK: bitserial.matmul ins(%{{.*}}, %{{.*}} : tensor<8x2x2xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 100>>, tensor<16x1x2xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 100>>) outs(%{{.*}} : tensor<8x16xi32>) -> tensor<8x16xi32>
func.func @matmul(%a: !A, %b: !B, %init: tensor<8x16xi32>) -> tensor<8x16xi32> {
  %r = bitserial.matmul ins(%a, %b : !A, !B) outs(%init : tensor<8x16xi32>) -> tensor<8x16xi32>
  return %r : tensor<8x16xi32>
}

!BA = tensor<3x8x2x2xi64, #bitserial.packed<bits = 2, encoding = signed, length = 100>>
!BB = tensor<3x16x2x2xi64, #bitserial.packed<bits = 2, encoding = signed, length = 100>>

// CHECK-LABEL: func.func @matmul_batched
// CHECK: bitserial.matmul ins({{.*}}) outs(%{{.*}} : tensor<3x8x16xi64>) -> tensor<3x8x16xi64>
func.func @matmul_batched(%a: !BA, %b: !BB, %init: tensor<3x8x16xi64>) -> tensor<3x8x16xi64> {
  %r = bitserial.matmul ins(%a, %b : !BA, !BB) outs(%init : tensor<3x8x16xi64>) -> tensor<3x8x16xi64>
  return %r : tensor<3x8x16xi64>
}

// Weights without a batch dimension are shared by every batch.
// CHECK-LABEL: func.func @matmul_shared_rhs
// CHECK: bitserial.matmul ins({{.*}}) outs(%{{.*}} : tensor<3x8x16xi32>) -> tensor<3x8x16xi32>
func.func @matmul_shared_rhs(%a: tensor<3x8x2x2xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 100>>,
                             %b: !B, %init: tensor<3x8x16xi32>) -> tensor<3x8x16xi32> {
  %r = bitserial.matmul ins(%a, %b : tensor<3x8x2x2xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 100>>, !B)
      outs(%init : tensor<3x8x16xi32>) -> tensor<3x8x16xi32>
  return %r : tensor<3x8x16xi32>
}

// CHECK-LABEL: func.func @matmul_dynamic
// CHECK: bitserial.matmul ins({{.*}}) outs(%{{.*}} : tensor<?x?xi32>) -> tensor<?x?xi32>
func.func @matmul_dynamic(%a: tensor<?x2x2xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 100>>,
                          %b: tensor<?x1x2xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 100>>,
                          %init: tensor<?x?xi32>) -> tensor<?x?xi32> {
  %r = bitserial.matmul ins(%a, %b : tensor<?x2x2xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 100>>,
                                     tensor<?x1x2xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 100>>)
      outs(%init : tensor<?x?xi32>) -> tensor<?x?xi32>
  return %r : tensor<?x?xi32>
}


!X = tensor<1x8x8x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 3>>
!F = tensor<4x3x3x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 3>>

// CHECK-LABEL: func.func @conv2d_strided_padded
// CHECK: bitserial.conv2d ins({{.*}}) outs(%{{.*}} : tensor<1x4x4x4xi32>) strides = [2, 2] padding = [1, 1, 1, 1] -> tensor<1x4x4x4xi32>
func.func @conv2d_strided_padded(%x: !X, %f: !F, %init: tensor<1x4x4x4xi32>) -> tensor<1x4x4x4xi32> {
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%init : tensor<1x4x4x4xi32>)
      strides = [2, 2] padding = [1, 1, 1, 1] -> tensor<1x4x4x4xi32>
  return %r : tensor<1x4x4x4xi32>
}

// Default strides, padding and dilations are elided.
// CHECK-LABEL: func.func @conv2d_defaults
// CHECK: outs(%{{.*}} : tensor<1x6x6x4xi32>) -> tensor<1x6x6x4xi32>
func.func @conv2d_defaults(%x: !X, %f: !F, %init: tensor<1x6x6x4xi32>) -> tensor<1x6x6x4xi32> {
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%init : tensor<1x6x6x4xi32>) -> tensor<1x6x6x4xi32>
  return %r : tensor<1x6x6x4xi32>
}

// CHECK-LABEL: func.func @conv2d_dilated_asymmetric
// CHECK: padding = [0, 2, 1, 0] dilations = [2, 1] -> tensor<1x6x7x4xi64>
func.func @conv2d_dilated_asymmetric(%x: !X, %f: !F, %init: tensor<1x6x7x4xi64>) -> tensor<1x6x7x4xi64> {
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%init : tensor<1x6x7x4xi64>)
      padding = [0, 2, 1, 0] dilations = [2, 1] -> tensor<1x6x7x4xi64>
  return %r : tensor<1x6x7x4xi64>
}

// CHECK-LABEL: func.func @conv2d_dynamic
// CHECK: outs(%{{.*}} : tensor<?x?x?x4xi32>) padding = [1, 1, 1, 1] -> tensor<?x?x?x4xi32>
func.func @conv2d_dynamic(%x: tensor<?x?x?x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 3>>,
                          %f: !F, %init: tensor<?x?x?x4xi32>) -> tensor<?x?x?x4xi32> {
  %r = bitserial.conv2d ins(%x, %f : tensor<?x?x?x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 3>>, !F)
      outs(%init : tensor<?x?x?x4xi32>) padding = [1, 1, 1, 1] -> tensor<?x?x?x4xi32>
  return %r : tensor<?x?x?x4xi32>
}

// CHECK-LABEL: func.func @encoding_attr
// CHECK: "test.use"() {e = #bitserial.encoding<bipolar>}
func.func @encoding_attr() {
  "test.use"() {e = #bitserial.encoding<bipolar>} : () -> ()
  return
}

// CHECK-LABEL: func.func @epilogues
// CHECK: bitserial.threshold %{{.*}}, %{{.*}} : tensor<2x70xi32>, tensor<70x3xi32> -> tensor<2x2x2xi64, #bitserial.packed<bits = 2, encoding = signed, length = 70>>
// CHECK: bitserial.threshold %{{.*}}, %{{.*}} descending(%{{.*}} : tensor<70xi1>) : tensor<2x70xi64>, tensor<70x1xi64> -> tensor<2x1x2xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 70>>
// CHECK: bitserial.requantize %{{.*}}, %{{.*}}, %{{.*}} zero_point = -128 clamp = [-128, 127] : tensor<2x70xi32>, tensor<70xi32>, tensor<70xi8> -> tensor<2x70xi8>
// CHECK: bitserial.requantize %{{.*}}, %{{.*}}, %{{.*}} clamp = [0, 255] : tensor<2x70xi32>, tensor<70xi32>, tensor<70xi8> -> tensor<2x70xi16>
// CHECK: bitserial.dequantize %{{.*}}, %{{.*}}, %{{.*}} : tensor<2x70xi32>, tensor<70xf32>, tensor<70xf32> -> tensor<2x70xf32>
func.func @epilogues(%acc: tensor<2x70xi32>, %acc64: tensor<2x70xi64>, %t: tensor<70x3xi32>, %t64: tensor<70x1xi64>, %flip: tensor<70xi1>, %m: tensor<70xi32>, %s: tensor<70xi8>, %scale: tensor<70xf32>, %bias: tensor<70xf32>) {
  %0 = bitserial.threshold %acc, %t : tensor<2x70xi32>, tensor<70x3xi32> -> tensor<2x2x2xi64, #bitserial.packed<bits = 2, encoding = signed, length = 70>>
  %1 = bitserial.threshold %acc64, %t64 descending(%flip : tensor<70xi1>) : tensor<2x70xi64>, tensor<70x1xi64> -> tensor<2x1x2xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 70>>
  %2 = bitserial.requantize %acc, %m, %s zero_point = -128 clamp = [-128, 127] : tensor<2x70xi32>, tensor<70xi32>, tensor<70xi8> -> tensor<2x70xi8>
  %3 = bitserial.requantize %acc, %m, %s clamp = [0, 255] : tensor<2x70xi32>, tensor<70xi32>, tensor<70xi8> -> tensor<2x70xi16>
  %4 = bitserial.dequantize %acc, %scale, %bias : tensor<2x70xi32>, tensor<70xf32>, tensor<70xf32> -> tensor<2x70xf32>
  return
}
