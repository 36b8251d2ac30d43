//===- bitserial-run.cpp - Compile and run a bitserial module -------------===//
//
//   bitserial-run FILE.mlir --entry NAME --input A.npy ... --output OUT.npy ...
//   bitserial-run FILE.mlir --entry NAME --random-inputs --seed 7 --print
//
//===----------------------------------------------------------------------===//

#include "Bitserial/Runner/Runner.h"

#include "mlir/IR/BuiltinTypes.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>

using namespace mlir::bitserial;
namespace cl = llvm::cl;

static cl::opt<std::string> inputFile(cl::Positional, cl::desc("<file.mlir>"),
                                      cl::Required);
static cl::opt<std::string>
    entry("entry", cl::desc("Function to call (default: the only public one)"),
          cl::init(""));
static cl::list<std::string>
    inputs("input", cl::desc("A .npy file per argument, in argument order"));
static cl::list<std::string>
    outputs("output", cl::desc("A .npy file per result, in result order"));
static cl::opt<bool> randomInputs(
    "random-inputs",
    cl::desc("Generate deterministic inputs within each argument's range"));
static cl::opt<uint64_t> seed("seed", cl::desc("Seed of --random-inputs"),
                              cl::init(0));
static cl::opt<std::string> saveInputs(
    "save-inputs",
    cl::desc("Write the inputs used to PREFIX<i>.npy (with --random-inputs)"),
    cl::value_desc("PREFIX"), cl::init(""));
static cl::opt<bool> print("print", cl::desc("Print the results"));
static cl::opt<unsigned> repeat(
    "repeat", cl::desc("Call N times and print median/min/max time"),
    cl::init(0));
static cl::opt<LoweringStrategy> strategy(
    "strategy", cl::desc("Lowering of matmul and conv2d"),
    cl::init(LoweringStrategy::Vector),
    cl::values(clEnumValN(LoweringStrategy::Reference, "reference",
                          "linalg.generic reference lowering (the oracle)"),
               clEnumValN(LoweringStrategy::Vector, "vector",
                          "vector micro-kernels")));
static cl::opt<KernelTarget> target(
    "target", cl::desc("Target of the vector micro-kernels"),
    cl::init(KernelTarget::Host),
    cl::values(clEnumValN(KernelTarget::Host, "host", "this machine"),
               clEnumValN(KernelTarget::X86Avx2, "x86-avx2", "256-bit, psadbw"),
               clEnumValN(KernelTarget::X86Avx512, "x86-avx512",
                          "512-bit, psadbw"),
               clEnumValN(KernelTarget::X86Avx512Vpopcntdq,
                          "x86-avx512-vpopcntdq", "512-bit, vpopcntq"),
               clEnumValN(KernelTarget::Generic, "generic",
                          "128-bit, portable widening")));
static cl::opt<unsigned> threads(
    "num-threads",
    cl::desc("Threads for the vector kernels (OpenMP; default 1)"),
    cl::init(1));
static cl::opt<bool> tile(
    "tile", cl::desc("Tile matmul and conv2d first (bitserial-tile)"));
static cl::opt<std::string> cpu(
    "cpu",
    cl::desc("CPU to generate code for, e.g. znver3 to emulate an AVX2-only "
             "machine (default: the host)"),
    cl::init(""));
static cl::opt<std::string> objectFile(
    "dump-object",
    cl::desc("Also write the JIT-compiled code to this object file (to "
             "disassemble or profile it)"),
    cl::value_desc("file"), cl::init(""));
static cl::opt<unsigned> optLevel("O", cl::desc("JIT optimization level"),
                                  cl::init(2), cl::Prefix);

static int fail(const llvm::Twine &message) {
  llvm::errs() << "bitserial-run: error: " << message << "\n";
  return 1;
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
  for (int64_t i = 0; i < std::min(n, kMaxPrinted); ++i)
    os << (i % row ? " " : "  ") << array.getElement(i)
       << ((i + 1) % row == 0 ? "\n" : "");
  if (n > kMaxPrinted)
    os << "\n  ... (" << n - kMaxPrinted << " more)\n";
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::ParseCommandLineOptions(argc, argv,
                              "bitserial-run: JIT-compile and call a function "
                              "of a bitserial module on .npy inputs\n");
  if (randomInputs && !inputs.empty())
    return fail("use either --input files or --random-inputs, not both");
  if (!randomInputs && !saveInputs.empty())
    return fail("--save-inputs goes with --random-inputs");
  if (optLevel > 3)
    return fail("-O must be 0, 1, 2 or 3");

  RunnerOptions options;
  options.entry = entry;
  options.optLevel = optLevel;
  options.strategy = strategy;
  options.target = target;
  options.cpu = cpu;
  options.objectFile = objectFile;
  options.tile = tile;
  options.threads = threads;
  if (threads < 1)
    return fail("--num-threads must be at least 1");
  auto runner = Runner::create(inputFile, options);
  if (!runner)
    return fail(llvm::toString(runner.takeError()));

  if (!outputs.empty() && outputs.size() != (*runner)->getResults().size())
    return fail("'" + (*runner)->getEntry() + "' returns " +
                llvm::Twine((*runner)->getResults().size()) +
                " results, got " + llvm::Twine(outputs.size()) +
                " --output files");

  std::vector<NpyArray> arrays;
  if (randomInputs) {
    auto generated = (*runner)->makeRandomInputs(seed);
    if (!generated)
      return fail(llvm::toString(generated.takeError()));
    arrays = std::move(*generated);
    for (size_t i = 0; i < arrays.size() && !saveInputs.empty(); ++i)
      if (llvm::Error error =
              writeNpy(saveInputs + std::to_string(i) + ".npy", arrays[i]))
        return fail(llvm::toString(std::move(error)));
  } else {
    for (const std::string &path : inputs) {
      auto array = readNpy(path);
      if (!array)
        return fail(llvm::toString(array.takeError()));
      arrays.push_back(std::move(*array));
    }
  }
  if (llvm::Error error = (*runner)->checkInputs(arrays))
    return fail(llvm::toString(std::move(error)));

  auto results = (*runner)->run(arrays);
  if (!results)
    return fail(llvm::toString(results.takeError()));

  for (auto [path, array] : llvm::zip(outputs, *results))
    if (llvm::Error error = writeNpy(path, array))
      return fail(llvm::toString(std::move(error)));
  if (print)
    for (auto [i, array] : llvm::enumerate(*results))
      printArray(llvm::outs(), "result #" + std::to_string(i), array);

  if (repeat > 0) {
    std::vector<double> times;
    for (unsigned i = 0; i < repeat; ++i) {
      double seconds = 0;
      auto again = (*runner)->run(arrays, &seconds);
      if (!again)
        return fail(llvm::toString(again.takeError()));
      times.push_back(seconds * 1e3);
    }
    std::sort(times.begin(), times.end());
    llvm::outs() << llvm::format(
        "time over %u calls: median %.3f ms, min %.3f ms, max %.3f ms\n",
        repeat.getValue(), times[times.size() / 2], times.front(),
        times.back());
  }
  return 0;
}
