// A 2-bit unsigned x 2-bit signed matmul (for the vpermb lookups of
// convert-bitserial-to-x86-lookup instruction=vpermb).
!A = tensor<4x2x1xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 50>>
!B = tensor<8x2x1xi64, #bitserial.packed<bits = 2, encoding = signed, length = 50>>
func.func @main(%a: !A, %b: !B, %init: tensor<4x8xi32>) -> tensor<4x8xi32> {
  %r = bitserial.matmul ins(%a, %b : !A, !B) outs(%init : tensor<4x8xi32>) -> tensor<4x8xi32>
  return %r : tensor<4x8xi32>
}
