// RUN: bitserial-opt %s -split-input-file --convert-bitserial-to-vector="fit-register-block=false" --canonicalize | FileCheck %s
// RUN: bitserial-opt %s -split-input-file --convert-bitserial-to-vector="fit-register-block=false fuse-epilogues=false" --canonicalize | FileCheck %s --check-prefix=APART
// RUN: bitserial-opt %s -split-input-file --convert-bitserial-to-vector="fit-register-block=false parallel=true min-parallel-binops=0" --canonicalize | FileCheck %s --check-prefix=PARALLEL
// RUN: bitserial-opt %s -split-input-file --convert-bitserial-to-vector="vector-bits=512 pixel-block=2 channel-block=8 fit-register-block=false" --canonicalize | FileCheck %s --check-prefix=WIDE

// A 1x1 conv whose only use is a threshold to 2-bit codes: the kernel (4
// pixels x 2 vectors of 4 channels) counts the thresholds each accumulator
// vector reaches and ORs the codes' bits into the packed words; no i32
// tensor is written, and the zero init (a fill) is not read.
// Descending channels: acc ^ m >= t ^ m with m = -1 per such channel; the
// table [T, channel vectors x lanes] holds t ^ m, built once per call.
// CHECK-LABEL: func.func @conv_threshold
// CHECK-SAME: %[[T:[^:]*]]: tensor<20x3xi32>, %[[FLIP:[^:]*]]: tensor<20xi1>
// CHECK-SAME: -> tensor<1x5x6x2x1xi64>
// CHECK: %[[MASKS:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<24xi32>)
// CHECK: tensor.extract %[[FLIP]]
// CHECK: %[[TABLE:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<3x24xi32>)
// CHECK: tensor.extract %[[T]]
// CHECK: arith.xori
// CHECK: %[[EMPTY:.*]] = tensor.empty() : tensor<1x5x6x2x1xi64>
// CHECK: %[[ZERO:.*]] = linalg.fill ins(%c0_i64 : i64) outs(%[[EMPTY]] : tensor<1x5x6x2x1xi64>)
// CHECK: scf.for {{.*}} iter_args(%{{.*}} = %[[ZERO]]) -> (tensor<1x5x6x2x1xi64>)
// CHECK-NOT: xi32>
// CHECK: scf.if %{{.*}} -> (tensor<1x5x6x2x1xi64>)
// CHECK: %[[M:.*]] = vector.transfer_read %[[MASKS]][%{{.*}}], %c0_i32 {in_bounds = [true]} : tensor<24xi32>, vector<4xi32>
// CHECK: %[[ACC:.*]] = arith.trunci %{{.*}} : vector<4xi64> to vector<4xi32>
// CHECK: %[[X:.*]] = arith.xori %[[ACC]], %[[M]] : vector<4xi32>
// CHECK: %[[TV:.*]] = vector.transfer_read %[[TABLE]][%c0, %{{.*}}], %c0_i32 {in_bounds = [true]} : tensor<3x24xi32>, vector<4xi32>
// CHECK: %[[GE:.*]] = arith.cmpi sge, %[[X]], %[[TV]] : vector<4xi32>
// CHECK: %[[ONE:.*]] = arith.extsi %[[GE]] : vector<4xi1> to vector<4xi32>
// CHECK: arith.subi %{{.*}}, %[[ONE]] : vector<4xi32>
// CHECK: %[[BIT:.*]] = arith.cmpi ne, %{{.*}}, %{{.*}} : vector<4xi32>
// CHECK: %[[LANES:.*]] = vector.bitcast %[[BIT]] : vector<4xi1> to vector<1xi4>
// CHECK: %[[MASK:.*]] = vector.extract %[[LANES]][0] : i4 from vector<1xi4>
// CHECK: arith.extui %[[MASK]] : i4 to i64
// A block of 8 channels shares its word with its neighbours: OR.
// CHECK: %[[OLD:.*]] = tensor.extract %{{.*}}[%c0, %{{.*}}, %{{.*}}, %c0, %{{.*}}] : tensor<1x5x6x2x1xi64>
// CHECK: %[[NEW:.*]] = arith.ori %[[OLD]], %{{.*}} : i64
// CHECK: tensor.insert %[[NEW]] into
// CHECK-NOT: vector.transfer_write
// CHECK-NOT: bitserial.pack
// CHECK: return

