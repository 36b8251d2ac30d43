// Loops through bufferization. A matmul accumulating into an scf.for
// iter_arg updates it in place under both lowerings: the loop carries the
// argument's buffer, no buffer of the accumulator's shape is allocated. A
// loop carrying a packed value packed anew each iteration yields a new
// buffer and carries its ownership: each iteration frees the previous one.
// (The weights passed through unchanged fold away.)
//
// RUN: bitserial-opt %s -split-input-file --bitserial-to-llvm="strategy=vector target=x86-avx2" --mlir-print-ir-after=one-shot-bufferize -o /dev/null 2>&1 | FileCheck %s
// RUN: bitserial-opt %s -split-input-file --bitserial-to-llvm="strategy=reference" --mlir-print-ir-after=one-shot-bufferize -o /dev/null 2>&1 | FileCheck %s
// RUN: bitserial-opt %s -split-input-file --bitserial-to-llvm="strategy=vector target=x86-avx2" --mlir-print-ir-after=buffer-deallocation-simplification -o /dev/null 2>&1 | FileCheck %s --check-prefix=DEALLOC
// RUN: bitserial-opt %s -split-input-file --bitserial-to-llvm="strategy=vector tile=true matmul-tile-sizes=2,3" | FileCheck %s --check-prefix=LLVM
// RUN: bitserial-opt %s -split-input-file --bitserial-to-llvm="strategy=vector parallel=true" | FileCheck %s --check-prefix=LLVM

// LLVM-LABEL: llvm.func @accumulate
// LLVM-LABEL: llvm.func @packed_iter_arg

!A = tensor<3x2x3xi64, #bitserial.packed<bits = 2, encoding = signed, length = 130>>
!W = tensor<5x1x3xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 130>>

// CHECK-LABEL: func.func @accumulate
// CHECK-SAME: %[[INIT:[^:]*]]: memref<3x5xi32>
// CHECK-NOT: memref.alloc() {{.*}} : memref<{{(1x1x)?}}3x5xi32>
// CHECK: scf.for {{.*}} iter_args(%{{.*}} = %[[INIT]]) -> (memref<3x5xi32>)
// CHECK-NOT: memref.alloc() {{.*}} : memref<{{(1x1x)?}}3x5xi32>
// CHECK: scf.yield %{{.*}} : memref<3x5xi32>
func.func @accumulate(%x: tensor<4x3x130xi8>, %w: tensor<5x130xi8>, %init: tensor<3x5xi32>) -> tensor<3x5xi32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %pw = bitserial.pack %w : tensor<5x130xi8> -> !W
  %r = scf.for %t = %c0 to %c4 step %c1 iter_args(%acc = %init) -> (tensor<3x5xi32>) {
    %xt = tensor.extract_slice %x[%t, 0, 0] [1, 3, 130] [1, 1, 1] : tensor<4x3x130xi8> to tensor<3x130xi8>
    %px = bitserial.pack %xt : tensor<3x130xi8> -> !A
    %next = bitserial.matmul ins(%px, %pw : !A, !W) outs(%acc : tensor<3x5xi32>) -> tensor<3x5xi32>
    scf.yield %next : tensor<3x5xi32>
  }
  return %r : tensor<3x5xi32>
}

// -----

!A = tensor<3x2x3xi64, #bitserial.packed<bits = 2, encoding = signed, length = 130>>
!W = tensor<5x1x3xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 130>>

// CHECK-LABEL: func.func @packed_iter_arg
// CHECK: scf.for {{.*}} -> (memref<3x2x3xi64>)
// CHECK: memref.alloc() {{.*}} : memref<3x2x3xi64>
// CHECK: scf.yield %{{.*}} : memref<3x2x3xi64>
// DEALLOC-LABEL: func.func @packed_iter_arg
// DEALLOC: scf.for {{.*}} iter_args(%[[OLD:[^ ]*]] = %{{.*}}, %[[OWNED:[^ ]*]] = %false) -> (memref<3x2x3xi64>, i1)
// DEALLOC: %[[BASE:[^ ,]*]], {{.*}} = memref.extract_strided_metadata %[[OLD]]
// DEALLOC: bufferization.dealloc (%[[BASE]] : {{.*}}) if (%[[OWNED]])
// DEALLOC: scf.yield %{{.*}}, %true : memref<3x2x3xi64>, i1
func.func @packed_iter_arg(%x: tensor<4x3x130xi8>, %w: tensor<5x130xi8>, %init: tensor<3x5xi32>) -> tensor<3x5xi32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %pw = bitserial.pack %w : tensor<5x130xi8> -> !W
  %x0 = tensor.extract_slice %x[0, 0, 0] [1, 3, 130] [1, 1, 1] : tensor<4x3x130xi8> to tensor<3x130xi8>
  %p0 = bitserial.pack %x0 : tensor<3x130xi8> -> !A
  %r:2 = scf.for %t = %c1 to %c4 step %c1 iter_args(%p = %p0, %q = %pw) -> (!A, !W) {
    %xt = tensor.extract_slice %x[%t, 0, 0] [1, 3, 130] [1, 1, 1] : tensor<4x3x130xi8> to tensor<3x130xi8>
    %px = bitserial.pack %xt : tensor<3x130xi8> -> !A
    scf.yield %px, %q : !A, !W
  }
  %y = bitserial.matmul ins(%r#0, %r#1 : !A, !W) outs(%init : tensor<3x5xi32>) -> tensor<3x5xi32>
  return %y : tensor<3x5xi32>
}
