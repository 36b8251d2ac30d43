//===- BitserialToX86Lookup.cpp - x86 table-lookup lowering ---------------===//
//
// Rewrites a bitserial.matmul or conv2d of 1- or 2-bit activations and 1- or
// 2-bit weights into table lookups: every group of activation values of K
// selects one of the encoding's tables (their exact dot products with each
// combination of weight codes), which a vector of output channels' weight
// codes indexes: vpshufb with 4 1-bit weights per ymm byte, or vpermb with 3
// 2-bit weights per zmm byte. Byte sums of biased, non-negative entries are
// widened into i16 before they can wrap; the bias of every lookup is
// subtracted at the end.
//
//===----------------------------------------------------------------------===//

#include "Bitserial/Conversion/BitserialToX86Lookup/BitserialToX86Lookup.h"
#include "Bitserial/Conversion/BitserialToInt8/Int8Lowering.h"
#include "Bitserial/Conversion/BitserialToInt8/KernelLoops.h"
#include "Bitserial/IR/BitserialOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/Utils/Utils.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Transforms/WalkPatternRewriteDriver.h"
#include "llvm/ADT/StringSwitch.h"

namespace mlir::bitserial {
#define GEN_PASS_DEF_CONVERTBITSERIALTOX86LOOKUP
#include "Bitserial/Conversion/Passes.h.inc"
} // namespace mlir::bitserial

using namespace mlir;
using namespace mlir::bitserial;
using namespace mlir::bitserial::int8;

/// vpshufb: values of K per lookup (its 4 index bits) and output channels
/// per lookup (the bytes of a ymm register).
static constexpr int64_t kPshufbGroup = 4, kPshufbLanes = 32;
/// A register block: rows (pixels) x vectors of channels; 8 byte sums, 2
/// weight vectors and a table in registers.
static constexpr int64_t kRowBlock = 4, kChannelBlock = 2;
/// With threads, a convolution's output rows split into at most this many
/// parts of channel blocks.
static constexpr int64_t kChannelParts = 4;
/// The i16 sums are read as unsigned.
static constexpr int64_t kMaxWideSum = 65535;

namespace {
/// The shape of the lookups of an instruction.
struct LookupVariant {
  X86LookupInstruction instruction;
  /// Values of K per lookup, output channels per lookup (bytes of the
  /// register), and bits per weight in the index.
  int64_t group, lanes, weightBits;
  /// The register block: rows (pixels) x vectors of channels.
  int64_t rowBlock, channelBlock;
  StringLiteral shuffle;
  /// The byte sums add with unsigned saturation, which they never reach
  /// (the chunks are short enough): as plain adds, LLVM re-associates them
  /// across unrolled steps and then needs more registers than there are.
  StringLiteral add;

  /// Entries per table: the index values.
  int64_t entries() const { return int64_t(1) << (group * weightBits); }
  /// vpermb groups values g, G + g and 2G + g of K (G = ceil(K / 3)), so
  /// that a group's codes are 3 contiguous vectors apart; vpshufb groups
  /// 4 consecutive values, the nibbles of the packed planes.
  bool strided() const { return instruction == X86LookupInstruction::Vpermb; }
  /// Groups of `length` values of K.
  int64_t groups(int64_t length) const {
    return llvm::divideCeil(length, group);
  }
};
} // namespace

static LookupVariant getVariant(X86LookupInstruction instruction) {
  switch (instruction) {
  case X86LookupInstruction::Pshufb:
    return {instruction,
            kPshufbGroup,
            kPshufbLanes,
            1,
            kRowBlock,
            kChannelBlock,
            "llvm.x86.avx2.pshuf.b",
            "llvm.uadd.sat.v32i8"};
  case X86LookupInstruction::Vpermb:
    return {
        instruction,          3, 64, 2, 4, 2, "llvm.x86.avx512.permvar.qi.512",
        "llvm.uadd.sat.v64i8"};
  }
  llvm_unreachable("unknown lookup instruction");
}

std::optional<X86LookupInstruction>
mlir::bitserial::parseX86LookupInstruction(StringRef name) {
  return llvm::StringSwitch<std::optional<X86LookupInstruction>>(name)
      .Case("pshufb", X86LookupInstruction::Pshufb)
      .Case("vpermb", X86LookupInstruction::Vpermb)
      .Default(std::nullopt);
}

//===----------------------------------------------------------------------===//
// Plans
//===----------------------------------------------------------------------===//

namespace {
/// The tables of an encoding pair: `tables[lanes * t + w]` (repeated in
/// each 16-byte lane for vpshufb) is `bias` plus the dot product of the
/// activations of table t with the weight codes of index w.
struct LookupPlan {
  explicit LookupPlan(const LookupVariant &variant) : variant(variant) {}
  LookupVariant variant;
  int64_t bitsA = 0;
  /// The weight codes in the index: value = scale * code + offset.
  Int8Operand rhs;
  std::vector<int8_t> tables;
  int64_t bias = 0;
  /// The largest biased entry, and lookups per byte sum before widening.
  int64_t maxEntry = 0;
  int64_t byteSteps = 0;
};
} // namespace

/// The plan of `lhs` x `rhs`, or std::nullopt if the lowering does not
/// handle the pair: activations of 1 or 2 bits whose code 0 is the value 0
/// (unsigned, signed: padding and K past its end read as 0), weights of the
/// variant's bits.
static std::optional<LookupPlan> planFor(PackedLayoutAttr lhs,
                                         PackedLayoutAttr rhs,
                                         const LookupVariant &variant) {
  if (!lhs || !rhs || lhs.getBits() > 2 ||
      rhs.getBits() != variant.weightBits ||
      lhs.getEncoding() == Encoding::Bipolar)
    return std::nullopt;
  LookupPlan plan(variant);
  plan.bitsA = lhs.getBits();
  plan.rhs = asUnsigned(rhs);
  int64_t group = variant.group, entryCount = variant.entries();
  int64_t patterns = int64_t(1) << (group * plan.bitsA);
  uint64_t codeMask = (uint64_t(1) << plan.bitsA) - 1;
  uint64_t weightMask = (uint64_t(1) << variant.weightBits) - 1;
  std::vector<int64_t> entries(patterns * entryCount);
  for (int64_t t = 0; t < patterns; ++t)
    for (int64_t w = 0; w < entryCount; ++w) {
      int64_t sum = 0;
      for (int64_t pos = 0; pos < group; ++pos) {
        // vpshufb: bits 4p..4p+3 of t are plane p's bits of the 4
        // positions; vpermb: bits 2 pos.. of t are position pos's planes.
        uint64_t planes = 0;
        if (variant.strided()) {
          planes = (uint64_t(t) >> (plan.bitsA * pos)) & codeMask;
        } else {
          for (int64_t plane = 0; plane < plan.bitsA; ++plane)
            planes |= uint64_t((t >> (group * plane + pos)) & 1) << plane;
        }
        int64_t a = decodePlaneBits(planes, plan.bitsA, lhs.getEncoding());
        int64_t code = (uint64_t(w) >> (variant.weightBits * pos)) & weightMask;
        sum += a * (plan.rhs.scale * code + plan.rhs.offset);
      }
      entries[t * entryCount + w] = sum;
    }
  auto [low, high] = std::minmax_element(entries.begin(), entries.end());
  plan.bias = -std::min<int64_t>(*low, 0);
  plan.maxEntry = *high + plan.bias;
  plan.byteSteps = plan.maxEntry == 0 ? 255 : 255 / plan.maxEntry;
  plan.tables.resize(patterns * variant.lanes);
  for (int64_t t = 0; t < patterns; ++t)
    for (int64_t l = 0; l < variant.lanes; ++l)
      plan.tables[t * variant.lanes + l] =
          int8_t(uint8_t(entries[t * entryCount + l % entryCount] + plan.bias));
  return plan;
}

