//===- Errors.h - Python exceptions of the bitserial extension --*- C++ -*-===//
//
// llvm::Error to the exceptions that python/bitserial/compiler.py defines
// (CompileError, InputError), raised through pybind11.
//
//===----------------------------------------------------------------------===//

#ifndef BITSERIAL_BINDINGS_PYTHON_ERRORS_H
#define BITSERIAL_BINDINGS_PYTHON_ERRORS_H

#include "llvm/Support/Error.h"

#include <pybind11/pybind11.h>

namespace mlir::bitserial::python {

/// Raises bitserial.CompileError for `error`, with the rendered MLIR
/// diagnostics as its `diagnostics` attribute when it carries them.
[[noreturn]] void raiseCompileError(llvm::Error error);

/// Raises bitserial.InputError (a TypeError and a ValueError) with `message`.
[[noreturn]] void raiseInputError(const std::string &message);

/// Raises bitserial.InputError for a failed input check, MemoryError for a
/// failed allocation, RuntimeError otherwise.
[[noreturn]] void raiseRunError(llvm::Error error);

} // namespace mlir::bitserial::python

#endif // BITSERIAL_BINDINGS_PYTHON_ERRORS_H
