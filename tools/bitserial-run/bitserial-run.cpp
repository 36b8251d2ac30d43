//===- bitserial-run.cpp - Compile and run a bitserial module -------------===//
//
//   bitserial-run FILE.mlir --entry NAME --input A.npy ... --output OUT.npy ...
//   bitserial-run FILE.mlir --entry NAME --random-inputs --seed 7 --print
//
//===----------------------------------------------------------------------===//

#include "Bitserial/Runner/Runner.h"
#include "Bitserial/Runner/ToolSupport.h"

#include "mlir/IR/BuiltinTypes.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <new>

using namespace mlir::bitserial;
namespace cl = llvm::cl;

// --help lists these first (categories are sorted by name, capitals first);
// LLVM's own options are under --help-hidden.
static cl::OptionCategory runCategory("Bitserial-run options");

static cl::opt<std::string> inputFile(cl::Positional, cl::desc("<file.mlir>"),
                                      cl::Required, cl::cat(runCategory));
static cl::opt<std::string>
    entry("entry", cl::desc("Function to call (default: the only public one)"),
          cl::init(""), cl::cat(runCategory));
static cl::list<std::string>
    inputs("input", cl::desc("A .npy file per argument, in argument order"),
           cl::cat(runCategory));
static cl::list<std::string>
    outputs("output", cl::desc("A .npy file per result, in result order"),
            cl::cat(runCategory));
static cl::opt<bool> randomInputs(
    "random-inputs",
    cl::desc("Generate deterministic inputs within each argument's range"),
    cl::cat(runCategory));
static cl::opt<uint64_t> seed("seed", cl::desc("Seed of --random-inputs"),
                              cl::init(0), cl::cat(runCategory));
static cl::opt<std::string> saveInputs(
    "save-inputs",
    cl::desc("Write the inputs used to PREFIX<i>.npy (with --random-inputs)"),
    cl::value_desc("PREFIX"), cl::init(""), cl::cat(runCategory));
static cl::opt<bool> print("print", cl::desc("Print the results"),
                           cl::cat(runCategory));
// Each call's time is kept for the median.
constexpr unsigned kMaxRepeat = 1000000;
static cl::opt<unsigned> repeat(
    "repeat",
    cl::desc("Call N more times and print median/min/max time (N <= 10^6)"),
    cl::init(0), cl::cat(runCategory));
// The first calls after compiling often ran slower than later ones (C5 at 2 x
// 2 bits on AMX: 0.013 ms for about 70 calls, then 0.0108); the baselines
// of benchmarks/ warm up for as long before they time.
constexpr unsigned kMaxWarmupMs = 60000;
static cl::opt<unsigned> warmupMs(
    "warmup",
    cl::desc("Before the --repeat calls, call the entry untimed for at least "
             "N ms and 3 calls, or for max(N ms, 1 s) if calls are slower "
             "(default 50; 0: none)"),
    cl::value_desc("N"), cl::init(50), cl::cat(runCategory));
// Reading a buffer well past the last-level cache before each timed call
// leaves it holding that buffer's clean lines only: the call then reads its
// weights and inputs from memory, as a network's layers do when their weights
// together exceed the caches.
constexpr unsigned kMaxColdMiB = 1 << 12;
static cl::opt<unsigned> coldMiB(
    "cold",
    cl::desc("Before each --repeat call, read a buffer of N MiB (outside the "
             "timed span) so that the call finds its weights and inputs in "
             "memory, not in the caches (e.g. --cold=256; N <= 4096)"),
    cl::value_desc("N"), cl::init(0), cl::cat(runCategory));
static cl::opt<LoweringStrategy> strategy(
    "strategy", cl::desc("Lowering of matmul and conv2d"),
    cl::init(LoweringStrategy::Vector),
    cl::values(clEnumValN(LoweringStrategy::Reference, "reference",
                          "linalg.generic reference lowering (the oracle)"),
               clEnumValN(LoweringStrategy::Vector, "vector",
                          "vector micro-kernels")),
    cl::cat(runCategory));
