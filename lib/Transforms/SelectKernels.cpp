//===- SelectKernels.cpp - Choose each op's kernel from the cost model ----===//
//
// Annotates every bitserial.matmul and conv2d with the kernel the cost model
// finds cheaper (bitserial.kernel) and, for the bit-serial kernel, its
// register block (bitserial.register_block); the lowerings follow them.
//
//===----------------------------------------------------------------------===//

#include "Bitserial/Analysis/CostModel.h"
#include "Bitserial/Analysis/TuningCache.h"
#include "Bitserial/Conversion/BitserialToArmNeon/BitserialToArmNeon.h"
#include "Bitserial/Conversion/BitserialToX86Int8/BitserialToX86Int8.h"
#include "Bitserial/Conversion/BitserialToX86Lookup/BitserialToX86Lookup.h"
#include "Bitserial/IR/BitserialOps.h"
#include "Bitserial/Transforms/Passes.h"

#include "llvm/Support/FormatVariadic.h"

namespace mlir::bitserial {
#define GEN_PASS_DEF_BITSERIALSELECTKERNELS
#include "Bitserial/Transforms/Passes.h.inc"
} // namespace mlir::bitserial

using namespace mlir;
using namespace mlir::bitserial;

/// Lookups are chosen only when estimated this much cheaper than the other
/// kernels: their speed (like int8's) moved by 25-35% with the Zen 5's phase
/// where the popcounts' held (C11 at 2 x 2 bits: 0.0121 ms in one run,
/// 0.016 in the next, bit-serial 0.012-0.013 in both; its parallel lookups
/// were also slower on 2 threads than on 1). The 3x3 layers' lookups are
/// estimated 16-26% cheaper and keep them.
static constexpr double kLookupMargin = 0.9;

/// Whether the int8 lowering of `unit` handles `op`.
static bool canLowerToInt8(Operation *op, Int8Unit unit) {
  switch (unit) {
  case Int8Unit::None:
    return false;
  case Int8Unit::X86Avx512Vnni:
    return canLowerToX86Int8(op, X86Int8Instruction::Avx512Vnni);
  case Int8Unit::X86AvxVnni:
    return canLowerToX86Int8(op, X86Int8Instruction::AvxVnni);
  case Int8Unit::X86Avx2:
    return canLowerToX86Int8(op, X86Int8Instruction::Avx2);
  case Int8Unit::X86Avx512Bw:
    return canLowerToX86Int8(op, X86Int8Instruction::Avx512Bw);
  case Int8Unit::X86Amx:
    return canLowerToX86Int8(op, X86Int8Instruction::Amx);
  case Int8Unit::AArch64DotProduct:
  case Int8Unit::AArch64I8mm: {
    ConvertBitserialToArmNeonOptions options;
    options.dotProduct = unit == Int8Unit::AArch64DotProduct;
    options.i8mm = unit == Int8Unit::AArch64I8mm;
    return canLowerToArmNeonInt8(op, options);
  }
  }
  llvm_unreachable("unknown int8 unit");
}

static std::string formatCycles(double cycles) {
  return llvm::formatv("{0:F0}", cycles).str();
}

/// The instruction of the lookup kernel `costs` describes.
static X86LookupInstruction getLookupInstruction(const LookupCosts &costs) {
  return costs.weightBits == 2 ? X86LookupInstruction::Vpermb
                               : X86LookupInstruction::Pshufb;
}

