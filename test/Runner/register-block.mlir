// A register block the user sets on an op survives the pipelines' kernel
// selection: the op stays bit-serial with that block (the cost model alone
// picks int8 for these 8 x 4 bits), and the result is exact.
// RUN: rm -rf %t && mkdir -p %t
// RUN: bitserial-run %s --target host --print-kernels --random-inputs --seed 5 --save-inputs %t/in --output %t/out.npy 2> %t/remarks.txt
// RUN: FileCheck %s < %t/remarks.txt
// RUN: env PYTHONPATH=%bitserial_src_root/python %bitserial_python %S/../Integration/check_matmul.py --no-range-check %t/in0.npy %t/in1.npy %t/in2.npy %t/out.npy | FileCheck %s --check-prefix=EXACT
// The kernel uses the block: 2 pixels x 3 channel vectors of 8 lanes.
// RUN: bitserial-opt %s --bitserial-vectorize="target=x86-avx512-vpopcntdq" | FileCheck %s --check-prefix=IR

// CHECK: remark: kernel bitserial (bitserial.register_block 2x3)
// CHECK-NOT: remark
// EXACT: exact: 300x37 results match the reference
// IR-LABEL: func.func @main
// IR-COUNT-6: math.ctpop {{.*}} : vector<8xi64>
// IR-NOT: math.ctpop
!A = tensor<300x8x3xi64, #bitserial.packed<bits = 8, encoding = unsigned, length = 147>>
!B = tensor<37x4x3xi64, #bitserial.packed<bits = 4, encoding = signed, length = 147>>
func.func @main(%x: tensor<300x147xi16>, %w: tensor<37x147xi8>, %init: tensor<300x37xi32>) -> tensor<300x37xi32> {
  %a = bitserial.pack %x : tensor<300x147xi16> -> !A
  %b = bitserial.pack %w : tensor<37x147xi8> -> !B
  %r = bitserial.matmul ins(%a, %b : !A, !B) outs(%init : tensor<300x37xi32>) {bitserial.register_block = array<i64: 2, 3>} -> tensor<300x37xi32>
  return %r : tensor<300x37xi32>
}
