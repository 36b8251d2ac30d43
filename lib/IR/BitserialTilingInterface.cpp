//===- BitserialTilingInterface.cpp - TilingInterface for bitserial ops ---===//
//
// Matmul and conv2d expose their parallel output dimensions as the iteration
// domain; the reduction over packed words stays inside each tiled op, so a
// tile is again a bitserial op on slices of the packed operands. Pack, unpack
// and the epilogues tile their leading (unpacked) axes.
//
//===----------------------------------------------------------------------===//

#include "Bitserial/IR/BitserialOps.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Interfaces/LoopLikeInterface.h"
#include "mlir/Interfaces/ValueBoundsOpInterface.h"

#include <functional>

using namespace mlir;
using namespace mlir::bitserial;

/// Gives a tile the discardable attributes of the op it is a tile of (the
/// user's kernel choices, a tuning key), as `clone` would, except the tile
/// sizes it was made with.
static void inheritAttributes(Operation *tile, Operation *op) {
  for (NamedAttribute attr : op->getDiscardableAttrs())
    if (attr.getName() != kTileSizesAttrName)
      tile->setDiscardableAttr(attr.getName(), attr.getValue());
}

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
  inheritAttributes(tiled, *this);
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
  if (dimOp && getConstantIntValue(dimOp.getIndex()) != int64_t(dim))
    dimOp = nullptr;
  for (Value v = tensor; v;) {
    if (dimOp && dimOp.getSource() == v)
      return true;
    // tensor.dim of a slice folds to the slice's size.
    if (auto slice = v.getDefiningOp<tensor::ExtractSliceOp>())
      if (slice.getType().getRank() == slice.getSourceType().getRank() &&
          isEqualConstantIntOrValue(slice.getMixedSizes()[dim], size))
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
  // Value bounds read loop-carried values through the loop's terminator, which
  // a loop being built by a tiling driver does not have yet.
  for (Operation *parent = op->getParentOp();
       parent && !parent->hasTrait<OpTrait::IsIsolatedFromAbove>();
       parent = parent->getParentOp())
    if (llvm::any_of(parent->getRegions(), [](Region &region) {
          return llvm::any_of(region, [](Block &block) {
            return !block.mightHaveTerminator();
          });
        }))
      return false;
  FailureOr<bool> equal =
      ValueBoundsConstraintSet::areEqual(size, {op.getInit(), int64_t(dim)});
  return succeeded(equal) && *equal;
}

namespace {
/// One spatial axis of a conv2d tile: the input rows (or columns) it reads and
/// the padding around them. Padding is an OpFoldResult: constant when the
/// tile's position is, or when the axis has no padding.
struct AxisWindow {
  OpFoldResult offset, size, padBefore, padAfter;
  /// The tile's output offset and size on this axis.
  OpFoldResult outOffset, outSize;
  bool whole = false;
};
} // namespace

static bool isConstant(OpFoldResult ofr) {
  return getConstantIntValue(ofr).has_value();
}

