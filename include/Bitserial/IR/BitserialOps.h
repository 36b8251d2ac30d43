//===- BitserialOps.h - Bitserial operations --------------------*- C++ -*-===//

#ifndef BITSERIAL_IR_BITSERIALOPS_H
#define BITSERIAL_IR_BITSERIALOPS_H

#include "Bitserial/IR/BitserialDialect.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/DestinationStyleOpInterface.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/TilingInterface.h"

#define GET_OP_CLASSES
#include "Bitserial/IR/BitserialOps.h.inc"

namespace mlir::bitserial {
/// True if a static extent of an operand or result of `op` is zero: the op
/// then computes nothing (an empty result, or a sum over no terms) and folds.
bool hasEmptyExtent(Operation *op);
} // namespace mlir::bitserial

#endif // BITSERIAL_IR_BITSERIALOPS_H
