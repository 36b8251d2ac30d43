// RUN: bitserial-opt %s -split-input-file -verify-diagnostics

//===----------------------------------------------------------------------===//
// #bitserial.packed attribute parameters
//===----------------------------------------------------------------------===//

// expected-error @+1 {{bits must be in [1, 8], got 0}}
func.func @packed_bits_zero(%p: tensor<4x0x2xi64, #bitserial.packed<bits = 0, encoding = signed, length = 70>>) {
  return
}

// -----

// expected-error @+1 {{bits must be in [1, 8], got 9}}
func.func @packed_bits_nine(%p: tensor<4x9x2xi64, #bitserial.packed<bits = 9, encoding = signed, length = 70>>) {
  return
}

// -----

// expected-error @+1 {{length must be positive, got 0}}
func.func @packed_length_zero(%p: tensor<4x2x0xi64, #bitserial.packed<bits = 2, encoding = signed, length = 0>>) {
  return
}

// -----

// expected-error @+1 {{length must be positive, got -5}}
func.func @packed_length_negative(%p: tensor<4x2x1xi64, #bitserial.packed<bits = 2, encoding = signed, length = -5>>) {
  return
}

// -----

// expected-error @+2 {{unknown encoding 'twos', expected unsigned, signed or bipolar}}
// expected-error @+1 {{failed to parse Bitserial_PackedLayoutAttr parameter 'encoding' which is to be a `::mlir::bitserial::Encoding`}}
func.func @packed_unknown_encoding(%p: tensor<4x2x2xi64, #bitserial.packed<bits = 2, encoding = twos, length = 70>>) {
  return
}

// -----

// expected-error @+2 {{bits must be in [1, 8], got -1}}
// expected-error @+1 {{failed to parse Bitserial_PackedLayoutAttr parameter 'bits' which is to be a `unsigned`}}
func.func @packed_bits_negative(%p: tensor<4x2x2xi64, #bitserial.packed<bits = -1, encoding = signed, length = 70>>) {
  return
}

// -----

// expected-error @+2 {{expected integer value}}
// expected-error @+1 {{failed to parse Bitserial_PackedLayoutAttr parameter 'bits' which is to be a `unsigned`}}
func.func @packed_bits_not_integer(%p: tensor<4x2x2xi64, #bitserial.packed<bits = "x", encoding = signed, length = 70>>) {
  return
}

// -----

// expected-error @+2 {{bits must be in [1, 8], got 1099511627776}}
// expected-error @+1 {{failed to parse Bitserial_PackedLayoutAttr parameter 'bits' which is to be a `unsigned`}}
func.func @packed_bits_too_large(%p: tensor<4x2x2xi64, #bitserial.packed<bits = 1099511627776, encoding = signed, length = 70>>) {
  return
}

// -----

// expected-error @+1 {{duplicate or unknown struct parameter name: bits}}
func.func @packed_duplicate_bits(%p: tensor<4x2x2xi64, #bitserial.packed<bits = 2, bits = 2, encoding = signed, length = 70>>) {
  return
}

// -----

//===----------------------------------------------------------------------===//
// #bitserial.packed on a tensor type (verifyEncoding)
//===----------------------------------------------------------------------===//

// expected-error @+1 {{packed tensor element type must be i8, i16, i32 or i64, got 'f32'}}
func.func @packed_float_words(%p: tensor<4x2x2xf32, #bitserial.packed<bits = 2, encoding = signed, length = 70>>) {
  return
}

// -----

// expected-error @+1 {{packed tensor element type must be i8, i16, i32 or i64, got 'ui64'}}
func.func @packed_unsigned_words(%p: tensor<4x2x2xui64, #bitserial.packed<bits = 2, encoding = signed, length = 70>>) {
  return
}

// -----

// expected-error @+1 {{packed tensor element type must be i8, i16, i32 or i64, got 'i128'}}
func.func @packed_i128_words(%p: tensor<4x2x1xi128, #bitserial.packed<bits = 2, encoding = signed, length = 70>>) {
  return
}

// -----

// expected-error @+1 {{packed tensor must have rank >= 2 ([..., planes, words]), got rank 1}}
func.func @packed_rank1(%p: tensor<2xi64, #bitserial.packed<bits = 2, encoding = signed, length = 70>>) {
  return
}

// -----

// expected-error @+1 {{packed tensor must have rank >= 2 ([..., planes, words]), got rank 0}}
func.func @packed_rank0(%p: tensor<i64, #bitserial.packed<bits = 2, encoding = signed, length = 70>>) {
  return
}

// -----

// expected-error @+1 {{packed tensor plane dimension must be 2 (bits), got 3}}
func.func @packed_wrong_planes(%p: tensor<4x3x2xi64, #bitserial.packed<bits = 2, encoding = signed, length = 70>>) {
  return
}

// -----

// expected-error @+1 {{packed tensor plane dimension must be 2 (bits), got ?}}
func.func @packed_dynamic_planes(%p: tensor<4x?x2xi64, #bitserial.packed<bits = 2, encoding = signed, length = 70>>) {
  return
}

// -----

// expected-error @+1 {{packed tensor word dimension must be 2 (ceil(70 / 64)), got 3}}
func.func @packed_wrong_words(%p: tensor<4x2x3xi64, #bitserial.packed<bits = 2, encoding = signed, length = 70>>) {
  return
}

// -----

// expected-error @+1 {{packed tensor word dimension must be 9 (ceil(70 / 8)), got 2}}
func.func @packed_words_for_i8(%p: tensor<4x2x2xi8, #bitserial.packed<bits = 2, encoding = signed, length = 70>>) {
  return
}

// -----

// expected-error @+1 {{packed tensor word dimension must be 2 (ceil(70 / 64)), got ?}}
func.func @packed_dynamic_words(%p: tensor<4x2x?xi64, #bitserial.packed<bits = 2, encoding = signed, length = 70>>) {
  return
}

// -----

// The encoding is checked where a type is parsed, also inside an op.
func.func @packed_bad_type_in_op(%x: tensor<4x70xi8>) {
  // expected-error @+1 {{packed tensor plane dimension must be 2 (bits), got 1}}
  %p = bitserial.pack %x : tensor<4x70xi8> -> tensor<4x1x2xi64, #bitserial.packed<bits = 2, encoding = signed, length = 70>>
  return
}

// -----

//===----------------------------------------------------------------------===//
// bitserial.pack
//===----------------------------------------------------------------------===//

func.func @pack_result_not_packed(%x: tensor<4x70xi8>) -> tensor<4x2x2xi64> {
  // expected-error @+1 {{'bitserial.pack' op result must be a packed tensor (with a #bitserial.packed encoding), got 'tensor<4x2x2xi64>'}}
  %p = bitserial.pack %x : tensor<4x70xi8> -> tensor<4x2x2xi64>
  return %p : tensor<4x2x2xi64>
}

// -----

!P = tensor<1x1xi64, #bitserial.packed<bits = 1, encoding = unsigned, length = 1>>
func.func @pack_rank0_input(%x: tensor<i8>) -> !P {
  // expected-error @+1 {{'bitserial.pack' op input must have rank >= 1}}
  %p = bitserial.pack %x : tensor<i8> -> !P
  return %p : !P
}

// -----

!P = tensor<4x2x2xi64, #bitserial.packed<bits = 2, encoding = signed, length = 70>>
func.func @pack_dynamic_length(%x: tensor<4x?xi8>) -> !P {
  // expected-error @+1 {{'bitserial.pack' op input must have a static innermost dimension}}
  %p = bitserial.pack %x : tensor<4x?xi8> -> !P
  return %p : !P
}

// -----