/// The input window of output tile [o, o + n) along `axis`. An unpadded axis
/// reads [o * s, (o + n - 1) * s + (k - 1) * d + 1). A padded one reads that
/// window shifted by the leading padding and clamped to the input: the part
/// clamped away is the tile's own padding, so the tile is again a conv2d,
/// whose padding depends on its position (constant when the position is).
static AxisWindow getAxisWindow(OpBuilder &b, Location loc, Conv2DOp op,
                                unsigned axis, OpFoldResult o, OpFoldResult n) {
  unsigned dim = axis + 1;
  AxisWindow w;
  w.outOffset = o;
  w.outSize = n;
  int64_t padBefore = op.getPadding()[2 * axis];
  int64_t padAfter = op.getPadding()[2 * axis + 1];
  OpFoldResult extent = tensor::getMixedSize(b, loc, op.getInput(), dim);
  if (coversWholeDim(op, dim, o, n)) {
    w.whole = true;
    w.offset = b.getIndexAttr(0);
    w.size = extent;
    w.padBefore = b.getIndexAttr(padBefore);
    w.padAfter = b.getIndexAttr(padAfter);
    return w;
  }
  int64_t s = op.getStrides()[axis], d = op.getDilations()[axis];
  OpFoldResult kernel = tensor::getMixedSize(b, loc, op.getFilter(), dim);
  AffineExpr d0, d1, d2, d3;
  bindDims(b.getContext(), d0, d1, d2, d3);
  // span = (n - 1) * s + (k - 1) * d + 1, over d1 = n, d2 = k.
  AffineExpr span = (d1 - 1) * s + (d2 - 1) * d + 1;
  if (padBefore == 0 && padAfter == 0) {
    w.offset = affine::makeComposedFoldedAffineApply(b, loc, d0 * s, {o});
    w.size = affine::makeComposedFoldedAffineApply(
        b, loc, span.replaceDims({d0, d0, d1}), {n, kernel});
    w.padBefore = w.padAfter = b.getIndexAttr(0);
    return w;
  }
  MLIRContext *ctx = b.getContext();
  SmallVector<OpFoldResult> operands{o, n, kernel, extent};
  auto maxOf = [&](ArrayRef<AffineExpr> exprs,
                   ArrayRef<OpFoldResult> ops) -> OpFoldResult {
    return affine::makeComposedFoldedAffineMax(
        b, loc, AffineMap::get(ops.size(), 0, exprs, ctx), ops);
  };
  auto minOf = [&](ArrayRef<AffineExpr> exprs,
                   ArrayRef<OpFoldResult> ops) -> OpFoldResult {
    return affine::makeComposedFoldedAffineMin(
        b, loc, AffineMap::get(ops.size(), 0, exprs, ctx), ops);
  };
  // Window [begin, end) in input coordinates, clamped to [0, H).
  AffineExpr begin = d0 * s - padBefore, end = begin + span;
  OpFoldResult first =
      minOf({d0, d1},
            {maxOf({begin, getAffineConstantExpr(0, ctx)}, operands), extent});
  OpFoldResult last =
      minOf({d0, d1},
            {maxOf({end, getAffineConstantExpr(0, ctx)}, operands), extent});
  w.size =
      affine::makeComposedFoldedAffineApply(b, loc, d1 - d0, {first, last});
  // An empty window starts inside the input too: a static offset at the
  // extent is out of bounds for tensor.extract_slice.
  w.offset = maxOf({d0, getAffineConstantExpr(0, ctx)},
                   {minOf({d0, d1 - 1}, {first, extent})});
  // Leading padding: max(0, -begin), at most the span (a window entirely
  // past the input reads nothing and pads all of it); trailing: the rest.
  w.padBefore =
      minOf({d0, d1},
            {maxOf({-begin, getAffineConstantExpr(0, ctx)}, operands),
             affine::makeComposedFoldedAffineApply(b, loc, span, operands)});
  w.padAfter = affine::makeComposedFoldedAffineApply(
      b, loc, d0 - d1 - d2,
      {affine::makeComposedFoldedAffineApply(b, loc, span, operands),
       w.padBefore, w.size});
  return w;
}

static RankedTensorType withShape(RankedTensorType type,
                                  ArrayRef<OpFoldResult> sizes) {
  SmallVector<int64_t> shape;
  for (OpFoldResult size : sizes)
    shape.push_back(getConstantIntValue(size).value_or(ShapedType::kDynamic));
  return RankedTensorType::get(shape, type.getElementType(),
                               type.getEncoding());
}

/// A conv2d on `input` (already sliced) with the filter's output channels
/// [co, co + nco), kernel row (column) `taps[axis]` where it is set and all
/// of them elsewhere, accumulating into `init`.
static Value buildConvTile(OpBuilder &b, Location loc, Conv2DOp op, Value input,
                           OpFoldResult co, OpFoldResult nco,
                           ArrayRef<std::optional<Value>> taps, Value init,
                           ArrayRef<int64_t> padding,
                           SmallVectorImpl<Operation *> &slices) {
  SmallVector<OpFoldResult> fOffsets{co}, fSizes{nco};
  for (unsigned axis = 0; axis < 2; ++axis) {
    if (taps[axis]) {
      fOffsets.push_back(*taps[axis]);
      fSizes.push_back(b.getIndexAttr(1));
    } else {
      fOffsets.push_back(b.getIndexAttr(0));
      fSizes.push_back(tensor::getMixedSize(b, loc, op.getFilter(), axis + 1));
    }
  }
  appendFullDims(b, loc, op.getFilter(), 3, fOffsets, fSizes);
  Value filter = extractSlice(b, loc, op.getFilter(), fOffsets, fSizes, slices);
  auto conv = Conv2DOp::create(
      b, loc, init.getType(), input, filter, init, op.getStridesAttr(),
      b.getDenseI64ArrayAttr(padding), op.getDilationsAttr());
  inheritAttributes(conv, op);
  return conv.getResult();
}

