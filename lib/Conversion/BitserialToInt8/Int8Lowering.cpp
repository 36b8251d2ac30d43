//===- Int8Lowering.cpp - Target-independent parts of int8 lowerings ------===//
//
// Operand representations, decoding of packed planes to i8 codes, offset
// corrections and window sums shared by the AArch64 and x86 int8
// dot-product lowerings (docs/design.md).
//
//===----------------------------------------------------------------------===//

#include "Bitserial/Conversion/BitserialToInt8/Int8Lowering.h"
#include "Bitserial/Conversion/BitserialToInt8/KernelLoops.h"
#include "Bitserial/IR/BitserialOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/Utils/Utils.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mlir::bitserial;
using namespace mlir::bitserial::int8;

bool int8::fitsS8(PackedLayoutAttr layout) {
  return layout.getEncoding() == Encoding::Signed || layout.getBits() <= 7;
}

Int8Operand int8::asSigned(PackedLayoutAttr layout) {
  if (fitsS8(layout))
    return {false, 1, 0};
  // 8-bit unsigned: v - 128; 8-bit bipolar (odd v): (v - 1) / 2.
  if (layout.getEncoding() == Encoding::Unsigned)
    return {false, 1, 128};
  return {false, 2, 1};
}

Int8Operand int8::asUnsigned(PackedLayoutAttr layout) {
  int64_t bits = layout.getBits();
  switch (layout.getEncoding()) {
  case Encoding::Unsigned:
    return {true, 1, 0};
  case Encoding::Signed:
    return {true, 1, -(int64_t(1) << (bits - 1))};
  case Encoding::Bipolar:
    return {true, 2, -((int64_t(1) << bits) - 1)};
  }
  llvm_unreachable("unknown encoding");
}

Value int8::constantIndex(OpBuilder &b, Location loc, int64_t value) {
  return arith::ConstantIndexOp::create(b, loc, value);
}

Value int8::constantInt(OpBuilder &b, Location loc, Type type, int64_t value) {
  return arith::ConstantOp::create(b, loc, IntegerAttr::get(type, value));
}

OpFoldResult int8::roundUp(OpBuilder &b, Location loc, OpFoldResult size,
                           int64_t multiple) {
  if (std::optional<int64_t> value = getConstantIntValue(size))
    return b.getIndexAttr(llvm::divideCeil(*value, multiple) * multiple);
  Value m = constantIndex(b, loc, multiple);
  Value up = arith::AddIOp::create(b, loc, cast<Value>(size),
                                   constantIndex(b, loc, multiple - 1));
  return Value(
      arith::MulIOp::create(b, loc, arith::DivUIOp::create(b, loc, up, m), m));
}

static int64_t staticSize(OpFoldResult size) {
  return getConstantIntValue(size).value_or(ShapedType::kDynamic);
}

namespace {
/// x = sum_p gamma_p b_p + delta (mod 256) for the plane bits b_p of an
/// element: the representation `rep` of the encoding's value.
struct PlaneWeights {
  SmallVector<int64_t> gamma;
  int64_t delta;
};
} // namespace

static PlaneWeights getPlaneWeights(PackedLayoutAttr layout, Int8Operand rep) {
  // value = a sum_p w_p b_p + a' sum_p w_p, x = (value - offset) / scale.
  PlaneDecoding decoding = getPlaneDecoding(layout.getEncoding());
  PlaneWeights weights;
  for (unsigned p = 0; p < layout.getBits(); ++p)
    weights.gamma.push_back(decoding.scale * getPlaneWeight(layout, p) /
                            rep.scale);
  weights.delta =
      (decoding.offset * getPlaneWeightSum(layout) - rep.offset) / rep.scale;
  return weights;
}

/// The i8 with the low 8 bits of `value`.
static int8_t lowByte(int64_t value) {
  return static_cast<int8_t>(static_cast<uint8_t>(value & 0xff));
}

static Value splatI8(OpBuilder &b, Location loc, int64_t value,
                     int64_t lanes = 16) {
  auto type = VectorType::get({lanes}, b.getI8Type());
  return arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(type, b.getI8IntegerAttr(lowByte(value))));
}

/// The integer tensor `packed` was packed from, when it comes straight from
/// a `bitserial.pack`: reading its values saves packing and decoding planes.
static Value getPackSource(Value packed) {
  if (auto pack = packed.getDefiningOp<PackOp>())
    return pack.getInput();
  return {};
}

bool int8::decodesFromSource(Value packed) {
  return getPackSource(packed) || getConstantElements(packed);
}

/// sum_p gamma_p b_p over the 64 lanes of `planeBits` (a `vector<64xi1>`
/// per plane).
static Value sumPlaneBits64(OpBuilder &b, Location loc,
                            ArrayRef<Value> planeBits,
                            const PlaneWeights &weights) {
  Value zeros = splatI8(b, loc, 0, 64);
  Value codes = zeros;
  for (auto [p, bits] : llvm::enumerate(planeBits))
    codes = arith::AddIOp::create(
        b, loc, codes,
        arith::SelectOp::create(b, loc, bits,
                                splatI8(b, loc, weights.gamma[p], 64), zeros));
  return codes;
}

Value int8::decodeBits64(OpBuilder &b, Location loc, ArrayRef<Value> planeBits,
                         PackedLayoutAttr layout, Int8Operand rep) {
  PlaneWeights weights = getPlaneWeights(layout, rep);
  Value codes = sumPlaneBits64(b, loc, planeBits, weights);
  if (weights.delta != 0)
    codes = arith::AddIOp::create(b, loc, codes,
                                  splatI8(b, loc, weights.delta, 64));
  return codes;
}

