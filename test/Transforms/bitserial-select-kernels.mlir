// RUN: bitserial-opt %s -split-input-file --bitserial-select-kernels="target=x86-avx512-vpopcntdq int8=avx512-vnni" | FileCheck %s --check-prefix=HOST
// RUN: bitserial-opt %s -split-input-file --bitserial-select-kernels="target=x86-avx512-vpopcntdq int8=avx512-vnni emit-remarks=true" -o /dev/null 2>&1 | FileCheck %s --check-prefix=HOST-REMARK
// RUN: bitserial-opt %s -split-input-file --bitserial-select-kernels="target=x86-avx2 int8=avx2 emit-remarks=true" -o /dev/null 2>&1 | FileCheck %s --check-prefix=AVX2
// RUN: bitserial-opt %s -split-input-file --bitserial-select-kernels="target=aarch64-ooo int8=dot-product emit-remarks=true" -o /dev/null 2>&1 | FileCheck %s --check-prefix=DOT
// RUN: bitserial-opt %s -split-input-file --bitserial-select-kernels="target=aarch64-a53 emit-remarks=true" -o /dev/null 2>&1 | FileCheck %s --check-prefix=A53
// RUN: bitserial-opt %s -split-input-file --bitserial-select-kernels="target=x86-avx512-vpopcntdq int8=avx512-vnni min-bit-product=4 emit-remarks=true" -o /dev/null 2>&1 | FileCheck %s --check-prefix=RULE
// AMX-INT8: tiles for the convolutions of static shape (from 1 x 1 bits on
// the 56x56 layers) and matmuls of at least 16 rows, vpdpbusd and its costs
// for the other ops.
// RUN: bitserial-opt %s -split-input-file --bitserial-select-kernels="target=x86-avx512-vpopcntdq int8=amx emit-remarks=true" -o /dev/null 2>&1 | FileCheck %s --check-prefix=AMX
// RUN: not bitserial-opt /dev/null --bitserial-select-kernels="target=x86-avx2 int8=amx" 2>&1 | FileCheck %s --check-prefix=AMX-AVX2
// AMX-AVX2: error: int8 instruction 'amx' does not exist on target 'x86-avx2'

// Option errors: one message, non-zero exit.
// RUN: not bitserial-opt /dev/null --bitserial-select-kernels="target=aarch64-ooo int8=avx512-vnni" 2>&1 | FileCheck %s --check-prefix=ARCH
// ARCH: error: int8 instruction 'avx512-vnni' does not exist on target 'aarch64-ooo'
// RUN: not bitserial-opt /dev/null --bitserial-select-kernels="target=generic int8=dot-product" 2>&1 | FileCheck %s --check-prefix=GENERIC
// GENERIC: error: int8 instruction 'dot-product' does not exist on target 'generic'
// RUN: not bitserial-opt /dev/null --bitserial-select-kernels="min-bit-product=-1" 2>&1 | FileCheck %s --check-prefix=NEGATIVE
// NEGATIVE: error: min-bit-product must be at least 0, got -1
// RUN: not bitserial-opt /dev/null --bitserial-select-kernels="target=x86-sse" 2>&1 | FileCheck %s --check-prefix=UNKNOWN
// UNKNOWN: Cannot find option named 'x86-sse'

// ResNet-18's C2 (56x56, 64 -> 64 channels, 3x3) at 1 x 1 bits: bit-serial
// on every target, with the target's register block (4 pixels x 4 vectors
// of 8 channels on AVX-512 VPOPCNTDQ, 4 x 2 vectors of 4 on AVX2) but for
// AVX2's one-pixel block: one plane pair and a nibble-split filter of 9 KiB
// (<= 64 KiB), 1 x 8 vectors (measured on Zen 3, docs/benchmarks.md).
// HOST-LABEL: func.func @c2_a1w1
// HOST: bitserial.conv2d
// HOST-SAME: bitserial.kernel = "bitserial", bitserial.register_block = array<i64: 4, 4>
// HOST-REMARK: remark: kernel bitserial (cost model); estimated cycles: bit-serial {{[0-9]+}} (block 4x4), int8 avx512-vnni {{[0-9]+}}
// AVX2: remark: kernel bitserial (cost model); estimated cycles: bit-serial {{[0-9]+}} (block 1x8), int8 avx2 {{[0-9]+}}
// DOT: remark: kernel bitserial (cost model); estimated cycles: bit-serial {{[0-9]+}} (block 4x2), int8 dot-product {{[0-9]+}}
// A53: remark: kernel bitserial (no int8 instruction); estimated cycles: bit-serial {{[0-9]+}} (block 4x2){{$}}
// RULE: remark: kernel bitserial (min-bit-product 4)
// AMX: remark: kernel int8 (cost model); estimated cycles: bit-serial {{[0-9]+}} (block 4x4), int8 amx {{[0-9]+}}{{$}}
!X = tensor<1x56x56x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 64>>
!F = tensor<64x3x3x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 64>>
func.func @c2_a1w1(%x: !X, %f: !F, %init: tensor<1x56x56x64xi32>) -> tensor<1x56x56x64xi32> {
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%init : tensor<1x56x56x64xi32>) padding = [1, 1, 1, 1] -> tensor<1x56x56x64xi32>
  return %r : tensor<1x56x56x64xi32>
}

