//===- Runner.cpp - Compile and run bitserial modules on the host ---------===//

#include "Bitserial/Runner/Runner.h"
#include "Bitserial/Runner/ThreadTeam.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/DataLayoutInterfaces.h"

#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/ExecutionEngine/Orc/CoreContainers.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/ExecutionEngine/Orc/Mangling.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/DynamicLibrary.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/TargetParser/Host.h"

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <dlfcn.h>
#include <malloc.h>
#include <mutex>
#include <random>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

using namespace mlir;
using namespace mlir::bitserial;

static llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

//===----------------------------------------------------------------------===//
// Runner
//===----------------------------------------------------------------------===//

//===----------------------------------------------------------------------===//
// Per-op profile
//===----------------------------------------------------------------------===//

namespace {
/// What the compiled code's profiling calls update: exclusive time per op,
/// with the time of a nested profiled op (a profiled function called from
/// another) counted to it alone.
struct ProfileState {
  std::vector<uint64_t> calls;
  std::vector<double> seconds;
  /// The ops entered and not yet exited, innermost last.
  std::vector<int64_t> stack;
  std::chrono::steady_clock::time_point last;

  void charge(std::chrono::steady_clock::time_point now) {
    if (!stack.empty())
      seconds[stack.back()] +=
          std::chrono::duration<double>(now - last).count();
    last = now;
  }
};
} // namespace

/// The state of the one profiling Runner (the compiled code calls plain
/// functions).
static ProfileState *activeProfile = nullptr;

static void profileEnter(int64_t id) {
  auto now = std::chrono::steady_clock::now();
  ProfileState *state = activeProfile;
  if (!state || id < 0 || size_t(id) >= state->calls.size())
    return;
  state->charge(now);
  ++state->calls[id];
  state->stack.push_back(id);
}

static void profileExit(int64_t id) {
  auto now = std::chrono::steady_clock::now();
  ProfileState *state = activeProfile;
  if (!state || state->stack.empty() || state->stack.back() != id)
    return;
  state->charge(now);
  state->stack.pop_back();
}

struct Runner::Impl {
  /// The lowered module; the engine refers to its context.
  std::unique_ptr<LoweringSession> session;
  /// The target machine the LLVM optimizer asks for costs (vector widths,
  /// features), alive while the engine may still compile.
  std::unique_ptr<llvm::TargetMachine> optimizerMachine;
  std::unique_ptr<ExecutionEngine> engine;
  std::string entry;
  std::string targetDescription;
  SmallVector<TensorSpec> arguments, results;
  bool checkInputValues = true;

  ModuleStats stats;

  bool profile = false;
  /// Name and location of each profiled op, by id.
  std::vector<std::pair<std::string, std::string>> profiledOps;
  ProfileState profileState;
  uint64_t profileCalls = 0;
  double profileSeconds = 0;

  /// With RunnerOptions::keepInput, the module as parsed.
  OwningOpRef<ModuleOp> inputModule;
  /// With RunnerOptions::keepPassIR, the optimized LLVM IR.
  std::string llvmIR;

  /// The entry's packed interface once compiled (compile()).
  std::mutex compileMutex;
  std::atomic<void (*)(void **)> function{nullptr};
  unsigned threads = 1;
  /// Parallel code runs on the thread team (ThreadTeam.h), not libomp.
  bool threadTeam = false;
  /// libomp's omp_set_num_threads, for parallel code on libomp.
  void (*setNumThreads)(int) = nullptr;

  ~Impl() {
    if (activeProfile == &profileState)
      activeProfile = nullptr;
  }
};

Runner::Runner(std::unique_ptr<Impl> impl) : impl(std::move(impl)) {}
Runner::~Runner() = default;

StringRef Runner::getEntry() const { return impl->entry; }
StringRef Runner::getTargetDescription() const {
  return impl->targetDescription;
}
ArrayRef<TensorSpec> Runner::getArguments() const { return impl->arguments; }
ArrayRef<TensorSpec> Runner::getResults() const { return impl->results; }
const ModuleStats &Runner::getStats() const { return impl->stats; }

//===----------------------------------------------------------------------===//
// Memory allocation in compiled code
//===----------------------------------------------------------------------===//

/// What the compiled code's allocation functions print before exiting.
static char allocationErrorPrefix[256] = "error";

static uint64_t physicalMemory = UINT64_MAX;

[[noreturn]] static void reportAllocationFailure(size_t bytes) {
  // Compiled code cannot unwind: report once (OpenMP threads may fail
  // together) and exit without running destructors under its frames.
  static std::atomic<bool> reported{false};
  if (!reported.exchange(true)) {
    std::fprintf(stderr,
                 "%s: out of memory: the compiled function could not "
                 "allocate %zu bytes\n",
                 allocationErrorPrefix, bytes);
    std::fflush(stderr);
  }
  std::_Exit(1);
}

/// malloc, aligned_alloc and realloc for the compiled code, which uses their
/// results unchecked. More than the physical memory is refused: with
/// overcommit, malloc would succeed and filling the buffer would get the
/// process killed.
static void *checkedMalloc(size_t bytes) {
  if (bytes > physicalMemory)
    reportAllocationFailure(bytes);
  void *pointer = std::malloc(bytes);
  if (!pointer && bytes != 0)
    reportAllocationFailure(bytes);
  return pointer;
}
static void *checkedAlignedAlloc(size_t alignment, size_t bytes) {
  if (bytes > physicalMemory)
    reportAllocationFailure(bytes);
  void *pointer = std::aligned_alloc(alignment, bytes);
  if (!pointer && bytes != 0)
    reportAllocationFailure(bytes);
  return pointer;
}
static void *checkedRealloc(void *old, size_t bytes) {
  if (bytes > physicalMemory)
    reportAllocationFailure(bytes);
  void *pointer = std::realloc(old, bytes);
  if (!pointer && bytes != 0)
    reportAllocationFailure(bytes);
  return pointer;
}

