//===- BitserialToX86Int8.cpp - x86 int8 dot-product lowering -------------===//
//
// Rewrites a bitserial.matmul or conv2d whose activation bits x weight bits
// make bit-serial slower than int8 dot products (docs/design.md) into: both
// operands decoded to i8 codes (the shared decoding of Int8Lowering), the
// weights re-laid out as vectors of output channels, and a register-blocked
// kernel of vpdpbusd (AVX-512 VNNI, AVX-VNNI) or, on AVX2 and AVX-512BW,
// vpmaddubsw into i16 sums widened by vpmaddwd where the operands' ranges
// bound every sum (narrow products), else vpmaddwd on i16 codes; its i32
// accumulators are the outputs; `init` is added in the kernel and the
// offsets' exact corrections after it. With AMX-INT8, convolutions and
// matmuls of static shape run on tiles instead (tdpbusd and kin).
//
//===----------------------------------------------------------------------===//

#include "Bitserial/Conversion/BitserialToX86Int8/BitserialToX86Int8.h"
#include "Bitserial/Conversion/BitserialToInt8/Int8Lowering.h"
#include "Bitserial/Conversion/BitserialToInt8/KernelLoops.h"
#include "Bitserial/IR/BitserialOps.h"

#include "mlir/Dialect/AMX/AMXDialect.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/Utils/Utils.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Transforms/WalkPatternRewriteDriver.h"

namespace mlir::bitserial {
#define GEN_PASS_DEF_CONVERTBITSERIALTOX86INT8
#include "Bitserial/Conversion/Passes.h.inc"
} // namespace mlir::bitserial

using namespace mlir;
using namespace mlir::bitserial;
using namespace mlir::bitserial::int8;

/// Longest reduction (K rounded up to the group) of an i64 result: every
/// product is at most 255 * 255 in magnitude and 32768 * 255 * 255 < 2^31,
/// so no i32 partial sum wraps before it is widened.
static constexpr int64_t kMaxWideLength = 32768;

/// Narrow products need at least this many steps between widenings: with
/// one, vpmaddubsw + vpmaddwd per step is no faster than vpmaddwd on i16
/// codes.
static constexpr int64_t kMinNarrowSteps = 2;

std::optional<X86Int8Instruction>
mlir::bitserial::parseX86Int8Instruction(StringRef name) {
  return llvm::StringSwitch<std::optional<X86Int8Instruction>>(name)
      .Case("avx512-vnni", X86Int8Instruction::Avx512Vnni)
      .Case("avx-vnni", X86Int8Instruction::AvxVnni)
      .Case("avx2", X86Int8Instruction::Avx2)
      .Case("avx512bw", X86Int8Instruction::Avx512Bw)
      .Case("amx", X86Int8Instruction::Amx)
      .Default(std::nullopt);
}

StringRef
mlir::bitserial::getX86Int8InstructionName(X86Int8Instruction instruction) {
  switch (instruction) {
  case X86Int8Instruction::Avx512Vnni:
    return "avx512-vnni";
  case X86Int8Instruction::AvxVnni:
    return "avx-vnni";
  case X86Int8Instruction::Avx2:
    return "avx2";
  case X86Int8Instruction::Avx512Bw:
    return "avx512bw";
  case X86Int8Instruction::Amx:
    return "amx";
  }
  llvm_unreachable("unknown instruction");
}

int64_t mlir::bitserial::getX86Int8MinBitProduct(X86Int8Instruction instruction,
                                                 int64_t minBitProduct) {
  if (minBitProduct > 0)
    return minBitProduct;
  // Measured on Zen 5 (docs/benchmarks.md, "Int8 dot products on x86"):
  // from 8 (4 x 2, 3 x 3 bits) int8 wins on the layers with many output
  // pixels, with vpdpbusd and with vpmaddwd alike.
  (void)instruction;
  return 8;
}

/// Output pixels (rows) below which the default threshold doubles: weights
/// passed as arguments are decoded and re-laid out on every call, which few
/// pixels do not amortize (ResNet-18's 7x7 layers C11 and C12 lose at 8
/// bits). This fallback rule does not tell constant weights apart; the cost
/// model does.
static constexpr int64_t kFewRows = 128;
/// A single output row (a matrix-vector product) reads each weight once, so
/// decoding the weights costs more than the product itself: the default
/// keeps the bit-serial kernels at any width (a classifier's row of 8-bit x
/// 8-bit codes with 1000 x 512 weights took 0.9 ms as int8 against 0.02 ms).
static constexpr int64_t kMinRows = 2;

//===----------------------------------------------------------------------===//
// Plans
//===----------------------------------------------------------------------===//

static bool isVnni(X86Int8Instruction instruction) {
  return instruction == X86Int8Instruction::Avx512Vnni ||
         instruction == X86Int8Instruction::AvxVnni;
}

/// AMX tiles: rows (output pixels) and bytes (K) of an lhs tile; output
/// channels (i32 columns) of an accumulator tile.
static constexpr int64_t kAmxRows = 16;
static constexpr int64_t kAmxBytes = 64;
static constexpr int64_t kAmxColumns = 16;
/// The tile registers, and the most reduction steps (tile products of 64
/// values of K) the AMX kernel unrolls: 128 steps are K = 8192.
static constexpr int64_t kAmxTiles = 8;
static constexpr int64_t kMaxAmxSteps = 128;
/// Re-laid-out weights up to this size stay in a core's cache while the
/// core's tasks stream them once per pair of rows.
static constexpr int64_t kAmxRowTaskWeightBytes = int64_t(3) << 19;
/// Re-laid-out weights a register block reads that stay in a core's L1
/// data cache (48 KB on the AMX Xeon) next to its input rows.
static constexpr int64_t kAmxL1WeightBytes = int64_t(40) << 10;

namespace {
/// The representation of both operands; for vpdpbusd and vpmaddubsw, which
/// one is the u8 operand. With `narrowSteps` > 0 the kernel multiplies with
/// vpmaddubsw into i16 sums and widens them every at most `narrowSteps`
/// steps.
struct X86Plan {
  Int8Operand lhs, rhs;
  int64_t narrowSteps = 0;
};
} // namespace

/// The largest magnitude of the codes x of `layout`'s values under `rep`
/// (value = scale * x + offset).
static int64_t getMaxCodeMagnitude(PackedLayoutAttr layout, Int8Operand rep) {
  int64_t low = getMinValue(layout.getBits(), layout.getEncoding());
  int64_t high = getMaxValue(layout.getBits(), layout.getEncoding());
  return std::max(std::abs(low - rep.offset), std::abs(high - rep.offset)) /
         rep.scale;
}

/// Steps of vpmaddubsw whose i16 sums stay exact under `plan` (u8 codes
/// times s8 codes): each i16 lane adds two products per step, so neither
/// vpmaddubsw saturates nor the sum of `steps` of them leaves i16 while
/// steps * 2 * max|u| * max|s| <= 32767 (the adds wrap, and the true sum is
/// back in range when it is read). 0 when not even one step is.
static int64_t getNarrowSteps(PackedLayoutAttr lhs, PackedLayoutAttr rhs,
                              const X86Plan &plan) {
  int64_t pair = 2 * getMaxCodeMagnitude(lhs, plan.lhs) *
                 getMaxCodeMagnitude(rhs, plan.rhs);
  return pair == 0 ? std::numeric_limits<int16_t>::max()
                   : std::numeric_limits<int16_t>::max() / pair;
}

/// vpdpbusd and vpmaddubsw multiply u8 by s8: one operand goes as u8, the
/// other as s8, with as few offsets as possible and none on the lhs (a
/// convolution's input, whose padding must be x = 0) when one side can take
/// them. vpmaddwd multiplies extended i16 codes: each operand keeps its
/// sign. On AVX2 and AVX-512BW (`narrowProducts`), the u8 x s8 plan with
/// narrow products when at least kMinNarrowSteps steps stay exact and, with
/// `padded` (a convolution with padding), its lhs has no offset; else the
/// vpmaddwd plan.
static X86Plan planFor(X86Int8Instruction instruction, PackedLayoutAttr lhs,
                       PackedLayoutAttr rhs, bool narrowProducts = false,
                       bool padded = false) {
  X86Plan lhsUnsigned{asUnsigned(lhs), asSigned(rhs)};
  X86Plan rhsUnsigned{asSigned(lhs), asUnsigned(rhs)};
  auto cost = [](const X86Plan &plan) {
    return 2 * (plan.lhs.offset != 0) + (plan.rhs.offset != 0);
  };
  X86Plan mixed =
      cost(rhsUnsigned) < cost(lhsUnsigned) ? rhsUnsigned : lhsUnsigned;
  auto natural = [](PackedLayoutAttr layout) {
    return layout.getEncoding() == Encoding::Unsigned ? asUnsigned(layout)
                                                      : asSigned(layout);
  };
  // AMX multiplies u8 or s8 by u8 or s8: each operand keeps its sign.
  if (instruction == X86Int8Instruction::Amx)
    return {natural(lhs), natural(rhs)};
  if (isVnni(instruction))
    return mixed;
  if (narrowProducts && !(padded && mixed.lhs.offset != 0)) {
    int64_t steps = getNarrowSteps(lhs, rhs, mixed);
    if (steps >= kMinNarrowSteps) {
      mixed.narrowSteps = steps;
      return mixed;
    }
  }
  return {natural(lhs), natural(rhs)};
}

static bool isPadded(Operation *op) {
  auto conv = dyn_cast<Conv2DOp>(op);
  return conv &&
         llvm::any_of(conv.getPadding(), [](int64_t p) { return p != 0; });
}

static int64_t getGroup(X86Int8Instruction instruction) {
  return isVnni(instruction) || instruction == X86Int8Instruction::Amx ? 4 : 2;
}

/// Whether the AMX kernel handles the conv2d `op`: static shapes and at most
/// kMaxAmxSteps steps of 64 values of K.
static bool canLowerToAmx(Conv2DOp op) {
  auto inputType = cast<RankedTensorType>(op.getInput().getType());
  auto filterType = cast<RankedTensorType>(op.getFilter().getType());
  auto initType = cast<RankedTensorType>(op.getInit().getType());
  if (!inputType.hasStaticShape() || !filterType.hasStaticShape() ||
      !initType.hasStaticShape())
    return false;
  PackedLayoutAttr input = op.getInputLayout();
  int64_t steps = filterType.getDimSize(1) * filterType.getDimSize(2) *
                  llvm::divideCeil(input.getLength(), kAmxBytes);
  return steps <= kMaxAmxSteps;
}

/// Whether the AMX kernel handles the matmul `op`: static shapes without
/// batches, at least a tile's 16 rows (fewer leave most of every tile's
/// rows unused: vpdpbusd is better there) and at most kMaxAmxSteps steps
/// of 64 values of K.
static bool canLowerToAmx(MatmulOp op) {
  auto lhsType = cast<RankedTensorType>(op.getLhs().getType());
  auto rhsType = cast<RankedTensorType>(op.getRhs().getType());
  auto initType = cast<RankedTensorType>(op.getInit().getType());
  PackedLayoutAttr lhs = op.getLhsLayout();
  return lhs && lhsType.hasStaticShape() && rhsType.hasStaticShape() &&
         initType.hasStaticShape() && initType.getRank() == 2 &&
         lhsType.getRank() == 3 && initType.getDimSize(0) >= kAmxRows &&
         llvm::divideCeil(lhs.getLength(), kAmxBytes) <= kMaxAmxSteps;
}

bool mlir::bitserial::canLowerToX86Int8(Operation *op,
                                        X86Int8Instruction instruction,
                                        bool narrowProducts) {
  PackedLayoutAttr lhs, rhs;
  int64_t group = getGroup(instruction);
  int64_t reduction = 0;
  Type resultType;
  if (auto matmul = dyn_cast<MatmulOp>(op)) {
    if (instruction == X86Int8Instruction::Amx && !canLowerToAmx(matmul))
      return false;
    lhs = matmul.getLhsLayout();
    rhs = matmul.getRhsLayout();
    // Batched weights would need a re-layout per batch.
    if (cast<RankedTensorType>(matmul.getRhs().getType()).getRank() == 4)
      return false;
    if (lhs)
      reduction = llvm::divideCeil(lhs.getLength(), group) * group;
    resultType = matmul.getInit().getType().getElementType();
  } else if (auto conv = dyn_cast<Conv2DOp>(op)) {
    if (instruction == X86Int8Instruction::Amx &&
        (!conv.getInputLayout() || !canLowerToAmx(conv)))
      return false;
    lhs = conv.getInputLayout();
    rhs = conv.getFilterLayout();
    // The tap loops need static kernel extents.
    auto filterType = cast<RankedTensorType>(conv.getFilter().getType());
    if (filterType.isDynamicDim(1) || filterType.isDynamicDim(2))
      return false;
    if (lhs)
      reduction = filterType.getDimSize(1) * filterType.getDimSize(2) *
                  llvm::divideCeil(lhs.getLength(), group) * group;
    resultType = conv.getInit().getType().getElementType();
    // Padding (the value 0) must be x = 0.
    if (lhs && rhs && isPadded(op) &&
        planFor(instruction, lhs, rhs, narrowProducts, /*padded=*/true)
                .lhs.offset != 0)
      return false;
  }
  if (!lhs || !rhs)
    return false;
  // i64: one i32 partial sum per output must not wrap.
  return resultType.isInteger(32) || reduction <= kMaxWideLength;
}

