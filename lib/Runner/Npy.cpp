//===- Npy.cpp - NumPy .npy files of integer and float arrays -------------===//

#include "Bitserial/Runner/Npy.h"
#include "Bitserial/Runner/Compiler.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CheckedArithmetic.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdlib>
#include <cstring>
#include <unistd.h>

using namespace mlir::bitserial;
using llvm::StringRef;

static llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

int64_t NpyArray::getNumElements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

std::string NpyArray::getDtypeName() const {
  if (kind == 'b')
    return "bool";
  std::string width = std::to_string(itemSize * 8);
  if (kind == 'f')
    return "float" + width;
  return (kind == 'u' ? "uint" : "int") + width;
}

int64_t mlir::bitserial::loadInteger(const void *element, char kind,
                                     unsigned itemSize) {
  const char *p = static_cast<const char *>(element);
  switch (itemSize) {
  case 1:
    return kind == 'i' ? int64_t(*reinterpret_cast<const int8_t *>(p))
                       : int64_t(*reinterpret_cast<const uint8_t *>(p));
  case 2: {
    uint16_t v;
    std::memcpy(&v, p, 2);
    return kind == 'i' ? int64_t(int16_t(v)) : int64_t(v);
  }
  case 4: {
    uint32_t v;
    std::memcpy(&v, p, 4);
    return kind == 'i' ? int64_t(int32_t(v)) : int64_t(v);
  }
  default: {
    int64_t v;
    std::memcpy(&v, p, 8);
    return v;
  }
  }
}

int64_t NpyArray::getElement(int64_t i) const {
  return loadInteger(data.data() + i * itemSize, kind, itemSize);
}

void NpyArray::setElement(int64_t i, int64_t value) {
  std::memcpy(data.data() + i * itemSize, &value, itemSize); // little-endian
}

double NpyArray::getFloatElement(int64_t i) const {
  const char *p = data.data() + i * itemSize;
  if (itemSize == 4) {
    float v;
    std::memcpy(&v, p, 4);
    return v;
  }
  double v;
  std::memcpy(&v, p, 8);
  return v;
}

void NpyArray::setFloatElement(int64_t i, double value) {
  char *p = data.data() + i * itemSize;
  if (itemSize == 4) {
    float v = static_cast<float>(value);
    std::memcpy(p, &v, 4);
    return;
  }
  std::memcpy(p, &value, 8);
}

NpyArray NpyArray::zeros(char kind, unsigned itemSize,
                         llvm::ArrayRef<int64_t> shape) {
  NpyArray array;
  array.kind = kind;
  array.itemSize = itemSize;
  array.shape.assign(shape.begin(), shape.end());
  array.data.assign(array.getNumElements() * itemSize, 0);
  return array;
}

llvm::Expected<uint64_t>
mlir::bitserial::getByteSize(llvm::ArrayRef<int64_t> shape, unsigned itemSize,
                             const llvm::Twine &what) {
  // Far beyond any memory, and products of extents below it cannot overflow.
  constexpr int64_t kLimit = int64_t(1) << 62;
  std::optional<int64_t> bytes = itemSize;
  for (int64_t extent : shape) {
    if (extent < 0)
      return makeError(what + ": negative extent " + llvm::Twine(extent));
    if (bytes)
      bytes = llvm::checkedMul<int64_t>(*bytes, extent);
  }
  if (!bytes || *bytes > kLimit)
    return makeError(what + ": too large: the byte size overflows");
  return static_cast<uint64_t>(*bytes);
}

uint64_t mlir::bitserial::getPhysicalMemory() {
  long pages = sysconf(_SC_PHYS_PAGES);
  long pageSize = sysconf(_SC_PAGESIZE);
  if (pages <= 0 || pageSize <= 0)
    return UINT64_MAX;
  return uint64_t(pages) * uint64_t(pageSize);
}

llvm::Error mlir::bitserial::checkAllocation(uint64_t bytes,
                                             const llvm::Twine &what) {
  if (bytes < (uint64_t(1) << 20))
    return llvm::Error::success();
  uint64_t memory = getPhysicalMemory();
  if (bytes > memory)
    return makeError("out of memory: " + what + " needs " + llvm::Twine(bytes) +
                     " bytes, more than this machine's memory (" +
                     llvm::Twine(memory) + " bytes)");
  // Through a volatile pointer: compilers drop a malloc whose result is only
  // freed.
  void *(*volatile allocate)(size_t) = std::malloc;
  void *probe = allocate(bytes);
  if (!probe)
    return makeError("out of memory: cannot allocate " + llvm::Twine(bytes) +
                     " bytes for " + what);
  std::free(probe);
  return llvm::Error::success();
}

