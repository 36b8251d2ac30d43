// RUN: bitserial-opt %s -split-input-file --bitserial-aarch64-byte-counts | FileCheck %s

// CHECK-LABEL: func.func @widen_128
// CHECK-SAME: (%[[BYTES:.*]]: vector<16xi8>, %[[ACC:.*]]: vector<2xi64>)
// CHECK: %[[H:.*]] = llvm.call_intrinsic "llvm.aarch64.neon.uaddlp.v8i16.v16i8"(%[[BYTES]]) : (vector<16xi8>) -> vector<8xi16>
// CHECK: %[[W:.*]] = llvm.call_intrinsic "llvm.aarch64.neon.uaddlp.v4i32.v8i16"(%[[H]]) : (vector<8xi16>) -> vector<4xi32>
// CHECK: %[[D:.*]] = llvm.call_intrinsic "llvm.aarch64.neon.uaddlp.v2i64.v4i32"(%[[W]]) : (vector<4xi32>) -> vector<2xi64>
// CHECK: %[[R:.*]] = arith.addi %[[ACC]], %[[D]] : vector<2xi64>
// CHECK-NOT: vector.multi_reduction
// CHECK: return %[[R]]
func.func @widen_128(%bytes: vector<16xi8>, %acc: vector<2xi64>) -> vector<2xi64> {
  %g = vector.shape_cast %bytes : vector<16xi8> to vector<2x8xi8>
  %e = arith.extui %g : vector<2x8xi8> to vector<2x8xi64>
  %s = vector.multi_reduction <add>, %e, %acc [1] : vector<2x8xi64> to vector<2xi64>
  return %s : vector<2xi64>
}

// -----

// NEON registers hold 16 bytes: wider vectors keep the portable form.
// CHECK-LABEL: func.func @negative_widen_256
// CHECK-NOT: llvm.call_intrinsic
// CHECK: vector.multi_reduction
func.func @negative_widen_256(%bytes: vector<32xi8>, %acc: vector<4xi64>) -> vector<4xi64> {
  %g = vector.shape_cast %bytes : vector<32xi8> to vector<4x8xi8>
  %e = arith.extui %g : vector<4x8xi8> to vector<4x8xi64>
  %s = vector.multi_reduction <add>, %e, %acc [1] : vector<4x8xi64> to vector<4xi64>
  return %s : vector<4xi64>
}

// -----

// Groups of 4 bytes are not the 8 bytes of a 64-bit lane.
// CHECK-LABEL: func.func @negative_groups_of_four
// CHECK-NOT: llvm.call_intrinsic
// CHECK: vector.multi_reduction
func.func @negative_groups_of_four(%bytes: vector<16xi8>, %acc: vector<4xi64>) -> vector<4xi64> {
  %g = vector.shape_cast %bytes : vector<16xi8> to vector<4x4xi8>
  %e = arith.extui %g : vector<4x4xi8> to vector<4x4xi64>
  %s = vector.multi_reduction <add>, %e, %acc [1] : vector<4x4xi64> to vector<4xi64>
  return %s : vector<4xi64>
}

// -----

// Bytes to halfwords (one uaddlp, with the add: uadalp), and halfword sums
// sign-extended to 64-bit lanes (two saddlp).
// CHECK-LABEL: func.func @widen_bytes_to_halfwords
// CHECK: %[[H:.*]] = llvm.call_intrinsic "llvm.aarch64.neon.uaddlp.v8i16.v16i8"(%{{.*}}) : (vector<16xi8>) -> vector<8xi16>
// CHECK-NEXT: arith.addi %{{.*}}, %[[H]] : vector<8xi16>
// CHECK-LABEL: func.func @widen_signed_halfwords
// CHECK: %[[W:.*]] = llvm.call_intrinsic "llvm.aarch64.neon.saddlp.v4i32.v8i16"(%{{.*}}) : (vector<8xi16>) -> vector<4xi32>
// CHECK-NEXT: %[[D:.*]] = llvm.call_intrinsic "llvm.aarch64.neon.saddlp.v2i64.v4i32"(%[[W]]) : (vector<4xi32>) -> vector<2xi64>
// CHECK-NEXT: arith.addi %{{.*}}, %[[D]] : vector<2xi64>
func.func @widen_bytes_to_halfwords(%bytes: vector<16xi8>, %acc: vector<8xi16>) -> vector<8xi16> {
  %g = vector.shape_cast %bytes : vector<16xi8> to vector<8x2xi8>
  %e = arith.extui %g : vector<8x2xi8> to vector<8x2xi16>
  %s = vector.multi_reduction <add>, %e, %acc [1] : vector<8x2xi16> to vector<8xi16>
  return %s : vector<8xi16>
}
func.func @widen_signed_halfwords(%halves: vector<8xi16>, %acc: vector<2xi64>) -> vector<2xi64> {
  %g = vector.shape_cast %halves : vector<8xi16> to vector<2x4xi16>
  %e = arith.extsi %g : vector<2x4xi16> to vector<2x4xi64>
  %s = vector.multi_reduction <add>, %e, %acc [1] : vector<2x4xi64> to vector<2xi64>
  return %s : vector<2xi64>
}
