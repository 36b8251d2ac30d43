//===- BitserialDialect.cpp - Bitserial dialect and attributes ------------===//

#include "Bitserial/IR/BitserialDialect.h"
#include "Bitserial/IR/BitserialOps.h"

#include "mlir/Dialect/Utils/IndexingUtils.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/JSON.h"

using namespace mlir;
using namespace mlir::bitserial;

#include "Bitserial/IR/BitserialDialect.cpp.inc"
#include "Bitserial/IR/BitserialEnums.cpp.inc"

namespace mlir::bitserial {
static constexpr unsigned kMaxBits = 8;

static FailureOr<unsigned> parseBitsParameter(AsmParser &parser) {
  SMLoc loc = parser.getCurrentLocation();
  APInt bits;
  if (parser.parseInteger(bits))
    return failure();
  // The range itself is the verifier's; here only what `unsigned` cannot
  // hold.
  if (bits.isNegative() || bits.getActiveBits() > 32)
    return parser.emitError(loc)
           << "bits must be in [1, " << kMaxBits << "], got "
           << llvm::toString(bits, 10, /*Signed=*/true);
  return static_cast<unsigned>(bits.getZExtValue());
}

static FailureOr<Encoding> parseEncodingParameter(AsmParser &parser) {
  SMLoc loc = parser.getCurrentLocation();
  StringRef keyword;
  if (parser.parseKeyword(&keyword))
    return failure();
  if (std::optional<Encoding> encoding = symbolizeEncoding(keyword))
    return *encoding;
  return parser.emitError(loc) << "unknown encoding '" << keyword
                               << "', expected unsigned, signed or bipolar";
}
} // namespace mlir::bitserial

#define GET_ATTRDEF_CLASSES
#include "Bitserial/IR/BitserialAttrs.cpp.inc"

void BitserialDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "Bitserial/IR/BitserialOps.cpp.inc"
      >();
  addAttributes<
#define GET_ATTRDEF_LIST
#include "Bitserial/IR/BitserialAttrs.cpp.inc"
      >();
}

Operation *BitserialDialect::materializeConstant(OpBuilder &builder,
                                                 Attribute value, Type type,
                                                 Location loc) {
  auto typed = dyn_cast<TypedAttr>(value);
  if (!typed || typed.getType() != type)
    return nullptr;
  return arith::ConstantOp::create(builder, loc, type, typed);
}

