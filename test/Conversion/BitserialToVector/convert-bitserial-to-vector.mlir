// RUN: bitserial-opt %s -split-input-file --convert-bitserial-to-vector="fit-register-block=false" --canonicalize | FileCheck %s
// RUN: bitserial-opt %s -split-input-file --convert-bitserial-to-vector="vector-bits=512 word-popcount=true pixel-block=2 channel-block=3 fit-register-block=false" --canonicalize | FileCheck %s --check-prefix=VPOPCNT
// RUN: bitserial-opt %s -split-input-file --convert-bitserial-to-vector --canonicalize | FileCheck %s --check-prefix=FIT
// RUN: bitserial-opt %s -split-input-file --convert-bitserial-to-vector="parallel=true" --canonicalize | FileCheck %s --check-prefix=SMALL
// RUN: not bitserial-opt %s -split-input-file --convert-bitserial-to-vector="word-popcount=true nibble-lookup=true" 2>&1 | FileCheck %s --check-prefix=EXCLUSIVE
// EXCLUSIVE: error: word-popcount and nibble-lookup are mutually exclusive
// RUN: not bitserial-opt %s -split-input-file --convert-bitserial-to-vector="vector-bits=4096" 2>&1 | FileCheck %s --check-prefix=BITS
// BITS: error: vector-bits must be 128, 256 or 512, got 4096
// BITS-NOT: see current operation
// RUN: not bitserial-opt %s -split-input-file --convert-bitserial-to-vector="pixel-block=100000" 2>&1 | FileCheck %s --check-prefix=BLOCK
// RUN: not bitserial-opt %s -split-input-file --convert-bitserial-to-vector="pixel-block=4 channel-block=8" 2>&1 | FileCheck %s --check-prefix=BLOCK
// RUN: not bitserial-opt %s -split-input-file --convert-bitserial-to-vector="pixel-block=4294967296 channel-block=4294967296" 2>&1 | FileCheck %s --check-prefix=BLOCK
// BLOCK: error: pixel-block and channel-block must be positive with a product of at most 16, got {{[0-9]+}} and {{[0-9]+}}

// A matmul is a 1x1 convolution over a 1 x M image. Register block: 4 rows
// x 2 vectors of 4 columns = 8 accumulators. Each step broadcasts one lhs
// word per row, loads one word of 4 columns from the re-laid-out rhs, ANDs
// and counts bits on i8 lanes; bytes widen to i64 lanes after the reduction
// (K = 2 words, well under 31 steps).
// The kernel updates init in place: no tensor of the result's shape is
// created, the output blocks are read and written in the loops' iter_args.
// CHECK-LABEL: func.func @matmul_unsigned_bipolar
// CHECK-SAME: %[[INIT:[^:]*]]: tensor<10x16xi32>
// CHECK: %[[IMAGE:.*]] = tensor.expand_shape %[[INIT]]
// CHECK-NOT: tensor.empty() : tensor<1x1x10x16xi32>
// The kernel's input: loops over columns, planes and words (rows and the
// batch are 1). The 10 columns read copy without a bounds check; a second
// loop zeroes the 3 columns that the last block reads past them.
// CHECK: %[[READ:.*]] = scf.for %[[C:[^ ]*]] = %c0 to %c10 step %c1 iter_args({{.*}}) -> (tensor<1x1x13x2x2xi64>)
// CHECK-NEXT: scf.for
// CHECK-NEXT: scf.for
// CHECK-NEXT: tensor.extract %{{.*}}[%c0, %c0, %[[C]], %{{.*}}, %{{.*}}] : tensor<1x1x10x2x2xi64>
// CHECK-NEXT: tensor.insert
// CHECK: %[[INPUT:.*]] = scf.for %{{.*}} = %c10 to %c13 step %c1 iter_args(%{{.*}} = %[[READ]]) -> (tensor<1x1x13x2x2xi64>)
// CHECK-NEXT: scf.for
// CHECK-NEXT: scf.for
// CHECK-NEXT: tensor.insert %c0_i64
// The filter's relayout: loops over blocks of 4 channels and words, one
// vector of the 4 channels' words per store.
// CHECK: %[[RELAID:.*]] = scf.for {{.*}} -> (tensor<4x1x1x1x2x4xi64>)
// CHECK: scf.for
// CHECK-COUNT-4: tensor.extract %{{.*}} : tensor<16x1x1x1x2xi64>
// CHECK-NEXT: vector.from_elements
// CHECK-NEXT: vector.transfer_write {{.*}} {in_bounds = [true]} : vector<4xi64>, tensor<4x1x1x1x2x4xi64>
// CHECK: %[[COUNTS:.*]] = scf.for {{.*}} -> (tensor<1x1x13xi64>)
// CHECK-NOT: tensor.empty() : tensor<1x1x10x16xi32>
// CHECK: scf.for %[[ROW:[^ ]*]] = %c0 to %c10 step %c4 iter_args(%{{.*}} = %[[IMAGE]])
// CHECK: scf.for %[[COL:[^ ]*]] = %c0 to %c4 step %c2 iter_args(%[[OUTPUT:[^ ]*]] = %{{.*}})
// CHECK: scf.for {{.*}} -> (vector<4xi64>, vector<4xi64>, vector<4xi64>, vector<4xi64>, vector<4xi64>, vector<4xi64>, vector<4xi64>, vector<4xi64>)
// CHECK: scf.for {{.*}} -> (vector<32xi8>, vector<32xi8>, vector<32xi8>, vector<32xi8>, vector<32xi8>, vector<32xi8>, vector<32xi8>, vector<32xi8>)
// CHECK: %[[WORD:.*]] = tensor.extract %[[INPUT]][%c0, %c0, %[[ROW]], %{{.*}}, %{{.*}}] : tensor<1x1x13x2x2xi64>
// CHECK: %[[ROWS:.*]] = vector.broadcast %[[WORD]] : i64 to vector<4xi64>
// CHECK: %[[COLS:.*]] = vector.transfer_read %[[RELAID]][%[[COL]], %c0, %c0, %c0, %{{.*}}, %c0], %{{.*}} {in_bounds = [true]} : tensor<4x1x1x1x2x4xi64>, vector<4xi64>
// CHECK: %[[AND:.*]] = arith.andi %[[ROWS]], %[[COLS]] : vector<4xi64>
// CHECK: %[[BYTES:.*]] = vector.bitcast %[[AND]] : vector<4xi64> to vector<32xi8>
// CHECK: %[[COUNT:.*]] = math.ctpop %[[BYTES]] : vector<32xi8>
// CHECK: arith.addi %{{.*}}, %[[COUNT]] : vector<32xi8>
// CHECK-COUNT-7: math.ctpop %{{.*}} : vector<32xi8>
// CHECK: scf.yield
// CHECK: vector.shape_cast %{{.*}} : vector<32xi8> to vector<4x8xi8>
// CHECK: arith.extui %{{.*}} : vector<4x8xi8> to vector<4x8xi64>
// CHECK: vector.multi_reduction <add>, %{{.*}} [1] : vector<4x8xi64> to vector<4xi64>
// Plane weights (+-2^e) after widening: a shift, no 64-bit lane multiply;
// then the bipolar-weight correction per row.
// CHECK: %[[SHIFT:.*]] = vector.broadcast %{{.*}} : i64 to vector<4xi64>
// CHECK: arith.shli %{{.*}}, %[[SHIFT]] : vector<4xi64>
// CHECK-NOT: arith.muli {{.*}} : vector<4xi64>
// CHECK: tensor.extract %[[COUNTS]]
// CHECK: arith.trunci %{{.*}} : vector<4xi64> to vector<4xi32>
// CHECK: vector.transfer_read %[[OUTPUT]]{{.*}} : tensor<1x1x10x16xi32>, vector<4xi32>
// CHECK: vector.create_mask
// CHECK: vector.transfer_write %{{.*}}, %[[OUTPUT]]{{.*}} : vector<4xi32>, tensor<1x1x10x16xi32>
// CHECK: tensor.collapse_shape %{{.*}} {{\[\[}}0, 1, 2], [3]] : tensor<1x1x10x16xi32> into tensor<10x16xi32>

