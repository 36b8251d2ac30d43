//===- Pipelines.cpp - Bitserial lowering pipelines -----------------------===//

#include "Bitserial/Pipelines/Pipelines.h"
#include "Bitserial/Conversion/BitserialToArmNeon/BitserialToArmNeon.h"
#include "Bitserial/Conversion/BitserialToX86Int8/BitserialToX86Int8.h"
#include "Bitserial/Conversion/BitserialToX86Lookup/BitserialToX86Lookup.h"
#include "Bitserial/Conversion/Passes.h"
#include "Bitserial/Targets/AArch64/AArch64.h"
#include "Bitserial/Targets/X86/X86.h"
#include "Bitserial/Transforms/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Conversion/TosaToArith/TosaToArith.h"
#include "mlir/Conversion/TosaToLinalg/TosaToLinalg.h"
#include "mlir/Conversion/TosaToSCF/TosaToSCF.h"
#include "mlir/Conversion/TosaToTensor/TosaToTensor.h"
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
      clEnumValN(KernelTarget::AArch64A53, "aarch64-a53",
                 "128-bit NEON for in-order cores (Cortex-A53/A55): "
                 "straight-line steps, cnt, uadalp"),
      clEnumValN(KernelTarget::AArch64OutOfOrder, "aarch64-ooo",
                 "128-bit NEON for out-of-order cores (Cortex-A72, "
                 "Neoverse-N1)"),
      clEnumValN(KernelTarget::Generic, "generic",
                 "128-bit, portable counts and widening"));
}

StringRef mlir::bitserial::getKernelTargetName(KernelTarget target) {
  switch (target) {
  case KernelTarget::Host:
    return "host";
  case KernelTarget::X86Avx2:
    return "x86-avx2";
  case KernelTarget::X86Avx512:
    return "x86-avx512";
  case KernelTarget::X86Avx512Vpopcntdq:
    return "x86-avx512-vpopcntdq";
  case KernelTarget::AArch64A53:
    return "aarch64-a53";
  case KernelTarget::AArch64OutOfOrder:
    return "aarch64-ooo";
  case KernelTarget::Generic:
    return "generic";
  }
  llvm_unreachable("unknown kernel target");
}

TargetArch mlir::bitserial::getKernelTargetArch(KernelTarget target) {
  switch (target) {
  case KernelTarget::X86Avx2:
  case KernelTarget::X86Avx512:
  case KernelTarget::X86Avx512Vpopcntdq:
    return TargetArch::X86;
  case KernelTarget::AArch64A53:
  case KernelTarget::AArch64OutOfOrder:
    return TargetArch::AArch64;
  case KernelTarget::Host:
  case KernelTarget::Generic:
    return TargetArch::Any;
  }
  llvm_unreachable("unknown kernel target");
}

std::pair<std::string, std::string>
mlir::bitserial::getDefaultTripleAndCPU(KernelTarget target) {
  switch (target) {
  case KernelTarget::X86Avx2:
    return {"x86_64-unknown-linux-gnu", "x86-64-v3"};
  case KernelTarget::X86Avx512:
    return {"x86_64-unknown-linux-gnu", "x86-64-v4"};
  case KernelTarget::X86Avx512Vpopcntdq:
    // x86-64-v4 lacks VPOPCNTDQ; Ice Lake is the oldest CPU with it.
    return {"x86_64-unknown-linux-gnu", "icelake-server"};
  case KernelTarget::AArch64A53:
    return {"aarch64-unknown-linux-gnu", "cortex-a53"};
  case KernelTarget::AArch64OutOfOrder:
    return {"aarch64-unknown-linux-gnu", "neoverse-n1"};
  case KernelTarget::Host:
  case KernelTarget::Generic:
    return {llvm::sys::getProcessTriple(), llvm::sys::getHostCPUName().str()};
  }
  llvm_unreachable("unknown kernel target");
}

/// AArch64 cores that issue in order: a rolled step loop stalls on them.
static bool isInOrderAArch64(StringRef cpuName) {
  return llvm::is_contained({"cortex-a35", "cortex-a53", "cortex-a55",
                             "cortex-a510", "cortex-a520", "cortex-a320"},
                            cpuName);
}

X86Int8Instruction mlir::bitserial::getX86Int8Instruction(KernelTarget target,
                                                          bool avx512Vnni,
                                                          bool avxVnni) {
  if (target == KernelTarget::X86Avx2)
    return avxVnni ? X86Int8Instruction::AvxVnni : X86Int8Instruction::Avx2;
  return avx512Vnni ? X86Int8Instruction::Avx512Vnni
                    : X86Int8Instruction::Avx512Bw;
}