llvm::Expected<NpyArray> NpyArray::allocate(char kind, unsigned itemSize,
                                            llvm::ArrayRef<int64_t> shape,
                                            const llvm::Twine &what) {
  llvm::Expected<uint64_t> bytes = getByteSize(shape, itemSize, what);
  if (!bytes)
    return bytes.takeError();
  if (llvm::Error error = checkAllocation(*bytes, what))
    return std::move(error);
  return zeros(kind, itemSize, shape);
}

/// The value of `key` in the header dict, up to the next top-level comma.
static std::optional<StringRef> findHeaderValue(StringRef header,
                                                StringRef key) {
  for (char quote : {'\'', '"'}) {
    std::string quoted = (llvm::Twine(quote) + key + llvm::Twine(quote)).str();
    size_t pos = header.find(quoted);
    if (pos == StringRef::npos)
      continue;
    StringRef rest = header.drop_front(pos + quoted.size()).ltrim();
    if (!rest.consume_front(":"))
      return std::nullopt;
    return rest.ltrim();
  }
  return std::nullopt;
}

llvm::Expected<NpyArray> mlir::bitserial::parseNpy(StringRef buffer,
                                                   StringRef name) {
  auto fail = [&](const llvm::Twine &why) {
    return makeError(name + ": not a valid .npy file: " + why);
  };
  if (!buffer.starts_with("\x93NUMPY"))
    return fail("missing the \\x93NUMPY magic string");
  if (buffer.size() < 10)
    return fail("truncated header");
  unsigned major = static_cast<unsigned char>(buffer[6]);
  size_t headerLength, headerStart;
  if (major == 1) {
    headerLength = static_cast<unsigned char>(buffer[8]) |
                   static_cast<unsigned char>(buffer[9]) << 8;
    headerStart = 10;
  } else if (major == 2 || major == 3) {
    if (buffer.size() < 12)
      return fail("truncated header");
    headerLength = 0;
    for (int i = 0; i < 4; ++i)
      headerLength |= size_t(static_cast<unsigned char>(buffer[8 + i]))
                      << (8 * i);
    headerStart = 12;
  } else {
    return fail("unsupported format version " + llvm::Twine(major));
  }
  if (buffer.size() < headerStart + headerLength)
    return fail("truncated header");
  StringRef header = buffer.substr(headerStart, headerLength).trim();
  if (!header.starts_with("{") || !header.ends_with("}"))
    return fail("header is not a dict");

  NpyArray array;
  // descr: '<i4', '|u1', '|b1', ...
  std::optional<StringRef> descr = findHeaderValue(header, "descr");
  if (!descr || descr->empty() || (descr->front() != '\'' && descr->front() != '"'))
    return fail("header has no 'descr' string");
  char quote = descr->front();
  size_t end = descr->find(quote, 1);
  if (end == StringRef::npos)
    return fail("unterminated 'descr'");
  StringRef dtype = descr->substr(1, end - 1);
  if (dtype.size() < 3)
    return makeError(name + ": unsupported dtype '" + dtype +
                     "' (structured or object arrays are not supported; "
                     "use integer or float arrays)");
  char order = dtype[0], kind = dtype[1];
  unsigned itemSize;
  if (dtype.drop_front(2).getAsInteger(10, itemSize) ||
      !llvm::is_contained({'i', 'u', 'b', 'f'}, kind) ||
      !llvm::is_contained({1u, 2u, 4u, 8u}, itemSize) ||
      (kind == 'b' && itemSize != 1) ||
      (kind == 'f' && itemSize != 4 && itemSize != 8))
    return makeError(name + ": unsupported dtype '" + dtype +
                     "' (expected int8/16/32/64, uint8/16/32/64, bool, "
                     "float32 or float64)");
  if (order == '>' && itemSize > 1)
    return makeError(name + ": big-endian dtype '" + dtype +
                     "' is not supported (use a little-endian array)");
  if (!llvm::is_contained({'<', '|', '=', '>'}, order))
    return fail("bad byte order in dtype '" + dtype + "'");
  array.kind = kind;
  array.itemSize = itemSize;

  std::optional<StringRef> fortran = findHeaderValue(header, "fortran_order");
  if (!fortran)
    return fail("header has no 'fortran_order'");
  if (fortran->starts_with("True"))
    return makeError(name + ": Fortran-order arrays are not supported "
                            "(save a C-order array, e.g. np.ascontiguousarray)");
  if (!fortran->starts_with("False"))
    return fail("bad 'fortran_order' value");

  std::optional<StringRef> shapeText = findHeaderValue(header, "shape");
  if (!shapeText || !shapeText->starts_with("("))
    return fail("header has no 'shape' tuple");
  size_t close = shapeText->find(')');
  if (close == StringRef::npos)
    return fail("unterminated 'shape' tuple");
  llvm::SmallVector<StringRef> dims;
  shapeText->substr(1, close - 1).split(dims, ',', -1, /*KeepEmpty=*/false);
  // Each extent and the element count stay below 2^40, so that neither the
  // byte sizes here nor the sizes compiled code derives from them overflow,
  // also when another extent is 0.
  constexpr uint64_t kMaxElements = uint64_t(1) << 40;
  uint64_t numElements = 1;
  bool tooLarge = false;
  for (StringRef dim : dims) {
    dim = dim.trim();
    if (dim.empty())
      continue;
    int64_t extent;
    if (dim.getAsInteger(10, extent) || extent < 0)
      return fail("bad dimension '" + dim + "' in 'shape'");
    array.shape.push_back(extent);
    if (uint64_t(extent) > kMaxElements ||
        (extent != 0 && numElements > kMaxElements / extent))
      tooLarge = true;
    else
      numElements *= extent;
  }
  if (tooLarge)
    return makeError(name + ": shape " + shapeText->substr(0, close + 1) +
                     " is too large (at most 2^40 elements and 2^40 per "
                     "dimension)");

  uint64_t expected = numElements * itemSize;
  uint64_t available = buffer.size() - headerStart - headerLength;
  if (available < expected)
    return makeError(name + ": truncated .npy data: expected " +
                     llvm::Twine(expected) + " bytes, found " +
                     llvm::Twine(available));
  if (available > expected)
    return makeError(name + ": .npy file has " +
                     llvm::Twine(available - expected) +
                     " unexpected trailing bytes");
  StringRef payload = buffer.substr(headerStart + headerLength);
  if (llvm::Error error = checkAllocation(payload.size(), name))
    return std::move(error);
  array.data.assign(payload.begin(), payload.end());
  if (kind == 'b' &&
      llvm::any_of(array.data, [](char c) { return c != 0 && c != 1; }))
    return fail("bool array holds values other than 0 and 1");
  return array;
}

