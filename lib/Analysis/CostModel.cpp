//===- CostModel.cpp - Kernel cost model for matmul and conv2d ------------===//
//
// The constants and where they come from are in docs/design.md ("Cost
// model"); x86 figures are cycles at 4.5 GHz (the clock at which the Zen 5
// machine's 2306 G/s AND+popcount peak is one 512-bit vpopcntq per cycle),
// AArch64 figures cycles of benchmarks/aarch64_model.py (llvm-mca).
//
//===----------------------------------------------------------------------===//

#include "Bitserial/Analysis/CostModel.h"
#include "Bitserial/IR/BitserialOps.h"
#include "Bitserial/Targets/AArch64/AArch64.h"
#include "Bitserial/Targets/X86/X86.h"

#include "mlir/IR/Matchers.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/MathExtras.h"

using namespace mlir;
using namespace mlir::bitserial;

StringRef mlir::bitserial::getKernelKindName(KernelKind kind) {
  switch (kind) {
  case KernelKind::BitSerial:
    return "bitserial";
  case KernelKind::Int8:
    return "int8";
  case KernelKind::Lookup:
    return "lookup";
  }
  llvm_unreachable("unknown kernel kind");
}

std::optional<KernelKind> mlir::bitserial::parseKernelKind(StringRef name) {
  return llvm::StringSwitch<std::optional<KernelKind>>(name)
      .Case("int8", KernelKind::Int8)
      .Case("bitserial", KernelKind::BitSerial)
      .Case("lookup", KernelKind::Lookup)
      .Default(std::nullopt);
}

StringRef mlir::bitserial::getCostTargetName(CostTarget target) {
  switch (target) {
  case CostTarget::X86Avx2:
    return "x86-avx2";
  case CostTarget::X86Avx512:
    return "x86-avx512";
  case CostTarget::X86Avx512Vpopcntdq:
    return "x86-avx512-vpopcntdq";
  case CostTarget::AArch64A53:
    return "aarch64-a53";
  case CostTarget::AArch64OutOfOrder:
    return "aarch64-ooo";
  case CostTarget::Generic:
    return "generic";
  }
  llvm_unreachable("unknown cost target");
}

StringRef mlir::bitserial::getInt8UnitName(Int8Unit unit) {
  switch (unit) {
  case Int8Unit::None:
    return "none";
  case Int8Unit::X86Avx512Vnni:
    return "avx512-vnni";
  case Int8Unit::X86AvxVnni:
    return "avx-vnni";
  case Int8Unit::X86Avx2:
    return "avx2";
  case Int8Unit::X86Avx512Bw:
    return "avx512bw";
  case Int8Unit::X86Amx:
    return "amx";
  case Int8Unit::AArch64DotProduct:
    return "dot-product";
  case Int8Unit::AArch64I8mm:
    return "i8mm";
  }
  llvm_unreachable("unknown int8 unit");
}

bool mlir::bitserial::isInt8UnitOf(Int8Unit unit, CostTarget target) {
  switch (unit) {
  case Int8Unit::None:
    return true;
  case Int8Unit::X86Avx512Vnni:
  case Int8Unit::X86AvxVnni:
  case Int8Unit::X86Avx2:
  case Int8Unit::X86Avx512Bw:
    return target == CostTarget::X86Avx2 || target == CostTarget::X86Avx512 ||
           target == CostTarget::X86Avx512Vpopcntdq;
  case Int8Unit::X86Amx:
    return target == CostTarget::X86Avx512 ||
           target == CostTarget::X86Avx512Vpopcntdq;
  case Int8Unit::AArch64DotProduct:
  case Int8Unit::AArch64I8mm:
    return target == CostTarget::AArch64A53 ||
           target == CostTarget::AArch64OutOfOrder;
  }
  llvm_unreachable("unknown int8 unit");
}