KernelTarget mlir::bitserial::resolveKernelTarget(KernelTarget target) {
  if (target != KernelTarget::Host)
    return target;
  llvm::Triple triple(llvm::sys::getProcessTriple());
  llvm::StringMap<bool> features = llvm::sys::getHostCPUFeatures();
  return selectKernelTarget(
      triple, llvm::sys::getHostCPUName(),
      [&](StringRef feature) { return features.lookup(feature); });
}

MicroKernelShape mlir::bitserial::getKernelShape(KernelTarget target) {
  switch (resolveKernelTarget(target)) {
  case KernelTarget::X86Avx2:
    return getX86Avx2KernelShape();
  case KernelTarget::X86Avx512:
    return getX86Avx512KernelShape();
  case KernelTarget::X86Avx512Vpopcntdq:
    return getX86Avx512VpopcntdqKernelShape();
  case KernelTarget::AArch64A53:
    return getAArch64A53KernelShape();
  case KernelTarget::AArch64OutOfOrder:
    return getAArch64OutOfOrderKernelShape();
  case KernelTarget::Host:
  case KernelTarget::Generic:
    return getGenericKernelShape();
  }
  llvm_unreachable("unknown kernel target");
}

CostTarget mlir::bitserial::getCostTarget(KernelTarget target) {
  switch (resolveKernelTarget(target)) {
  case KernelTarget::X86Avx2:
    return CostTarget::X86Avx2;
  case KernelTarget::X86Avx512:
    return CostTarget::X86Avx512;
  case KernelTarget::X86Avx512Vpopcntdq:
    return CostTarget::X86Avx512Vpopcntdq;
  case KernelTarget::AArch64A53:
    return CostTarget::AArch64A53;
  case KernelTarget::AArch64OutOfOrder:
    return CostTarget::AArch64OutOfOrder;
  case KernelTarget::Host:
  case KernelTarget::Generic:
    return CostTarget::Generic;
  }
  llvm_unreachable("unknown kernel target");
}

