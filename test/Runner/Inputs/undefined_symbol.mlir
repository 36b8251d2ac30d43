// @missing has no body and no library defines it.
func.func private @missing(tensor<4xi32>) -> tensor<4xi32>
func.func @calls_missing(%x: tensor<4xi32>) -> tensor<4xi32> {
  %r = call @missing(%x) : (tensor<4xi32>) -> tensor<4xi32>
  return %r : tensor<4xi32>
}
