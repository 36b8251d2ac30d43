// Two low-precision layers for ahead-of-time compilation (README, "Ahead-of-
// time compilation"; main.c calls them and checks them against plain loops):
//
//   build/bin/bitserial-compile examples/aot/layers.mlir --target aarch64-a53 \
//       -o layers.o --header layers.h
//
// conv: 2-bit unsigned activations (0..3) times 1-bit bipolar weights (-1/+1),
// 3x3 with padding 1, 70 channels (not a multiple of 64), 8 filters.
!X = tensor<1x6x6x2x2xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 70>>
!W = tensor<8x3x3x1x2xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 70>>
func.func @conv(%x: tensor<1x6x6x70xi8>, %w: tensor<8x3x3x70xi8>) -> tensor<1x6x6x8xi32> {
  %px = bitserial.pack %x : tensor<1x6x6x70xi8> -> !X
  %pw = bitserial.pack %w : tensor<8x3x3x70xi8> -> !W
  %zero = arith.constant 0 : i32
  %empty = tensor.empty() : tensor<1x6x6x8xi32>
  %init = linalg.fill ins(%zero : i32) outs(%empty : tensor<1x6x6x8xi32>) -> tensor<1x6x6x8xi32>
  %y = bitserial.conv2d ins(%px, %pw : !X, !W) outs(%init : tensor<1x6x6x8xi32>)
      padding = [1, 1, 1, 1] -> tensor<1x6x6x8xi32>
  return %y : tensor<1x6x6x8xi32>
}

// dense: bias + 2-bit signed activations (-2..1) times 1-bit bipolar weights,
// K = 300. The bias is updated in place: the caller passes a copy.
!A = tensor<4x2x5xi64, #bitserial.packed<bits = 2, encoding = signed, length = 300>>
!B = tensor<10x1x5xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 300>>
func.func @dense(%x: tensor<4x300xi8>, %w: tensor<10x300xi8>, %bias: tensor<4x10xi32>) -> tensor<4x10xi32> {
  %px = bitserial.pack %x : tensor<4x300xi8> -> !A
  %pw = bitserial.pack %w : tensor<10x300xi8> -> !B
  %y = bitserial.matmul ins(%px, %pw : !A, !B) outs(%bias : tensor<4x10xi32>) -> tensor<4x10xi32>
  return %y : tensor<4x10xi32>
}
