//===- BitserialToX86Lookup.h - x86 table-lookup lowering -------*- C++ -*-===//
//
// Matmuls and convolutions of 1- or 2-bit activations and 1-bit weights as
// vpshufb lookups in tables of the activations, indexed by weight bits.
//
//===----------------------------------------------------------------------===//

#ifndef BITSERIAL_CONVERSION_BITSERIALTOX86LOOKUP_BITSERIALTOX86LOOKUP_H
#define BITSERIAL_CONVERSION_BITSERIALTOX86LOOKUP_BITSERIALTOX86LOOKUP_H

#include "Bitserial/Conversion/BitserialToX86Int8/BitserialToX86Int8.h"
#include "mlir/Pass/Pass.h"

namespace mlir::bitserial {

#define GEN_PASS_DECL_CONVERTBITSERIALTOX86LOOKUP
#include "Bitserial/Conversion/Passes.h.inc"

/// Whether the lookup lowering handles `op`: a `bitserial.matmul`
/// (unbatched weights) or `bitserial.conv2d` (static kernel extents) of 1- or
/// 2-bit unsigned or signed activations and 1-bit weights of any encoding,
/// whose lookups per output keep the i16 sums exact (a reduction of up to
/// about 10,000 values at 2 x 1 bits).
bool canLowerToX86Lookup(Operation *op);

/// The selection: the `bitserial.kernel` annotation when there is one
/// ("lookup"), else whether the lowering handles `op`; never when
/// `bitserial.int8` is set.
bool prefersX86Lookup(Operation *op);

/// Patterns rewriting the ops `prefersX86Lookup` selects into tables of
/// their activations, the weights as 4-bit indices per output channel, and
/// a register-blocked kernel of vpshufb lookups on ymm registers (AVX2).
/// With `parallel`, a convolution's output rows and a matmul's row blocks
/// are `scf.forall` tasks, except for ops of fewer than `minParallelMacs`
/// static multiply-accumulates.
void populateBitserialToX86LookupPatterns(
    RewritePatternSet &patterns, bool parallel = false,
    int64_t minParallelMacs = kDefaultMinParallelMacs);

} // namespace mlir::bitserial

#endif // BITSERIAL_CONVERSION_BITSERIALTOX86LOOKUP_BITSERIALTOX86LOOKUP_H
