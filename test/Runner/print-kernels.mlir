// --print-kernels: bitserial-run and bitserial-compile print the kernel
// bitserial-select-kernels chose for each matmul and conv2d, and its
// estimates, as remarks on stderr; the results stay exact.
// RUN: rm -rf %t && mkdir -p %t
// RUN: bitserial-run %s --target x86-avx2 --cpu x86-64-v3 --print-kernels --random-inputs --seed 3 --save-inputs %t/in --output %t/out.npy 2> %t/remarks.txt
// RUN: FileCheck %s --check-prefix=AVX2 < %t/remarks.txt
// RUN: env PYTHONPATH=%bitserial_src_root/python %bitserial_python %S/../Integration/check_matmul.py --no-range-check %t/in0.npy %t/in1.npy %t/in2.npy %t/out.npy | FileCheck %s --check-prefix=EXACT
// RUN: bitserial-compile %s --target aarch64-ooo --cpu neoverse-n1 --print-kernels -o %t/n1.o 2>&1 | FileCheck %s --check-prefix=N1
// RUN: bitserial-compile %s --target aarch64-a53 --print-kernels -o %t/a53.o 2>&1 | FileCheck %s --check-prefix=A53
// Without the flag, and with the reference lowering, nothing is printed.
// RUN: bitserial-run %s --target x86-avx2 --cpu x86-64-v3 --random-inputs 2>&1 >/dev/null | count 0
// RUN: bitserial-run %s --strategy reference --print-kernels --random-inputs 2>&1 >/dev/null | count 0

// AVX2: print-kernels.mlir:[[@LINE+11]]:8: remark: kernel int8 (cost model); estimated cycles: bit-serial {{[0-9]+}} (block 4x2), int8 avx2 {{[0-9]+}}
// AVX2-NEXT: %r = bitserial.matmul
// AVX2-NOT: remark
// EXACT: exact: 300x37 results match the reference
// N1: remark: kernel int8 (cost model); estimated cycles: bit-serial {{[0-9]+}} (block 6x1), int8 dot-product {{[0-9]+}}
// A53: remark: kernel bitserial (no int8 instruction); estimated cycles: bit-serial {{[0-9]+}} (block 6x1)
!A = tensor<300x8x3xi64, #bitserial.packed<bits = 8, encoding = unsigned, length = 147>>
!B = tensor<37x4x3xi64, #bitserial.packed<bits = 4, encoding = signed, length = 147>>
func.func @main(%x: tensor<300x147xi16>, %w: tensor<37x147xi8>, %init: tensor<300x37xi32>) -> tensor<300x37xi32> {
  %a = bitserial.pack %x : tensor<300x147xi16> -> !A
  %b = bitserial.pack %w : tensor<37x147xi8> -> !B
  %r = bitserial.matmul ins(%a, %b : !A, !B) outs(%init : tensor<300x37xi32>) -> tensor<300x37xi32>
  return %r : tensor<300x37xi32>
}
