//===- Npy.h - NumPy .npy files of integer arrays ---------------*- C++ -*-===//
//
// Reading and writing the subset of NumPy's .npy format that bitserial-run
// exchanges: C-order, little-endian integer, bool and float32/float64 arrays.
//
//===----------------------------------------------------------------------===//

#ifndef BITSERIAL_RUNNER_NPY_H
#define BITSERIAL_RUNNER_NPY_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/MemoryBuffer.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mlir::bitserial {

/// A dense array: kind 'i' (signed), 'u' (unsigned), 'b' (bool) or 'f'
/// (IEEE float32 or float64), elements of `itemSize` bytes in C order.
struct NpyArray {
  char kind = 'i';
  unsigned itemSize = 4;
  llvm::SmallVector<int64_t> shape;
  std::vector<char> data;

  int64_t getNumElements() const;
  /// NumPy's name of the dtype, e.g. "int32" or "float64".
  std::string getDtypeName() const;
  /// The element at flat index `i`, sign- or zero-extended to 64 bits
  /// (integer and bool arrays).
  int64_t getElement(int64_t i) const;
  void setElement(int64_t i, int64_t value);
  /// The element at flat index `i` of a float array, widened to double.
  double getFloatElement(int64_t i) const;
  /// Stores `value` (rounded to float32 for a float32 array).
  void setFloatElement(int64_t i, double value);

  static NpyArray zeros(char kind, unsigned itemSize,
                        llvm::ArrayRef<int64_t> shape);
  /// Like zeros(), but an error instead of an abort when the byte size
  /// overflows or the memory cannot be allocated; `what` names the array.
  static llvm::Expected<NpyArray> allocate(char kind, unsigned itemSize,
                                           llvm::ArrayRef<int64_t> shape,
                                           const llvm::Twine &what);
};

/// The little-endian integer (or bool) of `itemSize` bytes at `element`,
/// sign-extended for kind 'i', zero-extended otherwise, as 64 bits.
int64_t loadInteger(const void *element, char kind, unsigned itemSize);

/// The byte size of an array of `shape` with `itemSize`-byte elements, or an
/// error (naming `what`) for negative extents or a size past 2^62 bytes.
llvm::Expected<uint64_t> getByteSize(llvm::ArrayRef<int64_t> shape,
                                     unsigned itemSize,
                                     const llvm::Twine &what);

/// The size of this machine's physical memory in bytes.
uint64_t getPhysicalMemory();

/// An error unless `bytes` can be allocated now: more than the physical
/// memory is refused (with overcommit, touching it would get the process
/// killed), large buffers are probed with malloc first, as std::vector would
/// abort the process instead.
llvm::Error checkAllocation(uint64_t bytes, const llvm::Twine &what);

/// Parses `buffer` (the bytes of a .npy file); `name` is used in messages.
llvm::Expected<NpyArray> parseNpy(llvm::StringRef buffer, llvm::StringRef name);
llvm::Expected<NpyArray> readNpy(llvm::StringRef path);

/// The bytes of a version 1.0 .npy file holding `array`.
std::string serializeNpy(const NpyArray &array);
llvm::Error writeNpy(llvm::StringRef path, const NpyArray &array);

} // namespace mlir::bitserial

#endif // BITSERIAL_RUNNER_NPY_H
