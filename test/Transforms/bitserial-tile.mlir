// RUN: bitserial-opt %s -split-input-file --bitserial-tile --canonicalize -verify-diagnostics | FileCheck %s
// RUN: bitserial-opt %s -split-input-file --bitserial-tile="matmul-tile-sizes=3,5 conv-tile-sizes=1,0,0,16" --canonicalize -verify-diagnostics | FileCheck %s --check-prefix=OPTIONS
// RUN: not bitserial-opt %s -split-input-file --bitserial-tile="cache-bytes=-1" 2>&1 | FileCheck %s --check-prefix=CACHE
// CACHE: error: cache-bytes must be positive, got -1

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

// The heuristic tiles the rows of a padded conv too: the first and last
// rows, whose windows read padding, are split off (kept whole, constant
// padding), and the 54 rows between are tiled without padding: 17 rows fit
// the cache, 9 divide 54 (static tiles).
// CHECK-LABEL: func.func @conv2d_padded_rows_default
// CHECK-NOT: scf.if
// CHECK: bitserial.conv2d {{.*}} padding = [1, 0, 1, 1] -> tensor<1x1x56x64xi32>
// CHECK: scf.for %{{.*}} = %c0 to %c54 step %c9
// CHECK: bitserial.conv2d {{.*}} padding = [0, 0, 1, 1] -> tensor<1x9x56x64xi32>
// CHECK: bitserial.conv2d {{.*}} padding = [0, 1, 1, 1] -> tensor<1x1x56x64xi32>
// OPTIONS-LABEL: func.func @conv2d_padded_rows_default
// OPTIONS: scf.for %{{.*}} = %c0 to %c64 step %c16
// OPTIONS: bitserial.conv2d {{.*}} -> tensor<1x56x56x16xi32>
!X = tensor<1x56x56x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 64>>
!F = tensor<64x3x3x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 64>>
func.func @conv2d_padded_rows_default(%x: !X, %f: !F, %init: tensor<1x56x56x64xi32>) -> tensor<1x56x56x64xi32> {
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

// Padded rows tiled by 8: row 0 (top padding) and row 55 (bottom padding)
// are conv2d ops of their own, the interior rows 1-54 tiles without padding
// on the height; the parts go back in place.
// CHECK-LABEL: func.func @conv2d_tile_padded_rows
// CHECK-SAME: (%[[X:[a-z0-9_]+]]: {{.*}}, %[[F:[a-z0-9_]+]]: {{.*}}, %[[INIT:[a-z0-9_]+]]:
// CHECK-NOT: scf.if
// CHECK: %[[TOPX:.*]] = tensor.extract_slice %[[X]][0, 0, 0, 0, 0] [1, 2, 56, 1, 1]
// CHECK: %[[TOP:.*]] = bitserial.conv2d ins(%[[TOPX]], {{.*}} padding = [1, 0, 1, 1] -> tensor<1x1x56x64xi32>
// CHECK: %[[R0:.*]] = tensor.insert_slice %[[TOP]] into %[[INIT]][0, 0, 0, 0] [1, 1, 56, 64]
// CHECK: %[[MID:.*]] = scf.for %[[OH:.*]] = %c0 to %c54 step %c8
// CHECK: tensor.extract_slice %[[X]][0, %[[OH]], 0, 0, 0]
// CHECK: bitserial.conv2d {{.*}} padding = [0, 0, 1, 1] -> tensor<1x?x56x64xi32>
// CHECK: %[[R1:.*]] = tensor.insert_slice %[[MID]] into %[[R0]][0, 1, 0, 0] [1, 54, 56, 64]
// CHECK: %[[BOTX:.*]] = tensor.extract_slice %[[X]][0, 54, 0, 0, 0] [1, 2, 56, 1, 1]
// CHECK: %[[BOT:.*]] = bitserial.conv2d ins(%[[BOTX]], {{.*}} padding = [0, 1, 1, 1] -> tensor<1x1x56x64xi32>
// CHECK: tensor.insert_slice %[[BOT]] into %[[R1]][0, 55, 0, 0] [1, 1, 56, 64]
!X = tensor<1x56x56x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 64>>
!F = tensor<64x3x3x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 64>>
func.func @conv2d_tile_padded_rows(%x: !X, %f: !F, %init: tensor<1x56x56x64xi32>) -> tensor<1x56x56x64xi32> {
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

// -----

// Dynamic extents with padding: the heuristic tiles the batch only, and the
// padded axes, left whole, are recognised as whole although their extent is
// not static.
// CHECK-LABEL: func.func @conv2d_dynamic_padded
// CHECK-SAME: (%[[X:[a-z0-9_]+]]: {{.*}}, %[[F:[a-z0-9_]+]]: {{.*}}, %[[INIT:[a-z0-9_]+]]: tensor<?x?x?x?xi32>)
// CHECK: %[[N:.*]] = tensor.dim %[[INIT]], %c0
// CHECK: scf.for %[[B:.*]] = %c0 to %[[N]] step %c1
// CHECK: %[[H:.*]] = tensor.dim %[[X]], %c1
// CHECK: %[[W:.*]] = tensor.dim %[[X]], %c2
// CHECK: tensor.extract_slice %[[X]][%[[B]], 0, 0, 0, 0] [1, %[[H]], %[[W]], 1, 1]
// CHECK: bitserial.conv2d {{.*}} padding = [1, 1, 1, 1] -> tensor<1x?x?x?xi32>
// OPTIONS-LABEL: func.func @conv2d_dynamic_padded
// OPTIONS: scf.for
// OPTIONS: scf.for %{{.*}} step %c16
// OPTIONS: bitserial.conv2d {{.*}} -> tensor<1x?x?x?xi32>
!X = tensor<?x?x?x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 20>>
!F = tensor<?x3x3x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 20>>
func.func @conv2d_dynamic_padded(%x: !X, %f: !F, %init: tensor<?x?x?x?xi32>) -> tensor<?x?x?x?xi32> {
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%init : tensor<?x?x?x?xi32>) padding = [1, 1, 1, 1]
      -> tensor<?x?x?x?xi32>
  return %r : tensor<?x?x?x?xi32>
}

// -----

// A tile at least as large as a static extent keeps that axis whole, so a
// padded axis may be given one.
// CHECK-LABEL: func.func @conv2d_tile_covers_padded
// CHECK: scf.for %{{.*}} = %c0 to %c4 step %c2
// CHECK: bitserial.conv2d {{.*}} padding = [1, 1, 1, 1] -> tensor<1x6x6x2xi32>
!X = tensor<1x6x6x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 20>>
!F = tensor<4x3x3x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 20>>
func.func @conv2d_tile_covers_padded(%x: !X, %f: !F, %init: tensor<1x6x6x4xi32>) -> tensor<1x6x6x4xi32> {
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%init : tensor<1x6x6x4xi32>) padding = [1, 1, 1, 1]
      {bitserial.tile_sizes = array<i64: 1, 8, 6, 2>} -> tensor<1x6x6x4xi32>
  return %r : tensor<1x6x6x4xi32>
}

