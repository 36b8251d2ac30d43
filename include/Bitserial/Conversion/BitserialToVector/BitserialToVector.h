//===- BitserialToVector.h - Vector micro-kernels for bitserial -*- C++ -*-===//

#ifndef BITSERIAL_CONVERSION_BITSERIALTOVECTOR_BITSERIALTOVECTOR_H
#define BITSERIAL_CONVERSION_BITSERIALTOVECTOR_BITSERIALTOVECTOR_H

#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Transforms/DialectConversion.h"

namespace mlir::bitserial {

/// How byte popcounts are widened into 64-bit lanes: the kernel always emits
/// the portable idiom (see ConvKernelBuilder::widen); a target pass may
/// rewrite it after bufferization.
enum class ByteCountWidening {
  /// Zero-extend and add: LLVM's generic lowering.
  Portable,
  /// x86 `psadbw` (bitserial-x86-byte-counts).
  X86Psadbw,
  /// AArch64 `uaddlp` / `uadalp` (bitserial-aarch64-byte-counts).
  AArch64PairwiseAdd,
};

/// With nibble lookups, the default least number of steps (kernel taps x
/// words) a plane pair reduces over for the kernel to split its operands:
/// measured on Zen 5 with AVX2 code, 3x3 layers 1.25x faster, 1x1 layers of
/// 64 channels 1.3x slower; the x86-avx2 target splits every reduction (see
/// getX86Avx2KernelShape).
inline constexpr int64_t kDefaultMinNibbleSteps = 8;

/// With `parallel`, the default least number of AND'ed bit pairs (outputs
/// x reduction bits x plane pairs) of a kernel split across threads: on the
/// 2-core Zen 5 the 1x1 ResNet-18 layers of 6.4 M bit pairs (C5, C8, C11 at
/// 1 x 1 bits, 9-25 us) were as fast or slower on 2 threads, and with a
/// zero-filled init (no init read) most of those of 12.8 M too (C3 at 1 x 1
/// bits 0.030 -> 0.042 ms, C5 and C11 at 2 x 1 bits 0.021 -> 0.026 ms and
/// 0.015 -> 0.018 ms); those of 25.7 M 1.2-1.4x faster at 2 x 2 bits.
inline constexpr int64_t kDefaultMinParallelBinops = int64_t(1) << 24;

/// With `parallel`, kernels of fewer AND'ed bit pairs per output stay on one
/// thread whatever their size: they mostly move outputs. On the Zen 5 with
/// the runner's thread team C3 at 2 x 1 bits (128 per output, 25.7 M in
/// all) ran 1.38x faster on 2 threads (0.0176 -> 0.0127 ms; with libomp
/// 0.0153), C3 at 1 x 1 bits (64 per output, 12.8 M) 1.08x.
inline constexpr int64_t kDefaultMinParallelBinopsPerOutput = 128;

/// The same two on a CPU with AMX-INT8 (a Xeon core), whose two vCPUs ran
/// C3 at 1 x 1 bits (12.8 M pairs, 64 per output) 1.4x faster on 2 threads
/// (0.0151 -> 0.0107 ms); of the 6.4 M-pair 1x1 layers C5 was 1.2x faster,
/// C8 1.06x and C11 no faster (0.0052 -> 0.0053), so those stay on one.
inline constexpr int64_t kAmxMinParallelBinops = int64_t(1) << 23;
inline constexpr int64_t kAmxMinParallelBinopsPerOutput = 64;

/// The shape of the micro-kernel: a parameter of the target.
struct MicroKernelShape {
  /// SIMD register width; a vector holds vectorBits / 64 output channels.
  int64_t vectorBits = 256;
  /// Output pixels per register block.
  int64_t pixelBlock = 4;
  /// Vectors of output channels per register block.
  int64_t channelBlock = 2;
  /// The target pass that rewrites the widening of byte counts, if any.
  ByteCountWidening widening = ByteCountWidening::Portable;
  /// Count bits per 64-bit lane (AVX-512 VPOPCNTDQ `vpopcntq`) and
  /// accumulate in i64 lanes directly, instead of byte counts + widening.
  bool wordPopcount = false;
  /// Count bits with a 16-entry table lookup per nibble (x86 `pshufb`):
  /// activations are stored split into their low and high nibbles
  /// (`a & 0x0f..`, `(a >> 4) & 0x0f..`) and the filter as `w` and `w >> 4`,
  /// so that one AND already gives a table index and counting a byte needs
  /// no mask or shift. The counts are `math.ctpop` marked with
  /// `bitserial.low_nibbles`, which bitserial-x86-byte-counts turns into
  /// lookups. Excludes wordPopcount.
  bool nibbleLookup = false;
  /// With nibbleLookup, split only where a plane pair reduces over at least
  /// this many steps (kernel taps x words): a split doubles a step's loads
  /// and live registers, and the input is copied to split it.
  int64_t minNibbleSteps = kDefaultMinNibbleSteps;
  /// Compute in parallel: scf.forall over (batch, output rows, parts of a
  /// row's channel blocks); the pipeline maps it to OpenMP threads.
  bool parallel = false;
  /// With `parallel`, kernels of fewer AND'ed bit pairs than this run on
  /// one thread (kDefaultMinParallelBinops).
  int64_t minParallelBinops = kDefaultMinParallelBinops;
  /// With `parallel`, kernels of fewer AND'ed bit pairs per output run on
  /// one thread (kDefaultMinParallelBinopsPerOutput).
  int64_t minParallelBinopsPerOutput = kDefaultMinParallelBinopsPerOutput;
  /// Per problem, trade pixels for channel vectors in the register block
  /// (same number of accumulators) when that computes fewer padded outputs,
  /// e.g. 4x2 -> 7x1 for rows of 7 pixels.
  bool fitRegisterBlock = true;
  /// Emit the steps of a chunk (at most 31, see kMaxByteSteps) as straight
  /// line code rather than loops, where the kernel extents are static: an
  /// in-order core (Cortex-A53) then overlaps the loads of one step with the
  /// counts of the previous one, which a rolled loop serializes.
  bool unrollSteps = false;
  /// Sum plane pairs in 8- or 16-bit lanes where no partial sum can
  /// overflow them (short reductions, few bits: 1x1 layers), widening to
  /// 64-bit lanes once per output block instead of once per plane pair. Pays
  /// where widening takes several instructions (AArch64 uaddlp chains).
  bool narrowAccumulators = false;
  /// Keep every activation word of the kernel's input once per 64-bit lane
  /// ([..., CW, lanes]), so that a step reads its broadcast with one vector
  /// load at a constant offset (AArch64 `ldr q`) instead of `ld1r`, which
  /// has no offset form and needs an address add per word. On the in-order
  /// Cortex-A53 every such add (and every load) issued after a NEON op
  /// waits for in-order write-back. Doubles the input copy (lanes = 2).
  bool duplicateActivations = false;
  /// With unrollSteps, give each plane pair of a block its own copy of the
  /// step loops when the block has at most 2 plane pairs (A2W1) of at most
  /// 31 steps each: constant plane-weight shifts, no plane loop carrying
  /// the sums. Pays on the in-order Cortex-A53 (3x3 layers over 64 and 128
  /// channels 2-5% faster), not on Neoverse-N1.
  bool unrollPlanePairs = false;
  /// Without unrollSteps too, blocks whose plane pairs take at most
  /// kMaxStraightLinePairSteps steps together (1x1 layers) have the pairs
  /// as straight-line code rather than a loop: constant plane-weight shifts
  /// and no sums carried around a plane loop. On Zen 5 (vpopcntq) a loop
  /// over C11's 4 pairs of 4 words spilled 14 running sums per pair.
  bool straightLinePlanePairs = false;
  /// Lower a matmul or conv2d together with the threshold, requantize or
  /// dequantize that is the only use of its result: the epilogue runs on
  /// the kernel's registers and only its result is stored.
  bool fuseEpilogues = true;
  /// Sum straight-line plane pairs (see unrollSteps, unrollPlanePairs) in
  /// Horner order where no weight is negative: by falling weight, the sums
  /// so far shifted by the weight step before each pair's counts are added
  /// into them. Byte sums take the steps' counts directly, wider ones the
  /// widened counts; no shifted copy of each pair's counts and no second
  /// set of sums is live (fewer spills on Cortex-A53).
  bool hornerPlanePairs = false;
  /// With narrowAccumulators, a plane pair of 16-bit sums that reduces over
  /// more than one chunk (over 31 steps: a 3x3 window over 4 or more words)
  /// adds every step's byte counts, widened, into the sums (AArch64 `uadalp`,
  /// which costs what the byte `add` does) instead of summing a chunk in
  /// bytes and widening it: the byte sums no longer take registers beside
  /// the 16-bit ones (C10 on the Cortex-A53 model: 21 stack accesses per
  /// kernel row gone, A1W1 12% faster).
  bool widenEachStep = false;
  /// When `init` is an argument of the function and the op's result is only
  /// returned, write the result into a new tensor and only read `init`.
  /// Updated in place, `init`'s buffer is copied into the fresh buffer the
  /// function returns (malloc + memcpy of the whole output after the
  /// kernel: up to 14% of a 1x1 layer's call on Cortex-A53); this way the
  /// kernel writes that buffer itself and leaves the argument intact.
  bool freshReturnedOutput = false;
  /// Per-core cache (L2) that bitserial-tile's default sizes fit tiles
  /// into, for pipelines that tile.
  int64_t cacheBytes = 1 << 20;
};

/// The register block (pixels, channel vectors) the kernel uses for rows of
/// `outWidth` output pixels and `channelsOut` channels (either may be
/// dynamic) when `shape.fitRegisterBlock` is set: among blocks of p >= 2
/// (and p >= `minPixelBlock`, where the row has that many) pixels x q
/// channel vectors with at most the target's accumulators, the
/// one that computes the fewest padded outputs (pixel blocks past the row
/// end, channel vectors past CO); then the most accumulators; then the
/// closest to the target's pixel block. For example 4x2 becomes 7x1 for
/// 7-pixel rows and 2x4 for 14-pixel rows. A dynamic width keeps the
/// target's block.
std::pair<int64_t, int64_t> fitRegisterBlock(const MicroKernelShape &shape,
                                             int64_t outWidth,
                                             int64_t channelsOut,
                                             int64_t minPixelBlock = 2);

/// The portable micro-kernel shape (128-bit vectors, portable widening).
/// Targets' shapes live with their passes under Bitserial/Targets/.
MicroKernelShape getGenericKernelShape();

/// The portable widening the micro-kernels emit, which target passes turn
/// into their instructions:
///
///   multi_reduction<add>(ext(shape_cast(v : N x iW -> M x G x iW)) to
///                        M x G x iW', acc) over dim 1 : M x iW'
///
/// the sums of each group of G adjacent lanes of `v`, zero- or
/// sign-extended.
struct LaneGroupSum {
  /// `v` and its type.
  Value narrow;
  VectorType narrowType;
  /// G, the lanes summed into one.
  int64_t group;
  /// Whether the lanes are sign-extended (arith.extsi).
  bool isSigned;
  /// M x iW'.
  VectorType resultType;
};

/// `op` as a LaneGroupSum of a rank-1, fixed-size vector, if it is one.
std::optional<LaneGroupSum> matchLaneGroupSum(vector::MultiDimReductionOp op);

#define GEN_PASS_DECL_CONVERTBITSERIALTOVECTOR
#include "Bitserial/Conversion/Passes.h.inc"

/// Patterns lowering bitserial.conv2d and bitserial.matmul to vector
/// micro-kernels (ops outside the kernel's scope are left alone).
void populateBitserialToVectorConversionPatterns(
    const TypeConverter &typeConverter, RewritePatternSet &patterns,
    const MicroKernelShape &shape);

} // namespace mlir::bitserial

#endif // BITSERIAL_CONVERSION_BITSERIALTOVECTOR_BITSERIALTOVECTOR_H