/// Exact fallback for a tile whose padding is not constant: one conv2d per
/// kernel row (column) of the axes in `split`, each over the output rows whose
/// input row for that tap lies inside the input, so none needs padding there.
static Value buildTapSplitTile(OpBuilder &b, Location loc, Conv2DOp op,
                               ArrayRef<AxisWindow> windows,
                               ArrayRef<bool> split,
                               ArrayRef<OpFoldResult> offsets,
                               ArrayRef<OpFoldResult> sizes, Value initTile,
                               SmallVectorImpl<Operation *> &slices) {
  MLIRContext *ctx = b.getContext();
  // Nested loops over the taps of the split axes, the tile as iter_arg.
  std::function<Value(OpBuilder &, Value, SmallVector<std::optional<Value>>,
                      unsigned)>
      build = [&](OpBuilder &b, Value acc,
                  SmallVector<std::optional<Value>> taps,
                  unsigned axis) -> Value {
    if (axis < 2 && split[axis]) {
      Value zero = arith::ConstantIndexOp::create(b, loc, 0);
      Value one = arith::ConstantIndexOp::create(b, loc, 1);
      Value kernel = getValueOrCreateConstantIndexOp(
          b, loc, tensor::getMixedSize(b, loc, op.getFilter(), axis + 1));
      auto loop = scf::ForOp::create(
          b, loc, zero, kernel, one, ValueRange{acc},
          [&](OpBuilder &b, Location loc, Value tap, ValueRange args) {
            SmallVector<std::optional<Value>> inner = taps;
            inner[axis] = tap;
            Value r = build(b, args[0], inner, axis + 1);
            scf::YieldOp::create(b, loc, r);
          });
      return loop.getResult(0);
    }
    if (axis < 2)
      return build(b, acc, taps, axis + 1);

    // Innermost: the sub-tile of each split axis that tap reads inside the
    // input, and the input slice for it.
    SmallVector<OpFoldResult> inOffsets{offsets[0]}, inSizes{sizes[0]};
    SmallVector<OpFoldResult> accOffsets{b.getIndexAttr(0)}, accSizes{sizes[0]};
    SmallVector<int64_t> padding;
    for (unsigned a = 0; a < 2; ++a) {
      const AxisWindow &w = windows[a];
      if (!split[a]) {
        inOffsets.push_back(w.offset);
        inSizes.push_back(w.size);
        accOffsets.push_back(b.getIndexAttr(0));
        accSizes.push_back(w.outSize);
        padding.push_back(*getConstantIntValue(w.padBefore));
        padding.push_back(*getConstantIntValue(w.padAfter));
        continue;
      }
      int64_t s = op.getStrides()[a], d = op.getDilations()[a];
      int64_t pad = op.getPadding()[2 * a];
      OpFoldResult extent = tensor::getMixedSize(b, loc, op.getInput(), a + 1);
      AffineExpr o, n, t, h;
      bindDims(ctx, o, n, t, h);
      SmallVector<OpFoldResult> ops{w.outOffset, w.outSize, *taps[a], extent};
      auto fold = [&](AffineExpr e, ArrayRef<OpFoldResult> operands) {
        return affine::makeComposedFoldedAffineApply(b, loc, e, operands);
      };
      auto clamp = [&](OpFoldResult v, OpFoldResult lo, OpFoldResult hi) {
        AffineExpr x, y;
        bindDims(ctx, x, y);
        OpFoldResult m = affine::makeComposedFoldedAffineMax(
            b, loc, AffineMap::get(2, 0, {x, y}, ctx), {v, lo});
        return affine::makeComposedFoldedAffineMin(
            b, loc, AffineMap::get(2, 0, {x, y}, ctx), {m, hi});
      };
      // Output rows r with 0 <= r * s + t * d - pad < H, relative to o.
      OpFoldResult rowBegin = fold((pad - t * d).ceilDiv(s) - o, ops);
      OpFoldResult rowEnd =
          fold((h - 1 + pad - t * d).floorDiv(s) + 1 - o, ops);
      OpFoldResult zero = b.getIndexAttr(0);
      OpFoldResult q0 = clamp(rowBegin, zero, w.outSize);
      OpFoldResult q1 = clamp(rowEnd, q0, w.outSize);
      AffineExpr x, y, z;
      bindDims(ctx, x, y, z);
      OpFoldResult count = fold(y - x, {q0, q1});
      // Inside the input also for an empty sub-tile (see getAxisWindow).
      OpFoldResult start =
          clamp(fold((x + z) * s + y * d - pad, {w.outOffset, *taps[a], q0}),
                zero, fold(x - 1, {extent}));
      start = affine::makeComposedFoldedAffineMax(
          b, loc, AffineMap::get(1, 0, {x, getAffineConstantExpr(0, ctx)}, ctx),
          {start});
      // (count - 1) * s + 1 rows, none for an empty sub-tile.
      OpFoldResult rows = affine::makeComposedFoldedAffineMax(
          b, loc,
          AffineMap::get(1, 0, {(x - 1) * s + 1, getAffineConstantExpr(0, ctx)},
                         ctx),
          {count});
      inOffsets.push_back(start);
      inSizes.push_back(rows);
      accOffsets.push_back(q0);
      accSizes.push_back(count);
      padding.push_back(0);
      padding.push_back(0);
    }
    appendFullDims(b, loc, op.getInput(), 3, inOffsets, inSizes);
    Value input =
        extractSlice(b, loc, op.getInput(), inOffsets, inSizes, slices);
    accOffsets.push_back(b.getIndexAttr(0));
    accSizes.push_back(sizes[3]);
    auto accType = cast<RankedTensorType>(acc.getType());
    SmallVector<OpFoldResult> unit(4, b.getIndexAttr(1));
    auto part = tensor::ExtractSliceOp::create(
        b, loc, withShape(accType, accSizes), acc, accOffsets, accSizes, unit);
    Value result = buildConvTile(b, loc, op, input, offsets[3], sizes[3], taps,
                                 part, padding, slices);
    return tensor::InsertSliceOp::create(b, loc, result, acc, accOffsets,
                                         accSizes, unit)
        .getResult();
  };
  return build(b, initTile, {std::nullopt, std::nullopt}, 0);
}