// VPOPCNT-LABEL: func.func @matmul_unsigned_bipolar
// VPOPCNT: scf.for {{.*}} -> (vector<8xi64>, vector<8xi64>, vector<8xi64>, vector<8xi64>, vector<8xi64>, vector<8xi64>)
// VPOPCNT-NOT: vector<64xi8>
// VPOPCNT: %[[AND:.*]] = arith.andi %{{.*}}, %{{.*}} : vector<8xi64>
// VPOPCNT: math.ctpop %[[AND]] : vector<8xi64>
// VPOPCNT-NOT: vector.multi_reduction
// VPOPCNT: return
!A = tensor<10x2x2xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 100>>
!B = tensor<16x1x2xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 100>>
func.func @matmul_unsigned_bipolar(%a: !A, %b: !B, %init: tensor<10x16xi32>) -> tensor<10x16xi32> {
  %r = bitserial.matmul ins(%a, %b : !A, !B) outs(%init : tensor<10x16xi32>) -> tensor<10x16xi32>
  return %r : tensor<10x16xi32>
}

// -----

// K = 4096 bits = 64 words > 31 steps: the word loop is split into chunks of
// 31 words, widening after each chunk.
// CHECK-LABEL: func.func @matmul_long_k
// CHECK: scf.for %[[CHUNK:.*]] = %c0 to %c64 step %c31 iter_args({{.*}}) -> (vector<4xi64>
// CHECK: %[[END:.*]] = arith.minsi
// CHECK: scf.for %{{.*}} = %[[CHUNK]] to %[[END]] step %c1 iter_args({{.*}}) -> (vector<32xi8>
// CHECK: vector.multi_reduction
!A = tensor<4x1x64xi64, #bitserial.packed<bits = 1, encoding = unsigned, length = 4096>>
!B = tensor<8x1x64xi64, #bitserial.packed<bits = 1, encoding = unsigned, length = 4096>>
func.func @matmul_long_k(%a: !A, %b: !B, %init: tensor<4x8xi32>) -> tensor<4x8xi32> {
  %r = bitserial.matmul ins(%a, %b : !A, !B) outs(%init : tensor<4x8xi32>) -> tensor<4x8xi32>
  return %r : tensor<4x8xi32>
}

// -----

// A padded bipolar conv: zero words around the input (plus room for the last
// pixel block: 6 + 1 + 1 rows, 7 + 1 + 1 + 3 columns), steps that count
// XOR'ed words (S), and the filter's tap terms (W) summed per class of
// output row and column: the first and the last row (column) have taps
// outside, the others share one class, so 3 x 3 classes. The epilogue (of
// whole blocks, then of the masked tail) computes W - 2 S from one vector of
// that table per pixel and channel vector, no per-tap masks, and no
// activation counts.
// With parallel=true and the default min-parallel-binops (2^24) a layer
// this small (1 x 6 x 7 x 10 outputs x 360 bit pairs) stays on one thread.
// SMALL-LABEL: func.func @conv2d_bipolar_padded
// SMALL-NOT: scf.forall
// SMALL: return
// CHECK-LABEL: func.func @conv2d_bipolar_padded
// CHECK: scf.for {{.*}} -> (tensor<1x8x12x1x1xi64>)
// CHECK: %[[ROW:.*]] = arith.subi %{{.*}}, %c1 : index
// CHECK: arith.cmpi ult, %[[ROW]], %c6 : index
// 10 channels in blocks of 4: lanes past CO read channel 0 and store zero.
// CHECK: scf.for {{.*}} -> (tensor<4x3x3x1x1x4xi64>)
// CHECK: %[[CO:.*]] = arith.muli %{{.*}}, %c4 : index
// CHECK: %[[IN:.*]] = arith.cmpi ult, %[[CO]], %c10 : index
// CHECK: %[[CLAMPED:.*]] = arith.select %[[IN]], %[[CO]], %c0 : index
// CHECK: %[[W:.*]] = tensor.extract %{{.*}}[%[[CLAMPED]], {{.*}}] : tensor<10x3x3x1x1xi64>
// CHECK: arith.select %[[IN]], %[[W]], %c0_i64 : i64
// CHECK: %[[TAPS:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<10x3x3xi64>)
// CHECK: %[[CLASSES:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<3x3x4x4xi64>)
// CHECK: tensor.extract %[[TAPS]]
// CHECK-NOT: math.ctpop %{{.*}} : vector<8xi64>
// CHECK: scf.for
// CHECK: arith.xori %{{.*}} : vector<4xi64>
// CHECK-NOT: arith.andi %{{.*}} : vector<4xi64>
// CHECK: math.ctpop %{{.*}} : vector<32xi8>
// A whole block with i32 results computes W - 2 S in 64-bit lanes, then
// takes the low halves of a pixel's two channel vectors in one shuffle: its
// 8 channels, added to and stored as one vector<8xi32>.
// CHECK: %[[TERM:.*]] = vector.transfer_read %[[CLASSES]][%{{.*}}, %{{.*}}, %{{.*}}, %c0]
// CHECK: %[[TERM1:.*]] = vector.transfer_read %[[CLASSES]]
// CHECK: %[[TWICE0:.*]] = arith.shli %{{.*}}, %[[ONE:.*]] : vector<4xi64>
// CHECK-NEXT: %[[SUM0:.*]] = arith.subi %[[TERM]], %[[TWICE0]] : vector<4xi64>
// CHECK-NEXT: %[[HALVES0:.*]] = vector.bitcast %[[SUM0]] : vector<4xi64> to vector<8xi32>
// CHECK-NEXT: %[[TWICE1:.*]] = arith.shli %{{.*}}, %[[ONE]] : vector<4xi64>
// CHECK-NEXT: %[[SUM1:.*]] = arith.subi %[[TERM1]], %[[TWICE1]] : vector<4xi64>
// CHECK-NEXT: %[[HALVES1:.*]] = vector.bitcast %[[SUM1]] : vector<4xi64> to vector<8xi32>
// CHECK-NEXT: vector.shuffle %[[HALVES0]], %[[HALVES1]] [0, 2, 4, 6, 8, 10, 12, 14] : vector<8xi32>, vector<8xi32>
// CHECK-NOT: arith.trunci {{.*}} : vector
// CHECK-COUNT-6: vector.transfer_read %[[CLASSES]]
// CHECK-NOT: arith.trunci {{.*}} : vector
// CHECK: vector.transfer_write {{.*}} {in_bounds = [true]} : vector<8xi32>, tensor<1x6x7x10xi32>
// CHECK: } else {
// CHECK-COUNT-8: vector.transfer_read %[[CLASSES]]
// CHECK-NOT: vector.transfer_read %[[CLASSES]]
// CHECK: vector.create_mask
!X = tensor<1x6x7x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 40>>
!F = tensor<10x3x3x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 40>>
func.func @conv2d_bipolar_padded(%x: !X, %f: !F, %init: tensor<1x6x7x10xi32>) -> tensor<1x6x7x10xi32> {
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%init : tensor<1x6x7x10xi32>) padding = [1, 1, 1, 1] -> tensor<1x6x7x10xi32>
  return %r : tensor<1x6x7x10xi32>
}

// -----

