// 4-bit signed activations times 4-bit signed weights (a bit product of
// 16), 64 rows of 256 values and 64 output channels: enough work that the
// cost model sends it to int8 dot products on CPUs that have them (a few
// rows would not repay decoding the operands).
!A = tensor<64x4x4xi64, #bitserial.packed<bits = 4, encoding = signed, length = 256>>
!B = tensor<64x4x4xi64, #bitserial.packed<bits = 4, encoding = signed, length = 256>>
func.func @wide(%x: tensor<64x256xi8>, %w: tensor<64x256xi8>, %init: tensor<64x64xi32>) -> tensor<64x64xi32> {
  %px = bitserial.pack %x : tensor<64x256xi8> -> !A
  %pw = bitserial.pack %w : tensor<64x256xi8> -> !B
  %y = bitserial.matmul ins(%px, %pw : !A, !B) outs(%init : tensor<64x64xi32>) -> tensor<64x64xi32>
  return %y : tensor<64x64xi32>
}
