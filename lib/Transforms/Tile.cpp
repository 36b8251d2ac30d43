//===- Tile.cpp - Tile bitserial ops for the caches -----------------------===//

#include "Bitserial/IR/BitserialOps.h"
#include "Bitserial/Transforms/Passes.h"
#include "Bitserial/Transforms/Transforms.h"

#include "mlir/Dialect/SCF/IR/SCF.h"
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
  ArrayRef<int64_t> padding = conv.getPadding();
  bool heightPadded = padding[0] != 0 || padding[1] != 0;
  if (!heightPadded && !ShapedType::isDynamic(input.getDimSize(2)) &&
      !ShapedType::isDynamic(init.getDimSize(2))) {
    int64_t channels = sizes[3] ? sizes[3] : init.getDimSize(3);
    int64_t perRow = conv.getStrides()[0] * input.getDimSize(2) *
                         packedRowBytes(input) +
                     init.getDimSize(2) * channels * 4;
    sizes[1] = fitMultiple(init.getDimSize(1), 1, perRow, budget / 2);
  }
  return sizes;
}

FailureOr<scf::SCFTilingResult>
mlir::bitserial::tileBitserialOp(RewriterBase &rewriter, TilingInterface op,
                                 ArrayRef<int64_t> tileSizes) {
  // A tile at least as large as a static extent leaves that axis whole.
  ArrayRef<int64_t> extents =
      cast<RankedTensorType>(op->getResult(0).getType()).getShape();
  SmallVector<int64_t> normalized(tileSizes);
  for (auto [size, extent] : llvm::zip(normalized, extents))
    if (!ShapedType::isDynamic(extent) && size >= extent)
      size = 0;
  tileSizes = normalized;
  // A padded spatial axis of a conv can only stay whole.
  if (auto conv = dyn_cast<Conv2DOp>(op.getOperation())) {
    ArrayRef<int64_t> padding = conv.getPadding();
    for (unsigned axis = 0; axis < 2; ++axis) {
      int64_t size = tileSizes[axis + 1];
      bool padded = padding[2 * axis] != 0 || padding[2 * axis + 1] != 0;
      if (padded && size != 0)
        return conv.emitOpError()
               << "cannot tile the padded " << (axis ? "width" : "height")
               << " dimension (tile size " << size
               << "); use 0 to keep it whole";
    }
  }
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

namespace {
struct BitserialTilePass
    : public bitserial::impl::BitserialTileBase<BitserialTilePass> {
  using Base::Base;

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
      size_t rank = op.getLoopIteratorTypes().size();
      SmallVector<int64_t> sizes;
      Attribute given = op->getAttr(kTileSizesAttr);
      if (given && !isa<DenseI64ArrayAttr>(given)) {
        op->emitError() << kTileSizesAttr
                        << " must be an array<i64: ...>, got " << given;
        return signalPassFailure();
      }
      if (auto attr = dyn_cast_or_null<DenseI64ArrayAttr>(given))
        sizes.assign(attr.asArrayRef().begin(), attr.asArrayRef().end());
      else if (isa<MatmulOp>(op) && !matmulTileSizes.empty())
        sizes.assign(matmulTileSizes.begin(), matmulTileSizes.end());
      else if (isa<Conv2DOp>(op) && !convTileSizes.empty())
        sizes.assign(convTileSizes.begin(), convTileSizes.end());
      else
        sizes = getDefaultTileSizes(op, cacheBytes);
      if (sizes.size() != rank) {
        op->emitError() << "expected " << rank << " tile sizes, got "
                        << sizes.size();
        return signalPassFailure();
      }
      if (llvm::any_of(sizes, [](int64_t s) { return s < 0; })) {
        op->emitError() << "tile sizes must be non-negative";
        return signalPassFailure();
      }
      if (llvm::all_of(sizes, [](int64_t s) { return s == 0; }))
        continue;
      if (failed(tileBitserialOp(rewriter, op, sizes)))
        return signalPassFailure();
    }
  }
};
} // namespace
