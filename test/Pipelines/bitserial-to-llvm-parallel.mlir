// With parallel=true the output rows of the vector kernel become an OpenMP
// worksharing loop; without it there is no OpenMP. Each row's
// parallel_insert_slice bufferizes to a copy of the row onto itself, which
// must fold away (the deallocation pipeline's canonicalization does): no
// runtime memrefCopy per row. The target is pinned: its kernel counts with
// llvm.intr.ctpop on every host.
// RUN: bitserial-opt %s --bitserial-to-llvm="target=x86-avx512-vpopcntdq parallel=true min-parallel-binops=0" | FileCheck %s --implicit-check-not=memrefCopy
// RUN: bitserial-opt %s --bitserial-to-llvm="target=x86-avx512-vpopcntdq" | FileCheck %s --check-prefix=SEQUENTIAL
// CHECK-LABEL: llvm.func @conv
// CHECK: omp.parallel
// CHECK: omp.wsloop
// CHECK: llvm.intr.ctpop
// SEQUENTIAL-NOT: omp.
!X = tensor<2x6x7x1x1xi64, #bitserial.packed<bits = 1, encoding = unsigned, length = 40>>
!F = tensor<10x3x3x1x1xi64, #bitserial.packed<bits = 1, encoding = unsigned, length = 40>>
func.func @conv(%x: !X, %f: !F, %init: tensor<2x6x7x10xi32>) -> tensor<2x6x7x10xi32> {
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%init : tensor<2x6x7x10xi32>) padding = [1, 1, 1, 1] -> tensor<2x6x7x10xi32>
  return %r : tensor<2x6x7x10xi32>
}
