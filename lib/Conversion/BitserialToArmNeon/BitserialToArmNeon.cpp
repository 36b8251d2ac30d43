//===- BitserialToArmNeon.cpp - Int8 dot-product lowering of bitserial ----===//
//
// Rewrites a bitserial.matmul or conv2d whose activation bits x weight bits
// make bit-serial slower than an int8 GEMM (docs/design.md) into: decode
// both operands to i8 (`value = scale * x + offset`) with vector code, an
// i8 x i8 -> i32 GEMM (a direct convolution over the taps for conv2d) on
// tensors with AArch64 dot-product (sdot/udot) or i8mm (smmla/ummla/usmmla)
// instructions, and an epilogue that adds the offsets' sums and `init`.
//
//===----------------------------------------------------------------------===//

#include "Bitserial/Conversion/BitserialToArmNeon/BitserialToArmNeon.h"
#include "Bitserial/Conversion/BitserialToInt8/Int8Lowering.h"
#include "Bitserial/IR/BitserialOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ArmNeon/ArmNeonDialect.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/Utils/Utils.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Transforms/WalkPatternRewriteDriver.h"

namespace mlir::bitserial {
#define GEN_PASS_DEF_CONVERTBITSERIALTOARMNEON
#include "Bitserial/Conversion/Passes.h.inc"
} // namespace mlir::bitserial

using namespace mlir;
using namespace mlir::bitserial;
using namespace mlir::bitserial::int8;

/// Values of K per i32 chunk of an i64 result: 16384 * 255 * 255 < 2^31, so
/// no lane or 2x2 element of the chunk wraps, whatever the instruction.
static constexpr int64_t kChunk = 16384;

/// sdot/udot by lane: output channels per block (4 vectors of 4) and values
/// of K per lane of the broadcast operand.
static constexpr int64_t kLaneChannels = 16;
static constexpr int64_t kLaneGroup = 4;

/// MLIR 22 has no arm_neon op for udot, and `llvm.call_intrinsic` has
/// unknown memory effects, which the buffer deallocation pipeline rejects.
/// A call of a private function named after the intrinsic is a plain call
/// until LLVM IR, where the name makes it the intrinsic.
static constexpr llvm::StringLiteral kUdot =
    "llvm.aarch64.neon.udot.v4i32.v16i8";

static FunctionType getUdotType(MLIRContext *ctx) {
  auto i32x4 = VectorType::get({4}, IntegerType::get(ctx, 32));
  auto i8x16 = VectorType::get({16}, IntegerType::get(ctx, 8));
  return FunctionType::get(ctx, {i32x4, i8x16, i8x16}, {i32x4});
}

/// Declares the udot intrinsic in the module of `op`; fails if the name is
/// taken by something else.
static LogicalResult declareUdot(RewriterBase &rewriter, Operation *op) {
  auto module = op->getParentOfType<ModuleOp>();
  if (!module)
    return failure();
  FunctionType type = getUdotType(rewriter.getContext());
  if (Operation *existing = module.lookupSymbol(kUdot)) {
    auto function = dyn_cast<func::FuncOp>(existing);
    return success(function && function.isDeclaration() &&
                   function.getFunctionType() == type);
  }
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPointToStart(module.getBody());
  auto function = func::FuncOp::create(rewriter, op->getLoc(), kUdot, type);
  function.setPrivate();
  return success();
}

//===----------------------------------------------------------------------===//
// Selection rule
//===----------------------------------------------------------------------===//

int64_t mlir::bitserial::getMinBitProduct(
    const ConvertBitserialToArmNeonOptions &options) {
  if (options.minBitProduct > 0)
    return options.minBitProduct;
  // Neoverse-N1 by the cost model (benchmarks/aarch64_model.py, ResNet-18
  // C2-C12, constant filters): at 2 x 2 bits int8 wins every layer (C2
  // 3.76 ms against 5.22 bit-serial), at 2 x 1 bits it loses every layer
  // (C2 3.76 against 2.64). With i8mm (a Neoverse-N2 model) int8 wins
  // every layer at 2 x 1 bits (C2 2.03 ms against 2.66, C3 0.354 against
  // 0.385) and loses at 1 x 1 (C12 1.86 against 1.17).
  return options.i8mm ? 2 : 4;
}

//===----------------------------------------------------------------------===//
// Operand representation
//===----------------------------------------------------------------------===//

namespace {
enum class Instruction { Sdot, Udot, Smmla, Ummla, Usmmla };

/// The choice for one matmul.
struct Int8Plan {
  Int8Operand lhs, rhs;
  Instruction instruction;
  /// usmmla takes the unsigned operand first: the rhs when set.
  bool swap = false;
  bool isMmla() const {
    return instruction == Instruction::Smmla ||
           instruction == Instruction::Ummla ||
           instruction == Instruction::Usmmla;
  }
  /// The operands of mmla are pairs of rows.
  CodeLayout pairsOrRows() const {
    return isMmla() ? CodeLayout::rowPairs() : CodeLayout::rows();
  }
};
} // namespace

/// The encoding maps to u8: unsigned values as is, 8-bit bipolar values v
/// as (v + 255) / 2.
static bool mapsToU8(PackedLayoutAttr layout) {
  return layout.getEncoding() == Encoding::Unsigned ||
         (layout.getEncoding() == Encoding::Bipolar && layout.getBits() == 8);
}

