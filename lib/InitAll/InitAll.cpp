//===- InitAll.cpp - Register everything bitserial provides ---------------===//
//
// The only file that includes the heavy upstream registration headers.
//
//===----------------------------------------------------------------------===//

#include "Bitserial/InitAll.h"
#include "Bitserial/Conversion/Passes.h"
#include "Bitserial/IR/BitserialDialect.h"
#include "Bitserial/Pipelines/Pipelines.h"
#include "Bitserial/Targets/AArch64/AArch64.h"
#include "Bitserial/Targets/X86/X86.h"
#include "Bitserial/Transforms/Passes.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"

void mlir::bitserial::registerBitserialDialect(DialectRegistry &registry) {
  registry.insert<BitserialDialect>();
}

void mlir::bitserial::registerBitserialPasses() {
  // A host and a library or plugin entry point it runs may all call this.
  static const bool registered = [] {
    registerBitserialConversionPasses();
    registerBitserialTransformsPasses();
    registerBitserialAArch64Passes();
    registerBitserialX86Passes();
    registerBitserialPipelines();
    return true;
  }();
  (void)registered;
}

void mlir::bitserial::registerToLLVMIRTranslations(DialectRegistry &registry) {
  // Includes the builtin dialect's translation (the module itself).
  mlir::registerAllToLLVMIRTranslations(registry);
}

void mlir::bitserial::registerAllDialects(DialectRegistry &registry) {
  registerBitserialDialect(registry);
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  registerToLLVMIRTranslations(registry);
}

void mlir::bitserial::registerAllPasses() {
  registerBitserialPasses();
  static const bool registered = (mlir::registerAllPasses(), true);
  (void)registered;
}
