//===- BitserialOps.cpp - Bitserial operations: verifiers and folders -----===//

#include "Bitserial/IR/BitserialOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/OpImplementation.h"

#include <algorithm>

using namespace mlir;
using namespace mlir::bitserial;

#define GET_OP_CLASSES
#include "Bitserial/IR/BitserialOps.cpp.inc"

//===----------------------------------------------------------------------===//
// Shared verification helpers
//===----------------------------------------------------------------------===//

static std::string dimToString(int64_t dim) {
  return ShapedType::isDynamic(dim) ? "?" : std::to_string(dim);
}

/// Two extents disagree only when both are known.
static bool staticMismatch(int64_t a, int64_t b) {
  return !ShapedType::isDynamic(a) && !ShapedType::isDynamic(b) && a != b;
}

static FailureOr<PackedLayoutAttr> getPackedOperandLayout(Operation *op,
                                                          Value value,
                                                          StringRef name) {
  if (PackedLayoutAttr layout = getPackedLayout(value.getType()))
    return layout;
  op->emitOpError() << name
                    << " must be a packed tensor (with a #bitserial.packed "
                       "encoding), got "
                    << value.getType();
  return failure();
}

/// Checks that the integer tensor `logical` and the packed tensor `packed`
/// describe the same data: same leading shape, the logical innermost extent
/// equal to the packed length, and an element type wide enough to hold every
/// value of the encoding.
static LogicalResult verifyLogicalMatchesPacked(Operation *op,
                                                RankedTensorType logical,
                                                StringRef logicalName,
                                                RankedTensorType packed,
                                                StringRef packedName,
                                                PackedLayoutAttr layout) {
  if (logical.getRank() < 1)
    return op->emitOpError() << logicalName << " must have rank >= 1";
  int64_t length = logical.getShape().back();
  if (ShapedType::isDynamic(length))
    return op->emitOpError()
           << logicalName << " must have a static innermost dimension";
  if (length != layout.getLength())
    return op->emitOpError()
           << packedName << " length (" << layout.getLength()
           << ") must equal the innermost dimension of " << logicalName << " ("
           << length << ")";
  if (packed.getRank() != logical.getRank() + 1)
    return op->emitOpError()
           << packedName << " must have rank " << logical.getRank() + 1 << " ("
           << logicalName << " rank + 1), got " << packed.getRank();
  for (int64_t i = 0, e = logical.getRank() - 1; i < e; ++i) {
    if (logical.getDimSize(i) != packed.getDimSize(i))
      return op->emitOpError()
             << packedName << " dimension " << i << " ("
             << dimToString(packed.getDimSize(i)) << ") must equal "
             << logicalName << " dimension " << i << " ("
             << dimToString(logical.getDimSize(i)) << ")";
  }
  unsigned width = logical.getElementType().getIntOrFloatBitWidth();
  unsigned required = getRequiredWidth(layout.getBits(), layout.getEncoding());
  if (width < required)
    return op->emitOpError()
           << logicalName << " element type " << logical.getElementType()
           << " is too narrow for " << layout.getBits() << "-bit "
           << stringifyEncoding(layout.getEncoding()) << " values (needs i"
           << required << " or wider)";
  return success();
}

static LogicalResult verifyResultMatchesInit(Operation *op, Type result,
                                             Type init) {
  if (result != init)
    return op->emitOpError() << "result type " << result
                             << " must equal init type " << init;
  return success();
}

//===----------------------------------------------------------------------===//
// Constant packing and decoding
//===----------------------------------------------------------------------===//

/// The plane bits of `value`: its low `bits` bits after the bipolar shift.
static uint64_t encodeValue(const APInt &value, unsigned bits,
                            Encoding encoding) {
  // Only the low bits + 1 bits matter: take the low 64 and compute modulo
  // 2^64 (any element width, no overflow).
  uint64_t v = value.getBitWidth() > 64 ? value.trunc(64).getZExtValue()
                                        : value.getZExtValue();
  if (encoding == Encoding::Bipolar)
    v = (v + ((uint64_t(1) << bits) - 1)) >> 1;
  return v & ((uint64_t(1) << bits) - 1);
}

/// Folding rewrites whole constants; keep compile time bounded.
/// Static tensors of more bytes than an address space holds (2^47 on x86-64
/// and AArch64 user space) cannot run anywhere, and their strides overflow
/// int64 on the way to LLVM: reject them here, with a plain message.
static constexpr uint64_t kMaxTensorBytes = uint64_t(1) << 47;