// -----

// C2 at 2 x 2 bits: bit-serial on the Zen 5; int8 on the Neoverse-N1
// (measured on its model, sdot by lane: 3.81 ms int8, 5.22 ms bit-serial)
// and, with narrow int8 products (vpmaddubsw into i16 sums), on AVX2
// without VNNI (0.80 ms against 1.02 ms bit-serial on Zen 3); the old
// rule's threshold of 4 takes int8.
// HOST-LABEL: func.func @c2_a2w2
// HOST: bitserial.{{conv2d|matmul}}
// HOST-SAME: bitserial.kernel = "bitserial", bitserial.register_block = array<i64: 4, 4>
// HOST-REMARK: remark: kernel bitserial (cost model); estimated cycles: bit-serial 984401 (block 4x4), int8 avx512-vnni 1325236
// AVX2: remark: kernel int8 (cost model)
// DOT: remark: kernel int8 (cost model)
// RULE: remark: kernel int8 (min-bit-product 4)
!X = tensor<1x56x56x2x1xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 64>>
!F = tensor<64x3x3x2x1xi64, #bitserial.packed<bits = 2, encoding = signed, length = 64>>
func.func @c2_a2w2(%x: !X, %f: !F, %init: tensor<1x56x56x64xi32>) -> tensor<1x56x56x64xi32> {
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%init : tensor<1x56x56x64xi32>) padding = [1, 1, 1, 1] -> tensor<1x56x56x64xi32>
  return %r : tensor<1x56x56x64xi32>
}

// -----

// C2 at 3 x 2 bits: int8 on the Zen 5 (measured: 0.284 ms int8, 0.336 ms
// bit-serial) and the Neoverse-N1 model; on AVX2 with narrow products.
// HOST-LABEL: func.func @c2_a3w2
// HOST: bitserial.{{conv2d|matmul}}
// HOST-SAME: bitserial.kernel = "int8"
// HOST-NOT: register_block
// HOST-REMARK: remark: kernel int8 (cost model); estimated cycles: bit-serial {{[0-9]+}} (block 4x4), int8 avx512-vnni {{[0-9]+}}
// AVX2: remark: kernel int8 (cost model)
// DOT: remark: kernel int8 (cost model)
// RULE: remark: kernel int8 (min-bit-product 4)
!X = tensor<1x56x56x3x1xi64, #bitserial.packed<bits = 3, encoding = unsigned, length = 64>>
!F = tensor<64x3x3x2x1xi64, #bitserial.packed<bits = 2, encoding = signed, length = 64>>
func.func @c2_a3w2(%x: !X, %f: !F, %init: tensor<1x56x56x64xi32>) -> tensor<1x56x56x64xi32> {
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%init : tensor<1x56x56x64xi32>) padding = [1, 1, 1, 1] -> tensor<1x56x56x64xi32>
  return %r : tensor<1x56x56x64xi32>
}

// -----

// C3 (1x1, 56x56, 64 -> 64 channels) at 2 x 2 bits: on x86 half the
// accumulators (4 x 2 on AVX-512 VPOPCNTDQ, 4 x 1 on AVX2), measured 1.2x
// and 1.1x faster than the full blocks on 1x1 layers of one or two words
// with at least 4 plane pairs x words (docs/benchmarks.md, "Tuning"); the
// AArch64 targets keep theirs. On AVX2 without VNNI, narrow int8 products
// (vpmaddubsw into i16 sums) beat both (1.5x measured on Zen 3).
// HOST-LABEL: func.func @c3_a2w2
// HOST: bitserial.conv2d
// HOST-SAME: bitserial.kernel = "bitserial", bitserial.register_block = array<i64: 4, 2>
// HOST-REMARK: remark: kernel bitserial (cost model); estimated cycles: bit-serial {{[0-9]+}} (block 4x2)
// AVX2: remark: kernel int8 (cost model); estimated cycles: bit-serial {{[0-9]+}} (block 4x1), int8 avx2 {{[0-9]+}}
// A53: remark: kernel bitserial (no int8 instruction); estimated cycles: bit-serial {{[0-9]+}} (block 4x2)
!X = tensor<1x56x56x2x1xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 64>>
!F = tensor<64x1x1x2x1xi64, #bitserial.packed<bits = 2, encoding = signed, length = 64>>
func.func @c3_a2w2(%x: !X, %f: !F, %init: tensor<1x56x56x64xi32>) -> tensor<1x56x56x64xi32> {
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%init : tensor<1x56x56x64xi32>) -> tensor<1x56x56x64xi32>
  return %r : tensor<1x56x56x64xi32>
}

