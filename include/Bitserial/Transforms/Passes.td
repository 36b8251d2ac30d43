//===- Passes.td - Bitserial transformation passes ---------*- tablegen -*-===//

#ifndef BITSERIAL_TRANSFORMS_PASSES_TD
#define BITSERIAL_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def BitserialEmitCInterface : Pass<"bitserial-emit-c-interface", "ModuleOp"> {
  let summary = "Mark public functions for C-interface wrappers";
  let description = [{
    Adds `llvm.emit_c_interface` to every public `func.func` with a body, so
    that `convert-func-to-llvm` emits `_mlir_ciface_<name>` wrappers that take
    `StridedMemRefType` descriptors (what `bitserial-run` and other hosts of
    `mlir::ExecutionEngine` call).
  }];
}

def BitserialX86Widen : Pass<"bitserial-x86-widen"> {
  let summary = "Widen per-byte popcounts with x86 psadbw";
  let description = [{
    Rewrites the portable byte-sum widening emitted by
    `convert-bitserial-to-vector`,

    ```mlir
    %g = vector.shape_cast %bytes : vector<32xi8> to vector<4x8xi8>
    %e = arith.extui %g : vector<4x8xi8> to vector<4x8xi64>
    %s = vector.multi_reduction <add>, %e, %zero [1] : vector<4x8xi64> to vector<4xi64>
    ```

    into one `psadbw` against zero (`llvm.x86.sse2.psad.bw`,
    `llvm.x86.avx2.psad.bw` or `llvm.x86.avx512.psad.bw.512` for 128-, 256-
    and 512-bit vectors), plus the accumulator. Run it after bufferization:
    the intrinsic call has unknown memory effects.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

#endif // BITSERIAL_TRANSFORMS_PASSES_TD
