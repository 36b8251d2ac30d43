//===- BitserialTilingInterface.cpp - TilingInterface for bitserial ops ---===//
//
// Matmul and conv2d expose their parallel output dimensions as the iteration
// domain; the reduction over packed words stays inside each tiled op, so a
// tile is again a bitserial op on slices of the packed operands.
//
//===----------------------------------------------------------------------===//

#include "Bitserial/IR/BitserialOps.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Interfaces/LoopLikeInterface.h"
#include "mlir/Interfaces/ValueBoundsOpInterface.h"

using namespace mlir;
using namespace mlir::bitserial;

/// Extracts the slice `offsets`/`sizes` (unit strides) of `source`, keeping
/// its encoding so that packed slices still decode.
static Value extractSlice(OpBuilder &b, Location loc, Value source,
                          ArrayRef<OpFoldResult> offsets,
                          ArrayRef<OpFoldResult> sizes,
                          SmallVectorImpl<Operation *> &slices) {
  auto sourceType = cast<RankedTensorType>(source.getType());
  SmallVector<int64_t> shape;
  for (OpFoldResult size : sizes)
    shape.push_back(getConstantIntValue(size).value_or(ShapedType::kDynamic));
  auto type = RankedTensorType::get(shape, sourceType.getElementType(),
                                    sourceType.getEncoding());
  SmallVector<OpFoldResult> strides(sizes.size(), b.getIndexAttr(1));
  auto slice = tensor::ExtractSliceOp::create(b, loc, type, source, offsets,
                                              sizes, strides);
  slices.push_back(slice);
  return slice;
}

/// The whole extent of every dimension of `value` from `first` on.
static void appendFullDims(OpBuilder &b, Location loc, Value value,
                           int64_t first, SmallVectorImpl<OpFoldResult> &offsets,
                           SmallVectorImpl<OpFoldResult> &sizes) {
  auto type = cast<RankedTensorType>(value.getType());
  for (int64_t i = first; i < type.getRank(); ++i) {
    offsets.push_back(b.getIndexAttr(0));
    sizes.push_back(tensor::getMixedSize(b, loc, value, i));
  }
}

/// The iteration domain of both ops is their output: a result tile and an
/// iteration tile are the same offsets and sizes.
static LogicalResult copyTile(ArrayRef<OpFoldResult> offsets,
                              ArrayRef<OpFoldResult> sizes,
                              SmallVectorImpl<OpFoldResult> &toOffsets,
                              SmallVectorImpl<OpFoldResult> &toSizes) {
  toOffsets.assign(offsets.begin(), offsets.end());
  toSizes.assign(sizes.begin(), sizes.end());
  return success();
}

static SmallVector<Range> getInitDomain(OpBuilder &b, Location loc,
                                        Value init) {
  SmallVector<Range> domain;
  auto type = cast<RankedTensorType>(init.getType());
  for (int64_t i = 0; i < type.getRank(); ++i)
    domain.push_back(Range{b.getIndexAttr(0),
                           tensor::getMixedSize(b, loc, init, i),
                           b.getIndexAttr(1)});
  return domain;
}

//===----------------------------------------------------------------------===//
// MatmulOp
//===----------------------------------------------------------------------===//

SmallVector<utils::IteratorType> MatmulOp::getLoopIteratorTypes() {
  return SmallVector<utils::IteratorType>(getInit().getType().getRank(),
                                          utils::IteratorType::parallel);
}

SmallVector<Range> MatmulOp::getIterationDomain(OpBuilder &b) {
  return getInitDomain(b, getLoc(), getInit());
}

