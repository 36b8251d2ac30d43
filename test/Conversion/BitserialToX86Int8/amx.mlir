// RUN: bitserial-opt %s -split-input-file --convert-bitserial-to-x86-int8="instruction=amx min-bit-product=1" | FileCheck %s
// parallel=true: rows of several pixel blocks are tasks of one row; rows of
// one block are tasks of two rows (an odd number of them: of two rows and
// half the channels; wrapped rows: of two tiles of positions), or, with
// weights too large for a core's cache, tasks of 2 x 16 output channels
// over all rows.
// RUN: bitserial-opt %s -split-input-file --convert-bitserial-to-x86-int8="instruction=amx min-bit-product=1 parallel=true min-parallel-macs=0" | FileCheck %s --check-prefix=PAR

// Unsigned x signed 2-bit codes as they are (u8 x s8: tdpbusd), no offset
// epilogue. Rows of 18 pixels: tiles of 16 pixels, the second starting at
// pixel 2; 2 x 2 accumulators, the reduction (3 x 3 taps x 1 chunk of 64
// channels) unrolled; 20 output channels: the second channel block is
// stored masked, so the tiles go through stack buffers. One loop over the
// 10 register blocks (2 images x 5 rows), software-pipelined: each
// iteration computes its block, then stores the one before from the
// buffers, then stages its own; the last block is stored after the loop.
// The init is added after the kernel (a pixel of two tiles is stored
// twice: it must not add init twice).
// CHECK-LABEL: func.func @wide_rows
// CHECK-SAME: %[[INIT:[^:]*]]: tensor<2x5x18x20xi32>
// CHECK-DAG: %[[STAGING:.*]] = memref.alloca() : memref<4x16x16xi32>
// CHECK-DAG: %[[IN:.*]] = bufferization.to_buffer %{{.*}} read_only : tensor<2x11x20x64xi8> to memref<2x11x20x64xi8>
// CHECK-DAG: %[[W:.*]] = bufferization.to_buffer %{{.*}} read_only : tensor<2x3x3x16x64xi8> to memref<2x3x3x16x64xi8>
// CHECK: scf.for %{{.*}} = %{{.*}} to %c10{{.*}} step %c1{{.*}} iter_args
// CHECK-COUNT-4: amx.tile_zero : !amx.tile<16x16xi32>
// CHECK: amx.tile_load %[[IN]][{{.*}}], %{{.*}} : memref<2x11x20x64xi8> into !amx.tile<16x64xi8>
// CHECK: amx.tile_load %[[W]][{{.*}}] : memref<2x3x3x16x64xi8> into !amx.tile<16x64xi8>
// CHECK: amx.tile_muli %{{.*}} zext, %{{.*}}, %{{.*}} : !amx.tile<16x64xi8>, !amx.tile<16x64xi8>, !amx.tile<16x16xi32>
// CHECK-COUNT-35: amx.tile_muli
// CHECK-NOT: amx.tile_muli
// CHECK: scf.if
// CHECK-NOT: vector.transfer_read
// CHECK: vector.load %[[STAGING]]
// CHECK: vector.transfer_write {{.*}} : vector<16xi32>, tensor<2x5x18x20xi32>
// CHECK: } else {
// CHECK-COUNT-4: amx.tile_store %[[STAGING]]
// CHECK: scf.yield
// CHECK: vector.load %[[STAGING]]
// CHECK: vector.transfer_write {{.*}} : vector<16xi32>, tensor<2x5x18x20xi32>
// CHECK: linalg.generic {{.*}} ins(%{{.*}} : tensor<2x5x18x20xi32>) outs(%[[INIT]] : tensor<2x5x18x20xi32>)
// CHECK: arith.addi
// CHECK-NOT: bitserial.conv2d
// CHECK: return
// PAR-LABEL: func.func @wide_rows
// PAR: scf.forall (%{{.*}}, %{{.*}}) in (2, 5)
// PAR: memref.alloca() : memref<4x16x16xi32>
// PAR: tensor.extract_slice {{.*}} [1, 1, 18, 20]
// PAR: amx.tile_muli
// PAR: tensor.parallel_insert_slice
!X = tensor<2x9x20x3x1xi64, #bitserial.packed<bits = 3, encoding = unsigned, length = 40>>
!W = tensor<20x3x3x2x1xi64, #bitserial.packed<bits = 2, encoding = signed, length = 40>>
func.func @wide_rows(%x: !X, %w: !W, %init: tensor<2x5x18x20xi32>) -> tensor<2x5x18x20xi32> {
  %r = bitserial.conv2d ins(%x, %w : !X, !W) outs(%init : tensor<2x5x18x20xi32>)
      strides = [2, 1] padding = [1, 1, 0, 0] -> tensor<2x5x18x20xi32>
  return %r : tensor<2x5x18x20xi32>
}

