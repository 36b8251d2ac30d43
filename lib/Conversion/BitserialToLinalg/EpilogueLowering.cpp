//===- EpilogueLowering.cpp - Reference lowering of epilogue ops ----------===//
//
// Lowers bitserial.threshold, requantize and dequantize to elementwise
// linalg.generic ops on plain tensors; a threshold's codes are then packed
// by a bitserial.pack of the result's layout.
//
//===----------------------------------------------------------------------===//

#include "Bitserial/Conversion/BitserialToLinalg/BitserialToLinalg.h"
#include "Bitserial/IR/BitserialOps.h"

using namespace mlir;
using namespace mlir::bitserial;

static Value constantInt(OpBuilder &b, Location loc, Type type, int64_t value) {
  return arith::ConstantOp::create(b, loc, IntegerAttr::get(type, value));
}

/// An empty tensor with the (possibly dynamic) shape of `like`.
static Value createEmptyLike(OpBuilder &b, Location loc, Value like,
                             Type elementType) {
  return tensor::EmptyOp::create(b, loc, tensor::getMixedSizes(b, loc, like),
                                 elementType);
}

/// Indexing maps for (acc-shaped operands..., per-channel operands...) ->
/// acc-shaped result over the accumulator's loops.
static SmallVector<AffineMap> getEpilogueMaps(MLIRContext *ctx, int64_t rank,
                                              unsigned numFull,
                                              unsigned numPerChannel) {
  AffineMap identity = AffineMap::getMultiDimIdentityMap(rank, ctx);
  AffineMap channel =
      AffineMap::get(rank, 0, getAffineDimExpr(rank - 1, ctx), ctx);
  SmallVector<AffineMap> maps(numFull, identity);
  maps.append(numPerChannel, channel);
  maps.push_back(identity);
  return maps;
}