static LogicalResult verifyAddressable(Operation *op) {
  auto check = [&](Type type, const Twine &what) -> LogicalResult {
    auto shaped = dyn_cast<ShapedType>(type);
    if (!shaped || !shaped.hasRank())
      return success();
    uint64_t bits = shaped.getElementTypeBitWidth();
    uint64_t limit = kMaxTensorBytes * 8;
    for (int64_t dim : shaped.getShape()) {
      if (ShapedType::isDynamic(dim) || dim == 0)
        continue;
      if (uint64_t(dim) > limit / bits)
        return op->emitOpError()
               << what << " " << type << " is larger than 2^47 bytes";
      bits *= uint64_t(dim);
    }
    return success();
  };
  for (auto [i, type] : llvm::enumerate(op->getOperandTypes()))
    if (failed(check(type, "operand #" + Twine(i))))
      return failure();
  for (auto [i, type] : llvm::enumerate(op->getResultTypes()))
    if (failed(check(type, "result #" + Twine(i))))
      return failure();
  return success();
}

static constexpr int64_t kMaxFoldedElements = int64_t(1) << 22;

/// The integer elements of a constant: a dense attribute, or a
/// `dense_resource` blob (model weights) read as one, if its blob is present
/// and holds whole bytes per element.
static DenseIntElementsAttr getIntegerElements(Attribute attr) {
  if (auto dense = dyn_cast_or_null<DenseIntElementsAttr>(attr))
    return dense;
  auto resource = dyn_cast_or_null<DenseResourceElementsAttr>(attr);
  if (!resource)
    return {};
  ShapedType type = resource.getType();
  auto elementType = dyn_cast<IntegerType>(type.getElementType());
  if (!elementType || elementType.getWidth() % 8 != 0 ||
      !type.hasStaticShape() || type.getNumElements() > kMaxFoldedElements)
    return {};
  AsmResourceBlob *blob = resource.getRawHandle().getBlob();
  if (!blob)
    return {};
  ArrayRef<char> data = blob->getData();
  bool splat = false;
  if (data.size() !=
          size_t(type.getNumElements()) * (elementType.getWidth() / 8) ||
      !DenseElementsAttr::isValidRawBuffer(type, data, splat))
    return {};
  return cast<DenseIntElementsAttr>(
      DenseElementsAttr::getFromRawBuffer(type, data));
}

//===----------------------------------------------------------------------===//
// PackOp
//===----------------------------------------------------------------------===//

void PackOp::build(OpBuilder &builder, OperationState &state, Value input,
                   unsigned bits, Encoding encoding, Type wordType) {
  auto inputType = cast<RankedTensorType>(input.getType());
  auto word = wordType ? cast<IntegerType>(wordType) : builder.getI64Type();
  build(builder, state,
        getPackedType(inputType.getShape(), bits, encoding, word), input);
}

PackedLayoutAttr PackOp::getLayout() {
  return getPackedLayout(getResult().getType());
}

LogicalResult PackOp::verify() {
  if (failed(verifyAddressable(*this)))
    return failure();
  FailureOr<PackedLayoutAttr> layout =
      getPackedOperandLayout(*this, getResult(), "result");
  if (failed(layout))
    return failure();
  return verifyLogicalMatchesPacked(*this, getInput().getType(), "input",
                                    getResult().getType(), "result", *layout);
}

bool mlir::bitserial::hasEmptyExtent(Operation *op) {
  auto isEmpty = [](Type type) {
    auto shaped = dyn_cast<ShapedType>(type);
    return shaped && shaped.hasRank() && llvm::is_contained(shaped.getShape(), 0);
  };
  return llvm::any_of(op->getOperandTypes(), isEmpty) ||
         llvm::any_of(op->getResultTypes(), isEmpty);
}

