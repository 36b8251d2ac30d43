// Signed 4-bit activations times bipolar 2-bit weights, K = 70, packed here
// (pack_matmul) or by the caller (packed_matmul); unpack_words8 unpacks
// caller-packed 8-bit words.
!X = tensor<2x4x2xi64, #bitserial.packed<bits = 4, encoding = signed, length = 70>>
!W = tensor<3x2x2xi64, #bitserial.packed<bits = 2, encoding = bipolar, length = 70>>
!X8 = tensor<2x4x9xi8, #bitserial.packed<bits = 4, encoding = signed, length = 70>>

func.func @pack_matmul(%x: tensor<2x70xi8>, %w: tensor<3x70xi8>) -> tensor<2x3xi32> {
  %px = bitserial.pack %x : tensor<2x70xi8> -> !X
  %pw = bitserial.pack %w : tensor<3x70xi8> -> !W
  %y = call @packed_matmul(%px, %pw) : (!X, !W) -> tensor<2x3xi32>
  return %y : tensor<2x3xi32>
}

func.func @packed_matmul(%px: !X, %pw: !W) -> tensor<2x3xi32> {
  %zero = arith.constant 0 : i32
  %empty = tensor.empty() : tensor<2x3xi32>
  %init = linalg.fill ins(%zero : i32) outs(%empty : tensor<2x3xi32>) -> tensor<2x3xi32>
  %y = bitserial.matmul ins(%px, %pw : !X, !W) outs(%init : tensor<2x3xi32>) -> tensor<2x3xi32>
  return %y : tensor<2x3xi32>
}

func.func @unpack_words8(%p: !X8) -> tensor<2x70xi8> {
  %x = bitserial.unpack %p : !X8 -> tensor<2x70xi8>
  return %x : tensor<2x70xi8>
}

// 8-bit unsigned codes in i8: values 128..255 are negative bit patterns.
func.func @pack8_matmul(%x: tensor<2x70xi8>, %w: tensor<3x70xi8>) -> tensor<2x3xi32> {
  %px = bitserial.pack %x : tensor<2x70xi8> -> tensor<2x8x2xi64, #bitserial.packed<bits = 8, encoding = unsigned, length = 70>>
  %pw = bitserial.pack %w : tensor<3x70xi8> -> !W
  %zero = arith.constant 0 : i32
  %empty = tensor.empty() : tensor<2x3xi32>
  %init = linalg.fill ins(%zero : i32) outs(%empty : tensor<2x3xi32>) -> tensor<2x3xi32>
  %y = bitserial.matmul ins(%px, %pw : tensor<2x8x2xi64, #bitserial.packed<bits = 8, encoding = unsigned, length = 70>>, !W) outs(%init : tensor<2x3xi32>) -> tensor<2x3xi32>
  return %y : tensor<2x3xi32>
}
