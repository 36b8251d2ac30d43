//===- MergeParallelRegions.cpp - One omp.parallel for consecutive loops --===//

#include "Bitserial/Transforms/Passes.h"

#include "mlir/Dialect/OpenMP/OpenMPDialect.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace mlir::bitserial {
#define GEN_PASS_DEF_BITSERIALMERGEPARALLELREGIONS
#include "Bitserial/Transforms/Passes.h.inc"
} // namespace mlir::bitserial

using namespace mlir;

namespace {

/// A region without clauses: the team, its size and its data sharing are
/// the defaults, so two of them run the same threads.
bool isPlainParallel(omp::ParallelOp op) {
  return op->getNumOperands() == 0 && !op.getProcBindKind() &&
         !op.getPrivateSyms() && !op.getReductionSyms() &&
         op.getRegion().hasOneBlock();
}

/// Whether `op` may move before a parallel region: it neither reads nor
/// writes memory (at most it allocates its result).
bool isHoistable(Operation *op) {
  if (isMemoryEffectFree(op))
    return true;
  auto effects = dyn_cast<MemoryEffectOpInterface>(op);
  if (!effects || op->getNumRegions() != 0)
    return false;
  SmallVector<MemoryEffects::EffectInstance> instances;
  effects.getEffects(instances);
  return llvm::all_of(instances, [](const MemoryEffects::EffectInstance &e) {
    return isa<MemoryEffects::Allocate>(e.getEffect());
  });
}

/// Whether the body ends in a worksharing loop with its implicit barrier.
bool endsWithBarrier(Block &body) {
  Operation *terminator = body.getTerminator();
  auto loop = dyn_cast_or_null<omp::WsloopOp>(terminator->getPrevNode());
  return loop && !loop.getNowait();
}

/// Drops the barrier of a worksharing loop that ends a parallel body: the
/// region's end joins the team anyway, and on two far-apart cores each
/// barrier costs a cross-core round trip. Loops with reductions are left
/// as they are.
void dropFinalBarrier(omp::ParallelOp parallel) {
  Block &body = parallel.getRegion().front();
  if (!endsWithBarrier(body))
    return;
  auto loop = cast<omp::WsloopOp>(body.getTerminator()->getPrevNode());
  if (loop.getReductionVars().empty() && !loop.getReductionSyms())
    loop.setNowait(true);
}

/// Merges `second` into `first` if the ops between them can move before
/// `first`; returns whether it did.
bool mergeInto(omp::ParallelOp first, omp::ParallelOp second) {
  SmallVector<Operation *> between;
  for (Operation *op = first->getNextNode(); op != second.getOperation();
       op = op->getNextNode()) {
    if (!isHoistable(op))
      return false;
    between.push_back(op);
  }
  for (Operation *op : between)
    op->moveBefore(first);
  Block &body = first.getRegion().front();
  Operation *terminator = body.getTerminator();
  if (!endsWithBarrier(body)) {
    OpBuilder b(terminator);
    omp::BarrierOp::create(b, second.getLoc());
  }
  Block &next = second.getRegion().front();
  body.getOperations().splice(terminator->getIterator(), next.getOperations(),
                              next.begin(), std::prev(next.end()));
  second.erase();
  return true;
}

struct BitserialMergeParallelRegionsPass
    : public bitserial::impl::BitserialMergeParallelRegionsBase<
          BitserialMergeParallelRegionsPass> {
  void runOnOperation() override {
    SmallVector<Block *> blocks;
    getOperation()->walk([&](omp::ParallelOp op) {
      if (isPlainParallel(op) && !llvm::is_contained(blocks, op->getBlock()))
        blocks.push_back(op->getBlock());
    });
    for (Block *block : blocks) {
      omp::ParallelOp open;
      for (Operation &op : llvm::make_early_inc_range(*block)) {
        auto parallel = dyn_cast<omp::ParallelOp>(op);
        if (!parallel)
          continue;
        if (!isPlainParallel(parallel)) {
          open = nullptr;
          continue;
        }
        if (!open || !mergeInto(open, parallel))
          open = parallel;
      }
    }
    getOperation()->walk([](omp::ParallelOp op) {
      if (isPlainParallel(op))
        dropFinalBarrier(op);
    });
  }
};

} // namespace
