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
#include "mlir/Dialect/SCF/Transforms/Passes.h"
#include "mlir/Dialect/Vector/Transforms/Passes.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/Triple.h"

using namespace mlir;
using namespace mlir::bitserial;

llvm::cl::ValuesClass mlir::bitserial::getKernelTargetValues() {
  return llvm::cl::values(
      clEnumValN(KernelTarget::Host, "host", "the machine running this"),
      clEnumValN(KernelTarget::X86Avx2, "x86-avx2",
                 "256-bit, pshufb nibble lookups, psadbw"),
      clEnumValN(KernelTarget::X86Avx512, "x86-avx512",
                 "512-bit (AVX-512BW), pshufb nibble lookups, psadbw"),
      clEnumValN(KernelTarget::X86Avx512Vpopcntdq, "x86-avx512-vpopcntdq",
                 "512-bit, vpopcntq on 64-bit lanes"),
      clEnumValN(KernelTarget::Generic, "generic",
                 "128-bit, portable counts and widening"));
}

MicroKernelShape mlir::bitserial::getKernelShape(KernelTarget target) {
  if (target == KernelTarget::Host) {
    llvm::Triple triple(llvm::sys::getProcessTriple());
    llvm::StringMap<bool> features = llvm::sys::getHostCPUFeatures();
    if (triple.isX86() && features.lookup("avx512vpopcntdq"))
      target = KernelTarget::X86Avx512Vpopcntdq;
    else if (triple.isX86() && features.lookup("avx512bw"))
      target = KernelTarget::X86Avx512;
    else if (triple.isX86() && features.lookup("avx2"))
      target = KernelTarget::X86Avx2;
    else
      target = KernelTarget::Generic;
  }
  switch (target) {
  case KernelTarget::X86Avx2:
    return getX86Avx2KernelShape();
  case KernelTarget::X86Avx512:
    return getX86Avx512KernelShape();
  case KernelTarget::X86Avx512Vpopcntdq:
    return getX86Avx512VpopcntdqKernelShape();
  default:
    return getGenericKernelShape();
  }
}

static void addTilePass(OpPassManager &pm, ArrayRef<int64_t> matmulTileSizes,
                        ArrayRef<int64_t> convTileSizes, int64_t cacheBytes) {
  BitserialTileOptions tileOptions;
  tileOptions.cacheBytes = cacheBytes;
  tileOptions.matmulTileSizes.assign(matmulTileSizes.begin(),
                                     matmulTileSizes.end());
  tileOptions.convTileSizes.assign(convTileSizes.begin(), convTileSizes.end());
  pm.addPass(createBitserialTile(tileOptions));
}

void mlir::bitserial::buildBitserialVectorizePipeline(
    OpPassManager &pm, const BitserialVectorizePipelineOptions &options) {
  MicroKernelShape shape = getKernelShape(options.target);
  if (options.tile)
    addTilePass(pm, options.matmulTileSizes, options.convTileSizes,
                shape.cacheBytes);
  ConvertBitserialToVectorOptions vectorOptions;
  vectorOptions.vectorBits = shape.vectorBits;
  vectorOptions.pixelBlock = shape.pixelBlock;
  vectorOptions.channelBlock = shape.channelBlock;
  vectorOptions.wordPopcount = shape.wordPopcount;
  vectorOptions.nibbleLookup = shape.nibbleLookup;
  vectorOptions.parallel = options.parallel;
  vectorOptions.fitRegisterBlock = shape.fitRegisterBlock;
  pm.addPass(createConvertBitserialToVector(vectorOptions));
}