// -----

// Rows of 18 pixels, 32 output channels, no init to read: the tiles go
// straight into an output buffer of the kernel's own (rows of a tile are
// pixels of one output row, CO apart), which is the result.
// CHECK-LABEL: func.func @direct_stores
// CHECK: %[[OUT:.*]] = memref.alloc() {alignment = 64 : i64} : memref<1x4x18x32xi32>
// CHECK: scf.for %{{.*}} = %{{.*}} to %c4{{.*}} step %c1
// CHECK-COUNT-4: amx.tile_zero
// CHECK-COUNT-36: amx.tile_muli
// CHECK-NOT: amx.tile_muli
// CHECK-COUNT-4: amx.tile_store %[[OUT]][%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}], %{{.*}} : memref<1x4x18x32xi32>, !amx.tile<16x16xi32>
// CHECK-NOT: vector.load
// CHECK: %[[R:.*]] = bufferization.to_tensor %[[OUT]] restrict writable : memref<1x4x18x32xi32> to tensor<1x4x18x32xi32>
// CHECK: return %[[R]]
// With threads, tasks of a row store into the buffer at their own rows.
// PAR-LABEL: func.func @direct_stores
// PAR: %[[OUT:.*]] = memref.alloc() {alignment = 64 : i64} : memref<1x4x18x32xi32>
// PAR: scf.forall (%[[N:.*]], %[[OH:.*]]) in (1, 4) {
// PAR-NOT: memref.alloca
// PAR-COUNT-4: amx.tile_store %[[OUT]][%[[N]], %[[OH]], %{{.*}}, %{{.*}}]
// PAR: bufferization.to_tensor %[[OUT]] restrict writable
!XD1 = tensor<1x4x18x2x1xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 64>>
!WD1 = tensor<32x3x3x2x1xi64, #bitserial.packed<bits = 2, encoding = signed, length = 64>>
func.func @direct_stores(%x: !XD1, %w: !WD1) -> tensor<1x4x18x32xi32> {
  %zero = arith.constant 0 : i32
  %empty = tensor.empty() : tensor<1x4x18x32xi32>
  %init = linalg.fill ins(%zero : i32) outs(%empty : tensor<1x4x18x32xi32>) -> tensor<1x4x18x32xi32>
  %r = bitserial.conv2d ins(%x, %w : !XD1, !WD1) outs(%init : tensor<1x4x18x32xi32>)
      strides = [1, 1] padding = [1, 1, 1, 1] -> tensor<1x4x18x32xi32>
  return %r : tensor<1x4x18x32xi32>
}

// -----