// Apart: the kernel stores i32 and the reference lowering thresholds them.
// APART-LABEL: func.func @conv_threshold
// APART: vector.transfer_write {{.*}} : vector<4xi32>, tensor<1x5x6x20xi32>
// APART: arith.cmpi sge, %{{.*}} : vector<64xi32>
// APART: vector.bitcast %{{.*}} : vector<64xi1> to vector<1xi64>

// In parallel, a task owns whole words: here one part (20 channels, one
// word) per row.
// PARALLEL-LABEL: func.func @conv_threshold
// PARALLEL: scf.forall (%[[ROW:.*]]) in (5) shared_outs(%[[OUT:.*]] = %{{.*}}) -> (tensor<1x5x6x2x1xi64>)
// PARALLEL: tensor.extract_slice %[[OUT]][0, %[[ROW]], 0, 0, 0] [1, 1, 6, 2, 1] [1, 1, 1, 1, 1] : tensor<1x5x6x2x1xi64> to tensor<1x1x6x2x1xi64>
// PARALLEL: tensor.parallel_insert_slice %{{.*}} into %[[OUT]][0, %[[ROW]], 0, 0, 0] [1, 1, 6, 2, 1]

!x = tensor<1x5x6x2x1xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 64>>
!f = tensor<20x1x1x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 64>>
!y = tensor<1x5x6x2x1xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 20>>
func.func @conv_threshold(%x: !x, %f: !f, %t: tensor<20x3xi32>, %flip: tensor<20xi1>) -> !y {
  %zero = arith.constant 0 : i32
  %empty = tensor.empty() : tensor<1x5x6x20xi32>
  %init = linalg.fill ins(%zero : i32) outs(%empty : tensor<1x5x6x20xi32>) -> tensor<1x5x6x20xi32>
  %acc = bitserial.conv2d ins(%x, %f : !x, !f) outs(%init : tensor<1x5x6x20xi32>) -> tensor<1x5x6x20xi32>
  %y = bitserial.threshold %acc, %t descending(%flip : tensor<20xi1>) : tensor<1x5x6x20xi32>, tensor<20x3xi32> -> !y
  return %y : !y
}

// -----

// Requantize with a residual init: the kernel reads init, adds its
// accumulators, requantizes the vectors (TFLite's rounding: the doubling
// high multiply in i64 lanes, one arithmetic shift; the zero point and
// clamp in i32) with the channel block's multiplier and shift vectors (read
// once per block) and stores i8; the i32 sum is never stored.
// CHECK-LABEL: func.func @conv_requantize_residual
// CHECK-SAME: %[[INIT:[^:]*]]: tensor<1x4x4x8xi32>, %[[MUL:[^:]*]]: tensor<8xi32>, %[[SHIFT:[^:]*]]: tensor<8xi8>
// CHECK: %[[OUT:.*]] = tensor.empty() : tensor<1x4x4x8xi8>
// CHECK: scf.for {{.*}} iter_args(%{{.*}} = %[[OUT]]) -> (tensor<1x4x4x8xi8>)
// CHECK: %[[M0:.*]] = vector.transfer_read %[[MUL]][%c0], %c0_i32 {in_bounds = [true]} : tensor<8xi32>, vector<4xi32>
// CHECK: %[[S0:.*]] = vector.transfer_read %[[SHIFT]][%c0], %c0_i8 {in_bounds = [true]} : tensor<8xi8>, vector<4xi8>
// CHECK: %[[M1:.*]] = vector.transfer_read %[[MUL]][%c4]
// CHECK: %[[S1:.*]] = vector.transfer_read %[[SHIFT]][%c4]
// CHECK: %[[CUR:.*]] = vector.transfer_read %[[INIT]][%c0, %{{.*}}, %c0, %c0], %c0_i32 {in_bounds = [true]} : tensor<1x4x4x8xi32>, vector<4xi32>
// CHECK: %[[SUM:.*]] = arith.addi %[[CUR]], %{{.*}} : vector<4xi32>
// CHECK: arith.extsi %[[S0]] : vector<4xi8> to vector<4xi32>
// CHECK: arith.shli %[[SUM]], %{{.*}} : vector<4xi32>
// CHECK: %[[PRODUCT:.*]] = arith.muli %{{.*}}, %{{.*}} : vector<4xi64>
// CHECK: %[[NUDGED:.*]] = arith.addi %[[PRODUCT]], %{{.*}} : vector<4xi64>
// CHECK: %[[HIGH:.*]] = arith.shrsi %[[NUDGED]], %{{.*}} : vector<4xi64>
// CHECK: arith.trunci %[[HIGH]] : vector<4xi64> to vector<4xi32>
// CHECK: arith.trunci %{{.*}} : vector<4xi32> to vector<4xi8>
// CHECK-NOT: vector.transfer_write {{.*}} : vector<4xi32>
// CHECK: vector.transfer_write %{{.*}}, %{{.*}}[%c0, %{{.*}}, %c0, %c0] {in_bounds = [true]} : vector<4xi8>, tensor<1x4x4x8xi8>
// CHECK-NOT: vector.transfer_write {{.*}} : vector<4xi32>
// CHECK: return