FailureOr<TilingResult>
MatmulOp::getTiledImplementation(OpBuilder &b, ArrayRef<OpFoldResult> offsets,
                                 ArrayRef<OpFoldResult> sizes) {
  Location loc = getLoc();
  bool batched = isBatched();
  unsigned rowDim = batched ? 1 : 0;
  SmallVector<Operation *> slices;

  // A packed operand tile: the batch tile (if it has a batch), the row tile
  // (`dim` of the iteration domain), and every plane and word.
  auto sliceOperand = [&](Value operand, unsigned dim) {
    SmallVector<OpFoldResult> opOffsets, opSizes;
    auto type = cast<RankedTensorType>(operand.getType());
    if (type.getRank() == 4) {
      opOffsets.push_back(offsets[0]);
      opSizes.push_back(sizes[0]);
    }
    opOffsets.push_back(offsets[dim]);
    opSizes.push_back(sizes[dim]);
    appendFullDims(b, loc, operand, type.getRank() - 2, opOffsets, opSizes);
    return extractSlice(b, loc, operand, opOffsets, opSizes, slices);
  };
  Value lhs = sliceOperand(getLhs(), rowDim);
  Value rhs = sliceOperand(getRhs(), rowDim + 1);
  Value init = extractSlice(b, loc, getInit(), offsets, sizes, slices);
  auto tiled = MatmulOp::create(b, loc, init.getType(), lhs, rhs, init);
  return TilingResult{{tiled}, {tiled.getResult()}, slices};
}

LogicalResult MatmulOp::getResultTilePosition(
    OpBuilder &b, unsigned resultNumber, ArrayRef<OpFoldResult> offsets,
    ArrayRef<OpFoldResult> sizes, SmallVector<OpFoldResult> &resultOffsets,
    SmallVector<OpFoldResult> &resultSizes) {
  return copyTile(offsets, sizes, resultOffsets, resultSizes);
}

FailureOr<TilingResult>
MatmulOp::generateResultTileValue(OpBuilder &b, unsigned resultNumber,
                                  ArrayRef<OpFoldResult> offsets,
                                  ArrayRef<OpFoldResult> sizes) {
  return getTiledImplementation(b, offsets, sizes);
}

LogicalResult MatmulOp::getIterationDomainTileFromResultTile(
    OpBuilder &b, unsigned resultNumber, ArrayRef<OpFoldResult> resultOffsets,
    ArrayRef<OpFoldResult> resultSizes,
    SmallVectorImpl<OpFoldResult> &iterDomainOffsets,
    SmallVectorImpl<OpFoldResult> &iterDomainSizes) {
  return copyTile(resultOffsets, resultSizes, iterDomainOffsets,
                  iterDomainSizes);
}

//===----------------------------------------------------------------------===//
// Conv2DOp
//===----------------------------------------------------------------------===//

SmallVector<utils::IteratorType> Conv2DOp::getLoopIteratorTypes() {
  return SmallVector<utils::IteratorType>(4, utils::IteratorType::parallel);
}

SmallVector<Range> Conv2DOp::getIterationDomain(OpBuilder &b) {
  return getInitDomain(b, getLoc(), getInit());
}

/// True if `size` is `tensor.dim` of `tensor` along `dim`, looking through
/// the loop-carried values that tiling makes of a destination: the tiler sizes
/// an untiled dimension by the destination it started from, then passes the
/// loop's iteration argument as `init`.
static bool isDimOf(OpFoldResult size, Value tensor, unsigned dim) {
  auto value = dyn_cast<Value>(size);
  auto dimOp = value ? value.getDefiningOp<tensor::DimOp>() : nullptr;
  if (!dimOp || getConstantIntValue(dimOp.getIndex()) != int64_t(dim))
    return false;
  for (Value v = tensor; v;) {
    if (dimOp.getSource() == v)
      return true;
    auto arg = dyn_cast<BlockArgument>(v);
    auto loop = arg ? dyn_cast<LoopLikeOpInterface>(arg.getOwner()->getParentOp())
                    : nullptr;
    OpOperand *init = loop ? loop.getTiedLoopInit(arg) : nullptr;
    v = init ? init->get() : Value();
  }
  return false;
}

/// True if the tile covers the whole of iteration dimension `dim`, whether
/// its extent is static or not.
static bool coversWholeDim(Conv2DOp op, unsigned dim, OpFoldResult offset,
                           OpFoldResult size) {
  if (!isZeroInteger(offset))
    return false;
  int64_t extent = op.getInit().getType().getDimSize(dim);
  if (!ShapedType::isDynamic(extent))
    return getConstantIntValue(size) == extent;
  if (isDimOf(size, op.getInit(), dim))
    return true;
  FailureOr<bool> equal =
      ValueBoundsConstraintSet::areEqual(size, {op.getInit(), int64_t(dim)});
  return succeeded(equal) && *equal;
}

