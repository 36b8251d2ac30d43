//===- ByteCounts.cpp - Byte-count widening with NEON pairwise adds -------===//

#include "Bitserial/Targets/AArch64/AArch64.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/Support/FormatVariadic.h"

namespace mlir::bitserial {
#define GEN_PASS_DEF_BITSERIALAARCH64BYTECOUNTS
#include "Bitserial/Targets/AArch64/Passes.h.inc"
} // namespace mlir::bitserial

using namespace mlir;

namespace {
/// multi_reduction<add>(ext(shape_cast(v : N x iW -> M x G x iW)) to iW*G,
/// acc) over dim 1, v a 128-bit vector and G a power of two -> acc +
/// log2(G) pairwise widening adds (uaddlp for extui, saddlp for extsi), each
/// doubling the lane width; the last one and the accumulation select as
/// uadalp / sadalp.
struct LaneSumToPairwiseAdds
    : public OpRewritePattern<vector::MultiDimReductionOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(vector::MultiDimReductionOp op,
                                PatternRewriter &rewriter) const override {
    std::optional<bitserial::LaneGroupSum> sum =
        bitserial::matchLaneGroupSum(op);
    if (!sum)
      return failure();
    bool isSigned = sum->isSigned;
    VectorType narrowType = sum->narrowType, resultType = sum->resultType;
    unsigned width = narrowType.getElementTypeBitWidth();
    int64_t group = sum->group;
    if (narrowType.getNumElements() * width != 128 || width < 8 ||
        !llvm::isPowerOf2_64(group) || group < 2 ||
        resultType.getElementTypeBitWidth() != width * group)
      return failure();
    Location loc = op.getLoc();
    Value sums = sum->narrow;
    unsigned resultWidth = resultType.getElementTypeBitWidth();
    for (int64_t lanes = narrowType.getNumElements(); width < resultWidth;
         lanes /= 2, width *= 2) {
      auto type =
          VectorType::get({lanes / 2}, rewriter.getIntegerType(width * 2));
      std::string intrinsic =
          llvm::formatv("llvm.aarch64.neon.{0}addlp.v{1}i{2}.v{3}i{4}",
                        isSigned ? "s" : "u", lanes / 2, width * 2, lanes,
                        width)
              .str();
      sums = LLVM::CallIntrinsicOp::create(rewriter, loc, type,
                                           rewriter.getStringAttr(intrinsic),
                                           ValueRange{sums})
                 .getResult(0);
    }
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
  patterns.add<LaneSumToPairwiseAdds>(patterns.getContext());
}
