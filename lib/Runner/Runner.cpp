//===- Runner.cpp - Compile and run bitserial modules on the host ---------===//

#include "Bitserial/Runner/Runner.h"
#include "Bitserial/IR/BitserialOps.h"
#include "Bitserial/InitAll.h"
#include "Bitserial/Pipelines/Pipelines.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/OpenMP/OpenMPToLLVMIRTranslation.h"

#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/TargetSelect.h"

#include <chrono>
#include <cstdlib>
#include <malloc.h>
#include <random>

using namespace mlir;
using namespace mlir::bitserial;

static llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

static std::string typeToString(Type type) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << type;
  return s;
}

/// Keeps the first error reported while it is alive, as one line
/// "file:line:col: message".
class FirstErrorCollector {
public:
  explicit FirstErrorCollector(MLIRContext *ctx)
      : handler(ctx, [this](Diagnostic &diag) {
          if (diag.getSeverity() == DiagnosticSeverity::Error &&
              message.empty()) {
            llvm::raw_string_ostream os(message);
            if (auto loc = dyn_cast<FileLineColLoc>(diag.getLocation()))
              os << loc.getFilename().getValue() << ":" << loc.getLine() << ":"
                 << loc.getColumn() << ": ";
            os << diag.str();
          }
          return success();
        }) {}

  llvm::Error takeError(const llvm::Twine &fallback) {
    std::string text = message.empty() ? fallback.str() : message;
    std::replace(text.begin(), text.end(), '\n', ' ');
    return makeError(text);
  }

private:
  ScopedDiagnosticHandler handler;
  std::string message;
};

//===----------------------------------------------------------------------===//
// Signature analysis
//===----------------------------------------------------------------------===//

/// The TensorSpec of a ranked integer tensor, or an error naming it.
static llvm::Expected<TensorSpec> getTensorSpec(Type type,
                                                const std::string &what) {
  std::string description = what + " (" + typeToString(type) + ")";
  auto tensorType = dyn_cast<RankedTensorType>(type);
  if (!tensorType)
    return makeError("unsupported signature: " + description +
                     " is not a ranked tensor");
  auto elementType = dyn_cast<IntegerType>(tensorType.getElementType());
  if (!elementType ||
      !llvm::is_contained({1u, 8u, 16u, 32u, 64u}, elementType.getWidth()))
    return makeError("unsupported signature: " + description +
                     " must have an i1, i8, i16, i32 or i64 element type");
  TensorSpec spec;
  spec.description = description;
  spec.bitWidth = elementType.getWidth();
  spec.shape.assign(tensorType.getShape().begin(), tensorType.getShape().end());
  return spec;
}

/// Fills the random-input range of argument `arg` from how it is used.
static void inferInputRange(BlockArgument arg, TensorSpec &spec) {
  unsigned width = spec.bitWidth;
  if (width == 1) {
    spec.minValue = 0;
    spec.maxValue = 1;
    return;
  }
  if (PackedLayoutAttr layout = getPackedLayout(arg.getType())) {
    spec.packedLength = layout.getLength();
    return;
  }
  for (Operation *user : arg.getUsers()) {
    if (auto pack = dyn_cast<PackOp>(user)) {
      PackedLayoutAttr layout = pack.getLayout();
      spec.minValue = getMinValue(layout.getBits(), layout.getEncoding());
      spec.maxValue = getMaxValue(layout.getBits(), layout.getEncoding());
      spec.oddOnly = layout.getEncoding() == Encoding::Bipolar;
      return;
    }
  }
  // Accumulators and other integers: small values that cannot overflow.
  int64_t limit = width == 8 ? 127 : 1000;
  spec.minValue = -limit - (width == 8 ? 1 : 0);
  spec.maxValue = limit;
}

//===----------------------------------------------------------------------===//
// Runner
//===----------------------------------------------------------------------===//

struct Runner::Impl {
  std::unique_ptr<MLIRContext> context;
  OwningOpRef<ModuleOp> module;
  std::unique_ptr<ExecutionEngine> engine;
  std::string entry;
  SmallVector<TensorSpec> arguments, results;
};

Runner::Runner(std::unique_ptr<Impl> impl) : impl(std::move(impl)) {}
Runner::~Runner() = default;

StringRef Runner::getEntry() const { return impl->entry; }
ArrayRef<TensorSpec> Runner::getArguments() const { return impl->arguments; }
ArrayRef<TensorSpec> Runner::getResults() const { return impl->results; }

