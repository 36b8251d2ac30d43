// RUN: bitserial-opt %s --bitserial-vectorize="target=x86-avx2" --canonicalize | FileCheck %s --check-prefix=AVX2
// RUN: bitserial-opt %s --bitserial-vectorize="target=x86-avx512-vpopcntdq" --canonicalize | FileCheck %s --check-prefix=VPOPCNT
// RUN: bitserial-opt %s --bitserial-vectorize="target=generic" --canonicalize | FileCheck %s --check-prefix=GENERIC
// RUN: bitserial-opt %s --bitserial-vectorize="target=x86-avx2 tile=true conv-tile-sizes=1,0,0,5" --canonicalize | FileCheck %s --check-prefix=TILED
// RUN: bitserial-opt %s --bitserial-to-llvm="target=x86-avx2 tile=true conv-tile-sizes=1,0,0,5" | FileCheck %s --check-prefix=LLVM

// bitserial-vectorize picks the micro-kernel shape from the target name:
// x86-avx2: 8 accumulators of 4 channels (here fitted to rows of 7 pixels:
// 7 pixels x 1 vector), nibble lookups on i8 lanes (this conv reduces over
// 3 x 3 x 1 word = 9 steps per plane pair).
// AVX2-LABEL: func.func @conv
// AVX2: scf.for {{.*}} -> (vector<4xi64>, vector<4xi64>, vector<4xi64>, vector<4xi64>, vector<4xi64>, vector<4xi64>, vector<4xi64>)
// AVX2: math.ctpop %{{.*}} {bitserial.low_nibbles} : vector<32xi8>
// AVX2: vector.multi_reduction

// x86-avx512-vpopcntdq: 4 x 4 blocks of 8 channels, counts on i64 lanes.
// VPOPCNT-LABEL: func.func @conv
// VPOPCNT-NOT: vector<64xi8>
// VPOPCNT: math.ctpop %{{.*}} : vector<8xi64>
// VPOPCNT-NOT: vector.multi_reduction

// generic: 128-bit byte counts, no x86 marks.
// GENERIC-LABEL: func.func @conv
// GENERIC-NOT: bitserial.low_nibbles
// GENERIC: math.ctpop %{{.*}} : vector<16xi8>
// GENERIC-NOT: bitserial.low_nibbles

// tile=true with conv tile sizes (N, OH, OW, CO) = (1, all, all, 5): loops
// over tiles of 5 output channels around kernels on the slices.
// TILED-LABEL: func.func @conv
// TILED: scf.for %{{.*}} = %c0 to %c10 step %c5
// TILED: tensor.extract_slice
// TILED: math.ctpop %{{.*}} {bitserial.low_nibbles} : vector<32xi8>

// bitserial-to-llvm runs the same, then bitserial-x86-byte-counts: pshufb.
// LLVM-LABEL: llvm.func @conv
// LLVM: llvm.call_intrinsic "llvm.x86.avx2.pshuf.b"
// LLVM: llvm.call_intrinsic "llvm.x86.avx2.psad.bw"
!X = tensor<1x6x7x2x1xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 40>>
!F = tensor<10x3x3x2x1xi64, #bitserial.packed<bits = 2, encoding = signed, length = 40>>
func.func @conv(%x: !X, %f: !F, %init: tensor<1x6x7x10xi32>) -> tensor<1x6x7x10xi32> {
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%init : tensor<1x6x7x10xi32>) padding = [1, 1, 1, 1] -> tensor<1x6x7x10xi32>
  return %r : tensor<1x6x7x10xi32>
}