/// While alive, a crash of the compiled code (undefined behavior in the IR:
/// an out-of-bounds access, a stack overflow, a division by zero) prints one
/// error line and exits with code 1 instead of dying by a signal.
class CrashGuard {
public:
  /// Calls may run on several threads at once: the first one in installs
  /// the handlers, the last one out restores the previous ones.
  CrashGuard() {
    // A stack overflow leaves no stack for the handler: give this thread
    // its own, unless LLVM's signal handling already did.
    stack_t current;
    if (sigaltstack(nullptr, &current) == 0 &&
        (current.ss_flags & SS_DISABLE)) {
      // Shared by the threads: only a crash uses it, and the first one
      // ends the process.
      static char altStack[1 << 16];
      stack_t alt = {};
      alt.ss_sp = altStack;
      alt.ss_size = sizeof(altStack);
      sigaltstack(&alt, nullptr);
    }
    std::lock_guard<std::mutex> lock(mutex);
    if (active++ > 0)
      return;
    struct sigaction action = {};
    action.sa_handler = onCrash;
    action.sa_flags = SA_ONSTACK;
    sigemptyset(&action.sa_mask);
    for (size_t i = 0; i < std::size(kSignals); ++i)
      sigaction(kSignals[i], &action, &previous[i]);
  }
  ~CrashGuard() {
    std::lock_guard<std::mutex> lock(mutex);
    if (--active == 0)
      for (size_t i = 0; i < std::size(kSignals); ++i)
        sigaction(kSignals[i], &previous[i], nullptr);
  }

private:
  static constexpr int kSignals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL};
  static inline std::mutex mutex;
  static inline unsigned active = 0;
  static inline struct sigaction previous[std::size(kSignals)];

  static void onCrash(int signal) {
    const char *what =
        signal == SIGFPE   ? "SIGFPE (an integer division by zero or overflow)"
        : signal == SIGILL ? "SIGILL (an instruction this CPU does not have)"
        : signal == SIGBUS ? "SIGBUS (an out-of-bounds access)"
                           : "SIGSEGV (an out-of-bounds access or a stack "
                             "overflow)";
    // Only async-signal-safe calls here.
    auto put = [](const char *text) {
      ssize_t ignored = write(STDERR_FILENO, text, std::strlen(text));
      (void)ignored;
    };
    put(allocationErrorPrefix);
    put(": the compiled function crashed with ");
    put(what);
    put("\n");
    _exit(1);
  }
};

//===----------------------------------------------------------------------===//
// The CPU of the JIT and the kernel target
//===----------------------------------------------------------------------===//

/// The target machine builder of the CPU the JIT generates code for (`cpu`,
/// with its own features only, or the host CPU with all its features).
static llvm::Expected<llvm::orc::JITTargetMachineBuilder>
getJitTargetMachineBuilder(StringRef cpu) {
  auto builder = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!builder)
    return makeError("cannot describe the host: " +
                     llvm::toString(builder.takeError()));
  if (cpu.empty())
    return builder;
  // LLVM only warns about a CPU it does not know and then generates code for
  // a generic one: check the name first.
  std::string lookupError;
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(
      builder->getTargetTriple(), lookupError);
  if (!target)
    return makeError("no code generator for " +
                     builder->getTargetTriple().str() + ": " + lookupError);
  std::unique_ptr<llvm::MCSubtargetInfo> subtarget(
      target->createMCSubtargetInfo(builder->getTargetTriple(), "", ""));
  if (!subtarget || !subtarget->isCPUStringValid(cpu))
    return makeError("unknown --cpu '" + cpu + "' for " +
                     builder->getTargetTriple().str() +
                     " (llc -mtriple=" + builder->getTargetTriple().str() +
                     " -mcpu=help lists the names)");
  builder->setCPU(cpu.str());
  builder->getFeatures() = llvm::SubtargetFeatures(); // the CPU's own only
  return builder;
}

/// Whether LLVM emits instructions of `feature` only for explicit intrinsics
/// (system, cache, crypto and matrix instructions: our code calls none of
/// them but AMX's, and those only where the host has AMX too), so that code
/// for a CPU with it runs on a host without it. Hosts, virtual machines in
/// particular, often hide some of these.
static bool isIntrinsicOnlyFeature(StringRef feature) {
  static const llvm::StringSet<> names = {
      "aes",         "cldemote", "clflushopt", "clwb",      "clzero",
      "cmpccxadd",   "enqcmd",   "fsgsbase",   "hreset",    "invpcid",
      "kl",          "lwp",      "monitor",    "movdir64b", "movdiri",
      "movrs",       "mwaitx",   "pconfig",    "pku",       "prefetchi",
      "prefetchwt1", "ptwrite",  "raoint",     "rdpid",     "rdpru",
      "rdrnd",       "rdseed",   "rtm",        "serialize", "sgx",
      "sha",         "sha512",   "shstk",      "sm3",       "sm4",
      "tsxldtrk",    "uintr",    "usermsr",    "vaes",      "waitpkg",
      "wbnoinvd",    "widekl",   "xsave",      "xsavec",    "xsaveopt",
      "xsaves"};
  return names.contains(feature) || feature.starts_with("amx-");
}

/// Erases the functions that the entry cannot reach through symbol
/// references: the JIT only ever calls the entry, and lowering the others
/// would cost compile time (and could fail on code that never runs). Keeps
/// everything when an op might refer to symbols in ways it does not declare.
static void eraseUnreachableFunctions(ModuleOp module, func::FuncOp entry) {
  SymbolTable symbols(module);
  llvm::SmallPtrSet<Operation *, 16> reachable{entry};
  SmallVector<Operation *> worklist{entry};
  while (!worklist.empty()) {
    std::optional<SymbolTable::UseRange> uses =
        SymbolTable::getSymbolUses(worklist.pop_back_val());
    if (!uses)
      return;
    for (const SymbolTable::SymbolUse &use : *uses)
      if (Operation *symbol =
              symbols.lookup(use.getSymbolRef().getRootReference()))
        if (reachable.insert(symbol).second)
          worklist.push_back(symbol);
  }
  for (func::FuncOp function :
       llvm::make_early_inc_range(module.getOps<func::FuncOp>()))
    if (!reachable.contains(function))
      function.erase();
}