/// The bit-serial kernels. Fitted (least squares on relative error) to the
/// fastest calls of docs/benchmarks.md, "Where int8 starts to win" and
/// "ResNet-18 stem and A8W8" (x86, same runs as the int8 figures), and to
/// the Neoverse-N1 and Cortex-A53 model tables (AArch64).
static BitSerialCosts getBitSerialCosts(CostTarget target) {
  switch (target) {
  case CostTarget::X86Avx512Vpopcntdq:
    // Zen 5, 4 Dec 2026 (benchmarks/fit_cost_model.py): C2-C12 at A1W1,
    // A2W1, A2W2, A3W2, A4W2, A3W3 and A4W4 with constant filters, 77 ops,
    // max error 41% (C11 past 2 x 2 bits, where int8 wins by 1.7x or more).
    return {486, 0.033, 0.032};
  case CostTarget::X86Avx2:
    return {95, 0.24, 0.79};
  case CostTarget::X86Avx512:
    // C3 A3W2, C7 and C9 A4W2 with --cpu skylake-avx512.
    return {125, 0.24, 0.79};
  case CostTarget::AArch64OutOfOrder:
    // C2-C12 at 2 x 2, 3 x 2 and 2 x 1 bits on the Neoverse-N1 model with
    // constant filters (docs/design.md, "Cost model"): max error 5%.
    return {79, 0.14, 0.96};
  case CostTarget::AArch64A53:
    return {24, 0, 4.4};
  case CostTarget::Generic:
    // Not measured: portable 128-bit code.
    return {20, 0.3, 4.4};
  }
  llvm_unreachable("unknown cost target");
}

/// Memory bandwidth of one x86 core in the model's cycles: 19.6 GB/s
/// (Zen 3, bitserial-baselines' 256 MiB read) at the 4.5 GHz of the fits.
static constexpr double kX86MemoryBytesPerCycle = 4.4;

