// RUN: bitserial-opt %s -split-input-file --transform-interpreter --canonicalize | FileCheck %s

// Tiling a matmul slices rows of both packed operands; the packed encoding
// travels with the slices.
!A = tensor<10x2x2xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 100>>
!B = tensor<16x1x2xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 100>>
// CHECK-LABEL: func.func @tile_matmul
// CHECK-SAME: (%[[A:[a-z0-9_]+]]: tensor<10x2x2xi64, #{{.*}}>, %[[B:[a-z0-9_]+]]: tensor<16x1x2xi64, #{{.*}}>, %[[INIT:[a-z0-9_]+]]: tensor<10x16xi32>)
// CHECK: scf.for %[[I:[a-z0-9_]+]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[ACC0:[a-z0-9_]+]] = %[[INIT]])
// CHECK: scf.for %[[J:[a-z0-9_]+]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[ACC:[a-z0-9_]+]] = %[[ACC0]])
// CHECK: %[[M:.*]] = affine.min
// CHECK: %[[AS:.*]] = tensor.extract_slice %[[A]][%[[I]], 0, 0] [%[[M]], 2, 2] [1, 1, 1] : {{.*}} to tensor<?x2x2xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 100>>
// CHECK: %[[BS:.*]] = tensor.extract_slice %[[B]][%[[J]], 0, 0] [8, 1, 2] [1, 1, 1] : {{.*}} to tensor<8x1x2xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 100>>
// CHECK: %[[CS:.*]] = tensor.extract_slice %[[ACC]][%[[I]], %[[J]]] [%[[M]], 8] [1, 1]
// CHECK: %[[R:.*]] = bitserial.matmul ins(%[[AS]], %[[BS]] : {{.*}}) outs(%[[CS]] : tensor<?x8xi32>) -> tensor<?x8xi32>
// CHECK: tensor.insert_slice %[[R]] into %[[ACC]][%[[I]], %[[J]]] [%[[M]], 8] [1, 1]
func.func @tile_matmul(%a: !A, %b: !B, %init: tensor<10x16xi32>) -> tensor<10x16xi32> {
  %r = bitserial.matmul ins(%a, %b : !A, !B) outs(%init : tensor<10x16xi32>) -> tensor<10x16xi32>
  return %r : tensor<10x16xi32>
}
module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
    %0 = transform.structured.match ops{["bitserial.matmul"]} in %root : (!transform.any_op) -> !transform.any_op
    %1, %loops:2 = transform.structured.tile_using_for %0 tile_sizes [4, 8]
        : (!transform.any_op) -> (!transform.any_op, !transform.any_op, !transform.any_op)
    transform.yield
  }
}

// -----

// A batched matmul with shared weights: the batch tile slices lhs only.
!A = tensor<3x10x2x2xi64, #bitserial.packed<bits = 2, encoding = signed, length = 100>>
!B = tensor<16x2x2xi64, #bitserial.packed<bits = 2, encoding = signed, length = 100>>
// CHECK-LABEL: func.func @tile_matmul_batched_shared_rhs
// CHECK-SAME: (%[[A:[a-z0-9_]+]]: {{.*}}, %[[B:[a-z0-9_]+]]: {{.*}}, %[[INIT:[a-z0-9_]+]]:
// CHECK: scf.for %[[BATCH:[a-z0-9_]+]] =
// CHECK: %[[AS:.*]] = tensor.extract_slice %[[A]][%[[BATCH]], 0, 0, 0] [1, 10, 2, 2] [1, 1, 1, 1] : {{.*}} to tensor<1x10x2x2xi64, #bitserial.packed
// CHECK: bitserial.matmul ins(%[[AS]], %[[B]] : {{.*}} -> tensor<1x10x16xi32>
func.func @tile_matmul_batched_shared_rhs(%a: !A, %b: !B, %init: tensor<3x10x16xi32>) -> tensor<3x10x16xi32> {
  %r = bitserial.matmul ins(%a, %b : !A, !B) outs(%init : tensor<3x10x16xi32>) -> tensor<3x10x16xi32>
  return %r : tensor<3x10x16xi32>
}
module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
    %0 = transform.structured.match ops{["bitserial.matmul"]} in %root : (!transform.any_op) -> !transform.any_op
    %1, %loops = transform.structured.tile_using_for %0 tile_sizes [1]
        : (!transform.any_op) -> (!transform.any_op, !transform.any_op)
    transform.yield
  }
}