/// The codes x of `rep` for `values`, elements of a tensor packed with
/// `layout`, as `pack` would encode them: the low `bits` bits (after the
/// bipolar shift) decoded and offset, so an out-of-range value gives the
/// same code as through its planes. Computed modulo 2^8 in i8 lanes, or in
/// i16 lanes for wider sources (8-bit bipolar values need 9 bits).
static Value codesOfValues(OpBuilder &b, Location loc, Value values,
                           PackedLayoutAttr layout, Int8Operand rep) {
  auto type = cast<VectorType>(values.getType());
  int64_t sourceWidth = type.getElementType().getIntOrFloatBitWidth();
  int64_t width = sourceWidth <= 8 ? 8 : 16;
  auto laneType = VectorType::get(type.getShape(), b.getIntegerType(width));
  Value v = values;
  if (sourceWidth < width)
    v = arith::ExtSIOp::create(b, loc, laneType, v);
  else if (sourceWidth > width)
    v = arith::TruncIOp::create(b, loc, laneType, v);
  auto splat = [&](int64_t value) -> Value {
    return arith::ConstantOp::create(
        b, loc,
        DenseElementsAttr::get(
            laneType, b.getIntegerAttr(laneType.getElementType(),
                                       APInt(width, value, true,
                                             /*implicitTrunc=*/true))));
  };
  int64_t bits = layout.getBits(), span = (int64_t(1) << bits) - 1;
  Encoding encoding = layout.getEncoding();
  if (encoding == Encoding::Bipolar)
    v = arith::ShRUIOp::create(
        b, loc, arith::AddIOp::create(b, loc, v, splat(span)), splat(1));
  // v holds the plane bits u in its low `bits` bits; the value they decode to:
  if (bits < width) {
    if (encoding == Encoding::Signed)
      v = arith::ShRSIOp::create(
          b, loc, arith::ShLIOp::create(b, loc, v, splat(width - bits)),
          splat(width - bits));
    else
      v = arith::AndIOp::create(b, loc, v, splat(span));
  }
  if (encoding == Encoding::Bipolar)
    v = arith::SubIOp::create(b, loc, arith::AddIOp::create(b, loc, v, v),
                              splat(span));
  // x = (value - offset) / scale, exact: the difference is a multiple of
  // the scale, non-negative for unsigned codes.
  if (rep.offset != 0)
    v = arith::SubIOp::create(b, loc, v, splat(rep.offset));
  if (rep.scale == 2)
    v = rep.isUnsigned ? Value(arith::ShRUIOp::create(b, loc, v, splat(1)))
                       : Value(arith::ShRSIOp::create(b, loc, v, splat(1)));
  if (width > 8)
    v = arith::TruncIOp::create(
        b, loc, VectorType::get(type.getShape(), b.getI8Type()), v);
  return v;
}

/// Writes the 1-D vector `value` in pieces of `size` elements into `into`,
/// piece i at `[at..., first + i, last]`.
static Value writePieces(OpBuilder &b, Location loc, Value value, int64_t size,
                         Value into, ArrayRef<Value> at, Value first,
                         Value last) {
  int64_t count = cast<VectorType>(value.getType()).getNumElements() / size;
  for (int64_t i = 0; i < count; ++i) {
    Value piece = vector::ExtractStridedSliceOp::create(
        b, loc, value, ArrayRef<int64_t>{i * size}, ArrayRef<int64_t>{size},
        ArrayRef<int64_t>{1});
    SmallVector<Value> pieceAt(at);
    pieceAt.append({arith::AddIOp::create(b, loc, first,
                                          constantIndex(b, loc, i)),
                    last});
    into = vector::TransferWriteOp::create(b, loc, piece, into, pieceAt,
                                           ArrayRef<bool>{true})
               .getResult();
  }
  return into;
}

/// Constant packed operands of at most this many codes (after padding) are
/// decoded at compile time (16 MiB of i8 codes).
static constexpr int64_t kMaxFoldedCodes = int64_t(1) << 24;

/// decodePacked's result for a constant `packed` of static shape, computed
/// at compile time (weights: no decoding per call); std::nullopt otherwise
/// or past kMaxFoldedCodes.
static std::optional<DecodedOperand>
foldDecodedConstant(OpBuilder &b, Location loc, Value packed,
                    PackedLayoutAttr layout, Int8Operand rep,
                    int64_t rowMultiple, CodeLayout codeLayout, Type resultType,
                    bool needRowSum, ArrayRef<int64_t> padding) {
  auto type = cast<RankedTensorType>(packed.getType());
  if (!type.hasStaticShape())
    return std::nullopt;
  DenseIntElementsAttr words = getConstantElements(packed);
  if (!words)
    return std::nullopt;
  ArrayRef<int64_t> shape = type.getShape();
  int64_t lead = shape.size() - 3;
  int64_t rows = shape[lead], numWords = shape[lead + 2];
  int64_t bits = layout.getBits(), length = layout.getLength();
  unsigned wordBits = getWordBits(type);
  int64_t paddedLength = llvm::divideCeil(length, 64) * 64;
  int64_t top = padding.empty() ? 0 : padding[0];
  int64_t left = padding.empty() ? 0 : padding[2];
  SmallVector<int64_t> xShape(shape.take_front(lead));
  int64_t xRows = rows;
  if (!padding.empty()) {
    xShape.back() += padding[0] + padding[1];
    xRows += padding[2] + padding[3];
  }
  int64_t paddedRows = llvm::alignTo(xRows, rowMultiple);
  int64_t xLeads = 1, leads = 1;
  for (int64_t d = 0; d < lead; ++d) {
    xLeads *= xShape[d];
    leads *= shape[d];
  }
  bool rowPairs = codeLayout.kind == CodeLayout::Kind::RowPairs;
  bool blocks = codeLayout.kind == CodeLayout::Kind::ChannelBlocks;
  // Channel blocks: channels (the first of lead and R) and the others.
  int64_t channels = lead ? shape[0] : rows;
  int64_t midCount = leads * rows / channels;
  int64_t lanes = codeLayout.lanes, group = codeLayout.group;
  int64_t numCodes = blocks ? llvm::divideCeil(channels, lanes) * lanes *
                                  midCount * paddedLength
                            : xLeads * paddedRows * paddedLength;
  if (numCodes > kMaxFoldedCodes)
    return std::nullopt;
  if (blocks) {
    xShape.assign(1, llvm::divideCeil(channels, lanes));
    xShape.append(shape.begin() + 1, shape.begin() + lead + 1);
    xShape.append({paddedLength / group, lanes});
  } else if (rowPairs) {
    xShape.append({paddedRows / 2, paddedLength / 8, 16});
  } else {
    xShape.append({paddedRows, paddedLength});
  }

  SmallVector<uint64_t> wordValues;
  wordValues.reserve(words.getNumElements());
  for (const APInt &word : words.getValues<APInt>())
    wordValues.push_back(word.getZExtValue());
  std::vector<int8_t> codes(numCodes, 0);
  std::vector<int64_t> sums(needRowSum ? leads * rows : 0, 0);
  // Where code k of row xr of the (flattened) leading index xl goes.
  auto codePosition = [&](int64_t xl, int64_t xr, int64_t k) {
    if (blocks) {
      int64_t flat = xl * rows + xr;
      int64_t channel = flat / midCount, mid = flat % midCount;
      return ((channel / lanes) * midCount + mid) * paddedLength * lanes +
             (k / group) * lanes * group + (channel % lanes) * group +
             k % group;
    }
    if (rowPairs)
      return ((xl * (paddedRows / 2) + xr / 2) * (paddedLength / 8) + k / 8) *
                 16 +
             (xr % 2) * 8 + k % 8;
    return (xl * paddedRows + xr) * paddedLength + k;
  };
  SmallVector<int64_t> at(lead, 0);
  for (int64_t l = 0; l < leads; ++l) {
    // The position of lead index `at` in x (the last leading dimension
    // moved past the top padding).
    int64_t xl = 0;
    for (int64_t d = 0; d < lead; ++d)
      xl = xl * xShape[d] + at[d] + (d == lead - 1 ? top : 0);
    for (int64_t r = 0; r < rows; ++r) {
      const uint64_t *planes =
          wordValues.data() + (l * rows + r) * bits * numWords;
      int64_t xr = r + left, sum = 0;
      for (int64_t k = 0; k < length; ++k) {
        uint64_t u = 0;
        for (int64_t p = 0; p < bits; ++p)
          u |= ((planes[p * numWords + k / wordBits] >> (k % wordBits)) & 1)
               << p;
        int64_t code =
            (decodePlaneBits(u, bits, layout.getEncoding()) - rep.offset) /
            rep.scale;
        sum += code;
        codes[codePosition(xl, xr, k)] = lowByte(code);
      }
      if (needRowSum)
        sums[l * rows + r] = sum;
    }
    for (int64_t d = lead - 1; d >= 0; --d) {
      if (++at[d] < shape[d])
        break;
      at[d] = 0;
    }
  }
  DecodedOperand result;
  if (blocks) {
    // Words of `group` codes, the first in the low byte.
    SmallVector<APInt> groupWords;
    groupWords.reserve(codes.size() / group);
    for (size_t w = 0; w < codes.size(); w += group) {
      uint64_t word = 0;
      for (int64_t e = 0; e < group; ++e)
        word |= uint64_t(uint8_t(codes[w + e])) << (8 * e);
      groupWords.push_back(APInt(8 * group, word));
    }
    result.x = arith::ConstantOp::create(
        b, loc,
        DenseElementsAttr::get(
            RankedTensorType::get(xShape, b.getIntegerType(8 * group)),
            groupWords));
  } else {
    result.x = arith::ConstantOp::create(
        b, loc,
        DenseElementsAttr::get(RankedTensorType::get(xShape, b.getI8Type()),
                               ArrayRef<int8_t>(codes)));
  }
  if (needRowSum) {
    unsigned width = resultType.getIntOrFloatBitWidth();
    SmallVector<APInt> values;
    for (int64_t sum : sums)
      values.push_back(APInt(width, sum, /*isSigned=*/true,
                             /*implicitTrunc=*/true));
    result.rowSum = arith::ConstantOp::create(
        b, loc,
        DenseElementsAttr::get(
            RankedTensorType::get(shape.take_front(lead + 1), resultType),
            values));
  }
  return result;
}

