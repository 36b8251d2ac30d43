//===- ToolSupport.cpp - Shared behaviour of the tools --------------------===//

#include "Bitserial/Runner/ToolSupport.h"
#include "Bitserial/Runner/Compiler.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir::bitserial;
namespace cl = llvm::cl;

int mlir::bitserial::reportToolError(llvm::StringRef tool,
                                     const llvm::Twine &message) {
  llvm::errs() << tool << ": error: " << message << "\n";
  return 1;
}

int mlir::bitserial::reportToolError(llvm::StringRef tool, llvm::Error error) {
  llvm::handleAllErrors(
      std::move(error),
      [](const DiagnosticError &diagnostics) {
        llvm::errs() << diagnostics.getRendered();
      },
      [&](const llvm::ErrorInfoBase &other) {
        reportToolError(tool, other.message());
      });
  return 1;
}

void mlir::bitserial::hideOptionsOutside(cl::OptionCategory &category) {
  auto &options = cl::getRegisteredOptions();
  llvm::DenseMap<llvm::StringRef, cl::OptionHidden> before;
  for (auto &[name, option] : options)
    before[name] = option->getOptionHiddenFlag();
  cl::HideUnrelatedOptions(category);
  for (auto &[name, option] : options)
    if (option->getOptionHiddenFlag() == cl::ReallyHidden &&
        before[name] != cl::ReallyHidden)
      option->setHiddenFlag(cl::Hidden);
}
