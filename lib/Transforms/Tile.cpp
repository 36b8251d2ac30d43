//===- Tile.cpp - Tile bitserial ops for the caches -----------------------===//

#include "Bitserial/IR/BitserialOps.h"
#include "Bitserial/Transforms/Passes.h"
#include "Bitserial/Transforms/Transforms.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::bitserial {
#define GEN_PASS_DEF_BITSERIALTILE
#include "Bitserial/Transforms/Passes.h.inc"
} // namespace mlir::bitserial

using namespace mlir;
using namespace mlir::bitserial;

static constexpr StringLiteral kTileSizesAttr = "bitserial.tile_sizes";

/// Bytes of a packed operand per row (planes x words x word bytes).
static int64_t packedRowBytes(RankedTensorType type) {
  ArrayRef<int64_t> shape = type.getShape();
  return shape[shape.size() - 2] * shape.back() *
         type.getElementTypeBitWidth() / 8;
}

/// The largest multiple of `step` (at least `step`, at most `extent` when it
/// is static) with `count * bytesEach <= budget`.
static int64_t fitMultiple(int64_t extent, int64_t step, int64_t bytesEach,
                           int64_t budget) {
  int64_t count = std::max<int64_t>(step, budget / std::max<int64_t>(1, bytesEach)
                                              / step * step);
  if (!ShapedType::isDynamic(extent) && count >= extent)
    return 0; // whole
  return count;
}

SmallVector<int64_t> mlir::bitserial::getDefaultTileSizes(TilingInterface op,
                                                          int64_t cacheBytes) {
  int64_t budget = cacheBytes / 2;
  if (auto matmul = dyn_cast<MatmulOp>(op.getOperation())) {
    RankedTensorType lhs = matmul.getLhs().getType();
    RankedTensorType rhs = matmul.getRhs().getType();
    RankedTensorType init = matmul.getInit().getType();
    int64_t rank = init.getRank();
    SmallVector<int64_t> sizes(rank, 0);
    if (rank == 3)
      sizes[0] = 1;
    if (!lhs.hasStaticShape() || !rhs.hasStaticShape() ||
        !init.hasStaticShape())
      return sizes;
    int64_t m = init.getDimSize(rank - 2);
    sizes[rank - 2] = (!ShapedType::isDynamic(m) && m <= 64) ? 0 : 64;
    int64_t rowsM = sizes[rank - 2] ? 64 : std::max<int64_t>(1, m);
    // Per output column: its rhs row, and the i32 outputs of the M tile.
    int64_t perColumn = packedRowBytes(rhs) + 4 * rowsM;
    budget -= rowsM * packedRowBytes(lhs);
    sizes[rank - 1] =
        fitMultiple(init.getDimSize(rank - 1), 64, perColumn, budget);
    return sizes;
  }
  auto conv = cast<Conv2DOp>(op.getOperation());
  RankedTensorType input = conv.getInput().getType();
  RankedTensorType filter = conv.getFilter().getType();
  RankedTensorType init = conv.getInit().getType();
  SmallVector<int64_t> sizes{1, 0, 0, 0};
  if (!filter.hasStaticShape() || !input.hasStaticShape() ||
      !init.hasStaticShape())
    return sizes; // one image at a time; no estimate without extents
  int64_t taps = filter.getDimSize(1) * filter.getDimSize(2);
  int64_t filterPerChannel = taps * packedRowBytes(filter);
  sizes[3] = fitMultiple(init.getDimSize(3), 64, filterPerChannel, budget / 2);
  if (!ShapedType::isDynamic(input.getDimSize(2)) &&
      !ShapedType::isDynamic(init.getDimSize(2))) {
    int64_t channels = sizes[3] ? sizes[3] : init.getDimSize(3);
    int64_t perRow = conv.getStrides()[0] * input.getDimSize(2) *
                         packedRowBytes(input) +
                     init.getDimSize(2) * channels * 4;
    sizes[1] = fitMultiple(init.getDimSize(1), 1, perRow, budget / 2);
  }
  return sizes;
}

/// A tile size at least a static extent leaves that axis whole (0).
static SmallVector<int64_t> normalizeTileSizes(ArrayRef<int64_t> tileSizes,
                                               ArrayRef<int64_t> extents) {
  SmallVector<int64_t> normalized(tileSizes);
  for (auto [size, extent] : llvm::zip(normalized, extents))
    if (!ShapedType::isDynamic(extent) && size >= extent)
      size = 0;
  return normalized;
}

