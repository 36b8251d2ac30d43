// RUN: bitserial-opt %s --bitserial-to-llvm="target=x86-avx512-vpopcntdq tile=true" | FileCheck %s

// Tiles of a large matmul with 4 x 4 register blocks: the epilogue of each
// block (whole-vector stores, or masked stores for the tail) bufferizes in
// linear time. With an scf.if per tail store inside the block's scf.if,
// one-shot bufferization never finished on this module.
// CHECK-LABEL: llvm.func @matmul_tiled
// CHECK: llvm.intr.ctpop
!A = tensor<512x1x64xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 4096>>
!B = tensor<2048x1x64xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 4096>>
func.func @matmul_tiled(%a: !A, %b: !B, %init: tensor<512x2048xi32>) -> tensor<512x2048xi32> {
  %r = bitserial.matmul ins(%a, %b : !A, !B) outs(%init : tensor<512x2048xi32>) -> tensor<512x2048xi32>
  return %r : tensor<512x2048xi32>
}