/// Lookups per output of `op` (a group of values of K each, per tap of a
/// convolution), or std::nullopt for dynamic kernel extents.
static std::optional<int64_t>
getLookupsPerOutput(Operation *op, const LookupVariant &variant) {
  if (auto matmul = dyn_cast<MatmulOp>(op))
    return variant.groups(matmul.getLhsLayout().getLength());
  auto conv = cast<Conv2DOp>(op);
  auto filterType = cast<RankedTensorType>(conv.getFilter().getType());
  if (filterType.isDynamicDim(1) || filterType.isDynamicDim(2))
    return std::nullopt;
  return filterType.getDimSize(1) * filterType.getDimSize(2) *
         variant.groups(conv.getInputLayout().getLength());
}

bool mlir::bitserial::canLowerToX86Lookup(Operation *op,
                                          X86LookupInstruction instruction) {
  if (!isa<MatmulOp, Conv2DOp>(op))
    return false;
  // Batched weights would need a re-layout per batch.
  if (auto matmul = dyn_cast<MatmulOp>(op))
    if (cast<RankedTensorType>(matmul.getRhs().getType()).getRank() == 4)
      return false;
  LookupVariant variant = getVariant(instruction);
  std::optional<LookupPlan> plan =
      planFor(getPackedLayout(op->getOperand(0).getType()),
              getPackedLayout(op->getOperand(1).getType()), variant);
  std::optional<int64_t> lookups = getLookupsPerOutput(op, variant);
  return plan && lookups && *lookups * plan->maxEntry <= kMaxWideSum;
}

bool mlir::bitserial::prefersX86Lookup(Operation *op,
                                       X86LookupInstruction instruction) {
  if (op->hasAttr(kInt8AttrName) || !canLowerToX86Lookup(op, instruction))
    return false;
  if (auto kernel = op->getAttrOfType<StringAttr>(kKernelAttrName))
    return kernel.getValue() == "lookup";
  // A register block is one of the bit-serial kernel.
  return !op->hasAttr(kRegisterBlockAttrName);
}

//===----------------------------------------------------------------------===//
// The kernel
//===----------------------------------------------------------------------===//

/// A loop nest over `x`'s leading dimensions and its last one up to `extent`
/// in steps of `span`, writing `out`, whose leading dimensions are `x`'s;
/// `body` gets the indices into `x`, those to write at in `out` and `out`.
/// With `split` > 0 the first `split` loops are scf.forall tasks, each
/// writing its own slice of `out` (buildSlicedNest).
static Value
buildLastDimLoops(OpBuilder &b, Location loc, Value x, int64_t extent,
                  int64_t span, Value out,
                  function_ref<Value(ValueRange, ValueRange, Value)> body,
                  int64_t split = 0) {
  int64_t rank = cast<RankedTensorType>(x.getType()).getRank();
  SmallVector<Value> ubs, steps;
  for (int64_t d = 0; d < rank; ++d) {
    ubs.push_back(d + 1 < rank ? getValueOrCreateConstantIndexOp(
                                     b, loc, tensor::getMixedSize(b, loc, x, d))
                               : constantIndex(b, loc, extent));
    steps.push_back(constantIndex(b, loc, d + 1 < rank ? 1 : span));
  }
  return buildSlicedNest(b, loc, out, ubs, steps, split,
                         SmallVector<int64_t>(rank - 1, 0),
                         [&](ValueRange ivs, ValueRange at, Value into) {
                           SmallVector<Value> to(at);
                           to.push_back(ivs.back());
                           return body(ivs, to, into);
                         });
}

/// The weight bytes of the 0/1 codes `x` (`[lead..., Kx]` i8, Kx a multiple
/// of 64): `[lead..., Kx / 4]` i8, each the 4 consecutive codes as bits
/// (bit i: code i).
static Value buildWeightBytes(OpBuilder &b, Location loc, Value x) {
  auto xType = cast<RankedTensorType>(x.getType());
  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(b, loc, x);
  int64_t length = xType.getShape().back();
  assert(length % 64 == 0 && "codes are decoded 64 values of K at a time");
  sizes.back() = b.getIndexAttr(length / kPshufbGroup);
  Value out = tensor::EmptyOp::create(b, loc, sizes, b.getI8Type());
  constexpr int64_t span = 32;
  auto i8Span = VectorType::get({span}, b.getI8Type());
  auto i32Words = VectorType::get({span / kPshufbGroup}, b.getI32Type());
  return buildLastDimLoops(
      b, loc, x, length, span, out,
      [&](ValueRange ivs, ValueRange to, Value into) -> Value {
        auto splat = [&](int64_t v) {
          return arith::ConstantOp::create(
              b, loc,
              DenseElementsAttr::get(i32Words,
                                     b.getIntegerAttr(b.getI32Type(), v)));
        };
        Value codes = vector::TransferReadOp::create(
            b, loc, i8Span, x, ivs, constantInt(b, loc, b.getI8Type(), 0),
            ArrayRef<bool>{true});
        Value words = vector::BitCastOp::create(b, loc, i32Words, codes);
        // Bit 0 of byte i (code i) moves to bit i.
        Value index;
        for (int64_t pos = 0; pos < kPshufbGroup; ++pos) {
          Value field = words;
          if (pos > 0)
            field = arith::ShRUIOp::create(b, loc, field, splat(7 * pos));
          field =
              arith::AndIOp::create(b, loc, field, splat(int64_t(1) << pos));
          index =
              index ? Value(arith::OrIOp::create(b, loc, index, field)) : field;
        }
        Value bytes = arith::TruncIOp::create(
            b, loc, VectorType::get({span / kPshufbGroup}, b.getI8Type()),
            index);
        SmallVector<Value> at(to.drop_back());
        at.push_back(arith::DivUIOp::create(
            b, loc, ivs.back(), constantIndex(b, loc, kPshufbGroup)));
        return vector::TransferWriteOp::create(b, loc, bytes, into, at,
                                               ArrayRef<bool>{true})
            .getResult();
      });
}

