// RUN: bitserial-opt %s -split-input-file -canonicalize | FileCheck %s

// CHECK-LABEL: func.func @unpack_of_pack
// CHECK-SAME: (%[[X:.*]]: tensor<4x70xi8>)
// CHECK-NOT: bitserial
// CHECK: return %[[X]]
func.func @unpack_of_pack(%x: tensor<4x70xi8>) -> tensor<4x70xi8> {
  %p = bitserial.pack %x : tensor<4x70xi8>
      -> tensor<4x2x2xi64, #bitserial.packed<bits = 2, encoding = signed, length = 70>>
  %y = bitserial.unpack %p
      : tensor<4x2x2xi64, #bitserial.packed<bits = 2, encoding = signed, length = 70>> -> tensor<4x70xi8>
  return %y : tensor<4x70xi8>
}

// -----

// Unpacking to another element type is a conversion, not an identity.
// CHECK-LABEL: func.func @negative_unpack_of_pack_other_type
// CHECK: bitserial.pack
// CHECK: bitserial.unpack
func.func @negative_unpack_of_pack_other_type(%x: tensor<4x70xi8>) -> tensor<4x70xi32> {
  %p = bitserial.pack %x : tensor<4x70xi8>
      -> tensor<4x2x2xi64, #bitserial.packed<bits = 2, encoding = signed, length = 70>>
  %y = bitserial.unpack %p
      : tensor<4x2x2xi64, #bitserial.packed<bits = 2, encoding = signed, length = 70>> -> tensor<4x70xi32>
  return %y : tensor<4x70xi32>
}

// -----

// pack(unpack(p)) is not p when p has stray bits past its length.
// CHECK-LABEL: func.func @negative_pack_of_unpack
// CHECK: bitserial.unpack
// CHECK: bitserial.pack
func.func @negative_pack_of_unpack(%p: tensor<1x1x1xi8, #bitserial.packed<bits = 1, encoding = unsigned, length = 3>>)
    -> tensor<1x1x1xi8, #bitserial.packed<bits = 1, encoding = unsigned, length = 3>> {
  %x = bitserial.unpack %p
      : tensor<1x1x1xi8, #bitserial.packed<bits = 1, encoding = unsigned, length = 3>> -> tensor<1x3xi8>
  %q = bitserial.pack %x : tensor<1x3xi8>
      -> tensor<1x1x1xi8, #bitserial.packed<bits = 1, encoding = unsigned, length = 3>>
  return %q : tensor<1x1x1xi8, #bitserial.packed<bits = 1, encoding = unsigned, length = 3>>
}

// -----

// 2-bit unsigned [1, 2, 3, 0, 1] in 8-bit words: plane 0 = 0b10101 = 21,
// plane 1 = 0b00110 = 6.
// CHECK-LABEL: func.func @pack_constant_unsigned
// CHECK: %[[C:.*]] = arith.constant dense<{{\[\[}}[21], [6]]]> : tensor<1x2x1xi8, #bitserial.packed<bits = 2, encoding = unsigned, length = 5>>
// CHECK-NOT: bitserial.pack %
// CHECK: return %[[C]]
func.func @pack_constant_unsigned()
    -> tensor<1x2x1xi8, #bitserial.packed<bits = 2, encoding = unsigned, length = 5>> {
  %c = arith.constant dense<[[1, 2, 3, 0, 1]]> : tensor<1x5xi8>
  %p = bitserial.pack %c : tensor<1x5xi8>
      -> tensor<1x2x1xi8, #bitserial.packed<bits = 2, encoding = unsigned, length = 5>>
  return %p : tensor<1x2x1xi8, #bitserial.packed<bits = 2, encoding = unsigned, length = 5>>
}

// -----