static Int8Plan planMatmul(PackedLayoutAttr lhs, PackedLayoutAttr rhs,
                           bool i8mm) {
  Int8Plan plan;
  if (fitsS8(lhs) && fitsS8(rhs)) {
    plan.lhs = asSigned(lhs);
    plan.rhs = asSigned(rhs);
    plan.instruction = i8mm ? Instruction::Smmla : Instruction::Sdot;
  } else if (mapsToU8(lhs) && mapsToU8(rhs)) {
    plan.lhs = asUnsigned(lhs);
    plan.rhs = asUnsigned(rhs);
    plan.instruction = i8mm ? Instruction::Ummla : Instruction::Udot;
  } else if (i8mm) {
    // One operand only maps to u8, the other only fits s8.
    plan.swap = !mapsToU8(lhs);
    plan.lhs = plan.swap ? asSigned(lhs) : asUnsigned(lhs);
    plan.rhs = plan.swap ? asUnsigned(rhs) : asSigned(rhs);
    plan.instruction = Instruction::Usmmla;
  } else {
    // No mixed-sign dot product without i8mm: shift the u8 operand to s8
    // and add the shift back through row sums.
    plan.lhs = asSigned(lhs);
    plan.rhs = asSigned(rhs);
    plan.instruction = Instruction::Sdot;
  }
  return plan;
}

bool mlir::bitserial::canLowerToArmNeonInt8(
    Operation *op, const ConvertBitserialToArmNeonOptions &options) {
  if (!options.dotProduct && !options.i8mm)
    return false;
  PackedLayoutAttr lhs, rhs;
  if (auto matmul = dyn_cast<MatmulOp>(op)) {
    lhs = matmul.getLhsLayout();
    rhs = matmul.getRhsLayout();
  } else if (auto conv = dyn_cast<Conv2DOp>(op)) {
    lhs = conv.getInputLayout();
    rhs = conv.getFilterLayout();
    // The tap loops need static kernel extents.
    auto filterType = cast<RankedTensorType>(conv.getFilter().getType());
    if (filterType.isDynamicDim(1) || filterType.isDynamicDim(2))
      return false;
    // i64 results: the whole reduction in one i32 chunk.
    if (lhs && !conv.getInit().getType().getElementType().isInteger(32) &&
        filterType.getDimSize(1) * filterType.getDimSize(2) *
                llvm::divideCeil(lhs.getLength(), 16) * 16 >
            kChunk)
      return false;
    // Padding (the value 0) must be x = 0: not for 8-bit bipolar inputs, nor
    // 8-bit unsigned ones shifted to s8.
    if (lhs && rhs &&
        llvm::any_of(conv.getPadding(), [](int64_t p) { return p != 0; }) &&
        planMatmul(lhs, rhs, options.i8mm).lhs.offset != 0)
      return false;
  }
  return lhs && rhs;
}

bool mlir::bitserial::prefersInt8DotProduct(
    Operation *op, const ConvertBitserialToArmNeonOptions &options) {
  // Without dot products (Cortex-A53 class) bit-serial always wins.
  if (!canLowerToArmNeonInt8(op, options))
    return false;
  // The user's choice, then bitserial-select-kernels', then the rule.
  if (std::optional<bool> annotated = getAnnotatedInt8Choice(op))
    return *annotated;
  PackedLayoutAttr lhs = getPackedLayout(op->getOperand(0).getType());
  PackedLayoutAttr rhs = getPackedLayout(op->getOperand(1).getType());
  return int64_t(lhs.getBits()) * rhs.getBits() >= getMinBitProduct(options);
}

//===----------------------------------------------------------------------===//
// The GEMM
//===----------------------------------------------------------------------===//

namespace {
/// Builds S[b?, Mp, Np] = sum_k xA[b?, m, k] * xB[b?, n, k] in the result
/// type, blocks of rows x cols outputs at a time. With `byLane` (sdot/udot)
/// xB is decoded as channel blocks (CodeLayout::channelBlocks: `[Np / 16,
/// Kx / 4, 16]` of i32 words of 4 codes), each 4 values of K of an lhs row
/// are broadcast from one
/// lane against 16 channels, and the accumulators hold 4 channels each;
/// otherwise each accumulator is one output whose lanes are summed at the
/// end (`addv`), or a 2x2 tile of `mmla`.
struct GemmBuilder {
  OpBuilder &b;
  Location loc;
  const Int8Plan &plan;
  Value xa, xb;
  bool lhsBatched, rhsBatched, batched;
  int64_t paddedLength;
  Type resultType;
  bool byLane = false;

  int64_t rows() const { return 4; }
  int64_t cols() const { return plan.isMmla() || byLane ? kLaneChannels : 4; }
  int64_t kStep() const { return plan.isMmla() ? 8 : 16; }
  int64_t numAccumulators() const {
    return plan.isMmla() || byLane ? rows() * cols() / 4 : rows() * cols();
  }

  Value index(int64_t value) { return constantIndex(b, loc, value); }

  /// The 16 bytes operand `x` gives for row (or pair of rows) `r` at `k`.
  Value load(Value x, bool operandBatched, Value batch, Value r, Value k) {
    SmallVector<Value> indices;
    if (operandBatched)
      indices.push_back(batch);
    if (plan.isMmla())
      indices.append(
          {r, arith::DivUIOp::create(b, loc, k, index(8)), index(0)});
    else
      indices.append({r, k});
    auto type = VectorType::get({16}, b.getI8Type());
    Value zero = constantInt(b, loc, b.getI8Type(), 0);
    return vector::TransferReadOp::create(b, loc, type, x, indices, zero,
                                          ArrayRef<bool>{true});
  }

