// RUN: not bitserial-opt %s --convert-bitserial-to-x86-int8="min-bit-product=-1" 2>&1 | FileCheck %s
// RUN: not bitserial-opt %s --convert-bitserial-to-x86-int8="instruction=sse2" 2>&1 | FileCheck %s --check-prefix=INSTR

// CHECK: error: min-bit-product must be at least 0, got -1
// CHECK-NOT: LLVM ERROR
// INSTR: error: unknown instruction 'sse2' (expected avx512-vnni, avx-vnni, avx2, avx512bw or amx)
// INSTR-NOT: LLVM ERROR
module {}
