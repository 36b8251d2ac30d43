//===- KernelShapes.cpp - Micro-kernel shapes of the x86 targets ----------===//

#include "Bitserial/Targets/X86/X86.h"

using namespace mlir::bitserial;

// Caches: Zen 3 has 512 KiB of L2 per core, Zen 4 and 5 (the AVX-512 x86 we
// know) 1 MiB.

// On Zen 3 (an AVX2-only machine) nibble lookups pay for every reduction
// length: 1x1 ResNet-18 layers over one word per plane 5-18% faster (C3 at
// 2 x 2 bits 0.187 -> 0.163 ms, C5 0.096 -> 0.079), over 2 and 4 words
// 4-19% (C11 at 2 x 2 bits 0.081 -> 0.069 ms).
MicroKernelShape mlir::bitserial::getX86Avx2KernelShape() {
  MicroKernelShape shape;
  shape.vectorBits = 256;
  shape.widening = ByteCountWidening::X86Psadbw;
  shape.nibbleLookup = true;
  shape.minNibbleSteps = 1;
  shape.cacheBytes = 512 << 10;
  return shape;
}

// AVX-512BW without VPOPCNTDQ (Skylake-X, Cascade Lake): not measured here;
// nibble lookups only for reductions of 8 or more steps, as measured with
// AVX2 code on Zen 5.
MicroKernelShape mlir::bitserial::getX86Avx512KernelShape() {
  MicroKernelShape shape = getX86Avx2KernelShape();
  shape.vectorBits = 512;
  shape.minNibbleSteps = kDefaultMinNibbleSteps;
  shape.cacheBytes = 1 << 20;
  return shape;
}

// Straight-line plane pairs in 1x1 layers: C11 at 2 x 2 bits (4 pairs of 4
// words) 0.027 -> 0.014 ms on Zen 5, the rest of the 1x1 layers level.
MicroKernelShape mlir::bitserial::getX86Avx512VpopcntdqKernelShape() {
  MicroKernelShape shape;
  shape.vectorBits = 512;
  shape.channelBlock = 4;
  shape.wordPopcount = true;
  shape.straightLinePlanePairs = true;
  shape.cacheBytes = 1 << 20;
  return shape;
}