  /// The 4 bytes of lane `lane` of `x` (16 bytes) in every lane: the
  /// indexed operand of sdot/udot by lane.
  Value broadcastLane(Value x, int64_t lane) {
    auto words = VectorType::get({4}, b.getI32Type());
    Value asWords = vector::BitCastOp::create(b, loc, words, x);
    Value splat = vector::ShuffleOp::create(b, loc, asWords, asWords,
                                            SmallVector<int64_t>(4, lane));
    return vector::BitCastOp::create(b, loc, x.getType(), splat);
  }

  /// The 16 bytes of channels [4v, 4v + 4) of channel block `block`, values
  /// of K [4g, 4g + 4), of channel blocks `x` (`[blocks, mids..., groups,
  /// 16]` of i32 words of 4 codes) at `mids`.
  Value loadChannels(Value x, Value block, ValueRange mids, Value g,
                     int64_t v) {
    SmallVector<Value> indices{block};
    indices.append(mids.begin(), mids.end());
    indices.append({g, index(v * 4)});
    auto type = VectorType::get({4}, b.getI32Type());
    Value zero = constantInt(b, loc, b.getI32Type(), 0);
    Value words = vector::TransferReadOp::create(b, loc, type, x, indices, zero,
                                                 ArrayRef<bool>{true});
    return vector::BitCastOp::create(
        b, loc, VectorType::get({16}, b.getI8Type()), words);
  }

  /// One step of 16 values of K by lane: `lhs` holds each row's 16 bytes at
  /// K = 4 * g0, `channels(l, v)` the channel vector v at group g0 + l.
  SmallVector<Value>
  multiplyByLane(ValueRange accs, ArrayRef<Value> lhs,
                 function_ref<Value(int64_t, int64_t)> channels) {
    int64_t vectors = kLaneChannels / 4;
    SmallVector<Value> next(accs);
    for (int64_t l = 0; l < 16 / kLaneGroup; ++l) {
      SmallVector<Value> weights;
      for (int64_t v = 0; v < vectors; ++v)
        weights.push_back(channels(l, v));
      for (auto [i, row] : llvm::enumerate(lhs)) {
        Value broadcast = broadcastLane(row, l);
        for (int64_t v = 0; v < vectors; ++v)
          next[i * vectors + v] =
              multiplyAccumulate(next[i * vectors + v], weights[v], broadcast);
      }
    }
    return next;
  }

  Value multiplyAccumulate(Value acc, Value lhs, Value rhs) {
    Type type = acc.getType();
    switch (plan.instruction) {
    case Instruction::Sdot:
      return arm_neon::SdotOp::create(b, loc, type, acc, lhs, rhs);
    case Instruction::Udot:
      return func::CallOp::create(b, loc, kUdot, TypeRange{type},
                                  ValueRange{acc, lhs, rhs})
          .getResult(0);
    case Instruction::Smmla:
      return arm_neon::SmmlaOp::create(b, loc, type, acc, lhs, rhs);
    case Instruction::Ummla:
      return arm_neon::UmmlaOp::create(b, loc, type, acc, lhs, rhs);
    case Instruction::Usmmla:
      if (plan.swap)
        return arm_neon::UsmmlaOp::create(b, loc, type, acc, rhs, lhs);
      return arm_neon::UsmmlaOp::create(b, loc, type, acc, lhs, rhs);
    }
    llvm_unreachable("unknown instruction");
  }

  /// The i32 sums of the block at (m0, n0) over K in [kBegin, kEnd), one per
  /// output, row-major.
  SmallVector<Value> sumRange(Value batch, Value m0, Value n0, Value kBegin,
                              Value kEnd) {
    auto accType = VectorType::get({4}, b.getI32Type());
    Value zero = arith::ConstantOp::create(b, loc, b.getZeroAttr(accType));
    SmallVector<Value> inits(numAccumulators(), zero);
    bool mmla = plan.isMmla();
    // Operand rows (or pairs of rows) of the block.
    int64_t lhsUnits = mmla ? rows() / 2 : rows();
    int64_t rhsUnits = mmla ? cols() / 2 : cols();
    Value lhsBase = m0, rhsBase = n0;
    if (mmla) {
      lhsBase = arith::DivUIOp::create(b, loc, m0, index(2));
      rhsBase = arith::DivUIOp::create(b, loc, n0, index(2));
    }
    auto loop = scf::ForOp::create(
        b, loc, kBegin, kEnd, index(kStep()), inits,
        [&](OpBuilder &lb, Location lloc, Value k, ValueRange accs) {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPoint(lb.getInsertionBlock(), lb.getInsertionPoint());
          if (byLane) {
            SmallVector<Value> lhs;
            for (int64_t i = 0; i < rows(); ++i)
              lhs.push_back(load(xa, lhsBatched, batch,
                                 arith::AddIOp::create(b, loc, m0, index(i)),
                                 k));
            Value block =
                arith::DivUIOp::create(b, loc, n0, index(kLaneChannels));
            Value g0 = arith::DivUIOp::create(b, loc, k, index(kLaneGroup));
            scf::YieldOp::create(
                b, loc, multiplyByLane(accs, lhs, [&](int64_t l, int64_t v) {
                  return loadChannels(
                      xb, block, {},
                      arith::AddIOp::create(b, loc, g0, index(l)), v);
                }));
            return;
          }
          SmallVector<Value> lhs, rhs;
          for (int64_t i = 0; i < lhsUnits; ++i)
            lhs.push_back(load(xa, lhsBatched, batch,
                               arith::AddIOp::create(b, loc, lhsBase, index(i)),
                               k));
          for (int64_t j = 0; j < rhsUnits; ++j)
            rhs.push_back(load(xb, rhsBatched, batch,
                               arith::AddIOp::create(b, loc, rhsBase, index(j)),
                               k));
          SmallVector<Value> next;
          for (int64_t i = 0; i < lhsUnits; ++i)
            for (int64_t j = 0; j < rhsUnits; ++j)
              next.push_back(
                  multiplyAccumulate(accs[i * rhsUnits + j], lhs[i], rhs[j]));
          scf::YieldOp::create(b, loc, next);
        });

    return reduceTile(loop.getResults());
  }