/// The table offsets of the activations `packed` (`[lead..., R, planes,
/// words]`): `[lead..., Kx / 4]` i16, 32 x the index of the table (bit 4p +
/// i: plane p of value i of the group), computed from the planes' words:
/// each byte of a plane holds the bits of two groups of 4 values of K, in
/// its low and its high nibble. Offsets, not indices: the kernel loads a
/// table straight from one, with no arithmetic that LLVM's SLP vectorizer
/// would move into vector registers. With
/// `padding` (a convolution's `[top, bottom, left, right]`) the last two
/// leading dimensions grow by it, and the border is offset 0 (the table of
/// codes 0, values 0).
static Value buildTableOffsets(OpBuilder &b, Location loc, Value packed,
                               PackedLayoutAttr layout,
                               ArrayRef<int64_t> padding) {
  auto packedType = cast<RankedTensorType>(packed.getType());
  auto wordType = cast<IntegerType>(packedType.getElementType());
  Value words = tensor::CastOp::create(
      b, loc, RankedTensorType::get(packedType.getShape(), wordType), packed);
  int64_t rank = packedType.getRank(), lead = rank - 2;
  int64_t bits = layout.getBits();
  int64_t chunks = llvm::divideCeil(layout.getLength(), int64_t(64));
  int64_t perChunk = 64 / wordType.getWidth();
  auto index = [&](int64_t v) { return constantIndex(b, loc, v); };
  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(b, loc, words);
  SmallVector<OpFoldResult> outSizes(sizes.begin(), sizes.begin() + lead);
  SmallVector<int64_t> before(lead, 0);
  bool padded = llvm::any_of(padding, [](int64_t p) { return p != 0; });
  if (padded) {
    for (int64_t d = 0; d < 2; ++d) {
      int64_t dim = lead - 2 + d, grow = padding[2 * d] + padding[2 * d + 1];
      before[dim] = padding[2 * d];
      if (std::optional<int64_t> value = getConstantIntValue(outSizes[dim]))
        outSizes[dim] = b.getIndexAttr(*value + grow);
      else
        outSizes[dim] = Value(arith::AddIOp::create(
            b, loc, cast<Value>(outSizes[dim]), index(grow)));
    }
  }
  outSizes.push_back(b.getIndexAttr(chunks * 16));
  Type i16 = b.getI16Type();
  Value out = tensor::EmptyOp::create(b, loc, outSizes, i16);
  if (padded)
    out = linalg::FillOp::create(b, loc, constantInt(b, loc, i16, 0), out)
              .getResult(0);
  SmallVector<Value> lbs(lead + 1, index(0)), ubs, steps(lead + 1, index(1));
  for (int64_t d = 0; d < lead; ++d)
    ubs.push_back(getValueOrCreateConstantIndexOp(b, loc, sizes[d]));
  ubs.push_back(index(chunks));
  auto byteType = VectorType::get({8}, b.getI8Type());
  auto offsetType = VectorType::get({16}, i16);
  scf::LoopNest nest = scf::buildLoopNest(
      b, loc, lbs, ubs, steps, ValueRange{out},
      [&](OpBuilder &nb, Location nloc, ValueRange ivs, ValueRange iterArgs) {
        auto c = [&](int64_t v) { return constantIndex(nb, nloc, v); };
        auto splat = [&](VectorType type, int64_t v) {
          return arith::ConstantOp::create(
              nb, nloc,
              DenseElementsAttr::get(
                  type, nb.getIntegerAttr(type.getElementType(), v)));
        };
        Value chunk = ivs.back();
        Value low, high;
        for (int64_t plane = 0; plane < bits; ++plane) {
          SmallVector<Value> at(ivs.drop_back());
          at.append(
              {c(plane), arith::MulIOp::create(nb, nloc, chunk, c(perChunk))});
          // Words past the last read as 0.
          Value planeWords = vector::TransferReadOp::create(
              nb, nloc, VectorType::get({perChunk}, wordType), words, at,
              constantInt(nb, nloc, wordType, 0), ArrayRef<bool>{false});
          Value bytes =
              vector::BitCastOp::create(nb, nloc, byteType, planeWords);
          // Plane p's nibbles go to bits 4p..4p+3 of the index.
          Value lo =
              arith::AndIOp::create(nb, nloc, bytes, splat(byteType, 0x0f));
          Value hi =
              arith::ShRUIOp::create(nb, nloc, bytes, splat(byteType, 4));
          if (plane > 0) {
            lo = arith::ShLIOp::create(nb, nloc, lo,
                                       splat(byteType, kPshufbGroup * plane));
            hi = arith::ShLIOp::create(nb, nloc, hi,
                                       splat(byteType, kPshufbGroup * plane));
          }
          low = low ? Value(arith::OrIOp::create(nb, nloc, low, lo)) : lo;
          high = high ? Value(arith::OrIOp::create(nb, nloc, high, hi)) : hi;
        }
        // Groups in order: byte j's low nibble is group 2j, its high 2j + 1.
        SmallVector<int64_t> interleave;
        for (int64_t j = 0; j < 8; ++j)
          interleave.append({j, j + 8});
        Value groups =
            vector::ShuffleOp::create(nb, nloc, low, high, interleave);
        Value offsets = arith::ShLIOp::create(
            nb, nloc, arith::ExtUIOp::create(nb, nloc, offsetType, groups),
            splat(offsetType, llvm::Log2_64(kPshufbLanes)));
        SmallVector<Value> to;
        for (int64_t d = 0; d < lead; ++d)
          to.push_back(before[d] == 0 ? ivs[d]
                                      : Value(arith::AddIOp::create(
                                            nb, nloc, ivs[d], c(before[d]))));
        to.push_back(arith::MulIOp::create(nb, nloc, chunk, c(16)));
        return scf::ValueVector{
            vector::TransferWriteOp::create(nb, nloc, offsets, iterArgs[0], to,
                                            ArrayRef<bool>{true})
                .getResult()};
      });
  return nest.results.front();
}

