// A small matmul for the tuning test: 2-bit unsigned x 1-bit bipolar.
!A = tensor<24x2x2xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 100>>
!B = tensor<20x1x2xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 100>>
func.func @main(%x: tensor<24x100xi8>, %w: tensor<20x100xi8>, %init: tensor<24x20xi32>) -> tensor<24x20xi32> {
  %a = bitserial.pack %x : tensor<24x100xi8> -> !A
  %b = bitserial.pack %w : tensor<20x100xi8> -> !B
  %r = bitserial.matmul ins(%a, %b : !A, !B) outs(%init : tensor<24x20xi32>) -> tensor<24x20xi32>
  return %r : tensor<24x20xi32>
}
