// The kernel options and rules of the Cortex-A53 target (aarch64-a53)
// beyond those of convert-bitserial-to-vector.mlir: Horner-order plane
// pairs, a fresh result for a returned update of an argument, unrolled
// per-call copies, pairwise adds first in the narrow epilogue, and the
// unrolled window of one-chunk 3x3 reductions over 2 words.

// With horner-plane-pairs, the straight-line plane pairs go by falling
// weight: the 36 counts of pair (1, 0) count into byte sums, which double
// (shift by a constant 1) before the 36 counts of pair (0, 0) add into them;
// no shifted copy of the second pair's counts.
// RUN: bitserial-opt %s -split-input-file --convert-bitserial-to-vector="vector-bits=128 pixel-block=2 channel-block=2 fit-register-block=false unroll-steps=true narrow-accumulators=true unroll-plane-pairs=true horner-plane-pairs=true" --canonicalize | FileCheck %s --check-prefix=HORNER
// HORNER-LABEL: func.func @conv2d_a2w1
// HORNER: %[[ONE:.*]] = arith.constant dense<1> : vector<16xi8>
// HORNER-NOT: arith.shli
// HORNER-COUNT-36: math.ctpop %{{.*}} : vector<16xi8>
// HORNER-NOT: math.ctpop
// HORNER-COUNT-4: arith.shli %{{.*}}, %[[ONE]] : vector<16xi8>
// HORNER-NOT: arith.shli
// HORNER-COUNT-36: math.ctpop %{{.*}} : vector<16xi8>
// HORNER-NOT: math.ctpop
// HORNER-NOT: arith.shli
// HORNER: scf.if

// With fresh-returned-output, `init` (an argument, the result only
// returned) is only read, at global indices; the kernel writes a new tensor,
// which the function returns.
// RUN: bitserial-opt %s -split-input-file --convert-bitserial-to-vector="vector-bits=128 pixel-block=2 channel-block=2 fit-register-block=false unroll-steps=true narrow-accumulators=true fresh-returned-output=true" --canonicalize | FileCheck %s --check-prefix=FRESH
// Without it the kernel updates `init` in place.
// RUN: bitserial-opt %s -split-input-file --convert-bitserial-to-vector="vector-bits=128 pixel-block=2 channel-block=2 fit-register-block=false unroll-steps=true narrow-accumulators=true" --canonicalize | FileCheck %s --check-prefix=INPLACE
// FRESH-LABEL: func.func @conv2d_a2w1
// FRESH-SAME: %[[INIT:[a-z0-9]+]]: tensor<1x5x7x8xi32>)
// FRESH: %[[OUT:.*]] = tensor.empty() : tensor<1x5x7x8xi32>
// FRESH: %[[R:.*]] = scf.for {{.*}} iter_args(%{{.*}} = %[[OUT]]) -> (tensor<1x5x7x8xi32>)
// FRESH: vector.transfer_read %[[INIT]][%c0, {{.*}}], %c0_i32 {in_bounds = [true]} : tensor<1x5x7x8xi32>, vector<4xi32>
// FRESH-NOT: vector.transfer_write {{.*}}, %[[INIT]]
// FRESH: return %[[R]]
// INPLACE-LABEL: func.func @conv2d_a2w1
// INPLACE-SAME: %[[INIT:[a-z0-9]+]]: tensor<1x5x7x8xi32>)
// INPLACE-NOT: tensor.empty() : tensor<1x5x7x8xi32>
// INPLACE: scf.for {{.*}} iter_args(%{{.*}} = %[[INIT]]) -> (tensor<1x5x7x8xi32>)