// With a constant filter the table of tap terms is a constant too: each tap
// inside the input adds K = 40, each tap outside 2 popcount (its zero
// activations' XOR counts the filter word): channel 0 (words 0) 40 per tap
// inside, channel 1 (words 0xff) also 16 per tap outside. The classes have
// 2 x 2, 2 x 3 and 3 x 3 taps inside (5, 3 and 0 outside). Nothing is left
// to compute per call but the kernel: no activation counts.
// CHECK-LABEL: func.func @conv2d_bipolar_constant_filter
// CHECK: arith.constant dense<{{\[}}{{\[}}{{\[}}[160, 240, 0, 0], [0, 0, 0, 0]], {{\[}}[160, 240, 0, 0], [0, 0, 0, 0]], {{\[}}[240, 288, 0, 0], [0, 0, 0, 0]]], {{\[}}{{\[}}[160, 240, 0, 0], [0, 0, 0, 0]], {{\[}}[160, 240, 0, 0], [0, 0, 0, 0]], {{\[}}[240, 288, 0, 0], [0, 0, 0, 0]]], {{\[}}{{\[}}[240, 288, 0, 0], [0, 0, 0, 0]], {{\[}}[240, 288, 0, 0], [0, 0, 0, 0]], {{\[}}[360, 360, 0, 0], [0, 0, 0, 0]]]]> : tensor<3x3x2x4xi64>
// CHECK-NOT: math.ctpop %{{.*}} : vector<8xi64>
// CHECK-NOT: linalg.generic
// CHECK: return
!X = tensor<1x6x7x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 40>>
!F = tensor<2x3x3x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 40>>
func.func @conv2d_bipolar_constant_filter(%x: !X, %init: tensor<1x6x7x2xi32>) -> tensor<1x6x7x2xi32> {
  %f = arith.constant dense<[[[[[0]], [[0]], [[0]]], [[[0]], [[0]], [[0]]], [[[0]], [[0]], [[0]]]], [[[[255]], [[255]], [[255]]], [[[255]], [[255]], [[255]]], [[[255]], [[255]], [[255]]]]]> : !F
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%init : tensor<1x6x7x2xi32>) padding = [1, 1, 1, 1] -> tensor<1x6x7x2xi32>
  return %r : tensor<1x6x7x2xi32>
}

// -----

// Unsigned activations with a constant bipolar filter: the weights' term
// needs the activation counts, computed per call: per pixel (8 pixels'
// words, one word each, per vector), then their 3 x 3 window sums as
// vectors of 8 columns; the steps count a & w.
// CHECK-LABEL: func.func @conv2d_unsigned_bipolar_filter
// CHECK: %[[ROWS:.*]] = tensor.collapse_shape %{{.*}} {{\[}}[0], [1], [2, 3, 4]] : tensor<1x8x12x1x1xi64> into tensor<1x8x12xi64>
// CHECK: vector.transfer_read %[[ROWS]]{{.*}} : tensor<1x8x12xi64>, vector<8xi64>
// CHECK: math.ctpop %{{.*}} : vector<8xi64>
// CHECK: scf.for {{.*}} -> (tensor<1x6x7xi64>)
// CHECK-COUNT-9: vector.transfer_read {{.*}} : tensor<1x8x12xi64>, vector<8xi64>
// CHECK-NOT: linalg.generic
// CHECK: arith.andi %{{.*}}, %{{.*}} : vector<4xi64>
// CHECK: return
!X = tensor<1x6x7x1x1xi64, #bitserial.packed<bits = 1, encoding = unsigned, length = 40>>
!F = tensor<2x3x3x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 40>>
func.func @conv2d_unsigned_bipolar_filter(%x: !X, %init: tensor<1x6x7x2xi32>) -> tensor<1x6x7x2xi32> {
  %f = arith.constant dense<[[[[[0]], [[0]], [[0]]], [[[0]], [[0]], [[0]]], [[[0]], [[0]], [[0]]]], [[[[255]], [[255]], [[255]]], [[[255]], [[255]], [[255]]], [[[255]], [[255]], [[255]]]]]> : !F
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%init : tensor<1x6x7x2xi32>) padding = [1, 1, 1, 1] -> tensor<1x6x7x2xi32>
  return %r : tensor<1x6x7x2xi32>
}

// -----

// A 1x1 window reads one input row and column per output pixel: the kernel's
// input keeps only those (row 2 * oh - 1, column 2 * ow - 1), 5 x (5 + 3)
// pixels, and the kernel steps through them with stride 1.
// CHECK-LABEL: func.func @conv2d_1x1_strided
// CHECK: %[[INPUT:.*]] = scf.for %[[OH:[^ ]*]] = {{.*}} -> (tensor<1x5x8x1x1xi64>)
// CHECK: %[[SCALED:.*]] = arith.muli %[[OH]], %c2 : index
// CHECK: arith.subi %[[SCALED]], %c1 : index
// Column 0 reads the padding, columns 1-4 read input columns 1, 3, 5, 7
// (only the row is checked), columns 5-7 are room for the last block.
// CHECK: %[[LEFT:.*]] = tensor.insert %c0_i64 into %{{.*}}[%c0, %[[OH]], %c0, %c0, %c0]
// CHECK: %[[READ:.*]] = scf.for %[[OW:[^ ]*]] = %c1 to %c5 step %c1 iter_args(%{{.*}} = %[[LEFT]])
// CHECK: %[[SOURCE:.*]] = arith.muli %[[OW]], %c2 : index
// CHECK: %[[COLUMN:.*]] = arith.subi %[[SOURCE]], %c1 : index
// CHECK: tensor.extract %{{.*}}[%c0, %{{.*}}, %[[COLUMN]], %c0, %c0] : tensor<1x8x9x1x1xi64>
// CHECK: scf.for %{{.*}} = %c5 to %c8 step %c1 iter_args(%{{.*}} = %[[READ]])
// CHECK-NEXT: tensor.insert %c0_i64
// CHECK: scf.for %[[ROW:.*]] = %c0 to %c5 step %c1
// CHECK: scf.for %[[COL:.*]] = %c0 to %c5 step %c4
// CHECK: tensor.extract %[[INPUT]][%{{.*}}, %[[ROW]], %[[COL]], %{{.*}}, %{{.*}}] : tensor<1x5x8x1x1xi64>
!X = tensor<1x8x9x1x1xi64, #bitserial.packed<bits = 1, encoding = unsigned, length = 40>>
!F = tensor<8x1x1x1x1xi64, #bitserial.packed<bits = 1, encoding = unsigned, length = 40>>
func.func @conv2d_1x1_strided(%x: !X, %f: !F, %init: tensor<1x5x5x8xi32>) -> tensor<1x5x5x8xi32> {
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%init : tensor<1x5x5x8xi32>) strides = [2, 2] padding = [1, 0, 1, 0] -> tensor<1x5x5x8xi32>
  return %r : tensor<1x5x5x8xi32>
}

// -----

// nibble-lookup=true: a plane pair of this 3x3 conv reduces over 9 steps, so
// the kernel's input holds the low and high nibbles of every word
// ((x >> 4h) & 0x0f0f..., last dimension) and the filter `w` and `w >> 4`
// (the dimension before the lanes). A step ANDs both halves and counts
// bytes marked `bitserial.low_nibbles` (every byte < 16), for a table
// lookup by bitserial-x86-byte-counts.
// RUN: bitserial-opt %s -split-input-file --convert-bitserial-to-vector="nibble-lookup=true fit-register-block=false" --canonicalize | FileCheck %s --check-prefix=NIBBLE
// NIBBLE-LABEL: func.func @conv2d_nibbles
// NIBBLE: %[[INPUT:.*]] = scf.for {{.*}} -> (tensor<1x8x12x2x1x2xi64>)
// NIBBLE: arith.andi %{{.*}}, %c1085102592571150095_i64 : i64
// NIBBLE: arith.shrui
// NIBBLE: arith.andi %{{.*}}, %c1085102592571150095_i64 : i64
// NIBBLE: %[[RELAID:.*]] = scf.for {{.*}} -> (tensor<4x3x3x2x1x2x4xi64>)
// NIBBLE: vector.transfer_write {{.*}}, %c0, %c0] {in_bounds = [true]} : vector<4xi64>
// NIBBLE-COUNT-4: arith.shrui %{{.*}}, %c4_i64 : i64
// NIBBLE: vector.transfer_write {{.*}}, %c1, %c0] {in_bounds = [true]} : vector<4xi64>
// NIBBLE: tensor.extract %[[INPUT]][{{.*}}, %c0] : tensor<1x8x12x2x1x2xi64>
// NIBBLE: vector.transfer_read %[[RELAID]][{{.*}}, %c0, %c0]
// NIBBLE: math.ctpop %{{.*}} {bitserial.low_nibbles} : vector<32xi8>
// NIBBLE-COUNT-7: math.ctpop %{{.*}} {bitserial.low_nibbles} : vector<32xi8>
// NIBBLE: tensor.extract %[[INPUT]][{{.*}}, %c1] : tensor<1x8x12x2x1x2xi64>
// NIBBLE: vector.transfer_read %[[RELAID]][{{.*}}, %c1, %c0]
// NIBBLE-COUNT-8: math.ctpop %{{.*}} {bitserial.low_nibbles} : vector<32xi8>
// NIBBLE: vector.multi_reduction
!X = tensor<1x6x7x2x1xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 40>>
!F = tensor<10x3x3x2x1xi64, #bitserial.packed<bits = 2, encoding = signed, length = 40>>
func.func @conv2d_nibbles(%x: !X, %f: !F, %init: tensor<1x6x7x10xi32>) -> tensor<1x6x7x10xi32> {
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%init : tensor<1x6x7x10xi32>) padding = [1, 1, 1, 1] -> tensor<1x6x7x10xi32>
  return %r : tensor<1x6x7x10xi32>
}