/// Code for --cpu runs on this machine: the CPU may not have an instruction
/// set feature that the host lacks (the code would fault).
static llvm::Error checkRunsOnHost(const CpuFeatures &cpu, StringRef cpuName) {
  SmallVector<std::string> missing;
  for (const auto &feature : llvm::sys::getHostCPUFeatures())
    if (!feature.getValue() && !isIntrinsicOnlyFeature(feature.getKey()) &&
        cpu.has(feature.getKey()))
      missing.push_back(feature.getKey().str());
  if (missing.empty())
    return llvm::Error::success();
  llvm::sort(missing);
  return makeError("code for --cpu '" + cpuName +
                   "' cannot run on this machine, which lacks " +
                   llvm::join(missing, ", ") +
                   " (host CPU: " + llvm::sys::getHostCPUName() + ")");
}

llvm::Expected<std::unique_ptr<Runner>>
Runner::create(StringRef path, const RunnerOptions &options) {
  return createImpl([&] { return LoweringSession::parse(path); }, path,
                    options);
}

llvm::Expected<std::unique_ptr<Runner>>
Runner::createFromSource(std::unique_ptr<llvm::MemoryBuffer> source,
                         const RunnerOptions &options) {
  std::string name = source->getBufferIdentifier().str();
  return createImpl(
      [&] { return LoweringSession::parseSource(std::move(source)); }, name,
      options);
}

