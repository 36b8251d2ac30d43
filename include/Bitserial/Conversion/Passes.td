//===- Passes.td - Bitserial conversion passes -------------*- tablegen -*-===//

#ifndef BITSERIAL_CONVERSION_PASSES_TD
#define BITSERIAL_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertBitserialToLinalg : Pass<"convert-bitserial-to-linalg", "ModuleOp"> {
  let summary = "Lower bitserial ops to linalg, arith and math on plain tensors";
  let description = [{
    The reference lowering: every bitserial op becomes `linalg.generic` ops
    on tensors of words (packed encodings are dropped from all types,
    function signatures included), ready for one-shot bufferization.

    Matmul and conv2d sum plane-weighted `math.ctpop` counts over every pair
    of planes with the affine identity of their encodings
    (`(a_a b + c_a) (a_b b' + c_b)`: AND counts, per-row counts and the
    constant `K` term; see docs/design.md). Counts and plane weights are
    accumulated in `i64` and truncated to the result type once, so nothing
    wraps before the final value for any `K < 2^40`. Conv2d padding is
    exact for every encoding: the bipolar correction terms are only counted
    for taps inside the input.

    This lowering is the oracle of the differential tests; it favours
    obvious correctness over speed.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect",
    "::mlir::tensor::TensorDialect"
  ];
}