FailureOr<TilingResult>
Conv2DOp::getTiledImplementation(OpBuilder &b, ArrayRef<OpFoldResult> offsets,
                                 ArrayRef<OpFoldResult> sizes) {
  Location loc = getLoc();
  SmallVector<Operation *> slices;
  SmallVector<AxisWindow> windows;
  for (unsigned axis = 0; axis < 2; ++axis)
    windows.push_back(
        getAxisWindow(b, loc, *this, axis, offsets[axis + 1], sizes[axis + 1]));
  Value init = extractSlice(b, loc, getInit(), offsets, sizes, slices);

  // The padding of each axis, when constant, and the tile's input window.
  SmallVector<bool> dynamicPad;
  for (const AxisWindow &w : windows)
    dynamicPad.push_back(!isConstant(w.padBefore) || !isConstant(w.padAfter));
  auto sliceInput = [&](OpBuilder &b) {
    SmallVector<OpFoldResult> inOffsets{offsets[0]}, inSizes{sizes[0]};
    for (const AxisWindow &w : windows) {
      inOffsets.push_back(w.offset);
      inSizes.push_back(w.size);
    }
    appendFullDims(b, loc, getInput(), 3, inOffsets, inSizes);
    return extractSlice(b, loc, getInput(), inOffsets, inSizes, slices);
  };
  // Padding of the tile where every non-constant one is zero.
  SmallVector<int64_t> padding;
  for (const AxisWindow &w : windows) {
    padding.push_back(getConstantIntValue(w.padBefore).value_or(0));
    padding.push_back(getConstantIntValue(w.padAfter).value_or(0));
  }
  SmallVector<std::optional<Value>> noTaps(2);
  if (!dynamicPad[0] && !dynamicPad[1]) {
    Value result = buildConvTile(b, loc, *this, sliceInput(b), offsets[3],
                                 sizes[3], noTaps, init, padding, slices);
    return TilingResult{{result.getDefiningOp()}, {result}, slices};
  }

  // The tile's position is not constant: an interior tile (no padding) runs
  // one unpadded conv2d, a border tile splits by kernel taps.
  Value cond;
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  for (const AxisWindow &w : windows)
    for (OpFoldResult pad : {w.padBefore, w.padAfter}) {
      if (isConstant(pad))
        continue;
      Value isZero = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                           cast<Value>(pad), zero);
      cond = cond ? arith::AndIOp::create(b, loc, cond, isZero).getResult()
                  : isZero;
    }
  auto ifOp = scf::IfOp::create(b, loc, TypeRange{init.getType()}, cond,
                                /*withElseRegion=*/true);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(ifOp.thenBlock());
    Value result = buildConvTile(b, loc, *this, sliceInput(b), offsets[3],
                                 sizes[3], noTaps, init, padding, slices);
    scf::YieldOp::create(b, loc, result);
    b.setInsertionPointToStart(ifOp.elseBlock());
    Value split = buildTapSplitTile(b, loc, *this, windows, dynamicPad, offsets,
                                    sizes, init, slices);
    scf::YieldOp::create(b, loc, split);
  }
  return TilingResult{{ifOp}, {ifOp.getResult(0)}, slices};
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

