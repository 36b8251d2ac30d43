// The micro-kernels compile to the instructions the target description asks
// for (checked on assembly, so also for targets this machine may lack):
//   x86-avx2 on Zen 3:        one vpshufb per pre-split nibble (no vpsrlw
//                             nibble split in the kernel), vpsadbw on ymm
//   x86-avx512-vpopcntdq:     vpopcntq on zmm, no byte counts
//
// RUN: bitserial-opt %s --bitserial-to-llvm="target=x86-avx2" | mlir-translate --mlir-to-llvmir | llc -O3 -mtriple=x86_64-linux-gnu -mcpu=znver3 | FileCheck %s --check-prefix=AVX2 --implicit-check-not=zmm --implicit-check-not=vpsrlw
// RUN: bitserial-opt %s --bitserial-to-llvm="target=x86-avx512-vpopcntdq" | mlir-translate --mlir-to-llvmir | llc -O3 -mtriple=x86_64-linux-gnu -mcpu=znver4 | FileCheck %s --check-prefix=VPOPCNT

// AVX2-DAG: vpshufb %ymm
// AVX2-DAG: vpsadbw %ymm
// VPOPCNT: vpopcntq %zmm
// VPOPCNT-NOT: vpsadbw

!A = tensor<64x1x64xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 4096>>
!B = tensor<64x1x64xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 4096>>
func.func @dense(%a: !A, %b: !B, %init: tensor<64x64xi32>) -> tensor<64x64xi32> {
  %r = bitserial.matmul ins(%a, %b : !A, !B) outs(%init : tensor<64x64xi32>) -> tensor<64x64xi32>
  return %r : tensor<64x64xi32>
}
