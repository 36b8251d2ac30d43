//===- KernelLoops.h - Loops and tasks of the x86 kernels -------*- C++ -*-===//
//
// The loop structure the register-blocked x86 kernels on tensors share (the
// int8 dot products and the table lookups): the store target, clamped
// indices, loop nests, and a matmul's or convolution's rows as a serial loop
// or as scf.forall tasks that each store their own slice.
//
//===----------------------------------------------------------------------===//

#ifndef BITSERIAL_CONVERSION_BITSERIALTOINT8_KERNELLOOPS_H
#define BITSERIAL_CONVERSION_BITSERIALTOINT8_KERNELLOOPS_H

#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Builders.h"

namespace mlir::bitserial::int8 {

/// What a kernel stores into: `init`, or a fresh tensor when `init` is
/// filled with zeros (the usual case), which the kernel then neither reads
/// nor needs filled: every element gets stored. The bool says whether the
/// kernel reads the target.
std::pair<Value, bool> getStoreTarget(OpBuilder &b, Location loc, Value init);

/// min(base + offset, extent - 1): rows and blocks past the end repeat the
/// last one.
Value minIndex(OpBuilder &b, Location loc, Value base, int64_t offset,
               Value extent);

/// A loop nest from `lowerBounds` (zeros if empty) to `ubs` by `steps` with
/// `iterArgs`; `body` is built at `b`'s insertion point.
scf::LoopNest
buildLoops(OpBuilder &b, Location loc, ArrayRef<Value> ubs,
           ArrayRef<int64_t> steps, ValueRange iterArgs,
           function_ref<scf::ValueVector(ValueRange, ValueRange)> body,
           ArrayRef<Value> lowerBounds = {});

/// A loop nest from 0 to `ubs` by `steps` that writes the tensor `dest`;
/// `body(ivs, at, into)` writes iteration `ivs`' values into `into` at `at`
/// on the first `split` dimensions (the nest's first dimensions are
/// `dest`'s: `ivs[d] + offsets[d]`) and returns it. With `split` > 0 those
/// loops are an scf.forall whose iterations each write their own slice of
/// `dest` (size 1 on those dimensions), where `at` is 0: a prologue split
/// across threads by rows. `split` 0 is a serial nest.
Value buildSlicedNest(OpBuilder &b, Location loc, Value dest,
                      ArrayRef<Value> ubs, ArrayRef<Value> steps, int64_t split,
                      ArrayRef<int64_t> offsets,
                      function_ref<Value(ValueRange, ValueRange, Value)> body);

/// Whether the matmul or conv2d `op` has at least `minMacs` static
/// multiply-accumulates (outputs x the packed length, x KH x KW for a
/// convolution), or dynamic sizes.
bool hasParallelWork(Operation *op, int64_t minMacs);

/// Builds the rows of a matmul whose result `target` has `sizes` (`[B,] M,
/// N`): `buildRows(into, batch, outBatch, rowOffset, rowCount)` stores rows
/// `[rowOffset, rowOffset + rowCount)` of batch `batch` (null unbatched) at
/// rows `[0, rowCount)` of batch `outBatch` of `into`. Serial: one call per
/// batch over all rows. `parallel`: scf.forall tasks of whole blocks of
/// `rowBlock` rows, at most 64 per batch, each storing its own slice.
Value buildMatmulRows(
    OpBuilder &b, Location loc, Value target, ArrayRef<OpFoldResult> sizes,
    bool batched, int64_t rowBlock, bool parallel,
    function_ref<Value(Value, Value, Value, Value, Value)> buildRows);

/// Builds the output rows of a conv2d whose result `target` has `sizes`
/// (`[N, OH, OW, CO]`): `buildRow(into, n, oh, outN, outOh)` stores output
/// row `(n, oh)` at row `(outN, outOh)` of `into`. `parallel`: one
/// scf.forall task per row, storing into its own slice.
Value buildConvRows(
    OpBuilder &b, Location loc, Value target, ArrayRef<OpFoldResult> sizes,
    bool parallel,
    function_ref<Value(Value, Value, Value, Value, Value)> buildRow);

/// How buildConvRowParts splits a row's channels: `blocks` blocks of
/// `lanes` channels, in runs of whole units of `unitBlocks` blocks (a
/// register block's), into `parts` parts.
struct ChannelParts {
  Value blocks;
  int64_t lanes = 1;
  int64_t unitBlocks = 1;
  int64_t parts = 1;
};

/// A task of buildConvRowParts: channel blocks [blockBegin, blockEnd) of
/// output row (n, oh), stored at row (outN, outOh) of `into`, whose channel
/// 0 is the output's channel `channelOffset`.
struct ConvRowPart {
  Value into, n, oh, outN, outOh;
  Value blockBegin, blockEnd, channelOffset;
};

/// Like buildConvRows, with `parallel` one scf.forall task per row and
/// part of `split` (each storing its part's channels into its own slice),
/// so that layers of few output rows still keep every thread busy. Serial:
/// one task per row, over all blocks.
Value buildConvRowParts(OpBuilder &b, Location loc, Value target,
                        ArrayRef<OpFoldResult> sizes, bool parallel,
                        const ChannelParts &split,
                        function_ref<Value(const ConvRowPart &)> buildRow);

} // namespace mlir::bitserial::int8

#endif // BITSERIAL_CONVERSION_BITSERIALTOINT8_KERNELLOOPS_H
