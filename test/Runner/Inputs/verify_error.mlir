func.func @k_mismatch(%a: tensor<8x2x2xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 70>>,
                      %b: tensor<16x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 64>>,
                      %init: tensor<8x16xi32>) -> tensor<8x16xi32> {
  %r = bitserial.matmul ins(%a, %b : tensor<8x2x2xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 70>>,
                                     tensor<16x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 64>>)
      outs(%init : tensor<8x16xi32>) -> tensor<8x16xi32>
  return %r : tensor<8x16xi32>
}
