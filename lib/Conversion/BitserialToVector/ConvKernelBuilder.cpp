//===- ConvKernelBuilder.cpp - The bitserial vector micro-kernel ----------===//
//
// Lowers bitserial.conv2d (and bitserial.matmul as a 1x1 convolution) to a
// register-blocked micro-kernel on tensors:
//
//   for n, oh, ow0 (step PB), cob0 (step QB):          // output block
//     for i < planes(input), j < planes(filter):        // plane pairs
//       for kh, kw, cw (chunks of <= 31 steps):
//         bytes[p][q] += ctpop_i8(bcast(X[n, row, col(p), i, cw])
//                                 & Fr[cob0 + q, kh, kw, j, cw, :])
//         (then widen bytes to i64 lanes)
//       acc[p][q] += weight(i, j) * widened              // shift, +-
//     out[n, oh, ow0 + p, lanes of cob0 + q] = init + acc + corrections
//
// A byte lane gains at most 8 per step, so 31 steps fit in 8 bits. The
// filter is re-laid out as [CO / lanes, KH, KW, planes, words, lanes] so that
// one load gives one word of `lanes` output channels. The kernel's input X
// is a copy of the input with zero words around (exact for AND terms), and
// only the rows (columns) a 1-wide window reads. With nibble lookups, X and
// the filter hold two halves of each word (low and high nibbles, see
// MicroKernelShape::nibbleLookup) and a step counts both. Bipolar
// corrections are separate:
//   weights bipolar:     bW * sum(d) * S_A[n, oh, ow]       (activation bits)
//   activations bipolar: sum over taps inside the input of T[co, kh, kw]
// with T the filter's per-tap term, pre-summed over the taps inside the
// input per class of output row and column (W: each border row or column
// its own class, the interior one class), so the epilogue adds one vector.
//
//===----------------------------------------------------------------------===//

#include "ConvKernelBuilder.h"
#include "Bitserial/Conversion/BitserialToLinalg/BitserialToLinalg.h"

#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Matchers.h"
#include "llvm/Support/SaveAndRestore.h"

#include <functional>

using namespace mlir;
using namespace mlir::bitserial;

/// The low nibble of every byte: a nibble lookup's index.
static constexpr uint64_t kLowNibbles = 0x0f0f0f0f0f0f0f0fULL;

Value ConvKernelBuilder::planeWeight(Value plane, PackedLayoutAttr layout) {
  return buildPlaneWeight(b, loc, plane, layout);
}

Value ConvKernelBuilder::weightedCount(Location at, Value word,
                                       int64_t planeDim,
                                       PackedLayoutAttr layout,
                                       int64_t factor) {
  Value count = math::CtPopOp::create(b, at, word);
  Value weight = arith::MulIOp::create(
      b, at, planeWeight(linalg::IndexOp::create(b, at, planeDim), layout),
      constI64(factor));
  return arith::MulIOp::create(b, at, count, weight);
}

Value ConvKernelBuilder::buildIndexedTensor(
    ArrayRef<OpFoldResult> sizes,
    llvm::function_ref<Value(Location, ArrayRef<Value>)> element,
    Type elementType) {
  int64_t rank = sizes.size();
  Value empty =
      tensor::EmptyOp::create(b, loc, sizes, elementType ? elementType : i64);
  SmallVector<AffineMap> maps{b.getMultiDimIdentityMap(rank)};
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  auto generic = linalg::GenericOp::create(
      b, loc, empty.getType(), ValueRange{}, ValueRange{empty}, maps, iterators,
      [&](OpBuilder &nb, Location nloc, ValueRange) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(nb.getInsertionBlock(), nb.getInsertionPoint());
        SmallVector<Value> idx;
        for (int64_t d = 0; d < rank; ++d)
          idx.push_back(linalg::IndexOp::create(b, nloc, d));
        linalg::YieldOp::create(b, nloc, element(nloc, idx));
      });
  return generic.getResult(0);
}

Value ConvKernelBuilder::buildCopyNest(
    ArrayRef<Value> uppers, Value init,
    llvm::function_ref<void(int64_t, ArrayRef<Value>)> enter,
    llvm::function_ref<Value(ArrayRef<Value>, ArrayRef<Value>, Value)> body,
    int64_t unrolled, const CopySegments *segments) {
  // With threads, the first two levels are an scf.forall whose iterations
  // write their own slice of `init` (indices 0 on those levels), also when
  // the copy is small: the pipeline runs it in the kernel's parallel region
  // (bitserial-merge-parallel-regions), where each thread copies about the
  // rows its kernel rows read. A serial copy made the other core read them
  // across the chip: on the 2-vCPU Zen 5, with 0.5 us between its cores,
  // that cost ResNet-18's C4 at 1 x 1 bits 4 us of 24.
  int64_t split =
      threads ? std::min<int64_t>(2, int64_t(uppers.size()) - 1) : 0;
  unrolled = std::min<int64_t>(unrolled, int64_t(uppers.size()) - split);
  SmallVector<Value> ivs;
  std::function<Value(Value)> nest = [&](Value dest) -> Value {
    int64_t level = ivs.size();
    if (level == int64_t(uppers.size())) {
      SmallVector<Value> writeIvs(ivs);
      for (int64_t d = 0; d < split; ++d)
        writeIvs[d] = index(0);
      return body(ivs, writeIvs, dest);
    }
    if (level >= int64_t(uppers.size()) - unrolled) {
      for (int64_t v = 0, e = *getConstantIntValue(uppers[level]); v < e; ++v) {
        ivs.push_back(index(v));
        enter(level, ivs);
        dest = nest(dest);
        ivs.pop_back();
      }
      return dest;
    }
    auto loop = [&](Value lower, Value upper, Value carried) -> Value {
      return scf::ForOp::create(
                 b, loc, lower, upper, index(1), ValueRange{carried},
                 [&](OpBuilder &nb, Location, Value iv, ValueRange args) {
                   OpBuilder::InsertionGuard guard(b);
                   b.setInsertionPoint(nb.getInsertionBlock(),
                                       nb.getInsertionPoint());
                   ivs.push_back(iv);
                   enter(level, ivs);
                   Value next = nest(args[0]);
                   ivs.pop_back();
                   scf::YieldOp::create(b, loc, next);
                 })
          .getResult(0);
    };
    if (!segments || segments->level != level)
      return loop(index(0), uppers[level], dest);
    SmallVector<Value> bounds{index(0)};
    llvm::append_range(bounds, segments->bounds(ivs));
    bounds.push_back(uppers[level]);
    for (size_t s = 0; s + 1 < bounds.size(); ++s) {
      segments->begin(s);
      dest = loop(bounds[s], bounds[s + 1], dest);
    }
    return dest;
  };
  assert((!segments || (segments->level >= std::max<int64_t>(split, 0) &&
                        segments->level < int64_t(uppers.size()) - unrolled)) &&
         "a split copy level must be a plain loop");
  if (split <= 0)
    return nest(init);
  SmallVector<OpFoldResult> bounds(getAsOpFoldResult(uppers.take_front(split)));
  auto forall =
      scf::ForallOp::create(b, loc, bounds, ValueRange{init}, std::nullopt);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(forall.getBody());
  for (int64_t d = 0; d < split; ++d) {
    ivs.push_back(forall.getInductionVar(d));
    enter(d, ivs);
  }
  Value shared = forall.getRegionIterArgs()[0];
  int64_t rank = cast<RankedTensorType>(shared.getType()).getRank();
  SmallVector<OpFoldResult> offsets, sizes, strides(rank, b.getIndexAttr(1));
  for (int64_t d = 0; d < rank; ++d) {
    offsets.push_back(d < split ? OpFoldResult(ivs[d])
                                : OpFoldResult(b.getIndexAttr(0)));
    sizes.push_back(d < split ? OpFoldResult(b.getIndexAttr(1))
                              : tensor::getMixedSize(b, loc, shared, d));
  }
  Value slice =
      tensor::ExtractSliceOp::create(b, loc, shared, offsets, sizes, strides);
  Value done = nest(slice);
  b.setInsertionPointToStart(forall.getTerminator().getBody());
  tensor::ParallelInsertSliceOp::create(b, loc, done, shared, offsets, sizes,
                                        strides);
  return forall.getResult(0);
}

/// Zero words around the input, plus room on the right for the last pixel
/// block to read past the last output column; only the rows (columns) read
/// along a subsampled axis. Loops over (n, row, column, plane, word) with
/// the bounds checks in the row and column loops, so that the innermost
/// loop only loads, selects and stores (a vector store of the duplicated
/// word with duplicateActivations) rather than tensor.pad, whose copy into a
/// strided view becomes a slow runtime call.
Value ConvKernelBuilder::buildKernelInput(Value n, Value row) {
  assert((!row || (kernelH == 1 && !threads)) &&
         "one row is the whole input of a serial 1x1 kernel's output row");
  int64_t extraW = (shape.pixelBlock - 1) * inputStrides[1];
  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(b, loc, pr.input);
  auto grow = [&](OpFoldResult size, int64_t extra) -> OpFoldResult {
    if (std::optional<int64_t> known = getConstantIntValue(size))
      return b.getIndexAttr(*known + extra);
    return arith::AddIOp::create(b, loc, cast<Value>(size), index(extra))
        .getResult();
  };
  sizes[1] = subsampled[0] ? tensor::getMixedSize(b, loc, pr.init, 1)
                           : grow(sizes[1], pr.padding[0] + pr.padding[1]);
  if (row)
    sizes[0] = sizes[1] = b.getIndexAttr(1);
  sizes[2] = grow(subsampled[1] ? tensor::getMixedSize(b, loc, pr.init, 2)
                                : grow(sizes[2], pr.padding[2] + pr.padding[3]),
                  extraW);
  SmallVector<Value> uppers =
      getValueOrCreateConstantIndexOp(b, loc, ArrayRef(sizes));
  if (nibbles)
    sizes.push_back(b.getIndexAttr(2));
  if (shape.duplicateActivations)
    sizes.push_back(b.getIndexAttr(lanes));
  Value height = dim(pr.input, 1), width = dim(pr.input, 2);
  auto source = [&](Value at, int axis) -> Value {
    Value scaled =
        subsampled[axis]
            ? arith::MulIOp::create(b, loc, at, index(pr.strides[axis]))
                  .getResult()
            : at;
    return arith::SubIOp::create(b, loc, scaled, index(pr.padding[2 * axis]));
  };
  // The columns run as three loops: left padding, the columns read, right
  // padding (and room for the last block), so that the middle loop loads
  // without a per-column check and LLVM vectorizes it.
  int64_t columnStep = subsampled[1] ? pr.strides[1] : 1;
  int64_t padLeft = pr.padding[2];
  auto columnBounds = [&](ArrayRef<Value> ivs) -> SmallVector<Value> {
    Value columns = uppers[2];
    Value first = b.createOrFold<arith::MinSIOp>(
        loc, index(llvm::divideCeil(padLeft, columnStep)), columns);
    Value end = b.createOrFold<arith::CeilDivSIOp>(
        loc, b.createOrFold<arith::AddIOp>(loc, width, index(padLeft)),
        index(columnStep));
    end = b.createOrFold<arith::MinSIOp>(
        loc, b.createOrFold<arith::MaxSIOp>(loc, end, first), columns);
    return {first, end};
  };
  int64_t columnSegment = 0;
  auto beginSegment = [&](int64_t segment) { columnSegment = segment; };
  CopySegments segments{2, columnBounds, beginSegment};
  Value rowInside, inside, rowClamped, colClamped;
  auto enter = [&](int64_t level, ArrayRef<Value> ivs) {
    if (level == 1) {
      // Unsigned compares also reject negative rows.
      Value at = source(row ? row : ivs[1], 0);
      rowInside =
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, at, height);
      rowClamped = arith::SelectOp::create(b, loc, rowInside, at, index(0));
    } else if (level == 2) {
      bool read = columnSegment == 1;
      inside = read ? rowInside
                    : arith::ConstantIntOp::create(b, loc, b.getI1Type(), 0)
                          .getResult();
      colClamped = read ? source(ivs[2], 1) : index(0);
    }
  };
  auto body = [&](ArrayRef<Value> ivs, ArrayRef<Value> writeIvs,
                  Value dest) -> Value {
    Value word = tensor::ExtractOp::create(
        b, loc, pr.input,
        ValueRange{n ? n : ivs[0], rowClamped, colClamped, ivs[3], ivs[4]});
    word = arith::SelectOp::create(b, loc, inside, word, constI64(0));
    for (int64_t h = 0; h < halves(); ++h) {
      Value half = word;
      if (nibbles)
        half = arith::AndIOp::create(
            b, loc, arith::ShRUIOp::create(b, loc, word, constI64(4 * h)),
            constI64(kLowNibbles));
      SmallVector<Value> at(writeIvs);
      if (nibbles)
        at.push_back(index(h));
      if (!shape.duplicateActivations) {
        dest = tensor::InsertOp::create(b, loc, half, dest, at);
        continue;
      }
      at.push_back(index(0));
      dest = vector::TransferWriteOp::create(
                 b, loc, vector::BroadcastOp::create(b, loc, wordVector, half),
                 dest, at, ArrayRef<bool>{true})
                 .getResult();
    }
    return dest;
  };
  return buildCopyNest(uppers, tensor::EmptyOp::create(b, loc, sizes, i64),
                       enter, body, copyLevelsToUnroll({planesA, words}),
                       &segments);
}