// -----

// A plane pair of a 1x1 conv over one word takes one step: below the default
// min-nibble-steps (8) the kernel counts whole bytes; with min-nibble-steps=1
// (the x86-avx2 target's) it splits.
// RUN: bitserial-opt %s -split-input-file --convert-bitserial-to-vector="nibble-lookup=true min-nibble-steps=1" --canonicalize | FileCheck %s --check-prefix=NIBBLE1
// NIBBLE-LABEL: func.func @negative_nibbles_short_reduction
// NIBBLE-NOT: bitserial.low_nibbles
// NIBBLE: math.ctpop %{{.*}} : vector<32xi8>
// NIBBLE-NOT: bitserial.low_nibbles
// NIBBLE: return
// NIBBLE1-LABEL: func.func @negative_nibbles_short_reduction
// NIBBLE1: math.ctpop %{{.*}} {bitserial.low_nibbles} : vector<32xi8>
!X = tensor<1x6x7x2x1xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 40>>
!F = tensor<10x1x1x2x1xi64, #bitserial.packed<bits = 2, encoding = signed, length = 40>>
func.func @negative_nibbles_short_reduction(%x: !X, %f: !F, %init: tensor<1x6x7x10xi32>) -> tensor<1x6x7x10xi32> {
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%init : tensor<1x6x7x10xi32>) -> tensor<1x6x7x10xi32>
  return %r : tensor<1x6x7x10xi32>
}

// -----

// A matmul with M = 1 uses each filter word once: split filters would double
// the bytes it streams, so it counts whole bytes even over 9 words. With
// M = 2 the filter is reused and split.
// NIBBLE-LABEL: func.func @negative_nibbles_one_pixel
// NIBBLE-NOT: bitserial.low_nibbles
// NIBBLE: math.ctpop %{{.*}} : vector<32xi8>
// NIBBLE-NOT: bitserial.low_nibbles
// NIBBLE: return
// NIBBLE1-LABEL: func.func @negative_nibbles_one_pixel
// NIBBLE1-NOT: bitserial.low_nibbles
// NIBBLE1: return
// NIBBLE-LABEL: func.func @nibbles_two_pixels
// NIBBLE: math.ctpop %{{.*}} {bitserial.low_nibbles} : vector<32xi8>
!A1 = tensor<1x1x9xi64, #bitserial.packed<bits = 1, encoding = unsigned, length = 576>>
!A2 = tensor<2x1x9xi64, #bitserial.packed<bits = 1, encoding = unsigned, length = 576>>
!B = tensor<16x1x9xi64, #bitserial.packed<bits = 1, encoding = unsigned, length = 576>>
func.func @negative_nibbles_one_pixel(%a: !A1, %b: !B, %init: tensor<1x16xi32>) -> tensor<1x16xi32> {
  %r = bitserial.matmul ins(%a, %b : !A1, !B) outs(%init : tensor<1x16xi32>) -> tensor<1x16xi32>
  return %r : tensor<1x16xi32>
}
func.func @nibbles_two_pixels(%a: !A2, %b: !B, %init: tensor<2x16xi32>) -> tensor<2x16xi32> {
  %r = bitserial.matmul ins(%a, %b : !A2, !B) outs(%init : tensor<2x16xi32>) -> tensor<2x16xi32>
  return %r : tensor<2x16xi32>
}

// -----

// A dynamic number of output channels (say a tile of CO that does not divide
// it): the number of channel vectors is computed at run time (rounded up to
// the channel block), and the channel tail is masked as for a static CO.
// CHECK-LABEL: func.func @conv2d_dynamic_channels
// CHECK: %[[CO:.*]] = tensor.dim %{{.*}}, %c0 : tensor<?x3x3x1x1xi64>
// CHECK: %[[VECTORS:.*]] = arith.ceildivui %[[CO]], %c4 : index
// CHECK: %[[GROUPS:.*]] = arith.ceildivui %[[VECTORS]], %c2 : index
// CHECK: %[[BLOCKS:.*]] = arith.muli %[[GROUPS]], %c2 : index
// CHECK: tensor.empty(%[[BLOCKS]]) : tensor<?x3x3x1x1x4xi64>
// CHECK: arith.cmpi ult, %{{.*}}, %[[CO]] : index
// CHECK: scf.for %{{.*}} = %c0 to %[[BLOCKS]] step %c2
// CHECK: math.ctpop %{{.*}} : vector<32xi8>
!X = tensor<1x6x7x1x1xi64, #bitserial.packed<bits = 1, encoding = unsigned, length = 40>>
!F = tensor<?x3x3x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 40>>
func.func @conv2d_dynamic_channels(%x: !X, %f: !F, %init: tensor<1x4x5x?xi32>) -> tensor<1x4x5x?xi32> {
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%init : tensor<1x4x5x?xi32>) -> tensor<1x4x5x?xi32>
  return %r : tensor<1x4x5x?xi32>
}

// -----

// By default the register block is fitted to the op: the target's 4 x 2
// accumulators would compute 8 pixels per 7-pixel row (2 blocks); 7 pixels
// x 1 vector (7 accumulators) computes no padded pixel. For a 14-pixel row,
// 2 pixels x 4 vectors (8 accumulators, 32 channels).
// (The one pixel block of a row folds away.)
// FIT-LABEL: func.func @fit_seven_pixel_rows
// FIT: scf.for %{{.*}} = %c0 to %c7 step %c1
// FIT-NEXT: scf.for %{{.*}} = %c0 to %c16 step %c1
// FIT-NEXT: scf.for {{.*}} -> (vector<32xi8>, vector<32xi8>, vector<32xi8>, vector<32xi8>, vector<32xi8>, vector<32xi8>, vector<32xi8>)
// FIT-LABEL: func.func @fit_fourteen_pixel_rows
// FIT: scf.for %{{.*}} = %c0 to %c14 step %c2
// FIT-NEXT: scf.for %{{.*}} = %c0 to %c16 step %c4
// FIT-NEXT: scf.for {{.*}} -> (vector<32xi8>, vector<32xi8>, vector<32xi8>, vector<32xi8>, vector<32xi8>, vector<32xi8>, vector<32xi8>, vector<32xi8>)
!X = tensor<1x7x7x1x1xi64, #bitserial.packed<bits = 1, encoding = unsigned, length = 64>>
!F = tensor<64x3x3x1x1xi64, #bitserial.packed<bits = 1, encoding = unsigned, length = 64>>
func.func @fit_seven_pixel_rows(%x: !X, %f: !F, %init: tensor<1x7x7x64xi32>) -> tensor<1x7x7x64xi32> {
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%init : tensor<1x7x7x64xi32>) padding = [1, 1, 1, 1] -> tensor<1x7x7x64xi32>
  return %r : tensor<1x7x7x64xi32>
}
!X2 = tensor<1x14x14x1x1xi64, #bitserial.packed<bits = 1, encoding = unsigned, length = 64>>
func.func @fit_fourteen_pixel_rows(%x: !X2, %f: !F, %init: tensor<1x14x14x64xi32>) -> tensor<1x14x14x64xi32> {
  %r = bitserial.conv2d ins(%x, %f : !X2, !F) outs(%init : tensor<1x14x14x64xi32>) padding = [1, 1, 1, 1] -> tensor<1x14x14x64xi32>
  return %r : tensor<1x14x14x64xi32>
}

