//===- BitserialToLinalg.cpp - Reference lowering of bitserial ops --------===//
//
// Lowers bitserial ops to linalg.generic on plain tensors of words. Every
// plane pair (i, j) of a dot product contributes, per word w,
//
//   c_i d_j (aA aB pc(A_i & B_j) + aA bB pc(A_i) + bA aB pc(B_j))
//
// plus c_i d_j bA bB K once per output (or once per valid tap of a conv),
// where an encoding decodes a plane bit b as a b + b' (unsigned and signed:
// a = 1, b' = 0; bipolar: a = 2, b' = -1) and c_i is the plane weight 2^i
// (negated for the top plane of a signed operand). Everything is summed in
// i64 and truncated to the result type once.
//
//===----------------------------------------------------------------------===//

#include "Bitserial/Conversion/BitserialToLinalg/BitserialToLinalg.h"
#include "Bitserial/IR/BitserialOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "mlir/Transforms/DialectConversion.h"

namespace mlir::bitserial {
#define GEN_PASS_DEF_CONVERTBITSERIALTOLINALG
#include "Bitserial/Conversion/Passes.h.inc"
} // namespace mlir::bitserial

using namespace mlir;
using namespace mlir::bitserial;

//===----------------------------------------------------------------------===//
// Type conversion
//===----------------------------------------------------------------------===//

PackedTensorTypeConverter::PackedTensorTypeConverter() {
  addConversion([](Type type) { return type; });
  addConversion([](RankedTensorType type) -> Type {
    if (isa_and_nonnull<PackedLayoutAttr>(type.getEncoding()))
      return RankedTensorType::get(type.getShape(), type.getElementType());
    return type;
  });
  auto materialize = [](OpBuilder &builder, Type type, ValueRange inputs,
                        Location loc) -> Value {
    return UnrealizedConversionCastOp::create(builder, loc, type, inputs)
        .getResult(0);
  };
  addSourceMaterialization(materialize);
  addTargetMaterialization(materialize);
}

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

static Value constantI64(OpBuilder &b, Location loc, int64_t value) {
  return arith::ConstantIntOp::create(b, loc, b.getI64Type(), value);
}

static Value constantIndex(OpBuilder &b, Location loc, int64_t value) {
  return arith::ConstantIndexOp::create(b, loc, value);
}

/// Sign-extends or truncates an integer `value` to `type`.
static Value castInteger(OpBuilder &b, Location loc, Value value, Type type) {
  unsigned from = value.getType().getIntOrFloatBitWidth();
  unsigned to = type.getIntOrFloatBitWidth();
  if (from < to)
    return arith::ExtSIOp::create(b, loc, type, value);
  if (from > to)
    return arith::TruncIOp::create(b, loc, type, value);
  return value;
}

/// A tensor.empty of `type` whose dynamic sizes are those of `sizes`.
static Value createEmpty(OpBuilder &b, Location loc,
                         ArrayRef<OpFoldResult> sizes, Type elementType) {
  return tensor::EmptyOp::create(b, loc, sizes, elementType);
}

static Value createZeroFilled(OpBuilder &b, Location loc,
                              ArrayRef<OpFoldResult> sizes, Type elementType) {
  Value empty = createEmpty(b, loc, sizes, elementType);
  Value zero = arith::ConstantOp::create(b, loc, b.getZeroAttr(elementType));
  return linalg::FillOp::create(b, loc, zero, empty).getResult(0);
}

Value mlir::bitserial::buildPlaneWeight(OpBuilder &b, Location loc,
                                        Value plane, PackedLayoutAttr layout) {
  Value planeI64 = arith::IndexCastOp::create(b, loc, b.getI64Type(), plane);
  Value weight =
      arith::ShLIOp::create(b, loc, constantI64(b, loc, 1), planeI64);
  if (layout.getEncoding() != Encoding::Signed)
    return weight;
  Value isTop = arith::CmpIOp::create(
      b, loc, arith::CmpIPredicate::eq, plane,
      constantIndex(b, loc, layout.getBits() - 1));
  Value negated =
      arith::SubIOp::create(b, loc, constantI64(b, loc, 0), weight);
  return arith::SelectOp::create(b, loc, isTop, negated, weight);
}

