//===- RowKernels.h - Vector kernels that stream rows -----------*- C++ -*-===//
//
// Internal to the BitserialToVector conversion (see RowKernels.cpp).
//
//===----------------------------------------------------------------------===//

#ifndef LIB_CONVERSION_BITSERIALTOVECTOR_ROWKERNELS_H
#define LIB_CONVERSION_BITSERIALTOVECTOR_ROWKERNELS_H

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/DialectConversion.h"

namespace mlir::bitserial {

/// Vector lowerings of bitserial.pack and of the threshold, requantize and
/// dequantize ops that no kernel fused, preferred over the reference
/// patterns. With `parallel`, large ones split their rows across threads
/// (scf.forall).
void populateRowKernelPatterns(const TypeConverter &typeConverter,
                               RewritePatternSet &patterns, bool parallel);

} // namespace mlir::bitserial

#endif // LIB_CONVERSION_BITSERIALTOVECTOR_ROWKERNELS_H
