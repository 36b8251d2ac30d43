//===- Pipelines.h - Bitserial lowering pipelines ---------------*- C++ -*-===//

#ifndef BITSERIAL_PIPELINES_PIPELINES_H
#define BITSERIAL_PIPELINES_PIPELINES_H

#include "Bitserial/Analysis/CostModel.h"
#include "Bitserial/Conversion/BitserialToVector/BitserialToVector.h"
#include "Bitserial/Conversion/BitserialToX86Int8/BitserialToX86Int8.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"
#include "llvm/TargetParser/Triple.h"

namespace mlir::bitserial {

/// How matmul and conv2d are lowered.
enum class LoweringStrategy {
  /// convert-bitserial-to-linalg: the exact, slow oracle.
  Reference,
  /// convert-bitserial-to-vector: register-blocked vector micro-kernels.
  Vector,
};

/// The target the vector micro-kernels are shaped for.
enum class KernelTarget {
  /// On x86 the best of x86-avx512-vpopcntdq, x86-avx512 (AVX-512BW) and
  /// x86-avx2 the host has; on AArch64 aarch64-a53 for in-order cores and
  /// aarch64-ooo for the others; generic elsewhere.
  Host,
  X86Avx2,
  X86Avx512,
  /// AVX-512 with VPOPCNTDQ: vpopcntq on 64-bit lanes.
  X86Avx512Vpopcntdq,
  /// In-order AArch64 (Cortex-A53/A55): NEON, straight-line steps.
  AArch64A53,
  /// Out-of-order AArch64 (Cortex-A72, Neoverse-N1 class).
  AArch64OutOfOrder,
  /// 128-bit vectors and target-independent widening.
  Generic,
};

/// The instruction set family a kernel target's code needs.
enum class TargetArch {
  /// Any: `generic` (and `host`, before it is resolved).
  Any,
  X86,
  AArch64,
};

/// The `--target` name of `target`, e.g. "x86-avx2".
llvm::StringRef getKernelTargetName(KernelTarget target);

/// The instruction set family of `target`.
TargetArch getKernelTargetArch(KernelTarget target);

/// The LLVM triple and CPU that ahead-of-time code for `target` is compiled
/// for when none is given: the host's for `host` and `generic`, x86-64-v3
/// or x86-64-v4 for x86, aarch64-linux-gnu with cortex-a53 or neoverse-n1
/// for AArch64.
std::pair<std::string, std::string> getDefaultTripleAndCPU(KernelTarget target);

/// The `--target` values of the pipelines.
llvm::cl::ValuesClass getKernelTargetValues();

/// The options of the `bitserial-vectorize` pipeline, which
/// `bitserial-to-llvm` has too (declared once for both).
template <typename Derived>
struct BitserialVectorizeOptionsBase : public PassPipelineOptions<Derived> {
  using PassOptions = ::mlir::detail::PassOptions;
  PassOptions::Option<KernelTarget> target{
      *this, "target", llvm::cl::desc("Target of the vector micro-kernels"),
      llvm::cl::init(KernelTarget::Host), getKernelTargetValues()};
  PassOptions::Option<bool> parallel{
      *this, "parallel",
      llvm::cl::desc("Compute output rows and channel parts in parallel "
                     "(scf.forall; bitserial-to-llvm makes them OpenMP "
                     "threads, which need the OpenMP runtime when run)"),
      llvm::cl::init(false)};
  PassOptions::Option<int64_t> minParallelBinops{
      *this, "min-parallel-binops",
      llvm::cl::desc("With parallel, bit-serial kernels of fewer AND'ed bit "
                     "pairs stay on one thread (0: every kernel is split; "
                     "negative: 2^24, or 2^23 with amx)"),
      llvm::cl::init(-1)};
  PassOptions::Option<int64_t> minParallelBinopsPerOutput{
      *this, "min-parallel-binops-per-output",
      llvm::cl::desc("With parallel, bit-serial kernels of fewer AND'ed bit "
                     "pairs per output stay on one thread (negative: 256, "
                     "or 64 with amx)"),
      llvm::cl::init(-1)};
  PassOptions::Option<bool> tile{
      *this, "tile",
      llvm::cl::desc("Tile matmul and conv2d first (bitserial-tile: op "
                     "attributes, the tile-size options, or the heuristic)"),
      llvm::cl::init(false)};
  PassOptions::ListOption<int64_t> matmulTileSizes{
      *this, "matmul-tile-sizes",
      llvm::cl::desc("With tile: tile sizes of matmul ([batch,] M, N)")};
  PassOptions::ListOption<int64_t> convTileSizes{
      *this, "conv-tile-sizes",
      llvm::cl::desc("With tile: tile sizes of conv2d (N, OH, OW, CO)")};
  PassOptions::Option<bool> dotProduct{
      *this, "dot-product",
      llvm::cl::desc("AArch64 targets: the CPU has the dot product "
                     "instructions (sdot/udot); matmul and conv2d of enough "
                     "bits become int8 dot products "
                     "(convert-bitserial-to-arm-neon)"),
      llvm::cl::init(false)};
  PassOptions::Option<bool> i8mm{
      *this, "i8mm",
      llvm::cl::desc("AArch64 targets: the CPU has the int8 matrix multiply "
                     "instructions (smmla/ummla/usmmla)"),
      llvm::cl::init(false)};
  PassOptions::Option<bool> x86Int8{
      *this, "x86-int8",
      llvm::cl::desc("x86 targets: matmul and conv2d of enough bits become "
                     "exact int8 dot products (convert-bitserial-to-x86-int8: "
                     "vpdpbusd with avx512-vnni or avx-vnni, else vpmaddwd)"),
      llvm::cl::init(false)};
  PassOptions::Option<bool> x86Lookup{
      *this, "x86-lookup",
      llvm::cl::desc("Matmul and conv2d of 1- or 2-bit activations become "
                     "table lookups where the cost model finds them cheaper "
                     "(convert-bitserial-to-x86-lookup): on x86-avx2 vpshufb "
                     "with 1-bit weights, on x86-avx512-vpopcntdq with "
                     "avx512-vbmi vpermb with 2-bit weights"),
      llvm::cl::init(true)};
  PassOptions::Option<bool> avx512Vbmi{
      *this, "avx512-vbmi",
      llvm::cl::desc("x86 targets: the CPU has AVX512-VBMI (vpermb, for the "
                     "lookups of x86-avx512-vpopcntdq)"),
      llvm::cl::init(false)};
  PassOptions::Option<bool> avx512Vnni{
      *this, "avx512-vnni",
      llvm::cl::desc("x86 targets: the CPU has AVX512-VNNI (vpdpbusd on zmm "
                     "for the AVX-512 targets)"),
      llvm::cl::init(false)};
  PassOptions::Option<bool> avxVnni{
      *this, "avx-vnni",
      llvm::cl::desc("x86 targets: the CPU has vpdpbusd on ymm (AVX-VNNI, or "
                     "AVX512-VNNI with AVX512VL), for x86-avx2"),
      llvm::cl::init(false)};
  PassOptions::Option<bool> amx{
      *this, "amx",
      llvm::cl::desc("x86 AVX-512 targets: the CPU has AMX-INT8 and the "
                     "process may use it: int8 convolutions of static shape "
                     "on AMX tiles (convert-bitserial-to-x86-int8 "
                     "instruction=amx), the other int8 ops with vpdpbusd "
                     "or vpmaddwd"),
      llvm::cl::init(false)};
  PassOptions::Option<bool> x86NarrowProducts{
      *this, "x86-narrow-products",
      llvm::cl::desc("x86 targets without VNNI: int8 kernels multiply with "
                     "vpmaddubsw into i16 sums where the operands' ranges "
                     "prove them exact (convert-bitserial-to-x86-int8 "
                     "narrow-products)"),
      llvm::cl::init(true)};
  PassOptions::Option<int64_t> int8MinBitProduct{
      *this, "int8-min-bit-product",
      llvm::cl::desc("Smallest activation bits x weight bits lowered to int8 "
                     "dot products (0: the target's measured default; 65: "
                     "only ops marked bitserial.int8 = true)"),
      llvm::cl::init(0)};
  PassOptions::Option<bool> printKernels{
      *this, "print-kernels",
      llvm::cl::desc("Emit a remark per matmul and conv2d with the kernel "
                     "bitserial-select-kernels chose and its estimates"),
      llvm::cl::init(false)};
  PassOptions::Option<std::string> tuningCache{
      *this, "tuning-cache",
      llvm::cl::desc("JSON tuning cache (benchmarks/tune.py) whose measured "
                     "winners replace the cost model's choices")};
  PassOptions::Option<std::string> tuningCpu{
      *this, "tuning-cpu",
      llvm::cl::desc("LLVM CPU name the tuning cache entries must name "
                     "(default: the host CPU)")};
  PassOptions::Option<bool> printTuningKeys{
      *this, "print-tuning-keys",
      llvm::cl::desc("Emit a remark per tunable matmul and conv2d with its "
                     "tuning cache key (JSON)"),
      llvm::cl::init(false)};

