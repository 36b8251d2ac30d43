//===- BitserialOps.td - Bitserial operations --------------*- tablegen -*-===//

#ifndef BITSERIAL_IR_BITSERIALOPS_TD
#define BITSERIAL_IR_BITSERIALOPS_TD

include "Bitserial/IR/BitserialBase.td"
include "Bitserial/IR/BitserialAttrs.td"
include "mlir/Interfaces/DestinationStyleOpInterface.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/TilingInterface.td"

def Bitserial_WordTensor : RankedTensorOf<[I8, I16, I32, I64]>;
def Bitserial_AccumulatorTensor : RankedTensorOf<[I32, I64]>;

// Value ops without a destination: their iteration domain is the result's
// leading (unpacked) axes; tiling creates a `tensor.empty` destination, whose
// dynamic sizes come from `reifyResultShapes`.
defvar Bitserial_ValueOpTiling = [
    DeclareOpInterfaceMethods<TilingInterface, [
      "getLoopIteratorTypes", "getIterationDomain", "getTiledImplementation",
      "getResultTilePosition", "generateResultTileValue",
      "getIterationDomainTileFromResultTile"]>,
    DeclareOpInterfaceMethods<ReifyRankedShapedTypeOpInterface,
                              ["reifyResultShapes"]>];

//===----------------------------------------------------------------------===//
// PackOp
//===----------------------------------------------------------------------===//