  /// `parts` (vectors of one type, a power of two of them) concatenated.
  Value concatenate(SmallVector<Value> parts) {
    while (parts.size() > 1) {
      SmallVector<Value> joined;
      for (size_t p = 0; p < parts.size(); p += 2) {
        int64_t width =
            2 * cast<VectorType>(parts[p].getType()).getNumElements();
        joined.push_back(vector::ShuffleOp::create(
            b, loc, parts[p], parts[p + 1],
            llvm::to_vector(llvm::seq<int64_t>(0, width))));
      }
      parts = std::move(joined);
    }
    return parts.front();
  }

  /// The i32 sums of the accumulators: one vector of cols() per row.
  SmallVector<Value> reduceTile(ValueRange accs) {
    auto rowType = VectorType::get({cols()}, b.getI32Type());
    SmallVector<Value> rowVectors;
    if (byLane) {
      // Row i's accumulators hold channels [4v, 4v + 4): concatenate them.
      int64_t vectors = kLaneChannels / 4;
      for (int64_t i = 0; i < rows(); ++i)
        rowVectors.push_back(
            concatenate(SmallVector<Value>(accs.slice(i * vectors, vectors))));
      return rowVectors;
    }
    if (plan.isMmla()) {
      // 2x2 tiles, row-major: element (r, c) is src1 row r . src2 row c
      // (usmmla with the operands swapped gives the transposed tile). Rows
      // 2i and 2i + 1 take two lanes of each tile (i, j), four per
      // shuffle of two tiles.
      int64_t lhsUnits = rows() / 2, rhsUnits = cols() / 2;
      for (int64_t i = 0; i < lhsUnits; ++i) {
        for (int64_t h = 0; h < 2; ++h) {
          SmallVector<int64_t> lanes =
              plan.swap ? SmallVector<int64_t>{h, h + 2, h + 4, h + 6}
                        : SmallVector<int64_t>{2 * h, 2 * h + 1, 2 * h + 4,
                                               2 * h + 5};
          SmallVector<Value> parts;
          for (int64_t j = 0; j < rhsUnits; j += 2)
            parts.push_back(
                vector::ShuffleOp::create(b, loc, accs[i * rhsUnits + j],
                                          accs[i * rhsUnits + j + 1], lanes));
          rowVectors.push_back(concatenate(parts));
        }
      }
      return rowVectors;
    }
    SmallVector<Value> sums(rows() * cols());
    for (int64_t i = 0; i < rows(); ++i)
      for (int64_t j = 0; j < cols(); ++j)
        sums[i * cols() + j] = vector::ReductionOp::create(
            b, loc, vector::CombiningKind::ADD, accs[i * cols() + j]);
    for (int64_t i = 0; i < rows(); ++i)
      rowVectors.push_back(vector::FromElementsOp::create(
          b, loc, rowType, ArrayRef(sums).slice(i * cols(), cols())));
    return rowVectors;
  }

  /// The rows x cols block of `rowVectors` (one vector per row).
  Value blockOf(ArrayRef<Value> rowVectors) {
    auto rowType = cast<VectorType>(rowVectors.front().getType());
    auto type =
        VectorType::get({int64_t(rowVectors.size()), rowType.getNumElements()},
                        rowType.getElementType());
    Value block = arith::ConstantOp::create(b, loc, b.getZeroAttr(type));
    for (auto [i, row] : llvm::enumerate(rowVectors))
      block = vector::InsertOp::create(b, loc, row, block, int64_t(i));
    return block;
  }

  /// `block` times `scale`, plus the block of `init` at `at` if set.
  Value scaleAndAccumulate(Value block, Value init, ValueRange at,
                           int64_t scale) {
    auto type = cast<VectorType>(block.getType());
    if (scale != 1)
      block = arith::MulIOp::create(
          b, loc, block,
          arith::ConstantOp::create(
              b, loc,
              DenseElementsAttr::get(
                  type, IntegerAttr::get(type.getElementType(), scale))));
    if (!init)
      return block;
    Value zero = constantInt(b, loc, type.getElementType(), 0);
    Value old = vector::TransferReadOp::create(
        b, loc, type, init, at, zero, SmallVector<bool>(type.getRank(), true));
    return arith::AddIOp::create(b, loc, old, block);
  }

