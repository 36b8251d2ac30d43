//===- bitserial-compile.cpp - Compile a bitserial module ahead of time ---===//
//
//   bitserial-compile FILE.mlir --target aarch64-a53 -o k.o --header k.h
//
// Writes an object file (or assembly, or LLVM IR) for a target triple and a
// C header declaring each public function's _mlir_ciface_<name>.
//
//===----------------------------------------------------------------------===//

#include "Bitserial/Runner/Compiler.h"
#include "Bitserial/Runner/ToolSupport.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir::bitserial;
namespace cl = llvm::cl;

// --help lists these first; LLVM's own options are under --help-hidden.
static cl::OptionCategory compileCategory("Bitserial-compile options");

static cl::opt<std::string> inputFile(cl::Positional, cl::desc("<file.mlir>"),
                                      cl::Required, cl::cat(compileCategory));
static cl::opt<std::string> outputFile("o", cl::desc("Output file"),
                                       cl::value_desc("file"), cl::Required,
                                       cl::cat(compileCategory));
static cl::opt<std::string> headerFile(
    "header",
    cl::desc("Also write a C header declaring the _mlir_ciface_ functions"),
    cl::value_desc("file"), cl::init(""), cl::cat(compileCategory));
static cl::opt<OutputKind> emit(
    "emit", cl::desc("What -o holds"), cl::init(OutputKind::Object),
    cl::values(clEnumValN(OutputKind::Object, "obj", "an object file"),
               clEnumValN(OutputKind::Assembly, "asm", "assembly"),
               clEnumValN(OutputKind::LLVMIR, "llvm", "optimized LLVM IR")),
    cl::cat(compileCategory));
static cl::opt<KernelTarget>
    target("target",
           cl::desc("Target of the vector micro-kernels (host: the best "
                    "one the CPU has)"),
           cl::init(KernelTarget::Host), getKernelTargetValues(),
           cl::cat(compileCategory));
static cl::opt<std::string>
    triple("triple",
           cl::desc("Target triple, e.g. aarch64-linux-gnu (default: that "
                    "of an AArch64 or x86 --target, else this machine's)"),
           cl::init(""), cl::cat(compileCategory));
static cl::opt<std::string>
    cpu("cpu",
        cl::desc("CPU to generate code for, e.g. cortex-a72 (default: "
                 "the --target's: cortex-a53 for aarch64-a53, neoverse-n1 "
                 "for aarch64-ooo, x86-64-v3 for x86-avx2, ...; else the "
                 "host CPU on this machine's triple, generic elsewhere)"),
        cl::init(""), cl::cat(compileCategory));
static cl::opt<LoweringStrategy> strategy(
    "strategy", cl::desc("Lowering of matmul and conv2d"),
    cl::init(LoweringStrategy::Vector),
    cl::values(clEnumValN(LoweringStrategy::Reference, "reference",
                          "linalg.generic reference lowering (the oracle)"),
               clEnumValN(LoweringStrategy::Vector, "vector",
                          "vector micro-kernels")),
    cl::cat(compileCategory));
static cl::opt<bool>
    tile("tile", cl::desc("Tile matmul and conv2d first (bitserial-tile)"),
         cl::cat(compileCategory));
static cl::opt<bool>
    parallel("parallel",
             cl::desc("Vector kernels on threads: the program then links "
                      "libbitserial_thread_team.a (x86, AArch64) or libomp"),
             cl::cat(compileCategory));
static cl::opt<long long> minParallelBinops(
    "min-parallel-binops",
    cl::desc("With --parallel, kernels of fewer AND'ed bit pairs stay on one "
             "thread (0: every kernel is split; default 2^24)"),
    cl::init(-1), cl::cat(compileCategory));

static cl::opt<bool> printKernels(
    "print-kernels",
    cl::desc("Print, as remarks on stderr, the kernel the cost model chose "
             "for each matmul and conv2d (bit-serial or int8, the register "
             "block) and the estimated cycles of each"),
    cl::cat(compileCategory));

static cl::opt<std::string> tuningCache(
    "tuning-cache",
    cl::desc("JSON tuning cache (benchmarks/tune.py): its measured kernel and "
             "register block for an op, this target and CPU replace the cost "
             "model's"),
    cl::value_desc("path"), cl::cat(compileCategory));

static cl::opt<bool> printTuningKeys(
    "print-tuning-keys",
    cl::desc("Print, as remarks on stderr, each matmul's and conv2d's tuning "
             "cache key and default choice (JSON, for benchmarks/tune.py)"),
    cl::cat(compileCategory));

static int fail(const llvm::Twine &message) {
  return reportToolError("bitserial-compile", message);
}

/// Prints `error`: MLIR diagnostics as they are rendered, anything else as
/// one line.
static int fail(llvm::Error error) {
  return reportToolError("bitserial-compile", std::move(error));
}

static void printVersion(llvm::raw_ostream &os) {
  os << "bitserial " BITSERIAL_VERSION " (bitserial-compile)\n";
}

/// Opens `path` for writing (deleted again unless kept).
static llvm::Expected<std::unique_ptr<llvm::ToolOutputFile>>
openOutput(llvm::StringRef path, bool binary) {
  std::error_code error;
  auto file = std::make_unique<llvm::ToolOutputFile>(
      path, error, binary ? llvm::sys::fs::OF_None : llvm::sys::fs::OF_Text);
  if (error)
    return llvm::createStringError(error, "cannot write '" + path +
                                              "': " + error.message());
  return file;
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  hideOptionsOutside(compileCategory);
  cl::AddExtraVersionPrinter(printVersion);
  cl::ParseCommandLineOptions(
      argc, argv,
      "bitserial-compile: compile the public functions of a bitserial module "
      "to an object file and a C header\n");

  // Fail on an unwritable output before compiling.
  auto output = openOutput(outputFile, emit == OutputKind::Object);
  if (!output)
    return fail(output.takeError());
  std::unique_ptr<llvm::ToolOutputFile> header;
  if (!headerFile.empty()) {
    auto opened = openOutput(headerFile, /*binary=*/false);
    if (!opened)
      return fail(opened.takeError());
    header = std::move(*opened);
  }

  CompilerOptions options;
  options.strategy = strategy;
  options.target = target;
  options.tile = tile;
  options.parallel = parallel;
  options.minParallelBinops = minParallelBinops;
  options.printKernels = printKernels;
  options.tuningCache = tuningCache;
  options.printTuningKeys = printTuningKeys;
  options.triple = triple;
  options.cpu = cpu;
  options.outputKind = emit;
  options.producer = "bitserial-compile " BITSERIAL_VERSION;
  if (!headerFile.empty())
    options.headerName = headerFile;
  auto compiled = compileModule(inputFile, options);
  if (!compiled)
    return fail(compiled.takeError());

  for (auto [file, text] : {std::pair{output->get(), &compiled->output},
                            std::pair{header.get(), &compiled->header}}) {
    if (!file)
      continue;
    file->os() << *text;
    file->os().flush();
    if (file->os().has_error()) {
      std::error_code error = file->os().error();
      file->os().clear_error();
      return fail("cannot write '" + file->getFilename() +
                  "': " + error.message());
    }
    file->keep();
  }
  return 0;
}
