//===- RowKernels.cpp - Vector kernels that stream rows -------------------===//
//
// bitserial.pack, and the threshold, requantize and dequantize ops that no
// matmul or convolution fused, over the rows of their innermost axis.
// Packing produces one word of codes at a time: a row's `wordBits` values
// are one vector, and each plane of their codes a vector<wordBits x i1>
// whose bitcast is the plane's word (vpmovb2m / kmov with AVX-512BW,
// pmovmskb with AVX2); the reference lowering reduces every bit separately.
// Requantize and dequantize apply their per-channel arithmetic to vectors of
// a row.
//
//===----------------------------------------------------------------------===//

#include "RowKernels.h"

#include "Bitserial/Conversion/BitserialToLinalg/BitserialToLinalg.h"
#include "Bitserial/IR/BitserialOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Transforms/DialectConversion.h"

using namespace mlir;
using namespace mlir::bitserial;

namespace {
/// An empty tensor with the leading (all but innermost) sizes of `source`,
/// then `trailing`.
Value createLeadingLike(OpBuilder &b, Location loc, Value source,
                        ArrayRef<int64_t> trailing, Type element) {
  auto sourceType = cast<RankedTensorType>(source.getType());
  SmallVector<int64_t> shape(sourceType.getShape().drop_back());
  shape.append(trailing.begin(), trailing.end());
  SmallVector<Value> dynamicSizes;
  for (int64_t d = 0; d + 1 < sourceType.getRank(); ++d)
    if (sourceType.isDynamicDim(d))
      dynamicSizes.push_back(tensor::DimOp::create(b, loc, source, d));
  return tensor::EmptyOp::create(b, loc, RankedTensorType::get(shape, element),
                                 dynamicSizes);
}

/// With `parallel`, row kernels over fewer values than this stay on one
/// thread: below it forking costs more than the threads save (an unfused
/// requantize of 56 x 56 x 64 values takes about 70 us on one Zen 5 core).
constexpr int64_t kMinParallelValues = int64_t(1) << 16;

/// Whether `op`'s row kernel may start threads: with `parallel`, unless it
/// already runs inside parallel loops.
bool mayFork(Operation *op, bool parallel) {
  return parallel && !op->getParentOfType<scf::ForallOp>() &&
         !op->getParentOfType<scf::ParallelOp>();
}

/// Loops over the leading indices of `source` ([..., L]) and `chunks`
/// chunks of its innermost axis, carrying `init`: `body` gets the leading
/// indices to read at, those to write `current` at, the chunk, its first
/// index (chunk * chunkSize) and the tensor so far, and returns the next.
/// With `parallel` (and enough values), an scf.forall over the first one
/// or two leading axes (rows of a matrix; images and rows of NHWC) runs
/// the rest of the loops per iteration on its own slice of `init`; the
/// slice's leading indices are then 0 where the forall's are not. (Loops
/// rather than a collapse to rows: the expand_shape back into several
/// dynamic sizes crashes upstream's expand-strided-metadata.)
Value buildRowLoops(OpBuilder &b, Location loc, Value source, int64_t chunks,
                    int64_t chunkSize, Value init, bool parallel,
                    function_ref<Value(OpBuilder &, Location, ValueRange,
                                       ValueRange, Value, Value, Value)>
                        body) {
  auto sourceType = cast<RankedTensorType>(source.getType());
  int64_t leading = sourceType.getRank() - 1;
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  // Loops over leading axes [from, leading) and the chunks, writing `dest`.
  auto buildNest = [&](OpBuilder &nb, Location at, int64_t from,
                       ValueRange outer, ValueRange outerWrite,
                       Value dest) -> Value {
    SmallVector<Value> lower, upper, steps;
    for (int64_t d = from; d < leading; ++d) {
      lower.push_back(zero);
      upper.push_back(tensor::DimOp::create(nb, at, source, d));
      steps.push_back(one);
    }
    lower.push_back(zero);
    upper.push_back(arith::ConstantIndexOp::create(nb, at, chunks));
    steps.push_back(one);
    scf::LoopNest nest = scf::buildLoopNest(
        nb, at, lower, upper, steps, ValueRange{dest},
        [&](OpBuilder &ib, Location iat, ValueRange ivs,
            ValueRange args) -> scf::ValueVector {
          Value chunk = ivs.back();
          Value first = arith::MulIOp::create(
              ib, iat, chunk,
              arith::ConstantIndexOp::create(ib, iat, chunkSize));
          SmallVector<Value> lead(outer), writeLead(outerWrite);
          ValueRange leadIvs = ivs.drop_back();
          lead.append(leadIvs.begin(), leadIvs.end());
          writeLead.append(leadIvs.begin(), leadIvs.end());
          return {body(ib, iat, lead, writeLead, chunk, first, args[0])};
        });
    return nest.results.front();
  };
  // A static empty extent: no work, and slices at offset 0 of it would not
  // verify.
  auto initType = cast<RankedTensorType>(init.getType());
  bool empty = llvm::is_contained(sourceType.getShape(), 0) ||
               llvm::is_contained(initType.getShape(), 0);
  bool worthThreads =
      !empty && (!sourceType.hasStaticShape() ||
                 sourceType.getNumElements() >= kMinParallelValues);
  if (!parallel || leading == 0 || !worthThreads)
    return buildNest(b, loc, 0, {}, {}, init);

  int64_t split = std::min<int64_t>(leading, leading >= 3 ? 2 : 1);
  SmallVector<OpFoldResult> bounds;
  for (int64_t d = 0; d < split; ++d)
    bounds.push_back(tensor::getMixedSize(b, loc, source, d));
  auto forall =
      scf::ForallOp::create(b, loc, bounds, ValueRange{init}, std::nullopt);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(forall.getBody());
  Value shared = forall.getRegionIterArgs()[0];
  SmallVector<OpFoldResult> offsets, sizes,
      strides(initType.getRank(), b.getIndexAttr(1));
  for (int64_t d = 0; d < initType.getRank(); ++d) {
    bool split_ = d < split;
    offsets.push_back(split_ ? OpFoldResult(forall.getInductionVar(d))
                             : OpFoldResult(b.getIndexAttr(0)));
    sizes.push_back(split_ ? OpFoldResult(b.getIndexAttr(1))
                           : tensor::getMixedSize(b, loc, shared, d));
  }
  Value slice =
      tensor::ExtractSliceOp::create(b, loc, shared, offsets, sizes, strides);
  SmallVector<Value> outer(forall.getInductionVars());
  SmallVector<Value> outerWrite(split, zero);
  Value done = buildNest(b, loc, split, outer, outerWrite, slice);
  b.setInsertionPointToStart(forall.getTerminator().getBody());
  tensor::ParallelInsertSliceOp::create(b, loc, done, shared, offsets, sizes,
                                        strides);
  return forall.getResult(0);
}

/// The loops over the leading indices and the words of a [..., bits, words]
/// result of `wordType` for `source` ([..., L]): `body` gets the leading
/// indices and the offset of the word's first value and returns the word's
/// planes, which the loops store.
Value buildWordLoops(
    OpBuilder &b, Location loc, Value source, int64_t bits, int64_t words,
    IntegerType wordType, bool parallel,
    function_ref<SmallVector<Value>(OpBuilder &, Location, ValueRange, Value)>
        body) {
  // Every word is written: no fill.
  Value empty = createLeadingLike(b, loc, source, {bits, words}, wordType);
  return buildRowLoops(
      b, loc, source, words, wordType.getWidth(), empty, parallel,
      [&](OpBuilder &wb, Location at, ValueRange lead, ValueRange writeLead,
          Value word, Value first, Value result) -> Value {
        SmallVector<Value> planes = body(wb, at, lead, first);
        // Plane q's word at [lead..., q, word]: words of one plane are
        // contiguous, those of a position are not.
        for (int64_t q = 0; q < bits; ++q) {
          SmallVector<Value> at_(writeLead.begin(), writeLead.end());
          at_.push_back(arith::ConstantIndexOp::create(wb, at, q));
          at_.push_back(word);
          result = tensor::InsertOp::create(wb, at, planes[q], result, at_);
        }
        return result;
      });
}

/// The planes of `codes` (a vector of `wordBits` codes) as words: bit l of
/// plane q's word is bit q of lane l. Lanes where `valid` (if given) is
/// false get zero bits.
SmallVector<Value> codePlanes(OpBuilder &b, Location loc, Value codes,
                              int64_t bits, IntegerType wordType, Value valid) {
  auto codesType = cast<VectorType>(codes.getType());
  auto splat = [&](int64_t v) -> Value {
    return arith::ConstantOp::create(
        b, loc,
        DenseElementsAttr::get(
            codesType, b.getIntegerAttr(codesType.getElementType(), v)));
  };
  Value zero = splat(0);
  auto bitsType = VectorType::get({1}, wordType);
  SmallVector<Value> words;
  for (int64_t q = 0; q < bits; ++q) {
    Value bit = arith::AndIOp::create(b, loc, codes, splat(int64_t(1) << q));
    Value set =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, bit, zero);
    if (valid)
      set = arith::AndIOp::create(b, loc, set, valid);
    Value word = vector::ExtractOp::create(
        b, loc, vector::BitCastOp::create(b, loc, bitsType, set),
        ArrayRef<int64_t>{0});
    // InstCombine makes plane 0's test a `trunc <N x i8> to <N x i1>`, and
    // LLVM 22's x86 backend miscompiles its bitcast to a word that becomes
    // lane 0 of a vector with zero lanes (a 1-channel filter's relayout):
    // it takes the low 64 bits of the bytes. An empty asm hides the
    // word's origin from that fold.
    if (q == 0)
      word =
          LLVM::InlineAsmOp::create(
              b, loc, wordType, ValueRange{word}, /*asm_string=*/"",
              /*constraints=*/"=r,0", /*has_side_effects=*/false,
              /*is_align_stack=*/false, LLVM::tailcallkind::TailCallKind::None,
              LLVM::AsmDialectAttr(), ArrayAttr())
              ->getResult(0);
    words.push_back(word);
  }
  return words;
}