static cl::opt<KernelTarget> target(
    "target", cl::desc("Target of the vector micro-kernels"),
    cl::init(KernelTarget::Host),
    getKernelTargetValues(),
    cl::cat(runCategory));
static cl::opt<unsigned>
    threads("num-threads",
            cl::desc("Threads for the vector kernels (OpenMP; default 1)"),
            cl::init(1), cl::cat(runCategory));
static cl::opt<RunnerOptions::ThreadRuntime> threadRuntime(
    "thread-runtime", cl::desc("What runs the threads of --num-threads"),
    cl::init(RunnerOptions::ThreadRuntime::Team),
    cl::values(clEnumValN(RunnerOptions::ThreadRuntime::Team, "team",
                          "the runner's thread team, spinning between "
                          "kernels (default)"),
               clEnumValN(RunnerOptions::ThreadRuntime::LibOmp, "libomp",
                          "the OpenMP runtime, as compiled objects use")),
    cl::cat(runCategory));
static cl::opt<long long> minParallelBinops(
    "min-parallel-binops",
    cl::desc("With --num-threads > 1, kernels of fewer AND'ed bit pairs stay "
             "on one thread (0: every kernel is split; default 2^24)"),
    cl::init(-1), cl::cat(runCategory));
static cl::opt<bool>
    tile("tile", cl::desc("Tile matmul and conv2d first (bitserial-tile)"),
         cl::cat(runCategory));
static cl::opt<std::string>
    cpu("cpu",
        cl::desc("CPU to generate code for, e.g. x86-64-v3 to emulate an "
                 "AVX2-only machine (default: the host); it may lack features "
                 "of the host, not have more"),
        cl::init(""), cl::cat(runCategory));
static cl::opt<std::string> objectFile(
    "dump-object",
    cl::desc("Also write the JIT-compiled code to this object file (to "
             "disassemble or profile it)"),
    cl::value_desc("file"), cl::init(""), cl::cat(runCategory));
static cl::opt<unsigned> optLevel("O", cl::desc("JIT optimization level (0-3)"),
                                  cl::init(2), cl::Prefix,
                                  cl::cat(runCategory));
static cl::opt<bool> noCheckInputs(
    "no-check-inputs",
    cl::desc("Do not check input values (the encoding's range for arguments "
             "that feed bitserial.pack, zero bits past the length of packed "
             "arguments); out-of-range values then give unspecified results"),
    cl::cat(runCategory));

static cl::opt<bool> profile(
    "profile",
    cl::desc("Print a per-op time table of the entry's top-level compute ops "
             "(over the --repeat calls, or the one call)"),
    cl::cat(runCategory));

static cl::opt<bool> printKernels(
    "print-kernels",
    cl::desc("Print, as remarks on stderr, the kernel the cost model chose "
             "for each matmul and conv2d (bit-serial or int8, the register "
             "block) and the estimated cycles of each"),
    cl::cat(runCategory));

static cl::opt<std::string> tuningCache(
    "tuning-cache",
    cl::desc("JSON tuning cache (benchmarks/tune.py): its measured kernel and "
             "register block for an op, this target and CPU replace the cost "
             "model's"),
    cl::value_desc("path"), cl::cat(runCategory));

static cl::opt<bool> printTuningKeys(
    "print-tuning-keys",
    cl::desc("Print, as remarks on stderr, each matmul's and conv2d's tuning "
             "cache key and default choice (JSON, for benchmarks/tune.py)"),
    cl::cat(runCategory));

// LLVM's own --stats (pass statistics) takes the plain name.
static cl::opt<bool> moduleStats(
    "module-stats",
    cl::desc("Print the size of the lowered module's constants (weights)"),
    cl::cat(runCategory));
