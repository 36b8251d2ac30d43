//===- KernelShapes.cpp - Micro-kernel shapes of the x86 targets ----------===//

#include "Bitserial/Targets/X86/X86.h"

using namespace mlir::bitserial;

// Caches: Zen 3 has 512 KiB of L2 per core, Zen 4 and 5 (the AVX-512 x86 we
// know) 1 MiB.
MicroKernelShape mlir::bitserial::getX86Avx2KernelShape() {
  MicroKernelShape shape;
  shape.vectorBits = 256;
  shape.widening = ByteCountWidening::X86Psadbw;
  shape.nibbleLookup = true;
  shape.cacheBytes = 512 << 10;
  return shape;
}

MicroKernelShape mlir::bitserial::getX86Avx512KernelShape() {
  MicroKernelShape shape = getX86Avx2KernelShape();
  shape.vectorBits = 512;
  shape.cacheBytes = 1 << 20;
  return shape;
}

MicroKernelShape mlir::bitserial::getX86Avx512VpopcntdqKernelShape() {
  MicroKernelShape shape;
  shape.vectorBits = 512;
  shape.channelBlock = 4;
  shape.wordPopcount = true;
  shape.cacheBytes = 1 << 20;
  return shape;
}