llvm::Expected<std::unique_ptr<Runner>>
Runner::create(StringRef path, const RunnerOptions &options) {
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
    return true;
  }();
  (void)initialized;

  auto impl = std::make_unique<Impl>();
  DialectRegistry registry;
  registerAllDialects(registry);
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  registerOpenMPDialectTranslation(registry);
  impl->context = std::make_unique<MLIRContext>(registry);
  MLIRContext *ctx = impl->context.get();

  {
    FirstErrorCollector errors(ctx);
    llvm::SourceMgr sourceMgr;
    auto buffer = llvm::MemoryBuffer::getFileOrSTDIN(path);
    if (!buffer)
      return makeError("cannot read '" + path +
                       "': " + buffer.getError().message());
    sourceMgr.AddNewSourceBuffer(std::move(*buffer), llvm::SMLoc());
    impl->module = parseSourceFile<ModuleOp>(sourceMgr, ctx);
    if (!impl->module)
      return errors.takeError(path + ": cannot parse the module");
  }
  ModuleOp module = *impl->module;

  // Find the entry function.
  SmallVector<func::FuncOp> publicFunctions;
  for (auto func : module.getOps<func::FuncOp>())
    if (func.isPublic() && !func.isExternal())
      publicFunctions.push_back(func);
  func::FuncOp entry;
  if (options.entry.empty()) {
    if (publicFunctions.size() != 1)
      return makeError(path + ": the module has " +
                       llvm::Twine(publicFunctions.size()) +
                       " public functions; name one with --entry");
    entry = publicFunctions.front();
  } else {
    entry = module.lookupSymbol<func::FuncOp>(options.entry);
    if (!entry || entry.isExternal() || !entry.isPublic()) {
      std::string names;
      for (func::FuncOp f : publicFunctions)
        names += (names.empty() ? "" : ", ") + f.getName().str();
      return makeError("unknown entry function '" + options.entry + "' in " +
                       path + " (public functions: " +
                       (names.empty() ? "none" : names) + ")");
    }
  }
  impl->entry = entry.getName().str();

  for (auto [i, arg] : llvm::enumerate(entry.getArguments())) {
    auto spec = getTensorSpec(arg.getType(), "argument #" + std::to_string(i));
    if (!spec)
      return spec.takeError();
    inferInputRange(arg, *spec);
    impl->arguments.push_back(std::move(*spec));
  }
  for (auto [i, type] : llvm::enumerate(entry.getResultTypes())) {
    auto spec = getTensorSpec(type, "result #" + std::to_string(i));
    if (!spec)
      return spec.takeError();
    impl->results.push_back(std::move(*spec));
  }

  {
    FirstErrorCollector errors(ctx);
    PassManager pm(ctx);
    BitserialToLLVMPipelineOptions pipelineOptions;
    pipelineOptions.emitCInterface = true;
    pipelineOptions.strategy = options.strategy;
    pipelineOptions.tile = options.tile;
    pipelineOptions.parallel = options.threads > 1;
    pipelineOptions.target = options.target;
    buildBitserialToLLVMPipeline(pm, pipelineOptions);
    if (failed(pm.run(module)))
      return errors.takeError(path + ": lowering to LLVM failed");
  }

  // `transformer` is a function_ref: keep the callable alive.
  std::function<llvm::Error(llvm::Module *)> optimize =
      makeOptimizingTransformer(options.optLevel, /*sizeLevel=*/0, nullptr);
  ExecutionEngineOptions engineOptions;
  engineOptions.transformer = optimize;
  SmallVector<StringRef> sharedLibs{BITSERIAL_C_RUNNER_UTILS};
  if (options.threads > 1) {
    // libomp reads the thread count when its first parallel region starts.
    setenv("OMP_NUM_THREADS", std::to_string(options.threads).c_str(), 1);
    sharedLibs.push_back(BITSERIAL_OPENMP_RUNTIME);
  }
  engineOptions.sharedLibPaths = sharedLibs;
  engineOptions.enableObjectDump = !options.objectFile.empty();
  std::unique_ptr<llvm::TargetMachine> targetMachine;
  if (!options.cpu.empty()) {
    auto builder = llvm::orc::JITTargetMachineBuilder::detectHost();
    if (!builder)
      return makeError("cannot describe the host: " +
                       llvm::toString(builder.takeError()));
    // LLVM aborts on a CPU it does not know: check the name first.
    std::string lookupError;
    const llvm::Target *target = llvm::TargetRegistry::lookupTarget(
        builder->getTargetTriple(), lookupError);
    std::unique_ptr<llvm::MCSubtargetInfo> subtarget(
        target ? target->createMCSubtargetInfo(builder->getTargetTriple(),
                                               "", "")
               : nullptr);
    if (!subtarget || !subtarget->isCPUStringValid(options.cpu))
      return makeError("unknown --cpu '" + options.cpu + "' for " +
                       builder->getTargetTriple().str());
    builder->setCPU(options.cpu);
    builder->getFeatures() = llvm::SubtargetFeatures(); // the CPU's own only
    auto machine = builder->createTargetMachine();
    if (!machine)
      return makeError("unknown --cpu '" + options.cpu +
                       "': " + llvm::toString(machine.takeError()));
    targetMachine = std::move(*machine);
  }
  auto engine = ExecutionEngine::create(module, engineOptions,
                                        std::move(targetMachine));
  if (!engine)
    return makeError("JIT compilation failed: " +
                     llvm::toString(engine.takeError()));
  impl->engine = std::move(*engine);
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

