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
    if (!bytesType || !groupedType || !resultType || bytesType.getRank() != 1 ||
        !bytesType.getElementType().isInteger(8) ||
        groupedType.getRank() != 2 || groupedType.getDimSize(1) != 8 ||
        !resultType.getElementType().isInteger(64))
      return failure();
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
                                      ValueRange{shapeCast.getSource(), zero})
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