namespace {
struct BitserialSelectKernelsPass
    : public bitserial::impl::BitserialSelectKernelsBase<
          BitserialSelectKernelsPass> {
  using Base::Base;

  void runOnOperation() override {
    if (!isInt8UnitOf(int8, target)) {
      emitError(getOperation()->getLoc())
          << "int8 instruction '" << getInt8UnitName(int8)
          << "' does not exist on target '" << getCostTargetName(target) << "'";
      return signalPassFailure();
    }
    if (minBitProduct < 0) {
      emitError(getOperation()->getLoc())
          << "min-bit-product must be at least 0, got "
          << minBitProduct.getValue();
      return signalPassFailure();
    }
    FailureOr<std::optional<TuningCache>> loaded =
        loadTuningCacheFor(getOperation(), tuningCache);
    if (failed(loaded))
      return signalPassFailure();
    cache = std::move(*loaded);
    cpuName = getTuningCpuName(cpu);
    CostModel model = getCostModel(target, int8);
    // AMX takes convolutions of static shape; the other ops go to vpdpbusd
    // on zmm, with its costs.
    std::optional<CostModel> notAmx;
    if (int8 == Int8Unit::X86Amx)
      notAmx = getCostModel(target, Int8Unit::X86Avx512Vnni);
    getOperation()->walk([&](Operation *op) {
      if (!isa<MatmulOp, Conv2DOp>(op))
        return;
      select(op, notAmx && !canLowerToX86Int8(op, X86Int8Instruction::Amx)
                     ? *notAmx
                     : model);
    });
  }

  void select(Operation *op, const CostModel &model) {
    std::optional<KernelProblem> problem = getKernelProblem(op);
    if (!problem)
      return;
    KernelEstimate estimate = estimateKernels(model, *problem);
    bool lowerable = canLowerToInt8(op, model.int8Unit);
    KernelKind kind = KernelKind::BitSerial;
    std::string reason;
    auto force = op->getAttrOfType<BoolAttr>(kInt8AttrName);
    // A `bitserial.kernel` already there is kept: the user's choice, or
    // this pass's from an earlier run (with its register block).
    std::optional<KernelKind> annotated;
    if (auto attr = op->getAttrOfType<StringAttr>(kKernelAttrName);
        attr && !force)
      annotated = parseKernelKind(attr.getValue());
    // A register block without `bitserial.kernel` is the user's: the
    // bit-serial kernel with that block.
    auto userBlock =
        force || op->hasAttr(kKernelAttrName)
            ? DenseI64ArrayAttr()
            : op->getAttrOfType<DenseI64ArrayAttr>(kRegisterBlockAttrName);
    if (userBlock) {
      reason = llvm::formatv("bitserial.register_block {0}x{1}", userBlock[0],
                             userBlock[1]);
    } else if (force) {
      // The user's choice wins; the lowerings read it themselves.
      kind = force.getValue() && lowerable ? KernelKind::Int8
                                           : KernelKind::BitSerial;
      reason =
          force.getValue() ? "bitserial.int8 = true" : "bitserial.int8 = false";
      if (force.getValue() && !lowerable)
        reason += ", not handled by the int8 lowering";
    } else if (annotated) {
      kind = *annotated;
      reason =
          llvm::formatv("bitserial.kernel = \"{0}\"", getKernelKindName(kind));
      if (kind == KernelKind::Int8 && !lowerable) {
        kind = KernelKind::BitSerial;
        reason += model.int8Unit == Int8Unit::None
                      ? ", no int8 instruction"
                      : ", not handled by the int8 lowering";
      }
    } else if (model.int8Unit == Int8Unit::None) {
      reason = "no int8 instruction";
    } else if (!lowerable) {
      reason = "not handled by the int8 lowering";
    } else if (minBitProduct > 0) {
      int64_t bitProduct = problem->bitsA * problem->bitsB;
      if (bitProduct >= minBitProduct)
        kind = KernelKind::Int8;
      reason = "min-bit-product " + std::to_string(minBitProduct);
    } else {
      if (*estimate.int8Cycles < estimate.bitSerialCycles)
        kind = KernelKind::Int8;
      reason = "cost model";
    }
    // Lookups where the cost model finds them cheaper than the choice
    // above (not over the user's or the bit-product rule's).
    bool lookupLowerable =
        lookup && estimate.lookupCycles &&
        canLowerToX86Lookup(op, getLookupInstruction(*model.lookup));
    if (kind == KernelKind::Lookup && !lookupLowerable) {
      kind = KernelKind::BitSerial;
      reason += lookup ? ", not handled by the lookup lowering"
                       : ", no lookup kernel in this pipeline";
    }
    if (lookupLowerable && !userBlock && !force && !annotated &&
        minBitProduct == 0) {
      double chosen = kind == KernelKind::Int8 ? *estimate.int8Cycles
                                               : estimate.bitSerialCycles;
      if (*estimate.lookupCycles < kLookupMargin * chosen) {
        kind = KernelKind::Lookup;
        reason = "cost model";
      }
    }
    int64_t pixelBlock = estimate.pixelBlock;
    int64_t channelBlock = estimate.channelBlock;
    if (auto block =
            op->getAttrOfType<DenseI64ArrayAttr>(kRegisterBlockAttrName);
        block && annotated == KernelKind::BitSerial) {
      pixelBlock = block[0];
      channelBlock = block[1];
      reason += llvm::formatv(", block {0}x{1}", pixelBlock, channelBlock);
    }

    // A measured winner replaces the choice above, but not the user's.
    std::optional<llvm::json::Object> key;
    if (!force && !userBlock && !annotated && (cache || emitTuningKeys))
      key = getTuningKey(op);
    if (key && emitTuningKeys)
      emitTuningKey(op, *key, kind, pixelBlock, channelBlock, lowerable,
                    lookupLowerable, model);
    if (key && cache) {
      std::optional<TunedChoice> tuned =
          cache->lookup(getCostTargetName(target), cpuName,
                        getInt8UnitName(model.int8Unit), *key);
      if (tuned && tuned->kernel == KernelKind::Int8 && !lowerable) {
        reason += "; tuned int8 not handled by the int8 lowering";
      } else if (tuned && tuned->kernel == KernelKind::Lookup &&
                 !lookupLowerable) {
        reason += "; tuned lookup not handled by the lookup lowering";
      } else if (tuned) {
        kind = tuned->kernel;
        if (kind == KernelKind::BitSerial) {
          pixelBlock = tuned->pixelBlock;
          channelBlock = tuned->channelBlock;
        }
        reason = "tuned";
        if (kind == KernelKind::BitSerial)
          reason += llvm::formatv(", block {0}x{1}", pixelBlock, channelBlock);
        if (op->hasAttr(kTuningKeyAttrName) && tuned->tileSizes)
          reason += llvm::formatv(
              ", tiles {0}",
              llvm::join(llvm::map_range(
                             *tuned->tileSizes,
                             [](int64_t size) { return std::to_string(size); }),
                         "x"));
      }
    }

    Builder b(op->getContext());
    if (!force && !userBlock) {
      op->setAttr(kKernelAttrName, b.getStringAttr(getKernelKindName(kind)));
      if (kind == KernelKind::BitSerial)
        op->setAttr(kRegisterBlockAttrName,
                    b.getDenseI64ArrayAttr({pixelBlock, channelBlock}));
      else
        op->removeAttr(kRegisterBlockAttrName);
    }
    if (!emitRemarks)
      return;
    // At the op's location, without the op printed after it.
    InFlightDiagnostic remark = mlir::emitRemark(op->getLoc());
    remark << "kernel " << getKernelKindName(kind) << " (" << reason
           << "); estimated cycles: bit-serial "
           << formatCycles(estimate.bitSerialCycles) << " (block "
           << estimate.pixelBlock << "x" << estimate.channelBlock << ")";
    if (estimate.int8Cycles)
      remark << ", int8 " << getInt8UnitName(model.int8Unit) << " "
             << formatCycles(*estimate.int8Cycles);
    if (lookupLowerable)
      remark << ", lookup " << formatCycles(*estimate.lookupCycles);
    if (problem->dynamic)
      remark << "; dynamic sizes counted as " << kDynamicExtent;
  }

  /// A remark with what benchmarks/tune.py needs to tune `op`, as one JSON
  /// object: the lookup fields and key, the choice without a cache, whether
  /// int8 and table lookups are candidates, and the register block limits.
  void emitTuningKey(Operation *op, const llvm::json::Object &key,
                     KernelKind kind, int64_t pixelBlock, int64_t channelBlock,
                     bool lowerable, bool lookupLowerable,
                     const CostModel &model) {
    llvm::json::Object defaultChoice{{"kernel", getKernelKindName(kind)}};
    if (kind == KernelKind::BitSerial)
      defaultChoice["register_block"] =
          llvm::json::Array{pixelBlock, channelBlock};
    llvm::json::Object record{
        {"target", getCostTargetName(target)},
        {"cpu", cpuName},
        {"int8", getInt8UnitName(model.int8Unit)},
        {"key", llvm::json::Object(key)},
        {"default", std::move(defaultChoice)},
        {"int8_candidate", lowerable},
        {"lookup_candidate", lookupLowerable},
        {"accumulators", model.shape.pixelBlock * model.shape.channelBlock},
        {"lanes", model.shape.vectorBits / 64},
        {"domain",
         llvm::json::Array(
             cast<RankedTensorType>(op->getResult(0).getType()).getShape())}};
    mlir::emitRemark(op->getLoc())
        << "tuning "
        << llvm::formatv("{0}", llvm::json::Value(std::move(record)));
  }

  std::optional<TuningCache> cache;
  std::string cpuName;
};
} // namespace