int64_t ConvKernelBuilder::copyLevelsToUnroll(ArrayRef<int64_t> extents) const {
  if (!shape.unrollSteps)
    return 0;
  int64_t levels = 0, bodies = 1;
  for (int64_t extent : llvm::reverse(extents)) {
    if (ShapedType::isDynamic(extent) || bodies * extent > kMaxUnrolledCopies)
      break;
    bodies *= extent;
    ++levels;
  }
  return levels;
}

void ConvKernelBuilder::setFlatInput(Value kernelInput) {
  if (!shape.duplicateActivations)
    return;
  // Steps address it as one vector of words (see reducePlanePair).
  int64_t rank = cast<RankedTensorType>(kernelInput.getType()).getRank();
  SmallVector<ReassociationIndices> all(1);
  for (int64_t d = 0; d < rank; ++d)
    all[0].push_back(d);
  flatInput = tensor::CollapseShapeOp::create(b, loc, kernelInput, all);
  inputHeight = dim(kernelInput, 1);
  inputWidth = dim(kernelInput, 2);
}

/// The shared rule (fitRegisterBlock in BitserialToVector.h), which the
/// cost model also uses.
void ConvKernelBuilder::fitRegisterBlock(int64_t outWidth) {
  std::tie(shape.pixelBlock, shape.channelBlock) =
      mlir::bitserial::fitRegisterBlock(shape, outWidth, channelsOut);
}

OpFoldResult ConvKernelBuilder::channelBlocksSize() {
  if (!ShapedType::isDynamic(channelBlocks))
    return b.getIndexAttr(channelBlocks);
  Value blocks =
      arith::CeilDivUIOp::create(b, loc, channelsOutValue, index(lanes));
  Value groups =
      arith::CeilDivUIOp::create(b, loc, blocks, index(shape.channelBlock));
  return arith::MulIOp::create(b, loc, groups, index(shape.channelBlock))
      .getResult();
}

/// [CO, KH, KW, Pb, CW] -> [blocks, KH, KW, Pb, CW, lanes], zero channels
/// past CO. With nibble lookups [blocks, KH, KW, Pb, CW, 2, lanes], where
/// half h of a word is `w >> 4h` (the activations' nibble masks clear what
/// the shift brings in), or with xorPairs `(w >> 4h) & 0x0f0f...`: XOR keeps
/// the high bits, which a lookup must not see.
Value ConvKernelBuilder::relayoutFilter() {
  SmallVector<int64_t> relaidShape{channelBlocks, kernelH, kernelW, planesB,
                                   words};
  if (nibbles)
    relaidShape.push_back(2);
  relaidShape.push_back(lanes);
  if (pr.filterConstant) {
    assert(!ShapedType::isDynamic(channelBlocks) && "constants are static");
    // Weights packed ahead of time, straight into micro-kernel order.
    SmallVector<APInt> source(pr.filterConstant.getValues<APInt>());
    int64_t perChannel = kernelH * kernelW * planesB * words;
    SmallVector<APInt> relaid(channelBlocks * perChannel * halves() * lanes,
                              APInt(64, 0));
    for (int64_t co = 0; co < channelsOut; ++co)
      for (int64_t e = 0; e < perChannel; ++e)
        for (int64_t h = 0; h < halves(); ++h)
          relaid[(((co / lanes) * perChannel + e) * halves() + h) * lanes +
                 co % lanes] = source[co * perChannel + e].lshr(4 * h) &
                               (nibbles && xorPairs ? APInt(64, kLowNibbles)
                                                    : APInt::getAllOnes(64));
    auto type = RankedTensorType::get(relaidShape, i64);
    return arith::ConstantOp::create(b, loc, type,
                                     DenseIntElementsAttr::get(type, relaid));
  }
  SmallVector<OpFoldResult> relaidSizes =
      getAsIndexOpFoldResult(b.getContext(), relaidShape);
  relaidSizes[0] = channelBlocksOfr;
  // Loops over (block, kh, kw, plane, word), each storing one vector of the
  // `lanes` channels' words (rather than a loop per word). Lanes past CO,
  // in blocks that round CO up, are zero.
  bool checked = ShapedType::isDynamic(channelsOut) ||
                 ShapedType::isDynamic(channelBlocks) ||
                 channelBlocks * lanes != channelsOut;
  SmallVector<Value> uppers{
      getValueOrCreateConstantIndexOp(b, loc, channelBlocksOfr), index(kernelH),
      index(kernelW), index(planesB), index(words)};
  SmallVector<Value> inRange(lanes), clamped(lanes);
  auto enter = [&](int64_t level, ArrayRef<Value> ivs) {
    if (level != 0)
      return;
    for (int64_t l = 0; l < lanes; ++l) {
      clamped[l] = affine(ivs[0], lanes, index(l), 1);
      if (!checked)
        continue;
      inRange[l] = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                         clamped[l], channelsOutValue);
      clamped[l] =
          arith::SelectOp::create(b, loc, inRange[l], clamped[l], index(0));
    }
  };
  auto body = [&](ArrayRef<Value> ivs, ArrayRef<Value> writeIvs,
                  Value dest) -> Value {
    SmallVector<Value> laneWords(lanes);
    for (int64_t l = 0; l < lanes; ++l) {
      laneWords[l] = tensor::ExtractOp::create(
          b, loc, pr.filter,
          ValueRange{clamped[l], ivs[1], ivs[2], ivs[3], ivs[4]});
      if (checked)
        laneWords[l] = arith::SelectOp::create(b, loc, inRange[l], laneWords[l],
                                               constI64(0));
    }
    for (int64_t h = 0; h < halves(); ++h) {
      SmallVector<Value> elements(laneWords);
      if (h)
        for (Value &word : elements)
          word = arith::ShRUIOp::create(b, loc, word, constI64(4 * h));
      if (nibbles && xorPairs)
        for (Value &word : elements)
          word = arith::AndIOp::create(b, loc, word, constI64(kLowNibbles));
      SmallVector<Value> at(writeIvs);
      if (nibbles)
        at.push_back(index(h));
      at.push_back(index(0));
      dest = vector::TransferWriteOp::create(
                 b, loc,
                 vector::FromElementsOp::create(b, loc, wordVector, elements),
                 dest, at, ArrayRef<bool>{true})
                 .getResult();
    }
    return dest;
  };
  return buildCopyNest(
      uppers, tensor::EmptyOp::create(b, loc, relaidSizes, i64), enter, body,
      copyLevelsToUnroll({kernelH, kernelW, planesB, words}));
}

/// P[n, h, w] = aA sum over planes i, words of c_i pc(X) for every pixel of
/// the kernel's input (the nibbles of a word count its bits).
Value ConvKernelBuilder::pixelBitCounts(Value kernelInput) {
  MLIRContext *ctx = b.getContext();
  auto inputType = cast<RankedTensorType>(kernelInput.getType());
  SmallVector<OpFoldResult> pixelSizes{
      tensor::getMixedSize(b, loc, kernelInput, 0),
      tensor::getMixedSize(b, loc, kernelInput, 1),
      tensor::getMixedSize(b, loc, kernelInput, 2)};
  Value pixelEmpty = tensor::EmptyOp::create(b, loc, pixelSizes, i64);
  // A pixel's words are contiguous (no duplicated lanes): vectors of 8
  // pixels, each word of a pixel every `stride`-th element of one read of
  // the row (scalar loops took about 7 us for a 56 x 56 layer).
  constexpr int64_t kLanes = 8, kMaxStride = 16;
  bool staticWords =
      !ShapedType::isDynamic(planesA) && !ShapedType::isDynamic(words);
  int64_t stride = staticWords ? planesA * words * halves() : 0;
  if (!shape.duplicateActivations && staticWords && stride <= kMaxStride) {
    SmallVector<ReassociationIndices> rows{{0}, {1}, {}};
    for (int64_t d = 2; d < inputType.getRank(); ++d)
      rows[2].push_back(d);
    Value flat = tensor::CollapseShapeOp::create(b, loc, kernelInput, rows);
    auto sumType = VectorType::get({kLanes}, i64);
    auto readType = VectorType::get({kLanes * stride}, i64);
    SmallVector<Value> uppers{
        dim(kernelInput, 0), dim(kernelInput, 1),
        arith::CeilDivUIOp::create(b, loc, dim(kernelInput, 2), index(kLanes))};
    return buildCopyNest(
        uppers, pixelEmpty, [](int64_t, ArrayRef<Value>) {},
        [&](ArrayRef<Value> ivs, ArrayRef<Value> writeIvs,
            Value dest) -> Value {
          Value w0 = arith::MulIOp::create(b, loc, ivs[2], index(kLanes));
          Value read = vector::TransferReadOp::create(
              b, loc, readType, flat,
              ValueRange{ivs[0], ivs[1],
                         arith::MulIOp::create(b, loc, w0, index(stride))},
              constI64(0), ArrayRef<bool>{false});
          Value sum = arith::ConstantOp::create(b, loc, b.getZeroAttr(sumType));
          for (int64_t e = 0; e < stride; ++e) {
            SmallVector<int64_t> lanes;
            for (int64_t l = 0; l < kLanes; ++l)
              lanes.push_back(l * stride + e);
            Value words = stride == 1 ? read
                                      : vector::ShuffleOp::create(b, loc, read,
                                                                  read, lanes)
                                            .getResult();
            int64_t plane = e / (this->words * halves());
            int64_t weight =
                getPlaneWeight(pr.inputLayout, plane) * decodeA.scale;
            Value count = math::CtPopOp::create(b, loc, words);
            sum = arith::AddIOp::create(
                b, loc, sum,
                arith::MulIOp::create(
                    b, loc, count,
                    arith::ConstantOp::create(
                        b, loc,
                        DenseElementsAttr::get(
                            sumType, b.getIntegerAttr(i64, weight)))));
          }
          return vector::TransferWriteOp::create(
                     b, loc, sum, dest,
                     ValueRange{writeIvs[0], writeIvs[1], w0},
                     ArrayRef<bool>{false})
              .getResult();
        });
  }
  // P: loops (n, h, w, i, cw[, half]); of duplicated words, lane 0.
  int64_t rank = inputType.getRank();
  if (shape.duplicateActivations)
    --rank;
  SmallVector<AffineExpr> d;
  for (int64_t k = 0; k < rank; ++k)
    d.push_back(getAffineDimExpr(k, ctx));
  SmallVector<AffineExpr> inputExprs(d);
  if (shape.duplicateActivations)
    inputExprs.push_back(getAffineConstantExpr(0, ctx));
  SmallVector<AffineMap> pixelMaps{
      AffineMap::get(rank, 0, inputExprs, ctx),
      AffineMap::get(rank, 0, {d[0], d[1], d[2]}, ctx)};
  SmallVector<utils::IteratorType> pixelIterators(
      3, utils::IteratorType::parallel);
  pixelIterators.append(rank - 3, utils::IteratorType::reduction);
  Value pixelInit =
      linalg::FillOp::create(b, loc, constI64(0), pixelEmpty).getResult(0);
  return linalg::GenericOp::create(
             b, loc, pixelInit.getType(), ValueRange{kernelInput},
             ValueRange{pixelInit}, pixelMaps, pixelIterators,
             [&](OpBuilder &nb, Location nloc, ValueRange args) {
               OpBuilder::InsertionGuard guard(b);
               b.setInsertionPoint(nb.getInsertionBlock(),
                                   nb.getInsertionPoint());
               Value term = weightedCount(nloc, args[0], 3, pr.inputLayout,
                                          decodeA.scale);
               linalg::YieldOp::create(
                   b, nloc,
                   Value(arith::AddIOp::create(b, nloc, args[1], term)));
             })
      .getResult(0);
}

/// S_A[n, oh, ow] = aA * sum over taps, planes i, words of c_i pc(X), from
/// the kernel's input: first the weighted count of every input pixel
/// (pixelBitCounts), then window sums of those (rather than KH * KW
/// recounts of every pixel's words). For 1x1 kernels P itself, whose
/// columns past OW the kernel does not read.
Value ConvKernelBuilder::activationBitCounts(Value kernelInput) {
  Value pixels = pixelBitCounts(kernelInput);
  // 1x1 kernels read a subsampled input: its pixel (oh, ow) is the one
  // window of output (oh, ow), so the window sums would copy P.
  if (kernelH == 1 && kernelW == 1)
    return pixels;
  // S_A[n, oh, ow]: loops (n, oh, chunks of kSumLanes columns), each chunk
  // the sum of KH x KW vectors of P (every stride-th element of a
  // contiguous read when the column stride is > 1). Scalar loops with the
  // window sum in memory took about 20 us for a 56 x 56 layer.
  constexpr int64_t kSumLanes = 8;
  SmallVector<OpFoldResult> sizes{tensor::getMixedSize(b, loc, pr.init, 0),
                                  tensor::getMixedSize(b, loc, pr.init, 1),
                                  tensor::getMixedSize(b, loc, pr.init, 2)};
  Value empty = tensor::EmptyOp::create(b, loc, sizes, i64);
  int64_t stride = inputStrides[1];
  auto sumType = VectorType::get({kSumLanes}, i64);
  auto readType = VectorType::get({kSumLanes * stride}, i64);
  SmallVector<int64_t> everyStride;
  for (int64_t l = 0; l < kSumLanes; ++l)
    everyStride.push_back(l * stride);
  SmallVector<Value> uppers{dim(pr.init, 0), dim(pr.init, 1), dim(pr.init, 2)};
  Value row;
  auto enter = [&](int64_t level, ArrayRef<Value> ivs) {
    if (level == 1)
      row = arith::MulIOp::create(b, loc, ivs[1], index(inputStrides[0]));
  };
  auto body = [&](ArrayRef<Value> ivs, ArrayRef<Value> writeIvs,
                  Value dest) -> Value {
    Value sum = arith::ConstantOp::create(b, loc, b.getZeroAttr(sumType));
    Value column = arith::MulIOp::create(b, loc, ivs[2], index(stride));
    for (int64_t kh = 0; kh < kernelH; ++kh) {
      Value r = arith::AddIOp::create(b, loc, row, index(kh * pr.dilations[0]));
      for (int64_t kw = 0; kw < kernelW; ++kw) {
        Value c =
            arith::AddIOp::create(b, loc, column, index(kw * pr.dilations[1]));
        Value read = vector::TransferReadOp::create(
            b, loc, readType, pixels, ValueRange{ivs[0], r, c}, constI64(0),
            ArrayRef<bool>{false});
        if (stride > 1)
          read = vector::ShuffleOp::create(b, loc, read, read, everyStride);
        sum = arith::AddIOp::create(b, loc, sum, read);
      }
    }
    return vector::TransferWriteOp::create(b, loc, sum, dest, writeIvs,
                                           ArrayRef<bool>{false})
        .getResult();
  };
  // buildCopyNest steps by one: loop over chunks, scale in the body.
  Value chunks =
      arith::CeilDivUIOp::create(b, loc, uppers[2], index(kSumLanes));
  return buildCopyNest(
      {uppers[0], uppers[1], chunks}, empty, enter,
      [&](ArrayRef<Value> ivs, ArrayRef<Value> writeIvs, Value dest) -> Value {
        Value column = arith::MulIOp::create(b, loc, ivs[2], index(kSumLanes));
        return body({ivs[0], ivs[1], column},
                    {writeIvs[0], writeIvs[1], column}, dest);
      });
}