def ConvertBitserialToVector : Pass<"convert-bitserial-to-vector", "ModuleOp"> {
  let summary = "Lower bitserial matmul and conv2d to register-blocked vector micro-kernels";
  let description = [{
    The fast lowering: `bitserial.conv2d` (and `bitserial.matmul`, as a 1x1
    convolution) on 64-bit words become loops around a register-blocked
    micro-kernel on tensors: `pixel-block` output pixels x `channel-block`
    vectors of `vector-bits / 64` output channels. Each step broadcasts one
    activation word per pixel, loads one word per output channel of the
    filter (re-laid out as `[CO / lanes, KH, KW, planes, words, lanes]`),
    ANDs them and counts bits with `math.ctpop` on i8 lanes. Byte counts
    (at most 8 per step) stay in i8 for at most 31 steps, then widen to i64
    lanes with a portable `vector.multi_reduction` of the zero-extended bytes
    of each lane (`bitserial-x86-byte-counts` turns it into `psadbw` after
    bufferization); plane weights and
    encoding corrections are applied after widening. Bipolar corrections:
    a per-pixel count of activation bits (weights bipolar) and per-channel
    filter terms masked to taps inside the input (activations bipolar), so
    padding is exact.

    An op carrying `bitserial.register_block = array<i64: p, q>` (set by
    `bitserial-select-kernels`) uses that register block of p pixels x q
    channel vectors instead of the options' (fitted) one.

    Ops the kernel does not handle (non-i64 words, dynamic kernel sizes,
    planes or words, batched weights) keep the reference lowering, as does
    unpack. Dynamic sizes elsewhere (batch, image, output channels, as tiles
    make them) are handled.

    `bitserial.pack`, and the epilogues no kernel fuses, become row kernels
    over the innermost axis (static length): pack reads one word's values as
    a vector and turns each plane into a word with a `vector<W x i1>` to
    `iW` bitcast (a movemask); a threshold counts the thresholds a vector of
    accumulators reaches (table re-laid out once per call, at compile time
    when constant) and packs the codes the same way; requantize and
    dequantize apply their arithmetic to vectors of 16 channels.

    With `nibble-lookup`, activations and filter are stored split into
    nibbles and byte counts are `math.ctpop` marked `bitserial.low_nibbles`
    (every byte below 16), for `bitserial-x86-byte-counts` to turn into
    `pshufb` lookups; used when a plane pair reduces over at least 8 steps.

    With `fuse-epilogues` (the default), a matmul or conv2d whose result's
    only use is the accumulator of a `bitserial.threshold`, `requantize` or
    `dequantize` in the same block is lowered together with it: the kernel
    applies the epilogue to `init` + its accumulators in registers and
    writes the epilogue's result (packed codes, narrow integers or floats);
    the accumulators never reach memory. Per-channel parameters are read
    once per channel block; a threshold's table is re-laid out once per call
    (at compile time when constant), and its codes are packed from lane
    masks into 64-bit words (parallel parts own whole words). An epilogue
    after a `bitserial-tile` loop nest with disjoint tiles of all channels
    first moves into the innermost loop, on each tile.

    With `fresh-returned-output`, a conv2d whose `init` is an argument of
    the function and whose result is only returned writes a new tensor and
    only reads `init`: the kernel fills the buffer the function returns
    instead of updating the argument's, which bufferization would then copy
    into it.
  }];
  let options = [
    Option<"vectorBits", "vector-bits", "int64_t", /*default=*/"256",
           "SIMD register width in bits (128, 256 or 512)">,
    Option<"pixelBlock", "pixel-block", "int64_t", /*default=*/"4",
           "Output pixels per register block (pixel-block x channel-block <= 16)">,
    Option<"channelBlock", "channel-block", "int64_t", /*default=*/"2",
           "Vectors of output channels per register block">,
    Option<"wordPopcount", "word-popcount", "bool", /*default=*/"false",
           "Count bits per 64-bit lane and accumulate in i64 directly "
           "(for AVX-512 VPOPCNTDQ)">,
    Option<"nibbleLookup", "nibble-lookup", "bool", /*default=*/"false",
           "Store operands split into nibbles and mark the byte counts for "
           "a table lookup (x86 pshufb, see bitserial-x86-byte-counts)">,
    Option<"minNibbleSteps", "min-nibble-steps", "int64_t",
           /*default=*/"::mlir::bitserial::kDefaultMinNibbleSteps",
           "With nibble-lookup, split only where a plane pair reduces over "
           "at least this many steps (kernel taps x words)">,
    Option<"parallel", "parallel", "bool", /*default=*/"false",
           "Compute in parallel: scf.forall over batch, output rows and up "
           "to 4 parts of each row's channel blocks">,
    Option<"minParallelBinops", "min-parallel-binops", "int64_t",
           /*default=*/"::mlir::bitserial::kDefaultMinParallelBinops",
           "With parallel, kernels of fewer AND'ed bit pairs (outputs x "
           "reduction x plane pairs, static shapes), or of fewer than "
           "min-parallel-binops-per-output per output, stay on one thread "
           "(0: every kernel is split)">,
    Option<"minParallelBinopsPerOutput", "min-parallel-binops-per-output",
           "int64_t",
           /*default=*/"::mlir::bitserial::kDefaultMinParallelBinopsPerOutput",
           "With parallel, kernels of fewer AND'ed bit pairs per output "
           "stay on one thread">,
    Option<"fitRegisterBlock", "fit-register-block", "bool",
           /*default=*/"true",
           "Per op, trade pixels for channel vectors in the register block "
           "(same accumulator count) when that computes fewer padded "
           "outputs, e.g. 4x2 -> 7x1 for rows of 7 pixels">,
    Option<"unrollSteps", "unroll-steps", "bool", /*default=*/"false",
           "Emit the steps of each chunk of at most 31 steps as straight-line "
           "code where kernel extents are static (for in-order cores)">,
    Option<"narrowAccumulators", "narrow-accumulators", "bool",
           /*default=*/"false",
           "Sum plane pairs in 8- or 16-bit lanes where no partial sum can "
           "overflow them, widening once per output block">,
    Option<"duplicateActivations", "duplicate-activations", "bool",
           /*default=*/"false",
           "Store each activation word of the kernel's input once per 64-bit "
           "lane, so that a step loads its broadcast as a plain vector">,
    Option<"unrollPlanePairs", "unroll-plane-pairs", "bool",
           /*default=*/"false",
           "With unroll-steps, one copy of the step loops per plane pair for "
           "blocks of at most 2 plane pairs of at most 31 steps each">,
    Option<"straightLinePlanePairs", "straight-line-plane-pairs", "bool",
           /*default=*/"false",
           "Straight-line plane pairs (no plane loop) in blocks whose pairs "
           "take at most 16 steps together, also without unroll-steps">,
    Option<"fuseEpilogues", "fuse-epilogues", "bool", /*default=*/"true",
           "Apply a threshold, requantize or dequantize that is the only use "
           "of a matmul or conv2d inside its kernel">,
    Option<"hornerPlanePairs", "horner-plane-pairs", "bool",
           /*default=*/"false",
           "With unroll-steps, sum straight-line plane pairs in Horner "
           "order (falling weights, the sums so far shifted before each "
           "pair's counts are added into them) where no weight is negative">,
    Option<"widenEachStep", "widen-each-step", "bool", /*default=*/"false",
           "With narrow-accumulators, reductions of 16-bit sums over more "
           "than 31 steps add each step's widened byte counts into the sums "
           "(AArch64 uadalp) rather than widening byte sums per chunk">,
    Option<"freshReturnedOutput", "fresh-returned-output", "bool",
           /*default=*/"false",
           "When a conv2d's init is a function argument and its result is "
           "only returned, write the result into a new tensor and only read "
           "init (no copy of the updated argument into the returned buffer)">
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::LLVM::LLVMDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
    "::mlir::vector::VectorDialect"
  ];
}