/// Decodes `packed` (`[lead..., R, planes, words]`, any word type) straight
/// to the i8 values x of `rep` with vector code: 64 elements (8 bytes of
/// each plane) at a time, each byte spread over 8 lanes, tested against the
/// lane's bit and weighted, and written as `codeLayout` says, with R rounded
/// up to `rowMultiple` and K to 64; `padding` (`[top, bottom, left,
/// right]`, a conv input) pads the last leading dimension and the rows
/// around the values. Padding is x = 0. Row sums are of x over the R rows.
/// A `packed` straight from `bitserial.pack` is read from the pack's input
/// instead of its planes; a constant one (constant weights) is decoded at
/// compile time.
DecodedOperand int8::decodePacked(OpBuilder &b, Location loc, Value packed,
                                  PackedLayoutAttr layout, Int8Operand rep,
                                  int64_t rowMultiple, CodeLayout codeLayout,
                                  Type resultType, bool needRowSum,
                                  ArrayRef<int64_t> padding, int64_t lanes,
                                  bool parallel) {
  bool rowPairs = codeLayout.kind == CodeLayout::Kind::RowPairs;
  bool blocks = codeLayout.kind == CodeLayout::Kind::ChannelBlocks;
  assert((lanes == 16 || lanes == 32 || lanes == 64) &&
         (!rowPairs || lanes == 16) && "16, 32 or 64 lanes; 16 with pairs");
  assert((!blocks ||
          (rowMultiple == 1 && padding.empty() &&
           lanes % codeLayout.group == 0 && 64 % codeLayout.group == 0)) &&
         "channel blocks: no row multiple or padding, whole groups");
  Value source = getPackSource(packed);
  if (!source)
    if (std::optional<DecodedOperand> folded =
            foldDecodedConstant(b, loc, packed, layout, rep, rowMultiple,
                                codeLayout, resultType, needRowSum, padding))
      return *folded;
  auto packedType = cast<RankedTensorType>(packed.getType());
  auto wordType = cast<IntegerType>(packedType.getElementType());
  Value words = tensor::CastOp::create(
      b, loc, RankedTensorType::get(packedType.getShape(), wordType), packed);
  int64_t perChunk = 64 / wordType.getWidth();
  int64_t rank = packedType.getRank(), lead = rank - 3;
  int64_t length = layout.getLength();
  int64_t chunks = llvm::divideCeil(length, 64), paddedLength = chunks * 64;
  Type i8 = b.getI8Type();
  auto bytesType = VectorType::get({lanes}, i8);
  int64_t parts = 64 / lanes;
  PlaneWeights weights = getPlaneWeights(layout, rep);
  auto index = [&](int64_t v) { return constantIndex(b, loc, v); };

  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(b, loc, words);
  int64_t top = 0, left = 0;
  SmallVector<OpFoldResult> xSizes(
      ArrayRef<OpFoldResult>(sizes).take_front(lead));
  OpFoldResult rows = sizes[lead];
  auto grow = [&](OpFoldResult size, int64_t by) -> OpFoldResult {
    if (by == 0)
      return size;
    if (std::optional<int64_t> value = getConstantIntValue(size))
      return b.getIndexAttr(*value + by);
    return Value(arith::AddIOp::create(b, loc, cast<Value>(size), index(by)));
  };
  if (!padding.empty()) {
    top = padding[0];
    left = padding[2];
    xSizes[lead - 1] = grow(xSizes[lead - 1], padding[0] + padding[1]);
    rows = grow(rows, padding[2] + padding[3]);
  }
  OpFoldResult paddedRows = roundUp(b, loc, rows, rowMultiple);
  // Channel blocks: the first of lead and R is the channel.
  OpFoldResult channels = sizes[0];
  int64_t blockLanes = codeLayout.lanes, group = codeLayout.group;
  if (blocks) {
    OpFoldResult numBlocks = roundUp(b, loc, channels, blockLanes);
    if (std::optional<int64_t> value = getConstantIntValue(numBlocks))
      numBlocks = b.getIndexAttr(*value / blockLanes);
    else
      numBlocks = Value(arith::DivUIOp::create(b, loc, cast<Value>(numBlocks),
                                               index(blockLanes)));
    xSizes.assign({numBlocks});
    xSizes.append(sizes.begin() + 1, sizes.begin() + lead + 1);
    xSizes.append(
        {b.getIndexAttr(paddedLength / group), b.getIndexAttr(blockLanes)});
  } else if (rowPairs) {
    OpFoldResult pairs =
        getConstantIntValue(paddedRows)
            ? OpFoldResult(b.getIndexAttr(staticSize(paddedRows) / 2))
            : OpFoldResult(Value(arith::DivUIOp::create(
                  b, loc, cast<Value>(paddedRows), index(2))));
    xSizes.append(
        {pairs, b.getIndexAttr(paddedLength / 8), b.getIndexAttr(16)});
  } else {
    xSizes.append({paddedRows, b.getIndexAttr(paddedLength)});
  }
  // Channel blocks hold words of `group` codes.
  Type codeWordType = blocks ? b.getIntegerType(8 * group) : i8;
  Value x = tensor::EmptyOp::create(b, loc, xSizes, codeWordType);
  std::optional<int64_t> staticChannels = getConstantIntValue(channels);
  if (blocks && (!staticChannels || *staticChannels % blockLanes != 0)) {
    // Channels past C, in the last block, are 0.
    int64_t rank = xSizes.size();
    SmallVector<OpFoldResult> offsets(rank, b.getIndexAttr(0)),
        lastSizes(xSizes), strides(rank, b.getIndexAttr(1));
    offsets[0] = Value(arith::SubIOp::create(
        b, loc, getValueOrCreateConstantIndexOp(b, loc, xSizes[0]), index(1)));
    lastSizes[0] = b.getIndexAttr(1);
    Value last =
        tensor::ExtractSliceOp::create(b, loc, x, offsets, lastSizes, strides);
    Value zeros = linalg::FillOp::create(
                      b, loc, ValueRange{constantInt(b, loc, codeWordType, 0)},
                      ValueRange{last})
                      .getResult(0);
    x = tensor::InsertSliceOp::create(b, loc, zeros, x, offsets, lastSizes,
                                      strides);
  }
  Value rowSum;
  if (needRowSum) {
    SmallVector<OpFoldResult> sumSizes(
        ArrayRef<OpFoldResult>(sizes).take_front(lead + 1));
    rowSum = tensor::EmptyOp::create(b, loc, sumSizes, resultType);
  }

  // Writes the `lanes` values of row `r` from K index `k` on.
  auto write = [&](Value value, Value into, ValueRange leadIvs, Value r,
                   Value k) -> Value {
    if (blocks) {
      // One word per group of codes.
      SmallVector<Value> all(leadIvs.begin(), leadIvs.end());
      all.push_back(r);
      Value channel = all.front();
      SmallVector<Value> at{
          arith::DivUIOp::create(b, loc, channel, index(blockLanes))};
      at.append(all.begin() + 1, all.end());
      Value g0 = arith::DivUIOp::create(b, loc, k, index(group));
      Value lane = arith::RemUIOp::create(b, loc, channel, index(blockLanes));
      Value groupWords = vector::BitCastOp::create(
          b, loc, VectorType::get({lanes / group}, codeWordType), value);
      return writePieces(b, loc, groupWords, 1, into, at, g0, lane);
    }
    SmallVector<Value> at(leadIvs.begin(), leadIvs.end());
    if (!rowPairs) {
      at.append({r, k});
      return vector::TransferWriteOp::create(b, loc, value, into, at,
                                             ArrayRef<bool>{true})
          .getResult();
    }
    // Rows 2i and 2i + 1 interleave in blocks of 8 values of K.
    at.push_back(arith::DivUIOp::create(b, loc, r, index(2)));
    Value half = arith::MulIOp::create(
        b, loc, arith::RemUIOp::create(b, loc, r, index(2)), index(8));
    Value block = arith::DivUIOp::create(b, loc, k, index(8));
    return writePieces(b, loc, value, 8, into, at, block, half);
  };

  // With `parallel`, rows of codes split across threads by their first
  // (at most two) leading dimensions: images and rows of a conv input.
  int64_t split = parallel && !rowSum && !rowPairs && !blocks
                      ? std::min<int64_t>(2, lead)
                      : 0;

  Value zeroBytes = splatI8(b, loc, 0, lanes);
  SmallVector<int8_t> bitValues;
  for (int64_t i = 0; i < lanes; ++i)
    bitValues.push_back(lowByte(int64_t(1) << (i % 8)));
  Value bitMask = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(bytesType, ArrayRef<int8_t>(bitValues)));
  // The last chunk of a row may reach past its words (i8 to i32 words).
  bool wordsInBounds = !packedType.isDynamicDim(rank - 1) &&
                       packedType.getDimSize(rank - 1) % perChunk == 0;

  bool anyPadding = llvm::any_of(padding, [](int64_t p) { return p; });
  // Whether `at` is below `lower` or at/after `lower + size`.
  auto outside = [&](Value at, int64_t lower, OpFoldResult size) -> Value {
    std::optional<int64_t> staticSize = getConstantIntValue(size);
    Value upper =
        staticSize
            ? index(*staticSize + lower)
            : arith::AddIOp::create(b, loc, cast<Value>(size), index(lower))
                  .getResult();
    Value after =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::uge, at, upper);
    if (lower == 0)
      return after;
    return arith::OrIOp::create(
        b, loc, after,
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, at,
                              index(lower)));
  };
  // Whether the padded row `r` of x at `ivs` (x's leading dimensions) is
  // padding, and zeros written to that row.
  auto isPaddingRow = [&](ValueRange ivs, Value r) {
    Value isPadding = outside(r, left, sizes[lead]);
    if (!padding.empty())
      isPadding = arith::OrIOp::create(
          b, loc, isPadding, outside(ivs[lead - 1], top, sizes[lead - 1]));
    return isPadding;
  };
  auto zeroRow = [&](ValueRange at, Value r, Value into) {
    return buildLoops(b, loc, {index(paddedLength)}, {lanes}, {into},
                      [&](ValueRange k, ValueRange args) {
                        return scf::ValueVector{
                            write(zeroBytes, args[0], at, r, k[0])};
                      })
        .results.front();
  };
  // Padded rows of plain codes are written in one nest, each row's padding
  // and values by the same iteration: with threads, one parallel loop (no
  // barrier between the zeros and the values) whose tasks write whole rows.
  bool oneNest = anyPadding && rowMultiple == 1 && !rowSum && !rowPairs &&
                 !blocks;

  // A nest over x's padded rows (split across threads like the values):
  // zeros in the padding rows, `valuesOf(ivs, at, into)` in the others.
  auto paddedRowNest =
      [&](function_ref<Value(ValueRange, ValueRange, Value)> valuesOf) {
        SmallVector<Value> xUbs;
        for (int64_t d = 0; d < lead; ++d)
          xUbs.push_back(getValueOrCreateConstantIndexOp(b, loc, xSizes[d]));
        xUbs.push_back(getValueOrCreateConstantIndexOp(b, loc, paddedRows));
        SmallVector<Value> xSteps(lead + 1, index(1));
        x = buildSlicedNest(
            b, loc, x, xUbs, xSteps, split, SmallVector<int64_t>(lead, 0),
            [&](ValueRange ivs, ValueRange at, Value into) -> Value {
              Value r = ivs[lead];
              auto ifOp = scf::IfOp::create(b, loc, into.getType(),
                                            isPaddingRow(ivs, r),
                                            /*withElseRegion=*/true);
              OpBuilder::InsertionGuard guard(b);
              b.setInsertionPointToStart(ifOp.thenBlock());
              scf::YieldOp::create(b, loc, zeroRow(at, r, into));
              b.setInsertionPointToStart(ifOp.elseBlock());
              scf::YieldOp::create(b, loc, valuesOf(ivs, at, into));
              return ifOp.getResult(0);
            });
      };

  // Otherwise padding first: zeros in the rows outside the values (padded
  // images and rows, rows past R), which the values do not overwrite.
  if (!oneNest && (rowMultiple > 1 || anyPadding))
    paddedRowNest([](ValueRange, ValueRange, Value into) { return into; });

  // The values, at (top, left) past the padding.
  SmallVector<Value> lbs, ubs, steps;
  for (int64_t d = 0; d <= lead; ++d) {
    lbs.push_back(index(0));
    ubs.push_back(getValueOrCreateConstantIndexOp(b, loc, sizes[d]));
    steps.push_back(index(1));
  }
  // Row r of [lead...] (at xLead in x): the chunk loop, carrying x and,
  // with row sums, the row's sum.
  auto decodeRow = [&](ValueRange leadIvs, Value r, ValueRange xLead,
                       Value into) -> scf::ForOp {
    Value xRow = r;
    if (left)
      xRow = arith::AddIOp::create(b, loc, r, index(left));
    SmallVector<Value> chunkInits{into};
    if (rowSum)
      chunkInits.push_back(constantInt(b, loc, resultType, 0));
    auto chunkLoop =
        scf::ForOp::create(
            b, loc, index(0), index(chunks), index(1), chunkInits,
            [&](OpBuilder &cb, Location, Value c, ValueRange args) {
              OpBuilder::InsertionGuard guard(b);
              b.setInsertionPoint(cb.getInsertionBlock(),
                                  cb.getInsertionPoint());
              SmallVector<Value> partValues(parts, zeroBytes);
              Value firstWord =
                  arith::MulIOp::create(b, loc, c, index(perChunk));
              Value chunkStart = arith::MulIOp::create(b, loc, c, index(64));
              if (source) {
                auto sourceType = cast<RankedTensorType>(source.getType());
                Type element = sourceType.getElementType();
                for (int64_t s = 0; s < parts; ++s) {
                  SmallVector<Value> at(leadIvs.begin(), leadIvs.end());
                  at.append({r, arith::AddIOp::create(b, loc, chunkStart,
                                                      index(lanes * s))});
                  // Past the logical length: masked off below.
                  Value values = vector::TransferReadOp::create(
                      b, loc, VectorType::get({lanes}, element), source, at,
                      constantInt(b, loc, element, 0),
                      ArrayRef<bool>{length % 64 == 0});
                  partValues[s] = codesOfValues(b, loc, values, layout, rep);
                }
              }
              // With 64 lanes, each plane's bits as a lane mask.
              SmallVector<Value> planeBits;
              for (unsigned p = 0; p < layout.getBits() && !source; ++p) {
                SmallVector<Value> at(leadIvs.begin(), leadIvs.end());
                at.append({r, index(p), firstWord});
                Value wordVector = vector::TransferReadOp::create(
                    b, loc, VectorType::get({perChunk}, wordType), words, at,
                    constantInt(b, loc, wordType, 0),
                    ArrayRef<bool>{wordsInBounds});
                // Little endian: byte j holds elements 8j .. 8j + 7.
                Value bytes = vector::BitCastOp::create(
                    b, loc, VectorType::get({8}, i8), wordVector);
                if (lanes == 64) {
                  // The 64 bits are the lane mask: one mask-register move
                  // with AVX-512, not a broadcast, byte shuffle and test
                  // per plane (all three on port 5 of Intel cores).
                  planeBits.push_back(vector::BitCastOp::create(
                      b, loc, VectorType::get({64}, b.getI1Type()), bytes));
                  continue;
                }
                Value gamma = splatI8(b, loc, weights.gamma[p], lanes);
                for (int64_t s = 0; s < parts; ++s) {
                  SmallVector<int64_t> spread;
                  for (int64_t i = 0; i < lanes; ++i)
                    spread.push_back((s * lanes + i) / 8);
                  Value spreadBytes =
                      vector::ShuffleOp::create(b, loc, bytes, bytes, spread);
                  Value set = arith::CmpIOp::create(
                      b, loc, arith::CmpIPredicate::ne,
                      arith::AndIOp::create(b, loc, spreadBytes, bitMask),
                      zeroBytes);
                  partValues[s] = arith::AddIOp::create(
                      b, loc, partValues[s],
                      arith::SelectOp::create(b, loc, set, gamma, zeroBytes));
                }
              }
              if (!planeBits.empty())
                partValues[0] = sumPlaneBits64(b, loc, planeBits, weights);
              Value into = args[0];
              Value sum = rowSum ? args[1] : Value();
              for (int64_t s = 0; s < parts; ++s) {
                Value k =
                    arith::AddIOp::create(b, loc, chunkStart, index(lanes * s));
                Value part = partValues[s];
                if (source ? length % 64 != 0 : weights.delta != 0) {
                  // Zero bits are x = delta, and values past K were read
                  // as 0: clear the lanes past K.
                  if (!source)
                    part = arith::AddIOp::create(
                        b, loc, part, splatI8(b, loc, weights.delta, lanes));
                  Value valid = vector::CreateMaskOp::create(
                      b, loc, VectorType::get({lanes}, b.getI1Type()),
                      ValueRange{
                          arith::SubIOp::create(b, loc, index(length), k)});
                  part =
                      arith::SelectOp::create(b, loc, valid, part, zeroBytes);
                }
                into = write(part, into, xLead, xRow, k);
                if (sum) {
                  auto wideType = VectorType::get({lanes}, b.getI32Type());
                  Value wide = rep.isUnsigned ? Value(arith::ExtUIOp::create(
                                                    b, loc, wideType, part))
                                              : Value(arith::ExtSIOp::create(
                                                    b, loc, wideType, part));
                  Value total = vector::ReductionOp::create(
                      b, loc, vector::CombiningKind::ADD, wide);
                  if (!resultType.isInteger(32))
                    total = arith::ExtSIOp::create(b, loc, resultType, total);
                  sum = arith::AddIOp::create(b, loc, sum, total);
                }
              }
              SmallVector<Value> yields{into};
              if (sum)
                yields.push_back(sum);
              scf::YieldOp::create(b, loc, yields);
            });
    return chunkLoop;
  };
  if (oneNest) {
    // Every padded row of x: zeros, or the values of input row r - left.
    paddedRowNest([&](ValueRange ivs, ValueRange at, Value into) {
      SmallVector<Value> leadIvs(ivs.take_front(lead));
      if (top)
        leadIvs.back() =
            arith::SubIOp::create(b, loc, leadIvs.back(), index(top));
      Value r = ivs[lead];
      Value inputRow =
          left ? arith::SubIOp::create(b, loc, r, index(left)).getResult() : r;
      return decodeRow(leadIvs, inputRow, at, into).getResult(0);
    });
    return {x, rowSum};
  }
  if (split > 0) {
    // Rows split across threads: a slice of x per task.
    SmallVector<int64_t> offsets(lead, 0);
    offsets[lead - 1] = top;
    x = buildSlicedNest(
        b, loc, x, ubs, steps, split, offsets,
        [&](ValueRange ivs, ValueRange at, Value into) {
          return decodeRow(ivs.drop_back(), ivs.back(), at, into).getResult(0);
        });
    return {x, rowSum};
  }
  SmallVector<Value> inits{x};
  if (rowSum)
    inits.push_back(rowSum);
  scf::LoopNest decode = scf::buildLoopNest(
      b, loc, lbs, ubs, steps, inits,
      [&](OpBuilder &nb, Location, ValueRange ivs, ValueRange iterArgs) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(nb.getInsertionBlock(), nb.getInsertionPoint());
        ValueRange leadIvs = ivs.drop_back();
        Value r = ivs.back();
        // Where the row goes in x.
        SmallVector<Value> xLead(leadIvs.begin(), leadIvs.end());
        if (top)
          xLead.back() =
              arith::AddIOp::create(b, loc, xLead.back(), index(top));
        scf::ForOp chunkLoop = decodeRow(leadIvs, r, xLead, iterArgs[0]);
        SmallVector<Value> results{chunkLoop.getResult(0)};
        if (rowSum) {
          SmallVector<Value> at(leadIvs.begin(), leadIvs.end());
          at.push_back(r);
          results.push_back(tensor::InsertOp::create(
              b, loc, chunkLoop.getResult(1), iterArgs[1], at));
        }
        return scf::ValueVector(results.begin(), results.end());
      });
  x = decode.results.front();
  if (rowSum)
    rowSum = decode.results.back();

  return {x, rowSum};
}