/// The weights of a constant `packed` (`[R, mids..., planes, words]`) as
/// the kernel reads them, computed here: `[ceil(R / lanes), mids..., groups,
/// lanes]` i8, byte `[r / lanes, m..., g, r % lanes]` the codes of group g's
/// values of row r (vpshufb: values 4g..4g+3, the first lowest; vpermb:
/// values g, G + g, 2G + g, 2 bits each; 0 past K and past R). Null for
/// other values.
static Value foldWeightIndices(OpBuilder &b, Location loc, Value packed,
                               PackedLayoutAttr layout, int64_t groups,
                               const LookupVariant &variant) {
  auto type = cast<RankedTensorType>(packed.getType());
  DenseIntElementsAttr words = getConstantElements(packed);
  if (!type.hasStaticShape() || !words)
    return {};
  ArrayRef<int64_t> shape = type.getShape();
  int64_t rows = shape[0], lanes = variant.lanes;
  ArrayRef<int64_t> mids = shape.drop_front().drop_back(2);
  int64_t midCount = 1;
  for (int64_t extent : mids)
    midCount *= extent;
  int64_t planes = shape[shape.size() - 2], numWords = shape.back();
  unsigned wordBits = getWordBits(type);
  int64_t blocks = llvm::divideCeil(rows, lanes);
  if (blocks * midCount * groups * lanes > (int64_t(1) << 24))
    return {};
  Int8Operand rep = asUnsigned(layout);
  SmallVector<uint64_t> wordValues;
  wordValues.reserve(words.getNumElements());
  for (const APInt &word : words.getValues<APInt>())
    wordValues.push_back(word.getZExtValue());
  std::vector<int8_t> bytes(blocks * midCount * groups * lanes, 0);
  int64_t length = layout.getLength();
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t m = 0; m < midCount; ++m) {
      const uint64_t *row =
          wordValues.data() + (r * midCount + m) * planes * numWords;
      for (int64_t k = 0; k < length; ++k) {
        uint64_t bits = 0;
        for (int64_t p = 0; p < planes; ++p)
          bits |= ((row[p * numWords + k / wordBits] >> (k % wordBits)) & 1)
                  << p;
        int64_t value = decodePlaneBits(bits, planes, layout.getEncoding());
        int64_t code = (value - rep.offset) / rep.scale;
        int64_t g = variant.strided() ? k % groups : k / variant.group;
        int64_t slot = variant.strided() ? k / groups : k % variant.group;
        bytes[(((r / lanes) * midCount + m) * groups + g) * lanes +
              r % lanes] |= int8_t(code << (slot * variant.weightBits));
      }
    }
  SmallVector<int64_t> outShape{blocks};
  outShape.append(mids.begin(), mids.end());
  outShape.append({groups, lanes});
  auto outType = RankedTensorType::get(outShape, b.getI8Type());
  return arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(outType, ArrayRef<int8_t>(bytes)));
}

/// The groups of vpermb (values g, G + g, 2G + g of K) of `x` (`[lead...,
/// Kx]` i8, read as 0 past Kx): `[lead..., G]` of `elementType` (i8 or
/// i16), element g the fields `x & mask` of the 3 values, the first lowest,
/// `fieldBits` apart, times `scale`.
static Value buildStridedGroups(OpBuilder &b, Location loc, Value x,
                                int64_t groups, int64_t fieldBits,
                                Type elementType, int64_t scale,
                                int64_t split = 0) {
  constexpr int64_t span = 64, slots = 3;
  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(b, loc, x);
  sizes.back() = b.getIndexAttr(groups);
  Value out = tensor::EmptyOp::create(b, loc, sizes, elementType);
  auto byteType = VectorType::get({span}, b.getI8Type());
  auto outType = VectorType::get({span}, elementType);
  return buildLastDimLoops(
      b, loc, x, groups, span, out,
      [&](ValueRange ivs, ValueRange to, Value into) -> Value {
        auto splat = [&](VectorType type, int64_t v) {
          return arith::ConstantOp::create(
              b, loc,
              DenseElementsAttr::get(
                  type, b.getIntegerAttr(type.getElementType(), v)));
        };
        Value fields;
        for (int64_t slot = 0; slot < slots; ++slot) {
          SmallVector<Value> at(ivs.drop_back());
          at.push_back(arith::AddIOp::create(
              b, loc, ivs.back(), constantIndex(b, loc, slot * groups)));
          Value field = vector::TransferReadOp::create(
              b, loc, byteType, x, at, constantInt(b, loc, b.getI8Type(), 0),
              ArrayRef<bool>{false});
          field = arith::AndIOp::create(
              b, loc, field, splat(byteType, (int64_t(1) << fieldBits) - 1));
          if (slot > 0)
            field = arith::ShLIOp::create(b, loc, field,
                                          splat(byteType, slot * fieldBits));
          fields = fields ? Value(arith::OrIOp::create(b, loc, fields, field))
                          : field;
        }
        if (outType != byteType)
          fields = arith::ExtUIOp::create(b, loc, outType, fields);
        if (scale != 1)
          fields = arith::MulIOp::create(b, loc, fields, splat(outType, scale));
        return vector::TransferWriteOp::create(b, loc, fields, into, to,
                                               ArrayRef<bool>{false})
            .getResult();
      },
      split);
}

/// The table offsets of the activations `packed` (`[lead..., R, planes,
/// words]`) for the plan's lookups: `[lead..., groups]` i16, lanes x the
/// index of the table, the border of `padding` (a convolution's `[top,
/// bottom, left, right]`) offset 0 (the table of values 0). With
/// `parallel`, vpermb's offsets are computed by scf.forall tasks over the
/// first two leading dimensions (a convolution's images and rows), which
/// the pipeline runs in the kernel's parallel region: each thread then
/// mostly reads the rows it wrote.
static Value buildActivationOffsets(OpBuilder &b, Location loc, Value packed,
                                    PackedLayoutAttr layout, int64_t groups,
                                    const LookupPlan &plan,
                                    ArrayRef<int64_t> padding,
                                    bool parallel = false) {
  if (!plan.variant.strided())
    return buildTableOffsets(b, loc, packed, layout, padding);
  // The values (the planes' low bits, as the tables' index takes them),
  // 0 in the padding and past K.
  Value values =
      decodePacked(b, loc, packed, layout, asSigned(layout),
                   /*rowMultiple=*/1, CodeLayout::rows(), b.getI32Type(),
                   /*needRowSum=*/false, padding, plan.variant.lanes, parallel)
          .x;
  int64_t lead = cast<RankedTensorType>(values.getType()).getRank() - 1;
  return buildStridedGroups(b, loc, values, groups, plan.bitsA, b.getI16Type(),
                            plan.variant.lanes,
                            parallel ? std::min<int64_t>(2, lead) : 0);
}

