//===- Compiler.cpp - Lower bitserial modules; compile them ahead of time -===//

#include "Bitserial/Runner/Compiler.h"
#include "Bitserial/IR/BitserialOps.h"
#include "Bitserial/InitAll.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Interfaces/CallInterfaces.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassInstrumentation.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Export.h"

#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/AsmParser/Parser.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/IR/Verifier.h"
#include "llvm/Linker/Linker.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/CheckedArithmetic.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/SubtargetFeature.h"
#include "llvm/Transforms/Utils/BasicBlockUtils.h"

#include <cerrno>
#include <cstring>
#include <sys/syscall.h>
#include <unistd.h>

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

char DiagnosticError::ID = 0;

void DiagnosticError::log(llvm::raw_ostream &os) const {
  os << StringRef(rendered).rtrim('\n');
}

std::error_code DiagnosticError::convertToErrorCode() const {
  return llvm::inconvertibleErrorCode();
}

//===----------------------------------------------------------------------===//
// Input files
//===----------------------------------------------------------------------===//

llvm::Expected<std::unique_ptr<llvm::MemoryBuffer>>
mlir::bitserial::readInputFile(StringRef path) {
  bool isStdin = path == "-";
  std::string name = isStdin ? "standard input" : "'" + path.str() + "'";
  auto cannotRead = [&](std::error_code error) {
    return makeError("cannot read " + name + ": " + error.message());
  };
  llvm::sys::fs::file_status status;
  if (!isStdin) {
    if (std::error_code error = llvm::sys::fs::status(path, status))
      return cannotRead(error);
    if (status.type() == llvm::sys::fs::file_type::directory_file)
      return cannotRead(std::make_error_code(std::errc::is_a_directory));
    if (status.type() == llvm::sys::fs::file_type::regular_file) {
      auto file = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                              /*RequiresNullTerminator=*/true);
      if (!file)
        return cannotRead(file.getError());
      return std::move(*file);
    }
  }
  // A stream: read it in chunks, up to a limit.
  constexpr size_t kLimit = size_t(1) << 30;
  llvm::sys::fs::file_t handle = llvm::sys::fs::getStdinHandle();
  if (!isStdin) {
    llvm::Expected<llvm::sys::fs::file_t> opened =
        llvm::sys::fs::openNativeFileForRead(path);
    if (!opened)
      return cannotRead(llvm::errorToErrorCode(opened.takeError()));
    handle = *opened;
  }
  std::string bytes;
  llvm::Error error = llvm::Error::success();
  while (true) {
    size_t size = bytes.size();
    if (size >= kLimit) {
      error = makeError("cannot read " + name +
                        ": a stream of more than 1 GiB (save it to a file)");
      break;
    }
    bytes.resize(size + (size_t(1) << 16));
    llvm::Expected<size_t> read = llvm::sys::fs::readNativeFile(
        handle, llvm::MutableArrayRef<char>(bytes.data() + size, 1 << 16));
    if (!read) {
      error = cannotRead(llvm::errorToErrorCode(read.takeError()));
      break;
    }
    bytes.resize(size + *read);
    if (*read == 0)
      break;
  }
  if (!isStdin)
    llvm::sys::fs::closeFile(handle);
  if (error)
    return std::move(error);
  return llvm::MemoryBuffer::getMemBufferCopy(bytes,
                                              isStdin ? "<stdin>" : path);
}

//===----------------------------------------------------------------------===//
// Signature analysis
//===----------------------------------------------------------------------===//

/// The TensorSpec of a ranked integer or float tensor, or an error naming
/// it.
static llvm::Expected<TensorSpec> getTensorSpec(Type type,
                                                const std::string &what) {
  std::string description = what + " (" + typeToString(type) + ")";
  auto tensorType = dyn_cast<RankedTensorType>(type);
  if (!tensorType)
    return makeError("unsupported signature: " + description +
                     " is not a ranked tensor");
  Type elementType = tensorType.getElementType();
  auto integerType = dyn_cast<IntegerType>(elementType);
  bool isFloat = elementType.isF32() || elementType.isF64();
  if (!isFloat && (!integerType || !llvm::is_contained({1u, 8u, 16u, 32u, 64u},
                                                       integerType.getWidth())))
    return makeError("unsupported signature: " + description +
                     " must have an i1, i8, i16, i32, i64, f32 or f64 "
                     "element type");
  TensorSpec spec;
  spec.description = description;
  spec.isFloat = isFloat;
  spec.bitWidth = elementType.getIntOrFloatBitWidth();
  spec.shape.assign(tensorType.getShape().begin(), tensorType.getShape().end());
  return spec;
}

/// Fills the random-input range of argument `arg` from how it is used.
static void inferInputRange(BlockArgument arg, TensorSpec &spec) {
  unsigned width = spec.bitWidth;
  if (spec.isFloat)
    return;
  if (width == 1) {
    spec.minValue = 0;
    spec.maxValue = 1;
    return;
  }
  if (PackedLayoutAttr layout = getPackedLayout(arg.getType())) {
    spec.packedLength = layout.getLength();
    return;
  }
  // Values must suit every bitserial.pack that reads the argument.
  for (Operation *user : arg.getUsers()) {
    auto pack = dyn_cast<PackOp>(user);
    if (!pack)
      continue;
    PackedLayoutAttr layout = pack.getLayout();
    int64_t minValue = getMinValue(layout.getBits(), layout.getEncoding());
    int64_t maxValue = getMaxValue(layout.getBits(), layout.getEncoding());
    std::string origin = std::to_string(layout.getBits()) + "-bit " +
                         stringifyEncoding(layout.getEncoding()).str();
    if (!spec.rangeChecked) {
      spec.minValue = minValue;
      spec.maxValue = maxValue;
      spec.rangeOrigin = origin;
    } else {
      spec.minValue = std::max(spec.minValue, minValue);
      spec.maxValue = std::min(spec.maxValue, maxValue);
      if (spec.rangeOrigin.find(origin) == std::string::npos)
        spec.rangeOrigin += " and " + origin;
    }
    spec.rangeChecked = true;
    spec.oddOnly |= layout.getEncoding() == Encoding::Bipolar;
  }
  if (spec.rangeChecked) {
    spec.rangeOrigin =
        "the " + spec.rangeOrigin + " encoding of bitserial.pack";
    return;
  }
  // Accumulators and other integers: small values that cannot overflow.
  int64_t limit = width == 8 ? 127 : 1000;
  spec.minValue = -limit - (width == 8 ? 1 : 0);
  spec.maxValue = limit;
}

llvm::Error
mlir::bitserial::getSignatureSpecs(func::FuncOp func,
                                   SmallVectorImpl<TensorSpec> &arguments,
                                   SmallVectorImpl<TensorSpec> &results) {
  for (auto [i, arg] : llvm::enumerate(func.getArguments())) {
    auto spec = getTensorSpec(arg.getType(), "argument #" + std::to_string(i));
    if (!spec)
      return spec.takeError();
    inferInputRange(arg, *spec);
    arguments.push_back(std::move(*spec));
  }
  for (auto [i, type] : llvm::enumerate(func.getResultTypes())) {
    auto spec = getTensorSpec(type, "result #" + std::to_string(i));
    if (!spec)
      return spec.takeError();
    results.push_back(std::move(*spec));
  }
  return llvm::Error::success();
}