def ConvertBitserialToArmNeon
    : Pass<"convert-bitserial-to-arm-neon", "ModuleOp"> {
  let summary = "Lower wide bitserial matmuls and convolutions to exact int8 "
                "dot products (AArch64 sdot/udot, i8mm smmla/ummla/usmmla)";
  let description = [{
    Bit-serial costs grow with the product of activation and weight bits;
    an int8 dot product does not. On cores with dot-product instructions
    this pass rewrites each `bitserial.matmul` and `bitserial.conv2d` it
    handles that is selected: by a `bitserial.int8` bool attribute (the
    user's choice), else by a `bitserial.kernel` annotation
    (`bitserial-select-kernels`, which the pipelines run first), else when
    its bit product is at least `min-bit-product` (by default 4 with
    `dot-product`, 2 with `i8mm`; see docs/design.md), into:

    - both operands decoded to i8 values `x` with
      `value = scale * x + offset`, straight from the words with vector
      code, 64 values of K per plane at a time: `x = value` for values that
      fit s8 (signed,
      bipolar up to 7 bits, unsigned up to 7 bits) or u8 (unsigned 8 bits);
      8-bit bipolar uses `(value + 255) / 2` (u8) or `(value - 1) / 2` (s8);
      an 8-bit unsigned operand multiplied by a signed one without i8mm uses
      `value - 128` (s8). The affine terms come back as per-row sums, so
      every pair of encodings is exact;
    - an i8 x i8 GEMM on tensors: blocks of 4 rows x 16 output channels of
      `arm_neon.intr.sdot` by lane (or calls of the
      `llvm.aarch64.neon.udot` intrinsic, declared as a private function):
      the weights re-laid out as blocks of 16 channels x 4 values of K
      (at compile time when constant), 4 values of K of a row broadcast
      from one lane against 4 channels per instruction, 16 values of K
      per step; or with `i8mm` 8 x 8 blocks of `arm_neon.intr.smmla`,
      `ummla` or `usmmla` over 8 values of K (operands laid out in pairs
      of rows). K, M and N are zero-padded to whole steps and blocks;
    - i32 results accumulate the whole K in i32 (wrapping, which is exact
      whenever the result fits); i64 results sum chunks of at most 16384
      values of K in i32 (at most 16384 * 255 * 255 < 2^31) and widen each
      chunk. The offsets' row sums and `init` are added last (without
      offsets, over whole blocks of channels, by the kernel itself).

    A conv2d runs directly over its taps: blocks of consecutive output
    pixels (across output rows) x output channels reduce over (kh, kw,
    channels) of the decoded
    input, zero-padded (x = 0). It needs static kernel extents, i64 results
    at most 16384 values of `KH * KW * C` (one i32 chunk), and with padding
    an input whose value 0 is `x = 0` (not 8-bit bipolar, nor 8-bit
    unsigned shifted to s8); other convolutions stay bit-serial.

    Other ops are left alone for the bit-serial lowerings that follow. The
    result keeps packed types on function arguments and `tensor.cast` ops;
    run it before `convert-bitserial-to-vector` or
    `convert-bitserial-to-linalg`, which drop them.
  }];
  let options = [
    Option<"dotProduct", "dot-product", "bool", /*default=*/"true",
           "The target has the dot-product extension (sdot, udot)">,
    Option<"i8mm", "i8mm", "bool", /*default=*/"false",
           "The target has the int8 matrix multiply extension (smmla, "
           "ummla, usmmla); used instead of sdot/udot">,
    Option<"minBitProduct", "min-bit-product", "int64_t", /*default=*/"0",
           "Smallest activation bits x weight bits lowered to int8 (0: 4 "
           "with dot products only, 2 with i8mm)">
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::arm_neon::ArmNeonDialect",
    "::mlir::func::FuncDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
    "::mlir::vector::VectorDialect"
  ];
}