/// The weights as the kernel reads them (foldWeightIndices' layout), for
/// any `packed`: decoded to codes, packed into a byte per group, re-laid
/// out.
static Value buildWeightIndices(OpBuilder &b, Location loc, Value packed,
                                PackedLayoutAttr layout, int64_t groups,
                                Type resultType, const LookupVariant &variant) {
  if (Value folded = foldWeightIndices(b, loc, packed, layout, groups, variant))
    return folded;
  Value codes =
      decodePacked(b, loc, packed, layout, asUnsigned(layout),
                   /*rowMultiple=*/1, CodeLayout::rows(), resultType,
                   /*needRowSum=*/false, /*padding=*/{}, variant.lanes)
          .x;
  Value indices = variant.strided()
                      ? buildStridedGroups(b, loc, codes, groups,
                                           variant.weightBits, b.getI8Type(),
                                           /*scale=*/1)
                      : buildWeightBytes(b, loc, codes);
  return relayoutChannelBlocks(b, loc, indices, groups, variant.lanes,
                               /*group=*/1, b.getI8Type(), /*isUnsigned=*/true);
}

namespace {
/// The vectors and steps of a register block.
struct LookupKernel {
  OpBuilder &b;
  Location loc;
  const LookupPlan &plan;
  /// The tables, `[patterns * lanes]` i8.
  Value tables;

  int64_t lanes() const { return plan.variant.lanes; }
  Value index(int64_t value) { return constantIndex(b, loc, value); }
  VectorType byteType() { return VectorType::get({lanes()}, b.getI8Type()); }
  VectorType wideType() {
    return VectorType::get({lanes() / 2}, b.getI16Type());
  }
  Value splat(VectorType type, int64_t value) {
    return arith::ConstantOp::create(
        b, loc,
        DenseElementsAttr::get(type,
                               b.getIntegerAttr(type.getElementType(), value)));
  }

  /// The table at the byte offset at `indices` of `x`.
  Value table(Value x, ValueRange indices) {
    Value offset = arith::IndexCastUIOp::create(
        b, loc, b.getIndexType(),
        tensor::ExtractOp::create(b, loc, x, indices));
    return vector::TransferReadOp::create(
        b, loc, byteType(), tables, ValueRange{offset},
        constantInt(b, loc, b.getI8Type(), 0), ArrayRef<bool>{true});
  }

  /// `sums` (`tables.size() x weights.size()`) plus the lookups of every
  /// table by every weight vector.
  scf::ValueVector lookupBlock(ValueRange sums, ArrayRef<Value> tables,
                               ArrayRef<Value> weights) {
    scf::ValueVector next;
    for (size_t i = 0; i < tables.size(); ++i)
      for (size_t j = 0; j < weights.size(); ++j) {
        Value entries = func::CallOp::create(b, loc, plan.variant.shuffle,
                                             TypeRange{byteType()},
                                             ValueRange{tables[i], weights[j]})
                            .getResult(0);
        next.push_back(func::CallOp::create(
                           b, loc, plan.variant.add, TypeRange{byteType()},
                           ValueRange{sums[i * weights.size() + j], entries})
                           .getResult(0));
      }
    return next;
  }

  /// The weight vector at `indices` of `weights`.
  Value weightVector(Value weights, ValueRange indices) {
    return vector::TransferReadOp::create(b, loc, byteType(), weights, indices,
                                          constantInt(b, loc, b.getI8Type(), 0),
                                          ArrayRef<bool>{true});
  }

  SmallVector<Value> zeros(VectorType type, int64_t count) {
    return SmallVector<Value>(
        count, arith::ConstantOp::create(b, loc, b.getZeroAttr(type)));
  }

  /// `wide` (two i16 vectors per byte sum: its even and its odd bytes) plus
  /// the byte sums `sums`.
  scf::ValueVector widen(ValueRange wide, ValueRange sums) {
    Value low = splat(wideType(), 0xff), eight = splat(wideType(), 8);
    scf::ValueVector next;
    for (auto [i, sum] : llvm::enumerate(sums)) {
      Value pairs = vector::BitCastOp::create(b, loc, wideType(), sum);
      next.push_back(arith::AddIOp::create(
          b, loc, wide[2 * i], arith::AndIOp::create(b, loc, pairs, low)));
      next.push_back(
          arith::AddIOp::create(b, loc, wide[2 * i + 1],
                                arith::ShRUIOp::create(b, loc, pairs, eight)));
    }
    return next;
  }

  /// The outputs of the even and odd i16 sums `even`, `odd` of one byte sum
  /// over `lookups` lookups, in channel order and `resultType`.
  Value outputs(Value even, Value odd, int64_t lookups, Type resultType) {
    auto i32Half = VectorType::get({lanes() / 2}, b.getI32Type());
    even = arith::ExtUIOp::create(b, loc, i32Half, even);
    odd = arith::ExtUIOp::create(b, loc, i32Half, odd);
    SmallVector<int64_t> interleave;
    for (int64_t l = 0; l < lanes() / 2; ++l)
      interleave.append({l, l + lanes() / 2});
    Value values = vector::ShuffleOp::create(b, loc, even, odd, interleave);
    auto i32Type = VectorType::get({lanes()}, b.getI32Type());
    if (plan.bias != 0)
      values = arith::SubIOp::create(b, loc, values,
                                     splat(i32Type, plan.bias * lookups));
    if (!resultType.isInteger(32))
      values = arith::ExtSIOp::create(
          b, loc, VectorType::get({lanes()}, resultType), values);
    return values;
  }