static Value buildPopcountI64(OpBuilder &b, Location loc, Value word) {
  Value count = math::CtPopOp::create(b, loc, word);
  if (count.getType().getIntOrFloatBitWidth() < 64)
    return arith::ExtUIOp::create(b, loc, b.getI64Type(), count);
  return count;
}

/// The contribution of one word of one plane pair to a dot product, in i64.
/// `valid` (i64 0 or 1, or null for always) masks the terms that do not
/// vanish on zero bits of `lhsWord`: those of a conv's padded taps.
static Value buildPlanePairTerm(OpBuilder &b, Location loc, Value lhsWord,
                                Value rhsWord, Value lhsPlane, Value rhsPlane,
                                Value word, PackedLayoutAttr lhs,
                                PackedLayoutAttr rhs, Value valid) {
  PlaneDecoding a = getPlaneDecoding(lhs.getEncoding());
  PlaneDecoding c = getPlaneDecoding(rhs.getEncoding());
  Value weight = arith::MulIOp::create(
      b, loc, buildPlaneWeight(b, loc, lhsPlane, lhs),
      buildPlaneWeight(b, loc, rhsPlane, rhs));

  auto scaled = [&](Value count, int64_t factor) -> Value {
    return arith::MulIOp::create(b, loc, count,
                                 constantI64(b, loc, factor));
  };
  Value both = buildPopcountI64(
      b, loc, arith::AndIOp::create(b, loc, lhsWord, rhsWord));
  Value sum = scaled(both, a.scale * c.scale);
  if (c.offset != 0)
    sum = arith::AddIOp::create(
        b, loc, sum,
        scaled(buildPopcountI64(b, loc, lhsWord), a.scale * c.offset));
  if (a.offset != 0) {
    Value masked =
        scaled(buildPopcountI64(b, loc, rhsWord), a.offset * c.scale);
    if (c.offset != 0) {
      // The constant K term, counted once per plane pair (on word 0).
      Value isFirst = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                            word, constantIndex(b, loc, 0));
      Value constant = arith::SelectOp::create(
          b, loc, isFirst,
          constantI64(b, loc, a.offset * c.offset * lhs.getLength()),
          constantI64(b, loc, 0));
      masked = arith::AddIOp::create(b, loc, masked, constant);
    }
    if (valid)
      masked = arith::MulIOp::create(b, loc, masked, valid);
    sum = arith::AddIOp::create(b, loc, sum, masked);
  }
  return arith::MulIOp::create(b, loc, sum, weight);
}

/// result = init + truncate(sum), elementwise.
static Value buildAccumulate(OpBuilder &b, Location loc, Value sum,
                             Value init) {
  auto initType = cast<RankedTensorType>(init.getType());
  int64_t rank = initType.getRank();
  SmallVector<AffineMap> maps(2, b.getMultiDimIdentityMap(rank));
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  auto generic = linalg::GenericOp::create(
      b, loc, initType, ValueRange{sum}, ValueRange{init}, maps, iterators,
      [&](OpBuilder &nb, Location nloc, ValueRange args) {
        Value total = castInteger(nb, nloc, args[0], args[1].getType());
        linalg::YieldOp::create(
            nb, nloc, Value(arith::AddIOp::create(nb, nloc, total, args[1])));
      });
  return generic.getResult(0);
}

//===----------------------------------------------------------------------===//
// PackOp
//===----------------------------------------------------------------------===//

namespace {
struct PackOpLowering : public OpConversionPattern<PackOp> {
  using OpConversionPattern::OpConversionPattern;

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
    unsigned wordBits = wordType.getWidth(), bits = layout.getBits();
    int64_t rank = inputType.getRank(), lead = rank - 1;
    int64_t numWords = resultType.getShape().back();
    bool bipolar = layout.getEncoding() == Encoding::Bipolar;

    // Pad the packed axis to whole words with a value whose planes are zero.
    Value input = adaptor.getInput();
    int64_t paddedLength = numWords * wordBits;
    if (paddedLength != layout.getLength()) {
      SmallVector<OpFoldResult> low(rank, rewriter.getIndexAttr(0));
      SmallVector<OpFoldResult> high = low;
      high.back() = rewriter.getIndexAttr(paddedLength - layout.getLength());
      SmallVector<int64_t> paddedShape(inputType.getShape());
      paddedShape.back() = paddedLength;
      Value padValue = arith::ConstantOp::create(
          rewriter, loc,
          IntegerAttr::get(elementType,
                           bipolar ? getMinValue(bits, Encoding::Bipolar)
                                   : 0));
      input = tensor::PadOp::create(
          rewriter, loc, RankedTensorType::get(paddedShape, elementType),
          input, low, high, padValue);
    }