llvm::Expected<std::unique_ptr<Runner>> Runner::createImpl(
    llvm::function_ref<llvm::Expected<std::unique_ptr<LoweringSession>>()>
        parseModule,
    StringRef path, const RunnerOptions &options) {
  static bool initialized = [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
#ifdef M_MMAP_THRESHOLD
    // Compiled code mallocs its buffers on every call. Keep freed memory in
    // the heap rather than returning it to the kernel, so repeated calls do
    // not pay page faults on fresh pages (what a deployment with a buffer
    // pool would see).
    mallopt(M_MMAP_THRESHOLD, 1 << 30);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
    physicalMemory = getPhysicalMemory();
    return true;
  }();
  (void)initialized;
  std::snprintf(allocationErrorPrefix, sizeof(allocationErrorPrefix),
                "%s: error", options.programName.c_str());

  if (options.optLevel > 3)
    return makeError("the JIT optimization level must be 0, 1, 2 or 3, got " +
                     llvm::Twine(options.optLevel));
  if (options.threads < 1 || options.threads > RunnerOptions::kMaxThreads)
    return makeError("the thread count must be in [1, " +
                     llvm::Twine(RunnerOptions::kMaxThreads) + "], got " +
                     llvm::Twine(options.threads));

  // The CPU first: it decides what `--target host` means.
  auto builder = getJitTargetMachineBuilder(options.cpu);
  if (!builder)
    return builder.takeError();
  auto cpuFeatures =
      CpuFeatures::get(builder->getTargetTriple(), builder->getCPU(),
                       builder->getFeatures().getString());
  if (!cpuFeatures)
    return cpuFeatures.takeError();
  if (!options.cpu.empty())
    if (llvm::Error error = checkRunsOnHost(*cpuFeatures, options.cpu))
      return error;
  KernelTarget kernelTarget = options.target;
  if (options.strategy == LoweringStrategy::Vector) {
    std::string cpuName = options.cpu.empty()
                              ? "the host CPU '" + builder->getCPU() + "'"
                              : "--cpu '" + options.cpu + "'";
    auto resolved =
        resolveKernelTargetForCPU(options.target, *cpuFeatures,
                                  builder->getTargetTriple(),
                                  builder->getCPU(), cpuName, /*jit=*/true);
    if (!resolved)
      return resolved.takeError();
    kernelTarget = *resolved;
  }

  auto impl = std::make_unique<Impl>();
  impl->checkInputValues = options.checkInputValues;
  impl->targetDescription =
      (options.strategy == LoweringStrategy::Vector
           ? getKernelTargetName(kernelTarget).str() + " kernels"
           : std::string("reference lowering")) +
      ", cpu " + builder->getCPU();
  auto session = parseModule();
  if (!session)
    return session.takeError();
  impl->session = std::move(*session);
  LoweringSession &lowering = *impl->session;
  ModuleOp module = lowering.getModule();
  if (options.keepInput)
    impl->inputModule = module.clone();
  impl->threads = options.threads;
  impl->threadTeam =
      options.threads > 1 &&
      options.threadRuntime == RunnerOptions::ThreadRuntime::Team;

  // Find the entry function.
  SmallVector<func::FuncOp> publicFunctions = lowering.getPublicFunctions();
  std::string names;
  for (func::FuncOp f : publicFunctions)
    names += (names.empty() ? "" : ", ") + f.getName().str();
  func::FuncOp entry;
  if (options.entry.empty()) {
    if (publicFunctions.size() != 1)
      return makeError(path + ": the module has " +
                       llvm::Twine(publicFunctions.size()) +
                       " public functions; name one with --entry" +
                       (names.empty() ? "" : " (candidates: " + names + ")"));
    entry = publicFunctions.front();
  } else {
    entry = module.lookupSymbol<func::FuncOp>(options.entry);
    if (!entry || entry.isExternal() || !entry.isPublic())
      return makeError(
          "unknown entry function '" + options.entry + "' in " + path +
          " (public functions: " + (names.empty() ? "none" : names) + ")");
  }
  impl->entry = entry.getName().str();
  eraseUnreachableFunctions(module, entry);
  // Half the main thread's stack (OpenMP threads have less, and other frames
  // need some).
  struct rlimit stack;
  uint64_t stackBudget =
      getrlimit(RLIMIT_STACK, &stack) == 0 && stack.rlim_cur != RLIM_INFINITY
          ? uint64_t(stack.rlim_cur) / 2
          : uint64_t(4) << 20;
  if (llvm::Error error = lowering.checkStaticSizes(entry, stackBudget))
    return std::move(error);
  if (llvm::Error error =
          getSignatureSpecs(entry, impl->arguments, impl->results))
    return std::move(error);

  LoweringOptions loweringOptions;
  loweringOptions.strategy = options.strategy;
  loweringOptions.tile = options.tile;
  loweringOptions.parallel = options.threads > 1;
  loweringOptions.minParallelBinops = options.minParallelBinops;
  loweringOptions.profile = options.profile;
  loweringOptions.printKernels = options.printKernels;
  loweringOptions.tuningCache = options.tuningCache;
  loweringOptions.tuningCpu = builder->getCPU();
  loweringOptions.printTuningKeys = options.printTuningKeys;
  loweringOptions.keepPassIR = options.keepPassIR;
  setInt8Features(loweringOptions, builder->getTargetTriple(), *cpuFeatures);
  // AMX only where this machine has it too: the runner's check of --cpu
  // against the host leaves AMX out (a CPU model may list it), and the
  // code runs here.
  llvm::StringMap<bool> hostFeatures = llvm::sys::getHostCPUFeatures();
  loweringOptions.amx = builder->getTargetTriple().isX86() &&
                        cpuFeatures->has("amx-tile") &&
                        cpuFeatures->has("amx-int8") &&
                        hostFeatures.lookup("amx-tile") &&
                        hostFeatures.lookup("amx-int8");
  loweringOptions.target =
      kernelTarget == KernelTarget::Host
          ? selectKernelTarget(
                builder->getTargetTriple(), builder->getCPU(),
                [&](StringRef feature) { return cpuFeatures->has(feature); })
          : kernelTarget;
  if (llvm::Error error = lowering.lowerToLLVMDialect(loweringOptions))
    return std::move(error);
  if (builder->getTargetTriple().isX86())
    if (llvm::Error error = checkIntrinsicFeatures(
            module, *cpuFeatures,
            options.cpu.empty() ? "the host CPU '" + builder->getCPU() + "'"
                                : "--cpu '" + options.cpu + "'"))
      return error;
  // The JIT's code runs in this process.
  if (usesAmxTiles(module))
    if (llvm::Error error = requestAmxPermission())
      return error;
  // Arguments the code never writes are read in place (runViews).
  ArrayRef<bool> written = lowering.getWrittenArguments(impl->entry);
  if (written.size() == impl->arguments.size())
    for (auto [spec, isWritten] : llvm::zip(impl->arguments, written))
      spec.written = isWritten;
  {
    // Constant data the code carries: weights (also packed at compile
    // time), lookup tables.
    DataLayout layout(module);
    module.walk([&](LLVM::GlobalOp global) {
      if (!global.getConstant())
        return;
      ++impl->stats.constantGlobals;
      impl->stats.constantBytes += layout.getTypeSize(global.getGlobalType());
    });
  }
  if (options.profile) {
    // The table bitserial-profile-ops left: [name, location] per id.
    impl->profile = true;
    if (auto table = module->getAttrOfType<ArrayAttr>("bitserial.profile_ops"))
      for (Attribute row : table) {
        auto pair = dyn_cast<ArrayAttr>(row);
        auto name = pair && pair.size() == 2 ? dyn_cast<StringAttr>(pair[0])
                                             : StringAttr();
        auto location = name ? dyn_cast<StringAttr>(pair[1]) : StringAttr();
        impl->profiledOps.emplace_back(name ? name.str() : "?",
                                       location ? location.str() : "?");
      }
    module->removeAttr("bitserial.profile_ops");
    impl->profileState.calls.assign(impl->profiledOps.size(), 0);
    impl->profileState.seconds.assign(impl->profiledOps.size(), 0);
    activeProfile = &impl->profileState;
  }

  // Without a target machine, LLVM's cost model knows no vector registers
  // and vectorizes no loop (e.g. the kernels' input copies).
  auto optimizerMachine = builder->createTargetMachine();
  if (!optimizerMachine)
    return makeError("cannot create a code generator for the CPU: " +
                     llvm::toString(optimizerMachine.takeError()));
  impl->optimizerMachine = std::move(*optimizerMachine);
  // `transformer` is a function_ref: keep the callable alive.
  std::function<llvm::Error(llvm::Module *)> optimize =
      makeOptimizingTransformer(options.optLevel, /*sizeLevel=*/0,
                                impl->optimizerMachine.get());
  if (options.keepPassIR)
    optimize = [optimize, llvmIR = &impl->llvmIR](
                   llvm::Module *llvmModule) -> llvm::Error {
      if (llvm::Error error = optimize(llvmModule))
        return error;
      llvm::raw_string_ostream os(*llvmIR);
      llvmModule->print(os, nullptr);
      return llvm::Error::success();
    };
  ExecutionEngineOptions engineOptions;
  engineOptions.transformer = optimize;
  SmallVector<StringRef> sharedLibs{BITSERIAL_C_RUNNER_UTILS};
  if (options.threads > 1 && !impl->threadTeam) {
    // libomp reads the thread count when its first parallel region starts.
    setenv("OMP_NUM_THREADS", std::to_string(options.threads).c_str(), 1);
    sharedLibs.push_back(BITSERIAL_OPENMP_RUNTIME);
  }
  engineOptions.sharedLibPaths = sharedLibs;
  engineOptions.enableObjectDump = !options.objectFile.empty();
  auto machine = builder->createTargetMachine();
  if (!machine)
    return makeError("cannot create a code generator for the CPU: " +
                     llvm::toString(machine.takeError()));
  auto engine =
      ExecutionEngine::create(module, engineOptions, std::move(*machine));
  if (!engine) {
    std::string message = llvm::toString(engine.takeError());
    return lowering.takeError("JIT compilation failed: " + message);
  }
  impl->engine = std::move(*engine);
  // Before anything is compiled: these take precedence over the process's.
  auto teamSymbols = impl->threadTeam
                         ? getThreadTeamSymbols()
                         : std::vector<std::pair<const char *, void *>>();
  impl->engine->registerSymbols([&](llvm::orc::MangleAndInterner interner) {
    llvm::orc::SymbolMap symbols;
    auto add = [&](StringRef name, auto *function) {
      symbols[interner(name)] = {llvm::orc::ExecutorAddr::fromPtr(function),
                                 llvm::JITSymbolFlags::Exported};
    };
    add("malloc", &checkedMalloc);
    add("aligned_alloc", &checkedAlignedAlloc);
    add("realloc", &checkedRealloc);
    add("bitserial_profile_enter", &profileEnter);
    add("bitserial_profile_exit", &profileExit);
    for (auto [name, function] : teamSymbols)
      add(name, function);
    return symbols;
  });
  // An unresolved symbol would only be reported (twice, once by the JIT
  // session) when the entry is called: name the declaration instead.
  for (auto func : module.getOps<LLVM::LLVMFuncOp>()) {
    StringRef name = func.getName();
    if (!func.isExternal() || name.starts_with("llvm.") ||
        llvm::is_contained({"malloc", "aligned_alloc", "realloc",
                            "bitserial_profile_enter",
                            "bitserial_profile_exit"},
                           name) ||
        llvm::sys::DynamicLibrary::SearchForAddressOfSymbol(name.str()))
      continue;
    emitError(func.getLoc())
        << "'" << name
        << "' is declared but not defined, and no loaded library "
           "provides it";
    return lowering.takeError(path + ": undefined symbol '" + name + "'");
  }
  if (!options.objectFile.empty()) {
    // Compilation is lazy: look the entry up to produce the object first.
    if (auto entry = impl->engine->lookup("_mlir_ciface_" + impl->entry);
        !entry)
      return makeError("JIT compilation failed: " +
                       llvm::toString(entry.takeError()));
    {
      // dumpToObjectFile only prints its errors: check the path first.
      std::error_code error;
      llvm::raw_fd_ostream probe(options.objectFile, error);
      if (error)
        return makeError("cannot write the object file '" +
                         options.objectFile + "': " + error.message());
    }
    impl->engine->dumpToObjectFile(options.objectFile);
  }
  lowering.flushDiagnostics();
  return std::unique_ptr<Runner>(new Runner(std::move(impl)));
}

