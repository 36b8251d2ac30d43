//===- TuningCache.cpp - Measured kernel choices per op and machine -------===//
//
// Reads the JSON tuning cache that benchmarks/tune.py writes (format in
// docs/design.md, "Tuning") and computes the key an op is looked up by.
//
//===----------------------------------------------------------------------===//

#include "Bitserial/Analysis/TuningCache.h"
#include "Bitserial/IR/BitserialOps.h"

#include "llvm/Support/MemoryBuffer.h"
#include "llvm/TargetParser/Host.h"

using namespace mlir;
using namespace mlir::bitserial;
namespace json = llvm::json;

static json::Array toArray(ArrayRef<int64_t> values) {
  json::Array array;
  for (int64_t value : values)
    array.push_back(value);
  return array;
}

std::optional<json::Object> mlir::bitserial::getTuningKey(Operation *op) {
  if (auto stamped = op->getAttrOfType<StringAttr>(kTuningKeyAttrName)) {
    llvm::Expected<json::Value> key = json::parse(stamped.getValue());
    if (key && key->getAsObject())
      return *key->getAsObject();
    if (!key)
      llvm::consumeError(key.takeError());
    return std::nullopt; // the dialect's verifier reports it
  }
  PackedLayoutAttr lhs, rhs;
  json::Object key;
  auto isStatic = [](Value value) {
    return cast<RankedTensorType>(value.getType()).hasStaticShape();
  };
  auto shapeOf = [](Value value) {
    return cast<RankedTensorType>(value.getType()).getShape();
  };
  if (auto matmul = dyn_cast<MatmulOp>(op)) {
    lhs = matmul.getLhsLayout();
    rhs = matmul.getRhsLayout();
    if (!lhs || !rhs || !isStatic(matmul.getInit()))
      return std::nullopt;
    ArrayRef<int64_t> init = shapeOf(matmul.getInit());
    key["op"] = "matmul";
    key["B"] = init.size() == 3 ? init[0] : 1;
    key["M"] = init[init.size() - 2];
    key["K"] = lhs.getLength();
    key["N"] = init.back();
  } else if (auto conv = dyn_cast<Conv2DOp>(op)) {
    lhs = conv.getInputLayout();
    rhs = conv.getFilterLayout();
    if (!lhs || !rhs || !isStatic(conv.getInput()) ||
        !isStatic(conv.getFilter()) || !isStatic(conv.getInit()))
      return std::nullopt;
    ArrayRef<int64_t> input = shapeOf(conv.getInput());
    ArrayRef<int64_t> filter = shapeOf(conv.getFilter());
    key["op"] = "conv2d";
    key["N"] = input[0];
    key["H"] = input[1];
    key["W"] = input[2];
    key["C"] = lhs.getLength();
    key["CO"] = filter[0];
    key["KH"] = filter[1];
    key["KW"] = filter[2];
    key["stride"] = toArray(conv.getStrides());
    key["padding"] = toArray(conv.getPadding());
    key["dilation"] = toArray(conv.getDilations());
  } else {
    return std::nullopt;
  }
  key["bits"] = json::Array{lhs.getBits(), rhs.getBits()};
  key["encodings"] = json::Array{stringifyEncoding(lhs.getEncoding()),
                                 stringifyEncoding(rhs.getEncoding())};
  key["epilogue"] = getFusedEpilogueName(op);
  return key;
}

namespace {
/// Builds "NAME: entry 3: ..." errors.
struct CacheReader {
  StringRef name;

  llvm::Error fail(const Twine &message) const {
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "tuning cache '" + name + "': " + message);
  }
};
} // namespace

llvm::Expected<TuningCache> TuningCache::load(StringRef path) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/true);
  if (!buffer)
    return CacheReader{path}.fail("cannot read it: " +
                                  buffer.getError().message());
  return parse((*buffer)->getBuffer(), path);
}