bool mlir::bitserial::prefersX86Int8DotProduct(Operation *op,
                                               X86Int8Instruction instruction,
                                               int64_t minBitProduct,
                                               bool narrowProducts) {
  if (!canLowerToX86Int8(op, instruction, narrowProducts))
    return false;
  // The user's choice, then bitserial-select-kernels', then the rule.
  if (std::optional<bool> annotated = getAnnotatedInt8Choice(op))
    return *annotated;
  // Output rows (pixels) per call; dynamic counts as many.
  int64_t rows = std::numeric_limits<int64_t>::max();
  auto initType = cast<RankedTensorType>(
      cast<DestinationStyleOpInterface>(op).getDpsInits()[0].getType());
  if (initType.hasStaticShape())
    rows = initType.getNumElements() /
           std::max<int64_t>(initType.getShape().back(), 1);
  PackedLayoutAttr lhs = getPackedLayout(op->getOperand(0).getType());
  PackedLayoutAttr rhs = getPackedLayout(op->getOperand(1).getType());
  int64_t threshold = getX86Int8MinBitProduct(instruction, minBitProduct);
  if (minBitProduct == 0 && rows < kMinRows)
    return false;
  if (minBitProduct == 0 && rows < kFewRows)
    threshold *= 2;
  return int64_t(lhs.getBits()) * rhs.getBits() >= threshold;
}

//===----------------------------------------------------------------------===//
// The kernel
//===----------------------------------------------------------------------===//

namespace {
/// The instruction's vectors and the register block.
struct DotKernel {
  OpBuilder &b;
  Location loc;
  X86Int8Instruction instruction;
  X86Plan plan;

  bool vnni() const { return isVnni(instruction); }
  bool amx() const { return instruction == X86Int8Instruction::Amx; }
  /// vpmaddubsw into i16 sums, widened every at most `plan.narrowSteps`.
  bool narrow() const { return plan.narrowSteps > 0; }
  /// Codes are bytes (vpdpbusd, vpmaddubsw), else i16 (vpmaddwd).
  bool byteCodes() const { return vnni() || narrow() || amx(); }
  bool wide() const {
    return instruction == X86Int8Instruction::Avx512Vnni ||
           instruction == X86Int8Instruction::Avx512Bw || amx();
  }
  /// i32 lanes per vector.
  int64_t lanes() const { return wide() ? 16 : 8; }
  /// Bytes per vector of the decoding.
  int64_t decodeLanes() const { return wide() ? 64 : 32; }
  /// Values of K per i32 lane.
  int64_t group() const { return byteCodes() ? 4 : getGroup(instruction); }
  Type codeType() const { return byteCodes() ? b.getI8Type() : b.getI16Type(); }
  VectorType accType() const {
    return VectorType::get({lanes()}, b.getI32Type());
  }
  /// The i16 sums of narrow products: two per i32 lane.
  VectorType narrowAccType() const {
    return VectorType::get({lanes() * 2}, b.getI16Type());
  }
  /// The accumulators of the steps: i16 sums for narrow products.
  VectorType stepAccType() const {
    return narrow() ? narrowAccType() : accType();
  }
  VectorType operandType() const {
    return VectorType::get({lanes() * group()}, codeType());
  }
  /// Accumulators of a register block: 32 zmm or 16 ymm registers, less
  /// the operands (and the product of vpmaddwd or vpmaddubsw). The i32
  /// sums of narrow products live outside the step loops, in memory while
  /// they run.
  int64_t accumulatorBudget() const {
    return wide() ? (vnni() ? 24 : 20) : (vnni() || narrow() ? 12 : 10);
  }
  /// Vectors of channels x rows of a block for `vectors` channel vectors.
  std::pair<int64_t, int64_t> block(int64_t vectors) const {
    int64_t maxVectors = wide() ? 4 : 2;
    int64_t nr = ShapedType::isDynamic(vectors)
                     ? maxVectors
                     : std::clamp<int64_t>(vectors, 1, maxVectors);
    int64_t mr = std::min<int64_t>(wide() ? 8 : 6, accumulatorBudget() / nr);
    return {nr, mr};
  }

  StringRef intrinsic() const {
    if (narrow())
      return wide() ? "llvm.x86.avx512.pmaddubs.w.512"
                    : "llvm.x86.avx2.pmadd.ub.sw";
    return widenIntrinsic();
  }

  /// vpmaddwd, which also widens the i16 sums of narrow products.
  StringRef widenIntrinsic() const {
    switch (instruction) {
    case X86Int8Instruction::Avx512Vnni:
      return "llvm.x86.avx512.vpdpbusd.512";
    case X86Int8Instruction::AvxVnni:
      return "llvm.x86.avx512.vpdpbusd.256";
    case X86Int8Instruction::Avx2:
      return "llvm.x86.avx2.pmadd.wd";
    case X86Int8Instruction::Avx512Bw:
      return "llvm.x86.avx512.pmaddw.d.512";
    case X86Int8Instruction::Amx:
      break;
    }
    llvm_unreachable("unknown instruction");
  }

  FunctionType intrinsicType() const {
    SmallVector<Type> inputs;
    if (vnni())
      inputs.push_back(accType());
    inputs.append(2, operandType());
    return FunctionType::get(b.getContext(), inputs, {stepAccType()});
  }

  FunctionType widenIntrinsicType() const {
    SmallVector<Type> inputs(2, narrowAccType());
    return FunctionType::get(b.getContext(), inputs, {accType()});
  }

  Value index(int64_t value) { return constantIndex(b, loc, value); }

  /// `acc` + the dot products of the lhs codes `lhs` and rhs codes `rhs`.
  Value multiplyAccumulate(Value acc, Value lhs, Value rhs) {
    // The u8 operand first.
    if (byteCodes() && !plan.lhs.isUnsigned)
      std::swap(lhs, rhs);
    if (vnni())
      return func::CallOp::create(b, loc, intrinsic(), TypeRange{accType()},
                                  ValueRange{acc, lhs, rhs})
          .getResult(0);
    // Narrow: i16 adds, which wrap; planFor bounds the true sums.
    Value product =
        func::CallOp::create(b, loc, intrinsic(), TypeRange{stepAccType()},
                             ValueRange{lhs, rhs})
            .getResult(0);
    return arith::AddIOp::create(b, loc, acc, product);
  }

  /// `accs` plus the i16 sums `sums` of narrow products, each pair of i16
  /// lanes (one output channel) added into its i32 lane by vpmaddwd with 1.
  scf::ValueVector widen(ValueRange accs, ValueRange sums) {
    Value ones = arith::ConstantOp::create(
        b, loc,
        DenseElementsAttr::get(narrowAccType(),
                               b.getIntegerAttr(b.getI16Type(), 1)));
    scf::ValueVector result;
    for (auto [acc, sum] : llvm::zip_equal(accs, sums)) {
      Value pairs =
          func::CallOp::create(b, loc, widenIntrinsic(), TypeRange{accType()},
                               ValueRange{sum, ones})
              .getResult(0);
      result.push_back(arith::AddIOp::create(b, loc, acc, pairs));
    }
    return result;
  }

  /// Zeros for `count` step accumulators.
  SmallVector<Value> zeroStepAccs(int64_t count) {
    Value zero =
        arith::ConstantOp::create(b, loc, b.getZeroAttr(stepAccType()));
    return SmallVector<Value>(count, zero);
  }

  /// `accs` (`mr x nr`) plus the products of the broadcast lhs codes
  /// `lhsCodes` with the `nr` weight vectors of `weights` at `weightAt(j)`.
  scf::ValueVector
  multiplyBlock(ValueRange accs, ArrayRef<Value> lhsCodes, Value weights,
                int64_t nr,
                function_ref<SmallVector<Value>(int64_t)> weightAt) {
    SmallVector<Value> rhsCodes;
    for (int64_t j = 0; j < nr; ++j)
      rhsCodes.push_back(vector::TransferReadOp::create(
          b, loc, operandType(), weights, weightAt(j),
          constantInt(b, loc, codeType(), 0), ArrayRef<bool>{true}));
    scf::ValueVector next;
    for (size_t i = 0; i < lhsCodes.size(); ++i)
      for (int64_t j = 0; j < nr; ++j)
        next.push_back(
            multiplyAccumulate(accs[i * nr + j], lhsCodes[i], rhsCodes[j]));
    return next;
  }

  /// The `group` lhs codes of `x` at `indices` (the last one K),
  /// broadcast to every lane; codes past the end of a row (`!inBounds`)
  /// are 0.
  Value broadcastCodes(Value x, ValueRange indices, bool inBounds = true) {
    Type i8 = b.getI8Type();
    Value codes = vector::TransferReadOp::create(
        b, loc, VectorType::get({group()}, i8), x, indices,
        constantInt(b, loc, i8, 0), ArrayRef<bool>{inBounds});
    if (!byteCodes()) {
      auto wideType = VectorType::get({group()}, b.getI16Type());
      codes = plan.lhs.isUnsigned
                  ? Value(arith::ExtUIOp::create(b, loc, wideType, codes))
                  : Value(arith::ExtSIOp::create(b, loc, wideType, codes));
    }
    Value word = vector::BitCastOp::create(
        b, loc, VectorType::get({1}, b.getI32Type()), codes);
    Value words = vector::BroadcastOp::create(b, loc, accType(), word);
    return vector::BitCastOp::create(b, loc, operandType(), words);
  }

  /// Groups of K = `length` in the re-laid-out weights: K rounded up to the
  /// group, for AMX to whole tiles of 64 values (zeros past K).
  int64_t weightGroups(int64_t length) const {
    if (amx())
      return llvm::divideCeil(length, kAmxBytes) * (kAmxBytes / group());
    return llvm::divideCeil(length, group());
  }

  /// The rhs codes `x` as vectors of output channels (relayoutChannelBlocks)
  /// over K = `length` rounded up to the group.
  Value relayoutWeights(Value x, int64_t length) {
    return relayoutChannelBlocks(b, loc, x, weightGroups(length), lanes(),
                                 group(), codeType(), plan.rhs.isUnsigned);
  }

  /// relayoutWeights of the codes of a constant `packed`, computed here
  /// (foldChannelBlocks), so that calls do not decode and re-lay out the
  /// weights of a deployed network; null for other values.
  Value foldWeights(Value packed, PackedLayoutAttr layout) {
    return foldChannelBlocks(b, loc, packed, layout, plan.rhs,
                             weightGroups(layout.getLength()), lanes(), group(),
                             codeType());
  }

  /// `scale * acc` (an accumulator vector) as a vector of `resultType`.
  Value finishAccumulator(Value acc, Type resultType) {
    auto resultVector = VectorType::get({lanes()}, resultType);
    if (!resultType.isInteger(32))
      acc = arith::ExtSIOp::create(b, loc, resultVector, acc);
    int64_t scale = plan.lhs.scale * plan.rhs.scale;
    if (scale != 1)
      acc = arith::MulIOp::create(
          b, loc, acc,
          arith::ConstantOp::create(
              b, loc,
              DenseElementsAttr::get(resultVector,
                                     IntegerAttr::get(resultType, scale))));
    return acc;
  }

