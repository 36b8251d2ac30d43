//===- InitAll.cpp - Register everything bitserial provides ---------------===//
//
// The only file that includes the heavy upstream registration headers.
//
//===----------------------------------------------------------------------===//

#include "Bitserial/InitAll.h"
#include "Bitserial/Conversion/Passes.h"
#include "Bitserial/IR/BitserialDialect.h"
#include "Bitserial/Pipelines/Pipelines.h"
#include "Bitserial/Transforms/Passes.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"

void mlir::bitserial::registerBitserialDialect(DialectRegistry &registry) {
  registry.insert<BitserialDialect>();
}

void mlir::bitserial::registerBitserialPasses() {
  registerBitserialConversionPasses();
  registerBitserialTransformsPasses();
  registerBitserialPipelines();
}

void mlir::bitserial::registerAllDialects(DialectRegistry &registry) {
  registerBitserialDialect(registry);
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
}

void mlir::bitserial::registerAllPasses() {
  registerBitserialPasses();
  mlir::registerAllPasses();
}
