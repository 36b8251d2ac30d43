//===- CostModel.h - Kernel cost model for matmul and conv2d ----*- C++ -*-===//
//
// Estimates the cycles of a bitserial.matmul or conv2d under each kernel a
// target offers (the bit-serial vector kernel, an int8 dot-product kernel)
// from a few per-target constants (docs/design.md, "Cost model").
//
//===----------------------------------------------------------------------===//

#ifndef BITSERIAL_ANALYSIS_COSTMODEL_H
#define BITSERIAL_ANALYSIS_COSTMODEL_H

#include "Bitserial/Conversion/BitserialToVector/BitserialToVector.h"
#include "mlir/IR/Operation.h"
#include "llvm/ADT/StringRef.h"

#include <optional>

namespace mlir::bitserial {

/// The targets of the bit-serial vector kernels the model knows (the
/// pipelines' kernel targets, `host` resolved).
enum class CostTarget {
  X86Avx2,
  X86Avx512,
  X86Avx512Vpopcntdq,
  AArch64A53,
  AArch64OutOfOrder,
  Generic,
};

/// The int8 dot-product instructions a target may offer.
enum class Int8Unit {
  None,
  /// vpdpbusd on zmm.
  X86Avx512Vnni,
  /// vpdpbusd on ymm.
  X86AvxVnni,
  /// vpmaddubsw (narrow products) or vpmaddwd on ymm.
  X86Avx2,
  /// vpmaddubsw (narrow products) or vpmaddwd on zmm.
  X86Avx512Bw,
  /// AMX-INT8 tiles (tdpbusd and kin) for the convolutions of static
  /// shape, vpdpbusd on zmm for the other ops.
  X86Amx,
  /// sdot/udot.
  AArch64DotProduct,
  /// smmla/ummla/usmmla.
  AArch64I8mm,
};

/// The kernels a matmul or conv2d can run as.
enum class KernelKind { BitSerial, Int8, Lookup };

/// The `bitserial.kernel` value of `kind`: "bitserial", "int8" or "lookup".
llvm::StringRef getKernelKindName(KernelKind kind);
std::optional<KernelKind> parseKernelKind(llvm::StringRef name);

llvm::StringRef getCostTargetName(CostTarget target);
llvm::StringRef getInt8UnitName(Int8Unit unit);
/// Whether `unit` exists on the architecture of `target`.
bool isInt8UnitOf(Int8Unit unit, CostTarget target);

/// Constants of the bit-serial vector kernel of a target, in cycles.
struct BitSerialCosts {
  /// AND (XOR) + count throughput of the kernel's steps: bit pairs per
  /// cycle.
  double binopsPerCycle;
  /// Per output and plane pair: widening the counts, shift and add.
  double cyclesPerOutputPlanePair;
  /// Per output: `init` read and write, corrections, the per-call input
  /// copy and weight relayout spread over the outputs.
  double cyclesPerOutput;
};

/// Constants of an int8 dot-product kernel, in cycles.
struct Int8Costs {
  /// Multiply-accumulates per cycle of the kernel's inner loop.
  double macsPerCycle;
  /// Values of K per instruction group: each window (K) is padded to it.
  int64_t group;
  /// Rows (pixels) of a register block: a matmul's M is padded to it.
  int64_t rowBlock;
  /// Per output: `init` read and write, the offsets' corrections.
  double cyclesPerOutput;
  /// Decoding one activation value to i8 (per value, and per value and
  /// plane).
  double cyclesPerInputValue;
  double cyclesPerInputValuePlane;
  /// Decoding and re-laying out one weight value, on every call (per
  /// value, and per value and plane).
  double cyclesPerWeightValue;
  double cyclesPerWeightValuePlane;
  /// Multiply-accumulates per cycle with narrow products (vpmaddubsw into
  /// i16 sums) where the bit widths allow them (allowsNarrowProducts); 0:
  /// the unit has none.
  double narrowMacsPerCycle = 0;
  /// Constant weights are decoded and re-laid out at compile time (no
  /// per-call weight cost).
  bool foldsConstantWeights = false;
  /// Bytes per weight code in the kernel (i8 or i16) and the memory
  /// bandwidth in bytes per cycle: every register block of rows streams
  /// all weights, from memory once they pass kCachedInt8WeightBytes (0:
  /// not modelled).
  int64_t bytesPerWeightCode = 1;
  double memoryBytesPerCycle = 0;
  /// A convolution's output rows are padded to `rowBlock` pixels too, for
  /// the MACs and the per-output cost (AMX tiles take as long for fewer
  /// rows); a pointwise one's pixels are padded as one sequence, and rows
  /// narrower than `rowBlock` with a `wrapStride` as the positions of the
  /// padded rows (oh * paddedWidth / wrapStride + ow) where that takes
  /// fewer tiles.
  bool padsConvRows = false;
  /// A pointwise convolution decodes only the input pixels it reads (every
  /// stride-th one).
  bool samplesPointwiseInput = false;
  /// Weights past kCachedInt8WeightBytes stream from memory once (the
  /// kernel's channel blocks outer), not once per register block of rows.
  bool streamsWeightsOnce = false;
  /// Weights past `l2Bytes` (and up to kCachedInt8WeightBytes) leave the
  /// core's L2 cache: each register block of rows streams them from L3 at
  /// `cyclesPerL2StreamedByte` per byte (0: not modelled).
  int64_t l2Bytes = 0;
  double cyclesPerL2StreamedByte = 0;
};

/// Re-laid-out int8 weights up to this size are taken to stay in the
/// caches across the register blocks that stream them.
inline constexpr int64_t kCachedInt8WeightBytes = int64_t(8) << 20;

/// Whether every encoding of `bitsA` x `bitsB` bits keeps the i16 sums of
/// two steps of vpmaddubsw exact: 2 steps x 2 products x the largest
/// magnitudes (2^bits - 1) within 32767 (4 x 4 bits, 8 x 2, 6 x 3). The x86
/// lowering decides per op from the encodings, which may allow more.
bool allowsNarrowProducts(int64_t bitsA, int64_t bitsB);

/// Constants of the table-lookup kernel (convert-bitserial-to-x86-lookup),
/// in cycles.
struct LookupCosts {
  /// The instruction's lookup: values of K per table, output channels per
  /// lookup, and bits of the weights it indexes with (vpshufb: 4, 32, 1;
  /// vpermb: 3, 64, 2).
  int64_t valuesPerLookup, channelsPerLookup, weightBits;
  /// Lookups per cycle.
  double lookupsPerCycle;
  /// Rows (pixels) and channel vectors of a register block: the computed
  /// outputs are padded to them. With a single channel vector the block
  /// takes `rowBlock x channelBlock` rows instead.
  int64_t rowBlock, channelBlock;
  /// Per output: widening the byte sums, the bias, `init`, the store.
  double cyclesPerOutput;
  /// Decoding one activation value and building its table index.
  double cyclesPerInputValue;
  /// Decoding and re-laying out one weight value on every call (constant
  /// weights: at compile time).
  double cyclesPerWeightValue;
};

/// The model of one target: its bit-serial kernel, the int8 unit if any,
/// the table-lookup kernel if the target has one.
struct CostModel {
  CostTarget target;
  Int8Unit int8Unit;
  BitSerialCosts bitSerial;
  std::optional<Int8Costs> int8;
  /// The bit-serial kernel's shape (vector width, register block).
  MicroKernelShape shape;
  std::optional<LookupCosts> lookup;
};

/// The model of `target` with the int8 instruction `unit` (None: no int8
/// kernel). `unit` must belong to the target's architecture.
CostModel getCostModel(CostTarget target, Int8Unit unit);

/// The sizes of a matmul or conv2d the model reads. A matmul [B?, M, K] x
/// [N, K] is the 1x1 convolution of a 1 x M image per batch.
struct KernelProblem {
  int64_t batch = 1, outHeight = 1, outWidth = 1, channelsOut = 1;
  int64_t kernelH = 1, kernelW = 1, channels = 1;
  /// Activation values read per call (the input image, or the lhs).
  int64_t inputValues = 1;
  int64_t bitsA = 1, bitsB = 1;
  bool isMatmul = false;
  /// Some extent was dynamic and counted as kDynamicExtent; the output
  /// width and channels in particular (the register block is then not
  /// fitted to them, as in the kernel).
  bool dynamic = false, dynamicWidth = false, dynamicChannels = false;
  /// A threshold, requantize or dequantize is the only use of the result
  /// (the vector kernel fuses it, see getFusedEpilogueName).
  bool fusedEpilogue = false;
  /// The weights (rhs, filter) are a constant of static shape.
  bool constantWeights = false;
  /// A convolution of a 1 x 1 window without padding: its output pixels
  /// read every stride-th input pixel, and none of the padding.
  bool pointwise = false;
  /// A convolution's input width with its padding, and its stride where
  /// both are 1, or 2 without dilation (else 0): AMX tiles then wrap over
  /// rows narrower than a tile.
  int64_t paddedWidth = 1;
  int64_t wrapStride = 0;

