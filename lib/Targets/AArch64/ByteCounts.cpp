//===- ByteCounts.cpp - Byte-count widening with NEON pairwise adds -------===//

#include "Bitserial/Targets/AArch64/AArch64.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::bitserial {
#define GEN_PASS_DEF_BITSERIALAARCH64BYTECOUNTS
#include "Bitserial/Targets/AArch64/Passes.h.inc"
} // namespace mlir::bitserial

using namespace mlir;

namespace {
/// multi_reduction<add>(extui(shape_cast(bytes : 16xi8 -> 2x8xi8)), acc)
/// over dim 1 -> acc + uaddlp(uaddlp(uaddlp(bytes))), i8 -> i16 -> i32 ->
/// i64; the last pairwise add and the accumulation select as `uadalp`.
struct ByteSumToPairwiseAdds
    : public OpRewritePattern<vector::MultiDimReductionOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(vector::MultiDimReductionOp op,
                                PatternRewriter &rewriter) const override {
    if (op.getKind() != vector::CombiningKind::ADD ||
        op.getReductionDims() != ArrayRef<int64_t>{1})
      return failure();
    auto extend = op.getSource().getDefiningOp<arith::ExtUIOp>();
    if (!extend)
      return failure();
    auto shapeCast = extend.getIn().getDefiningOp<vector::ShapeCastOp>();
    if (!shapeCast)
      return failure();
    auto bytesType = dyn_cast<VectorType>(shapeCast.getSource().getType());
    auto groupedType = dyn_cast<VectorType>(shapeCast.getType());
    auto resultType = dyn_cast<VectorType>(op.getType());
    if (!bytesType || !groupedType || !resultType ||
        bytesType.isScalable() || bytesType.getRank() != 1 ||
        bytesType.getNumElements() != 16 ||
        !bytesType.getElementType().isInteger(8) ||
        groupedType.getRank() != 2 || groupedType.getDimSize(1) != 8 ||
        resultType.getRank() != 1 ||
        !resultType.getElementType().isInteger(64))
      return failure();
    Location loc = op.getLoc();
    auto pairwise = [&](Value v, StringRef intrinsic, int64_t lanes,
                        unsigned bits) {
      auto type = VectorType::get({lanes}, rewriter.getIntegerType(bits));
      return LLVM::CallIntrinsicOp::create(rewriter, loc, type,
                                           rewriter.getStringAttr(intrinsic),
                                           ValueRange{v})
          .getResult(0);
    };
    Value halves = pairwise(shapeCast.getSource(),
                            "llvm.aarch64.neon.uaddlp.v8i16.v16i8", 8, 16);
    Value words =
        pairwise(halves, "llvm.aarch64.neon.uaddlp.v4i32.v8i16", 4, 32);
    Value sums = pairwise(words, "llvm.aarch64.neon.uaddlp.v2i64.v4i32", 2, 64);
    rewriter.replaceOpWithNewOp<arith::AddIOp>(op, op.getAcc(), sums);
    return success();
  }
};

struct BitserialAArch64ByteCountsPass
    : public bitserial::impl::BitserialAArch64ByteCountsBase<
          BitserialAArch64ByteCountsPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    bitserial::populateAArch64ByteCountPatterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace

void mlir::bitserial::populateAArch64ByteCountPatterns(
    RewritePatternSet &patterns) {
  patterns.add<ByteSumToPairwiseAdds>(patterns.getContext());
}