  /// The sums in a tensor of rows and columns padded to whole blocks; with
  /// `init` (whose rows and columns are whole blocks), `init + scale *
  /// sums`. The result is a new tensor, not an update of init: a returned
  /// update of an argument would be copied after the kernel.
  Value build(OpFoldResult batch, OpFoldResult paddedRows,
              OpFoldResult paddedCols, Value init = {}, int64_t scale = 1) {
    SmallVector<OpFoldResult> sizes;
    if (batched)
      sizes.push_back(batch);
    sizes.append({paddedRows, paddedCols});
    Value empty = tensor::EmptyOp::create(b, loc, sizes, resultType);
    SmallVector<Value> lbs, ubs, steps;
    for (OpFoldResult size : sizes) {
      lbs.push_back(index(0));
      ubs.push_back(getValueOrCreateConstantIndexOp(b, loc, size));
    }
    if (batched)
      steps.push_back(index(1));
    steps.append({index(rows()), index(cols())});
    bool wide = !resultType.isInteger(32);
    scf::LoopNest nest = scf::buildLoopNest(
        b, loc, lbs, ubs, steps, ValueRange{empty},
        [&](OpBuilder &nb, Location, ValueRange ivs, ValueRange iterArgs) {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPoint(nb.getInsertionBlock(), nb.getInsertionPoint());
          Value bi = batched ? ivs[0] : Value();
          Value m0 = ivs[batched ? 1 : 0], n0 = ivs[batched ? 2 : 1];
          SmallVector<Value> sums;
          auto rowType = VectorType::get({cols()}, resultType);
          auto widen = [&](Value v) -> Value {
            return wide ? arith::ExtSIOp::create(b, loc, rowType, v) : v;
          };
          if (!wide || paddedLength <= kChunk) {
            // i32 results wrap like the exact value modulo 2^32.
            for (Value v : sumRange(bi, m0, n0, index(0), index(paddedLength)))
              sums.push_back(widen(v));
          } else {
            Value zero =
                arith::ConstantOp::create(b, loc, b.getZeroAttr(rowType));
            SmallVector<Value> inits(rows(), zero);
            auto chunks = scf::ForOp::create(
                b, loc, index(0), index(paddedLength), index(kChunk), inits,
                [&](OpBuilder &cb, Location, Value kc, ValueRange totals) {
                  OpBuilder::InsertionGuard guard(b);
                  b.setInsertionPoint(cb.getInsertionBlock(),
                                      cb.getInsertionPoint());
                  Value kEnd = arith::MinSIOp::create(
                      b, loc, arith::AddIOp::create(b, loc, kc, index(kChunk)),
                      index(paddedLength));
                  SmallVector<Value> next;
                  for (auto [total, part] :
                       llvm::zip_equal(totals, sumRange(bi, m0, n0, kc, kEnd)))
                    next.push_back(
                        arith::AddIOp::create(b, loc, total, widen(part)));
                  scf::YieldOp::create(b, loc, next);
                });
            sums.assign(chunks.getResults().begin(), chunks.getResults().end());
          }
          SmallVector<Value> at;
          if (batched)
            at.push_back(bi);
          at.append({m0, n0});
          Value block = scaleAndAccumulate(blockOf(sums), init, at, scale);
          Value written =
              vector::TransferWriteOp::create(b, loc, block, iterArgs[0], at,
                                              ArrayRef<bool>{true, true})
                  .getResult();
          return scf::ValueVector{written};
        });
    return nest.results.front();
  }
};

//===----------------------------------------------------------------------===//
// Pattern
//===----------------------------------------------------------------------===//

/// init + lhs * transpose(rhs) as the int8 GEMM of `plan` for a matmul.
static Value buildInt8Matmul(RewriterBase &rewriter, Location loc,
                             const Int8Plan &plan, MatmulOp op) {
  Value init = op.getInit();
  auto initType = cast<RankedTensorType>(init.getType());
  Type resultType = initType.getElementType();
  bool batched = initType.getRank() == 3;
  bool lhsBatched = op.getLhs().getType().getRank() == 4;
  bool rhsBatched = op.getRhs().getType().getRank() == 4;
  int64_t length = op.getLhsLayout().getLength();

  GemmBuilder gemm{rewriter,   loc,        plan,    Value(), Value(),
                   lhsBatched, rhsBatched, batched, 0,       resultType};
  // Channel blocks hold one rhs: a batched rhs takes one output per
  // accumulator.
  gemm.byLane = !plan.isMmla() && !rhsBatched;
  int64_t kStep = gemm.kStep();
  gemm.paddedLength = llvm::divideCeil(length, kStep) * kStep;
  // value_a value_b = sa sb xa xb + sa ob xa + oa sb xb + oa ob.
  Int8Operand a = plan.lhs, c = plan.rhs;
  DecodedOperand lhs =
      decodePacked(rewriter, loc, op.getLhs(), op.getLhsLayout(), a,
                   gemm.rows(), plan.pairsOrRows(), resultType,
                   /*needRowSum=*/c.offset != 0);
  // By lane, the rhs is decoded straight into channel blocks (at compile
  // time when constant).
  DecodedOperand rhs = decodePacked(
      rewriter, loc, op.getRhs(), op.getRhsLayout(), c,
      gemm.byLane ? 1 : gemm.cols(),
      gemm.byLane ? CodeLayout::channelBlocks(kLaneChannels, kLaneGroup)
                  : plan.pairsOrRows(),
      resultType, /*needRowSum=*/a.offset != 0);
  gemm.xa = lhs.x;
  gemm.xb = rhs.x;

  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(rewriter, loc, init);
  unsigned first = batched ? 1 : 0;
  // Without offsets, over whole blocks, the kernel adds to init itself: no
  // padded product and no elementwise epilogue.
  int64_t m = initType.getDimSize(first), n = initType.getDimSize(first + 1);
  if (a.offset == 0 && c.offset == 0 && !ShapedType::isDynamic(m) &&
      !ShapedType::isDynamic(n) && m % gemm.rows() == 0 && n % gemm.cols() == 0)
    return gemm.build(batched ? sizes[0] : OpFoldResult(), sizes[first],
                      sizes[first + 1], init, a.scale * c.scale);
  Value sum = gemm.build(batched ? sizes[0] : OpFoldResult(),
                         roundUp(rewriter, loc, sizes[first], gemm.rows()),
                         roundUp(rewriter, loc, sizes[first + 1], gemm.cols()));
  SmallVector<OpFoldResult> zeros(sizes.size(), rewriter.getIndexAttr(0));
  SmallVector<OpFoldResult> ones(sizes.size(), rewriter.getIndexAttr(1));
  Value product = tensor::ExtractSliceOp::create(
      rewriter, loc, RankedTensorType::get(initType.getShape(), resultType),
      sum, zeros, sizes, ones);

  MLIRContext *ctx = rewriter.getContext();
  int64_t rank = initType.getRank();
  auto rowMap = [&](bool operandBatched, unsigned dim) {
    SmallVector<AffineExpr> exprs;
    if (operandBatched)
      exprs.push_back(getAffineDimExpr(0, ctx));
    exprs.push_back(getAffineDimExpr(dim, ctx));
    return AffineMap::get(rank, 0, exprs, ctx);
  };
  return buildOffsetEpilogue(rewriter, loc, a, c, init, product, lhs.rowSum,
                             rowMap(lhsBatched, first), rhs.rowSum,
                             rowMap(rhsBatched, first + 1), length);
}

struct MatmulToInt8DotProduct : public OpRewritePattern<MatmulOp> {
  MatmulToInt8DotProduct(MLIRContext *ctx,
                         const ConvertBitserialToArmNeonOptions &options)
      : OpRewritePattern<MatmulOp>(ctx), options(options) {}

