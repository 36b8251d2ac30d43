// A binary dense layer: 1-bit bipolar (+1/-1) activations times 1-bit bipolar
// weights (XNOR-net style), K = 300 (not a multiple of 64), 4 rows, 10 units.
//
//   build/bin/bitserial-opt examples/binary_dense.mlir --bitserial-to-llvm
func.func @binary_dense(%x: tensor<4x300xi8>, %w: tensor<10x300xi8>) -> tensor<4x10xi32> {
  %px = bitserial.pack %x : tensor<4x300xi8>
      -> tensor<4x1x5xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 300>>
  %pw = bitserial.pack %w : tensor<10x300xi8>
      -> tensor<10x1x5xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 300>>
  %zero = arith.constant 0 : i32
  %empty = tensor.empty() : tensor<4x10xi32>
  %init = linalg.fill ins(%zero : i32) outs(%empty : tensor<4x10xi32>) -> tensor<4x10xi32>
  %y = bitserial.matmul
      ins(%px, %pw : tensor<4x1x5xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 300>>,
                     tensor<10x1x5xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 300>>)
      outs(%init : tensor<4x10xi32>) -> tensor<4x10xi32>
  return %y : tensor<4x10xi32>
}