// -----

// C3 at 2 x 1 bits: 2 plane pairs x 1 word, the full 4 x 4 block (the
// blocks tied).
// HOST-LABEL: func.func @c3_a2w1
// HOST: bitserial.conv2d
// HOST-SAME: bitserial.kernel = "bitserial", bitserial.register_block = array<i64: 4, 4>
// HOST-REMARK: remark: kernel bitserial (cost model); estimated cycles: bit-serial {{[0-9]+}} (block 4x4)
// AVX2: remark: kernel bitserial (cost model)
// A53: remark: kernel bitserial (no int8 instruction)
!X = tensor<1x56x56x2x1xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 64>>
!F = tensor<64x1x1x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 64>>
func.func @c3_a2w1(%x: !X, %f: !F, %init: tensor<1x56x56x64xi32>) -> tensor<1x56x56x64xi32> {
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%init : tensor<1x56x56x64xi32>) -> tensor<1x56x56x64xi32>
  return %r : tensor<1x56x56x64xi32>
}

// -----

// Constant filters (as in a deployed network: the int8 lowerings decode
// them at compile time), the Zen 5 constants (benchmarks/fit_cost_model.py,
// docs/design.md "Cost model"). C5 (1x1, stride 2, 56x56 -> 28x28, 64 -> 128
// channels) at 2 x 2 bits: bit-serial (measured 0.0155 ms against 0.0164
// int8). At 3 x 2 bits C9 (14x14, 256 -> 256, 3x3) takes int8 (0.276 ms
// against 0.304) but C12 (7x7, 512 -> 512, the same MACs) bit-serial (0.308
// against 0.405): its 2.4 MB of i8 filter codes pass the 1 MiB L2 and
// stream from L3 for every block of 6 pixels.
// HOST-LABEL: func.func @constant_filters
// HOST: bitserial.conv2d {{.*}}bitserial.kernel = "bitserial", bitserial.register_block = array<i64: 4, 2>
// HOST: bitserial.conv2d {{.*}}bitserial.kernel = "int8"
// HOST: bitserial.conv2d {{.*}}bitserial.kernel = "bitserial", bitserial.register_block = array<i64: 7, 2>
!X5 = tensor<1x56x56x2x1xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 64>>
!F5 = tensor<128x1x1x2x1xi64, #bitserial.packed<bits = 2, encoding = signed, length = 64>>
!X9 = tensor<1x14x14x3x4xi64, #bitserial.packed<bits = 3, encoding = unsigned, length = 256>>
!F9 = tensor<256x3x3x2x4xi64, #bitserial.packed<bits = 2, encoding = signed, length = 256>>
!X12 = tensor<1x7x7x3x8xi64, #bitserial.packed<bits = 3, encoding = unsigned, length = 512>>
!F12 = tensor<512x3x3x2x8xi64, #bitserial.packed<bits = 2, encoding = signed, length = 512>>
func.func @constant_filters(%x5: !X5, %i5: tensor<1x28x28x128xi32>, %x9: !X9, %i9: tensor<1x14x14x256xi32>, %x12: !X12, %i12: tensor<1x7x7x512xi32>) -> (tensor<1x28x28x128xi32>, tensor<1x14x14x256xi32>, tensor<1x7x7x512xi32>) {
  %f5 = arith.constant dense<5> : !F5
  %f9 = arith.constant dense<5> : !F9
  %f12 = arith.constant dense<5> : !F12
  %r5 = bitserial.conv2d ins(%x5, %f5 : !X5, !F5) outs(%i5 : tensor<1x28x28x128xi32>) strides = [2, 2] -> tensor<1x28x28x128xi32>
  %r9 = bitserial.conv2d ins(%x9, %f9 : !X9, !F9) outs(%i9 : tensor<1x14x14x256xi32>) padding = [1, 1, 1, 1] -> tensor<1x14x14x256xi32>
  %r12 = bitserial.conv2d ins(%x12, %f12 : !X12, !F12) outs(%i12 : tensor<1x7x7x512xi32>) padding = [1, 1, 1, 1] -> tensor<1x7x7x512xi32>
  return %r5, %r9, %r12 : tensor<1x28x28x128xi32>, tensor<1x14x14x256xi32>, tensor<1x7x7x512xi32>
}

