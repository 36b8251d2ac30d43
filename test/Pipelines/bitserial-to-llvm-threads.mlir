// When bit-serial kernels fork: from 2^24 AND'ed bit pairs and 256 per
// output by default, from 2^23 and 64 on a CPU with AMX-INT8 (amx=true:
// the AMX Xeon's two vCPUs ran such 1x1 layers faster on 2 threads);
// min-parallel-binops and min-parallel-binops-per-output, when given, win.
// @pointwise: 56 x 56 outputs x 64 channels x 64 pairs = 12.8 M pairs, 64
// per output, bit-serial by annotation.
// RUN: bitserial-opt %s --bitserial-to-llvm="target=x86-avx512-vpopcntdq x86-int8=true amx=true parallel=true" | FileCheck %s --check-prefix=FORK
// RUN: bitserial-opt %s --bitserial-to-llvm="target=x86-avx512-vpopcntdq parallel=true" | FileCheck %s --check-prefix=ONE
// RUN: bitserial-opt %s --bitserial-to-llvm="target=x86-avx512-vpopcntdq x86-int8=true amx=true parallel=true min-parallel-binops=16777216" | FileCheck %s --check-prefix=ONE
// RUN: bitserial-opt %s --bitserial-to-llvm="target=x86-avx512-vpopcntdq x86-int8=true amx=true parallel=true min-parallel-binops-per-output=65" | FileCheck %s --check-prefix=ONE
// RUN: bitserial-opt %s --bitserial-to-llvm="target=x86-avx512-vpopcntdq parallel=true min-parallel-binops=8388608 min-parallel-binops-per-output=64" | FileCheck %s --check-prefix=FORK
// FORK-LABEL: llvm.func @pointwise
// FORK: omp.parallel
// ONE-LABEL: llvm.func @pointwise
// ONE-NOT: omp.parallel
!X = tensor<1x56x56x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 64>>
!F = tensor<64x1x1x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 64>>
func.func @pointwise(%x: !X, %f: !F, %init: tensor<1x56x56x64xi32>) -> tensor<1x56x56x64xi32> {
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%init : tensor<1x56x56x64xi32>)
      {bitserial.kernel = "bitserial"} -> tensor<1x56x56x64xi32>
  return %r : tensor<1x56x56x64xi32>
}
