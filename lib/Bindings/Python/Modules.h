//===- Modules.h - Parts of the bitserial._native module --------*- C++ -*-===//

#ifndef BITSERIAL_BINDINGS_PYTHON_MODULES_H
#define BITSERIAL_BINDINGS_PYTHON_MODULES_H

#include <pybind11/pybind11.h>

namespace mlir::bitserial::python {

/// bitserial._native.Runner.
void populateRunner(pybind11::module_ &m);

} // namespace mlir::bitserial::python

#endif // BITSERIAL_BINDINGS_PYTHON_MODULES_H