  int64_t outputs() const { return batch * outHeight * outWidth * channelsOut; }
  int64_t reduction() const { return kernelH * kernelW * channels; }
  int64_t weightValues() const { return channelsOut * reduction(); }
};

/// What a dynamic extent counts as.
inline constexpr int64_t kDynamicExtent = 256;

/// The epilogue the vector kernel fuses into `op`: "threshold",
/// "requantize" or "dequantize" when that op is the only use of its result,
/// in the same block (as convert-bitserial-to-vector matches it), else
/// "none".
llvm::StringRef getFusedEpilogueName(Operation *op);

/// The problem of a `bitserial.matmul` or `bitserial.conv2d` with packed
/// operands, or nullopt.
std::optional<KernelProblem> getKernelProblem(Operation *op);

/// The estimate of one op under each kernel.
struct KernelEstimate {
  double bitSerialCycles;
  /// The register block of the bit-serial kernel: pixels x channel vectors.
  int64_t pixelBlock, channelBlock;
  /// Unset without an int8 unit.
  std::optional<double> int8Cycles;
  /// Unset without a lookup kernel, for bit widths it does not take
  /// (activations of more than 2 bits, weights of other than its bits), and
  /// for fewer output pixels than its register block's rows.
  std::optional<double> lookupCycles;
};

KernelEstimate estimateKernels(const CostModel &model,
                               const KernelProblem &problem);

} // namespace mlir::bitserial

#endif // BITSERIAL_ANALYSIS_COSTMODEL_H
