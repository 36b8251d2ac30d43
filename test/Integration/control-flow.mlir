// Packed tensors and accumulators carried by scf.for and scf.while, chosen
// by scf.if or a branch, passed to and returned from called functions, and
// inits that bufferization cannot update in place: every entry computes
// exactly what NumPy does (control_flow.py) under both lowerings, tiled by
// the pipeline or beforehand with tile sizes that do not divide the
// problem, and on two threads.
//
// RUN: rm -rf %t && mkdir -p %t/plain %t/tiled
// RUN: env PYTHONPATH=%bitserial_src_root/python %bitserial_python %S/control_flow.py --runner %bitserial_obj_root/bin/bitserial-run --work %t/plain %s | FileCheck %s
// RUN: bitserial-opt %s --bitserial-tile="matmul-tile-sizes=2,3 conv-tile-sizes=1,0,0,3" -o %t/tiled.mlir
// RUN: env PYTHONPATH=%bitserial_src_root/python %bitserial_python %S/control_flow.py --runner %bitserial_obj_root/bin/bitserial-run --work %t/tiled --configs reference,vector %t/tiled.mlir | FileCheck %s --check-prefix=TILED
// CHECK-COUNT-52: exact: control-flow.mlir
// CHECK-NEXT: control-flow: 52 passed, 0 failed
// TILED-COUNT-26: exact: tiled.mlir
// TILED-NEXT: control-flow: 26 passed, 0 failed

!A = tensor<3x2x3xi64, #bitserial.packed<bits = 2, encoding = signed, length = 130>>
!W = tensor<5x1x3xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 130>>
!X = tensor<1x5x6x2x2xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 70>>
!F = tensor<4x3x3x1x2xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 70>>

// init + sum_t x[t] @ w^T: the i32 accumulator is the loop's iter_arg.
func.func @matmul_accumulate(%x: tensor<4x3x130xi8>, %w: tensor<5x130xi8>, %init: tensor<3x5xi32>) -> tensor<3x5xi32> {
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

// The same with an i64 accumulator, the weights packed inside the loop too.
func.func @matmul_accumulate_i64(%x: tensor<4x3x130xi8>, %w: tensor<5x130xi8>, %init: tensor<3x5xi64>) -> tensor<3x5xi64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %r = scf.for %t = %c0 to %c4 step %c1 iter_args(%acc = %init) -> (tensor<3x5xi64>) {
    %xt = tensor.extract_slice %x[%t, 0, 0] [1, 3, 130] [1, 1, 1] : tensor<4x3x130xi8> to tensor<3x130xi8>
    %px = bitserial.pack %xt : tensor<3x130xi8> -> !A
    %pw = bitserial.pack %w : tensor<5x130xi8> -> !W
    %next = bitserial.matmul ins(%px, %pw : !A, !W) outs(%acc : tensor<3x5xi64>) -> tensor<3x5xi64>
    scf.yield %next : tensor<3x5xi64>
  }
  return %r : tensor<3x5xi64>
}

// init + sum_t conv2d(x[t], f), padded: the accumulator is the iter_arg.
func.func @conv_accumulate(%x: tensor<3x1x5x6x70xi8>, %f: tensor<4x3x3x70xi8>, %init: tensor<1x5x6x4xi32>) -> tensor<1x5x6x4xi32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %pf = bitserial.pack %f : tensor<4x3x3x70xi8> -> !F
  %r = scf.for %t = %c0 to %c3 step %c1 iter_args(%acc = %init) -> (tensor<1x5x6x4xi32>) {
    %xt = tensor.extract_slice %x[%t, 0, 0, 0, 0] [1, 1, 5, 6, 70] [1, 1, 1, 1, 1] : tensor<3x1x5x6x70xi8> to tensor<1x5x6x70xi8>
    %px = bitserial.pack %xt : tensor<1x5x6x70xi8> -> !X
    %next = bitserial.conv2d ins(%px, %pf : !X, !F) outs(%acc : tensor<1x5x6x4xi32>) padding = [1, 1, 1, 1] -> tensor<1x5x6x4xi32>
    scf.yield %next : tensor<1x5x6x4xi32>
  }
  return %r : tensor<1x5x6x4xi32>
}