struct PackOpVectorLowering : public OpConversionPattern<PackOp> {
  PackOpVectorLowering(const TypeConverter &converter, MLIRContext *ctx,
                       bool parallel)
      : OpConversionPattern<PackOp>(converter, ctx, /*benefit=*/2),
        parallel(parallel) {}
  bool parallel;

  LogicalResult
  matchAndRewrite(PackOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    PackedLayoutAttr layout = op.getLayout();
    RankedTensorType inputType = op.getInput().getType();
    auto resultType = cast<RankedTensorType>(
        getTypeConverter()->convertType(op.getResult().getType()));
    auto elementType = cast<IntegerType>(inputType.getElementType());
    auto wordType = cast<IntegerType>(resultType.getElementType());
    int64_t bits = layout.getBits(), length = layout.getLength();
    int64_t words = resultType.getShape().back();
    int64_t wordBits = wordType.getWidth();
    if (inputType.isDynamicDim(inputType.getRank() - 1))
      return rewriter.notifyMatchFailure(op, "dynamic packed axis");
    bool bipolar = layout.getEncoding() == Encoding::Bipolar;

    // Codes in the input's type, or wider where the bipolar shift
    // (v + 2^bits - 1) / 2 needs a bit more.
    IntegerType codeType = elementType;
    if (bipolar && elementType.getWidth() < unsigned(bits) + 1)
      codeType = rewriter.getIntegerType(bits + 1);
    auto inputVector = VectorType::get({wordBits}, elementType);
    auto codeVector = VectorType::get({wordBits}, codeType);

    Value input = adaptor.getInput();
    // Reads past the length give the value whose code is zero.
    Value padValue = arith::ConstantOp::create(
        rewriter, loc,
        IntegerAttr::get(elementType,
                         bipolar ? getMinValue(bits, Encoding::Bipolar) : 0));
    bool inBounds = length % wordBits == 0;
    Value packed = buildWordLoops(
        rewriter, loc, input, bits, words, wordType, mayFork(op, parallel),
        [&](OpBuilder &b, Location at, ValueRange lead, Value first) {
          SmallVector<Value> indices(lead);
          indices.push_back(first);
          Value values = vector::TransferReadOp::create(
              b, at, inputVector, input, indices, padValue,
              ArrayRef<bool>{inBounds});
          Value codes = values;
          if (codeType != elementType)
            codes = arith::ExtSIOp::create(b, at, codeVector, codes);
          if (bipolar) {
            auto splat = [&](int64_t v) -> Value {
              return arith::ConstantOp::create(
                  b, at,
                  DenseElementsAttr::get(codeVector,
                                         b.getIntegerAttr(codeType, v)));
            };
            // (v + 2^bits - 1) lies in [0, 2^(bits+1) - 2]: unsigned.
            codes = arith::ShRUIOp::create(
                b, at,
                arith::AddIOp::create(b, at, codes,
                                      splat((int64_t(1) << bits) - 1)),
                splat(1));
          }
          return codePlanes(b, at, codes, bits, wordType, Value());
        });
    rewriter.replaceOp(op, packed);
    return success();
  }
};

