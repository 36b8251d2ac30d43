//===- Runner.h - Compile and run bitserial modules on the host -*- C++ -*-===//
//
// The library behind bitserial-run: parses a module, checks the signature of
// an entry function (ranked integer tensors in, ranked integer tensors out),
// lowers it with the bitserial-to-llvm pipeline (the lowering of Compiler.h,
// shared with ahead-of-time compilation), JIT-compiles it with
// mlir::ExecutionEngine and calls it on NpyArray inputs, or on views of
// caller-owned buffers (runViews, which the Python extension uses).
//
//===----------------------------------------------------------------------===//

#ifndef BITSERIAL_RUNNER_RUNNER_H
#define BITSERIAL_RUNNER_RUNNER_H

#include "Bitserial/Runner/Compiler.h"
#include "Bitserial/Runner/Npy.h"

#include <memory>

namespace mlir::bitserial {

struct RunnerOptions {
  /// The function to call; empty means the module's only public function.
  std::string entry;
  /// LLVM optimization level of the JIT (0-3).
  unsigned optLevel = 2;
  /// How matmul and conv2d are lowered, and for which target.
  LoweringStrategy strategy = LoweringStrategy::Vector;
  /// Threads for the vector kernels' output rows (OpenMP); 1 is sequential.
  unsigned threads = 1;
  /// What runs the parallel kernels' OpenMP calls: the runner's own thread
  /// team (ThreadTeam.h), or libomp (Debian's libomp5-22), as objects
  /// compiled ahead of time do.
  enum class ThreadRuntime { Team, LibOmp };
  ThreadRuntime threadRuntime = ThreadRuntime::Team;
  /// Far above any core count: a typo cannot ask for millions of threads.
  static constexpr unsigned kMaxThreads = 1024;
  /// With threads > 1, kernels of fewer AND'ed bit pairs stay on one
  /// thread (0: every kernel is split; negative: the pipelines' default).
  int64_t minParallelBinops = -1;
  /// Run bitserial-tile first (tile sizes from op attributes or its
  /// heuristic).
  bool tile = false;
  /// CPU the JIT generates code for (e.g. "x86-64-v3" to emulate an
  /// AVX2-only machine), with its own features only; it may lack features of
  /// the host, not have instruction set features the host lacks. Empty means
  /// the host CPU and all its features.
  std::string cpu;
  /// `host` means the best target `cpu` supports; other targets must be
  /// supported by it.
  KernelTarget target = KernelTarget::Host;
  /// If not empty, the JIT-compiled object is also written to this file.
  std::string objectFile;
  /// Check input values: the encoding's range for arguments that feed
  /// bitserial.pack, zero bits past the logical length for packed arguments.
  bool checkInputValues = true;
  /// Names the program in the message printed when memory allocation inside
  /// the compiled code fails (which exits with code 1).
  std::string programName = "bitserial-run";
  /// Time each top-level compute op of the entry (bitserial-profile-ops);
  /// see Runner::getProfile(). One profiling Runner per process at a time.
  bool profile = false;
  /// Print each matmul's and conv2d's kernel choice and estimates on stderr
  /// (remarks of bitserial-select-kernels).
  bool printKernels = false;
  /// A JSON tuning cache (benchmarks/tune.py), looked up for the JIT's CPU;
  /// print each op's tuning key as a remark.
  std::string tuningCache;
  bool printTuningKeys = false;
  /// Keep a copy of the parsed module (Runner::getInputIR()).
  bool keepInput = false;
  /// Keep the IR after every pass of the lowering and the optimized LLVM IR
  /// (Runner::getPassIR(), Runner::getLLVMIR()).
  bool keepPassIR = false;
};

/// A dense C-order array the caller owns, read in place by Runner::runViews:
/// kind and itemSize as in NpyArray.
struct ArrayView {
  char kind = 'i';
  unsigned itemSize = 4;
  llvm::ArrayRef<int64_t> shape;
  const void *data = nullptr;

