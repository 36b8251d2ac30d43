//===- KernelLoops.cpp - Loops and tasks of the x86 kernels ---------------===//

#include "Bitserial/Conversion/BitserialToInt8/KernelLoops.h"
#include "Bitserial/IR/BitserialOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/Utils/Utils.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/Matchers.h"

using namespace mlir;
using namespace mlir::bitserial;

/// A matmul's row tasks per batch, at most: enough to balance the threads,
/// few enough that each task's blocks amortize its fork.
static constexpr int64_t kMaxRowTasks = 64;

std::pair<Value, bool> int8::getStoreTarget(OpBuilder &b, Location loc,
                                            Value init) {
  auto fill = init.getDefiningOp<linalg::FillOp>();
  if (!fill || !matchPattern(fill.getInputs()[0], m_Zero()))
    return {init, true};
  auto type = cast<RankedTensorType>(init.getType());
  Value empty = tensor::EmptyOp::create(
      b, loc, tensor::getMixedSizes(b, loc, init), type.getElementType());
  return {empty, false};
}

Value int8::minIndex(OpBuilder &b, Location loc, Value base, int64_t offset,
                     Value extent) {
  Value last = arith::SubIOp::create(b, loc, extent,
                                     arith::ConstantIndexOp::create(b, loc, 1));
  return arith::MinUIOp::create(
      b, loc,
      arith::AddIOp::create(b, loc, base,
                            arith::ConstantIndexOp::create(b, loc, offset)),
      last);
}

scf::LoopNest
int8::buildLoops(OpBuilder &b, Location loc, ArrayRef<Value> ubs,
                 ArrayRef<int64_t> steps, ValueRange iterArgs,
                 function_ref<scf::ValueVector(ValueRange, ValueRange)> body,
                 ArrayRef<Value> lowerBounds) {
  SmallVector<Value> lbs(lowerBounds), stepValues;
  if (lbs.empty())
    lbs.assign(ubs.size(), arith::ConstantIndexOp::create(b, loc, 0));
  for (int64_t step : steps)
    stepValues.push_back(arith::ConstantIndexOp::create(b, loc, step));
  return scf::buildLoopNest(
      b, loc, lbs, ubs, stepValues, iterArgs,
      [&](OpBuilder &nb, Location, ValueRange ivs, ValueRange args) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(nb.getInsertionBlock(), nb.getInsertionPoint());
        return body(ivs, args);
      });
}