/// The int8 kernels, fitted like the bit-serial ones (x86: A8W8 C2-C12,
/// the stem and the threshold table; AArch64: C3 and C6 through
/// convert-bitserial-to-arm-neon on the Neoverse-N1 model).
static std::optional<Int8Costs> getInt8Costs(CostTarget target, Int8Unit unit) {
  bool inOrder = target == CostTarget::AArch64A53;
  // The x86 int8 convolutions decode a strided pointwise input's sampled
  // pixels only.
  auto x86 = [](Int8Costs costs) {
    costs.samplesPointwiseInput = true;
    return costs;
  };
  switch (unit) {
  case Int8Unit::None:
    return std::nullopt;
  case Int8Unit::X86Avx512Vnni: {
    if (target != CostTarget::X86Avx512Vpopcntdq)
      return x86(Int8Costs{46, 4, 6, 0.30, 0.30, 0, 1.6, 0, 0, true, 1,
                           kX86MemoryBytesPerCycle});
    // Zen 5, 4 Dec 2026, fitted with the bit-serial constants
    // (benchmarks/fit_cost_model.py): C2-C12 at A2W1 to A4W4 with constant
    // filters, 66 ops, max error 14%. Filters past the 1 MiB L2 (C10, C12:
    // 1.2 and 2.4 MB of i8 codes) stream from L3 for every block of 6
    // pixels: those layers ran 1.25-1.4x slower per MAC than C7 and C9.
    // Bipolar x bipolar (A1W1) left out: 1.3x slower than this (its
    // corrections), and 5-8x slower than bit-serial. The weights' decoding
    // on every call is the old constant halved, as the refit halved the
    // other costs (not measured again).
    Int8Costs costs{90,  4, 6, 0.029, 0.027, 0,
                    0.8, 0, 0, true,  1,     kX86MemoryBytesPerCycle};
    costs.l2Bytes = int64_t(1) << 20;
    costs.cyclesPerL2StreamedByte = 0.0114;
    return x86(costs);
  }
  case Int8Unit::X86Avx2:
    // Narrow products fitted on Zen 3 against the x86-avx2 bit-serial
    // constants (docs/benchmarks.md, "Narrow int8 products"): C2-C12 at
    // A2W2 and A2W1, constant weights. vpmaddwd's codes are i16 (the
    // narrow products' i8).
    return x86(Int8Costs{14, 2, 5, 0.36, 0.14, 0, 1.3, 0, 29, true, 2,
                         kX86MemoryBytesPerCycle});
  case Int8Unit::X86Amx: {
    // The AMX convolution kernel (tiles of 16 pixels x 64 channels x 16
    // output channels), fitted on an AMX Xeon (KVM guest, 2 vCPUs) to
    // ResNet-18's C2-C12 at A2W2 with constant filters (least squares of
    // the relative error), in the 4.5 GHz cycles of the other constants:
    // 453 MACs per cycle (2 T MACs/s, tdpbusd's peak 2.8), 0.33 cycles per
    // output (the tiles stored, straight or through stack buffers) and
    // 0.04 per decoded input value. Within 10% on C3-C9 and C11; C2 27%
    // high, C10 and C12 22% low. A tile of fewer than 16 pixels takes as
    // long as a full one. The weights are folded at compile time, like
    // vpdpbusd's; on every call as for vpdpbusd. Matmuls whose i8 weights
    // pass the caches read them once at 7.8 bytes per cycle (35 GB/s; M =
    // 16 and 64 of 4096 x 4096, 16 MB: 0.62 and 1.05 ms at 2, 1 and 2
    // bits).
    Int8Costs costs{453, 64, 16, 0.33, 0.04, 0, 1.6, 0, 0, true, 1, 7.8, true};
    costs.streamsWeightsOnce = true;
    return x86(costs);
  }
  case Int8Unit::X86AvxVnni:
    // --target x86-avx2 on the Zen 5 (vpdpbusd on ymm): as fast as zmm on
    // C2, C3, C6 A2W2 and C10, C12 A4W2.
    return x86(Int8Costs{46, 4, 6, 0.30, 0.30, 0, 1.6, 0, 0, true, 1,
                         kX86MemoryBytesPerCycle});
  case Int8Unit::X86Avx512Bw:
    // --cpu skylake-avx512 (vpmaddwd on zmm): C3 A3W2, C7 and C9 A4W2,
    // with the ymm decoding costs. Narrow products not measured: as many
    // more MACs as on ymm.
    return x86(Int8Costs{18, 2, 5, 0.36, 0.14, 0, 1.3, 0, 29 * 18 / 14.0, true,
                         2, kX86MemoryBytesPerCycle});
  case Int8Unit::AArch64DotProduct:
  case Int8Unit::AArch64I8mm: {
    // sdot/udot by lane, fitted on C2-C12 at 2 x 2 and 3 x 2 bits with
    // constant filters and six layers with filters as arguments (C3, C6,
    // C11, C12, a 1x1 layer of 512 channels and the 512 -> 1000 classifier
    // at 8 x 8 bits) on the Neoverse-N1 model, max error 4%: the kernel
    // 27.6 MACs/cycle (its loop 29: 64 sdot, 8 ldp and 4 ldr per 35
    // cycles), adding init about 1 cycle per output, decoding activations
    // 0.12 cycles per value and plane, weights on every call (decoded
    // straight into channel blocks) 0.19 per value and 0.15 per plane
    // (refitted on C3, C4, C9, C12, the 512-channel 1x1 layer and the
    // classifier, argument minus constant weights: 0.45-0.55 cycles per
    // 2-bit value, 1.39 per 8-bit one); constant weights are decoded at
    // compile time. i8mm at 46: on a Neoverse-N2 model (qemu -cpu max,
    // llvm-mca neoverse-n2; qemu's Neoverse-N1 has no i8mm) its blocks of 4
    // rows x 16 channels ran the 3x3 layers of C2-C12 at A2W2 1.60-1.74
    // times as fast as sdot by lane, the 1x1 layers 1.26-1.56. An in-order
    // core (not measured) 3.1 times slower, as the bit-serial kernels are
    // on the Cortex-A53 model against the Neoverse-N1 one.
    bool mmla = unit == Int8Unit::AArch64I8mm;
    double scale = inOrder ? 3.1 : 1;
    return Int8Costs{(mmla ? 46 : 27.6) / scale,
                     mmla ? 8 : 16,
                     4,
                     0.97 * scale,
                     0,
                     0.12 * scale,
                     0.19 * scale,
                     0.15 * scale,
                     0,
                     /*foldsConstantWeights=*/true};
  }
  }
  llvm_unreachable("unknown int8 unit");
}

