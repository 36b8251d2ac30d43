//===- Passes.td - Bitserial transformation passes ---------*- tablegen -*-===//

#ifndef BITSERIAL_TRANSFORMS_PASSES_TD
#define BITSERIAL_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def BitserialEmitCInterface : Pass<"bitserial-emit-c-interface", "ModuleOp"> {
  let summary = "Mark public functions for C-interface wrappers";
  let description = [{
    Adds `llvm.emit_c_interface` to every public `func.func` with a body, so
    that `convert-func-to-llvm` emits `_mlir_ciface_<name>` wrappers that take
    `StridedMemRefType` descriptors (what `bitserial-run` and other hosts of
    `mlir::ExecutionEngine` call).
  }];
}

// The values of the kernel target and int8 instruction options.
defvar costTargetValues = [{::llvm::cl::values(
  clEnumValN(::mlir::bitserial::CostTarget::X86Avx2, "x86-avx2",
             "AVX2, nibble lookups"),
  clEnumValN(::mlir::bitserial::CostTarget::X86Avx512,
             "x86-avx512", "AVX-512BW, nibble lookups"),
  clEnumValN(::mlir::bitserial::CostTarget::X86Avx512Vpopcntdq,
             "x86-avx512-vpopcntdq", "AVX-512 VPOPCNTDQ"),
  clEnumValN(::mlir::bitserial::CostTarget::AArch64A53,
             "aarch64-a53", "in-order AArch64 (Cortex-A53/A55)"),
  clEnumValN(::mlir::bitserial::CostTarget::AArch64OutOfOrder,
             "aarch64-ooo", "out-of-order AArch64 (Neoverse-N1)"),
  clEnumValN(::mlir::bitserial::CostTarget::Generic, "generic",
             "portable 128-bit code"))}];
defvar int8UnitValues = [{::llvm::cl::values(
  clEnumValN(::mlir::bitserial::Int8Unit::None, "none",
             "no int8 kernel"),
  clEnumValN(::mlir::bitserial::Int8Unit::X86Avx512Vnni,
             "avx512-vnni", "vpdpbusd on zmm"),
  clEnumValN(::mlir::bitserial::Int8Unit::X86AvxVnni, "avx-vnni",
             "vpdpbusd on ymm"),
  clEnumValN(::mlir::bitserial::Int8Unit::X86Avx2, "avx2",
             "vpmaddwd on ymm"),
  clEnumValN(::mlir::bitserial::Int8Unit::X86Avx512Bw, "avx512bw",
             "vpmaddwd on zmm"),
  clEnumValN(::mlir::bitserial::Int8Unit::X86Amx, "amx",
             "AMX-INT8 tiles for static convolutions and matmuls of 16 "
             "rows or more, vpdpbusd on zmm for the rest"),
  clEnumValN(::mlir::bitserial::Int8Unit::AArch64DotProduct,
             "dot-product", "AArch64 sdot/udot"),
  clEnumValN(::mlir::bitserial::Int8Unit::AArch64I8mm, "i8mm",
             "AArch64 smmla/ummla/usmmla"))}];

