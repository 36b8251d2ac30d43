// RUN: bitserial-opt %s -split-input-file --convert-bitserial-to-linalg | FileCheck %s
// RUN: bitserial-opt %s -split-input-file --convert-bitserial-to-vector | FileCheck %s

// Packed types in control flow lose their encoding everywhere: function
// signatures, the arguments of every block (not only the entry block), loop
// iter_args and results, if results and calls.

!A = tensor<3x2x3xi64, #bitserial.packed<bits = 2, encoding = signed, length = 130>>

// CHECK-LABEL: func.func @branches
// CHECK-SAME: -> tensor<3x2x3xi64> {
// CHECK: cf.cond_br %{{.*}}, ^[[BB:.*]](%{{.*}} : tensor<3x2x3xi64>), ^[[BB]](%{{.*}} : tensor<3x2x3xi64>)
// CHECK: ^[[BB]](%[[P:.*]]: tensor<3x2x3xi64>):
// CHECK: return %[[P]] : tensor<3x2x3xi64>
func.func @branches(%c: i1, %a: tensor<3x130xi8>, %b: tensor<3x130xi8>) -> !A {
  %pa = bitserial.pack %a : tensor<3x130xi8> -> !A
  %pb = bitserial.pack %b : tensor<3x130xi8> -> !A
  cf.cond_br %c, ^bb1(%pa : !A), ^bb1(%pb : !A)
^bb1(%p: !A):
  return %p : !A
}

// -----

!A = tensor<3x2x3xi64, #bitserial.packed<bits = 2, encoding = signed, length = 130>>

// CHECK-LABEL: func.func private @identity
// CHECK-SAME: (%{{.*}}: tensor<3x2x3xi64>) -> tensor<3x2x3xi64>
func.func private @identity(%p: !A) -> !A {
  return %p : !A
}

// CHECK-LABEL: func.func @loops
// CHECK: scf.for {{.*}} -> (tensor<3x2x3xi64>)
// CHECK: func.call @identity(%{{.*}}) : (tensor<3x2x3xi64>) -> tensor<3x2x3xi64>
// CHECK: scf.yield %{{.*}} : tensor<3x2x3xi64>
// CHECK: scf.if %{{.*}} -> (tensor<3x2x3xi64>)
// CHECK: scf.while (%{{.*}} = %{{.*}}) : (tensor<3x2x3xi64>) -> tensor<3x2x3xi64>
// CHECK-NOT: #bitserial.packed
func.func @loops(%a: tensor<3x130xi8>, %n: index, %c: i1) -> !A {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %p0 = bitserial.pack %a : tensor<3x130xi8> -> !A
  %r = scf.for %t = %c0 to %n step %c1 iter_args(%p = %p0) -> (!A) {
    %q = func.call @identity(%p) : (!A) -> !A
    scf.yield %q : !A
  }
  %s = scf.if %c -> (!A) {
    scf.yield %r : !A
  } else {
    scf.yield %p0 : !A
  }
  %w = scf.while (%p = %s) : (!A) -> !A {
    scf.condition(%c) %p : !A
  } do {
  ^bb0(%p: !A):
    scf.yield %p : !A
  }
  return %w : !A
}
