//===- Int8Lowering.h - Target-independent parts of int8 lowerings -*- C++
//-*-===//
//
// The parts of the int8 dot-product lowerings (AArch64 sdot/udot/i8mm, x86
// vpdpbusd/vpmaddwd) that do not depend on the instructions: how an
// encoding's values map to i8 codes (`value = scale * x + offset`), decoding
// packed planes to those codes with vector code, the exact correction terms
// of the offsets, and a convolution's window sums.
//
//===----------------------------------------------------------------------===//

#ifndef BITSERIAL_CONVERSION_BITSERIALTOINT8_INT8LOWERING_H
#define BITSERIAL_CONVERSION_BITSERIALTOINT8_INT8LOWERING_H

#include "Bitserial/IR/BitserialDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::bitserial::int8 {

/// How the decoded values of an operand map to the i8 values `x` a dot
/// product reads: value = scale * x + offset, with x read as u8 or s8.
struct Int8Operand {
  bool isUnsigned = false;
  int64_t scale = 1;
  int64_t offset = 0;
};

/// Every value of the encoding fits s8 as is.
bool fitsS8(PackedLayoutAttr layout);

/// As s8: as is when it fits; 8-bit unsigned as `v - 128`, 8-bit bipolar
/// (odd v) as `(v - 1) / 2`.
Int8Operand asSigned(PackedLayoutAttr layout);

/// As u8: unsigned as is; signed n-bit as `v + 2^(n-1)`; bipolar n-bit as
/// `(v + 2^n - 1) / 2` (the plane code).
Int8Operand asUnsigned(PackedLayoutAttr layout);

Value constantIndex(OpBuilder &b, Location loc, int64_t value);
Value constantInt(OpBuilder &b, Location loc, Type type, int64_t value);

/// `size` rounded up to a multiple of `multiple`.
OpFoldResult roundUp(OpBuilder &b, Location loc, OpFoldResult size,
                     int64_t multiple);

/// How decodePacked arranges the i8 codes x of `[lead..., R, planes,
/// words]`.
struct CodeLayout {
  enum class Kind {
    /// `[lead..., Rp, Kx]`.
    Rows,
    /// `[lead..., Rp / 2, Kx / 8, 16]`: rows 2i and 2i + 1 interleaved in
    /// blocks of 8 values of K (the operands of `mmla`).
    RowPairs,
    /// Vectors of `lanes` channels of the first dimension C (the output
    /// channels), `group` consecutive codes each: `[ceil(C / lanes),
    /// mids..., Kx / group, lanes]` of i(8 * group), with mids the other
    /// dimensions of `[lead..., R]`; a word's first code is its low byte
    /// (the bytes of relayoutChannelBlocks' layout). Channels past C are 0.
    ChannelBlocks,
  };
  Kind kind = Kind::Rows;
  int64_t lanes = 0, group = 0;

  static CodeLayout rows() { return {}; }
  static CodeLayout rowPairs() { return {Kind::RowPairs}; }
  static CodeLayout channelBlocks(int64_t lanes, int64_t group) {
    return {Kind::ChannelBlocks, lanes, group};
  }
};

/// The decoded operand: `x` the codes in a CodeLayout; `rowSum` the
/// per-row sums of x, `[lead..., R]` in the result type, if asked for.
struct DecodedOperand {
  Value x;
  Value rowSum;
};

/// Decodes `packed` (`[lead..., R, planes, words]`, any word type) straight
/// to the i8 values x of `rep` with vector code, 64 values of K (8 bytes of
/// each plane) at a time, arranged as `codes` says, with R rounded up to
/// `rowMultiple` (1 for channel blocks) and K to 64; `padding` (`[top,
/// bottom, left, right]`, a conv input; rows only) pads the last leading
/// dimension and the rows around the values. Padding and values past K are
/// x = 0. Row sums are of x over the R rows. The code works on vectors of
/// `lanes` bytes (16, 32 or 64; 16 with row pairs). A constant `packed` of
/// static shape (weights) gives constants, decoded at compile time. With
/// `parallel` (rows layout, no row sums) the loops over the first two
/// leading dimensions are scf.forall tasks, each writing its own rows.
DecodedOperand decodePacked(OpBuilder &b, Location loc, Value packed,
                            PackedLayoutAttr layout, Int8Operand rep,
                            int64_t rowMultiple, CodeLayout codes,
                            Type resultType, bool needRowSum,
                            ArrayRef<int64_t> padding = {}, int64_t lanes = 16,
                            bool parallel = false);

