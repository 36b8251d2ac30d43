//===- BitserialToX86Lookup.h - x86 table-lookup lowering -------*- C++ -*-===//
//
// Matmuls and convolutions of 1- or 2-bit activations and 1- or 2-bit
// weights as vpshufb or vpermb lookups in tables of the activations, indexed
// by weight codes.
//
//===----------------------------------------------------------------------===//

#ifndef BITSERIAL_CONVERSION_BITSERIALTOX86LOOKUP_BITSERIALTOX86LOOKUP_H
#define BITSERIAL_CONVERSION_BITSERIALTOX86LOOKUP_BITSERIALTOX86LOOKUP_H

#include "Bitserial/Conversion/BitserialToX86Int8/BitserialToX86Int8.h"
#include "mlir/Pass/Pass.h"

namespace mlir::bitserial {

#define GEN_PASS_DECL_CONVERTBITSERIALTOX86LOOKUP
#include "Bitserial/Conversion/Passes.h.inc"

/// The lookup instruction, which fixes the kernel's shape.
enum class X86LookupInstruction {
  /// vpshufb on ymm (AVX2): 16-entry tables of 4 activations, indexed by
  /// the bits of 4 1-bit weights; 32 output channels per lookup.
  Pshufb,
  /// vpermb on zmm (AVX512-VBMI): 64-entry tables of 3 activations, indexed
  /// by the codes of 3 2-bit weights; 64 output channels per lookup.
  Vpermb,
};

/// Parses an `instruction` option value ("pshufb", "vpermb").
std::optional<X86LookupInstruction> parseX86LookupInstruction(StringRef name);

/// Whether the lookup lowering with `instruction` handles `op`: a
/// `bitserial.matmul` (unbatched weights) or `bitserial.conv2d` (static
/// kernel extents) of 1- or 2-bit unsigned or signed activations and
/// weights of any encoding of 1 bit (pshufb) or 2 bits (vpermb), whose
/// lookups per output keep the i16 sums exact (a reduction of up to about
/// 10,000 values at 2 x 1 bits with pshufb, 7,000 at 2 x 2 with vpermb).
bool canLowerToX86Lookup(Operation *op, X86LookupInstruction instruction =
                                            X86LookupInstruction::Pshufb);

/// The selection: the `bitserial.kernel` annotation when there is one
/// ("lookup"), else whether the lowering handles `op`; never when
/// `bitserial.int8` is set.
bool prefersX86Lookup(Operation *op, X86LookupInstruction instruction =
                                         X86LookupInstruction::Pshufb);

/// Patterns rewriting the ops `prefersX86Lookup` selects into tables of
/// their activations, the weights as indices per output channel, and a
/// register-blocked kernel of `instruction` lookups. With `parallel`, a
/// convolution's output rows and a matmul's row blocks are `scf.forall`
/// tasks, except for ops of fewer than `minParallelMacs` static
/// multiply-accumulates.
void populateBitserialToX86LookupPatterns(
    RewritePatternSet &patterns, bool parallel = false,
    int64_t minParallelMacs = kDefaultMinParallelMacs,
    X86LookupInstruction instruction = X86LookupInstruction::Pshufb);

} // namespace mlir::bitserial

#endif // BITSERIAL_CONVERSION_BITSERIALTOX86LOOKUP_BITSERIALTOX86LOOKUP_H
