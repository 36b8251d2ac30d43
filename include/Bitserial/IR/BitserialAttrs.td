//===- BitserialAttrs.td - Bitserial attributes ------------*- tablegen -*-===//

#ifndef BITSERIAL_IR_BITSERIALATTRS_TD
#define BITSERIAL_IR_BITSERIALATTRS_TD

include "Bitserial/IR/BitserialBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/TensorEncoding.td"

// Parsed as a signed integer so that a negative or huge value is reported as
// such, not wrapped or reported as "not an unsigned".
def Bitserial_BitsParameter : AttrParameter<"unsigned", "bits per element"> {
  let parser = "::mlir::bitserial::parseBitsParameter($_parser)";
}

// An unknown keyword is reported with the valid spellings.
def Bitserial_EncodingParameter : EnumParameter<Bitserial_Encoding> {
  let parser = "::mlir::bitserial::parseEncodingParameter($_parser)";
}

def Bitserial_PackedLayoutAttr : AttrDef<Bitserial_Dialect, "PackedLayout", [
    DeclareAttrInterfaceMethods<VerifiableTensorEncoding>]> {
  let mnemonic = "packed";
  let summary = "Tensor encoding of a bit-plane packed integer tensor";
  let description = [{
    Marks a tensor of machine words (`i8`, `i16`, `i32` or `i64`) as the
    bit-plane packing of an integer tensor whose innermost axis has `length`
    elements of `bits` bits each, decoded with `encoding`.

    The packed tensor has the shape of the logical tensor with its innermost
    axis replaced by `[bits, ceil(length / word_bits)]` (plane outside the
    word). Bit `k % word_bits` of word `k / word_bits` in plane `p` is plane
    `p` of element `k`; the bits past `length` in the last word are zero.

    ```mlir
    // 4 rows of 70 signed 2-bit values, in 64-bit words.
    tensor<4x2x2xi64, #bitserial.packed<bits = 2, encoding = signed, length = 70>>
    ```
  }];
  let parameters = (ins
    Bitserial_BitsParameter:$bits,
    Bitserial_EncodingParameter:$encoding,
    "int64_t":$length
  );
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// Number of words of `wordBits` bits that hold `length` bits.
    int64_t getNumWords(unsigned wordBits) const {
      return (getLength() + wordBits - 1) / wordBits;
    }
  }];
}

#endif // BITSERIAL_IR_BITSERIALATTRS_TD
