//===- Arrays.cpp - NumPy arrays to and from the runner's buffers ---------===//

#include "Arrays.h"
#include "Errors.h"

#include <cstdlib>
#include <cstring>

namespace py = pybind11;
using namespace mlir::bitserial;

/// The NumPy dtype of elements of `kind` ('i', 'u', 'b', 'f') and size.
static py::dtype getDtype(char kind, unsigned itemSize) {
  std::string name;
  if (kind == 'b')
    name = "bool";
  else
    name = std::string(kind == 'f'   ? "float"
                       : kind == 'u' ? "uint"
                                     : "int") +
           std::to_string(itemSize * 8);
  return py::dtype::from_args(py::str(name));
}

std::vector<python::InputArray> python::viewInputs(const py::list &arrays) {
  std::vector<InputArray> inputs;
  inputs.reserve(arrays.size());
  for (auto [i, item] : llvm::enumerate(arrays)) {
    std::string what = "input #" + std::to_string(i);
    if (!py::isinstance<py::array>(item))
      raiseInputError(what + ": expected a numpy.ndarray");
    auto array = py::reinterpret_borrow<py::array>(item);
    py::dtype dtype = array.dtype();
    char kind = dtype.kind();
    int flags = array.flags();
    if (!(flags & py::array::c_style) ||
        !(flags & py::detail::npy_api::NPY_ARRAY_ALIGNED_))
      raiseInputError(what + ": expected a C-contiguous, aligned array");
    if (!llvm::is_contained({'i', 'u', 'b', 'f'}, kind) ||
        !llvm::is_contained({1, 2, 4, 8}, dtype.itemsize()) ||
        dtype.attr("isnative").cast<bool>() == false)
      raiseInputError(what + ": unsupported dtype " +
                      py::str(dtype).cast<std::string>());
    InputArray input;
    input.array = array;
    for (py::ssize_t d = 0; d < array.ndim(); ++d)
      input.shape.push_back(array.shape(d));
    inputs.push_back(std::move(input));
  }
  // Views refer to the shapes, which stay put once the vector is built.
  for (InputArray &input : inputs) {
    py::dtype dtype = input.array.dtype();
    input.view.kind = dtype.kind();
    input.view.itemSize = dtype.itemsize();
    input.view.shape = input.shape;
    input.view.data = input.array.data();
  }
  return inputs;
}

py::array python::toArray(ResultBuffer &result) {
  // The capsule frees the buffer when the last view of the array goes.
  py::capsule owner(result.allocation, [](void *p) { std::free(p); });
  result.allocation = nullptr;
  std::vector<py::ssize_t> shape(result.shape.begin(), result.shape.end());
  return py::array(getDtype(result.kind, result.itemSize), shape, {},
                   result.data, owner);
}

py::array python::toArray(const NpyArray &array) {
  std::vector<py::ssize_t> shape(array.shape.begin(), array.shape.end());
  py::array copy(getDtype(array.kind, array.itemSize), shape);
  if (!array.data.empty())
    std::memcpy(copy.mutable_data(), array.data.data(), array.data.size());
  return copy;
}