!x = tensor<1x4x4x2x1xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 64>>
!f = tensor<8x3x3x2x1xi64, #bitserial.packed<bits = 2, encoding = signed, length = 64>>
func.func @conv_requantize_residual(%x: !x, %f: !f, %init: tensor<1x4x4x8xi32>, %m: tensor<8xi32>, %s: tensor<8xi8>) -> tensor<1x4x4x8xi8> {
  %acc = bitserial.conv2d ins(%x, %f : !x, !f) outs(%init : tensor<1x4x4x8xi32>) padding = [1, 1, 1, 1] -> tensor<1x4x4x8xi32>
  %q = bitserial.requantize %acc, %m, %s zero_point = -3 clamp = [-128, 127] : tensor<1x4x4x8xi32>, tensor<8xi32>, tensor<8xi8> -> tensor<1x4x4x8xi8>
  return %q : tensor<1x4x4x8xi8>
}

// -----

// Dequantize after a matmul (a 1 x M image): sitofp, mulf, addf on the
// accumulator vectors, f32 stores (masked for the 10th column), collapsed
// back to [M, N].
// CHECK-LABEL: func.func @matmul_dequantize
// CHECK: %[[OUT:.*]] = tensor.empty() : tensor<1x1x6x10xf32>
// CHECK: %[[SCALE:.*]] = vector.transfer_read %{{.*}}[%{{.*}}], %{{.*}} {in_bounds = [true]} : tensor<10xf32>, vector<4xf32>
// CHECK: %[[BIAS:.*]] = vector.transfer_read %{{.*}}[%{{.*}}], %{{.*}} {in_bounds = [true]} : tensor<10xf32>, vector<4xf32>
// CHECK: %[[F:.*]] = arith.sitofp %{{.*}} : vector<4xi32> to vector<4xf32>
// CHECK: %[[P:.*]] = arith.mulf %[[F]], %[[SCALE]] : vector<4xf32>
// CHECK: arith.addf %[[P]], %[[BIAS]] : vector<4xf32>
// CHECK: vector.transfer_write {{.*}} : vector<4xf32>, tensor<1x1x6x10xf32>
// CHECK-NOT: vector.transfer_write {{.*}} : vector<4xi32>
// CHECK: vector.transfer_write {{.*}} : vector<4xf32>, tensor<1x1x6x10xf32>
// CHECK: %[[R:.*]] = tensor.collapse_shape %{{.*}} {{\[\[}}0, 1, 2], [3]] : tensor<1x1x6x10xf32> into tensor<6x10xf32>
// CHECK: return %[[R]]

!a = tensor<6x1x2xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 100>>
!b = tensor<10x1x2xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 100>>
func.func @matmul_dequantize(%a: !a, %b: !b, %scale: tensor<10xf32>, %bias: tensor<10xf32>) -> tensor<6x10xf32> {
  %zero = arith.constant 0 : i32
  %empty = tensor.empty() : tensor<6x10xi32>
  %init = linalg.fill ins(%zero : i32) outs(%empty : tensor<6x10xi32>) -> tensor<6x10xi32>
  %acc = bitserial.matmul ins(%a, %b : !a, !b) outs(%init : tensor<6x10xi32>) -> tensor<6x10xi32>
  %d = bitserial.dequantize %acc, %scale, %bias : tensor<6x10xi32>, tensor<10xf32>, tensor<10xf32> -> tensor<6x10xf32>
  return %d : tensor<6x10xf32>
}

