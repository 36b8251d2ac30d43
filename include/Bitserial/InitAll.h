//===- InitAll.h - Register everything bitserial provides -------*- C++ -*-===//
//
// The registration surface for tools and embedders: the bitserial dialect,
// its passes and pipelines, and the upstream dialects, extensions, LLVM IR
// translations and passes that the lowering to LLVM uses.
//
//===----------------------------------------------------------------------===//

#ifndef BITSERIAL_INITALL_H
#define BITSERIAL_INITALL_H

namespace mlir {
class DialectRegistry;

namespace bitserial {

/// Registers the bitserial dialect only.
void registerBitserialDialect(DialectRegistry &registry);

/// Registers the bitserial passes and the `bitserial-vectorize` and
/// `bitserial-to-llvm` pipelines. Safe to call more than once: registers on
/// the first call only.
void registerBitserialPasses();

/// Registers the LLVM IR translation interfaces of the builtin dialect and of
/// every upstream dialect that has one (LLVM, OpenMP, ArmNeon, ...), so that
/// `translateModuleToLLVMIR` accepts the output of `bitserial-to-llvm`. For
/// hosts that register their own set of dialects.
void registerToLLVMIRTranslations(DialectRegistry &registry);

/// Registers bitserial, every upstream dialect and extension (external models
/// such as bufferization), and the LLVM IR translations above.
void registerAllDialects(DialectRegistry &registry);

/// Registers bitserial passes and pipelines and every upstream pass and
/// pipeline. Safe to call more than once.
void registerAllPasses();

} // namespace bitserial
} // namespace mlir

#endif // BITSERIAL_INITALL_H
