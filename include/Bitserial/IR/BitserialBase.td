//===- BitserialBase.td - Bitserial dialect definition -----*- tablegen -*-===//
//
// The bitserial dialect: bit-plane packed integer tensors and the operators
// that compute on them exactly.
//
//===----------------------------------------------------------------------===//

#ifndef BITSERIAL_IR_BITSERIALBASE_TD
#define BITSERIAL_IR_BITSERIALBASE_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/EnumAttr.td"

def Bitserial_Dialect : Dialect {
  let name = "bitserial";
  let cppNamespace = "::mlir::bitserial";
  let summary = "Bit-serial (bit-plane) low-precision integer operators";
  let description = [{
    The `bitserial` dialect represents 1- to 8-bit integer tensors as bit
    planes packed into machine words, and operators (matmul, conv2d) whose
    dot products become sums of plane-weighted popcounts of AND/XOR of packed
    words.

    A packed tensor is a builtin tensor of words whose encoding attribute,
    `#bitserial.packed<bits = B, encoding = E, length = L>`, says how to
    decode it. Its two innermost dimensions are `[B, ceil(L / word_bits)]`:
    bit `k % word_bits` of word `k / word_bits` of plane `p` holds plane `p`
    of logical element `k`. Bits past `L` in the last word are zero.

    Every operator computes the exact integer result of its decoded
    operands; see `docs/design.md` for the value of each encoding.
  }];
  let useDefaultAttributePrinterParser = 1;
  let hasConstantMaterializer = 1;
  // Checks the discardable attributes that steer the lowering of matmul and
  // conv2d (`bitserial.int8`, `bitserial.kernel`, `bitserial.register_block`).
  let hasOperationAttrVerify = 1;
  // `bitserial.low_nibbles` on a `math.ctpop` of i8 vectors: every byte of
  // the operand is below 16, so a 16-entry table lookup (x86 pshufb) counts
  // it. Set by convert-bitserial-to-vector, used by
  // bitserial-x86-byte-counts.
  let discardableAttrs = (ins "::mlir::UnitAttr":$low_nibbles);
  let dependentDialects = [
    "::mlir::affine::AffineDialect",
    "::mlir::arith::ArithDialect",
    "::mlir::tensor::TensorDialect"
  ];
}

def Bitserial_Encoding : I32EnumAttr<"Encoding",
    "how the bit planes of an operand decode to an integer", [
      I32EnumAttrCase<"Unsigned", 0, "unsigned">,
      I32EnumAttrCase<"Signed", 1, "signed">,
      I32EnumAttrCase<"Bipolar", 2, "bipolar">
    ]> {
  let cppNamespace = "::mlir::bitserial";
  let genSpecializedAttr = 0;
}

def Bitserial_EncodingAttr : EnumAttr<Bitserial_Dialect, Bitserial_Encoding,
                                      "encoding"> {
  let summary = "Bit-plane encoding: unsigned, signed or bipolar";
  let description = [{
    For planes `b_0 .. b_{n-1}` (`b_0` least significant):
    - `unsigned`: `v = sum 2^i b_i`, values `0 .. 2^n - 1`;
    - `signed` (two's complement): `v = sum_{i<n-1} 2^i b_i - 2^{n-1} b_{n-1}`;
    - `bipolar` (each plane is +1/-1): `v = sum 2^i (2 b_i - 1)`, odd values
      `-(2^n - 1) .. 2^n - 1`.

    ```mlir
    #bitserial.encoding<bipolar>
    ```
  }];
  let assemblyFormat = "`<` $value `>`";
}

class Bitserial_Op<string mnemonic, list<Trait> traits = []>
    : Op<Bitserial_Dialect, mnemonic, traits>;

#endif // BITSERIAL_IR_BITSERIALBASE_TD
