//===- bitserial-plugin.cpp - Bitserial as an MLIR dialect and pass plugin ===//
//
// Loaded by an opt tool built on MlirOptMain against the same libMLIR.so:
//
//   mlir-opt --load-dialect-plugin=BitserialPlugin.so \
//            --pass-pipeline="builtin.module(bitserial-to-llvm)" in.mlir
//
// The dialect entry point also registers the passes and pipelines (like
// upstream's standalone plugin), so one flag is enough; --load-pass-plugin
// alone gives the passes without the dialect.
//
//===----------------------------------------------------------------------===//

#include "Bitserial/InitAll.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Tools/Plugins/DialectPlugin.h"
#include "mlir/Tools/Plugins/PassPlugin.h"
#include "llvm/Config/llvm-config.h"

using namespace mlir;

// A host that already contains bitserial (bitserial-opt, an embedding
// compiler) keeps its own registrations: MLIR aborts on a second copy of the
// dialect or of the passes under the same names.
static void registerPasses() {
  if (!PassPipelineInfo::lookup("bitserial-to-llvm"))
    bitserial::registerBitserialPasses();
}

static void registerDialect(DialectRegistry &registry) {
  if (!registry.getDialectAllocator("bitserial"))
    bitserial::registerBitserialDialect(registry);
}

extern "C" LLVM_ATTRIBUTE_WEAK DialectPluginLibraryInfo
mlirGetDialectPluginInfo() {
  return {MLIR_PLUGIN_API_VERSION, "Bitserial", LLVM_VERSION_STRING,
          [](DialectRegistry *registry) {
            registerDialect(*registry);
            registerPasses();
          }};
}

extern "C" LLVM_ATTRIBUTE_WEAK PassPluginLibraryInfo mlirGetPassPluginInfo() {
  return {MLIR_PLUGIN_API_VERSION, "BitserialPasses", LLVM_VERSION_STRING,
          registerPasses};
}