/// Whether decodePacked takes the codes of `packed` from elsewhere than its
/// words: the input of the `bitserial.pack` that made it, or constants.
bool decodesFromSource(Value packed);

/// The i8 codes x of `rep` (`vector<64xi8>`) of 64 consecutive elements
/// packed with `layout`, from their bits in each plane (`planeBits`, a
/// `vector<64xi1>` per plane: one mask-register move each with AVX-512).
/// Bits past K (zero) give the code of a zero bit, not 0.
Value decodeBits64(OpBuilder &b, Location loc, ArrayRef<Value> planeBits,
                   PackedLayoutAttr layout, Int8Operand rep);

/// The codes `x` (`[R, mids..., Kx]`, R rows of output channels) as
/// vectors of `lanes` channels of `group` consecutive values of K each:
/// `[ceil(R / lanes), mids..., groups, lanes * group]` of `codeType`, where
/// `[r / lanes, m..., g, (r % lanes) * group + e]` holds `x[r, m..., g *
/// group + e]` (i8 codes widened by their sign for a wider `codeType`) and
/// rows past R are 0. `groups * group` must not exceed Kx.
Value relayoutChannelBlocks(OpBuilder &b, Location loc, Value x, int64_t groups,
                            int64_t lanes, int64_t group, Type codeType,
                            bool isUnsigned);

/// What relayoutChannelBlocks makes of the codes `rep` gives the values of
/// `packed` (`[R, mids..., planes, words]`), computed at compile time when
/// `packed` is a constant of static shape (the weights of a deployed
/// network); null otherwise and past 2^24 codes.
Value foldChannelBlocks(OpBuilder &b, Location loc, Value packed,
                        PackedLayoutAttr layout, Int8Operand rep,
                        int64_t groups, int64_t lanes, int64_t group,
                        Type codeType);

/// `init` (plus `scaleProduct * product` if `product` is set) plus the
/// offsets' terms `sa ob lhsRowSum + oa sb rhsRowSum + oa ob length`,
/// wrapping in the result type like the exact value; the row sums (if any)
/// are read through their maps from the result's iteration space.
Value buildOffsetEpilogue(RewriterBase &rewriter, Location loc, Int8Operand lhs,
                          Int8Operand rhs, Value init, Value product,
                          Value lhsRowSum, AffineMap lhsMap, Value rhsRowSum,
                          AffineMap rhsMap, int64_t length);

/// The per-pixel sums of the input codes `x` (`[N, H + pads, W + pads, Cx]`,
/// zero-padded) over each output pixel's window of `channels` channels,
/// `[N, OH, OW]` in the element type of `initType`, widened by `rep`.
Value buildInputWindowSums(RewriterBase &rewriter, Location loc, Value x,
                           Int8Operand rep, int64_t channels, int64_t kh,
                           int64_t kw, ArrayRef<int64_t> strides,
                           ArrayRef<int64_t> dilations,
                           RankedTensorType initType,
                           ArrayRef<OpFoldResult> initSizes);

/// The per-output-channel sums of the filter codes `x` (`[CO, KH, KW, Cx]`)
/// over `channels` channels, `[CO]` in the element type of `initType`.
Value buildFilterSums(RewriterBase &rewriter, Location loc, Value x,
                      Int8Operand rep, int64_t channels, int64_t kh, int64_t kw,
                      RankedTensorType initType, OpFoldResult outChannels);

/// The per-output-channel sums `[CO]` (in the element type of `initType`)
/// of the per-tap sums `tapSums` (`[CO, KH, KW]`: decodePacked's row sums of
/// a filter).
Value sumFilterTaps(RewriterBase &rewriter, Location loc, Value tapSums,
                    RankedTensorType initType, OpFoldResult outChannels);

/// Declares the intrinsic `name` of `type` in the module of `op`: a call of
/// a private function named after an intrinsic is a plain call until LLVM
/// IR, where the name makes it the intrinsic (`llvm.call_intrinsic` has
/// unknown memory effects, which the buffer deallocation pipeline rejects).
/// Fails if the name is taken by something else.
LogicalResult declareIntrinsic(RewriterBase &rewriter, Operation *op,
                               StringRef name, FunctionType type);

} // namespace mlir::bitserial::int8

#endif // BITSERIAL_CONVERSION_BITSERIALTOINT8_INT8LOWERING_H