FailureOr<scf::SCFTilingResult>
mlir::bitserial::tileBitserialOp(RewriterBase &rewriter, TilingInterface op,
                                 ArrayRef<int64_t> tileSizes) {
  // A tile at least as large as a static extent leaves that axis whole.
  ArrayRef<int64_t> extents =
      cast<RankedTensorType>(op->getResult(0).getType()).getShape();
  SmallVector<int64_t> normalized = normalizeTileSizes(tileSizes, extents);
  tileSizes = normalized;
  if (llvm::all_of(tileSizes, [](int64_t s) { return s == 0; }))
    return scf::SCFTilingResult{};
  scf::SCFTilingOptions options;
  SmallVector<OpFoldResult> sizes;
  for (int64_t size : tileSizes)
    sizes.push_back(rewriter.getIndexAttr(size));
  options.setTileSizes(sizes);
  rewriter.setInsertionPoint(op);
  FailureOr<scf::SCFTilingResult> result =
      scf::tileUsingSCF(rewriter, op, options);
  if (failed(result))
    return failure();
  for (Operation *tiled : result->tiledOps)
    tiled->removeAttr(kTileSizesAttr);
  rewriter.replaceOp(op, result->replacements);
  return result;
}

/// Gives `type` (a packed tensor type) back to the destination that tiling
/// created for a value op and to every loop-carried value built from it:
/// MLIR 22's `tensor::getOrCreateDestination` makes a `tensor.empty` of the
/// element type only, dropping the encoding. The shapes are the same.
static void restoreEncoding(Value destination, RankedTensorType type) {
  SmallVector<Value> worklist{destination};
  auto retype = [&](Value v) {
    if (v.getType() != type) {
      v.setType(type);
      worklist.push_back(v);
    }
  };
  destination.setType(type);
  while (!worklist.empty()) {
    Value v = worklist.pop_back_val();
    for (OpOperand &use : v.getUses()) {
      Operation *user = use.getOwner();
      if (auto loop = dyn_cast<scf::ForOp>(user)) {
        if (OpOperand *init = &use; loop.getTiedLoopRegionIterArg(init)) {
          retype(loop.getTiedLoopRegionIterArg(init));
          retype(loop.getTiedLoopResult(init));
        }
      } else if (auto insert = dyn_cast<tensor::InsertSliceOp>(user)) {
        if (use.getOperandNumber() == 1)
          retype(insert.getResult());
      } else if (auto yield = dyn_cast<scf::YieldOp>(user)) {
        if (auto loop = dyn_cast<scf::ForOp>(yield->getParentOp())) {
          retype(loop.getResult(use.getOperandNumber()));
          retype(loop.getRegionIterArgs()[use.getOperandNumber()]);
        }
      } else if (auto extract = dyn_cast<tensor::ExtractSliceOp>(user)) {
        RankedTensorType sliceType = extract.getType();
        extract.getResult().setType(RankedTensorType::get(
            sliceType.getShape(), sliceType.getElementType(),
            type.getEncoding()));
      }
    }
  }
}

LogicalResult mlir::bitserial::tileEpilogueChain(RewriterBase &rewriter,
                                                 TilingInterface epilogue,
                                                 TilingInterface producer,
                                                 ArrayRef<int64_t> tileSizes) {
  SmallVector<int64_t> sizes = normalizeTileSizes(
      tileSizes,
      cast<RankedTensorType>(producer->getResult(0).getType()).getShape());
  // The epilogue's domain is the producer's, without the channel axis when
  // it packs channels (threshold): channel tiles are then made inside.
  size_t rank = epilogue.getLoopIteratorTypes().size();
  SmallVector<int64_t> outer(sizes.begin(), sizes.begin() + rank);
  SmallVector<int64_t> inner(sizes.size(), 0);
  if (rank < sizes.size())
    inner.back() = sizes.back();

  if (llvm::all_of(outer, [](int64_t s) { return s == 0; }))
    return success(succeeded(tileBitserialOp(rewriter, producer, inner)));

  scf::SCFTileAndFuseOptions options;
  SmallVector<OpFoldResult> ofrs;
  for (int64_t size : outer)
    ofrs.push_back(rewriter.getIndexAttr(size));
  options.tilingOptions.setTileSizes(ofrs);
  // Fuse the accumulating op only, never its operands' producers (a pack or
  // the previous layer would be recomputed on overlapping windows).
  Operation *producerOp = producer;
  options.setFusionControlFn(
      [producerOp](tensor::ExtractSliceOp, OpResult original,
                   bool isDestination)
          -> std::optional<scf::SCFTileAndFuseOptions::ControlFnResult> {
        if (isDestination || original.getOwner() != producerOp)
          return std::nullopt;
        return scf::SCFTileAndFuseOptions::ControlFnResult{};
      });
  rewriter.setInsertionPoint(epilogue);
  FailureOr<scf::SCFTileAndFuseResult> result =
      scf::tileConsumerAndFuseProducersUsingSCF(rewriter, epilogue, options);
  if (failed(result))
    return failure();
  for (OpResult r : epilogue->getResults()) {
    Value replacement = result->replacements.lookup(r);
    auto type = cast<RankedTensorType>(r.getType());
    if (replacement.getType() != type && type.getEncoding()) {
      auto loop = replacement.getDefiningOp<scf::ForOp>();
      if (!loop)
        return epilogue->emitOpError() << "tiled result has no loop";
      restoreEncoding(
          loop.getInits()[cast<OpResult>(replacement).getResultNumber()], type);
    }
    rewriter.replaceAllUsesWith(r, replacement);
  }
  rewriter.eraseOp(epilogue);
  if (producer->use_empty())
    rewriter.eraseOp(producer);
  if (llvm::all_of(inner, [](int64_t s) { return s == 0; }) ||
      result->loops.empty())
    return success();
  // Channel tiles of the fused producer tile(s).
  SmallVector<TilingInterface> fused;
  result->loops.front()->walk([&](Operation *op) {
    if (isa<MatmulOp, Conv2DOp>(op))
      fused.push_back(cast<TilingInterface>(op));
  });
  for (TilingInterface op : fused)
    if (failed(tileBitserialOp(rewriter, op, inner)))
      return failure();
  return success();
}

