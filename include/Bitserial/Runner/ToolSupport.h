//===- ToolSupport.h - Shared behaviour of the tools ------------*- C++ -*-===//
//
// Error reporting and --help layout shared by bitserial-run and
// bitserial-compile.
//
//===----------------------------------------------------------------------===//

#ifndef BITSERIAL_RUNNER_TOOLSUPPORT_H
#define BITSERIAL_RUNNER_TOOLSUPPORT_H

#include "llvm/ADT/StringRef.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Error.h"

namespace mlir::bitserial {

/// Prints "<tool>: error: <message>" on stderr; returns the exit code, 1.
int reportToolError(llvm::StringRef tool, const llvm::Twine &message);

/// Prints `error`: MLIR diagnostics (DiagnosticError) as they are rendered,
/// with source line, caret and notes, anything else as one line; returns 1.
int reportToolError(llvm::StringRef tool, llvm::Error error);

/// Hides the options outside `category` (LLVM's and MLIR's) from --help but
/// not from --help-hidden, which cl::HideUnrelatedOptions alone would do.
void hideOptionsOutside(llvm::cl::OptionCategory &category);

} // namespace mlir::bitserial

#endif // BITSERIAL_RUNNER_TOOLSUPPORT_H