/// W[row class, column class, block, lane] = sum over the taps (kh, kw)
/// inside the input, for an output row and column of those classes, of
/// T[co, kh, kw], where T is the part of a tap's contribution that does not
/// vanish on zero activation bits: bA sum(c) (aB sum_j d_j pc(W_j) +
/// bB sum(d) C). Classes: each border row (column) of the output is its own
/// class, and all interior ones share one, so the epilogue reads one vector
/// per output pixel and channel vector.
/// With xorPairs, W is what turns the XOR counts S into outputs W - 2 S:
/// each tap inside adds its C products of +-1 (length C), and each tap
/// outside, whose zero activation words S counted as pc(W), 2 pc(W); T is
/// then 2 pc(W).
Value ConvKernelBuilder::filterTapTerms() {
  MLIRContext *ctx = b.getContext();
  int64_t sumC = getPlaneWeightSum(pr.inputLayout);
  int64_t sumD = getPlaneWeightSum(pr.filterLayout);
  int64_t length = pr.filterLayout.getLength();
  rowClasses = getBorderClasses(0);
  columnClasses = getBorderClasses(1);
  if (Value folded = foldFilterTapTerms(sumC, sumD, length))
    return folded;

  // T[co, kh, kw]: loops (co, kh, kw, j, cw).
  AffineExpr d[5];
  for (unsigned k = 0; k < 5; ++k)
    d[k] = getAffineDimExpr(k, ctx);
  SmallVector<AffineMap> maps{
      AffineMap::get(5, 0, {d[0], d[1], d[2], d[3], d[4]}, ctx),
      AffineMap::get(5, 0, {d[0], d[1], d[2]}, ctx)};
  SmallVector<utils::IteratorType> iterators(3, utils::IteratorType::parallel);
  iterators.append(2, utils::IteratorType::reduction);
  SmallVector<OpFoldResult> tSizes{channelsOutSize(), b.getIndexAttr(kernelH),
                                   b.getIndexAttr(kernelW)};
  Value tEmpty = tensor::EmptyOp::create(b, loc, tSizes, i64);
  int64_t tBase =
      xorPairs ? 0 : decodeA.offset * sumC * decodeB.offset * sumD * length;
  int64_t tFactor = xorPairs ? 2 : decodeA.offset * sumC * decodeB.scale;
  Value tInit =
      linalg::FillOp::create(b, loc, constI64(tBase), tEmpty).getResult(0);
  auto tGeneric = linalg::GenericOp::create(
      b, loc, tInit.getType(), ValueRange{pr.filter}, ValueRange{tInit}, maps,
      iterators, [&](OpBuilder &nb, Location nloc, ValueRange args) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(nb.getInsertionBlock(), nb.getInsertionPoint());
        Value term = weightedCount(nloc, args[0], 3, pr.filterLayout, tFactor);
        linalg::YieldOp::create(
            b, nloc, Value(arith::AddIOp::create(b, nloc, args[1], term)));
      });
  Value taps = tGeneric.getResult(0);

  // W[row class, column class, block, lane]: loops (r, c, block, lane, kh,
  // kw); the taps inside the input for a row and a column of the classes.
  auto classCount = [&](const BorderClasses &classes,
                        int axis) -> OpFoldResult {
    if (classes.compact)
      return b.getIndexAttr(classes.low + classes.high + 1);
    return tensor::getMixedSize(b, loc, pr.init, 1 + axis);
  };
  SmallVector<OpFoldResult> wSizes{classCount(rowClasses, 0),
                                   classCount(columnClasses, 1),
                                   channelBlocksOfr, b.getIndexAttr(lanes)};
  Value wEmpty = tensor::EmptyOp::create(b, loc, wSizes, i64);
  Value wInit =
      linalg::FillOp::create(b, loc, constI64(0), wEmpty).getResult(0);
  Value window =
      tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{kernelH, kernelW}, i64);
  AffineExpr e[6];
  for (unsigned k = 0; k < 6; ++k)
    e[k] = getAffineDimExpr(k, ctx);
  SmallVector<AffineMap> wMaps{
      AffineMap::get(6, 0, {e[4], e[5]}, ctx),
      AffineMap::get(6, 0, {e[0], e[1], e[2], e[3]}, ctx)};
  SmallVector<utils::IteratorType> wIterators(4, utils::IteratorType::parallel);
  wIterators.append(2, utils::IteratorType::reduction);
  Value height = dim(pr.input, 1), width = dim(pr.input, 2);
  auto wGeneric = linalg::GenericOp::create(
      b, loc, wInit.getType(), ValueRange{window}, ValueRange{wInit}, wMaps,
      wIterators, [&](OpBuilder &nb, Location nloc, ValueRange args) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(nb.getInsertionBlock(), nb.getInsertionPoint());
        Value oh = positionOf(rowClasses, linalg::IndexOp::create(b, nloc, 0));
        Value ow =
            positionOf(columnClasses, linalg::IndexOp::create(b, nloc, 1));
        Value block = linalg::IndexOp::create(b, nloc, 2);
        Value lane = linalg::IndexOp::create(b, nloc, 3);
        Value kh = linalg::IndexOp::create(b, nloc, 4);
        Value kw = linalg::IndexOp::create(b, nloc, 5);
        Value co = affine(block, lanes, lane, 1);
        Value row = arith::SubIOp::create(
            b, nloc, affine(oh, pr.strides[0], kh, pr.dilations[0]),
            index(pr.padding[0]));
        Value col = arith::SubIOp::create(
            b, nloc, affine(ow, pr.strides[1], kw, pr.dilations[1]),
            index(pr.padding[2]));
        Value inside = isInside(nloc, row, height, col, width);
        Value real = arith::CmpIOp::create(b, nloc, arith::CmpIPredicate::ult,
                                           co, channelsOutValue);
        Value take = arith::AndIOp::create(b, nloc, inside, real);
        Value clamped = arith::SelectOp::create(b, nloc, real, co, index(0));
        Value term = tensor::ExtractOp::create(b, nloc, taps,
                                               ValueRange{clamped, kh, kw});
        // XOR'ed pairs: K inside, T = 2 pc(W) outside.
        if (xorPairs)
          term =
              arith::SelectOp::create(b, nloc, inside, constI64(length), term);
        Value masked = arith::SelectOp::create(b, nloc, xorPairs ? real : take,
                                               term, constI64(0));
        linalg::YieldOp::create(
            b, nloc, Value(arith::AddIOp::create(b, nloc, args[1], masked)));
      });
  return wGeneric.getResult(0);
}

/// filterTapTerms' table computed here when the filter is a constant and
/// the border classes are static: it depends on nothing else, and computing
/// it on every call cost about 20 us for a 512-channel 3x3 layer.
Value ConvKernelBuilder::foldFilterTapTerms(int64_t sumC, int64_t sumD,
                                            int64_t length) {
  if (!pr.filterConstant || !rowClasses.compact || !columnClasses.compact ||
      ShapedType::isDynamic(channelBlocks))
    return {};
  auto inputType = cast<RankedTensorType>(pr.input.getType());
  int64_t height = inputType.getDimSize(1), width = inputType.getDimSize(2);
  // Wrapping arithmetic, as the runtime's i64 ops.
  auto wrap = [](uint64_t v) { return static_cast<int64_t>(v); };
  SmallVector<APInt> filterWords(pr.filterConstant.getValues<APInt>());
  int64_t base = xorPairs
                     ? 0
                     : wrap(uint64_t(decodeA.offset * sumC) *
                            uint64_t(decodeB.offset * sumD) * uint64_t(length));
  int64_t factor = xorPairs ? 2 : decodeA.offset * sumC * decodeB.scale;
  // T[co, kh, kw].
  SmallVector<int64_t> taps(channelsOut * kernelH * kernelW);
  for (int64_t t = 0, e = taps.size(); t < e; ++t) {
    uint64_t sum = base;
    for (int64_t j = 0; j < planesB; ++j) {
      uint64_t weight = uint64_t(getPlaneWeight(pr.filterLayout, j)) * factor;
      for (int64_t cw = 0; cw < words; ++cw)
        sum +=
            uint64_t(filterWords[(t * planesB + j) * words + cw].popcount()) *
            weight;
    }
    taps[t] = wrap(sum);
  }
  auto positionOf = [](const BorderClasses &classes, int64_t c) -> int64_t {
    if (c < classes.low)
      return c;
    if (c < classes.low + classes.high)
      return classes.out - classes.high + (c - classes.low);
    return classes.low;
  };
  int64_t rows = rowClasses.low + rowClasses.high + 1;
  int64_t columns = columnClasses.low + columnClasses.high + 1;
  SmallVector<APInt> table;
  table.reserve(rows * columns * channelBlocks * lanes);
  for (int64_t r = 0; r < rows; ++r) {
    int64_t oh = positionOf(rowClasses, r);
    for (int64_t c = 0; c < columns; ++c) {
      int64_t ow = positionOf(columnClasses, c);
      for (int64_t co = 0; co < channelBlocks * lanes; ++co) {
        uint64_t sum = 0;
        for (int64_t kh = 0; co < channelsOut && kh < kernelH; ++kh) {
          int64_t row =
              oh * pr.strides[0] + kh * pr.dilations[0] - pr.padding[0];
          for (int64_t kw = 0; kw < kernelW; ++kw) {
            int64_t col =
                ow * pr.strides[1] + kw * pr.dilations[1] - pr.padding[2];
            bool inside = row >= 0 && row < height && col >= 0 && col < width;
            uint64_t tap = uint64_t(taps[(co * kernelH + kh) * kernelW + kw]);
            if (xorPairs)
              sum += inside ? uint64_t(length) : tap;
            else if (inside)
              sum += tap;
          }
        }
        table.push_back(APInt(64, sum));
      }
    }
  }
  auto type = RankedTensorType::get({rows, columns, channelBlocks, lanes}, i64);
  return arith::ConstantOp::create(b, loc, type,
                                   DenseIntElementsAttr::get(type, table));
}

ConvKernelBuilder::BorderClasses ConvKernelBuilder::getBorderClasses(int axis) {
  BorderClasses classes;
  int64_t in = cast<RankedTensorType>(pr.input.getType()).getDimSize(1 + axis);
  int64_t out = cast<RankedTensorType>(pr.init.getType()).getDimSize(1 + axis);
  if (ShapedType::isDynamic(in) || ShapedType::isDynamic(out))
    return classes;
  int64_t stride = pr.strides[axis], padLow = pr.padding[2 * axis];
  int64_t extent = axis == 0 ? kernelH : kernelW;
  auto ceilDiv = [](int64_t a, int64_t b) { return (a + b - 1) / b; };
  int64_t low = std::min(out, ceilDiv(padLow, stride));
  // First position whose last tap is past the input.
  int64_t firstHigh = ceilDiv(
      std::max<int64_t>(0, in + padLow - (extent - 1) * pr.dilations[axis]),
      stride);
  int64_t high = std::max<int64_t>(0, out - std::max(firstHigh, low));
  if (low + high < out)
    classes = {true, low, high, out};
  return classes;
}

Value ConvKernelBuilder::classOf(const BorderClasses &classes, Value position) {
  if (!classes.compact)
    return position;
  Value isLow = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                      position, index(classes.low));
  Value isHigh =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::uge, position,
                            index(classes.out - classes.high));
  Value highClass = arith::SubIOp::create(
      b, loc, position, index(classes.out - classes.high - classes.low));
  return arith::SelectOp::create(
      b, loc, isLow, position,
      arith::SelectOp::create(b, loc, isHigh, highClass,
                              index(classes.low + classes.high)));
}