OpFoldResult PackOp::fold(FoldAdaptor adaptor) {
  RankedTensorType resultType = getResult().getType();
  if (resultType.hasStaticShape() && resultType.getNumElements() == 0)
    return DenseIntElementsAttr::get(resultType, ArrayRef<APInt>{});
  DenseIntElementsAttr input = getIntegerElements(adaptor.getInput());
  if (!input || !resultType.hasStaticShape() ||
      input.getNumElements() > kMaxFoldedElements)
    return {};
  PackedLayoutAttr layout = getLayout();
  unsigned bits = layout.getBits(), wordBits = getWordBits(resultType);
  int64_t length = layout.getLength();
  int64_t numWords = resultType.getShape().back();
  int64_t rows = input.getNumElements() / length;

  SmallVector<APInt> words(resultType.getNumElements(), APInt(wordBits, 0));
  auto values = input.getValues<APInt>();
  for (int64_t row = 0; row < rows; ++row) {
    for (int64_t k = 0; k < length; ++k) {
      uint64_t planes =
          encodeValue(values[row * length + k], bits, layout.getEncoding());
      for (unsigned p = 0; p < bits; ++p)
        if ((planes >> p) & 1)
          words[(row * bits + p) * numWords + k / wordBits].setBit(k %
                                                                   wordBits);
    }
  }
  return DenseIntElementsAttr::get(resultType, words);
}

//===----------------------------------------------------------------------===//
// UnpackOp
//===----------------------------------------------------------------------===//

PackedLayoutAttr UnpackOp::getLayout() {
  return getPackedLayout(getInput().getType());
}

LogicalResult UnpackOp::verify() {
  if (failed(verifyAddressable(*this)))
    return failure();
  FailureOr<PackedLayoutAttr> layout =
      getPackedOperandLayout(*this, getInput(), "input");
  if (failed(layout))
    return failure();
  return verifyLogicalMatchesPacked(*this, getResult().getType(), "result",
                                    getInput().getType(), "input", *layout);
}

OpFoldResult UnpackOp::fold(FoldAdaptor adaptor) {
  // unpack(pack(x)) == x: packing is lossless for values of the encoding.
  if (auto pack = getInput().getDefiningOp<PackOp>())
    if (pack.getInput().getType() == getResult().getType())
      return pack.getInput();

  RankedTensorType resultType = getResult().getType();
  if (resultType.hasStaticShape() && resultType.getNumElements() == 0)
    return DenseIntElementsAttr::get(resultType, ArrayRef<APInt>{});
  auto input = dyn_cast_or_null<DenseIntElementsAttr>(adaptor.getInput());
  if (!input || !resultType.hasStaticShape() ||
      resultType.getNumElements() > kMaxFoldedElements)
    return {};
  PackedLayoutAttr layout = getLayout();
  unsigned bits = layout.getBits();
  unsigned wordBits = getWordBits(getInput().getType());
  unsigned resultBits = resultType.getElementType().getIntOrFloatBitWidth();
  int64_t length = layout.getLength();
  int64_t numWords = getInput().getType().getShape().back();
  int64_t rows = resultType.getNumElements() / length;

  auto words = input.getValues<APInt>();
  SmallVector<APInt> values;
  values.reserve(resultType.getNumElements());
  for (int64_t row = 0; row < rows; ++row) {
    for (int64_t k = 0; k < length; ++k) {
      uint64_t planes = 0;
      for (unsigned p = 0; p < bits; ++p)
        if (words[(row * bits + p) * numWords + k / wordBits][k % wordBits])
          planes |= uint64_t(1) << p;
      int64_t value = decodePlaneBits(planes, bits, layout.getEncoding());
      values.push_back(APInt(resultBits, value, /*isSigned=*/true,
                             /*implicitTrunc=*/true));
    }
  }
  return DenseIntElementsAttr::get(resultType, values);
}

//===----------------------------------------------------------------------===//
// MatmulOp
//===----------------------------------------------------------------------===//

PackedLayoutAttr MatmulOp::getLhsLayout() {
  return getPackedLayout(getLhs().getType());
}
PackedLayoutAttr MatmulOp::getRhsLayout() {
  return getPackedLayout(getRhs().getType());
}

