func.func @scalar(%x: i32) -> i32 {
  return %x : i32
}
func.func @floats(%x: tensor<4xi32>) -> tensor<4xf16> {
  %f = arith.sitofp %x : tensor<4xi32> to tensor<4xf16>
  return %f : tensor<4xf16>
}
