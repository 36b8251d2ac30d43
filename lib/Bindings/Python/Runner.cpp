//===- Runner.cpp - bitserial._native.Runner: compile and call modules ----===//
//
// A thin binding of Bitserial/Runner/Runner.h. Argument checking, dtype
// conversions and the documented API live in python/bitserial/compiler.py;
// this file moves buffers and releases the GIL while code compiles or runs.
//
//===----------------------------------------------------------------------===//

#include "Arrays.h"
#include "Errors.h"
#include "Modules.h"

#include "Bitserial/Runner/Runner.h"

#include "mlir/IR/BuiltinTypes.h"
#include "llvm/Support/MemoryBuffer.h"

#include <pybind11/stl.h>

#include <algorithm>
#include <chrono>

namespace py = pybind11;
using namespace mlir;
using namespace mlir::bitserial;
using namespace mlir::bitserial::python;

namespace {
/// Options as bitserial.compiler passes them (already validated there).
struct Options {
  std::string entry;
  std::string target = "host";
  std::string strategy = "vector";
  unsigned threads = 1;
  bool tile = false;
  std::string cpu;
  unsigned optLevel = 2;
  bool checkInputs = true;
  bool profile = false;
  bool keepIR = false;
  std::string tuningCache;
};

llvm::Expected<RunnerOptions> toRunnerOptions(const Options &options) {
  RunnerOptions runner;
  runner.entry = options.entry;
  runner.threads = options.threads;
  runner.tile = options.tile;
  runner.cpu = options.cpu;
  runner.optLevel = options.optLevel;
  runner.checkInputValues = options.checkInputs;
  runner.profile = options.profile;
  runner.tuningCache = options.tuningCache;
  runner.keepInput = true;
  runner.keepPassIR = options.keepIR;
  runner.programName = "bitserial (Python)";
  if (options.strategy == "vector")
    runner.strategy = LoweringStrategy::Vector;
  else if (options.strategy == "reference")
    runner.strategy = LoweringStrategy::Reference;
  else
    return llvm::createStringError("unknown strategy '" + options.strategy +
                                   "' (vector or reference)");
  bool found = false;
  for (KernelTarget target :
       {KernelTarget::Host, KernelTarget::X86Avx2, KernelTarget::X86Avx512,
        KernelTarget::X86Avx512Vpopcntdq, KernelTarget::AArch64A53,
        KernelTarget::AArch64OutOfOrder, KernelTarget::Generic})
    if (getKernelTargetName(target) == options.target) {
      runner.target = target;
      found = true;
    }
  if (!found)
    return llvm::createStringError("unknown target '" + options.target + "'");
  return runner;
}

/// A compiled entry function.
class PyRunner {
public:
  /// Compiles `source`: a path if `isPath`, else the module's text or
  /// bytecode, named `name` in diagnostics.
  PyRunner(const py::bytes &source, bool isPath, const std::string &name,
           const Options &options) {
    auto runnerOptions = toRunnerOptions(options);
    if (!runnerOptions)
      raiseCompileError(runnerOptions.takeError());
    std::string bytes = source;
    llvm::Expected<std::unique_ptr<Runner>> created =
        llvm::createStringError("not compiled");
    {
      py::gil_scoped_release release;
      llvm::consumeError(created.takeError());
      if (isPath) {
        created = Runner::create(bytes, *runnerOptions);
      } else {
        // Aligned like a mapped file: bytecode resources may ask for it.
        std::unique_ptr<llvm::WritableMemoryBuffer> buffer =
            llvm::WritableMemoryBuffer::getNewUninitMemBuffer(
                bytes.size(), name, llvm::Align(64));
        if (!bytes.empty())
          std::memcpy(buffer->getBufferStart(), bytes.data(), bytes.size());
        created = Runner::createFromSource(std::move(buffer), *runnerOptions);
      }
      if (created)
        if (llvm::Error error = (*created)->compile())
          created = std::move(error);
    }
    if (!created)
      raiseCompileError(created.takeError());
    runner = std::move(*created);
  }