// -----

// AVX2's one-pixel block needs one plane pair and a nibble-split filter of
// at most 64 KiB: C9 (14x14, 256 -> 256, 3x3) at 1 x 1 bits has 144 KiB
// (every pixel would re-read it: 1.25x slower measured) and keeps 2 x 4;
// C2 at 2 x 1 bits (two plane pairs) keeps 4 x 2.
// AVX2: remark: kernel bitserial (cost model); estimated cycles: bit-serial {{[0-9]+}} (block 2x4)
// AVX2: remark: kernel bitserial (cost model); estimated cycles: bit-serial {{[0-9]+}} (block 4x2)
!X9 = tensor<1x14x14x1x4xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 256>>
!F9 = tensor<256x3x3x1x4xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 256>>
!X2 = tensor<1x56x56x2x1xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 64>>
!F2 = tensor<64x3x3x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 64>>
func.func @avx2_two_pixel_blocks(%x9: !X9, %f9: !F9, %i9: tensor<1x14x14x256xi32>, %x2: !X2, %f2: !F2, %i2: tensor<1x56x56x64xi32>) -> (tensor<1x14x14x256xi32>, tensor<1x56x56x64xi32>) {
  %r9 = bitserial.conv2d ins(%x9, %f9 : !X9, !F9) outs(%i9 : tensor<1x14x14x256xi32>) padding = [1, 1, 1, 1] -> tensor<1x14x14x256xi32>
  %r2 = bitserial.conv2d ins(%x2, %f2 : !X2, !F2) outs(%i2 : tensor<1x56x56x64xi32>) padding = [1, 1, 1, 1] -> tensor<1x56x56x64xi32>
  return %r9, %r2 : tensor<1x14x14x256xi32>, tensor<1x56x56x64xi32>
}

// -----

// On AVX-512 VPOPCNTDQ a 3x3 filter over 48 KiB keeps at least the target's
// 4 pixels per block: C9 (14x14, 256 -> 256) at 1 x 1 bits (72 KiB) and C7
// (28x28 -> 14x14, 128 -> 256) at 2 x 2 bits (72 KiB) take 7 x 2 rather than
// 2 x 8 (every pixel block streams the filter from L2: 10-20% faster
// measured on Zen 5); C7 at 1 x 1 bits (36 KiB) keeps 2 x 8.
// HOST-LABEL: func.func @wide_pixel_blocks
// HOST: bitserial.conv2d {{.*}} bitserial.register_block = array<i64: 7, 2>
// HOST: bitserial.conv2d {{.*}} bitserial.register_block = array<i64: 7, 2>
// HOST: bitserial.conv2d {{.*}} bitserial.register_block = array<i64: 2, 8>
!X9 = tensor<1x16x16x1x4xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 256>>
!F9 = tensor<256x3x3x1x4xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 256>>
!X7 = tensor<1x30x30x2x2xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 128>>
!F7 = tensor<256x3x3x2x2xi64, #bitserial.packed<bits = 2, encoding = signed, length = 128>>
!X1 = tensor<1x30x30x1x2xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 128>>
!F1 = tensor<256x3x3x1x2xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 128>>
func.func @wide_pixel_blocks(%x9: !X9, %f9: !F9, %i9: tensor<1x14x14x256xi32>, %x7: !X7, %f7: !F7, %x1: !X1, %f1: !F1, %i7: tensor<1x14x14x256xi32>) -> (tensor<1x14x14x256xi32>, tensor<1x14x14x256xi32>, tensor<1x14x14x256xi32>) {
  %r9 = bitserial.conv2d ins(%x9, %f9 : !X9, !F9) outs(%i9 : tensor<1x14x14x256xi32>) -> tensor<1x14x14x256xi32>
  %r7 = bitserial.conv2d ins(%x7, %f7 : !X7, !F7) outs(%i7 : tensor<1x14x14x256xi32>) strides = [2, 2] -> tensor<1x14x14x256xi32>
  %r1 = bitserial.conv2d ins(%x1, %f1 : !X1, !F1) outs(%i7 : tensor<1x14x14x256xi32>) strides = [2, 2] -> tensor<1x14x14x256xi32>
  return %r9, %r7, %r1 : tensor<1x14x14x256xi32>, tensor<1x14x14x256xi32>, tensor<1x14x14x256xi32>
}

// -----