!P = tensor<4x2x2xi64, #bitserial.packed<bits = 2, encoding = signed, length = 70>>
func.func @pack_length_mismatch(%x: tensor<4x71xi8>) -> !P {
  // expected-error @+1 {{'bitserial.pack' op result length (70) must equal the innermost dimension of input (71)}}
  %p = bitserial.pack %x : tensor<4x71xi8> -> !P
  return %p : !P
}

// -----

!P = tensor<1x4x2x2xi64, #bitserial.packed<bits = 2, encoding = signed, length = 70>>
func.func @pack_rank_mismatch(%x: tensor<4x70xi8>) -> !P {
  // expected-error @+1 {{'bitserial.pack' op result must have rank 3 (input rank + 1), got 4}}
  %p = bitserial.pack %x : tensor<4x70xi8> -> !P
  return %p : !P
}

// -----

!P = tensor<4x2x2xi64, #bitserial.packed<bits = 2, encoding = signed, length = 70>>
func.func @pack_leading_dim_mismatch(%x: tensor<5x70xi8>) -> !P {
  // expected-error @+1 {{'bitserial.pack' op result dimension 0 (4) must equal input dimension 0 (5)}}
  %p = bitserial.pack %x : tensor<5x70xi8> -> !P
  return %p : !P
}

// -----

// Leading dimensions must agree exactly: a dynamic input row count does not
// match a static packed row count.
!P = tensor<4x2x2xi64, #bitserial.packed<bits = 2, encoding = signed, length = 70>>
func.func @pack_leading_dim_dynamic_vs_static(%x: tensor<?x70xi8>) -> !P {
  // expected-error @+1 {{'bitserial.pack' op result dimension 0 (4) must equal input dimension 0 (?)}}
  %p = bitserial.pack %x : tensor<?x70xi8> -> !P
  return %p : !P
}

// -----

!P = tensor<4x2x2xi64, #bitserial.packed<bits = 2, encoding = signed, length = 70>>
func.func @pack_input_too_narrow_signed(%x: tensor<4x70xi1>) -> !P {
  // expected-error @+1 {{'bitserial.pack' op input element type 'i1' is too narrow for 2-bit signed values (needs i2 or wider)}}
  %p = bitserial.pack %x : tensor<4x70xi1> -> !P
  return %p : !P
}

// -----

// A bipolar value of n bits needs n + 1 bits: 1-bit bipolar values are -1, 1.
!P = tensor<4x1x2xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 70>>
func.func @pack_input_too_narrow_bipolar(%x: tensor<4x70xi1>) -> !P {
  // expected-error @+1 {{'bitserial.pack' op input element type 'i1' is too narrow for 1-bit bipolar values (needs i2 or wider)}}
  %p = bitserial.pack %x : tensor<4x70xi1> -> !P
  return %p : !P
}

// -----

!P = tensor<4x8x2xi64, #bitserial.packed<bits = 8, encoding = unsigned, length = 70>>
func.func @pack_input_too_narrow_unsigned8(%x: tensor<4x70xi7>) -> !P {
  // expected-error @+1 {{'bitserial.pack' op input element type 'i7' is too narrow for 8-bit unsigned values (needs i8 or wider)}}
  %p = bitserial.pack %x : tensor<4x70xi7> -> !P
  return %p : !P
}

// -----

!P = tensor<4x2x2xi64, #bitserial.packed<bits = 2, encoding = signed, length = 70>>
func.func @pack_float_input(%x: tensor<4x70xf32>) -> !P {
  // expected-error @+1 {{'bitserial.pack' op operand #0 must be ranked tensor of signless integer values, but got 'tensor<4x70xf32>'}}
  %p = bitserial.pack %x : tensor<4x70xf32> -> !P
  return %p : !P
}

// -----

!P = tensor<4x2x2xi64, #bitserial.packed<bits = 2, encoding = signed, length = 70>>
func.func @pack_index_input(%x: tensor<4x70xindex>) -> !P {
  // expected-error @+1 {{'bitserial.pack' op operand #0 must be ranked tensor of signless integer values, but got 'tensor<4x70xindex>'}}
  %p = bitserial.pack %x : tensor<4x70xindex> -> !P
  return %p : !P
}

// -----

!P = tensor<4x2x2xi64, #bitserial.packed<bits = 2, encoding = signed, length = 70>>
func.func @pack_generic_two_operands(%x: tensor<4x70xi8>) -> !P {
  // expected-error @+1 {{'bitserial.pack' op requires a single operand}}
  %p = "bitserial.pack"(%x, %x) : (tensor<4x70xi8>, tensor<4x70xi8>) -> !P
  return %p : !P
}

// -----

//===----------------------------------------------------------------------===//
// bitserial.unpack
//===----------------------------------------------------------------------===//

func.func @unpack_input_not_packed(%p: tensor<4x2x2xi64>) -> tensor<4x70xi8> {
  // expected-error @+1 {{'bitserial.unpack' op input must be a packed tensor (with a #bitserial.packed encoding), got 'tensor<4x2x2xi64>'}}
  %x = bitserial.unpack %p : tensor<4x2x2xi64> -> tensor<4x70xi8>
  return %x : tensor<4x70xi8>
}

// -----

!P = tensor<2x2xi64, #bitserial.packed<bits = 2, encoding = signed, length = 70>>
func.func @unpack_rank0_result(%p: !P) -> tensor<i8> {
  // expected-error @+1 {{'bitserial.unpack' op result must have rank >= 1}}
  %x = bitserial.unpack %p : !P -> tensor<i8>
  return %x : tensor<i8>
}

// -----

!P = tensor<4x2x2xi64, #bitserial.packed<bits = 2, encoding = signed, length = 70>>
func.func @unpack_dynamic_length(%p: !P) -> tensor<4x?xi8> {
  // expected-error @+1 {{'bitserial.unpack' op result must have a static innermost dimension}}
  %x = bitserial.unpack %p : !P -> tensor<4x?xi8>
  return %x : tensor<4x?xi8>
}

// -----

!P = tensor<4x2x2xi64, #bitserial.packed<bits = 2, encoding = signed, length = 70>>
func.func @unpack_length_mismatch(%p: !P) -> tensor<4x64xi8> {
  // expected-error @+1 {{'bitserial.unpack' op input length (70) must equal the innermost dimension of result (64)}}
  %x = bitserial.unpack %p : !P -> tensor<4x64xi8>
  return %x : tensor<4x64xi8>
}

// -----

!P = tensor<4x2x2xi64, #bitserial.packed<bits = 2, encoding = signed, length = 70>>
func.func @unpack_rank_mismatch(%p: !P) -> tensor<70xi8> {
  // expected-error @+1 {{'bitserial.unpack' op input must have rank 2 (result rank + 1), got 3}}
  %x = bitserial.unpack %p : !P -> tensor<70xi8>
  return %x : tensor<70xi8>
}

// -----

!P = tensor<?x2x2xi64, #bitserial.packed<bits = 2, encoding = signed, length = 70>>
func.func @unpack_leading_dim_mismatch(%p: !P) -> tensor<4x70xi8> {
  // expected-error @+1 {{'bitserial.unpack' op input dimension 0 (?) must equal result dimension 0 (4)}}
  %x = bitserial.unpack %p : !P -> tensor<4x70xi8>
  return %x : tensor<4x70xi8>
}

// -----

!P = tensor<4x3x2xi64, #bitserial.packed<bits = 3, encoding = bipolar, length = 70>>
func.func @unpack_result_too_narrow(%p: !P) -> tensor<4x70xi3> {
  // expected-error @+1 {{'bitserial.unpack' op result element type 'i3' is too narrow for 3-bit bipolar values (needs i4 or wider)}}
  %x = bitserial.unpack %p : !P -> tensor<4x70xi3>
  return %x : tensor<4x70xi3>
}

