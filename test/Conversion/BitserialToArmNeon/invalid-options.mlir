// RUN: not bitserial-opt %s --convert-bitserial-to-arm-neon="min-bit-product=-1" 2>&1 | FileCheck %s

// CHECK: error: min-bit-product must be at least 0, got -1
// CHECK-NOT: LLVM ERROR
module {}
