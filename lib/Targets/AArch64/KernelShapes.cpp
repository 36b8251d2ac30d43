//===- KernelShapes.cpp - Micro-kernel shapes of the AArch64 targets ------===//

#include "Bitserial/Targets/AArch64/AArch64.h"

using namespace mlir::bitserial;

// NEON has 32 128-bit registers. A 4 x 2 block keeps 8 byte accumulators,
// 8 plane-weighted sums, 4 activation broadcasts and 2 filter vectors in
// registers (plus 8 wide sums when a plane pair takes several chunks).
MicroKernelShape mlir::bitserial::getAArch64A53KernelShape() {
  MicroKernelShape shape;
  shape.vectorBits = 128;
  shape.pixelBlock = 4;
  shape.channelBlock = 2;
  shape.widening = ByteCountWidening::AArch64PairwiseAdd;
  // Widening takes 1-3 pairwise adds per vector: do it once per block where
  // 8- or 16-bit sums cannot overflow.
  shape.narrowAccumulators = true;
  // In order: a rolled step loop stalls on load -> and -> cnt -> add.
  shape.unrollSteps = true;
  // Broadcasts by `ldr q` at constant offsets: no address adds, which stall
  // in-order write-back after NEON ops.
  shape.duplicateActivations = true;
  // Constant plane-weight shifts, no plane loop carrying the sums.
  shape.unrollPlanePairs = true;
  // No per-pair shifted counts, no second set of sums across a pair.
  shape.hornerPlanePairs = true;
  // uadalp per step costs what the byte add does (llvm-mca's Cortex-A53 and
  // Cortex-A55 models; on Neoverse-N1 it takes one of two pipes, and the
  // step's and/cnt the other): no byte sums beside the 16-bit ones in
  // reductions of several chunks.
  shape.widenEachStep = true;
  // A returned update of an argument `init` writes the returned buffer
  // itself: no memcpy of the output after the kernel.
  shape.freshReturnedOutput = true;
  // Raspberry Pi 3B: 512 KiB of L2 shared by four cores.
  shape.cacheBytes = 512 << 10;
  return shape;
}

MicroKernelShape mlir::bitserial::getAArch64OutOfOrderKernelShape() {
  MicroKernelShape shape = getAArch64A53KernelShape();
  // Out of order, unrolled plane pairs gain nothing (C4 A2W1 5% slower).
  shape.unrollPlanePairs = false;
  // Neoverse-N1: 1 MiB of L2 per core.
  shape.cacheBytes = 1 << 20;
  return shape;
}