// With unroll-steps, the per-call copies unroll their innermost loops up to
// 8 bodies: the input copy its (plane, word) loops (2 x 1), the filter
// relayout its (kw, plane, word) loops (3 x 1 x 1; with kh, 9 would be too
// many): one vector store per body.
// RUN: bitserial-opt %s -split-input-file --convert-bitserial-to-vector="vector-bits=128 pixel-block=2 channel-block=2 fit-register-block=false unroll-steps=true" --canonicalize | FileCheck %s --check-prefix=COPIES
// COPIES-LABEL: func.func @conv2d_a2w1
// COPIES: scf.for {{.*}} -> (tensor<1x7x10x2x1xi64>)
// COPIES-NEXT: arith
// COPIES: scf.for {{.*}} -> (tensor<1x7x10x2x1xi64>)
// COPIES-NOT: scf.for
// COPIES-COUNT-2: tensor.insert %{{.*}} : tensor<1x7x10x2x1xi64>
// COPIES: scf.yield
// COPIES: scf.for {{.*}} -> (tensor<4x3x3x1x1x2xi64>)
// COPIES: scf.for {{.*}} -> (tensor<4x3x3x1x1x2xi64>)
// COPIES-NOT: scf.for
// COPIES-COUNT-3: vector.transfer_write %{{.*}} : vector<2xi64>, tensor<4x3x3x1x1x2xi64>
// COPIES-NEXT: scf.yield
!X = tensor<1x7x9x2x1xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 64>>
!F = tensor<8x3x3x1x1xi64, #bitserial.packed<bits = 1, encoding = unsigned, length = 64>>
func.func @conv2d_a2w1(%x: !X, %f: !F, %init: tensor<1x5x7x8xi32>) -> tensor<1x5x7x8xi32> {
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%init : tensor<1x5x7x8xi32>) -> tensor<1x5x7x8xi32>
  return %r : tensor<1x5x7x8xi32>
}

// -----

// A result that is used other than by the return keeps the update in
// place. A filled `init` (on every target) is a broadcast scalar: the
// kernel writes a new tensor and the fill is dead.
// FRESH-LABEL: func.func @conv2d_result_used
// FRESH-SAME: %[[INIT:[a-z0-9]+]]: tensor<1x5x7x8xi32>)
// FRESH-NOT: tensor.empty() : tensor<1x5x7x8xi32>
// FRESH: scf.for {{.*}} iter_args(%{{.*}} = %[[INIT]]) -> (tensor<1x5x7x8xi32>)
// FRESH-LABEL: func.func @conv2d_filled_init
// FRESH-NOT: linalg.fill
// FRESH: %[[OUT:.*]] = tensor.empty() : tensor<1x5x7x8xi32>
// FRESH-NOT: linalg.fill
// FRESH: scf.for {{.*}} iter_args(%{{.*}} = %[[OUT]]) -> (tensor<1x5x7x8xi32>)
// FRESH-NOT: vector.transfer_read {{.*}} : tensor<1x5x7x8xi32>
// FRESH: return
!X = tensor<1x7x9x2x1xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 64>>
!F = tensor<8x3x3x1x1xi64, #bitserial.packed<bits = 1, encoding = unsigned, length = 64>>
func.func @conv2d_result_used(%x: !X, %f: !F, %init: tensor<1x5x7x8xi32>) -> (tensor<1x5x7x8xi32>, tensor<1x5x7x8xi32>) {
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%init : tensor<1x5x7x8xi32>) -> tensor<1x5x7x8xi32>
  return %r, %r : tensor<1x5x7x8xi32>, tensor<1x5x7x8xi32>
}
func.func @conv2d_filled_init(%x: !X, %f: !F) -> tensor<1x5x7x8xi32> {
  %c0 = arith.constant 0 : i32
  %e = tensor.empty() : tensor<1x5x7x8xi32>
  %z = linalg.fill ins(%c0 : i32) outs(%e : tensor<1x5x7x8xi32>) -> tensor<1x5x7x8xi32>
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%z : tensor<1x5x7x8xi32>) -> tensor<1x5x7x8xi32>
  return %r : tensor<1x5x7x8xi32>
}

// -----