// Nor with a fused epilogue: C2 at 1 x 1 bits thresholded to packed bits
// keeps 4 x 2 (each block reads its channels' thresholds; the binarized
// ResNet-18 was 3-5% slower with one-pixel blocks).
// AVX2: remark: kernel bitserial (cost model); estimated cycles: bit-serial {{[0-9]+}} (block 4x2)
!X = tensor<1x56x56x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 64>>
!F = tensor<64x3x3x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 64>>
!Y = tensor<1x56x56x1x1xi64, #bitserial.packed<bits = 1, encoding = unsigned, length = 64>>
func.func @avx2_fused_threshold(%x: !X, %f: !F, %init: tensor<1x56x56x64xi32>, %t: tensor<64x1xi32>) -> !Y {
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%init : tensor<1x56x56x64xi32>) padding = [1, 1, 1, 1] -> tensor<1x56x56x64xi32>
  %y = bitserial.threshold %r, %t : tensor<1x56x56x64xi32>, tensor<64x1xi32> -> !Y
  return %y : !Y
}

// -----

// C12 (7x7, 512 -> 512 channels) at 4 x 2 bits: decoding the 512 x 3 x 3 x
// 512 weights on every call costs more than int8 saves over 49 pixels on
// x86 with vpdpbusd (measured, docs/benchmarks.md); on the Neoverse-N1,
// and on AVX2 with narrow products, int8 wins. The register block is
// fitted to rows of 7 pixels.
// HOST-LABEL: func.func @c12_a4w2
// HOST: bitserial.{{conv2d|matmul}}
// HOST-SAME: bitserial.kernel = "bitserial", bitserial.register_block = array<i64: 7, 2>
// HOST-REMARK: remark: kernel bitserial (cost model); estimated cycles: bit-serial {{[0-9]+}} (block 7x2), int8 avx512-vnni {{[0-9]+}}
// AVX2: remark: kernel int8 (cost model); estimated cycles: bit-serial {{[0-9]+}} (block 7x1)
// DOT: remark: kernel int8 (cost model); estimated cycles: bit-serial {{[0-9]+}} (block 7x1)
// RULE: remark: kernel int8 (min-bit-product 4)
!X = tensor<1x7x7x4x8xi64, #bitserial.packed<bits = 4, encoding = unsigned, length = 512>>
!F = tensor<512x3x3x2x8xi64, #bitserial.packed<bits = 2, encoding = signed, length = 512>>
func.func @c12_a4w2(%x: !X, %f: !F, %init: tensor<1x7x7x512xi32>) -> tensor<1x7x7x512xi32> {
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%init : tensor<1x7x7x512xi32>) padding = [1, 1, 1, 1] -> tensor<1x7x7x512xi32>
  return %r : tensor<1x7x7x512xi32>
}

// -----

// The ResNet-18 stem as im2col rows: 12544 x 147 x 64 at 8 x 4 bits. int8.
// HOST-LABEL: func.func @stem
// HOST: bitserial.matmul
// HOST-SAME: bitserial.kernel = "int8"
// HOST-REMARK: remark: kernel int8 (cost model)
// AVX2: remark: kernel int8 (cost model)
// DOT: remark: kernel int8 (cost model)
// A53: remark: kernel bitserial (no int8 instruction)
// AMX: remark: kernel int8 (cost model); estimated cycles: bit-serial {{[0-9]+}} (block 4x4), int8 amx {{[0-9]+}}{{$}}
!A = tensor<12544x8x3xi64, #bitserial.packed<bits = 8, encoding = unsigned, length = 147>>
!B = tensor<64x4x3xi64, #bitserial.packed<bits = 4, encoding = signed, length = 147>>
func.func @stem(%a: !A, %b: !B, %init: tensor<12544x64xi32>) -> tensor<12544x64xi32> {
  %r = bitserial.matmul ins(%a, %b : !A, !B) outs(%init : tensor<12544x64xi32>) -> tensor<12544x64xi32>
  return %r : tensor<12544x64xi32>
}

// -----