// -----

!P = tensor<4x2x2xi64, #bitserial.packed<bits = 2, encoding = signed, length = 70>>
func.func @unpack_float_result(%p: !P) -> tensor<4x70xf32> {
  // expected-error @+1 {{'bitserial.unpack' op result #0 must be ranked tensor of signless integer values, but got 'tensor<4x70xf32>'}}
  %x = bitserial.unpack %p : !P -> tensor<4x70xf32>
  return %x : tensor<4x70xf32>
}

// -----

!P = tensor<4x2x2xi64, #bitserial.packed<bits = 2, encoding = signed, length = 70>>
func.func @unpack_generic_two_results(%p: !P) {
  // expected-error @+1 {{'bitserial.unpack' op requires one result}}
  %x:2 = "bitserial.unpack"(%p) : (!P) -> (tensor<4x70xi8>, tensor<4x70xi8>)
  return
}

// -----

//===----------------------------------------------------------------------===//
// bitserial.matmul
//===----------------------------------------------------------------------===//

!R = tensor<16x1x2xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 100>>
func.func @matmul_lhs_not_packed(%a: tensor<8x2x2xi64>, %b: !R, %c: tensor<8x16xi32>) -> tensor<8x16xi32> {
  // expected-error @+1 {{'bitserial.matmul' op lhs must be a packed tensor (with a #bitserial.packed encoding), got 'tensor<8x2x2xi64>'}}
  %r = bitserial.matmul ins(%a, %b : tensor<8x2x2xi64>, !R) outs(%c : tensor<8x16xi32>) -> tensor<8x16xi32>
  return %r : tensor<8x16xi32>
}

// -----

!L = tensor<8x2x2xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 100>>
func.func @matmul_rhs_not_packed(%a: !L, %b: tensor<16x1x2xi64>, %c: tensor<8x16xi32>) -> tensor<8x16xi32> {
  // expected-error @+1 {{'bitserial.matmul' op rhs must be a packed tensor (with a #bitserial.packed encoding), got 'tensor<16x1x2xi64>'}}
  %r = bitserial.matmul ins(%a, %b : !L, tensor<16x1x2xi64>) outs(%c : tensor<8x16xi32>) -> tensor<8x16xi32>
  return %r : tensor<8x16xi32>
}

// -----

!L = tensor<2x2xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 100>>
!R = tensor<16x1x2xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 100>>
func.func @matmul_lhs_rank2(%a: !L, %b: !R, %c: tensor<8x16xi32>) -> tensor<8x16xi32> {
  // expected-error @+1 {{'bitserial.matmul' op lhs must have rank 3 ([rows, planes, words]) or 4 ([batch, rows, planes, words]), got rank 2}}
  %r = bitserial.matmul ins(%a, %b : !L, !R) outs(%c : tensor<8x16xi32>) -> tensor<8x16xi32>
  return %r : tensor<8x16xi32>
}

// -----

!L = tensor<8x2x2xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 100>>
!R = tensor<1x1x16x1x2xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 100>>
func.func @matmul_rhs_rank5(%a: !L, %b: !R, %c: tensor<8x16xi32>) -> tensor<8x16xi32> {
  // expected-error @+1 {{'bitserial.matmul' op rhs must have rank 3 ([rows, planes, words]) or 4 ([batch, rows, planes, words]), got rank 5}}
  %r = bitserial.matmul ins(%a, %b : !L, !R) outs(%c : tensor<8x16xi32>) -> tensor<8x16xi32>
  return %r : tensor<8x16xi32>
}

// -----

!L = tensor<8x2x2xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 100>>
!R = tensor<16x1x2xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 90>>
func.func @matmul_k_mismatch(%a: !L, %b: !R, %c: tensor<8x16xi32>) -> tensor<8x16xi32> {
  // expected-error @+1 {{'bitserial.matmul' op lhs and rhs must pack the same reduction length, got 100 and 90}}
  %r = bitserial.matmul ins(%a, %b : !L, !R) outs(%c : tensor<8x16xi32>) -> tensor<8x16xi32>
  return %r : tensor<8x16xi32>
}

// -----

!L = tensor<8x2x2xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 100>>
!R = tensor<16x1x4xi32, #bitserial.packed<bits = 1, encoding = bipolar, length = 100>>
func.func @matmul_word_type_mismatch(%a: !L, %b: !R, %c: tensor<8x16xi32>) -> tensor<8x16xi32> {
  // expected-error @+1 {{'bitserial.matmul' op lhs and rhs must use the same word type, got 'i64' and 'i32'}}
  %r = bitserial.matmul ins(%a, %b : !L, !R) outs(%c : tensor<8x16xi32>) -> tensor<8x16xi32>
  return %r : tensor<8x16xi32>
}

// -----

!L = tensor<3x8x2x2xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 100>>
!R = tensor<16x1x2xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 100>>
func.func @matmul_batched_init_rank2(%a: !L, %b: !R, %c: tensor<8x16xi32>) -> tensor<8x16xi32> {
  // expected-error @+1 {{'bitserial.matmul' op init must have rank 3 ([batch, M, N]) when an operand is batched, got rank 2}}
  %r = bitserial.matmul ins(%a, %b : !L, !R) outs(%c : tensor<8x16xi32>) -> tensor<8x16xi32>
  return %r : tensor<8x16xi32>
}

// -----

!L = tensor<8x2x2xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 100>>
!R = tensor<16x1x2xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 100>>
func.func @matmul_unbatched_init_rank3(%a: !L, %b: !R, %c: tensor<1x8x16xi32>) -> tensor<1x8x16xi32> {
  // expected-error @+1 {{'bitserial.matmul' op init must have rank 2 ([M, N]), got rank 3}}
  %r = bitserial.matmul ins(%a, %b : !L, !R) outs(%c : tensor<1x8x16xi32>) -> tensor<1x8x16xi32>
  return %r : tensor<1x8x16xi32>
}

// -----

!L = tensor<8x2x2xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 100>>
!R = tensor<16x1x2xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 100>>
func.func @matmul_init_rank0(%a: !L, %b: !R, %c: tensor<i32>) -> tensor<i32> {
  // expected-error @+1 {{'bitserial.matmul' op init must have rank 2 ([M, N]), got rank 0}}
  %r = bitserial.matmul ins(%a, %b : !L, !R) outs(%c : tensor<i32>) -> tensor<i32>
  return %r : tensor<i32>
}

// -----

!L = tensor<3x8x2x2xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 100>>
!R = tensor<4x16x1x2xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 100>>
func.func @matmul_batch_mismatch(%a: !L, %b: !R, %c: tensor<3x8x16xi32>) -> tensor<3x8x16xi32> {
  // expected-error @+1 {{'bitserial.matmul' op lhs batch (3) must equal rhs batch (4)}}
  %r = bitserial.matmul ins(%a, %b : !L, !R) outs(%c : tensor<3x8x16xi32>) -> tensor<3x8x16xi32>
  return %r : tensor<3x8x16xi32>
}

// -----

!L = tensor<8x2x2xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 100>>
!R = tensor<3x16x1x2xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 100>>
func.func @matmul_init_batch_mismatch(%a: !L, %b: !R, %c: tensor<2x8x16xi32>) -> tensor<2x8x16xi32> {
  // expected-error @+1 {{'bitserial.matmul' op init batch (2) must equal the operands' batch (3)}}
  %r = bitserial.matmul ins(%a, %b : !L, !R) outs(%c : tensor<2x8x16xi32>) -> tensor<2x8x16xi32>
  return %r : tensor<2x8x16xi32>
}

// -----