  /// Stores the block's outputs: byte sum `i * nr + j` (as `wide`) goes to
  /// `at(i)` + channel `(nb0 + j) * lanes` of `into`, plus `into`'s values
  /// there if `readInit`; channels past the end are masked off unless
  /// `channelsInBounds`.
  Value storeBlock(Value into, ArrayRef<Value> wide, int64_t mr, int64_t nr,
                   int64_t lookups,
                   function_ref<SmallVector<Value>(int64_t)> at, Value nb0,
                   bool channelsInBounds, bool readInit) {
    Type resultType = cast<RankedTensorType>(into.getType()).getElementType();
    auto resultVector = VectorType::get({lanes()}, resultType);
    Value zero = constantInt(b, loc, resultType, 0);
    auto indices = [&](int64_t i, int64_t j) {
      SmallVector<Value> result = at(i);
      result.push_back(arith::MulIOp::create(
          b, loc, arith::AddIOp::create(b, loc, nb0, index(j)),
          index(lanes())));
      return result;
    };
    SmallVector<Value> values;
    for (int64_t i = 0; i < mr; ++i)
      for (int64_t j = 0; j < nr; ++j) {
        int64_t k = i * nr + j;
        Value value =
            outputs(wide[2 * k], wide[2 * k + 1], lookups, resultType);
        if (readInit)
          value = arith::AddIOp::create(
              b, loc,
              vector::TransferReadOp::create(b, loc, resultVector, into,
                                             indices(i, j), zero,
                                             ArrayRef<bool>{channelsInBounds}),
              value);
        values.push_back(value);
      }
    for (int64_t i = 0; i < mr; ++i)
      for (int64_t j = 0; j < nr; ++j)
        into = vector::TransferWriteOp::create(b, loc, values[i * nr + j], into,
                                               indices(i, j),
                                               ArrayRef<bool>{channelsInBounds})
                   .getResult();
    return into;
  }
};
} // namespace

/// Asks LLVM to unroll `loop` twice, no more: LLVM's O3 unrolled the
/// lookup steps of a register block (8 lookups, their loads and saturating
/// adds each) fully and spilled twice as much, and a 3x3 layer's kernel of
/// 128 or more channels ran 1.2-1.35x slower than at O2, which unrolls them
/// twice (ResNet-18's C4 at 2 x 2 bits, 256 channels: 0.150 ms at O2 or
/// with this, 0.173-0.206 ms at O3 without it).
static void unrollTwice(scf::ForOp loop) {
  MLIRContext *ctx = loop.getContext();
  auto unroll = LLVM::LoopUnrollAttr::get(
      ctx, /*disable=*/{}, IntegerAttr::get(IntegerType::get(ctx, 32), 2),
      /*runtimeDisable=*/{},
      /*full=*/{}, /*followupUnrolled=*/{}, /*followupRemainder=*/{},
      /*followupAll=*/{});
  auto annotation = LLVM::LoopAnnotationAttr::get(
      ctx, /*disableNonforced=*/{}, /*vectorize=*/{}, /*interleave=*/{}, unroll,
      /*unrollAndJam=*/{}, /*licm=*/{}, /*distribute=*/{}, /*pipeline=*/{},
      /*peeled=*/{}, /*unswitch=*/{}, /*mustProgress=*/{}, /*isVectorized=*/{},
      /*startLoc=*/{}, /*endLoc=*/{}, /*parallelAccesses=*/{});
  // On the loop's back edge after scf-to-cf; bitserial-attach-loop-
  // annotations makes it the branch's !llvm.loop.
  loop->setAttr("llvm.loop_annotation", annotation);
}

/// The i16 sums `wide` plus the lookups over groups [0, groups) by
/// `step(g, byteSums)`, in chunks of at most `byteSteps` lookups whose byte
/// sums are widened after each.
static scf::ValueVector
reduceGroups(LookupKernel &kernel, int64_t groups, int64_t blockSums,
             ValueRange wide,
             function_ref<scf::ValueVector(Value, ValueRange)> step) {
  OpBuilder &b = kernel.b;
  Location loc = kernel.loc;
  int64_t chunks = llvm::divideCeil(groups, kernel.plan.byteSteps);
  int64_t chunkLength = llvm::divideCeil(groups, chunks);
  auto chunk = [&](Value begin, Value end, ValueRange from) {
    scf::LoopNest steps = buildLoops(
        b, loc, {end}, {1}, kernel.zeros(kernel.byteType(), blockSums),
        [&](ValueRange ivs, ValueRange sums) { return step(ivs[0], sums); },
        {begin});
    unrollTwice(steps.loops.front());
    return kernel.widen(from, steps.results);
  };
  if (chunks == 1)
    return chunk(kernel.index(0), kernel.index(groups), wide);
  return buildLoops(b, loc, {kernel.index(chunks)}, {1}, wide,
                    [&](ValueRange ivs, ValueRange from) {
                      Value begin = arith::MulIOp::create(
                          b, loc, ivs[0], kernel.index(chunkLength));
                      Value end = arith::MinUIOp::create(
                          b, loc,
                          arith::AddIOp::create(b, loc, begin,
                                                kernel.index(chunkLength)),
                          kernel.index(groups));
                      return chunk(begin, end, from);
                    })
      .results;
}

//===----------------------------------------------------------------------===//
// Patterns
//===----------------------------------------------------------------------===//

namespace {
template <typename OpTy>
struct X86LookupPattern : public OpRewritePattern<OpTy> {
  X86LookupPattern(MLIRContext *ctx, bool parallel, int64_t minParallelMacs,
                   X86LookupInstruction instruction)
      : OpRewritePattern<OpTy>(ctx), parallel(parallel),
        minParallelMacs(minParallelMacs), instruction(instruction) {}

  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const final {
    if (!prefersX86Lookup(op, instruction))
      return rewriter.notifyMatchFailure(op, "not selected for lookups");
    // No outputs: the result is `init`.
    if (llvm::is_contained(op.getInit().getType().getShape(), 0)) {
      rewriter.replaceOp(op, op.getInit());
      return success();
    }
    std::optional<LookupPlan> plan = planFor(
        getPackedLayout(op->getOperand(0).getType()),
        getPackedLayout(op->getOperand(1).getType()), getVariant(instruction));
    auto byteType =
        VectorType::get({plan->variant.lanes}, rewriter.getI8Type());
    FunctionType byteOp =
        rewriter.getFunctionType({byteType, byteType}, {byteType});
    if (failed(declareIntrinsic(rewriter, op, plan->variant.shuffle, byteOp)) ||
        failed(declareIntrinsic(rewriter, op, plan->variant.add, byteOp)))
      return rewriter.notifyMatchFailure(op, "cannot declare the intrinsic");
    auto tablesType = RankedTensorType::get({int64_t(plan->tables.size())},
                                            rewriter.getI8Type());
    Value tables = arith::ConstantOp::create(
        rewriter, op.getLoc(),
        DenseElementsAttr::get(tablesType, ArrayRef<int8_t>(plan->tables)));
    LookupKernel kernel{rewriter, op.getLoc(), *plan, tables};
    lower(op, kernel, rewriter);
    return success();
  }

