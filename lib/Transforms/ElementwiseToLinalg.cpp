//===- ElementwiseToLinalg.cpp - Elementwise tensor ops to fused linalg ---===//

#include "Bitserial/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/DialectConversion.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::bitserial {
#define GEN_PASS_DEF_BITSERIALELEMENTWISETOLINALG
#include "Bitserial/Transforms/Passes.h.inc"
} // namespace mlir::bitserial

using namespace mlir;

/// What upstream's convert-elementwise-to-linalg rewrites (an elementwise
/// op with a ranked tensor operand, the others scalars or ranked tensors),
/// less ops on encoded tensors and scalar-condition selects.
static bool shouldConvert(Operation *op) {
  if (!OpTrait::hasElementwiseMappableTraits(op))
    return false;
  bool anyTensor = false;
  for (Type type :
       llvm::concat<const Type>(op->getOperandTypes(), op->getResultTypes())) {
    if (auto tensor = dyn_cast<RankedTensorType>(type)) {
      if (tensor.getEncoding())
        return false;
      anyTensor = true;
    } else if (!isa<IntegerType, FloatType, IndexType, ComplexType>(type)) {
      return false;
    }
  }
  if (auto select = dyn_cast<arith::SelectOp>(op))
    if (!isa<RankedTensorType>(select.getCondition().getType()))
      return false;
  return anyTensor;
}

/// Fusion that recomputes nothing: a single-use producer into an all-parallel
/// consumer that reads it through a permutation.
static bool isCheapFusion(OpOperand *fused) {
  Operation *producer = fused->get().getDefiningOp();
  auto consumer = dyn_cast<linalg::LinalgOp>(fused->getOwner());
  if (!producer || !producer->hasOneUse() || !consumer)
    return false;
  if (consumer.getNumLoops() != consumer.getNumParallelLoops())
    return false;
  return consumer.getMatchingIndexingMap(fused).isPermutation();
}

namespace {
struct BitserialElementwiseToLinalgPass
    : public bitserial::impl::BitserialElementwiseToLinalgBase<
          BitserialElementwiseToLinalgPass> {
  void runOnOperation() override {
    MLIRContext *context = &getContext();
    {
      ConversionTarget target(*context);
      target.markUnknownOpDynamicallyLegal(
          [](Operation *op) { return !shouldConvert(op); });
      RewritePatternSet patterns(context);
      linalg::populateElementwiseToLinalgConversionPatterns(patterns);
      if (failed(applyPartialConversion(getOperation(), target,
                                        std::move(patterns))))
        return signalPassFailure();
    }
    RewritePatternSet patterns(context);
    linalg::populateElementwiseOpsFusionPatterns(patterns, isCheapFusion);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