!L = tensor<8x2x2xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 100>>
!R = tensor<16x1x2xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 100>>
func.func @matmul_init_rows_mismatch(%a: !L, %b: !R, %c: tensor<9x16xi32>) -> tensor<9x16xi32> {
  // expected-error @+1 {{'bitserial.matmul' op init rows (9) must equal lhs rows (8)}}
  %r = bitserial.matmul ins(%a, %b : !L, !R) outs(%c : tensor<9x16xi32>) -> tensor<9x16xi32>
  return %r : tensor<9x16xi32>
}

// -----

!L = tensor<?x2x2xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 100>>
!R = tensor<16x1x2xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 100>>
func.func @matmul_init_columns_mismatch(%a: !L, %b: !R, %c: tensor<?x17xi32>) -> tensor<?x17xi32> {
  // expected-error @+1 {{'bitserial.matmul' op init columns (17) must equal rhs rows (16)}}
  %r = bitserial.matmul ins(%a, %b : !L, !R) outs(%c : tensor<?x17xi32>) -> tensor<?x17xi32>
  return %r : tensor<?x17xi32>
}

// -----

!L = tensor<8x2x2xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 100>>
!R = tensor<16x1x2xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 100>>
func.func @matmul_result_type_mismatch(%a: !L, %b: !R, %c: tensor<8x16xi32>) -> tensor<8x16xi64> {
  // expected-error @+1 {{'bitserial.matmul' op result type 'tensor<8x16xi64>' must equal init type 'tensor<8x16xi32>'}}
  %r = bitserial.matmul ins(%a, %b : !L, !R) outs(%c : tensor<8x16xi32>) -> tensor<8x16xi64>
  return %r : tensor<8x16xi64>
}

// -----

// The result must equal init exactly, not merely be shape-compatible.
!L = tensor<8x2x2xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 100>>
!R = tensor<16x1x2xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 100>>
func.func @matmul_result_more_dynamic(%a: !L, %b: !R, %c: tensor<8x16xi32>) -> tensor<?x16xi32> {
  // expected-error @+1 {{'bitserial.matmul' op result type 'tensor<?x16xi32>' must equal init type 'tensor<8x16xi32>'}}
  %r = bitserial.matmul ins(%a, %b : !L, !R) outs(%c : tensor<8x16xi32>) -> tensor<?x16xi32>
  return %r : tensor<?x16xi32>
}

// -----

!L = tensor<8x2x2xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 100>>
!R = tensor<16x1x2xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 100>>
func.func @matmul_f32_init(%a: !L, %b: !R, %c: tensor<8x16xf32>) -> tensor<8x16xf32> {
  // expected-error @+1 {{'bitserial.matmul' op operand #2 must be ranked tensor of 32-bit signless integer or 64-bit signless integer values, but got 'tensor<8x16xf32>'}}
  %r = bitserial.matmul ins(%a, %b : !L, !R) outs(%c : tensor<8x16xf32>) -> tensor<8x16xf32>
  return %r : tensor<8x16xf32>
}

// -----

!L = tensor<8x2x2xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 100>>
!R = tensor<16x1x2xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 100>>
func.func @matmul_i16_init(%a: !L, %b: !R, %c: tensor<8x16xi16>) -> tensor<8x16xi16> {
  // expected-error @+1 {{'bitserial.matmul' op operand #2 must be ranked tensor of 32-bit signless integer or 64-bit signless integer values, but got 'tensor<8x16xi16>'}}
  %r = bitserial.matmul ins(%a, %b : !L, !R) outs(%c : tensor<8x16xi16>) -> tensor<8x16xi16>
  return %r : tensor<8x16xi16>
}

// -----

!L = tensor<8x2x2xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 100>>
!R = tensor<16x1x2xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 100>>
func.func @matmul_unranked_init(%a: !L, %b: !R, %c: tensor<*xi32>) -> tensor<8x16xi32> {
  // expected-error @+1 {{custom op 'bitserial.matmul' invalid kind of type specified: expected builtin.tensor, but found 'tensor<*xi32>'}}
  %r = bitserial.matmul ins(%a, %b : !L, !R) outs(%c : tensor<*xi32>) -> tensor<8x16xi32>
  return %r : tensor<8x16xi32>
}

// -----

func.func @matmul_scalar_operands(%a: i64, %b: i64, %c: i32) -> i32 {
  // expected-error @+1 {{'bitserial.matmul' op operand #0 must be ranked tensor of 8-bit signless integer or 16-bit signless integer or 32-bit signless integer or 64-bit signless integer values, but got 'i64'}}
  %r = "bitserial.matmul"(%a, %b, %c) : (i64, i64, i32) -> i32
  return %r : i32
}

// -----

!L = tensor<8x2x2xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 100>>
!R = tensor<16x1x2xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 100>>
func.func @matmul_generic_missing_init(%a: !L, %b: !R) -> tensor<8x16xi32> {
  // expected-error @+1 {{'bitserial.matmul' op expected 3 operands, but found 2}}
  %r = "bitserial.matmul"(%a, %b) : (!L, !R) -> tensor<8x16xi32>
  return %r : tensor<8x16xi32>
}

// -----

!L = tensor<8x2x2xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 100>>
!R = tensor<16x1x2xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 100>>
func.func @matmul_generic_no_result(%a: !L, %b: !R, %c: tensor<8x16xi32>) {
  // expected-error @+1 {{'bitserial.matmul' op requires one result}}
  "bitserial.matmul"(%a, %b, %c) : (!L, !R, tensor<8x16xi32>) -> ()
  return
}

// -----

//===----------------------------------------------------------------------===//
// bitserial.conv2d
//===----------------------------------------------------------------------===//

!F = tensor<4x3x3x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 3>>
func.func @conv2d_input_not_packed(%x: tensor<1x8x8x1x1xi64>, %f: !F, %c: tensor<1x6x6x4xi32>) -> tensor<1x6x6x4xi32> {
  // expected-error @+1 {{'bitserial.conv2d' op input must be a packed tensor (with a #bitserial.packed encoding), got 'tensor<1x8x8x1x1xi64>'}}
  %r = bitserial.conv2d ins(%x, %f : tensor<1x8x8x1x1xi64>, !F) outs(%c : tensor<1x6x6x4xi32>) -> tensor<1x6x6x4xi32>
  return %r : tensor<1x6x6x4xi32>
}

// -----

!X = tensor<1x8x8x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 3>>
func.func @conv2d_filter_not_packed(%x: !X, %f: tensor<4x3x3x1x1xi64>, %c: tensor<1x6x6x4xi32>) -> tensor<1x6x6x4xi32> {
  // expected-error @+1 {{'bitserial.conv2d' op filter must be a packed tensor (with a #bitserial.packed encoding), got 'tensor<4x3x3x1x1xi64>'}}
  %r = bitserial.conv2d ins(%x, %f : !X, tensor<4x3x3x1x1xi64>) outs(%c : tensor<1x6x6x4xi32>) -> tensor<1x6x6x4xi32>
  return %r : tensor<1x6x6x4xi32>
}

// -----

!X = tensor<8x8x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 3>>
!F = tensor<4x3x3x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 3>>
func.func @conv2d_input_rank4(%x: !X, %f: !F, %c: tensor<1x6x6x4xi32>) -> tensor<1x6x6x4xi32> {
  // expected-error @+1 {{'bitserial.conv2d' op input must have rank 5 ([N, H, W, planes, words]), got rank 4}}
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%c : tensor<1x6x6x4xi32>) -> tensor<1x6x6x4xi32>
  return %r : tensor<1x6x6x4xi32>
}

// -----