  /// Stores `init + scale * acc` for a block (`scale * acc` unless
  /// `readInit`): `accs[i * nr + j]` goes to `at(i)` + channel
  /// `(nb0 + j) * lanes` of `into`; all reads come first. Channels past
  /// `channels` are masked off unless `channelsInBounds`.
  Value storeBlock(Value into, ArrayRef<Value> accs, int64_t mr, int64_t nr,
                   function_ref<SmallVector<Value>(int64_t)> at, Value nb0,
                   bool channelsInBounds, bool readInit) {
    auto intoType = cast<RankedTensorType>(into.getType());
    Type resultType = intoType.getElementType();
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
    for (int64_t i = 0; i < mr; ++i) {
      for (int64_t j = 0; j < nr; ++j) {
        Value acc = finishAccumulator(accs[i * nr + j], resultType);
        if (readInit) {
          Value init = vector::TransferReadOp::create(
              b, loc, resultVector, into, indices(i, j), zero,
              ArrayRef<bool>{channelsInBounds});
          acc = arith::AddIOp::create(b, loc, init, acc);
        }
        values.push_back(acc);
      }
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

//===----------------------------------------------------------------------===//
// The AMX convolution kernel
//===----------------------------------------------------------------------===//

/// Where an alloca for `op` goes: the body of the innermost enclosing
/// parallel loop (whose iterations run on several threads, each freeing
/// its allocas), else the entry of the enclosing allocation scope.
static Block *getAllocaBlock(Operation *op) {
  for (Operation *parent = op->getParentOp(); parent;
       parent = parent->getParentOp()) {
    if (auto forall = dyn_cast<scf::ForallOp>(parent))
      return forall.getBody();
    if (auto parallel = dyn_cast<scf::ParallelOp>(parent))
      return parallel.getBody();
    if (parent->hasTrait<OpTrait::AutomaticAllocationScope>())
      return &parent->getRegion(0).front();
  }
  return op->getBlock();
}

namespace {
/// A conv2d on AMX tiles: accumulator tiles of `pixelBlock` pixels of a row
/// x 16 output channels, `mr x nr` of them per register block, the
/// reduction over (kh, kw, 64 channels) unrolled (no tile is carried by a
/// loop). Rows of several pixel blocks take two blocks of a row at a time,
/// rows in the outer loop (tasks of a row with threads). Rows of one block
/// (at most 16 pixels) take the block of two rows at a time, the channel
/// blocks in the outer loop: those layers have the most weights per pixel,
/// and the weights of the channel blocks then stay in the cache over all
/// rows. With threads these are tasks of two rows where all weights fit a
/// core's cache, else tasks of `nr` channel blocks.
struct AmxConv {
  DotKernel &kernel;
  Value input, weights;
  ArrayRef<int64_t> strides, dilations;
  int64_t kh, kw, channels;
  /// The output, without an init to add: the patterns add one after the
  /// kernel (tiles may overlap, and a pixel stored twice must not add it
  /// twice).
  RankedTensorType initType;
  /// Pixels as one flat sequence (see `takesFlatPixels`).
  bool flat = false;
  /// Tiles wrapping over the rows of the padded input, of this width (see
  /// `wrappedWidth`); 0: tiles within a row. With stride 2 the input comes
  /// as its even and odd padded rows (`phaseInputs`).
  int64_t wrapWidth = 0, wrapStride = 1;
  SmallVector<Value> phaseInputs = {}, phaseBuffers = {};
  /// Flat pixels decoded by the kernel, a register block's pixels at a
  /// time (see `decodesInKernel`): the packed input's words (`[N, OH, OW,
  /// planes, words]`, a strided view when sampled), how they encode the
  /// codes, and the stack buffer of the block's lhs tiles (`[mr * 16,
  /// chunks * 64]` i8).
  Value packedInput = {};
  PackedLayoutAttr inputLayout = {};
  Int8Operand inputRep = {};
  Value lhsCodes = {};
  /// The row of `lhsCodes` where the block the kernel computes starts (its
  /// two halves alternate: one decoded while the other is read).
  Value lhsCodesRow = {};
  /// With direct stores (see `storesDirectly`), the output buffer, and the
  /// view of it that tiles are stored into (`[N * OH * OW, CO]` with flat
  /// pixels).
  Value outputBuffer = {}, outputView = {};

  int64_t height() const { return initType.getDimSize(1); }
  int64_t width() const { return initType.getDimSize(2); }
  int64_t channelsOut() const { return initType.getDimSize(3); }
  /// The pixels a tile's rows run along: a row, or all of them when flat.
  int64_t pixels() const {
    if (wrapWidth)
      return wrappedPositions();
    return flat ? initType.getNumElements() / channelsOut() : width();
  }
  /// Output pixels an lhs tile (always kAmxRows rows) computes.
  int64_t pixelBlock() const { return std::min(kAmxRows, pixels()); }
  int64_t pixelBlocks() const {
    return llvm::divideCeil(pixels(), pixelBlock());
  }
  int64_t channelBlocks() const {
    return llvm::divideCeil(channelsOut(), kAmxColumns);
  }
  /// The same pixel block of two rows per register block.
  bool rowPairs() const {
    return !flat && !wrapWidth && pixelBlocks() == 1 && height() > 1;
  }
  /// Lhs tiles per register block, and accumulator tiles per lhs tile: 2 x
  /// 2 accumulators with their 2 + 2 operands fill the 8 tiles; a single
  /// lhs tile takes 1 x 3.
  int64_t mr() const {
    return rowPairs() ? 2 : std::min<int64_t>(2, pixelBlocks());
  }
  /// Pairs of rows take one channel block where the weights of two over
  /// the whole reduction would not fit the L1 cache but one block's do,
  /// and all weights fit the core's cache: each register block reads its
  /// blocks' weights (C9, 3 x 3 x 256 channels: 72 KB for two blocks;
  /// 0.072 -> 0.068 ms with one). Weights streamed from farther away are
  /// better read by two blocks at a time.
  int64_t nr() const {
    int64_t nr = std::min((kAmxTiles - mr()) / (mr() + 1), channelBlocks());
    int64_t blockWeightBytes = kh * kw * llvm::divideCeil(channels, kAmxBytes) *
                               kAmxBytes * kAmxColumns;
    if (rowPairs() && nr * blockWeightBytes > kAmxL1WeightBytes &&
        blockWeightBytes <= kAmxL1WeightBytes &&
        blockWeightBytes * channelBlocks() <= kAmxRowTaskWeightBytes)
      return 1;
    return nr;
  }

  Value index(int64_t value) { return kernel.index(value); }

  /// Whether tiles can go straight into an output buffer: whole tiles of
  /// channels, i32 results of the products unscaled.
  static bool storesWholeTiles(const DotKernel &kernel,
                               RankedTensorType initType) {
    return initType.getDimSize(3) % kAmxColumns == 0 &&
           initType.getElementType().isInteger(32) &&
           kernel.plan.lhs.scale * kernel.plan.rhs.scale == 1;
  }

  /// 1 x 1 convolutions of stride 1 without padding (strided ones once
  /// their input is sampled) are a matmul over the N * OH * OW pixels:
  /// tiles of 16 consecutive pixels across rows and images (the last one
  /// overlapping the one before), stored straight into the output. Rows of
  /// 7 pixels then fill 49 of 64 tile rows, not 7 of 16.
  static bool takesFlatPixels(const DotKernel &kernel, int64_t kh, int64_t kw,
                              ArrayRef<int64_t> strides, bool padded,
                              RankedTensorType initType) {
    return kh == 1 && kw == 1 && strides[0] == 1 && strides[1] == 1 &&
           !padded && initType.hasStaticShape() &&
           initType.getNumElements() / initType.getDimSize(3) >= kAmxRows &&
           storesWholeTiles(kernel, initType);
  }

  /// Whether flat pixels can be decoded by the kernel from the words of
  /// `packed`: they are read from its words (not from a pack's input or
  /// constants), a chunk of 64 channels is whole words, and the weights
  /// fit a core's cache (the kernel decodes a register block's pixels
  /// once, then reads all weights for them).
  static bool decodesInKernel(Value packed, Value weights) {
    auto type = cast<RankedTensorType>(packed.getType());
    int64_t wordBits = type.getElementType().getIntOrFloatBitWidth();
    return type.hasStaticShape() && !decodesFromSource(packed) &&
           type.getDimSize(type.getRank() - 1) * wordBits % kAmxBytes == 0 &&
           !streamsWeights(weights);
  }

  /// Whether the re-laid-out i8 `weights` pass a core's cache: then each
  /// weight block is read once, over all pixels (channel groups outer),
  /// not once per pixel group (a 4096 x 4096 matmul's 16 MB).
  static bool streamsWeights(Value weights) {
    return cast<RankedTensorType>(weights.getType()).getNumElements() >
           kAmxRowTaskWeightBytes;
  }

  /// Has the kernel decode its flat pixels from the words of `packed`
  /// (`[N, OH, OW, planes, words]` with `layout`, the codes of `rep`):
  /// through a view with any offset and strides (a sampled input is a
  /// strided slice), the words of a plane contiguous.
  void readPackedPixels(Value packed, PackedLayoutAttr layout,
                        Int8Operand rep) {
    OpBuilder &b = kernel.b;
    auto type = cast<RankedTensorType>(packed.getType());
    Value words = packed;
    if (type.getEncoding())
      words = tensor::CastOp::create(
          b, kernel.loc,
          RankedTensorType::get(type.getShape(), type.getElementType()),
          packed);
    SmallVector<int64_t> layoutStrides(type.getRank(), ShapedType::kDynamic);
    layoutStrides.back() = 1;
    packedInput = bufferization::ToBufferOp::create(
        b, kernel.loc,
        MemRefType::get(type.getShape(), type.getElementType(),
                        StridedLayoutAttr::get(b.getContext(),
                                               ShapedType::kDynamic,
                                               layoutStrides)),
        words, /*read_only=*/true);
    inputLayout = layout;
    inputRep = rep;
  }

  /// Rows narrower than a tile with stride 1 and no init: tiles of 16
  /// consecutive positions v = oh * Wp + ow of an image whose rows are the
  /// padded input's width Wp (returned; 0 where this does not apply). The
  /// input of position v and tap (i, j) is then the padded input's pixel v
  /// + i * Wp + j: positions past OW in a row read the next row's padding
  /// and are not stored. Rows of 7 pixels padded to 9 fill 49 of 64 tile
  /// rows (C12), not 7 of 16. With stride 2 (no dilation) the rows are Wp
  /// / 2 positions wide (Wp made even) over the even and the odd padded
  /// rows decoded apart: tap (i, j) of position u = oh * Wp / 2 + ow reads
  /// pixel 2 u + (i / 2) Wp + j of phase i % 2 (C10: 4 tiles for 49
  /// pixels, not 7).
  static int64_t wrappedWidth(int64_t paddedWidth, ArrayRef<int64_t> strides,
                              ArrayRef<int64_t> dilations,
                              RankedTensorType initType) {
    int64_t stride = strides[0];
    if (strides[1] != stride || (stride != 1 && stride != 2) ||
        (stride == 2 && (dilations[0] != 1 || dilations[1] != 1)) ||
        !initType.hasStaticShape() || initType.getDimSize(2) >= kAmxRows)
      return 0;
    // Only where that takes fewer tiles than one per row (not for rows of
    // 14 pixels padded to 16).
    int64_t width = llvm::alignTo(paddedWidth, stride) / stride;
    int64_t height = initType.getDimSize(1);
    int64_t positions = (height - 1) * width + initType.getDimSize(2);
    return int64_t(llvm::divideCeil(positions, kAmxRows)) < height ? width : 0;
  }
  /// Positions of an image the wrapped tiles cover (up to the last output
  /// pixel), and the padded input rows (of a phase) they read (past the
  /// image's rows: zeros decoded below it).
  int64_t wrappedPositions() const {
    return (height() - 1) * wrapWidth + width();
  }
  static int64_t wrappedInputRows(int64_t positions, int64_t wrapWidth,
                                  int64_t stride, int64_t kh, int64_t kw,
                                  ArrayRef<int64_t> dilations) {
    int64_t rowPitch = wrapWidth * stride;
    int64_t last = stride * (llvm::alignTo(positions, kAmxRows) - 1) +
                   (kh - 1) * dilations[0] / stride * rowPitch +
                   (kw - 1) * dilations[1];
    return last / rowPitch + 1;
  }

  /// Whether the accumulator tiles go straight into an output buffer: flat
  /// pixels, or rows of at least 16 pixels (a tile's 16 rows are pixels of
  /// one row). The other kernels read the tiles back as vectors through
  /// stack buffers, which costs as much as the products in 1 x 1 layers
  /// (C3: 0.035 ms against 0.021 without those stores).
  bool storesDirectly() const {
    return flat || (!rowPairs() && width() >= kAmxRows &&
                    storesWholeTiles(kernel, initType));
  }

  /// Stack buffers for the accumulator tiles of a register block, one per
  /// tile (`[mr * nr, 16, 16]`), at the start of `block` (a function's entry
  /// or a parallel loop's body, whose allocas are freed with each
  /// iteration: buffers per thread, never per block).
  Value createStaging(Block *block) {
    OpBuilder &b = kernel.b;
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(block);
    return memref::AllocaOp::create(
        b, kernel.loc,
        MemRefType::get({mr() * nr(), kAmxRows, kAmxColumns}, b.getI32Type()));
  }

  /// An scf.if without results on `condition` whose body `body` builds
  /// with the kernel's builder.
  void buildIf(Value condition, function_ref<void()> body) {
    OpBuilder &b = kernel.b;
    scf::IfOp::create(
        b, kernel.loc, condition, [&](OpBuilder &tb, Location tloc) {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPoint(tb.getInsertionBlock(), tb.getInsertionPoint());
          body();
          scf::YieldOp::create(b, tloc);
        });
  }

  /// min(base + offset, last): rows and blocks past the end repeat the
  /// last one.
  Value clamp(Value base, int64_t offset, int64_t last) {
    OpBuilder &b = kernel.b;
    return arith::MinUIOp::create(
        b, kernel.loc,
        arith::AddIOp::create(b, kernel.loc, base, index(offset)), index(last));
  }

  /// Where a register block reads and stores: lhs tile p holds the pixels
  /// [starts[p], starts[p] + pixelBlock) of output row ohs[p] of image `n`;
  /// accumulator (p, q), of channel block blocks[q], goes to row outOhs[p]
  /// of image `outN` of the task's output at channel vector nbOut + q.
  struct RegisterBlock {
    Value n;
    SmallVector<Value> ohs, starts, blocks;
    Value outN;
    SmallVector<Value> outOhs;
    Value nbOut;
  };

  /// The accumulator tiles of `block`, (p, q) at p * nr + q.
  SmallVector<Value> computeBlock(const RegisterBlock &block, Value inputBuffer,
                                  Value weightBuffer) {
    OpBuilder &b = kernel.b;
    Location loc = kernel.loc;
    Type i8 = b.getI8Type(), i32 = b.getI32Type();
    int64_t mr = block.starts.size(), nr = block.blocks.size();
    int64_t chunks = llvm::divideCeil(channels, kAmxBytes);
    auto lhsTile = amx::TileType::get({kAmxRows, kAmxBytes}, i8);
    auto rhsTile = amx::TileType::get({kAmxBytes / 4, kAmxColumns * 4}, i8);
    auto accTile = amx::TileType::get({kAmxRows, kAmxColumns}, i32);
    // Consecutive pixels of a tile are `stride` input pixels apart.
    Value lhsStride = index(strides[1] * chunks * kAmxBytes);
    SmallVector<Value> accs;
    for (int64_t t = 0; t < mr * nr; ++t)
      accs.push_back(amx::TileZeroOp::create(b, loc, accTile));
    // The input coordinates `outputs[p] * stride + offset` along a dimension.
    auto inputAt = [&](ArrayRef<Value> outputs, int64_t stride,
                       int64_t offset) {
      SmallVector<Value> result;
      for (Value output : outputs)
        result.push_back(arith::AddIOp::create(
            b, loc, arith::MulIOp::create(b, loc, output, index(stride)),
            index(offset)));
      return result;
    };
    for (int64_t i = 0; i < kh; ++i) {
      SmallVector<Value> inputRows =
          inputAt(block.ohs, strides[0], i * dilations[0]);
      for (int64_t j = 0; j < kw; ++j) {
        SmallVector<Value> columns =
            inputAt(block.starts, strides[1], j * dilations[1]);
        for (int64_t c = 0; c < chunks; ++c) {
          SmallVector<Value> lhs, rhs;
          for (int64_t p = 0; p < mr; ++p)
            lhs.push_back(
                lhsCodes
                    ? amx::TileLoadOp::create(
                          b, loc, lhsTile, lhsCodes,
                          ValueRange{arith::AddIOp::create(b, loc, lhsCodesRow,
                                                           index(p * kAmxRows)),
                                     index(c * kAmxBytes)})
                : flat ? amx::TileLoadOp::create(
                             b, loc, lhsTile, inputBuffer,
                             ValueRange{block.starts[p], index(c * kAmxBytes)})
                : wrapWidth && wrapStride == 2
                    ? amx::TileLoadOp::create(
                          b, loc, lhsTile, phaseBuffers[i % 2],
                          ValueRange{block.n,
                                     arith::AddIOp::create(
                                         b, loc,
                                         arith::MulIOp::create(
                                             b, loc, block.starts[p], index(2)),
                                         index(i / 2 * 2 * wrapWidth + j)),
                                     index(c * kAmxBytes)},
                          index(2 * chunks * kAmxBytes))
                : wrapWidth
                    ? amx::TileLoadOp::create(
                          b, loc, lhsTile, inputBuffer,
                          ValueRange{block.n,
                                     arith::AddIOp::create(
                                         b, loc, block.starts[p],
                                         index((i * dilations[0]) * wrapWidth +
                                               j * dilations[1])),
                                     index(c * kAmxBytes)})
                    : amx::TileLoadOp::create(b, loc, lhsTile, inputBuffer,
                                              ValueRange{block.n, inputRows[p],
                                                         columns[p],
                                                         index(c * kAmxBytes)},
                                              lhsStride));
          for (int64_t q = 0; q < nr; ++q)
            rhs.push_back(amx::TileLoadOp::create(
                b, loc, rhsTile, weightBuffer,
                ValueRange{block.blocks[q], index(i), index(j),
                           index(c * kAmxBytes / 4), index(0)}));
          for (int64_t p = 0; p < mr; ++p)
            for (int64_t q = 0; q < nr; ++q)
              accs[p * nr + q] = amx::TileMulIOp::create(
                  b, loc, accTile, lhs[p], rhs[q], accs[p * nr + q],
                  kernel.plan.lhs.isUnsigned, kernel.plan.rhs.isUnsigned);
        }
      }
    }
    return accs;
  }

  /// Decodes the pixels of `block`'s lhs tiles (flat pixels) into
  /// `lhsCodes`, tile p at row p * 16, from the packed words: a mask
  /// register per plane and 64 channels, no copy of the input in memory.
  /// The vector work overlaps the previous block's tile products.
  void decodeBlockPixels(const RegisterBlock &block, Value firstRow) {
    OpBuilder &b = kernel.b;
    Location loc = kernel.loc;
    auto wordsType = cast<MemRefType>(packedInput.getType());
    Type wordType = wordsType.getElementType();
    int64_t perChunk = kAmxBytes / wordType.getIntOrFloatBitWidth();
    int64_t chunks = llvm::divideCeil(channels, kAmxBytes);
    int64_t bits = inputLayout.getBits();
    auto chunkType = VectorType::get({perChunk}, wordType);
    auto maskType = VectorType::get({kAmxBytes}, b.getI1Type());
    for (int64_t p = 0, e = block.starts.size(); p < e; ++p) {
      buildLoops(
          b, loc, {index(kAmxRows)}, {1}, ValueRange{},
          [&](ValueRange ivs, ValueRange) {
            Value pixel =
                arith::AddIOp::create(b, loc, block.starts[p], ivs[0]);
            SmallVector<Value> at =
                delinearize(pixel, {initType.getDimSize(0), height(), width()});
            Value row = arith::AddIOp::create(
                b, loc, firstRow,
                arith::AddIOp::create(b, loc, ivs[0], index(p * kAmxRows)));
            for (int64_t c = 0; c < chunks; ++c) {
              SmallVector<Value> planeBits;
              for (int64_t plane = 0; plane < bits; ++plane) {
                SmallVector<Value> wordAt(at);
                wordAt.append({index(plane), index(c * perChunk)});
                Value words = vector::LoadOp::create(b, loc, chunkType,
                                                     packedInput, wordAt);
                planeBits.push_back(
                    vector::BitCastOp::create(b, loc, maskType, words));
              }
              // Channels past K may have nonzero codes (bipolar
              // zero bits): the weights' codes there are 0.
              Value codes =
                  decodeBits64(b, loc, planeBits, inputLayout, inputRep);
              vector::StoreOp::create(b, loc, codes, lhsCodes,
                                      ValueRange{row, index(c * kAmxBytes)});
            }
            return scf::ValueVector{};
          });
    }
  }

  /// The stack buffer for the decoded lhs tiles of `halves` register
  /// blocks at the start of `block` (per thread, as `createStaging`).
  Value createLhsCodes(Block *block, int64_t halves) {
    OpBuilder &b = kernel.b;
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(block);
    int64_t chunks = llvm::divideCeil(channels, kAmxBytes);
    return memref::AllocaOp::create(
        b, kernel.loc,
        MemRefType::get({halves * mr() * kAmxRows, chunks * kAmxBytes},
                        b.getI8Type()),
        b.getI64IntegerAttr(64));
  }

  /// Stores the accumulator tiles into their stack buffers.
  void stageBlock(ArrayRef<Value> accs, Value staging) {
    Value zero = index(0);
    for (auto [t, acc] : llvm::enumerate(accs))
      amx::TileStoreOp::create(kernel.b, kernel.loc, staging,
                               ValueRange{index(t), zero, zero}, acc);
  }

  /// Stores the staged tiles of `block` into `into` as vectors of 16
  /// channels, each tile as soon as it is read: 16 vectors live, not 64
  /// (spilled).
  Value storeBlock(Value into, const RegisterBlock &block, Value staging,
                   bool channelsInBounds) {
    OpBuilder &b = kernel.b;
    Location loc = kernel.loc;
    int64_t mr = block.starts.size(), nr = block.blocks.size();
    int64_t pixelBlock = this->pixelBlock();
    auto vectorType = VectorType::get({kAmxColumns}, b.getI32Type());
    Value zero = index(0);
    auto pixelAt = [&](int64_t p, int64_t r) {
      Value column = arith::AddIOp::create(b, loc, block.starts[p], index(r));
      return SmallVector<Value>{block.outN, block.outOhs[p], column};
    };
    auto readTile = [&](int64_t p, int64_t q) {
      SmallVector<Value> values;
      for (int64_t r = 0; r < pixelBlock; ++r)
        values.push_back(vector::LoadOp::create(
            b, loc, vectorType, staging,
            ValueRange{index(p * nr + q), index(r), zero}));
      return values;
    };
    if (wrapWidth) {
      // Position v = start + r is pixel (v / Wp, v % Wp) of the output
      // buffer: stored where that is an output pixel.
      for (int64_t p = 0; p < mr; ++p) {
        for (int64_t q = 0; q < nr; ++q) {
          SmallVector<Value> values = readTile(p, q);
          Value channel = arith::MulIOp::create(
              b, loc, arith::AddIOp::create(b, loc, block.nbOut, index(q)),
              index(kAmxColumns));
          for (int64_t r = 0; r < pixelBlock; ++r) {
            Value position =
                arith::AddIOp::create(b, loc, block.starts[p], index(r));
            Value oh =
                arith::DivUIOp::create(b, loc, position, index(wrapWidth));
            Value ow =
                arith::RemUIOp::create(b, loc, position, index(wrapWidth));
            Value isOutput = arith::AndIOp::create(
                b, loc,
                arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, ow,
                                      index(width())),
                arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                      position, index(pixels())));
            Value value =
                kernel.finishAccumulator(values[r], initType.getElementType());
            scf::IfOp::create(b, loc, isOutput,
                              [&](OpBuilder &tb, Location tloc) {
                                vector::TransferWriteOp::create(
                                    tb, tloc, value, outputBuffer,
                                    ValueRange{block.outN, oh, ow, channel},
                                    ArrayRef<bool>{channelsInBounds});
                                scf::YieldOp::create(tb, tloc);
                              });
          }
        }
      }
      return into;
    }
    for (int64_t p = 0; p < mr; ++p)
      for (int64_t q = 0; q < nr; ++q)
        into = kernel.storeBlock(
            into, readTile(p, q), pixelBlock, 1,
            [&](int64_t r) { return pixelAt(p, r); },
            arith::AddIOp::create(b, loc, block.nbOut, index(q)),
            channelsInBounds, /*readInit=*/false);
    return into;
  }

  /// The `count` register blocks `at(0)`, ..., `at(count - 1)` into `into`,
  /// software-pipelined: iteration j computes block j, stores block j - 1
  /// from the stack buffers (its tile stores had block j's products to
  /// complete: a load right after a tile store waits for it) and stages
  /// block j; the last block is stored after the loop.
  Value buildBlocks(Value into, int64_t count,
                    function_ref<RegisterBlock(Value)> at,
                    bool channelsInBounds, Value inputBuffer,
                    Value weightBuffer, Value staging) {
    OpBuilder &b = kernel.b;
    Location loc = kernel.loc;
    Value zero = index(0);
    if (wrapWidth) {
      // Stored into the output buffer: no tensor through the loop.
      buildLoops(b, loc, {index(count)}, {1}, ValueRange{},
                 [&](ValueRange ivs, ValueRange) {
                   Value j = ivs[0];
                   SmallVector<Value> accs =
                       computeBlock(at(j), inputBuffer, weightBuffer);
                   Value notFirst = arith::CmpIOp::create(
                       b, loc, arith::CmpIPredicate::ne, j, zero);
                   buildIf(notFirst, [&] {
                     storeBlock(into,
                                at(arith::SubIOp::create(b, loc, j, index(1))),
                                staging, channelsInBounds);
                   });
                   stageBlock(accs, staging);
                   return scf::ValueVector{};
                 });
      return storeBlock(into, at(index(count - 1)), staging, channelsInBounds);
    }
    if (outputView) {
      buildLoops(
          b, loc, {index(count)}, {1}, ValueRange{},
          [&](ValueRange ivs, ValueRange) {
            RegisterBlock block = at(ivs[0]);
            SmallVector<Value> accs =
                computeBlock(block, inputBuffer, weightBuffer);
            int64_t nr = block.blocks.size();
            for (auto [t, acc] : llvm::enumerate(accs)) {
              Value channel = arith::MulIOp::create(
                  b, loc, block.blocks[t % nr], index(kAmxColumns));
              SmallVector<Value> at{block.starts[t / nr], channel};
              if (!flat)
                at.insert(at.begin(), {block.outN, block.outOhs[t / nr]});
              amx::TileStoreOp::create(b, loc, outputView, at, acc);
            }
            return scf::ValueVector{};
          });
      return into;
    }
    Value stored =
        buildLoops(b, loc, {index(count)}, {1}, ValueRange{into},
                   [&](ValueRange ivs, ValueRange iterArgs) {
                     Value j = ivs[0];
                     SmallVector<Value> accs =
                         computeBlock(at(j), inputBuffer, weightBuffer);
                     Value notFirst = arith::CmpIOp::create(
                         b, loc, arith::CmpIPredicate::ne, j, zero);
                     auto storePrevious = scf::IfOp::create(
                         b, loc, notFirst,
                         [&](OpBuilder &tb, Location tloc) {
                           OpBuilder::InsertionGuard guard(b);
                           b.setInsertionPoint(tb.getInsertionBlock(),
                                               tb.getInsertionPoint());
                           RegisterBlock previous =
                               at(arith::SubIOp::create(b, loc, j, index(1)));
                           scf::YieldOp::create(b, tloc,
                                                storeBlock(iterArgs[0],
                                                           previous, staging,
                                                           channelsInBounds));
                         },
                         [&](OpBuilder &eb, Location eloc) {
                           scf::YieldOp::create(eb, eloc, iterArgs[0]);
                         });
                     stageBlock(accs, staging);
                     return scf::ValueVector{storePrevious.getResult(0)};
                   })
            .results.front();
    return storeBlock(stored, at(index(count - 1)), staging, channelsInBounds);
  }

  /// Offsets and sizes of a task's slice of the output.
  using Slice = std::pair<SmallVector<OpFoldResult>, SmallVector<OpFoldResult>>;

  /// An scf.forall over `counts` whose iterations each store the slice
  /// `slice(ivs)` of `target`: `body(into, ivs, staging)` writes the
  /// extracted slice `into`, with stack buffers of its own. With direct
  /// stores the tasks store into the output buffer (no `into`, no stack
  /// buffers) and `target` is returned.
  Value buildTasks(Value target, ArrayRef<OpFoldResult> counts,
                   function_ref<Slice(ValueRange)> slice,
                   function_ref<Value(Value, ValueRange, Value)> body) {
    OpBuilder &b = kernel.b;
    Location loc = kernel.loc;
    if (outputBuffer) {
      // Tasks store into the output buffer at their own coordinates.
      auto forall =
          scf::ForallOp::create(b, loc, counts, ValueRange{}, std::nullopt);
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(forall.getBody());
      body(Value(), forall.getInductionVars(), Value());
      return target;
    }
    auto forall =
        scf::ForallOp::create(b, loc, counts, ValueRange{target}, std::nullopt);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(forall.getBody());
    SmallVector<Value> ivs(forall.getInductionVars());
    auto [offsets, sizes] = slice(ivs);
    SmallVector<OpFoldResult> strides(offsets.size(), b.getIndexAttr(1));
    Value shared = forall.getRegionIterArgs()[0];
    Value into =
        tensor::ExtractSliceOp::create(b, loc, shared, offsets, sizes, strides);
    Value done = body(into, ivs, createStaging(forall.getBody()));
    b.setInsertionPointToStart(forall.getTerminator().getBody());
    tensor::ParallelInsertSliceOp::create(b, loc, done, shared, offsets, sizes,
                                          strides);
    return forall.getResult(0);
  }

  /// The slice of all pixels and the `groupChannels` channels of channel
  /// group `cg` (fewer in the last group unless `evenGroups`).
  Slice channelSlice(Value cg, int64_t groupChannels, bool evenGroups,
                     ArrayRef<OpFoldResult> sizes) {
    OpBuilder &b = kernel.b;
    Location loc = kernel.loc;
    Value c0 = arith::MulIOp::create(b, loc, cg, index(groupChannels));
    OpFoldResult count =
        evenGroups
            ? OpFoldResult(b.getIndexAttr(groupChannels))
            : OpFoldResult(
                  arith::MinUIOp::create(
                      b, loc, index(groupChannels),
                      arith::SubIOp::create(b, loc, index(channelsOut()), c0))
                      .getResult());
    OpFoldResult zero = b.getIndexAttr(0);
    return Slice{{zero, zero, zero, c0}, {sizes[0], sizes[1], sizes[2], count}};
  }

  /// `index` split into digits of the mixed radix `radices` (the last the
  /// fastest).
  SmallVector<Value> delinearize(Value index, ArrayRef<int64_t> radices) {
    OpBuilder &b = kernel.b;
    Location loc = kernel.loc;
    SmallVector<Value> digits(radices.size());
    for (int64_t d = radices.size() - 1; d >= 0; --d) {
      digits[d] = d == 0 ? index
                         : arith::RemUIOp::create(b, loc, index,
                                                  this->index(radices[d]));
      if (d > 0)
        index = arith::DivUIOp::create(b, loc, index, this->index(radices[d]));
    }
    return digits;
  }

  /// The conv2d into `target` (`[N, OH, OW, CO]`, sizes `sizes`), serial or
  /// with `parallel` scf.forall tasks that each store their own slice.
  Value build(Operation *op, Value target, ArrayRef<OpFoldResult> sizes,
              bool parallel) {
    OpBuilder &b = kernel.b;
    Location loc = kernel.loc;
    Type i8 = b.getI8Type();
    auto weightType = cast<RankedTensorType>(weights.getType());
    auto toBuffer = [&](Value codes) -> Value {
      auto type = cast<RankedTensorType>(codes.getType());
      return bufferization::ToBufferOp::create(
          b, loc, MemRefType::get(type.getShape(), i8), codes,
          /*read_only=*/true);
    };
    // Row phases (stride-2 wrapped rows) come instead of the input.
    Value inputBuffer = input ? toBuffer(input) : Value();
    Value weightBuffer = bufferization::ToBufferOp::create(
        b, loc, MemRefType::get(weightType.getShape(), i8), weights,
        /*read_only=*/true);
    int64_t mr = this->mr(), nr = this->nr();
    int64_t channelBlocks = this->channelBlocks();
    int64_t batch = initType.getDimSize(0), height = this->height();
    // Groups of nr channel blocks, and of mr pixel blocks of a row.
    int64_t channelGroups = llvm::divideCeil(channelBlocks, nr);
    Value zero = index(0);
    OpFoldResult one = b.getIndexAttr(1), zeroAttr = b.getIndexAttr(0);
    bool channelsInBounds =
        channelsOut() % kAmxColumns == 0 && channelBlocks % nr == 0;

    // The channel blocks of group cg (clamped).
    auto blocksOf = [&](Value cg) {
      Value nb0 = arith::MulIOp::create(b, loc, cg, index(nr));
      SmallVector<Value> blocks;
      for (int64_t q = 0; q < nr; ++q)
        blocks.push_back(clamp(nb0, q, channelBlocks - 1));
      return blocks;
    };
    auto firstBlock = [&](Value cg) {
      return arith::MulIOp::create(b, loc, cg, index(nr)).getResult();
    };
    auto blocks = [&](Value into, int64_t count,
                      function_ref<RegisterBlock(Value)> at, bool inBounds,
                      Value staging) {
      return buildBlocks(into, count, at, inBounds, inputBuffer, weightBuffer,
                         staging);
    };

    // The stored result: the tensor the stores wrote, or the output
    // buffer's.
    if (storesDirectly()) {
      auto bufferType = MemRefType::get(initType.getShape(), b.getI32Type());
      outputBuffer =
          memref::AllocOp::create(b, loc, bufferType, b.getI64IntegerAttr(64));
      outputView = outputBuffer;
    }
    bool direct = outputBuffer != nullptr;
    auto result = [&](Value stored) -> Value {
      if (!direct)
        return stored;
      return bufferization::ToTensorOp::create(b, loc, initType, outputBuffer,
                                               /*restrict=*/true,
                                               /*writable=*/true);
    };

    if (flat) {
      // Blocks of mr tiles of 16 pixels (the last tile starting at
      // N * OH * OW - 16) x nr channel blocks; with threads, tasks of
      // pixel groups over all channel groups.
      SmallVector<ReassociationIndices> pixelsAndChannels{{0, 1, 2}, {3}};
      if (inputBuffer)
        inputBuffer = memref::CollapseShapeOp::create(b, loc, inputBuffer,
                                                      pixelsAndChannels);
      outputView = memref::CollapseShapeOp::create(b, loc, outputBuffer,
                                                   pixelsAndChannels);
      int64_t pixelBlocks = this->pixelBlocks();
      int64_t pixelGroups = llvm::divideCeil(pixelBlocks, mr);
      int64_t lastStart = pixels() - kAmxRows;
      auto flatBlock = [&](Value pg, Value cg) {
        RegisterBlock block;
        Value pb0 = arith::MulIOp::create(b, loc, pg, index(mr));
        for (int64_t p = 0; p < mr; ++p)
          block.starts.push_back(arith::MinUIOp::create(
              b, loc,
              arith::MulIOp::create(b, loc, clamp(pb0, p, pixelBlocks - 1),
                                    index(kAmxRows)),
              index(lastStart)));
        block.blocks = blocksOf(cg);
        block.nbOut = firstBlock(cg);
        return block;
      };
      // Weights past a core's cache: channel groups outer, each block of
      // weights read once (packedInput is then unset); with threads, a task
      // per channel group.
      bool channelsOuter = streamsWeights(weights);
      // Pixel groups [first, first + count) decoded by the kernel, each
      // once, then its channel groups, with the buffer of decoded pixels at
      // the start of `allocaBlock`. With few channel groups per pixel group
      // (C3: 2, C5: 4) group g + 1 is decoded into the other half of the
      // buffer before group g is read: a tile load waits until the stores
      // of the bytes it reads are written to the cache, and those wait
      // behind the previous group's tile stores (C3 A2W2 0.025 -> 0.021
      // ms, C5 0.0104 -> 0.0101). With 8 or more (C8, C11) one buffer was
      // 3-5% faster.
      auto decodedGroups = [&](Block *allocaBlock, Value first, Value count,
                               int64_t maxCount) {
        bool twoHalves = channelGroups <= 4 && maxCount > 1;
        lhsCodes = createLhsCodes(allocaBlock, twoHalves ? 2 : 1);
        lhsCodesRow = zero;
        int64_t halfRows = mr * kAmxRows;
        if (twoHalves)
          decodeBlockPixels(flatBlock(first, zero), zero);
        buildLoops(
            b, loc, {count}, {1}, ValueRange{},
            [&](ValueRange ivs, ValueRange) {
              Value group = arith::AddIOp::create(b, loc, first, ivs[0]);
              if (!twoHalves) {
                decodeBlockPixels(flatBlock(group, zero), zero);
              } else {
                Value half = arith::RemUIOp::create(b, loc, ivs[0], index(2));
                lhsCodesRow =
                    arith::MulIOp::create(b, loc, half, index(halfRows));
                Value hasNext = arith::CmpIOp::create(
                    b, loc, arith::CmpIPredicate::ult,
                    arith::AddIOp::create(b, loc, ivs[0], index(1)), count);
                buildIf(hasNext, [&] {
                  decodeBlockPixels(
                      flatBlock(arith::AddIOp::create(b, loc, group, index(1)),
                                zero),
                      arith::SubIOp::create(b, loc, index(halfRows),
                                            lhsCodesRow));
                });
              }
              blocks(
                  Value(), channelGroups,
                  [&](Value cg) { return flatBlock(group, cg); },
                  channelsInBounds, Value());
              return scf::ValueVector{};
            });
      };
      if (packedInput && !parallel) {
        decodedGroups(getAllocaBlock(op), zero, index(pixelGroups),
                      pixelGroups);
        return result(target);
      }
      if (packedInput) {
        // Tasks of about pixelGroups / 16 consecutive pixel groups: threads
        // share out 16 tasks evenly, and each runs its groups pipelined.
        int64_t perTask = llvm::divideCeil(pixelGroups, 16);
        int64_t tasks = llvm::divideCeil(pixelGroups, perTask);
        return result(buildTasks(
            target, {b.getIndexAttr(tasks)},
            [&](ValueRange) { return Slice{}; },
            [&](Value, ValueRange ivs, Value) {
              Value first =
                  arith::MulIOp::create(b, loc, ivs[0], index(perTask));
              Value count = arith::MinUIOp::create(
                  b, loc, index(perTask),
                  arith::SubIOp::create(b, loc, index(pixelGroups), first));
              decodedGroups(b.getInsertionBlock(), first, count, perTask);
              return Value();
            }));
      }
      int64_t outer = channelsOuter ? channelGroups : pixelGroups;
      int64_t inner = channelsOuter ? pixelGroups : channelGroups;
      // The block of outer group i and inner group j.
      auto flatBlockOf = [&](Value i, Value j) {
        return channelsOuter ? flatBlock(j, i) : flatBlock(i, j);
      };
      if (!parallel) {
        return result(blocks(
            target, outer * inner,
            [&](Value j) {
              SmallVector<Value> at = delinearize(j, {outer, inner});
              return flatBlockOf(at[0], at[1]);
            },
            channelsInBounds, Value()));
      }
      return result(buildTasks(
          target, {b.getIndexAttr(outer)}, [&](ValueRange) { return Slice{}; },
          [&](Value into, ValueRange ivs, Value staging) {
            return blocks(
                into, inner, [&](Value j) { return flatBlockOf(ivs[0], j); },
                channelsInBounds, staging);
          }));
    }

    if (wrapWidth) {
      // Blocks of mr tiles of 16 positions of an image x nr channel blocks,
      // channel groups outer (their weights stay cached); with threads, a
      // task per channel group. Rows through the stack buffers into an
      // output buffer (a tensor through the per-row conditions would take
      // bufferization exponential time).
      SmallVector<ReassociationIndices> rowsJoined{{0}, {1, 2}, {3}};
      if (inputBuffer)
        inputBuffer =
            memref::CollapseShapeOp::create(b, loc, inputBuffer, rowsJoined);
      for (Value phase : phaseInputs)
        phaseBuffers.push_back(memref::CollapseShapeOp::create(
            b, loc, toBuffer(phase), rowsJoined));
      outputBuffer = memref::AllocOp::create(
          b, loc,
          MemRefType::get(initType.getShape(), initType.getElementType()),
          b.getI64IntegerAttr(64));
      int64_t pixelBlocks = this->pixelBlocks();
      int64_t pixelGroups = llvm::divideCeil(pixelBlocks, mr);
      auto wrappedBlock = [&](Value n, Value pg, Value cg) {
        RegisterBlock block;
        block.n = n;
        block.outN = n;
        Value pb0 = arith::MulIOp::create(b, loc, pg, index(mr));
        for (int64_t p = 0; p < mr; ++p)
          block.starts.push_back(arith::MulIOp::create(
              b, loc, clamp(pb0, p, pixelBlocks - 1), index(kAmxRows)));
        block.blocks = blocksOf(cg);
        block.nbOut = firstBlock(cg);
        return block;
      };
      if (!parallel) {
        blocks(
            Value(), channelGroups * batch * pixelGroups,
            [&](Value j) {
              SmallVector<Value> at =
                  delinearize(j, {channelGroups, batch, pixelGroups});
              return wrappedBlock(at[1], at[2], at[0]);
            },
            channelsInBounds, createStaging(getAllocaBlock(op)));
      } else if (weightType.getNumElements() <= kAmxRowTaskWeightBytes &&
                 batch * pixelGroups > 1) {
        // Tasks of positions over all channel groups where the weights fit
        // a core's cache: each task reads about the input rows its thread
        // decoded (C10 on 2 threads: 0.030 ms against 0.042 with channel
        // tasks, whose threads read all rows, half of them from the other
        // core's cache).
        buildTasks(
            target, {b.getIndexAttr(batch), b.getIndexAttr(pixelGroups)},
            [&](ValueRange) { return Slice{}; },
            [&](Value, ValueRange ivs, Value) {
              mlir::Block *body = b.getInsertionBlock();
              return blocks(
                  Value(), channelGroups,
                  [&](Value cg) { return wrappedBlock(ivs[0], ivs[1], cg); },
                  channelsInBounds, createStaging(body));
            });
      } else {
        // buildTasks' stack buffers are for staged tensors: these tasks
        // make their own.
        buildTasks(
            target, {b.getIndexAttr(channelGroups)},
            [&](ValueRange) { return Slice{}; },
            [&](Value, ValueRange ivs, Value) {
              mlir::Block *body = b.getInsertionBlock();
              return blocks(
                  Value(), batch * pixelGroups,
                  [&](Value j) {
                    SmallVector<Value> at =
                        delinearize(j, {batch, pixelGroups});
                    return wrappedBlock(at[0], at[1], ivs[0]);
                  },
                  channelsInBounds, createStaging(body));
            });
      }
      return bufferization::ToTensorOp::create(b, loc, initType, outputBuffer,
                                               /*restrict=*/true,
                                               /*writable=*/true);
    }

    if (!rowPairs()) {
      // Wide rows: blocks of mr pixel blocks (the last block of a row
      // starting at OW - pixelBlock, repeating pixels of the one before) x
      // nr channel blocks; rows outer, a task per row with threads.
      int64_t pixelBlocks = this->pixelBlocks();
      int64_t pixelGroups = llvm::divideCeil(pixelBlocks, mr);
      int64_t lastStart = width() - pixelBlock();
      auto rowBlock = [&](Value n, Value oh, Value outN, Value outOh, Value pg,
                          Value cg) {
        RegisterBlock block;
        block.n = n;
        block.outN = outN;
        block.ohs.assign(mr, oh);
        block.outOhs.assign(mr, outOh);
        Value pb0 = arith::MulIOp::create(b, loc, pg, index(mr));
        for (int64_t p = 0; p < mr; ++p)
          block.starts.push_back(arith::MinUIOp::create(
              b, loc,
              arith::MulIOp::create(b, loc, clamp(pb0, p, pixelBlocks - 1),
                                    index(pixelBlock())),
              index(lastStart)));
        block.blocks = blocksOf(cg);
        block.nbOut = firstBlock(cg);
        return block;
      };
      if (!parallel) {
        Value done = blocks(
            target, batch * height * pixelGroups * channelGroups,
            [&](Value j) {
              SmallVector<Value> at =
                  delinearize(j, {batch, height, pixelGroups, channelGroups});
              return rowBlock(at[0], at[1], at[0], at[1], at[2], at[3]);
            },
            channelsInBounds,
            direct ? Value() : createStaging(getAllocaBlock(op)));
        return result(done);
      }
      Value done = buildTasks(
          target, {sizes[0], sizes[1]},
          [&](ValueRange ivs) {
            return Slice{{ivs[0], ivs[1], zeroAttr, zeroAttr},
                         {one, one, sizes[2], sizes[3]}};
          },
          [&](Value into, ValueRange ivs, Value staging) {
            return blocks(
                into, pixelGroups * channelGroups,
                [&](Value j) {
                  SmallVector<Value> at =
                      delinearize(j, {pixelGroups, channelGroups});
                  return direct ? rowBlock(ivs[0], ivs[1], ivs[0], ivs[1],
                                           at[0], at[1])
                                : rowBlock(ivs[0], ivs[1], zero, zero, at[0],
                                           at[1]);
                },
                channelsInBounds, staging);
          });
      return result(done);
    }

    // Rows of one pixel block: blocks of a pair of rows (the second
    // clamped: an odd OH computes its last row twice) x nr channel blocks.
    int64_t rowPairs = llvm::divideCeil(height, 2);
    auto pairBlock = [&](Value n, Value oh0, Value outN, Value outOh0,
                         Value outOh1, Value cg, Value nbOut) {
      RegisterBlock block;
      block.n = n;
      block.outN = outN;
      block.ohs = {oh0, clamp(oh0, 1, height - 1)};
      block.starts.assign(2, zero);
      block.outOhs = {outOh0, outOh1};
      block.blocks = blocksOf(cg);
      block.nbOut = nbOut;
      return block;
    };
    auto pairStart = [&](Value pair) {
      return arith::MulIOp::create(b, loc, pair, index(2)).getResult();
    };

    // With threads, a task per pair of rows over all channel blocks where
    // the weights fit a core's cache (C7, C9, C10 on 2 threads: 0.034,
    // 0.052, 0.057 ms against 0.051, 0.069, 0.074 with channel tasks), else
    // a task per channel group (C12, 2.4 MB of weights: 0.091 against 0.16).
    if (parallel && weightType.getNumElements() <= kAmxRowTaskWeightBytes) {
      // Rows oh0 and oh0 + 1 (the last task of an odd OH: oh0 only). An odd
      // number of pairs splits each pair's channel groups in two halves,
      // so that two threads get as many tasks (C9, 7 pairs on 2 threads:
      // 0.050 -> 0.041 ms).
      int64_t halfChannels = channelsOut() / 2;
      int64_t halves =
          (batch * rowPairs) % 2 == 1 && halfChannels % (nr * kAmxColumns) == 0
              ? 2
              : 1;
      int64_t taskGroups = channelGroups / halves;
      SmallVector<OpFoldResult> counts{sizes[0], b.getIndexAttr(rowPairs)};
      if (halves > 1)
        counts.push_back(b.getIndexAttr(halves));
      Value oh0, count;
      return buildTasks(
          target, counts,
          [&](ValueRange ivs) {
            oh0 = pairStart(ivs[1]);
            count = arith::MinUIOp::create(
                b, loc, index(2),
                arith::SubIOp::create(b, loc, index(height), oh0));
            if (halves == 1)
              return Slice{{ivs[0], oh0, zeroAttr, zeroAttr},
                           {one, count, sizes[2], sizes[3]}};
            Value c0 =
                arith::MulIOp::create(b, loc, ivs[2], index(halfChannels));
            return Slice{{ivs[0], oh0, zeroAttr, c0},
                         {one, count, sizes[2], b.getIndexAttr(halfChannels)}};
          },
          [&](Value into, ValueRange ivs, Value staging) {
            Value outOh1 = arith::SubIOp::create(b, loc, count, index(1));
            Value cg0 = halves == 1 ? zero
                                    : arith::MulIOp::create(b, loc, ivs[2],
                                                            index(taskGroups))
                                          .getResult();
            return blocks(
                into, taskGroups,
                [&](Value cg) {
                  return pairBlock(ivs[0], oh0, zero, zero, outOh1,
                                   arith::AddIOp::create(b, loc, cg0, cg),
                                   firstBlock(cg));
                },
                channelsInBounds, staging);
          });
    }

    // Channel groups outer (their weights stay cached), pairs of rows
    // inside.
    if (!parallel) {
      return blocks(
          target, channelGroups * batch * rowPairs,
          [&](Value j) {
            SmallVector<Value> at =
                delinearize(j, {channelGroups, batch, rowPairs});
            Value oh0 = pairStart(at[2]);
            return pairBlock(at[1], oh0, at[1], oh0, clamp(oh0, 1, height - 1),
                             at[0], firstBlock(at[0]));
          },
          channelsInBounds, createStaging(getAllocaBlock(op)));
    }
    // Each task's slice holds its channels: nr * 16 of them, fewer in the
    // last task when CO is not a multiple (stored masked).
    int64_t groupChannels = nr * kAmxColumns;
    bool evenGroups = channelsOut() % groupChannels == 0;
    return buildTasks(
        target, {b.getIndexAttr(channelGroups)},
        [&](ValueRange ivs) {
          return channelSlice(ivs[0], groupChannels, evenGroups, sizes);
        },
        [&](Value into, ValueRange ivs, Value staging) {
          return blocks(
              into, batch * rowPairs,
              [&](Value j) {
                SmallVector<Value> at = delinearize(j, {batch, rowPairs});
                Value oh0 = pairStart(at[1]);
                return pairBlock(at[0], oh0, at[0], oh0,
                                 clamp(oh0, 1, height - 1), ivs[0], zero);
              },
              evenGroups, staging);
        });
  }
};
} // namespace

//===----------------------------------------------------------------------===//
// Patterns
//===----------------------------------------------------------------------===//

namespace {
/// What both patterns share: the kernel choice, the fold of an empty output
/// and the kernel with its intrinsic declared; `lower` builds the rest and
/// replaces `op`.
template <typename OpTy> struct X86Int8Pattern : public OpRewritePattern<OpTy> {
  X86Int8Pattern(MLIRContext *ctx, X86Int8Instruction instruction,
                 int64_t minBitProduct, bool narrowProducts, bool parallel,
                 int64_t minParallelMacs)
      : OpRewritePattern<OpTy>(ctx), instruction(instruction),
        minBitProduct(minBitProduct), narrowProducts(narrowProducts),
        parallel(parallel), minParallelMacs(minParallelMacs) {}

  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const final {
    if (!prefersX86Int8DotProduct(op, instruction, minBitProduct,
                                  narrowProducts))
      return rewriter.notifyMatchFailure(op, "bit-serial is preferred");
    // No outputs: the result is `init` (and no slice of it is valid).
    if (llvm::is_contained(op.getInit().getType().getShape(), 0)) {
      rewriter.replaceOp(op, op.getInit());
      return success();
    }
    X86Plan plan =
        planFor(instruction, getPackedLayout(op->getOperand(0).getType()),
                getPackedLayout(op->getOperand(1).getType()), narrowProducts,
                isPadded(op));
    DotKernel kernel{rewriter, op.getLoc(), instruction, plan};
    if (!kernel.amx() &&
        (failed(declareIntrinsic(rewriter, op, kernel.intrinsic(),
                                 kernel.intrinsicType())) ||
         (kernel.narrow() &&
          failed(declareIntrinsic(rewriter, op, kernel.widenIntrinsic(),
                                  kernel.widenIntrinsicType())))))
      return rewriter.notifyMatchFailure(op, "cannot declare the intrinsic");
    lower(op, kernel, rewriter);
    return success();
  }

  virtual void lower(OpTy op, DotKernel &kernel,
                     PatternRewriter &rewriter) const = 0;

  /// Whether `op`'s kernel gets an scf.forall: with `parallel`, unless its
  /// static multiply-accumulates are too few to pay for a fork (a 7 x 7 x
  /// 64 3 x 3 layer, 1.8 M, took 0.029 ms on 2 threads against 0.020 ms on
  /// 1).
  bool runsInParallel(OpTy op) const {
    return parallel && hasParallelWork(op, minParallelMacs);
  }

  X86Int8Instruction instruction;
  int64_t minBitProduct;
  bool narrowProducts;
  bool parallel;
  int64_t minParallelMacs;
};

struct MatmulToX86Int8 : public X86Int8Pattern<MatmulOp> {
  using X86Int8Pattern::X86Int8Pattern;