  int64_t getNumElements() const;
  /// The element at flat index `i` (integers and bool), sign- or
  /// zero-extended to 64 bits.
  int64_t getElement(int64_t i) const;
  std::string getDtypeName() const;
};

/// A result of Runner::runViews: a dense C-order buffer whose ownership
/// passes to the caller, who frees `allocation` with std::free (null for
/// an empty result that owns nothing). `data` points into it.
struct ResultBuffer {
  char kind = 'i';
  unsigned itemSize = 4;
  llvm::SmallVector<int64_t> shape;
  void *data = nullptr;
  void *allocation = nullptr;
};

/// One row of a per-op profile.
struct ProfileRow {
  /// "bitserial.matmul", "linalg.generic", "func.call callee", ...
  std::string name;
  /// "file.mlir:12", or "?".
  std::string location;
  /// How often the op ran.
  uint64_t calls = 0;
  /// Time inside the op (not inside other profiled ops it calls).
  double seconds = 0;
};

/// The profile of the calls since the last Runner::resetProfile().
struct Profile {
  /// One row per profiled op of the module, in module order.
  std::vector<ProfileRow> ops;
  /// Calls of the entry and their total wall time (as run() measures it).
  uint64_t calls = 0;
  double seconds = 0;
};

/// What the lowered module holds.
struct ModuleStats {
  /// Constant globals (weights, packed weights, lookup tables) and their
  /// total size in bytes.
  uint64_t constantGlobals = 0;
  uint64_t constantBytes = 0;
};

class Runner {
public:
  /// Parses and verifies `path`, checks the entry function and the CPU,
  /// lowers and JIT-compiles it. MLIR diagnostics come back as a
  /// DiagnosticError, other errors are single lines.
  static llvm::Expected<std::unique_ptr<Runner>>
  create(llvm::StringRef path, const RunnerOptions &options);
  /// The same for a module held in memory (text or bytecode); the buffer's
  /// identifier names it in diagnostics and messages.
  static llvm::Expected<std::unique_ptr<Runner>>
  createFromSource(std::unique_ptr<llvm::MemoryBuffer> source,
                   const RunnerOptions &options);
  ~Runner();

  /// Compiles the entry function to machine code now rather than at its
  /// first call.
  llvm::Error compile();

  llvm::StringRef getEntry() const;
  /// What the code was generated for, e.g. "x86-avx2 kernels, cpu
  /// x86-64-v3" (`host` resolved).
  llvm::StringRef getTargetDescription() const;
  llvm::ArrayRef<TensorSpec> getArguments() const;
  llvm::ArrayRef<TensorSpec> getResults() const;
  /// Sizes of the lowered module.
  const ModuleStats &getStats() const;

  /// Checks count, rank, shape and dtype of `inputs` against the signature,
  /// and their values (unless RunnerOptions::checkInputValues is false).
  llvm::Error checkInputs(llvm::ArrayRef<NpyArray> inputs) const;
  llvm::Error checkInputs(llvm::ArrayRef<ArrayView> inputs) const;

  /// Deterministic inputs within each argument's range: the range of the
  /// encoding for arguments that feed bitserial.pack, valid packed words for
  /// packed arguments, small values for accumulators and other integers.
  llvm::Expected<std::vector<NpyArray>> makeRandomInputs(uint64_t seed) const;

  /// Checks `inputs` and calls the entry function. Inputs are never
  /// modified; each result is a separate array, also when the function
  /// returns one tensor twice or returns an argument. If `seconds` is given,
  /// it receives the wall time of the call alone.
  llvm::Expected<std::vector<NpyArray>> run(llvm::ArrayRef<NpyArray> inputs,
                                            double *seconds = nullptr);

  /// Like run(), without copies where they can be avoided: arguments the
  /// code does not write (TensorSpec::written) are read in place, the
  /// others are copied once (inputs are never modified); a result is the
  /// buffer the code allocated unless it is another result's or an
  /// input's. May run concurrently on several threads, unless profiling.
  llvm::Expected<std::vector<ResultBuffer>>
  runViews(llvm::ArrayRef<ArrayView> inputs, double *seconds = nullptr);

  /// With RunnerOptions::keepInput: the parsed module, printed.
  std::string getInputIR() const;
  /// The module lowered to the LLVM dialect, printed.
  std::string getLoweredIR() const;
  /// With RunnerOptions::keepPassIR: the IR after each pass of the lowering,
  /// and the LLVM IR the JIT compiles (after LLVM's optimizations).
  llvm::ArrayRef<PassIR> getPassIR() const;
  llvm::StringRef getLLVMIR() const;

  /// With RunnerOptions::profile: the time of each profiled op over the
  /// calls since the last reset (the time of the rest is `seconds` less
  /// the ops' time). Empty otherwise.
  Profile getProfile() const;
  void resetProfile();

private:
  struct Impl;
  explicit Runner(std::unique_ptr<Impl> impl);
  static llvm::Expected<std::unique_ptr<Runner>> createImpl(
      llvm::function_ref<llvm::Expected<std::unique_ptr<LoweringSession>>()>
          parseModule,
      llvm::StringRef path, const RunnerOptions &options);
  /// Calls the entry on checked inputs.
  llvm::Expected<std::vector<ResultBuffer>>
  call(llvm::ArrayRef<ArrayView> inputs, double *seconds);
  std::unique_ptr<Impl> impl;
};

} // namespace mlir::bitserial

#endif // BITSERIAL_RUNNER_RUNNER_H
