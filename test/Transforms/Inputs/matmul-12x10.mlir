!A = tensor<12x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 40>>
!B = tensor<10x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 40>>
func.func @matmul(%a: !A, %b: !B, %init: tensor<12x10xi32>) -> tensor<12x10xi32> {
  %r = bitserial.matmul ins(%a, %b : !A, !B) outs(%init : tensor<12x10xi32>) -> tensor<12x10xi32>
  return %r : tensor<12x10xi32>
}