LogicalResult BitserialDialect::verifyOperationAttribute(Operation *op,
                                                         NamedAttribute attr) {
  StringRef name = attr.getName().getValue();
  if (name != kInt8AttrName && name != kKernelAttrName &&
      name != kRegisterBlockAttrName && name != kTuningKeyAttrName)
    return success();
  if (!isa<MatmulOp, Conv2DOp>(op))
    return op->emitError() << "'" << name
                           << "' is only valid on bitserial.matmul and "
                              "bitserial.conv2d";
  Attribute value = attr.getValue();
  if (name == kInt8AttrName && !isa<BoolAttr>(value))
    return op->emitError() << "'" << name << "' must be a bool, got " << value;
  if (name == kKernelAttrName) {
    auto kernel = dyn_cast<StringAttr>(value);
    if (!kernel ||
        (kernel.getValue() != "int8" && kernel.getValue() != "bitserial" &&
         kernel.getValue() != "lookup"))
      return op->emitError() << "'" << name
                             << "' must be \"int8\", \"bitserial\" or "
                                "\"lookup\", got "
                             << value;
  }
  if (name == kTuningKeyAttrName) {
    auto text = dyn_cast<StringAttr>(value);
    llvm::Expected<llvm::json::Value> key =
        text ? llvm::json::parse(text.getValue())
             : llvm::Expected<llvm::json::Value>(nullptr);
    bool isObject = key && key->getAsObject();
    if (!key)
      llvm::consumeError(key.takeError());
    if (!isObject)
      return op->emitError()
             << "'" << name << "' must be a string holding a JSON object, got "
             << value;
  }
  if (name == kRegisterBlockAttrName) {
    auto block = dyn_cast<DenseI64ArrayAttr>(value);
    if (!block || block.size() != 2 ||
        !isValidRegisterBlock(block[0], block[1]))
      return op->emitError()
             << "'" << name
             << "' must be array<i64: pixels, channel vectors> with at least "
                "1 of each and at most "
             << kMaxRegisterBlockAccumulators << " accumulators, got " << value;
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

std::optional<bool> mlir::bitserial::getAnnotatedInt8Choice(Operation *op) {
  if (auto force = op->getAttrOfType<BoolAttr>(kInt8AttrName))
    return force.getValue();
  if (auto kernel = op->getAttrOfType<StringAttr>(kKernelAttrName))
    return kernel.getValue() == "int8";
  // A register block is one of the bit-serial kernel.
  if (op->hasAttr(kRegisterBlockAttrName))
    return false;
  return std::nullopt;
}

PackedLayoutAttr mlir::bitserial::getPackedLayout(Type type) {
  auto tensorType = dyn_cast<RankedTensorType>(type);
  if (!tensorType)
    return {};
  return dyn_cast_or_null<PackedLayoutAttr>(tensorType.getEncoding());
}

unsigned mlir::bitserial::getWordBits(RankedTensorType packedType) {
  return packedType.getElementType().getIntOrFloatBitWidth();
}

RankedTensorType mlir::bitserial::getPackedType(ArrayRef<int64_t> logicalShape,
                                                unsigned bits,
                                                Encoding encoding,
                                                IntegerType wordType) {
  assert(!logicalShape.empty() && !ShapedType::isDynamic(logicalShape.back()));
  int64_t length = logicalShape.back();
  auto layout =
      PackedLayoutAttr::get(wordType.getContext(), bits, encoding, length);
  SmallVector<int64_t> shape(logicalShape.drop_back());
  shape.push_back(bits);
  shape.push_back(layout.getNumWords(wordType.getWidth()));
  return RankedTensorType::get(shape, wordType, layout);
}

int64_t mlir::bitserial::getMinValue(unsigned bits, Encoding encoding) {
  switch (encoding) {
  case Encoding::Unsigned:
    return 0;
  case Encoding::Signed:
    return -(int64_t(1) << (bits - 1));
  case Encoding::Bipolar:
    return -((int64_t(1) << bits) - 1);
  }
  llvm_unreachable("unknown encoding");
}

int64_t mlir::bitserial::getMaxValue(unsigned bits, Encoding encoding) {
  switch (encoding) {
  case Encoding::Unsigned:
  case Encoding::Bipolar:
    return (int64_t(1) << bits) - 1;
  case Encoding::Signed:
    return (int64_t(1) << (bits - 1)) - 1;
  }
  llvm_unreachable("unknown encoding");
}

int64_t mlir::bitserial::decodePlaneBits(uint64_t planes, unsigned bits,
                                         Encoding encoding) {
  int64_t u = static_cast<int64_t>(planes);
  switch (encoding) {
  case Encoding::Unsigned:
    return u;
  case Encoding::Signed:
    return (u & (int64_t(1) << (bits - 1))) ? u - (int64_t(1) << bits) : u;
  case Encoding::Bipolar:
    return 2 * u - ((int64_t(1) << bits) - 1);
  }
  llvm_unreachable("unknown encoding");
}

PlaneDecoding mlir::bitserial::getPlaneDecoding(Encoding encoding) {
  if (encoding == Encoding::Bipolar)
    return {2, -1};
  return {1, 0};
}

int64_t mlir::bitserial::getPlaneWeight(PackedLayoutAttr layout,
                                        unsigned plane) {
  int64_t weight = int64_t(1) << plane;
  if (layout.getEncoding() == Encoding::Signed && plane + 1 == layout.getBits())
    return -weight;
  return weight;
}

int64_t mlir::bitserial::getPlaneWeightSum(PackedLayoutAttr layout) {
  int64_t sum = 0;
  for (unsigned plane = 0; plane < layout.getBits(); ++plane)
    sum += getPlaneWeight(layout, plane);
  return sum;
}

unsigned mlir::bitserial::getRequiredWidth(unsigned bits, Encoding encoding) {
  return encoding == Encoding::Bipolar ? bits + 1 : bits;
}

uint64_t mlir::bitserial::getThresholdCodePlanes(uint64_t count, unsigned bits,
                                                 Encoding encoding) {
  if (encoding == Encoding::Signed)
    return count ^ (uint64_t(1) << (bits - 1));
  return count;
}

//===----------------------------------------------------------------------===//
// PackedLayoutAttr
//===----------------------------------------------------------------------===//

/// Bounds word counts and bit indices far from overflow.
static constexpr int64_t kMaxLength = int64_t(1) << 40;

LogicalResult
PackedLayoutAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                         unsigned bits, Encoding encoding, int64_t length) {
  if (bits < 1 || bits > kMaxBits)
    return emitError() << "bits must be in [1, " << kMaxBits << "], got "
                       << bits;
  if (length < 1)
    return emitError() << "length must be positive, got " << length;
  if (length > kMaxLength)
    return emitError() << "length must be at most 2^40, got " << length;
  return success();
}

LogicalResult PackedLayoutAttr::verifyEncoding(
    ArrayRef<int64_t> shape, Type elementType,
    function_ref<InFlightDiagnostic()> emitError) const {
  // The tensor type parser verifies the encoding even after it failed to
  // parse the element type.
  if (!elementType)
    return emitError() << "packed tensor has no element type";
  auto wordType = dyn_cast<IntegerType>(elementType);
  if (!wordType || !wordType.isSignless() ||
      !llvm::is_contained({8u, 16u, 32u, 64u}, wordType.getWidth()))
    return emitError() << "packed tensor element type must be i8, i16, i32 "
                          "or i64, got "
                       << elementType;
  if (shape.size() < 2)
    return emitError() << "packed tensor must have rank >= 2 "
                          "([..., planes, words]), got rank "
                       << shape.size();
  int64_t planes = shape[shape.size() - 2];
  if (planes != static_cast<int64_t>(getBits()))
    return emitError() << "packed tensor plane dimension must be " << getBits()
                       << " (bits), got "
                       << (ShapedType::isDynamic(planes)
                               ? std::string("?")
                               : std::to_string(planes));
  int64_t words = shape.back();
  int64_t expected = getNumWords(wordType.getWidth());
  if (words != expected)
    return emitError() << "packed tensor word dimension must be " << expected
                       << " (ceil(" << getLength() << " / "
                       << wordType.getWidth() << ")), got "
                       << (ShapedType::isDynamic(words)
                               ? std::string("?")
                               : std::to_string(words));
  return success();
}

/// `value`'s defining op if it is a static, unit-stride, rank-preserving
/// slice.
static tensor::ExtractSliceOp getStaticSlice(Value value) {
  auto slice = value.getDefiningOp<tensor::ExtractSliceOp>();
  if (!slice || !slice.hasUnitStride() ||
      slice.getType().getRank() != slice.getSourceType().getRank() ||
      !slice.getType().hasStaticShape() ||
      ShapedType::isDynamicShape(slice.getStaticOffsets()))
    return {};
  return slice;
}

bool mlir::bitserial::hasConstantElements(Value value) {
  if (matchPattern(value, m_Constant<DenseIntElementsAttr>(nullptr)))
    return true;
  tensor::ExtractSliceOp slice = getStaticSlice(value);
  return slice && hasConstantElements(slice.getSource());
}

DenseIntElementsAttr mlir::bitserial::getConstantElements(Value value) {
  DenseIntElementsAttr attr;
  if (matchPattern(value, m_Constant(&attr)))
    return attr;
  tensor::ExtractSliceOp slice = getStaticSlice(value);
  if (!slice)
    return {};
  DenseIntElementsAttr source = getConstantElements(slice.getSource());
  if (!source)
    return {};
  auto type =
      RankedTensorType::get(slice.getType().getShape(), source.getElementType(),
                            slice.getType().getEncoding());
  if (source.isSplat())
    return DenseIntElementsAttr::get(type, source.getSplatValue<APInt>());
  ArrayRef<int64_t> sourceShape = source.getType().getShape();
  if (sourceShape == type.getShape())
    return source;
  ArrayRef<int64_t> offsets = slice.getStaticOffsets();
  ArrayRef<int64_t> sizes = type.getShape();
  SmallVector<int64_t> strides = computeSuffixProduct(sourceShape);
  auto values = source.getValues<APInt>();
  SmallVector<APInt> elements;
  elements.reserve(type.getNumElements());
  SmallVector<int64_t> index(sizes.size(), 0);
  for (int64_t i = 0, e = type.getNumElements(); i < e; ++i) {
    int64_t linear = 0;
    for (size_t d = 0; d < sizes.size(); ++d)
      linear += (offsets[d] + index[d]) * strides[d];
    elements.push_back(values[linear]);
    for (size_t d = sizes.size(); d-- > 0;) {
      if (++index[d] < sizes[d])
        break;
      index[d] = 0;
    }
  }
  return DenseIntElementsAttr::get(type, elements);
}