LogicalResult MatmulOp::verify() {
  if (failed(verifyAddressable(*this)))
    return failure();
  FailureOr<PackedLayoutAttr> lhsLayout =
      getPackedOperandLayout(*this, getLhs(), "lhs");
  if (failed(lhsLayout))
    return failure();
  FailureOr<PackedLayoutAttr> rhsLayout =
      getPackedOperandLayout(*this, getRhs(), "rhs");
  if (failed(rhsLayout))
    return failure();
  RankedTensorType lhsType = getLhs().getType(), rhsType = getRhs().getType();
  RankedTensorType initType = getInit().getType();
  for (auto [type, name] : {std::pair(lhsType, "lhs"), {rhsType, "rhs"}})
    if (type.getRank() != 3 && type.getRank() != 4)
      return emitOpError() << name
                           << " must have rank 3 ([rows, planes, words]) or "
                              "4 ([batch, rows, planes, words]), got rank "
                           << type.getRank();
  if (lhsLayout->getLength() != rhsLayout->getLength())
    return emitOpError() << "lhs and rhs must pack the same reduction length, "
                            "got "
                         << lhsLayout->getLength() << " and "
                         << rhsLayout->getLength();
  if (lhsType.getElementType() != rhsType.getElementType())
    return emitOpError() << "lhs and rhs must use the same word type, got "
                         << lhsType.getElementType() << " and "
                         << rhsType.getElementType();

  bool lhsBatched = lhsType.getRank() == 4, rhsBatched = rhsType.getRank() == 4;
  bool batched = lhsBatched || rhsBatched;
  if (batched && initType.getRank() != 3)
    return emitOpError() << "init must have rank 3 ([batch, M, N]) when an "
                            "operand is batched, got rank "
                         << initType.getRank();
  if (!batched && initType.getRank() != 2)
    return emitOpError() << "init must have rank 2 ([M, N]), got rank "
                         << initType.getRank();
  if (lhsBatched && rhsBatched &&
      staticMismatch(lhsType.getDimSize(0), rhsType.getDimSize(0)))
    return emitOpError() << "lhs batch (" << lhsType.getDimSize(0)
                         << ") must equal rhs batch (" << rhsType.getDimSize(0)
                         << ")";
  for (RankedTensorType type : {lhsType, rhsType}) {
    if (type.getRank() != 4)
      continue;
    int64_t batch = type.getDimSize(0);
    if (staticMismatch(initType.getDimSize(0), batch))
      return emitOpError() << "init batch (" << initType.getDimSize(0)
                           << ") must equal the operands' batch (" << batch
                           << ")";
  }
  int64_t m = lhsType.getDimSize(lhsType.getRank() - 3);
  int64_t n = rhsType.getDimSize(rhsType.getRank() - 3);
  int64_t initM = initType.getDimSize(initType.getRank() - 2);
  int64_t initN = initType.getDimSize(initType.getRank() - 1);
  if (staticMismatch(initM, m))
    return emitOpError() << "init rows (" << initM
                         << ") must equal lhs rows (" << m << ")";
  if (staticMismatch(initN, n))
    return emitOpError() << "init columns (" << initN
                         << ") must equal rhs rows (" << n << ")";
  return verifyResultMatchesInit(*this, getResult().getType(), initType);
}

//===----------------------------------------------------------------------===//
// Conv2DOp
//===----------------------------------------------------------------------===//

PackedLayoutAttr Conv2DOp::getInputLayout() {
  return getPackedLayout(getInput().getType());
}
PackedLayoutAttr Conv2DOp::getFilterLayout() {
  return getPackedLayout(getFilter().getType());
}

static std::string formatList(ArrayRef<int64_t> values) {
  std::string s = "[";
  llvm::raw_string_ostream os(s);
  llvm::interleaveComma(values, os);
  os << "]";
  return s;
}

/// The output extent of one spatial axis, or dynamic if unknown. Fails (with
/// a diagnostic) when the padded input is smaller than the dilated window.
static FailureOr<int64_t> getOutputExtent(Operation *op, StringRef axis,
                                          int64_t input, int64_t padBefore,
                                          int64_t padAfter, int64_t kernel,
                                          int64_t stride, int64_t dilation) {
  if (ShapedType::isDynamic(input) || ShapedType::isDynamic(kernel))
    return ShapedType::kDynamic;
  int64_t padded = input + padBefore + padAfter;
  int64_t window = dilation * (kernel - 1) + 1;
  if (padded < window) {
    op->emitOpError() << "padded input " << axis << " (" << padded
                      << ") must be at least the dilated filter " << axis
                      << " (" << window << ")";
    return failure();
  }
  return (padded - window) / stride + 1;
}

OpFoldResult MatmulOp::fold(FoldAdaptor) {
  if (hasEmptyExtent(*this) && getInit().getType() == getResult().getType())
    return getInit();
  return {};
}