FailureOr<TilingResult>
Conv2DOp::getTiledImplementation(OpBuilder &b, ArrayRef<OpFoldResult> offsets,
                                 ArrayRef<OpFoldResult> sizes) {
  Location loc = getLoc();
  ArrayRef<int64_t> padding = getPadding();
  SmallVector<Operation *> slices;

  // Input window of each spatial axis. A tile of an unpadded axis reads rows
  // [o * s, (o + n - 1) * s + (k - 1) * d + 1); a padded axis must stay whole,
  // since a tile's padding would depend on its (dynamic) position.
  SmallVector<OpFoldResult> inOffsets{offsets[0]}, inSizes{sizes[0]};
  for (unsigned axis = 0; axis < 2; ++axis) {
    unsigned dim = axis + 1;
    bool padded = padding[2 * axis] != 0 || padding[2 * axis + 1] != 0;
    if (coversWholeDim(*this, dim, offsets[dim], sizes[dim])) {
      inOffsets.push_back(b.getIndexAttr(0));
      inSizes.push_back(tensor::getMixedSize(b, loc, getInput(), dim));
      continue;
    }
    if (padded)
      return emitOpError() << "cannot tile the padded "
                           << (axis == 0 ? "height" : "width")
                           << " dimension; tile batch, width/height without "
                              "padding, or output channels";
    int64_t stride = getStrides()[axis], dilation = getDilations()[axis];
    OpFoldResult kernel = tensor::getMixedSize(b, loc, getFilter(), dim);
    AffineExpr n, k;
    bindDims(b.getContext(), n, k);
    inOffsets.push_back(affine::makeComposedFoldedAffineApply(
        b, loc, n * stride, {offsets[dim]}));
    inSizes.push_back(affine::makeComposedFoldedAffineApply(
        b, loc, (n - 1) * stride + (k - 1) * dilation + 1, {sizes[dim], kernel}));
  }
  appendFullDims(b, loc, getInput(), 3, inOffsets, inSizes);
  Value input = extractSlice(b, loc, getInput(), inOffsets, inSizes, slices);

  SmallVector<OpFoldResult> filterOffsets{offsets[3]}, filterSizes{sizes[3]};
  appendFullDims(b, loc, getFilter(), 1, filterOffsets, filterSizes);
  Value filter =
      extractSlice(b, loc, getFilter(), filterOffsets, filterSizes, slices);
  Value init = extractSlice(b, loc, getInit(), offsets, sizes, slices);

  auto tiled =
      Conv2DOp::create(b, loc, init.getType(), input, filter, init,
                       getStridesAttr(), getPaddingAttr(), getDilationsAttr());
  return TilingResult{{tiled}, {tiled.getResult()}, slices};
}

LogicalResult Conv2DOp::getResultTilePosition(
    OpBuilder &b, unsigned resultNumber, ArrayRef<OpFoldResult> offsets,
    ArrayRef<OpFoldResult> sizes, SmallVector<OpFoldResult> &resultOffsets,
    SmallVector<OpFoldResult> &resultSizes) {
  return copyTile(offsets, sizes, resultOffsets, resultSizes);
}

FailureOr<TilingResult>
Conv2DOp::generateResultTileValue(OpBuilder &b, unsigned resultNumber,
                                  ArrayRef<OpFoldResult> offsets,
                                  ArrayRef<OpFoldResult> sizes) {
  return getTiledImplementation(b, offsets, sizes);
}

LogicalResult Conv2DOp::getIterationDomainTileFromResultTile(
    OpBuilder &b, unsigned resultNumber, ArrayRef<OpFoldResult> resultOffsets,
    ArrayRef<OpFoldResult> resultSizes,
    SmallVectorImpl<OpFoldResult> &iterDomainOffsets,
    SmallVectorImpl<OpFoldResult> &iterDomainSizes) {
  return copyTile(resultOffsets, resultSizes, iterDomainOffsets,
                  iterDomainSizes);
}