// 1 x 1 with stride 2, no padding: only the sampled pixels of the packed
// input are read (a strided slice), and the convolution of stride 1 is a
// matmul over the 2 x 4 x 5 = 40 output pixels: 3 tiles of 16 pixels
// across rows and images (the last starting at pixel 24) in 2 groups of 2
// x 3 channel blocks in 2 groups of 2 (each second group repeating its
// last member), stored straight into the output viewed as [40, 48]. The
// kernel decodes each pixel group's 32 pixels from a strided view of the
// words into a stack buffer (a mask per plane), then runs its channel
// groups; with two channel groups, group g + 1 is decoded into the other
// half of the buffer before group g is read.
// CHECK-LABEL: func.func @flat_pixels
// CHECK: %[[CODES:.*]] = memref.alloca() {alignment = 64 : i64} : memref<64x64xi8>
// CHECK: %[[SAMPLED:.*]] = tensor.extract_slice %{{.*}}[0, 0, 0, 0, 0] [2, 4, 5, 2, 1] [1, 2, 2, 1, 1] : tensor<2x7x9x2x1xi64, #bitserial.packed<{{.*}}>> to tensor<2x4x5x2x1xi64, #bitserial.packed<{{.*}}>>
// CHECK-NOT: tensor<2x4x5x64xi8>
// CHECK: %[[PLAIN:.*]] = tensor.cast %[[SAMPLED]]
// CHECK: %[[WORDS:.*]] = bufferization.to_buffer %[[PLAIN]] read_only : tensor<2x4x5x2x1xi64> to memref<2x4x5x2x1xi64, strided<[?, ?, ?, ?, 1], offset: ?>>
// CHECK: %[[OUT:.*]] = memref.alloc() {alignment = 64 : i64} : memref<2x4x5x48xi32>
// CHECK: %[[VIEW:.*]] = memref.collapse_shape %[[OUT]] {{\[\[}}0, 1, 2], [3]] : memref<2x4x5x48xi32> into memref<40x48xi32>
// CHECK: scf.for
// CHECK-COUNT-2: vector.load %[[WORDS]]
// CHECK: vector.store %{{.*}}, %[[CODES]]
// CHECK: scf.for
// CHECK-COUNT-2: vector.load %[[WORDS]]
// CHECK: vector.store %{{.*}}, %[[CODES]]
// CHECK: scf.for %[[GROUP:.*]] = %{{.*}} to %c2{{.*}} step %c1
// CHECK: %[[HALF:.*]] = arith.remui %[[GROUP]], %c2
// CHECK: %[[ROW:.*]] = arith.muli %[[HALF]], %c32
// CHECK: scf.if
// CHECK-COUNT-2: vector.load %[[WORDS]]
// CHECK: vector.store %{{.*}}, %[[CODES]]
// CHECK: scf.for %{{.*}} = %{{.*}} to %c2{{.*}} step %c1
// CHECK: arith.addi %[[ROW]], %c0
// CHECK: amx.tile_load %[[CODES]][%{{.*}}, %{{.*}}] : memref<64x64xi8> into !amx.tile<16x64xi8>
// CHECK-COUNT-4: amx.tile_muli
// CHECK-NOT: amx.tile_muli
// CHECK-COUNT-4: amx.tile_store %[[VIEW]][%{{.*}}, %{{.*}}], %{{.*}} : memref<40x48xi32>, !amx.tile<16x16xi32>
// CHECK: bufferization.to_tensor %[[OUT]] restrict writable
// With threads, tasks of consecutive pixel groups (about 16 tasks: here 2
// of one group each), decoding into a stack buffer of their own.
// PAR-LABEL: func.func @flat_pixels
// PAR: scf.forall (%{{.*}}) in (2) {
// PAR: memref.alloca() {alignment = 64 : i64} : memref<32x64xi8>
// PAR: vector.store
// PAR: scf.for %{{.*}} = %{{.*}} to %c2{{.*}} step %c1
// PAR-COUNT-4: amx.tile_store
!XF = tensor<2x7x9x2x1xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 64>>
!WF = tensor<48x1x1x2x1xi64, #bitserial.packed<bits = 2, encoding = signed, length = 64>>
func.func @flat_pixels(%x: !XF, %w: !WF) -> tensor<2x4x5x48xi32> {
  %zero = arith.constant 0 : i32
  %empty = tensor.empty() : tensor<2x4x5x48xi32>
  %init = linalg.fill ins(%zero : i32) outs(%empty : tensor<2x4x5x48xi32>) -> tensor<2x4x5x48xi32>
  %r = bitserial.conv2d ins(%x, %w : !XF, !WF) outs(%init : tensor<2x4x5x48xi32>)
      strides = [2, 2] padding = [0, 0, 0, 0] -> tensor<2x4x5x48xi32>
  return %r : tensor<2x4x5x48xi32>
}

// -----

