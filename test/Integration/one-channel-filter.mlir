// A filter of one output channel packed in the function: its words reach
// the kernel as lane 0 of a vector whose other lanes are zero. LLVM 22's
// x86 backend folded the bitcast of plane 0's bit test (a trunc to i1
// lanes after InstCombine) into the filter's low 8 bytes there; the pack
// lowering hides plane 0's word from that fold. Exact against NumPy with
// the AVX-512 kernels (byte and 64-bit popcounts) and on AVX2.
// REQUIRES: x86-avx512-vnni
// RUN: rm -rf %t && mkdir -p %t
// RUN: bitserial-run %s --random-inputs --seed 7 --save-inputs %t/in --output %t/host.npy
// RUN: env PYTHONPATH=%bitserial_src_root/python %bitserial_python %S/check_conv2d.py --strides 2,3 --padding 0,2,1,2 %t/in0.npy %t/in1.npy %t/in2.npy %t/host.npy | FileCheck %s
// RUN: bitserial-run %s --input %t/in0.npy --input %t/in1.npy --input %t/in2.npy --target x86-avx512 --output %t/avx512.npy
// RUN: env PYTHONPATH=%bitserial_src_root/python %bitserial_python %S/check_conv2d.py --strides 2,3 --padding 0,2,1,2 %t/in0.npy %t/in1.npy %t/in2.npy %t/avx512.npy | FileCheck %s
// RUN: bitserial-run %s --input %t/in0.npy --input %t/in1.npy --input %t/in2.npy --target x86-avx2 --output %t/avx2.npy
// RUN: env PYTHONPATH=%bitserial_src_root/python %bitserial_python %S/check_conv2d.py --strides 2,3 --padding 0,2,1,2 %t/in0.npy %t/in1.npy %t/in2.npy %t/avx2.npy | FileCheck %s
// RUN: bitserial-opt %s --convert-bitserial-to-vector | FileCheck %s --check-prefix=ASM

// CHECK: exact: 2x6x4x1 results match the reference
// ASM-LABEL: func.func @main
// ASM-COUNT-2: llvm.inline_asm "", "=r,0"
// ASM-NOT: llvm.inline_asm
!X = tensor<2x9x7x3x1xi64, #bitserial.packed<bits = 3, encoding = unsigned, length = 14>>
!F = tensor<1x1x1x1x1xi64, #bitserial.packed<bits = 1, encoding = signed, length = 14>>
func.func @main(%x: tensor<2x9x7x14xi8>, %w: tensor<1x1x1x14xi8>, %init: tensor<2x6x4x1xi64>) -> tensor<2x6x4x1xi64> {
  %a = bitserial.pack %x : tensor<2x9x7x14xi8> -> !X
  %b = bitserial.pack %w : tensor<1x1x1x14xi8> -> !F
  %r = bitserial.conv2d ins(%a, %b : !X, !F) outs(%init : tensor<2x6x4x1xi64>) strides = [2, 3] padding = [0, 2, 1, 2] -> tensor<2x6x4x1xi64>
  return %r : tensor<2x6x4x1xi64>
}