static std::string shapeToString(ArrayRef<int64_t> shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + (ShapedType::isDynamic(shape[i])
                                ? std::string("?")
                                : std::to_string(shape[i]));
  if (shape.size() == 1)
    s += ",";
  return s + ")";
}

/// The multi-dimensional index of flat index `i` in C order, as "[0, 3]".
static std::string indexToString(int64_t i, ArrayRef<int64_t> shape) {
  SmallVector<int64_t> index(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    index[d] = i % shape[d];
    i /= shape[d];
  }
  std::string s = "[";
  for (auto [d, value] : llvm::enumerate(index))
    s += (d ? ", " : "") + std::to_string(value);
  return s + "]";
}

/// The element at flat index `i` as written in the file: an uint64 above
/// INT64_MAX does not fit in `value` (`unsignedValue` holds it).
static bool getFileValue(const ArrayView &array, int64_t i, int64_t &value,
                         uint64_t &unsignedValue) {
  value = array.getElement(i);
  unsignedValue = static_cast<uint64_t>(value);
  return !(array.kind == 'u' && array.itemSize == 8 && value < 0);
}

/// Values of an argument that feeds bitserial.pack lie in its range.
static llvm::Error checkRange(const ArrayView &input, const TensorSpec &spec) {
  int64_t n = input.getNumElements();
  for (int64_t i = 0; i < n; ++i) {
    int64_t value;
    uint64_t unsignedValue;
    bool fits = getFileValue(input, i, value, unsignedValue);
    // Unsigned codes as wide as the element type are bit patterns: an 8-bit
    // unsigned 200 is -56 in an i8 tensor.
    if (fits && spec.bitWidth < 64 &&
        spec.maxValue > (int64_t(1) << (spec.bitWidth - 1)) - 1)
      value &= (int64_t(1) << spec.bitWidth) - 1;
    if (fits && value >= spec.minValue && value <= spec.maxValue &&
        (!spec.oddOnly || (value & 1)))
      continue;
    return makeError(
        spec.description + ": value " +
        (fits ? std::to_string(value) : std::to_string(unsignedValue)) +
        " at index " + indexToString(i, input.shape) + " is not in [" +
        llvm::Twine(spec.minValue) + ", " + llvm::Twine(spec.maxValue) + "]" +
        (spec.oddOnly ? " (odd values only)" : "") + ", the range of " +
        spec.rangeOrigin + " (--no-check-inputs skips this check)");
  }
  return llvm::Error::success();
}

/// Words of a packed argument have no bits set at or past the logical
/// length in any plane (what bitserial.pack produces; kernels count them).
static llvm::Error checkPackedWords(const ArrayView &input,
                                    const TensorSpec &spec) {
  int64_t n = input.getNumElements();
  int64_t words = input.shape.empty() ? 1 : input.shape.back();
  unsigned width = spec.bitWidth;
  uint64_t widthMask = width == 64 ? ~uint64_t(0) : (uint64_t(1) << width) - 1;
  for (int64_t i = 0; i < n; ++i) {
    int64_t first = (i % words) * width;
    int64_t valid = std::clamp<int64_t>(spec.packedLength - first, 0, width);
    if (valid == width)
      continue;
    uint64_t word = static_cast<uint64_t>(input.getElement(i)) & widthMask;
    uint64_t stray = word & ~((uint64_t(1) << valid) - 1);
    if (!stray)
      continue;
    std::string hex;
    llvm::raw_string_ostream os(hex);
    os << llvm::format_hex(word, 2 + width / 4);
    return makeError(spec.description + ": word " + hex + " at index " +
                     indexToString(i, input.shape) + " has bit " +
                     llvm::Twine(first + llvm::countr_zero(stray)) +
                     " of its plane set, at or past the packed length " +
                     llvm::Twine(spec.packedLength) +
                     " (bits past the length must be zero; "
                     "--no-check-inputs skips this check)");
  }
  return llvm::Error::success();
}