//===----------------------------------------------------------------------===//
// Value ops: pack, unpack and the epilogues
//===----------------------------------------------------------------------===//
//
// They have no destination; tiling gives them a `tensor.empty` one. Their
// iteration domain is the leading axes of their source (input or
// accumulator): the packed axis (pack's and threshold's innermost, unpack's
// planes and words) stays whole, since a slice of a packed axis would change
// its length. Requantize and dequantize tile every axis, with their
// per-channel parameters sliced along the channel.

/// The first `rank` extents of `source` as an iteration domain.
static SmallVector<Range> getLeadingDomain(OpBuilder &b, Location loc,
                                           Value source, int64_t rank) {
  SmallVector<Range> domain;
  for (int64_t i = 0; i < rank; ++i)
    domain.push_back(Range{b.getIndexAttr(0),
                           tensor::getMixedSize(b, loc, source, i),
                           b.getIndexAttr(1)});
  return domain;
}

/// The result tile of iteration tile `offsets`/`sizes`: the same leading
/// offsets and sizes, then every trailing axis of `result` whole.
static void getLeadingResultTile(OpBuilder &b, Location loc, Value result,
                                 ArrayRef<OpFoldResult> offsets,
                                 ArrayRef<OpFoldResult> sizes,
                                 SmallVectorImpl<OpFoldResult> &resultOffsets,
                                 SmallVectorImpl<OpFoldResult> &resultSizes) {
  resultOffsets.assign(offsets.begin(), offsets.end());
  resultSizes.assign(sizes.begin(), sizes.end());
  auto type = cast<RankedTensorType>(result.getType());
  for (int64_t i = offsets.size(); i < type.getRank(); ++i) {
    resultOffsets.push_back(b.getIndexAttr(0));
    resultSizes.push_back(b.getIndexAttr(type.getDimSize(i)));
  }
}

/// The iteration tile of a result tile: its leading offsets and sizes, if the
/// trailing (packed) axes are whole (they are static). Fusion drivers ask this
/// of any slice, so a mismatch is a quiet failure: the producer stays unfused.
static LogicalResult getLeadingIterationTile(
    Operation *op, int64_t rank, ArrayRef<OpFoldResult> resultOffsets,
    ArrayRef<OpFoldResult> resultSizes, SmallVectorImpl<OpFoldResult> &offsets,
    SmallVectorImpl<OpFoldResult> &sizes) {
  auto type = cast<RankedTensorType>(op->getResult(0).getType());
  for (int64_t i = rank; i < type.getRank(); ++i)
    if (!isZeroInteger(resultOffsets[i]) ||
        getConstantIntValue(resultSizes[i]) != type.getDimSize(i))
      return failure(); // a part of a packed axis is no tile's result
  offsets.assign(resultOffsets.begin(), resultOffsets.begin() + rank);
  sizes.assign(resultSizes.begin(), resultSizes.begin() + rank);
  return success();
}

