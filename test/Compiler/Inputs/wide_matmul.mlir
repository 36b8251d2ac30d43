// 4-bit signed activations times 4-bit signed weights: a bit product of 16,
// where int8 dot products beat bit-serial kernels on CPUs that have them.
!A = tensor<8x4x2xi64, #bitserial.packed<bits = 4, encoding = signed, length = 100>>
!B = tensor<6x4x2xi64, #bitserial.packed<bits = 4, encoding = signed, length = 100>>
func.func @wide(%x: tensor<8x100xi8>, %w: tensor<6x100xi8>, %init: tensor<8x6xi32>) -> tensor<8x6xi32> {
  %px = bitserial.pack %x : tensor<8x100xi8> -> !A
  %pw = bitserial.pack %w : tensor<6x100xi8> -> !B
  %y = bitserial.matmul ins(%px, %pw : !A, !B) outs(%init : tensor<8x6xi32>) -> tensor<8x6xi32>
  return %y : tensor<8x6xi32>
}