Value int8::buildSlicedNest(
    OpBuilder &b, Location loc, Value dest, ArrayRef<Value> ubs,
    ArrayRef<Value> steps, int64_t split, ArrayRef<int64_t> offsets,
    function_ref<Value(ValueRange, ValueRange, Value)> body) {
  auto index = [&](int64_t v) {
    return arith::ConstantIndexOp::create(b, loc, v).getResult();
  };
  // `at` on the first dimensions: the slice's 0 on split ones, else ivs +
  // offsets.
  auto atOf = [&](ValueRange ivs, bool sliced) {
    SmallVector<Value> at;
    for (int64_t d = 0, e = offsets.size(); d < e; ++d)
      at.push_back(sliced && d < split ? index(0)
                   : offsets[d] == 0   ? ivs[d]
                                       : arith::AddIOp::create(b, loc, ivs[d],
                                                               index(offsets[d]))
                                           .getResult());
    return at;
  };
  auto nest = [&](ValueRange outer, ArrayRef<Value> innerUbs,
                  ArrayRef<Value> innerSteps, Value into, bool sliced) {
    SmallVector<Value> lbs(innerUbs.size(), index(0));
    return scf::buildLoopNest(
               b, loc, lbs, innerUbs, innerSteps, ValueRange{into},
               [&](OpBuilder &nb, Location, ValueRange ivs, ValueRange args) {
                 OpBuilder::InsertionGuard guard(b);
                 b.setInsertionPoint(nb.getInsertionBlock(),
                                     nb.getInsertionPoint());
                 SmallVector<Value> all(outer);
                 llvm::append_range(all, ivs);
                 return scf::ValueVector{body(all, atOf(all, sliced), args[0])};
               })
        .results.front();
  };
  if (split == 0)
    return nest({}, ubs, steps, dest, /*sliced=*/false);
  assert(split <= int64_t(offsets.size()) && split < int64_t(ubs.size()) &&
         "split loops are dimensions of dest, with loops inside them");
  SmallVector<OpFoldResult> bounds(getAsOpFoldResult(ubs.take_front(split)));
  auto forall =
      scf::ForallOp::create(b, loc, bounds, ValueRange{dest}, std::nullopt);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(forall.getBody());
  SmallVector<Value> outer;
  for (int64_t d = 0; d < split; ++d)
    outer.push_back(forall.getInductionVar(d));
  Value shared = forall.getRegionIterArgs()[0];
  int64_t rank = cast<RankedTensorType>(shared.getType()).getRank();
  OpFoldResult oneAttr = b.getIndexAttr(1);
  SmallVector<OpFoldResult> sliceOffsets, sizes, strides(rank, oneAttr);
  for (int64_t d = 0; d < rank; ++d) {
    if (d < split) {
      sliceOffsets.push_back(
          offsets[d] == 0
              ? OpFoldResult(outer[d])
              : OpFoldResult(
                    arith::AddIOp::create(b, loc, outer[d], index(offsets[d]))
                        .getResult()));
      sizes.push_back(oneAttr);
    } else {
      sliceOffsets.push_back(b.getIndexAttr(0));
      sizes.push_back(tensor::getMixedSize(b, loc, shared, d));
    }
  }
  Value slice = tensor::ExtractSliceOp::create(b, loc, shared, sliceOffsets,
                                               sizes, strides);
  Value done = nest(outer, ubs.drop_front(split), steps.drop_front(split),
                    slice, /*sliced=*/true);
  b.setInsertionPointToStart(forall.getTerminator().getBody());
  tensor::ParallelInsertSliceOp::create(b, loc, done, shared, sliceOffsets,
                                        sizes, strides);
  return forall.getResult(0);
}

bool int8::hasParallelWork(Operation *op, int64_t minMacs) {
  auto initType = cast<RankedTensorType>(
      cast<DestinationStyleOpInterface>(op).getDpsInits()[0].getType());
  auto rhsType = cast<RankedTensorType>(op->getOperand(1).getType());
  if (!initType.hasStaticShape() || !rhsType.hasStaticShape())
    return true;
  // The reduction per output: the packed length, times KH x KW for a
  // convolution. In double: huge static shapes must not overflow.
  double perOutput = getPackedLayout(rhsType).getLength();
  ArrayRef<int64_t> rhsShape = rhsType.getShape();
  if (isa<Conv2DOp>(op))
    perOutput *= double(rhsShape[1]) * rhsShape[2];
  return double(initType.getNumElements()) * perOutput >= double(minMacs);
}

