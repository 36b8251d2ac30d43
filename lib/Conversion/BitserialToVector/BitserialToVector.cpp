//===- BitserialToVector.cpp - Vector micro-kernels for bitserial ---------===//
//
// The conversion patterns and pass around ConvKernelBuilder, and the
// micro-kernel shapes of the targets we know.
//
//===----------------------------------------------------------------------===//

#include "Bitserial/Conversion/BitserialToVector/BitserialToVector.h"
#include "Bitserial/Conversion/BitserialToLinalg/BitserialToLinalg.h"
#include "Bitserial/IR/BitserialOps.h"
#include "ConvKernelBuilder.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"

namespace mlir::bitserial {
#define GEN_PASS_DEF_CONVERTBITSERIALTOVECTOR
#include "Bitserial/Conversion/Passes.h.inc"
} // namespace mlir::bitserial

using namespace mlir;
using namespace mlir::bitserial;

// The generic target assumes a small core (Cortex-A53 class, 512 KiB shared
// L2).
MicroKernelShape mlir::bitserial::getGenericKernelShape() {
  MicroKernelShape shape;
  shape.vectorBits = 128;
  shape.cacheBytes = 512 << 10;
  return shape;
}

std::optional<LaneGroupSum>
mlir::bitserial::matchLaneGroupSum(vector::MultiDimReductionOp op) {
  if (op.getKind() != vector::CombiningKind::ADD ||
      op.getReductionDims() != ArrayRef<int64_t>{1})
    return std::nullopt;
  Operation *extend = op.getSource().getDefiningOp();
  if (!extend || !isa<arith::ExtUIOp, arith::ExtSIOp>(extend))
    return std::nullopt;
  auto shapeCast = extend->getOperand(0).getDefiningOp<vector::ShapeCastOp>();
  if (!shapeCast)
    return std::nullopt;
  auto narrowType = dyn_cast<VectorType>(shapeCast.getSource().getType());
  auto groupedType = dyn_cast<VectorType>(shapeCast.getType());
  auto resultType = dyn_cast<VectorType>(op.getType());
  if (!narrowType || !groupedType || !resultType || narrowType.isScalable() ||
      narrowType.getRank() != 1 || groupedType.getRank() != 2 ||
      resultType.getRank() != 1 ||
      !narrowType.getElementType().isSignlessInteger() ||
      !resultType.getElementType().isSignlessInteger())
    return std::nullopt;
  return LaneGroupSum{shapeCast.getSource(), narrowType,
                      groupedType.getDimSize(1), isa<arith::ExtSIOp>(extend),
                      resultType};
}

/// The constant words of a (possibly packed) tensor value, if any.
static DenseIntElementsAttr getConstantWords(Value value) {
  DenseIntElementsAttr attr;
  if (matchPattern(value, m_Constant(&attr)))
    return attr;
  return {};
}

//===----------------------------------------------------------------------===//
// Patterns
//===----------------------------------------------------------------------===//

/// The kernel handles i64 words and static kernel extents, planes and words
/// (output channels may be dynamic).
static bool isSupported(Value input, Value filter) {
  auto inputType = cast<RankedTensorType>(input.getType());
  auto filterType = cast<RankedTensorType>(filter.getType());
  if (!inputType.getElementType().isInteger(64))
    return false;
  // Planes and words: the two innermost dimensions (of a conv input or a
  // matmul lhs alike).
  int64_t rank = inputType.getRank();
  if (inputType.isDynamicDim(rank - 2) || inputType.isDynamicDim(rank - 1))
    return false;
  return llvm::all_of(filterType.getShape().drop_front(), [](int64_t size) {
    return !ShapedType::isDynamic(size);
  });
}