Value int8::relayoutChannelBlocks(OpBuilder &b, Location loc, Value x,
                                  int64_t groups, int64_t lanes, int64_t group,
                                  Type codeType, bool isUnsigned) {
  auto xType = cast<RankedTensorType>(x.getType());
  int64_t rank = xType.getRank();
  auto index = [&](int64_t v) { return constantIndex(b, loc, v); };
  SmallVector<OpFoldResult> sizes;
  OpFoldResult rows = tensor::getMixedSize(b, loc, x, 0);
  OpFoldResult blocks = roundUp(b, loc, rows, lanes);
  if (std::optional<int64_t> value = getConstantIntValue(blocks))
    blocks = b.getIndexAttr(*value / lanes);
  else
    blocks = Value(
        arith::DivUIOp::create(b, loc, cast<Value>(blocks), index(lanes)));
  sizes.push_back(blocks);
  for (int64_t d = 1; d < rank - 1; ++d)
    sizes.push_back(b.getIndexAttr(xType.getDimSize(d)));
  sizes.append(
      {b.getIndexAttr(groups), b.getIndexAttr(lanes), b.getIndexAttr(group)});
  Value rowCount = getValueOrCreateConstantIndexOp(b, loc, rows);
  // i8 codes over whole reads of 16 values of K: a loop nest of vector
  // copies (each read's groups go to their own rows of the output), which
  // code generators that do not vectorize loops (llc) keep fast.
  constexpr int64_t span = 16;
  if (codeType == xType.getElementType() && span % group == 0 &&
      groups * group % span == 0) {
    SmallVector<OpFoldResult> outSizes(sizes);
    outSizes.pop_back();
    outSizes.back() = b.getIndexAttr(lanes * group);
    Value out = tensor::EmptyOp::create(b, loc, outSizes, codeType);
    SmallVector<Value> lbs, ubs, steps;
    lbs.push_back(index(0));
    ubs.push_back(arith::MulIOp::create(
        b, loc, getValueOrCreateConstantIndexOp(b, loc, blocks), index(lanes)));
    steps.push_back(index(1));
    for (int64_t d = 1; d < rank - 1; ++d) {
      lbs.push_back(index(0));
      ubs.push_back(index(xType.getDimSize(d)));
      steps.push_back(index(1));
    }
    lbs.push_back(index(0));
    ubs.push_back(index(groups * group));
    steps.push_back(index(span));
    auto spanType = VectorType::get({span}, codeType);
    Value zero = constantInt(b, loc, codeType, 0);
    Value zeros = arith::ConstantOp::create(b, loc, b.getZeroAttr(spanType));
    scf::LoopNest nest = scf::buildLoopNest(
        b, loc, lbs, ubs, steps, ValueRange{out},
        [&](OpBuilder &nb, Location nloc, ValueRange ivs, ValueRange iterArgs) {
          auto c = [&](int64_t v) { return constantIndex(nb, nloc, v); };
          Value row = ivs.front(), k = ivs.back();
          Value valid = arith::CmpIOp::create(
              nb, nloc, arith::CmpIPredicate::ult, row, rowCount);
          Value last = arith::SubIOp::create(nb, nloc, rowCount, c(1));
          SmallVector<Value> from{arith::MinUIOp::create(nb, nloc, row, last)};
          for (Value at : ivs.drop_front())
            from.push_back(at);
          Value values = vector::TransferReadOp::create(
              nb, nloc, spanType, x, from, zero, ArrayRef<bool>{true});
          values = arith::SelectOp::create(nb, nloc, valid, values, zeros);
          SmallVector<Value> to{
              arith::DivUIOp::create(nb, nloc, row, c(lanes))};
          for (Value mid : ivs.drop_front().drop_back())
            to.push_back(mid);
          Value group0 = arith::DivUIOp::create(nb, nloc, k, c(group));
          Value column = arith::MulIOp::create(
              nb, nloc, arith::RemUIOp::create(nb, nloc, row, c(lanes)),
              c(group));
          Value into = iterArgs[0];
          for (int64_t l = 0; l < span / group; ++l) {
            Value part = vector::ExtractStridedSliceOp::create(
                nb, nloc, values, ArrayRef<int64_t>{l * group},
                ArrayRef<int64_t>{group}, ArrayRef<int64_t>{1});
            SmallVector<Value> at(to);
            at.append({arith::AddIOp::create(nb, nloc, group0, c(l)), column});
            into = vector::TransferWriteOp::create(nb, nloc, part, into, at,
                                                   ArrayRef<bool>{true})
                       .getResult();
          }
          return scf::ValueVector{into};
        });
    return nest.results.front();
  }
  Value empty = tensor::EmptyOp::create(b, loc, sizes, codeType);
  int64_t outRank = rank + 2;
  SmallVector<utils::IteratorType> iterators(outRank,
                                             utils::IteratorType::parallel);
  auto relaid = linalg::GenericOp::create(
      b, loc, empty.getType(), ValueRange{}, ValueRange{empty},
      SmallVector<AffineMap>{b.getMultiDimIdentityMap(outRank)}, iterators,
      [&](OpBuilder &nb, Location nloc, ValueRange) {
        auto at = [&](int64_t d) {
          return linalg::IndexOp::create(nb, nloc, d).getResult();
        };
        auto c = [&](int64_t v) { return constantIndex(nb, nloc, v); };
        Value row = arith::AddIOp::create(
            nb, nloc, arith::MulIOp::create(nb, nloc, at(0), c(lanes)),
            at(outRank - 2));
        Value valid = arith::CmpIOp::create(nb, nloc, arith::CmpIPredicate::ult,
                                            row, rowCount);
        Value last = arith::SubIOp::create(nb, nloc, rowCount, c(1));
        SmallVector<Value> indices{arith::MinUIOp::create(nb, nloc, row, last)};
        for (int64_t d = 1; d < rank - 1; ++d)
          indices.push_back(at(d));
        indices.push_back(arith::AddIOp::create(
            nb, nloc, arith::MulIOp::create(nb, nloc, at(rank - 1), c(group)),
            at(outRank - 1)));
        Value value = tensor::ExtractOp::create(nb, nloc, x, indices);
        if (codeType != value.getType())
          value =
              isUnsigned
                  ? Value(arith::ExtUIOp::create(nb, nloc, codeType, value))
                  : Value(arith::ExtSIOp::create(nb, nloc, codeType, value));
        Value zero = constantInt(nb, nloc, codeType, 0);
        linalg::YieldOp::create(
            nb, nloc,
            Value(arith::SelectOp::create(nb, nloc, valid, value, zero)));
      });
  SmallVector<ReassociationIndices> reassociation;
  for (int64_t d = 0; d < outRank - 2; ++d)
    reassociation.push_back({d});
  reassociation.push_back({outRank - 2, outRank - 1});
  return tensor::CollapseShapeOp::create(b, loc, relaid.getResult(0),
                                         reassociation);
}

