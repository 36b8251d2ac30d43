//===- ConvKernelBuilder.h - The bitserial vector micro-kernel --*- C++ -*-===//
//
// Internal to the BitserialToVector conversion: builds the register-blocked
// kernel of one convolution (see ConvKernelBuilder.cpp).
//
//===----------------------------------------------------------------------===//

#ifndef LIB_CONVERSION_BITSERIALTOVECTOR_CONVKERNELBUILDER_H
#define LIB_CONVERSION_BITSERIALTOVECTOR_CONVKERNELBUILDER_H

#include "Bitserial/Conversion/BitserialToVector/BitserialToVector.h"
#include "Bitserial/IR/BitserialDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/ADT/bit.h"

namespace mlir::bitserial {

/// Steps a byte lane can take (at most 8 each) before it might overflow.
inline constexpr int64_t kMaxByteSteps = 31;

/// With unrollSteps, at most this many steps of a chunk are straight-line
/// code; more keep too many loads in flight (LLVM hoists them) and spill.
inline constexpr int64_t kMaxUnrolledSteps = 12;

/// With unrollSteps, the per-call copies (input, filter relayout) unroll
/// their innermost loops up to this many bodies: in order, one body per
/// iteration serializes its load -> store chain.
inline constexpr int64_t kMaxUnrolledCopies = 8;

/// A copy loop split into consecutive loops over [0, b0), [b0, b1), ...,
/// [bn, upper), so that each has a body without per-element conditions
/// (e.g. the padding columns and the interior ones of an input row).
struct CopySegments {
  /// The loop level split (not a forall or unrolled level).
  int64_t level;
  /// The split points, ascending and within [0, upper], from the outer
  /// levels' induction variables.
  llvm::function_ref<SmallVector<Value>(ArrayRef<Value>)> bounds;
  /// Called before the loop of each segment, with its index.
  llvm::function_ref<void(int64_t)> begin;
};

/// With unrollSteps, a block whose plane pairs take at most this many steps
/// together (1x1 layers) has all of them as straight-line code: a loop over
/// the plane pairs costs more than the longer body (C11 at 2 x 2 bits, 4
/// pairs of 4 steps: 15% faster on the Cortex-A53 model than 4-step bodies
/// in a plane loop).
inline constexpr int64_t kMaxStraightLinePairSteps = 16;

/// With unrollPlanePairs, blocks of at most this many plane pairs get one
/// copy of their step loops per pair rather than a loop over the pairs.
inline constexpr int64_t kMaxUnrolledPlanePairs = 2;

/// With `parallel`, each output row is split into at most this many parts
/// of channel blocks, so that layers with few rows (and matmuls: one row)
/// still have work for every thread.
inline constexpr int64_t kChannelParts = 4;

/// With `parallel`, 1x1 kernels with at least this many output rows
/// (N x OH) split rows only, each task copying the input row it reads (see
/// ConvKernelBuilder::build).
inline constexpr int64_t kMinTaskInputRows = 8;

/// An epilogue op applied in the kernel's registers to the accumulators
/// (`init` + the convolution), so that they never reach memory.
struct FusedEpilogue {
  enum class Kind { None, Threshold, Requantize, Dequantize };
  Kind kind = Kind::None;
  /// Threshold: [C, T] thresholds, optional [C] i1 descending flags, and
  /// the packed result's layout.
  Value thresholds, descending;
  PackedLayoutAttr layout;
  /// Requantize: [C] i32 multiplier, [C] i8 shift.
  Value multiplier, shift;
  int64_t zeroPoint = 0, clampMin = 0, clampMax = 0;
  /// Dequantize: [C] scale and bias.
  Value scale, bias;
  /// The element type of the result (i64 words for a threshold).
  Type resultElement;
};

/// A convolution in the kernel's terms (a matmul is a 1x1 convolution).
struct ConvProblem {
  Value input;  // [N, H, W, Pa, CW] i64 words
  Value filter; // [CO, KH, KW, Pb, CW] i64 words
  Value init;   // [N, OH, OW, CO] i32 or i64
  PackedLayoutAttr inputLayout, filterLayout;
  SmallVector<int64_t> strides{1, 1}, padding{0, 0, 0, 0}, dilations{1, 1};
  /// The filter's words when it is a constant (weights known at compile
  /// time): then the re-laid-out filter is a constant too.
  DenseIntElementsAttr filterConstant = {};
  /// The epilogue the kernel applies before it stores, if any: then the
  /// result is the epilogue's ([N, OH, OW, CO] of its element type, or
  /// [N, OH, OW, bits, words] i64 for a threshold), not `init`.
  FusedEpilogue epilogue = {};
  /// The scalar `init` is a fill of, if it is one: with an epilogue or
  /// freshOutput the kernel broadcasts it instead of reading `init`.
  Value initScalar = {};
  /// Write the result into a new tensor and only read `init` (see
  /// MicroKernelShape::freshReturnedOutput), rather than update `init`.
  bool freshOutput = false;
};

/// Builds the kernel for one ConvProblem.
class ConvKernelBuilder {
public:
  ConvKernelBuilder(OpBuilder &b, Location loc, const ConvProblem &problem,
                    const MicroKernelShape &targetShape)
      : b(b), loc(loc), pr(problem), shape(targetShape) {
    auto inputType = cast<RankedTensorType>(pr.input.getType());
    auto filterType = cast<RankedTensorType>(pr.filter.getType());
    planesA = inputType.getDimSize(3);
    words = inputType.getDimSize(4);
    channelsOut = filterType.getDimSize(0);
    kernelH = filterType.getDimSize(1);
    kernelW = filterType.getDimSize(2);
    planesB = filterType.getDimSize(3);
    lanes = shape.vectorBits / 64;
    if (shape.fitRegisterBlock)
      fitRegisterBlock(cast<RankedTensorType>(pr.init.getType()).getDimSize(2));
    // Fused thresholds: a channel block of a power of two vectors lies
    // inside one 64-bit word of codes or covers whole words.
    if (pr.epilogue.kind == FusedEpilogue::Kind::Threshold)
      shape.channelBlock = llvm::bit_floor(uint64_t(shape.channelBlock));
    // A dynamic CO (e.g. a tile of it) gives dynamic block counts.
    channelBlocks = ShapedType::isDynamic(channelsOut)
                        ? ShapedType::kDynamic
                        : llvm::alignTo(llvm::divideCeil(channelsOut, lanes),
                                        shape.channelBlock);
    decodeA = getPlaneDecoding(pr.inputLayout.getEncoding());
    decodeB = getPlaneDecoding(pr.filterLayout.getEncoding());
    i64 = b.getI64Type();
    wordVector = VectorType::get({lanes}, i64);
    byteVector = VectorType::get({shape.vectorBits / 8}, b.getI8Type());
    // A 1-wide window reads one input row (column) per output row
    // (column): keep only those, and step through them one by one.
    subsampled[0] = kernelH == 1;
    subsampled[1] = kernelW == 1;
    for (int a = 0; a < 2; ++a)
      inputStrides[a] = subsampled[a] ? 1 : pr.strides[a];
    // Split filters take twice the bytes: not where each filter word is
    // used by one output pixel only (matmuls with M = 1), whose filter
    // stream is then the limit.
    auto outputType = cast<RankedTensorType>(pr.init.getType());
    bool onePixel = outputType.getDimSize(0) == 1 &&
                    outputType.getDimSize(1) == 1 &&
                    outputType.getDimSize(2) == 1;
    nibbles = shape.nibbleLookup && !shape.wordPopcount && !onePixel &&
              kernelH * kernelW * words >= shape.minNibbleSteps;
    xorPairs = planesA == 1 && planesB == 1 &&
               pr.inputLayout.getEncoding() == Encoding::Bipolar &&
               pr.filterLayout.getEncoding() == Encoding::Bipolar;
    chooseSumWidth();
  }

