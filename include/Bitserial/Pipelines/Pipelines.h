//===- Pipelines.h - Bitserial lowering pipelines ---------------*- C++ -*-===//

#ifndef BITSERIAL_PIPELINES_PIPELINES_H
#define BITSERIAL_PIPELINES_PIPELINES_H

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

namespace mlir::bitserial {

/// Options of the `bitserial-to-llvm` pipeline.
struct BitserialToLLVMPipelineOptions
    : public PassPipelineOptions<BitserialToLLVMPipelineOptions> {
  PassOptions::Option<bool> emitCInterface{
      *this, "emit-c-interface",
      llvm::cl::desc("Emit _mlir_ciface_ wrappers for public functions "
                     "(needed to call them through mlir::ExecutionEngine)"),
      llvm::cl::init(false)};
};

/// Appends to `pm` (anchored on builtin.module) the passes that take a module
/// of bitserial ops on tensors, in func.func functions, to the LLVM dialect:
/// reference lowering to linalg, one-shot bufferization (function boundaries
/// included, identity layouts), buffer deallocation, loops and LLVM.
void buildBitserialToLLVMPipeline(OpPassManager &pm,
                                  const BitserialToLLVMPipelineOptions &options);

/// Registers `bitserial-to-llvm` with the pass pipeline registry.
void registerBitserialPipelines();

} // namespace mlir::bitserial

#endif // BITSERIAL_PIPELINES_PIPELINES_H
