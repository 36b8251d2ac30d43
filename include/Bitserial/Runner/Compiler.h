//===- Compiler.h - Lower bitserial modules; compile them ahead of time -*-===//
//
// The lowering shared by the JIT (Runner.h) and ahead-of-time compilation:
// parse and verify a module file, check function signatures, lower it with
// the bitserial-to-llvm pipeline. On top of it, compileModule() writes an
// object file (or assembly, or LLVM IR) for a target triple and a C header
// that declares the `_mlir_ciface_<name>` entry points.
//
//===----------------------------------------------------------------------===//

#ifndef BITSERIAL_RUNNER_COMPILER_H
#define BITSERIAL_RUNNER_COMPILER_H

#include "Bitserial/Pipelines/Pipelines.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/TargetParser/Triple.h"

#include <memory>
#include <string>

namespace llvm {
class MCSubtargetInfo;
} // namespace llvm

namespace mlir::bitserial {

/// MLIR diagnostics (parse, verify or lowering errors) rendered as
/// bitserial-opt prints them: location, severity, source line, caret, notes.
class DiagnosticError : public llvm::ErrorInfo<DiagnosticError> {
public:
  static char ID;
  explicit DiagnosticError(std::string rendered)
      : rendered(std::move(rendered)) {}
  /// The rendered text, one or more lines ending in a newline.
  const std::string &getRendered() const { return rendered; }
  void log(llvm::raw_ostream &os) const override;
  std::error_code convertToErrorCode() const override;

private:
  std::string rendered;
};

/// One argument or result of a public function.
struct TensorSpec {
  /// "argument #0 (tensor<4x70xi8>)" or "result #0 (...)", for messages.
  std::string description;
  /// Element bit width: 1, 8, 16, 32 or 64.
  unsigned bitWidth = 32;
  /// f32 or f64 elements (bitWidth 32 or 64) rather than integers.
  bool isFloat = false;
  /// Extents; ShapedType::kDynamic (any size) where the type has '?'.
  llvm::SmallVector<int64_t> shape;