// With narrow unsigned sums, the two vectors of a pixel add pairwise in the
// narrowest lanes where that cannot overflow: a 1x1 A2W1 layer over 64
// channels in bytes (a lane reaches 8 x 3 = 24, a pair 48), then one
// pairwise widening to halfwords and one to an i32 per channel.
// RUN: bitserial-opt %s -split-input-file --convert-bitserial-to-vector="vector-bits=128 pixel-block=4 channel-block=2 fit-register-block=false unroll-steps=true narrow-accumulators=true" --canonicalize | FileCheck %s --check-prefix=NARROW
// NARROW-LABEL: func.func @conv2d_1x1_byte_pairs
// NARROW: scf.if
// NARROW-NOT: vector.shape_cast
// NARROW: %[[EVEN:.*]] = vector.shuffle %[[V0:.*]], %[[V1:.*]] [0, 2, 4, {{.*}}, 30] : vector<16xi8>, vector<16xi8>
// NARROW-NEXT: %[[ODD:.*]] = vector.shuffle %[[V0]], %[[V1]] [1, 3, 5, {{.*}}, 31] : vector<16xi8>, vector<16xi8>
// NARROW-NEXT: %[[SUM:.*]] = arith.addi %[[EVEN]], %[[ODD]] : vector<16xi8>
// NARROW: vector.shape_cast %[[SUM]] : vector<16xi8> to vector<8x2xi8>
// NARROW-NEXT: arith.extui %{{.*}} : vector<8x2xi8> to vector<8x2xi16>
// NARROW: vector.shape_cast %{{.*}} : vector<8xi16> to vector<4x2xi16>
// NARROW-NEXT: arith.extui %{{.*}} : vector<4x2xi16> to vector<4x2xi32>
// NARROW: vector.transfer_read {{.*}} {in_bounds = [true]} : tensor<1x8x8x64xi32>, vector<4xi32>
!X = tensor<1x8x8x2x1xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 64>>
!F = tensor<64x1x1x1x1xi64, #bitserial.packed<bits = 1, encoding = unsigned, length = 64>>
func.func @conv2d_1x1_byte_pairs(%x: !X, %f: !F, %init: tensor<1x8x8x64xi32>) -> tensor<1x8x8x64xi32> {
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%init : tensor<1x8x8x64xi32>) -> tensor<1x8x8x64xi32>
  return %r : tensor<1x8x8x64xi32>
}

// -----

// With unroll-steps, a one-chunk 3x3 window over 2 words (9 taps, 6 steps a
// kernel row) unrolls the 9 taps and loops over the words: 9 steps x 4
// accumulators per iteration of a loop of 2, rather than 6 steps per
// iteration of a loop over the 3 kernel rows.
// RUN: bitserial-opt %s -split-input-file --convert-bitserial-to-vector="vector-bits=128 pixel-block=2 channel-block=2 fit-register-block=false unroll-steps=true" --canonicalize | FileCheck %s --check-prefix=WINDOW
// WINDOW-LABEL: func.func @conv2d_two_words
// WINDOW: scf.for %{{.*}} = %c0 to %c2 step %c1 iter_args({{.*}}) -> (vector<16xi8>, vector<16xi8>, vector<16xi8>, vector<16xi8>)
// WINDOW-NOT: scf.for
// WINDOW-COUNT-36: math.ctpop %{{.*}} : vector<16xi8>
// WINDOW-NOT: math.ctpop
// WINDOW: scf.yield
!X = tensor<1x7x9x1x2xi64, #bitserial.packed<bits = 1, encoding = unsigned, length = 128>>
!F = tensor<8x3x3x1x2xi64, #bitserial.packed<bits = 1, encoding = unsigned, length = 128>>
func.func @conv2d_two_words(%x: !X, %f: !F, %init: tensor<1x5x7x8xi32>) -> tensor<1x5x7x8xi32> {
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%init : tensor<1x5x7x8xi32>) -> tensor<1x5x7x8xi32>
  return %r : tensor<1x5x7x8xi32>
}

// -----