Value ConvKernelBuilder::positionOf(const BorderClasses &classes, Value c) {
  if (!classes.compact)
    return c;
  // c < low: position c; low <= c < low + high: out - high + (c - low); the
  // last class: an interior position.
  Value isLow = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, c,
                                      index(classes.low));
  Value isHigh = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, c,
                                       index(classes.low + classes.high));
  Value highPosition = arith::AddIOp::create(
      b, loc, c, index(classes.out - classes.high - classes.low));
  return arith::SelectOp::create(b, loc, isLow, c,
                                 arith::SelectOp::create(b, loc, isHigh,
                                                         highPosition,
                                                         index(classes.low)));
}

void ConvKernelBuilder::chooseSumWidth() {
  sumsSigned = pr.inputLayout.getEncoding() == Encoding::Signed ||
               pr.filterLayout.getEncoding() == Encoding::Signed;
  accBits = 64;
  if (shape.narrowAccumulators && !shape.wordPopcount) {
    // A lane of w bits gains at most w per step (a count per byte, at most
    // 8 each) times the plane pair's weight; the weights' magnitudes sum to
    // (2^bits - 1) * scale per operand, whatever their signs.
    int64_t steps = kernelH * kernelW * words * halves();
    auto weightSum = [](PackedLayoutAttr layout, const PlaneDecoding &d) {
      return ((int64_t(1) << layout.getBits()) - 1) * d.scale;
    };
    // XOR'ed pairs count with weight 1 (scaled in the epilogue).
    int64_t perBit = xorPairs ? steps
                              : steps * weightSum(pr.inputLayout, decodeA) *
                                    weightSum(pr.filterLayout, decodeB);
    for (int64_t bits : {8, 16}) {
      int64_t limit = sumsSigned ? (int64_t(1) << (bits - 1)) - 1
                                 : (int64_t(1) << bits) - 1;
      // Byte sums need one chunk: steps * 8 <= 255.
      if (bits == 8 && steps > kMaxByteSteps)
        continue;
      if (perBit <= limit / bits) {
        accBits = bits;
        sumLaneMax = perBit * bits;
        break;
      }
    }
  }
  sumVector =
      VectorType::get({shape.vectorBits / accBits}, b.getIntegerType(accBits));
}

/// The sums of the groups of adjacent lanes of `narrow` that make up each
/// lane of `wideType` (e.g. the 8 bytes of each 64-bit lane), zero- or
/// sign-extended. Portable; bitserial-x86-byte-counts turns byte sums into
/// psadbw, bitserial-aarch64-byte-counts any of them into pairwise adds.
Value ConvKernelBuilder::widenLanes(Value narrow, VectorType wideType,
                                    bool isSigned) {
  auto narrowType = cast<VectorType>(narrow.getType());
  int64_t group = narrowType.getNumElements() / wideType.getNumElements();
  auto grouped = VectorType::get({wideType.getNumElements(), group},
                                 narrowType.getElementType());
  auto groupedWide = VectorType::get({wideType.getNumElements(), group},
                                     wideType.getElementType());
  Value shaped = vector::ShapeCastOp::create(b, loc, grouped, narrow);
  Value wide =
      isSigned
          ? arith::ExtSIOp::create(b, loc, groupedWide, shaped).getResult()
          : arith::ExtUIOp::create(b, loc, groupedWide, shaped).getResult();
  Value zero = arith::ConstantOp::create(b, loc, b.getZeroAttr(wideType));
  return vector::MultiDimReductionOp::create(b, loc, wide, zero,
                                             ArrayRef<bool>{false, true},
                                             vector::CombiningKind::ADD);
}

/// Pairwise sums of the lanes of x and y: [x0 + x1, x2 + x3, ..., y0 + y1,
/// ...] (AArch64 addp).
static Value addPairs(OpBuilder &b, Location loc, Value x, Value y) {
  int64_t n = cast<VectorType>(x.getType()).getNumElements();
  SmallVector<int64_t> even, odd;
  for (int64_t k = 0; k < n; ++k) {
    even.push_back(2 * k);
    odd.push_back(2 * k + 1);
  }
  return arith::AddIOp::create(b, loc,
                               vector::ShuffleOp::create(b, loc, x, y, even),
                               vector::ShuffleOp::create(b, loc, x, y, odd));
}

SmallVector<Value>
ConvKernelBuilder::reduceBlockSums(ArrayRef<Value> planeSums) {
  int64_t pixels = shape.pixelBlock, vectors = shape.channelBlock;
  if (sumsSigned || accBits >= 32 || vectors % 2 != 0 || lanes != 2 ||
      sumLaneMax <= 0)
    return {};
  // A node: a vector whose lanes hold `slots` (pixel, channel of the block)
  // in order, `group` adjacent lanes each.
  struct Node {
    Value value;
    SmallVector<std::pair<int64_t, int64_t>> slots;
  };
  SmallVector<Node> nodes;
  for (int64_t p = 0; p < pixels; ++p)
    for (int64_t q = 0; q < vectors; ++q) {
      Node node{planeSums[p * vectors + q], {}};
      for (int64_t l = 0; l < lanes; ++l)
        node.slots.push_back({p, q * lanes + l});
      nodes.push_back(node);
    }
  int64_t width = accBits, count = shape.vectorBits / accBits;
  int64_t group = count / lanes, bound = sumLaneMax;
  while (group > 1) {
    bool fits = width >= 32 || 2 * bound <= (int64_t(1) << width) - 1;
    // One level of pairs, a pixel's channel vectors q and q + 1: their 4
    // slots are the pixel's 4 consecutive channels. Deeper trees (across
    // pixels) leave too few independent vectors for an in-order core (C3
    // A1W1 8% slower with 3 levels than with 1).
    if (fits && int64_t(nodes.size()) == pixels * vectors) {
      SmallVector<Node> next;
      for (size_t k = 0; k < nodes.size(); k += 2) {
        Node node{addPairs(b, loc, nodes[k].value, nodes[k + 1].value),
                  nodes[k].slots};
        node.slots.append(nodes[k + 1].slots);
        next.push_back(node);
      }
      nodes = std::move(next);
    } else if (width < 32) {
      count /= 2;
      width *= 2;
      auto wide = VectorType::get({count}, b.getIntegerType(width));
      for (Node &node : nodes)
        node.value = widenLanes(node.value, wide, /*isSigned=*/false);
    } else {
      return {};
    }
    group /= 2;
    bound *= 2;
  }
  // One lane per slot: to i32, then 4 lanes (2 * lanes) per store.
  if (int64_t(nodes.size()) == pixels * vectors)
    return {};
  SmallVector<Value> totals(pixels * vectors / 2);
  Type i32 = b.getI32Type();
  for (Node &node : nodes) {
    int64_t n = node.slots.size();
    Value wide = node.value;
    if (width < 32)
      wide = arith::ExtUIOp::create(b, loc, VectorType::get({n}, i32), wide);
    for (int64_t s = 0; s < n; s += 2 * lanes) {
      auto [p, c] = node.slots[s];
      for (int64_t k = 1; k < 2 * lanes; ++k)
        if (node.slots[s + k] != std::make_pair(p, c + k))
          return {};
      if (c % (2 * lanes) != 0)
        return {};
      totals[(p * vectors + c / lanes) / 2] =
          vector::ExtractStridedSliceOp::create(b, loc, wide, {s}, {2 * lanes},
                                                {1});
    }
  }
  return totals;
}