//===----------------------------------------------------------------------===//
// Kernel targets and CPUs
//===----------------------------------------------------------------------===//

CpuFeatures::CpuFeatures() = default;
CpuFeatures::CpuFeatures(CpuFeatures &&) = default;
CpuFeatures::~CpuFeatures() = default;

llvm::Expected<CpuFeatures> CpuFeatures::get(const llvm::Triple &triple,
                                             StringRef cpu,
                                             StringRef features) {
  std::string lookupError;
  const llvm::Target *target =
      llvm::TargetRegistry::lookupTarget(triple, lookupError);
  if (!target)
    return makeError("no code generator for " + triple.str() + ": " +
                     lookupError);
  CpuFeatures result;
  result.subtarget.reset(target->createMCSubtargetInfo(triple, cpu, features));
  if (!result.subtarget)
    return makeError("cannot describe the CPU '" + cpu + "'");
  return result;
}

bool CpuFeatures::has(StringRef name) const {
  for (const llvm::SubtargetFeatureKV &kv :
       subtarget->getAllProcessorFeatures())
    if (name == kv.Key)
      return subtarget->getFeatureBits().test(kv.Value);
  return false;
}

llvm::Expected<KernelTarget> mlir::bitserial::resolveKernelTargetForCPU(
    KernelTarget target, const CpuFeatures &cpu, const llvm::Triple &triple,
    StringRef cpuModel, StringRef cpuName, bool jit) {
  auto hasFeature = [&](StringRef feature) { return cpu.has(feature); };
  if (target == KernelTarget::Host)
    return selectKernelTarget(triple, cpuModel, hasFeature);
  TargetArch arch = getKernelTargetArch(target);
  if ((arch == TargetArch::X86 && !triple.isX86()) ||
      (arch == TargetArch::AArch64 && !triple.isAArch64()))
    return makeError(
        "--target " + getKernelTargetName(target) + " needs " +
        (arch == TargetArch::X86 ? "an x86" : "an AArch64") + " CPU, but " +
        (jit ? "the JIT generates code for " : "--triple is ") + triple.str() +
        (jit && arch == TargetArch::AArch64
             ? " (compile AArch64 code ahead of time)"
             : ""));
  SmallVector<StringRef> missing;
  for (StringRef feature : getKernelTargetCPUFeatures(target))
    if (!hasFeature(feature))
      missing.push_back(feature);
  if (!missing.empty())
    return makeError("--target " + getKernelTargetName(target) + " needs " +
                     llvm::join(missing, ", ") + ", which " + cpuName +
                     " does not have (choose another --target, or --target "
                     "host for the best one it supports)");
  return target;
}

/// The features an x86 intrinsic needs, each alternative a set that must
/// all be present, for the intrinsics the lowerings emit (empty: unknown).
static SmallVector<SmallVector<StringRef>>
getIntrinsicFeatures(StringRef name) {
  if (name == "llvm.x86.avx512.permvar.qi.512")
    return {{"avx512vbmi"}};
  if (name.starts_with("llvm.x86.tdpb"))
    return {{"amx-tile", "amx-int8"}};
  if (name.starts_with("llvm.x86.tile"))
    return {{"amx-tile"}};
  if (name == "llvm.x86.avx512.vpdpbusd.512")
    return {{"avx512vnni"}};
  if (name == "llvm.x86.avx512.vpdpbusd.256")
    return {{"avxvnni"}, {"avx512vnni", "avx512vl"}};
  if (name.starts_with("llvm.x86.avx512."))
    return {{"avx512bw"}};
  if (name.starts_with("llvm.x86.avx2."))
    return {{"avx2"}};
  if (name.starts_with("llvm.x86.ssse3."))
    return {{"ssse3"}};
  if (name.starts_with("llvm.x86.sse2."))
    return {{"sse2"}};
  return {};
}

/// The intrinsics `module` declares or calls with llvm.call_intrinsic (as
/// the AMX ops lower).
static SmallVector<StringRef> getIntrinsicNames(ModuleOp module) {
  llvm::SetVector<StringRef> names;
  for (auto function : module.getOps<LLVM::LLVMFuncOp>())
    if (function.getName().starts_with("llvm."))
      names.insert(function.getName());
  module.walk(
      [&](LLVM::CallIntrinsicOp call) { names.insert(call.getIntrin()); });
  return names.takeVector();
}

bool mlir::bitserial::usesAmxTiles(ModuleOp module) {
  return llvm::any_of(getIntrinsicNames(module), [](StringRef name) {
    return name.starts_with("llvm.x86.tile") ||
           name.starts_with("llvm.x86.tdp");
  });
}

llvm::Error mlir::bitserial::requestAmxPermission() {
#if defined(__linux__) && defined(__x86_64__)
  // From <asm/prctl.h> and the kernel's xstate numbering.
  constexpr long kArchReqXcompPerm = 0x1023;
  constexpr long kXfeatureXtiledata = 18;
  static const int error = [] {
    return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0
               ? 0
               : errno;
  }();
  if (error == 0)
    return llvm::Error::success();
  return makeError(llvm::Twine("the code uses AMX tiles, but Linux refused "
                               "them (arch_prctl(ARCH_REQ_XCOMP_PERM): ") +
                   strerror(error) + ")");
#else
  return makeError("the code uses AMX tiles, which only Linux on x86-64 "
                   "lets this runner enable");
#endif
}

llvm::Error mlir::bitserial::checkIntrinsicFeatures(ModuleOp module,
                                                    const CpuFeatures &cpu,
                                                    StringRef cpuName) {
  for (StringRef name : getIntrinsicNames(module)) {
    SmallVector<SmallVector<StringRef>> alternatives =
        getIntrinsicFeatures(name);
    if (alternatives.empty() ||
        llvm::any_of(alternatives, [&](ArrayRef<StringRef> features) {
          return llvm::all_of(features,
                              [&](StringRef f) { return cpu.has(f); });
        }))
      continue;
    SmallVector<std::string> options;
    for (ArrayRef<StringRef> features : alternatives)
      options.push_back(llvm::join(features, " and "));
    return makeError("the code calls " + name + ", which needs " +
                     llvm::join(options, " or ") + ", which " + cpuName +
                     " lacks");
  }
  return llvm::Error::success();
}

void mlir::bitserial::setInt8Features(LoweringOptions &options,
                                      const llvm::Triple &triple,
                                      const CpuFeatures &cpu) {
  if (triple.isAArch64()) {
    options.dotProduct = cpu.has("dotprod");
    options.i8mm = cpu.has("i8mm");
  }
  // vpdpbusd only where the code generator may emit it.
  if (triple.isX86()) {
    options.x86Int8 = true;
    options.avx512Vnni = cpu.has("avx512vnni");
    options.avxVnni = cpu.has("avxvnni") ||
                      (cpu.has("avx512vnni") && cpu.has("avx512vl"));
    options.avx512Vbmi = cpu.has("avx512vbmi");
  }
}