// -----

// Constant thresholds (1-bit signed codes, i64 accumulators of a matmul):
// the table is folded at compile time, padded to whole channel vectors,
// with the descending channels' thresholds complemented (3 ^ -1 = -4).
// CHECK-LABEL: func.func @matmul_threshold_constant
// CHECK-DAG: %[[MASKS:.*]] = arith.constant dense<[0, -1, 0, 0, 0, 0, 0, 0]> : tensor<8xi64>
// CHECK-DAG: %[[TABLE:.*]] = arith.constant dense<{{\[\[}}5, -4, 7, 0, 0, 0, 0, 0]]> : tensor<1x8xi64>
// CHECK-NOT: linalg.generic {{.*}} : tensor<1x8xi64>
// CHECK: vector.transfer_read %[[TABLE]]
// CHECK: arith.cmpi sge, %{{.*}}, %{{.*}} : vector<4xi64>
// CHECK: %[[R:.*]] = tensor.collapse_shape %{{.*}} {{\[\[}}0, 1, 2], [3], [4]] : tensor<1x1x5x1x1xi64> into tensor<5x1x1xi64>
// CHECK: return %[[R]]

!a = tensor<5x1x1xi64, #bitserial.packed<bits = 1, encoding = unsigned, length = 64>>
!b = tensor<3x1x1xi64, #bitserial.packed<bits = 1, encoding = unsigned, length = 64>>
!y = tensor<5x1x1xi64, #bitserial.packed<bits = 1, encoding = signed, length = 3>>
func.func @matmul_threshold_constant(%a: !a, %b: !b) -> !y {
  %t = arith.constant dense<[[5], [3], [7]]> : tensor<3x1xi64>
  %flip = arith.constant dense<[false, true, false]> : tensor<3xi1>
  %zero = arith.constant 0 : i64
  %empty = tensor.empty() : tensor<5x3xi64>
  %init = linalg.fill ins(%zero : i64) outs(%empty : tensor<5x3xi64>) -> tensor<5x3xi64>
  %acc = bitserial.matmul ins(%a, %b : !a, !b) outs(%init : tensor<5x3xi64>) -> tensor<5x3xi64>
  %y = bitserial.threshold %acc, %t descending(%flip : tensor<3xi1>) : tensor<5x3xi64>, tensor<3x1xi64> -> !y
  return %y : !y
}

// -----

// A block of 64 channels (8 vectors of 8 with 512-bit vectors) owns its
// word: a full block stores it without reading it first.
// WIDE-LABEL: func.func @conv_threshold_wide
// WIDE: scf.for %{{.*}} = %c0 to %c24 step %c8
// WIDE: scf.if
// WIDE: vector.bitcast %{{.*}} : vector<8xi1> to vector<1xi8>
// WIDE-NOT: tensor.extract
// WIDE: tensor.insert %{{.*}} into %{{.*}} : tensor<1x2x2x1x3xi64>
// WIDE: } else {
// WIDE-LABEL: func.func @negative_two_uses

// A second use of the accumulators: no fusion; the threshold reads the i32
// tensor (a row kernel).
// CHECK-LABEL: func.func @negative_two_uses
// CHECK: vector.transfer_write {{.*}} : vector<4xi32>, tensor<1x2x2x130xi32>
// CHECK: vector.transfer_read {{.*}} : tensor<1x2x2x130xi32>, vector<64xi32>
// CHECK: vector.bitcast %{{.*}} : vector<64xi1> to vector<1xi64>

