// A downstream compiler driver: lowers a bitserial module with the
// bitserial-to-llvm pipeline and prints the LLVM IR module.
#include "Bitserial/InitAll.h"
#include "Bitserial/Pipelines/Pipelines.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/raw_ostream.h"

int main(int argc, char **argv) {
  if (argc != 2) {
    llvm::errs() << "usage: my-translate FILE.mlir\n";
    return 2;
  }
  mlir::DialectRegistry registry;
  mlir::bitserial::registerAllDialects(registry);
  mlir::MLIRContext context(registry);
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::parseSourceFile<mlir::ModuleOp>(argv[1], &context);
  if (!module)
    return 1;

  mlir::PassManager pm(&context);
  mlir::bitserial::BitserialToLLVMPipelineOptions options;
  mlir::bitserial::buildBitserialToLLVMPipeline(pm, options);
  if (mlir::failed(pm.run(*module)))
    return 1;

  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule =
      mlir::translateModuleToLLVMIR(*module, llvmContext);
  if (!llvmModule)
    return 1;
  llvmModule->print(llvm::outs(), nullptr);
  return 0;
}
