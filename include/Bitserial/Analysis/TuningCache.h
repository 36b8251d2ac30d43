//===- TuningCache.h - Measured kernel choices per op -----------*- C++ -*-===//
//
// A tuning cache (JSON, docs/design.md "Tuning") records, per kernel target,
// CPU, int8 instruction and op key, the kernel and register block that ran
// fastest when benchmarks/tune.py measured the candidates on that machine.
// bitserial-select-kernels applies a matching entry instead of the cost
// model's choice.
//
//===----------------------------------------------------------------------===//

#ifndef BITSERIAL_ANALYSIS_TUNINGCACHE_H
#define BITSERIAL_ANALYSIS_TUNINGCACHE_H

#include "Bitserial/Analysis/CostModel.h"
#include "mlir/IR/Operation.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"

#include <optional>
#include <string>
#include <vector>

namespace mlir::bitserial {

/// The format version this build reads and benchmarks/tune.py writes.
inline constexpr int64_t kTuningCacheVersion = 1;
/// The value of the cache's "format" member.
inline constexpr llvm::StringLiteral kTuningCacheFormat =
    "bitserial-tuning-cache";

/// What determines an op's best kernel besides the machine: the op kind, its
/// static sizes (conv2d: N, H, W, C, CO, KH, KW, strides, padding,
/// dilations; matmul: B, M, K, N), the bits and encodings of both operands
/// and the epilogue the vector kernel would fuse ("none", "threshold",
/// "requantize", "dequantize"). A tile of a tuned op carries its op's key
/// (`bitserial.tuning_key`), which is returned instead. Nullopt for ops
/// with dynamic sizes or unpacked operands (those are not tuned).
std::optional<llvm::json::Object> getTuningKey(Operation *op);

/// A measured winner.
struct TunedChoice {
  KernelKind kernel = KernelKind::BitSerial;
  /// The register block of the bit-serial kernel (0 x 0 for int8).
  int64_t pixelBlock = 0, channelBlock = 0;
  /// The bitserial-tile sizes the winner was measured with (0 leaves an
  /// iteration dimension whole), if the entry has them.
  std::optional<SmallVector<int64_t>> tileSizes;
};

/// The entries of a tuning cache file.
class TuningCache {
public:
  /// Reads and validates `path`; errors name the file and what is wrong.
  static llvm::Expected<TuningCache> load(llvm::StringRef path);
  /// Validates the JSON `text`; `name` names it in errors.
  static llvm::Expected<TuningCache> parse(llvm::StringRef text,
                                           llvm::StringRef name);

  /// The winner of the last entry for this target, CPU, int8 instruction
  /// and key, if any.
  std::optional<TunedChoice> lookup(llvm::StringRef target, llvm::StringRef cpu,
                                    llvm::StringRef int8,
                                    const llvm::json::Object &key) const;

  size_t size() const { return entries.size(); }

private:
  struct Entry {
    std::string target, cpu, int8;
    llvm::json::Value key = nullptr;
    TunedChoice winner;
  };
  std::vector<Entry> entries;
};

/// The cache at `path` for a pass running on `op`: std::nullopt when `path`
/// is empty, failure (with the error emitted at `op`) when it cannot be read.
FailureOr<std::optional<TuningCache>> loadTuningCacheFor(Operation *op,
                                                         llvm::StringRef path);

/// The CPU name cache entries must name: `cpu`, or the host's if empty.
std::string getTuningCpuName(llvm::StringRef cpu);

} // namespace mlir::bitserial

#endif // BITSERIAL_ANALYSIS_TUNINGCACHE_H