/// The threshold, requantize or dequantize whose accumulator is `result`
/// and which is its only use, in the same block (a use in a loop body would
/// repeat the kernel), described for the kernel.
static std::optional<std::pair<Operation *, FusedEpilogue>>
matchFusibleEpilogue(Value result) {
  if (!result.hasOneUse())
    return std::nullopt;
  OpOperand &use = *result.getUses().begin();
  Operation *user = use.getOwner();
  if (use.getOperandNumber() != 0 ||
      user->getBlock() != result.getParentBlock())
    return std::nullopt;
  FusedEpilogue epilogue;
  if (auto threshold = dyn_cast<ThresholdOp>(user)) {
    epilogue.kind = FusedEpilogue::Kind::Threshold;
    epilogue.thresholds = threshold.getThresholds();
    epilogue.descending = threshold.getDescending();
    epilogue.layout = threshold.getLayout();
    epilogue.resultElement = IntegerType::get(user->getContext(), 64);
    if (!threshold.getThresholds().getType().hasStaticShape())
      return std::nullopt;
  } else if (auto requantize = dyn_cast<RequantizeOp>(user)) {
    epilogue.kind = FusedEpilogue::Kind::Requantize;
    epilogue.multiplier = requantize.getMultiplier();
    epilogue.shift = requantize.getShift();
    epilogue.zeroPoint = requantize.getSignedZeroPoint();
    epilogue.clampMin = requantize.getClampMin();
    epilogue.clampMax = requantize.getClampMax();
    epilogue.resultElement = requantize.getType().getElementType();
  } else if (auto dequantize = dyn_cast<DequantizeOp>(user)) {
    epilogue.kind = FusedEpilogue::Kind::Dequantize;
    epilogue.scale = dequantize.getScale();
    epilogue.bias = dequantize.getBias();
    epilogue.resultElement = dequantize.getType().getElementType();
  } else {
    return std::nullopt;
  }
  return std::make_pair(user, epilogue);
}

/// The scalar `value` is filled with, if it is a linalg.fill (the usual zero
/// init): a fused kernel then broadcasts it instead of reading a tensor.
static Value getFillScalar(Value value) {
  if (auto fill = value.getDefiningOp<linalg::FillOp>())
    return fill.getInputs()[0];
  return {};
}

namespace {
/// A kernel lowering: preferred (benefit 2) over the reference patterns,
/// which take the ops it declines.
template <typename OpTy>
struct VectorKernelPattern : public OpConversionPattern<OpTy> {
  VectorKernelPattern(const TypeConverter &converter, MLIRContext *ctx,
                      const MicroKernelShape &shape)
      : OpConversionPattern<OpTy>(converter, ctx, /*benefit=*/2), shape(shape) {
  }

  MicroKernelShape shape;
};

struct Conv2DOpVectorLowering : public VectorKernelPattern<Conv2DOp> {
  using VectorKernelPattern::VectorKernelPattern;

  LogicalResult
  matchAndRewrite(Conv2DOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (!isSupported(adaptor.getInput(), adaptor.getFilter()))
      return rewriter.notifyMatchFailure(op, "unsupported by the kernel");
    ConvProblem problem{adaptor.getInput(), adaptor.getFilter(),
                        adaptor.getInit(), op.getInputLayout(),
                        op.getFilterLayout()};
    problem.strides.assign(op.getStrides().begin(), op.getStrides().end());
    problem.padding.assign(op.getPadding().begin(), op.getPadding().end());
    problem.dilations.assign(op.getDilations().begin(),
                             op.getDilations().end());
    problem.filterConstant = getConstantWords(op.getFilter());
    std::optional<std::pair<Operation *, FusedEpilogue>> epilogue;
    if (shape.fuseEpilogues)
      epilogue = matchFusibleEpilogue(op.getResult());
    if (!epilogue) {
      rewriter.replaceOp(
          op, ConvKernelBuilder(rewriter, op.getLoc(), problem, shape).build());
      return success();
    }
    // Built where the epilogue is: its parameters may be defined after the
    // convolution.
    problem.epilogue = epilogue->second;
    problem.initScalar = getFillScalar(op.getInit());
    rewriter.setInsertionPoint(epilogue->first);
    Value fused = ConvKernelBuilder(rewriter, op.getLoc(), problem, shape).build();
    rewriter.replaceOp(epilogue->first, fused);
    rewriter.eraseOp(op);
    return success();
  }
};

/// matmul [B?, M, K] x [N, K] -> conv2d of a [B or 1, 1, M] image with N
/// 1x1 filters.
struct MatmulOpVectorLowering : public VectorKernelPattern<MatmulOp> {
  using VectorKernelPattern::VectorKernelPattern;

