//===- BitserialToArmNeon.h - Int8 dot-product lowering ---------*- C++ -*-===//

#ifndef BITSERIAL_CONVERSION_BITSERIALTOARMNEON_BITSERIALTOARMNEON_H
#define BITSERIAL_CONVERSION_BITSERIALTOARMNEON_BITSERIALTOARMNEON_H

#include "mlir/Dialect/ArmNeon/ArmNeonDialect.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir::bitserial {

#define GEN_PASS_DECL_CONVERTBITSERIALTOARMNEON
#include "Bitserial/Conversion/Passes.h.inc"

/// The smallest product of activation and weight bits that the int8 lowering
/// takes: `options.minBitProduct` if positive, otherwise 2 with i8mm and 3
/// with dot products only. Without either it is never taken.
int64_t getMinBitProduct(const ConvertBitserialToArmNeonOptions &options);

/// Whether the int8 lowering handles `op` on a core with `options` (dot
/// products or i8mm): a `bitserial.matmul` or `bitserial.conv2d` of packed
/// operands (convolutions: static kernel extents, i64 results over at most
/// 16384 values of KH * KW * C, and with padding an input whose value 0 is
/// the i8 value 0).
bool canLowerToArmNeonInt8(Operation *op,
                           const ConvertBitserialToArmNeonOptions &options);

/// The selection: true when the int8 lowering handles `op` and it should
/// run as an int8 GEMM rather than bit-serial (see docs/design.md): the
/// `bitserial.int8` attribute (the user's choice), else the
/// `bitserial.kernel` annotation (bitserial-select-kernels), else the bit
/// product against `getMinBitProduct`.
bool prefersInt8DotProduct(Operation *op,
                           const ConvertBitserialToArmNeonOptions &options);

/// Patterns rewriting the ops `prefersInt8DotProduct` selects into a
/// decoding of both operands to i8 and an i8 x i8 -> i32 GEMM on tensors
/// (`sdot`/`udot`, or `smmla`/`ummla`/`usmmla` with i8mm). Other ops are
/// left alone for a later bit-serial lowering.
void populateBitserialToArmNeonPatterns(
    RewritePatternSet &patterns,
    const ConvertBitserialToArmNeonOptions &options);

} // namespace mlir::bitserial

#endif // BITSERIAL_CONVERSION_BITSERIALTOARMNEON_BITSERIALTOARMNEON_H