!X = tensor<1x8x8x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 3>>
!F = tensor<3x3x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 3>>
func.func @conv2d_filter_rank4(%x: !X, %f: !F, %c: tensor<1x6x6x4xi32>) -> tensor<1x6x6x4xi32> {
  // expected-error @+1 {{'bitserial.conv2d' op filter must have rank 5 ([CO, KH, KW, planes, words]), got rank 4}}
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%c : tensor<1x6x6x4xi32>) -> tensor<1x6x6x4xi32>
  return %r : tensor<1x6x6x4xi32>
}

// -----

!X = tensor<1x8x8x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 3>>
!F = tensor<4x3x3x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 5>>
func.func @conv2d_channel_mismatch(%x: !X, %f: !F, %c: tensor<1x6x6x4xi32>) -> tensor<1x6x6x4xi32> {
  // expected-error @+1 {{'bitserial.conv2d' op input and filter must pack the same channel count, got 3 and 5}}
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%c : tensor<1x6x6x4xi32>) -> tensor<1x6x6x4xi32>
  return %r : tensor<1x6x6x4xi32>
}

// -----

!X = tensor<1x8x8x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 3>>
!F = tensor<4x3x3x1x1xi8, #bitserial.packed<bits = 1, encoding = bipolar, length = 3>>
func.func @conv2d_word_type_mismatch(%x: !X, %f: !F, %c: tensor<1x6x6x4xi32>) -> tensor<1x6x6x4xi32> {
  // expected-error @+1 {{'bitserial.conv2d' op input and filter must use the same word type, got 'i64' and 'i8'}}
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%c : tensor<1x6x6x4xi32>) -> tensor<1x6x6x4xi32>
  return %r : tensor<1x6x6x4xi32>
}

// -----

!X = tensor<1x8x8x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 3>>
!F = tensor<4x3x3x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 3>>
func.func @conv2d_strides_three(%x: !X, %f: !F, %c: tensor<1x6x6x4xi32>) -> tensor<1x6x6x4xi32> {
  // expected-error @+1 {{'bitserial.conv2d' op strides must have 2 elements ([h, w]), got 3}}
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%c : tensor<1x6x6x4xi32>) strides = [1, 1, 1] -> tensor<1x6x6x4xi32>
  return %r : tensor<1x6x6x4xi32>
}

// -----

!X = tensor<1x8x8x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 3>>
!F = tensor<4x3x3x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 3>>
func.func @conv2d_strides_empty_generic(%x: !X, %f: !F, %c: tensor<1x6x6x4xi32>) -> tensor<1x6x6x4xi32> {
  // expected-error @+1 {{'bitserial.conv2d' op strides must have 2 elements ([h, w]), got 0}}
  %r = "bitserial.conv2d"(%x, %f, %c) <{strides = array<i64>}> : (!X, !F, tensor<1x6x6x4xi32>) -> tensor<1x6x6x4xi32>
  return %r : tensor<1x6x6x4xi32>
}

// -----

!X = tensor<1x8x8x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 3>>
!F = tensor<4x3x3x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 3>>
func.func @conv2d_stride_zero(%x: !X, %f: !F, %c: tensor<1x6x6x4xi32>) -> tensor<1x6x6x4xi32> {
  // expected-error @+1 {{'bitserial.conv2d' op strides must be positive, got [0, 1]}}
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%c : tensor<1x6x6x4xi32>) strides = [0, 1] -> tensor<1x6x6x4xi32>
  return %r : tensor<1x6x6x4xi32>
}

// -----

!X = tensor<1x8x8x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 3>>
!F = tensor<4x3x3x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 3>>
func.func @conv2d_stride_negative(%x: !X, %f: !F, %c: tensor<1x6x6x4xi32>) -> tensor<1x6x6x4xi32> {
  // expected-error @+1 {{'bitserial.conv2d' op strides must be positive, got [1, -2]}}
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%c : tensor<1x6x6x4xi32>) strides = [1, -2] -> tensor<1x6x6x4xi32>
  return %r : tensor<1x6x6x4xi32>
}

// -----

!X = tensor<1x8x8x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 3>>
!F = tensor<4x3x3x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 3>>
func.func @conv2d_dilations_one_element(%x: !X, %f: !F, %c: tensor<1x6x6x4xi32>) -> tensor<1x6x6x4xi32> {
  // expected-error @+1 {{'bitserial.conv2d' op dilations must have 2 elements ([h, w]), got 1}}
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%c : tensor<1x6x6x4xi32>) dilations = [1] -> tensor<1x6x6x4xi32>
  return %r : tensor<1x6x6x4xi32>
}

// -----

!X = tensor<1x8x8x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 3>>
!F = tensor<4x3x3x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 3>>
func.func @conv2d_dilation_zero(%x: !X, %f: !F, %c: tensor<1x6x6x4xi32>) -> tensor<1x6x6x4xi32> {
  // expected-error @+1 {{'bitserial.conv2d' op dilations must be positive, got [0, 1]}}
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%c : tensor<1x6x6x4xi32>) dilations = [0, 1] -> tensor<1x6x6x4xi32>
  return %r : tensor<1x6x6x4xi32>
}

// -----

!X = tensor<1x8x8x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 3>>
!F = tensor<4x3x3x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 3>>
func.func @conv2d_padding_two_elements(%x: !X, %f: !F, %c: tensor<1x6x6x4xi32>) -> tensor<1x6x6x4xi32> {
  // expected-error @+1 {{'bitserial.conv2d' op padding must have 4 elements ([top, bottom, left, right]), got 2}}
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%c : tensor<1x6x6x4xi32>) padding = [1, 1] -> tensor<1x6x6x4xi32>
  return %r : tensor<1x6x6x4xi32>
}

// -----

!X = tensor<1x8x8x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 3>>
!F = tensor<4x3x3x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 3>>
func.func @conv2d_padding_negative(%x: !X, %f: !F, %c: tensor<1x4x6x4xi32>) -> tensor<1x4x6x4xi32> {
  // expected-error @+1 {{'bitserial.conv2d' op padding must be non-negative, got [-1, -1, 0, 0]}}
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%c : tensor<1x4x6x4xi32>) padding = [-1, -1, 0, 0] -> tensor<1x4x6x4xi32>
  return %r : tensor<1x4x6x4xi32>
}

// -----

!X = tensor<1x8x8x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 3>>
!F = tensor<4x3x3x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 3>>
func.func @conv2d_padding_negative_generic(%x: !X, %f: !F, %c: tensor<1x6x6x4xi32>) -> tensor<1x6x6x4xi32> {
  // expected-error @+1 {{'bitserial.conv2d' op padding must be non-negative, got [0, 0, -5, 0]}}
  %r = "bitserial.conv2d"(%x, %f, %c) <{padding = array<i64: 0, 0, -5, 0>}> : (!X, !F, tensor<1x6x6x4xi32>) -> tensor<1x6x6x4xi32>
  return %r : tensor<1x6x6x4xi32>
}

// -----

!X = tensor<1x8x8x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 3>>
!F = tensor<4x3x3x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 3>>
func.func @conv2d_strides_i32_generic(%x: !X, %f: !F, %c: tensor<1x6x6x4xi32>) -> tensor<1x6x6x4xi32> {
  // expected-error @+1 {{invalid properties {strides = array<i32: 1, 1>} for op bitserial.conv2d: Invalid attribute `strides` in property conversion: array<i32: 1, 1>}}
  %r = "bitserial.conv2d"(%x, %f, %c) <{strides = array<i32: 1, 1>}> : (!X, !F, tensor<1x6x6x4xi32>) -> tensor<1x6x6x4xi32>
  return %r : tensor<1x6x6x4xi32>
}

// -----