//===----------------------------------------------------------------------===//
// LoweringSession
//===----------------------------------------------------------------------===//

namespace {
/// Renders every diagnostic reported while it is alive as bitserial-opt
/// does (source line, caret, notes), into a string.
class DiagnosticCollector {
public:
  DiagnosticCollector(llvm::SourceMgr &sourceMgr, MLIRContext *ctx)
      : os(text), handler(sourceMgr, ctx, os) {}

  llvm::Error takeError(const llvm::Twine &fallback) {
    if (text.empty())
      return makeError(fallback);
    return llvm::make_error<DiagnosticError>(std::move(text));
  }

  void flush() {
    llvm::errs() << text;
    text.clear();
  }

private:
  std::string text;
  llvm::raw_string_ostream os;
  SourceMgrDiagnosticHandler handler;
};
} // namespace

struct LoweringSession::Impl {
  std::unique_ptr<MLIRContext> context;
  llvm::SourceMgr sourceMgr;
  std::unique_ptr<DiagnosticCollector> diagnostics;
  OwningOpRef<ModuleOp> module;
  std::string path;
  /// Public function name -> whether each argument may be written.
  llvm::StringMap<SmallVector<bool>> writtenArguments;
  std::vector<PassIR> passIR;
};

LoweringSession::LoweringSession(std::unique_ptr<Impl> impl)
    : impl(std::move(impl)) {}
LoweringSession::~LoweringSession() = default;

MLIRContext &LoweringSession::getContext() { return *impl->context; }
ModuleOp LoweringSession::getModule() { return *impl->module; }
StringRef LoweringSession::getPath() const { return impl->path; }

llvm::Error LoweringSession::takeError(const llvm::Twine &fallback) {
  return impl->diagnostics->takeError(fallback);
}
void LoweringSession::flushDiagnostics() { impl->diagnostics->flush(); }

llvm::Expected<std::unique_ptr<LoweringSession>>
LoweringSession::parseBuffer(std::unique_ptr<llvm::MemoryBuffer> source,
                             StringRef path) {
  auto impl = std::make_unique<Impl>();
  impl->path = path.str();
  DialectRegistry registry;
  registerAllDialects(registry);
  impl->context = std::make_unique<MLIRContext>(registry);
  impl->diagnostics = std::make_unique<DiagnosticCollector>(
      impl->sourceMgr, impl->context.get());
  impl->sourceMgr.AddNewSourceBuffer(std::move(source), llvm::SMLoc());
  impl->module =
      parseSourceFile<ModuleOp>(impl->sourceMgr, impl->context.get());
  if (!impl->module)
    return impl->diagnostics->takeError(path + ": cannot parse the module");
  return std::unique_ptr<LoweringSession>(new LoweringSession(std::move(impl)));
}

llvm::Expected<std::unique_ptr<LoweringSession>>
LoweringSession::parse(StringRef path) {
  auto buffer = readInputFile(path);
  if (!buffer)
    return buffer.takeError();
  return parseBuffer(std::move(*buffer), path);
}

llvm::Expected<std::unique_ptr<LoweringSession>>
LoweringSession::parseSource(std::unique_ptr<llvm::MemoryBuffer> source) {
  std::string name = source->getBufferIdentifier().str();
  return parseBuffer(std::move(source), name);
}

SmallVector<func::FuncOp> LoweringSession::getPublicFunctions() {
  SmallVector<func::FuncOp> functions;
  for (auto func : getModule().getOps<func::FuncOp>())
    if (func.isPublic() && !func.isExternal())
      functions.push_back(func);
  return functions;
}

llvm::Error LoweringSession::checkStaticSizes(func::FuncOp entry,
                                              uint64_t stackBudget) {
  constexpr int64_t kMaxBytes = int64_t(1) << 47;
  auto byteSize = [](Type elementType,
                     ArrayRef<int64_t> shape) -> std::optional<int64_t> {
    unsigned bits = elementType.isIntOrFloat()
                        ? elementType.getIntOrFloatBitWidth()
                        : 64; // index, pointers, nested types
    std::optional<int64_t> bytes = std::max<int64_t>(1, (bits + 7) / 8);
    for (int64_t extent : shape)
      if (!ShapedType::isDynamic(extent) && bytes)
        bytes = llvm::checkedMul<int64_t>(*bytes, extent);
    return bytes;
  };
  // Compiled code would compute a wrapped size and write past a small
  // buffer.
  auto check = [&](Type type, Location loc) -> LogicalResult {
    auto shaped = dyn_cast<ShapedType>(type);
    if (!shaped || isa<VectorType>(shaped) || !shaped.hasRank())
      return success();
    std::optional<int64_t> bytes =
        byteSize(shaped.getElementType(), shaped.getShape());
    if (bytes && *bytes <= kMaxBytes)
      return success();
    InFlightDiagnostic diag = emitError(loc) << type << " is too large: ";
    if (bytes)
      diag << *bytes << " bytes";
    else
      diag << "its byte size overflows 64 bits";
    diag << " (at most 2^47 bytes can be allocated)";
    return failure();
  };
  auto checkOp = [&](Operation *op) {
    if (auto alloca = dyn_cast<memref::AllocaOp>(op)) {
      MemRefType type = alloca.getType();
      std::optional<int64_t> bytes =
          byteSize(type.getElementType(), type.getShape());
      if (!bytes || uint64_t(*bytes) > stackBudget) {
        emitError(op->getLoc())
            << type << " on the stack needs more than half the stack ("
            << stackBudget << " of " << 2 * stackBudget
            << " bytes); allocate it with memref.alloc";
        return WalkResult::interrupt();
      }
    }
    for (Value result : op->getResults())
      if (failed(check(result.getType(), op->getLoc())))
        return WalkResult::interrupt();
    for (Region &region : op->getRegions())
      for (Block &block : region)
        for (BlockArgument arg : block.getArguments())
          if (failed(check(arg.getType(), arg.getLoc())))
            return WalkResult::interrupt();
    return WalkResult::advance();
  };
  // The entry and the functions it calls, directly or not.
  SmallVector<func::FuncOp> worklist{entry};
  llvm::SmallPtrSet<Operation *, 8> seen{entry};
  while (!worklist.empty()) {
    func::FuncOp func = worklist.pop_back_val();
    if (func.walk(checkOp).wasInterrupted())
      return takeError(getPath() + ": a tensor is too large");
    func.walk([&](CallOpInterface call) {
      auto callee = dyn_cast_or_null<func::FuncOp>(call.resolveCallable());
      if (callee && seen.insert(callee).second)
        worklist.push_back(callee);
    });
  }
  return llvm::Error::success();
}

