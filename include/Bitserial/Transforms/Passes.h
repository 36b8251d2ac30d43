//===- Passes.h - Bitserial transformation passes ---------------*- C++ -*-===//

#ifndef BITSERIAL_TRANSFORMS_PASSES_H
#define BITSERIAL_TRANSFORMS_PASSES_H

#include "Bitserial/Analysis/CostModel.h"
#include "mlir/Pass/Pass.h"

namespace mlir::bitserial {

#define GEN_PASS_DECL
#include "Bitserial/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "Bitserial/Transforms/Passes.h.inc"

} // namespace mlir::bitserial

#endif // BITSERIAL_TRANSFORMS_PASSES_H