LogicalResult Conv2DOp::verify() {
  if (failed(verifyAddressable(*this)))
    return failure();
  FailureOr<PackedLayoutAttr> inputLayout =
      getPackedOperandLayout(*this, getInput(), "input");
  if (failed(inputLayout))
    return failure();
  FailureOr<PackedLayoutAttr> filterLayout =
      getPackedOperandLayout(*this, getFilter(), "filter");
  if (failed(filterLayout))
    return failure();
  RankedTensorType inputType = getInput().getType();
  RankedTensorType filterType = getFilter().getType();
  RankedTensorType initType = getInit().getType();
  if (inputType.getRank() != 5)
    return emitOpError() << "input must have rank 5 ([N, H, W, planes, "
                            "words]), got rank "
                         << inputType.getRank();
  if (filterType.getRank() != 5)
    return emitOpError() << "filter must have rank 5 ([CO, KH, KW, planes, "
                            "words]), got rank "
                         << filterType.getRank();
  if (inputLayout->getLength() != filterLayout->getLength())
    return emitOpError() << "input and filter must pack the same channel "
                            "count, got "
                         << inputLayout->getLength() << " and "
                         << filterLayout->getLength();
  if (inputType.getElementType() != filterType.getElementType())
    return emitOpError() << "input and filter must use the same word type, "
                            "got "
                         << inputType.getElementType() << " and "
                         << filterType.getElementType();

  ArrayRef<int64_t> strides = getStrides(), dilations = getDilations();
  ArrayRef<int64_t> padding = getPadding();
  if (strides.size() != 2)
    return emitOpError() << "strides must have 2 elements ([h, w]), got "
                         << strides.size();
  if (llvm::any_of(strides, [](int64_t s) { return s <= 0; }))
    return emitOpError() << "strides must be positive, got "
                         << formatList(strides);
  if (dilations.size() != 2)
    return emitOpError() << "dilations must have 2 elements ([h, w]), got "
                         << dilations.size();
  if (llvm::any_of(dilations, [](int64_t d) { return d <= 0; }))
    return emitOpError() << "dilations must be positive, got "
                         << formatList(dilations);
  if (padding.size() != 4)
    return emitOpError() << "padding must have 4 elements ([top, bottom, "
                            "left, right]), got "
                         << padding.size();
  if (llvm::any_of(padding, [](int64_t p) { return p < 0; }))
    return emitOpError() << "padding must be non-negative, got "
                         << formatList(padding);

  for (int64_t d : {1, 2})
    if (filterType.getDimSize(d) == 0)
      return emitOpError() << "filter height and width must be positive, got "
                           << filterType.getDimSize(1) << "x"
                           << filterType.getDimSize(2);
  // Keeps every index computation (pads, windows) far from overflow.
  constexpr int64_t kMaxParameter = int64_t(1) << 31;
  for (ArrayRef<int64_t> values : {strides, dilations, padding})
    if (llvm::any_of(values, [&](int64_t v) { return v >= kMaxParameter; }))
      return emitOpError() << "strides, dilations and padding must be below "
                              "2^31, got "
                           << formatList(values);
  if (initType.getRank() != 4)
    return emitOpError() << "init must have rank 4 ([N, OH, OW, CO]), got "
                            "rank "
                         << initType.getRank();
  if (staticMismatch(initType.getDimSize(0), inputType.getDimSize(0)))
    return emitOpError() << "init batch (" << initType.getDimSize(0)
                         << ") must equal input batch ("
                         << inputType.getDimSize(0) << ")";
  if (staticMismatch(initType.getDimSize(3), filterType.getDimSize(0)))
    return emitOpError() << "init channels (" << initType.getDimSize(3)
                         << ") must equal filter output channels ("
                         << filterType.getDimSize(0) << ")";

  FailureOr<int64_t> outH = getOutputExtent(
      *this, "height", inputType.getDimSize(1), padding[0], padding[1],
      filterType.getDimSize(1), strides[0], dilations[0]);
  if (failed(outH))
    return failure();
  FailureOr<int64_t> outW = getOutputExtent(
      *this, "width", inputType.getDimSize(2), padding[2], padding[3],
      filterType.getDimSize(2), strides[1], dilations[1]);
  if (failed(outW))
    return failure();
  if (staticMismatch(initType.getDimSize(1), *outH))
    return emitOpError() << "init height (" << initType.getDimSize(1)
                         << ") must equal the output height (" << *outH << ")";
  if (staticMismatch(initType.getDimSize(2), *outW))
    return emitOpError() << "init width (" << initType.getDimSize(2)
                         << ") must equal the output width (" << *outW << ")";
  return verifyResultMatchesInit(*this, getResult().getType(), initType);
}