/// The widened, unweighted AND counts of plane pair (i, j) for every pixel
/// and channel vector of the register block.
SmallVector<Value>
ConvKernelBuilder::reducePlanePair(Value kernelInput, Value relaid, Value n,
                                   Value oh, Value ow0, Value cob0, Value i,
                                   Value j, ValueRange sums) {
  int64_t pixels = shape.pixelBlock, vectors = shape.channelBlock;
  int64_t accumulators = pixels * vectors;

  // With widenEachStep, a reduction of 16-bit sums longer than one chunk
  // adds each step's counts into the sums widened (AArch64 uadalp): no byte
  // sums beside them, no widening per chunk, one chunk.
  bool wideSteps = shape.widenEachStep && !shape.wordPopcount &&
                   accBits == 16 && kernelH * kernelW * words > kMaxByteSteps;
  // One step: AND + byte popcount into every accumulator.
  auto step = [&](Value kh, Value kw, Value cw, ValueRange bytes) {
    SmallVector<Value> next(bytes);
    Value row = affine(oh, inputStrides[0], kh, pr.dilations[0]);
    // With duplicateActivations: the index in flatInput of word cw of plane
    // i of the block's first pixel at tap (kh, kw).
    int64_t pixelWords = planesA * words * halves() * lanes;
    Value tapBase;
    if (shape.duplicateActivations) {
      Value rowStart = arith::MulIOp::create(
          b, loc,
          arith::AddIOp::create(
              b, loc, arith::MulIOp::create(b, loc, n, inputHeight), row),
          inputWidth);
      Value first = affine(rowStart, 1, ow0, inputStrides[1]);
      Value word = affine(i, words * halves() * lanes, cw, halves() * lanes);
      tapBase = arith::AddIOp::create(
          b, loc, affine(first, pixelWords, word, 1),
          arith::MulIOp::create(b, loc, kw,
                                index(pr.dilations[1] * pixelWords)));
    }
    for (int64_t h = 0; h < halves(); ++h) {
      SmallVector<Value> broadcasts, filters;
      for (int64_t p = 0; p < pixels; ++p) {
        if (shape.duplicateActivations) {
          // The step's first word plus constant offsets, which LLVM folds
          // into the loads' immediates.
          int64_t offset = p * inputStrides[1] * pixelWords + h * lanes;
          broadcasts.push_back(vector::TransferReadOp::create(
              b, loc, wordVector, flatInput,
              ValueRange{arith::AddIOp::create(b, loc, tapBase, index(offset))},
              constI64(0), ArrayRef<bool>{true}));
          continue;
        }
        Value pixel = arith::AddIOp::create(b, loc, ow0, index(p));
        Value col = affine(pixel, inputStrides[1], kw, pr.dilations[1]);
        SmallVector<Value> at{n, row, col, i, cw};
        if (nibbles)
          at.push_back(index(h));
        Value word = tensor::ExtractOp::create(b, loc, kernelInput, at);
        broadcasts.push_back(
            vector::BroadcastOp::create(b, loc, wordVector, word));
      }
      for (int64_t q = 0; q < vectors; ++q) {
        SmallVector<Value> at{arith::AddIOp::create(b, loc, cob0, index(q)), kh,
                              kw, j, cw};
        if (nibbles)
          at.push_back(index(h));
        at.push_back(index(0));
        filters.push_back(vector::TransferReadOp::create(
            b, loc, wordVector, relaid, at, constI64(0), ArrayRef<bool>{true}));
      }
      for (int64_t p = 0; p < pixels; ++p)
        for (int64_t q = 0; q < vectors; ++q) {
          Value both =
              xorPairs
                  ? arith::XOrIOp::create(b, loc, broadcasts[p], filters[q])
                        .getResult()
                  : arith::AndIOp::create(b, loc, broadcasts[p], filters[q])
                        .getResult();
          Value count;
          if (shape.wordPopcount) {
            count = math::CtPopOp::create(b, loc, both);
          } else {
            auto ctpop = math::CtPopOp::create(
                b, loc, vector::BitCastOp::create(b, loc, byteVector, both));
            // Every byte is below 16: a table lookup counts it.
            if (nibbles)
              BitserialDialect::LowNibblesAttrHelper(b.getContext())
                  .setAttr(ctpop, b.getUnitAttr());
            count = ctpop;
          }
          Value &acc = next[p * vectors + q];
          if (wideSteps)
            count = widenLanes(count, sumVector, /*isSigned=*/false);
          acc = arith::AddIOp::create(b, loc, acc, count);
        }
    }
    return next;
  };

  // Reduction levels kh, kw, cw: byte accumulators live across the innermost
  // levels whose total step count stays <= 31; outer levels widen.
  // With 64-bit lane counts nothing needs widening: one chunk.
  int64_t depth = shape.wordPopcount || wideSteps              ? 0
                  : kernelH * kernelW * words <= kMaxByteSteps ? 0
                  : kernelW * words <= kMaxByteSteps           ? 1
                  : words <= kMaxByteSteps                     ? 2
                                                               : 3;
  Value zero = index(0), one = index(1);
  SmallVector<Value> outerLbs, outerUbs, outerSteps;
  Value extents[3] = {index(kernelH), index(kernelW), index(words)};
  for (int64_t level = 0; level < std::min<int64_t>(depth, 3); ++level) {
    outerLbs.push_back(zero);
    outerUbs.push_back(extents[level]);
    outerSteps.push_back(level == 2 ? index(kMaxByteSteps) : one);
  }

  // Byte sums of one chunk, or 64-bit lane sums (word popcounts), carried
  // across plane pairs: the steps count into them directly.
  bool carrySums =
      !sums.empty() && depth == 0 && (shape.wordPopcount || accBits == 8);
  auto chunk = [&](ValueRange outerIvs, ValueRange wideAcc) {
    SmallVector<Value> bytesInit(
        accumulators, shape.wordPopcount ? zeroWords() : zeroBytes());
    if (carrySums || wideSteps)
      bytesInit.assign(wideAcc.begin(), wideAcc.end());
    // The chunk's levels, as loops or (with unrollSteps) straight-line
    // steps. The order of steps is free (they only add into the
    // accumulators): unrolled, kw varies fastest, so that consecutive steps
    // of a stride-1 window share activation words (pixel p at kw + 1 is
    // pixel p + 1 at kw) and broadcasts live briefly. The innermost levels
    // of that order whose steps number at most kMaxUnrolledSteps are
    // straight-line code inside loops over the others.
    SmallVector<int64_t> order;
    if (depth == 3) {
      order = {2};
    } else if (shape.unrollSteps) {
      // A one-chunk reduction whose window has more taps than a kernel row
      // has steps (3x3 over 128 channels: 9 against 6) unrolls the window,
      // rolling the words: longer straight-line bodies, and 2 x 4 blocks
      // stop spilling (C7 9% faster on the A53 model).
      bool khInner = depth == 0 && kernelH * kernelW <= kMaxUnrolledSteps &&
                     kernelH * kernelW > kernelW * words &&
                     kernelH * kernelW * words > kMaxUnrolledSteps;
      for (int64_t level : khInner ? std::initializer_list<int64_t>{2, 0, 1}
                                   : std::initializer_list<int64_t>{0, 2, 1})
        if (level >= depth)
          order.push_back(level);
    } else {
      for (int64_t level = depth; level < 3; ++level)
        order.push_back(level);
    }
    int64_t staticExtents[3] = {kernelH, kernelW, words};
    int64_t rolled = order.size();
    // The innermost loop may step by `factor`, its iterations unrolled too.
    int64_t factor = 1;
    if (shape.unrollSteps && depth < 3) {
      int64_t steps = 1;
      while (rolled > 0 &&
             steps * staticExtents[order[rolled - 1]] <= kMaxUnrolledSteps)
        steps *= staticExtents[order[--rolled]];
      if (rolled > 0)
        for (int64_t f = kMaxUnrolledSteps / steps; f > 1 && factor == 1; --f)
          if (staticExtents[order[rolled - 1]] % f == 0)
            factor = f;
    }
    SmallVector<Value> lbs, ubs, steps;
    for (int64_t k = 0; k < rolled; ++k) {
      int64_t level = order[k];
      if (depth == 3) { // cw in [cwb, min(cwb + 31, CW))
        Value start = outerIvs[2];
        lbs.push_back(start);
        ubs.push_back(arith::MinSIOp::create(
            b, loc, arith::AddIOp::create(b, loc, start, index(kMaxByteSteps)),
            extents[2]));
      } else {
        lbs.push_back(zero);
        ubs.push_back(extents[level]);
      }
      steps.push_back(k == rolled - 1 ? index(factor) : one);
    }
    scf::LoopNest inner = scf::buildLoopNest(
        b, loc, lbs, ubs, steps, bytesInit,
        [&](OpBuilder &nb, Location, ValueRange rolledIvs, ValueRange args) {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPoint(nb.getInsertionBlock(), nb.getInsertionPoint());
          // Every combination of the unrolled levels (the innermost loop's
          // `factor` iterations first), the last fastest.
          SmallVector<SmallVector<int64_t>> positions;
          for (int64_t v = 0; v < factor; ++v)
            positions.push_back({v});
          for (int64_t k = rolled, e = order.size(); k < e; ++k) {
            SmallVector<SmallVector<int64_t>> next;
            for (const SmallVector<int64_t> &prefix : positions)
              for (int64_t v = 0; v < staticExtents[order[k]]; ++v) {
                next.push_back(prefix);
                next.back().push_back(v);
              }
            positions = std::move(next);
          }
          // A strided window with the words straight-line too: pairs of
          // adjacent words (one `ldp`) innermost, taps reading the same
          // columns adjacent (stride 2: kw 0, 2, 1), so that each pair of
          // words is used as soon as it is loaded rather than held across
          // taps (C10: 3-5% faster on the A53 model, 9-14% on Neoverse-N1).
          int64_t kwAt = -1, cwAt = -1;
          for (int64_t k = rolled, e = order.size(); k < e; ++k) {
            if (order[k] == 1)
              kwAt = k - rolled + 1;
            if (order[k] == 2)
              cwAt = k - rolled + 1;
          }
          int64_t stride = inputStrides[1];
          if (kwAt > 0 && cwAt > 0 && stride > 1 && words % 2 == 0) {
            SmallVector<std::pair<SmallVector<int64_t>, int64_t>> keyed;
            for (auto [at, position] : llvm::enumerate(positions)) {
              SmallVector<int64_t> key;
              for (int64_t k = 0, e = position.size(); k < e; ++k)
                if (k != kwAt && k != cwAt)
                  key.push_back(position[k]);
              int64_t kw = position[kwAt], cw = position[cwAt];
              key.append({cw / 2, kw * pr.dilations[1] % stride, kw, cw % 2});
              keyed.push_back({std::move(key), int64_t(at)});
            }
            llvm::sort(keyed);
            SmallVector<SmallVector<int64_t>> sorted;
            for (const auto &entry : keyed)
              sorted.push_back(positions[entry.second]);
            positions = std::move(sorted);
          }
          SmallVector<Value> bytes(args);
          for (const SmallVector<int64_t> &position : positions) {
            // Level l's induction variable: outer loops are levels < depth
            // (the third outer loop, at depth 3, steps over chunks of cw).
            Value ivs[3];
            for (int64_t level = 0; level < std::min<int64_t>(depth, 2);
                 ++level)
              ivs[level] = outerIvs[level];
            for (int64_t k = 0, e = order.size(); k < e; ++k) {
              if (k < rolled - 1)
                ivs[order[k]] = rolledIvs[k];
              else if (k == rolled - 1)
                ivs[order[k]] =
                    factor == 1 ? rolledIvs[k]
                                : arith::AddIOp::create(b, loc, rolledIvs[k],
                                                        index(position[0]))
                                      .getResult();
              else
                ivs[order[k]] = index(position[k - rolled + 1]);
            }
            bytes = step(ivs[0], ivs[1], ivs[2], bytes);
          }
          return bytes;
        });
    SmallVector<Value> counts(inner.results);
    if (carrySums || wideSteps)
      return counts;
    SmallVector<Value> next;
    for (int64_t k = 0; k < accumulators; ++k) {
      Value widened = counts[k];
      if (!shape.wordPopcount && accBits > 8)
        widened = widenLanes(counts[k], sumVector, /*isSigned=*/false);
      next.push_back(arith::AddIOp::create(b, loc, wideAcc[k], widened));
    }
    return next;
  };

  SmallVector<Value> wideInit(accumulators, zeroSums());
  if (!sums.empty())
    wideInit.assign(sums.begin(), sums.end());
  if (outerLbs.empty())
    return chunk(ValueRange{}, wideInit);
  scf::LoopNest outer = scf::buildLoopNest(
      b, loc, outerLbs, outerUbs, outerSteps, wideInit,
      [&](OpBuilder &nb, Location, ValueRange ivs, ValueRange args) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(nb.getInsertionBlock(), nb.getInsertionPoint());
        return chunk(ivs, args);
      });
  return SmallVector<Value>(outer.results);
}

std::pair<Value, Value> ConvKernelBuilder::relayoutThresholds() {
  const FusedEpilogue &ep = pr.epilogue;
  auto thresholdType = cast<RankedTensorType>(ep.thresholds.getType());
  Type accType = thresholdType.getElementType();
  unsigned width = accType.getIntOrFloatBitWidth();
  int64_t count = thresholdType.getDimSize(1);
  DenseIntElementsAttr thresholdsConstant = getConstantElements(ep.thresholds);
  DenseIntElementsAttr descendingConstant =
      ep.descending ? getConstantElements(ep.descending) : nullptr;
  bool constant = !ShapedType::isDynamic(channelBlocks) && thresholdsConstant &&
                  (!ep.descending || descendingConstant);
  if (constant) {
    // Folded now, like a constant filter's relayout.
    int64_t padded = channelBlocks * lanes;
    SmallVector<APInt> source(thresholdsConstant.getValues<APInt>());
    SmallVector<APInt> relaid(count * padded, APInt(width, 0));
    SmallVector<APInt> masks(padded, APInt(width, 0));
    for (int64_t c = 0; c < channelsOut; ++c) {
      if (descendingConstant && descendingConstant.getValues<bool>()[c])
        masks[c] = APInt::getAllOnes(width);
      for (int64_t i = 0; i < count; ++i)
        relaid[i * padded + c] = source[c * count + i] ^ masks[c];
    }
    auto relaidType = RankedTensorType::get({count, padded}, accType);
    auto maskType = RankedTensorType::get({padded}, accType);
    Value masksValue;
    if (ep.descending)
      masksValue = arith::ConstantOp::create(
          b, loc, maskType, DenseIntElementsAttr::get(maskType, masks));
    return {
        arith::ConstantOp::create(
            b, loc, relaidType, DenseIntElementsAttr::get(relaidType, relaid)),
        masksValue};
  }
  OpFoldResult padded =
      ShapedType::isDynamic(channelBlocks)
          ? OpFoldResult(
                arith::MulIOp::create(b, loc, channelBlocksValue, index(lanes))
                    .getResult())
          : OpFoldResult(b.getIndexAttr(channelBlocks * lanes));
  auto zeroOf = [&](Location at) {
    return arith::ConstantOp::create(b, at, IntegerAttr::get(accType, 0));
  };
  // The mask of channel `co`: -1 where descending, 0 elsewhere (and past
  // CO); `inRange` and `clamped` as in relayoutFilter.
  auto maskOf = [&](Location at, Value inRange, Value clamped) -> Value {
    Value flag = tensor::ExtractOp::create(b, at, ep.descending, clamped);
    Value ones =
        arith::ConstantOp::create(b, at, IntegerAttr::get(accType, -1));
    return arith::SelectOp::create(
        b, at, arith::AndIOp::create(b, at, flag, inRange), ones, zeroOf(at));
  };
  auto channel = [&](Location at, Value co) {
    Value inRange = arith::CmpIOp::create(b, at, arith::CmpIPredicate::ult, co,
                                          channelsOutValue);
    return std::make_pair(
        inRange, Value(arith::SelectOp::create(b, at, inRange, co, index(0))));
  };
  Value masks;
  if (ep.descending)
    masks = buildIndexedTensor(
        {padded},
        [&](Location at, ArrayRef<Value> idx) -> Value {
          auto [inRange, clamped] = channel(at, idx[0]);
          return maskOf(at, inRange, clamped);
        },
        accType);
  Value relaid = buildIndexedTensor(
      {b.getIndexAttr(count), padded},
      [&](Location at, ArrayRef<Value> idx) -> Value {
        auto [inRange, clamped] = channel(at, idx[1]);
        Value t = tensor::ExtractOp::create(b, at, ep.thresholds,
                                            ValueRange{clamped, idx[0]});
        if (ep.descending)
          t = arith::XOrIOp::create(b, at, t, maskOf(at, inRange, clamped));
        return arith::SelectOp::create(b, at, inRange, t, zeroOf(at));
      },
      accType);
  return {relaid, masks};
}

Value ConvKernelBuilder::createEpilogueOutput() {
  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(b, loc, pr.init);
  if (pr.epilogue.kind != FusedEpilogue::Kind::Threshold)
    return tensor::EmptyOp::create(b, loc, sizes, pr.epilogue.resultElement);
  // [N, OH, OW, bits, words], zero: blocks OR their codes into the words,
  // and bits past CO stay zero.
  sizes.back() = b.getIndexAttr(pr.epilogue.layout.getBits());
  sizes.push_back(
      ShapedType::isDynamic(channelsOut)
          ? OpFoldResult(
                arith::CeilDivUIOp::create(b, loc, channelsOutValue, index(64))
                    .getResult())
          : OpFoldResult(b.getIndexAttr(llvm::divideCeil(channelsOut, 64))));
  Value empty = tensor::EmptyOp::create(b, loc, sizes, i64);
  return linalg::FillOp::create(b, loc, constI64(0), empty).getResult(0);
}