/// `source` sliced along its leading axes, its other axes whole.
static Value sliceLeading(OpBuilder &b, Location loc, Value source,
                          ArrayRef<OpFoldResult> offsets,
                          ArrayRef<OpFoldResult> sizes,
                          SmallVectorImpl<Operation *> &slices) {
  SmallVector<OpFoldResult> o(offsets), s(sizes);
  appendFullDims(b, loc, source, offsets.size(), o, s);
  return extractSlice(b, loc, source, o, s, slices);
}

/// The result type of a tile: the leading sizes, the rest of `type`.
static RankedTensorType getTileType(RankedTensorType type,
                                    ArrayRef<OpFoldResult> sizes) {
  SmallVector<int64_t> shape;
  for (OpFoldResult size : sizes)
    shape.push_back(getConstantIntValue(size).value_or(ShapedType::kDynamic));
  llvm::append_range(shape, type.getShape().drop_front(sizes.size()));
  return RankedTensorType::get(shape, type.getElementType(),
                               type.getEncoding());
}

/// The result shape: `source`'s leading extents, then the static rest.
static LogicalResult reifyLeading(OpBuilder &b, Operation *op, Value source,
                                  int64_t rank,
                                  ReifiedRankedShapedTypeDims &shapes) {
  auto type = cast<RankedTensorType>(op->getResult(0).getType());
  SmallVector<OpFoldResult> dims;
  for (int64_t i = 0; i < rank; ++i)
    dims.push_back(tensor::getMixedSize(b, op->getLoc(), source, i));
  for (int64_t i = rank; i < type.getRank(); ++i) {
    if (type.isDynamicDim(i))
      return failure();
    dims.push_back(b.getIndexAttr(type.getDimSize(i)));
  }
  shapes.push_back(dims);
  return success();
}

/// TilingInterface and ReifyRankedShapedTypeOpInterface methods of a value op
/// `OP` whose iteration domain is the first `RANK` axes of `SOURCE`; each op
/// defines getTiledImplementation itself.
#define BITSERIAL_VALUE_OP_TILING(OP, SOURCE, RANK)                            \
  SmallVector<utils::IteratorType> OP::getLoopIteratorTypes() {                \
    return SmallVector<utils::IteratorType>(RANK,                              \
                                            utils::IteratorType::parallel);    \
  }                                                                            \
  SmallVector<Range> OP::getIterationDomain(OpBuilder &b) {                    \
    return getLeadingDomain(b, getLoc(), SOURCE, RANK);                        \
  }                                                                            \
  LogicalResult OP::getResultTilePosition(                                     \
      OpBuilder &b, unsigned resultNumber, ArrayRef<OpFoldResult> offsets,     \
      ArrayRef<OpFoldResult> sizes, SmallVector<OpFoldResult> &resultOffsets,  \
      SmallVector<OpFoldResult> &resultSizes) {                                \
    getLeadingResultTile(b, getLoc(), getResult(), offsets, sizes,             \
                         resultOffsets, resultSizes);                          \
    return success();                                                          \
  }                                                                            \
  LogicalResult OP::getIterationDomainTileFromResultTile(                      \
      OpBuilder &b, unsigned resultNumber,                                     \
      ArrayRef<OpFoldResult> resultOffsets,                                    \
      ArrayRef<OpFoldResult> resultSizes,                                      \
      SmallVectorImpl<OpFoldResult> &offsets,                                  \
      SmallVectorImpl<OpFoldResult> &sizes) {                                  \
    return getLeadingIterationTile(*this, RANK, resultOffsets, resultSizes,    \
                                   offsets, sizes);                            \
  }                                                                            \
  FailureOr<TilingResult> OP::generateResultTileValue(                         \
      OpBuilder &b, unsigned resultNumber,                                     \
      ArrayRef<OpFoldResult> resultOffsets,                                    \
      ArrayRef<OpFoldResult> resultSizes) {                                    \
    SmallVector<OpFoldResult> offsets, sizes;                                  \
    if (failed(getIterationDomainTileFromResultTile(                           \
            b, resultNumber, resultOffsets, resultSizes, offsets, sizes)))     \
      return failure();                                                        \
    return getTiledImplementation(b, offsets, sizes);                          \
  }                                                                            \
  LogicalResult OP::reifyResultShapes(OpBuilder &b,                            \
                                      ReifiedRankedShapedTypeDims &shapes) {   \
    return reifyLeading(b, *this, SOURCE, RANK, shapes);                       \
  }