/// The thresholds as [T, words * wordBits] (channels past C zero), each XORed
/// with its channel's mask, and the masks [words * wordBits]: -1 for a
/// descending channel, 0 otherwise. Then `acc ^ mask >= t ^ mask` is
/// `acc >= t` or, for a descending channel, `acc <= t`. Constants fold now.
std::pair<Value, Value> relayoutThresholds(OpBuilder &b, Location loc,
                                           Value thresholds, Value descending,
                                           int64_t padded) {
  auto thresholdType = cast<RankedTensorType>(thresholds.getType());
  auto accType = cast<IntegerType>(thresholdType.getElementType());
  unsigned width = accType.getWidth();
  int64_t channels = thresholdType.getDimSize(0);
  int64_t count = thresholdType.getDimSize(1);
  auto tableType = RankedTensorType::get({count, padded}, accType);
  auto maskType = RankedTensorType::get({padded}, accType);

  DenseIntElementsAttr thresholdsConstant = getConstantElements(thresholds);
  DenseIntElementsAttr descendingConstant =
      descending ? getConstantElements(descending) : nullptr;
  if (thresholdsConstant && (!descending || descendingConstant)) {
    SmallVector<APInt> source(thresholdsConstant.getValues<APInt>());
    SmallVector<APInt> table(count * padded, APInt(width, 0));
    SmallVector<APInt> masks(padded, APInt(width, 0));
    SmallVector<bool> flags;
    if (descendingConstant)
      flags.assign(descendingConstant.getValues<bool>().begin(),
                   descendingConstant.getValues<bool>().end());
    for (int64_t c = 0; c < channels; ++c) {
      if (!flags.empty() && flags[c])
        masks[c] = APInt::getAllOnes(width);
      for (int64_t i = 0; i < count; ++i)
        table[i * padded + c] = source[c * count + i] ^ masks[c];
    }
    Value masksValue;
    if (descending)
      masksValue = arith::ConstantOp::create(
          b, loc, maskType, DenseIntElementsAttr::get(maskType, masks));
    return {arith::ConstantOp::create(
                b, loc, tableType, DenseIntElementsAttr::get(tableType, table)),
            masksValue};
  }

  // Otherwise generics that read the parameters, once per call.
  MLIRContext *ctx = b.getContext();
  auto zeroOf = [&](OpBuilder &nb, Location at) -> Value {
    return arith::ConstantOp::create(nb, at, IntegerAttr::get(accType, 0));
  };
  auto channelOf = [&](OpBuilder &nb, Location at, Value c) {
    Value inRange =
        arith::CmpIOp::create(nb, at, arith::CmpIPredicate::ult, c,
                              arith::ConstantIndexOp::create(nb, at, channels));
    Value clamped = arith::SelectOp::create(
        nb, at, inRange, c, arith::ConstantIndexOp::create(nb, at, 0));
    return std::make_pair(inRange, clamped);
  };
  auto maskOf = [&](OpBuilder &nb, Location at, Value inRange,
                    Value clamped) -> Value {
    Value flag = tensor::ExtractOp::create(nb, at, descending, clamped);
    Value ones =
        arith::ConstantOp::create(nb, at, IntegerAttr::get(accType, -1));
    return arith::SelectOp::create(nb, at,
                                   arith::AndIOp::create(nb, at, flag, inRange),
                                   ones, zeroOf(nb, at));
  };
  auto indexed =
      [&](RankedTensorType type,
          function_ref<Value(OpBuilder &, Location, ValueRange)> element)
      -> Value {
    int64_t rank = type.getRank();
    Value empty = tensor::EmptyOp::create(b, loc, type.getShape(), accType);
    return linalg::GenericOp::create(
               b, loc, type, ValueRange{}, ValueRange{empty},
               SmallVector<AffineMap>{
                   AffineMap::getMultiDimIdentityMap(rank, ctx)},
               SmallVector<utils::IteratorType>(rank,
                                                utils::IteratorType::parallel),
               [&](OpBuilder &nb, Location at, ValueRange) {
                 SmallVector<Value> idx;
                 for (int64_t d = 0; d < rank; ++d)
                   idx.push_back(linalg::IndexOp::create(nb, at, d));
                 linalg::YieldOp::create(nb, at, element(nb, at, idx));
               })
        .getResult(0);
  };
  Value masks;
  if (descending)
    masks = indexed(maskType, [&](OpBuilder &nb, Location at, ValueRange idx) {
      auto [inRange, clamped] = channelOf(nb, at, idx[0]);
      return maskOf(nb, at, inRange, clamped);
    });
  Value table = indexed(tableType, [&](OpBuilder &nb, Location at,
                                       ValueRange idx) {
    auto [inRange, clamped] = channelOf(nb, at, idx[1]);
    Value t = tensor::ExtractOp::create(nb, at, thresholds,
                                        ValueRange{clamped, idx[0]});
    if (descending)
      t = arith::XOrIOp::create(nb, at, t, maskOf(nb, at, inRange, clamped));
    return arith::SelectOp::create(nb, at, inRange, t, zeroOf(nb, at));
  });
  return {table, masks};
}

