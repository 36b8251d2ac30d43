//===- AttachLoopAnnotations.cpp - scf.for loop metadata into LLVM IR -----===//

#include "Bitserial/Transforms/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"

namespace mlir::bitserial {
#define GEN_PASS_DEF_BITSERIALATTACHLOOPANNOTATIONS
#include "Bitserial/Transforms/Passes.h.inc"
} // namespace mlir::bitserial

using namespace mlir;

namespace {
/// The discardable attribute scf-to-cf and cf-to-llvm leave on the back edge.
constexpr llvm::StringLiteral kLoopAnnotation = "llvm.loop_annotation";

template <typename BranchOp> void attach(BranchOp branch) {
  auto annotation =
      branch->template getAttrOfType<LLVM::LoopAnnotationAttr>(kLoopAnnotation);
  if (!annotation)
    return;
  if (!branch.getLoopAnnotationAttr())
    branch.setLoopAnnotationAttr(annotation);
  branch->removeAttr(kLoopAnnotation);
}

struct BitserialAttachLoopAnnotationsPass
    : public bitserial::impl::BitserialAttachLoopAnnotationsBase<
          BitserialAttachLoopAnnotationsPass> {
  void runOnOperation() override {
    getOperation()->walk([](Operation *op) {
      if (auto branch = dyn_cast<LLVM::BrOp>(op))
        attach(branch);
      else if (auto branch = dyn_cast<LLVM::CondBrOp>(op))
        attach(branch);
    });
  }
};
} // namespace