// Bipolar 1-bit [+1, -1, -1, +1]: bits 1, 0, 0, 1 = 0b1001 = 9.
// Signed 2-bit [-2, 1]: -2 = 0b10, 1 = 0b01: plane 0 = 0b10 = 2, plane 1 = 0b01 = 1.
// CHECK-LABEL: func.func @pack_constant_bipolar_signed
// CHECK-DAG: arith.constant dense<9> : tensor<1x1xi16, #bitserial.packed<bits = 1, encoding = bipolar, length = 4>>
// CHECK-DAG: arith.constant dense<{{\[\[}}2], [1]]> : tensor<2x1xi64, #bitserial.packed<bits = 2, encoding = signed, length = 2>>
func.func @pack_constant_bipolar_signed()
    -> (tensor<1x1xi16, #bitserial.packed<bits = 1, encoding = bipolar, length = 4>>,
        tensor<2x1xi64, #bitserial.packed<bits = 2, encoding = signed, length = 2>>) {
  %b = arith.constant dense<[1, -1, -1, 1]> : tensor<4xi8>
  %pb = bitserial.pack %b : tensor<4xi8>
      -> tensor<1x1xi16, #bitserial.packed<bits = 1, encoding = bipolar, length = 4>>
  %s = arith.constant dense<[-2, 1]> : tensor<2xi32>
  %ps = bitserial.pack %s : tensor<2xi32>
      -> tensor<2x1xi64, #bitserial.packed<bits = 2, encoding = signed, length = 2>>
  return %pb, %ps : tensor<1x1xi16, #bitserial.packed<bits = 1, encoding = bipolar, length = 4>>,
                    tensor<2x1xi64, #bitserial.packed<bits = 2, encoding = signed, length = 2>>
}

// -----

// CHECK-LABEL: func.func @unpack_constant
// CHECK: %[[C:.*]] = arith.constant dense<[3, -1, -3, 1]> : tensor<4xi32>
// CHECK: return %[[C]]
func.func @unpack_constant() -> tensor<4xi32> {
  // Bipolar 2-bit: plane bits (b0, b1) per element: 3 = (1, 1), -1 = (1, 0),
  // -3 = (0, 0), 1 = (0, 1): plane 0 = 0b0011 = 3, plane 1 = 0b1001 = 9.
  %c = arith.constant dense<[[3], [9]]>
      : tensor<2x1xi8, #bitserial.packed<bits = 2, encoding = bipolar, length = 4>>
  %x = bitserial.unpack %c
      : tensor<2x1xi8, #bitserial.packed<bits = 2, encoding = bipolar, length = 4>> -> tensor<4xi32>
  return %x : tensor<4xi32>
}

// -----

// Folding pack of a constant then unpack of the packed constant is lossless
// (bipolar 3-bit planes: 24, 58, 22).
// CHECK-LABEL: func.func @fold_round_trip
// CHECK-DAG: %[[C:.*]] = arith.constant dense<[-7, 5, 1, -1, 7, -3]> : tensor<6xi8>
// CHECK-DAG: %[[P:.*]] = arith.constant dense<{{\[\[}}24], [58], [22]]> : tensor<3x1xi32, #bitserial.packed<bits = 3, encoding = bipolar, length = 6>>
// CHECK: return %[[C]], %[[P]]
func.func @fold_round_trip()
    -> (tensor<6xi8>, tensor<3x1xi32, #bitserial.packed<bits = 3, encoding = bipolar, length = 6>>) {
  %c = arith.constant dense<[-7, 5, 1, -1, 7, -3]> : tensor<6xi8>
  %p = bitserial.pack %c : tensor<6xi8>
      -> tensor<3x1xi32, #bitserial.packed<bits = 3, encoding = bipolar, length = 6>>
  %x = bitserial.unpack %p
      : tensor<3x1xi32, #bitserial.packed<bits = 3, encoding = bipolar, length = 6>> -> tensor<6xi8>
  return %x, %p : tensor<6xi8>, tensor<3x1xi32, #bitserial.packed<bits = 3, encoding = bipolar, length = 6>>
}

// -----

// Wide element types fold too: only the low bits matter.
// i128 value 2^100 + 5 -> unsigned 3-bit planes of 5 = 0b101.
// CHECK-LABEL: func.func @pack_constant_i128
// CHECK: arith.constant dense<{{\[\[}}1], [0], [1]]> : tensor<3x1xi8, #bitserial.packed<bits = 3, encoding = unsigned, length = 1>>
func.func @pack_constant_i128() -> tensor<3x1xi8, #bitserial.packed<bits = 3, encoding = unsigned, length = 1>> {
  %c = arith.constant dense<[1267650600228229401496703205381]> : tensor<1xi128>
  %p = bitserial.pack %c : tensor<1xi128>
      -> tensor<3x1xi8, #bitserial.packed<bits = 3, encoding = unsigned, length = 1>>
  return %p : tensor<3x1xi8, #bitserial.packed<bits = 3, encoding = unsigned, length = 1>>
}