  /// The i8 tensor whose bytes are the lhs codes, when the lhs is packed
  /// straight from one at 8 bits, its codes are its values (no offset or
  /// scale) and no lhs row sums are needed.
  static Value getDirectLhsCodes(MatmulOp op, Int8Operand a, Int8Operand c) {
    auto pack = op.getLhs().getDefiningOp<PackOp>();
    if (!pack || c.offset != 0 || a.offset != 0 || a.scale != 1)
      return {};
    PackedLayoutAttr layout = op.getLhsLayout();
    bool asIs = layout.getEncoding() == Encoding::Unsigned ? a.isUnsigned
                : layout.getEncoding() == Encoding::Signed ? !a.isUnsigned
                                                           : false;
    if (layout.getBits() != 8 || !asIs ||
        !pack.getInput().getType().getElementType().isInteger(8))
      return {};
    return pack.getInput();
  }

  /// The rhs re-laid out as the kernel's weights `[NB, groups, lanes *
  /// group]`, folded at compile time where it is a constant. Its codes (in
  /// `rhs`) are decoded for their row sums only with an lhs offset.
  static Value buildWeights(MatmulOp op, DotKernel &kernel,
                            PatternRewriter &rewriter, DecodedOperand &rhs) {
    PackedLayoutAttr rhsLayout = op.getRhsLayout();
    Int8Operand a = kernel.plan.lhs;
    if (a.offset == 0)
      if (Value weights = kernel.foldWeights(op.getRhs(), rhsLayout))
        return weights;
    rhs = decodePacked(rewriter, op.getLoc(), op.getRhs(), rhsLayout,
                       kernel.plan.rhs, /*rowMultiple=*/1, CodeLayout::rows(),
                       op.getInit().getType().getElementType(),
                       /*needRowSum=*/a.offset != 0, /*padding=*/{},
                       kernel.decodeLanes());
    return kernel.relayoutWeights(rhs.x, op.getLhsLayout().getLength());
  }