  LogicalResult matchAndRewrite(MatmulOp op,
                                PatternRewriter &rewriter) const override {
    if (!prefersInt8DotProduct(op, options))
      return rewriter.notifyMatchFailure(op, "bit-serial is preferred");
    Location loc = op.getLoc();
    PackedLayoutAttr lhsLayout = op.getLhsLayout();
    PackedLayoutAttr rhsLayout = op.getRhsLayout();
    Int8Plan plan = planMatmul(lhsLayout, rhsLayout, options.i8mm);
    if (plan.instruction == Instruction::Udot &&
        failed(declareUdot(rewriter, op)))
      return rewriter.notifyMatchFailure(op, "cannot declare " + kUdot);
    rewriter.replaceOp(op, buildInt8Matmul(rewriter, loc, plan, op));
    return success();
  }

  ConvertBitserialToArmNeonOptions options;
};

/// conv2d directly over the taps of the decoded, zero-padded input: blocks
/// of output pixels of one row x output channels, reducing over (kh, kw, c).
struct Conv2DToInt8DotProduct : public OpRewritePattern<Conv2DOp> {
  Conv2DToInt8DotProduct(MLIRContext *ctx,
                         const ConvertBitserialToArmNeonOptions &options)
      : OpRewritePattern<Conv2DOp>(ctx), options(options) {}