/// Whether code may write through `root`, a memref argument of a bufferized
/// function, or a view of it. Conservative: a use by an op of unknown memory
/// effects (a call, a loop carrying it) or by a terminator other than the
/// return (a yield, a branch) counts as a write.
static bool mayWriteThrough(Value root) {
  SmallVector<Value> worklist{root};
  llvm::SmallPtrSet<Value, 8> seen;
  while (!worklist.empty()) {
    Value value = worklist.pop_back_val();
    if (!seen.insert(value).second)
      continue;
    for (Operation *user : value.getUsers()) {
      // Returning the buffer does not write it (the deallocation pipeline
      // copies a returned argument).
      if (isa<func::ReturnOp>(user))
        continue;
      // A yield or branch passes it on to values not followed here.
      if (user->hasTrait<OpTrait::IsTerminator>())
        return true;
      auto effects = dyn_cast<MemoryEffectOpInterface>(user);
      if (!effects)
        return true;
      SmallVector<MemoryEffects::EffectInstance> instances;
      effects.getEffects(instances);
      for (const MemoryEffects::EffectInstance &instance : instances)
        if (isa<MemoryEffects::Write, MemoryEffects::Free>(
                instance.getEffect()) &&
            (!instance.getValue() || instance.getValue() == value))
          return true;
      // Views, casts and reshapes of it alias it.
      for (Value result : user->getResults())
        if (isa<BaseMemRefType, LLVM::LLVMPointerType>(result.getType()))
          worklist.push_back(result);
    }
  }
  return false;
}

namespace {
/// Watches the lowering: records which arguments of public functions the
/// bufferized code writes, and with `keepIR` the IR after every pass.
class LoweringObserver : public PassInstrumentation {
public:
  LoweringObserver(llvm::StringMap<SmallVector<bool>> &writtenArguments,
                   std::vector<PassIR> *passIR)
      : writtenArguments(writtenArguments), passIR(passIR) {}

  void runAfterPass(Pass *pass, Operation *op) override {
    StringRef name = pass->getArgument();
    if (name.empty())
      name = pass->getName();
    // The adaptors that run nested pipelines.
    if (pass->getArgument().empty() &&
        pass->getName().starts_with("Pipeline Collection"))
      return;
    if (name == "one-shot-bufferize")
      if (auto module = dyn_cast<ModuleOp>(op))
        recordWrittenArguments(module);
    if (!passIR)
      return;
    std::string text;
    llvm::raw_string_ostream os(text);
    // Large constants elided, as --mlir-elide-elementsattrs-if-larger does:
    // one copy of the weights per pass would be large.
    OpPrintingFlags flags;
    flags.elideLargeElementsAttrs(64).elideLargeResourceString(64);
    op->print(os, flags);
    os << "\n";
    // A pass on functions runs once per function: one entry per pass.
    if (isa<ModuleOp>(op) || lastPass != pass) {
      passIR->push_back({name.str(), std::move(text)});
      lastPass = pass;
    } else {
      passIR->back().ir += text;
    }
  }

private:
  void recordWrittenArguments(ModuleOp module) {
    for (auto func : module.getOps<func::FuncOp>()) {
      if (!func.isPublic() || func.isExternal())
        continue;
      SmallVector<bool> written;
      for (BlockArgument arg : func.getArguments())
        written.push_back(!isa<BaseMemRefType>(arg.getType()) ||
                          mayWriteThrough(arg));
      writtenArguments[func.getName()] = std::move(written);
    }
  }

  llvm::StringMap<SmallVector<bool>> &writtenArguments;
  std::vector<PassIR> *passIR;
  Pass *lastPass = nullptr;
};
} // namespace

ArrayRef<bool> LoweringSession::getWrittenArguments(StringRef name) const {
  auto it = impl->writtenArguments.find(name);
  if (it == impl->writtenArguments.end())
    return {};
  return it->second;
}

ArrayRef<PassIR> LoweringSession::getPassIR() const { return impl->passIR; }

llvm::Error
LoweringSession::lowerToLLVMDialect(const LoweringOptions &options) {
  assert(options.target != KernelTarget::Host &&
         "resolve the kernel target for the code's CPU first");
  // Printed IR of nested passes must not race with other threads.
  if (options.keepPassIR)
    getContext().disableMultithreading();
  PassManager pm(&getContext());
  pm.addInstrumentation(std::make_unique<LoweringObserver>(
      impl->writtenArguments, options.keepPassIR ? &impl->passIR : nullptr));
  BitserialToLLVMPipelineOptions pipelineOptions;
  pipelineOptions.emitCInterface = true;
  pipelineOptions.strategy = options.strategy;
  pipelineOptions.tile = options.tile;
  pipelineOptions.parallel = options.parallel;
  pipelineOptions.minParallelBinops = options.minParallelBinops;
  pipelineOptions.target = options.target;
  pipelineOptions.dotProduct = options.dotProduct;
  pipelineOptions.i8mm = options.i8mm;
  pipelineOptions.x86Int8 = options.x86Int8;
  pipelineOptions.avx512Vnni = options.avx512Vnni;
  pipelineOptions.avxVnni = options.avxVnni;
  pipelineOptions.amx = options.amx;
  pipelineOptions.avx512Vbmi = options.avx512Vbmi;
  pipelineOptions.profile = options.profile;
  pipelineOptions.printKernels = options.printKernels;
  pipelineOptions.tuningCache = options.tuningCache;
  pipelineOptions.tuningCpu = options.tuningCpu;
  pipelineOptions.printTuningKeys = options.printTuningKeys;
  buildBitserialToLLVMPipeline(pm, pipelineOptions);
  if (failed(pm.run(getModule())))
    return takeError(getPath() + ": lowering to LLVM failed");
  return llvm::Error::success();
}

//===----------------------------------------------------------------------===//
// Ahead-of-time compilation: LLVM IR
//===----------------------------------------------------------------------===//