    SmallVector<OpFoldResult> sizes =
        tensor::getMixedSizes(rewriter, loc, adaptor.getInput());
    sizes.back() = rewriter.getIndexAttr(bits);
    sizes.push_back(rewriter.getIndexAttr(numWords));
    Value init = createZeroFilled(rewriter, loc, sizes, wordType);

    // View the padded axis as [words, bits-in-word].
    SmallVector<ReassociationIndices> reassociation;
    for (int64_t d = 0; d < lead; ++d)
      reassociation.push_back({d});
    reassociation.push_back({lead, lead + 1});
    SmallVector<OpFoldResult> expandedSizes =
        tensor::getMixedSizes(rewriter, loc, input);
    expandedSizes.back() = rewriter.getIndexAttr(numWords);
    expandedSizes.push_back(rewriter.getIndexAttr(wordBits));
    SmallVector<int64_t> expandedShape(inputType.getShape());
    expandedShape.back() = numWords;
    expandedShape.push_back(wordBits);
    input = tensor::ExpandShapeOp::create(
        rewriter, loc, RankedTensorType::get(expandedShape, elementType), input,
        reassociation, expandedSizes);

    // Loops: (leading..., plane, word, bit); the bit loop reduces into words.
    MLIRContext *ctx = rewriter.getContext();
    unsigned numLoops = lead + 3;
    SmallVector<AffineExpr> inputExprs, outputExprs;
    for (int64_t d = 0; d < lead; ++d) {
      inputExprs.push_back(getAffineDimExpr(d, ctx));
      outputExprs.push_back(getAffineDimExpr(d, ctx));
    }
    inputExprs.push_back(getAffineDimExpr(lead + 1, ctx));
    inputExprs.push_back(getAffineDimExpr(lead + 2, ctx));
    outputExprs.push_back(getAffineDimExpr(lead, ctx));
    outputExprs.push_back(getAffineDimExpr(lead + 1, ctx));
    SmallVector<AffineMap> maps{
        AffineMap::get(numLoops, 0, inputExprs, ctx),
        AffineMap::get(numLoops, 0, outputExprs, ctx)};
    SmallVector<utils::IteratorType> iterators(numLoops - 1,
                                               utils::IteratorType::parallel);
    iterators.push_back(utils::IteratorType::reduction);