  /// A matmul on AMX tiles: the 1 x 1 convolution of one row of M pixels
  /// (`[1, 1, M, K]` x `[N, 1, 1, K]` into `[1, 1, M, N]`) that AmxConv
  /// computes, then the offsets' corrections as for vpdpbusd.
  void lowerOnTiles(MatmulOp op, DotKernel &kernel,
                    PatternRewriter &rewriter) const {
    Location loc = op.getLoc();
    PackedLayoutAttr lhsLayout = op.getLhsLayout();
    Int8Operand a = kernel.plan.lhs, c = kernel.plan.rhs;
    Value init = op.getInit();
    auto initType = cast<RankedTensorType>(init.getType());
    Type resultType = initType.getElementType();
    int64_t rows = initType.getDimSize(0);
    int64_t length = lhsLayout.getLength();
    auto convType =
        RankedTensorType::get({1, 1, rows, initType.getDimSize(1)}, resultType);
    // [M, N] as [1, 1, M, N]; [R, P, W] as [1, 1, R, P, W] (packed words,
    // weight blocks).
    SmallVector<ReassociationIndices> rowsAsPixels{{0, 1, 2}, {3}};
    SmallVector<ReassociationIndices> rowsAsPixelsOf3D{{0, 1, 2}, {3}, {4}};
    auto asPixels = [&](Value matrix, ArrayRef<ReassociationIndices> dims) {
      auto type = cast<RankedTensorType>(matrix.getType());
      SmallVector<int64_t> shape{1, 1};
      llvm::append_range(shape, type.getShape());
      return tensor::ExpandShapeOp::create(
          rewriter, loc, RankedTensorType::get(shape, type.getElementType()),
          matrix, dims);
    };
    // An init is added after the kernel (see AmxConv::initType).
    Value target;
    bool readInit;
    std::tie(target, readInit) = getStoreTarget(rewriter, loc, init);
    if (readInit)
      target = tensor::EmptyOp::create(rewriter, loc, initType.getShape(),
                                       resultType);
    target = asPixels(target, rowsAsPixels);

    // The weights as a filter `[NB, 1, 1, groups, 64]`.
    DecodedOperand rhs;
    Value weights = buildWeights(op, kernel, rewriter, rhs);
    auto blocksType = cast<RankedTensorType>(weights.getType());
    weights = tensor::ExpandShapeOp::create(
        rewriter, loc,
        RankedTensorType::get({blocksType.getDimSize(0), 1, 1,
                               blocksType.getDimSize(1),
                               blocksType.getDimSize(2)},
                              blocksType.getElementType()),
        weights, rowsAsPixelsOf3D);

    static constexpr int64_t kUnit[] = {1, 1};
    bool flat = AmxConv::takesFlatPixels(kernel, 1, 1, kUnit, /*padded=*/false,
                                         convType);
    // The kernel decodes flat pixels itself (not where the lhs row sums are
    // needed).
    bool decodesInKernel =
        flat && c.offset == 0 && AmxConv::decodesInKernel(op.getLhs(), weights);
    DecodedOperand lhs;
    Value input;
    if (!decodesInKernel) {
      lhs = decodePacked(rewriter, loc, op.getLhs(), lhsLayout, a,
                         /*rowMultiple=*/1, CodeLayout::rows(), resultType,
                         /*needRowSum=*/c.offset != 0, /*padding=*/{},
                         kernel.decodeLanes());
      input = asPixels(lhs.x, rowsAsPixels);
    }
    AmxConv amx{kernel, input, weights, kUnit, kUnit, 1, 1, length, convType};
    amx.flat = flat;
    if (decodesInKernel) {
      auto lhsType = cast<RankedTensorType>(op.getLhs().getType());
      Value words = tensor::CastOp::create(
          rewriter, loc,
          RankedTensorType::get(lhsType.getShape(), lhsType.getElementType()),
          op.getLhs());
      amx.readPackedPixels(asPixels(words, rowsAsPixelsOf3D), lhsLayout, a);
    }
    SmallVector<OpFoldResult> sizes =
        getAsIndexOpFoldResult(rewriter.getContext(), convType.getShape());
    Value result = tensor::CollapseShapeOp::create(
        rewriter, loc, initType,
        amx.build(op, target, sizes, runsInParallel(op)), rowsAsPixels);
    if (readInit)
      result = buildOffsetEpilogue(rewriter, loc, Int8Operand(), Int8Operand(),
                                   init, result, Value(), AffineMap(), Value(),
                                   AffineMap(), length);
    if (a.offset != 0 || c.offset != 0) {
      MLIRContext *ctx = rewriter.getContext();
      result = buildOffsetEpilogue(
          rewriter, loc, a, c, result, Value(), lhs.rowSum,
          AffineMap::get(2, 0, getAffineDimExpr(0, ctx)), rhs.rowSum,
          AffineMap::get(2, 0, getAffineDimExpr(1, ctx)), length);
    }
    rewriter.replaceOp(op, result);
  }

