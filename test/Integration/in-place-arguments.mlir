// A function may write into its argument's buffer and return it: the runner
// passes copies, so inputs are intact and the result holds both the
// in-bounds and the masked (partially out-of-bounds) transfer_write.
//
// RUN: rm -rf %t && mkdir -p %t
// RUN: %bitserial_python -c "import numpy as np; np.save('%t/m.npy', np.arange(12, dtype=np.int32).reshape(2, 6))"
// RUN: bitserial-run %s --input %t/m.npy --print --repeat 2 | FileCheck %s
// CHECK: result #0: int32 [2, 6]
// CHECK-NEXT: 100 101 102 103 104 105
// CHECK-NEXT: 6 7 8 9 10 11

func.func @main(%t: tensor<2x6xi32>) -> tensor<2x6xi32> {
  %c0 = arith.constant 0 : index
  %c4 = arith.constant 4 : index
  %z = arith.constant 0 : i32
  %one = arith.constant dense<100> : vector<4xi32>
  %v = vector.transfer_read %t[%c0, %c0], %z {in_bounds = [true]} : tensor<2x6xi32>, vector<4xi32>
  %s = arith.addi %v, %one : vector<4xi32>
  %w = vector.transfer_write %s, %t[%c0, %c0] {in_bounds = [true]} : vector<4xi32>, tensor<2x6xi32>
  %v2 = vector.transfer_read %w[%c0, %c4], %z : tensor<2x6xi32>, vector<4xi32>
  %s2 = arith.addi %v2, %one : vector<4xi32>
  %w2 = vector.transfer_write %s2, %w[%c0, %c4] : vector<4xi32>, tensor<2x6xi32>
  return %w2 : tensor<2x6xi32>
}