// The classifier: one row of 512 8-bit codes x 1000 x 512 8-bit weights.
// Bit-serial: int8 would decode every weight for one use (AArch64: about
// 1.4 cycles per 8-bit weight, straight into its channel blocks). The
// bit-serial estimate counts one row of its 2x4 block: the padded row is
// never stored, and LLVM drops its work.
// HOST-LABEL: func.func @classifier
// HOST: bitserial.{{conv2d|matmul}}
// HOST-SAME: bitserial.kernel = "bitserial", bitserial.register_block = array<i64: 2, 8>
// HOST-REMARK: remark: kernel bitserial (cost model)
// AVX2: remark: kernel bitserial (cost model)
// DOT: remark: kernel bitserial (cost model); estimated cycles: bit-serial 424705 (block 2x4), int8 dot-product 787344
!A = tensor<1x8x8xi64, #bitserial.packed<bits = 8, encoding = unsigned, length = 512>>
!B = tensor<1000x8x8xi64, #bitserial.packed<bits = 8, encoding = signed, length = 512>>
func.func @classifier(%a: !A, %b: !B, %init: tensor<1x1000xi32>) -> tensor<1x1000xi32> {
  %r = bitserial.matmul ins(%a, %b : !A, !B) outs(%init : tensor<1x1000xi32>) -> tensor<1x1000xi32>
  return %r : tensor<1x1000xi32>
}

// -----

// The same classifier with constant weights, decoded (and on x86 re-laid
// out) at compile time: int8 (Zen 3, x86-avx2: 0.03 ms against 0.13 ms
// bit-serial; Neoverse-N1 model: 0.082 against 0.439 ms).
// HOST-REMARK: remark: kernel int8 (cost model)
// AVX2: remark: kernel int8 (cost model)
// DOT: remark: kernel int8 (cost model)
!A = tensor<1x8x8xi64, #bitserial.packed<bits = 8, encoding = unsigned, length = 512>>
!B = tensor<1000x8x8xi64, #bitserial.packed<bits = 8, encoding = signed, length = 512>>
func.func @classifier_constant(%a: !A, %init: tensor<1x1000xi32>) -> tensor<1x1000xi32> {
  %b = arith.constant dense<6148914691236517205> : !B
  %r = bitserial.matmul ins(%a, %b : !A, !B) outs(%init : tensor<1x1000xi32>) -> tensor<1x1000xi32>
  return %r : tensor<1x1000xi32>
}

// -----

// The user's bitserial.int8 wins either way: no annotation is added; the
// remark names it.
// HOST-LABEL: func.func @user_choice
// HOST: bitserial.matmul
// HOST-SAME: {bitserial.int8 = false}
// HOST-NOT: bitserial.kernel
// HOST: bitserial.matmul
// HOST-SAME: {bitserial.int8 = true}
// HOST-NOT: bitserial.kernel
// HOST-REMARK: remark: kernel bitserial (bitserial.int8 = false); estimated cycles: bit-serial {{[0-9]+}} (block 4x4), int8 avx512-vnni {{[0-9]+}}
// HOST-REMARK: remark: kernel int8 (bitserial.int8 = true)
// RULE: remark: kernel bitserial (bitserial.int8 = false)
// RULE: remark: kernel int8 (bitserial.int8 = true)
// A53: remark: kernel bitserial (bitserial.int8 = false)
// A53: remark: kernel bitserial (bitserial.int8 = true, not handled by the int8 lowering)
!A8 = tensor<12544x8x3xi64, #bitserial.packed<bits = 8, encoding = unsigned, length = 147>>
!B4 = tensor<64x4x3xi64, #bitserial.packed<bits = 4, encoding = signed, length = 147>>
!A1 = tensor<64x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 64>>
!B1 = tensor<64x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 64>>
func.func @user_choice(%a: !A8, %b: !B4, %init: tensor<12544x64xi32>, %c: !A1, %d: !B1, %init1: tensor<64x64xi32>) -> (tensor<12544x64xi32>, tensor<64x64xi32>) {
  %r = bitserial.matmul ins(%a, %b : !A8, !B4) outs(%init : tensor<12544x64xi32>) {bitserial.int8 = false} -> tensor<12544x64xi32>
  %s = bitserial.matmul ins(%c, %d : !A1, !B1) outs(%init1 : tensor<64x64xi32>) {bitserial.int8 = true} -> tensor<64x64xi32>
  return %r, %s : tensor<12544x64xi32>, tensor<64x64xi32>
}

// -----

// Batched weights: the x86 int8 lowering does not handle them.
// HOST-LABEL: func.func @batched_weights
// HOST: bitserial.{{conv2d|matmul}}
// HOST-SAME: bitserial.kernel = "bitserial"
// HOST-REMARK: remark: kernel bitserial (not handled by the int8 lowering); estimated cycles: bit-serial {{[0-9]+}} (block 4x4), int8 avx512-vnni {{[0-9]+}}
// DOT: remark: kernel int8 (cost model)
!A = tensor<2x300x8x3xi64, #bitserial.packed<bits = 8, encoding = unsigned, length = 147>>
!B = tensor<2x64x8x3xi64, #bitserial.packed<bits = 8, encoding = signed, length = 147>>
func.func @batched_weights(%a: !A, %b: !B, %init: tensor<2x300x64xi32>) -> tensor<2x300x64xi32> {
  %r = bitserial.matmul ins(%a, %b : !A, !B) outs(%init : tensor<2x300x64xi32>) -> tensor<2x300x64xi32>
  return %r : tensor<2x300x64xi32>
}

