// RUN: bitserial-opt %s -split-input-file --bitserial-x86-byte-counts | FileCheck %s

// CHECK-LABEL: func.func @widen_256
// CHECK-SAME: (%[[BYTES:.*]]: vector<32xi8>, %[[ACC:.*]]: vector<4xi64>)
// CHECK: %[[ZERO:.*]] = arith.constant dense<0> : vector<32xi8>
// CHECK: %[[SUMS:.*]] = llvm.call_intrinsic "llvm.x86.avx2.psad.bw"(%[[BYTES]], %[[ZERO]]) : (vector<32xi8>, vector<32xi8>) -> vector<4xi64>
// CHECK: %[[R:.*]] = arith.addi %[[SUMS]], %[[ACC]] : vector<4xi64>
// CHECK-NOT: vector.multi_reduction
// CHECK: return %[[R]]
func.func @widen_256(%bytes: vector<32xi8>, %acc: vector<4xi64>) -> vector<4xi64> {
  %g = vector.shape_cast %bytes : vector<32xi8> to vector<4x8xi8>
  %e = arith.extui %g : vector<4x8xi8> to vector<4x8xi64>
  %s = vector.multi_reduction <add>, %e, %acc [1] : vector<4x8xi64> to vector<4xi64>
  return %s : vector<4xi64>
}

// -----

// CHECK-LABEL: func.func @widen_128_and_512
// CHECK: llvm.call_intrinsic "llvm.x86.sse2.psad.bw"
// CHECK: llvm.call_intrinsic "llvm.x86.avx512.psad.bw.512"
func.func @widen_128_and_512(%a: vector<16xi8>, %b: vector<64xi8>, %acc2: vector<2xi64>, %acc8: vector<8xi64>)
    -> (vector<2xi64>, vector<8xi64>) {
  %ga = vector.shape_cast %a : vector<16xi8> to vector<2x8xi8>
  %ea = arith.extui %ga : vector<2x8xi8> to vector<2x8xi64>
  %sa = vector.multi_reduction <add>, %ea, %acc2 [1] : vector<2x8xi64> to vector<2xi64>
  %gb = vector.shape_cast %b : vector<64xi8> to vector<8x8xi8>
  %eb = arith.extui %gb : vector<8x8xi8> to vector<8x8xi64>
  %sb = vector.multi_reduction <add>, %eb, %acc8 [1] : vector<8x8xi64> to vector<8xi64>
  return %sa, %sb : vector<2xi64>, vector<8xi64>
}

// -----

// A sign extension is not a byte sum: psadbw would be wrong.
// CHECK-LABEL: func.func @negative_signed_extension
// CHECK-NOT: llvm.call_intrinsic
// CHECK: vector.multi_reduction
func.func @negative_signed_extension(%bytes: vector<32xi8>, %acc: vector<4xi64>) -> vector<4xi64> {
  %g = vector.shape_cast %bytes : vector<32xi8> to vector<4x8xi8>
  %e = arith.extsi %g : vector<4x8xi8> to vector<4x8xi64>
  %s = vector.multi_reduction <add>, %e, %acc [1] : vector<4x8xi64> to vector<4xi64>
  return %s : vector<4xi64>
}

// -----

// Groups other than 8 bytes per 64-bit lane are left alone.
// CHECK-LABEL: func.func @negative_groups_of_four
// CHECK-NOT: llvm.call_intrinsic
// CHECK: vector.multi_reduction
func.func @negative_groups_of_four(%bytes: vector<32xi8>, %acc: vector<8xi64>) -> vector<8xi64> {
  %g = vector.shape_cast %bytes : vector<32xi8> to vector<8x4xi8>
  %e = arith.extui %g : vector<8x4xi8> to vector<8x4xi64>
  %s = vector.multi_reduction <add>, %e, %acc [1] : vector<8x4xi64> to vector<8xi64>
  return %s : vector<8xi64>
}

// -----

// A byte count marked bitserial.low_nibbles (every byte < 16) is one pshufb
// in the table of the counts of 0..15, repeated per 128-bit lane.
// CHECK-LABEL: func.func @nibble_lookup_256
// CHECK-SAME: (%[[X:.*]]: vector<32xi8>)
// CHECK: %[[TABLE:.*]] = arith.constant dense<[0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4]> : vector<32xi8>
// CHECK: %[[COUNT:.*]] = llvm.call_intrinsic "llvm.x86.avx2.pshuf.b"(%[[TABLE]], %[[X]]) : (vector<32xi8>, vector<32xi8>) -> vector<32xi8>
// CHECK-NOT: math.ctpop
// CHECK: return %[[COUNT]]
func.func @nibble_lookup_256(%x: vector<32xi8>) -> vector<32xi8> {
  %c = math.ctpop %x {bitserial.low_nibbles} : vector<32xi8>
  return %c : vector<32xi8>
}

// -----

// CHECK-LABEL: func.func @nibble_lookup_128_and_512
// CHECK: llvm.call_intrinsic "llvm.x86.ssse3.pshuf.b.128"
// CHECK: llvm.call_intrinsic "llvm.x86.avx512.pshuf.b.512"
func.func @nibble_lookup_128_and_512(%a: vector<16xi8>, %b: vector<64xi8>) -> (vector<16xi8>, vector<64xi8>) {
  %ca = math.ctpop %a {bitserial.low_nibbles} : vector<16xi8>
  %cb = math.ctpop %b {bitserial.low_nibbles} : vector<64xi8>
  return %ca, %cb : vector<16xi8>, vector<64xi8>
}

// -----

// Without the mark a byte may be >= 16: its count stays a ctpop. Other
// widths have no pshufb.
// CHECK-LABEL: func.func @negative_nibble_lookup
// CHECK: math.ctpop %{{.*}} : vector<32xi8>
// CHECK: math.ctpop %{{.*}} {bitserial.low_nibbles} : vector<8xi8>
// CHECK: math.ctpop %{{.*}} {bitserial.low_nibbles} : vector<8xi16>
// CHECK-NOT: llvm.call_intrinsic
func.func @negative_nibble_lookup(%a: vector<32xi8>, %b: vector<8xi8>, %c: vector<8xi16>) -> (vector<32xi8>, vector<8xi8>, vector<8xi16>) {
  %ca = math.ctpop %a : vector<32xi8>
  %cb = math.ctpop %b {bitserial.low_nibbles} : vector<8xi8>
  %cc = math.ctpop %c {bitserial.low_nibbles} : vector<8xi16>
  return %ca, %cb, %cc : vector<32xi8>, vector<8xi8>, vector<8xi16>
}