// -----

// Tiling output rows of an unpadded, strided, dilated axis slices the input
// window [oh * s, (n - 1) * s + (k - 1) * d + 1).
!X = tensor<2x17x9x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 3>>
!F = tensor<8x3x3x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 3>>
// CHECK: #[[ROWS:.*]] = affine_map<(d0) -> (-d0 + 7, 3)>
// CHECK: #[[START:.*]] = affine_map<(d0) -> (d0 * 2)>
// CHECK: #[[WINDOW:.*]] = affine_map<(d0) -> (d0 * 2 + 3)>
// CHECK: func.func @tile_conv2d_rows
// CHECK: scf.for %[[N:[a-z0-9_]+]] =
// CHECK: scf.for %[[OH:[a-z0-9_]+]] =
// CHECK: scf.for %[[CO:[a-z0-9_]+]] =
// CHECK: %[[T:.*]] = affine.min #[[ROWS]](%[[OH]])
// CHECK: %[[H0:.*]] = affine.apply #[[START]](%[[OH]])
// CHECK: %[[HS:.*]] = affine.apply #[[WINDOW]](%[[T]])
// CHECK: tensor.extract_slice %{{.*}}[%[[N]], %[[H0]], 0, 0, 0] [1, %[[HS]], 9, 1, 1]
// CHECK: tensor.extract_slice %{{.*}}[%[[CO]], 0, 0, 0, 0] [4, 3, 3, 1, 1]
// CHECK: bitserial.conv2d {{.*}} strides = [2, 1] padding = [0, 0, 1, 1] dilations = [2, 1] -> tensor<1x?x9x4xi32>
func.func @tile_conv2d_rows(%x: !X, %f: !F, %init: tensor<2x7x9x8xi32>) -> tensor<2x7x9x8xi32> {
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%init : tensor<2x7x9x8xi32>)
      strides = [2, 1] padding = [0, 0, 1, 1] dilations = [2, 1] -> tensor<2x7x9x8xi32>
  return %r : tensor<2x7x9x8xi32>
}
module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
    %0 = transform.structured.match ops{["bitserial.conv2d"]} in %root : (!transform.any_op) -> !transform.any_op
    %1, %loops:3 = transform.structured.tile_using_for %0 tile_sizes [1, 3, 0, 4]
        : (!transform.any_op) -> (!transform.any_op, !transform.any_op, !transform.any_op, !transform.any_op)
    transform.yield
  }
}

// -----

