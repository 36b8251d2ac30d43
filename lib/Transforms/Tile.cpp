//===- Tile.cpp - Tile bitserial ops for the caches -----------------------===//

#include "Bitserial/Analysis/TuningCache.h"
#include "Bitserial/IR/BitserialOps.h"
#include "Bitserial/Transforms/Passes.h"
#include "Bitserial/Transforms/Transforms.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/Support/FormatVariadic.h"

namespace mlir::bitserial {
#define GEN_PASS_DEF_BITSERIALTILE
#include "Bitserial/Transforms/Passes.h.inc"
} // namespace mlir::bitserial

using namespace mlir;
using namespace mlir::bitserial;

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

namespace {
/// A range of output rows (or columns) of a conv2d axis.
struct AxisRegion {
  int64_t offset, size;
  bool border;
};
/// A part of a split op: `root` (the conv2d, or its epilogue with the conv2d
/// part `producer` fused), to be tiled with `sizes` (conv2d domain).
struct SplitPart {
  TilingInterface root, producer;
  SmallVector<int64_t> sizes;
};
} // namespace

/// The border and interior output ranges of a padded axis (0: height, 1:
/// width) tiled by `tile`: outputs [first, last) read only input rows, the
/// ones before and after read padding. None (one whole region) when the axis
/// is not tiled, not padded, not static, or has no interior.
static SmallVector<AxisRegion> getAxisRegions(Conv2DOp conv, unsigned axis,
                                              int64_t tile) {
  int64_t extent = conv.getInit().getType().getDimSize(axis + 1);
  SmallVector<AxisRegion> whole{{0, extent, false}};
  int64_t padBefore = conv.getPadding()[2 * axis];
  int64_t padAfter = conv.getPadding()[2 * axis + 1];
  int64_t input = conv.getInput().getType().getDimSize(axis + 1);
  int64_t kernel = conv.getFilter().getType().getDimSize(axis + 1);
  if (tile == 0 || (padBefore == 0 && padAfter == 0) ||
      ShapedType::isDynamic(extent) || ShapedType::isDynamic(input) ||
      ShapedType::isDynamic(kernel))
    return whole;
  int64_t stride = conv.getStrides()[axis];
  int64_t window = (kernel - 1) * conv.getDilations()[axis] + 1;
  int64_t first = std::min(llvm::divideCeilSigned(padBefore, stride), extent);
  int64_t last = std::clamp<int64_t>(
      llvm::divideFloorSigned(input + padBefore - window, stride) + 1, first,
      extent);
  if (first >= last || (first == 0 && last == extent))
    return whole;
  SmallVector<AxisRegion> regions;
  if (first > 0)
    regions.push_back({0, first, true});
  regions.push_back({first, last - first, false});
  if (last < extent)
    regions.push_back({last, extent - last, true});
  return regions;
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
    // Rows that divide the tiled extent (the interior, once padded borders
    // are split off) keep every tile static: a last tile of dynamic size
    // made a 56x56x64 3x3 layer with its threshold 1.8x slower on Zen 4.
    int64_t rows = sizes[1];
    SmallVector<AxisRegion> regions = getAxisRegions(conv, 0, rows);
    int64_t extent = init.getDimSize(1);
    for (const AxisRegion &region : regions)
      if (!region.border)
        extent = region.size;
    if (rows && !ShapedType::isDynamic(extent)) {
      int64_t divisor = rows;
      while (extent % divisor)
        --divisor;
      if (2 * divisor >= rows)
        sizes[1] = divisor;
    }
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
    tiled->removeAttr(kTileSizesAttrName);
  rewriter.replaceOp(op, result->replacements);
  return result;
}