Value mlir::bitserial::buildRequantize(OpBuilder &b, Location loc, Value acc,
                                       Value multiplier, Value shift,
                                       int64_t zeroPoint, int64_t clampMin,
                                       int64_t clampMax, Type resultType) {
  Type i32 = b.getI32Type(), i64 = b.getI64Type();
  auto splat = [&](Type scalarType, int64_t value) -> Value {
    if (auto vectorType = dyn_cast<VectorType>(acc.getType()))
      return arith::ConstantOp::create(
          b, loc,
          DenseElementsAttr::get(vectorType.clone(scalarType),
                                 IntegerAttr::get(scalarType, value)));
    return constantInt(b, loc, scalarType, value);
  };
  auto like = [&](Type scalarType) -> Type {
    if (auto vectorType = dyn_cast<VectorType>(acc.getType()))
      return vectorType.clone(scalarType);
    return scalarType;
  };
  // s = clamp(shift, -31, 30) in i32; left = max(s, 0); right = max(-s, 0).
  Value s = arith::ExtSIOp::create(b, loc, like(i32), shift);
  s = arith::MaxSIOp::create(b, loc, s, splat(i32, -31));
  s = arith::MinSIOp::create(b, loc, s, splat(i32, 30));
  Value zero32 = splat(i32, 0);
  Value left = arith::MaxSIOp::create(b, loc, s, zero32);
  Value right = arith::MaxSIOp::create(
      b, loc, arith::SubIOp::create(b, loc, zero32, s), zero32);
  Value x = arith::ShLIOp::create(b, loc, acc, left);

  // SaturatingRoundingDoublingHighMul(x, multiplier): (product + nudge) /
  // 2^31 rounded toward zero, nudge = 2^30 for product >= 0 and 1 - 2^30
  // below, is floor((product + 2^30) / 2^31) for either sign (for p < 0,
  // ceil((p + 1 - 2^30) / 2^31) = floor((p + 2^30) / 2^31)): one
  // arithmetic shift, no select.
  Value product = arith::MulIOp::create(
      b, loc, arith::ExtSIOp::create(b, loc, like(i64), x),
      arith::ExtSIOp::create(b, loc, like(i64), multiplier));
  Value high64 = arith::ShRSIOp::create(
      b, loc,
      arith::AddIOp::create(b, loc, product, splat(i64, int64_t(1) << 30)),
      splat(i64, 31));
  Value high = arith::TruncIOp::create(b, loc, like(i32), high64);
  Value minInt = splat(i32, INT32_MIN);
  Value overflow = arith::AndIOp::create(
      b, loc,
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, x, minInt),
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, multiplier,
                            minInt));
  high = arith::SelectOp::create(b, loc, overflow, splat(i32, INT32_MAX), high);

  // RoundingDivideByPOT(high, right).
  Value one = splat(i32, 1);
  Value mask = arith::SubIOp::create(
      b, loc, arith::ShLIOp::create(b, loc, one, right), one);
  Value remainder = arith::AndIOp::create(b, loc, high, mask);
  Value negative =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, high, zero32);
  Value threshold = arith::AddIOp::create(
      b, loc, arith::ShRSIOp::create(b, loc, mask, one),
      arith::ExtUIOp::create(b, loc, like(i32), negative));
  Value roundUp = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sgt,
                                        remainder, threshold);
  Value y =
      arith::AddIOp::create(b, loc, arith::ShRSIOp::create(b, loc, high, right),
                            arith::ExtUIOp::create(b, loc, like(i32), roundUp));

  // clamp(y + zero point, min, max) = clamp(y, min - zp, max - zp) + zp:
  // in i32 when both bounds fit (the sum then lies in [min, max]), else in
  // i64 so nothing wraps.
  int64_t lowBound = clampMin - zeroPoint, highBound = clampMax - zeroPoint;
  if (lowBound >= INT32_MIN && highBound <= INT32_MAX) {
    y = arith::MaxSIOp::create(b, loc, y, splat(i32, lowBound));
    y = arith::MinSIOp::create(b, loc, y, splat(i32, highBound));
    y = arith::AddIOp::create(b, loc, y, splat(i32, zeroPoint));
    if (getElementTypeOrSelf(resultType) == i32)
      return y;
    return arith::TruncIOp::create(b, loc, resultType, y);
  }
  Value wide = arith::AddIOp::create(
      b, loc, arith::ExtSIOp::create(b, loc, like(i64), y),
      splat(i64, zeroPoint));
  wide = arith::MaxSIOp::create(b, loc, wide, splat(i64, clampMin));
  wide = arith::MinSIOp::create(b, loc, wide, splat(i64, clampMax));
  return arith::TruncIOp::create(b, loc, resultType, wide);
}

Value mlir::bitserial::buildDequantize(OpBuilder &b, Location loc, Value acc,
                                       Value scale, Value bias) {
  Value value = arith::SIToFPOp::create(b, loc, scale.getType(), acc);
  value = arith::MulFOp::create(b, loc, value, scale);
  return arith::AddFOp::create(b, loc, value, bias);
}