static MicroKernelShape getShape(CostTarget target) {
  switch (target) {
  case CostTarget::X86Avx2:
    return getX86Avx2KernelShape();
  case CostTarget::X86Avx512:
    return getX86Avx512KernelShape();
  case CostTarget::X86Avx512Vpopcntdq:
    return getX86Avx512VpopcntdqKernelShape();
  case CostTarget::AArch64A53:
    return getAArch64A53KernelShape();
  case CostTarget::AArch64OutOfOrder:
    return getAArch64OutOfOrderKernelShape();
  case CostTarget::Generic:
    return getGenericKernelShape();
  }
  llvm_unreachable("unknown cost target");
}

CostModel mlir::bitserial::getCostModel(CostTarget target, Int8Unit unit) {
  assert(isInt8UnitOf(unit, target) && "int8 unit of another architecture");
  BitSerialCosts bitSerial = getBitSerialCosts(target);
  // A CPU with AVX-VNNI is a newer one, whose code for the x86-avx2 kernels
  // (with its other features: AVX-512VL on the Zen 5) ran 1.8x faster on
  // the 1x1 layers than x86-64-v3 code: fitted to --target x86-avx2 on the
  // Zen 5 (C2-C9 A2W2, C3 and C5 A2W1, C10 and C12 A4W2).
  if (target == CostTarget::X86Avx2 && unit == Int8Unit::X86AvxVnni)
    bitSerial = {125, 0, 0.35};
  // A CPU with AMX-INT8 is a Xeon core, whose bit-serial kernels pay far
  // less per output than the Zen 5's (the Zen 5 constants overestimated
  // its 1 x 1 layers 2.5x): fitted there to C2-C12 at A1W1, A2W1 and A2W2
  // (bit-serial by annotation, constant filters), max error 16%.
  if (target == CostTarget::X86Avx512Vpopcntdq && unit == Int8Unit::X86Amx)
    bitSerial = {244, 0.031, 0.054};
  std::optional<LookupCosts> lookup;
  // Fitted on Zen 3 to C2, C3 and C12 at A2W1 (constant filters; the
  // weights per call to C12 with its filter an argument), in the 4.5 GHz
  // cycles of the other constants.
  if (target == CostTarget::X86Avx2)
    lookup = LookupCosts{4, 32, 1, 0.765, 4, 2, 0.45, 0.45, 0.85};
  // vpermb (AVX512-VBMI; the pass's `lookup` option says whether the CPU
  // has it): fitted on Zen 5 to ResNet-18's C2-C12 at A2W2 (constant
  // filters) with the bit-serial and int8 constants (4 Dec 2026, max error
  // 19%). Per weight value (filters as arguments) the old constant halved,
  // as the refit halved the lookups' cost (not measured again). With AMX
  // (the Xeon's own bit-serial constants) the lookup constants stay as they
  // were: the refit did not measure the Xeon.
  if (target == CostTarget::X86Avx512Vpopcntdq)
    lookup = unit == Int8Unit::X86Amx
                 ? LookupCosts{3, 64, 2, 0.452, 4, 2, 1.67, 0.14, 0.85}
                 : LookupCosts{3, 64, 2, 0.891, 4, 2, 0.364, 0, 0.43};
  return {target,           unit,  bitSerial, getInt8Costs(target, unit),
          getShape(target), lookup};
}

