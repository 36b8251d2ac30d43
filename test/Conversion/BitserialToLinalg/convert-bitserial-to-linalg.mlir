// RUN: bitserial-opt %s -split-input-file --convert-bitserial-to-linalg | FileCheck %s

// Pack pads the axis to whole words with a value whose planes are zero
// (-(2^bits - 1) for bipolar), views it as [words, bits] and ORs bits in.
// CHECK-LABEL: func.func @pack_bipolar
// CHECK-SAME: (%[[X:.*]]: tensor<4x70xi8>) -> tensor<4x2x2xi64>
// CHECK: %[[PADV:.*]] = arith.constant -3 : i8
// CHECK: %[[PAD:.*]] = tensor.pad %[[X]] low[0, 0] high[0, 58]
// CHECK: tensor.yield %[[PADV]]
// CHECK: %[[FILL:.*]] = linalg.fill
// CHECK: %[[VIEW:.*]] = tensor.expand_shape %[[PAD]] {{\[\[}}0], [1, 2]] output_shape [4, 2, 64] : tensor<4x128xi8> into tensor<4x2x64xi8>
// CHECK: linalg.generic
// CHECK-SAME: iterator_types = ["parallel", "parallel", "parallel", "reduction"]
// CHECK-SAME: ins(%[[VIEW]] : tensor<4x2x64xi8>) outs(%[[FILL]] : tensor<4x2x2xi64>)
// CHECK: arith.shrui
// CHECK: arith.extui {{.*}} : i8 to i64
// CHECK: arith.shli
// CHECK: arith.ori
func.func @pack_bipolar(%x: tensor<4x70xi8>)
    -> tensor<4x2x2xi64, #bitserial.packed<bits = 2, encoding = bipolar, length = 70>> {
  %p = bitserial.pack %x : tensor<4x70xi8>
      -> tensor<4x2x2xi64, #bitserial.packed<bits = 2, encoding = bipolar, length = 70>>
  return %p : tensor<4x2x2xi64, #bitserial.packed<bits = 2, encoding = bipolar, length = 70>>
}

// -----