  Value build();
  bool worthThreads() const;

private:
  Value index(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value constI64(int64_t v) {
    return arith::ConstantIntOp::create(b, loc, i64, v);
  }
  Value dim(Value v, int64_t d) { return tensor::DimOp::create(b, loc, v, d); }
  Value zeroWords() {
    return arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(wordVector, APInt(64, 0)));
  }
  /// Zero plane-pair sums (sumVector).
  Value zeroSums() {
    return arith::ConstantOp::create(b, loc, b.getZeroAttr(sumVector));
  }
  Value zeroBytes() {
    return arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(byteVector, APInt(8, 0)));
  }
  /// a * s + c * d on index values (s, d constants).
  Value affine(Value a, int64_t s, Value c, int64_t d) {
    Value as = arith::MulIOp::create(b, loc, a, index(s));
    Value cd = arith::MulIOp::create(b, loc, c, index(d));
    return arith::AddIOp::create(b, loc, as, cd);
  }
  /// Whether (row, col), signed, is inside [0, height) x [0, width).
  Value isInside(Location at, Value row, Value height, Value col, Value width) {
    // Unsigned compares also reject negative rows and columns.
    return arith::AndIOp::create(
        b, at,
        arith::CmpIOp::create(b, at, arith::CmpIPredicate::ult, row, height),
        arith::CmpIOp::create(b, at, arith::CmpIPredicate::ult, col, width));
  }
  /// A tensor of i64 of `sizes` whose element at indices `idx` is
  /// `element(idx)`, built inside a linalg.generic body.
  Value buildIndexedTensor(
      ArrayRef<OpFoldResult> sizes,
      llvm::function_ref<Value(Location, ArrayRef<Value>)> element,
      Type elementType = {});
  /// A nest of scf.for loops over [0, uppers[k]) carrying one tensor (a
  /// copy's destination, written in place): `enter(k, ivs)` runs in loop k's
  /// body before the inner loops (for what only depends on the outer ones),
  /// `body(ivs, writeIvs, dest)` in the innermost body returns the updated
  /// tensor, written at `writeIvs` (with `threads`, an scf.forall over the
  /// first two levels writes slices: those indices are 0 there). The
  /// innermost `unrolled` levels (constant extents, not forall levels) are
  /// straight-line code. With `segments`, one level runs as consecutive
  /// loops split at the bounds it returns (see CopySegments).
  Value buildCopyNest(
      ArrayRef<Value> uppers, Value init,
      llvm::function_ref<void(int64_t, ArrayRef<Value>)> enter,
      llvm::function_ref<Value(ArrayRef<Value>, ArrayRef<Value>, Value)> body,
      int64_t unrolled = 0, const CopySegments *segments = nullptr);
  /// With unrollSteps: how many innermost of the copy loops over `extents`
  /// to unroll, keeping at most kMaxUnrolledCopies bodies.
  int64_t copyLevelsToUnroll(ArrayRef<int64_t> extents) const;
  /// 2^plane (negated for a signed top plane) as i64, `plane` an index.
  Value planeWeight(Value plane, PackedLayoutAttr layout);
  /// Inside a linalg body: ctpop(word) * planeWeight(linalg.index
  /// planeDim) * factor.
  Value weightedCount(Location at, Value word, int64_t planeDim,
                      PackedLayoutAttr layout, int64_t factor);
  /// Whether `plane` has a negative weight (the top plane of a signed
  /// layout), as i1.
  Value isNegativePlane(Value plane, PackedLayoutAttr layout) {
    if (layout.getEncoding() != Encoding::Signed)
      return arith::ConstantIntOp::create(b, loc, b.getI1Type(), 0);
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, plane,
                                 index(layout.getBits() - 1));
  }

  /// The kernel's input: [N, H', W', Pa, CW] with zero words around, or
  /// with nibbleLookup [N, H', W', Pa, CW, 2], the low and high nibbles of
  /// every word; with duplicateActivations a last dimension of `lanes`
  /// copies of each word. Given `n` and `row` (1x1 kernels), only that
  /// row: [1, 1, W', ...], the one input row output row `row` reads.
  Value buildKernelInput(Value n = {}, Value row = {});
  /// flatInput, inputHeight and inputWidth of `kernelInput`.
  void setFlatInput(Value kernelInput);
  Value relayoutFilter();
  /// Word halves per step: 2 with nibbleLookup, else 1.
  int64_t halves() const { return nibbles ? 2 : 1; }
  Value pixelBitCounts(Value kernelInput);
  Value activationBitCounts(Value kernelInput);
  Value filterTapTerms();
  /// filterTapTerms' table as a constant, or null if it is not one.
  Value foldFilterTapTerms(int64_t sumC, int64_t sumD, int64_t length);
  /// Output rows (columns) [0, low) and [out - high, out) of an axis have
  /// taps outside the input; with static extents (`compact`) all the others
  /// share one class, the last, of the tap table (see filterTapTerms).
  struct BorderClasses {
    bool compact = false;
    int64_t low = 0, high = 0, out = 0;
  };
  BorderClasses rowClasses, columnClasses;
  BorderClasses getBorderClasses(int axis);
  /// The class of output row or column `position` (index).
  Value classOf(const BorderClasses &classes, Value position);
  /// A row or column of class `c` (index), inside a linalg body.
  Value positionOf(const BorderClasses &classes, Value c);
  Value widenLanes(Value narrow, VectorType wideType, bool isSigned);
  /// Fused threshold: [T, blocks * lanes] thresholds XOR the descending
  /// masks, and [blocks * lanes] masks (0, or -1 for a descending channel),
  /// of the accumulator type; constants when the parameters are.
  std::pair<Value, Value> relayoutThresholds();
  /// The output tensor of a fused epilogue.
  Value createEpilogueOutput();
  /// Fused threshold, one output block: counts the thresholds (`table`, see
  /// relayoutThresholds) each accumulator vector reaches, and ORs the bits
  /// of the codes into the block's words of `result`. `sums` are the block's
  /// accumulator vectors (pixel-major) with whether their pixel is inside
  /// the row (null when `full`); `masks` the descending masks per channel
  /// vector (empty without); other arguments as in build().
  Value thresholdStores(bool full, Value result,
                        ArrayRef<std::pair<Value, Value>> sums,
                        ArrayRef<SmallVector<Value>> masks, Value table,
                        Value ow0, Value cob0, Value writeN, Value writeOh,
                        bool rowLocal, Value channelOffset);
  /// Sets accBits, sumVector, sumsSigned and sumLaneMax (see there).
  void chooseSumWidth();
  /// With narrow unsigned sums and whole pairs of channel vectors: the
  /// block's i32 totals per pixel and pair of channel vectors (index
  /// (p * channelBlock + q) / 2): each pair's two vectors added pairwise
  /// (addp) in the narrowest lanes that cannot overflow, then widened
  /// (uaddlp) to one i32 lane per channel; empty otherwise.
  SmallVector<Value> reduceBlockSums(ArrayRef<Value> planeSums);
  /// `kernelInput`: the padded input, split into nibbles with nibbleLookup.
  /// Without `sums`, the pair's widened counts; with them (Horner order, see
  /// MicroKernelShape::hornerPlanePairs), `sums` plus the counts, the steps
  /// adding straight into them when they are byte sums of one chunk.
  SmallVector<Value> reducePlanePair(Value kernelInput, Value relaid, Value n,
                                     Value oh, Value ow0, Value cob0, Value i,
                                     Value j, ValueRange sums = {});

  OpBuilder &b;
  Location loc;
  const ConvProblem &pr;
  /// The target's shape, with the register block fitted to the problem.
  MicroKernelShape shape;
  void fitRegisterBlock(int64_t outWidth);
  /// CO and the number of channel vectors, a multiple of channelBlock; both
  /// may be dynamic. The Values are set at the start of build().
  OpFoldResult channelsOutSize() {
    return tensor::getMixedSize(b, loc, pr.filter, 0);
  }
  OpFoldResult channelBlocksSize();
  OpFoldResult channelBlocksOfr;
  Value channelsOutValue, channelBlocksValue;
  /// With duplicateActivations: the kernel's input collapsed to one
  /// dimension, and its height and width.
  Value flatInput, inputHeight, inputWidth;
  int64_t planesA, planesB, words, channelsOut, kernelH, kernelW;
  int64_t lanes, channelBlocks;
  /// Whether the kernel (and its prologue loops) run on several threads.
  bool threads = false;
  PlaneDecoding decodeA, decodeB;
  /// Nibble lookups (see MicroKernelShape::nibbleLookup) for this problem.
  bool nibbles = false;
  /// Bipolar x bipolar, one plane each: the steps count XOR'ed words, whose
  /// sum S gives each output as W - 2 S, W from the filter alone (see
  /// filterTapTerms). With AND'ed words it is 4 S - 2 (activation bits)
  /// + W': the activations' counts (a prologue pass over the input) and a
  /// per-pixel term in the epilogue go.
  bool xorPairs = false;
  /// Per spatial axis: whether the kernel input keeps only the rows
  /// (columns) a 1-wide window reads, and the stride of the kernel's reads.
  bool subsampled[2] = {false, false};
  int64_t inputStrides[2] = {1, 1};
  Type i64;
  VectorType wordVector, byteVector;
  /// Lane width of the plane-pair sums: 64, or with
  /// MicroKernelShape::narrowAccumulators 8 or 16 when no partial sum can
  /// overflow them; they widen to 64-bit lanes once per output block.
  int64_t accBits = 64;
  /// vectorBits / accBits lanes of i<accBits>.
  VectorType sumVector;
  /// Whether a plane weight is negative (signed operands): sums then widen
  /// with sign extension.
  bool sumsSigned = false;
  /// With narrow sums: the largest magnitude a lane of them can reach.
  int64_t sumLaneMax = 0;
};

} // namespace mlir::bitserial

#endif // LIB_CONVERSION_BITSERIALTOVECTOR_CONVKERNELBUILDER_H