Value int8::buildMatmulRows(
    OpBuilder &b, Location loc, Value target, ArrayRef<OpFoldResult> sizes,
    bool batched, int64_t rowBlock, bool parallel,
    function_ref<Value(Value, Value, Value, Value, Value)> buildRows) {
  auto index = [&](int64_t v) {
    return arith::ConstantIndexOp::create(b, loc, v).getResult();
  };
  unsigned first = batched ? 1 : 0;
  Value rows = getValueOrCreateConstantIndexOp(b, loc, sizes[first]);
  Value zeroIndex = index(0);
  Value batchCount =
      batched ? getValueOrCreateConstantIndexOp(b, loc, sizes[0]) : Value();
  if (!parallel) {
    if (!batched)
      return buildRows(target, Value(), Value(), zeroIndex, rows);
    return buildLoops(b, loc, {batchCount}, {1}, ValueRange{target},
                      [&](ValueRange ivs, ValueRange iterArgs) {
                        return scf::ValueVector{buildRows(
                            iterArgs[0], ivs[0], ivs[0], zeroIndex, rows)};
                      })
        .results.front();
  }
  // Tasks of whole register blocks of rows, each storing into its own slice
  // of the output.
  Value blockRows = arith::CeilDivUIOp::create(b, loc, rows, index(rowBlock));
  Value taskBlocks =
      arith::CeilDivUIOp::create(b, loc, blockRows, index(kMaxRowTasks));
  Value taskRows = arith::MulIOp::create(b, loc, taskBlocks, index(rowBlock));
  Value tasks = arith::CeilDivUIOp::create(
      b, loc, rows, arith::MaxUIOp::create(b, loc, taskRows, index(1)));
  SmallVector<OpFoldResult> bounds;
  if (batched)
    bounds.push_back(batchCount);
  bounds.push_back(tasks);
  auto forall =
      scf::ForallOp::create(b, loc, bounds, ValueRange{target}, std::nullopt);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(forall.getBody());
  Value bi = batched ? forall.getInductionVar(0) : Value();
  Value task = forall.getInductionVar(batched ? 1 : 0);
  Value rowOffset = arith::MulIOp::create(b, loc, task, taskRows);
  Value rowCount = arith::MinUIOp::create(
      b, loc, taskRows, arith::SubIOp::create(b, loc, rows, rowOffset));
  Value shared = forall.getRegionIterArgs()[0];
  OpFoldResult oneAttr = b.getIndexAttr(1);
  SmallVector<OpFoldResult> offsets, sliceSizes;
  if (batched) {
    offsets.push_back(bi);
    sliceSizes.push_back(oneAttr);
  }
  offsets.append({rowOffset, b.getIndexAttr(0)});
  sliceSizes.append({rowCount, sizes[first + 1]});
  SmallVector<OpFoldResult> strides(offsets.size(), oneAttr);
  Value slice = tensor::ExtractSliceOp::create(b, loc, shared, offsets,
                                               sliceSizes, strides);
  Value rowsDone =
      buildRows(slice, bi, batched ? zeroIndex : Value(), rowOffset, rowCount);
  b.setInsertionPointToStart(forall.getTerminator().getBody());
  tensor::ParallelInsertSliceOp::create(b, loc, rowsDone, shared, offsets,
                                        sliceSizes, strides);
  return forall.getResult(0);
}

Value int8::buildConvRows(
    OpBuilder &b, Location loc, Value target, ArrayRef<OpFoldResult> sizes,
    bool parallel,
    function_ref<Value(Value, Value, Value, Value, Value)> buildRow) {
  Value batch = getValueOrCreateConstantIndexOp(b, loc, sizes[0]);
  Value outHeight = getValueOrCreateConstantIndexOp(b, loc, sizes[1]);
  if (!parallel)
    return buildLoops(b, loc, {batch, outHeight}, {1, 1}, ValueRange{target},
                      [&](ValueRange ivs, ValueRange iterArgs) {
                        return scf::ValueVector{buildRow(
                            iterArgs[0], ivs[0], ivs[1], ivs[0], ivs[1])};
                      })
        .results.front();
  // One task per output row, storing into its own slice.
  auto forall =
      scf::ForallOp::create(b, loc, ArrayRef<OpFoldResult>{batch, outHeight},
                            ValueRange{target}, std::nullopt);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(forall.getBody());
  Value n = forall.getInductionVar(0), oh = forall.getInductionVar(1);
  Value shared = forall.getRegionIterArgs()[0];
  OpFoldResult oneAttr = b.getIndexAttr(1);
  OpFoldResult zeroAttr = b.getIndexAttr(0);
  SmallVector<OpFoldResult> offsets{n, oh, zeroAttr, zeroAttr};
  SmallVector<OpFoldResult> sliceSizes{oneAttr, oneAttr, sizes[2], sizes[3]};
  SmallVector<OpFoldResult> strides(4, oneAttr);
  Value slice = tensor::ExtractSliceOp::create(b, loc, shared, offsets,
                                               sliceSizes, strides);
  Value zeroIndex = arith::ConstantIndexOp::create(b, loc, 0);
  Value rowDone = buildRow(slice, n, oh, zeroIndex, zeroIndex);
  b.setInsertionPointToStart(forall.getTerminator().getBody());
  tensor::ParallelInsertSliceOp::create(b, loc, rowDone, shared, offsets,
                                        sliceSizes, strides);
  return forall.getResult(0);
}