  std::string getEntry() const { return runner->getEntry().str(); }
  std::string getTarget() const { return runner->getTargetDescription().str(); }
  py::list getArguments() const { return describe(runner->getArguments()); }
  py::list getResults() const { return describe(runner->getResults()); }

  /// Calls the entry; returns the results as a list of ndarrays.
  py::list run(const py::list &arrays) {
    std::vector<InputArray> inputs = viewInputs(arrays);
    llvm::SmallVector<ArrayView> views;
    for (const InputArray &input : inputs)
      views.push_back(input.view);
    llvm::Expected<std::vector<ResultBuffer>> results =
        llvm::createStringError("not run");
    {
      py::gil_scoped_release release;
      llvm::consumeError(results.takeError());
      results = runner->runViews(views);
    }
    if (!results)
      raiseRunError(results.takeError());
    py::list outputs;
    for (ResultBuffer &result : *results)
      outputs.append(toArray(result));
    return outputs;
  }

  /// Times `repeat` calls (each call alone, without the input checks)
  /// after untimed ones: at least `warmupCalls` and `warmupMs` ms of them,
  /// at most max(`warmupMs`, 1000) ms once one ran, as `bitserial-run
  /// --warmup` does; returns the seconds of the timed calls.
  std::vector<double> benchmark(const py::list &arrays, unsigned repeat,
                                unsigned warmupCalls, double warmupMs) {
    std::vector<InputArray> inputs = viewInputs(arrays);
    llvm::SmallVector<ArrayView> views;
    for (const InputArray &input : inputs)
      views.push_back(input.view);
    std::vector<double> samples;
    llvm::Error error = llvm::Error::success();
    auto call = [&](double *seconds) {
      auto results = runner->runViews(views, seconds);
      if (!results) {
        error = results.takeError();
        return false;
      }
      for (ResultBuffer &result : *results)
        std::free(result.allocation);
      return true;
    };
    {
      py::gil_scoped_release release;
      using Clock = std::chrono::steady_clock;
      Clock::time_point start = Clock::now();
      double limitMs = std::max(warmupMs, 1000.0);
      for (unsigned calls = 0;; ++calls) {
        double elapsedMs =
            std::chrono::duration<double, std::milli>(Clock::now() - start)
                .count();
        if ((calls >= warmupCalls && elapsedMs >= warmupMs) ||
            (calls > 0 && elapsedMs >= limitMs))
          break;
        if (!call(nullptr))
          break;
      }
      for (unsigned i = 0; i < repeat && !error; ++i) {
        double seconds = 0;
        if (call(&seconds))
          samples.push_back(seconds);
      }
    }
    if (error)
      raiseRunError(std::move(error));
    return samples;
  }

  py::list makeRandomInputs(uint64_t seed) const {
    auto inputs = runner->makeRandomInputs(seed);
    if (!inputs)
      raiseInputError(llvm::toString(inputs.takeError()));
    py::list arrays;
    for (const NpyArray &input : *inputs)
      arrays.append(toArray(input));
    return arrays;
  }

  std::string getInputIR() const { return runner->getInputIR(); }
  std::string getLoweredIR() const { return runner->getLoweredIR(); }
  std::vector<std::pair<std::string, std::string>> getPassIR() const {
    std::vector<std::pair<std::string, std::string>> stages;
    for (const PassIR &pass : runner->getPassIR())
      stages.emplace_back(pass.pass, pass.ir);
    return stages;
  }
  std::string getLLVMIR() const { return runner->getLLVMIR().str(); }

  /// (rows, calls, seconds), each row (name, location, calls, seconds).
  py::tuple getProfile() const {
    Profile profile = runner->getProfile();
    py::list rows;
    for (const ProfileRow &row : profile.ops)
      rows.append(
          py::make_tuple(row.name, row.location, row.calls, row.seconds));
    return py::make_tuple(rows, profile.calls, profile.seconds);
  }
  void resetProfile() { runner->resetProfile(); }