/// MLIR lowers memref.copy between non-contiguous memrefs to a call to
/// `memrefCopy`, which lives in MLIR's C runner utilities. This definition
/// (same algorithm, with whole rows copied at once when both innermost
/// strides are 1) keeps compiled objects linkable with libc alone. Arguments:
/// the element size and two unranked descriptors {rank, descriptor*}, where
/// a descriptor is {allocated, aligned, offset, sizes[rank], strides[rank]}.
static const char kMemrefCopyIR[] = R"(
define void @memrefCopy(i64 %elemSize, ptr %srcArg, ptr %dstArg) {
entry:
  %rank = load i64, ptr %srcArg
  %srcDescField = getelementptr i8, ptr %srcArg, i64 8
  %srcDesc = load ptr, ptr %srcDescField
  %dstDescField = getelementptr i8, ptr %dstArg, i64 8
  %dstDesc = load ptr, ptr %dstDescField
  %srcAlignedField = getelementptr i8, ptr %srcDesc, i64 8
  %srcAligned = load ptr, ptr %srcAlignedField
  %srcOffsetField = getelementptr i8, ptr %srcDesc, i64 16
  %srcOffset = load i64, ptr %srcOffsetField
  %dstAlignedField = getelementptr i8, ptr %dstDesc, i64 8
  %dstAligned = load ptr, ptr %dstAlignedField
  %dstOffsetField = getelementptr i8, ptr %dstDesc, i64 16
  %dstOffset = load i64, ptr %dstOffsetField
  %srcSizes = getelementptr i8, ptr %srcDesc, i64 24
  %srcStrides = getelementptr i64, ptr %srcSizes, i64 %rank
  %dstSizes = getelementptr i8, ptr %dstDesc, i64 24
  %dstStrides = getelementptr i64, ptr %dstSizes, i64 %rank
  %srcByteOffset = mul i64 %srcOffset, %elemSize
  %srcBase = getelementptr i8, ptr %srcAligned, i64 %srcByteOffset
  %dstByteOffset = mul i64 %dstOffset, %elemSize
  %dstBase = getelementptr i8, ptr %dstAligned, i64 %dstByteOffset
  br label %checkExtent

checkExtent:                    ; an empty memref: nothing to copy
  %d = phi i64 [ 0, %entry ], [ %dNext, %nonEmpty ]
  %checked = icmp eq i64 %d, %rank
  br i1 %checked, label %layout, label %nonEmptyCheck

nonEmptyCheck:
  %extentField = getelementptr i64, ptr %srcSizes, i64 %d
  %extent = load i64, ptr %extentField
  %isEmpty = icmp eq i64 %extent, 0
  br i1 %isEmpty, label %exit, label %nonEmpty

nonEmpty:
  %dNext = add i64 %d, 1
  br label %checkExtent

layout:                         ; whole rows if both innermost strides are 1
  %isScalar = icmp eq i64 %rank, 0
  br i1 %isScalar, label %start, label %innerCheck

innerCheck:
  %last = sub i64 %rank, 1
  %srcInnerField = getelementptr i64, ptr %srcStrides, i64 %last
  %srcInner = load i64, ptr %srcInnerField
  %dstInnerField = getelementptr i64, ptr %dstStrides, i64 %last
  %dstInner = load i64, ptr %dstInnerField
  %srcUnit = icmp eq i64 %srcInner, 1
  %dstUnit = icmp eq i64 %dstInner, 1
  %rows = and i1 %srcUnit, %dstUnit
  %rowField = getelementptr i64, ptr %srcSizes, i64 %last
  %rowLength = load i64, ptr %rowField
  %rowBytes = mul i64 %rowLength, %elemSize
  %innerBytes = select i1 %rows, i64 %rowBytes, i64 %elemSize
  %innerAxis = select i1 %rows, i64 -1, i64 0
  br label %start

start:
  %bytes = phi i64 [ %elemSize, %layout ], [ %innerBytes, %innerCheck ]
  %skip = phi i64 [ 0, %layout ], [ %innerAxis, %innerCheck ]
  %firstAxis = add i64 %rank, -1
  %firstAxisAdjusted = add i64 %firstAxis, %skip
  %indexBytes = shl i64 %rank, 3
  %indices = alloca i64, i64 %rank, align 8
  call void @llvm.memset.p0.i64(ptr align 8 %indices, i8 0, i64 %indexBytes, i1 false)
  br label %copy

copy:
  %read = phi i64 [ 0, %start ], [ %readNext, %step ]
  %write = phi i64 [ 0, %start ], [ %writeNext, %step ]
  %from = getelementptr i8, ptr %srcBase, i64 %read
  %to = getelementptr i8, ptr %dstBase, i64 %write
  call void @llvm.memcpy.p0.p0.i64(ptr %to, ptr %from, i64 %bytes, i1 false)
  br label %advance

advance:                        ; the next index, odometer style
  %axis = phi i64 [ %firstAxisAdjusted, %copy ], [ %outerAxis, %carry ]
  %r = phi i64 [ %read, %copy ], [ %readBack, %carry ]
  %w = phi i64 [ %write, %copy ], [ %writeBack, %carry ]
  %done = icmp slt i64 %axis, 0
  br i1 %done, label %exit, label %increment

increment:
  %indexField = getelementptr i64, ptr %indices, i64 %axis
  %index = load i64, ptr %indexField
  %indexNext = add i64 %index, 1
  store i64 %indexNext, ptr %indexField
  %srcStrideField = getelementptr i64, ptr %srcStrides, i64 %axis
  %srcStride = load i64, ptr %srcStrideField
  %srcStep = mul i64 %srcStride, %elemSize
  %dstStrideField = getelementptr i64, ptr %dstStrides, i64 %axis
  %dstStride = load i64, ptr %dstStrideField
  %dstStep = mul i64 %dstStride, %elemSize
  %readNext = add i64 %r, %srcStep
  %writeNext = add i64 %w, %dstStep
  %sizeField = getelementptr i64, ptr %srcSizes, i64 %axis
  %size = load i64, ptr %sizeField
  %inside = icmp slt i64 %indexNext, %size
  br i1 %inside, label %step, label %carry

step:
  br label %copy

carry:
  store i64 0, ptr %indexField
  %srcSpan = mul i64 %size, %srcStep
  %readBack = sub i64 %readNext, %srcSpan
  %dstSpan = mul i64 %size, %dstStep
  %writeBack = sub i64 %writeNext, %dstSpan
  %outerAxis = sub i64 %axis, 1
  br label %advance

exit:
  ret void
}

declare void @llvm.memcpy.p0.p0.i64(ptr, ptr, i64, i1)
declare void @llvm.memset.p0.i64(ptr, i8, i64, i1)
)";

/// Defines `memrefCopy` in `module` (internal) if the module calls it.
static llvm::Error defineMemrefCopy(llvm::Module &module) {
  llvm::Function *declaration = module.getFunction("memrefCopy");
  if (!declaration || !declaration->isDeclaration())
    return llvm::Error::success();
  llvm::SMDiagnostic diagnostic;
  std::unique_ptr<llvm::Module> library =
      llvm::parseAssemblyString(kMemrefCopyIR, diagnostic, module.getContext());
  if (!library)
    return makeError("internal error: memrefCopy does not parse: " +
                     diagnostic.getMessage());
  library->setTargetTriple(module.getTargetTriple());
  library->setDataLayout(module.getDataLayout());
  if (llvm::Linker::linkModules(module, std::move(library),
                                llvm::Linker::LinkOnlyNeeded))
    return makeError("internal error: cannot link memrefCopy");
  module.getFunction("memrefCopy")
      ->setLinkage(llvm::GlobalValue::InternalLinkage);
  return llvm::Error::success();
}

/// One public function of the module, as the header describes it.
struct PublicFunction {
  std::string name;
  std::string signature;
  SmallVector<std::string> argumentTypes, resultTypes;
  SmallVector<TensorSpec> arguments, results;
};