// Rows of 7 pixels, 3 x 3 with padding 1, stride 1, no init: tiles of 16
// consecutive positions oh * 9 + ow of the padded input's rows (61
// positions up to the last output pixel: 4 tiles, not 7), the input's rows
// joined into [1, 90, 64] with a row of zeros decoded below the image for
// the last tile's reads; each tile row stored, from the stack buffers, to
// the output buffer where it is an output pixel.
// CHECK-LABEL: func.func @wrapped_rows
// CHECK-DAG: tensor.empty() : tensor<1x10x9x64xi8>
// CHECK-DAG: %[[STAGING:.*]] = memref.alloca() : memref<4x16x16xi32>
// CHECK: %[[IN:.*]] = memref.collapse_shape %{{.*}} {{\[\[}}0], [1, 2], [3]] : memref<1x10x9x64xi8> into memref<1x90x64xi8>
// CHECK: %[[OUT:.*]] = memref.alloc() {alignment = 64 : i64} : memref<1x7x7x32xi32>
// CHECK: scf.for %{{.*}} = %{{.*}} to %c2{{.*}} step %c1
// CHECK: amx.tile_load %[[IN]][%{{.*}}, %{{.*}}, %{{.*}}] : memref<1x90x64xi8> into !amx.tile<16x64xi8>
// CHECK-COUNT-36: amx.tile_muli
// CHECK-NOT: amx.tile_muli
// CHECK: scf.if
// CHECK: vector.load %[[STAGING]]
// CHECK: scf.if
// CHECK: vector.transfer_write %{{.*}}, %[[OUT]][%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}] {in_bounds = [true]} : vector<16xi32>, memref<1x7x7x32xi32>
// CHECK-COUNT-4: amx.tile_store %[[STAGING]]
// CHECK: bufferization.to_tensor %[[OUT]] restrict writable
// With threads (18 KB of weights fit a core's cache), a task per image and
// group of 2 tiles of positions over all channel groups, with stack
// buffers of its own: each thread reads about the input rows it decoded.
// PAR-LABEL: func.func @wrapped_rows
// PAR: scf.forall (%{{.*}}, %{{.*}}) in (1, 2) {
// PAR: memref.alloca() : memref<4x16x16xi32>
// PAR: scf.for %{{.*}} = %{{.*}} to %c1{{.*}} step %c1
// PAR: amx.tile_muli
!XR = tensor<1x7x7x2x1xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 64>>
!WR = tensor<32x3x3x2x1xi64, #bitserial.packed<bits = 2, encoding = signed, length = 64>>
func.func @wrapped_rows(%x: !XR, %w: !WR) -> tensor<1x7x7x32xi32> {
  %zero = arith.constant 0 : i32
  %empty = tensor.empty() : tensor<1x7x7x32xi32>
  %init = linalg.fill ins(%zero : i32) outs(%empty : tensor<1x7x7x32xi32>) -> tensor<1x7x7x32xi32>
  %r = bitserial.conv2d ins(%x, %w : !XR, !WR) outs(%init : tensor<1x7x7x32xi32>)
      strides = [1, 1] padding = [1, 1, 1, 1] -> tensor<1x7x7x32xi32>
  return %r : tensor<1x7x7x32xi32>
}

// -----

// Wrapped rows with 2.25 MB of weights (512 x 512 channels, 3 x 3): with
// threads, a task per channel group (2 channel blocks) over all positions,
// whose weights stay in the cache.
// PAR-LABEL: func.func @wrapped_big_weights
// PAR: scf.forall (%{{.*}}) in (16) {
// PAR: memref.alloca() : memref<4x16x16xi32>
// PAR: scf.for %{{.*}} = %{{.*}} to %c2{{.*}} step %c1
// PAR: amx.tile_muli
!XRB = tensor<1x7x7x2x8xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 512>>
!WRB = tensor<512x3x3x2x8xi64, #bitserial.packed<bits = 2, encoding = signed, length = 512>>
func.func @wrapped_big_weights(%x: !XRB, %w: !WRB) -> tensor<1x7x7x512xi32> {
  %zero = arith.constant 0 : i32
  %empty = tensor.empty() : tensor<1x7x7x512xi32>
  %init = linalg.fill ins(%zero : i32) outs(%empty : tensor<1x7x7x512xi32>) -> tensor<1x7x7x512xi32>
  %r = bitserial.conv2d ins(%x, %w : !XRB, !WRB) outs(%init : tensor<1x7x7x512xi32>)
      strides = [1, 1] padding = [1, 1, 1, 1] -> tensor<1x7x7x512xi32>
  return %r : tensor<1x7x7x512xi32>
}