// Packed iter_args: one packs a new value each iteration (the matmul after
// the loop sees the last, x[3]), one passes the weights through unchanged.
func.func @packed_iter_args(%x: tensor<4x3x130xi8>, %w: tensor<5x130xi8>, %init: tensor<3x5xi32>) -> tensor<3x5xi32> {
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

// A packed iter_arg and the accumulator in one loop, the packed value used
// inside: iteration t multiplies x[t - 1] (the packed value carried in).
func.func @packed_and_accumulator(%x: tensor<4x3x130xi8>, %w: tensor<5x130xi8>, %init: tensor<3x5xi32>) -> tensor<3x5xi32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %pw = bitserial.pack %w : tensor<5x130xi8> -> !W
  %x0 = tensor.extract_slice %x[0, 0, 0] [1, 3, 130] [1, 1, 1] : tensor<4x3x130xi8> to tensor<3x130xi8>
  %p0 = bitserial.pack %x0 : tensor<3x130xi8> -> !A
  %r:2 = scf.for %t = %c1 to %c4 step %c1 iter_args(%p = %p0, %acc = %init) -> (!A, tensor<3x5xi32>) {
    %next = bitserial.matmul ins(%p, %pw : !A, !W) outs(%acc : tensor<3x5xi32>) -> tensor<3x5xi32>
    %xt = tensor.extract_slice %x[%t, 0, 0] [1, 3, 130] [1, 1, 1] : tensor<4x3x130xi8> to tensor<3x130xi8>
    %px = bitserial.pack %xt : tensor<3x130xi8> -> !A
    scf.yield %px, %next : !A, tensor<3x5xi32>
  }
  return %r#1 : tensor<3x5xi32>
}

// The same with scf.while carrying the counter, packed value and accumulator.
func.func @packed_while(%x: tensor<4x3x130xi8>, %w: tensor<5x130xi8>, %init: tensor<3x5xi32>) -> tensor<3x5xi32> {
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %pw = bitserial.pack %w : tensor<5x130xi8> -> !W
  %x0 = tensor.extract_slice %x[0, 0, 0] [1, 3, 130] [1, 1, 1] : tensor<4x3x130xi8> to tensor<3x130xi8>
  %p0 = bitserial.pack %x0 : tensor<3x130xi8> -> !A
  %r:3 = scf.while (%t = %c1, %p = %p0, %acc = %init) : (index, !A, tensor<3x5xi32>) -> (index, !A, tensor<3x5xi32>) {
    %more = arith.cmpi ult, %t, %c4 : index
    scf.condition(%more) %t, %p, %acc : index, !A, tensor<3x5xi32>
  } do {
  ^bb0(%t: index, %p: !A, %acc: tensor<3x5xi32>):
    %next = bitserial.matmul ins(%p, %pw : !A, !W) outs(%acc : tensor<3x5xi32>) -> tensor<3x5xi32>
    %xt = tensor.extract_slice %x[%t, 0, 0] [1, 3, 130] [1, 1, 1] : tensor<4x3x130xi8> to tensor<3x130xi8>
    %px = bitserial.pack %xt : tensor<3x130xi8> -> !A
    %t1 = arith.addi %t, %c1 : index
    scf.yield %t1, %px, %next : index, !A, tensor<3x5xi32>
  }
  return %r#2 : tensor<3x5xi32>
}

// scf.if yields one of two packed values: x[0] if sel[0] > 0, else x[1].
func.func @packed_if(%sel: tensor<1xi32>, %x: tensor<2x3x130xi8>, %w: tensor<5x130xi8>, %init: tensor<3x5xi64>) -> tensor<3x5xi64> {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0 : i32
  %s = tensor.extract %sel[%c0] : tensor<1xi32>
  %cond = arith.cmpi sgt, %s, %zero : i32
  %pw = bitserial.pack %w : tensor<5x130xi8> -> !W
  %p = scf.if %cond -> (!A) {
    %a = tensor.extract_slice %x[0, 0, 0] [1, 3, 130] [1, 1, 1] : tensor<2x3x130xi8> to tensor<3x130xi8>
    %pa = bitserial.pack %a : tensor<3x130xi8> -> !A
    scf.yield %pa : !A
  } else {
    %b = tensor.extract_slice %x[1, 0, 0] [1, 3, 130] [1, 1, 1] : tensor<2x3x130xi8> to tensor<3x130xi8>
    %pb = bitserial.pack %b : tensor<3x130xi8> -> !A
    scf.yield %pb : !A
  }
  %y = bitserial.matmul ins(%p, %pw : !A, !W) outs(%init : tensor<3x5xi64>) -> tensor<3x5xi64>
  return %y : tensor<3x5xi64>
}

// The same choice with a branch to a block that takes the packed value.
func.func @packed_branches(%sel: tensor<1xi32>, %x: tensor<2x3x130xi8>, %w: tensor<5x130xi8>, %init: tensor<3x5xi64>) -> tensor<3x5xi64> {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0 : i32
  %s = tensor.extract %sel[%c0] : tensor<1xi32>
  %cond = arith.cmpi sgt, %s, %zero : i32
  %pw = bitserial.pack %w : tensor<5x130xi8> -> !W
  %a = tensor.extract_slice %x[0, 0, 0] [1, 3, 130] [1, 1, 1] : tensor<2x3x130xi8> to tensor<3x130xi8>
  %b = tensor.extract_slice %x[1, 0, 0] [1, 3, 130] [1, 1, 1] : tensor<2x3x130xi8> to tensor<3x130xi8>
  %pa = bitserial.pack %a : tensor<3x130xi8> -> !A
  %pb = bitserial.pack %b : tensor<3x130xi8> -> !A
  cf.cond_br %cond, ^multiply(%pa : !A), ^multiply(%pb : !A)
^multiply(%p: !A):
  %y = bitserial.matmul ins(%p, %pw : !A, !W) outs(%init : tensor<3x5xi64>) -> tensor<3x5xi64>
  return %y : tensor<3x5xi64>
}