Value int8::foldChannelBlocks(OpBuilder &b, Location loc, Value packed,
                              PackedLayoutAttr layout, Int8Operand rep,
                              int64_t groups, int64_t lanes, int64_t group,
                              Type codeType) {
  auto type = cast<RankedTensorType>(packed.getType());
  DenseIntElementsAttr words = getConstantElements(packed);
  if (!type.hasStaticShape() || !words)
    return {};
  ArrayRef<int64_t> shape = type.getShape();
  int64_t rows = shape[0];
  ArrayRef<int64_t> mids = shape.drop_front().drop_back(2);
  int64_t midCount = 1;
  for (int64_t extent : mids)
    midCount *= extent;
  int64_t bits = layout.getBits(), length = layout.getLength();
  int64_t numWords = shape.back();
  unsigned wordBits = getWordBits(type);
  int64_t blocks = llvm::divideCeil(rows, lanes);
  int64_t rowCodes = groups * lanes * group;
  if (blocks * midCount * rowCodes > kMaxFoldedCodes)
    return {};
  SmallVector<uint64_t> wordValues;
  wordValues.reserve(words.getNumElements());
  for (const APInt &word : words.getValues<APInt>())
    wordValues.push_back(word.getZExtValue());
  int64_t decoded = std::min(length, groups * group);
  std::vector<int16_t> codes(blocks * midCount * rowCodes, 0);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t m = 0; m < midCount; ++m) {
      const uint64_t *planes =
          wordValues.data() + (r * midCount + m) * bits * numWords;
      int16_t *out = codes.data() + ((r / lanes) * midCount + m) * rowCodes +
                     (r % lanes) * group;
      for (int64_t k = 0; k < decoded; ++k) {
        uint64_t u = 0;
        for (int64_t p = 0; p < bits; ++p)
          u |= ((planes[p * numWords + k / wordBits] >> (k % wordBits)) & 1)
               << p;
        int64_t value = decodePlaneBits(u, bits, layout.getEncoding());
        out[(k / group) * lanes * group + k % group] =
            int16_t((value - rep.offset) / rep.scale);
      }
    }
  }
  SmallVector<int64_t> outShape{blocks};
  outShape.append(mids.begin(), mids.end());
  outShape.append({groups, lanes * group});
  auto outType = RankedTensorType::get(outShape, codeType);
  DenseElementsAttr attr;
  if (codeType.isInteger(8)) {
    // u8 codes (up to 255) keep their bits as i8.
    std::vector<int8_t> bytes(codes.begin(), codes.end());
    attr = DenseElementsAttr::get(outType, ArrayRef<int8_t>(bytes));
  } else {
    attr = DenseElementsAttr::get(outType, ArrayRef<int16_t>(codes));
  }
  return arith::ConstantOp::create(b, loc, attr);
}