// -----

// Dynamic extents cannot be split at the borders: each tile tests its
// padding at run time, an interior tile runs one unpadded conv2d, a border
// tile one conv2d per kernel column over the columns that tap reads.
// CHECK-LABEL: func.func @conv2d_dynamic_tile_padded
// CHECK: scf.if
// CHECK: bitserial.conv2d {{.*}} -> tensor<1x?x?x?xi32>
// CHECK: } else {
// CHECK: scf.for
// CHECK: bitserial.conv2d {{.*}} -> tensor<1x?x?x?xi32>
!X = tensor<?x?x?x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 20>>
!F = tensor<?x3x3x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 20>>
func.func @conv2d_dynamic_tile_padded(%x: !X, %f: !F, %init: tensor<?x?x?x?xi32>) -> tensor<?x?x?x?xi32> {
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%init : tensor<?x?x?x?xi32>) padding = [0, 0, 1, 1]
      {bitserial.tile_sizes = array<i64: 1, 2, 4, 0>} -> tensor<?x?x?x?xi32>
  return %r : tensor<?x?x?x?xi32>
}

// -----

// A threshold after a conv2d is tiled with it: split at the border rows like
// the conv2d alone, then loops tile the threshold's rows (its channels are
// packed, so whole), the conv2d is fused into each tile, and its channel
// tiles become a loop inside.
// CHECK-LABEL: func.func @conv2d_threshold_chain
// CHECK: %[[EMPTY:.*]] = tensor.empty() : tensor<1x6x6x2x1xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 16>>
// CHECK: bitserial.conv2d {{.*}} padding = [1, 0, 1, 1] -> tensor<1x1x6x8xi32>
// CHECK: bitserial.threshold {{.*}} -> tensor<1x1x6x2x1xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 16>>
// CHECK: %[[TOP:.*]] = tensor.insert_slice {{.*}} into %[[EMPTY]][0, 0, 0, 0, 0] [1, 1, 6, 2, 1]
// CHECK: %[[MID:.*]] = scf.for %{{.*}} = %c0 to %c4 step %c3 iter_args(%{{.*}}) -> (tensor<1x4x6x2x1xi64, #bitserial.packed
// CHECK: scf.for %{{.*}} = %c0 to %c16 step %c8
// CHECK: bitserial.conv2d {{.*}} padding = [0, 0, 1, 1] -> tensor<1x?x6x8xi32>
// CHECK: bitserial.threshold {{.*}} -> tensor<1x?x6x2x1xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 16>>
// CHECK: tensor.insert_slice %[[MID]] into %[[TOP]][0, 1, 0, 0, 0] [1, 4, 6, 2, 1]
// CHECK: bitserial.threshold {{.*}} -> tensor<1x1x6x2x1xi64
// OPTIONS-LABEL: func.func @conv2d_threshold_chain
// OPTIONS: scf.for %{{.*}} step %c3
// OPTIONS: bitserial.threshold
!X = tensor<1x6x6x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 20>>
!F = tensor<16x3x3x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 20>>
!Y = tensor<1x6x6x2x1xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 16>>
func.func @conv2d_threshold_chain(%x: !X, %f: !F, %init: tensor<1x6x6x16xi32>, %t: tensor<16x3xi32>) -> !Y {
  %a = bitserial.conv2d ins(%x, %f : !X, !F) outs(%init : tensor<1x6x6x16xi32>) padding = [1, 1, 1, 1]
      {bitserial.tile_sizes = array<i64: 1, 3, 0, 8>} -> tensor<1x6x6x16xi32>
  %y = bitserial.threshold %a, %t : tensor<1x6x6x16xi32>, tensor<16x3xi32> -> !Y
  return %y : !Y
}