// -----

// Empty extents: nothing is computed, so matmul and conv2d fold to `init`
// and pack/unpack of an empty tensor to an empty constant.
// CHECK-LABEL: func.func @empty_matmul
// CHECK-SAME: %[[INIT:[a-z0-9_]+]]: tensor<0x16xi32>
// CHECK-NOT: bitserial
// CHECK: return %[[INIT]]
!A = tensor<0x1x2xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 100>>
!B = tensor<16x1x2xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 100>>
func.func @empty_matmul(%x: tensor<0x100xi8>, %b: !B, %init: tensor<0x16xi32>) -> tensor<0x16xi32> {
  %a = bitserial.pack %x : tensor<0x100xi8> -> !A
  %r = bitserial.matmul ins(%a, %b : !A, !B) outs(%init : tensor<0x16xi32>) -> tensor<0x16xi32>
  return %r : tensor<0x16xi32>
}

// -----

// An input of height 0 whose padding still leaves output rows: every tap
// reads padding, which adds zero.
// CHECK-LABEL: func.func @empty_input_rows_conv2d
// CHECK-SAME: %[[INIT:[a-z0-9_]+]]: tensor<1x2x4x8xi32>
// CHECK-NOT: bitserial
// CHECK: return %[[INIT]]
!X = tensor<1x0x4x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 3>>
!F = tensor<8x3x3x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 3>>
func.func @empty_input_rows_conv2d(%x: !X, %f: !F, %init: tensor<1x2x4x8xi32>) -> tensor<1x2x4x8xi32> {
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%init : tensor<1x2x4x8xi32>) padding = [2, 2, 1, 1]
      -> tensor<1x2x4x8xi32>
  return %r : tensor<1x2x4x8xi32>
}

// -----

// CHECK-LABEL: func.func @empty_channels_conv2d
// CHECK-SAME: %[[INIT:[a-z0-9_]+]]: tensor<?x?x?x0xi32>
// CHECK-NOT: bitserial
// CHECK: return %[[INIT]]
!X = tensor<?x?x?x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 3>>
!F = tensor<0x3x3x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 3>>
func.func @empty_channels_conv2d(%x: !X, %f: !F, %init: tensor<?x?x?x0xi32>) -> tensor<?x?x?x0xi32> {
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%init : tensor<?x?x?x0xi32>) padding = [1, 1, 1, 1]
      -> tensor<?x?x?x0xi32>
  return %r : tensor<?x?x?x0xi32>
}

// -----

// CHECK-LABEL: func.func @empty_unpack
// CHECK: %[[C:.*]] = arith.constant dense<> : tensor<0x70xi8>
// CHECK: return %[[C]]
func.func @empty_unpack(%p: tensor<0x2x2xi64, #bitserial.packed<bits = 2, encoding = signed, length = 70>>) -> tensor<0x70xi8> {
  %y = bitserial.unpack %p
      : tensor<0x2x2xi64, #bitserial.packed<bits = 2, encoding = signed, length = 70>> -> tensor<0x70xi8>
  return %y : tensor<0x70xi8>
}

// -----

// A dynamic extent may be zero at run time, but nothing says so here.
// CHECK-LABEL: func.func @negative_dynamic_matmul
// CHECK: bitserial.matmul
!A = tensor<?x1x2xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 100>>
!B = tensor<16x1x2xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 100>>
func.func @negative_dynamic_matmul(%a: !A, %b: !B, %init: tensor<?x16xi32>) -> tensor<?x16xi32> {
  %r = bitserial.matmul ins(%a, %b : !A, !B) outs(%init : tensor<?x16xi32>) -> tensor<?x16xi32>
  return %r : tensor<?x16xi32>
}

// -----

