//===- bitserial-opt.cpp - The bitserial optimizer driver -----------------===//

#include "Bitserial/InitAll.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::bitserial::registerAllPasses();
  mlir::DialectRegistry registry;
  mlir::bitserial::registerAllDialects(registry);
  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv, "bitserial optimizer driver\n", registry));
}