// -----

// Dynamic sizes (a tile's) count as 256; the register block is the
// target's, as the kernel does not fit it to a dynamic width.
// HOST-LABEL: func.func @dynamic
// HOST: bitserial.{{conv2d|matmul}}
// HOST-SAME: bitserial.kernel = "int8"
// HOST-REMARK: remark: kernel int8 (cost model); estimated cycles: bit-serial {{[0-9]+}} (block 4x4), int8 avx512-vnni {{[0-9]+}}; dynamic sizes counted as 256
// AVX2: remark: kernel int8 (cost model); estimated cycles: bit-serial {{[0-9]+}} (block 4x2), int8 avx2 {{[0-9]+}}; dynamic sizes counted as 256
// A53: remark: kernel bitserial (no int8 instruction); estimated cycles: bit-serial {{[0-9]+}} (block 4x2); dynamic sizes counted as 256
!A = tensor<?x8x4xi64, #bitserial.packed<bits = 8, encoding = unsigned, length = 256>>
!B = tensor<?x8x4xi64, #bitserial.packed<bits = 8, encoding = signed, length = 256>>
func.func @dynamic(%a: !A, %b: !B, %init: tensor<?x?xi32>) -> tensor<?x?xi32> {
  %r = bitserial.matmul ins(%a, %b : !A, !B) outs(%init : tensor<?x?xi32>) -> tensor<?x?xi32>
  return %r : tensor<?x?xi32>
}

// -----

// The user's bitserial.register_block (no bitserial.kernel: this pass did
// not set it) keeps the bit-serial kernel with that block, also where the
// cost model picks int8 (8 x 4 bits, as in @user_choice). With a
// bitserial.kernel next to it (the user's, or this pass's from an earlier
// run), the op keeps both. A bitserial.kernel = "int8" stays where the
// target has an int8 kernel for the op.
// HOST-LABEL: func.func @user_register_block
// HOST: bitserial.matmul
// HOST-SAME: {bitserial.register_block = array<i64: 2, 3>}
// HOST: bitserial.matmul
// HOST-SAME: {bitserial.kernel = "bitserial", bitserial.register_block = array<i64: 2, 3>}
// HOST: bitserial.matmul
// HOST-SAME: {bitserial.kernel = "int8"}
// HOST-REMARK: remark: kernel bitserial (bitserial.register_block 2x3); estimated cycles: bit-serial {{[0-9]+}} (block 4x4), int8 avx512-vnni {{[0-9]+}}
// HOST-REMARK: remark: kernel bitserial (bitserial.kernel = "bitserial", block 2x3)
// HOST-REMARK: remark: kernel int8 (bitserial.kernel = "int8")
// A53: remark: kernel bitserial (bitserial.register_block 2x3)
// A53: remark: kernel bitserial (bitserial.kernel = "bitserial", block 2x3)
// A53: remark: kernel bitserial (bitserial.kernel = "int8", no int8 instruction)
!A8 = tensor<12544x8x3xi64, #bitserial.packed<bits = 8, encoding = unsigned, length = 147>>
!B4 = tensor<64x4x3xi64, #bitserial.packed<bits = 4, encoding = signed, length = 147>>
func.func @user_register_block(%a: !A8, %b: !B4, %init: tensor<12544x64xi32>) -> (tensor<12544x64xi32>, tensor<12544x64xi32>) {
  %r = bitserial.matmul ins(%a, %b : !A8, !B4) outs(%init : tensor<12544x64xi32>) {bitserial.register_block = array<i64: 2, 3>} -> tensor<12544x64xi32>
  %s = bitserial.matmul ins(%a, %b : !A8, !B4) outs(%init : tensor<12544x64xi32>) {bitserial.kernel = "bitserial", bitserial.register_block = array<i64: 2, 3>} -> tensor<12544x64xi32>
  %t = bitserial.matmul ins(%a, %b : !A8, !B4) outs(%init : tensor<12544x64xi32>) {bitserial.kernel = "int8"} -> tensor<12544x64xi32>
  return %r, %s : tensor<12544x64xi32>, tensor<12544x64xi32>
}

// -----