  LogicalResult matchAndRewrite(Conv2DOp op,
                                PatternRewriter &rewriter) const override {
    if (!prefersInt8DotProduct(op, options))
      return rewriter.notifyMatchFailure(op, "bit-serial is preferred");
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    PackedLayoutAttr inputLayout = op.getInputLayout();
    PackedLayoutAttr filterLayout = op.getFilterLayout();
    Int8Plan plan = planMatmul(inputLayout, filterLayout, options.i8mm);
    if (plan.instruction == Instruction::Udot &&
        failed(declareUdot(rewriter, op)))
      return rewriter.notifyMatchFailure(op, "cannot declare " + kUdot);
    ArrayRef<int64_t> strides = op.getStrides(), dilations = op.getDilations();
    Value init = op.getInit();
    auto initType = cast<RankedTensorType>(init.getType());
    Type resultType = initType.getElementType();
    auto filterType = cast<RankedTensorType>(op.getFilter().getType());
    int64_t kh = filterType.getDimSize(1), kw = filterType.getDimSize(2);
    int64_t channels = inputLayout.getLength();
    Int8Operand a = plan.lhs, c = plan.rhs;

    // x [N, H + pads, W + pads, Cx] with the value 0 (x = 0) around it;
    // channels past C are 0.
    Value input =
        decodePacked(rewriter, loc, op.getInput(), inputLayout, a,
                     /*rowMultiple=*/1, CodeLayout::rows(), resultType,
                     /*needRowSum=*/false, op.getPadding())
            .x;
    GemmBuilder gemm{rewriter, loc,   plan,  input, Value(),
                     false,    false, false, 0,     resultType};
    gemm.byLane = !plan.isMmla();
    int64_t rows = gemm.rows(), cols = gemm.cols(), kStep = gemm.kStep();
    int64_t paddedChannels = llvm::divideCeil(channels, kStep) * kStep;
    // The filter is decoded straight into channel blocks (at compile time
    // when constant): by lane [CO / 16, KH, KW, Cx / 4, 16] of i32 words,
    // for i8mm pairs of channels [CO / 2, KH, KW, Cx / 8, 2] of i64 words
    // (one operand per load). The row sums are over Cx, per tap.
    DecodedOperand filter = decodePacked(
        rewriter, loc, op.getFilter(), filterLayout, c, /*rowMultiple=*/1,
        gemm.byLane ? CodeLayout::channelBlocks(kLaneChannels, kLaneGroup)
                    : CodeLayout::channelBlocks(2, 8),
        resultType, /*needRowSum=*/a.offset != 0);
    gemm.xb = filter.x;
    auto index = [&](int64_t v) { return constantIndex(rewriter, loc, v); };
    SmallVector<OpFoldResult> sizes =
        tensor::getMixedSizes(rewriter, loc, init);
    Value outHeight = getValueOrCreateConstantIndexOp(rewriter, loc, sizes[1]);
    Value outWidth = getValueOrCreateConstantIndexOp(rewriter, loc, sizes[2]);
    Value outChannels =
        getValueOrCreateConstantIndexOp(rewriter, loc, sizes[3]);
    Value pixels = arith::MulIOp::create(rewriter, loc, outHeight, outWidth);
    // i8mm: pairs of filter channels (the last one padded with zeros).
    Value channelPairs;
    if (!gemm.byLane)
      channelPairs = arith::DivUIOp::create(
          rewriter, loc,
          arith::AddIOp::create(rewriter, loc, outChannels, index(1)),
          index(2));
    OpFoldResult paddedOut = roundUp(rewriter, loc, sizes[3], cols);
    // Without offsets, over whole blocks of channels, the kernel adds init
    // itself: no padded product and no elementwise epilogue. Its result is
    // a new tensor (a returned update of an argument would be copied).
    int64_t outC = initType.getDimSize(3);
    bool direct = a.offset == 0 && c.offset == 0 &&
                  !ShapedType::isDynamic(outC) && outC % cols == 0;
    Value empty = tensor::EmptyOp::create(
        rewriter, loc,
        SmallVector<OpFoldResult>{sizes[0], sizes[1], sizes[2],
                                  direct ? sizes[3] : paddedOut},
        resultType);
    auto i8x8 = VectorType::get({8}, rewriter.getI8Type());
    auto i8x16 = VectorType::get({16}, rewriter.getI8Type());
    Value zeroByte = constantInt(rewriter, loc, rewriter.getI8Type(), 0);
    SmallVector<int64_t> concat = llvm::to_vector(llvm::seq<int64_t>(0, 16));

    // Blocks of `rows` consecutive output pixels of the flattened (OH, OW),
    // which may span output rows: no pixels are computed past a row's end.
    SmallVector<Value> lbs(3, index(0)), ubs,
        steps{index(1), index(rows), index(cols)};
    ubs.push_back(getValueOrCreateConstantIndexOp(rewriter, loc, sizes[0]));
    ubs.push_back(pixels);
    ubs.push_back(getValueOrCreateConstantIndexOp(rewriter, loc, paddedOut));
    bool wide = !resultType.isInteger(32);
    scf::LoopNest nest = scf::buildLoopNest(
        rewriter, loc, lbs, ubs, steps, ValueRange{empty},
        [&](OpBuilder &nb, Location, ValueRange ivs, ValueRange iterArgs) {
          OpBuilder::InsertionGuard guard(rewriter);
          rewriter.setInsertionPoint(nb.getInsertionBlock(),
                                     nb.getInsertionPoint());
          Value n = ivs[0], pixel0 = ivs[1], co0 = ivs[2];
          // Pixels and channels past the output repeat the last one (their
          // sums are cut off or written twice): every read stays inside x,
          // the filter and the output.
          auto clamped = [&](Value base, int64_t offset, Value extent) {
            Value last = arith::SubIOp::create(rewriter, loc, extent, index(1));
            return arith::MinUIOp::create(
                rewriter, loc,
                arith::AddIOp::create(rewriter, loc, base, index(offset)),
                last);
          };
          SmallVector<Value> outRow, outColumn, firstRow, firstColumn;
          for (int64_t p = 0; p < rows; ++p) {
            Value at = clamped(pixel0, p, pixels);
            outRow.push_back(
                arith::DivUIOp::create(rewriter, loc, at, outWidth));
            outColumn.push_back(
                arith::RemUIOp::create(rewriter, loc, at, outWidth));
            firstRow.push_back(arith::MulIOp::create(
                rewriter, loc, outRow.back(), index(strides[0])));
            firstColumn.push_back(arith::MulIOp::create(
                rewriter, loc, outColumn.back(), index(strides[1])));
          }
          auto accType = VectorType::get({4}, rewriter.getI32Type());
          Value zero = arith::ConstantOp::create(rewriter, loc,
                                                 rewriter.getZeroAttr(accType));
          SmallVector<Value> inits(gemm.numAccumulators(), zero);
          scf::LoopNest taps = scf::buildLoopNest(
              rewriter, loc, {index(0), index(0), index(0)},
              {index(kh), index(kw), index(paddedChannels)},
              {index(1), index(1), index(kStep)}, inits,
              [&](OpBuilder &tb, Location, ValueRange tivs, ValueRange accs) {
                OpBuilder::InsertionGuard guard(rewriter);
                rewriter.setInsertionPoint(tb.getInsertionBlock(),
                                           tb.getInsertionPoint());
                Value i = tivs[0], j = tivs[1], ch = tivs[2];
                Value tapRow = arith::MulIOp::create(rewriter, loc, i,
                                                     index(dilations[0]));
                Value tapColumn = arith::MulIOp::create(rewriter, loc, j,
                                                        index(dilations[1]));
                // `size` bytes of pixel `p` (0 .. rows) or channel `q`.
                auto pixel = [&](int64_t p, int64_t size) -> Value {
                  Value row =
                      arith::AddIOp::create(rewriter, loc, firstRow[p], tapRow);
                  Value column = arith::AddIOp::create(
                      rewriter, loc, firstColumn[p], tapColumn);
                  return vector::TransferReadOp::create(
                      rewriter, loc, size == 16 ? i8x16 : i8x8, input,
                      ValueRange{n, row, column, ch}, zeroByte,
                      ArrayRef<bool>{true});
                };
                if (gemm.byLane) {
                  SmallVector<Value> lhs;
                  for (int64_t p = 0; p < rows; ++p)
                    lhs.push_back(pixel(p, 16));
                  Value block = arith::DivUIOp::create(rewriter, loc, co0,
                                                       index(kLaneChannels));
                  Value g0 = arith::DivUIOp::create(rewriter, loc, ch,
                                                    index(kLaneGroup));
                  SmallVector<Value> next =
                      gemm.multiplyByLane(accs, lhs, [&](int64_t l, int64_t v) {
                        return gemm.loadChannels(
                            filter.x, block, {i, j},
                            arith::AddIOp::create(rewriter, loc, g0, index(l)),
                            v);
                      });
                  return scf::ValueVector(next.begin(), next.end());
                }
                // i8mm: 8 values of K of two pixels make one operand (two
                // loads); a pair of channels is one load.
                int64_t lhsUnits = rows / 2, rhsUnits = cols / 2;
                SmallVector<Value> lhs, rhs;
                for (int64_t u = 0; u < lhsUnits; ++u)
                  lhs.push_back(
                      vector::ShuffleOp::create(rewriter, loc, pixel(2 * u, 8),
                                                pixel(2 * u + 1, 8), concat));
                Value firstPair =
                    arith::DivUIOp::create(rewriter, loc, co0, index(2));
                Value group =
                    arith::DivUIOp::create(rewriter, loc, ch, index(8));
                auto pairType = VectorType::get({2}, rewriter.getI64Type());
                Value zeroWord =
                    constantInt(rewriter, loc, rewriter.getI64Type(), 0);
                for (int64_t u = 0; u < rhsUnits; ++u) {
                  Value words = vector::TransferReadOp::create(
                      rewriter, loc, pairType, filter.x,
                      ValueRange{clamped(firstPair, u, channelPairs), i, j,
                                 group, index(0)},
                      zeroWord, ArrayRef<bool>{true});
                  rhs.push_back(
                      vector::BitCastOp::create(rewriter, loc, i8x16, words));
                }
                SmallVector<Value> next;
                for (int64_t u = 0; u < lhsUnits; ++u)
                  for (int64_t v = 0; v < rhsUnits; ++v)
                    next.push_back(gemm.multiplyAccumulate(
                        accs[u * rhsUnits + v], lhs[u], rhs[v]));
                return scf::ValueVector(next.begin(), next.end());
              });
          SmallVector<Value> sums = gemm.reduceTile(taps.results);
          // i64: the whole reduction is one chunk (see the selection rule).
          if (wide)
            for (Value &sum : sums)
              sum = arith::ExtSIOp::create(
                  rewriter, loc, VectorType::get({cols}, resultType), sum);
          // Each pixel's channels (a repeated last pixel writes the same
          // sums twice). Without `direct` the epilogue scales the product
          // and adds init.
          SmallVector<Value> results;
          for (int64_t p = 0; p < rows; ++p)
            results.push_back(gemm.scaleAndAccumulate(
                sums[p], direct ? init : Value(),
                ValueRange{n, outRow[p], outColumn[p], co0},
                direct ? a.scale * c.scale : 1));
          Value written = iterArgs[0];
          for (int64_t p = 0; p < rows; ++p)
            written = vector::TransferWriteOp::create(
                          rewriter, loc, results[p], written,
                          ValueRange{n, outRow[p], outColumn[p], co0},
                          ArrayRef<bool>{true})
                          .getResult();
          return scf::ValueVector{written};
        });
    if (direct) {
      rewriter.replaceOp(op, nest.results.front());
      return success();
    }
    SmallVector<OpFoldResult> zeros(4, rewriter.getIndexAttr(0));
    SmallVector<OpFoldResult> ones(4, rewriter.getIndexAttr(1));
    Value product = tensor::ExtractSliceOp::create(
        rewriter, loc, initType, nest.results.front(), zeros, sizes, ones);

    // Offsets: the input's window sums (filter offset) and the filter's
    // sums (input offset, never with padding), both of x.
    Value inputSums, filterSums;
    AffineExpr d[6];
    for (unsigned e = 0; e < 6; ++e)
      d[e] = getAffineDimExpr(e, ctx);
    if (c.offset != 0)
      inputSums =
          buildInputWindowSums(rewriter, loc, input, a, channels, kh, kw,
                               strides, dilations, initType, sizes);
    if (a.offset != 0)
      filterSums =
          sumFilterTaps(rewriter, loc, filter.rowSum, initType, sizes[3]);
    rewriter.replaceOp(
        op,
        buildOffsetEpilogue(rewriter, loc, a, c, init, product, inputSums,
                      AffineMap::get(4, 0, {d[0], d[1], d[2]}, ctx), filterSums,
                      AffineMap::get(4, 0, {d[3]}, ctx), kh * kw * channels));
    return success();
  }

