//===- Passes.td - Bitserial x86 passes --------------------*- tablegen -*-===//

#ifndef BITSERIAL_TARGETS_X86_PASSES_TD
#define BITSERIAL_TARGETS_X86_PASSES_TD

include "mlir/Pass/PassBase.td"

def BitserialX86ByteCounts : Pass<"bitserial-x86-byte-counts"> {
  let summary = "Count and widen per-byte popcounts with x86 pshufb and psadbw";
  let description = [{
    Rewrites two portable idioms emitted by `convert-bitserial-to-vector`
    into x86 instructions:

    - `math.ctpop` on i8 vectors marked `bitserial.low_nibbles` (every byte
      below 16) becomes one `pshufb` lookup in a table of the counts of
      0..15 (`llvm.x86.ssse3.pshuf.b.128`, `llvm.x86.avx2.pshuf.b` or
      `llvm.x86.avx512.pshuf.b.512`), instead of LLVM's generic expansion
      (two lookups plus a shift and two masks);
    - the byte-sum widening,

      ```mlir
      %g = vector.shape_cast %bytes : vector<32xi8> to vector<4x8xi8>
      %e = arith.extui %g : vector<4x8xi8> to vector<4x8xi64>
      %s = vector.multi_reduction <add>, %e, %zero [1] : vector<4x8xi64> to vector<4xi64>
      ```

      becomes one `psadbw` against zero (`llvm.x86.sse2.psad.bw`,
      `llvm.x86.avx2.psad.bw` or `llvm.x86.avx512.psad.bw.512`), plus the
      accumulator.

    Run it after bufferization: the intrinsic calls have unknown memory
    effects.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

#endif // BITSERIAL_TARGETS_X86_PASSES_TD
