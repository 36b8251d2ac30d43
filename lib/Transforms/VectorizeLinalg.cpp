//===- VectorizeLinalg.cpp - Tile and vectorize named linalg ops ----------===//

#include "Bitserial/Transforms/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/Vector/Transforms/LoweringPatterns.h"
#include "mlir/Dialect/Vector/Transforms/VectorRewritePatterns.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::bitserial {
#define GEN_PASS_DEF_BITSERIALVECTORIZELINALG
#include "Bitserial/Transforms/Passes.h.inc"
} // namespace mlir::bitserial

using namespace mlir;

/// The largest divisor of `extent` that is at most `cap`: tiles of static
/// shape, which vectorize without masks.
static int64_t divisorAtMost(int64_t extent, int64_t cap) {
  for (int64_t size = std::min(extent, cap); size > 1; --size)
    if (extent % size == 0)
      return size;
  return 1;
}

/// Static shapes, integer or float elements, tensor semantics.
static bool isCandidate(linalg::LinalgOp op) {
  if (!op.hasPureTensorSemantics() || op.hasDynamicShape())
    return false;
  for (Value operand : op->getOperands()) {
    Type element = getElementTypeOrSelf(operand.getType());
    if (!element.isIntOrFloat())
      return false;
  }
  return true;
}

/// Tile sizes (per loop) of the ops this pass tiles, or an empty list.
static SmallVector<int64_t> getTileSizes(linalg::LinalgOp op) {
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  if (isa<linalg::MatmulOp>(op.getOperation()) && ranges.size() == 3)
    return {divisorAtMost(ranges[0], 4), divisorAtMost(ranges[1], 16),
            divisorAtMost(ranges[2], 16)};
  if (isa<linalg::BatchMatmulOp>(op.getOperation()) && ranges.size() == 4)
    return {1, divisorAtMost(ranges[1], 4), divisorAtMost(ranges[2], 16),
            divisorAtMost(ranges[3], 16)};
  // (n, oh, ow, f, kh, kw, c): one output row, one window row.
  if (isa<linalg::Conv2DNhwcHwcfOp>(op.getOperation()) && ranges.size() == 7)
    return {1, 1, divisorAtMost(ranges[2], 8), divisorAtMost(ranges[3], 16),
            1, 0, divisorAtMost(ranges[6], 8)};
  // (n, oh, ow, c, kh, kw).
  if (isa<linalg::PoolingNhwcMaxOp, linalg::PoolingNhwcMinOp,
          linalg::PoolingNhwcSumOp>(op.getOperation()) &&
      ranges.size() == 6)
    return {1, 1, divisorAtMost(ranges[2], 8), divisorAtMost(ranges[3], 32),
            1, 0};
  return {};
}

/// What linalg::vectorize turns into vector code here (after tiling and the
/// 1-D decomposition): register-sized ops, not ones tiling left whole.
static bool isVectorizable(linalg::LinalgOp op) {
  // Dynamic loops stay scalar: vectorizing them needs explicit vector sizes.
  constexpr int64_t kMaxIterations = int64_t(1) << 15;
  int64_t iterations = 1;
  for (int64_t range : op.getStaticLoopRanges()) {
    if (ShapedType::isDynamic(range) ||
        (range != 0 && iterations > kMaxIterations / range))
      return false;
    iterations *= range;
  }
  return iterations <= kMaxIterations &&
         isa<linalg::MatmulOp, linalg::BatchMatmulOp, linalg::Conv1DNwcWcfOp,
             linalg::PoolingNwcMaxOp, linalg::PoolingNwcMinOp,
             linalg::PoolingNwcSumOp>(op.getOperation()) &&
         isCandidate(op);
}

namespace {
struct BitserialVectorizeLinalgPass
    : public bitserial::impl::BitserialVectorizeLinalgBase<
          BitserialVectorizeLinalgPass> {
  void runOnOperation() override {
    Operation *root = getOperation();
    MLIRContext *context = &getContext();
    IRRewriter rewriter(context);

    // 1. Tile.
    SmallVector<linalg::LinalgOp> toTile;
    root->walk([&](linalg::LinalgOp op) {
      if (isCandidate(op) && !getTileSizes(op).empty())
        toTile.push_back(op);
    });
    for (linalg::LinalgOp op : toTile) {
      SmallVector<int64_t> sizes = getTileSizes(op);
      SmallVector<int64_t> ranges = op.getStaticLoopRanges();
      // A single tile: nothing to tile.
      bool whole = true;
      for (auto [size, range] : llvm::zip(sizes, ranges))
        whole &= size == 0 || size == range;
      if (whole)
        continue;
      scf::SCFTilingOptions options;
      SmallVector<OpFoldResult> tileSizes;
      for (int64_t size : sizes)
        tileSizes.push_back(rewriter.getIndexAttr(size));
      options.setTileSizes(tileSizes);
      rewriter.setInsertionPoint(op);
      FailureOr<scf::SCFTilingResult> tiled = scf::tileUsingSCF(
          rewriter, cast<TilingInterface>(op.getOperation()), options);
      if (failed(tiled))
        continue; // The op keeps the loop lowering.
      rewriter.replaceOp(op, tiled->replacements);
    }

    // 2. Tiles with one window row become 1-D convolutions and pools.
    {
      RewritePatternSet patterns(context);
      linalg::populateDecomposeConvolutionPatterns(patterns);
      tensor::populateFoldTensorEmptyPatterns(patterns);
      if (failed(applyPatternsGreedily(root, std::move(patterns))))
        return signalPassFailure();
    }

    // 3. Vectorize.
    SmallVector<linalg::LinalgOp> toVectorize;
    root->walk([&](linalg::LinalgOp op) {
      if (isVectorizable(op) && succeeded(linalg::vectorizeOpPrecondition(op)))
        toVectorize.push_back(op);
    });
    for (linalg::LinalgOp op : toVectorize) {
      rewriter.setInsertionPoint(op);
      // Matmuls straight to vector.contract (not mul + multi_reduction),
      // which lowers to outer products.
      FailureOr<linalg::VectorizationResult> result = linalg::vectorize(
          rewriter, op, /*inputVectorSizes=*/{}, /*inputScalableVecDims=*/{},
          /*vectorizeNDExtract=*/false, /*flatten1DDepthwiseConv=*/false,
          /*assumeDynamicDimsMatchVecSizes=*/false,
          /*createNamedContraction=*/true);
      if (failed(result))
        continue;
      rewriter.replaceOp(op, result->replacements);
    }

    // 4. Contractions to outer products (FMA chains), transfers to forms
    // that lower to plain loads and stores.
    RewritePatternSet patterns(context);
    vector::populateVectorContractLoweringPatterns(
        patterns, vector::VectorContractLowering::OuterProduct);
    vector::populateVectorTransferPermutationMapLoweringPatterns(patterns);
    vector::populateVectorReductionToContractPatterns(patterns);
    vector::populateSinkVectorOpsPatterns(patterns);
    vector::TransferReadOp::getCanonicalizationPatterns(patterns, context);
    vector::TransferWriteOp::getCanonicalizationPatterns(patterns, context);
    if (failed(applyPatternsGreedily(root, std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