def Bitserial_PackOp : Bitserial_Op<"pack", !listconcat([Pure], Bitserial_ValueOpTiling)> {
  let summary = "Packs an integer tensor into bit planes along its innermost axis";
  let description = [{
    Splits every element of `input` into `bits` bit planes and packs each
    plane along the innermost axis into machine words. `bits`, `encoding` and
    the logical length of the innermost axis are carried by the result type's
    `#bitserial.packed` encoding; the word type is the result element type.

    The input values must lie in the range of the encoding (`0 .. 2^bits - 1`
    for unsigned, `-2^(bits-1) .. 2^(bits-1) - 1` for signed, odd values in
    `-(2^bits - 1) .. 2^bits - 1` for bipolar). Other values give
    unspecified planes: the lowerings keep their low `bits` bits (after the
    `(v + 2^bits - 1) / 2` shift for bipolar), and folders such as
    `unpack(pack(x)) -> x` assume the values are in range.
    The input element type must be wide enough to hold every value of the
    encoding. Bits past the logical length are zero.

    ```mlir
    %p = bitserial.pack %x : tensor<4x70xi8>
        -> tensor<4x2x2xi64, #bitserial.packed<bits = 2, encoding = signed, length = 70>>
    ```
  }];
  let arguments = (ins RankedTensorOf<[AnySignlessInteger]>:$input);
  let results = (outs Bitserial_WordTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let builders = [
    OpBuilder<(ins "::mlir::Value":$input, "unsigned":$bits,
                   "::mlir::bitserial::Encoding":$encoding,
                   CArg<"::mlir::Type", "{}">:$wordType)>
  ];
  let extraClassDeclaration = [{
    ::mlir::bitserial::PackedLayoutAttr getLayout();
    unsigned getBits() { return getLayout().getBits(); }
    ::mlir::bitserial::Encoding getEncoding() { return getLayout().getEncoding(); }
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// UnpackOp
//===----------------------------------------------------------------------===//

def Bitserial_UnpackOp : Bitserial_Op<"unpack", !listconcat([Pure], Bitserial_ValueOpTiling)> {
  let summary = "Decodes a bit-plane packed tensor back to integers";
  let description = [{
    The exact inverse of `bitserial.pack`: decodes every logical element of
    the packed `input` with its encoding into the integer element type of the
    result. The result shape is the packed shape with `[planes, words]`
    replaced by the logical length.

    ```mlir
    %x = bitserial.unpack %p
        : tensor<4x2x2xi64, #bitserial.packed<bits = 2, encoding = signed, length = 70>>
        -> tensor<4x70xi8>
    ```
  }];
  let arguments = (ins Bitserial_WordTensor:$input);
  let results = (outs RankedTensorOf<[AnySignlessInteger]>:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let extraClassDeclaration = [{
    ::mlir::bitserial::PackedLayoutAttr getLayout();
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// MatmulOp
//===----------------------------------------------------------------------===//

def Bitserial_MatmulOp : Bitserial_Op<"matmul", [
    Pure, DestinationStyleOpInterface,
    DeclareOpInterfaceMethods<TilingInterface, [
      "getLoopIteratorTypes", "getIterationDomain", "getTiledImplementation",
      "getResultTilePosition", "generateResultTileValue",
      "getIterationDomainTileFromResultTile"]>]> {
  let summary = "Bit-plane matrix multiplication, accumulating into `init`";
  let description = [{
    Computes `result = init + decode(lhs) * transpose(decode(rhs))` exactly,
    where `lhs` packs an `[M, K]` matrix and `rhs` an `[N, K]` matrix along
    `K` (so both operands are read along rows). Any pair of encodings and bit
    widths is allowed; both operands use the same word type (`i8` to `i64`)
    and the same length `K`. Either operand may carry a leading batch dimension
    `B`; an operand without one is shared by every batch (for example, the
    weights of a dense layer applied to a batch of activations), and the
    result then has shape `[B, M, N]`.

    The result is exact whenever the true value fits the accumulator element
    type (`i32` or `i64`); like `linalg.matmul`, it accumulates into `init`,
    so fill `init` with zero for a plain product. Empty extents (`B`, `M` or
    `N` of zero) are allowed and give an empty result; the op then folds to
    `init`.

    ```mlir
    %r = bitserial.matmul
        ins(%a, %b : tensor<8x2x2xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 100>>,
                     tensor<16x1x2xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 100>>)
        outs(%init : tensor<8x16xi32>) -> tensor<8x16xi32>
    ```
  }];
  let arguments = (ins Bitserial_WordTensor:$lhs, Bitserial_WordTensor:$rhs,
                       Bitserial_AccumulatorTensor:$init);
  let results = (outs Bitserial_AccumulatorTensor:$result);
  let assemblyFormat = [{
    `ins` `(` $lhs `,` $rhs `:` type($lhs) `,` type($rhs) `)`
    `outs` `(` $init `:` type($init) `)` attr-dict `->` type($result)
  }];
  let extraClassDeclaration = [{
    ::mlir::MutableOperandRange getDpsInitsMutable() { return getInitMutable(); }
    ::mlir::bitserial::PackedLayoutAttr getLhsLayout();
    ::mlir::bitserial::PackedLayoutAttr getRhsLayout();
    /// True when the result has a leading batch dimension.
    bool isBatched() { return getResult().getType().getRank() == 3; }
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Conv2DOp
//===----------------------------------------------------------------------===//

def Bitserial_Conv2DOp : Bitserial_Op<"conv2d", [
    Pure, DestinationStyleOpInterface,
    DeclareOpInterfaceMethods<TilingInterface, [
      "getLoopIteratorTypes", "getIterationDomain", "getTiledImplementation",
      "getResultTilePosition", "generateResultTileValue",
      "getIterationDomainTileFromResultTile"]>]> {
  let summary = "Bit-plane 2-D convolution (NHWC), accumulating into `init`";
  let description = [{
    A 2-D convolution of decoded integers, exact for every pair of encodings
    and bit widths (both operands use the same word type, `i8` to `i64`, and
    the same length `C`):

    ```
    result[n, oh, ow, co] = init[n, oh, ow, co] + sum_{kh, kw, c}
        x[n, oh * sh + kh * dh - pad_top, ow * sw + kw * dw - pad_left, c]
        * decode(filter)[co, kh, kw, c]
    ```

    where `x` is the decoded `input` with zeros outside `[0, H) x [0, W)`:
    padding means the value 0, also for bipolar operands (whose planes cannot
    encode 0).

    Layouts: `input` packs an `[N, H, W, C]` tensor along `C` and has shape
    `[N, H, W, planes, words]`; `filter` packs a `[CO, KH, KW, C]` tensor
    along `C` and has shape `[CO, KH, KW, planes, words]`; `init` and the
    result are `[N, OH, OW, CO]` with
    `OH = (H + pad_top + pad_bottom - dh * (KH - 1) - 1) / sh + 1` (and
    likewise `OW`). `strides` and `dilations` are `[h, w]`; `padding` is
    `[top, bottom, left, right]`. Empty extents (`N`, `H`, `W` or `CO` of
    zero) are allowed: nothing is added to `init`, and the op folds to it.

    ```mlir
    %r = bitserial.conv2d
        ins(%x, %f : tensor<1x8x8x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 3>>,
                     tensor<4x3x3x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 3>>)
        outs(%init : tensor<1x4x4x4xi32>)
        strides = [2, 2] padding = [1, 1, 1, 1] -> tensor<1x4x4x4xi32>
    ```
  }];
  let arguments = (ins Bitserial_WordTensor:$input, Bitserial_WordTensor:$filter,
                       Bitserial_AccumulatorTensor:$init,
                       DefaultValuedAttr<DenseI64ArrayAttr, "{1, 1}">:$strides,
                       DefaultValuedAttr<DenseI64ArrayAttr, "{0, 0, 0, 0}">:$padding,
                       DefaultValuedAttr<DenseI64ArrayAttr, "{1, 1}">:$dilations);
  let results = (outs Bitserial_AccumulatorTensor:$result);
  let assemblyFormat = [{
    `ins` `(` $input `,` $filter `:` type($input) `,` type($filter) `)`
    `outs` `(` $init `:` type($init) `)`
    (`strides` `=` $strides^)? (`padding` `=` $padding^)?
    (`dilations` `=` $dilations^)? attr-dict `->` type($result)
  }];
  let extraClassDeclaration = [{
    ::mlir::MutableOperandRange getDpsInitsMutable() { return getInitMutable(); }
    ::mlir::bitserial::PackedLayoutAttr getInputLayout();
    ::mlir::bitserial::PackedLayoutAttr getFilterLayout();
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Epilogues: accumulators to the next layer's input
//===----------------------------------------------------------------------===//

def Bitserial_ThresholdOp : Bitserial_Op<"threshold", !listconcat([Pure], Bitserial_ValueOpTiling)> {
  let summary = "Per-channel thresholds: accumulators to packed k-bit codes";
  let description = [{
    Quantizes accumulators to `bits`-bit codes by counting the thresholds
    each value reaches (FINN's MultiThreshold), and packs the codes as the
    next layer's input. The channel is the innermost axis of `acc` (`C`
    channels); `thresholds` is `[C, 2^bits - 1]` with the element type of
    `acc`. For each element at channel `c`:

    ```
    count = #{ i : acc >= thresholds[c, i] }     (ties count)
    count = #{ i : acc <= thresholds[c, i] }     (where descending[c] is 1)
    ```

    The thresholds need not be sorted. The result is a packed tensor (`acc`'s
    shape with the channel axis replaced by `[bits, words]`, `length = C`)
    whose decoded value is the count in the result's encoding: `count`
    (unsigned), `count - 2^(bits-1)` (signed), `2 * count - (2^bits - 1)`
    (bipolar); so a 1-bit bipolar result is the sign activation, `+1` where
    `acc >= t` and `-1` elsewhere.

    Batch norm, an activation and a uniform quantizer between two layers
    fold into these integer thresholds; a negative batch-norm scale flips a
    channel's comparison (`descending`).

    ```mlir
    %y = bitserial.threshold %acc, %t : tensor<1x56x56x64xi32>, tensor<64x3xi32>
        -> tensor<1x56x56x2x1xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 64>>
    %s = bitserial.threshold %acc, %t1 descending(%flip : tensor<64xi1>)
        : tensor<1x56x56x64xi32>, tensor<64x1xi32>
        -> tensor<1x56x56x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 64>>
    ```
  }];
  let arguments = (ins Bitserial_AccumulatorTensor:$acc,
                       Bitserial_AccumulatorTensor:$thresholds,
                       Optional<RankedTensorOf<[I1]>>:$descending);
  let results = (outs Bitserial_WordTensor:$result);
  let assemblyFormat = [{
    $acc `,` $thresholds
    (`descending` `(` $descending^ `:` type($descending) `)`)?
    attr-dict `:` type($acc) `,` type($thresholds) `->` type($result)
  }];
  let extraClassDeclaration = [{
    ::mlir::bitserial::PackedLayoutAttr getLayout();
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Bitserial_RequantizeOp : Bitserial_Op<"requantize", !listconcat([Pure], Bitserial_ValueOpTiling)> {
  let summary = "Per-channel requantization of i32 accumulators (TFLite rounding)";
  let description = [{
    Scales `acc` by a per-channel fixed-point multiplier and power of two,
    adds `zero_point` and clamps to `[min, max]`, with the integer steps of
    TFLite's `MultiplyByQuantizedMultiplier` (gemmlowp), so results are
    identical to TFLite's per-channel int8 kernels. For an element at
    channel `c` (the innermost axis of `acc`), with
    `s = clamp(shift[c], -31, 30)`, `left = max(s, 0)`, `right = max(-s, 0)`:

    ```
    x = acc << left                          (wraps in i32, as x * (1 << left))
    y = RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(x, multiplier[c]), right)
    result = clamp(y + zero_point, min, max)
    ```

    `SaturatingRoundingDoublingHighMul(a, b)` is `INT32_MAX` when
    `a = b = INT32_MIN`, else `(a * b + nudge) / 2^31` computed in 64 bits
    and rounded toward zero, with `nudge = 2^30` for a non-negative product
    and `1 - 2^30` for a negative one. `RoundingDivideByPOT(x, e)` is
    `(x >> e) + (r > (m >> 1) + (x < 0))` with `m = 2^e - 1` and `r = x & m`
    (an arithmetic shift: round half away from zero). `acc` is `i32`,
    `multiplier` `[C] x i32`, `shift` `[C] x i8` (positive shifts left); the
    result has `acc`'s shape and element type `i8`, `i16` or `i32`, and
    `min <= max` lie in its range.

    ```mlir
    %q = bitserial.requantize %acc, %mult, %shift zero_point = -128
        clamp = [-128, 127]
        : tensor<1x7x7x512xi32>, tensor<512xi32>, tensor<512xi8>
        -> tensor<1x7x7x512xi8>
    ```
  }];
  let arguments = (ins RankedTensorOf<[I32]>:$acc,
                       RankedTensorOf<[I32]>:$multiplier,
                       RankedTensorOf<[I8]>:$shift,
                       DefaultValuedAttr<I32Attr, "0">:$zero_point,
                       DenseI64ArrayAttr:$clamp);
  let results = (outs RankedTensorOf<[I8, I16, I32]>:$result);
  let assemblyFormat = [{
    $acc `,` $multiplier `,` $shift (`zero_point` `=` $zero_point^)?
    `clamp` `=` $clamp attr-dict
    `:` type($acc) `,` type($multiplier) `,` type($shift) `->` type($result)
  }];
  let extraClassDeclaration = [{
    int64_t getSignedZeroPoint() {
      return static_cast<int32_t>(getZeroPoint());
    }
    int64_t getClampMin() { return getClamp()[0]; }
    int64_t getClampMax() { return getClamp()[1]; }
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Bitserial_DequantizeOp : Bitserial_Op<"dequantize", !listconcat([Pure], Bitserial_ValueOpTiling)> {
  let summary = "Per-channel scale and bias: accumulators to floating point";
  let description = [{
    Converts accumulators to floating point for a network's float outputs
    (the last layer's scores): for an element at channel `c` (the innermost
    axis of `acc`),

    ```
    result = fl(fl(fl(acc) * scale[c]) + bias[c])
    ```

    where `fl` rounds to the nearest representable value (ties to even): the
    conversion, an IEEE multiply and an IEEE add, each rounded on its own
    (never contracted into a fused multiply-add), so every lowering and a
    NumPy evaluation in the same precision agree bit for bit. `acc` is `i32`
    or `i64`; `scale` and `bias` are `[C]` of the result's element type
    (`f32` or `f64`).

    ```mlir
    %f = bitserial.dequantize %acc, %scale, %bias
        : tensor<1x1000xi32>, tensor<1000xf32>, tensor<1000xf32> -> tensor<1x1000xf32>
    ```
  }];
  let arguments = (ins Bitserial_AccumulatorTensor:$acc,
                       RankedTensorOf<[F32, F64]>:$scale,
                       RankedTensorOf<[F32, F64]>:$bias);
  let results = (outs RankedTensorOf<[F32, F64]>:$result);
  let assemblyFormat = [{
    $acc `,` $scale `,` $bias attr-dict
    `:` type($acc) `,` type($scale) `,` type($bias) `->` type($result)
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
}

#endif // BITSERIAL_IR_BITSERIALOPS_TD
