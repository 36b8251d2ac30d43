// Tile sizes from a tuning cache (benchmarks/tune.py): an op whose entry
// for the target, CPU and int8 instruction has `tile_sizes` is tiled with
// them, and its tiles carry the op's key, so that bitserial-select-kernels
// gives them the entry's kernel. With tuned-only (the pipelines without
// tile=true) other ops stay whole; without it they take the options.
// RUN: bitserial-opt %s -split-input-file -verify-diagnostics --bitserial-tile="tuning-cache=%S/Inputs/tuning-cache-tiles.json target=generic cpu=test-cpu tuned-only=true" | FileCheck %s
// RUN: bitserial-opt %s -split-input-file -verify-diagnostics --bitserial-tile="tuning-cache=%S/Inputs/tuning-cache-tiles.json target=generic cpu=test-cpu matmul-tile-sizes=4,0" | FileCheck %s --check-prefix=OPTIONS
// Entries of another CPU do not apply.
// RUN: bitserial-opt %s -split-input-file --bitserial-tile="tuning-cache=%S/Inputs/tuning-cache-tiles.json target=generic cpu=other-cpu tuned-only=true" | FileCheck %s --check-prefix=OTHER
// The pipeline tiles by the cache without tile=true, and the tiles get the
// entry's register block.
// RUN: bitserial-opt %s -split-input-file --bitserial-vectorize="target=generic tuning-cache=%S/Inputs/tuning-cache-tiles.json tuning-cpu=test-cpu print-kernels=true" -o /dev/null 2>&1 | FileCheck %s --check-prefix=REMARK

// Tuned rows of 2: the padded borders (one row each) and a loop over the
// 6 interior rows, every part carrying the op's key.
// CHECK-LABEL: func.func @conv
// CHECK: bitserial.conv2d {{.*}} padding = [1, 0, 1, 1] {bitserial.tuning_key = "{\22C\22:64,\22CO\22:16,\22H\22:8,{{.*}}\22op\22:\22conv2d\22{{.*}}}"} -> tensor<1x1x8x16xi32>
// CHECK: scf.for {{.*}} step %c2
// CHECK: bitserial.conv2d {{.*}} padding = [0, 0, 1, 1] {bitserial.tuning_key = {{.*}}} -> tensor<1x2x8x16xi32>
// CHECK: bitserial.conv2d {{.*}} padding = [0, 1, 1, 1] {bitserial.tuning_key = {{.*}}} -> tensor<1x1x8x16xi32>
// OPTIONS-LABEL: func.func @conv
// OPTIONS: scf.for {{.*}} step %c2
// OTHER-LABEL: func.func @conv
// OTHER-NOT: scf.for
// OTHER: bitserial.conv2d
// OTHER-NOT: bitserial.tuning_key
// REMARK-COUNT-3: remark: kernel bitserial (tuned, block 1x2, tiles 1x2x0x0)
!X = tensor<1x8x8x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 64>>
!F = tensor<16x3x3x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 64>>
func.func @conv(%x: !X, %f: !F, %init: tensor<1x8x8x16xi32>) -> tensor<1x8x8x16xi32> {
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%init : tensor<1x8x8x16xi32>) padding = [1, 1, 1, 1] -> tensor<1x8x8x16xi32>
  return %r : tensor<1x8x8x16xi32>
}

// -----

// Measured whole (tile sizes 0): not tiled, also where the options would
// tile it.
// CHECK-LABEL: func.func @matmul_whole
// CHECK-NOT: scf.for
// CHECK: bitserial.matmul
// CHECK-NOT: bitserial.tuning_key
// OPTIONS-LABEL: func.func @matmul_whole
// OPTIONS-NOT: scf.for
// REMARK: remark: kernel bitserial (tuned, block 2x1)
!A = tensor<12x2x1xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 40>>
!B = tensor<10x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 40>>
func.func @matmul_whole(%a: !A, %b: !B, %init: tensor<12x10xi32>) -> tensor<12x10xi32> {
  %r = bitserial.matmul ins(%a, %b : !A, !B) outs(%init : tensor<12x10xi32>) -> tensor<12x10xi32>
  return %r : tensor<12x10xi32>
}

// -----

// No entry: whole with tuned-only, the options' tiles otherwise. Tiles
// inherit the user's kernel choice, not the tile sizes.
// CHECK-LABEL: func.func @matmul_untuned
// CHECK-NOT: scf.for
// OPTIONS-LABEL: func.func @matmul_untuned
// OPTIONS: scf.for {{.*}} step %c4
// OPTIONS: bitserial.matmul {{.*}} {bitserial.int8 = true} -> tensor<4x10xi32>
// REMARK: remark: kernel bitserial (bitserial.int8 = true
!A = tensor<12x2x1xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 40>>
!B = tensor<10x2x1xi64, #bitserial.packed<bits = 2, encoding = signed, length = 40>>
func.func @matmul_untuned(%a: !A, %b: !B, %init: tensor<12x10xi32>) -> tensor<12x10xi32> {
  %r = bitserial.matmul ins(%a, %b : !A, !B) outs(%init : tensor<12x10xi32>) {bitserial.int8 = true} -> tensor<12x10xi32>
  return %r : tensor<12x10xi32>
}

// -----

// The user's tile sizes win over the cache's.
// CHECK-LABEL: func.func @conv_user_tiles
// CHECK: scf.for {{.*}} step %c3
// CHECK-NOT: bitserial.tile_sizes
// CHECK: return
!X = tensor<1x8x8x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 64>>
!F = tensor<16x3x3x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 64>>
func.func @conv_user_tiles(%x: !X, %f: !F, %init: tensor<1x8x8x16xi32>) -> tensor<1x8x8x16xi32> {
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%init : tensor<1x8x8x16xi32>) padding = [1, 1, 1, 1] {bitserial.tile_sizes = array<i64: 1, 3, 0, 0>} -> tensor<1x8x8x16xi32>
  return %r : tensor<1x8x8x16xi32>
}

