//===- BitserialToX86Int8.h - x86 int8 dot-product lowering -----*- C++ -*-===//

#ifndef BITSERIAL_CONVERSION_BITSERIALTOX86INT8_BITSERIALTOX86INT8_H
#define BITSERIAL_CONVERSION_BITSERIALTOX86INT8_BITSERIALTOX86INT8_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir::bitserial {

/// With `parallel`, ops of fewer multiply-accumulates stay on one thread.
inline constexpr int64_t kDefaultMinParallelMacs = 1 << 21;
/// The same for the AMX kernel, whose MACs are ten times as fast. The 1x1
/// ResNet-18 layers of 6.4 M MACs were slower on 2 threads with the first
/// AMX kernel (C8 0.013 -> 0.024 ms); since their tasks run consecutive
/// pixel groups they are faster (C5 0.0101 -> 0.0074 ms, C8 0.0071 ->
/// 0.0061, C11 0.0053 -> 0.0047-0.0052).
inline constexpr int64_t kDefaultMinParallelAmxMacs = 4 << 20;

#define GEN_PASS_DECL_CONVERTBITSERIALTOX86INT8
#include "Bitserial/Conversion/Passes.h.inc"

/// The x86 int8 dot-product instructions.
enum class X86Int8Instruction {
  /// vpdpbusd on zmm (AVX512-VNNI).
  Avx512Vnni,
  /// vpdpbusd on ymm (AVX-VNNI, VEX encoded).
  AvxVnni,
  /// vpmaddubsw (narrow products) or vpmaddwd on ymm (AVX2).
  Avx2,
  /// vpmaddubsw (narrow products) or vpmaddwd on zmm (AVX-512BW).
  Avx512Bw,
  /// tdpbusd/tdpbssd/tdpbuud/tdpbsud on AMX tiles (AMX-INT8); convolutions
  /// with static shapes only.
  Amx,
};

/// Parses an `instruction` option value ("avx512-vnni", "avx-vnni", "avx2",
/// "avx512bw", "amx").
std::optional<X86Int8Instruction> parseX86Int8Instruction(StringRef name);

/// The name `parseX86Int8Instruction` reads.
StringRef getX86Int8InstructionName(X86Int8Instruction instruction);

/// The smallest product of activation and weight bits the x86 int8
/// lowering takes with `instruction`: `minBitProduct` if positive, else the
/// threshold measured for the instruction.
int64_t getX86Int8MinBitProduct(X86Int8Instruction instruction,
                                int64_t minBitProduct);

/// Whether the x86 int8 lowering with `instruction` handles `op`: a
/// `bitserial.matmul` (unbatched weights) or `bitserial.conv2d` (static
/// kernel extents; with padding, an input whose value 0 is the code 0) of
/// packed operands whose i64 result, if any, reduces over at most 32768
/// values. `narrowProducts` as in populateBitserialToX86Int8Patterns.
bool canLowerToX86Int8(Operation *op, X86Int8Instruction instruction,
                       bool narrowProducts = true);

/// The selection: true when the lowering handles `op` and it should run as
/// int8 dot products: the `bitserial.int8` attribute (the user's choice),
/// else the `bitserial.kernel` annotation (bitserial-select-kernels), else
/// the bit product against the threshold (at least 8, 16 below 128 output
/// rows, never for one row; `minBitProduct` if positive).
bool prefersX86Int8DotProduct(Operation *op, X86Int8Instruction instruction,
                              int64_t minBitProduct,
                              bool narrowProducts = true);

/// Patterns rewriting the ops `prefersX86Int8DotProduct` selects into a
/// decoding of both operands to i8 and an int8 dot-product kernel on
/// tensors. Other ops are left alone for a later bit-serial lowering. With
/// `narrowProducts`, AVX2 and AVX-512BW multiply u8 by s8 codes with
/// vpmaddubsw into i16 sums, widened by vpmaddwd every few steps, when the
/// operands' ranges prove that no product pair saturates and no sum leaves
/// i16 (at most 4 bits x 4 bits, or 8 bits x 2 bits, say); else vpmaddwd on
/// i16 codes. With `parallel`, the kernels' outer loops are `scf.forall`s
/// (output rows of a convolution, runs of row blocks of a matmul), except
/// for ops of fewer than `minParallelMacs` static multiply-accumulates.
void populateBitserialToX86Int8Patterns(
    RewritePatternSet &patterns, X86Int8Instruction instruction,
    int64_t minBitProduct, bool narrowProducts = true, bool parallel = false,
    int64_t minParallelMacs = kDefaultMinParallelMacs);

} // namespace mlir::bitserial

#endif // BITSERIAL_CONVERSION_BITSERIALTOX86INT8_BITSERIALTOX86INT8_H