/// Makes every result of `function` a buffer of its own: where two results
/// share their `allocated` pointer (a function returning one tensor twice),
/// the later one is copied into a fresh malloc'ed buffer. Arguments and
/// constants are already copied by the deallocation pipeline, which makes
/// every result owned; results have identity layouts (row-major,
/// contiguous from aligned + offset).
static void makeResultsDistinct(llvm::Function &function,
                                const PublicFunction &info) {
  if (info.results.size() < 2)
    return;
  llvm::Module &module = *function.getParent();
  llvm::LLVMContext &ctx = module.getContext();
  llvm::Type *i64 = llvm::Type::getInt64Ty(ctx);
  llvm::Type *ptr = llvm::PointerType::get(ctx, 0);
  llvm::FunctionCallee malloc = module.getOrInsertFunction("malloc", ptr, i64);
  SmallVector<llvm::ReturnInst *> returns;
  for (llvm::BasicBlock &block : function)
    if (auto *ret = dyn_cast<llvm::ReturnInst>(block.getTerminator()))
      returns.push_back(ret);
  for (llvm::ReturnInst *ret : returns) {
    llvm::Value *original = ret->getReturnValue();
    llvm::Value *current = original;
    for (unsigned i = 1; i < info.results.size(); ++i) {
      llvm::IRBuilder<> b(ret);
      llvm::Value *allocated = b.CreateExtractValue(original, {i, 0});
      llvm::Value *shared = b.getFalse();
      for (unsigned j = 0; j < i; ++j)
        shared = b.CreateOr(
            shared,
            b.CreateICmpEQ(allocated, b.CreateExtractValue(original, {j, 0})));
      llvm::BasicBlock *head = ret->getParent();
      llvm::Instruction *thenTerm =
          llvm::SplitBlockAndInsertIfThen(shared, ret, /*Unreachable=*/false);
      llvm::BasicBlock *copyBlock = thenTerm->getParent();
      llvm::IRBuilder<> c(thenTerm);
      const TensorSpec &spec = info.results[i];
      uint64_t itemSize = std::max(1u, spec.bitWidth / 8);
      llvm::Value *bytes = c.getInt64(itemSize);
      for (unsigned d = 0; d < spec.shape.size(); ++d)
        bytes = c.CreateMul(bytes, c.CreateExtractValue(original, {i, 3, d}));
      llvm::Value *aligned = c.CreateExtractValue(original, {i, 1});
      llvm::Value *offset = c.CreateMul(c.CreateExtractValue(original, {i, 2}),
                                        c.getInt64(itemSize));
      llvm::Value *source = c.CreateGEP(c.getInt8Ty(), aligned, offset);
      llvm::Value *fresh = c.CreateCall(malloc, {bytes});
      c.CreateMemCpy(fresh, llvm::MaybeAlign(1), source, llvm::MaybeAlign(1),
                     bytes);
      llvm::Value *copied = c.CreateInsertValue(current, fresh, {i, 0});
      copied = c.CreateInsertValue(copied, fresh, {i, 1});
      copied = c.CreateInsertValue(copied, c.getInt64(0), {i, 2});
      llvm::IRBuilder<> m(ret);
      llvm::PHINode *phi = m.CreatePHI(current->getType(), 2);
      phi->addIncoming(current, head);
      phi->addIncoming(copied, copyBlock);
      current = phi;
    }
    ret->setOperand(0, current);
  }
}

//===----------------------------------------------------------------------===//
// Ahead-of-time compilation: the C header
//===----------------------------------------------------------------------===//

static bool isCIdentifier(StringRef name) {
  if (name.empty() || llvm::isDigit(name.front()))
    return false;
  return llvm::all_of(name,
                      [](char c) { return llvm::isAlnum(c) || c == '_'; });
}

static std::string descriptorName(const TensorSpec &spec) {
  return std::string("bitserial_memref_") + (spec.isFloat ? "f" : "i") +
         std::to_string(spec.bitWidth) + "_" +
         std::to_string(spec.shape.size()) + "d";
}

static std::string cElementType(const TensorSpec &spec) {
  if (spec.isFloat)
    return spec.bitWidth == 32 ? "float" : "double";
  return spec.bitWidth == 1 ? "bool"
                            : "int" + std::to_string(spec.bitWidth) + "_t";
}

static std::string shapeString(ArrayRef<int64_t> shape) {
  std::string s = "[";
  for (auto [i, extent] : llvm::enumerate(shape))
    s += (i ? ", " : "") + (ShapedType::isDynamic(extent)
                                ? std::string("?")
                                : std::to_string(extent));
  return s + "]";
}

/// What the header says about one argument or result.
static std::string describeTensor(const TensorSpec &spec, Type type) {
  std::string text = typeToString(type);
  if (PackedLayoutAttr layout = getPackedLayout(type)) {
    auto shape = cast<RankedTensorType>(type).getShape();
    unsigned wordBits = spec.bitWidth;
    text +=
        "\n *     packed: " + std::to_string(layout.getBits()) + "-bit " +
        stringifyEncoding(layout.getEncoding()).str() + ", length " +
        std::to_string(layout.getLength()) + "; layout " +
        shapeString(shape.drop_back(2)) + " x " +
        std::to_string(layout.getBits()) + " planes x " +
        std::to_string(shape.back()) + " words of " + std::to_string(wordBits) +
        " bits;\n *     value k of a row: bit i of its plane code at bit k % " +
        std::to_string(wordBits) + " of word k / " + std::to_string(wordBits) +
        " of plane i; bits past the length zero";
  } else if (spec.rangeChecked) {
    text += "\n *     values in [" + std::to_string(spec.minValue) + ", " +
            std::to_string(spec.maxValue) + "]" +
            (spec.oddOnly ? ", odd only" : "") + " (" + spec.rangeOrigin + ")";
  }
  return text;
}

static std::string makeGuard(StringRef name) {
  std::string guard = "BITSERIAL_";
  for (char c : llvm::sys::path::filename(name))
    guard += llvm::isAlnum(c) ? llvm::toUpper(c) : '_';
  return guard;
}