!X = tensor<1x8x8x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 3>>
!F = tensor<4x3x3x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 3>>
func.func @conv2d_init_rank3(%x: !X, %f: !F, %c: tensor<6x6x4xi32>) -> tensor<6x6x4xi32> {
  // expected-error @+1 {{'bitserial.conv2d' op init must have rank 4 ([N, OH, OW, CO]), got rank 3}}
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%c : tensor<6x6x4xi32>) -> tensor<6x6x4xi32>
  return %r : tensor<6x6x4xi32>
}

// -----

!X = tensor<1x8x8x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 3>>
!F = tensor<4x3x3x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 3>>
func.func @conv2d_init_batch_mismatch(%x: !X, %f: !F, %c: tensor<2x6x6x4xi32>) -> tensor<2x6x6x4xi32> {
  // expected-error @+1 {{'bitserial.conv2d' op init batch (2) must equal input batch (1)}}
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%c : tensor<2x6x6x4xi32>) -> tensor<2x6x6x4xi32>
  return %r : tensor<2x6x6x4xi32>
}

// -----

!X = tensor<1x8x8x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 3>>
!F = tensor<4x3x3x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 3>>
func.func @conv2d_init_channels_mismatch(%x: !X, %f: !F, %c: tensor<1x6x6x5xi32>) -> tensor<1x6x6x5xi32> {
  // expected-error @+1 {{'bitserial.conv2d' op init channels (5) must equal filter output channels (4)}}
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%c : tensor<1x6x6x5xi32>) -> tensor<1x6x6x5xi32>
  return %r : tensor<1x6x6x5xi32>
}

// -----

!X = tensor<1x2x8x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 3>>
!F = tensor<4x3x3x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 3>>
func.func @conv2d_window_taller_than_input(%x: !X, %f: !F, %c: tensor<1x1x6x4xi32>) -> tensor<1x1x6x4xi32> {
  // expected-error @+1 {{'bitserial.conv2d' op padded input height (2) must be at least the dilated filter height (3)}}
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%c : tensor<1x1x6x4xi32>) -> tensor<1x1x6x4xi32>
  return %r : tensor<1x1x6x4xi32>
}

// -----

// Dilation 3 widens a 3-tap window to 7 columns; 4 + 1 + 1 padded columns
// are not enough.
!X = tensor<1x8x4x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 3>>
!F = tensor<4x3x3x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 3>>
func.func @conv2d_dilated_window_wider_than_input(%x: !X, %f: !F, %c: tensor<1x8x1x4xi32>) -> tensor<1x8x1x4xi32> {
  // expected-error @+1 {{'bitserial.conv2d' op padded input width (6) must be at least the dilated filter width (7)}}
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%c : tensor<1x8x1x4xi32>) padding = [1, 1, 1, 1] dilations = [1, 3] -> tensor<1x8x1x4xi32>
  return %r : tensor<1x8x1x4xi32>
}

// -----

// An empty input is only an error when padding cannot cover the window.
!X = tensor<1x0x8x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 3>>
!F = tensor<4x1x3x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 3>>
func.func @conv2d_empty_input(%x: !X, %f: !F, %c: tensor<1x0x6x4xi32>) -> tensor<1x0x6x4xi32> {
  // expected-error @+1 {{'bitserial.conv2d' op padded input height (0) must be at least the dilated filter height (1)}}
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%c : tensor<1x0x6x4xi32>) -> tensor<1x0x6x4xi32>
  return %r : tensor<1x0x6x4xi32>
}

// -----

!X = tensor<1x8x8x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 3>>
!F = tensor<4x3x3x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 3>>
func.func @conv2d_init_height_mismatch(%x: !X, %f: !F, %c: tensor<1x6x4x4xi32>) -> tensor<1x6x4x4xi32> {
  // expected-error @+1 {{'bitserial.conv2d' op init height (6) must equal the output height (4)}}
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%c : tensor<1x6x4x4xi32>) strides = [2, 2] padding = [1, 1, 1, 1] -> tensor<1x6x4x4xi32>
  return %r : tensor<1x6x4x4xi32>
}

// -----

!X = tensor<1x8x8x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 3>>
!F = tensor<4x3x3x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 3>>
func.func @conv2d_init_width_mismatch(%x: !X, %f: !F, %c: tensor<1x6x7x4xi32>) -> tensor<1x6x7x4xi32> {
  // expected-error @+1 {{'bitserial.conv2d' op init width (7) must equal the output width (6)}}
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%c : tensor<1x6x7x4xi32>) -> tensor<1x6x7x4xi32>
  return %r : tensor<1x6x7x4xi32>
}

// -----

// Dynamic dimensions elsewhere do not hide a static output-width mismatch.
!X = tensor<?x?x8x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 3>>
!F = tensor<?x?x3x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 3>>
func.func @conv2d_dynamic_init_width_mismatch(%x: !X, %f: !F, %c: tensor<?x?x5x?xi32>) -> tensor<?x?x5x?xi32> {
  // expected-error @+1 {{'bitserial.conv2d' op init width (5) must equal the output width (3)}}
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%c : tensor<?x?x5x?xi32>) strides = [1, 2] -> tensor<?x?x5x?xi32>
  return %r : tensor<?x?x5x?xi32>
}

// -----

!X = tensor<1x8x8x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 3>>
!F = tensor<4x3x3x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 3>>
func.func @conv2d_result_type_mismatch(%x: !X, %f: !F, %c: tensor<1x6x6x4xi32>) -> tensor<1x6x6x4xi64> {
  // expected-error @+1 {{'bitserial.conv2d' op result type 'tensor<1x6x6x4xi64>' must equal init type 'tensor<1x6x6x4xi32>'}}
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%c : tensor<1x6x6x4xi32>) -> tensor<1x6x6x4xi64>
  return %r : tensor<1x6x6x4xi64>
}

// -----

!X = tensor<1x8x8x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 3>>
!F = tensor<4x3x3x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 3>>
func.func @conv2d_f32_init(%x: !X, %f: !F, %c: tensor<1x6x6x4xf32>) -> tensor<1x6x6x4xf32> {
  // expected-error @+1 {{'bitserial.conv2d' op operand #2 must be ranked tensor of 32-bit signless integer or 64-bit signless integer values, but got 'tensor<1x6x6x4xf32>'}}
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%c : tensor<1x6x6x4xf32>) -> tensor<1x6x6x4xf32>
  return %r : tensor<1x6x6x4xf32>
}

// -----

// expected-error @+1 {{length must be at most 2^40, got 9223372036854775807}}
func.func @packed_length_too_large(%p: tensor<4x2x2xi64, #bitserial.packed<bits = 2, encoding = signed, length = 9223372036854775807>>) {
  return
}

// -----

