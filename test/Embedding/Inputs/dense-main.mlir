// Signed 2-bit activations times bipolar weights plus init, called from a
// main that prints the result (K = 5, one word per plane).
func.func @dense(%x: tensor<2x5xi8>, %w: tensor<3x5xi8>, %init: tensor<2x3xi32>) -> tensor<2x3xi32> {
  %px = bitserial.pack %x : tensor<2x5xi8>
      -> tensor<2x2x1xi64, #bitserial.packed<bits = 2, encoding = signed, length = 5>>
  %pw = bitserial.pack %w : tensor<3x5xi8>
      -> tensor<3x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 5>>
  %y = bitserial.matmul
      ins(%px, %pw : tensor<2x2x1xi64, #bitserial.packed<bits = 2, encoding = signed, length = 5>>,
                     tensor<3x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 5>>)
      outs(%init : tensor<2x3xi32>) -> tensor<2x3xi32>
  return %y : tensor<2x3xi32>
}

func.func @main() {
  %x = arith.constant dense<[[1, -2, 0, 1, -1], [-2, -1, 1, 0, 1]]> : tensor<2x5xi8>
  %w = arith.constant dense<[[1, 1, -1, 1, -1], [-1, 1, 1, -1, 1], [1, -1, -1, -1, 1]]> : tensor<3x5xi8>
  %init = arith.constant dense<[[10, 20, 30], [-1, -2, -3]]> : tensor<2x3xi32>
  %y = call @dense(%x, %w, %init) : (tensor<2x5xi8>, tensor<3x5xi8>, tensor<2x3xi32>) -> tensor<2x3xi32>
  %c0 = arith.constant 0 : index
  %pad = arith.constant 0 : i32
  %v = vector.transfer_read %y[%c0, %c0], %pad : tensor<2x3xi32>, vector<2x3xi32>
  vector.print %v : vector<2x3xi32>
  return
}