  /// What random inputs look like: integers in [minValue, maxValue] (odd
  /// only if `oddOnly`), or packed words with `packedLength` valid bits per
  /// plane when `packedLength` > 0; floats are uniform in [-1, 1).
  int64_t minValue = 0;
  int64_t maxValue = 0;
  bool oddOnly = false;
  int64_t packedLength = 0;
  /// Whether inputs must lie in [minValue, maxValue] (odd only if `oddOnly`):
  /// the argument feeds bitserial.pack, which gives unspecified planes for
  /// other values. `rangeOrigin` says where the range comes from.
  bool rangeChecked = false;
  std::string rangeOrigin;
  /// Arguments: whether the lowered code may write into the argument's
  /// buffer (an accumulator updated in place). Known once the module is
  /// lowered (LoweringSession::getWrittenArguments); true until then.
  bool written = true;
};

/// The specs of `func`'s arguments (with their value ranges) and results, or
/// an error for a type other than a ranked tensor of i1, i8, i16, i32, i64,
/// f32 or f64.
llvm::Error getSignatureSpecs(func::FuncOp func,
                              llvm::SmallVectorImpl<TensorSpec> &arguments,
                              llvm::SmallVectorImpl<TensorSpec> &results);

/// The bytes of `path` ("-" is standard input). Regular files are mapped;
/// pipes and devices are read up to 1 GiB, so that an endless stream such as
/// /dev/zero is an error rather than an abort when memory runs out.
llvm::Expected<std::unique_ptr<llvm::MemoryBuffer>>
readInputFile(llvm::StringRef path);

/// The features of a CPU (LLVM names), for kernel target checks.
class CpuFeatures {
public:
  /// `cpu` with `features` (a SubtargetFeatures string, may be empty) on
  /// `triple`.
  static llvm::Expected<CpuFeatures> get(const llvm::Triple &triple,
                                         llvm::StringRef cpu,
                                         llvm::StringRef features);
  CpuFeatures(CpuFeatures &&);
  ~CpuFeatures();
  /// Whether the CPU has the feature of LLVM name `name` (false for names
  /// this target does not know).
  bool has(llvm::StringRef name) const;

private:
  CpuFeatures();
  std::unique_ptr<llvm::MCSubtargetInfo> subtarget;
};

/// Resolves `host` to the best kernel target `cpu` supports, and checks that
/// an explicit target suits the architecture of `triple` and that the CPU
/// has every feature its kernels need (LLVM cannot select their intrinsics
/// otherwise, and a real CPU would fault). `cpuModel` is the LLVM CPU name,
/// `cpuName` names the CPU in messages ("--cpu 'x86-64'"); `jit` words the
/// messages for the JIT rather than for --triple.
llvm::Expected<KernelTarget>
resolveKernelTargetForCPU(KernelTarget target, const CpuFeatures &cpu,
                          const llvm::Triple &triple, llvm::StringRef cpuModel,
                          llvm::StringRef cpuName, bool jit);

/// How a module is lowered to the LLVM dialect.
struct LoweringOptions {
  LoweringStrategy strategy = LoweringStrategy::Vector;
  /// A resolved target (not `host`, which would mean this machine).
  KernelTarget target = KernelTarget::Generic;
  /// Run bitserial-tile first.
  bool tile = false;
  /// Vector kernels on OpenMP threads.
  bool parallel = false;
  /// With `parallel`, the pipelines' min-parallel-binops (negative: their
  /// default).
  int64_t minParallelBinops = -1;
  /// AArch64: the CPU has dot products / int8 matrix multiplies, which the
  /// int8 lowering may use (the code generator needs them too).
  bool dotProduct = false;
  bool i8mm = false;
  /// x86: int8 dot products where they win; vpdpbusd on zmm
  /// (AVX512-VNNI) or ymm (AVX-VNNI, or AVX512-VNNI with VL), else vpmaddwd.
  bool x86Int8 = false;
  bool avx512Vnni = false;
  bool avxVnni = false;
  /// x86: AMX-INT8 tiles for the int8 convolutions of the AVX-512 targets
  /// (set for the JIT only: the process must ask Linux for the AMX state,
  /// which the runner does and a program linking an object would have to).
  bool amx = false;
  /// x86: vpermb (AVX512-VBMI), for the lookups of x86-avx512-vpopcntdq.
  bool avx512Vbmi = false;
  /// Bracket the compute ops of public functions with profiling calls
  /// (bitserial-profile-ops).
  bool profile = false;
  /// Report each matmul's and conv2d's kernel choice and estimates as
  /// remarks (bitserial-select-kernels), on stderr.
  bool printKernels = false;
  /// A JSON tuning cache (benchmarks/tune.py) whose entries for `tuningCpu`
  /// replace the cost model's choices; print each op's tuning key.
  std::string tuningCache;
  std::string tuningCpu;
  bool printTuningKeys = false;
  /// Keep the IR after every pass (LoweringSession::getPassIR()); runs the
  /// pipeline on one thread.
  bool keepPassIR = false;
};

/// The IR after one pass of the lowering: the pass's argument (its name if
/// it has none) and the module printed after it ran, or, for a pass on
/// functions, each function it ran on printed after it.
struct PassIR {
  std::string pass;
  std::string ir;
};

/// Checks that `cpu` (described by `cpuName`, e.g. "--cpu 'znver3'") has
/// the features of every x86 intrinsic that `module` (in the LLVM dialect)
/// declares: IR lowered elsewhere for another CPU (vpermb lookups, vpdpbusd)
/// would otherwise stop LLVM's instruction selection with a fatal error.
llvm::Error checkIntrinsicFeatures(mlir::ModuleOp module,
                                   const CpuFeatures &cpu,
                                   llvm::StringRef cpuName);

/// Whether `module` (in the LLVM dialect) uses AMX tiles, which Linux lets a
/// process use only after it asks (requestAmxPermission).
bool usesAmxTiles(mlir::ModuleOp module);

/// Asks Linux for the AMX tile data state (arch_prctl(ARCH_REQ_XCOMP_PERM,
/// XFEATURE_XTILEDATA)) for the whole process, once; the code of the AMX
/// int8 kernel faults (SIGILL) without it.
llvm::Error requestAmxPermission();

/// Sets the int8 dot-product options of `options` from the features of the
/// CPU the code is generated for.
void setInt8Features(LoweringOptions &options, const llvm::Triple &triple,
                     const CpuFeatures &cpu);

/// A module parsed from a file into its own context. Diagnostics reported
/// while it lives are collected and come back as a DiagnosticError.
class LoweringSession {
public:
  /// Parses and verifies `path`.
  static llvm::Expected<std::unique_ptr<LoweringSession>>
  parse(llvm::StringRef path);
  /// Parses and verifies the module in `source` (text or bytecode); the
  /// buffer's identifier names it in diagnostics and messages.
  static llvm::Expected<std::unique_ptr<LoweringSession>>
  parseSource(std::unique_ptr<llvm::MemoryBuffer> source);
  ~LoweringSession();