/// Splits `root` (`conv` itself, or its epilogue) into the parts of `conv`'s
/// output between the border regions of its padded tiled axes, so that each
/// part is a conv2d with constant padding: interior parts have none on the
/// split axes and tile along them without any, border parts are a few rows
/// or columns kept whole there. Returns no parts when nothing is split.
static FailureOr<SmallVector<SplitPart>>
splitPaddedBorders(RewriterBase &rewriter, TilingInterface root, Conv2DOp conv,
                   ArrayRef<int64_t> sizes) {
  SmallVector<AxisRegion> rows = getAxisRegions(conv, 0, sizes[1]);
  SmallVector<AxisRegion> cols = getAxisRegions(conv, 1, sizes[2]);
  if (rows.size() == 1 && cols.size() == 1)
    return SmallVector<SplitPart>{};
  auto resultType = cast<RankedTensorType>(root->getResult(0).getType());
  if (!conv.getInit().getType().hasStaticShape() ||
      !resultType.hasStaticShape())
    return SmallVector<SplitPart>{};
  Location loc = root->getLoc();
  rewriter.setInsertionPoint(root);
  bool isConv = root.getOperation() == conv.getOperation();
  Value dest =
      isConv ? conv.getInit()
             : tensor::EmptyOp::create(rewriter, loc, resultType.getShape(),
                                       resultType.getElementType(),
                                       resultType.getEncoding())
                   .getResult();
  ArrayRef<int64_t> extents = conv.getInit().getType().getShape();
  size_t rank = root.getLoopIteratorTypes().size();
  SmallVector<SplitPart> parts;
  for (const AxisRegion &row : rows) {
    for (const AxisRegion &col : cols) {
      SmallVector<OpFoldResult> offsets, partSizes;
      int64_t regionOffsets[] = {0, row.offset, col.offset, 0};
      int64_t regionSizes[] = {extents[0], row.size, col.size, extents[3]};
      for (size_t i = 0; i < rank; ++i) {
        offsets.push_back(rewriter.getIndexAttr(regionOffsets[i]));
        partSizes.push_back(rewriter.getIndexAttr(regionSizes[i]));
      }
      FailureOr<TilingResult> part =
          root.getTiledImplementation(rewriter, offsets, partSizes);
      if (failed(part))
        return failure();
      SplitPart split;
      split.root = cast<TilingInterface>(part->tiledOps.back());
      split.sizes.assign(sizes.begin(), sizes.end());
      if (row.border)
        split.sizes[1] = 0;
      if (col.border)
        split.sizes[2] = 0;
      if (!isConv) {
        // The epilogue part reads a slice of the conv2d: compute that slice
        // by a conv2d part instead.
        for (Operation *op : part->generatedSlices) {
          auto slice = dyn_cast<tensor::ExtractSliceOp>(op);
          if (!slice || slice.getSource() != conv.getResult())
            continue;
          OpBuilder::InsertionGuard guard(rewriter);
          rewriter.setInsertionPoint(slice);
          FailureOr<TilingResult> producer = conv.generateResultTileValue(
              rewriter, 0, slice.getMixedOffsets(), slice.getMixedSizes());
          if (failed(producer))
            return failure();
          split.producer = cast<TilingInterface>(producer->tiledOps.back());
          rewriter.replaceOp(slice, producer->tiledValues);
        }
        if (!split.producer)
          return root->emitOpError() << "does not read its conv2d";
      }
      SmallVector<OpFoldResult> resultOffsets, resultSizes;
      if (failed(root.getResultTilePosition(rewriter, 0, offsets, partSizes,
                                            resultOffsets, resultSizes)))
        return failure();
      SmallVector<OpFoldResult> unit(resultOffsets.size(),
                                     rewriter.getIndexAttr(1));
      dest =
          tensor::InsertSliceOp::create(rewriter, loc, part->tiledValues[0],
                                        dest, resultOffsets, resultSizes, unit)
              .getResult();
      parts.push_back(split);
    }
  }
  rewriter.replaceOp(root, dest);
  if (!isConv && conv->use_empty())
    rewriter.eraseOp(conv);
  return parts;
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
  if (auto conv = dyn_cast<Conv2DOp>(producer.getOperation())) {
    FailureOr<SmallVector<SplitPart>> parts =
        splitPaddedBorders(rewriter, epilogue, conv, sizes);
    if (failed(parts))
      return failure();
    if (!parts->empty()) {
      for (SplitPart &part : *parts)
        if (!hasEmptyExtent(part.producer) &&
            failed(tileEpilogueChain(rewriter, part.root, part.producer,
                                     part.sizes)))
          return failure();
      return success();
    }
  }
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

LogicalResult mlir::bitserial::tileLayer(RewriterBase &rewriter,
                                         TilingInterface op,
                                         ArrayRef<int64_t> tileSizes) {
  if (auto conv = dyn_cast<Conv2DOp>(op.getOperation())) {
    SmallVector<int64_t> sizes =
        normalizeTileSizes(tileSizes, conv.getInit().getType().getShape());
    FailureOr<SmallVector<SplitPart>> parts =
        splitPaddedBorders(rewriter, op, conv, sizes);
    if (failed(parts))
      return failure();
    if (!parts->empty()) {
      // A border part that reads no input rows folds to its init.
      for (SplitPart &part : *parts)
        if (!hasEmptyExtent(part.root) &&
            failed(tileBitserialOp(rewriter, part.root, part.sizes)))
          return failure();
      return success();
    }
  }
  return success(succeeded(tileBitserialOp(rewriter, op, tileSizes)));
}

namespace {
struct BitserialTilePass
    : public bitserial::impl::BitserialTileBase<BitserialTilePass> {
  using Base::Base;

  std::optional<TuningCache> cache;
  std::string cpuName;

  /// The tile sizes of `op`'s tuning cache entry, if it has one with them;
  /// `key` is set to the op's key then.
  std::optional<SmallVector<int64_t>> getTunedSizes(TilingInterface op,
                                                    std::string &key) {
    if (!cache)
      return std::nullopt;
    std::optional<llvm::json::Object> opKey = getTuningKey(op);
    if (!opKey)
      return std::nullopt;
    std::optional<TunedChoice> tuned = cache->lookup(
        getCostTargetName(target), cpuName, getInt8UnitName(int8), *opKey);
    if (!tuned || !tuned->tileSizes)
      return std::nullopt;
    key = llvm::formatv("{0}", llvm::json::Value(std::move(*opKey))).str();
    return tuned->tileSizes;
  }

  /// Tile sizes from the op's attribute, its tuning cache entry, the options
  /// or the heuristic; with `tuned-only`, all 0 for ops without tuned sizes.
  /// Ops tiled with tuned sizes carry their key to their tiles, which
  /// bitserial-select-kernels then gives the entry's kernel.
  FailureOr<SmallVector<int64_t>> getTileSizes(TilingInterface op) {
    size_t rank = op.getLoopIteratorTypes().size();
    SmallVector<int64_t> sizes;
    std::string key;
    std::optional<SmallVector<int64_t>> tuned = getTunedSizes(op, key);
    if (tunedOnly && !tuned)
      return SmallVector<int64_t>(rank, 0);
    Attribute given = op->getAttr(kTileSizesAttrName);
    if (given && !isa<DenseI64ArrayAttr>(given))
      return op->emitError() << kTileSizesAttrName
                             << " must be an array<i64: ...>, got " << given;
    if (auto attr = dyn_cast_or_null<DenseI64ArrayAttr>(given)) {
      sizes.assign(attr.asArrayRef().begin(), attr.asArrayRef().end());
    } else if (tuned) {
      if (tuned->size() != rank)
        return op->emitError()
               << "tuning cache '" << tuningCache << "': the entry of this op "
               << "has " << tuned->size() << " tile sizes, expected " << rank;
      sizes = *tuned;
      if (llvm::any_of(sizes, [](int64_t s) { return s != 0; }))
        op->setAttr(kTuningKeyAttrName, StringAttr::get(op->getContext(), key));
    } else if (isa<MatmulOp>(op) && !matmulTileSizes.empty())
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
    FailureOr<std::optional<TuningCache>> loaded =
        loadTuningCacheFor(getOperation(), tuningCache);
    if (failed(loaded))
      return signalPassFailure();
    cache = std::move(*loaded);
    cpuName = getTuningCpuName(cpu);
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
      if (failed(tileLayer(rewriter, op, *sizes)))
        return signalPassFailure();
    }
  }
};
} // namespace