!x = tensor<1x2x2x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 64>>
!f = tensor<130x1x1x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 64>>
!y = tensor<1x2x2x1x3xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 130>>
func.func @conv_threshold_wide(%x: !x, %f: !f, %t: tensor<130x1xi32>) -> !y {
  %zero = arith.constant 0 : i32
  %empty = tensor.empty() : tensor<1x2x2x130xi32>
  %init = linalg.fill ins(%zero : i32) outs(%empty : tensor<1x2x2x130xi32>) -> tensor<1x2x2x130xi32>
  %acc = bitserial.conv2d ins(%x, %f : !x, !f) outs(%init : tensor<1x2x2x130xi32>) -> tensor<1x2x2x130xi32>
  %y = bitserial.threshold %acc, %t : tensor<1x2x2x130xi32>, tensor<130x1xi32> -> !y
  return %y : !y
}
func.func @negative_two_uses(%x: !x, %f: !f, %t: tensor<130x1xi32>) -> (!y, tensor<1x2x2x130xi32>) {
  %zero = arith.constant 0 : i32
  %empty = tensor.empty() : tensor<1x2x2x130xi32>
  %init = linalg.fill ins(%zero : i32) outs(%empty : tensor<1x2x2x130xi32>) -> tensor<1x2x2x130xi32>
  %acc = bitserial.conv2d ins(%x, %f : !x, !f) outs(%init : tensor<1x2x2x130xi32>) -> tensor<1x2x2x130xi32>
  %y = bitserial.threshold %acc, %t : tensor<1x2x2x130xi32>, tensor<130x1xi32> -> !y
  return %y, %acc : !y, tensor<1x2x2x130xi32>
}

// -----

// After bitserial-tile: the conv computes tiles of rows inside a loop that
// carries the i32 tensor, and the requantize follows the loop. The
// requantize moves into the loop, on each tile (its constant parameters
// defined after the loop move up), where the kernel fuses it: the loop
// carries the i8 result, and each tile's init is a slice of the original
// init (tiles are disjoint).
// CHECK-LABEL: func.func @tiled_conv_requantize
// CHECK-SAME: %[[INIT:[^:]*]]: tensor<1x10x4x8xi32>
// CHECK: %[[OUT:.*]] = tensor.empty() : tensor<1x10x4x8xi8>
// CHECK: scf.for %[[ROW:.*]] = %c0 to %c10 step %c4 iter_args(%[[ACC:.*]] = %[[OUT]]) -> (tensor<1x10x4x8xi8>)
// CHECK: %[[SIZE:.*]] = affine.min
// CHECK: %[[TILE_INIT:.*]] = tensor.extract_slice %[[INIT]][0, %[[ROW]], 0, 0] [1, %[[SIZE]], 4, 8] [1, 1, 1, 1] : tensor<1x10x4x8xi32> to tensor<1x?x4x8xi32>
// CHECK: %[[TILE:.*]] = tensor.empty(%{{.*}}) : tensor<1x?x4x8xi8>
// CHECK: vector.transfer_read %[[TILE_INIT]]
// CHECK: vector.transfer_write {{.*}} : vector<4xi8>, tensor<1x?x4x8xi8>
// CHECK: tensor.insert_slice %{{.*}} into %[[ACC]][0, %[[ROW]], 0, 0] [1, %[[SIZE]], 4, 8] [1, 1, 1, 1] : tensor<1x?x4x8xi8> into tensor<1x10x4x8xi8>
// CHECK-NOT: vector.transfer_write {{.*}} : vector<4xi32>
// CHECK: return

!x = tensor<1x10x4x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 64>>
!xt = tensor<1x?x4x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 64>>
!f = tensor<8x1x1x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 64>>
func.func @tiled_conv_requantize(%x: !x, %f: !f, %init: tensor<1x10x4x8xi32>) -> tensor<1x10x4x8xi8> {
  %c0 = arith.constant 0 : index
  %c4 = arith.constant 4 : index
  %c10 = arith.constant 10 : index
  %acc = scf.for %row = %c0 to %c10 step %c4 iter_args(%arg = %init) -> (tensor<1x10x4x8xi32>) {
    %size = affine.min affine_map<(d0) -> (-d0 + 10, 4)>(%row)
    %xs = tensor.extract_slice %x[0, %row, 0, 0, 0] [1, %size, 4, 1, 1] [1, 1, 1, 1, 1] : !x to !xt
    %is = tensor.extract_slice %arg[0, %row, 0, 0] [1, %size, 4, 8] [1, 1, 1, 1] : tensor<1x10x4x8xi32> to tensor<1x?x4x8xi32>
    %c = bitserial.conv2d ins(%xs, %f : !xt, !f) outs(%is : tensor<1x?x4x8xi32>) -> tensor<1x?x4x8xi32>
    %in = tensor.insert_slice %c into %arg[0, %row, 0, 0] [1, %size, 4, 8] [1, 1, 1, 1] : tensor<1x?x4x8xi32> into tensor<1x10x4x8xi32>
    scf.yield %in : tensor<1x10x4x8xi32>
  }
  %m = arith.constant dense<1073741824> : tensor<8xi32>
  %s = arith.constant dense<-2> : tensor<8xi8>
  %q = bitserial.requantize %acc, %m, %s clamp = [-128, 127] : tensor<1x10x4x8xi32>, tensor<8xi32>, tensor<8xi8> -> tensor<1x10x4x8xi8>
  return %q : tensor<1x10x4x8xi8>
}