// CHECK-LABEL: func.func @unpack_signed
// CHECK-SAME: (%[[P:.*]]: tensor<4x3x2xi32>) -> tensor<4x40xi16>
// CHECK: linalg.generic
// CHECK-SAME: outs(%{{.*}} : tensor<4x40xi16>)
// CHECK-COUNT-3: tensor.extract %[[P]]
// CHECK: arith.shrsi
// CHECK: arith.trunci {{.*}} : i64 to i16
func.func @unpack_signed(%p: tensor<4x3x2xi32, #bitserial.packed<bits = 3, encoding = signed, length = 40>>)
    -> tensor<4x40xi16> {
  %x = bitserial.unpack %p
      : tensor<4x3x2xi32, #bitserial.packed<bits = 3, encoding = signed, length = 40>> -> tensor<4x40xi16>
  return %x : tensor<4x40xi16>
}

// -----

// Unsigned x unsigned: one AND + popcount per plane pair and word, weighted
// by 2^(i+j), summed in i64, truncated once and added to init.
// CHECK-LABEL: func.func @matmul_unsigned
// CHECK-SAME: (%[[A:.*]]: tensor<8x2x2xi64>, %[[B:.*]]: tensor<16x2x2xi64>, %[[INIT:.*]]: tensor<8x16xi32>)
// CHECK: %[[ZERO:.*]] = linalg.fill {{.*}} -> tensor<8x16xi64>
// CHECK: %[[SUM:.*]] = linalg.generic
// CHECK-SAME: iterator_types = ["parallel", "parallel", "reduction", "reduction", "reduction"]
// CHECK-SAME: ins(%[[A]], %[[B]] : tensor<8x2x2xi64>, tensor<16x2x2xi64>) outs(%[[ZERO]] : tensor<8x16xi64>)
// CHECK: arith.andi
// CHECK: math.ctpop
// CHECK-NOT: math.ctpop
// CHECK: linalg.yield
// CHECK: linalg.generic {{.*}} ins(%[[SUM]] : tensor<8x16xi64>) outs(%[[INIT]] : tensor<8x16xi32>)
// CHECK: arith.trunci {{.*}} : i64 to i32
// CHECK: arith.addi
func.func @matmul_unsigned(%a: tensor<8x2x2xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 100>>,
                           %b: tensor<16x2x2xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 100>>,
                           %init: tensor<8x16xi32>) -> tensor<8x16xi32> {
  %r = bitserial.matmul ins(%a, %b : tensor<8x2x2xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 100>>,
                                     tensor<16x2x2xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 100>>)
      outs(%init : tensor<8x16xi32>) -> tensor<8x16xi32>
  return %r : tensor<8x16xi32>
}

// -----

// Bipolar x bipolar: 4 pc(A & B) - 2 pc(A) - 2 pc(B) + K per plane pair,
// the K term counted on word 0 only.
// CHECK-LABEL: func.func @matmul_bipolar_batched
// CHECK: linalg.generic
// CHECK-SAME: iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]
// CHECK: math.ctpop
// CHECK: arith.muli %{{.*}}, %c4_i64
// CHECK: math.ctpop
// CHECK: arith.muli %{{.*}}, %c-2_i64
// CHECK: math.ctpop
// CHECK: arith.muli %{{.*}}, %c-2_i64
// CHECK: arith.select %{{.*}}, %c100_i64
// CHECK: -> tensor<2x8x16xi64>
func.func @matmul_bipolar_batched(%a: tensor<2x8x1x2xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 100>>,
                                  %b: tensor<2x16x1x2xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 100>>,
                                  %init: tensor<2x8x16xi32>) -> tensor<2x8x16xi32> {
  %r = bitserial.matmul ins(%a, %b : tensor<2x8x1x2xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 100>>,
                                     tensor<2x16x1x2xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 100>>)
      outs(%init : tensor<2x8x16xi32>) -> tensor<2x8x16xi32>
  return %r : tensor<2x8x16xi32>
}

// -----

// A padded bipolar conv pads words with zeros and masks the terms that do
// not vanish on zero input bits to taps inside the input.
// CHECK: #[[IN:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7, d8) -> (d0, d1 * 2 + d4, d2 + d5 * 2, d6, d8)>
// CHECK: #[[FILTER:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7, d8) -> (d3, d4, d5, d7, d8)>
// CHECK: func.func @conv2d_bipolar_padded
// CHECK: %[[PAD:.*]] = tensor.pad %{{.*}} low[0, 1, 0, 0, 0] high[0, 2, 1, 0, 0]
// CHECK: linalg.generic {indexing_maps = [#[[IN]], #[[FILTER]], {{.*}}]
// CHECK-SAME: ins(%[[PAD]], %{{.*}} : tensor<1x11x9x1x1xi64>, tensor<4x3x3x1x1xi64>)
// CHECK: arith.cmpi uge
// CHECK: arith.cmpi ult
// CHECK: arith.extui {{.*}} : i1 to i64
// CHECK: math.ctpop
// CHECK: -> tensor<1x5x5x4xi64>
func.func @conv2d_bipolar_padded(%x: tensor<1x8x8x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 3>>,
                                 %f: tensor<4x3x3x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 3>>,
                                 %init: tensor<1x5x5x4xi32>) -> tensor<1x5x5x4xi32> {
  %r = bitserial.conv2d ins(%x, %f : tensor<1x8x8x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 3>>,
                                     tensor<4x3x3x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 3>>)
      outs(%init : tensor<1x5x5x4xi32>) strides = [2, 1] padding = [1, 2, 0, 1] dilations = [1, 2] -> tensor<1x5x5x4xi32>
  return %r : tensor<1x5x5x4xi32>
}

// -----

// An unsigned input needs no mask: zero words decode to 0.
// CHECK-LABEL: func.func @negative_conv2d_unsigned_padded_no_mask
// CHECK: tensor.pad
// CHECK-NOT: arith.cmpi
// CHECK: return
func.func @negative_conv2d_unsigned_padded_no_mask(
    %x: tensor<1x8x8x2x1xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 3>>,
    %f: tensor<4x3x3x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 3>>,
    %init: tensor<1x8x8x4xi32>) -> tensor<1x8x8x4xi32> {
  %r = bitserial.conv2d ins(%x, %f : tensor<1x8x8x2x1xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 3>>,
                                     tensor<4x3x3x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 3>>)
      outs(%init : tensor<1x8x8x4xi32>) padding = [1, 1, 1, 1] -> tensor<1x8x8x4xi32>
  return %r : tensor<1x8x8x4xi32>
}

// -----

// Packed types are dropped everywhere: slices, loops, constants, calls.
// CHECK-LABEL: func.func @packed_types_everywhere
// CHECK-SAME: (%[[A:.*]]: tensor<10x1x1xi64>) -> tensor<10x16xi32>
// CHECK: %[[W:.*]] = arith.constant dense<{{.*}}> : tensor<16x1x1xi64>
// CHECK: scf.for {{.*}} -> (tensor<10x16xi32>)
// CHECK: tensor.extract_slice %[[A]]{{.*}} : tensor<10x1x1xi64> to tensor<?x1x1xi64>
// CHECK-NOT: #bitserial
func.func @packed_types_everywhere(%a: tensor<10x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 20>>)
    -> tensor<10x16xi32> {
  %w = arith.constant dense<5> : tensor<16x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 20>>
  %c0 = arith.constant 0 : index
  %c4 = arith.constant 4 : index
  %c10 = arith.constant 10 : index
  %zero = arith.constant 0 : i32
  %empty = tensor.empty() : tensor<10x16xi32>
  %init = linalg.fill ins(%zero : i32) outs(%empty : tensor<10x16xi32>) -> tensor<10x16xi32>
  %r = scf.for %i = %c0 to %c10 step %c4 iter_args(%acc = %init) -> (tensor<10x16xi32>) {
    %m = affine.min affine_map<(d0) -> (-d0 + 10, 4)>(%i)
    %as = tensor.extract_slice %a[%i, 0, 0] [%m, 1, 1] [1, 1, 1]
        : tensor<10x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 20>>
        to tensor<?x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 20>>
    %cs = tensor.extract_slice %acc[%i, 0] [%m, 16] [1, 1] : tensor<10x16xi32> to tensor<?x16xi32>
    %t = bitserial.matmul ins(%as, %w : tensor<?x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 20>>,
                                        tensor<16x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 20>>)
        outs(%cs : tensor<?x16xi32>) -> tensor<?x16xi32>
    %u = tensor.insert_slice %t into %acc[%i, 0] [%m, 16] [1, 1] : tensor<?x16xi32> into tensor<10x16xi32>
    scf.yield %u : tensor<10x16xi32>
  }
  return %r : tensor<10x16xi32>
}


// -----

// Empty extents fold away during the conversion: the result is `init`.
// CHECK-LABEL: func.func @empty_matmul
// CHECK-SAME: %[[INIT:[a-z0-9_]+]]: tensor<2x0xi32>
// CHECK-NOT: linalg.generic
// CHECK: return %[[INIT]]
!A = tensor<2x1x2xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 100>>
!B = tensor<0x1x2xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 100>>
func.func @empty_matmul(%a: !A, %x: tensor<0x100xi8>, %init: tensor<2x0xi32>) -> tensor<2x0xi32> {
  %b = bitserial.pack %x : tensor<0x100xi8> -> !B
  %r = bitserial.matmul ins(%a, %b : !A, !B) outs(%init : tensor<2x0xi32>) -> tensor<2x0xi32>
  return %r : tensor<2x0xi32>
}