struct ThresholdOpVectorLowering : public OpConversionPattern<ThresholdOp> {
  ThresholdOpVectorLowering(const TypeConverter &converter, MLIRContext *ctx,
                            bool parallel)
      : OpConversionPattern<ThresholdOp>(converter, ctx, /*benefit=*/2),
        parallel(parallel) {}
  bool parallel;

  LogicalResult
  matchAndRewrite(ThresholdOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    PackedLayoutAttr layout = op.getLayout();
    RankedTensorType accType = op.getAcc().getType();
    auto thresholdType =
        cast<RankedTensorType>(adaptor.getThresholds().getType());
    auto resultType = cast<RankedTensorType>(
        getTypeConverter()->convertType(op.getResult().getType()));
    auto element = cast<IntegerType>(accType.getElementType());
    auto wordType = cast<IntegerType>(resultType.getElementType());
    int64_t bits = layout.getBits(), channels = layout.getLength();
    int64_t words = resultType.getShape().back();
    int64_t wordBits = wordType.getWidth();
    if (accType.isDynamicDim(accType.getRank() - 1) ||
        !thresholdType.hasStaticShape())
      return rewriter.notifyMatchFailure(op, "dynamic channels");
    int64_t count = thresholdType.getDimSize(1);

    Value table, masks;
    std::tie(table, masks) =
        relayoutThresholds(rewriter, loc, adaptor.getThresholds(),
                           adaptor.getDescending(), words * wordBits);
    auto accVector = VectorType::get({wordBits}, element);
    auto splat = [&](OpBuilder &b, Location at, int64_t v) -> Value {
      return arith::ConstantOp::create(
          b, at,
          DenseElementsAttr::get(accVector, b.getIntegerAttr(element, v)));
    };
    Value acc = adaptor.getAcc();
    Value zero =
        arith::ConstantOp::create(rewriter, loc, IntegerAttr::get(element, 0));
    bool inBounds = channels % wordBits == 0;
    Value packed = buildWordLoops(
        rewriter, loc, acc, bits, words, wordType, mayFork(op, parallel),
        [&](OpBuilder &b, Location at, ValueRange lead, Value first) {
          SmallVector<Value> indices(lead);
          indices.push_back(first);
          Value x = vector::TransferReadOp::create(
              b, at, accVector, acc, indices, zero, ArrayRef<bool>{inBounds});
          if (masks)
            x = arith::XOrIOp::create(
                b, at, x,
                vector::TransferReadOp::create(b, at, accVector, masks,
                                               ValueRange{first}, zero,
                                               ArrayRef<bool>{true}));
          // count - extsi(x >= t) for each threshold t: extsi(true) = -1.
          auto step = [&](OpBuilder &sb, Location sloc, Value i,
                          Value counts) -> Value {
            Value t = vector::TransferReadOp::create(sb, sloc, accVector, table,
                                                     ValueRange{i, first}, zero,
                                                     ArrayRef<bool>{true});
            Value reached = arith::CmpIOp::create(
                sb, sloc, arith::CmpIPredicate::sge, x, t);
            return arith::SubIOp::create(
                sb, sloc, counts,
                arith::ExtSIOp::create(sb, sloc, accVector, reached));
          };
          Value counts = splat(b, at, 0);
          if (count <= 3) {
            for (int64_t i = 0; i < count; ++i)
              counts =
                  step(b, at, arith::ConstantIndexOp::create(b, at, i), counts);
          } else {
            counts = scf::ForOp::create(
                         b, at, arith::ConstantIndexOp::create(b, at, 0),
                         arith::ConstantIndexOp::create(b, at, count),
                         arith::ConstantIndexOp::create(b, at, 1),
                         ValueRange{counts},
                         [&](OpBuilder &lb, Location lloc, Value i,
                             ValueRange args) {
                           scf::YieldOp::create(lb, lloc,
                                                step(lb, lloc, i, args[0]));
                         })
                         .getResult(0);
          }
          // Signed codes: count - 2^(bits-1), i.e. the top bit flipped.
          if (layout.getEncoding() == Encoding::Signed)
            counts = arith::XOrIOp::create(
                b, at, counts, splat(b, at, int64_t(1) << (bits - 1)));
          // Channels past C: zero bits.
          Value valid;
          if (!inBounds) {
            Value left = arith::SubIOp::create(
                b, at, arith::ConstantIndexOp::create(b, at, channels), first);
            valid = vector::CreateMaskOp::create(
                b, at, VectorType::get({wordBits}, b.getI1Type()),
                ValueRange{left});
          }
          return codePlanes(b, at, counts, bits, wordType, valid);
        });
    rewriter.replaceOp(op, packed);
    return success();
  }
};
/// Requantize and dequantize: per row, vectors of `kLanes` accumulators
/// and their channels' parameters through the scalar semantics' arithmetic
/// (buildRequantize, buildDequantize), which works on vectors alike.
template <typename OpTy>
struct PerChannelVectorLowering : public OpConversionPattern<OpTy> {
  /// One 512-bit vector of i32 accumulators; the i64 intermediates of
  /// requantize take two.
  static constexpr int64_t kLanes = 16;