    auto generic = linalg::GenericOp::create(
        rewriter, loc, resultType, ValueRange{input}, ValueRange{init}, maps,
        iterators, [&](OpBuilder &b, Location nloc, ValueRange args) {
          Value value = args[0];
          if (bipolar) {
            // v = 2u - (2^n - 1)  =>  u = (v + 2^n - 1) / 2; the sum may
            // wrap in the element type, but its bits 1..n are still exact.
            Value bias = arith::ConstantOp::create(
                b, nloc, IntegerAttr::get(elementType, (1 << bits) - 1));
            Value one =
                arith::ConstantOp::create(b, nloc, IntegerAttr::get(elementType, 1));
            value = arith::ShRUIOp::create(
                b, nloc, arith::AddIOp::create(b, nloc, value, bias), one);
          }
          Value plane = arith::IndexCastOp::create(
              b, nloc, elementType, linalg::IndexOp::create(b, nloc, lead));
          Value one =
              arith::ConstantOp::create(b, nloc, IntegerAttr::get(elementType, 1));
          Value bit = arith::AndIOp::create(
              b, nloc, arith::ShRUIOp::create(b, nloc, value, plane), one);
          if (elementType.getWidth() < wordBits)
            bit = arith::ExtUIOp::create(b, nloc, wordType, bit);
          else if (elementType.getWidth() > wordBits)
            bit = arith::TruncIOp::create(b, nloc, wordType, bit);
          Value position = arith::IndexCastOp::create(
              b, nloc, wordType, linalg::IndexOp::create(b, nloc, lead + 2));
          Value shifted = arith::ShLIOp::create(b, nloc, bit, position);
          linalg::YieldOp::create(
              b, nloc, Value(arith::OrIOp::create(b, nloc, args[1], shifted)));
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }
};

//===----------------------------------------------------------------------===//
// UnpackOp
//===----------------------------------------------------------------------===//

struct UnpackOpLowering : public OpConversionPattern<UnpackOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(UnpackOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    PackedLayoutAttr layout = op.getLayout();
    RankedTensorType resultType = op.getResult().getType();
    Value packed = adaptor.getInput();
    auto packedType = cast<RankedTensorType>(packed.getType());
    auto wordType = cast<IntegerType>(packedType.getElementType());
    unsigned wordBits = wordType.getWidth(), bits = layout.getBits();
    int64_t rank = resultType.getRank(), lead = rank - 1;

    SmallVector<OpFoldResult> sizes =
        tensor::getMixedSizes(rewriter, loc, packed);
    sizes.pop_back();
    sizes.back() = rewriter.getIndexAttr(layout.getLength());
    Value init = createEmpty(rewriter, loc, sizes, resultType.getElementType());

    SmallVector<AffineMap> maps{rewriter.getMultiDimIdentityMap(rank)};
    SmallVector<utils::IteratorType> iterators(rank,
                                               utils::IteratorType::parallel);
    auto generic = linalg::GenericOp::create(
        rewriter, loc, resultType, ValueRange{}, ValueRange{init}, maps,
        iterators, [&](OpBuilder &b, Location nloc, ValueRange args) {
          SmallVector<Value> indices;
          for (int64_t d = 0; d < lead; ++d)
            indices.push_back(linalg::IndexOp::create(b, nloc, d));
          Value k = linalg::IndexOp::create(b, nloc, lead);
          Value wordBitsIndex = constantIndex(b, nloc, wordBits);
          Value wordIndex = arith::DivUIOp::create(b, nloc, k, wordBitsIndex);
          Value position = arith::IndexCastOp::create(
              b, nloc, wordType,
              arith::RemUIOp::create(b, nloc, k, wordBitsIndex));
          Value one = arith::ConstantOp::create(b, nloc,
                                                IntegerAttr::get(wordType, 1));
          // planes = sum_p bit_p << p, as an unsigned integer.
          Value planes = constantI64(b, nloc, 0);
          for (unsigned p = 0; p < bits; ++p) {
            SmallVector<Value> at(indices);
            at.push_back(constantIndex(b, nloc, p));
            at.push_back(wordIndex);
            Value word = tensor::ExtractOp::create(b, nloc, packed, at);
            Value bit = arith::AndIOp::create(
                b, nloc, arith::ShRUIOp::create(b, nloc, word, position), one);
            if (wordBits < 64)
              bit = arith::ExtUIOp::create(b, nloc, b.getI64Type(), bit);
            planes = arith::OrIOp::create(
                b, nloc, planes,
                arith::ShLIOp::create(b, nloc, bit, constantI64(b, nloc, p)));
          }
          Value value = planes;
          switch (layout.getEncoding()) {
          case Encoding::Unsigned:
            break;
          case Encoding::Signed: {
            // Sign-extend from `bits` bits.
            Value shift = constantI64(b, nloc, 64 - bits);
            value = arith::ShRSIOp::create(
                b, nloc, arith::ShLIOp::create(b, nloc, planes, shift), shift);
            break;
          }
          case Encoding::Bipolar:
            value = arith::SubIOp::create(
                b, nloc,
                arith::ShLIOp::create(b, nloc, planes, constantI64(b, nloc, 1)),
                constantI64(b, nloc, (int64_t(1) << bits) - 1));
            break;
          }
          linalg::YieldOp::create(
              b, nloc, castInteger(b, nloc, value, args[0].getType()));
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }
};

//===----------------------------------------------------------------------===//
// MatmulOp
//===----------------------------------------------------------------------===//

struct MatmulOpLowering : public OpConversionPattern<MatmulOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(MatmulOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    PackedLayoutAttr lhsLayout = op.getLhsLayout();
    PackedLayoutAttr rhsLayout = op.getRhsLayout();
    Value lhs = adaptor.getLhs(), rhs = adaptor.getRhs();
    Value init = adaptor.getInit();
    bool batched = op.isBatched();

    // Loops: ([batch,] m, n, i, j, w); i, j are planes, w words.
    unsigned first = batched ? 1 : 0, numLoops = first + 5;
    AffineExpr m = getAffineDimExpr(first, ctx);
    AffineExpr n = getAffineDimExpr(first + 1, ctx);
    AffineExpr i = getAffineDimExpr(first + 2, ctx);
    AffineExpr j = getAffineDimExpr(first + 3, ctx);
    AffineExpr w = getAffineDimExpr(first + 4, ctx);
    auto operandMap = [&](Value operand, AffineExpr row, AffineExpr plane) {
      SmallVector<AffineExpr> exprs;
      if (cast<RankedTensorType>(operand.getType()).getRank() == 4)
        exprs.push_back(getAffineDimExpr(0, ctx));
      exprs.append({row, plane, w});
      return AffineMap::get(numLoops, 0, exprs, ctx);
    };
    SmallVector<AffineExpr> outExprs;
    if (batched)
      outExprs.push_back(getAffineDimExpr(0, ctx));
    outExprs.append({m, n});
    SmallVector<AffineMap> maps{operandMap(lhs, m, i), operandMap(rhs, n, j),
                                AffineMap::get(numLoops, 0, outExprs, ctx)};
    SmallVector<utils::IteratorType> iterators(first + 2,
                                               utils::IteratorType::parallel);
    iterators.append(3, utils::IteratorType::reduction);

    SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(rewriter, loc, init);
    Value sum = createZeroFilled(rewriter, loc, sizes, rewriter.getI64Type());
    auto generic = linalg::GenericOp::create(
        rewriter, loc, sum.getType(), ValueRange{lhs, rhs}, ValueRange{sum},
        maps, iterators, [&](OpBuilder &b, Location nloc, ValueRange args) {
          Value term = buildPlanePairTerm(
              b, nloc, args[0], args[1],
              linalg::IndexOp::create(b, nloc, first + 2),
              linalg::IndexOp::create(b, nloc, first + 3),
              linalg::IndexOp::create(b, nloc, first + 4), lhsLayout,
              rhsLayout, /*valid=*/nullptr);
          linalg::YieldOp::create(
              b, nloc, Value(arith::AddIOp::create(b, nloc, args[2], term)));
        });
    rewriter.replaceOp(op,
                       buildAccumulate(rewriter, loc, generic.getResult(0), init));
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Conv2DOp
//===----------------------------------------------------------------------===//

struct Conv2DOpLowering : public OpConversionPattern<Conv2DOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(Conv2DOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    PackedLayoutAttr inputLayout = op.getInputLayout();
    PackedLayoutAttr filterLayout = op.getFilterLayout();
    Value input = adaptor.getInput(), filter = adaptor.getFilter();
    Value init = adaptor.getInit();
    ArrayRef<int64_t> strides = op.getStrides(), dilations = op.getDilations();
    ArrayRef<int64_t> padding = op.getPadding();
    auto inputType = cast<RankedTensorType>(input.getType());

    // Zero words decode to 0 for AND-based terms; the bipolar terms of the
    // input are masked by `valid` below.
    Value height = tensor::DimOp::create(rewriter, loc, input, 1);
    Value width = tensor::DimOp::create(rewriter, loc, input, 2);
    Value padded = input;
    if (llvm::any_of(padding, [](int64_t p) { return p != 0; })) {
      SmallVector<OpFoldResult> low(5, rewriter.getIndexAttr(0));
      SmallVector<OpFoldResult> high = low;
      low[1] = rewriter.getIndexAttr(padding[0]);
      high[1] = rewriter.getIndexAttr(padding[1]);
      low[2] = rewriter.getIndexAttr(padding[2]);
      high[2] = rewriter.getIndexAttr(padding[3]);
      SmallVector<int64_t> shape(inputType.getShape());
      for (int axis = 0; axis < 2; ++axis)
        if (!ShapedType::isDynamic(shape[axis + 1]))
          shape[axis + 1] += padding[2 * axis] + padding[2 * axis + 1];
      Value zero = arith::ConstantOp::create(
          rewriter, loc, rewriter.getZeroAttr(inputType.getElementType()));
      padded = tensor::PadOp::create(
          rewriter, loc,
          RankedTensorType::get(shape, inputType.getElementType()), input, low,
          high, zero);
    }

    // Loops: (n, oh, ow, co, kh, kw, i, j, w).
    AffineExpr d[9];
    for (unsigned k = 0; k < 9; ++k)
      d[k] = getAffineDimExpr(k, ctx);
    SmallVector<AffineMap> maps{
        AffineMap::get(9, 0,
                       {d[0], d[1] * strides[0] + d[4] * dilations[0],
                        d[2] * strides[1] + d[5] * dilations[1], d[6], d[8]},
                       ctx),
        AffineMap::get(9, 0, {d[3], d[4], d[5], d[7], d[8]}, ctx),
        AffineMap::get(9, 0, {d[0], d[1], d[2], d[3]}, ctx)};
    SmallVector<utils::IteratorType> iterators(4,
                                               utils::IteratorType::parallel);
    iterators.append(5, utils::IteratorType::reduction);

    bool needsValid = inputLayout.getEncoding() == Encoding::Bipolar &&
                      llvm::any_of(padding, [](int64_t p) { return p != 0; });
    SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(rewriter, loc, init);
    Value sum = createZeroFilled(rewriter, loc, sizes, rewriter.getI64Type());
    auto generic = linalg::GenericOp::create(
        rewriter, loc, sum.getType(), ValueRange{padded, filter},
        ValueRange{sum}, maps, iterators,
        [&](OpBuilder &b, Location nloc, ValueRange args) {
          Value valid;
          if (needsValid) {
            // Is input row oh * s + kh * d - pad inside [0, extent)?
            auto inside = [&](unsigned outDim, unsigned kernelDim,
                              unsigned axis, Value extent) -> Value {
              Value out = linalg::IndexOp::create(b, nloc, outDim);
              Value tap = linalg::IndexOp::create(b, nloc, kernelDim);
              Value pos = arith::AddIOp::create(
                  b, nloc,
                  arith::MulIOp::create(b, nloc, out,
                                        constantIndex(b, nloc, strides[axis])),
                  arith::MulIOp::create(
                      b, nloc, tap, constantIndex(b, nloc, dilations[axis])));
              Value before = constantIndex(b, nloc, padding[2 * axis]);
              Value end = arith::AddIOp::create(b, nloc, extent, before);
              Value lowOk = arith::CmpIOp::create(
                  b, nloc, arith::CmpIPredicate::uge, pos, before);
              Value highOk = arith::CmpIOp::create(
                  b, nloc, arith::CmpIPredicate::ult, pos, end);
              return arith::AndIOp::create(b, nloc, lowOk, highOk);
            };
            Value ok = arith::AndIOp::create(b, nloc,
                                             inside(1, 4, 0, height),
                                             inside(2, 5, 1, width));
            valid = arith::ExtUIOp::create(b, nloc, b.getI64Type(), ok);
          }
          Value term = buildPlanePairTerm(
              b, nloc, args[0], args[1], linalg::IndexOp::create(b, nloc, 6),
              linalg::IndexOp::create(b, nloc, 7),
              linalg::IndexOp::create(b, nloc, 8), inputLayout, filterLayout,
              valid);
          linalg::YieldOp::create(
              b, nloc, Value(arith::AddIOp::create(b, nloc, args[2], term)));
        });
    rewriter.replaceOp(op,
                       buildAccumulate(rewriter, loc, generic.getResult(0), init));
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Other ops carrying packed types (slices, constants, loops, calls)
//===----------------------------------------------------------------------===//

/// Rebuilds any non-bitserial, non-function op with converted types.
struct ConvertPackedTypesOfAnyOp : public ConversionPattern {
  ConvertPackedTypesOfAnyOp(const TypeConverter &converter, MLIRContext *ctx)
      : ConversionPattern(converter, MatchAnyOpTypeTag(), /*benefit=*/0, ctx) {}

  LogicalResult
  matchAndRewrite(Operation *op, ArrayRef<Value> operands,
                  ConversionPatternRewriter &rewriter) const override {
    if (isa<FunctionOpInterface>(op) ||
        isa_and_nonnull<BitserialDialect>(op->getDialect()))
      return failure();
    SmallVector<Type> resultTypes;
    if (failed(getTypeConverter()->convertTypes(op->getResultTypes(),
                                                resultTypes)))
      return failure();
    NamedAttrList attributes;
    for (NamedAttribute attr : op->getAttrs()) {
      auto typed = dyn_cast<TypedAttr>(attr.getValue());
      auto dense = dyn_cast<DenseElementsAttr>(attr.getValue());
      if (typed && getPackedLayout(typed.getType()) && !dense)
        return rewriter.notifyMatchFailure(
            op, "only dense packed constants can drop their encoding");
      if (dense && getPackedLayout(dense.getType())) {
        auto plainType = cast<ShapedType>(
            getTypeConverter()->convertType(dense.getType()));
        attributes.append(attr.getName(), dense.reshape(plainType));
        continue;
      }
      attributes.push_back(attr);
    }
    OperationState state(op->getLoc(), op->getName(), operands, resultTypes,
                         attributes, op->getSuccessors());
    for (Region &region : op->getRegions()) {
      Region *newRegion = state.addRegion();
      rewriter.inlineRegionBefore(region, *newRegion, newRegion->end());
      if (failed(rewriter.convertRegionTypes(newRegion, *getTypeConverter())))
        return failure();
    }
    rewriter.replaceOp(op, rewriter.create(state)->getResults());
    return success();
  }
};

/// Converts a function's type and the argument types of all its blocks:
/// packed values may also flow into blocks other than the entry block
/// (`cf.br`), which the upstream signature pattern leaves alone.
struct ConvertFunctionTypes
    : public OpInterfaceConversionPattern<FunctionOpInterface> {
  using OpInterfaceConversionPattern::OpInterfaceConversionPattern;

  LogicalResult
  matchAndRewrite(FunctionOpInterface func, ArrayRef<Value> operands,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = dyn_cast<FunctionType>(func.getFunctionType());
    if (!type)
      return failure();
    TypeConverter::SignatureConversion signature(type.getNumInputs());
    for (auto [index, input] : llvm::enumerate(type.getInputs()))
      if (failed(
              getTypeConverter()->convertSignatureArg(index, input, signature)))
        return failure();
    SmallVector<Type> results;
    if (failed(getTypeConverter()->convertTypes(type.getResults(), results)))
      return failure();
    if (!func.isExternal() &&
        failed(rewriter.convertRegionTypes(&func.getFunctionBody(),
                                           *getTypeConverter(), &signature)))
      return failure();
    rewriter.modifyOpInPlace(func, [&] {
      func.setType(FunctionType::get(func.getContext(),
                                     signature.getConvertedTypes(), results));
    });
    return success();
  }
};
} // namespace

void mlir::bitserial::populateBitserialToLinalgConversionPatterns(
    const TypeConverter &typeConverter, RewritePatternSet &patterns) {
  patterns.add<PackOpLowering, UnpackOpLowering, MatmulOpLowering,
               Conv2DOpLowering>(typeConverter, patterns.getContext());
  populateEpilogueToLinalgConversionPatterns(typeConverter, patterns);
}

//===----------------------------------------------------------------------===//
// Pass
//===----------------------------------------------------------------------===//

static bool hasLegalTypes(const TypeConverter &converter, Operation *op) {
  if (auto function = dyn_cast<FunctionOpInterface>(op)) {
    if (!converter.isLegal(function.getArgumentTypes()) ||
        !converter.isLegal(function.getResultTypes()))
      return false;
  } else if (!converter.isLegal(op)) {
    return false;
  }
  for (NamedAttribute attr : op->getAttrs())
    if (auto typed = dyn_cast<TypedAttr>(attr.getValue()))
      if (getPackedLayout(typed.getType()))
        return false;
  return llvm::all_of(op->getRegions(), [&](Region &region) {
    return converter.isLegal(&region);
  });
}

LogicalResult
mlir::bitserial::applyBitserialConversion(Operation *root,
                                          RewritePatternSet &&patterns) {
  MLIRContext *ctx = root->getContext();
  PackedTensorTypeConverter converter;
  ConversionTarget target(*ctx);
  target.addIllegalDialect<BitserialDialect>();
  target.markUnknownOpDynamicallyLegal(
      [&](Operation *op) { return hasLegalTypes(converter, op); });

  // The reference patterns lower what the given patterns leave alone.
  populateBitserialToLinalgConversionPatterns(converter, patterns);
  patterns.add<ConvertFunctionTypes, ConvertPackedTypesOfAnyOp>(converter, ctx);
  return applyFullConversion(root, target, std::move(patterns));
}

namespace {
struct ConvertBitserialToLinalgPass
    : public bitserial::impl::ConvertBitserialToLinalgBase<
          ConvertBitserialToLinalgPass> {
  void runOnOperation() override {
    if (failed(applyBitserialConversion(getOperation(),
                                        RewritePatternSet(&getContext()))))
      signalPassFailure();
  }
};
} // namespace
