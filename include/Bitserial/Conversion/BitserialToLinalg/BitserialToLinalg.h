//===- BitserialToLinalg.h - Reference lowering of bitserial ----*- C++ -*-===//

#ifndef BITSERIAL_CONVERSION_BITSERIALTOLINALG_BITSERIALTOLINALG_H
#define BITSERIAL_CONVERSION_BITSERIALTOLINALG_BITSERIALTOLINALG_H

#include "Bitserial/IR/BitserialDialect.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Transforms/DialectConversion.h"

namespace mlir::bitserial {

#define GEN_PASS_DECL_CONVERTBITSERIALTOLINALG
#include "Bitserial/Conversion/Passes.h.inc"

/// Converts packed tensor types (tensors with a #bitserial.packed encoding)
/// to the same tensors of words without the encoding.
class PackedTensorTypeConverter : public TypeConverter {
public:
  PackedTensorTypeConverter();
};

/// The i64 weight of plane `plane` (an index value) of `layout`: 2^plane,
/// negated for the top plane of a signed operand.
Value buildPlaneWeight(OpBuilder &b, Location loc, Value plane,
                       PackedLayoutAttr layout);

/// Patterns lowering every bitserial op to linalg (the epilogues included).
void populateBitserialToLinalgConversionPatterns(
    const TypeConverter &typeConverter, RewritePatternSet &patterns);

/// Patterns lowering bitserial.threshold, requantize and dequantize to
/// elementwise linalg.generic ops (a threshold's codes through a pack).
void populateEpilogueToLinalgConversionPatterns(
    const TypeConverter &typeConverter, RewritePatternSet &patterns);

/// The requantization of `acc` (i32, scalar or vector) by `multiplier` (i32)
/// and `shift` (i8) of the same shape, TFLite's rounding, then zero point and
/// clamp: the semantics of bitserial.requantize, truncated to `resultType`.
Value buildRequantize(OpBuilder &b, Location loc, Value acc, Value multiplier,
                      Value shift, int64_t zeroPoint, int64_t clampMin,
                      int64_t clampMax, Type resultType);

/// fl(fl(fl(acc) * scale) + bias) with the float type of `scale`: the
/// semantics of bitserial.dequantize (scalar or vector operands).
Value buildDequantize(OpBuilder &b, Location loc, Value acc, Value scale,
                      Value bias);

/// Lowers every bitserial op under `root` and drops packed encodings from
/// all types: `patterns` first (they may lower some ops differently, with a
/// higher benefit), then the reference patterns for the rest.
LogicalResult applyBitserialConversion(Operation *root,
                                       RewritePatternSet &&patterns);

} // namespace mlir::bitserial

#endif // BITSERIAL_CONVERSION_BITSERIALTOLINALG_BITSERIALTOLINALG_H