llvm::Error Runner::checkInputs(ArrayRef<NpyArray> inputs) const {
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
    bool dtypeOk = spec.bitWidth == 1
                       ? input.kind == 'b'
                       : input.kind != 'b' && input.itemSize * 8 == spec.bitWidth;
    if (!dtypeOk)
      return makeError(spec.description + ": expected dtype " +
                       (spec.bitWidth == 1
                            ? std::string("bool")
                            : "int" + std::to_string(spec.bitWidth) +
                                  " (or uint" + std::to_string(spec.bitWidth) +
                                  ")") +
                       ", got " + input.getDtypeName());
  }
  return llvm::Error::success();
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
    NpyArray array = NpyArray::zeros(spec.bitWidth == 1 ? 'b' : 'i',
                                     std::max(1u, spec.bitWidth / 8),
                                     spec.shape);
    int64_t n = array.getNumElements();
    if (spec.packedLength > 0) {
      // Random bits, zero past the logical length (the packed invariant).
      int64_t words = spec.shape.back();
      for (int64_t i = 0; i < n; ++i) {
        uint64_t word = rng();
        int64_t first = (i % words) * spec.bitWidth;
        int64_t valid = std::min<int64_t>(spec.bitWidth,
                                          spec.packedLength - first);
        if (valid < 64)
          word &= (uint64_t(1) << valid) - 1;
        array.setElement(i, static_cast<int64_t>(word));
      }
    } else {
      uint64_t span = spec.maxValue - spec.minValue + 1;
      for (int64_t i = 0; i < n; ++i) {
        int64_t value = spec.minValue + static_cast<int64_t>(rng() % span);
        if (spec.oddOnly && (value & 1) == 0)
          value = value == spec.maxValue ? value - 1 : value + 1;
        array.setElement(i, value);
      }
    }
    inputs.push_back(std::move(array));
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

llvm::Expected<std::vector<NpyArray>>
Runner::run(ArrayRef<NpyArray> inputs, double *seconds) {
  if (llvm::Error error = checkInputs(inputs))
    return std::move(error);

  // The callee may write into its arguments' buffers (one-shot bufferization
  // treats function arguments as writable): give it copies. Marking the
  // arguments `bufferization.writable = false` instead is not safe in MLIR
  // 22: the out-of-place buffer of a partial vector.transfer_write is not
  // initialized from the argument.
  std::vector<std::vector<char>> buffers;
  std::vector<std::vector<int64_t>> inputDescriptors;
  std::vector<void *> inputPointers;
  for (const NpyArray &input : inputs)
    buffers.push_back(input.data);
  for (auto [input, buffer] : llvm::zip(inputs, buffers))
    inputDescriptors.push_back(makeDescriptor(buffer.data(), input.shape));
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

  auto start = std::chrono::steady_clock::now();
  if (llvm::Error error =
          impl->engine->invokePacked("_mlir_ciface_" + impl->entry, args))
    return makeError("calling '" + impl->entry +
                     "' failed: " + llvm::toString(std::move(error)));
  auto stop = std::chrono::steady_clock::now();
  if (seconds)
    *seconds = std::chrono::duration<double>(stop - start).count();

  // Copy results out (any strides), then free what the callee allocated.
  std::vector<NpyArray> outputs;
  SmallVector<intptr_t> freed;
  for (const std::vector<char> &buffer : buffers)
    freed.push_back(reinterpret_cast<intptr_t>(buffer.data()));
  size_t position = 0;
  for (const TensorSpec &spec : impl->results) {
    size_t rank = spec.shape.size();
    const int64_t *descriptor = resultBlock.data() + position;
    position += 3 + 2 * rank;
    ArrayRef<int64_t> sizes(descriptor + 3, rank);
    ArrayRef<int64_t> strides(descriptor + 3 + rank, rank);
    unsigned itemSize = std::max(1u, spec.bitWidth / 8);
    NpyArray output =
        NpyArray::zeros(spec.bitWidth == 1 ? 'b' : 'i', itemSize, sizes);
    const char *aligned = reinterpret_cast<const char *>(descriptor[1]) +
                          descriptor[2] * itemSize;
    int64_t n = output.getNumElements();
    bool contiguous = true;
    for (int64_t d = rank - 1, expected = 1; d >= 0; --d) {
      if (sizes[d] != 1 && strides[d] != expected)
        contiguous = false;
      expected *= sizes[d];
    }
    SmallVector<int64_t> index(rank, 0);
    if (contiguous && n > 0)
      std::memcpy(output.data.data(), aligned, n * itemSize);
    for (int64_t i = 0; i < n && !contiguous; ++i) {
      int64_t offset = 0;
      for (size_t d = 0; d < rank; ++d)
        offset += index[d] * strides[d];
      std::memcpy(output.data.data() + i * itemSize,
                  aligned + offset * itemSize, itemSize);
      for (size_t d = rank; d-- > 0;) {
        if (++index[d] < sizes[d])
          break;
        index[d] = 0;
      }
    }
    outputs.push_back(std::move(output));
    intptr_t allocated = descriptor[0];
    if (allocated && !llvm::is_contained(freed, allocated)) {
      freed.push_back(allocated);
      std::free(reinterpret_cast<void *>(allocated));
    }
  }
  return outputs;
}
