//===- Passes.h - Bitserial conversion passes -------------------*- C++ -*-===//

#ifndef BITSERIAL_CONVERSION_PASSES_H
#define BITSERIAL_CONVERSION_PASSES_H

#include "Bitserial/Conversion/BitserialToArmNeon/BitserialToArmNeon.h"
#include "Bitserial/Conversion/BitserialToLinalg/BitserialToLinalg.h"
#include "Bitserial/Conversion/BitserialToVector/BitserialToVector.h"
#include "Bitserial/Conversion/BitserialToX86Int8/BitserialToX86Int8.h"
#include "Bitserial/Conversion/BitserialToX86Lookup/BitserialToX86Lookup.h"

namespace mlir::bitserial {

#define GEN_PASS_REGISTRATION
#include "Bitserial/Conversion/Passes.h.inc"

} // namespace mlir::bitserial

#endif // BITSERIAL_CONVERSION_PASSES_H