BITSERIAL_VALUE_OP_TILING(PackOp, getInput(),
                          getInput().getType().getRank() - 1)
BITSERIAL_VALUE_OP_TILING(UnpackOp, getInput(),
                          getInput().getType().getRank() - 2)
BITSERIAL_VALUE_OP_TILING(ThresholdOp, getAcc(),
                          getAcc().getType().getRank() - 1)
BITSERIAL_VALUE_OP_TILING(RequantizeOp, getAcc(), getAcc().getType().getRank())
BITSERIAL_VALUE_OP_TILING(DequantizeOp, getAcc(), getAcc().getType().getRank())

#undef BITSERIAL_VALUE_OP_TILING

FailureOr<TilingResult>
PackOp::getTiledImplementation(OpBuilder &b, ArrayRef<OpFoldResult> offsets,
                               ArrayRef<OpFoldResult> sizes) {
  SmallVector<Operation *> slices;
  Value input = sliceLeading(b, getLoc(), getInput(), offsets, sizes, slices);
  auto tiled =
      PackOp::create(b, getLoc(), getTileType(getType(), sizes), input);
  return TilingResult{{tiled}, {tiled.getResult()}, slices};
}

FailureOr<TilingResult>
UnpackOp::getTiledImplementation(OpBuilder &b, ArrayRef<OpFoldResult> offsets,
                                 ArrayRef<OpFoldResult> sizes) {
  SmallVector<Operation *> slices;
  Value input = sliceLeading(b, getLoc(), getInput(), offsets, sizes, slices);
  auto tiled =
      UnpackOp::create(b, getLoc(), getTileType(getType(), sizes), input);
  return TilingResult{{tiled}, {tiled.getResult()}, slices};
}

FailureOr<TilingResult>
ThresholdOp::getTiledImplementation(OpBuilder &b,
                                    ArrayRef<OpFoldResult> offsets,
                                    ArrayRef<OpFoldResult> sizes) {
  SmallVector<Operation *> slices;
  Value acc = sliceLeading(b, getLoc(), getAcc(), offsets, sizes, slices);
  auto tiled = ThresholdOp::create(b, getLoc(), getTileType(getType(), sizes),
                                   acc, getThresholds(), getDescending());
  return TilingResult{{tiled}, {tiled.getResult()}, slices};
}

/// A per-channel parameter `[C]` sliced like the channel (innermost) axis.
static Value sliceChannels(OpBuilder &b, Location loc, Value param,
                           ArrayRef<OpFoldResult> offsets,
                           ArrayRef<OpFoldResult> sizes,
                           SmallVectorImpl<Operation *> &slices) {
  return extractSlice(b, loc, param, {offsets.back()}, {sizes.back()}, slices);
}

FailureOr<TilingResult>
RequantizeOp::getTiledImplementation(OpBuilder &b,
                                     ArrayRef<OpFoldResult> offsets,
                                     ArrayRef<OpFoldResult> sizes) {
  Location loc = getLoc();
  SmallVector<Operation *> slices;
  Value acc = sliceLeading(b, loc, getAcc(), offsets, sizes, slices);
  Value multiplier =
      sliceChannels(b, loc, getMultiplier(), offsets, sizes, slices);
  Value shift = sliceChannels(b, loc, getShift(), offsets, sizes, slices);
  auto tiled = RequantizeOp::create(b, loc, getTileType(getType(), sizes), acc,
                                    multiplier, shift, getZeroPointAttr(),
                                    getClampAttr());
  return TilingResult{{tiled}, {tiled.getResult()}, slices};
}

FailureOr<TilingResult>
DequantizeOp::getTiledImplementation(OpBuilder &b,
                                     ArrayRef<OpFoldResult> offsets,
                                     ArrayRef<OpFoldResult> sizes) {
  Location loc = getLoc();
  SmallVector<Operation *> slices;
  Value acc = sliceLeading(b, loc, getAcc(), offsets, sizes, slices);
  Value scale = sliceChannels(b, loc, getScale(), offsets, sizes, slices);
  Value bias = sliceChannels(b, loc, getBias(), offsets, sizes, slices);
  auto tiled = DequantizeOp::create(b, loc, getTileType(getType(), sizes), acc,
                                    scale, bias);
  return TilingResult{{tiled}, {tiled.getResult()}, slices};
}
