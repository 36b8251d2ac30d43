// bitserial-run sends a wide matmul to the int8 dot-product kernels of the
// CPU it compiles for (8-bit unsigned x 4-bit signed, K = 147 = 36 groups of
// 4 + 3, N = 37 = 2 vectors of 16 + 5 channels, 300 rows, random init):
// vpdpbusd on zmm for a CPU with AVX-512 VNNI and without AMX (cascadelake;
// the host's CPU, with AMX, takes AMX tiles: the last tile of the 300 rows
// overlaps the one before, and init is added once); for x86-64-v3 narrow
// products on ymm (vpmaddubsw, whose i16 pair sums the codes' ranges keep
// exact for 8 steps, widened by vpmaddwd). All must equal the NumPy
// reference.
// REQUIRES: x86-avx512-vnni
// RUN: rm -rf %t && mkdir -p %t
// RUN: bitserial-run %s --random-inputs --seed 11 --save-inputs %t/in --output %t/out.npy
// RUN: env PYTHONPATH=%bitserial_src_root/python %bitserial_python %S/check_matmul.py --no-range-check %t/in0.npy %t/in1.npy %t/in2.npy %t/out.npy | FileCheck %s
// RUN: bitserial-run %s --cpu cascadelake --random-inputs --seed 13 --save-inputs %t/vnni --output %t/vnni.npy --dump-object %t/vnni.o
// RUN: env PYTHONPATH=%bitserial_src_root/python %bitserial_python %S/check_matmul.py --no-range-check %t/vnni0.npy %t/vnni1.npy %t/vnni2.npy %t/vnni.npy | FileCheck %s
// RUN: bitserial-run %s --target x86-avx2 --cpu x86-64-v3 --random-inputs --seed 12 --save-inputs %t/v3 --output %t/v3.npy
// RUN: env PYTHONPATH=%bitserial_src_root/python %bitserial_python %S/check_matmul.py --no-range-check %t/v30.npy %t/v31.npy %t/v32.npy %t/v3.npy | FileCheck %s
// The code really is int8 (vpdpbusd, and no vpmaddubsw, on zmm; 256-bit
// narrow products for x86-64-v3).
// RUN: llvm-objdump -d %t/vnni.o | FileCheck %s --check-prefix=VNNI
// RUN: bitserial-run %s --target x86-avx2 --cpu x86-64-v3 --random-inputs --seed 11 --dump-object %t/v3.o > /dev/null
// RUN: llvm-objdump -d %t/v3.o | FileCheck %s --check-prefix=NARROW --implicit-check-not=%zmm

// CHECK: exact: 300x37 results match the reference
// VNNI-NOT: vpmaddubsw
// VNNI: vpdpbusd {{.*}}%zmm
// VNNI-NOT: vpmaddubsw
// NARROW-DAG: vpmaddubsw {{.*}}%ymm
// NARROW-DAG: vpmaddwd {{.*}}%ymm

!A = tensor<300x8x3xi64, #bitserial.packed<bits = 8, encoding = unsigned, length = 147>>
!B = tensor<37x4x3xi64, #bitserial.packed<bits = 4, encoding = signed, length = 147>>
func.func @main(%x: tensor<300x147xi16>, %w: tensor<37x147xi8>, %init: tensor<300x37xi32>) -> tensor<300x37xi32> {
  %a = bitserial.pack %x : tensor<300x147xi16> -> !A
  %b = bitserial.pack %w : tensor<37x147xi8> -> !B
  %r = bitserial.matmul ins(%a, %b : !A, !B) outs(%init : tensor<300x37xi32>) -> tensor<300x37xi32>
  return %r : tensor<300x37xi32>
}