// -----

// A loop whose tiles overlap (size 2, step 1) revisits outputs: the
// accumulators go through the i32 tensor, the requantize stays after it.
// CHECK-LABEL: func.func @negative_overlapping_tiles
// CHECK: scf.for {{.*}} -> (tensor<1x10x4x8xi32>)
// CHECK: vector.transfer_write {{.*}} : vector<8xi32>
// CHECK: vector.transfer_write {{.*}} : vector<16xi8>, tensor<1x10x4x8xi8>

!x = tensor<1x10x4x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 64>>
!xt = tensor<1x2x4x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 64>>
!f = tensor<8x1x1x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 64>>
func.func @negative_overlapping_tiles(%x: !x, %f: !f, %init: tensor<1x10x4x8xi32>, %m: tensor<8xi32>, %s: tensor<8xi8>) -> tensor<1x10x4x8xi8> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c9 = arith.constant 9 : index
  %acc = scf.for %row = %c0 to %c9 step %c1 iter_args(%arg = %init) -> (tensor<1x10x4x8xi32>) {
    %xs = tensor.extract_slice %x[0, %row, 0, 0, 0] [1, 2, 4, 1, 1] [1, 1, 1, 1, 1] : !x to !xt
    %is = tensor.extract_slice %arg[0, %row, 0, 0] [1, 2, 4, 8] [1, 1, 1, 1] : tensor<1x10x4x8xi32> to tensor<1x2x4x8xi32>
    %c = bitserial.conv2d ins(%xs, %f : !xt, !f) outs(%is : tensor<1x2x4x8xi32>) -> tensor<1x2x4x8xi32>
    %in = tensor.insert_slice %c into %arg[0, %row, 0, 0] [1, 2, 4, 8] [1, 1, 1, 1] : tensor<1x2x4x8xi32> into tensor<1x10x4x8xi32>
    scf.yield %in : tensor<1x10x4x8xi32>
  }
  %q = bitserial.requantize %acc, %m, %s clamp = [-128, 127] : tensor<1x10x4x8xi32>, tensor<8xi32>, tensor<8xi8> -> tensor<1x10x4x8xi8>
  return %q : tensor<1x10x4x8xi8>
}

// -----

// Codes in 32-bit words: the kernel packs 64-bit words only, so the
// threshold stays apart.
// CHECK-LABEL: func.func @negative_threshold_i32_words
// CHECK: vector.transfer_write {{.*}} : vector<4xi32>, tensor<1x1x2x5xi32>
// CHECK: vector.bitcast %{{.*}} : vector<32xi1> to vector<1xi32>

!a = tensor<2x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 64>>
!b = tensor<5x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 64>>
!y = tensor<2x1x1xi32, #bitserial.packed<bits = 1, encoding = bipolar, length = 5>>
func.func @negative_threshold_i32_words(%a: !a, %b: !b, %init: tensor<2x5xi32>, %t: tensor<5x1xi32>) -> !y {
  %acc = bitserial.matmul ins(%a, %b : !a, !b) outs(%init : tensor<2x5xi32>) -> tensor<2x5xi32>
  %y = bitserial.threshold %acc, %t : tensor<2x5xi32>, tensor<5x1xi32> -> !y
  return %y : !y
}
