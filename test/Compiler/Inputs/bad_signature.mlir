func.func @floats(%x: tensor<4xf16>) -> tensor<4xf16> {
  return %x : tensor<4xf16>
}
