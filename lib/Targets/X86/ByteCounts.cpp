//===- ByteCounts.cpp - Byte popcounts with pshufb and psadbw -------------===//

#include "Bitserial/IR/BitserialDialect.h"
#include "Bitserial/Targets/X86/X86.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::bitserial {
#define GEN_PASS_DEF_BITSERIALX86BYTECOUNTS
#include "Bitserial/Targets/X86/Passes.h.inc"
} // namespace mlir::bitserial

using namespace mlir;

namespace {
/// ctpop {bitserial.low_nibbles} (x : NxI8) -> pshufb(counts of 0..15, x).
struct LowNibbleCountToPshufb : public OpRewritePattern<math::CtPopOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(math::CtPopOp op,
                                PatternRewriter &rewriter) const override {
    bitserial::BitserialDialect::LowNibblesAttrHelper lowNibbles(
        op.getContext());
    auto type = dyn_cast<VectorType>(op.getType());
    if (!lowNibbles.isAttrPresent(op) || !type || type.getRank() != 1 ||
        type.isScalable() || !type.getElementType().isInteger(8))
      return failure();
    StringRef intrinsic;
    switch (type.getNumElements()) {
    case 16:
      intrinsic = "llvm.x86.ssse3.pshuf.b.128";
      break;
    case 32:
      intrinsic = "llvm.x86.avx2.pshuf.b";
      break;
    case 64:
      intrinsic = "llvm.x86.avx512.pshuf.b.512";
      break;
    default:
      return failure();
    }
    // pshufb looks up within each 128-bit lane: repeat the table.
    SmallVector<int8_t> table;
    for (int64_t e = 0; e < type.getNumElements(); ++e)
      table.push_back(llvm::popcount(static_cast<unsigned>(e % 16)));
    Value lookup = arith::ConstantOp::create(
        rewriter, op.getLoc(),
        DenseElementsAttr::get(type, ArrayRef<int8_t>(table)));
    rewriter.replaceOpWithNewOp<LLVM::CallIntrinsicOp>(
        op, type, rewriter.getStringAttr(intrinsic),
        ValueRange{lookup, op.getOperand()});
    return success();
  }
};

/// multi_reduction<add>(extui(shape_cast(bytes : NxI8 -> (N/8)x8xi8)), acc)
/// over dim 1 -> psadbw(bytes, 0) + acc.
struct ByteSumToPsadbw : public OpRewritePattern<vector::MultiDimReductionOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(vector::MultiDimReductionOp op,
                                PatternRewriter &rewriter) const override {
    std::optional<bitserial::LaneGroupSum> sum =
        bitserial::matchLaneGroupSum(op);
    if (!sum || sum->isSigned || sum->group != 8 ||
        !sum->narrowType.getElementType().isInteger(8) ||
        !sum->resultType.getElementType().isInteger(64))
      return failure();
    VectorType bytesType = sum->narrowType;
    VectorType resultType = sum->resultType;
    StringRef intrinsic;
    switch (bytesType.getNumElements()) {
    case 16:
      intrinsic = "llvm.x86.sse2.psad.bw";
      break;
    case 32:
      intrinsic = "llvm.x86.avx2.psad.bw";
      break;
    case 64:
      intrinsic = "llvm.x86.avx512.psad.bw.512";
      break;
    default:
      return failure();
    }
    Location loc = op.getLoc();
    Value zero = arith::ConstantOp::create(rewriter, loc,
                                           rewriter.getZeroAttr(bytesType));
    Value sums =
        LLVM::CallIntrinsicOp::create(rewriter, loc, resultType,
                                      rewriter.getStringAttr(intrinsic),
                                      ValueRange{sum->narrow, zero})
            .getResult(0);
    rewriter.replaceOpWithNewOp<arith::AddIOp>(op, sums, op.getAcc());
    return success();
  }
};

struct BitserialX86ByteCountsPass
    : public bitserial::impl::BitserialX86ByteCountsBase<
          BitserialX86ByteCountsPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    bitserial::populateX86ByteCountPatterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace

void mlir::bitserial::populateX86ByteCountPatterns(
    RewritePatternSet &patterns) {
  patterns.add<LowNibbleCountToPshufb, ByteSumToPsadbw>(patterns.getContext());
}