def BitserialTile : Pass<"bitserial-tile"> {
  let summary = "Tile bitserial matmul and conv2d, with their epilogues, for the caches";
  let description = [{
    Tiles every `bitserial.matmul` and `bitserial.conv2d` through
    `TilingInterface` (`scf::tileUsingSCF`, `scf.for` loops); each tile is
    again a bitserial op on slices of the packed operands, so the vector
    lowering then runs on tiles.

    A `threshold`, `requantize` or `dequantize` that is the only user of the
    op is tiled with it (`fuse-epilogues`, on by default): the epilogue is
    tiled and the op fused into each tile
    (`scf::tileConsumerAndFuseProducersUsingSCF`), so each tile computes its
    accumulators and their epilogue together. A threshold's channels are
    packed and stay whole; the op's channel tiles become a loop inside.

    Padded conv2d axes are tiled too. A padded axis with a static extent is
    first split into border parts (the output rows or columns whose windows
    read padding, kept whole along that axis, with constant padding) and the
    interior, which has no padding and is tiled; every tile's conv2d has
    constant padding. With dynamic extents, each tile tests its padding at
    run time (an unpadded conv2d inside, a conv2d per kernel row at the
    borders).

    Tile sizes, per iteration dimension of the matmul or conv2d (0 leaves a
    dimension whole), come from, in order: a `bitserial.tile_sizes` array
    attribute on the op, the op's entry in the `tuning-cache` (for `target`,
    `cpu` and `int8`, as `bitserial-select-kernels` looks it up) if the
    entry has `tile_sizes`, the `matmul-tile-sizes` / `conv-tile-sizes`
    options, or the default heuristic. With `tuned-only`, ops without tuned
    tile sizes stay whole (also with a `bitserial.tile_sizes`). An op tiled by its entry passes its key to its
    tiles (`bitserial.tuning_key`), so that `bitserial-select-kernels` gives
    every tile the entry's kernel and register block. Tiles inherit the
    op's other discardable attributes (`bitserial.int8`,
    `bitserial.register_block`). The heuristic keeps one tile's packed
    operands and i32 outputs within about half of `cache-bytes`:
    - matmul (`[batch,] M, N`): all of M up to 64 rows, N in multiples of 64
      columns such that the rhs tile (N x K bits x planes) fits;
    - conv2d (`N, OH, OW, CO`): one image, output channels in multiples of
      64 such that the filter tile fits, and output rows (padded or not)
      such that the input window and output tile fit, lowered to a divisor
      of the rows tiled (the interior of a padded height) if one is at least
      half of them, so that no tile has a dynamic size.

    The pipelines (`bitserial-vectorize`, `bitserial-to-llvm` with
    `tile=true`) set `cache-bytes` from the target: 512 KiB for `x86-avx2`
    (Zen 3's L2) and `generic`, 1 MiB for the AVX-512 targets (Zen 4/5).
    With a `tuning-cache` but without `tile=true` they run it with
    `tuned-only`.
  }];
  let options = [
    ListOption<"matmulTileSizes", "matmul-tile-sizes", "int64_t",
               "Tile sizes of matmul ([batch,] M, N)">,
    ListOption<"convTileSizes", "conv-tile-sizes", "int64_t",
               "Tile sizes of conv2d (N, OH, OW, CO)">,
    Option<"cacheBytes", "cache-bytes", "int64_t", /*default=*/"1048576",
           "Cache size the default tile sizes are chosen for">,
    Option<"fuseEpilogues", "fuse-epilogues", "bool", /*default=*/"true",
           "Tile an epilogue (threshold, requantize, dequantize) that is the "
           "only user of a matmul or conv2d together with it">,
    Option<"tuningCache", "tuning-cache", "std::string", /*default=*/"",
           "JSON tuning cache (benchmarks/tune.py): a matching entry's "
           "measured tile sizes replace the options and the heuristic">,
    Option<"target", "target", "::mlir::bitserial::CostTarget",
           /*default=*/"::mlir::bitserial::CostTarget::Generic",
           "Kernel target that tuning cache entries must name",
           costTargetValues>,
    Option<"int8", "int8", "::mlir::bitserial::Int8Unit",
           /*default=*/"::mlir::bitserial::Int8Unit::None",
           "int8 instruction that tuning cache entries must name",
           int8UnitValues>,
    Option<"cpu", "cpu", "std::string", /*default=*/"",
           "LLVM CPU name that tuning cache entries must name (default: the "
           "host CPU)">,
    Option<"tunedOnly", "tuned-only", "bool", /*default=*/"false",
           "Tile only the ops with tuned tile sizes (the others stay whole, "
           "as without tiling)">
  ];
  let dependentDialects = [
    "::mlir::affine::AffineDialect",
    "::mlir::arith::ArithDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect"
  ];
}

