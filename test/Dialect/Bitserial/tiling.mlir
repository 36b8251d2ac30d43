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
