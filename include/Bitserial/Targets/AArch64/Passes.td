//===- Passes.td - Bitserial AArch64 passes ----------------*- tablegen -*-===//

#ifndef BITSERIAL_TARGETS_AARCH64_PASSES_TD
#define BITSERIAL_TARGETS_AARCH64_PASSES_TD

include "mlir/Pass/PassBase.td"

def BitserialAArch64ByteCounts : Pass<"bitserial-aarch64-byte-counts"> {
  let summary = "Widen popcount sums with AArch64 NEON pairwise adds";
  let description = [{
    Rewrites the byte-sum widening emitted by `convert-bitserial-to-vector`,

    ```mlir
    %g = vector.shape_cast %bytes : vector<16xi8> to vector<2x8xi8>
    %e = arith.extui %g : vector<2x8xi8> to vector<2x8xi64>
    %s = vector.multi_reduction <add>, %e, %acc [1] : vector<2x8xi64> to vector<2xi64>
    ```

    into three NEON unsigned pairwise widening adds (`uaddlp` 8 x i16,
    4 x i32, 2 x i64, called as LLVM intrinsics: MLIR's `arm_neon` dialect
    has no op for them) and an add into the accumulator, which the AArch64
    backend selects as `uadalp`. LLVM's generic lowering of the portable
    form takes about 27 instructions (`ushll`, `zip`, `addp` chains) per
    vector; this takes three. The same holds for any 128-bit vector whose
    groups of 2, 4 or 8 lanes sum into lanes 2, 4 or 8 times as wide: one
    pairwise add per doubling, `saddlp` / `sadalp` for a sign extension
    (the kernel's 8- and 16-bit plane-pair sums, see `narrow-accumulators`
    of `convert-bitserial-to-vector`). The counts of `math.ctpop` on
    `vector<16xi8>` already become `cnt`.

    Run it after bufferization: the intrinsic calls have unknown memory
    effects.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

#endif // BITSERIAL_TARGETS_AARCH64_PASSES_TD