  void lower(MatmulOp op, DotKernel &kernel,
             PatternRewriter &rewriter) const override {
    if (kernel.amx())
      return lowerOnTiles(op, kernel, rewriter);
    Location loc = op.getLoc();
    PackedLayoutAttr lhsLayout = op.getLhsLayout();
    const X86Plan &plan = kernel.plan;

    Value init = op.getInit();
    auto initType = cast<RankedTensorType>(init.getType());
    Type resultType = initType.getElementType();
    bool batched = initType.getRank() == 3;
    bool lhsBatched = op.getLhs().getType().getRank() == 4;
    int64_t length = lhsLayout.getLength();
    Int8Operand a = plan.lhs, c = plan.rhs;
    // 8-bit lhs codes straight from a pack's i8 input are its bytes: the
    // kernel reads them in place (no decoded, K-padded copy of the matrix)
    // and masks the reads of the last group past K.
    Value lhsValues = getDirectLhsCodes(op, a, c);
    DecodedOperand lhs;
    if (lhsValues)
      lhs.x = lhsValues;
    else
      lhs = decodePacked(rewriter, loc, op.getLhs(), lhsLayout, a,
                         /*rowMultiple=*/1, CodeLayout::rows(), resultType,
                         /*needRowSum=*/c.offset != 0, /*padding=*/{},
                         kernel.decodeLanes());
    DecodedOperand rhs;
    Value weights = buildWeights(op, kernel, rewriter, rhs);

    SmallVector<OpFoldResult> sizes =
        tensor::getMixedSizes(rewriter, loc, init);
    unsigned first = batched ? 1 : 0;
    Value blocks = tensor::DimOp::create(rewriter, loc, weights, 0);
    int64_t staticN = initType.getDimSize(first + 1);
    int64_t staticBlocks = ShapedType::isDynamic(staticN)
                               ? ShapedType::kDynamic
                               : llvm::divideCeil(staticN, kernel.lanes());
    int64_t nr, mr;
    std::tie(nr, mr) = kernel.block(staticBlocks);
    bool channelsInBounds = !ShapedType::isDynamic(staticN) &&
                            staticN % kernel.lanes() == 0 &&
                            staticBlocks % nr == 0;
    int64_t staticM = initType.getDimSize(first);
    if (!ShapedType::isDynamic(staticM) && staticM > 0)
      mr = llvm::divideCeil(staticM, llvm::divideCeil(staticM, mr));
    int64_t group = kernel.group();
    int64_t reduction = llvm::divideCeil(length, group) * group;
    // Groups read in bounds; with direct lhs codes the last partial group
    // is a masked step after the loop.
    int64_t inBoundsReduction = lhsValues ? length / group * group : reduction;

    Value target;
    bool readInit;
    std::tie(target, readInit) = getStoreTarget(rewriter, loc, init);
    // Rows [rowOffset, rowOffset + rowCount) of batch `bi`, stored at rows
    // [0, rowCount) of batch `outBatch` of `into` (the output or a slice).
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
            Value zero = arith::ConstantOp::create(
                rewriter, loc, rewriter.getZeroAttr(kernel.accType()));
            SmallVector<Value> inits(mr * nr, zero);
            auto step = [&](Value k, ValueRange accs, bool inBounds) {
              Value kb =
                  arith::DivUIOp::create(rewriter, loc, k, kernel.index(group));
              SmallVector<Value> lhsCodes;
              for (int64_t i = 0; i < mr; ++i) {
                SmallVector<Value> at;
                if (lhsBatched)
                  at.push_back(bi);
                at.append({lhsRow[i], k});
                lhsCodes.push_back(kernel.broadcastCodes(lhs.x, at, inBounds));
              }
              return kernel.multiplyBlock(
                  accs, lhsCodes, weights, nr, [&](int64_t j) {
                    return SmallVector<Value>{blockIndex[j], kb,
                                              kernel.index(0)};
                  });
            };
            scf::ValueVector accs(inits.begin(), inits.end());
            // Steps over [begin, end) of K into `from`.
            auto stepLoop = [&](Value begin, Value end, ValueRange from) {
              return buildLoops(rewriter, loc, {end}, {group}, from,
                                [&](ValueRange kivs, ValueRange accs) {
                                  return step(kivs[0], accs, /*inBounds=*/true);
                                },
                                {begin})
                  .results;
            };
            if (inBoundsReduction > 0 && !kernel.narrow()) {
              accs = stepLoop(kernel.index(0), kernel.index(inBoundsReduction),
                              inits);
            } else if (inBoundsReduction > 0) {
              // Chunks of at most narrowSteps steps into i16 sums, each
              // widened into the i32 accumulators.
              int64_t steps = inBoundsReduction / group;
              int64_t chunks = llvm::divideCeil(steps, kernel.plan.narrowSteps);
              int64_t chunkLength = llvm::divideCeil(steps, chunks) * group;
              auto chunk = [&](Value begin, Value end, ValueRange wide) {
                return kernel.widen(
                    wide, stepLoop(begin, end, kernel.zeroStepAccs(mr * nr)));
              };
              if (chunks == 1)
                accs = chunk(kernel.index(0), kernel.index(inBoundsReduction),
                             inits);
              else
                accs =
                    buildLoops(
                        rewriter, loc, {kernel.index(chunks)}, {1}, inits,
                        [&](ValueRange civs, ValueRange wide) {
                          Value begin =
                              arith::MulIOp::create(rewriter, loc, civs[0],
                                                    kernel.index(chunkLength));
                          Value end = arith::MinUIOp::create(
                              rewriter, loc,
                              arith::AddIOp::create(rewriter, loc, begin,
                                                    kernel.index(chunkLength)),
                              kernel.index(inBoundsReduction));
                          return chunk(begin, end, wide);
                        })
                        .results;
            }
            if (inBoundsReduction < reduction) {
              if (kernel.narrow())
                accs = kernel.widen(accs, step(kernel.index(inBoundsReduction),
                                               kernel.zeroStepAccs(mr * nr),
                                               /*inBounds=*/false));
              else
                accs = step(kernel.index(inBoundsReduction), accs,
                            /*inBounds=*/false);
            }
            Value written = kernel.storeBlock(
                iterArgs[0], accs, mr, nr,
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
    if (a.offset != 0 || c.offset != 0) {
      MLIRContext *ctx = rewriter.getContext();
      int64_t rank = initType.getRank();
      auto rowMap = [&](bool operandBatched, unsigned dim) {
        SmallVector<AffineExpr> exprs;
        if (operandBatched)
          exprs.push_back(getAffineDimExpr(0, ctx));
        exprs.push_back(getAffineDimExpr(dim, ctx));
        return AffineMap::get(rank, 0, exprs, ctx);
      };
      result =
          buildOffsetEpilogue(rewriter, loc, a, c, result, Value(), lhs.rowSum,
                              rowMap(lhsBatched, first), rhs.rowSum,
                              rowMap(false, first + 1), length);
    }
    auto pack = op.getLhs().getDefiningOp<PackOp>();
    rewriter.replaceOp(op, result);
    // A pack read in place is dead now (unless something else uses it).
    if (lhsValues && pack->use_empty())
      rewriter.eraseOp(pack);
  }
};

/// Rows `firstRow`, `firstRow + strides[0]`, ... (`rows` of them) and
/// columns 0, `strides[1]`, ... (`columns`) of the packed conv input
/// `packed` (`[N, H, W, planes, words]`, static): a strided slice, so that
/// only those pixels are decoded.
static Value slicePixels(OpBuilder &b, Location loc, Value packed,
                         int64_t firstRow, int64_t rows, int64_t columns,
                         ArrayRef<int64_t> strides) {
  auto type = cast<RankedTensorType>(packed.getType());
  SmallVector<int64_t> shape(type.getShape());
  shape[1] = rows;
  shape[2] = columns;
  SmallVector<int64_t> offsets(shape.size(), 0);
  offsets[1] = firstRow;
  MLIRContext *ctx = b.getContext();
  return tensor::ExtractSliceOp::create(
      b, loc,
      RankedTensorType::get(shape, type.getElementType(), type.getEncoding()),
      packed, getAsIndexOpFoldResult(ctx, offsets),
      getAsIndexOpFoldResult(ctx, shape),
      getAsIndexOpFoldResult(ctx, {1, strides[0], strides[1], 1, 1}));
}

/// conv2d directly over the taps of the decoded, zero-padded input: blocks
/// of output pixels of one row x vectors of output channels, reducing over
/// (kh, kw, channel groups).
struct Conv2DToX86Int8 : public X86Int8Pattern<Conv2DOp> {
  using X86Int8Pattern::X86Int8Pattern;

