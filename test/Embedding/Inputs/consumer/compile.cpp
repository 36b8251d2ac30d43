// Compiles a module ahead of time for a Cortex-A53 with the installed
// library: writes the object to argv[2] and prints the C header.
#include "Bitserial/Runner/Compiler.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"

int main(int argc, char **argv) {
  if (argc != 3) {
    llvm::errs() << "usage: my-compile FILE.mlir OUT.o\n";
    return 1;
  }
  mlir::bitserial::CompilerOptions options;
  options.target = mlir::bitserial::KernelTarget::AArch64A53;
  auto compiled = mlir::bitserial::compileModule(argv[1], options);
  if (!compiled) {
    llvm::errs() << llvm::toString(compiled.takeError()) << "\n";
    return 1;
  }
  std::error_code error;
  llvm::raw_fd_ostream object(argv[2], error, llvm::sys::fs::OF_None);
  if (error) {
    llvm::errs() << "cannot write " << argv[2] << ": " << error.message()
                 << "\n";
    return 1;
  }
  object << compiled->output;
  llvm::outs() << compiled->header;
  return 0;
}
