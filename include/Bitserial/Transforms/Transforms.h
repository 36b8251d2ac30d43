//===- Transforms.h - Bitserial transformations -----------------*- C++ -*-===//

#ifndef BITSERIAL_TRANSFORMS_TRANSFORMS_H
#define BITSERIAL_TRANSFORMS_TRANSFORMS_H

#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Interfaces/TilingInterface.h"

namespace mlir::bitserial {

/// Default tile sizes of a bitserial matmul or conv2d (see bitserial-tile):
/// one entry per iteration dimension, 0 meaning untiled.
SmallVector<int64_t> getDefaultTileSizes(TilingInterface op,
                                         int64_t cacheBytes);

/// Tiles `op` (a bitserial matmul or conv2d) with `tileSizes` into scf.for
/// loops and replaces it.
FailureOr<scf::SCFTilingResult> tileBitserialOp(RewriterBase &rewriter,
                                                TilingInterface op,
                                                ArrayRef<int64_t> tileSizes);

/// Tiles `op` like tileBitserialOp; a conv2d tiled along a padded axis is
/// first split at the border rows (columns) whose windows read padding, so
/// every tile has constant padding: interior tiles none, border parts (kept
/// whole along that axis) the op's.
LogicalResult tileLayer(RewriterBase &rewriter, TilingInterface op,
                        ArrayRef<int64_t> tileSizes);

/// Tiles `epilogue` (a threshold, requantize or dequantize whose accumulator
/// `producer`, a matmul or conv2d, computes) with the producer's `tileSizes`
/// and fuses the producer into each tile (a threshold keeps its channels
/// whole: the producer's channel tiles become a loop inside). A conv2d's
/// padded tiled axes are split at their borders first, as in tileLayer.
/// Replaces both.
LogicalResult tileEpilogueChain(RewriterBase &rewriter,
                                TilingInterface epilogue,
                                TilingInterface producer,
                                ArrayRef<int64_t> tileSizes);

} // namespace mlir::bitserial

#endif // BITSERIAL_TRANSFORMS_TRANSFORMS_H