// Requantize tiles every axis; its per-channel parameters are sliced along
// the channel tile.
// CHECK-LABEL: func.func @tile_requantize
// CHECK-SAME: (%[[ACC:[a-z0-9_]+]]: tensor<5x10xi32>, %[[M:[a-z0-9_]+]]: tensor<10xi32>, %[[S:[a-z0-9_]+]]: tensor<10xi8>)
// CHECK: %[[EMPTY:.*]] = tensor.empty() : tensor<5x10xi8>
// CHECK: scf.for %[[I:[a-z0-9_]+]] = %c0 to %c5 step %c2 iter_args(%{{.*}} = %[[EMPTY]])
// CHECK: scf.for %[[J:[a-z0-9_]+]] = %c0 to %c10 step %c4 iter_args(%[[OUT:[a-z0-9_]+]] =
// CHECK: affine.min
// CHECK: %[[N:.*]] = affine.min
// CHECK: %[[A:.*]] = tensor.extract_slice %[[ACC]][%[[I]], %[[J]]] [%{{.*}}, %[[N]]]
// CHECK: %[[MS:.*]] = tensor.extract_slice %[[M]][%[[J]]] [%[[N]]] [1]
// CHECK: %[[SS:.*]] = tensor.extract_slice %[[S]][%[[J]]] [%[[N]]] [1]
// CHECK: %[[Q:.*]] = bitserial.requantize %[[A]], %[[MS]], %[[SS]] zero_point = 1 clamp = [-128, 127] : tensor<?x?xi32>, tensor<?xi32>, tensor<?xi8> -> tensor<?x?xi8>
// CHECK: tensor.insert_slice %[[Q]] into %[[OUT]][%[[I]], %[[J]]]
func.func @tile_requantize(%acc: tensor<5x10xi32>, %m: tensor<10xi32>, %s: tensor<10xi8>) -> tensor<5x10xi8> {
  %q = bitserial.requantize %acc, %m, %s zero_point = 1 clamp = [-128, 127] : tensor<5x10xi32>, tensor<10xi32>, tensor<10xi8> -> tensor<5x10xi8>
  return %q : tensor<5x10xi8>
}
module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
    %0 = transform.structured.match ops{["bitserial.requantize"]} in %root : (!transform.any_op) -> !transform.any_op
    %1, %loops:2 = transform.structured.tile_using_for %0 tile_sizes [2, 4]
        : (!transform.any_op) -> (!transform.any_op, !transform.any_op, !transform.any_op)
    transform.yield
  }
}

// -----

// Unpack tiles its leading axes; planes and words stay whole.
// CHECK-LABEL: func.func @tile_unpack
// CHECK: scf.for %[[I:[a-z0-9_]+]] = %c0 to %c6 step %c4
// CHECK: %[[P:.*]] = tensor.extract_slice %{{.*}}[%[[I]], 0, 0] [%{{.*}}, 2, 2] [1, 1, 1] : {{.*}} to tensor<?x2x2xi64, #bitserial.packed<bits = 2, encoding = signed, length = 70>>
// CHECK: bitserial.unpack %[[P]] : {{.*}} -> tensor<?x70xi8>
!P = tensor<6x2x2xi64, #bitserial.packed<bits = 2, encoding = signed, length = 70>>
func.func @tile_unpack(%p: !P) -> tensor<6x70xi8> {
  %x = bitserial.unpack %p : !P -> tensor<6x70xi8>
  return %x : tensor<6x70xi8>
}
module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
    %0 = transform.structured.match ops{["bitserial.unpack"]} in %root : (!transform.any_op) -> !transform.any_op
    %1, %loops = transform.structured.tile_using_for %0 tile_sizes [4]
        : (!transform.any_op) -> (!transform.any_op, !transform.any_op)
    transform.yield
  }
}

// -----

