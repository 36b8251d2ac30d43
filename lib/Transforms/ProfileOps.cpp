//===- ProfileOps.cpp - Bracket compute ops with profiling calls ----------===//

#include "Bitserial/IR/BitserialDialect.h"
#include "Bitserial/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Path.h"

namespace mlir::bitserial {
#define GEN_PASS_DEF_BITSERIALPROFILEOPS
#include "Bitserial/Transforms/Passes.h.inc"
} // namespace mlir::bitserial

using namespace mlir;

static constexpr StringLiteral kEnter = "bitserial_profile_enter";
static constexpr StringLiteral kExit = "bitserial_profile_exit";

static bool isComputeLeaf(Operation *op) {
  Dialect *dialect = op->getDialect();
  if (dialect &&
      isa<bitserial::BitserialDialect, linalg::LinalgDialect>(dialect))
    return true;
  return isa<tensor::PadOp, tensor::ConcatOp, CallOpInterface>(op);
}

/// Whether `op`, a direct child of a function's blocks, gets an entry.
static bool isComputeOp(Operation *op) {
  if (isComputeLeaf(op))
    return true;
  if (op->getNumRegions() == 0)
    return false;
  return op
      ->walk([](Operation *nested) {
        return isComputeLeaf(nested) ? WalkResult::interrupt()
                                     : WalkResult::advance();
      })
      .wasInterrupted();
}

/// "file.mlir:12" (the innermost file location), or "?".
static std::string formatLocation(Location loc) {
  std::string text = "?";
  loc->walk([&](Location nested) {
    if (auto file = dyn_cast<FileLineColLoc>(nested)) {
      text = (llvm::sys::path::filename(file.getFilename().getValue()) + ":" +
              Twine(file.getLine()))
                 .str();
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  return text;
}

static std::string formatName(Operation *op) {
  std::string name = op->getName().getStringRef().str();
  if (auto call = dyn_cast<CallOpInterface>(op))
    if (auto callee =
            dyn_cast_if_present<SymbolRefAttr>(call.getCallableForCallee()))
      name += " " + callee.getLeafReference().str();
  return name;
}

namespace {
struct BitserialProfileOpsPass
    : public bitserial::impl::BitserialProfileOpsBase<BitserialProfileOpsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *context = &getContext();
    OpBuilder builder(context);

    // Collect first: the calls inserted below are compute ops too.
    SmallVector<Operation *> ops;
    for (auto func : module.getOps<func::FuncOp>()) {
      if (!func.isPublic() || func.isExternal())
        continue;
      for (Block &block : func.getBody())
        for (Operation &op : block)
          if (!op.hasTrait<OpTrait::IsTerminator>() && isComputeOp(&op))
            ops.push_back(&op);
    }
    if (ops.empty())
      return;

    Type i64 = builder.getI64Type();
    auto declare = [&](StringRef name) {
      if (auto existing = module.lookupSymbol<func::FuncOp>(name)) {
        if (existing.getFunctionType() != builder.getFunctionType({i64}, {})) {
          existing.emitError() << "'" << name
                               << "' is reserved for the profiler: expected "
                                  "type (i64) -> ()";
          return false;
        }
        return true;
      }
      builder.setInsertionPointToStart(module.getBody());
      auto decl = func::FuncOp::create(builder, module.getLoc(), name,
                                       builder.getFunctionType({i64}, {}));
      decl.setPrivate();
      return true;
    };
    if (!declare(kEnter) || !declare(kExit))
      return signalPassFailure();

    SmallVector<Attribute> table;
    for (auto [id, op] : llvm::enumerate(ops)) {
      table.push_back(builder.getArrayAttr(
          {builder.getStringAttr(formatName(op)),
           builder.getStringAttr(formatLocation(op->getLoc()))}));
      Location loc = op->getLoc();
      builder.setInsertionPoint(op);
      Value idValue = arith::ConstantOp::create(
          builder, loc, builder.getI64IntegerAttr(static_cast<int64_t>(id)));
      func::CallOp::create(builder, loc, kEnter, TypeRange(), idValue);
      builder.setInsertionPointAfter(op);
      func::CallOp::create(builder, loc, kExit, TypeRange(), idValue);
    }
    module->setAttr("bitserial.profile_ops", builder.getArrayAttr(table));
  }
};
} // namespace