llvm::Expected<TuningCache> TuningCache::parse(StringRef text, StringRef name) {
  CacheReader reader{name};
  llvm::Expected<json::Value> root = json::parse(text);
  if (!root)
    return reader.fail("not valid JSON: " + llvm::toString(root.takeError()));
  const json::Object *object = root->getAsObject();
  if (!object)
    return reader.fail("expected a JSON object at the top level");
  std::optional<StringRef> format = object->getString("format");
  if (!format || *format != kTuningCacheFormat)
    return reader.fail("\"format\" must be \"" + kTuningCacheFormat + "\"");
  std::optional<int64_t> version = object->getInteger("version");
  if (!version)
    return reader.fail("\"version\" must be an integer");
  if (*version != kTuningCacheVersion)
    return reader.fail("version " + Twine(*version) +
                       " is not supported (this build reads version " +
                       Twine(kTuningCacheVersion) + "); tune again");
  const json::Array *entries = object->getArray("entries");
  if (!entries)
    return reader.fail("\"entries\" must be an array");

  TuningCache cache;
  for (size_t index = 0; index < entries->size(); ++index) {
    auto entryError = [&](const Twine &message) {
      return reader.fail("entry " + Twine(index) + ": " + message);
    };
    const json::Object *entry = (*entries)[index].getAsObject();
    if (!entry)
      return entryError("expected an object");
    Entry parsed;
    std::pair<StringRef, std::string *> fields[] = {{"target", &parsed.target},
                                                    {"cpu", &parsed.cpu},
                                                    {"int8", &parsed.int8}};
    for (auto &field : fields) {
      std::optional<StringRef> string = entry->getString(field.first);
      if (!string)
        return entryError("\"" + field.first + "\" must be a string");
      *field.second = string->str();
    }
    const json::Object *key = entry->getObject("key");
    if (!key)
      return entryError("\"key\" must be an object");
    parsed.key = json::Object(*key);
    const json::Object *winner = entry->getObject("winner");
    if (!winner)
      return entryError("\"winner\" must be an object");
    std::optional<StringRef> kernel = winner->getString("kernel");
    std::optional<KernelKind> kind =
        kernel ? parseKernelKind(*kernel) : std::nullopt;
    if (!kind)
      return entryError(
          "\"winner\".\"kernel\" must be \"bitserial\", \"int8\" or "
          "\"lookup\"");
    parsed.winner.kernel = *kind;
    if (*kind == KernelKind::BitSerial) {
      const json::Array *block = winner->getArray("register_block");
      std::optional<int64_t> p, q;
      if (block && block->size() == 2) {
        p = (*block)[0].getAsInteger();
        q = (*block)[1].getAsInteger();
      }
      if (!p || !q || !isValidRegisterBlock(*p, *q))
        return entryError("\"winner\".\"register_block\" must be [pixels, "
                          "channel vectors] with at least 1 of each and at "
                          "most " +
                          Twine(kMaxRegisterBlockAccumulators) +
                          " accumulators");
      parsed.winner.pixelBlock = *p;
      parsed.winner.channelBlock = *q;
    }
    if (const json::Value *tiles = winner->get("tile_sizes")) {
      const json::Array *sizes = tiles->getAsArray();
      SmallVector<int64_t> parsedSizes;
      for (const json::Value &size : sizes ? *sizes : json::Array()) {
        std::optional<int64_t> value = size.getAsInteger();
        if (!value || *value < 0) {
          parsedSizes.clear();
          break;
        }
        parsedSizes.push_back(*value);
      }
      if (!sizes || sizes->empty() || parsedSizes.size() != sizes->size())
        return entryError("\"winner\".\"tile_sizes\" must be a non-empty "
                          "array of non-negative integers");
      parsed.winner.tileSizes = std::move(parsedSizes);
    }
    cache.entries.push_back(std::move(parsed));
  }
  return cache;
}

std::optional<TunedChoice> TuningCache::lookup(StringRef target, StringRef cpu,
                                               StringRef int8,
                                               const json::Object &key) const {
  json::Value wanted = json::Object(key);
  for (const Entry &entry : llvm::reverse(entries))
    if (entry.target == target && entry.cpu == cpu && entry.int8 == int8 &&
        entry.key == wanted)
      return entry.winner;
  return std::nullopt;
}

FailureOr<std::optional<TuningCache>>
mlir::bitserial::loadTuningCacheFor(Operation *op, StringRef path) {
  if (path.empty())
    return std::optional<TuningCache>();
  llvm::Expected<TuningCache> loaded = TuningCache::load(path);
  if (!loaded) {
    emitError(op->getLoc()) << llvm::toString(loaded.takeError());
    return failure();
  }
  return std::optional<TuningCache>(std::move(*loaded));
}

std::string mlir::bitserial::getTuningCpuName(StringRef cpu) {
  return cpu.empty() ? llvm::sys::getHostCPUName().str() : cpu.str();
}