def ConvertBitserialToX86Int8
    : Pass<"convert-bitserial-to-x86-int8", "ModuleOp"> {
  let summary = "Lower wide bitserial matmuls and convolutions to exact int8 "
                "dot products on x86 (AVX-512 VNNI, AVX-VNNI vpdpbusd; "
                "AVX2/AVX-512BW vpmaddwd)";
  let description = [{
    The x86 counterpart of `convert-bitserial-to-arm-neon`: each
    `bitserial.matmul` and `bitserial.conv2d` whose activation bits x
    weight bits is at least `min-bit-product` (by default the threshold
    measured for the instruction, see docs/design.md and
    docs/benchmarks.md) becomes:

    - both operands decoded to i8 codes `x` with `value = scale * x +
      offset` (the shared decoding of the AArch64 lowering). `vpdpbusd`
      multiplies u8 by s8: one operand goes as u8 (unsigned as is, signed
      `v + 2^(n-1)`, bipolar `(v + 2^n - 1) / 2`) and the other as s8
      (as is when it fits; 8-bit unsigned `v - 128`, 8-bit bipolar
      `(v - 1) / 2`), the offsets placed on the weights where possible.
      `vpmaddwd` multiplies i16 pairs, so the codes are zero- or
      sign-extended and every encoding but 8-bit bipolar needs no offset.
      Offsets come back exactly as `sa ob rowsum(xa) + oa sb rowsum(xb) +
      oa ob K` (for a convolution, the input's window sums and the
      filter's sums). `pmaddubsw` (saturating) is never used;
    - a register-blocked kernel: the weights re-laid out as
      `[N / lanes, K / g, lanes * g]` (g = 4 values of K per i32 lane for
      `vpdpbusd`, 2 for `vpmaddwd`, i16 codes), each step broadcasts g
      activation codes of a row (or pixel) and multiplies them with one
      vector of `lanes` output channels, so the i32 accumulators are the
      outputs (no horizontal sums). Register blocks of 24 zmm
      accumulators (6 rows x 4 vectors, 8 x 2) or 12 ymm (6 x 2; 20 and
      10 for `vpmaddwd`). Rows past M repeat the last one, channels past
      N are stored masked. The decoding works on vectors of 64 (zmm) or
      32 (ymm) bytes;
    - i32 accumulation, wrapping (exact modulo 2^32, which is the i32
      result); i64 results are taken only when `K` (rounded up to g, for a
      convolution `KH * KW * C`) is at most 32768: `32768 * 255 * 255 <
      2^31`, so no partial sum wraps, and the sums widen once. `init` is
      added in the kernel; the offsets' terms, when there are any, after.

    A conv2d runs directly over its taps (static kernel extents) on the
    decoded, zero-padded input; with padding, the input's value 0 must be
    `x = 0` (its offset zero).

    With `instruction=amx` (AMX-INT8, static shapes: conv2d, and matmuls
    of 16 rows or more without batches as 1 x 1 convolutions of one row of
    M pixels) the kernel multiplies tiles: `tdpbusd`, `tdpbssd`, `tdpbuud` or `tdpbsud`
    take either operand as u8 or s8, so every encoding but 8-bit bipolar
    keeps its values as codes (no offsets). A tile holds up to 16 output
    pixels of a row x 64 channels of the zero-padded input (rows `stride`
    pixels apart), the weights `[CO / 16, KH, KW, C / 4, 64]` give tiles
    of 16 output channels x 64 channels, and register blocks of 2 x 2
    accumulator tiles (1 x 3 for rows of at most 16 pixels) run the
    reduction over (kh, kw, 64 channels) unrolled, up to 128 steps. A row
    whose width is not a multiple of the tile's repeats pixels of the
    previous tile, so an init is added after the kernel. The accumulators
    go straight into the output where whole tiles fit it, else through a
    16 x 16 i32 buffer on the stack to the output vectors. The code needs the process to have asked
    Linux for the AMX state (`arch_prctl(ARCH_REQ_XCOMP_PERM,
    XFEATURE_XTILEDATA)`); `bitserial-run` and the Python package do. Other ops, and batched weights, are left
    alone for the bit-serial lowerings. A discardable `bitserial.int8`
    bool attribute on an op overrides the selection (true: int8 when the
    lowering handles it; false: never); else a `bitserial.kernel`
    annotation (`"int8"` or `"bitserial"`, set by `bitserial-select-kernels`
    from the cost model) decides; else the bit-product rule. Like the
    AArch64 pass,
    run it before `convert-bitserial-to-vector` or
    `convert-bitserial-to-linalg`, which drop the packed types it leaves.
  }];
  let options = [
    Option<"instruction", "instruction", "std::string",
           /*default=*/"\"avx512-vnni\"",
           "The dot product: avx512-vnni (vpdpbusd on zmm), avx-vnni "
           "(vpdpbusd on ymm), avx2 (vpmaddubsw or vpmaddwd on ymm), "
           "avx512bw (vpmaddubsw or vpmaddwd on zmm) or amx (AMX-INT8 tiles, "
           "convolutions and matmuls of 16 rows or more)">,
    Option<"minBitProduct", "min-bit-product", "int64_t", /*default=*/"0",
           "Smallest activation bits x weight bits lowered to int8 (0: the "
           "measured default of the instruction; 65: only ops marked "
           "bitserial.int8 = true)">,
    Option<"narrowProducts", "narrow-products", "bool", /*default=*/"true",
           "With avx2 and avx512bw: vpmaddubsw into i16 sums, widened by "
           "vpmaddwd every few steps, where the operands' ranges prove the "
           "sums exact; false: always vpmaddwd on i16 codes">,
    Option<"parallel", "parallel", "bool", /*default=*/"false",
           "Outer loops as scf.forall: output rows of a convolution, runs of "
           "row blocks of a matmul (the pipelines' parallel option lowers "
           "them to OpenMP)">,
    Option<"minParallelMacs", "min-parallel-macs", "int64_t",
           /*default=*/"::mlir::bitserial::kDefaultMinParallelMacs",
           "With parallel, ops of fewer multiply-accumulates (outputs x "
           "reduction, static shapes) stay on one thread">
  ];
  let dependentDialects = [
    "::mlir::amx::AMXDialect",
    "::mlir::arith::ArithDialect",
    "::mlir::bufferization::BufferizationDialect",
    "::mlir::func::FuncDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
    "::mlir::vector::VectorDialect"
  ];
}

def ConvertBitserialToX86Lookup
    : Pass<"convert-bitserial-to-x86-lookup", "ModuleOp"> {
  let summary = "Lower bitserial matmuls and convolutions of 1- or 2-bit "
                "activations to table lookups: vpshufb for 1-bit weights "
                "(AVX2), vpermb for 2-bit weights (AVX512-VBMI)";
  let description = [{
    Counts by table lookup instead of AND and popcount. With
    `instruction=pshufb` (the default), for each 4 values of K of an
    activation row (pixel), a 16-entry table holds the exact dot product of
    those 4 values with every combination of 4 weight bits; a weight vector
    of 32 output channels, each byte the 4 bits of one channel, indexes it
    with one `vpshufb`. One lookup is 4 multiply-accumulates per channel at
    any activation precision the table covers, with no AND: at 2 x 1 bits
    that is a third of the vector operations of the split-nibble bit-serial
    kernel per counted bit pair. Each `bitserial.matmul` and
    `bitserial.conv2d` of 1- or 2-bit unsigned or signed activations and
    1-bit weights (any encoding) becomes:

    - the activations' table offsets (an i16 per 4 values of K: 32 x the
      index of their table among the 16 or 256 tables of the encoding, a
      constant of 32-byte rows, both ymm lanes), computed from the packed
      planes' nibbles; padding and K past its end select the table of 0;
    - the weights as one byte per output channel and 4 values of K (their
      plane bits), in vectors of 32 channels: `[N / 32, K / 4, 32]` (a
      filter `[CO / 32, KH, KW, C / 4, 32]`), computed at compile time for
      constant weights;
    - a kernel of register blocks of 4 rows (pixels) x 2 vectors of 32
      channels: per step a table load per row, a weight load per vector and
      `vpshufb` + `vpaddusb` per pair into byte sums. The table entries
      carry a bias that makes them non-negative; the byte sums are widened
      into i16 (`vpand`, `vpsrlw`) before they can pass 255, and the bias of
      every lookup is subtracted at the end, so the result is exact. The
      sums of one output must fit 16 bits: ops whose lookups per output
      times the largest entry pass 65535 are left to the other lowerings.

    With `instruction=vpermb` (AVX512-VBMI) the weights have 2 bits (any
    encoding) and a table has 64 entries: the dot products of 3 activations
    with every combination of 3 weight codes, indexed by a byte of 3 codes
    per output channel; a zmm vector holds 64 channels. A lookup covers
    values g, G + g and 2G + g of K (G = ceil(K / 3)), so that the
    activations' offsets (64 x the table index, from their decoded values)
    and the weights' bytes take 3 contiguous reads per 64 groups. The same
    kernel, widening and bias follow, on zmm registers. On a Zen 5 it runs
    ResNet-18's 3x3 layers at 2 x 2 bits 1.2-1.4x faster than the
    `vpopcntq` bit-serial kernel (a lookup is 12 bit pairs per byte lane
    for a `vpermb` and a byte add); the 1x1 layers stay faster bit-serial.

    A `bitserial.kernel` annotation other than `"lookup"` and a
    `bitserial.int8` attribute leave an op alone; `bitserial-select-kernels`
    annotates ops with `"lookup"` where its cost model finds the lookups
    cheaper (`x86-avx2`: vpshufb; `x86-avx512-vpopcntdq` on CPUs with
    AVX512-VBMI: vpermb). Run it before `convert-bitserial-to-vector`.
  }];
  let options = [
    Option<"instruction", "instruction", "std::string",
           /*default=*/"\"pshufb\"",
           "The lookup: pshufb (AVX2, ymm: 1-bit weights, tables of 4 "
           "activations) or vpermb (AVX512-VBMI, zmm: 2-bit weights, 64-entry "
           "tables of 3 activations)">,
    Option<"parallel", "parallel", "bool", /*default=*/"false",
           "Outer loops as scf.forall: output rows of a convolution, runs of "
           "row blocks of a matmul">,
    Option<"minParallelMacs", "min-parallel-macs", "int64_t",
           /*default=*/"::mlir::bitserial::kDefaultMinParallelMacs",
           "With parallel, ops of fewer multiply-accumulates (outputs x "
           "reduction, static shapes) stay on one thread">
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::func::FuncDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::LLVM::LLVMDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
    "::mlir::vector::VectorDialect"
  ];
}

#endif // BITSERIAL_CONVERSION_PASSES_TD