namespace {
struct ThresholdOpLowering : public OpConversionPattern<ThresholdOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(ThresholdOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    PackedLayoutAttr layout = op.getLayout();
    unsigned bits = layout.getBits();
    Value acc = adaptor.getAcc();
    int64_t rank = op.getAcc().getType().getRank();

    // value = offset + step * count, in i16 (8-bit bipolar needs 9 bits).
    int64_t offset = 0, step = 1;
    if (layout.getEncoding() == Encoding::Signed)
      offset = -(int64_t(1) << (bits - 1));
    if (layout.getEncoding() == Encoding::Bipolar) {
      offset = -((int64_t(1) << bits) - 1);
      step = 2;
    }
    Type valueType = rewriter.getI16Type();
    Value init =
        linalg::FillOp::create(rewriter, loc,
                               constantInt(rewriter, loc, valueType, offset),
                               createEmptyLike(rewriter, loc, acc, valueType))
            .getResult(0);

    // Loops (acc..., threshold); the threshold loop reduces.
    unsigned numLoops = rank + 1;
    AffineExpr c = getAffineDimExpr(rank - 1, ctx);
    AffineExpr t = getAffineDimExpr(rank, ctx);
    AffineMap full =
        AffineMap::get(numLoops, 0,
                       llvm::map_to_vector(
                           llvm::seq<int64_t>(rank),
                           [&](int64_t d) { return getAffineDimExpr(d, ctx); }),
                       ctx);
    SmallVector<Value> inputs{acc, adaptor.getThresholds()};
    SmallVector<AffineMap> maps{full, AffineMap::get(numLoops, 0, {c, t}, ctx)};
    if (Value descending = adaptor.getDescending()) {
      inputs.push_back(descending);
      maps.push_back(AffineMap::get(numLoops, 0, c, ctx));
    }
    maps.push_back(full);
    SmallVector<utils::IteratorType> iterators(rank,
                                               utils::IteratorType::parallel);
    iterators.push_back(utils::IteratorType::reduction);
    bool hasDescending = bool(adaptor.getDescending());
    auto generic = linalg::GenericOp::create(
        rewriter, loc, init.getType(), inputs, ValueRange{init}, maps,
        iterators, [&](OpBuilder &b, Location nloc, ValueRange args) {
          Value reached = arith::CmpIOp::create(
              b, nloc, arith::CmpIPredicate::sge, args[0], args[1]);
          if (hasDescending) {
            Value below = arith::CmpIOp::create(
                b, nloc, arith::CmpIPredicate::sle, args[0], args[1]);
            reached = arith::SelectOp::create(b, nloc, args[2], below, reached);
          }
          Value add = arith::SelectOp::create(
              b, nloc, reached, constantInt(b, nloc, valueType, step),
              constantInt(b, nloc, valueType, 0));
          linalg::YieldOp::create(
              b, nloc, Value(arith::AddIOp::create(b, nloc, args.back(), add)));
        });
    Value packed = PackOp::create(rewriter, loc, op.getResult().getType(),
                                  generic.getResult(0));
    rewriter.replaceOp(op, packed);
    return success();
  }
};

/// An elementwise linalg.generic over `acc` reading two per-channel
/// parameters: `body(acc, first, second)` gives each result element.
static Value buildPerChannelGeneric(
    OpBuilder &rewriter, Location loc, Value acc, Value first, Value second,
    RankedTensorType resultType,
    function_ref<Value(OpBuilder &, Location, ValueRange)> body) {
  auto generic = linalg::GenericOp::create(
      rewriter, loc, resultType, ValueRange{acc, first, second},
      ValueRange{
          createEmptyLike(rewriter, loc, acc, resultType.getElementType())},
      getEpilogueMaps(rewriter.getContext(), resultType.getRank(), 1, 2),
      SmallVector<utils::IteratorType>(resultType.getRank(),
                                       utils::IteratorType::parallel),
      [&](OpBuilder &b, Location nloc, ValueRange args) {
        linalg::YieldOp::create(b, nloc, body(b, nloc, args));
      });
  return generic.getResult(0);
}

struct RequantizeOpLowering : public OpConversionPattern<RequantizeOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(RequantizeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    RankedTensorType resultType = op.getResult().getType();
    rewriter.replaceOp(
        op, buildPerChannelGeneric(
                rewriter, op.getLoc(), adaptor.getAcc(),
                adaptor.getMultiplier(), adaptor.getShift(), resultType,
                [&](OpBuilder &b, Location loc, ValueRange args) {
                  return buildRequantize(b, loc, args[0], args[1], args[2],
                                         op.getSignedZeroPoint(),
                                         op.getClampMin(), op.getClampMax(),
                                         resultType.getElementType());
                }));
    return success();
  }
};

struct DequantizeOpLowering : public OpConversionPattern<DequantizeOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(DequantizeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOp(
        op, buildPerChannelGeneric(
                rewriter, op.getLoc(), adaptor.getAcc(), adaptor.getScale(),
                adaptor.getBias(), op.getResult().getType(),
                [](OpBuilder &b, Location loc, ValueRange args) {
                  return buildDequantize(b, loc, args[0], args[1], args[2]);
                }));
    return success();
  }
};
} // namespace

void mlir::bitserial::populateEpilogueToLinalgConversionPatterns(
    const TypeConverter &typeConverter, RewritePatternSet &patterns) {
  patterns.add<ThresholdOpLowering, RequantizeOpLowering, DequantizeOpLowering>(
      typeConverter, patterns.getContext());
}
