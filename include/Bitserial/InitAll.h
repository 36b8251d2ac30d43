//===- InitAll.h - Register everything bitserial provides -------*- C++ -*-===//
//
// The registration surface for tools and embedders: the bitserial dialect,
// its passes and pipelines, and the upstream dialects, extensions and passes
// that the lowering to LLVM uses.
//
//===----------------------------------------------------------------------===//

#ifndef BITSERIAL_INITALL_H
#define BITSERIAL_INITALL_H

namespace mlir {
class DialectRegistry;

namespace bitserial {

/// Registers the bitserial dialect only.
void registerBitserialDialect(DialectRegistry &registry);

/// Registers the bitserial passes and the `bitserial-to-llvm` pipeline.
void registerBitserialPasses();

/// Registers bitserial and every upstream dialect and extension (external
/// models such as bufferization and LLVM-IR translation interfaces).
void registerAllDialects(DialectRegistry &registry);

/// Registers bitserial passes and pipelines and every upstream pass.
void registerAllPasses();

} // namespace bitserial
} // namespace mlir

#endif // BITSERIAL_INITALL_H