/// Whether `input` has a dtype that `spec`'s element type takes: bool for
/// i1, signed or unsigned integers of the width, floats of the width.
static bool hasDtype(const ArrayView &input, const TensorSpec &spec) {
  if (spec.isFloat)
    return input.kind == 'f' && input.itemSize * 8 == spec.bitWidth;
  if (spec.bitWidth == 1)
    return input.kind == 'b';
  return (input.kind == 'i' || input.kind == 'u') &&
         input.itemSize * 8 == spec.bitWidth;
}

static std::string getExpectedDtype(const TensorSpec &spec) {
  std::string width = std::to_string(spec.bitWidth);
  if (spec.isFloat)
    return "float" + width;
  if (spec.bitWidth == 1)
    return "bool";
  return "int" + width + " (or uint" + width + ")";
}

int64_t ArrayView::getNumElements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

int64_t ArrayView::getElement(int64_t i) const {
  return loadInteger(static_cast<const char *>(data) + i * itemSize, kind,
                     itemSize);
}

std::string ArrayView::getDtypeName() const {
  NpyArray described;
  described.kind = kind;
  described.itemSize = itemSize;
  return described.getDtypeName();
}

static ArrayView viewOf(const NpyArray &array) {
  ArrayView view;
  view.kind = array.kind;
  view.itemSize = array.itemSize;
  view.shape = array.shape;
  view.data = array.data.data();
  return view;
}

llvm::Error Runner::checkInputs(ArrayRef<NpyArray> inputs) const {
  SmallVector<ArrayView> views;
  for (const NpyArray &input : inputs)
    views.push_back(viewOf(input));
  if (inputs.size() == impl->arguments.size()) {
    // Arrays not read by parseNpy: the data must match the shape.
    for (auto [input, spec] : llvm::zip(inputs, impl->arguments)) {
      auto bytes = getByteSize(input.shape, input.itemSize, spec.description);
      if (!bytes)
        return bytes.takeError();
      if (*bytes != input.data.size())
        return makeError(spec.description + ": the array holds " +
                         llvm::Twine(input.data.size()) + " bytes, its shape " +
                         shapeToString(input.shape) + " needs " +
                         llvm::Twine(*bytes));
    }
  }
  return checkInputs(views);
}

llvm::Error Runner::checkInputs(ArrayRef<ArrayView> inputs) const {
  if (inputs.size() != impl->arguments.size())
    return makeError("'" + impl->entry + "' takes " +
                     llvm::Twine(impl->arguments.size()) + " inputs, got " +
                     llvm::Twine(inputs.size()));
  for (auto [input, spec] : llvm::zip(inputs, impl->arguments)) {
    if (input.shape.size() != spec.shape.size())
      return makeError(spec.description + ": expected rank " +
                       llvm::Twine(spec.shape.size()) + ", got an array of "
                       "shape " + shapeToString(input.shape));
    for (auto [have, want] : llvm::zip(input.shape, spec.shape))
      if (!ShapedType::isDynamic(want) && have != want)
        return makeError(spec.description + ": expected shape " +
                         shapeToString(spec.shape) + ", got " +
                         shapeToString(input.shape));
    if (!hasDtype(input, spec))
      return makeError(spec.description + ": expected dtype " +
                       getExpectedDtype(spec) + ", got " +
                       input.getDtypeName());
    if (llvm::Error error =
            getByteSize(input.shape, input.itemSize, spec.description)
                .takeError())
      return error;
  }
  if (!impl->checkInputValues)
    return llvm::Error::success();
  for (auto [input, spec] : llvm::zip(inputs, impl->arguments)) {
    if (spec.rangeChecked)
      if (llvm::Error error = checkRange(input, spec))
        return error;
    if (spec.packedLength > 0)
      if (llvm::Error error = checkPackedWords(input, spec))
        return error;
  }
  return llvm::Error::success();
}

/// The .npy kind of arrays for `spec`: signed integers, bool or float.
static char getArrayKind(const TensorSpec &spec) {
  return spec.isFloat ? 'f' : spec.bitWidth == 1 ? 'b' : 'i';
}

llvm::Expected<std::vector<NpyArray>>
Runner::makeRandomInputs(uint64_t seed) const {
  std::mt19937_64 rng(seed);
  std::vector<NpyArray> inputs;
  for (const TensorSpec &spec : impl->arguments) {
    if (llvm::any_of(spec.shape, ShapedType::isDynamic))
      return makeError(spec.description +
                       ": cannot make random inputs for a dynamic shape; "
                       "pass --input files");
    auto array =
        NpyArray::allocate(getArrayKind(spec), std::max(1u, spec.bitWidth / 8),
                           spec.shape, spec.description);
    if (!array)
      return array.takeError();
    int64_t n = array->getNumElements();
    if (spec.isFloat) {
      // Uniform in [-1, 1) on a grid the element type holds exactly (a
      // rounded draw could otherwise reach 1.0).
      unsigned bits = spec.bitWidth == 32 ? 24 : 53;
      for (int64_t i = 0; i < n; ++i)
        array->setFloatElement(
            i, std::ldexp(static_cast<double>(rng() >> (64 - bits)),
                          1 - int(bits)) -
                   1.0);
    } else if (spec.packedLength > 0) {
      // Random bits, zero past the logical length (the packed invariant).
      int64_t words = spec.shape.back();
      for (int64_t i = 0; i < n; ++i) {
        uint64_t word = rng();
        int64_t first = (i % words) * spec.bitWidth;
        int64_t valid =
            std::clamp<int64_t>(spec.packedLength - first, 0, spec.bitWidth);
        if (valid < 64)
          word &= (uint64_t(1) << valid) - 1;
        array->setElement(i, static_cast<int64_t>(word));
      }
    } else {
      uint64_t span = spec.maxValue - spec.minValue + 1;
      for (int64_t i = 0; i < n; ++i) {
        int64_t value = spec.minValue + static_cast<int64_t>(rng() % span);
        if (spec.oddOnly && (value & 1) == 0)
          value = value == spec.maxValue ? value - 1 : value + 1;
        array->setElement(i, value);
      }
    }
    inputs.push_back(std::move(*array));
  }
  return inputs;
}