// -----

// Stride 2 on rows of 7 pixels: the padded input (16 x 16) decoded as its
// even padded rows (a row of padding, then input rows 1, 3, ...) and its
// odd ones (input rows 0, 2, ...), each phase 10 rows (zeros below as far
// as the last tile reads) and viewed as [1, 160, 64]; positions u = oh * 8 + ow,
// tap (i, j) reading pixel 2 u + (i / 2) * 16 + j of phase i % 2 with a
// tile stride of 2 pixels (128 bytes): 4 tiles for the 49 pixels, not 7.
// CHECK-LABEL: func.func @wrapped_stride2
// CHECK: tensor.extract_slice %{{.*}}[0, 1, 0, 0, 0] [1, 7, 14, 2, 1] [1, 2, 1, 1, 1]
// CHECK: tensor.empty() : tensor<1x10x16x64xi8>
// CHECK: tensor.extract_slice %{{.*}}[0, 0, 0, 0, 0] [1, 7, 14, 2, 1] [1, 2, 1, 1, 1]
// CHECK: tensor.empty() : tensor<1x10x16x64xi8>
// CHECK: %[[EVEN:.*]] = memref.collapse_shape %{{.*}} {{\[\[}}0], [1, 2], [3]] : memref<1x10x16x64xi8> into memref<1x160x64xi8>
// CHECK: %[[ODD:.*]] = memref.collapse_shape %{{.*}} {{\[\[}}0], [1, 2], [3]] : memref<1x10x16x64xi8> into memref<1x160x64xi8>
// CHECK: scf.for %{{.*}} = %{{.*}} to %c2{{.*}} step %c1
// CHECK: amx.tile_load %[[EVEN]][%{{.*}}, %{{.*}}, %{{.*}}], %c128{{.*}} : memref<1x160x64xi8>
// CHECK: amx.tile_load %[[ODD]][%{{.*}}, %{{.*}}, %{{.*}}], %c128{{.*}} : memref<1x160x64xi8>
// CHECK: amx.tile_muli
// CHECK: amx.tile_load %[[EVEN]]
// CHECK: bufferization.to_tensor
!XS = tensor<1x14x14x2x1xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 64>>
!WS = tensor<32x3x3x2x1xi64, #bitserial.packed<bits = 2, encoding = signed, length = 64>>
func.func @wrapped_stride2(%x: !XS, %w: !WS) -> tensor<1x7x7x32xi32> {
  %zero = arith.constant 0 : i32
  %empty = tensor.empty() : tensor<1x7x7x32xi32>
  %init = linalg.fill ins(%zero : i32) outs(%empty : tensor<1x7x7x32xi32>) -> tensor<1x7x7x32xi32>
  %r = bitserial.conv2d ins(%x, %w : !XS, !WS) outs(%init : tensor<1x7x7x32xi32>)
      strides = [2, 2] padding = [1, 1, 1, 1] -> tensor<1x7x7x32xi32>
  return %r : tensor<1x7x7x32xi32>
}

// -----