  void lower(Conv2DOp op, DotKernel &kernel,
             PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    PackedLayoutAttr inputLayout = op.getInputLayout();
    PackedLayoutAttr filterLayout = op.getFilterLayout();
    const X86Plan &plan = kernel.plan;
    SmallVector<int64_t> strides(op.getStrides());
    ArrayRef<int64_t> dilations = op.getDilations();
    Value init = op.getInit();
    auto initType = cast<RankedTensorType>(init.getType());
    Type resultType = initType.getElementType();
    auto filterType = cast<RankedTensorType>(op.getFilter().getType());
    int64_t kh = filterType.getDimSize(1), kw = filterType.getDimSize(2);
    int64_t channels = inputLayout.getLength();
    Int8Operand a = plan.lhs, c = plan.rhs;
    Value target;
    bool readInit;
    std::tie(target, readInit) = getStoreTarget(rewriter, loc, init);
    // The AMX kernel computes the products alone, and init is added after
    // it (see AmxConv::initType).
    bool addsInitAfter = kernel.amx() && readInit;
    if (addsInitAfter) {
      target = tensor::EmptyOp::create(
          rewriter, loc, tensor::getMixedSizes(rewriter, loc, init),
          resultType);
      readInit = false;
    }

    // A strided 1 x 1 convolution without padding reads only the pixels
    // (oh * sh, ow * sw): those are decoded (a strided slice of the packed
    // input), and the rest is a convolution of stride 1.
    Value packedInput = op.getInput();
    auto packedInputType = cast<RankedTensorType>(packedInput.getType());
    if (kh == 1 && kw == 1 && !isPadded(op) &&
        (strides[0] != 1 || strides[1] != 1) &&
        packedInputType.hasStaticShape() && initType.hasStaticShape()) {
      packedInput =
          slicePixels(rewriter, loc, packedInput, /*firstRow=*/0,
                      initType.getDimSize(1), initType.getDimSize(2), strides);
      strides.assign({1, 1});
    }
    bool flatAmx =
        kernel.amx() && AmxConv::takesFlatPixels(kernel, kh, kw, strides,
                                                 isPadded(op), initType);

    // x [N, H + pads, W + pads, Cx] with x = 0 around it (with threads,
    // decoded by rows in parallel, in the kernel's parallel region once the
    // pipeline merges them); the filter [CO, KH, KW, Cx] re-laid out as
    // [COB, KH, KW, Cg / g, lanes * g].
    bool parallelRows = runsInParallel(op);
    SmallVector<int64_t> padding(op.getPadding());
    // AMX tiles always take 16 pixels (one tile shape for the function:
    // LLVM gives each tile register one shape): rows narrower than that
    // read zeros past their end, which the kernel does not store.
    // Wrapped tiles (AmxConv::wrappedWidth) read rows of zeros below the
    // image instead.
    int64_t wrapWidth = 0, wrapStride = strides[0];
    Value input;
    SmallVector<Value> phaseInputs;
    if (kernel.amx() && !flatAmx) {
      auto inputType = cast<RankedTensorType>(packedInput.getType());
      int64_t height = inputType.getDimSize(1);
      int64_t paddedWidth = inputType.getDimSize(2) + padding[2] + padding[3];
      wrapWidth =
          AmxConv::wrappedWidth(paddedWidth, strides, dilations, initType);
      // Stride 2: the even and odd padded rows' phases, each with its own
      // top and bottom padding (no filter offset: its window sums read the
      // whole input).
      if (wrapWidth && wrapStride == 2 && (c.offset != 0 || height < 2))
        wrapWidth = 0;
      if (wrapWidth) {
        int64_t positions =
            (initType.getDimSize(1) - 1) * wrapWidth + initType.getDimSize(2);
        int64_t rows = AmxConv::wrappedInputRows(positions, wrapWidth,
                                                 wrapStride, kh, kw, dilations);
        if (wrapStride == 1) {
          int64_t paddedHeight = height + padding[0] + padding[1];
          padding[1] += std::max<int64_t>(0, rows - paddedHeight);
        } else {
          for (int64_t phase = 0; phase < 2; ++phase) {
            // Padded rows 2 a + phase: `top` of padding, then input rows
            // first, first + 2, ...
            int64_t top = padding[0] > phase ? (padding[0] - phase + 1) / 2 : 0;
            int64_t first = 2 * top + phase - padding[0];
            int64_t count = llvm::divideCeil(height - first, 2);
            Value rowsOfPhase =
                slicePixels(rewriter, loc, packedInput, first, count,
                            inputType.getDimSize(2), {2, 1});
            int64_t bottom = std::max<int64_t>(0, rows - top - count);
            int64_t right = padding[3] + 2 * wrapWidth - paddedWidth;
            phaseInputs.push_back(
                decodePacked(rewriter, loc, rowsOfPhase, inputLayout, a,
                             /*rowMultiple=*/1, CodeLayout::rows(), resultType,
                             /*needRowSum=*/false,
                             {top, bottom, padding[2], right},
                             kernel.decodeLanes(), parallelRows)
                    .x);
          }
        }
      } else {
        int64_t tileWidth = (kAmxRows - 1) * strides[1] +
                            (filterType.getDimSize(2) - 1) * dilations[1] + 1;
        padding[3] += std::max<int64_t>(0, tileWidth - paddedWidth);
      }
    }
    // The filter's codes are needed for its sums only with an input offset.
    Value filter, weights;
    auto buildWeights = [&] {
      if (a.offset == 0)
        weights = kernel.foldWeights(op.getFilter(), filterLayout);
      if (weights)
        return;
      filter = decodePacked(rewriter, loc, op.getFilter(), filterLayout, c,
                            /*rowMultiple=*/1, CodeLayout::rows(), resultType,
                            /*needRowSum=*/false, /*padding=*/{},
                            kernel.decodeLanes())
                   .x;
      weights = kernel.relayoutWeights(filter, channels);
    };
    // Flat AMX pixels are decoded by the kernel, a register block at a
    // time (not with a filter offset: its window sums read the input; not
    // with weights past a core's cache, so those come first).
    if (flatAmx)
      buildWeights();
    bool decodesInKernel = flatAmx && c.offset == 0 &&
                           AmxConv::decodesInKernel(packedInput, weights);
    if (phaseInputs.empty() && !decodesInKernel)
      input = decodePacked(rewriter, loc, packedInput, inputLayout, a,
                           /*rowMultiple=*/1, CodeLayout::rows(), resultType,
                           /*needRowSum=*/false, padding, kernel.decodeLanes(),
                           parallelRows)
                  .x;
    if (!weights)
      buildWeights();
    int64_t group = kernel.group();
    int64_t channelGroups = llvm::divideCeil(channels, group);

    SmallVector<OpFoldResult> sizes =
        tensor::getMixedSizes(rewriter, loc, init);
    Value outWidth = getValueOrCreateConstantIndexOp(rewriter, loc, sizes[2]);
    Value blocks = tensor::DimOp::create(rewriter, loc, weights, 0);
    int64_t staticCo = initType.getDimSize(3);
    int64_t staticBlocks = ShapedType::isDynamic(staticCo)
                               ? ShapedType::kDynamic
                               : llvm::divideCeil(staticCo, kernel.lanes());
    int64_t nr, mr;
    std::tie(nr, mr) = kernel.block(staticBlocks);
    // As many blocks per row as needed, evened out: rows of 7 pixels take
    // 4 + 4 (one repeated) rather than 6 + 6 (five repeated).
    int64_t staticWidth = initType.getDimSize(2);
    if (!ShapedType::isDynamic(staticWidth) && staticWidth > 0)
      mr = llvm::divideCeil(staticWidth, llvm::divideCeil(staticWidth, mr));
    bool channelsInBounds = !ShapedType::isDynamic(staticCo) &&
                            staticCo % kernel.lanes() == 0 &&
                            staticBlocks % nr == 0;

    // Output row (n, oh), stored at row (outN, outOh) of `into` (the output
    // or a one-row slice of it).
    auto buildRow = [&](Value into, Value n, Value oh, Value outN,
                        Value outOh) -> Value {
      scf::LoopNest nest = buildLoops(
          rewriter, loc, {outWidth, blocks}, {mr, nr}, ValueRange{into},
          [&](ValueRange ivs, ValueRange iterArgs) {
            Value ow0 = ivs[0], nb0 = ivs[1];
            // Pixels past the row repeat the last one (the same values are
            // stored twice); channel vectors past CO are masked off.
            SmallVector<Value> pixelIndex;
            for (int64_t p = 0; p < mr; ++p)
              pixelIndex.push_back(minIndex(rewriter, loc, ow0, p, outWidth));
            SmallVector<Value> blockIndex;
            for (int64_t j = 0; j < nr; ++j)
              blockIndex.push_back(minIndex(rewriter, loc, nb0, j, blocks));
            Value zero = arith::ConstantOp::create(
                rewriter, loc, rewriter.getZeroAttr(kernel.accType()));
            SmallVector<Value> inits(mr * nr, zero);
            auto tap = [&](Value i, Value j, Value ch, ValueRange accs) {
              Value row = arith::AddIOp::create(
                  rewriter, loc,
                  arith::MulIOp::create(rewriter, loc, oh,
                                        kernel.index(strides[0])),
                  arith::MulIOp::create(rewriter, loc, i,
                                        kernel.index(dilations[0])));
              Value tapColumn = arith::MulIOp::create(
                  rewriter, loc, j, kernel.index(dilations[1]));
              Value cb = arith::DivUIOp::create(rewriter, loc, ch,
                                                kernel.index(group));
              SmallVector<Value> lhsCodes;
              for (int64_t p = 0; p < mr; ++p) {
                Value column = arith::AddIOp::create(
                    rewriter, loc,
                    arith::MulIOp::create(rewriter, loc, pixelIndex[p],
                                          kernel.index(strides[1])),
                    tapColumn);
                lhsCodes.push_back(kernel.broadcastCodes(
                    input, ValueRange{n, row, column, ch}));
              }
              return kernel.multiplyBlock(
                  accs, lhsCodes, weights, nr, [&](int64_t q) {
                    return SmallVector<Value>{blockIndex[q], i, j, cb,
                                              kernel.index(0)};
                  });
            };
            Value channelEnd = kernel.index(channelGroups * group);
            scf::ValueVector reduced;
            if (!kernel.narrow()) {
              reduced =
                  buildLoops(rewriter, loc,
                             {kernel.index(kh), kernel.index(kw), channelEnd},
                             {1, 1, group}, inits,
                             [&](ValueRange tivs, ValueRange accs) {
                               return tap(tivs[0], tivs[1], tivs[2], accs);
                             })
                      .results;
            } else {
              // The innermost levels of (kh, kw, channel groups) whose
              // steps number at most narrowSteps run into i16 sums, widened
              // after them; more channel groups than that go in chunks.
              int64_t limit = kernel.plan.narrowSteps;
              int64_t wideLevels = channelGroups * kw * kh <= limit ? 0
                                   : channelGroups * kw <= limit    ? 1
                                                                    : 2;
              int64_t chunks = llvm::divideCeil(channelGroups, limit);
              int64_t chunkLength =
                  llvm::divideCeil(channelGroups, chunks) * group;
              auto narrowPart = [&](ValueRange outer, ValueRange wide) {
                SmallVector<Value> ubs, lbs;
                SmallVector<int64_t> stepSizes;
                if (wideLevels == 0) {
                  ubs = {kernel.index(kh), kernel.index(kw), channelEnd};
                  stepSizes = {1, 1, group};
                } else if (wideLevels == 1) {
                  ubs = {kernel.index(kw), channelEnd};
                  stepSizes = {1, group};
                } else if (chunks == 1) {
                  ubs = {channelEnd};
                  stepSizes = {group};
                } else {
                  Value begin = arith::MulIOp::create(
                      rewriter, loc, outer[2], kernel.index(chunkLength));
                  lbs = {begin};
                  ubs = {arith::MinUIOp::create(
                      rewriter, loc,
                      arith::AddIOp::create(rewriter, loc, begin,
                                            kernel.index(chunkLength)),
                      channelEnd)};
                  stepSizes = {group};
                }
                scf::ValueVector sums =
                    buildLoops(
                        rewriter, loc, ubs, stepSizes,
                        kernel.zeroStepAccs(mr * nr),
                        [&](ValueRange tivs, ValueRange accs) {
                          SmallVector<Value> ivs(outer.begin(),
                                                 outer.begin() + wideLevels);
                          ivs.append(tivs.begin(), tivs.end());
                          return tap(ivs[0], ivs[1], ivs[2], accs);
                        },
                        lbs)
                        .results;
                return kernel.widen(wide, sums);
              };
              if (wideLevels == 0) {
                reduced = narrowPart({}, inits);
              } else {
                SmallVector<Value> ubs{kernel.index(kh)};
                if (wideLevels == 2)
                  ubs.append({kernel.index(kw), kernel.index(chunks)});
                reduced = buildLoops(rewriter, loc, ubs,
                                     SmallVector<int64_t>(ubs.size(), 1), inits,
                                     narrowPart)
                              .results;
              }
            }
            Value written = kernel.storeBlock(
                iterArgs[0], reduced, mr, nr,
                [&](int64_t p) {
                  return SmallVector<Value>{outN, outOh, pixelIndex[p]};
                },
                nb0, channelsInBounds, readInit);
            return scf::ValueVector{written};
          });
      return nest.results.front();
    };

    Value result;
    if (kernel.amx()) {
      AmxConv amx{kernel, input, weights,  strides, dilations,
                  kh,     kw,    channels, initType};
      amx.flat = flatAmx;
      amx.wrapWidth = wrapWidth;
      amx.wrapStride = wrapWidth ? wrapStride : 1;
      amx.phaseInputs = phaseInputs;
      if (decodesInKernel)
        amx.readPackedPixels(packedInput, inputLayout, a);
      result = amx.build(op, target, sizes, parallelRows);
      if (addsInitAfter)
        result = buildOffsetEpilogue(
            rewriter, loc, Int8Operand(), Int8Operand(), init, result, Value(),
            AffineMap(), Value(), AffineMap(), kh * kw * channels);
    } else {
      result =
          buildConvRows(rewriter, loc, target, sizes, parallelRows, buildRow);
    }

    // Offsets: the input's window sums (filter offset) and the filter's
    // sums (input offset, never with padding), both of x.
    if (a.offset != 0 || c.offset != 0) {
      MLIRContext *ctx = rewriter.getContext();
      Value inputSums, filterSums;
      if (c.offset != 0)
        inputSums =
            buildInputWindowSums(rewriter, loc, input, a, channels, kh, kw,
                                 strides, dilations, initType, sizes);
      if (a.offset != 0)
        filterSums = buildFilterSums(rewriter, loc, filter, c, channels, kh, kw,
                                     initType, sizes[3]);
      AffineExpr d[4];
      for (unsigned e = 0; e < 4; ++e)
        d[e] = getAffineDimExpr(e, ctx);
      result = buildOffsetEpilogue(
          rewriter, loc, a, c, result, Value(), inputSums,
          AffineMap::get(4, 0, {d[0], d[1], d[2]}, ctx), filterSums,
          AffineMap::get(4, 0, {d[3]}, ctx), kh * kw * channels);
    }
    rewriter.replaceOp(op, result);
  }
};
} // namespace

void mlir::bitserial::populateBitserialToX86Int8Patterns(
    RewritePatternSet &patterns, X86Int8Instruction instruction,
    int64_t minBitProduct, bool narrowProducts, bool parallel,
    int64_t minParallelMacs) {
  patterns.add<MatmulToX86Int8, Conv2DToX86Int8>(
      patterns.getContext(), instruction, minBitProduct, narrowProducts,
      parallel, minParallelMacs);
}

//===----------------------------------------------------------------------===//
// Pass
//===----------------------------------------------------------------------===//

namespace {
struct ConvertBitserialToX86Int8Pass
    : public bitserial::impl::ConvertBitserialToX86Int8Base<
          ConvertBitserialToX86Int8Pass> {
  using Base::Base;

  void runOnOperation() override {
    std::optional<X86Int8Instruction> parsed =
        parseX86Int8Instruction(instruction);
    if (!parsed) {
      emitError(getOperation()->getLoc())
          << "unknown instruction '" << instruction.getValue()
          << "' (expected avx512-vnni, avx-vnni, avx2, avx512bw or amx)";
      return signalPassFailure();
    }
    if (minBitProduct < 0) {
      emitError(getOperation()->getLoc())
          << "min-bit-product must be at least 0, got "
          << minBitProduct.getValue();
      return signalPassFailure();
    }
    if (minParallelMacs < 0) {
      emitError(getOperation()->getLoc())
          << "min-parallel-macs must be at least 0, got "
          << minParallelMacs.getValue();
      return signalPassFailure();
    }
    RewritePatternSet patterns(&getContext());
    populateBitserialToX86Int8Patterns(patterns, *parsed, minBitProduct,
                                       narrowProducts, parallel,
                                       minParallelMacs);
    walkAndApplyPatterns(getOperation(), std::move(patterns));
  }
};
} // namespace