OpFoldResult Conv2DOp::fold(FoldAdaptor) {
  if (hasEmptyExtent(*this) && getInit().getType() == getResult().getType())
    return getInit();
  return {};
}

//===----------------------------------------------------------------------===//
// Epilogues: shared checks
//===----------------------------------------------------------------------===//

/// Checks that `param` is a `[C]` (or `[C, trailing]`) tensor of per-channel
/// values for `acc`, whose channel axis is its innermost one.
static LogicalResult verifyPerChannel(Operation *op, RankedTensorType acc,
                                      RankedTensorType param, StringRef name,
                                      std::optional<int64_t> trailing = {}) {
  if (acc.getRank() < 1)
    return op->emitOpError() << "accumulator must have rank >= 1";
  int64_t rank = trailing ? 2 : 1;
  if (param.getRank() != rank)
    return op->emitOpError()
           << name << " must have rank " << rank << ", got " << param;
  int64_t channels = acc.getShape().back();
  if (staticMismatch(param.getDimSize(0), channels))
    return op->emitOpError()
           << name << " has " << param.getDimSize(0)
           << " channels, but the accumulator's innermost dimension is "
           << channels;
  if (trailing && staticMismatch(param.getDimSize(1), *trailing))
    return op->emitOpError() << name << " must have " << *trailing
                             << " values per channel, got "
                             << dimToString(param.getDimSize(1));
  return success();
}

static LogicalResult verifySameShape(Operation *op, RankedTensorType acc,
                                     RankedTensorType result) {
  if (acc.getRank() != result.getRank())
    return op->emitOpError() << "result must have the accumulator's rank ("
                             << acc.getRank() << "), got " << result;
  for (int64_t i = 0, e = acc.getRank(); i < e; ++i)
    if (staticMismatch(acc.getDimSize(i), result.getDimSize(i)))
      return op->emitOpError()
             << "result dimension " << i << " ("
             << dimToString(result.getDimSize(i))
             << ") must equal accumulator dimension " << i << " ("
             << dimToString(acc.getDimSize(i)) << ")";
  return success();
}

/// The constant values of a folded operand, or null when it is not a small
/// enough constant.
template <typename AttrT>
static AttrT getFoldableConstant(Attribute attr) {
  auto elements = dyn_cast_or_null<AttrT>(attr);
  if (!elements || elements.getNumElements() > kMaxFoldedElements)
    return {};
  return elements;
}

//===----------------------------------------------------------------------===//
// ThresholdOp
//===----------------------------------------------------------------------===//

PackedLayoutAttr ThresholdOp::getLayout() {
  return getPackedLayout(getResult().getType());
}

LogicalResult ThresholdOp::verify() {
  if (failed(verifyAddressable(*this)))
    return failure();
  FailureOr<PackedLayoutAttr> layout =
      getPackedOperandLayout(*this, getResult(), "result");
  if (failed(layout))
    return failure();
  RankedTensorType accType = getAcc().getType();
  if (accType.getRank() < 1)
    return emitOpError() << "accumulator must have rank >= 1";
  if (getThresholds().getType().getElementType() != accType.getElementType())
    return emitOpError() << "thresholds element type "
                         << getThresholds().getType().getElementType()
                         << " must equal the accumulator element type "
                         << accType.getElementType();
  if (failed(verifyPerChannel(*this, accType, getThresholds().getType(),
                              "thresholds",
                              (int64_t(1) << layout->getBits()) - 1)))
    return failure();
  if (getDescending() &&
      failed(verifyPerChannel(*this, accType, getDescending().getType(),
                              "descending")))
    return failure();
  // The result packs the accumulator's shape along the channel axis; the
  // accumulator's element type only needs to hold the thresholds.
  RankedTensorType logical = RankedTensorType::get(
      accType.getShape(), IntegerType::get(getContext(), 64));
  return verifyLogicalMatchesPacked(*this, logical, "accumulator",
                                    getResult().getType(), "result", *layout);
}