Value int8::buildOffsetEpilogue(RewriterBase &rewriter, Location loc,
                                Int8Operand a, Int8Operand c, Value init,
                                Value product, Value lhsRowSum,
                                AffineMap lhsMap, Value rhsRowSum,
                                AffineMap rhsMap, int64_t length) {
  auto initType = cast<RankedTensorType>(init.getType());
  Type resultType = initType.getElementType();
  int64_t rank = initType.getRank();
  SmallVector<Value> inputs;
  SmallVector<AffineMap> maps;
  if (product) {
    inputs.push_back(product);
    maps.push_back(rewriter.getMultiDimIdentityMap(rank));
  }
  if (lhsRowSum) {
    inputs.push_back(lhsRowSum);
    maps.push_back(lhsMap);
  }
  if (rhsRowSum) {
    inputs.push_back(rhsRowSum);
    maps.push_back(rhsMap);
  }
  maps.push_back(rewriter.getMultiDimIdentityMap(rank));
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  auto epilogue = linalg::GenericOp::create(
      rewriter, loc, initType, inputs, ValueRange{init}, maps, iterators,
      [&](OpBuilder &b, Location nloc, ValueRange args) {
        auto term = [&](Value value, int64_t factor) -> Value {
          if (factor == 1)
            return value;
          return arith::MulIOp::create(
              b, nloc, value, constantInt(b, nloc, resultType, factor));
        };
        Value total = args.back();
        unsigned next = 0;
        if (product)
          total = arith::AddIOp::create(b, nloc, total,
                                        term(args[next++], a.scale * c.scale));
        if (lhsRowSum)
          total = arith::AddIOp::create(b, nloc, total,
                                        term(args[next++], a.scale * c.offset));
        if (rhsRowSum)
          total = arith::AddIOp::create(b, nloc, total,
                                        term(args[next++], a.offset * c.scale));
        if (a.offset * c.offset != 0)
          total = arith::AddIOp::create(
              b, nloc, total,
              constantInt(b, nloc, resultType, a.offset * c.offset * length));
        linalg::YieldOp::create(b, nloc, total);
      });
  return epilogue.getResult(0);
}

