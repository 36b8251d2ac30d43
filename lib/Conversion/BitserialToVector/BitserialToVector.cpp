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
#include "RowKernels.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/Dominance.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

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

std::pair<int64_t, int64_t>
mlir::bitserial::fitRegisterBlock(const MicroKernelShape &shape,
                                  int64_t outWidth, int64_t channelsOut,
                                  int64_t minPixelBlock) {
  if (ShapedType::isDynamic(outWidth))
    return {shape.pixelBlock, shape.channelBlock};
  int64_t lanes = shape.vectorBits / 64;
  int64_t accumulators = shape.pixelBlock * shape.channelBlock;
  int64_t vectorsOut = ShapedType::isDynamic(channelsOut)
                           ? 0
                           : llvm::divideCeil(channelsOut, lanes);
  auto cost = [&](int64_t p, int64_t q) {
    int64_t computed = llvm::alignTo(outWidth, p) *
                       (vectorsOut ? llvm::alignTo(vectorsOut, q) : q);
    return std::make_tuple(computed, -p * q, std::abs(p - shape.pixelBlock));
  };
  int64_t bestP = shape.pixelBlock, bestQ = shape.channelBlock;
  int64_t lowestP = std::max<int64_t>(
      2, std::min(minPixelBlock, std::min(outWidth, accumulators)));
  for (int64_t p = lowestP; p <= accumulators; ++p) {
    int64_t q = accumulators / p;
    if (cost(p, q) < cost(bestP, bestQ)) {
      bestP = p;
      bestQ = q;
    }
  }
  return {bestP, bestQ};
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
    // The kernel packs 64-bit words.
    if (!threshold.getThresholds().getType().hasStaticShape() ||
        !threshold.getType().getElementType().isInteger(64))
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

/// The scalar `value` is filled with, if it is a linalg.fill or a slice of
/// one (the usual zero init, also of a tile): a fused kernel then broadcasts
/// it instead of reading a tensor.
static Value getFillScalar(Value value) {
  while (auto slice = value.getDefiningOp<tensor::ExtractSliceOp>())
    value = slice.getSource();
  if (auto fill = value.getDefiningOp<linalg::FillOp>())
    return fill.getInputs()[0];
  return {};
}

/// Whether `init` is an argument of the enclosing function and `result`'s
/// only use returns it: then the function returns a fresh buffer anyway.
static bool isReturnedArgumentUpdate(Value init, Value result) {
  auto arg = dyn_cast<BlockArgument>(init);
  if (!arg || !result.hasOneUse())
    return false;
  Block *block = arg.getOwner();
  Operation *function = block->getParentOp();
  if (!function || !isa<FunctionOpInterface>(function) ||
      !block->isEntryBlock())
    return false;
  Operation *user = *result.getUsers().begin();
  return user->hasTrait<OpTrait::ReturnLike>() &&
         user->getParentOp() == function;
}

/// `shape` with the register block `op` carries in `bitserial.register_block`
/// (bitserial-select-kernels' choice), if any, instead of the fitted one.
static MicroKernelShape getOpShape(Operation *op, MicroKernelShape shape) {
  auto block = op->getAttrOfType<DenseI64ArrayAttr>(kRegisterBlockAttrName);
  if (!block || block.size() != 2)
    return shape;
  shape.pixelBlock = block[0];
  shape.channelBlock = block[1];
  shape.fitRegisterBlock = false;
  return shape;
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
    problem.filterConstant = getConstantElements(op.getFilter());
    MicroKernelShape opShape = getOpShape(op, shape);
    std::optional<std::pair<Operation *, FusedEpilogue>> epilogue;
    if (shape.fuseEpilogues)
      epilogue = matchFusibleEpilogue(op.getResult());
    if (!epilogue) {
      // A filled init is a broadcast scalar: the kernel writes a new tensor
      // and the fill goes dead.
      problem.initScalar = getFillScalar(op.getInit());
      problem.freshOutput =
          problem.initScalar ||
          (shape.freshReturnedOutput &&
           isReturnedArgumentUpdate(adaptor.getInit(), op.getResult()));
      rewriter.replaceOp(
          op,
          ConvKernelBuilder(rewriter, op.getLoc(), problem, opShape).build());
      return success();
    }
    // Built where the epilogue is: its parameters may be defined after the
    // convolution.
    problem.epilogue = epilogue->second;
    problem.initScalar = getFillScalar(op.getInit());
    rewriter.setInsertionPoint(epilogue->first);
    Value fused =
        ConvKernelBuilder(rewriter, op.getLoc(), problem, opShape).build();
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
    problem.filterConstant = getConstantElements(op.getRhs());
    MicroKernelShape opShape = getOpShape(op, shape);
    if (!epilogue) {
      problem.initScalar = getFillScalar(op.getInit());
      problem.freshOutput = bool(problem.initScalar);
      Value conv = ConvKernelBuilder(rewriter, loc, problem, opShape).build();
      rewriter.replaceOpWithNewOp<tensor::CollapseShapeOp>(op, initType, conv,
                                                           initGroups);
      return success();
    }
    problem.epilogue = epilogue->second;
    problem.initScalar = getFillScalar(op.getInit());
    Value fused = ConvKernelBuilder(rewriter, loc, problem, opShape).build();
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
  populateRowKernelPatterns(typeConverter, patterns, shape.parallel);
}

//===----------------------------------------------------------------------===//
// Epilogues after tile loops
//===----------------------------------------------------------------------===//

namespace {
/// A nest of scf.for loops as bitserial-tile builds it around a matmul or
/// conv2d: each loop carries the whole accumulator tensor, and the innermost
/// body computes one tile from a slice of it and inserts the tile back.
struct TileNest {
  SmallVector<scf::ForOp> loops;
  tensor::ExtractSliceOp initSlice;
  Operation *kernel = nullptr;
  tensor::InsertSliceOp insert;
};
} // namespace

/// Whether `size` is at most `step` (a constant, or an affine.min with a
/// constant result that is).
static bool isAtMost(OpFoldResult size, int64_t step) {
  if (std::optional<int64_t> known = getConstantIntValue(size))
    return *known <= step;
  auto min = dyn_cast_if_present<affine::AffineMinOp>(
      dyn_cast_if_present<Value>(size).getDefiningOp());
  return min && llvm::any_of(min.getMap().getResults(), [&](AffineExpr e) {
           auto c = dyn_cast<AffineConstantExpr>(e);
           return c && c.getValue() <= step;
         });
}

/// The tile nest whose outermost loop is `outer`, if it is one whose tiles
/// are disjoint (each loop's induction variable is the offset of a
/// dimension whose tile size is at most the step: no loop revisits an
/// output, as a reduction loop would) and cover whole channels.
static std::optional<TileNest> matchTileNest(scf::ForOp outer) {
  TileNest nest;
  scf::ForOp loop = outer;
  while (true) {
    if (loop.getNumRegionIterArgs() != 1)
      return std::nullopt;
    nest.loops.push_back(loop);
    Value iterArg = loop.getRegionIterArgs()[0];
    Value yielded = loop.getBody()->getTerminator()->getOperand(0);
    if (auto inner = yielded.getDefiningOp<scf::ForOp>()) {
      if (inner->getBlock() != loop.getBody() ||
          inner.getNumRegionIterArgs() != 1 ||
          inner.getInitArgs()[0] != iterArg || !iterArg.hasOneUse() ||
          !inner->getResult(0).hasOneUse())
        return std::nullopt;
      loop = inner;
      continue;
    }
    auto insert = yielded.getDefiningOp<tensor::InsertSliceOp>();
    if (!insert || insert->getBlock() != loop.getBody() ||
        insert.getDest() != iterArg || !insert->hasOneUse() ||
        !insert.getSource().hasOneUse())
      return std::nullopt;
    Operation *kernel = insert.getSource().getDefiningOp();
    if (!kernel || kernel->getBlock() != loop.getBody())
      return std::nullopt;
    Value kernelInit;
    if (auto conv = dyn_cast<Conv2DOp>(kernel))
      kernelInit = conv.getInit();
    else if (auto matmul = dyn_cast<MatmulOp>(kernel))
      kernelInit = matmul.getInit();
    else
      return std::nullopt;
    auto slice = kernelInit.getDefiningOp<tensor::ExtractSliceOp>();
    if (!slice || slice.getSource() != iterArg || !slice->hasOneUse() ||
        !llvm::hasNItems(iterArg.getUses(), 2))
      return std::nullopt;
    auto sourceType = cast<RankedTensorType>(iterArg.getType());
    int64_t rank = sourceType.getRank();
    if (slice.getType().getRank() != rank ||
        insert.getSourceType().getRank() != rank ||
        !llvm::all_of(slice.getMixedStrides(), isOneInteger) ||
        !llvm::all_of(insert.getMixedStrides(), isOneInteger))
      return std::nullopt;
    SmallVector<OpFoldResult> offsets = slice.getMixedOffsets();
    SmallVector<OpFoldResult> sizes = slice.getMixedSizes();
    for (int64_t d = 0; d < rank; ++d)
      if (!isEqualConstantIntOrValue(offsets[d], insert.getMixedOffsets()[d]) ||
          !isEqualConstantIntOrValue(sizes[d], insert.getMixedSizes()[d]))
        return std::nullopt;
    // Whole channels.
    std::optional<int64_t> channelOffset = getConstantIntValue(offsets.back());
    std::optional<int64_t> channelSize = getConstantIntValue(sizes.back());
    if (sourceType.isDynamicDim(rank - 1) || channelOffset != 0 ||
        channelSize != sourceType.getDimSize(rank - 1))
      return std::nullopt;
    for (scf::ForOp each : nest.loops) {
      std::optional<int64_t> step = getConstantIntValue(each.getStep());
      bool disjoint = false;
      for (int64_t d = 0; d < rank && step; ++d)
        if (dyn_cast_if_present<Value>(offsets[d]) == each.getInductionVar() &&
            isAtMost(sizes[d], *step))
          disjoint = true;
      if (!disjoint)
        return std::nullopt;
    }
    nest.initSlice = slice;
    nest.kernel = kernel;
    nest.insert = insert;
    return nest;
  }
}

/// Moves the epilogue `op` whose accumulator is the result of a tile nest
/// into the innermost loop, on each tile, so that the kernel fuses it: the
/// loops then carry the epilogue's result, and each tile's accumulators
/// start from the slice of the original init (tiles are disjoint, so no
/// tile reads what another one wrote). Parameters must be available before
/// the loops (constants defined after them are moved up).
static LogicalResult sinkIntoTileNest(Operation *op, DominanceInfo &dominance) {
  auto outer = op->getOperand(0).getDefiningOp<scf::ForOp>();
  if (!outer || !op->getOperand(0).hasOneUse() ||
      outer->getBlock() != op->getBlock())
    return failure();
  // Only what the kernel then fuses.
  if (auto threshold = dyn_cast<ThresholdOp>(op))
    if (!threshold.getType().getElementType().isInteger(64))
      return failure();
  std::optional<TileNest> nest = matchTileNest(outer);
  if (!nest)
    return failure();
  for (Value param : op->getOperands().drop_front()) {
    if (dominance.properlyDominates(param, outer))
      continue;
    Operation *def = param.getDefiningOp();
    if (!def || def->getNumOperands() != 0 || def->getNumRegions() != 0 ||
        def->getBlock() != outer->getBlock() || !isMemoryEffectFree(def))
      return failure();
  }
  IRRewriter rewriter(op->getContext());
  for (Value param : op->getOperands().drop_front())
    if (!dominance.properlyDominates(param, outer))
      rewriter.moveOpBefore(param.getDefiningOp(), outer);

  Location loc = op->getLoc();
  auto resultType = cast<RankedTensorType>(op->getResult(0).getType());
  Value init = outer.getInitArgs()[0];
  auto initType = cast<RankedTensorType>(init.getType());
  bool packed = isa<ThresholdOp>(op);
  // The loops' new tensor: the epilogue's result, every element of which
  // some tile writes.
  rewriter.setInsertionPoint(outer);
  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(rewriter, loc, init);
  if (packed) {
    sizes.pop_back();
    for (int64_t d = initType.getRank() - 1; d < resultType.getRank(); ++d)
      sizes.push_back(rewriter.getIndexAttr(resultType.getDimSize(d)));
  }
  SmallVector<Value> dynamicSizes;
  for (OpFoldResult size : sizes)
    if (auto value = dyn_cast<Value>(size))
      dynamicSizes.push_back(value);
  Value output =
      tensor::EmptyOp::create(rewriter, loc, resultType, dynamicSizes);
  rewriter.modifyOpInPlace(
      outer, [&] { outer.getInitArgsMutable()[0].assign(output); });
  for (scf::ForOp loop : nest->loops) {
    loop.getRegionIterArgs()[0].setType(resultType);
    loop->getResult(0).setType(resultType);
  }

  // The tile: init from the original tensor, the epilogue on the kernel's
  // result, inserted into the loops' tensor.
  tensor::ExtractSliceOp slice = nest->initSlice;
  rewriter.setInsertionPoint(slice);
  Value initSlice = tensor::ExtractSliceOp::create(
      rewriter, slice.getLoc(), slice.getType(), init, slice.getOffsets(),
      slice.getSizes(), slice.getStrides(), slice.getStaticOffsets(),
      slice.getStaticSizes(), slice.getStaticStrides());
  rewriter.replaceOp(slice, initSlice);

  tensor::InsertSliceOp insert = nest->insert;
  rewriter.setInsertionPoint(insert);
  auto tileType = cast<RankedTensorType>(insert.getSourceType());
  SmallVector<int64_t> tileShape(tileType.getShape());
  SmallVector<OpFoldResult> offsets = insert.getMixedOffsets();
  SmallVector<OpFoldResult> tileSizes = insert.getMixedSizes();
  if (packed) {
    tileShape.pop_back();
    offsets.pop_back();
    tileSizes.pop_back();
    for (int64_t d = initType.getRank() - 1; d < resultType.getRank(); ++d) {
      tileShape.push_back(resultType.getDimSize(d));
      offsets.push_back(rewriter.getIndexAttr(0));
      tileSizes.push_back(rewriter.getIndexAttr(resultType.getDimSize(d)));
    }
  }
  IRMapping mapping;
  mapping.map(op->getOperand(0), insert.getSource());
  Operation *tileEpilogue = rewriter.clone(*op, mapping);
  tileEpilogue->getResult(0).setType(RankedTensorType::get(
      tileShape, resultType.getElementType(), resultType.getEncoding()));
  SmallVector<OpFoldResult> strides(offsets.size(), rewriter.getIndexAttr(1));
  rewriter.replaceOpWithNewOp<tensor::InsertSliceOp>(
      insert, tileEpilogue->getResult(0), insert.getDest(), offsets, tileSizes,
      strides);
  rewriter.replaceOp(op, outer->getResult(0));
  return success();
}

/// Sinks every epilogue that follows a tile nest into it (see
/// sinkIntoTileNest).
static void sinkEpiloguesIntoTileNests(Operation *root) {
  SmallVector<Operation *> epilogues;
  root->walk([&](Operation *op) {
    if (isa<ThresholdOp, RequantizeOp, DequantizeOp>(op))
      epilogues.push_back(op);
  });
  DominanceInfo dominance(root);
  for (Operation *op : epilogues)
    (void)sinkIntoTileNest(op, dominance);
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
    shape.minNibbleSteps = minNibbleSteps;
    shape.parallel = parallel;
    shape.minParallelBinops = minParallelBinops;
    shape.minParallelBinopsPerOutput = minParallelBinopsPerOutput;
    shape.fitRegisterBlock = fitRegisterBlock;
    shape.unrollSteps = unrollSteps;
    shape.narrowAccumulators = narrowAccumulators;
    shape.duplicateActivations = duplicateActivations;
    shape.unrollPlanePairs = unrollPlanePairs;
    shape.straightLinePlanePairs = straightLinePlanePairs;
    shape.fuseEpilogues = fuseEpilogues;
    shape.freshReturnedOutput = freshReturnedOutput;
    shape.hornerPlanePairs = hornerPlanePairs;
    shape.widenEachStep = widenEachStep;
    if (fuseEpilogues)
      sinkEpiloguesIntoTileNests(getOperation());
    PackedTensorTypeConverter converter;
    RewritePatternSet patterns(&getContext());
    populateBitserialToVectorConversionPatterns(converter, patterns, shape);
    if (failed(applyBitserialConversion(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