def BitserialSelectKernels : Pass<"bitserial-select-kernels"> {
  let summary = "Choose the kernel (bit-serial or int8) and register block "
                "of each matmul and conv2d from a cost model";
  let description = [{
    Estimates the cycles of every `bitserial.matmul` and `bitserial.conv2d`
    under each kernel `target` offers (docs/design.md, "Cost model"): the
    bit-serial vector kernel, `planes A x planes B x reduction x computed
    outputs / AND+count throughput` plus a per-output epilogue, and, with an
    `int8` instruction, the int8 dot-product kernel, `padded reduction x
    rows x channels / MACs per cycle` plus the per-output epilogue and the
    decoding of both operands (the weights on every call). It annotates the
    op with the cheaper one:

    - `bitserial.kernel = "int8"` or `"bitserial"`, which
      `convert-bitserial-to-x86-int8` and `convert-bitserial-to-arm-neon`
      follow (int8 only for ops the lowering handles);
    - for the bit-serial kernel, `bitserial.register_block = array<i64: p,
      q>`: p output pixels x q channel vectors (the block the vector kernel
      fits to the op), which `convert-bitserial-to-vector` uses;
    - with `lookup`, `bitserial.kernel = "lookup"` for an op
      `convert-bitserial-to-x86-lookup` handles when its estimate, `lookups
      / lookups per cycle` plus per-output and per-input costs, is the
      lowest of the three: on `x86-avx2` vpshufb lookups (1- or 2-bit
      unsigned or signed activations, 1-bit weights; 32 channels x 4 values
      of K each), on `x86-avx512-vpopcntdq` vpermb lookups (2-bit weights;
      64 channels x 3 values of K each), which need AVX512-VBMI: the
      pipelines set `lookup` there only when the CPU has it.

    An op carrying `bitserial.int8` (the user's choice) is left as it is,
    and so is one carrying a `bitserial.register_block` but no
    `bitserial.kernel` (the user's register block: the bit-serial kernel
    with that block, which every lowering follows). An op that already
    carries `bitserial.kernel` (the user's, or this pass's from an earlier
    run) keeps that kernel, and a bit-serial one its register block if it
    has one; an `"int8"` or `"lookup"` the pipeline cannot lower becomes
    `"bitserial"`, and the remark says why.
    With `min-bit-product` > 0 the choice is the old rule instead: int8
    when the activation bits x weight bits reach it. With `emit-remarks`,
    each op gets a remark with the choice and both estimates:

    ```
    remark: kernel int8 (avx512-vnni): 2695337 cycles; bit-serial 3096781
    ```

    With `tuning-cache=PATH`, an op whose key (kind, static sizes, strides,
    padding, bits, encodings, fused epilogue; for a tile of a tuned op, the
    op's key in `bitserial.tuning_key`) has an entry for `target`, `cpu` and
    `int8` in that JSON file (written by benchmarks/tune.py, format in
    docs/design.md, "Tuning") gets the entry's measured kernel and register
    block instead; its remark says `tuned`. Precedence:
    `bitserial.int8` > the user's `bitserial.register_block` > tuning
    cache > `min-bit-product` > cost model. A
    missing or malformed file, or another format version, is an error.
    `emit-tuning-keys` emits each op's key and default choice as a JSON
    remark (`remark: tuning {...}`).

    The pipelines run it after tiling, before the int8 lowerings, with the
    kernel target and int8 instruction they lower for.
  }];
  let options = [
    Option<"target", "target", "::mlir::bitserial::CostTarget",
           /*default=*/"::mlir::bitserial::CostTarget::Generic",
           "Kernel target whose costs apply",
           costTargetValues>,
    Option<"int8", "int8", "::mlir::bitserial::Int8Unit",
           /*default=*/"::mlir::bitserial::Int8Unit::None",
           "The int8 dot product of the target, if any",
           int8UnitValues>,
    Option<"minBitProduct", "min-bit-product", "int64_t", /*default=*/"0",
           "If positive, choose int8 by this bit-product threshold instead "
           "of the cost model">,
    Option<"lookup", "lookup", "bool", /*default=*/"false",
           "The table-lookup kernel (convert-bitserial-to-x86-lookup) is a "
           "candidate, on targets whose model has it (x86-avx2: vpshufb; "
           "x86-avx512-vpopcntdq: vpermb, for CPUs with AVX512-VBMI)">,
    Option<"emitRemarks", "emit-remarks", "bool", /*default=*/"false",
           "Emit a remark per op with the choice and the estimates">,
    Option<"tuningCache", "tuning-cache", "std::string", /*default=*/"",
           "JSON tuning cache (benchmarks/tune.py): a matching entry's "
           "measured winner replaces the cost model's choice">,
    Option<"cpu", "cpu", "std::string", /*default=*/"",
           "LLVM CPU name that tuning cache entries must name (default: the "
           "host CPU)">,
    Option<"emitTuningKeys", "emit-tuning-keys", "bool", /*default=*/"false",
           "Emit a remark per tunable op with its tuning cache key and "
           "default choice as JSON (read by benchmarks/tune.py)">
  ];
}

def BitserialElementwiseToLinalg : Pass<"bitserial-elementwise-to-linalg"> {
  let summary = "Elementwise ops on tensors to fused linalg.generic";
  let description = [{
    Rewrites elementwise-mappable ops on ranked tensors (`arith.addi` of two
    tensors for a residual add, `arith.maxsi` as a ReLU, `math` ops) to
    `linalg.generic`, which bufferizes, as upstream's
    `convert-elementwise-to-linalg` does, except for ops on tensors with an
    encoding (packed bitserial tensors, which the bitserial lowering
    handles) and `arith.select` with a scalar condition (which bufferizes
    as it is, without a copy).

    Then fuses a `linalg.generic` producer into a consumer `linalg.generic`
    when the producer has a single use and the consumer is elementwise (all
    loops parallel, the fused operand read through a permutation): a bias
    add, a ReLU and a requantization become one loop nest and one buffer.
    Unlike upstream's `linalg-fuse-elementwise-ops`, it never fuses into a
    reduction (which would recompute the producer for every element the
    reduction combines, e.g. an average pool's division once per output
    column of the following matmul) and does not propagate reshapes (which
    turns named ops such as `linalg.batch_matmul` into `linalg.generic`).
  }];
  let dependentDialects = [
    "::mlir::linalg::LinalgDialect",
    "::mlir::tensor::TensorDialect"
  ];
}

def BitserialProfileOps : Pass<"bitserial-profile-ops", "ModuleOp"> {
  let summary = "Bracket the compute ops of public functions with timer calls";
  let description = [{
    Instruments every public `func.func` with a body for a per-op time
    profile: each compute op in the function's own blocks (not nested in
    another op) is preceded by `call @bitserial_profile_enter(%id)` and
    followed by `call @bitserial_profile_exit(%id)`, with `%id` an `i64`
    constant numbering the ops of the module from 0. Compute ops are
    bitserial and linalg ops, `tensor.pad` and `tensor.concat`, calls, and
    ops with regions (loops, conditionals) that contain any of these.

    The two functions are declared (private, `(i64) -> ()`) for the host
    to define; `bitserial-run --profile` does. The module gets a
    `bitserial.profile_ops` attribute: an array with, for each id, the
    op's name and its source location (`file:line`), for the host's table.

    Run it before bitserial ops are lowered (the `profile` option of
    `bitserial-to-llvm` does, after the front end), so that each bitserial
    op is one entry even after tiling, and outside any parallel region.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::func::FuncDialect"
  ];
}

def BitserialVectorizeLinalg : Pass<"bitserial-vectorize-linalg"> {
  let summary = "Tile and vectorize named linalg matmuls, convolutions and pools";
  let description = [{
    Gives the named linalg ops a model brings along next to bitserial ops
    (from TOSA or written as linalg) vector code instead of scalar loops:
    `linalg.matmul`, `linalg.batch_matmul`, `linalg.conv_2d_nhwc_hwcf` and
    the `linalg.pooling_nhwc_{max,min,sum}` ops with static shapes and
    integer or float elements are tiled (`scf::tileUsingSCF`) into tiles of
    static shape, register-sized: matmul 4 x 16 x 16 (M, N, K), convolution
    one output row of up to 8 pixels x 16 output channels x 8 input
    channels per step, pooling up to 8 pixels x 32 channels, each extent
    the largest divisor of the op's extent up to that size, so no tile
    needs masks. Convolution and pooling tiles with one window row are
    rewritten to their 1-D forms (`populateDecomposeConvolutionPatterns`);
    then every such op and tile is vectorized (`linalg::vectorize`) and
    the contractions become outer products (FMA chains).

    Other linalg ops (generic, fill) keep the loop lowering, bitserial ops
    their own.
  }];
  let dependentDialects = [
    "::mlir::affine::AffineDialect",
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
    "::mlir::vector::VectorDialect"
  ];
}

def BitserialMergeParallelRegions : Pass<"bitserial-merge-parallel-regions"> {
  let summary = "Merge consecutive omp.parallel regions into one";
  let description = [{
    `convert-scf-to-openmp` gives every parallel loop its own
    `omp.parallel`, so each loop forks the thread team and joins it again.
    This pass merges an `omp.parallel` into the one before it in the same
    block: the team forks once, and each thread goes from the first loop on
    to the second after a barrier. With the same static schedule in both
    loops, a thread then mostly reads what it wrote itself (a kernel's
    input rows it copied), from its own cache rather than from the other
    core's, and waking the team is paid once.

    Two regions merge when neither has clauses (operands, `proc_bind`,
    private or reduction symbols) and every op between them is free of
    memory effects or only allocates (constants, index arithmetic,
    `memref.alloc`); those ops move before the first region. The bodies
    are separated by a barrier: the implicit one of an `omp.wsloop`
    without `nowait` that ends the first body, else an `omp.barrier`.

    A clause-free region whose body then ends in an `omp.wsloop` without
    reductions gets `nowait` on that loop: the region's end joins the team
    anyway, and each barrier costs a round trip between the cores.

    `bitserial-to-llvm` runs it after `convert-scf-to-openmp` when
    `parallel` is set.
  }];
  let dependentDialects = ["::mlir::omp::OpenMPDialect"];
}

def BitserialAttachLoopAnnotations : Pass<"bitserial-attach-loop-annotations"> {
  let summary = "Give llvm.br and llvm.cond_br the loop annotations scf.for carried";
  let description = [{
    A `scf.for` with an `llvm.loop_annotation` attribute (LLVM loop
    metadata: unrolling, vectorization) keeps it through `convert-scf-to-cf`
    as an attribute of its back edge's `cf.br`, and `convert-cf-to-llvm`
    copies it onto the `llvm.br` as a discardable attribute, which the
    translation to LLVM IR ignores. This pass moves it into the branch's
    `loop_annotation` (`!llvm.loop` in LLVM IR). `bitserial-to-llvm` runs
    it last; the table lookup kernels mark their lookup loops so.
  }];
}

#endif // BITSERIAL_TRANSFORMS_PASSES_TD