// -----

// Words other than i64 keep the reference lowering.
// CHECK-LABEL: func.func @negative_conv2d_i32_words
// CHECK-NOT: vector.
// CHECK: linalg.generic
// CHECK-NOT: vector.
// CHECK: return
!X = tensor<1x6x7x1x2xi32, #bitserial.packed<bits = 1, encoding = unsigned, length = 40>>
!F = tensor<10x3x3x1x2xi32, #bitserial.packed<bits = 1, encoding = unsigned, length = 40>>
func.func @negative_conv2d_i32_words(%x: !X, %f: !F, %init: tensor<1x4x5x10xi32>) -> tensor<1x4x5x10xi32> {
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%init : tensor<1x4x5x10xi32>) -> tensor<1x4x5x10xi32>
  return %r : tensor<1x4x5x10xi32>
}

// -----

// Batched weights keep the reference lowering.
// CHECK-LABEL: func.func @negative_matmul_batched_rhs
// CHECK-NOT: vector.
// CHECK: return
!A = tensor<2x4x1x1xi64, #bitserial.packed<bits = 1, encoding = unsigned, length = 40>>
!B = tensor<2x8x1x1xi64, #bitserial.packed<bits = 1, encoding = unsigned, length = 40>>
func.func @negative_matmul_batched_rhs(%a: !A, %b: !B, %init: tensor<2x4x8xi32>) -> tensor<2x4x8xi32> {
  %r = bitserial.matmul ins(%a, %b : !A, !B) outs(%init : tensor<2x4x8xi32>) -> tensor<2x4x8xi32>
  return %r : tensor<2x4x8xi32>
}

// -----

// With parallel=true, an scf.forall over (n, oh, part) writes slices of the
// shared output: a part is a run of channel block steps of one row (here 2
// steps of 2 vectors of 4 channels, so 2 parts: channels [0, 8) and
// [8, min(16, 10))). The prologue's copy of the padded input is an
// scf.forall too, however small (see below).
// RUN: bitserial-opt %s -split-input-file --convert-bitserial-to-vector="parallel=true min-parallel-binops=0 fit-register-block=false" --canonicalize | FileCheck %s --check-prefix=PARALLEL
// PARALLEL-LABEL: func.func @conv2d_parallel_rows
// PARALLEL: scf.forall (%{{.*}}, %{{.*}}) in (2, 8) shared_outs(%{{.*}}) -> (tensor<2x8x12x1x1xi64>)
// PARALLEL: scf.forall (%[[N:.*]], %[[OH:.*]], %[[PART:.*]]) in (2, 6, 2) shared_outs(%[[OUT:.*]] = %{{.*}}) -> (tensor<2x6x7x10xi32>)
// PARALLEL: arith.muli %[[PART]], %c2 : index
// PARALLEL: %[[LAST:.*]] = arith.minui %{{.*}}, %c10 : index
// PARALLEL: %[[CHANNELS:.*]] = arith.subi %[[LAST]], %[[OFFSET:.*]] : index
// PARALLEL: %[[ROW:.*]] = tensor.extract_slice %[[OUT]][%[[N]], %[[OH]], 0, %[[OFFSET]]] [1, 1, 7, %[[CHANNELS]]] [1, 1, 1, 1]
// PARALLEL: scf.for {{.*}} iter_args(%{{.*}} = %[[ROW]]) -> (tensor<1x1x7x?xi32>)
// PARALLEL: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c2 iter_args
// PARALLEL: scf.forall.in_parallel
// PARALLEL: tensor.parallel_insert_slice %{{.*}} into %[[OUT]][%[[N]], %[[OH]], 0, %[[OFFSET]]] [1, 1, 7, %[[CHANNELS]]] [1, 1, 1, 1]
!X = tensor<2x6x7x1x1xi64, #bitserial.packed<bits = 1, encoding = unsigned, length = 40>>
!F = tensor<10x3x3x1x1xi64, #bitserial.packed<bits = 1, encoding = unsigned, length = 40>>
func.func @conv2d_parallel_rows(%x: !X, %f: !F, %init: tensor<2x6x7x10xi32>) -> tensor<2x6x7x10xi32> {
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%init : tensor<2x6x7x10xi32>) padding = [1, 1, 1, 1] -> tensor<2x6x7x10xi32>
  return %r : tensor<2x6x7x10xi32>
}

// -----

// Prologue copies run in parallel too, whatever their size (the pipeline
// puts them in the kernel's parallel region): here the padded input (2 x
// 66 x 69 words: padding, and room for the last pixel block's reads) per
// (n, row), each iteration writing its own slice at indices 0 on those
// axes, and the weights' relayout per (channel block, tap row).
// PARALLEL-LABEL: func.func @conv2d_parallel_prologue
// PARALLEL: scf.forall (%[[N:.*]], %[[H:.*]]) in (2, 66) shared_outs(%[[PADDED:.*]] = %{{.*}}) -> (tensor<2x66x69x1x1xi64>)
// PARALLEL: tensor.extract_slice %[[PADDED]][%[[N]], %[[H]], 0, 0, 0] [1, 1, 69, 1, 1]
// PARALLEL: tensor.insert %{{.*}} into %{{.*}}[%c0, %c0, %{{.*}}, %{{.*}}, %{{.*}}] : tensor<1x1x69x1x1xi64>
// PARALLEL: tensor.parallel_insert_slice %{{.*}} into %[[PADDED]][%[[N]], %[[H]], 0, 0, 0] [1, 1, 69, 1, 1]
// PARALLEL: scf.forall (%{{.*}}, %{{.*}}) in (2, 3) shared_outs(%{{.*}}) -> (tensor<2x3x3x1x1x4xi64>)
// PARALLEL: scf.forall (%{{.*}}, %{{.*}}) in (2, 64) shared_outs
!X = tensor<2x64x64x1x1xi64, #bitserial.packed<bits = 1, encoding = unsigned, length = 40>>
!F = tensor<8x3x3x1x1xi64, #bitserial.packed<bits = 1, encoding = unsigned, length = 40>>
func.func @conv2d_parallel_prologue(%x: !X, %f: !F, %init: tensor<2x64x64x8xi32>) -> tensor<2x64x64x8xi32> {
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%init : tensor<2x64x64x8xi32>) padding = [1, 1, 1, 1] -> tensor<2x64x64x8xi32>
  return %r : tensor<2x64x64x8xi32>
}

// -----