static Value widenCode(OpBuilder &b, Location loc, Type resultType, Value x,
                       bool isUnsigned) {
  return isUnsigned ? Value(arith::ExtUIOp::create(b, loc, resultType, x))
                    : Value(arith::ExtSIOp::create(b, loc, resultType, x));
}

static Value zeroFilled(RewriterBase &rewriter, Location loc,
                        ArrayRef<OpFoldResult> shape, Type type) {
  Value e = tensor::EmptyOp::create(rewriter, loc, shape, type);
  return linalg::FillOp::create(rewriter, loc,
                                constantInt(rewriter, loc, type, 0), e)
      .getResult(0);
}

Value int8::buildInputWindowSums(RewriterBase &rewriter, Location loc,
                                 Value input, Int8Operand a, int64_t channels,
                                 int64_t kh, int64_t kw,
                                 ArrayRef<int64_t> strides,
                                 ArrayRef<int64_t> dilations,
                                 RankedTensorType initType,
                                 ArrayRef<OpFoldResult> sizes) {
  MLIRContext *ctx = rewriter.getContext();
  Type resultType = initType.getElementType();
  AffineExpr d[6];
  for (unsigned e = 0; e < 6; ++e)
    d[e] = getAffineDimExpr(e, ctx);
  // (n, oh, ow, kh, kw, c); the kernel extents come from a [KH, KW] operand.
  Value taps = tensor::EmptyOp::create(
      rewriter, loc, SmallVector<int64_t>{kh, kw}, rewriter.getI8Type());
  Value cIn = tensor::ExtractSliceOp::create(
      rewriter, loc, input,
      SmallVector<OpFoldResult>(4, rewriter.getIndexAttr(0)),
      SmallVector<OpFoldResult>{tensor::getMixedSize(rewriter, loc, input, 0),
                                tensor::getMixedSize(rewriter, loc, input, 1),
                                tensor::getMixedSize(rewriter, loc, input, 2),
                                rewriter.getIndexAttr(channels)},
      SmallVector<OpFoldResult>(4, rewriter.getIndexAttr(1)));
  SmallVector<AffineMap> maps{
      AffineMap::get(6, 0,
                     {d[0], d[1] * strides[0] + d[3] * dilations[0],
                      d[2] * strides[1] + d[4] * dilations[1], d[5]},
                     ctx),
      AffineMap::get(6, 0, {d[3], d[4]}, ctx),
      AffineMap::get(6, 0, {d[0], d[1], d[2]}, ctx)};
  SmallVector<utils::IteratorType> iterators(3, utils::IteratorType::parallel);
  iterators.append(3, utils::IteratorType::reduction);
  return linalg::GenericOp::create(
             rewriter, loc,
             RankedTensorType::get(initType.getShape().take_front(3),
                                   resultType),
             ValueRange{cIn, taps},
             ValueRange{
                 zeroFilled(rewriter, loc, sizes.take_front(3), resultType)},
             maps, iterators,
             [&](OpBuilder &b, Location nloc, ValueRange args) {
               linalg::YieldOp::create(
                   b, nloc,
                   Value(arith::AddIOp::create(
                       b, nloc, args[2],
                       widenCode(b, nloc, resultType, args[0], a.isUnsigned))));
             })
      .getResult(0);
}