  py::tuple getStats() const {
    const ModuleStats &stats = runner->getStats();
    return py::make_tuple(stats.constantGlobals, stats.constantBytes);
  }

private:
  /// One dict per tensor: description, shape (None for '?'), dtype name,
  /// written, range (min, max, odd_only, origin) or None, packed_length.
  static py::list describe(llvm::ArrayRef<TensorSpec> specs) {
    py::list list;
    for (const TensorSpec &spec : specs) {
      py::dict info;
      info["description"] = spec.description;
      py::list shape;
      for (int64_t extent : spec.shape)
        shape.append(ShapedType::isDynamic(extent)
                         ? py::object(py::none())
                         : py::object(py::int_(extent)));
      info["shape"] = py::tuple(shape);
      std::string width = std::to_string(spec.bitWidth);
      info["dtype"] = spec.isFloat         ? "float" + width
                      : spec.bitWidth == 1 ? std::string("bool")
                                           : "int" + width;
      info["written"] = spec.written;
      if (spec.rangeChecked)
        info["range"] = py::make_tuple(spec.minValue, spec.maxValue,
                                       spec.oddOnly, spec.rangeOrigin);
      else
        info["range"] = py::none();
      info["packed_length"] = spec.packedLength;
      list.append(info);
    }
    return list;
  }

  std::unique_ptr<Runner> runner;
};
} // namespace

void python::populateRunner(py::module_ &m) {
  py::class_<PyRunner>(m, "Runner",
                       "A JIT-compiled entry function (see "
                       "bitserial.compile, which wraps it)")
      .def(py::init([](const py::bytes &source, bool isPath,
                       const std::string &name, const std::string &entry,
                       const std::string &target, const std::string &strategy,
                       unsigned threads, bool tile, const std::string &cpu,
                       unsigned optLevel, bool checkInputs, bool profile,
                       bool keepIR, const std::string &tuningCache) {
             Options options;
             options.entry = entry;
             options.target = target;
             options.strategy = strategy;
             options.threads = threads;
             options.tile = tile;
             options.cpu = cpu;
             options.optLevel = optLevel;
             options.checkInputs = checkInputs;
             options.profile = profile;
             options.keepIR = keepIR;
             options.tuningCache = tuningCache;
             return std::make_unique<PyRunner>(source, isPath, name, options);
           }),
           py::arg("source"), py::arg("is_path"), py::arg("name"),
           py::kw_only(), py::arg("entry") = "", py::arg("target") = "host",
           py::arg("strategy") = "vector", py::arg("threads") = 1,
           py::arg("tile") = false, py::arg("cpu") = "",
           py::arg("opt_level") = 2, py::arg("check_inputs") = true,
           py::arg("profile") = false, py::arg("keep_ir") = false,
           py::arg("tuning_cache") = "")
      .def_property_readonly("entry", &PyRunner::getEntry)
      .def_property_readonly("target", &PyRunner::getTarget)
      .def_property_readonly("arguments", &PyRunner::getArguments)
      .def_property_readonly("results", &PyRunner::getResults)
      .def_property_readonly("stats", &PyRunner::getStats)
      .def("run", &PyRunner::run, py::arg("arrays"))
      .def("benchmark", &PyRunner::benchmark, py::arg("arrays"),
           py::arg("repeat"), py::arg("warmup_calls"), py::arg("warmup_ms"))
      .def("random_inputs", &PyRunner::makeRandomInputs, py::arg("seed"))
      .def("input_ir", &PyRunner::getInputIR)
      .def("lowered_ir", &PyRunner::getLoweredIR)
      .def("pass_ir", &PyRunner::getPassIR)
      .def("llvm_ir", &PyRunner::getLLVMIR)
      .def("profile", &PyRunner::getProfile)
      .def("reset_profile", &PyRunner::resetProfile);
}