  LogicalResult
  matchAndRewrite(MatmulOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    std::optional<std::pair<Operation *, FusedEpilogue>> epilogue;
    if (shape.fuseEpilogues)
      epilogue = matchFusibleEpilogue(op.getResult());
    if (epilogue)
      rewriter.setInsertionPoint(epilogue->first);
    Value lhs = adaptor.getLhs(), rhs = adaptor.getRhs();
    Value init = adaptor.getInit();
    auto lhsType = cast<RankedTensorType>(lhs.getType());
    auto rhsType = cast<RankedTensorType>(rhs.getType());
    auto initType = cast<RankedTensorType>(init.getType());
    if (rhsType.getRank() == 4)
      return rewriter.notifyMatchFailure(op, "batched weights");
    if (!isSupported(lhs, rhs))
      return rewriter.notifyMatchFailure(op, "unsupported by the kernel");

    auto expand = [&](Value value, ArrayRef<int64_t> shape,
                      ArrayRef<ReassociationIndices> groups,
                      ArrayRef<OpFoldResult> sizes) -> Value {
      auto type = cast<RankedTensorType>(value.getType());
      return tensor::ExpandShapeOp::create(
          rewriter, loc, RankedTensorType::get(shape, type.getElementType()),
          value, groups, sizes);
    };
    auto size = [&](Value v, int64_t d) {
      return tensor::getMixedSize(rewriter, loc, v, d);
    };
    auto one = rewriter.getIndexAttr(1);
    Value input,
        filter = expand(rhs,
                        {rhsType.getDimSize(0), 1, 1, rhsType.getDimSize(1),
                         rhsType.getDimSize(2)},
                        {{0, 1, 2}, {3}, {4}},
                        {size(rhs, 0), one, one, size(rhs, 1), size(rhs, 2)});
    Value image;
    SmallVector<ReassociationIndices> initGroups;
    if (lhsType.getRank() == 3) {
      input = expand(lhs,
                     {1, 1, lhsType.getDimSize(0), lhsType.getDimSize(1),
                      lhsType.getDimSize(2)},
                     {{0, 1, 2}, {3}, {4}},
                     {one, one, size(lhs, 0), size(lhs, 1), size(lhs, 2)});
      initGroups = {{0, 1, 2}, {3}};
      image =
          expand(init, {1, 1, initType.getDimSize(0), initType.getDimSize(1)},
                 initGroups, {one, one, size(init, 0), size(init, 1)});
    } else {
      input =
          expand(lhs,
                 {lhsType.getDimSize(0), 1, lhsType.getDimSize(1),
                  lhsType.getDimSize(2), lhsType.getDimSize(3)},
                 {{0}, {1, 2}, {3}, {4}},
                 {size(lhs, 0), one, size(lhs, 1), size(lhs, 2), size(lhs, 3)});
      initGroups = {{0}, {1, 2}, {3}};
      image = expand(init,
                     {initType.getDimSize(0), 1, initType.getDimSize(1),
                      initType.getDimSize(2)},
                     initGroups,
                     {size(init, 0), one, size(init, 1), size(init, 2)});
    }
    ConvProblem problem{input, filter, image, op.getLhsLayout(),
                        op.getRhsLayout()};
    problem.filterConstant = getConstantWords(op.getRhs());
    if (!epilogue) {
      Value conv = ConvKernelBuilder(rewriter, loc, problem, shape).build();
      rewriter.replaceOpWithNewOp<tensor::CollapseShapeOp>(op, initType, conv,
                                                           initGroups);
      return success();
    }
    problem.epilogue = epilogue->second;
    problem.initScalar = getFillScalar(op.getInit());
    Value fused = ConvKernelBuilder(rewriter, loc, problem, shape).build();
    // [.., M, CO] or, for a threshold, [.., M, bits, words]: the image's
    // groups, then the trailing dimension(s) one by one.
    auto fusedType = cast<RankedTensorType>(fused.getType());
    SmallVector<ReassociationIndices> groups(initGroups);
    SmallVector<int64_t> resultShape(initType.getShape());
    if (problem.epilogue.kind == FusedEpilogue::Kind::Threshold) {
      groups.push_back({groups.back().back() + 1});
      resultShape.back() = fusedType.getDimSize(fusedType.getRank() - 2);
      resultShape.push_back(fusedType.getDimSize(fusedType.getRank() - 1));
    }
    auto resultType =
        RankedTensorType::get(resultShape, fusedType.getElementType());
    Value collapsed = tensor::CollapseShapeOp::create(rewriter, loc, resultType,
                                                      fused, groups);
    rewriter.replaceOp(epilogue->first, collapsed);
    rewriter.eraseOp(op);
    return success();
  }
};
} // namespace