// The init batch must match a batched rhs even when the lhs batch is dynamic.
func.func @matmul_init_batch_vs_rhs(%a: tensor<?x8x1x1xi64, #bitserial.packed<bits = 1, encoding = unsigned, length = 40>>,
                                    %b: tensor<4x16x1x1xi64, #bitserial.packed<bits = 1, encoding = unsigned, length = 40>>,
                                    %init: tensor<5x8x16xi32>) -> tensor<5x8x16xi32> {
  // expected-error @+1 {{init batch (5) must equal the operands' batch (4)}}
  %r = bitserial.matmul ins(%a, %b : tensor<?x8x1x1xi64, #bitserial.packed<bits = 1, encoding = unsigned, length = 40>>,
                                     tensor<4x16x1x1xi64, #bitserial.packed<bits = 1, encoding = unsigned, length = 40>>)
      outs(%init : tensor<5x8x16xi32>) -> tensor<5x8x16xi32>
  return %r : tensor<5x8x16xi32>
}

// -----

func.func @conv2d_zero_kernel(%x: tensor<1x8x8x1x1xi64, #bitserial.packed<bits = 1, encoding = unsigned, length = 3>>,
                              %f: tensor<4x0x3x1x1xi64, #bitserial.packed<bits = 1, encoding = unsigned, length = 3>>,
                              %init: tensor<1x9x6x4xi32>) -> tensor<1x9x6x4xi32> {
  // expected-error @+1 {{filter height and width must be positive, got 0x3}}
  %r = bitserial.conv2d ins(%x, %f : tensor<1x8x8x1x1xi64, #bitserial.packed<bits = 1, encoding = unsigned, length = 3>>,
                                     tensor<4x0x3x1x1xi64, #bitserial.packed<bits = 1, encoding = unsigned, length = 3>>)
      outs(%init : tensor<1x9x6x4xi32>) -> tensor<1x9x6x4xi32>
  return %r : tensor<1x9x6x4xi32>
}

// -----

func.func @conv2d_huge_padding(%x: tensor<1x8x8x1x1xi64, #bitserial.packed<bits = 1, encoding = unsigned, length = 3>>,
                               %f: tensor<4x3x3x1x1xi64, #bitserial.packed<bits = 1, encoding = unsigned, length = 3>>,
                               %init: tensor<1x6x6x4xi32>) -> tensor<1x6x6x4xi32> {
  // expected-error @+1 {{strides, dilations and padding must be below 2^31, got [9223372036854775800, 0, 0, 0]}}
  %r = bitserial.conv2d ins(%x, %f : tensor<1x8x8x1x1xi64, #bitserial.packed<bits = 1, encoding = unsigned, length = 3>>,
                                     tensor<4x3x3x1x1xi64, #bitserial.packed<bits = 1, encoding = unsigned, length = 3>>)
      outs(%init : tensor<1x6x6x4xi32>) padding = [9223372036854775800, 0, 0, 0] -> tensor<1x6x6x4xi32>
  return %r : tensor<1x6x6x4xi32>
}

// -----

!A = tensor<4611686018427387904x1x2xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 100>>
!B = tensor<16x1x2xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 100>>
func.func @matmul_too_large(%a: !A, %b: !B, %init: tensor<4611686018427387904x16xi32>) -> tensor<4611686018427387904x16xi32> {
  // expected-error @+1 {{'bitserial.matmul' op operand #0 'tensor<4611686018427387904x1x2xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 100>>' is larger than 2^47 bytes}}
  %r = bitserial.matmul ins(%a, %b : !A, !B) outs(%init : tensor<4611686018427387904x16xi32>) -> tensor<4611686018427387904x16xi32>
  return %r : tensor<4611686018427387904x16xi32>
}

// -----

func.func @pack_too_large(%x: tensor<?x35184372088832x100xi8>) -> tensor<?x35184372088832x1x2xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 100>> {
  // expected-error @+1 {{'bitserial.pack' op operand #0 'tensor<?x35184372088832x100xi8>' is larger than 2^47 bytes}}
  %p = bitserial.pack %x : tensor<?x35184372088832x100xi8> -> tensor<?x35184372088832x1x2xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 100>>
  return %p : tensor<?x35184372088832x1x2xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 100>>
}

// -----

// The type parser verifies the encoding after failing on the element type.
// expected-error @+2 {{expected non-function type}}
// expected-error @+1 {{packed tensor has no element type}}
func.func @packed_without_element_type(%p: tensor<, #bitserial.packed<bits = 8, encoding = unsigned, length = 10>>) {
  return
}

// -----

//===----------------------------------------------------------------------===//
// Epilogues
//===----------------------------------------------------------------------===//

func.func @threshold_not_packed(%acc: tensor<2x70xi32>, %t: tensor<70x3xi32>) {
  // expected-error @+1 {{result must be a packed tensor}}
  %0 = bitserial.threshold %acc, %t : tensor<2x70xi32>, tensor<70x3xi32> -> tensor<2x2x2xi64>
  return
}

// -----

func.func @threshold_count(%acc: tensor<2x70xi32>, %t: tensor<70x2xi32>) {
  // expected-error @+1 {{thresholds must have 3 values per channel, got 2}}
  %0 = bitserial.threshold %acc, %t : tensor<2x70xi32>, tensor<70x2xi32> -> tensor<2x2x2xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 70>>
  return
}

// -----

func.func @threshold_channels(%acc: tensor<2x70xi32>, %t: tensor<69x1xi32>) {
  // expected-error @+1 {{thresholds has 69 channels, but the accumulator's innermost dimension is 70}}
  %0 = bitserial.threshold %acc, %t : tensor<2x70xi32>, tensor<69x1xi32> -> tensor<2x1x2xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 70>>
  return
}

// -----

func.func @threshold_element_type(%acc: tensor<2x70xi32>, %t: tensor<70x1xi64>) {
  // expected-error @+1 {{thresholds element type 'i64' must equal the accumulator element type 'i32'}}
  %0 = bitserial.threshold %acc, %t : tensor<2x70xi32>, tensor<70x1xi64> -> tensor<2x1x2xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 70>>
  return
}

// -----

func.func @threshold_length(%acc: tensor<2x70xi32>, %t: tensor<70x1xi32>) {
  // expected-error @+1 {{result length (64) must equal the innermost dimension of accumulator (70)}}
  %0 = bitserial.threshold %acc, %t : tensor<2x70xi32>, tensor<70x1xi32> -> tensor<2x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 64>>
  return
}

// -----

func.func @threshold_shape(%acc: tensor<2x70xi32>, %t: tensor<70x1xi32>) {
  // expected-error @+1 {{result dimension 0 (3) must equal accumulator dimension 0 (2)}}
  %0 = bitserial.threshold %acc, %t : tensor<2x70xi32>, tensor<70x1xi32> -> tensor<3x1x2xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 70>>
  return
}

// -----

func.func @threshold_descending(%acc: tensor<2x70xi32>, %t: tensor<70x1xi32>, %d: tensor<71xi1>) {
  // expected-error @+1 {{descending has 71 channels, but the accumulator's innermost dimension is 70}}
  %0 = bitserial.threshold %acc, %t descending(%d : tensor<71xi1>) : tensor<2x70xi32>, tensor<70x1xi32> -> tensor<2x1x2xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 70>>
  return
}

// -----

func.func @requantize_clamp(%acc: tensor<2x70xi32>, %m: tensor<70xi32>, %s: tensor<70xi8>) {
  // expected-error @+1 {{clamp [-129, 127] must be an ordered range within the result type's [-128, 127]}}
  %0 = bitserial.requantize %acc, %m, %s clamp = [-129, 127] : tensor<2x70xi32>, tensor<70xi32>, tensor<70xi8> -> tensor<2x70xi8>
  return
}

// -----

func.func @requantize_clamp_order(%acc: tensor<2x70xi32>, %m: tensor<70xi32>, %s: tensor<70xi8>) {
  // expected-error @+1 {{clamp [5, 4] must be an ordered range}}
  %0 = bitserial.requantize %acc, %m, %s clamp = [5, 4] : tensor<2x70xi32>, tensor<70xi32>, tensor<70xi8> -> tensor<2x70xi8>
  return
}

// -----

func.func @requantize_clamp_size(%acc: tensor<2x70xi32>, %m: tensor<70xi32>, %s: tensor<70xi8>) {
  // expected-error @+1 {{clamp must be [min, max], got 1 values}}
  %0 = bitserial.requantize %acc, %m, %s clamp = [5] : tensor<2x70xi32>, tensor<70xi32>, tensor<70xi8> -> tensor<2x70xi8>
  return
}

// -----

func.func @requantize_multiplier(%acc: tensor<2x70xi32>, %m: tensor<2x70xi32>, %s: tensor<70xi8>) {
  // expected-error @+1 {{multiplier must have rank 1, got 'tensor<2x70xi32>'}}
  %0 = bitserial.requantize %acc, %m, %s clamp = [-128, 127] : tensor<2x70xi32>, tensor<2x70xi32>, tensor<70xi8> -> tensor<2x70xi8>
  return
}

// -----

func.func @requantize_result_shape(%acc: tensor<2x70xi32>, %m: tensor<70xi32>, %s: tensor<70xi8>) {
  // expected-error @+1 {{result dimension 0 (3) must equal accumulator dimension 0 (2)}}
  %0 = bitserial.requantize %acc, %m, %s clamp = [-128, 127] : tensor<2x70xi32>, tensor<70xi32>, tensor<70xi8> -> tensor<3x70xi8>
  return
}

// -----

func.func @requantize_i64(%acc: tensor<2x70xi64>, %m: tensor<70xi32>, %s: tensor<70xi8>) {
  // expected-error @+1 {{operand #0 must be ranked tensor of 32-bit signless integer values}}
  %0 = bitserial.requantize %acc, %m, %s clamp = [-128, 127] : tensor<2x70xi64>, tensor<70xi32>, tensor<70xi8> -> tensor<2x70xi8>
  return
}

// -----

func.func @dequantize_types(%acc: tensor<2x70xi32>, %s: tensor<70xf64>, %b: tensor<70xf32>) {
  // expected-error @+1 {{scale and bias must have the result's element type 'f32'}}
  %0 = bitserial.dequantize %acc, %s, %b : tensor<2x70xi32>, tensor<70xf64>, tensor<70xf32> -> tensor<2x70xf32>
  return
}

// -----

func.func @dequantize_channels(%acc: tensor<2x70xi32>, %s: tensor<7xf32>, %b: tensor<70xf32>) {
  // expected-error @+1 {{scale has 7 channels, but the accumulator's innermost dimension is 70}}
  %0 = bitserial.dequantize %acc, %s, %b : tensor<2x70xi32>, tensor<7xf32>, tensor<70xf32> -> tensor<2x70xf32>
  return
}

//===----------------------------------------------------------------------===//
// Lowering attributes: bitserial.int8, bitserial.kernel,
// bitserial.register_block
//===----------------------------------------------------------------------===//

// -----

!A = tensor<8x2x2xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 100>>
!B = tensor<16x2x2xi64, #bitserial.packed<bits = 2, encoding = signed, length = 100>>
func.func @kernel_unknown(%a: !A, %b: !B, %init: tensor<8x16xi32>) -> tensor<8x16xi32> {
  // expected-error @+1 {{'bitserial.kernel' must be "int8", "bitserial" or "lookup", got "fast"}}
  %r = bitserial.matmul ins(%a, %b : !A, !B) outs(%init : tensor<8x16xi32>) {bitserial.kernel = "fast"} -> tensor<8x16xi32>
  return %r : tensor<8x16xi32>
}

// -----

!A = tensor<8x2x2xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 100>>
!B = tensor<16x2x2xi64, #bitserial.packed<bits = 2, encoding = signed, length = 100>>
func.func @int8_not_bool(%a: !A, %b: !B, %init: tensor<8x16xi32>) -> tensor<8x16xi32> {
  // expected-error @+1 {{'bitserial.int8' must be a bool, got 1 : i32}}
  %r = bitserial.matmul ins(%a, %b : !A, !B) outs(%init : tensor<8x16xi32>) {bitserial.int8 = 1 : i32} -> tensor<8x16xi32>
  return %r : tensor<8x16xi32>
}

// -----

!X = tensor<1x6x7x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 40>>
!F = tensor<10x3x3x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 40>>
func.func @register_block_rank(%x: !X, %f: !F, %init: tensor<1x4x5x10xi32>) -> tensor<1x4x5x10xi32> {
  // expected-error @+1 {{'bitserial.register_block' must be array<i64: pixels, channel vectors> with at least 1 of each and at most 16 accumulators, got array<i64: 4>}}
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%init : tensor<1x4x5x10xi32>) {bitserial.register_block = array<i64: 4>} -> tensor<1x4x5x10xi32>
  return %r : tensor<1x4x5x10xi32>
}

// -----

!X = tensor<1x6x7x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 40>>
!F = tensor<10x3x3x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 40>>
func.func @register_block_too_large(%x: !X, %f: !F, %init: tensor<1x4x5x10xi32>) -> tensor<1x4x5x10xi32> {
  // expected-error @+1 {{at most 16 accumulators, got array<i64: 8, 4>}}
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%init : tensor<1x4x5x10xi32>) {bitserial.register_block = array<i64: 8, 4>} -> tensor<1x4x5x10xi32>
  return %r : tensor<1x4x5x10xi32>
}

// -----

!X = tensor<1x6x7x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 40>>
!F = tensor<10x3x3x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 40>>
func.func @register_block_zero(%x: !X, %f: !F, %init: tensor<1x4x5x10xi32>) -> tensor<1x4x5x10xi32> {
  // expected-error @+1 {{with at least 1 of each and at most 16 accumulators, got array<i64: 0, 4>}}
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%init : tensor<1x4x5x10xi32>) {bitserial.register_block = array<i64: 0, 4>} -> tensor<1x4x5x10xi32>
  return %r : tensor<1x4x5x10xi32>
}

