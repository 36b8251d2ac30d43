// The AArch64 micro-kernels compile to the instructions their targets ask
// for (checked on assembly from llc, so no AArch64 machine is needed):
//   - `cnt` on 16 bytes counts, `uaddlp`/`uadalp` (or `saddlp`) widen: no
//     ushll/uxtl/zip chains (the portable widening: what `generic` gives);
//   - no stack access between the first and the last `cnt` of the step code
//     (its hottest block);
//   - on the A53, activation broadcasts are `ldr q`/`ldp q` of duplicated
//     words at constant offsets, not `ld1r` from computed addresses.
//
// RUN: bitserial-opt %s --bitserial-to-llvm="target=aarch64-a53" | mlir-translate --mlir-to-llvmir | llc -O3 -mtriple=aarch64-linux-gnu -mcpu=cortex-a53 -o %t.a53.s
// RUN: env PYTHONPATH=%bitserial_src_root/python %bitserial_python -m bitserial.asm %t.a53.s | FileCheck %s --check-prefix=STATS
// RUN: FileCheck %s --check-prefix=A53 < %t.a53.s
// RUN: bitserial-opt %s --bitserial-to-llvm="target=aarch64-ooo" | mlir-translate --mlir-to-llvmir | llc -O3 -mtriple=aarch64-linux-gnu -mcpu=neoverse-n1 -o %t.n1.s
// RUN: env PYTHONPATH=%bitserial_src_root/python %bitserial_python -m bitserial.asm %t.n1.s | FileCheck %s --check-prefix=STATS
// RUN: bitserial-opt %s --bitserial-to-llvm="target=generic" | mlir-translate --mlir-to-llvmir | llc -O3 -mtriple=aarch64-linux-gnu -mcpu=cortex-a53 -o %t.generic.s
// RUN: env PYTHONPATH=%bitserial_src_root/python %bitserial_python -m bitserial.asm %t.generic.s | FileCheck %s --check-prefix=GENERIC

// A 3x3 layer at A2W1 with 128 channels (2 words per plane), rows of 28
// pixels (4 x 2 register blocks): 9 straight-line steps (kh x kw) in a
// loop over the words, 72 counts in the hottest block.
// STATS: conv3x3: hot-block-popcounts=72 {{.*}} stack-between-popcounts=0 pairwise-adds={{[1-9][0-9]*}} widening-chains=0
// A 1x1 layer at A2W1 with 64 channels: both plane pairs straight-line (16
// counts), sums in bytes, one widening per block.
// STATS: conv1x1: hot-block-popcounts=16 {{.*}} stack-between-popcounts=0 pairwise-adds={{[1-9][0-9]*}} widening-chains=0
// GENERIC: conv3x3: {{.*}} pairwise-adds=0 widening-chains={{[1-9][0-9]*}}

// A53-LABEL: conv3x3:
// A53-DAG: cnt v{{[0-9]+}}.16b
// A53-DAG: uaddlp v{{[0-9]+}}.8h, v{{[0-9]+}}.16b
// A53-DAG: uaddlp v{{[0-9]+}}.4s, v{{[0-9]+}}.8h
// A53-NOT: ld1r
// A53-LABEL: conv1x1:
// A53-NOT: ld1r
// A 3x3 layer over 512 channels (8 words: 72 steps, more than one chunk of
// byte sums) adds every step's counts into halfwords: `uadalp` of the `cnt`
// result (widen-each-step), no byte sums widened per chunk.
// A53-LABEL: conv3x3_512:
// A53: cnt [[COUNT:v[0-9]+]].16b, v{{[0-9]+}}.16b
// A53: uadalp v{{[0-9]+}}.8h, [[COUNT]].16b
// A53-NOT: ld1r
// STATS: conv3x3_512: hot-block-popcounts=[[COUNTS:[0-9]+]] {{.*}} stack-between-popcounts=0 pairwise-adds={{[1-9][0-9]*}} widening-chains=0 hot-block-pairwise-adds=[[COUNTS]]{{$}}

!X3 = tensor<1x30x30x2x2xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 128>>
!F3 = tensor<64x3x3x1x2xi64, #bitserial.packed<bits = 1, encoding = unsigned, length = 128>>
func.func @conv3x3(%x: !X3, %f: !F3, %init: tensor<1x28x28x64xi32>) -> tensor<1x28x28x64xi32> {
  %r = bitserial.conv2d ins(%x, %f : !X3, !F3) outs(%init : tensor<1x28x28x64xi32>) -> tensor<1x28x28x64xi32>
  return %r : tensor<1x28x28x64xi32>
}

!X1 = tensor<1x14x14x2x1xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 64>>
!F1 = tensor<64x1x1x1x1xi64, #bitserial.packed<bits = 1, encoding = unsigned, length = 64>>
func.func @conv1x1(%x: !X1, %f: !F1, %init: tensor<1x14x14x64xi32>) -> tensor<1x14x14x64xi32> {
  %r = bitserial.conv2d ins(%x, %f : !X1, !F1) outs(%init : tensor<1x14x14x64xi32>) -> tensor<1x14x14x64xi32>
  return %r : tensor<1x14x14x64xi32>
}

!X5 = tensor<1x9x9x2x8xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 512>>
!F5 = tensor<64x3x3x1x8xi64, #bitserial.packed<bits = 1, encoding = unsigned, length = 512>>
func.func @conv3x3_512(%x: !X5, %f: !F5, %init: tensor<1x7x7x64xi32>) -> tensor<1x7x7x64xi32> {
  %r = bitserial.conv2d ins(%x, %f : !X5, !F5) outs(%init : tensor<1x7x7x64xi32>) -> tensor<1x7x7x64xi32>
  return %r : tensor<1x7x7x64xi32>
}
