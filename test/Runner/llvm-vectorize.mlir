// The JIT's LLVM optimizer knows the CPU (its target machine): loops that
// MLIR leaves scalar, such as a kernel's input copy or an elementwise op
// lowered to loops, become vector loops of the CPU's width.
// REQUIRES: x86-avx2
// RUN: rm -rf %t && mkdir -p %t
// RUN: bitserial-run %s --random-inputs --seed 4 --cpu x86-64-v3 --save-inputs %t/in --output %t/sum.npy --dump-object %t/add.o --repeat 1
// RUN: llvm-objdump -d %t/add.o | FileCheck %s
// RUN: env PYTHONPATH=%bitserial_src_root/python %bitserial_python %S/Inputs/expect.py a=%t/in0.npy b=%t/in1.npy s=%t/sum.npy -- "s == a + b" | FileCheck %s --check-prefix=EXACT
// CHECK-LABEL: <add>:
// CHECK: vpaddd {{.*}}%ymm
// CHECK-LABEL: <_mlir_ciface_add>:
// EXACT: PASS
func.func @add(%a: tensor<1000xi32>, %b: tensor<1000xi32>) -> tensor<1000xi32> {
  %r = arith.addi %a, %b : tensor<1000xi32>
  return %r : tensor<1000xi32>
}
