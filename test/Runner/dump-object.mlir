// --dump-object writes the JIT-compiled code (the entry, its C-interface
// wrapper and the kernel) to an object file, for disassembly or profiling.
// RUN: bitserial-run %s --random-inputs --seed 1 --repeat 1 --target x86-avx2 --cpu x86-64-v3 --dump-object %t.o | FileCheck %s
// RUN: llvm-objdump -d %t.o | FileCheck %s --check-prefix=OBJ
// RUN: not bitserial-run %s --random-inputs --dump-object %t.missing/dir/x.o 2>&1 | FileCheck %s --check-prefix=BAD
// CHECK: time over 1 calls
// OBJ: <conv>:
// OBJ: vpshufb
// OBJ: <_mlir_ciface_conv>:
// BAD: bitserial-run: error: cannot write the object file
!X = tensor<1x6x7x2x1xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 40>>
!F = tensor<10x3x3x2x1xi64, #bitserial.packed<bits = 2, encoding = signed, length = 40>>
func.func @conv(%x: !X, %f: !F, %init: tensor<1x6x7x10xi32>) -> tensor<1x6x7x10xi32> {
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%init : tensor<1x6x7x10xi32>) padding = [1, 1, 1, 1] -> tensor<1x6x7x10xi32>
  return %r : tensor<1x6x7x10xi32>
}
