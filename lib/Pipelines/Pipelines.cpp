//===- Pipelines.cpp - Bitserial lowering pipelines -----------------------===//

#include "Bitserial/Pipelines/Pipelines.h"
#include "Bitserial/Conversion/Passes.h"
#include "Bitserial/Transforms/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;
using namespace mlir::bitserial;

void mlir::bitserial::buildBitserialToLLVMPipeline(
    OpPassManager &pm, const BitserialToLLVMPipelineOptions &options) {
  if (options.emitCInterface)
    pm.addPass(createBitserialEmitCInterface());
  pm.addPass(createConvertBitserialToLinalg());
  pm.addPass(createCanonicalizerPass());

  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  bufferize.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  bufferization::buildBufferDeallocationPipeline(pm);

  pm.addNestedPass<func::FuncOp>(createConvertLinalgToLoopsPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  pm.addPass(createCanonicalizerPass());
}

void mlir::bitserial::registerBitserialPipelines() {
  PassPipelineRegistration<BitserialToLLVMPipelineOptions>(
      "bitserial-to-llvm",
      "Lower bitserial ops on tensors to the LLVM dialect (reference "
      "lowering, bufferization, loops)",
      buildBitserialToLLVMPipeline);
}