// A stride-2 window over 4 words: each kernel row's 12 straight-line steps
// take the words in adjacent pairs (one `ldp` on AArch64), and within a pair
// the taps that read the same input columns together (kw 0 and 2, then 1):
// (kw, word) = (0,0) (0,1) (2,0) (2,1) (1,0) (1,1), then words 2 and 3.
// RUN: bitserial-opt %s -split-input-file --convert-bitserial-to-vector="vector-bits=128 pixel-block=2 channel-block=2 fit-register-block=false unroll-steps=true" --canonicalize | FileCheck %s --check-prefix=STRIDED
// STRIDED-LABEL: func.func @conv2d_stride2_four_words
// STRIDED: scf.for %[[KH:[a-z0-9_]+]] = %c0 to %c3 step %c1 iter_args({{.*}}) -> (vector<
// STRIDED-NOT: scf.for
// STRIDED: vector.transfer_read %{{.*}}[%c0, %[[KH]], %c0, %c0, %c0, %c0]
// STRIDED: vector.transfer_read %{{.*}}[%c0, %[[KH]], %c0, %c0, %c1, %c0]
// STRIDED: vector.transfer_read %{{.*}}[%c0, %[[KH]], %c2, %c0, %c0, %c0]
// STRIDED: vector.transfer_read %{{.*}}[%c0, %[[KH]], %c2, %c0, %c1, %c0]
// STRIDED: vector.transfer_read %{{.*}}[%c0, %[[KH]], %c1, %c0, %c0, %c0]
// STRIDED: vector.transfer_read %{{.*}}[%c0, %[[KH]], %c1, %c0, %c1, %c0]
// STRIDED: vector.transfer_read %{{.*}}[%c0, %[[KH]], %c0, %c0, %c2, %c0]
// STRIDED: vector.transfer_read %{{.*}}[%c0, %[[KH]], %c0, %c0, %c3, %c0]
// STRIDED: vector.transfer_read %{{.*}}[%c0, %[[KH]], %c2, %c0, %c2, %c0]
// STRIDED: vector.transfer_read %{{.*}}[%c0, %[[KH]], %c2, %c0, %c3, %c0]
// STRIDED: vector.transfer_read %{{.*}}[%c0, %[[KH]], %c1, %c0, %c2, %c0]
// STRIDED: vector.transfer_read %{{.*}}[%c0, %[[KH]], %c1, %c0, %c3, %c0]
// STRIDED: scf.yield
!X = tensor<1x9x9x1x4xi64, #bitserial.packed<bits = 1, encoding = unsigned, length = 256>>
!F = tensor<4x3x3x1x4xi64, #bitserial.packed<bits = 1, encoding = unsigned, length = 256>>
func.func @conv2d_stride2_four_words(%x: !X, %f: !F, %init: tensor<1x5x5x4xi32>) -> tensor<1x5x5x4xi32> {
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%init : tensor<1x5x5x4xi32>) strides = [2, 2] padding = [1, 1, 1, 1] -> tensor<1x5x5x4xi32>
  return %r : tensor<1x5x5x4xi32>
}

// -----