  virtual void lower(OpTy op, LookupKernel &kernel,
                     PatternRewriter &rewriter) const = 0;

  /// Whether `op`'s kernel gets an scf.forall: with `parallel`, unless its
  /// static multiply-accumulates are too few to pay for a fork.
  bool runsInParallel(OpTy op) const {
    return parallel && hasParallelWork(op, minParallelMacs);
  }

  bool parallel;
  int64_t minParallelMacs;
  X86LookupInstruction instruction;
};

/// The register block for `vectors` channel vectors (dynamic: as many as
/// fit) and `rows` rows per run (dynamic: many): channel vectors x rows,
/// the rows evened out over the run.
static std::pair<int64_t, int64_t> getBlock(int64_t vectors, int64_t rows,
                                            const LookupVariant &variant) {
  int64_t rowBlock = variant.rowBlock, channelBlock = variant.channelBlock;
  int64_t nr = ShapedType::isDynamic(vectors)
                   ? channelBlock
                   : std::clamp<int64_t>(vectors, 1, channelBlock);
  int64_t mr = rowBlock * channelBlock / nr;
  if (!ShapedType::isDynamic(rows) && rows > 0)
    mr = llvm::divideCeil(rows, llvm::divideCeil(rows, mr));
  return {nr, mr};
}

struct MatmulToX86Lookup : public X86LookupPattern<MatmulOp> {
  using X86LookupPattern::X86LookupPattern;

  void lower(MatmulOp op, LookupKernel &kernel,
             PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    PackedLayoutAttr lhsLayout = op.getLhsLayout();
    Value init = op.getInit();
    auto initType = cast<RankedTensorType>(init.getType());
    Type resultType = initType.getElementType();
    bool batched = initType.getRank() == 3;
    bool lhsBatched = op.getLhs().getType().getRank() == 4;
    const LookupVariant &variant = kernel.plan.variant;
    int64_t lanes = variant.lanes;
    int64_t groups = variant.groups(lhsLayout.getLength());

    Value indices = buildActivationOffsets(rewriter, loc, op.getLhs(),
                                           lhsLayout, groups, kernel.plan,
                                           /*padding=*/{});
    Value weights =
        buildWeightIndices(rewriter, loc, op.getRhs(), op.getRhsLayout(),
                           groups, resultType, variant);

    SmallVector<OpFoldResult> sizes =
        tensor::getMixedSizes(rewriter, loc, init);
    unsigned first = batched ? 1 : 0;
    Value blocks = tensor::DimOp::create(rewriter, loc, weights, 0);
    int64_t staticN = initType.getDimSize(first + 1);
    int64_t staticBlocks = ShapedType::isDynamic(staticN)
                               ? ShapedType::kDynamic
                               : llvm::divideCeil(staticN, lanes);
    int64_t nr, mr;
    std::tie(nr, mr) =
        getBlock(staticBlocks, initType.getDimSize(first), variant);
    bool channelsInBounds = !ShapedType::isDynamic(staticN) &&
                            staticN % lanes == 0 && staticBlocks % nr == 0;
    Value target;
    bool readInit;
    std::tie(target, readInit) = getStoreTarget(rewriter, loc, init);

    // Rows [rowOffset, rowOffset + rowCount) of batch `bi`, stored at rows
    // [0, rowCount) of batch `outBatch` of `into`.
    auto buildRows = [&](Value into, Value bi, Value outBatch, Value rowOffset,
                         Value rowCount) -> Value {
      scf::LoopNest nest = buildLoops(
          rewriter, loc, {rowCount, blocks}, {mr, nr}, ValueRange{into},
          [&](ValueRange ivs, ValueRange iterArgs) {
            Value m0 = ivs[0], nb0 = ivs[1];
            SmallVector<Value> rowIndex, lhsRow;
            for (int64_t i = 0; i < mr; ++i) {
              rowIndex.push_back(minIndex(rewriter, loc, m0, i, rowCount));
              lhsRow.push_back(
                  arith::AddIOp::create(rewriter, loc, rowOffset, rowIndex[i]));
            }
            SmallVector<Value> blockIndex;
            for (int64_t j = 0; j < nr; ++j)
              blockIndex.push_back(minIndex(rewriter, loc, nb0, j, blocks));
            scf::ValueVector wide = reduceGroups(
                kernel, groups, mr * nr,
                kernel.zeros(kernel.wideType(), 2 * mr * nr),
                [&](Value g, ValueRange sums) {
                  SmallVector<Value> tables, vectors;
                  for (int64_t i = 0; i < mr; ++i) {
                    SmallVector<Value> at;
                    if (lhsBatched)
                      at.push_back(bi);
                    at.append({lhsRow[i], g});
                    tables.push_back(kernel.table(indices, at));
                  }
                  for (int64_t j = 0; j < nr; ++j)
                    vectors.push_back(kernel.weightVector(
                        weights, {blockIndex[j], g, kernel.index(0)}));
                  return kernel.lookupBlock(sums, tables, vectors);
                });
            Value written = kernel.storeBlock(
                iterArgs[0], wide, mr, nr, groups,
                [&](int64_t i) {
                  SmallVector<Value> at;
                  if (batched)
                    at.push_back(outBatch);
                  at.push_back(rowIndex[i]);
                  return at;
                },
                nb0, channelsInBounds, readInit);
            return scf::ValueVector{written};
          });
      return nest.results.front();
    };

    Value result = buildMatmulRows(rewriter, loc, target, sizes, batched, mr,
                                   runsInParallel(op), buildRows);
    rewriter.replaceOp(op, result);
  }
};

/// conv2d directly over the taps of the zero-padded input's lookup indices:
/// blocks of output pixels of one row x vectors of output channels.
struct Conv2DToX86Lookup : public X86LookupPattern<Conv2DOp> {
  using X86LookupPattern::X86LookupPattern;