Value ConvKernelBuilder::thresholdStores(bool full, Value result,
                                         ArrayRef<std::pair<Value, Value>> sums,
                                         ArrayRef<SmallVector<Value>> masks,
                                         Value table, Value ow0, Value cob0,
                                         Value writeN, Value writeOh,
                                         bool rowLocal, Value channelOffset) {
  const FusedEpilogue &ep = pr.epilogue;
  int64_t pixels = shape.pixelBlock, vectors = shape.channelBlock;
  int64_t blockChannels = vectors * lanes;
  int64_t blockWords = std::max<int64_t>(1, blockChannels / 64);
  auto accVector = cast<VectorType>(sums.front().first.getType());
  Type accType = accVector.getElementType();
  auto splat = [&](int64_t v) -> Value {
    return arith::ConstantOp::create(
        b, loc,
        DenseElementsAttr::get(accVector, b.getIntegerAttr(accType, v)));
  };
  unsigned bits = ep.layout.getBits();
  int64_t thresholds = (int64_t(1) << bits) - 1;

  // Codes: count the thresholds reached, `acc >= t`, or `acc <= t` for a
  // descending channel as `acc ^ -1 >= t ^ -1` (the table holds t ^ mask).
  // One threshold vector serves all pixels of the block.
  SmallVector<Value> codes(pixels * vectors);
  for (int64_t q = 0; q < vectors; ++q) {
    Value co = arith::MulIOp::create(
        b, loc, arith::AddIOp::create(b, loc, cob0, index(q)), index(lanes));
    SmallVector<Value> xs;
    for (int64_t p = 0; p < pixels; ++p) {
      Value x = sums[p * vectors + q].first;
      if (!masks[q].empty())
        x = arith::XOrIOp::create(b, loc, x, masks[q][0]);
      xs.push_back(x);
    }
    auto compare = [&](Value i, ValueRange counts) {
      Value t = vector::TransferReadOp::create(
          b, loc, accVector, table, ValueRange{i, co},
          arith::ConstantOp::create(b, loc, b.getZeroAttr(accType)),
          ArrayRef<bool>{true});
      SmallVector<Value> next;
      for (int64_t p = 0; p < pixels; ++p) {
        Value reached =
            arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sge, xs[p], t);
        // extsi(true) = -1.
        next.push_back(arith::SubIOp::create(
            b, loc, counts[p],
            arith::ExtSIOp::create(b, loc, accVector, reached)));
      }
      return next;
    };
    SmallVector<Value> counts(pixels, splat(0));
    if (thresholds <= 3) {
      for (int64_t i = 0; i < thresholds; ++i)
        counts = compare(index(i), counts);
    } else {
      auto loop = scf::ForOp::create(
          b, loc, index(0), index(thresholds), index(1), counts,
          [&](OpBuilder &lb, Location, Value i, ValueRange args) {
            OpBuilder::InsertionGuard guard(b);
            b.setInsertionPoint(lb.getInsertionBlock(), lb.getInsertionPoint());
            scf::YieldOp::create(b, loc, compare(i, args));
          });
      counts.assign(loop.getResults().begin(), loop.getResults().end());
    }
    for (int64_t p = 0; p < pixels; ++p) {
      Value code = counts[p];
      // Signed codes: count - 2^(bits-1), i.e. the top bit flipped.
      if (ep.layout.getEncoding() == Encoding::Signed)
        code = arith::XOrIOp::create(b, loc, code,
                                     splat(int64_t(1) << (bits - 1)));
      codes[p * vectors + q] = code;
    }
  }

  // Words: channel vector q of the block holds bits [q * lanes, (q + 1) *
  // lanes) of the block's channels; a block narrower than a word starts at
  // bit co0 % 64 of its word, which its neighbours also write (hence OR).
  Value co0 = arith::MulIOp::create(b, loc, cob0, index(lanes));
  Value word0 = arith::DivUIOp::create(b, loc, co0, index(64));
  if (rowLocal)
    word0 = arith::SubIOp::create(
        b, loc, word0,
        arith::DivUIOp::create(b, loc, channelOffset, index(64)));
  Value bitBase;
  if (blockChannels < 64)
    bitBase = arith::IndexCastOp::create(
        b, loc, i64, arith::RemUIOp::create(b, loc, co0, index(64)));
  Value zero = index(0);
  auto laneMask = VectorType::get({lanes}, b.getI1Type());
  auto laneBits = VectorType::get({1}, b.getIntegerType(lanes));
  for (int64_t p = 0; p < pixels; ++p) {
    Value inside = sums[p * vectors].second;
    Value ow = arith::AddIOp::create(b, loc, ow0, index(p));
    // Outside the row (not `full`): zero bits ORed into pixel 0.
    if (!full)
      ow = arith::SelectOp::create(b, loc, inside, ow, zero);
    SmallVector<Value> valid(vectors);
    if (!full)
      for (int64_t q = 0; q < vectors; ++q) {
        Value co = arith::MulIOp::create(
            b, loc, arith::AddIOp::create(b, loc, cob0, index(q)),
            index(lanes));
        Value left = arith::SubIOp::create(
            b, loc, arith::MaxSIOp::create(b, loc, channelsOutValue, co), co);
        Value count = arith::SelectOp::create(
            b, loc, inside, arith::MinSIOp::create(b, loc, left, index(lanes)),
            zero);
        valid[q] = vector::CreateMaskOp::create(b, loc, laneMask, count);
      }
    for (unsigned plane = 0; plane < bits; ++plane) {
      SmallVector<Value> words(blockWords, constI64(0));
      for (int64_t q = 0; q < vectors; ++q) {
        Value bit = arith::AndIOp::create(
            b, loc,
            arith::ShRUIOp::create(b, loc, codes[p * vectors + q],
                                   splat(plane)),
            splat(1));
        Value set = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, bit,
                                          splat(0));
        if (!full)
          set = arith::AndIOp::create(b, loc, set, valid[q]);
        // The lanes' bits as one integer (kmov/movmsk on x86).
        Value laneWord = vector::ExtractOp::create(
            b, loc, vector::BitCastOp::create(b, loc, laneBits, set),
            ArrayRef<int64_t>{0});
        Value shifted = arith::ExtUIOp::create(b, loc, i64, laneWord);
        Value amount = constI64((q * lanes) % 64);
        if (bitBase)
          amount = arith::AddIOp::create(b, loc, bitBase, amount);
        shifted = arith::ShLIOp::create(b, loc, shifted, amount);
        Value &word = words[(q * lanes) / 64];
        word = arith::OrIOp::create(b, loc, word, shifted);
      }
      for (int64_t w = 0; w < blockWords; ++w) {
        Value wordIndex = arith::AddIOp::create(b, loc, word0, index(w));
        // A word past CO (its bits are all masked off) goes to word 0.
        if (!full)
          wordIndex = arith::SelectOp::create(
              b, loc,
              arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                    wordIndex, dim(result, 4)),
              wordIndex, zero);
        SmallVector<Value> at{writeN, writeOh, ow, index(plane), wordIndex};
        Value value = words[w];
        // A block that owns whole words writes them; otherwise (and at the
        // edges, where pixels or words may alias) it ORs into them.
        if (!full || blockChannels < 64)
          value = arith::OrIOp::create(
              b, loc, tensor::ExtractOp::create(b, loc, result, at), value);
        result = tensor::InsertOp::create(b, loc, value, result, at);
      }
    }
  }
  return result;
}

/// Whether splitting the kernel across threads pays: statically small
/// problems (fewer AND'ed bit pairs than minParallelBinops, or than
/// minParallelBinopsPerOutput per output) run on the calling thread;
/// dynamic ones are split. minParallelBinops = 0 splits every kernel.
bool ConvKernelBuilder::worthThreads() const {
  auto initType = cast<RankedTensorType>(pr.init.getType());
  // A static empty extent: no work, and the prologue's slices at offset 0
  // of it would not verify.
  for (Value v : {pr.input, pr.filter, pr.init})
    if (llvm::is_contained(cast<RankedTensorType>(v.getType()).getShape(), 0))
      return false;
  if (!initType.hasStaticShape() || ShapedType::isDynamic(words))
    return true;
  if (shape.minParallelBinops == 0)
    return true;
  // Bounded well below 2^63: outputs and reductions of real layers.
  double perOutput = double(kernelH) * kernelW * words * 64 * planesA * planesB;
  double binops = double(initType.getNumElements()) * perOutput;
  return binops >= double(shape.minParallelBinops) &&
         perOutput >= double(shape.minParallelBinopsPerOutput);
}