static cl::opt<bool> progress(
    "progress",
    cl::desc("Report progress on stderr once a --repeat run passes 2 s "
             "(default: only when stderr is a terminal)"),
    cl::cat(runCategory));

static cl::opt<double> progressAfter(
    "progress-after",
    cl::desc("Seconds of --repeat before the first progress line"),
    cl::init(2.0), cl::Hidden, cl::cat(runCategory));

static int fail(const llvm::Twine &message) {
  return reportToolError("bitserial-run", message);
}

static void printArray(llvm::raw_ostream &os, const std::string &name,
                       const NpyArray &array) {
  os << name << ": " << array.getDtypeName() << " [";
  for (size_t i = 0; i < array.shape.size(); ++i)
    os << (i ? ", " : "") << array.shape[i];
  os << "]\n";
  int64_t n = array.getNumElements();
  int64_t row = array.shape.empty() ? 1 : std::max<int64_t>(1, array.shape.back());
  constexpr int64_t kMaxPrinted = 4096;
  for (int64_t i = 0; i < std::min(n, kMaxPrinted); ++i) {
    os << (i % row ? " " : "  ");
    // Floats with the digits that read back to the same value.
    if (array.kind == 'f')
      os << llvm::format(array.itemSize == 4 ? "%.9g" : "%.17g",
                         array.getFloatElement(i));
    else
      os << array.getElement(i);
    os << ((i + 1) % row == 0 ? "\n" : "");
  }
  if (n > kMaxPrinted)
    os << "\n  ... (" << n - kMaxPrinted << " more)\n";
}

/// The per-op table, most expensive first; time outside the profiled ops is
/// "other".
static void printProfile(llvm::raw_ostream &os, llvm::StringRef entry,
                         const Profile &profile) {
  std::vector<ProfileRow> rows = profile.ops;
  double inside = 0;
  for (const ProfileRow &row : rows)
    inside += row.seconds;
  rows.push_back(
      {"other", "", profile.calls, std::max(0.0, profile.seconds - inside)});
  std::stable_sort(rows.begin(), rows.end(),
                   [](const ProfileRow &a, const ProfileRow &b) {
                     return a.seconds > b.seconds;
                   });
  double total = std::max(profile.seconds, inside);
  size_t nameWidth = 5, locationWidth = 8;
  for (const ProfileRow &row : rows) {
    nameWidth = std::max(nameWidth, row.name.size());
    locationWidth = std::max(locationWidth, row.location.size());
  }
  os << "profile of '" << entry << "' over " << profile.calls
     << (profile.calls == 1 ? " call" : " calls") << ":\n";
  auto line = [&](llvm::StringRef name, llvm::StringRef location,
                  uint64_t calls, double seconds) {
    os << "  " << llvm::left_justify(name, nameWidth) << "  "
       << llvm::left_justify(location, locationWidth) << "  "
       << llvm::format("%8llu  %10.3f  %5.1f%%\n",
                       static_cast<unsigned long long>(calls), seconds * 1e3,
                       total > 0 ? 100.0 * seconds / total : 0.0);
  };
  os << "  " << llvm::left_justify("op", nameWidth) << "  "
     << llvm::left_justify("location", locationWidth) << "  "
     << "   calls    total ms  share\n";
  for (const ProfileRow &row : rows)
    line(row.name, row.location, row.calls, row.seconds);
  line("total", "", profile.calls, total);
}

/// Prints `error`: MLIR diagnostics as they are rendered, anything else as
/// one line.
static int fail(llvm::Error error) {
  return reportToolError("bitserial-run", std::move(error));
}