// Thresholds of constants fold to packed constants: counts 1, 0, 1 give the
// bipolar signs +1, -1, +1 (bits 0b101); descending flips channel 1.
// CHECK-LABEL: func.func @threshold_fold
// CHECK-DAG: arith.constant dense<5> : tensor<1x1x1xi64, #bitserial.packed
// CHECK-DAG: arith.constant dense<7> : tensor<1x1x1xi64, #bitserial.packed
// CHECK-NOT: bitserial.threshold
func.func @threshold_fold() -> (tensor<1x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 3>>, tensor<1x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 3>>) {
  %acc = arith.constant dense<[[-5, 0, 7]]> : tensor<1x3xi32>
  %t = arith.constant dense<[[-5], [1], [7]]> : tensor<3x1xi32>
  %flip = arith.constant dense<[false, true, false]> : tensor<3xi1>
  %0 = bitserial.threshold %acc, %t : tensor<1x3xi32>, tensor<3x1xi32> -> tensor<1x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 3>>
  %1 = bitserial.threshold %acc, %t descending(%flip : tensor<3xi1>) : tensor<1x3xi32>, tensor<3x1xi32> -> tensor<1x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 3>>
  return %0, %1 : tensor<1x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 3>>, tensor<1x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 3>>
}

// -----

// Signed 2-bit codes: counts 2 and 3 are the values 0 and 1 (planes 00, 01).
// CHECK-LABEL: func.func @threshold_fold_signed
// CHECK: arith.constant dense<{{\[\[\[}}2], [0]]]> : tensor<1x2x1xi64, #bitserial.packed
func.func @threshold_fold_signed() -> tensor<1x2x1xi64, #bitserial.packed<bits = 2, encoding = signed, length = 2>> {
  %acc = arith.constant dense<[[10, -3]]> : tensor<1x2xi32>
  %t = arith.constant dense<[[0, 5, 20], [-10, -3, -4]]> : tensor<2x3xi32>
  %0 = bitserial.threshold %acc, %t : tensor<1x2xi32>, tensor<2x3xi32> -> tensor<1x2x1xi64, #bitserial.packed<bits = 2, encoding = signed, length = 2>>
  return %0 : tensor<1x2x1xi64, #bitserial.packed<bits = 2, encoding = signed, length = 2>>
}

// -----

// multiplier 2^30 (one half), shift -2, zero point 3: 1000 -> 125 + 3
// clamped to 127; -1000 -> -125 + 3; 6 -> 3.5 -> 3 (toward zero), then
// 3 / 4 rounds to 1, + 3.
// CHECK-LABEL: func.func @requantize_fold
// CHECK: arith.constant dense<[127, -122, 4]> : tensor<3xi8>
func.func @requantize_fold() -> tensor<3xi8> {
  %acc = arith.constant dense<[1000, -1000, 6]> : tensor<3xi32>
  %m = arith.constant dense<1073741824> : tensor<3xi32>
  %s = arith.constant dense<-2> : tensor<3xi8>
  %0 = bitserial.requantize %acc, %m, %s zero_point = 3 clamp = [-128, 127] : tensor<3xi32>, tensor<3xi32>, tensor<3xi8> -> tensor<3xi8>
  return %0 : tensor<3xi8>
}

// -----

// CHECK-LABEL: func.func @dequantize_fold
// CHECK: arith.constant dense<[2.500000e+00, -1.500000e+00]> : tensor<2xf32>
func.func @dequantize_fold() -> tensor<2xf32> {
  %acc = arith.constant dense<[3, -2]> : tensor<2xi32>
  %s = arith.constant dense<[0.5, 0.25]> : tensor<2xf32>
  %b = arith.constant dense<[1.0, -1.0]> : tensor<2xf32>
  %0 = bitserial.dequantize %acc, %s, %b : tensor<2xi32>, tensor<2xf32>, tensor<2xf32> -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

// Weights stored as a dense_resource blob (model files) pack at compile time
// like dense constants: rows (+1, -1, +1) and (-1, -1, +1) are bits 0b101, 0b100.
// CHECK-LABEL: func.func @pack_resource_fold
// CHECK: arith.constant dense<{{\[\[\[}}5]], {{\[\[}}4]]]> : tensor<2x1x1xi64, #bitserial.packed
// CHECK-NOT: bitserial.pack %
func.func @pack_resource_fold() -> tensor<2x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 3>> {
  %w = arith.constant dense_resource<weights> : tensor<2x3xi8>
  %p = bitserial.pack %w : tensor<2x3xi8> -> tensor<2x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 3>>
  return %p : tensor<2x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 3>>
}

{-#
  dialect_resources: {
    builtin: {
      weights: "0x0100000001FF01FFFF01"
    }
  }
#-}