static Int8Unit getInt8Unit(X86Int8Instruction instruction) {
  switch (instruction) {
  case X86Int8Instruction::Avx512Vnni:
    return Int8Unit::X86Avx512Vnni;
  case X86Int8Instruction::AvxVnni:
    return Int8Unit::X86AvxVnni;
  case X86Int8Instruction::Avx2:
    return Int8Unit::X86Avx2;
  case X86Int8Instruction::Avx512Bw:
    return Int8Unit::X86Avx512Bw;
  case X86Int8Instruction::Amx:
    return Int8Unit::X86Amx;
  }
  llvm_unreachable("unknown instruction");
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
  ConvertBitserialToVectorOptions vectorOptions;
  vectorOptions.vectorBits = shape.vectorBits;
  vectorOptions.pixelBlock = shape.pixelBlock;
  vectorOptions.channelBlock = shape.channelBlock;
  vectorOptions.wordPopcount = shape.wordPopcount;
  vectorOptions.nibbleLookup = shape.nibbleLookup;
  vectorOptions.minNibbleSteps = shape.minNibbleSteps;
  vectorOptions.parallel = options.parallel;
  vectorOptions.fitRegisterBlock = shape.fitRegisterBlock;
  vectorOptions.unrollSteps = shape.unrollSteps;
  vectorOptions.narrowAccumulators = shape.narrowAccumulators;
  vectorOptions.duplicateActivations = shape.duplicateActivations;
  vectorOptions.unrollPlanePairs = shape.unrollPlanePairs;
  vectorOptions.straightLinePlanePairs = shape.straightLinePlanePairs;
  vectorOptions.freshReturnedOutput = shape.freshReturnedOutput;
  vectorOptions.hornerPlanePairs = shape.hornerPlanePairs;
  vectorOptions.widenEachStep = shape.widenEachStep;
  KernelTarget resolved = resolveKernelTarget(options.target);
  bool armInt8 = getKernelTargetArch(resolved) == TargetArch::AArch64 &&
                 (options.dotProduct || options.i8mm);
  bool x86Int8 =
      getKernelTargetArch(resolved) == TargetArch::X86 && options.x86Int8;
  X86Int8Instruction x86Instruction =
      getX86Int8Instruction(resolved, options.avx512Vnni, options.avxVnni);
  // vpshufb lookups on AVX2; vpermb lookups, where the CPU has them, on
  // the AVX-512 target whose bit-serial kernels they compete with.
  bool permuteLookup =
      resolved == KernelTarget::X86Avx512Vpopcntdq && options.avx512Vbmi;
  bool x86Lookup =
      options.x86Lookup && (resolved == KernelTarget::X86Avx2 || permuteLookup);
  // AMX tiles for the convolutions of the AVX-512 targets, vpdpbusd or
  // vpmaddwd for the other int8 ops.
  bool amx = x86Int8 && options.amx && resolved != KernelTarget::X86Avx2;
  // Unless given, the thread thresholds of the bit-serial kernels are the
  // AMX Xeon's where the CPU has AMX-INT8 (kAmxMinParallelBinops).
  vectorOptions.minParallelBinops = options.minParallelBinops >= 0
                                        ? int64_t(options.minParallelBinops)
                                    : amx ? kAmxMinParallelBinops
                                          : kDefaultMinParallelBinops;
  vectorOptions.minParallelBinopsPerOutput =
      options.minParallelBinopsPerOutput >= 0
          ? int64_t(options.minParallelBinopsPerOutput)
      : amx ? kAmxMinParallelBinopsPerOutput
            : kDefaultMinParallelBinopsPerOutput;
  Int8Unit int8Unit = amx            ? Int8Unit::X86Amx
                      : x86Int8      ? getInt8Unit(x86Instruction)
                      : !armInt8     ? Int8Unit::None
                      : options.i8mm ? Int8Unit::AArch64I8mm
                                     : Int8Unit::AArch64DotProduct;
  // Without `tile`, only ops with tuned tile sizes are tiled.
  if (options.tile || !options.tuningCache.empty()) {
    BitserialTileOptions tileOptions;
    tileOptions.cacheBytes = shape.cacheBytes;
    tileOptions.matmulTileSizes.assign(options.matmulTileSizes.begin(),
                                       options.matmulTileSizes.end());
    tileOptions.convTileSizes.assign(options.convTileSizes.begin(),
                                     options.convTileSizes.end());
    tileOptions.tuningCache = options.tuningCache;
    tileOptions.target = getCostTarget(resolved);
    tileOptions.int8 = int8Unit;
    tileOptions.cpu = options.tuningCpu;
    tileOptions.tunedOnly = !options.tile;
    pm.addPass(createBitserialTile(tileOptions));
  }
  // After tiling: the tiles are the ops that are lowered.
  BitserialSelectKernelsOptions selectOptions;
  selectOptions.target = getCostTarget(resolved);
  selectOptions.int8 = int8Unit;
  selectOptions.minBitProduct = options.int8MinBitProduct;
  selectOptions.lookup = x86Lookup;
  selectOptions.emitRemarks = options.printKernels;
  selectOptions.tuningCache = options.tuningCache;
  selectOptions.cpu = options.tuningCpu;
  selectOptions.emitTuningKeys = options.printTuningKeys;
  pm.addPass(createBitserialSelectKernels(selectOptions));
  if (armInt8) {
    ConvertBitserialToArmNeonOptions int8Options;
    int8Options.dotProduct = options.dotProduct;
    int8Options.i8mm = options.i8mm;
    int8Options.minBitProduct = options.int8MinBitProduct;
    pm.addPass(createConvertBitserialToArmNeon(int8Options));
  }
  if (amx) {
    ConvertBitserialToX86Int8Options int8Options;
    int8Options.instruction =
        getX86Int8InstructionName(X86Int8Instruction::Amx).str();
    int8Options.minBitProduct = options.int8MinBitProduct;
    int8Options.parallel = options.parallel;
    int8Options.minParallelMacs = kDefaultMinParallelAmxMacs;
    pm.addPass(createConvertBitserialToX86Int8(int8Options));
  }
  if (x86Int8) {
    ConvertBitserialToX86Int8Options int8Options;
    int8Options.instruction = getX86Int8InstructionName(x86Instruction).str();
    int8Options.minBitProduct = options.int8MinBitProduct;
    int8Options.narrowProducts = options.x86NarrowProducts;
    int8Options.parallel = options.parallel;
    pm.addPass(createConvertBitserialToX86Int8(int8Options));
  }
  if (x86Lookup) {
    ConvertBitserialToX86LookupOptions lookupOptions;
    lookupOptions.parallel = options.parallel;
    lookupOptions.instruction = permuteLookup ? "vpermb" : "pshufb";
    pm.addPass(createConvertBitserialToX86Lookup(lookupOptions));
  }
  pm.addPass(createConvertBitserialToVector(vectorOptions));
}