  /// Sets these options to `other`'s values.
  template <typename Other>
  void copySharedOptions(const BitserialVectorizeOptionsBase<Other> &other) {
    target = other.target;
    parallel = other.parallel;
    minParallelBinops = other.minParallelBinops;
    minParallelBinopsPerOutput = other.minParallelBinopsPerOutput;
    tile = other.tile;
    matmulTileSizes = other.matmulTileSizes;
    convTileSizes = other.convTileSizes;
    dotProduct = other.dotProduct;
    i8mm = other.i8mm;
    x86Int8 = other.x86Int8;
    x86Lookup = other.x86Lookup;
    avx512Vbmi = other.avx512Vbmi;
    avx512Vnni = other.avx512Vnni;
    avxVnni = other.avxVnni;
    amx = other.amx;
    x86NarrowProducts = other.x86NarrowProducts;
    int8MinBitProduct = other.int8MinBitProduct;
    printKernels = other.printKernels;
    tuningCache = other.tuningCache;
    tuningCpu = other.tuningCpu;
    printTuningKeys = other.printTuningKeys;
  }
};

/// Options of the `bitserial-vectorize` pipeline.
struct BitserialVectorizePipelineOptions
    : public BitserialVectorizeOptionsBase<BitserialVectorizePipelineOptions> {
};

/// Appends to `pm` (anchored on builtin.module) optional tiling, the choice
/// of each op's kernel by the cost model (bitserial-select-kernels, for the
/// target and its int8 instruction) and the vector micro-kernel lowering
/// shaped for `options.target`, on tensors. On AArch64 targets with
/// `dot-product` or `i8mm`, and on x86 targets with `x86-int8` (the
/// instruction `getX86Int8Instruction` picks), the ops chosen for int8
/// become int8 dot products first.
void buildBitserialVectorizePipeline(
    OpPassManager &pm, const BitserialVectorizePipelineOptions &options);

/// Options of the `bitserial-to-llvm` pipeline: those of
/// `bitserial-vectorize` (for the vector strategy), then its own.
struct BitserialToLLVMPipelineOptions
    : public BitserialVectorizeOptionsBase<BitserialToLLVMPipelineOptions> {
  PassOptions::Option<LoweringStrategy> strategy{
      *this, "strategy", llvm::cl::desc("Lowering of matmul and conv2d"),
      llvm::cl::init(LoweringStrategy::Vector),
      llvm::cl::values(
          clEnumValN(LoweringStrategy::Reference, "reference",
                     "linalg.generic reference lowering (the oracle)"),
          clEnumValN(LoweringStrategy::Vector, "vector",
                     "vector micro-kernels"))};
  PassOptions::Option<bool> emitCInterface{
      *this, "emit-c-interface",
      llvm::cl::desc("Emit _mlir_ciface_ wrappers for public functions "
                     "(needed to call them through mlir::ExecutionEngine)"),
      llvm::cl::init(false)};
  PassOptions::Option<bool> profile{
      *this, "profile",
      llvm::cl::desc("Bracket the compute ops of public functions with calls "
                     "to bitserial_profile_enter/exit(i64 id), after the "
                     "front end and before bitserial ops are lowered "
                     "(bitserial-profile-ops; the host defines the two)"),
      llvm::cl::init(false)};
};

/// Appends to `pm` (anchored on builtin.module) the front part of
/// bitserial-to-llvm: TOSA to linalg, arith, tensor and scf (upstream's
/// decompositions and shape preparation first), elementwise arith and math
/// on tensors to fused linalg.generic (bitserial-elementwise-to-linalg),
/// canonicalization. Bitserial ops pass through unchanged.
void buildFrontEndPipeline(OpPassManager &pm);

/// Appends to `pm` (anchored on builtin.module) the passes that take a module
/// of bitserial ops on tensors, in func.func functions, to the LLVM dialect:
/// the front part above (TOSA, elementwise ops on tensors), the bitserial
/// lowering, one-shot bufferization (function boundaries included, identity
/// layouts), buffer deallocation, loops and LLVM.
void buildBitserialToLLVMPipeline(
    OpPassManager &pm, const BitserialToLLVMPipelineOptions &options);

/// The int8 dot product of an x86 kernel target: vpdpbusd on zmm for the
/// AVX-512 targets with `avx512Vnni` (else vpmaddwd on zmm), vpdpbusd on
/// ymm for x86-avx2 with `avxVnni` (else vpmaddwd on ymm).
X86Int8Instruction getX86Int8Instruction(KernelTarget target, bool avx512Vnni,
                                         bool avxVnni);

/// `target`, or for `host` the best target of this machine.
KernelTarget resolveKernelTarget(KernelTarget target);

/// The micro-kernel shape for `target`, resolving `host` on this machine.
MicroKernelShape getKernelShape(KernelTarget target);

/// The cost model's target for `target`, resolving `host` on this machine.
CostTarget getCostTarget(KernelTarget target);

/// Registers `bitserial-vectorize` and `bitserial-to-llvm` with the pass
/// pipeline registry.
void registerBitserialPipelines();

/// The CPU features (LLVM names, of the target's architecture) the
/// micro-kernels of `target` need; empty for `generic` and for `host`, which
/// is resolved first.
llvm::SmallVector<llvm::StringRef>
getKernelTargetCPUFeatures(KernelTarget target);

/// The best kernel target of a CPU of `triple` named `cpuName`: on x86 the
/// best target whose features it has (`hasFeature` takes LLVM feature
/// names); on AArch64 with NEON aarch64-a53 for in-order cores, aarch64-ooo
/// otherwise; `generic` elsewhere.
KernelTarget
selectKernelTarget(const llvm::Triple &triple, llvm::StringRef cpuName,
                   llvm::function_ref<bool(llvm::StringRef)> hasFeature);

} // namespace mlir::bitserial

#endif // BITSERIAL_PIPELINES_PIPELINES_H