// Bipolar x bipolar as s8 x s8 (tdpbssd): +-1 as they are, i64 results
// (not flat pixels: tiles go through the stack buffers). Rows of 15
// pixels (wrapped over the rows they would take as many tiles): the block
// of two rows per register block (tiles of 16 rows, of which the last
// reads zeros padded past the row and is not stored), the second row
// clamped (7 rows: the last pair computes row 6 twice); 2 groups of 2
// channel blocks for 48 output channels outer, 4 pairs of rows inner: 8
// register blocks in one loop. 80 channels: 2 chunks of 64 per tap. The
// init is added after the kernel.
// CHECK-LABEL: func.func @narrow_rows
// CHECK: memref.alloca() : memref<4x16x16xi32>
// CHECK: scf.for %{{.*}} = %{{.*}} to %c8{{.*}} step %c1{{.*}} -> (tensor<1x7x15x48xi64>)
// CHECK-COUNT-4: amx.tile_zero : !amx.tile<16x16xi32>
// CHECK: amx.tile_load {{.*}} into !amx.tile<16x64xi8>
// CHECK: amx.tile_muli %{{.*}}, %{{.*}}, %{{.*}} : !amx.tile<16x64xi8>, !amx.tile<16x64xi8>, !amx.tile<16x16xi32>
// CHECK-COUNT-7: amx.tile_muli
// CHECK-NOT: amx.tile_muli
// CHECK: scf.if
// CHECK-COUNT-4: amx.tile_store
// With threads, its 12 KB of weights fit a core's cache: tasks of a pair
// of rows (the last one a single row) over all channel blocks.
// PAR-LABEL: func.func @narrow_rows
// PAR: scf.forall (%{{.*}}, %{{.*}}) in (1, 4)
// PAR: memref.alloca() : memref<4x16x16xi32>
// PAR: tensor.extract_slice {{.*}} [1, %{{.*}}, 15, 48]
// PAR: scf.for %{{.*}} = %{{.*}} to %c2{{.*}} step %c1
// PAR: amx.tile_muli
// PAR: tensor.parallel_insert_slice
!XB = tensor<1x7x15x1x2xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 80>>
!WB = tensor<48x1x1x1x2xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 80>>
func.func @narrow_rows(%x: !XB, %w: !WB, %init: tensor<1x7x15x48xi64>) -> tensor<1x7x15x48xi64> {
  %r = bitserial.conv2d ins(%x, %w : !XB, !WB) outs(%init : tensor<1x7x15x48xi64>)
      strides = [1, 1] padding = [0, 0, 0, 0] -> tensor<1x7x15x48xi64>
  return %r : tensor<1x7x15x48xi64>
}

// -----

// An odd number of row pairs (6 rows of 15 pixels, 3 pairs; i64 results,
// not flat pixels): with threads each pair's 4 channel blocks split in two
// tasks of 2 (32 channels), so that two threads get as many tasks.
// PAR-LABEL: func.func @odd_row_pairs
// PAR: scf.forall (%{{.*}}, %{{.*}}, %{{.*}}) in (1, 3, 2)
// PAR: memref.alloca() : memref<4x16x16xi32>
// PAR: tensor.extract_slice {{.*}} [1, %{{.*}}, 15, 32]
// PAR: scf.for %{{.*}} = %{{.*}} to %c1{{.*}} step %c1
// PAR: amx.tile_muli
// PAR: tensor.parallel_insert_slice
!XO = tensor<1x6x15x2x1xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 64>>
!WO = tensor<64x1x1x2x1xi64, #bitserial.packed<bits = 2, encoding = signed, length = 64>>
func.func @odd_row_pairs(%x: !XO, %w: !WO, %init: tensor<1x6x15x64xi64>) -> tensor<1x6x15x64xi64> {
  %r = bitserial.conv2d ins(%x, %w : !XO, !WO) outs(%init : tensor<1x6x15x64xi64>)
      strides = [1, 1] padding = [0, 0, 0, 0] -> tensor<1x6x15x64xi64>
  return %r : tensor<1x6x15x64xi64>
}

// -----

// Pairs of rows of 3 x 3 x 256 channels: two channel blocks' weights (72
// KB) would not stay in the L1 cache, one block's (36 KB) do, so a
// register block is 2 rows x 1 channel block (2 staged tiles, 2 x 36
// products).
// CHECK-LABEL: func.func @l1_weights
// CHECK: memref.alloca() : memref<2x16x16xi32>
// CHECK: scf.for %{{.*}} = %{{.*}} to %c28{{.*}} step %c1
// CHECK-COUNT-72: amx.tile_muli
// CHECK-NOT: amx.tile_muli
// CHECK: scf.if
!XL = tensor<1x14x14x2x4xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 256>>
!WL = tensor<64x3x3x2x4xi64, #bitserial.packed<bits = 2, encoding = signed, length = 256>>
func.func @l1_weights(%x: !XL, %w: !WL, %init: tensor<1x14x14x64xi32>) -> tensor<1x14x14x64xi32> {
  %r = bitserial.conv2d ins(%x, %w : !XL, !WL) outs(%init : tensor<1x14x14x64xi32>)
      strides = [1, 1] padding = [1, 1, 1, 1] -> tensor<1x14x14x64xi32>
  return %r : tensor<1x14x14x64xi32>
}