void mlir::bitserial::buildFrontEndPipeline(OpPassManager &pm) {
  // TOSA as upstream's tosa-to-linalg-pipeline lowers it (decompositions,
  // shape inference, broadcasts made explicit, named ops first), without
  // the validation pass: the TOSA verifiers already reject malformed ops.
  // HWCF filters: the layout bitserial-vectorize-linalg vectorizes (a
  // constant filter is transposed at compile time).
  TosaToLinalgNamedOptions namedOptions;
  namedOptions.preferConv2DKernelLayoutHWCF = true;
  tosa::addTosaToLinalgPasses(pm, TosaToLinalgOptions(), namedOptions,
                              /*validationOptions=*/std::nullopt);
  // tosa.rescale becomes linalg.generic around tosa.apply_scale, lowered
  // here with 64-bit intermediates (exact for every shift).
  TosaToArithPassOptions arithOptions;
  arithOptions.includeApplyRescale = true;
  arithOptions.use32Bit = false;
  pm.addNestedPass<func::FuncOp>(createTosaToArithPass(arithOptions));
  pm.addNestedPass<func::FuncOp>(createTosaToTensorPass());
  pm.addNestedPass<func::FuncOp>(createTosaToSCFPass());
  // Elementwise arith and math on tensors (a residual add, a ReLU as
  // arith.maxsi) become fused linalg.generic ops, which bufferize.
  pm.addNestedPass<func::FuncOp>(createBitserialElementwiseToLinalg());
  pm.addPass(createCanonicalizerPass());
}

void mlir::bitserial::buildBitserialToLLVMPipeline(
    OpPassManager &pm, const BitserialToLLVMPipelineOptions &options) {
  if (options.emitCInterface)
    pm.addPass(createBitserialEmitCInterface());
  buildFrontEndPipeline(pm);
  // Before the bitserial lowering: one entry per op, also when it is tiled,
  // and outside the parallel regions of the kernels.
  if (options.profile)
    pm.addPass(createBitserialProfileOps());
  // The model's own matmuls, convolutions and pools (not bitserial ops).
  pm.addNestedPass<func::FuncOp>(createBitserialVectorizeLinalg());
  if (options.strategy == LoweringStrategy::Vector) {
    BitserialVectorizePipelineOptions vectorize;
    vectorize.copySharedOptions(options);
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
    pm.addPass(createBitserialMergeParallelRegions());
  }
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToLoopsPass());
  // After deallocation, which does not accept ops with unknown effects such
  // as LLVM intrinsic calls.
  if (options.strategy == LoweringStrategy::Vector) {
    MicroKernelShape shape = getKernelShape(options.target);
    if (shape.widening == ByteCountWidening::X86Psadbw || shape.nibbleLookup)
      pm.addPass(createBitserialX86ByteCounts());
    if (shape.widening == ByteCountWidening::AArch64PairwiseAdd)
      pm.addPass(createBitserialAArch64ByteCounts());
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
  // AMX tiles (the amx int8 kernel) become LLVM's x86_amx intrinsics.
  ConvertVectorToLLVMPassOptions vectorToLLVM;
  vectorToLLVM.amx = true;
  pm.addPass(createConvertVectorToLLVMPass(vectorToLLVM));
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
  pm.addPass(createBitserialAttachLoopAnnotations());
}

void mlir::bitserial::registerBitserialPipelines() {
  PassPipelineRegistration<BitserialVectorizePipelineOptions>(
      "bitserial-vectorize",
      "Tile (optionally) and lower bitserial matmul and conv2d to vector "
      "micro-kernels shaped for a target, on tensors",
      buildBitserialVectorizePipeline);
  PassPipelineRegistration<>(
      "bitserial-front-end",
      "The front part of bitserial-to-llvm: TOSA to linalg, arith, tensor "
      "and scf; elementwise ops on tensors to linalg; elementwise fusion",
      buildFrontEndPipeline);
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
  case KernelTarget::AArch64A53:
  case KernelTarget::AArch64OutOfOrder:
    return {"neon"};
  case KernelTarget::Host:
  case KernelTarget::Generic:
    return {};
  }
  llvm_unreachable("unknown kernel target");
}

KernelTarget mlir::bitserial::selectKernelTarget(
    const llvm::Triple &triple, StringRef cpuName,
    llvm::function_ref<bool(llvm::StringRef)> hasFeature) {
  if (triple.isAArch64() && hasFeature("neon"))
    return isInOrderAArch64(cpuName) ? KernelTarget::AArch64A53
                                     : KernelTarget::AArch64OutOfOrder;
  if (!triple.isX86())
    return KernelTarget::Generic;
  for (KernelTarget target : {KernelTarget::X86Avx512Vpopcntdq,
                              KernelTarget::X86Avx512, KernelTarget::X86Avx2})
    if (llvm::all_of(getKernelTargetCPUFeatures(target), hasFeature))
      return target;
  return KernelTarget::Generic;
}
