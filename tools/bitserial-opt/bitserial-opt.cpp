//===- bitserial-opt.cpp - The bitserial optimizer driver -----------------===//

#include "Bitserial/InitAll.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/raw_ostream.h"

static void printVersion(llvm::raw_ostream &os) {
  os << "bitserial " BITSERIAL_VERSION " (bitserial-opt)\n";
}

int main(int argc, char **argv) {
  llvm::cl::AddExtraVersionPrinter(printVersion);
  mlir::bitserial::registerAllPasses();
  mlir::DialectRegistry registry;
  mlir::bitserial::registerAllDialects(registry);
  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv, "bitserial optimizer driver\n", registry));
}
