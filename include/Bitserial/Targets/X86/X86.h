//===- X86.h - Bitserial's x86 targets --------------------------*- C++ -*-===//
//
// The micro-kernel shapes of the x86 kernel targets and the pass that maps
// the kernel's portable byte counts to x86 instructions.
//
//===----------------------------------------------------------------------===//

#ifndef BITSERIAL_TARGETS_X86_X86_H
#define BITSERIAL_TARGETS_X86_X86_H

#include "Bitserial/Conversion/BitserialToVector/BitserialToVector.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Pass/Pass.h"

namespace mlir::bitserial {

/// AVX2: 256-bit vectors, nibble lookups (pshufb), psadbw widening.
MicroKernelShape getX86Avx2KernelShape();
/// AVX-512BW: the AVX2 kernel on 512-bit vectors.
MicroKernelShape getX86Avx512KernelShape();
/// AVX-512 VPOPCNTDQ: vpopcntq on 64-bit lanes, no widening.
MicroKernelShape getX86Avx512VpopcntdqKernelShape();

/// Patterns rewriting `math.ctpop` marked `bitserial.low_nibbles` into
/// pshufb lookups and byte-sum widening into psadbw (see
/// bitserial-x86-byte-counts).
void populateX86ByteCountPatterns(RewritePatternSet &patterns);

#define GEN_PASS_DECL
#include "Bitserial/Targets/X86/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "Bitserial/Targets/X86/Passes.h.inc"

} // namespace mlir::bitserial

#endif // BITSERIAL_TARGETS_X86_X86_H