// Tile-and-fuse rooted at a conv2d: the threshold producing its packed input
// is computed on the rows each tile reads (a window with halo), and the
// conv2d producing the accumulators on those rows with all channels.
// CHECK-LABEL: func.func @fuse_threshold_producer
// CHECK: scf.for %[[OH:[a-z0-9_]+]] = %c0 to %c6 step %c2
// CHECK: tensor.extract_slice %{{.*}}[0, %[[OH]], 0, 0] [1, 4, 6, 8]
// CHECK: %[[ACC:.*]] = scf.if
// CHECK: bitserial.conv2d {{.*}} padding = [0, 0, 1, 1] -> tensor<1x4x6x8xi32>
// CHECK: } else {
// CHECK: bitserial.conv2d {{.*}} padding = [0, 0, 1, 1] -> tensor<1x?x6x8xi32>
// CHECK: %[[Y:.*]] = bitserial.threshold %[[ACC]], %{{.*}} : tensor<1x4x6x8xi32>, tensor<8x3xi32> -> tensor<1x4x6x2x1xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 8>>
// CHECK: bitserial.conv2d ins(%[[Y]], {{.*}} -> tensor<1x2x4x4xi32>
!X = tensor<1x8x6x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 16>>
!F = tensor<8x3x3x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 16>>
!Y = tensor<1x8x6x2x1xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 8>>
!G = tensor<4x3x3x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 8>>
func.func @fuse_threshold_producer(%x: !X, %f: !F, %t: tensor<8x3xi32>, %g: !G, %i1: tensor<1x8x6x8xi32>, %i2: tensor<1x6x4x4xi32>) -> tensor<1x6x4x4xi32> {
  %a = bitserial.conv2d ins(%x, %f : !X, !F) outs(%i1 : tensor<1x8x6x8xi32>) padding = [1, 1, 1, 1] -> tensor<1x8x6x8xi32>
  %y = bitserial.threshold %a, %t : tensor<1x8x6x8xi32>, tensor<8x3xi32> -> !Y
  %b = bitserial.conv2d ins(%y, %g : !Y, !G) outs(%i2 : tensor<1x6x4x4xi32>) {root} -> tensor<1x6x4x4xi32>
  return %b : tensor<1x6x4x4xi32>
}
module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
    %0 = transform.structured.match ops{["bitserial.conv2d"]} attributes{root} in %root : (!transform.any_op) -> !transform.any_op
    %1, %loops = transform.structured.fuse %0 tile_sizes [0, 2]
        : (!transform.any_op) -> (!transform.any_op, !transform.any_op)
    transform.yield
  }
}

// -----

// A padded axis tiled in a loop: each tile clamps its input window and
// computes its own padding; an interior tile (no padding) runs one conv2d,
// a border tile one conv2d per kernel row over the rows it reads inside.
// CHECK-LABEL: func.func @tile_padded_rows
// CHECK: scf.for %[[OH:[a-z0-9_]+]] = %c0 to %c4 step %c3
// CHECK: %[[TOP:.*]] = affine.min {{.*}}(%{{.*}}, %{{.*}})
// CHECK: %[[BOTTOM:.*]] = affine.apply
// CHECK: %[[NOTOP:.*]] = arith.cmpi eq, %[[TOP]], %c0
// CHECK: %[[NOBOTTOM:.*]] = arith.cmpi eq, %[[BOTTOM]], %c0
// CHECK: %[[INTERIOR:.*]] = arith.andi %[[NOTOP]], %[[NOBOTTOM]]
// CHECK: scf.if %[[INTERIOR]]
// CHECK: bitserial.conv2d {{.*}} strides = [2, 1] padding = [0, 0, 1, 1] -> tensor<1x?x5x4xi32>
// CHECK: } else {
// CHECK: scf.for %[[KH:[a-z0-9_]+]] = %c0 to %c3 step %c1
// CHECK: %[[F:.*]] = tensor.extract_slice %{{.*}}[0, %[[KH]], 0, 0, 0] [4, 1, 3, 1, 1]
// CHECK: bitserial.conv2d ins(%{{.*}}, %[[F]] : {{.*}} strides = [2, 1] padding = [0, 0, 1, 1] -> tensor<1x?x5x4xi32>
!X = tensor<1x7x5x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 3>>
!F = tensor<4x3x3x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 3>>
func.func @tile_padded_rows(%x: !X, %f: !F, %init: tensor<1x4x5x4xi32>) -> tensor<1x4x5x4xi32> {
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%init : tensor<1x4x5x4xi32>)
      strides = [2, 1] padding = [1, 1, 1, 1] -> tensor<1x4x5x4xi32>
  return %r : tensor<1x4x5x4xi32>
}
module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
    %0 = transform.structured.match ops{["bitserial.conv2d"]} in %root : (!transform.any_op) -> !transform.any_op
    %1, %loops = transform.structured.tile_using_for %0 tile_sizes [0, 3]
        : (!transform.any_op) -> (!transform.any_op, !transform.any_op)
    transform.yield
  }
}
