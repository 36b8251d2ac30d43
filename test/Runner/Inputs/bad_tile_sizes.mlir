// bitserial-tile rejects the tile sizes while bitserial-run lowers this.
!X = tensor<2x4x2xi64, #bitserial.packed<bits = 4, encoding = signed, length = 70>>
!W = tensor<3x2x2xi64, #bitserial.packed<bits = 2, encoding = bipolar, length = 70>>

func.func @bad_tiles(%px: !X, %pw: !W, %init: tensor<2x3xi32>) -> tensor<2x3xi32> {
  %y = bitserial.matmul ins(%px, %pw : !X, !W) outs(%init : tensor<2x3xi32>) {bitserial.tile_sizes = array<i64: 1, 2, 3, 4>} -> tensor<2x3xi32>
  return %y : tensor<2x3xi32>
}
