//===- EmitCInterface.cpp - Request C-interface wrappers ------------------===//

#include "Bitserial/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/BuiltinOps.h"

namespace mlir::bitserial {
#define GEN_PASS_DEF_BITSERIALEMITCINTERFACE
#include "Bitserial/Transforms/Passes.h.inc"
} // namespace mlir::bitserial

using namespace mlir;

namespace {
struct BitserialEmitCInterfacePass
    : public bitserial::impl::BitserialEmitCInterfaceBase<
          BitserialEmitCInterfacePass> {
  void runOnOperation() override {
    UnitAttr unit = UnitAttr::get(&getContext());
    for (auto func : getOperation().getOps<func::FuncOp>())
      if (func.isPublic() && !func.isExternal())
        func->setAttr(LLVM::LLVMDialect::getEmitCWrapperAttrName(), unit);
  }
};
} // namespace
