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

#endif // BITSERIAL_TRANSFORMS_PASSES_TD
