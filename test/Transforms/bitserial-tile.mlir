// RUN: bitserial-opt %s -split-input-file --bitserial-tile --canonicalize -verify-diagnostics | FileCheck %s
// RUN: bitserial-opt %s -split-input-file --bitserial-tile="matmul-tile-sizes=3,5 conv-tile-sizes=1,0,0,16" --canonicalize -verify-diagnostics | FileCheck %s --check-prefix=OPTIONS

// Default heuristic: a large matmul is tiled by 64 rows and a multiple of 64
// columns; tiles stay bitserial ops on slices of the packed operands.
// CHECK-LABEL: func.func @matmul_default
// CHECK: scf.for %{{.*}} = %c0 to %c512 step %c64
// CHECK: scf.for %{{.*}} = %c0 to %c2048 step %c{{[0-9]+}}
// CHECK: bitserial.matmul {{.*}} -> tensor<64x{{[0-9?]+}}xi32>
// OPTIONS-LABEL: func.func @matmul_default
// OPTIONS: scf.for %{{.*}} step %c3
// OPTIONS: scf.for %{{.*}} step %c5
// OPTIONS: bitserial.matmul {{.*}} -> tensor<?x?xi32>
!A = tensor<512x1x64xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 4096>>
!B = tensor<2048x1x64xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 4096>>
func.func @matmul_default(%a: !A, %b: !B, %init: tensor<512x2048xi32>) -> tensor<512x2048xi32> {
  %r = bitserial.matmul ins(%a, %b : !A, !B) outs(%init : tensor<512x2048xi32>) -> tensor<512x2048xi32>
  return %r : tensor<512x2048xi32>
}

// -----

// An op attribute overrides options and heuristic: tiles that do not divide
// the problem are fine.
// CHECK-LABEL: func.func @matmul_attribute
// CHECK: scf.for %{{.*}} = %c0 to %c10 step %c4
// CHECK: bitserial.matmul
// CHECK-NOT: bitserial.tile_sizes
// OPTIONS-LABEL: func.func @matmul_attribute
// OPTIONS: step %c4
!A = tensor<10x2x2xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 100>>
!B = tensor<16x1x2xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 100>>
func.func @matmul_attribute(%a: !A, %b: !B, %init: tensor<10x16xi32>) -> tensor<10x16xi32> {
  %r = bitserial.matmul ins(%a, %b : !A, !B) outs(%init : tensor<10x16xi32>)
      {bitserial.tile_sizes = array<i64: 4, 0>} -> tensor<10x16xi32>
  return %r : tensor<10x16xi32>
}

// -----

// A padded conv keeps its rows whole; a small one is not tiled at all.
// CHECK-LABEL: func.func @negative_conv2d_small
// CHECK-NOT: scf.for
// CHECK: bitserial.conv2d
// OPTIONS-LABEL: func.func @negative_conv2d_small
// OPTIONS: scf.for %{{.*}} = %c0 to %c64 step %c16
// OPTIONS: bitserial.conv2d {{.*}} -> tensor<1x56x56x16xi32>
!X = tensor<1x56x56x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 64>>
!F = tensor<64x3x3x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 64>>
func.func @negative_conv2d_small(%x: !X, %f: !F, %init: tensor<1x56x56x64xi32>) -> tensor<1x56x56x64xi32> {
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%init : tensor<1x56x56x64xi32>) padding = [1, 1, 1, 1] -> tensor<1x56x56x64xi32>
  return %r : tensor<1x56x56x64xi32>
}

// -----

!X = tensor<1x56x56x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 64>>
!F = tensor<64x3x3x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 64>>
func.func @conv2d_bad_attribute(%x: !X, %f: !F, %init: tensor<1x56x56x64xi32>) -> tensor<1x56x56x64xi32> {
  // expected-error @+1 {{expected 4 tile sizes, got 2}}
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%init : tensor<1x56x56x64xi32>) padding = [1, 1, 1, 1]
      {bitserial.tile_sizes = array<i64: 1, 2>} -> tensor<1x56x56x64xi32>
  return %r : tensor<1x56x56x64xi32>
}

// -----

!X = tensor<1x56x56x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 64>>
!F = tensor<64x3x3x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 64>>
func.func @conv2d_tile_padded_rows(%x: !X, %f: !F, %init: tensor<1x56x56x64xi32>) -> tensor<1x56x56x64xi32> {
  // expected-error @+1 {{cannot tile the padded height dimension (tile size 8)}}
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%init : tensor<1x56x56x64xi32>) padding = [1, 1, 1, 1]
      {bitserial.tile_sizes = array<i64: 1, 8, 0, 0>} -> tensor<1x56x56x64xi32>
  return %r : tensor<1x56x56x64xi32>
}

// -----

!A = tensor<10x2x2xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 100>>
!B = tensor<16x1x2xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 100>>
func.func @matmul_bad_attribute_kind(%a: !A, %b: !B, %init: tensor<10x16xi32>) -> tensor<10x16xi32> {
  // expected-error @+1 {{bitserial.tile_sizes must be an array<i64: ...>, got [4, 0]}}
  %r = bitserial.matmul ins(%a, %b : !A, !B) outs(%init : tensor<10x16xi32>)
      {bitserial.tile_sizes = [4, 0]} -> tensor<10x16xi32>
  return %r : tensor<10x16xi32>
}