  MLIRContext &getContext();
  ModuleOp getModule();
  llvm::StringRef getPath() const;
  /// Public functions with a body, in module order.
  llvm::SmallVector<func::FuncOp> getPublicFunctions();

  /// An error at the first value, in `func` or a function it calls, whose
  /// static type needs more than 2^47 bytes, or whose stack allocation
  /// exceeds `stackBudget` bytes.
  llvm::Error checkStaticSizes(func::FuncOp func, uint64_t stackBudget);

  /// Lowers the module to the LLVM dialect (bitserial-to-llvm, with
  /// `_mlir_ciface_` wrappers for public functions).
  llvm::Error lowerToLLVMDialect(const LoweringOptions &options);

  /// After lowerToLLVMDialect: for each argument of the public function
  /// `name`, whether the code may write into its buffer (an op with a write
  /// effect on it or a view of it after bufferization; conservatively, any
  /// use whose effects are unknown). Empty for other functions.
  llvm::ArrayRef<bool> getWrittenArguments(llvm::StringRef name) const;

  /// With LoweringOptions::keepPassIR: the IR after each pass, in order.
  llvm::ArrayRef<PassIR> getPassIR() const;

  /// The diagnostics reported so far as an error, or `fallback` if there
  /// were none.
  llvm::Error takeError(const llvm::Twine &fallback);
  /// Passes warnings and remarks of a successful step on to stderr.
  void flushDiagnostics();

private:
  struct Impl;
  explicit LoweringSession(std::unique_ptr<Impl> impl);
  static llvm::Expected<std::unique_ptr<LoweringSession>>
  parseBuffer(std::unique_ptr<llvm::MemoryBuffer> source, llvm::StringRef path);
  std::unique_ptr<Impl> impl;
};

//===----------------------------------------------------------------------===//
// Ahead-of-time compilation
//===----------------------------------------------------------------------===//

enum class OutputKind { Object, Assembly, LLVMIR };

struct CompilerOptions {
  LoweringStrategy strategy = LoweringStrategy::Vector;
  /// `host` means the best target of the CPU.
  KernelTarget target = KernelTarget::Host;
  bool tile = false;
  /// Vector kernels on OpenMP threads: the object then calls five libomp
  /// entry points, which libomp or libbitserial_thread_team.a (the
  /// runner's thread team) define.
  bool parallel = false;
  /// With `parallel`, kernels of fewer AND'ed bit pairs stay on one thread
  /// (0: every kernel is split; negative: the pipelines' default, 2^24).
  int64_t minParallelBinops = -1;
  /// Print each matmul's and conv2d's kernel choice and estimates on stderr
  /// (remarks of bitserial-select-kernels).
  bool printKernels = false;
  /// A JSON tuning cache (benchmarks/tune.py), looked up for the CPU the
  /// code is compiled for; print each op's tuning key as a remark.
  std::string tuningCache;
  bool printTuningKeys = false;
  /// Target triple; empty means this machine's.
  std::string triple;
  /// LLVM CPU name; empty means the host CPU with all its features for the
  /// host triple, the target's default CPU otherwise.
  std::string cpu;
  OutputKind outputKind = OutputKind::Object;
  /// Used for the header's include guard and comments.
  std::string headerName = "bitserial_module.h";
  /// Names the tool in the header's first line.
  std::string producer = "bitserial";
};

struct CompiledModule {
  /// The object file, assembly or LLVM IR.
  std::string output;
  /// The C header declaring the `_mlir_ciface_<name>` functions.
  std::string header;
  /// E.g. "generic kernels, aarch64-unknown-linux-gnu, cpu cortex-a53".
  std::string targetDescription;
};

/// Compiles every public function of the module in `path`. Each one's
/// `_mlir_ciface_<name>` takes pointers to memref descriptors; its results
/// are fresh malloc'ed buffers (see the header's ABI comment). MLIR
/// diagnostics come back as a DiagnosticError, other errors as one line.
llvm::Expected<CompiledModule> compileModule(llvm::StringRef path,
                                             const CompilerOptions &options);

} // namespace mlir::bitserial

#endif // BITSERIAL_RUNNER_COMPILER_H