  ConvertBitserialToArmNeonOptions options;
};
} // namespace

void mlir::bitserial::populateBitserialToArmNeonPatterns(
    RewritePatternSet &patterns,
    const ConvertBitserialToArmNeonOptions &options) {
  patterns.add<MatmulToInt8DotProduct, Conv2DToInt8DotProduct>(
      patterns.getContext(), options);
}

//===----------------------------------------------------------------------===//
// Pass
//===----------------------------------------------------------------------===//

namespace {
struct ConvertBitserialToArmNeonPass
    : public bitserial::impl::ConvertBitserialToArmNeonBase<
          ConvertBitserialToArmNeonPass> {
  using Base::Base;

  void runOnOperation() override {
    if (minBitProduct < 0) {
      emitError(getOperation()->getLoc())
          << "min-bit-product must be at least 0, got "
          << minBitProduct.getValue();
      return signalPassFailure();
    }
    ConvertBitserialToArmNeonOptions options;
    options.dotProduct = dotProduct;
    options.i8mm = i8mm;
    options.minBitProduct = minBitProduct;
    RewritePatternSet patterns(&getContext());
    populateBitserialToArmNeonPatterns(patterns, options);
    walkAndApplyPatterns(getOperation(), std::move(patterns));
  }
};
} // namespace