llvm::Expected<NpyArray> mlir::bitserial::readNpy(StringRef path) {
  auto file = readInputFile(path);
  if (!file)
    return file.takeError();
  return parseNpy((*file)->getBuffer(), path);
}

/// The magic string, version and header dict of a version 1.0 .npy file.
static std::string serializeNpyHeader(const NpyArray &array) {
  std::string dict = "{'descr': '";
  dict += array.kind == 'b' ? '|' : (array.itemSize == 1 ? '|' : '<');
  dict += array.kind;
  dict += std::to_string(array.itemSize);
  dict += "', 'fortran_order': False, 'shape': (";
  for (size_t i = 0; i < array.shape.size(); ++i)
    dict += (i ? ", " : "") + std::to_string(array.shape[i]);
  if (array.shape.size() == 1)
    dict += ",";
  dict += "), }";
  // Pad with spaces so that the data starts on a 64-byte boundary.
  size_t total = 10 + dict.size() + 1;
  dict.append((64 - total % 64) % 64, ' ');
  dict += '\n';
  std::string bytes = "\x93NUMPY";
  bytes += char(1);
  bytes += char(0);
  bytes += char(dict.size() & 0xff);
  bytes += char(dict.size() >> 8);
  bytes += dict;
  return bytes;
}

std::string mlir::bitserial::serializeNpy(const NpyArray &array) {
  std::string bytes = serializeNpyHeader(array);
  bytes.append(array.data.begin(), array.data.end());
  return bytes;
}

llvm::Error mlir::bitserial::writeNpy(StringRef path, const NpyArray &array) {
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec, llvm::sys::fs::OF_None);
  if (ec)
    return makeError("cannot write '" + path + "': " + ec.message());
  // Header and data separately: no second copy of a large array.
  os << serializeNpyHeader(array);
  os.write(array.data.data(), array.data.size());
  os.close();
  if (os.has_error()) {
    std::error_code error = os.error();
    // An uncleared error would abort in the stream's destructor.
    os.clear_error();
    return makeError("cannot write '" + path + "': " + error.message());
  }
  return llvm::Error::success();
}