// -----

// Sizes whose product overflows i64 (2^62 x 4 wraps to 0) are rejected too.
!X = tensor<1x6x7x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 40>>
!F = tensor<10x3x3x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 40>>
func.func @register_block_overflow(%x: !X, %f: !F, %init: tensor<1x4x5x10xi32>) -> tensor<1x4x5x10xi32> {
  // expected-error @+1 {{at most 16 accumulators, got array<i64: 4611686018427387904, 4>}}
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%init : tensor<1x4x5x10xi32>) {bitserial.register_block = array<i64: 4611686018427387904, 4>} -> tensor<1x4x5x10xi32>
  return %r : tensor<1x4x5x10xi32>
}

// -----

!X = tensor<1x6x7x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 40>>
!F = tensor<10x3x3x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 40>>
func.func @register_block_max(%x: !X, %f: !F, %init: tensor<1x4x5x10xi32>) -> tensor<1x4x5x10xi32> {
  // expected-error @+1 {{at most 16 accumulators, got array<i64: 9223372036854775807, 3>}}
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%init : tensor<1x4x5x10xi32>) {bitserial.register_block = array<i64: 9223372036854775807, 3>} -> tensor<1x4x5x10xi32>
  return %r : tensor<1x4x5x10xi32>
}

// -----

!X = tensor<1x6x7x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 40>>
!F = tensor<10x3x3x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 40>>
func.func @tuning_key_not_json(%x: !X, %f: !F, %init: tensor<1x4x5x10xi32>) -> tensor<1x4x5x10xi32> {
  // expected-error @+1 {{'bitserial.tuning_key' must be a string holding a JSON object, got "[1, 2]"}}
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%init : tensor<1x4x5x10xi32>) {bitserial.tuning_key = "[1, 2]"} -> tensor<1x4x5x10xi32>
  return %r : tensor<1x4x5x10xi32>
}

// -----

func.func @kernel_on_pack(%x: tensor<4x70xi8>) -> tensor<4x2x2xi64, #bitserial.packed<bits = 2, encoding = signed, length = 70>> {
  // expected-error @+1 {{'bitserial.kernel' is only valid on bitserial.matmul and bitserial.conv2d}}
  %p = bitserial.pack %x {bitserial.kernel = "int8"} : tensor<4x70xi8> -> tensor<4x2x2xi64, #bitserial.packed<bits = 2, encoding = signed, length = 70>>
  return %p : tensor<4x2x2xi64, #bitserial.packed<bits = 2, encoding = signed, length = 70>>
}