  PerChannelVectorLowering(const TypeConverter &converter, MLIRContext *ctx,
                           bool parallel)
      : OpConversionPattern<OpTy>(converter, ctx, /*benefit=*/2),
        parallel(parallel) {}
  bool parallel;

  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType accType = op.getAcc().getType();
    RankedTensorType resultType = op.getResult().getType();
    int64_t rank = accType.getRank();
    int64_t channels = accType.getDimSize(rank - 1);
    if (ShapedType::isDynamic(channels))
      return rewriter.notifyMatchFailure(op, "dynamic channels");
    Type resultElement = resultType.getElementType();
    SmallVector<Value> params;
    if constexpr (std::is_same_v<OpTy, RequantizeOp>)
      params = {adaptor.getMultiplier(), adaptor.getShift()};
    else
      params = {adaptor.getScale(), adaptor.getBias()};

    Value acc = adaptor.getAcc();
    Value empty =
        createLeadingLike(rewriter, loc, acc, {channels}, resultElement);
    bool inBounds = channels % kLanes == 0;
    auto readVector = [&](OpBuilder &b, Location at, Value source,
                          ValueRange indices) -> Value {
      Type element = getElementTypeOrSelf(source.getType());
      return vector::TransferReadOp::create(
          b, at, VectorType::get({kLanes}, element), source, indices,
          arith::ConstantOp::create(b, at, b.getZeroAttr(element)),
          ArrayRef<bool>{inBounds});
    };
    Value result = buildRowLoops(
        rewriter, loc, acc, llvm::divideCeil(channels, kLanes), kLanes, empty,
        mayFork(op, parallel),
        [&](OpBuilder &b, Location at, ValueRange lead, ValueRange writeLead,
            Value, Value first, Value current) -> Value {
          SmallVector<Value> indices(lead);
          indices.push_back(first);
          Value x = readVector(b, at, acc, indices);
          Value p0 = readVector(b, at, params[0], ValueRange{first});
          Value p1 = readVector(b, at, params[1], ValueRange{first});
          Value value;
          if constexpr (std::is_same_v<OpTy, RequantizeOp>)
            value = buildRequantize(b, at, x, p0, p1, op.getSignedZeroPoint(),
                                    op.getClampMin(), op.getClampMax(),
                                    VectorType::get({kLanes}, resultElement));
          else
            value = buildDequantize(b, at, x, p0, p1);
          SmallVector<Value> writeIndices(writeLead);
          writeIndices.push_back(first);
          return vector::TransferWriteOp::create(b, at, value, current,
                                                 writeIndices,
                                                 ArrayRef<bool>{inBounds})
              .getResult();
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};
} // namespace

void mlir::bitserial::populateRowKernelPatterns(
    const TypeConverter &typeConverter, RewritePatternSet &patterns,
    bool parallel) {
  patterns.add<PackOpVectorLowering, ThresholdOpVectorLowering,
               PerChannelVectorLowering<RequantizeOp>,
               PerChannelVectorLowering<DequantizeOp>>(
      typeConverter, patterns.getContext(), parallel);
}