// With widen-each-step, a reduction of 16-bit sums over more than one chunk
// (3x3 taps x 4 words = 36 steps) adds every step's byte counts, widened,
// into the 16-bit sums that the loop over kernel rows carries: no byte sums
// and no widening per kernel row. Without it, the steps count into byte
// sums that are widened once per kernel row.
// RUN: bitserial-opt %s -split-input-file --convert-bitserial-to-vector="vector-bits=128 pixel-block=2 channel-block=2 fit-register-block=false unroll-steps=true narrow-accumulators=true widen-each-step=true" --canonicalize | FileCheck %s --check-prefix=WIDEN
// RUN: bitserial-opt %s -split-input-file --convert-bitserial-to-vector="vector-bits=128 pixel-block=2 channel-block=2 fit-register-block=false unroll-steps=true narrow-accumulators=true" --canonicalize | FileCheck %s --check-prefix=CHUNKS
// WIDEN-LABEL: func.func @conv2d_36_steps
// WIDEN: scf.for %{{.*}} = %c0 to %c3 step %c1 iter_args({{.*}}) -> (vector<8xi16>, vector<8xi16>, vector<8xi16>, vector<8xi16>)
// WIDEN-NOT: arith.addi {{.*}} : vector<16xi8>
// WIDEN: %[[COUNT:.*]] = math.ctpop %{{.*}} : vector<16xi8>
// WIDEN-NEXT: %[[PAIRS:.*]] = vector.shape_cast %[[COUNT]] : vector<16xi8> to vector<8x2xi8>
// WIDEN-NEXT: %[[WIDE:.*]] = arith.extui %[[PAIRS]] : vector<8x2xi8> to vector<8x2xi16>
// WIDEN-NEXT: %[[SUM:.*]] = vector.multi_reduction <add>, %[[WIDE]], %{{.*}} [1] : vector<8x2xi16> to vector<8xi16>
// WIDEN-NEXT: arith.addi %{{.*}}, %[[SUM]] : vector<8xi16>
// WIDEN-COUNT-47: math.ctpop {{.*}} : vector<16xi8>
// WIDEN-NOT: arith.addi {{.*}} : vector<16xi8>
// WIDEN: scf.yield %{{.*}} : vector<8xi16>, vector<8xi16>, vector<8xi16>, vector<8xi16>
// CHUNKS-LABEL: func.func @conv2d_36_steps
// CHUNKS: scf.for %{{.*}} = %c0 to %c3 step %c1 iter_args({{.*}}) -> (vector<8xi16>, vector<8xi16>, vector<8xi16>, vector<8xi16>)
// CHUNKS: math.ctpop %{{.*}} : vector<16xi8>
// CHUNKS: arith.addi {{.*}} : vector<16xi8>
// CHUNKS: vector.multi_reduction <add>, %{{.*}}, %{{.*}} [1] : vector<8x2xi16> to vector<8xi16>
// CHUNKS: scf.yield %{{.*}} : vector<8xi16>, vector<8xi16>, vector<8xi16>, vector<8xi16>
!X = tensor<1x9x9x1x4xi64, #bitserial.packed<bits = 1, encoding = unsigned, length = 256>>
!F = tensor<4x3x3x1x4xi64, #bitserial.packed<bits = 1, encoding = unsigned, length = 256>>
func.func @conv2d_36_steps(%x: !X, %f: !F, %init: tensor<1x5x5x4xi32>) -> tensor<1x5x5x4xi32> {
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%init : tensor<1x5x5x4xi32>) strides = [2, 2] padding = [1, 1, 1, 1] -> tensor<1x5x5x4xi32>
  return %r : tensor<1x5x5x4xi32>
}

// -----

// A 1x1 window whose 4 plane pairs take 16 steps together (2 x 2 bits over
// 4 words) is straight-line code: 16 steps x 4 accumulators, no loop over
// the plane pairs.
// RUN: bitserial-opt %s -split-input-file --convert-bitserial-to-vector="vector-bits=128 pixel-block=2 channel-block=2 fit-register-block=false unroll-steps=true narrow-accumulators=true horner-plane-pairs=true" --canonicalize | FileCheck %s --check-prefix=PAIRS16
// PAIRS16-LABEL: func.func @conv2d_1x1_four_pairs
// PAIRS16: scf.for %{{.*}} = %c0 to %c3 step %c2 iter_args({{.*}}) -> (tensor<1x3x3x4xi32>)
// PAIRS16-NOT: scf.for
// PAIRS16-COUNT-64: math.ctpop
// PAIRS16-NOT: math.ctpop
// PAIRS16: return
!X = tensor<1x6x6x2x4xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 256>>
!F = tensor<4x1x1x2x4xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 256>>
func.func @conv2d_1x1_four_pairs(%x: !X, %f: !F, %init: tensor<1x3x3x4xi32>) -> tensor<1x3x3x4xi32> {
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%init : tensor<1x3x3x4xi32>) strides = [2, 2] -> tensor<1x3x3x4xi32>
  return %r : tensor<1x3x3x4xi32>
}