// Packed results and arguments of called functions: init + 2 x @ w^T.
func.func private @pack_operands(%x: tensor<3x130xi8>, %w: tensor<5x130xi8>) -> (!A, !W) {
  %px = bitserial.pack %x : tensor<3x130xi8> -> !A
  %pw = bitserial.pack %w : tensor<5x130xi8> -> !W
  return %px, %pw : !A, !W
}
func.func private @multiply(%px: !A, %pw: !W, %init: tensor<3x5xi32>) -> tensor<3x5xi32> {
  %y = bitserial.matmul ins(%px, %pw : !A, !W) outs(%init : tensor<3x5xi32>) -> tensor<3x5xi32>
  return %y : tensor<3x5xi32>
}
func.func @packed_calls(%x: tensor<3x130xi8>, %w: tensor<5x130xi8>, %init: tensor<3x5xi32>) -> tensor<3x5xi32> {
  %px, %pw = func.call @pack_operands(%x, %w) : (tensor<3x130xi8>, tensor<5x130xi8>) -> (!A, !W)
  %y = func.call @multiply(%px, %pw, %init) : (!A, !W, tensor<3x5xi32>) -> tensor<3x5xi32>
  %y2 = func.call @multiply(%px, %pw, %y) : (!A, !W, tensor<3x5xi32>) -> tensor<3x5xi32>
  return %y2 : tensor<3x5xi32>
}

// The kernel updates init in place; where it cannot (a constant init, or an
// init read again later), bufferization gives it a new buffer. With one
// output block whose first store is at constant zero indices, MLIR 22 does
// not copy init into that buffer: the kernel must read init before storing.
func.func @constant_init(%x: tensor<1x130xi8>, %w: tensor<7x130xi8>) -> tensor<1x7xi32> {
  %init = arith.constant dense<[[1, -2, 3, -4, 5, -6, 7]]> : tensor<1x7xi32>
  %px = bitserial.pack %x : tensor<1x130xi8> -> tensor<1x2x3xi64, #bitserial.packed<bits = 2, encoding = signed, length = 130>>
  %pw = bitserial.pack %w : tensor<7x130xi8> -> tensor<7x1x3xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 130>>
  %y = bitserial.matmul ins(%px, %pw : tensor<1x2x3xi64, #bitserial.packed<bits = 2, encoding = signed, length = 130>>, tensor<7x1x3xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 130>>)
      outs(%init : tensor<1x7xi32>) -> tensor<1x7xi32>
  return %y : tensor<1x7xi32>
}

// init + x[0] @ w^T + init + x[1] @ w^T, both matmuls into the same init.
func.func @init_reused(%x: tensor<2x1x130xi8>, %w: tensor<7x130xi8>, %init: tensor<1x7xi32>) -> tensor<1x7xi32> {
  %pw = bitserial.pack %w : tensor<7x130xi8> -> tensor<7x1x3xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 130>>
  %x0 = tensor.extract_slice %x[0, 0, 0] [1, 1, 130] [1, 1, 1] : tensor<2x1x130xi8> to tensor<1x130xi8>
  %x1 = tensor.extract_slice %x[1, 0, 0] [1, 1, 130] [1, 1, 1] : tensor<2x1x130xi8> to tensor<1x130xi8>
  %p0 = bitserial.pack %x0 : tensor<1x130xi8> -> tensor<1x2x3xi64, #bitserial.packed<bits = 2, encoding = signed, length = 130>>
  %p1 = bitserial.pack %x1 : tensor<1x130xi8> -> tensor<1x2x3xi64, #bitserial.packed<bits = 2, encoding = signed, length = 130>>
  %y0 = bitserial.matmul ins(%p0, %pw : tensor<1x2x3xi64, #bitserial.packed<bits = 2, encoding = signed, length = 130>>, tensor<7x1x3xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 130>>)
      outs(%init : tensor<1x7xi32>) -> tensor<1x7xi32>
  %y1 = bitserial.matmul ins(%p1, %pw : tensor<1x2x3xi64, #bitserial.packed<bits = 2, encoding = signed, length = 130>>, tensor<7x1x3xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 130>>)
      outs(%init : tensor<1x7xi32>) -> tensor<1x7xi32>
  %empty = tensor.empty() : tensor<1x7xi32>
  %sum = linalg.add ins(%y0, %y1 : tensor<1x7xi32>, tensor<1x7xi32>) outs(%empty : tensor<1x7xi32>) -> tensor<1x7xi32>
  return %sum : tensor<1x7xi32>
}
