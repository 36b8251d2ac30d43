// A layer large enough (56 x 56 x 64 outputs x 576 bit pairs) for the
// vector kernels to split it across threads with --parallel.
!X = tensor<1x56x56x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 64>>
!W = tensor<64x3x3x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 64>>
func.func @conv(%x: !X, %w: !W, %init: tensor<1x56x56x64xi32>) -> tensor<1x56x56x64xi32> {
  %y = bitserial.conv2d ins(%x, %w : !X, !W) outs(%init : tensor<1x56x56x64xi32>)
      padding = [1, 1, 1, 1] -> tensor<1x56x56x64xi32>
  return %y : tensor<1x56x56x64xi32>
}