static void printVersion(llvm::raw_ostream &os) {
  os << "bitserial " BITSERIAL_VERSION " (bitserial-run)\n";
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  hideOptionsOutside(runCategory);
  cl::AddExtraVersionPrinter(printVersion);
  cl::ParseCommandLineOptions(argc, argv,
                              "bitserial-run: JIT-compile and call a function "
                              "of a bitserial module on .npy inputs\n");
  if (randomInputs && !inputs.empty())
    return fail("use either --input files or --random-inputs, not both");
  if (!randomInputs && !saveInputs.empty())
    return fail("--save-inputs goes with --random-inputs");
  if (optLevel > 3)
    return fail("-O must be 0, 1, 2 or 3");
  if (threads < 1 || threads > RunnerOptions::kMaxThreads)
    return fail("--num-threads must be in [1, " +
                llvm::Twine(RunnerOptions::kMaxThreads) + "]");
  if (!(progressAfter >= 0 && progressAfter <= 1e6))
    return fail("--progress-after must be in [0, 10^6] seconds");
  if (repeat > kMaxRepeat)
    return fail("--repeat must be at most " + llvm::Twine(kMaxRepeat));
  if (coldMiB > kMaxColdMiB)
    return fail("--cold must be at most " + llvm::Twine(kMaxColdMiB) + " MiB");
  if (warmupMs > kMaxWarmupMs)
    return fail("--warmup must be at most " + llvm::Twine(kMaxWarmupMs) +
                " (ms)");
  if (coldMiB && !repeat)
    return fail("--cold applies to the --repeat calls: give --repeat N");

  RunnerOptions options;
  options.entry = entry;
  options.optLevel = optLevel;
  options.strategy = strategy;
  options.target = target;
  options.cpu = cpu;
  options.objectFile = objectFile;
  options.tile = tile;
  options.threads = threads;
  options.threadRuntime = threadRuntime;
  options.minParallelBinops = minParallelBinops;
  options.checkInputValues = !noCheckInputs;
  options.profile = profile;
  options.printKernels = printKernels;
  options.tuningCache = tuningCache;
  options.printTuningKeys = printTuningKeys;
  auto runner = Runner::create(inputFile, options);
  if (!runner)
    return fail(runner.takeError());

  if (!outputs.empty() && outputs.size() != (*runner)->getResults().size())
    return fail("'" + (*runner)->getEntry() + "' returns " +
                llvm::Twine((*runner)->getResults().size()) +
                " results, got " + llvm::Twine(outputs.size()) +
                " --output files");

  std::vector<NpyArray> arrays;
  if (randomInputs) {
    auto generated = (*runner)->makeRandomInputs(seed);
    if (!generated)
      return fail(generated.takeError());
    arrays = std::move(*generated);
    for (size_t i = 0; i < arrays.size() && !saveInputs.empty(); ++i)
      if (llvm::Error error =
              writeNpy(saveInputs + std::to_string(i) + ".npy", arrays[i]))
        return fail(std::move(error));
  } else {
    for (const std::string &path : inputs) {
      auto array = readNpy(path);
      if (!array)
        return fail(array.takeError());
      arrays.push_back(std::move(*array));
    }
  }

  // run() checks the inputs (count, shapes, dtypes, values) first.
  auto results = (*runner)->run(arrays);
  if (!results)
    return fail(results.takeError());

  for (auto [path, array] : llvm::zip(outputs, *results))
    if (llvm::Error error = writeNpy(path, array))
      return fail(std::move(error));
  if (print)
    for (auto [i, array] : llvm::enumerate(*results))
      printArray(llvm::outs(), "result #" + std::to_string(i), array);

  if (repeat > 0) {
    std::vector<double> times;
    times.reserve(repeat);
    using Clock = std::chrono::steady_clock;
    // The timed calls hand their results back as the callee allocated them
    // and they are freed unread: copying each into a fresh array would
    // touch the output on this thread between calls, which moves it into
    // this core's cache and away from the other threads'.
    llvm::SmallVector<ArrayView> views;
    for (const NpyArray &array : arrays)
      views.push_back({array.kind, array.itemSize, array.shape,
                       array.data.data()});
    // Written once here, so that the reads before each call leave clean
    // lines, which the call evicts without writing them back.
    size_t coldWords = size_t(coldMiB) << 17;
    std::unique_ptr<uint64_t[]> coldBuffer;
    if (coldWords) {
      coldBuffer.reset(new (std::nothrow) uint64_t[coldWords]);
      if (!coldBuffer)
        return fail("cannot allocate the " + llvm::Twine(coldMiB.getValue()) +
                    " MiB buffer of --cold");
      std::fill_n(coldBuffer.get(), coldWords, uint64_t(1));
    }
    if (warmupMs) {
      Clock::time_point warmStart = Clock::now();
      double limit = std::max(1.0, warmupMs / 1e3);
      for (unsigned calls = 1;; ++calls) {
        auto warm = (*runner)->runViews(views);
        if (!warm)
          return fail(warm.takeError());
        for (ResultBuffer &result : *warm)
          std::free(result.allocation);
        double elapsed =
            std::chrono::duration<double>(Clock::now() - warmStart).count();
        if ((calls >= 3 && elapsed * 1e3 >= warmupMs) || elapsed >= limit)
          break;
      }
    }
    // The profile covers the timed calls, not the first ones.
    (*runner)->resetProfile();
    // Progress goes to stderr only, never into the results on stdout.
    bool report = progress || llvm::sys::Process::StandardErrIsDisplayed();
    Clock::time_point start = Clock::now();
    Clock::time_point nextReport =
        start + std::chrono::duration_cast<Clock::duration>(
                    std::chrono::duration<double>(progressAfter));
    for (unsigned i = 0; i < repeat; ++i) {
      if (coldBuffer) {
        uint64_t sum = 0;
        // One word per 64-byte line reads them all. Twice: the caches keep
        // lines that were used again (the weights, call after call) through
        // a single pass (Zen 5, 2 MiB of weights: 1.3x faster calls after
        // one pass over 256 MiB than after two).
        for (int pass = 0; pass < 2; ++pass)
          for (size_t w = 0; w < coldWords; w += 8)
            sum += coldBuffer[w];
        asm volatile("" : : "r"(sum) : "memory");
      }
      double seconds = 0;
      auto again = (*runner)->runViews(views, &seconds);
      if (!again)
        return fail(again.takeError());
      for (ResultBuffer &result : *again)
        std::free(result.allocation);
      times.push_back(seconds * 1e3);
      Clock::time_point now = Clock::now();
      if (report && now >= nextReport && i + 1 < repeat) {
        double elapsed = std::chrono::duration<double>(now - start).count();
        llvm::errs() << llvm::format(
            "bitserial-run: repeat %u/%u, %.1f s elapsed, about %.1f s left\n",
            i + 1, repeat.getValue(), elapsed,
            elapsed / (i + 1) * (repeat - i - 1));
        nextReport = now + std::chrono::seconds(1);
      }
    }
    std::sort(times.begin(), times.end());
    llvm::outs() << "target: " << (*runner)->getTargetDescription() << "\n";
    llvm::outs() << llvm::format(
        "time over %u calls: median %.4f ms, min %.4f ms, max %.4f ms\n",
        repeat.getValue(), times[times.size() / 2], times.front(),
        times.back());
  }
  if (moduleStats) {
    const ModuleStats &stats = (*runner)->getStats();
    llvm::outs() << "constants: " << stats.constantGlobals
                 << (stats.constantGlobals == 1 ? " global, " : " globals, ")
                 << stats.constantBytes << " bytes\n";
  }
  if (profile)
    printProfile(llvm::outs(), (*runner)->getEntry(), (*runner)->getProfile());

  // A failed write to stdout (a full disk) would abort at exit otherwise.
  llvm::outs().flush();
  if (llvm::outs().has_error()) {
    std::error_code error = llvm::outs().error();
    llvm::outs().clear_error();
    return fail("cannot write to standard output: " + error.message());
  }
  return 0;
}
