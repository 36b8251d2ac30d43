//===- MainModule.cpp - The bitserial._native extension module ------------===//
//
// The compiled part of the bitserial Python package: bitserial.compile
// (python/bitserial/compiler.py) loads it on first use.
//
//===----------------------------------------------------------------------===//

#include "Modules.h"

namespace py = pybind11;

PYBIND11_MODULE(_native, m) {
  m.doc() = "bitserial's C++ runner: parse, lower, JIT-compile and call "
            "MLIR modules (use bitserial.compile)";
  mlir::bitserial::python::populateRunner(m);
}
