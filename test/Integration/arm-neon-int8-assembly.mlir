// The int8 lowering compiles to the AArch64 dot-product and i8mm
// instructions (checked on assembly, so also where the host is not
// AArch64): 2 x 4 bits signed x unsigned -> sdot by lane (4 values of K
// of a row against 4 channels); 8 x 3 bits unsigned -> udot by lane; with
// i8mm smmla, ummla, and usmmla for 8-bit unsigned x signed; a
// 3x3 convolution (3 x 4 bits) over its taps. No bit-serial popcounts remain.
//
// RUN: bitserial-opt %s --convert-bitserial-to-arm-neon --bitserial-to-llvm="target=generic" | mlir-translate --mlir-to-llvmir | llc -O3 -mtriple=aarch64-linux-gnu -mcpu=neoverse-n1 | FileCheck %s --check-prefix=DOT --implicit-check-not="cnt v"
// RUN: bitserial-opt %s --convert-bitserial-to-arm-neon="i8mm=true" --bitserial-to-llvm="target=generic" | mlir-translate --mlir-to-llvmir | llc -O3 -mtriple=aarch64-linux-gnu -mcpu=neoverse-n1 -mattr=+i8mm | FileCheck %s --check-prefix=MMLA --implicit-check-not="cnt v" --implicit-check-not=sdot --implicit-check-not=udot

// DOT-LABEL: signed_unsigned:
// DOT-COUNT-64: sdot v{{[0-9]+}}.4s, v{{[0-9]+}}.16b, v{{[0-9]+}}.4b[{{[0-3]}}]
// DOT-LABEL: unsigned_unsigned:
// DOT-COUNT-64: udot v{{[0-9]+}}.4s, v{{[0-9]+}}.16b, v{{[0-9]+}}.4b[{{[0-3]}}]
// DOT-LABEL: unsigned8_signed:
// DOT-COUNT-64: sdot v{{[0-9]+}}.4s

// DOT-LABEL: conv3x3:
// DOT-COUNT-64: sdot v{{[0-9]+}}.4s, v{{[0-9]+}}.16b, v{{[0-9]+}}.4b[{{[0-3]}}]

// MMLA-LABEL: signed_unsigned:
// MMLA-COUNT-16: smmla v{{[0-9]+}}.4s, v{{[0-9]+}}.16b, v{{[0-9]+}}.16b
// MMLA-LABEL: unsigned_unsigned:
// MMLA-COUNT-16: ummla v{{[0-9]+}}.4s
// MMLA-LABEL: unsigned8_signed:
// MMLA-COUNT-16: usmmla v{{[0-9]+}}.4s
// MMLA-LABEL: conv3x3:
// MMLA-COUNT-16: smmla v{{[0-9]+}}.4s

!S2 = tensor<64x2x4xi64, #bitserial.packed<bits = 2, encoding = signed, length = 256>>
!U4 = tensor<64x4x4xi64, #bitserial.packed<bits = 4, encoding = unsigned, length = 256>>
!U8 = tensor<64x8x4xi64, #bitserial.packed<bits = 8, encoding = unsigned, length = 256>>
!U3 = tensor<64x3x4xi64, #bitserial.packed<bits = 3, encoding = unsigned, length = 256>>
!S4 = tensor<64x4x4xi64, #bitserial.packed<bits = 4, encoding = signed, length = 256>>

func.func @signed_unsigned(%a: !S2, %b: !U4, %init: tensor<64x64xi32>) -> tensor<64x64xi32> {
  %r = bitserial.matmul ins(%a, %b : !S2, !U4) outs(%init : tensor<64x64xi32>) -> tensor<64x64xi32>
  return %r : tensor<64x64xi32>
}

func.func @unsigned_unsigned(%a: !U8, %b: !U3, %init: tensor<64x64xi32>) -> tensor<64x64xi32> {
  %r = bitserial.matmul ins(%a, %b : !U8, !U3) outs(%init : tensor<64x64xi32>) -> tensor<64x64xi32>
  return %r : tensor<64x64xi32>
}

func.func @unsigned8_signed(%a: !U8, %b: !S4, %init: tensor<64x64xi32>) -> tensor<64x64xi32> {
  %r = bitserial.matmul ins(%a, %b : !U8, !S4) outs(%init : tensor<64x64xi32>) -> tensor<64x64xi32>
  return %r : tensor<64x64xi32>
}

!X = tensor<1x14x14x3x1xi64, #bitserial.packed<bits = 3, encoding = unsigned, length = 64>>
!F = tensor<64x3x3x4x1xi64, #bitserial.packed<bits = 4, encoding = signed, length = 64>>
func.func @conv3x3(%x: !X, %f: !F, %init: tensor<1x14x14x64xi32>) -> tensor<1x14x14x64xi32> {
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%init : tensor<1x14x14x64xi32>) padding = [1, 1, 1, 1] -> tensor<1x14x14x64xi32>
  return %r : tensor<1x14x14x64xi32>
}
