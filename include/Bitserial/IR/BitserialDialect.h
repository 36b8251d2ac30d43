//===- BitserialDialect.h - Bitserial dialect -------------------*- C++ -*-===//

#ifndef BITSERIAL_IR_BITSERIALDIALECT_H
#define BITSERIAL_IR_BITSERIALDIALECT_H

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/TensorEncoding.h"

#include "Bitserial/IR/BitserialDialect.h.inc"
#include "Bitserial/IR/BitserialEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "Bitserial/IR/BitserialAttrs.h.inc"

namespace mlir::bitserial {

/// Discardable attributes of `matmul` and `conv2d` that steer their lowering
/// (checked by the dialect's attribute verifier):
/// - `bitserial.int8` (bool): the user's choice of the int8 dot-product
///   lowering (true) or the bit-serial kernels (false); it wins over any
///   other selection;
/// - `bitserial.kernel` ("int8", "bitserial" or "lookup"): the kernel chosen
///   by bitserial-select-kernels;
/// - `bitserial.register_block` (array<i64: pixels, channel vectors>): the
///   register block of the bit-serial vector kernel;
/// - `bitserial.tile_sizes` (array<i64>): the tile sizes bitserial-tile
///   gives the op (iteration dimensions; 0 leaves one whole);
/// - `bitserial.tuning_key` (string, a JSON object): the key a tile of a
///   tuned op is looked up by in a tuning cache (its op's, not its own).
/// Tiles inherit these attributes from the op they are tiles of, except the
/// tile sizes.
inline constexpr llvm::StringLiteral kInt8AttrName = "bitserial.int8";
inline constexpr llvm::StringLiteral kKernelAttrName = "bitserial.kernel";
inline constexpr llvm::StringLiteral kRegisterBlockAttrName =
    "bitserial.register_block";
inline constexpr llvm::StringLiteral kTileSizesAttrName =
    "bitserial.tile_sizes";
inline constexpr llvm::StringLiteral kTuningKeyAttrName =
    "bitserial.tuning_key";
/// The kernel `op` is annotated with: true for int8, false for bit-serial
/// (also for a `bitserial.register_block` alone), std::nullopt if no such
/// attribute is set. The user's `bitserial.int8` wins over
/// `bitserial.kernel`.
std::optional<bool> getAnnotatedInt8Choice(Operation *op);

/// The largest register block (accumulator vectors) of the vector kernels.
inline constexpr int64_t kMaxRegisterBlockAccumulators = 16;

/// Whether `pixels` x `channelVectors` is a register block the vector
/// kernels take: at least 1 of each, at most kMaxRegisterBlockAccumulators
/// in all (checked without overflowing the product).
inline bool isValidRegisterBlock(int64_t pixels, int64_t channelVectors) {
  return pixels >= 1 && channelVectors >= 1 &&
         pixels <= kMaxRegisterBlockAccumulators &&
         channelVectors <= kMaxRegisterBlockAccumulators &&
         pixels * channelVectors <= kMaxRegisterBlockAccumulators;
}

/// The packed layout of `type`, or null if it is not a packed tensor.
PackedLayoutAttr getPackedLayout(Type type);

/// The bit width of the words of a packed tensor type.
unsigned getWordBits(RankedTensorType packedType);

/// The packed tensor type holding `logicalShape` (innermost axis packed) with
/// `bits` planes of `encoding` in words of `wordType`.
RankedTensorType getPackedType(ArrayRef<int64_t> logicalShape, unsigned bits,
                               Encoding encoding, IntegerType wordType);

/// The smallest and largest value an operand of `bits` bits decodes to.
int64_t getMinValue(unsigned bits, Encoding encoding);
int64_t getMaxValue(unsigned bits, Encoding encoding);

/// The value whose plane bits are the low `bits` bits of `planes` (bit p =
/// plane p).
int64_t decodePlaneBits(uint64_t planes, unsigned bits, Encoding encoding);

/// A plane bit b decodes as `scale * b + offset` before its plane weight:
/// (1, 0) for unsigned and signed planes, (2, -1) for bipolar ones.
struct PlaneDecoding {
  int64_t scale;
  int64_t offset;
};
PlaneDecoding getPlaneDecoding(Encoding encoding);

/// The weight of plane `plane`: 2^plane, negated for the top plane of a
/// signed operand.
int64_t getPlaneWeight(PackedLayoutAttr layout, unsigned plane);

/// The sum of the plane weights of `layout`.
int64_t getPlaneWeightSum(PackedLayoutAttr layout);

/// The signed integer width needed to hold every value of the encoding
/// (unsigned values may also use exactly `bits` bits, as a bit pattern).
unsigned getRequiredWidth(unsigned bits, Encoding encoding);

/// The planes of the value `bitserial.threshold` gives for `count` reached
/// thresholds: the bits of `count`, with the top plane flipped for a signed
/// encoding (count - 2^(bits-1) in two's complement).
uint64_t getThresholdCodePlanes(uint64_t count, unsigned bits,
                                Encoding encoding);

/// The elements of `value` when it is an integer constant or a static,
/// unit-stride, rank-preserving `tensor.extract_slice` (possibly of another)
/// of one: the tiles `bitserial-tile` makes of constant weights, so that
/// their relayout still happens at compile time. Null otherwise.
DenseIntElementsAttr getConstantElements(Value value);
/// Whether getConstantElements(value) is non-null, without building the
/// elements of a slice.
bool hasConstantElements(Value value);

} // namespace mlir::bitserial

#endif // BITSERIAL_IR_BITSERIALDIALECT_H
