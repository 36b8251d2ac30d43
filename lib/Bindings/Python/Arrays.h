//===- Arrays.h - NumPy arrays to and from the runner's buffers -*- C++ -*-===//
//
// Inputs are viewed in place (ArrayView over the ndarray's buffer); results
// become ndarrays that own the buffer the compiled code allocated (a capsule
// frees it), so neither side is copied.
//
//===----------------------------------------------------------------------===//

#ifndef BITSERIAL_BINDINGS_PYTHON_ARRAYS_H
#define BITSERIAL_BINDINGS_PYTHON_ARRAYS_H

#include "Bitserial/Runner/Runner.h"

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <vector>

namespace mlir::bitserial::python {

/// An input: the array (kept alive while the view is used) and its view.
struct InputArray {
  pybind11::array array;
  llvm::SmallVector<int64_t> shape;
  ArrayView view;
};

/// Views of `arrays`, which must be C-contiguous, aligned ndarrays of a
/// native-order bool, integer or float dtype (bitserial.compiler prepares
/// them); raises InputError otherwise. Needs the GIL.
std::vector<InputArray> viewInputs(const pybind11::list &arrays);

/// An ndarray that takes ownership of `result`'s buffer.
pybind11::array toArray(ResultBuffer &result);

/// A copy of `array` as an ndarray.
pybind11::array toArray(const NpyArray &array);

} // namespace mlir::bitserial::python

#endif // BITSERIAL_BINDINGS_PYTHON_ARRAYS_H