OpFoldResult ThresholdOp::fold(FoldAdaptor adaptor) {
  RankedTensorType resultType = getResult().getType();
  if (resultType.hasStaticShape() && resultType.getNumElements() == 0)
    return DenseIntElementsAttr::get(resultType, ArrayRef<APInt>{});
  auto acc = getFoldableConstant<DenseIntElementsAttr>(adaptor.getAcc());
  auto thresholds =
      getFoldableConstant<DenseIntElementsAttr>(adaptor.getThresholds());
  DenseIntElementsAttr descending;
  if (getDescending()) {
    descending =
        getFoldableConstant<DenseIntElementsAttr>(adaptor.getDescending());
    if (!descending)
      return {};
  }
  if (!acc || !thresholds || !resultType.hasStaticShape() ||
      resultType.getNumElements() > kMaxFoldedElements)
    return {};
  PackedLayoutAttr layout = getLayout();
  unsigned bits = layout.getBits(), wordBits = getWordBits(resultType);
  int64_t channels = layout.getLength();
  int64_t numThresholds = (int64_t(1) << bits) - 1;
  int64_t numWords = resultType.getShape().back();
  int64_t rows = acc.getNumElements() / channels;

  SmallVector<int64_t> t = llvm::map_to_vector(
      thresholds.getValues<APInt>(),
      [](const APInt &v) { return v.getSExtValue(); });
  SmallVector<APInt> words(resultType.getNumElements(), APInt(wordBits, 0));
  auto values = acc.getValues<APInt>();
  for (int64_t row = 0; row < rows; ++row) {
    for (int64_t c = 0; c < channels; ++c) {
      int64_t value = values[row * channels + c].getSExtValue();
      bool down = descending && descending.getValues<bool>()[c];
      uint64_t count = 0;
      for (int64_t i = 0; i < numThresholds; ++i) {
        int64_t threshold = t[c * numThresholds + i];
        count += down ? value <= threshold : value >= threshold;
      }
      uint64_t planes =
          getThresholdCodePlanes(count, bits, layout.getEncoding());
      for (unsigned p = 0; p < bits; ++p)
        if ((planes >> p) & 1)
          words[(row * bits + p) * numWords + c / wordBits].setBit(c %
                                                                   wordBits);
    }
  }
  return DenseIntElementsAttr::get(resultType, words);
}

//===----------------------------------------------------------------------===//
// RequantizeOp
//===----------------------------------------------------------------------===//

LogicalResult RequantizeOp::verify() {
  if (failed(verifyAddressable(*this)))
    return failure();
  RankedTensorType accType = getAcc().getType();
  if (failed(verifyPerChannel(*this, accType, getMultiplier().getType(),
                              "multiplier")) ||
      failed(
          verifyPerChannel(*this, accType, getShift().getType(), "shift")) ||
      failed(verifySameShape(*this, accType, getResult().getType())))
    return failure();
  if (getClamp().size() != 2)
    return emitOpError() << "clamp must be [min, max], got "
                         << getClamp().size() << " values";
  unsigned width = getResult().getType().getElementTypeBitWidth();
  int64_t lowest = APInt::getSignedMinValue(width).getSExtValue();
  int64_t highest = APInt::getSignedMaxValue(width).getSExtValue();
  if (getClampMin() > getClampMax() || getClampMin() < lowest ||
      getClampMax() > highest)
    return emitOpError() << "clamp [" << getClampMin() << ", " << getClampMax()
                         << "] must be an ordered range within the result "
                            "type's ["
                         << lowest << ", " << highest << "]";
  return success();
}

/// TFLite's MultiplyByQuantizedMultiplier (gemmlowp's rounding), on i32.
static int32_t multiplyByQuantizedMultiplier(int32_t x, int32_t multiplier,
                                             int64_t shift) {
  shift = std::clamp<int64_t>(shift, -31, 30);
  int64_t left = std::max<int64_t>(shift, 0);
  int64_t right = std::max<int64_t>(-shift, 0);
  int32_t shifted = static_cast<int32_t>(static_cast<uint32_t>(x) << left);
  int32_t high;
  if (shifted == INT32_MIN && multiplier == INT32_MIN) {
    high = INT32_MAX;
  } else {
    int64_t product = int64_t(shifted) * int64_t(multiplier);
    int64_t nudge = product >= 0 ? (int64_t(1) << 30) : 1 - (int64_t(1) << 30);
    high = static_cast<int32_t>((product + nudge) / (int64_t(1) << 31));
  }
  int32_t mask = static_cast<int32_t>((int64_t(1) << right) - 1);
  int32_t remainder = high & mask;
  int32_t threshold = (mask >> 1) + (high < 0 ? 1 : 0);
  return (high >> right) + (remainder > threshold ? 1 : 0);
}