void mlir::bitserial::buildBitserialToLLVMPipeline(
    OpPassManager &pm, const BitserialToLLVMPipelineOptions &options) {
  if (options.emitCInterface)
    pm.addPass(createBitserialEmitCInterface());
  if (options.strategy == LoweringStrategy::Vector) {
    BitserialVectorizePipelineOptions vectorize;
    vectorize.target = options.target;
    vectorize.parallel = options.parallel;
    vectorize.tile = options.tile;
    vectorize.matmulTileSizes = options.matmulTileSizes;
    vectorize.convTileSizes = options.convTileSizes;
    buildBitserialVectorizePipeline(pm, vectorize);
  } else {
    if (options.tile)
      addTilePass(pm, options.matmulTileSizes, options.convTileSizes,
                  getKernelShape(options.target).cacheBytes);
    pm.addPass(createConvertBitserialToLinalg());
  }
  pm.addPass(createCanonicalizerPass());

  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  bufferize.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  // A loop may carry a value that each iteration computes anew (a pack)
  // rather than updates in place: without this, one-shot bufferization
  // rejects such a loop. The ownership-based deallocation below frees the
  // buffer of the previous iteration.
  bufferize.allowReturnAllocsFromLoops = true;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  bufferization::buildBufferDeallocationPipeline(pm);
  // Returning an argument's buffer leaves a bufferization.clone.
  pm.addPass(createConvertBufferizationToMemRefPass());

  if (options.parallel) {
    pm.addPass(createForallToParallelLoopPass());
    pm.addPass(createConvertSCFToOpenMPPass());
  }
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToLoopsPass());
  // After deallocation, which does not accept ops with unknown effects such
  // as LLVM intrinsic calls.
  if (options.strategy == LoweringStrategy::Vector) {
    MicroKernelShape shape = getKernelShape(options.target);
    if (shape.x86Widening || shape.nibbleLookup)
      pm.addPass(createBitserialX86ByteCounts());
  }
  pm.addNestedPass<func::FuncOp>(vector::createLowerVectorMultiReductionPass());
  pm.addPass(createConvertVectorToSCFPass());
  // Subviews of tiles expand to affine.apply: lower affine after that.
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  // scf-to-openmp wraps parallel bodies in memref.alloca_scope, which must
  // keep one block: lower it (with the other memref ops) before scf-to-cf.
  if (options.parallel)
    pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(createConvertVectorToLLVMPass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createUBToLLVMConversionPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  if (options.parallel)
    pm.addPass(createConvertOpenMPToLLVMPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  pm.addPass(createCanonicalizerPass());
}

void mlir::bitserial::registerBitserialPipelines() {
  PassPipelineRegistration<BitserialVectorizePipelineOptions>(
      "bitserial-vectorize",
      "Tile (optionally) and lower bitserial matmul and conv2d to vector "
      "micro-kernels shaped for a target, on tensors",
      buildBitserialVectorizePipeline);
  PassPipelineRegistration<BitserialToLLVMPipelineOptions>(
      "bitserial-to-llvm",
      "Lower bitserial ops on tensors to the LLVM dialect (reference "
      "lowering, bufferization, loops)",
      buildBitserialToLLVMPipeline);
}

llvm::SmallVector<llvm::StringRef>
mlir::bitserial::getKernelTargetCPUFeatures(KernelTarget target) {
  switch (target) {
  case KernelTarget::X86Avx2:
    return {"avx2"};
  case KernelTarget::X86Avx512:
    // 512-bit pshufb and psadbw are AVX-512BW instructions.
    return {"avx512f", "avx512bw"};
  case KernelTarget::X86Avx512Vpopcntdq:
    return {"avx512f", "avx512vpopcntdq"};
  case KernelTarget::Host:
  case KernelTarget::Generic:
    return {};
  }
  llvm_unreachable("unknown kernel target");
}

KernelTarget mlir::bitserial::selectKernelTarget(
    bool isX86, llvm::function_ref<bool(llvm::StringRef)> hasFeature) {
  if (!isX86)
    return KernelTarget::Generic;
  for (KernelTarget target : {KernelTarget::X86Avx512Vpopcntdq,
                              KernelTarget::X86Avx512, KernelTarget::X86Avx2})
    if (llvm::all_of(getKernelTargetCPUFeatures(target), hasFeature))
      return target;
  return KernelTarget::Generic;
}
