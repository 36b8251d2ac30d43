//===- AArch64.h - Bitserial's AArch64 targets ------------------*- C++ -*-===//
//
// The micro-kernel shapes of the AArch64 kernel targets and the pass that
// maps the kernel's portable byte-count widening to NEON pairwise adds.
//
//===----------------------------------------------------------------------===//

#ifndef BITSERIAL_TARGETS_AARCH64_AARCH64_H
#define BITSERIAL_TARGETS_AARCH64_AARCH64_H

#include "Bitserial/Conversion/BitserialToVector/BitserialToVector.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Pass/Pass.h"

namespace mlir::bitserial {

/// In-order cores (Cortex-A53/A55): 128-bit NEON, straight-line steps,
/// uaddlp/uadalp widening.
MicroKernelShape getAArch64A53KernelShape();
/// Out-of-order cores (Cortex-A72, Neoverse-N1 class).
MicroKernelShape getAArch64OutOfOrderKernelShape();

/// Patterns rewriting the byte-sum widening into `uaddlp` chains (see
/// bitserial-aarch64-byte-counts).
void populateAArch64ByteCountPatterns(RewritePatternSet &patterns);

#define GEN_PASS_DECL
#include "Bitserial/Targets/AArch64/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "Bitserial/Targets/AArch64/Passes.h.inc"

} // namespace mlir::bitserial

#endif // BITSERIAL_TARGETS_AARCH64_AARCH64_H
