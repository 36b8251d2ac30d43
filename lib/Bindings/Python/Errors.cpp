//===- Errors.cpp - Python exceptions of the bitserial extension ----------===//

#include "Errors.h"

#include "Bitserial/Runner/Compiler.h"

#include "llvm/ADT/StringRef.h"

namespace py = pybind11;
using namespace mlir::bitserial;

/// The exception class `name` of bitserial.compiler, which is pure Python
/// (importable without the extension).
static py::object getExceptionClass(const char *name) {
  return py::module_::import("bitserial.compiler").attr(name);
}

[[noreturn]] static void raise(py::handle type, py::object instance) {
  PyErr_SetObject(type.ptr(), instance.ptr());
  throw py::error_already_set();
}

void python::raiseCompileError(llvm::Error error) {
  std::string diagnostics;
  std::string message;
  llvm::handleAllErrors(
      std::move(error),
      [&](const DiagnosticError &diagnostic) {
        diagnostics = diagnostic.getRendered();
        message = llvm::StringRef(diagnostics).rtrim('\n').str();
      },
      [&](const llvm::ErrorInfoBase &other) { message = other.message(); });
  py::object type = getExceptionClass("CompileError");
  raise(type, type(message, py::arg("diagnostics") = diagnostics));
}

void python::raiseInputError(const std::string &message) {
  py::object type = getExceptionClass("InputError");
  raise(type, type(message));
}

void python::raiseRunError(llvm::Error error) {
  std::string message = llvm::toString(std::move(error));
  if (llvm::StringRef(message).starts_with("out of memory"))
    raise(py::handle(PyExc_MemoryError), py::str(message));
  if (llvm::StringRef(message).starts_with("calling '"))
    raise(py::handle(PyExc_RuntimeError), py::str(message));
  raiseInputError(message);
}