Value int8::buildConvRowParts(
    OpBuilder &b, Location loc, Value target, ArrayRef<OpFoldResult> sizes,
    bool parallel, const ChannelParts &split,
    function_ref<Value(const ConvRowPart &)> buildRow) {
  auto index = [&](int64_t v) {
    return arith::ConstantIndexOp::create(b, loc, v).getResult();
  };
  Value batch = getValueOrCreateConstantIndexOp(b, loc, sizes[0]);
  Value outHeight = getValueOrCreateConstantIndexOp(b, loc, sizes[1]);
  Value zeroIndex = index(0);
  if (!parallel)
    return buildLoops(b, loc, {batch, outHeight}, {1, 1}, ValueRange{target},
                      [&](ValueRange ivs, ValueRange iterArgs) {
                        return scf::ValueVector{buildRow(ConvRowPart{
                            iterArgs[0], ivs[0], ivs[1], ivs[0], ivs[1],
                            zeroIndex, split.blocks, zeroIndex})};
                      })
        .results.front();
  auto forall = scf::ForallOp::create(
      b, loc,
      ArrayRef<OpFoldResult>{sizes[0], sizes[1], b.getIndexAttr(split.parts)},
      ValueRange{target}, std::nullopt);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(forall.getBody());
  Value n = forall.getInductionVar(0), oh = forall.getInductionVar(1);
  Value part = forall.getInductionVar(2);
  // Part p: units [p * units / parts, (p + 1) * units / parts).
  Value units =
      arith::CeilDivUIOp::create(b, loc, split.blocks, index(split.unitBlocks));
  auto partStart = [&](Value p) -> Value {
    Value unit = arith::DivUIOp::create(
        b, loc, arith::MulIOp::create(b, loc, p, units), index(split.parts));
    return arith::MinUIOp::create(
        b, loc, arith::MulIOp::create(b, loc, unit, index(split.unitBlocks)),
        split.blocks);
  };
  Value blockBegin = partStart(part);
  Value blockEnd =
      partStart(arith::AddIOp::create(b, loc, part, index(1)).getResult());
  Value channels = getValueOrCreateConstantIndexOp(b, loc, sizes[3]);
  Value channelOffset =
      arith::MinUIOp::create(
          b, loc, arith::MulIOp::create(b, loc, blockBegin, index(split.lanes)),
          channels)
          .getResult();
  Value channelEnd = arith::MinUIOp::create(
      b, loc, arith::MulIOp::create(b, loc, blockEnd, index(split.lanes)),
      channels);
  Value shared = forall.getRegionIterArgs()[0];
  OpFoldResult oneAttr = b.getIndexAttr(1);
  SmallVector<OpFoldResult> offsets{n, oh, b.getIndexAttr(0), channelOffset};
  SmallVector<OpFoldResult> sliceSizes{
      oneAttr, oneAttr, sizes[2],
      arith::SubIOp::create(b, loc, channelEnd, channelOffset).getResult()};
  SmallVector<OpFoldResult> strides(4, oneAttr);
  Value slice = tensor::ExtractSliceOp::create(b, loc, shared, offsets,
                                               sliceSizes, strides);
  Value done = buildRow(ConvRowPart{slice, n, oh, zeroIndex, zeroIndex,
                                    blockBegin, blockEnd, channelOffset});
  b.setInsertionPointToStart(forall.getTerminator().getBody());
  tensor::ParallelInsertSliceOp::create(b, loc, done, shared, offsets,
                                        sliceSizes, strides);
  return forall.getResult(0);
}