Value ConvKernelBuilder::build() {
  threads = shape.parallel && worthThreads();
  bool weightsBipolar = decodeB.offset != 0;
  bool inputBipolar = decodeA.offset != 0;
  int64_t pixels = shape.pixelBlock, vectors = shape.channelBlock;
  int64_t accumulators = pixels * vectors;

  channelsOutValue = getValueOrCreateConstantIndexOp(b, loc, channelsOutSize());
  channelBlocksOfr = channelBlocksSize();
  channelBlocksValue =
      getValueOrCreateConstantIndexOp(b, loc, channelBlocksOfr);
  // 1x1 kernels on threads with enough output rows to share without
  // channel parts: each task (one output row) copies (and counts) the one
  // input row it reads, so no task reads what another wrote: no barrier in
  // the region, and no line of the copy moves between cores. With fewer
  // rows (and in matmuls: one row), every part of a row would copy it.
  auto outputType = cast<RankedTensorType>(pr.init.getType());
  bool taskInput =
      threads && kernelH == 1 && kernelW == 1 && !outputType.isDynamicDim(0) &&
      !outputType.isDynamicDim(1) &&
      outputType.getDimSize(0) * outputType.getDimSize(1) >= kMinTaskInputRows;
  Value kernelInput;
  if (!taskInput) {
    kernelInput = buildKernelInput();
    setFlatInput(kernelInput);
  }
  Value relaid = relayoutFilter();
  // Bipolar weights: a per-pixel term from the activations' counts, but for
  // XOR'ed pairs.
  bool pixelTerms = weightsBipolar && !xorPairs;
  Value bitCounts =
      pixelTerms && !taskInput ? activationBitCounts(kernelInput) : Value();
  // XOR'ed pairs without padding: every tap inside the input, so the tap
  // terms are K x KH x KW for every output (added after the narrowing
  // shuffle of the x86 epilogue, as one i32 vector per 8 channels).
  std::optional<int64_t> uniformTerm;
  if (xorPairs && llvm::all_of(pr.padding, [](int64_t p) { return p == 0; }))
    uniformTerm = pr.filterLayout.getLength() * kernelH * kernelW;
  Value tapTerms = inputBipolar && !uniformTerm ? filterTapTerms() : Value();
  auto initType = cast<RankedTensorType>(pr.init.getType());
  Type resultElement = initType.getElementType();
  auto resultVector = VectorType::get({lanes}, resultElement);

  Value zero = index(0), one = index(1);
  // The kernel updates `init` in place (destination-passing style), so its
  // result is equivalent to `init`, e.g. to the iter_arg of a loop that
  // accumulates. Each output block reads `init` from the tensor it writes,
  // all reads before the first write (see the epilogue). With freshOutput
  // it writes a new tensor and reads `init` where it is.
  Value output = pr.init;
  if (pr.freshOutput)
    output = tensor::EmptyOp::create(
        b, loc, tensor::getMixedSizes(b, loc, pr.init), resultElement);
  // With a fused epilogue the kernel writes the epilogue's result instead:
  // `init` is only read (a broadcast scalar when it is a fill), and the
  // accumulators go through the epilogue in registers.
  using EpilogueKind = FusedEpilogue::Kind;
  const FusedEpilogue &ep = pr.epilogue;
  bool fused = ep.kind != EpilogueKind::None;
  Value initScalar = pr.initScalar, thresholdTable, thresholdMasks;
  if (fused) {
    if (ep.kind == EpilogueKind::Threshold)
      std::tie(thresholdTable, thresholdMasks) = relayoutThresholds();
    output = createEpilogueOutput();
  }
  // Fused thresholds: channels per block (a power of two).
  int64_t blockChannels = vectors * lanes;
  // Plane pairs in Horner order (see MicroKernelShape::hornerPlanePairs):
  // all weights positive, 2^(i + j + scaleShift).
  bool horner = shape.hornerPlanePairs && !sumsSigned;
  // With 64-bit lane counts the plane loop runs in Horner order too (the
  // pairs by falling weight, which the loops give with at most 2 weight
  // planes): the steps count into one set of sums, where a fresh set per
  // pair beside the running sums took 32 vector registers in a 4 x 4 block
  // and LLVM spilled the running sums around every pair.
  bool loopHorner = shape.wordPopcount && !sumsSigned && planesB <= 2;
  // Pair weights scale by scaleA * scaleB; XOR'ed pairs' counts are scaled
  // in the epilogue.
  int64_t scaleShift =
      xorPairs ? 0 : llvm::Log2_64(decodeA.scale * decodeB.scale);

  // Channel blocks [cbBegin, cbEnd) of one output row (n, oh): loops over
  // pixel blocks and channel blocks that write `rowTensor`, either the whole
  // output (`rowLocal` false) or a [1, 1, OW, channels] slice of it starting
  // at channel `channelOffset`. With taskInput, `kernelInput` and
  // `bitCounts` hold that row alone (row 0 of image 0).
  auto buildRow = [&](Value n, Value oh, Value rowTensor, bool rowLocal,
                      Value cbBegin, Value cbEnd, Value channelOffset) {
    Value inputN = taskInput ? zero : n, inputOh = taskInput ? zero : oh;
    SmallVector<Value> lbs{zero, cbBegin};
    SmallVector<Value> ubs{dim(pr.init, 2), cbEnd};
    SmallVector<Value> steps{index(pixels), index(vectors)};
    scf::LoopNest nest = scf::buildLoopNest(
        b, loc, lbs, ubs, steps, ValueRange{rowTensor},
        [&](OpBuilder &nb, Location, ValueRange ivs, ValueRange iterArgs) {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPoint(nb.getInsertionBlock(), nb.getInsertionPoint());
          Value ow0 = ivs[0], cob0 = ivs[1];
          Value writeN = rowLocal ? zero : n, writeOh = rowLocal ? zero : oh;

          // Weighted sum over plane pairs.
          SmallVector<Value> accInit(accumulators, zeroSums());
          auto planePair = [&](ValueRange pivs, ValueRange acc) {
            SmallVector<Value> counts =
                reducePlanePair(kernelInput, relaid, inputN, inputOh, ow0, cob0,
                                pivs[0], pivs[1]);
            // The weight is +-2^(i + j + log2(scaleA * scaleB)): shift,
            // then add or subtract (AVX2 has no 64-bit lane multiply).
            Type sumElement = sumVector.getElementType();
            Value exponent = arith::AddIOp::create(
                b, loc,
                arith::IndexCastOp::create(
                    b, loc, sumElement,
                    arith::AddIOp::create(b, loc, pivs[0], pivs[1])),
                arith::ConstantIntOp::create(b, loc, sumElement, scaleShift));
            Value shifts =
                vector::BroadcastOp::create(b, loc, sumVector, exponent);
            Value negative = arith::XOrIOp::create(
                b, loc, isNegativePlane(pivs[0], pr.inputLayout),
                isNegativePlane(pivs[1], pr.filterLayout));
            SmallVector<Value> next;
            for (int64_t k = 0; k < accumulators; ++k) {
              Value term = arith::ShLIOp::create(b, loc, counts[k], shifts);
              next.push_back(arith::SelectOp::create(
                  b, loc, negative, arith::SubIOp::create(b, loc, acc[k], term),
                  arith::AddIOp::create(b, loc, acc[k], term)));
            }
            return next;
          };
          // Short reductions (1x1 layers) with straight-line steps (or
          // straightLinePlanePairs): all plane pairs straight-line too. No
          // loop overhead or zeroed accumulators per block, constant shifts,
          // and an in-order core interleaves the plane pairs' independent
          // counts.
          // With unrollPlanePairs, longer ones of one chunk (3x3 layers
          // over 64 or 128 channels) with at most kMaxUnrolledPlanePairs
          // plane pairs: one copy of the step loops per pair, for constant
          // shifts and no plane loop carrying the sums.
          // With hornerPlanePairs (straight-line pairs only: in plane loops
          // LLVM spilled the carried sums around the chunks' widening adds,
          // C9 A2W1 9% slower): the pairs by falling weight, the sums so far
          // shifted left by `shift` before each pair's counts are added into
          // them (its steps count into byte sums directly). No shifted copy
          // of each pair's counts and no second set of sums live.
          auto shiftSums = [&](SmallVector<Value> &sums, int64_t shift) {
            if (shift == 0)
              return;
            Value shifts = arith::ConstantOp::create(
                b, loc,
                DenseElementsAttr::get(
                    sumVector,
                    b.getIntegerAttr(sumVector.getElementType(), shift)));
            for (Value &sum : sums)
              sum = arith::ShLIOp::create(b, loc, sum, shifts);
          };
          SmallVector<Value> planeSums;
          int64_t pairSteps = kernelH * kernelW * words * halves();
          bool shortPairs =
              planesA * planesB * pairSteps <= kMaxStraightLinePairSteps;
          if (pairSteps <= kMaxByteSteps &&
              ((shape.straightLinePlanePairs && shortPairs) ||
               (shape.unrollSteps &&
                (shortPairs ||
                 (shape.unrollPlanePairs &&
                  planesA * planesB <= kMaxUnrolledPlanePairs))))) {
            planeSums = accInit;
            if (horner) {
              // Pairs by falling weight 2^(i + j).
              SmallVector<std::pair<int64_t, int64_t>> pairs;
              for (int64_t e = planesA + planesB - 2; e >= 0; --e)
                for (int64_t i = std::min(e, planesA - 1); i >= 0; --i)
                  if (e - i < planesB)
                    pairs.push_back({i, e - i});
              int64_t previous = pairs.front().first + pairs.front().second;
              for (auto [i, j] : pairs) {
                shiftSums(planeSums, previous - i - j);
                planeSums =
                    reducePlanePair(kernelInput, relaid, inputN, inputOh, ow0,
                                    cob0, index(i), index(j), planeSums);
                previous = i + j;
              }
              shiftSums(planeSums, scaleShift);
            } else {
              for (int64_t i = 0; i < planesA; ++i)
                for (int64_t j = 0; j < planesB; ++j)
                  planeSums = planePair({index(i), index(j)}, planeSums);
            }
          } else {
            scf::LoopNest planes = scf::buildLoopNest(
                b, loc, ValueRange{zero, zero},
                ValueRange{index(planesA), index(planesB)},
                ValueRange{one, one}, accInit,
                [&](OpBuilder &pb, Location, ValueRange pivs, ValueRange acc) {
                  OpBuilder::InsertionGuard guard(b);
                  b.setInsertionPoint(pb.getInsertionBlock(),
                                      pb.getInsertionPoint());
                  if (!loopHorner)
                    return planePair(pivs, acc);
                  // Pair (planesA - 1 - u, planesB - 1 - v): with at most 2
                  // weight planes the weights fall or stay level along the
                  // loops. The sums so far shift by the step from the
                  // previous pair: 1 within a row of weight planes, 2 -
                  // planesB from one row to the next, 0 before the first.
                  Value u = pivs[0], v = pivs[1];
                  Value i =
                      arith::SubIOp::create(b, loc, index(planesA - 1), u);
                  Value j =
                      arith::SubIOp::create(b, loc, index(planesB - 1), v);
                  Value first = arith::CmpIOp::create(
                      b, loc, arith::CmpIPredicate::eq,
                      arith::OrIOp::create(b, loc, u, v), zero);
                  Value inRow = arith::CmpIOp::create(
                      b, loc, arith::CmpIPredicate::ne, v, zero);
                  Value shift = arith::SelectOp::create(
                      b, loc, first, zero,
                      arith::SelectOp::create(b, loc, inRow, one,
                                              index(2 - planesB)));
                  Type sumElement = sumVector.getElementType();
                  Value shifts = vector::BroadcastOp::create(
                      b, loc, sumVector,
                      arith::IndexCastOp::create(b, loc, sumElement, shift));
                  SmallVector<Value> shifted;
                  for (Value sum : acc)
                    shifted.push_back(
                        arith::ShLIOp::create(b, loc, sum, shifts));
                  return reducePlanePair(kernelInput, relaid, inputN, inputOh,
                                         ow0, cob0, i, j, shifted);
                });
            planeSums.assign(planes.results.begin(), planes.results.end());
            if (loopHorner)
              shiftSums(planeSums, scaleShift);
          }

          // Epilogue: corrections, add to init, store. Every read of the
          // block precedes its first write, so the reads see `init` even
          // when bufferization gives the writes a new buffer and skips
          // copying `init` into it (MLIR 22 takes a write of one vector at
          // constant zero indices for a whole-tensor overwrite): every
          // element is written. A full block (all pixels inside the row, all
          // channel vectors inside CO) reads and writes whole vectors; only
          // the blocks at the end of a row or of the channels mask.
          Value blockStart = iterArgs[0];
          Value outWidth = dim(pr.init, 2);
          // Narrow sums (or i64 sums of 4 or more lanes) of a block whose
          // pixels and channels all fit, with i32 results: everything in i32
          // lanes (arithmetic mod 2^32 gives the low 32 bits of the i64
          // computation), each pair of channel vectors q, q + 1 made one
          // vector of their 2 * lanes consecutive channels (on AArch64:
          // uaddlp to 32-bit partial sums, one addp; on x86 the low halves
          // of the i64 lanes), read, added and stored at once.
          // Bipolar weights: bW * sum(d) * S_A[n, oh, ow], as i64.
          auto weightOffsetTerm = [&](Value ow) -> Value {
            Value count = tensor::ExtractOp::create(
                b, loc, bitCounts, ValueRange{inputN, inputOh, ow});
            return arith::MulIOp::create(
                b, loc, count,
                constI64(decodeB.offset * getPlaneWeightSum(pr.filterLayout)));
          };
          // `value` mod 2^width in every lane.
          auto splat = [&](VectorType type, int64_t value) -> Value {
            unsigned width = type.getElementTypeBitWidth();
            return arith::ConstantOp::create(
                b, loc,
                DenseElementsAttr::get(type, APInt(64, value).trunc(width)));
          };
          // XOR'ed pairs: W - 2 S from the count sums S and the tap terms
          // W (zero when null).
          auto xorTotal = [&](Value sums, Value terms) -> Value {
            auto type = cast<VectorType>(sums.getType());
            Value doubled = arith::ShLIOp::create(b, loc, sums, splat(type, 1));
            return arith::SubIOp::create(b, loc, terms ? terms : splat(type, 0),
                                         doubled);
          };
          auto narrowEpilogue = [&]() -> Value {
            Type i32 = b.getI32Type();
            auto partialType = VectorType::get({2 * lanes}, i32);
            auto laneType = VectorType::get({lanes}, i32);
            Value result = blockStart;
            SmallVector<std::tuple<Value, Value, Value>> stores;
            SmallVector<Value> treeTotals = reduceBlockSums(planeSums);
            for (int64_t p = 0; p < pixels; ++p) {
              Value ow = arith::AddIOp::create(b, loc, ow0, index(p));
              Value pixelTerm;
              if (pixelTerms)
                pixelTerm =
                    arith::TruncIOp::create(b, loc, i32, weightOffsetTerm(ow));
              for (int64_t q = 0; q < vectors; q += 2) {
                int64_t count = std::min<int64_t>(2, vectors - q);
                Value block = arith::AddIOp::create(b, loc, cob0, index(q));
                // Bipolar activations: the filter's tap terms of the pixel's
                // border class, one i64 vector per channel vector.
                SmallVector<Value> terms;
                for (int64_t k = 0; k < count && tapTerms; ++k)
                  terms.push_back(vector::TransferReadOp::create(
                      b, loc, wordVector, tapTerms,
                      ValueRange{classOf(rowClasses, oh),
                                 classOf(columnClasses, ow),
                                 arith::AddIOp::create(b, loc, block, index(k)),
                                 zero},
                      constI64(0), ArrayRef<bool>{true}));
                Value total;
                // Whether total holds W - 2 S already (XOR'ed pairs).
                bool xorDone = false;
                if (!treeTotals.empty()) {
                  total = treeTotals[(p * vectors + q) / 2];
                } else if (accBits == 64) {
                  // 64-bit sums (x86): the tap terms added as they are, then
                  // the low halves of both vectors' lanes, [c0, c1, ...]
                  // (little-endian lanes), in one shuffle per pair rather
                  // than a truncation per vector (x86: vshufps + vpermq for
                  // 8 channels, not 2 x vextracti128 + vshufps).
                  auto halvesType = VectorType::get({2 * lanes}, i32);
                  SmallVector<Value> halves;
                  for (int64_t k = 0; k < count; ++k) {
                    Value sum = planeSums[p * vectors + q + k];
                    if (xorPairs && !uniformTerm)
                      sum = xorTotal(sum, terms[k]);
                    else if (!terms.empty())
                      sum = arith::AddIOp::create(b, loc, sum, terms[k]);
                    halves.push_back(
                        vector::BitCastOp::create(b, loc, halvesType, sum));
                  }
                  terms.clear();
                  xorDone = xorPairs && !uniformTerm;
                  SmallVector<int64_t> low;
                  for (int64_t c = 0; c < count * lanes; ++c)
                    low.push_back(2 * c);
                  total = vector::ShuffleOp::create(b, loc, halves[0],
                                                    halves[count - 1], low);
                } else {
                  // Partial sums [c0a, c0b, c1a, c1b, ...] of each vector.
                  SmallVector<Value> partials;
                  for (int64_t k = 0; k < count; ++k)
                    partials.push_back(
                        widenLanes(planeSums[p * vectors + q + k], partialType,
                                   sumsSigned));
                  Value second = count == 2 ? partials[1] : partials[0];
                  SmallVector<int64_t> even, odd;
                  for (int64_t c = 0; c < count * lanes; ++c) {
                    even.push_back(2 * c);
                    odd.push_back(2 * c + 1);
                  }
                  total = arith::AddIOp::create(
                      b, loc,
                      vector::ShuffleOp::create(b, loc, partials[0], second,
                                                even),
                      vector::ShuffleOp::create(b, loc, partials[0], second,
                                                odd));
                }
                auto totalType = cast<VectorType>(total.getType());
                // W - 2 S, or -2 S and W below.
                if (xorPairs && !xorDone)
                  total = xorTotal(total, uniformTerm
                                              ? splat(totalType, *uniformTerm)
                                              : Value());
                if (pixelTerm)
                  total =
                      arith::AddIOp::create(b, loc, total,
                                            vector::BroadcastOp::create(
                                                b, loc, totalType, pixelTerm));
                if (!terms.empty()) {
                  for (Value &term : terms)
                    term = arith::TruncIOp::create(b, loc, laneType, term);
                  Value term = terms[0];
                  if (count == 2) {
                    SmallVector<int64_t> both;
                    for (int64_t c = 0; c < 2 * lanes; ++c)
                      both.push_back(c);
                    term = vector::ShuffleOp::create(b, loc, terms[0], terms[1],
                                                     both);
                  }
                  total = arith::AddIOp::create(b, loc, total, term);
                }
                Value co = arith::MulIOp::create(b, loc, block, index(lanes));
                SmallVector<Value> readAt{n, oh, ow, co};
                if (rowLocal)
                  co = arith::SubIOp::create(b, loc, co, channelOffset);
                if (!pr.freshOutput)
                  readAt = {writeN, writeOh, ow, co};
                Value current =
                    initScalar
                        ? vector::BroadcastOp::create(b, loc, totalType,
                                                      initScalar)
                              .getResult()
                        : vector::TransferReadOp::create(
                              b, loc, totalType,
                              pr.freshOutput ? pr.init : blockStart, readAt,
                              arith::ConstantOp::create(b, loc,
                                                        b.getZeroAttr(i32)),
                              ArrayRef<bool>{true})
                              .getResult();
                stores.push_back(
                    {arith::AddIOp::create(b, loc, current, total), ow, co});
              }
            }
            for (auto [sum, ow, co] : stores)
              result =
                  vector::TransferWriteOp::create(
                      b, loc, sum, result, ValueRange{writeN, writeOh, ow, co},
                      ArrayRef<bool>{true})
                      .getResult();
            return result;
          };
          auto epilogue = [&](bool full) -> Value {
            // 64-bit sums take it too where a vector has 4 or more lanes
            // (x86): each 4 lanes truncated alone cost 2 shuffles.
            if (full && !fused && resultElement.isInteger(32) &&
                (accBits < 64 || lanes >= 4))
              return narrowEpilogue();
            SmallVector<Value> sums(planeSums);
            if (accBits < 64)
              for (Value &sum : sums)
                sum = widenLanes(sum, wordVector, sumsSigned);
            struct Store {
              Value inside, sum, ow, co;
            };
            SmallVector<Store> stores;
            // A fused epilogue's per-channel parameters: one vector of each
            // per channel vector of the block, read once per block.
            auto readParams = [&](Value params, Value co, bool inBounds) {
              auto type = cast<RankedTensorType>(params.getType());
              auto vectorType = VectorType::get({lanes}, type.getElementType());
              return vector::TransferReadOp::create(
                         b, loc, vectorType, params, ValueRange{co},
                         arith::ConstantOp::create(
                             b, loc, b.getZeroAttr(type.getElementType())),
                         ArrayRef<bool>{inBounds})
                  .getResult();
            };
            SmallVector<SmallVector<Value>> params(vectors);
            for (int64_t q = 0; q < vectors && fused; ++q) {
              Value co = arith::MulIOp::create(
                  b, loc, arith::AddIOp::create(b, loc, cob0, index(q)),
                  index(lanes));
              switch (ep.kind) {
              case EpilogueKind::Threshold:
                // Padded to whole blocks: always in bounds.
                if (thresholdMasks)
                  params[q].push_back(readParams(thresholdMasks, co, true));
                break;
              case EpilogueKind::Requantize:
                params[q] = {readParams(ep.multiplier, co, full),
                             readParams(ep.shift, co, full)};
                break;
              case EpilogueKind::Dequantize:
                params[q] = {readParams(ep.scale, co, full),
                             readParams(ep.bias, co, full)};
                break;
              case EpilogueKind::None:
                break;
              }
            }
            for (int64_t p = 0; p < pixels; ++p) {
              Value ow = arith::AddIOp::create(b, loc, ow0, index(p));
              Value inside, owClamped = ow;
              if (!full) {
                inside = arith::CmpIOp::create(
                    b, loc, arith::CmpIPredicate::ult, ow, outWidth);
                owClamped = arith::SelectOp::create(b, loc, inside, ow, zero);
              }
              Value pixelTerm;
              if (pixelTerms)
                pixelTerm = vector::BroadcastOp::create(
                    b, loc, wordVector, weightOffsetTerm(owClamped));
              for (int64_t q = 0; q < vectors; ++q) {
                Value total = sums[p * vectors + q];
                if (pixelTerm)
                  total = arith::AddIOp::create(b, loc, total, pixelTerm);
                Value block = arith::AddIOp::create(b, loc, cob0, index(q));
                if (uniformTerm) {
                  total = xorTotal(total, splat(wordVector, *uniformTerm));
                } else if (inputBipolar) {
                  Value term = vector::TransferReadOp::create(
                      b, loc, wordVector, tapTerms,
                      ValueRange{classOf(rowClasses, oh),
                                 classOf(columnClasses, owClamped), block,
                                 zero},
                      constI64(0), ArrayRef<bool>{true});
                  total = xorPairs ? xorTotal(total, term)
                                   : arith::AddIOp::create(b, loc, total, term)
                                         .getResult();
                }
                Value co = arith::MulIOp::create(b, loc, block, index(lanes));
                Value narrowed = total;
                if (resultElement != i64)
                  narrowed =
                      arith::TruncIOp::create(b, loc, resultVector, total);
                Value padding = arith::ConstantOp::create(
                    b, loc, b.getZeroAttr(resultElement));
                Value writeCo =
                    rowLocal ? arith::SubIOp::create(b, loc, co, channelOffset)
                                   .getResult()
                             : co;
                // A pixel past the row end reads pixel 0 and stores nothing.
                // Fused, `init` is read where it is (global indices), or is
                // the scalar of its fill.
                Value current;
                if (initScalar)
                  current = vector::BroadcastOp::create(b, loc, resultVector,
                                                        initScalar);
                else if (!fused && pr.freshOutput)
                  current = vector::TransferReadOp::create(
                      b, loc, resultVector, pr.init,
                      ValueRange{n, oh, owClamped, co}, padding,
                      ArrayRef<bool>{full});
                else if (!fused)
                  current = vector::TransferReadOp::create(
                      b, loc, resultVector, blockStart,
                      ValueRange{writeN, writeOh, owClamped, writeCo}, padding,
                      ArrayRef<bool>{full});
                else
                  current = vector::TransferReadOp::create(
                      b, loc, resultVector, pr.init,
                      ValueRange{n, oh, owClamped, co}, padding,
                      ArrayRef<bool>{full});
                Value sum = arith::AddIOp::create(b, loc, current, narrowed);
                if (ep.kind == EpilogueKind::Requantize)
                  sum = buildRequantize(
                      b, loc, sum, params[q][0], params[q][1], ep.zeroPoint,
                      ep.clampMin, ep.clampMax,
                      VectorType::get({lanes}, ep.resultElement));
                else if (ep.kind == EpilogueKind::Dequantize)
                  sum =
                      buildDequantize(b, loc, sum, params[q][0], params[q][1]);
                stores.push_back({inside, sum, ow, writeCo});
              }
            }
            if (ep.kind == EpilogueKind::Threshold)
              return thresholdStores(
                  full, blockStart,
                  llvm::map_to_vector(stores,
                                      [](const Store &s) {
                                        return std::make_pair(s.sum, s.inside);
                                      }),
                  params, thresholdTable, ow0, cob0, writeN, writeOh, rowLocal,
                  channelOffset);
            Value result = blockStart;
            for (const Store &store : stores) {
              if (full) {
                result = vector::TransferWriteOp::create(
                             b, loc, store.sum, result,
                             ValueRange{writeN, writeOh, store.ow, store.co},
                             ArrayRef<bool>{true})
                             .getResult();
                continue;
              }
              // A mask rather than an scf.if per store: one-shot
              // bufferization's analysis grows exponentially with nested
              // scf.if chains inside the block's scf.if (a tiled 4 x 4 block
              // never finished). Lanes past the channels, and every lane of
              // a pixel past the row end (stored at pixel 0), are masked off.
              Value extent = dim(result, 3);
              Value left = arith::SubIOp::create(
                  b, loc, arith::MaxSIOp::create(b, loc, extent, store.co),
                  store.co);
              Value valid = arith::SelectOp::create(
                  b, loc, store.inside,
                  arith::MinSIOp::create(b, loc, left, index(lanes)), zero);
              auto maskType = VectorType::get({lanes}, b.getI1Type());
              Value mask =
                  vector::CreateMaskOp::create(b, loc, maskType, valid);
              Value owClamped =
                  arith::SelectOp::create(b, loc, store.inside, store.ow, zero);
              result = vector::TransferWriteOp::create(
                           b, loc, store.sum, result,
                           ValueRange{writeN, writeOh, owClamped, store.co},
                           AffineMapAttr::get(AffineMap::getMinorIdentityMap(
                               4, 1, b.getContext())),
                           mask, b.getBoolArrayAttr({false}))
                           .getResult();
            }
            return result;
          };
          Value pixelsFit = arith::CmpIOp::create(
              b, loc, arith::CmpIPredicate::ule,
              arith::AddIOp::create(b, loc, ow0, index(pixels)), outWidth);
          Value channelsFit = arith::CmpIOp::create(
              b, loc, arith::CmpIPredicate::ule,
              arith::MulIOp::create(
                  b, loc, arith::AddIOp::create(b, loc, cob0, index(vectors)),
                  index(lanes)),
              channelsOutValue);
          auto blockIf = scf::IfOp::create(
              b, loc, arith::AndIOp::create(b, loc, pixelsFit, channelsFit),
              [&](OpBuilder &tb, Location tloc) {
                OpBuilder::InsertionGuard guard(b);
                b.setInsertionPoint(tb.getInsertionBlock(),
                                    tb.getInsertionPoint());
                scf::YieldOp::create(b, tloc, epilogue(/*full=*/true));
              },
              [&](OpBuilder &eb, Location eloc) {
                OpBuilder::InsertionGuard guard(b);
                b.setInsertionPoint(eb.getInsertionBlock(),
                                    eb.getInsertionPoint());
                scf::YieldOp::create(b, eloc, epilogue(/*full=*/false));
              });
          return scf::ValueVector{blockIf.getResult(0)};
        });
    return nest.results.front();
  };

  Value batch = dim(pr.init, 0), rows = dim(pr.init, 1);
  if (!threads) {
    scf::LoopNest rowsNest = scf::buildLoopNest(
        b, loc, ValueRange{zero, zero}, ValueRange{batch, rows},
        ValueRange{one, one}, ValueRange{output},
        [&](OpBuilder &nb, Location, ValueRange ivs, ValueRange iterArgs) {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPoint(nb.getInsertionBlock(), nb.getInsertionPoint());
          return scf::ValueVector{buildRow(ivs[0], ivs[1], iterArgs[0],
                                           /*rowLocal=*/false, zero,
                                           channelBlocksValue, zero)};
        });
    return rowsNest.results.front();
  }

  // In parallel: scf.forall over (n, oh, part), each task writing the
  // channels of one part of a row to its own slice of the shared output.
  // Parts split a row's channel block steps evenly, so that rows are not the
  // only work to share: a 7-row layer or a matmul (one row) keeps every
  // thread busy too.
  // Fused thresholds: a part is a run of whole words (64 channels), so no
  // two tasks write one word.
  bool wordParts = ep.kind == EpilogueKind::Threshold;
  int64_t unitBlocks =
      wordParts ? vectors * std::max<int64_t>(1, 64 / blockChannels) : vectors;
  int64_t parts = 1;
  if (!ShapedType::isDynamic(channelBlocks))
    parts = std::min<int64_t>(llvm::divideCeil(channelBlocks, unitBlocks),
                              kChannelParts);
  if (taskInput)
    parts = 1;
  auto forall = scf::ForallOp::create(
      b, loc, ArrayRef<OpFoldResult>{batch, rows, b.getIndexAttr(parts)},
      ValueRange{output}, std::nullopt);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(forall.getBody());
  Value n = forall.getInductionVar(0), oh = forall.getInductionVar(1);
  Value part = forall.getInductionVar(2);
  Value shared = forall.getRegionIterArgs()[0];
  // Part p: units [p * units / parts, (p + 1) * units / parts) of
  // `unitBlocks` channel blocks (one channel block step, or the steps of a
  // word of codes).
  Value unitSteps = wordParts
                        ? arith::CeilDivUIOp::create(b, loc, channelBlocksValue,
                                                     index(unitBlocks))
                              .getResult()
                        : arith::DivUIOp::create(b, loc, channelBlocksValue,
                                                 index(unitBlocks))
                              .getResult();
  auto partStart = [&](Value p) -> Value {
    Value unitIndex = arith::DivUIOp::create(
        b, loc, arith::MulIOp::create(b, loc, p, unitSteps), index(parts));
    Value start = arith::MulIOp::create(b, loc, unitIndex, index(unitBlocks));
    if (wordParts)
      start = arith::MinUIOp::create(b, loc, start, channelBlocksValue);
    return start;
  };
  Value cbBegin = partStart(part);
  Value cbEnd = partStart(arith::AddIOp::create(b, loc, part, one));
  Value channelOffset = arith::MulIOp::create(b, loc, cbBegin, index(lanes));
  Value channelEnd = arith::MinUIOp::create(
      b, loc, arith::MulIOp::create(b, loc, cbEnd, index(lanes)),
      channelsOutValue);
  Value channels = arith::SubIOp::create(b, loc, channelEnd, channelOffset);
  OpFoldResult oneAttr = b.getIndexAttr(1), zeroAttr = b.getIndexAttr(0);
  SmallVector<OpFoldResult> offsets{n, oh, zeroAttr, channelOffset};
  SmallVector<OpFoldResult> sizes{
      oneAttr, oneAttr, tensor::getMixedSize(b, loc, pr.init, 2), channels};
  if (wordParts) {
    // [1, 1, OW, bits, words of the part].
    Value wordOffset = arith::DivUIOp::create(b, loc, channelOffset, index(64));
    Value wordEnd = arith::CeilDivUIOp::create(b, loc, channelEnd, index(64));
    offsets = {n, oh, zeroAttr, zeroAttr, wordOffset};
    sizes = {oneAttr, oneAttr, tensor::getMixedSize(b, loc, pr.init, 2),
             b.getIndexAttr(pr.epilogue.layout.getBits()),
             arith::SubIOp::create(b, loc, wordEnd, wordOffset).getResult()};
  }
  SmallVector<OpFoldResult> strides(offsets.size(), oneAttr);
  Value rowSlice =
      tensor::ExtractSliceOp::create(b, loc, shared, offsets, sizes, strides);
  if (taskInput) {
    llvm::SaveAndRestore<bool> serial(threads, false);
    kernelInput = buildKernelInput(n, oh);
    setFlatInput(kernelInput);
    if (pixelTerms)
      bitCounts = activationBitCounts(kernelInput);
  }
  Value row = buildRow(n, oh, rowSlice, /*rowLocal=*/true, cbBegin, cbEnd,
                       channelOffset);
  b.setInsertionPointToStart(forall.getTerminator().getBody());
  tensor::ParallelInsertSliceOp::create(b, loc, row, shared, offsets, sizes,
                                        strides);
  return forall.getResult(0);
}