// -----

// 2 MB of weights (1024 x 2048 channels), rows of 15 pixels, i64
// results: with threads, tasks of 2 channel blocks (32 output channels)
// over all rows, whose weights stay in the cache.
// PAR-LABEL: func.func @big_weights
// PAR: scf.forall (%{{.*}}) in (32)
// PAR: memref.alloca() : memref<4x16x16xi32>
// PAR: tensor.extract_slice {{.*}} [1, 3, 15, 32]
// PAR: amx.tile_muli
// PAR: tensor.parallel_insert_slice
!XW = tensor<1x3x15x2x32xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 2048>>
!WW = tensor<1024x1x1x2x32xi64, #bitserial.packed<bits = 2, encoding = signed, length = 2048>>
func.func @big_weights(%x: !XW, %w: !WW, %init: tensor<1x3x15x1024xi64>) -> tensor<1x3x15x1024xi64> {
  %r = bitserial.conv2d ins(%x, %w : !XW, !WW) outs(%init : tensor<1x3x15x1024xi64>)
      strides = [1, 1] padding = [0, 0, 0, 0] -> tensor<1x3x15x1024xi64>
  return %r : tensor<1x3x15x1024xi64>
}

// -----

// A matmul is the 1 x 1 convolution of one row of M pixels: flat pixels
// decoded by the kernel from the packed lhs (40 rows: tiles at 0, 16 and
// 24), stored straight into the output buffer, collapsed back to [M, N].
// CHECK-LABEL: func.func @matmul
// CHECK: %[[CODES:.*]] = memref.alloca() {alignment = 64 : i64} : memref<64x128xi8>
// CHECK: tensor.expand_shape %{{.*}} {{\[\[}}0, 1, 2], [3], [4]] output_shape [3, 1, 1, 32, 64] : tensor<3x32x64xi8> into tensor<3x1x1x32x64xi8>
// CHECK: %[[WORDS:.*]] = bufferization.to_buffer %{{.*}} read_only : tensor<1x1x40x2x2xi64> to memref<1x1x40x2x2xi64, strided<[?, ?, ?, ?, 1], offset: ?>>
// CHECK: %[[OUT:.*]] = memref.alloc() {alignment = 64 : i64} : memref<1x1x40x48xi32>
// CHECK: %[[VIEW:.*]] = memref.collapse_shape %[[OUT]] {{\[\[}}0, 1, 2], [3]] : memref<1x1x40x48xi32> into memref<40x48xi32>
// CHECK: vector.load %[[WORDS]]
// CHECK: vector.store %{{.*}}, %[[CODES]]
// CHECK: amx.tile_load %[[CODES]]
// CHECK-COUNT-4: amx.tile_muli
// CHECK: amx.tile_store %[[VIEW]]
// CHECK: %[[RESULT:.*]] = bufferization.to_tensor %[[OUT]] restrict writable
// CHECK: tensor.collapse_shape %[[RESULT]] {{\[\[}}0, 1, 2], [3]] : tensor<1x1x40x48xi32> into tensor<40x48xi32>
!A = tensor<40x2x2xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 100>>
!B = tensor<48x2x2xi64, #bitserial.packed<bits = 2, encoding = signed, length = 100>>
func.func @matmul(%a: !A, %b: !B) -> tensor<40x48xi32> {
  %zero = arith.constant 0 : i32
  %empty = tensor.empty() : tensor<40x48xi32>
  %init = linalg.fill ins(%zero : i32) outs(%empty : tensor<40x48xi32>) -> tensor<40x48xi32>
  %r = bitserial.matmul ins(%a, %b : !A, !B) outs(%init : tensor<40x48xi32>) -> tensor<40x48xi32>
  return %r : tensor<40x48xi32>
}

// -----