  void lower(Conv2DOp op, LookupKernel &kernel,
             PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    PackedLayoutAttr inputLayout = op.getInputLayout();
    ArrayRef<int64_t> strides = op.getStrides(), dilations = op.getDilations();
    Value init = op.getInit();
    auto initType = cast<RankedTensorType>(init.getType());
    Type resultType = initType.getElementType();
    auto filterType = cast<RankedTensorType>(op.getFilter().getType());
    int64_t kh = filterType.getDimSize(1), kw = filterType.getDimSize(2);
    const LookupVariant &variant = kernel.plan.variant;
    int64_t lanes = variant.lanes;
    int64_t groups = variant.groups(inputLayout.getLength());

    // [N, H + pads, W + pads, >= groups]: the border is the table of 0.
    bool parallel = runsInParallel(op);
    Value indices =
        buildActivationOffsets(rewriter, loc, op.getInput(), inputLayout,
                               groups, kernel.plan, op.getPadding(), parallel);
    // [COB, KH, KW, groups, lanes].
    Value weights =
        buildWeightIndices(rewriter, loc, op.getFilter(), op.getFilterLayout(),
                           groups, resultType, variant);

    SmallVector<OpFoldResult> sizes =
        tensor::getMixedSizes(rewriter, loc, init);
    Value outWidth = getValueOrCreateConstantIndexOp(rewriter, loc, sizes[2]);
    Value blocks = tensor::DimOp::create(rewriter, loc, weights, 0);
    int64_t staticCo = initType.getDimSize(3);
    int64_t staticBlocks = ShapedType::isDynamic(staticCo)
                               ? ShapedType::kDynamic
                               : llvm::divideCeil(staticCo, lanes);
    int64_t nr, mr;
    std::tie(nr, mr) = getBlock(staticBlocks, initType.getDimSize(2), variant);
    bool channelsInBounds = !ShapedType::isDynamic(staticCo) &&
                            staticCo % lanes == 0 && staticBlocks % nr == 0;
    int64_t lookups = kh * kw * groups;
    Value target;
    bool readInit;
    std::tie(target, readInit) = getStoreTarget(rewriter, loc, init);

    // Channel blocks [blockBegin, blockEnd) of output row (n, oh).
    auto buildRow = [&](const ConvRowPart &task) -> Value {
      Value n = task.n, oh = task.oh;
      scf::LoopNest nest = buildLoops(
          rewriter, loc, {outWidth, task.blockEnd}, {mr, nr},
          ValueRange{task.into},
          [&](ValueRange ivs, ValueRange iterArgs) {
            Value ow0 = ivs[0], nb0 = ivs[1];
            // Pixels past the row repeat the last one.
            SmallVector<Value> pixelIndex;
            for (int64_t p = 0; p < mr; ++p)
              pixelIndex.push_back(minIndex(rewriter, loc, ow0, p, outWidth));
            SmallVector<Value> blockIndex;
            for (int64_t j = 0; j < nr; ++j)
              blockIndex.push_back(
                  minIndex(rewriter, loc, nb0, j, task.blockEnd));
            scf::ValueVector wide =
                buildLoops(
                    rewriter, loc, {kernel.index(kh), kernel.index(kw)}, {1, 1},
                    kernel.zeros(kernel.wideType(), 2 * mr * nr),
                    [&](ValueRange taps, ValueRange from) {
                      Value i = taps[0], j = taps[1];
                      Value row = arith::AddIOp::create(
                          rewriter, loc,
                          arith::MulIOp::create(rewriter, loc, oh,
                                                kernel.index(strides[0])),
                          arith::MulIOp::create(rewriter, loc, i,
                                                kernel.index(dilations[0])));
                      Value tapColumn = arith::MulIOp::create(
                          rewriter, loc, j, kernel.index(dilations[1]));
                      SmallVector<Value> columns;
                      for (int64_t p = 0; p < mr; ++p)
                        columns.push_back(arith::AddIOp::create(
                            rewriter, loc,
                            arith::MulIOp::create(rewriter, loc, pixelIndex[p],
                                                  kernel.index(strides[1])),
                            tapColumn));
                      return reduceGroups(
                          kernel, groups, mr * nr, from,
                          [&](Value g, ValueRange sums) {
                            SmallVector<Value> tables, vectors;
                            for (int64_t p = 0; p < mr; ++p)
                              tables.push_back(kernel.table(
                                  indices, {n, row, columns[p], g}));
                            for (int64_t q = 0; q < nr; ++q)
                              vectors.push_back(kernel.weightVector(
                                  weights,
                                  {blockIndex[q], i, j, g, kernel.index(0)}));
                            return kernel.lookupBlock(sums, tables, vectors);
                          });
                    })
                    .results;
            Value written = kernel.storeBlock(
                iterArgs[0], wide, mr, nr, lookups,
                [&](int64_t p) {
                  return SmallVector<Value>{task.outN, task.outOh,
                                            pixelIndex[p]};
                },
                arith::SubIOp::create(rewriter, loc, nb0, task.blockBegin),
                channelsInBounds, readInit);
            return scf::ValueVector{written};
          },
          {kernel.index(0), task.blockBegin});
      return nest.results.front();
    };

    // With threads, rows split into channel parts of whole register blocks:
    // the 7-row layers (ResNet-18's last) keep both threads busy.
    ChannelParts split{blocks, lanes, nr, 1};
    if (parallel && !ShapedType::isDynamic(staticBlocks))
      split.parts =
          std::min<int64_t>(llvm::divideCeil(staticBlocks, nr), kChannelParts);
    Value result = buildConvRowParts(rewriter, loc, target, sizes, parallel,
                                     split, buildRow);
    rewriter.replaceOp(op, result);
  }
};
} // namespace

void mlir::bitserial::populateBitserialToX86LookupPatterns(
    RewritePatternSet &patterns, bool parallel, int64_t minParallelMacs,
    X86LookupInstruction instruction) {
  patterns.add<MatmulToX86Lookup, Conv2DToX86Lookup>(
      patterns.getContext(), parallel, minParallelMacs, instruction);
}

//===----------------------------------------------------------------------===//
// Pass
//===----------------------------------------------------------------------===//

namespace {
struct ConvertBitserialToX86LookupPass
    : public bitserial::impl::ConvertBitserialToX86LookupBase<
          ConvertBitserialToX86LookupPass> {
  using Base::Base;

  void runOnOperation() override {
    if (minParallelMacs < 0) {
      emitError(getOperation()->getLoc())
          << "min-parallel-macs must be at least 0, got "
          << minParallelMacs.getValue();
      return signalPassFailure();
    }
    std::optional<X86LookupInstruction> parsed =
        parseX86LookupInstruction(instruction);
    if (!parsed) {
      emitError(getOperation()->getLoc())
          << "unknown lookup instruction '" << instruction.getValue()
          << "' (expected pshufb or vpermb)";
      return signalPassFailure();
    }
    RewritePatternSet patterns(&getContext());
    populateBitserialToX86LookupPatterns(patterns, parallel, minParallelMacs,
                                         *parsed);
    walkAndApplyPatterns(getOperation(), std::move(patterns));
  }
};
} // namespace