OpFoldResult RequantizeOp::fold(FoldAdaptor adaptor) {
  RankedTensorType resultType = getResult().getType();
  if (resultType.hasStaticShape() && resultType.getNumElements() == 0)
    return DenseIntElementsAttr::get(resultType, ArrayRef<APInt>{});
  auto acc = getFoldableConstant<DenseIntElementsAttr>(adaptor.getAcc());
  auto multiplier =
      getFoldableConstant<DenseIntElementsAttr>(adaptor.getMultiplier());
  auto shift = getFoldableConstant<DenseIntElementsAttr>(adaptor.getShift());
  if (!acc || !multiplier || !shift || !resultType.hasStaticShape())
    return {};
  int64_t channels = resultType.getShape().back();
  unsigned width = resultType.getElementTypeBitWidth();
  auto m = llvm::to_vector(multiplier.getValues<int32_t>());
  auto s = llvm::to_vector(shift.getValues<int8_t>());
  SmallVector<APInt> results;
  results.reserve(acc.getNumElements());
  int64_t index = 0;
  for (int32_t value : acc.getValues<int32_t>()) {
    int64_t c = index++ % channels;
    int64_t y = int64_t(multiplyByQuantizedMultiplier(value, m[c], s[c])) +
                getSignedZeroPoint();
    y = std::clamp(y, getClampMin(), getClampMax());
    results.push_back(APInt(width, y, /*isSigned=*/true));
  }
  return DenseIntElementsAttr::get(resultType, results);
}

//===----------------------------------------------------------------------===//
// DequantizeOp
//===----------------------------------------------------------------------===//

LogicalResult DequantizeOp::verify() {
  if (failed(verifyAddressable(*this)))
    return failure();
  RankedTensorType accType = getAcc().getType();
  Type floatType = getResult().getType().getElementType();
  if (getScale().getType().getElementType() != floatType ||
      getBias().getType().getElementType() != floatType)
    return emitOpError() << "scale and bias must have the result's element "
                            "type "
                         << floatType;
  if (failed(verifyPerChannel(*this, accType, getScale().getType(), "scale")) ||
      failed(verifyPerChannel(*this, accType, getBias().getType(), "bias")))
    return failure();
  return verifySameShape(*this, accType, getResult().getType());
}

OpFoldResult DequantizeOp::fold(FoldAdaptor adaptor) {
  RankedTensorType resultType = getResult().getType();
  if (resultType.hasStaticShape() && resultType.getNumElements() == 0)
    return DenseFPElementsAttr::get(resultType, ArrayRef<APFloat>{});
  auto acc = getFoldableConstant<DenseIntElementsAttr>(adaptor.getAcc());
  auto scale = getFoldableConstant<DenseFPElementsAttr>(adaptor.getScale());
  auto bias = getFoldableConstant<DenseFPElementsAttr>(adaptor.getBias());
  if (!acc || !scale || !bias || !resultType.hasStaticShape())
    return {};
  int64_t channels = resultType.getShape().back();
  auto semantics =
      &cast<FloatType>(resultType.getElementType()).getFloatSemantics();
  auto s = llvm::to_vector(scale.getValues<APFloat>());
  auto b = llvm::to_vector(bias.getValues<APFloat>());
  SmallVector<APFloat> results;
  results.reserve(acc.getNumElements());
  int64_t index = 0;
  for (const APInt &value : acc.getValues<APInt>()) {
    int64_t c = index++ % channels;
    APFloat y(*semantics);
    y.convertFromAPInt(value, /*IsSigned=*/true,
                       APFloat::rmNearestTiesToEven);
    y.multiply(s[c], APFloat::rmNearestTiesToEven);
    y.add(b[c], APFloat::rmNearestTiesToEven);
    results.push_back(y);
  }
  return DenseFPElementsAttr::get(resultType, results);
}