// 1.6 MB of i8 weights (past a core's cache): the lhs decoded first, then
// channel groups outer (each block of weights read once) over the 2 pixel
// groups; with threads, a task per channel group.
// CHECK-LABEL: func.func @matmul_big_weights
// CHECK-NOT: memref.alloca
// CHECK: %[[LHS:.*]] = memref.collapse_shape %{{.*}} {{\[\[}}0, 1, 2], [3]] : memref<1x1x40x1024xi8> into memref<40x1024xi8>
// CHECK: scf.for %[[J:.*]] = %{{.*}} to %c100{{.*}} step
// CHECK: arith.remui %[[J]], %c2
// CHECK: arith.divui %[[J]], %c2
// CHECK: amx.tile_load %[[LHS]]
// PAR-LABEL: func.func @matmul_big_weights
// PAR: scf.forall (%{{.*}}) in (50) {
// PAR: scf.for %{{.*}} = %{{.*}} to %c2 step
// PAR: amx.tile_load
!A = tensor<40x2x16xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 1024>>
!B = tensor<1600x1x16xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 1024>>
func.func @matmul_big_weights(%a: !A, %b: !B) -> tensor<40x1600xi32> {
  %zero = arith.constant 0 : i32
  %empty = tensor.empty() : tensor<40x1600xi32>
  %init = linalg.fill ins(%zero : i32) outs(%empty : tensor<40x1600xi32>) -> tensor<40x1600xi32>
  %r = bitserial.matmul ins(%a, %b : !A, !B) outs(%init : tensor<40x1600xi32>) -> tensor<40x1600xi32>
  return %r : tensor<40x1600xi32>
}

// -----

// Matmuls of fewer than 16 rows or with batches, dynamic shapes and
// reductions of more than 128 steps of 64 values are left to the other
// lowerings.
// CHECK-LABEL: func.func @not_handled
// CHECK-NOT: amx.
// CHECK: bitserial.matmul
// CHECK: bitserial.matmul
// CHECK: bitserial.conv2d
// CHECK: bitserial.conv2d
!A = tensor<8x2x2xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 100>>
!B = tensor<16x2x2xi64, #bitserial.packed<bits = 2, encoding = signed, length = 100>>
!AB = tensor<2x32x2x2xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 100>>
!XD = tensor<1x?x8x2x1xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 64>>
!WD = tensor<16x3x3x2x1xi64, #bitserial.packed<bits = 2, encoding = signed, length = 64>>
!XL = tensor<1x3x3x2x129xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 8200>>
!WL = tensor<16x1x1x2x129xi64, #bitserial.packed<bits = 2, encoding = signed, length = 8200>>
func.func @not_handled(%a: !A, %b: !B, %i0: tensor<8x16xi32>, %ab: !AB, %i3: tensor<2x32x16xi32>, %xd: !XD, %wd: !WD, %i1: tensor<1x?x6x16xi32>, %xl: !XL, %wl: !WL, %i2: tensor<1x3x3x16xi32>) -> (tensor<8x16xi32>, tensor<2x32x16xi32>, tensor<1x?x6x16xi32>, tensor<1x3x3x16xi32>) {
  %r0 = bitserial.matmul ins(%a, %b : !A, !B) outs(%i0 : tensor<8x16xi32>) -> tensor<8x16xi32>
  %r3 = bitserial.matmul ins(%ab, %b : !AB, !B) outs(%i3 : tensor<2x32x16xi32>) -> tensor<2x32x16xi32>
  %r1 = bitserial.conv2d ins(%xd, %wd : !XD, !WD) outs(%i1 : tensor<1x?x6x16xi32>)
      strides = [1, 1] padding = [0, 0, 0, 0] -> tensor<1x?x6x16xi32>
  %r2 = bitserial.conv2d ins(%xl, %wl : !XL, !WL) outs(%i2 : tensor<1x3x3x16xi32>)
      strides = [1, 1] padding = [0, 0, 0, 0] -> tensor<1x3x3x16xi32>
  return %r0, %r3, %r1, %r2 : tensor<8x16xi32>, tensor<2x32x16xi32>, tensor<1x?x6x16xi32>, tensor<1x3x3x16xi32>
}