/// A memref descriptor {allocated, aligned, offset, sizes[r], strides[r]}.
static std::vector<int64_t> makeDescriptor(const void *data,
                                           ArrayRef<int64_t> shape) {
  size_t rank = shape.size();
  std::vector<int64_t> descriptor(3 + 2 * rank);
  descriptor[0] = descriptor[1] = reinterpret_cast<intptr_t>(data);
  int64_t stride = 1;
  for (size_t i = rank; i-- > 0;) {
    descriptor[3 + i] = shape[i];
    descriptor[3 + rank + i] = stride;
    stride *= shape[i];
  }
  return descriptor;
}

/// Copies the result described by `descriptor` (any strides) into a new
/// malloc'ed buffer in C order.
static llvm::Expected<ResultBuffer> copyResult(const int64_t *descriptor,
                                               const TensorSpec &spec) {
  size_t rank = spec.shape.size();
  ArrayRef<int64_t> sizes(descriptor + 3, rank);
  ArrayRef<int64_t> strides(descriptor + 3 + rank, rank);
  ResultBuffer output;
  output.kind = getArrayKind(spec);
  output.itemSize = std::max(1u, spec.bitWidth / 8);
  output.shape.assign(sizes.begin(), sizes.end());
  unsigned itemSize = output.itemSize;
  auto bytes = getByteSize(sizes, itemSize, spec.description);
  if (!bytes)
    return bytes.takeError();
  if (llvm::Error error = checkAllocation(*bytes, spec.description))
    return std::move(error);
  output.allocation = std::malloc(std::max<uint64_t>(*bytes, 1));
  if (!output.allocation)
    return makeError("out of memory: cannot allocate " + llvm::Twine(*bytes) +
                     " bytes for " + spec.description);
  output.data = output.allocation;
  int64_t n = *bytes / itemSize;
  if (n == 0)
    return output;
  const char *aligned =
      reinterpret_cast<const char *>(descriptor[1]) + descriptor[2] * itemSize;
  char *out = static_cast<char *>(output.data);
  SmallVector<int64_t> index(rank, 0);
  for (int64_t i = 0; i < n; ++i) {
    int64_t offset = 0;
    for (size_t d = 0; d < rank; ++d)
      offset += index[d] * strides[d];
    std::memcpy(out + i * itemSize, aligned + offset * itemSize, itemSize);
    for (size_t d = rank; d-- > 0;) {
      if (++index[d] < sizes[d])
        break;
      index[d] = 0;
    }
  }
  return output;
}

/// Whether the memref of `descriptor` is dense in C order.
static bool isContiguous(const int64_t *descriptor, size_t rank) {
  ArrayRef<int64_t> sizes(descriptor + 3, rank);
  ArrayRef<int64_t> strides(descriptor + 3 + rank, rank);
  for (int64_t d = rank - 1, expected = 1; d >= 0; --d) {
    if (sizes[d] != 1 && strides[d] != expected)
      return false;
    expected *= sizes[d];
  }
  return true;
}

llvm::Error Runner::compile() {
  std::lock_guard<std::mutex> lock(impl->compileMutex);
  if (impl->function)
    return llvm::Error::success();
  // What invokePacked does, once: the first lookup compiles.
  impl->engine->initialize();
  auto function = impl->engine->lookupPacked("_mlir_ciface_" + impl->entry);
  if (!function)
    return makeError("calling '" + impl->entry +
                     "' failed: " + llvm::toString(function.takeError()));
  if (impl->threads > 1 && !impl->threadTeam) {
    // libomp reads OMP_NUM_THREADS once per process: set each call's count
    // on the calling thread (another Runner may want another one).
    if (void *omp = dlopen(BITSERIAL_OPENMP_RUNTIME, RTLD_LAZY | RTLD_NOLOAD)) {
      impl->setNumThreads =
          reinterpret_cast<void (*)(int)>(dlsym(omp, "omp_set_num_threads"));
      dlclose(omp);
    }
  }
  impl->function = *function;
  return llvm::Error::success();
}

llvm::Expected<std::vector<NpyArray>>
Runner::run(ArrayRef<NpyArray> inputs, double *seconds) {
  if (llvm::Error error = checkInputs(inputs))
    return std::move(error);
  SmallVector<ArrayView> views;
  for (const NpyArray &input : inputs)
    views.push_back(viewOf(input));
  auto results = call(views, seconds);
  if (!results)
    return results.takeError();
  std::vector<NpyArray> outputs;
  llvm::Error error = llvm::Error::success();
  for (auto [result, spec] : llvm::zip(*results, impl->results)) {
    if (!error) {
      auto output = NpyArray::allocate(result.kind, result.itemSize,
                                       result.shape, spec.description);
      if (output) {
        if (!output->data.empty())
          std::memcpy(output->data.data(), result.data, output->data.size());
        outputs.push_back(std::move(*output));
      } else {
        error = output.takeError();
      }
    }
    std::free(result.allocation);
  }
  if (error)
    return std::move(error);
  return outputs;
}

llvm::Expected<std::vector<ResultBuffer>>
Runner::runViews(ArrayRef<ArrayView> inputs, double *seconds) {
  if (llvm::Error error = checkInputs(inputs))
    return std::move(error);
  return call(inputs, seconds);
}

