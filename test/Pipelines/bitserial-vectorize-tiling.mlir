// RUN: bitserial-opt %s --bitserial-vectorize="target=x86-avx2 tile=true" | FileCheck %s --check-prefix=AVX2
// RUN: bitserial-opt %s --bitserial-vectorize="target=x86-avx512-vpopcntdq tile=true" | FileCheck %s --check-prefix=VPOPCNT

// With tile=true and no sizes given, bitserial-tile's heuristic fits tiles
// into the target's cache: 512 KiB for x86-avx2 (Zen 3), 1 MiB for the
// AVX-512 targets. The filter has 9 taps x 8 words x 8 bytes = 576 bytes per
// output channel and may take a quarter of the cache: 192 channels (a
// multiple of 64) on AVX2, 448 on AVX-512. All 7 rows fit: the height stays
// whole.
// AVX2-LABEL: func.func @conv
// AVX2: scf.for %{{.*}} = %c0{{.*}} to %c512 step %c192
// VPOPCNT-LABEL: func.func @conv
// VPOPCNT: scf.for %{{.*}} = %c0{{.*}} to %c512 step %c448
!X = tensor<1x7x7x1x8xi64, #bitserial.packed<bits = 1, encoding = unsigned, length = 512>>
!F = tensor<512x3x3x1x8xi64, #bitserial.packed<bits = 1, encoding = unsigned, length = 512>>
func.func @conv(%x: !X, %f: !F, %init: tensor<1x7x7x512xi32>) -> tensor<1x7x7x512xi32> {
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%init : tensor<1x7x7x512xi32>) padding = [1, 1, 1, 1] -> tensor<1x7x7x512xi32>
  return %r : tensor<1x7x7x512xi32>
}