static std::string makeHeader(ArrayRef<PublicFunction> functions,
                              const CompilerOptions &options,
                              StringRef modulePath, StringRef description,
                              bool writesGlobals,
                              ArrayRef<std::string> external) {
  std::string text;
  llvm::raw_string_ostream os(text);
  std::string guard = makeGuard(options.headerName);
  os << "/* " << llvm::sys::path::filename(options.headerName)
     << ": generated by " << options.producer << " from "
     << llvm::sys::path::filename(modulePath) << "; do not edit.\n"
     << " * Code: " << description << ".\n"
     << " *\n"
     << " * ABI of each _mlir_ciface_<name> function (MLIR's C interface):\n"
     << " * - A tensor is a memref descriptor {allocated, aligned, offset,\n"
     << " *   sizes[rank], strides[rank]} (rank 0: no sizes, strides); its\n"
     << " *   element [i0, i1, ...] is aligned[offset + i0 * strides[0] + i1 "
        "*\n"
     << " *   strides[1] + ...].\n"
     << " * - Results come first: with one result, a pointer to a descriptor\n"
     << " *   the function fills; with several, a pointer to a struct of one\n"
     << " *   descriptor per result, in order. Then a pointer to the\n"
     << " *   descriptor of each argument, in order.\n"
     << " * - Arguments are row-major and contiguous: offset 0, strides the\n"
     << " *   row-major strides of sizes; static extents must equal the\n"
     << " *   declared ones (nothing checks them). The function may write\n"
     << " *   into argument buffers (an accumulator is updated in place):\n"
     << " *   pass copies of arrays you still need.\n"
     << " * - Each result is a fresh buffer from malloc, row-major and\n"
     << " *   contiguous from aligned + offset, also when the function "
        "returns\n"
     << " *   an argument or a constant, and no two results share one: free\n"
     << " *   each with free(result.allocated).\n"
     << " * - Values of an argument that feeds bitserial.pack must lie in its\n"
     << " *   encoding's range, packed arguments must have zero bits past the\n"
     << " *   length; other values give unspecified results (not checked).\n";
  if (options.parallel)
    os << " * - Parallel code: calls libomp's entry points (__kmpc_*): link\n"
       << " *   libbitserial_thread_team.a (bitserial's thread team; threads:\n"
       << " *   bitserial_set_num_threads, else BITSERIAL_NUM_THREADS, else\n"
       << " *   OMP_NUM_THREADS, else the CPUs) or libomp (-lomp).\n";
  else if (external.empty())
    os << " * - Links with libc only (malloc, free, memcpy, memset).\n";
  if (!external.empty()) {
    // The module's own external calls (vector.print, declared functions).
    std::string line = " * - Also calls, to be linked in:";
    for (const std::string &name : external) {
      if (line.size() + name.size() > 76) {
        os << line << "\n";
        line = " *  ";
      }
      line += " " + name;
    }
    os << line << "\n";
  }
  if (writesGlobals)
    os << " * - The module writes global variables: calls are NOT reentrant\n"
       << " *   and must not run concurrently.\n";
  else
    os << " * - Reentrant: the code writes no global state, so calls may run\n"
       << " *   concurrently (on different argument buffers).\n";
  os << " */\n"
     << "#ifndef " << guard << "\n#define " << guard << "\n\n"
     << "#include <stdbool.h>\n#include <stdint.h>\n\n"
     << "#ifdef __cplusplus\nextern \"C\" {\n#endif\n";

  // One descriptor type per element type and rank, shared between headers.
  llvm::StringSet<> emitted;
  for (const PublicFunction &function : functions)
    for (const auto &list : {function.results, function.arguments})
      for (const TensorSpec &spec : list) {
        std::string name = descriptorName(spec);
        if (!emitted.insert(name).second)
          continue;
        std::string macro = StringRef(name).upper() + "_DEFINED";
        std::string element = cElementType(spec) + " *";
        os << "\n#ifndef " << macro << "\n#define " << macro << "\n"
           << "typedef struct {\n  " << element << "allocated;\n  " << element
           << "aligned;\n  int64_t offset;\n";
        if (!spec.shape.empty())
          os << "  int64_t sizes[" << spec.shape.size() << "];\n"
             << "  int64_t strides[" << spec.shape.size() << "];\n";
        os << "} " << name << ";\n#endif\n";
      }

  for (const PublicFunction &function : functions) {
    os << "\n/* " << function.signature << "\n";
    for (auto [i, spec] : llvm::enumerate(function.arguments))
      os << " *   argument " << i << ": " << function.argumentTypes[i] << "\n";
    for (auto [i, spec] : llvm::enumerate(function.results))
      os << " *   result " << i << ": " << function.resultTypes[i] << "\n";
    os << " */\n";
    std::string params;
    if (function.results.size() > 1) {
      std::string resultsType = "bitserial_results_" + function.name;
      os << "typedef struct {\n";
      for (auto [i, spec] : llvm::enumerate(function.results))
        os << "  " << descriptorName(spec) << " r" << i << ";\n";
      os << "} " << resultsType << ";\n";
      params = resultsType + " *results";
    } else if (function.results.size() == 1) {
      params = descriptorName(function.results.front()) + " *result";
    }
    for (auto [i, spec] : llvm::enumerate(function.arguments))
      params += (params.empty() ? "" : ", ") + std::string("const ") +
                descriptorName(spec) + " *arg" + std::to_string(i);
    if (params.empty())
      params = "void";
    os << "void _mlir_ciface_" << function.name << "(" << params << ");\n";
  }
  os << "\n#ifdef __cplusplus\n}\n#endif\n\n#endif /* " << guard << " */\n";
  return text;
}

//===----------------------------------------------------------------------===//
// Ahead-of-time compilation
//===----------------------------------------------------------------------===//

static void initializeTargets() {
  static bool initialized = [] {
    llvm::InitializeAllTargetInfos();
    llvm::InitializeAllTargets();
    llvm::InitializeAllTargetMCs();
    llvm::InitializeAllAsmPrinters();
    return true;
  }();
  (void)initialized;
}

