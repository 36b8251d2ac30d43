// RUN: bitserial-opt %s -split-input-file --bitserial-vectorize="target=aarch64-a53" --canonicalize | FileCheck %s --check-prefix=A53
// RUN: bitserial-opt %s -split-input-file --bitserial-vectorize="target=aarch64-ooo dot-product=true" --canonicalize | FileCheck %s --check-prefix=DOT
// RUN: bitserial-opt %s -split-input-file --bitserial-vectorize="target=aarch64-ooo i8mm=true" --canonicalize | FileCheck %s --check-prefix=I8MM
// RUN: bitserial-opt %s -split-input-file --bitserial-vectorize="target=x86-avx2 dot-product=true" --canonicalize | FileCheck %s --check-prefix=X86

// The AArch64 targets: 128-bit bit-serial kernels with straight-line steps
// and narrow sums. With the dot product instructions, the cost model
// (bitserial-select-kernels) takes a 256 x 512 x 64 matmul of 3 x 2 bits
// as sdot/udot (an 8 x 100 x 16 one would stay bit-serial: decoding both
// operands costs more than int8 saves there); 1 x 1 bits stay bit-serial.
// With i8mm the kernels use *mmla. Elsewhere the options have no effect.
// A53-LABEL: func.func @matmul_a3w2
// A53-NOT: arm_neon
// A53: math.ctpop %{{.*}} : vector<16xi8>
// DOT-LABEL: func.func @matmul_a3w2
// DOT-NOT: math.ctpop
// DOT: arm_neon.intr.sdot
// I8MM-LABEL: func.func @matmul_a3w2
// I8MM: arm_neon.intr.smmla
// X86-LABEL: func.func @matmul_a3w2
// X86-NOT: arm_neon
// X86: math.ctpop
!A = tensor<256x3x8xi64, #bitserial.packed<bits = 3, encoding = signed, length = 512>>
!B = tensor<64x2x8xi64, #bitserial.packed<bits = 2, encoding = signed, length = 512>>
func.func @matmul_a3w2(%a: !A, %b: !B, %init: tensor<256x64xi32>) -> tensor<256x64xi32> {
  %r = bitserial.matmul ins(%a, %b : !A, !B) outs(%init : tensor<256x64xi32>) -> tensor<256x64xi32>
  return %r : tensor<256x64xi32>
}

// -----

// DOT-LABEL: func.func @matmul_a1w1
// DOT-NOT: arm_neon
// DOT: math.ctpop %{{.*}} : vector<16xi8>
!A = tensor<8x1x2xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 100>>
!B = tensor<16x1x2xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 100>>
func.func @matmul_a1w1(%a: !A, %b: !B, %init: tensor<8x16xi32>) -> tensor<8x16xi32> {
  %r = bitserial.matmul ins(%a, %b : !A, !B) outs(%init : tensor<8x16xi32>) -> tensor<8x16xi32>
  return %r : tensor<8x16xi32>
}