// C12 (7x7, 512 -> 512, 3x3) at 2 x 2 bits, AVX2 target: the int8 kernel of
// narrow products wins when the weights are a constant (re-laid out at
// compile time), not when every call decodes 2.4 M weights.
// HOST-LABEL: func.func @c12_a2w2_weights
// AVX2: remark: kernel bitserial (cost model); estimated cycles: bit-serial [[BS:[0-9]+]] (block 7x1), int8 avx2 [[ARG:[0-9]+]]
// AVX2: remark: kernel int8 (cost model); estimated cycles: bit-serial [[BS]] (block 7x1), int8 avx2 {{[0-9]+}}
!X = tensor<1x7x7x2x8xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 512>>
!F = tensor<512x3x3x2x8xi64, #bitserial.packed<bits = 2, encoding = signed, length = 512>>
func.func @c12_a2w2_weights(%x: !X, %f: !F, %init: tensor<1x7x7x512xi32>) -> (tensor<1x7x7x512xi32>, tensor<1x7x7x512xi32>) {
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%init : tensor<1x7x7x512xi32>) padding = [1, 1, 1, 1] -> tensor<1x7x7x512xi32>
  %c = arith.constant dense<6148914691236517205> : !F
  %s = bitserial.conv2d ins(%x, %c : !X, !F) outs(%init : tensor<1x7x7x512xi32>) padding = [1, 1, 1, 1] -> tensor<1x7x7x512xi32>
  return %r, %s : tensor<1x7x7x512xi32>, tensor<1x7x7x512xi32>
}

// -----

// Matmuls with constant 2 x 2-bit weights, AVX2 target: every register
// block of rows streams all int8 weights; 2048 x 2048 codes (4 MiB) stay
// in the caches and int8 wins (measured on Zen 3: 2.8 ms against 3.8 ms
// bit-serial at M = 64), 4096 x 4096 codes (16 MiB) come from memory each
// time and bit-serial wins (11.1 ms against 14.8).
// HOST-LABEL: func.func @dense_weight_streams
// AVX2: remark: kernel int8 (cost model); estimated cycles: bit-serial {{[0-9]+}} (block 4x2), int8 avx2 {{[0-9]+}}
// AVX2: remark: kernel bitserial (cost model); estimated cycles: bit-serial {{[0-9]+}} (block 4x2), int8 avx2 {{[0-9]+}}
// AMX-COUNT-2: remark: kernel int8 (cost model); estimated cycles: bit-serial {{[0-9]+}} (block 4x4), int8 amx {{[0-9]+}}{{$}}
!A2 = tensor<64x2x32xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 2048>>
!B2 = tensor<2048x2x32xi64, #bitserial.packed<bits = 2, encoding = signed, length = 2048>>
!A4 = tensor<64x2x64xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 4096>>
!B4 = tensor<4096x2x64xi64, #bitserial.packed<bits = 2, encoding = signed, length = 4096>>
func.func @dense_weight_streams(%a2: !A2, %i2: tensor<64x2048xi32>, %a4: !A4, %i4: tensor<64x4096xi32>) -> (tensor<64x2048xi32>, tensor<64x4096xi32>) {
  %b2 = arith.constant dense<6148914691236517205> : !B2
  %r2 = bitserial.matmul ins(%a2, %b2 : !A2, !B2) outs(%i2 : tensor<64x2048xi32>) -> tensor<64x2048xi32>
  %b4 = arith.constant dense<6148914691236517205> : !B4
  %r4 = bitserial.matmul ins(%a4, %b4 : !A4, !B4) outs(%i4 : tensor<64x4096xi32>) -> tensor<64x4096xi32>
  return %r2, %r4 : tensor<64x2048xi32>, tensor<64x4096xi32>
}

// -----

// AMX reads 4096 x 4096 i8 weights (16 MB) once per call, about 0.5 ms
// from memory: 16 rows at 1 x 1 bits do not repay it (bit-serial: 0.25 ms
// against 0.67 on an AMX Xeon), 64 rows at 2 x 2 bits do (the second op
// of @dense_weight_streams: 1.1 ms against 3.1 with lookups).
// AMX: remark: kernel bitserial (cost model); estimated cycles: bit-serial {{[0-9]+}} (block 4x4), int8 amx {{[0-9]+}}{{$}}
!A = tensor<16x1x64xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 4096>>
!B = tensor<4096x1x64xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 4096>>
func.func @dense_amx_rows(%a: !A, %init: tensor<16x4096xi32>) -> tensor<16x4096xi32> {
  %b = arith.constant dense<6148914691236517205> : !B
  %r = bitserial.matmul ins(%a, %b : !A, !B) outs(%init : tensor<16x4096xi32>) -> tensor<16x4096xi32>
  return %r : tensor<16x4096xi32>
}
