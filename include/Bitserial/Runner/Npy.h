//===- Npy.h - NumPy .npy files of integer arrays ---------------*- C++ -*-===//
//
// Reading and writing the subset of NumPy's .npy format that bitserial-run
// exchanges: C-order, little-endian integer and bool arrays.
//
//===----------------------------------------------------------------------===//

#ifndef BITSERIAL_RUNNER_NPY_H
#define BITSERIAL_RUNNER_NPY_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mlir::bitserial {

/// A dense integer array: kind 'i' (signed), 'u' (unsigned) or 'b' (bool),
/// elements of `itemSize` bytes in C order.
struct NpyArray {
  char kind = 'i';
  unsigned itemSize = 4;
  llvm::SmallVector<int64_t> shape;
  std::vector<char> data;

  int64_t getNumElements() const;
  /// NumPy's name of the dtype, e.g. "int32".
  std::string getDtypeName() const;
  /// The element at flat index `i`, sign- or zero-extended to 64 bits.
  int64_t getElement(int64_t i) const;
  void setElement(int64_t i, int64_t value);

  static NpyArray zeros(char kind, unsigned itemSize,
                        llvm::ArrayRef<int64_t> shape);
};

/// Parses `buffer` (the bytes of a .npy file); `name` is used in messages.
llvm::Expected<NpyArray> parseNpy(llvm::StringRef buffer, llvm::StringRef name);
llvm::Expected<NpyArray> readNpy(llvm::StringRef path);

/// The bytes of a version 1.0 .npy file holding `array`.
std::string serializeNpy(const NpyArray &array);
llvm::Error writeNpy(llvm::StringRef path, const NpyArray &array);

} // namespace mlir::bitserial

#endif // BITSERIAL_RUNNER_NPY_H
