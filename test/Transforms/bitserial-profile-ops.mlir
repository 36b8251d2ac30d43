// RUN: bitserial-opt %s --split-input-file --bitserial-front-end --bitserial-profile-ops --verify-diagnostics | FileCheck %s
// RUN: bitserial-opt %s --split-input-file --bitserial-to-llvm="profile=true parallel=true min-parallel-binops=0" --verify-diagnostics | FileCheck %s --check-prefix=LLVM

!X = tensor<4x1x5xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 300>>
!W = tensor<16x1x5xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 300>>

// CHECK: module attributes {bitserial.profile_ops = {{\[}}["bitserial.pack", "bitserial-profile-ops.mlir:33"], ["bitserial.pack", "bitserial-profile-ops.mlir:34"], ["linalg.fill", "bitserial-profile-ops.mlir:37"], ["bitserial.matmul", "bitserial-profile-ops.mlir:38"], ["linalg.generic", "bitserial-profile-ops.mlir:39"], ["scf.for", "bitserial-profile-ops.mlir:42"], ["func.call helper", "bitserial-profile-ops.mlir:46"]]}
// CHECK: func.func private @bitserial_profile_exit(i64)
// CHECK: func.func private @bitserial_profile_enter(i64)
// CHECK-LABEL: func.func @layer
// CHECK:         %[[C0:.*]] = arith.constant 0 : i64
// CHECK-NEXT:    call @bitserial_profile_enter(%[[C0]]) : (i64) -> ()
// CHECK-NEXT:    bitserial.pack
// CHECK-NEXT:    call @bitserial_profile_exit(%[[C0]]) : (i64) -> ()
// CHECK:         tensor.empty
// CHECK:         call @bitserial_profile_enter
// CHECK-NEXT:    linalg.fill
// CHECK-NEXT:    call @bitserial_profile_exit
// CHECK:         call @bitserial_profile_enter
// CHECK-NEXT:    bitserial.matmul
// CHECK-NEXT:    call @bitserial_profile_exit
// CHECK:         %[[C5:.*]] = arith.constant 5 : i64
// CHECK-NEXT:    call @bitserial_profile_enter(%[[C5]])
// CHECK-NEXT:    scf.for
// CHECK-NOT:       bitserial_profile
// CHECK:         call @bitserial_profile_exit(%[[C5]])
// CHECK:         call @helper
// CHECK-LABEL: func.func private @helper
// CHECK-NOT:     bitserial_profile
// CHECK:         return

func.func @layer(%x: tensor<4x300xi8>, %w: tensor<16x300xi8>, %n: index) -> tensor<4x16xi32> {
  %px = bitserial.pack %x : tensor<4x300xi8> -> !X
  %pw = bitserial.pack %w : tensor<16x300xi8> -> !W
  %zero = arith.constant 0 : i32
  %empty = tensor.empty() : tensor<4x16xi32>
  %init = linalg.fill ins(%zero : i32) outs(%empty : tensor<4x16xi32>) -> tensor<4x16xi32>
  %y = bitserial.matmul ins(%px, %pw : !X, !W) outs(%init : tensor<4x16xi32>) -> tensor<4x16xi32>
  %relu = arith.maxsi %y, %init : tensor<4x16xi32>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %r = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %relu) -> tensor<4x16xi32> {
    %d = arith.addi %acc, %acc : tensor<4x16xi32>
    scf.yield %d : tensor<4x16xi32>
  }
  %h = func.call @helper(%r) : (tensor<4x16xi32>) -> tensor<4x16xi32>
  return %h : tensor<4x16xi32>
}

func.func private @helper(%a: tensor<4x16xi32>) -> tensor<4x16xi32> {
  %b = arith.muli %a, %a : tensor<4x16xi32>
  return %b : tensor<4x16xi32>
}

// -----

// expected-error @+1 {{'bitserial_profile_enter' is reserved for the profiler: expected type (i64) -> ()}}
func.func private @bitserial_profile_enter(i32)
func.func @layer(%a: tensor<4xi32>) -> tensor<4xi32> {
  %b = arith.addi %a, %a : tensor<4xi32>
  %c = linalg.copy ins(%b : tensor<4xi32>) outs(%a : tensor<4xi32>) -> tensor<4xi32>
  return %c : tensor<4xi32>
}

// -----

// The calls bracket the whole threaded op, outside the parallel region.
// LLVM-LABEL: llvm.func @conv
// LLVM:         llvm.call @bitserial_profile_enter
// LLVM-NOT:     bitserial_profile
// LLVM:         omp.parallel
// LLVM-NOT:     bitserial_profile
// LLVM:         llvm.call @bitserial_profile_exit
// LLVM-NOT:     bitserial_profile
// LLVM:         llvm.return
!PX = tensor<2x6x7x1x1xi64, #bitserial.packed<bits = 1, encoding = unsigned, length = 40>>
!PF = tensor<10x3x3x1x1xi64, #bitserial.packed<bits = 1, encoding = unsigned, length = 40>>
func.func @conv(%x: !PX, %f: !PF, %init: tensor<2x6x7x10xi32>) -> tensor<2x6x7x10xi32> {
  %r = bitserial.conv2d ins(%x, %f : !PX, !PF) outs(%init : tensor<2x6x7x10xi32>) padding = [1, 1, 1, 1] -> tensor<2x6x7x10xi32>
  return %r : tensor<2x6x7x10xi32>
}
