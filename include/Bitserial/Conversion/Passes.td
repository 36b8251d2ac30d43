//===- Passes.td - Bitserial conversion passes -------------*- tablegen -*-===//

#ifndef BITSERIAL_CONVERSION_PASSES_TD
#define BITSERIAL_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertBitserialToLinalg : Pass<"convert-bitserial-to-linalg", "ModuleOp"> {
  let summary = "Lower bitserial ops to linalg, arith and math on plain tensors";
  let description = [{
    The reference lowering: every bitserial op becomes `linalg.generic` ops
    on tensors of words (packed encodings are dropped from all types,
    function signatures included), ready for one-shot bufferization.

    Matmul and conv2d sum plane-weighted `math.ctpop` counts over every pair
    of planes with the affine identity of their encodings
    (`(a_a b + c_a) (a_b b' + c_b)`: AND counts, per-row counts and the
    constant `K` term; see docs/design.md). Counts and plane weights are
    accumulated in `i64` and truncated to the result type once, so nothing
    wraps before the final value for any `K < 2^40`. Conv2d padding is
    exact for every encoding: the bipolar correction terms are only counted
    for taps inside the input.

    This lowering is the oracle of the differential tests; it favours
    obvious correctness over speed.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect",
    "::mlir::tensor::TensorDialect"
  ];
}

#endif // BITSERIAL_CONVERSION_PASSES_TD
