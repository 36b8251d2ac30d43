// RUN: bitserial-opt %s -split-input-file --convert-bitserial-to-vector --canonicalize | FileCheck %s

// bitserial.register_block (bitserial-select-kernels' choice) replaces the
// fitted block: 2 rows x 1 vector of 4 columns instead of 4 x 2 (fitted:
// 2 x 4 for 10 rows of 16 columns, whose single column step folds away).
// CHECK-LABEL: func.func @register_block
// CHECK: scf.for %{{.*}} = %c0 to %c10 step %c2
// CHECK: scf.for %{{.*}} = %c0 to %c4 step %c1
// CHECK: scf.for {{.*}} -> (vector<4xi64>, vector<4xi64>)
// CHECK-LABEL: func.func @fitted
// CHECK: scf.for %{{.*}} = %c0 to %c10 step %c2
// CHECK: scf.for {{.*}} -> (vector<4xi64>, vector<4xi64>, vector<4xi64>, vector<4xi64>, vector<4xi64>, vector<4xi64>, vector<4xi64>, vector<4xi64>)
!A = tensor<10x2x2xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 100>>
!B = tensor<16x1x2xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 100>>
func.func @register_block(%a: !A, %b: !B, %init: tensor<10x16xi32>) -> tensor<10x16xi32> {
  %r = bitserial.matmul ins(%a, %b : !A, !B) outs(%init : tensor<10x16xi32>) {bitserial.register_block = array<i64: 2, 1>} -> tensor<10x16xi32>
  return %r : tensor<10x16xi32>
}
func.func @fitted(%a: !A, %b: !B, %init: tensor<10x16xi32>) -> tensor<10x16xi32> {
  %r = bitserial.matmul ins(%a, %b : !A, !B) outs(%init : tensor<10x16xi32>) -> tensor<10x16xi32>
  return %r : tensor<10x16xi32>
}