StringRef mlir::bitserial::getFusedEpilogueName(Operation *op) {
  Value result = op->getResult(0);
  if (!result.hasOneUse())
    return "none";
  OpOperand &use = *result.getUses().begin();
  Operation *user = use.getOwner();
  if (use.getOperandNumber() != 0 || user->getBlock() != op->getBlock())
    return "none";
  if (isa<ThresholdOp>(user))
    return "threshold";
  if (isa<RequantizeOp>(user))
    return "requantize";
  if (isa<DequantizeOp>(user))
    return "dequantize";
  return "none";
}

bool mlir::bitserial::allowsNarrowProducts(int64_t bitsA, int64_t bitsB) {
  if (bitsA > 8 || bitsB > 8)
    return false;
  int64_t largestA = (int64_t(1) << bitsA) - 1;
  int64_t largestB = (int64_t(1) << bitsB) - 1;
  return 2 * 2 * largestA * largestB <= 32767;
}

std::optional<KernelProblem> mlir::bitserial::getKernelProblem(Operation *op) {
  KernelProblem problem;
  auto dim = [&](Value value, int64_t d) {
    int64_t size = cast<RankedTensorType>(value.getType()).getDimSize(d);
    if (!ShapedType::isDynamic(size))
      return size;
    problem.dynamic = true;
    return kDynamicExtent;
  };
  auto initType = [](Value init) {
    return cast<RankedTensorType>(init.getType());
  };
  PackedLayoutAttr lhs, rhs;
  if (auto matmul = dyn_cast<MatmulOp>(op)) {
    lhs = matmul.getLhsLayout();
    rhs = matmul.getRhsLayout();
    if (!lhs || !rhs)
      return std::nullopt;
    Value init = matmul.getInit();
    int64_t rank = cast<RankedTensorType>(init.getType()).getRank();
    problem.isMatmul = true;
    problem.batch = rank == 3 ? dim(init, 0) : 1;
    problem.outWidth = dim(init, rank - 2);
    problem.dynamicWidth = initType(init).isDynamicDim(rank - 2);
    problem.channelsOut = dim(init, rank - 1);
    problem.dynamicChannels = initType(init).isDynamicDim(rank - 1);
    problem.channels = lhs.getLength();
    problem.inputValues = problem.batch * problem.outWidth * problem.channels;
  } else if (auto conv = dyn_cast<Conv2DOp>(op)) {
    lhs = conv.getInputLayout();
    rhs = conv.getFilterLayout();
    if (!lhs || !rhs)
      return std::nullopt;
    Value init = conv.getInit(), input = conv.getInput();
    problem.batch = dim(init, 0);
    problem.outHeight = dim(init, 1);
    problem.outWidth = dim(init, 2);
    problem.dynamicWidth = initType(init).isDynamicDim(2);
    problem.channelsOut = dim(init, 3);
    problem.dynamicChannels = initType(init).isDynamicDim(3);
    auto filterType = cast<RankedTensorType>(conv.getFilter().getType());
    problem.kernelH = filterType.isDynamicDim(1) ? 1 : filterType.getDimSize(1);
    problem.kernelW = filterType.isDynamicDim(2) ? 1 : filterType.getDimSize(2);
    problem.channels = lhs.getLength();
    problem.inputValues =
        dim(input, 0) * dim(input, 1) * dim(input, 2) * problem.channels;
    problem.pointwise =
        problem.kernelH == 1 && problem.kernelW == 1 &&
        llvm::all_of(conv.getPadding(), [](int64_t pad) { return pad == 0; });
    ArrayRef<int64_t> padding = conv.getPadding();
    problem.paddedWidth = dim(input, 2) + padding[2] + padding[3];
    ArrayRef<int64_t> strides = conv.getStrides();
    bool dilated =
        llvm::any_of(conv.getDilations(), [](int64_t d) { return d != 1; });
    if (strides[0] == strides[1] &&
        (strides[0] == 1 || (strides[0] == 2 && !dilated)))
      problem.wrapStride = strides[0];
  } else {
    return std::nullopt;
  }
  problem.bitsA = lhs.getBits();
  problem.bitsB = rhs.getBits();
  problem.fusedEpilogue = getFusedEpilogueName(op) != "none";
  Value weights = op->getOperand(1);
  problem.constantWeights =
      cast<RankedTensorType>(weights.getType()).hasStaticShape() &&
      hasConstantElements(weights);
  return problem;
}