// A 1x1 kernel with at least 8 output rows (here 2 x 9): one task per row
// (no channel parts), each copying the input row it reads (row 2 oh - 1 of
// image n, subsampled, 3 columns of room) and counting its bits (bipolar
// weights) itself: no prologue forall, nothing shared but the output.
// PARALLEL-LABEL: func.func @conv2d_parallel_one_by_one
// PARALLEL-SAME: %[[X:[a-z0-9_]+]]: tensor<2x17x17x2x1xi64>
// PARALLEL-NOT: tensor<2x9x12x2x1xi64>
// PARALLEL: scf.forall (%[[N:.*]], %[[OH:.*]]) in (2, 9) shared_outs(%[[OUT:.*]] = %{{.*}}) -> (tensor<2x9x9x24xi32>)
// PARALLEL: tensor.extract_slice %[[OUT]][%[[N]], %[[OH]], 0, 0] [1, 1, 9, 24]
// PARALLEL: %[[ROW:.*]] = tensor.empty() : tensor<1x1x12x2x1xi64>
// PARALLEL: %[[TWICE:.*]] = arith.muli %[[OH]], %c2 : index
// PARALLEL: %[[SOURCE:.*]] = arith.subi %[[TWICE]], %c1 : index
// PARALLEL: %[[INSIDE:.*]] = arith.cmpi ult, %[[SOURCE]], %c17 : index
// PARALLEL: %[[CLAMPED:.*]] = arith.select %[[INSIDE]], %[[SOURCE]], %c0 : index
// PARALLEL: scf.for {{.*}} iter_args(%{{.*}} = %[[ROW]]) -> (tensor<1x1x12x2x1xi64>)
// PARALLEL: tensor.extract %[[X]][%[[N]], %[[CLAMPED]], %{{.*}}, %{{.*}}, %c0] : tensor<2x17x17x2x1xi64>
// PARALLEL: tensor.empty() : tensor<1x1x12xi64>
// PARALLEL: tensor.extract %{{.*}}[%c0, %c0, %{{.*}}] : tensor<1x1x12xi64>
// PARALLEL: tensor.parallel_insert_slice %{{.*}} into %[[OUT]][%[[N]], %[[OH]], 0, 0] [1, 1, 9, 24]
!X = tensor<2x17x17x2x1xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 40>>
!F = tensor<24x1x1x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 40>>
func.func @conv2d_parallel_one_by_one(%x: !X, %f: !F, %init: tensor<2x9x9x24xi32>) -> tensor<2x9x9x24xi32> {
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%init : tensor<2x9x9x24xi32>) strides = [2, 2] padding = [1, 0, 0, 0] -> tensor<2x9x9x24xi32>
  return %r : tensor<2x9x9x24xi32>
}

// -----

// A filled `init` (here 5) is a broadcast scalar added to the accumulators:
// the kernel writes a new tensor, reads no init and leaves the fill dead;
// in parallel the tasks write slices of that tensor.
// CHECK-LABEL: func.func @conv2d_filled_init
// CHECK-DAG: %[[FIVE:.*]] = arith.constant dense<5> : vector<{{[0-9]+}}xi32>
// CHECK-NOT: linalg.fill
// CHECK: %[[OUT:.*]] = tensor.empty() : tensor<2x6x7x10xi32>
// CHECK: scf.for {{.*}} iter_args(%{{.*}} = %[[OUT]]) -> (tensor<2x6x7x10xi32>)
// CHECK-NOT: vector.transfer_read {{.*}} : tensor<2x6x7x10xi32>
// CHECK: arith.addi %{{.*}}, %[[FIVE]] : vector<{{[0-9]+}}xi32>
// CHECK-NOT: vector.transfer_read {{.*}} : tensor<2x6x7x10xi32>
// CHECK: return
// PARALLEL-LABEL: func.func @conv2d_filled_init
// PARALLEL-NOT: linalg.fill
// PARALLEL: %[[OUT:.*]] = tensor.empty() : tensor<2x6x7x10xi32>
// PARALLEL: scf.forall {{.*}} shared_outs(%{{.*}} = %[[OUT]]) -> (tensor<2x6x7x10xi32>)
// PARALLEL-NOT: vector.transfer_read {{.*}} : tensor<2x6x7x10xi32>
// PARALLEL: return
!X = tensor<2x6x7x1x1xi64, #bitserial.packed<bits = 1, encoding = unsigned, length = 40>>
!F = tensor<10x3x3x1x1xi64, #bitserial.packed<bits = 1, encoding = unsigned, length = 40>>
func.func @conv2d_filled_init(%x: !X, %f: !F) -> tensor<2x6x7x10xi32> {
  %c5 = arith.constant 5 : i32
  %e = tensor.empty() : tensor<2x6x7x10xi32>
  %init = linalg.fill ins(%c5 : i32) outs(%e : tensor<2x6x7x10xi32>) -> tensor<2x6x7x10xi32>
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%init : tensor<2x6x7x10xi32>) padding = [1, 1, 1, 1] -> tensor<2x6x7x10xi32>
  return %r : tensor<2x6x7x10xi32>
}

// -----

// Empty extents fold away: no kernel is built.
// CHECK-LABEL: func.func @empty_conv2d
// CHECK-SAME: %[[INIT:[a-z0-9_]+]]: tensor<0x4x4x8xi32>
// CHECK-NOT: vector.
// CHECK: return %[[INIT]]
!X = tensor<0x4x4x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 64>>
!F = tensor<8x3x3x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 64>>
func.func @empty_conv2d(%x: !X, %f: !F, %init: tensor<0x4x4x8xi32>) -> tensor<0x4x4x8xi32> {
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%init : tensor<0x4x4x8xi32>) padding = [1, 1, 1, 1]
      -> tensor<0x4x4x8xi32>
  return %r : tensor<0x4x4x8xi32>
}

// -----

// With unroll-steps, the 9 steps of a 3x3 window over one word are straight
// line code: 9 steps x 4 accumulators (2 pixels x 2 vectors) = 36 counts,
// no step loop carrying byte vectors. The output block is stored whole
// (in_bounds) when its pixels and channels fit, else lane by lane.
// RUN: bitserial-opt %s -split-input-file --convert-bitserial-to-vector="vector-bits=128 pixel-block=2 channel-block=2 fit-register-block=false unroll-steps=true" --canonicalize | FileCheck %s --check-prefix=UNROLL
// UNROLL-LABEL: func.func @conv2d_unrolled_steps
// UNROLL-NOT: -> (vector<16xi8>
// UNROLL-COUNT-36: math.ctpop %{{.*}} : vector<16xi8>
// UNROLL-NOT: math.ctpop
// UNROLL: scf.if %{{.*}} -> (tensor<1x5x7x8xi32>)
// UNROLL-COUNT-4: vector.transfer_read %{{.*}} {in_bounds = [true]} : tensor<1x5x7x8xi32>, vector<2xi32>
// UNROLL-COUNT-4: vector.transfer_write %{{.*}} {in_bounds = [true]} : vector<2xi32>, tensor<1x5x7x8xi32>
// UNROLL: } else {
// UNROLL-COUNT-4: vector.transfer_read %{{.*}} : tensor<1x5x7x8xi32>, vector<2xi32>
// UNROLL: vector.create_mask
// UNROLL: vector.transfer_write %{{.*}} : vector<2xi32>, tensor<1x5x7x8xi32>