/// The sums over all but the first dimension of `source` (rank 3 or 4), as
/// `[CO]` in the element type of `initType`; i8 codes widen by `c`.
static Value sumPerOutputChannel(RewriterBase &rewriter, Location loc,
                                 Value source, Int8Operand c,
                                 RankedTensorType initType,
                                 OpFoldResult outChannels) {
  MLIRContext *ctx = rewriter.getContext();
  Type resultType = initType.getElementType();
  unsigned rank = cast<RankedTensorType>(source.getType()).getRank();
  SmallVector<AffineMap> maps{
      AffineMap::getMultiDimIdentityMap(rank, ctx),
      AffineMap::get(rank, 0, {getAffineDimExpr(0, ctx)}, ctx)};
  SmallVector<utils::IteratorType> iterators(1, utils::IteratorType::parallel);
  iterators.append(rank - 1, utils::IteratorType::reduction);
  return linalg::GenericOp::create(
             rewriter, loc,
             RankedTensorType::get({initType.getDimSize(3)}, resultType),
             ValueRange{source},
             ValueRange{zeroFilled(rewriter, loc, {outChannels}, resultType)},
             maps, iterators,
             [&](OpBuilder &b, Location nloc, ValueRange args) {
               Value value = args[0];
               if (value.getType() != resultType)
                 value = widenCode(b, nloc, resultType, value, c.isUnsigned);
               linalg::YieldOp::create(
                   b, nloc,
                   Value(arith::AddIOp::create(b, nloc, args[1], value)));
             })
      .getResult(0);
}

Value int8::buildFilterSums(RewriterBase &rewriter, Location loc, Value filter,
                            Int8Operand c, int64_t channels, int64_t kh,
                            int64_t kw, RankedTensorType initType,
                            OpFoldResult outChannels) {
  Value cFilter = tensor::ExtractSliceOp::create(
      rewriter, loc, filter,
      SmallVector<OpFoldResult>(4, rewriter.getIndexAttr(0)),
      SmallVector<OpFoldResult>{tensor::getMixedSize(rewriter, loc, filter, 0),
                                rewriter.getIndexAttr(kh),
                                rewriter.getIndexAttr(kw),
                                rewriter.getIndexAttr(channels)},
      SmallVector<OpFoldResult>(4, rewriter.getIndexAttr(1)));
  return sumPerOutputChannel(rewriter, loc, cFilter, c, initType, outChannels);
}

Value int8::sumFilterTaps(RewriterBase &rewriter, Location loc, Value tapSums,
                          RankedTensorType initType, OpFoldResult outChannels) {
  return sumPerOutputChannel(rewriter, loc, tapSums, Int8Operand(), initType,
                             outChannels);
}

LogicalResult int8::declareIntrinsic(RewriterBase &rewriter, Operation *op,
                                     StringRef name, FunctionType type) {
  auto module = op->getParentOfType<ModuleOp>();
  if (!module)
    return failure();
  if (Operation *existing = module.lookupSymbol(name)) {
    auto function = dyn_cast<func::FuncOp>(existing);
    return success(function && function.isDeclaration() &&
                   function.getFunctionType() == type);
  }
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPointToStart(module.getBody());
  auto function = func::FuncOp::create(rewriter, op->getLoc(), name, type);
  function.setPrivate();
  return success();
}