/// Whether the register block of `problem` should use half the target's
/// accumulators. Measured by benchmarks/tune.py (docs/benchmarks.md,
/// "Tuning"): on x86-avx512-vpopcntdq, 1x1 layers of one or two words per
/// pixel and at least 4 plane pairs x words ran 1.2-1.5x faster with 8
/// accumulators than with 16 (C3 and C5 at A2W2, C8 at A2W1 and A2W2), and
/// 1.05-1.13x with 4 instead of 8 on x86-avx2; with fewer (C3, C5 at A2W1),
/// longer reductions (C11) or 3x3 windows the blocks tied. Each plane
/// pair's counts live next to the running sums (all vector registers for a
/// full block), and a pair of one or two steps does not amortize the
/// spills.
static bool prefersHalfBlock(const CostModel &model,
                             const KernelProblem &problem) {
  int64_t words = llvm::divideCeil(problem.channels, 64);
  return (model.target == CostTarget::X86Avx512Vpopcntdq ||
          model.target == CostTarget::X86Avx2) &&
         problem.kernelH * problem.kernelW == 1 && words <= 2 &&
         problem.bitsA * problem.bitsB * words >= 4;
}

/// Whether the register block of `problem` should be one pixel by all the
/// target's accumulators. Measured on Zen 3 (interleaved runs,
/// docs/benchmarks.md "Zen 3"): on x86-avx2, layers of one plane pair whose
/// filter, split into nibbles, takes at most 64 KiB ran 1.03-1.18x faster
/// with 1x8 than with 4x2 or 2x4 (C2-C6, C8, C11 at A1W1; C7's 72 KiB tied);
/// larger filters 1.25-1.5x slower (C9, C10, C12: 144-576 KiB), as every
/// pixel re-reads the whole filter; with 2 or 4 plane pairs it was mixed.
/// Not with a fused epilogue: the binarized ResNet-18 (thresholds fused
/// into every 3x3 layer, each block reading 32 channels' thresholds for one
/// pixel) was 3-5% slower with it.
static bool prefersOnePixelBlock(const CostModel &model,
                                 const KernelProblem &problem) {
  if (model.target != CostTarget::X86Avx2 ||
      problem.bitsA * problem.bitsB != 1 || problem.dynamicChannels ||
      (problem.fusedEpilogue && model.shape.fuseEpilogues))
    return false;
  int64_t words = llvm::divideCeil(problem.channels, 64);
  int64_t splitFilterBytes =
      problem.channelsOut * problem.kernelH * problem.kernelW * words * 16;
  return splitFilterBytes <= (int64_t(64) << 10);
}

/// Whether the register block of `problem` should keep at least the
/// target's pixel block where the row allows it. Measured on Zen 5
/// (interleaved runs): 3x3 layers of 14-pixel rows whose filter exceeds the
/// 48 KiB L1 data cache ran 10-20% faster with 7x2 than with 2x8 (C9 at
/// A1W1, A2W1 and A2W2, C7 at A2W2), as every pixel block streams the whole
/// filter from L2; C7 at A1W1 and A2W1 (a 36 KiB filter) tied.
static bool prefersWidePixelBlock(const CostModel &model,
                                  const KernelProblem &problem) {
  if (model.target != CostTarget::X86Avx512Vpopcntdq ||
      problem.kernelH * problem.kernelW == 1 || problem.dynamicChannels)
    return false;
  int64_t words = llvm::divideCeil(problem.channels, 64);
  int64_t filterBytes = problem.channelsOut * problem.kernelH *
                        problem.kernelW * words * 8 * problem.bitsB;
  return filterBytes > (int64_t(48) << 10);
}