void mlir::bitserial::populateBitserialToVectorConversionPatterns(
    const TypeConverter &typeConverter, RewritePatternSet &patterns,
    const MicroKernelShape &shape) {
  patterns.add<Conv2DOpVectorLowering, MatmulOpVectorLowering>(
      typeConverter, patterns.getContext(), shape);
}

//===----------------------------------------------------------------------===//
// Pass
//===----------------------------------------------------------------------===//

/// Accumulators of one register block: half the 32 vector registers of
/// AVX-512 or NEON, the rest hold operands. Larger blocks only spill, and
/// one-shot bufferization of the kernel grows superlinearly with them (24
/// accumulators took 14 s, 32 over a minute).
static constexpr int64_t kMaxAccumulators = 16;

namespace {
struct ConvertBitserialToVectorPass
    : public bitserial::impl::ConvertBitserialToVectorBase<
          ConvertBitserialToVectorPass> {
  using Base::Base;

  void runOnOperation() override {
    // Errors name the options, not the module: no "see current operation".
    Location loc = getOperation()->getLoc();
    if (!llvm::is_contained({128, 256, 512}, vectorBits.getValue())) {
      emitError(loc) << "vector-bits must be 128, 256 or 512, got "
                     << vectorBits.getValue();
      return signalPassFailure();
    }
    // A register block is unrolled into one accumulator per output vector;
    // past the register file it only spills (and huge blocks take forever).
    if (pixelBlock < 1 || channelBlock < 1 || pixelBlock > kMaxAccumulators ||
        channelBlock > kMaxAccumulators ||
        pixelBlock * channelBlock > kMaxAccumulators) {
      emitError(loc) << "pixel-block and channel-block must be positive with "
                        "a product of at most "
                     << kMaxAccumulators << ", got " << pixelBlock.getValue()
                     << " and " << channelBlock.getValue();
      return signalPassFailure();
    }
    if (wordPopcount && nibbleLookup) {
      emitError(loc)
          << "word-popcount and nibble-lookup are mutually exclusive";
      return signalPassFailure();
    }
    MicroKernelShape shape;
    shape.vectorBits = vectorBits;
    shape.pixelBlock = pixelBlock;
    shape.channelBlock = channelBlock;
    shape.wordPopcount = wordPopcount;
    shape.nibbleLookup = nibbleLookup;
    shape.parallel = parallel;
    shape.fitRegisterBlock = fitRegisterBlock;
    shape.unrollSteps = unrollSteps;
    shape.narrowAccumulators = narrowAccumulators;
    shape.fuseEpilogues = fuseEpilogues;
    PackedTensorTypeConverter converter;
    RewritePatternSet patterns(&getContext());
    populateBitserialToVectorConversionPatterns(converter, patterns, shape);
    if (failed(applyBitserialConversion(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