// With narrow-accumulators, plane pairs are summed in bytes: no lane can
// exceed 8 bits x 9 steps x (1 + 2) = 216 < 256; bytes widen to i64 lanes
// once per output block, after the plane loop.
// RUN: bitserial-opt %s -split-input-file --convert-bitserial-to-vector="vector-bits=128 pixel-block=2 channel-block=2 fit-register-block=false unroll-steps=true narrow-accumulators=true" --canonicalize | FileCheck %s --check-prefix=NARROW
// NARROW-LABEL: func.func @conv2d_unrolled_steps
// NARROW: scf.for {{.*}} -> (vector<16xi8>, vector<16xi8>, vector<16xi8>, vector<16xi8>)
// NARROW-NOT: vector.multi_reduction
// NARROW-COUNT-4: arith.shli %{{.*}}, %{{.*}} : vector<16xi8>
// NARROW: scf.yield
// A whole block with i32 results: the two vectors of a pixel add pairwise
// into its 4 consecutive channels, in the narrowest lanes where that cannot
// overflow (byte lanes reach 216 here, so halfwords), then widen to one i32
// per channel, read, added and stored as one vector<4xi32>.
// NARROW: vector.shape_cast %{{.*}} : vector<16xi8> to vector<8x2xi8>
// NARROW-NEXT: arith.extui %{{.*}} : vector<8x2xi8> to vector<8x2xi16>
// NARROW: %[[EVEN:.*]] = vector.shuffle %[[P0:.*]], %[[P1:.*]] [0, 2, 4, 6, 8, 10, 12, 14] : vector<8xi16>, vector<8xi16>
// NARROW-NEXT: %[[ODD:.*]] = vector.shuffle %[[P0]], %[[P1]] [1, 3, 5, 7, 9, 11, 13, 15] : vector<8xi16>, vector<8xi16>
// NARROW-NEXT: %[[PAIRSUM:.*]] = arith.addi %[[EVEN]], %[[ODD]] : vector<8xi16>
// NARROW: vector.shape_cast %[[PAIRSUM]] : vector<8xi16> to vector<4x2xi16>
// NARROW-NEXT: arith.extui %{{.*}} : vector<4x2xi16> to vector<4x2xi32>
// NARROW: vector.transfer_read {{.*}} {in_bounds = [true]} : tensor<1x5x7x8xi32>, vector<4xi32>
// NARROW: vector.transfer_write {{.*}} {in_bounds = [true]} : vector<4xi32>, tensor<1x5x7x8xi32>
// The masked tail widens to i64 lanes.
// NARROW: } else {
// NARROW: vector.shape_cast %{{.*}} : vector<16xi8> to vector<2x8xi8>
// NARROW-NEXT: arith.extui %{{.*}} : vector<2x8xi8> to vector<2x8xi64>
// NARROW-NEXT: vector.multi_reduction <add>, %{{.*}} [1] : vector<2x8xi64> to vector<2xi64>
// With unroll-plane-pairs, the 2 plane pairs (9 steps each, too many to be
// all straight-line) get a copy of the steps each instead of a plane loop
// carrying the sums: 72 counts in the block's body, and only the second
// pair (weight 2) shifts, by a constant.
// RUN: bitserial-opt %s -split-input-file --convert-bitserial-to-vector="vector-bits=128 pixel-block=2 channel-block=2 fit-register-block=false unroll-steps=true narrow-accumulators=true unroll-plane-pairs=true" --canonicalize | FileCheck %s --check-prefix=PAIRS
// PAIRS-LABEL: func.func @conv2d_unrolled_steps
// PAIRS: %[[ONE:.*]] = arith.constant dense<1> : vector<16xi8>
// PAIRS: scf.for {{.*}} -> (tensor<1x5x7x8xi32>)
// PAIRS: scf.for {{.*}} -> (tensor<1x5x7x8xi32>)
// PAIRS: scf.for {{.*}} -> (tensor<1x5x7x8xi32>)
// PAIRS-NOT: scf.for
// PAIRS-NOT: arith.shli
// PAIRS-COUNT-72: math.ctpop %{{.*}} : vector<16xi8>
// PAIRS-NOT: math.ctpop
// PAIRS-COUNT-4: arith.shli %{{.*}}, %[[ONE]] : vector<16xi8>
// PAIRS-NOT: arith.shli
// PAIRS: scf.if
// (Without it, NARROW above: a loop over the plane pairs carries the sums.)

// With duplicate-activations the kernel's input holds each word twice (one
// per i64 lane), and a step reads its broadcasts as plain vectors: no
// tensor.extract + vector.broadcast of activation words in the steps.
// RUN: bitserial-opt %s -split-input-file --convert-bitserial-to-vector="vector-bits=128 pixel-block=2 channel-block=2 fit-register-block=false unroll-steps=true duplicate-activations=true" --canonicalize | FileCheck %s --check-prefix=DUP
// Bipolar weights count the activations' bits once: lane 0 of each word.
// DUP: #[[LANE0:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4, 0)>
// DUP-LABEL: func.func @matmul_unsigned_bipolar
// DUP: linalg.generic {indexing_maps = [#[[LANE0]], {{.*}}} ins(%{{.*}} : tensor<1x1x11x2x2x2xi64>)
// DUP-LABEL: func.func @conv2d_unrolled_steps
// DUP: %[[X:.*]] = scf.for {{.*}} -> (tensor<1x7x10x2x1x2xi64>)
// DUP: %[[WORD:.*]] = arith.select %{{.*}}, %{{.*}}, %c0_i64 : i64
// DUP-NEXT: %[[BOTH:.*]] = vector.broadcast %[[WORD]] : i64 to vector<2xi64>
// DUP-NEXT: vector.transfer_write %[[BOTH]], %{{.*}}[{{.*}}, %c0] {in_bounds = [true]} : vector<2xi64>, tensor<1x7x10x2x1x2xi64>
// The steps address it as one dimension: an index per step, pixel p at
// + 4p (2 planes x 1 word x 2 lanes per pixel).
// DUP: %[[FLAT:.*]] = tensor.collapse_shape %[[X]] {{\[\[}}0, 1, 2, 3, 4, 5]] : tensor<1x7x10x2x1x2xi64> into tensor<280xi64>
// DUP-NOT: vector.broadcast
// DUP: vector.transfer_read %[[FLAT]][%[[BASE:[0-9]+]]], %c0_i64 {in_bounds = [true]} : tensor<280xi64>, vector<2xi64>
// DUP-NEXT: %[[NEXT:.*]] = arith.addi %[[BASE]], %c4 : index
// DUP-NEXT: vector.transfer_read %[[FLAT]][%[[NEXT]]], %c0_i64 {in_bounds = [true]} : tensor<280xi64>, vector<2xi64>
// DUP-NOT: vector.broadcast
// DUP-COUNT-36: math.ctpop %{{.*}} : vector<16xi8>
!X = tensor<1x7x9x2x1xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 64>>
!F = tensor<8x3x3x1x1xi64, #bitserial.packed<bits = 1, encoding = unsigned, length = 64>>
func.func @conv2d_unrolled_steps(%x: !X, %f: !F, %init: tensor<1x5x7x8xi32>) -> tensor<1x5x7x8xi32> {
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%init : tensor<1x5x7x8xi32>) -> tensor<1x5x7x8xi32>
  return %r : tensor<1x5x7x8xi32>
}

// -----

// Signed weights, 3-bit activations, 18 steps: a 16-bit lane reaches at most
// 16 x 18 x 7 x 3 = 6048 in magnitude, so plane pairs are summed in i16
// lanes (bytes widen to halfwords per plane pair) and sign-extended to i64
// once per block. 8-bit weights would not fit: the sums stay in i64 lanes.
// NARROW-LABEL: func.func @conv2d_signed_halfword_sums
// NARROW: scf.for {{.*}} -> (vector<8xi16>, vector<8xi16>, vector<8xi16>, vector<8xi16>)
// NARROW: vector.shape_cast %{{.*}} : vector<16xi8> to vector<8x2xi8>
// NARROW-NEXT: arith.extui %{{.*}} : vector<8x2xi8> to vector<8x2xi16>
// NARROW: arith.shli %{{.*}}, %{{.*}} : vector<8xi16>
// NARROW: vector.shape_cast %{{.*}} : vector<8xi16> to vector<2x4xi16>
// NARROW-NEXT: arith.extsi %{{.*}} : vector<2x4xi16> to vector<2x4xi64>
// NARROW-LABEL: func.func @negative_conv2d_wide_sums
// NARROW: scf.for {{.*}} -> (vector<2xi64>, vector<2xi64>, vector<2xi64>, vector<2xi64>)
// NARROW-NOT: vector<8xi16>
!X = tensor<1x7x9x3x2xi64, #bitserial.packed<bits = 3, encoding = unsigned, length = 128>>
!F = tensor<8x3x3x2x2xi64, #bitserial.packed<bits = 2, encoding = signed, length = 128>>
func.func @conv2d_signed_halfword_sums(%x: !X, %f: !F, %init: tensor<1x5x7x8xi32>) -> tensor<1x5x7x8xi32> {
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%init : tensor<1x5x7x8xi32>) -> tensor<1x5x7x8xi32>
  return %r : tensor<1x5x7x8xi32>
}
!F8 = tensor<8x3x3x8x2xi64, #bitserial.packed<bits = 8, encoding = signed, length = 128>>
func.func @negative_conv2d_wide_sums(%x: !X, %f: !F8, %init: tensor<1x5x7x8xi32>) -> tensor<1x5x7x8xi32> {
  %r = bitserial.conv2d ins(%x, %f : !X, !F8) outs(%init : tensor<1x5x7x8xi32>) -> tensor<1x5x7x8xi32>
  return %r : tensor<1x5x7x8xi32>
}

// -----