llvm::Expected<CompiledModule>
mlir::bitserial::compileModule(StringRef path, const CompilerOptions &options) {
  initializeTargets();

  // The triple, the CPU and its features: an AArch64 or x86 kernel target
  // implies its architecture's triple and a CPU it suits, unless told.
  auto [defaultTriple, defaultCpu] = getDefaultTripleAndCPU(options.target);
  llvm::Triple triple(llvm::Triple::normalize(
      options.triple.empty() ? defaultTriple : options.triple));
  std::string lookupError;
  const llvm::Target *llvmTarget =
      llvm::TargetRegistry::lookupTarget(triple, lookupError);
  if (!llvmTarget || triple.getArch() == llvm::Triple::UnknownArch)
    return makeError("unknown --triple '" + options.triple +
                     "' (e.g. x86_64-linux-gnu or aarch64-linux-gnu)");
  if (triple.getArch() != llvm::Triple::x86_64 &&
      triple.getArch() != llvm::Triple::aarch64)
    return makeError("unsupported --triple '" + options.triple +
                     "': the generated code and header are for 64-bit "
                     "x86_64 and aarch64 targets only");
  TargetArch targetArch = getKernelTargetArch(options.target);
  std::string cpu = options.cpu;
  std::string features;
  std::string cpuName = "--cpu '" + cpu + "'";
  if (cpu.empty() &&
      ((targetArch == TargetArch::X86 && triple.isX86()) ||
       (targetArch == TargetArch::AArch64 && triple.isAArch64()))) {
    cpu = defaultCpu;
    cpuName = "the CPU '" + cpu + "'";
  } else if (cpu.empty() &&
             triple == llvm::Triple(llvm::sys::getProcessTriple())) {
    // This machine's CPU with all its features, as the JIT does.
    cpu = llvm::sys::getHostCPUName().str();
    llvm::SubtargetFeatures hostFeatures;
    for (const auto &feature : llvm::sys::getHostCPUFeatures())
      hostFeatures.AddFeature(feature.getKey(), feature.getValue());
    features = hostFeatures.getString();
    cpuName = "the host CPU '" + cpu + "'";
  } else if (cpu.empty()) {
    cpu = "generic";
    cpuName = "the CPU 'generic'";
  }
  {
    std::unique_ptr<llvm::MCSubtargetInfo> subtarget(
        llvmTarget->createMCSubtargetInfo(triple, "", ""));
    // LLVM only warns about a CPU it does not know.
    if (!subtarget || !subtarget->isCPUStringValid(cpu))
      return makeError("unknown --cpu '" + cpu + "' for " + triple.str() +
                       " (llc -mtriple=" + triple.str() +
                       " -mcpu=help lists the names)");
  }
  auto cpuFeatures = CpuFeatures::get(triple, cpu, features);
  if (!cpuFeatures)
    return cpuFeatures.takeError();
  auto kernelTarget = resolveKernelTargetForCPU(
      options.target, *cpuFeatures, triple, cpu, cpuName, /*jit=*/false);
  if (!kernelTarget)
    return kernelTarget.takeError();

  CompiledModule compiled;
  // AArch64 CPUs with dot products or i8mm: the vector lowering hands the
  // ops the int8 rule selects to int8 dot-product kernels.
  bool dotProduct = triple.isAArch64() && cpuFeatures->has("dotprod");
  bool i8mm = triple.isAArch64() && cpuFeatures->has("i8mm");
  std::string int8;
  if (options.strategy == LoweringStrategy::Vector && (dotProduct || i8mm))
    int8 = std::string(" and int8 dot products (") +
           (dotProduct ? "dotprod" : "") + (dotProduct && i8mm ? ", " : "") +
           (i8mm ? "i8mm" : "") + ") where they win";
  compiled.targetDescription =
      (options.strategy == LoweringStrategy::Vector
           ? getKernelTargetName(*kernelTarget).str() + " kernels" + int8
           : std::string("reference lowering")) +
      ", " + triple.str() + ", cpu " + cpu +
      (options.parallel ? ", parallel (OpenMP)" : "");

  // Parse, check the public functions, lower.
  auto session = LoweringSession::parse(path);
  if (!session)
    return session.takeError();
  std::vector<PublicFunction> functions;
  for (func::FuncOp func : (*session)->getPublicFunctions()) {
    PublicFunction info;
    info.name = func.getName().str();
    if (!isCIdentifier(info.name))
      return makeError(path + ": function '" + info.name +
                       "' cannot be called from C: its name is not a C "
                       "identifier (letters, digits, '_'; not starting with "
                       "a digit)");
    if (llvm::Error error =
            getSignatureSpecs(func, info.arguments, info.results))
      return makeError("'" + info.name + "': " + toString(std::move(error)));
    for (Type type : func.getArgumentTypes())
      info.argumentTypes.push_back(
          describeTensor(info.arguments[info.argumentTypes.size()], type));
    for (Type type : func.getResultTypes())
      info.resultTypes.push_back(
          describeTensor(info.results[info.resultTypes.size()], type));
    std::string signature;
    llvm::raw_string_ostream os(signature);
    os << "func.func @" << info.name << "(";
    llvm::interleaveComma(func.getArgumentTypes(), os);
    os << ") -> (";
    llvm::interleaveComma(func.getResultTypes(), os);
    os << ")";
    info.signature = signature;
    // Half of a usual 8 MiB main thread stack.
    if (llvm::Error error = (*session)->checkStaticSizes(func, 4u << 20))
      return std::move(error);
    functions.push_back(std::move(info));
  }
  if (functions.empty())
    return makeError(path + ": the module has no public function to compile");

  LoweringOptions lowering;
  lowering.strategy = options.strategy;
  lowering.target = *kernelTarget;
  lowering.tile = options.tile;
  lowering.parallel = options.parallel;
  lowering.minParallelBinops = options.minParallelBinops;
  lowering.printKernels = options.printKernels;
  lowering.tuningCache = options.tuningCache;
  lowering.tuningCpu = cpu;
  lowering.printTuningKeys = options.printTuningKeys;
  setInt8Features(lowering, triple, *cpuFeatures);
  if (llvm::Error error = (*session)->lowerToLLVMDialect(lowering))
    return std::move(error);
  if (triple.isX86())
    if (llvm::Error error = checkIntrinsicFeatures((*session)->getModule(),
                                                   *cpuFeatures, cpuName))
      return error;

  // To LLVM IR for the target machine.
  llvm::TargetOptions targetOptions;
  std::unique_ptr<llvm::TargetMachine> machine(llvmTarget->createTargetMachine(
      triple, cpu, features, targetOptions, llvm::Reloc::PIC_, std::nullopt,
      llvm::CodeGenOptLevel::Aggressive));
  if (!machine)
    return makeError("cannot create a code generator for " + triple.str() +
                     ", cpu " + cpu);
  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> module =
      translateModuleToLLVMIR((*session)->getModule(), llvmContext,
                              llvm::sys::path::filename(path.str()));
  if (!module)
    return (*session)->takeError(path + ": translation to LLVM IR failed");
  module->setTargetTriple(triple);
  module->setDataLayout(machine->createDataLayout());

  if (llvm::Error error = defineMemrefCopy(*module))
    return std::move(error);
  for (const PublicFunction &info : functions) {
    llvm::Function *function = module->getFunction(info.name);
    if (!function || !module->getFunction("_mlir_ciface_" + info.name))
      return makeError("internal error: no C interface for '" + info.name +
                       "'");
    makeResultsDistinct(*function, info);
    // Only the _mlir_ciface_ wrappers are exported: a function named `main`
    // or `free` does not clash with the program it is linked into.
    function->setLinkage(llvm::GlobalValue::InternalLinkage);
  }
  // The emitted LLVM IR names its CPU, as clang's does.
  for (llvm::Function &function : *module) {
    if (function.isDeclaration())
      continue;
    function.addFnAttr("target-cpu", cpu);
    if (!features.empty())
      function.addFnAttr("target-features", features);
  }
  bool writesGlobals = false;
  for (const llvm::GlobalVariable &global : module->globals())
    if (!global.isConstant())
      writesGlobals = true;
  if (llvm::verifyModule(*module, &llvm::errs()))
    return makeError("internal error: invalid LLVM IR");

  if (llvm::Error error = makeOptimizingTransformer(
          3, /*sizeLevel=*/0, machine.get())(module.get()))
    return makeError("optimizing the LLVM IR failed: " +
                     toString(std::move(error)));

  // What the object needs besides libc (OpenMP, the module's own externals).
  SmallVector<std::string> external;
  for (const llvm::Function &function : *module)
    if (function.isDeclaration() && !function.isIntrinsic() &&
        !function.use_empty() &&
        !llvm::is_contained({"malloc", "free", "memcpy", "memset"},
                            function.getName()))
      external.push_back(function.getName().str());
  llvm::sort(external);

  llvm::raw_string_ostream out(compiled.output);
  if (options.outputKind == OutputKind::LLVMIR) {
    module->print(out, nullptr);
  } else {
    llvm::SmallString<0> buffer;
    llvm::raw_svector_ostream stream(buffer);
    llvm::legacy::PassManager codegen;
    if (machine->addPassesToEmitFile(codegen, stream, nullptr,
                                     options.outputKind == OutputKind::Object
                                         ? llvm::CodeGenFileType::ObjectFile
                                         : llvm::CodeGenFileType::AssemblyFile))
      return makeError("the code generator for " + triple.str() +
                       " cannot emit this file type");
    codegen.run(*module);
    out << buffer;
  }
  compiled.header =
      makeHeader(functions, options, path, compiled.targetDescription,
                 writesGlobals, external);
  (*session)->flushDiagnostics();
  return compiled;
}