KernelEstimate mlir::bitserial::estimateKernels(const CostModel &model,
                                                const KernelProblem &problem) {
  KernelEstimate estimate;
  MicroKernelShape shape = model.shape;
  if (shape.fitRegisterBlock && prefersHalfBlock(model, problem))
    shape.channelBlock = std::max<int64_t>(1, shape.channelBlock / 2);
  if (shape.fitRegisterBlock && prefersOnePixelBlock(model, problem)) {
    shape.channelBlock *= shape.pixelBlock;
    shape.pixelBlock = 1;
    shape.fitRegisterBlock = false;
  }
  std::tie(estimate.pixelBlock, estimate.channelBlock) =
      shape.fitRegisterBlock
          ? fitRegisterBlock(
                shape,
                problem.dynamicWidth ? ShapedType::kDynamic : problem.outWidth,
                problem.dynamicChannels ? ShapedType::kDynamic
                                        : problem.channelsOut,
                prefersWidePixelBlock(model, problem) ? shape.pixelBlock : 2)
          : std::make_pair(shape.pixelBlock, shape.channelBlock);
  double outputs = problem.outputs();
  double planePairs = problem.bitsA * problem.bitsB;

  // Bit-serial: every plane pair ANDs and counts the whole reduction for
  // every computed output, padded ones included, except in a static row
  // narrower than the pixel block: its one block never stores the padded
  // pixels, and LLVM drops their work (the 512 -> 1000 classifier's step
  // loop on the Neoverse-N1 model counts one pixel of its 2x4 block).
  int64_t lanes = shape.vectorBits / 64;
  int64_t rowPixels = !problem.dynamicWidth &&
                              problem.outWidth < estimate.pixelBlock
                          ? problem.outWidth
                          : llvm::alignTo(problem.outWidth, estimate.pixelBlock);
  int64_t computed = problem.batch * problem.outHeight * rowPixels *
                     llvm::alignTo(llvm::divideCeil(problem.channelsOut, lanes),
                                   estimate.channelBlock) *
                     lanes;
  const BitSerialCosts &bs = model.bitSerial;
  estimate.bitSerialCycles =
      planePairs * problem.reduction() * double(computed) / bs.binopsPerCycle +
      outputs * (planePairs * bs.cyclesPerOutputPlanePair + bs.cyclesPerOutput);

  // Int8: one MAC per value of the padded reduction and output, plus the
  // decoding of both operands on every call (constant weights: at compile
  // time where the lowering folds them).
  if (const std::optional<Int8Costs> &i8 = model.int8) {
    bool narrow = i8->narrowMacsPerCycle > 0 &&
                  allowsNarrowProducts(problem.bitsA, problem.bitsB);
    int64_t group = narrow ? 4 : i8->group;
    int64_t pixels = problem.batch * problem.outHeight * problem.outWidth;
    int64_t rows = problem.batch * problem.outHeight *
                   (problem.isMatmul || i8->padsConvRows
                        ? llvm::alignTo(problem.outWidth, i8->rowBlock)
                        : problem.outWidth);
    if (i8->padsConvRows && problem.pointwise) {
      rows = llvm::alignTo(pixels, i8->rowBlock);
    } else if (i8->padsConvRows && !problem.isMatmul && !problem.dynamic &&
               problem.wrapStride && problem.outWidth < i8->rowBlock) {
      int64_t width = llvm::alignTo(problem.paddedWidth, problem.wrapStride) /
                      problem.wrapStride;
      int64_t positions = (problem.outHeight - 1) * width + problem.outWidth;
      int64_t wrapped = llvm::alignTo(positions, i8->rowBlock);
      rows = std::min(rows, problem.batch * wrapped);
    }
    int64_t inputValues = problem.pointwise && i8->samplesPointwiseInput
                              ? pixels * problem.channels
                              : problem.inputValues;
    int64_t reduction = problem.kernelH * problem.kernelW *
                        llvm::alignTo(problem.channels, group);
    double weightCycles =
        problem.constantWeights && i8->foldsConstantWeights
            ? 0
            : double(problem.weightValues()) *
                  (i8->cyclesPerWeightValue +
                   problem.bitsB * i8->cyclesPerWeightValuePlane);
    // Every register block of rows streams all weights: from memory once
    // they leave the caches (matmuls of 4096 x 4096 weights on Zen 3: M =
    // 64 took 14.8 ms as narrow int8 against 11.1 ms bit-serial, whose
    // packed weights are a quarter of the bytes; M = 8 1.73 against 1.41).
    double weightBytes =
        double(problem.weightValues()) * (narrow ? 1 : i8->bytesPerWeightCode);
    if (i8->l2Bytes > 0 && weightBytes > i8->l2Bytes &&
        weightBytes <= kCachedInt8WeightBytes)
      weightCycles += weightBytes * double(problem.batch) * problem.outHeight *
                      llvm::divideCeil(problem.outWidth, i8->rowBlock) *
                      i8->cyclesPerL2StreamedByte;
    if (i8->memoryBytesPerCycle > 0 && weightBytes > kCachedInt8WeightBytes) {
      double passes =
          i8->streamsWeightsOnce
              ? 1
              : double(problem.batch) * problem.outHeight *
                    llvm::divideCeil(problem.outWidth, i8->rowBlock);
      weightCycles += weightBytes * passes / i8->memoryBytesPerCycle;
    }
    estimate.int8Cycles =
        double(reduction) * rows * problem.channelsOut /
            (narrow ? i8->narrowMacsPerCycle : i8->macsPerCycle) +
        (i8->padsConvRows ? double(rows) * problem.channelsOut : outputs) *
            i8->cyclesPerOutput +
        double(inputValues) * (i8->cyclesPerInputValue +
                               problem.bitsA * i8->cyclesPerInputValuePlane) +
        weightCycles;
  }

  // Lookups: one per group of K, channel vector and computed output pixel
  // (the rows evened out over the blocks of a row, as the kernel does).
  // Not for fewer output pixels than a register block's rows (a matmul of
  // M = 1): those read each weight once per call, and the lookups' weights
  // take more bytes than packed planes (vpermb: 8 bits per 3 2-bit codes;
  // M = 1 of a 4096 x 4096 matmul at A2W2 on Zen 5: level with bit-serial
  // from the caches, 1.2x slower from memory).
  int64_t pixels = problem.batch * problem.outHeight * problem.outWidth;
  if (const std::optional<LookupCosts> &lk = model.lookup;
      lk && problem.bitsA <= 2 && problem.bitsB == lk->weightBits &&
      pixels >= lk->rowBlock) {
    int64_t vectors =
        llvm::divideCeil(problem.channelsOut, lk->channelsPerLookup);
    int64_t channelBlock = std::min(vectors, lk->channelBlock);
    int64_t rowBlock = lk->rowBlock * lk->channelBlock / channelBlock;
    int64_t rowBlocks = llvm::divideCeil(problem.outWidth, rowBlock);
    int64_t rows = problem.batch * problem.outHeight * rowBlocks *
                   llvm::divideCeil(problem.outWidth, rowBlocks);
    double lookups = double(rows) * llvm::alignTo(vectors, channelBlock) *
                     problem.kernelH * problem.kernelW *
                     llvm::divideCeil(problem.channels, lk->valuesPerLookup);
    estimate.lookupCycles =
        lookups / lk->lookupsPerCycle + outputs * lk->cyclesPerOutput +
        double(problem.inputValues) * lk->cyclesPerInputValue +
        (problem.constantWeights
             ? 0
             : double(problem.weightValues()) * lk->cyclesPerWeightValue);
  }
  return estimate;
}