// With parallel=true, a kernel of at least 2^24 AND'ed bit pairs forks only
// if it has at least 128 per output: @outputs_heavy (128 x 128 x 64 outputs
// x 64 pairs = 2^26) stays on one thread, @two_planes (128 pairs per
// output) and @reduction_heavy (256) are split; with min-parallel-binops=0
// all are.
// NARROW-LABEL: func.func @outputs_heavy
// SMALL-LABEL: func.func @outputs_heavy
// SMALL-NOT: scf.forall
// SMALL: return
// SMALL-LABEL: func.func @two_planes
// SMALL: scf.forall
// SMALL: return
// SMALL-LABEL: func.func @reduction_heavy
// SMALL: scf.forall
// SMALL: return
// RUN: bitserial-opt %s -split-input-file --convert-bitserial-to-vector="parallel=true min-parallel-binops=0" | FileCheck %s --check-prefix=ALWAYS
// ALWAYS-LABEL: func.func @outputs_heavy
// ALWAYS: scf.forall
// ALWAYS-LABEL: func.func @two_planes
// ALWAYS: scf.forall
// ALWAYS-LABEL: func.func @reduction_heavy
// ALWAYS: scf.forall
!X64 = tensor<1x128x128x1x1xi64, #bitserial.packed<bits = 1, encoding = unsigned, length = 64>>
!F64 = tensor<64x1x1x1x1xi64, #bitserial.packed<bits = 1, encoding = unsigned, length = 64>>
!X256 = tensor<1x128x128x1x4xi64, #bitserial.packed<bits = 1, encoding = unsigned, length = 256>>
!F256 = tensor<64x1x1x1x4xi64, #bitserial.packed<bits = 1, encoding = unsigned, length = 256>>
func.func @outputs_heavy(%x: !X64, %f: !F64, %init: tensor<1x128x128x64xi32>) -> tensor<1x128x128x64xi32> {
  %r = bitserial.conv2d ins(%x, %f : !X64, !F64) outs(%init : tensor<1x128x128x64xi32>) -> tensor<1x128x128x64xi32>
  return %r : tensor<1x128x128x64xi32>
}
!X2 = tensor<1x128x128x2x1xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 64>>
func.func @two_planes(%x: !X2, %f: !F64, %init: tensor<1x128x128x64xi32>) -> tensor<1x128x128x64xi32> {
  %r = bitserial.conv2d ins(%x, %f : !X2, !F64) outs(%init : tensor<1x128x128x64xi32>) -> tensor<1x128x128x64xi32>
  return %r : tensor<1x128x128x64xi32>
}
func.func @reduction_heavy(%x: !X256, %f: !F256, %init: tensor<1x128x128x64xi32>) -> tensor<1x128x128x64xi32> {
  %r = bitserial.conv2d ins(%x, %f : !X256, !F256) outs(%init : tensor<1x128x128x64xi32>) -> tensor<1x128x128x64xi32>
  return %r : tensor<1x128x128x64xi32>
}

// -----

// A 1x1 window whose 4 plane pairs take 16 steps together (2 x 2 bits over
// 4 words): with straight-line-plane-pairs each pair has its own step loop
// and a constant shift (here 1, 1 and 2); by default one loop nest over the
// pairs carries the sums and shifts by a computed weight.
// RUN: bitserial-opt %s -split-input-file --convert-bitserial-to-vector="vector-bits=512 word-popcount=true pixel-block=2 channel-block=1 fit-register-block=false straight-line-plane-pairs=true" --canonicalize | FileCheck %s --check-prefix=STRAIGHT
// RUN: bitserial-opt %s -split-input-file --convert-bitserial-to-vector="vector-bits=512 word-popcount=true pixel-block=2 channel-block=1 fit-register-block=false" --canonicalize | FileCheck %s --check-prefix=PAIRLOOP
// STRAIGHT-LABEL: func.func @conv2d_1x1_four_pairs
// STRAIGHT-DAG: %[[ONE:.*]] = arith.constant dense<1> : vector<8xi64>
// STRAIGHT-DAG: %[[TWO:.*]] = arith.constant dense<2> : vector<8xi64>
// STRAIGHT-COUNT-4: scf.for %{{.*}} = %c0 to %c4 step %c1 iter_args(%{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}) -> (vector<8xi64>, vector<8xi64>)
// STRAIGHT-NOT: scf.for
// STRAIGHT: arith.shli %{{.*}}, %[[TWO]] : vector<8xi64>
// STRAIGHT: return
// PAIRLOOP-LABEL: func.func @conv2d_1x1_four_pairs
// PAIRLOOP: scf.for %{{.*}} = %c0 to %c2 step %c1 iter_args(%{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}) -> (vector<8xi64>, vector<8xi64>)
// PAIRLOOP-NEXT: scf.for %{{.*}} = %c0 to %c2 step %c1
// PAIRLOOP-NEXT: scf.for %{{.*}} = %c0 to %c4 step %c1
// PAIRLOOP-COUNT-2: math.ctpop
// PAIRLOOP-NOT: math.ctpop
// PAIRLOOP: return
!X4 = tensor<1x6x6x2x4xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 256>>
!F4 = tensor<8x1x1x2x4xi64, #bitserial.packed<bits = 2, encoding = signed, length = 256>>
func.func @conv2d_1x1_four_pairs(%x: !X4, %f: !F4, %init: tensor<1x3x3x8xi32>) -> tensor<1x3x3x8xi32> {
  %r = bitserial.conv2d ins(%x, %f : !X4, !F4) outs(%init : tensor<1x3x3x8xi32>) strides = [2, 2] -> tensor<1x3x3x8xi32>
  return %r : tensor<1x3x3x8xi32>
}

// -----

// 64-bit lane counts, weights all positive (unsigned x bipolar) and one
// weight plane: the plane loop runs from the high activation plane down,
// shifts the carried sums by 1 before each pair but the first, and the
// steps count into them (no second set of sums, no select of add and
// subtract); the sums are scaled by the bipolar factor 2 once after it.
// RUN: bitserial-opt %s -split-input-file --convert-bitserial-to-vector="vector-bits=512 word-popcount=true pixel-block=2 channel-block=1 fit-register-block=false" --canonicalize | FileCheck %s --check-prefix=HORNER
// HORNER-LABEL: func.func @conv2d_horner_plane_loop
// HORNER: %[[SUMS:.*]]:2 = scf.for %[[U:.*]] = %c0 to %c2 step %c1 iter_args(%[[S0:.*]] = %[[ZERO:.*]], %[[S1:.*]] = %[[ZERO]]) -> (vector<8xi64>, vector<8xi64>)
// HORNER-NEXT: %[[PLANE:.*]] = arith.subi %c1, %[[U]] : index
// HORNER-NEXT: %[[FIRST:.*]] = arith.cmpi eq, %[[U]], %c0 : index
// HORNER-NEXT: %[[SHIFT:.*]] = arith.select %[[FIRST]], %c0, %c1 : index
// HORNER: %[[A:.*]] = arith.shli %[[S0]], %{{.*}} : vector<8xi64>
// HORNER-NEXT: %[[B:.*]] = arith.shli %[[S1]], %{{.*}} : vector<8xi64>
// HORNER-NEXT: scf.for %{{.*}} = %c0 to %c3 step %c1 iter_args(%{{.*}} = %[[A]], %{{.*}} = %[[B]])
// HORNER: tensor.extract %{{.*}}[%c0, %{{.*}}, %{{.*}}, %[[PLANE]], %c0] : tensor<1x6x7x2x1xi64>
// HORNER-COUNT-2: math.ctpop
// HORNER-NOT: arith.select
// HORNER: arith.shli %[[SUMS]]#0, %{{.*}} : vector<8xi64>
// HORNER-NEXT: arith.shli %[[SUMS]]#1, %{{.*}} : vector<8xi64>
// HORNER: return
!X = tensor<1x6x6x2x1xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 64>>
!F = tensor<8x3x3x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 64>>
func.func @conv2d_horner_plane_loop(%x: !X, %f: !F, %init: tensor<1x4x4x8xi32>) -> tensor<1x4x4x8xi32> {
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%init : tensor<1x4x4x8xi32>) -> tensor<1x4x4x8xi32>
  return %r : tensor<1x4x4x8xi32>
}