llvm::Expected<std::vector<ResultBuffer>>
Runner::call(ArrayRef<ArrayView> inputs, double *seconds) {
  if (llvm::Error error = compile())
    return std::move(error);

  // The callee may write into its arguments' buffers (one-shot bufferization
  // treats function arguments as writable): those it writes get copies.
  // Marking the arguments `bufferization.writable = false` instead is not
  // safe in MLIR 22: the out-of-place buffer of a partial
  // vector.transfer_write is not initialized from the argument.
  std::vector<std::vector<char>> copies;
  SmallVector<const void *> buffers;
  for (auto [input, spec] : llvm::zip(inputs, impl->arguments)) {
    if (!spec.written) {
      buffers.push_back(input.data);
      continue;
    }
    size_t bytes = input.getNumElements() * input.itemSize;
    if (llvm::Error error =
            checkAllocation(bytes, "a copy of " + spec.description))
      return std::move(error);
    const char *data = static_cast<const char *>(input.data);
    copies.emplace_back(data, data + bytes);
    buffers.push_back(copies.back().data());
  }
  std::vector<std::vector<int64_t>> inputDescriptors;
  std::vector<void *> inputPointers;
  for (auto [input, buffer] : llvm::zip(inputs, buffers))
    inputDescriptors.push_back(makeDescriptor(buffer, input.shape));
  for (auto &descriptor : inputDescriptors)
    inputPointers.push_back(descriptor.data());

  size_t resultWords = 0;
  for (const TensorSpec &spec : impl->results)
    resultWords += 3 + 2 * spec.shape.size();
  std::vector<int64_t> resultBlock(resultWords, 0);
  void *resultPointer = resultBlock.data();

  SmallVector<void *> args;
  if (!impl->results.empty())
    args.push_back(&resultPointer);
  for (void *&pointer : inputPointers)
    args.push_back(&pointer);

  // The time is the entry's alone: installing the crash handlers takes
  // system calls, several microseconds in some virtual machines.
  std::chrono::steady_clock::time_point start, stop;
  {
    CrashGuard guard;
    // The count of the calling thread (another Runner may want another).
    if (impl->threadTeam)
      setThreadTeamSize(impl->threads);
    else if (impl->setNumThreads)
      impl->setNumThreads(impl->threads);
    start = std::chrono::steady_clock::now();
    impl->function.load()(args.data());
    stop = std::chrono::steady_clock::now();
  }
  double elapsed = std::chrono::duration<double>(stop - start).count();
  if (seconds)
    *seconds = elapsed;
  if (impl->profile) {
    ++impl->profileCalls;
    impl->profileSeconds += elapsed;
  }

  // A result is handed over as the callee allocated it, unless it is not
  // dense, or shares its buffer with an input or an earlier result
  // (`return %r, %r`): those are copied before anything is freed. Then each
  // buffer the callee allocated and nobody took is freed exactly once.
  SmallVector<const int64_t *> descriptors;
  size_t position = 0;
  for (const TensorSpec &spec : impl->results) {
    descriptors.push_back(resultBlock.data() + position);
    position += 3 + 2 * spec.shape.size();
  }
  llvm::SmallPtrSet<void *, 8> taken;
  for (const void *buffer : buffers)
    taken.insert(const_cast<void *>(buffer));
  std::vector<ResultBuffer> outputs;
  llvm::Error copyError = llvm::Error::success();
  for (auto [descriptor, spec] : llvm::zip(descriptors, impl->results)) {
    void *allocated = reinterpret_cast<void *>(descriptor[0]);
    if (allocated && !taken.contains(allocated) &&
        isContiguous(descriptor, spec.shape.size())) {
      taken.insert(allocated);
      ResultBuffer output;
      output.kind = getArrayKind(spec);
      output.itemSize = std::max(1u, spec.bitWidth / 8);
      output.shape.assign(descriptor + 3, descriptor + 3 + spec.shape.size());
      output.allocation = allocated;
      output.data = reinterpret_cast<char *>(descriptor[1]) +
                    descriptor[2] * output.itemSize;
      outputs.push_back(std::move(output));
      continue;
    }
    auto output = copyResult(descriptor, spec);
    if (!output) {
      copyError = output.takeError();
      break;
    }
    outputs.push_back(std::move(*output));
  }
  for (const int64_t *descriptor : descriptors) {
    void *allocated = reinterpret_cast<void *>(descriptor[0]);
    if (allocated && taken.insert(allocated).second)
      std::free(allocated);
  }
  if (copyError) {
    for (ResultBuffer &output : outputs)
      std::free(output.allocation);
    return std::move(copyError);
  }
  return outputs;
}

std::string Runner::getInputIR() const {
  std::string text;
  if (impl->inputModule) {
    llvm::raw_string_ostream os(text);
    impl->inputModule->print(os);
  }
  return text;
}

std::string Runner::getLoweredIR() const {
  std::string text;
  llvm::raw_string_ostream os(text);
  impl->session->getModule().print(os);
  return text;
}

ArrayRef<PassIR> Runner::getPassIR() const {
  return impl->session->getPassIR();
}

StringRef Runner::getLLVMIR() const { return impl->llvmIR; }

Profile Runner::getProfile() const {
  Profile profile;
  if (!impl->profile)
    return profile;
  for (auto [i, op] : llvm::enumerate(impl->profiledOps))
    profile.ops.push_back({op.first, op.second, impl->profileState.calls[i],
                           impl->profileState.seconds[i]});
  profile.calls = impl->profileCalls;
  profile.seconds = impl->profileSeconds;
  return profile;
}

void Runner::resetProfile() {
  llvm::fill(impl->profileState.calls, 0);
  llvm::fill(impl->profileState.seconds, 0.0);
  impl->profileState.stack.clear();
  impl->profileCalls = 0;
  impl->profileSeconds = 0;
}
