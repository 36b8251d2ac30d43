// A downstream MLIR tool built against the installed Bitserial package.
#include "Bitserial/InitAll.h"
#include "Bitserial/Pipelines/Pipelines.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
int main(int argc, char **argv) {
  mlir::bitserial::registerAllPasses();
  mlir::DialectRegistry registry;
  mlir::bitserial::registerAllDialects(registry);
  return mlir::asMainReturnCode(mlir::MlirOptMain(argc, argv, "consumer\n", registry));
}