namespace {
struct BitserialTilePass
    : public bitserial::impl::BitserialTileBase<BitserialTilePass> {
  using Base::Base;

  /// Tile sizes from the op's attribute, the options or the heuristic.
  FailureOr<SmallVector<int64_t>> getTileSizes(TilingInterface op) {
    size_t rank = op.getLoopIteratorTypes().size();
    SmallVector<int64_t> sizes;
    Attribute given = op->getAttr(kTileSizesAttr);
    if (given && !isa<DenseI64ArrayAttr>(given))
      return op->emitError()
             << kTileSizesAttr << " must be an array<i64: ...>, got " << given;
    if (auto attr = dyn_cast_or_null<DenseI64ArrayAttr>(given))
      sizes.assign(attr.asArrayRef().begin(), attr.asArrayRef().end());
    else if (isa<MatmulOp>(op) && !matmulTileSizes.empty())
      sizes.assign(matmulTileSizes.begin(), matmulTileSizes.end());
    else if (isa<Conv2DOp>(op) && !convTileSizes.empty())
      sizes.assign(convTileSizes.begin(), convTileSizes.end());
    else
      sizes = getDefaultTileSizes(op, cacheBytes);
    if (sizes.size() != rank)
      return op->emitError()
             << "expected " << rank << " tile sizes, got " << sizes.size();
    if (llvm::any_of(sizes, [](int64_t s) { return s < 0; }))
      return op->emitError() << "tile sizes must be non-negative";
    return sizes;
  }

  void runOnOperation() override {
    if (cacheBytes < 1) {
      emitError(getOperation()->getLoc())
          << "cache-bytes must be positive, got " << cacheBytes.getValue();
      return signalPassFailure();
    }
    SmallVector<TilingInterface> ops;
    getOperation()->walk([&](Operation *op) {
      if (isa<MatmulOp, Conv2DOp>(op))
        ops.push_back(cast<TilingInterface>(op));
    });
    IRRewriter rewriter(&getContext());
    for (TilingInterface op : ops) {
      // Nothing to tile: the op folds to its init.
      if (hasEmptyExtent(op))
        continue;
      FailureOr<SmallVector<int64_t>> sizes = getTileSizes(op);
      if (failed(sizes))
        return signalPassFailure();
      // An epilogue that is the only user of the op is tiled with it: each
      // tile computes its accumulators and their epilogue together.
      Operation *user =
          op->hasOneUse() ? *op->getResult(0).getUsers().begin() : nullptr;
      if (fuseEpilogues && user &&
          isa<ThresholdOp, RequantizeOp, DequantizeOp>(user) &&
          user->getBlock() == op->getBlock() &&
          user->getOperand(0) == op->getResult(0) && !hasEmptyExtent(user)) {
        if (llvm::all_of(*sizes, [](int64_t s) { return s == 0; }))
          continue;
        if (failed(tileEpilogueChain(rewriter, cast<TilingInterface>(user), op,
                                     *sizes)))
          return signalPassFailure();
        continue;
      }
      if (llvm::all_of(*sizes, [](int64_t s) { return s == 0; }))
        continue;
      if (failed(tileBitserialOp(rewriter, op, *sizes)))
        return signalPassFailure();
    }
  }
};
} // namespace
