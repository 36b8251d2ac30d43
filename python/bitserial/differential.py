"""Differential testing: bitserial-run against the NumPy reference.

Generates a seeded, randomized matrix of pack / unpack / matmul / conv2d cases
(bit widths 1..8 on each side, every encoding pair, K not a multiple of the
word size, every word type, batch, strides, asymmetric padding, dilation,
dynamic dimensions, zero extents),
writes each as an MLIR module, runs it with ``bitserial-run`` on .npy inputs
and compares the result with plain integer arithmetic on the decoded values.

    python3 -m bitserial.differential --runner build/bin/bitserial-run --cases 300

Prints one line per failure (with a kept reproducer directory) and a closing
``differential: N passed, N failed`` line; exits non-zero on any failure.
With ``--epilogues``, every case is a matmul or conv2d followed by a
``bitserial.threshold`` or ``requantize`` (the pairs the vector lowering
fuses).

With ``--aot-qemu``, each case is instead compiled ahead of time for AArch64
with ``bitserial-compile``, linked with a C harness written for its shapes
and dtypes (inputs and the result through raw binary files), run under
``qemu-aarch64`` and compared with the reference lowering run on the host by
``bitserial-run`` (and with NumPy):

    python3 -m bitserial.differential --aot-qemu --compiler build/bin/bitserial-compile \\
        --runner build/bin/bitserial-run --cases 24 --cover
"""

import argparse
import concurrent.futures
import os
import re
import shutil
import subprocess
import sys
import tempfile

import numpy as np

from . import reference as ref

ACCUMULATORS = {"i32": np.int32, "i64": np.int64}


def _word_bits(rng, word64_share):
    """64-bit words with probability word64_share, else any word size."""
    if rng.random() < word64_share:
        return 64
    return int(rng.choice(ref.WORD_BITS))


def _logical_type(rng, bits, encoding):
    """The narrowest (sometimes a wider) integer type holding the encoding."""
    need = bits + 1 if encoding == "bipolar" else bits
    widths = [w for w in (8, 16, 32) if w >= need]
    width = widths[0] if rng.random() < 0.7 else int(rng.choice(widths))
    return width


def _np_logical(width, bits, encoding):
    # Unsigned 8-bit values in i8 are bit patterns: pass them as uint8.
    if encoding == "unsigned" and bits == width:
        return np.dtype(f"uint{width}")
    return np.dtype(f"int{width}")


def _tensor(shape, elem, encoding="", dynamic=()):
    """A tensor type; the dimensions listed in `dynamic` are written `?`."""
    dims = "x".join("?" if i in dynamic else str(d) for i, d in enumerate(shape))
    return f"tensor<{dims}x{elem}{', ' + encoding if encoding else ''}>"


def _packed(shape, bits, encoding, word_bits, dynamic=()):
    length = shape[-1]
    packed_shape = list(shape[:-1]) + [bits, ref.num_words(length, word_bits)]
    enc = f"#bitserial.packed<bits = {bits}, encoding = {encoding}, length = {length}>"
    return _tensor(packed_shape, f"i{word_bits}", enc, dynamic)


def _dynamic(rng, candidates):
    """Dimensions to declare `?`: none in most cases, else a random subset."""
    if rng.random() >= 0.2:
        return set()
    return {d for d in candidates if rng.random() < 0.6}


def _maybe_empty(rng, extents):
    """Sets one of `extents` (a dict name -> size) to zero in a few cases."""
    if rng.random() < 0.06:
        extents[str(rng.choice(sorted(extents)))] = 0
    return extents


class Operand:
    """A random decoded operand: bits, encoding, logical dtype, values."""

    def __init__(self, rng, shape, bits=None, encoding=None):
        self.bits = bits or int(rng.integers(1, ref.MAX_BITS + 1))
        self.encoding = encoding or str(rng.choice(ref.ENCODINGS))
        self.width = _logical_type(rng, self.bits, self.encoding)
        self.dtype = _np_logical(self.width, self.bits, self.encoding)
        self.values = ref.random_values(rng, shape, self.bits, self.encoding)
        self.shape = tuple(shape)

    def array(self):
        return self.values.astype(self.dtype)

    def elem(self):
        return f"i{self.width}"


def _init(rng, shape, acc):
    return rng.integers(-50, 51, size=shape).astype(ACCUMULATORS[acc])


def _covered(index):
    """Bits and encodings of both operands for case `index` of a covering
    run: consecutive cases walk every encoding pair and, on each side, bits
    1..8."""
    pair = index % (len(ref.ENCODINGS) ** 2)
    return (1 + index % ref.MAX_BITS, ref.ENCODINGS[pair // len(ref.ENCODINGS)],
            1 + (3 * index + 5) % ref.MAX_BITS, ref.ENCODINGS[pair % len(ref.ENCODINGS)])


def make_matmul(rng, word64_share, cover=None, operands=None):
    # One in five with the 16 rows or more of an AMX tile, half of those
    # without batches (the AMX kernel takes them).
    tall = rng.random() < 0.2
    m = int(rng.integers(16, 48) if tall else rng.integers(1, 10))
    n = int(rng.integers(1, 10))
    k = int(rng.choice([int(rng.integers(1, 200)), 64, 128, 65, 63, 1,
                        int(rng.integers(500, 1100))]))
    if cover:
        k |= 1
    batch = int(rng.integers(1, 4))
    mode = ("none" if tall and rng.random() < 0.5
            else str(rng.choice(["none", "both", "lhs", "rhs"])))
    sizes = _maybe_empty(rng, {"m": m, "n": n} |
                         ({"batch": batch} if mode != "none" else {}))
    m, n, batch = sizes["m"], sizes["n"], sizes.get("batch", batch)
    lhs_batch, rhs_batch = mode in ("both", "lhs"), mode in ("both", "rhs")
    lhs_shape = ([batch] if lhs_batch else []) + [m, k]
    rhs_shape = ([batch] if rhs_batch else []) + [n, k]
    out_shape = ([batch] if mode != "none" else []) + [m, n]
    dyn = _dynamic(rng, ["batch", "m", "n"])
    lhs_dyn = {i for i, d in enumerate((["batch"] if lhs_batch else []) + ["m"]) if d in dyn}
    rhs_dyn = {i for i, d in enumerate((["batch"] if rhs_batch else []) + ["n"]) if d in dyn}
    out_dyn = {i for i, d in enumerate((["batch"] if mode != "none" else []) + ["m", "n"])
               if d in dyn}
    word_bits = _word_bits(rng, word64_share)
    acc = str(rng.choice(list(ACCUMULATORS)))
    bits_a, enc_a, bits_b, enc_b = cover or operands or (None,) * 4
    a = Operand(rng, lhs_shape, bits_a, enc_a)
    b = Operand(rng, rhs_shape, bits_b, enc_b)
    init = _init(rng, out_shape, acc)
    ta = _packed(lhs_shape, a.bits, a.encoding, word_bits, lhs_dyn)
    tb = _packed(rhs_shape, b.bits, b.encoding, word_bits, rhs_dyn)
    tout = _tensor(out_shape, acc, dynamic=out_dyn)
    tiles = [int(rng.integers(0, d + 1)) for d in out_shape]
    tlhs = _tensor(lhs_shape, a.elem(), dynamic=lhs_dyn)
    trhs = _tensor(rhs_shape, b.elem(), dynamic=rhs_dyn)
    mlir = f"""func.func @main(%a: {tlhs}, %b: {trhs}, %init: {tout}) -> {tout} {{
  %pa = bitserial.pack %a : {tlhs} -> {ta}
  %pb = bitserial.pack %b : {trhs} -> {tb}
  %r = bitserial.matmul ins(%pa, %pb : {ta}, {tb}) outs(%init : {tout}) {{bitserial.tile_sizes = array<i64: {", ".join(map(str, tiles))}>}} -> {tout}
  return %r : {tout}
}}
"""
    expected = ref.matmul(a.values, b.values, init=init.astype(np.int64))
    name = (f"matmul a{a.bits}{a.encoding[0]} b{b.bits}{b.encoding[0]} "
            f"{mode} B{batch} M{m} N{n} K{k} w{word_bits} {acc} tiles{tiles}"
            f"{' dynamic ' + ','.join(sorted(dyn)) if dyn else ''}")
    return name, mlir, [a.array(), b.array(), init], expected.astype(init.dtype)


def make_conv2d(rng, word64_share, cover=None, operands=None):
    while True:
        n = int(rng.integers(1, 4))
        h, w = int(rng.integers(1, 10)), int(rng.integers(1, 10))
        if rng.random() < 0.3:  # wide rows: interior and border columns
            w = int(rng.integers(10, 25))
        c = int(rng.choice([int(rng.integers(1, 80)), 3, 64, 65]))
        if cover:
            c |= 1
        co = int(rng.integers(1, 10))
        kh, kw = int(rng.integers(1, 4)), int(rng.integers(1, 4))
        strides = [int(rng.integers(1, 4)) for _ in range(2)]
        dilations = [int(rng.integers(1, 3)) for _ in range(2)]
        padding = [int(rng.integers(0, 3)) for _ in range(4)]
        sizes = _maybe_empty(rng, {"n": n, "h": h, "w": w, "co": co})
        n, h, w, co = sizes["n"], sizes["h"], sizes["w"], sizes["co"]
        try:
            out_shape = ref.conv2d_output_shape((n, h, w, c), (co, kh, kw, c),
                                                strides, padding, dilations)
            break
        except ValueError:
            continue
    word_bits = _word_bits(rng, word64_share)
    acc = str(rng.choice(list(ACCUMULATORS)))
    bits_x, enc_x, bits_f, enc_f = cover or operands or (None,) * 4
    x = Operand(rng, (n, h, w, c), bits_x, enc_x)
    f = Operand(rng, (co, kh, kw, c), bits_f, enc_f)
    init = _init(rng, out_shape, acc)
    dyn = _dynamic(rng, ["n", "h", "w", "co"])
    x_dyn = {i for i, d in enumerate(["n", "h", "w"]) if d in dyn}
    f_dyn = {0} if "co" in dyn else set()
    out_dyn = {i for i, d in enumerate(["n", "h", "w", "co"]) if d in dyn}
    tx = _packed(x.shape, x.bits, x.encoding, word_bits, x_dyn)
    tf = _packed(f.shape, f.bits, f.encoding, word_bits, f_dyn)
    tout = _tensor(out_shape, acc, dynamic=out_dyn)
    tlx = _tensor(x.shape, x.elem(), dynamic=x_dyn)
    tlf = _tensor(f.shape, f.elem(), dynamic=f_dyn)
    fmt = lambda v: "[" + ", ".join(str(i) for i in v) + "]"
    # Tile sizes for bitserial-tile (used with +tile lowerings): any size on
    # every axis, padded ones included.
    tiles = [int(rng.integers(0, d + 1)) for d in out_shape]
    mlir = f"""func.func @main(%x: {tlx}, %f: {tlf}, %init: {tout}) -> {tout} {{
  %px = bitserial.pack %x : {tlx} -> {tx}
  %pf = bitserial.pack %f : {tlf} -> {tf}
  %r = bitserial.conv2d ins(%px, %pf : {tx}, {tf}) outs(%init : {tout})
      strides = {fmt(strides)} padding = {fmt(padding)} dilations = {fmt(dilations)}
      {{bitserial.tile_sizes = array<i64: {", ".join(map(str, tiles))}>}} -> {tout}
  return %r : {tout}
}}
"""
    expected = ref.conv2d(x.values, f.values, strides, padding, dilations,
                          init=init.astype(np.int64))
    name = (f"conv2d x{x.bits}{x.encoding[0]} f{f.bits}{f.encoding[0]} "
            f"N{n} H{h} W{w} C{c} CO{co} K{kh}x{kw} s{strides} p{padding} "
            f"d{dilations} w{word_bits} {acc} tiles{tiles}"
            f"{' dynamic ' + ','.join(sorted(dyn)) if dyn else ''}")
    return name, mlir, [x.array(), f.array(), init], expected.astype(init.dtype)


def make_pack(rng, word64_share):
    shape = [_maybe_empty(rng, {"rows": int(rng.integers(1, 5))})["rows"],
             int(rng.integers(1, 150))]
    word_bits = _word_bits(rng, word64_share)
    x = Operand(rng, shape)
    dyn = {0} if _dynamic(rng, ["rows"]) else set()
    tp = _packed(shape, x.bits, x.encoding, word_bits, dyn)
    tx = _tensor(shape, x.elem(), dynamic=dyn)
    mlir = f"""func.func @main(%x: {tx}) -> {tp} {{
  %p = bitserial.pack %x : {tx} -> {tp}
  return %p : {tp}
}}
"""
    expected = ref.pack(x.values, x.bits, x.encoding, word_bits)
    return (f"pack {x.bits}{x.encoding[0]} {shape} w{word_bits} {x.elem()}"
            f"{' dynamic' if dyn else ''}",
            mlir, [x.array()], expected)


def make_unpack(rng, word64_share):
    shape = [_maybe_empty(rng, {"rows": int(rng.integers(1, 5))})["rows"],
             int(rng.integers(1, 150))]
    word_bits = _word_bits(rng, word64_share)
    x = Operand(rng, shape)
    dyn = {0} if _dynamic(rng, ["rows"]) else set()
    tp = _packed(shape, x.bits, x.encoding, word_bits, dyn)
    tx = _tensor(shape, x.elem(), dynamic=dyn)
    words = ref.pack(x.values, x.bits, x.encoding, word_bits)
    mlir = f"""func.func @main(%p: {tp}) -> {tx} {{
  %x = bitserial.unpack %p : {tp} -> {tx}
  return %x : {tx}
}}
"""
    expected = x.values.astype(np.dtype(f"int{x.width}"))
    return (f"unpack {x.bits}{x.encoding[0]} {shape} w{word_bits} {x.elem()}"
            f"{' dynamic' if dyn else ''}",
            mlir, [words], expected)


GENERATORS = [(make_matmul, 0.4), (make_conv2d, 0.4), (make_pack, 0.1),
              (make_unpack, 0.1)]


def add_epilogue(rng, case):
    """A matmul or conv2d case followed by a random bitserial.threshold (1-8
    bits, any encoding, descending channels sometimes) or, for i32
    accumulators, a bitserial.requantize to i8: the pair the vector lowering
    fuses. A threshold needs a static channel count; cases where neither
    fits are left as they are."""
    name, mlir, inputs, expected = case
    tout = re.search(r"return %r : (.*)\n", mlir).group(1)
    dims = tout[len("tensor<"):].split("x")[:-1]
    acc = tout.rsplit("x", 1)[1].rstrip(">")
    channels = None if dims[-1] == "?" else int(dims[-1])
    kinds = (["threshold"] if channels else []) + \
        (["requantize"] if acc == "i32" else [])
    if not kinds:
        return case
    kind = str(rng.choice(kinds))
    c = expected.shape[-1]
    flat = expected.reshape(-1, c) if expected.size else np.zeros((1, c), expected.dtype)
    if kind == "threshold":
        bits = int(rng.choice([1, 1, 2, 2, 3, 4, 5, 8]))
        encoding = str(rng.choice(ref.ENCODINGS))
        count = (1 << bits) - 1
        spread = int(np.abs(flat).max()) + 2
        t = rng.integers(-spread, spread, (c, count))
        if c and flat.shape[0]:  # ties with actual values
            t[:, 0] = flat[rng.integers(0, flat.shape[0], c), np.arange(c)]
        t = t.astype(expected.dtype)
        flip = rng.integers(0, 2, c).astype(np.bool_) if rng.random() < 0.5 else None
        words = ref.num_words(c)
        tres = (f"tensor<{'x'.join(dims[:-1] + [str(bits), str(words)])}xi64, "
                f"#bitserial.packed<bits = {bits}, encoding = {encoding}, length = {c}>>")
        tt = f"tensor<{c}x{count}x{acc}>"
        args = f", %t: {tt}" + (f", %flip: tensor<{c}xi1>" if flip is not None else "")
        descending = f" descending(%flip : tensor<{c}xi1>)" if flip is not None else ""
        op = f"  %y = bitserial.threshold %r, %t{descending} : {tout}, {tt} -> {tres}\n"
        values = ref.threshold(expected, t, bits, encoding, flip)
        result = ref.pack(values, bits, encoding)
        extra = [t] + ([flip] if flip is not None else [])
        label = f" -> threshold {bits}{encoding[0]}{' desc' if flip is not None else ''}"
    else:
        channels_text = dims[-1]
        m = rng.integers(1 << 30, (1 << 31) - 1, c, dtype=np.int64).astype(np.int32)
        shift = rng.integers(-12, 3, c).astype(np.int8)
        zero_point = int(rng.integers(-128, 128))
        tres = f"tensor<{'x'.join(dims)}xi8>"
        tm, ts = f"tensor<{channels_text}xi32>", f"tensor<{channels_text}xi8>"
        args = f", %m: {tm}, %s: {ts}"
        op = (f"  %y = bitserial.requantize %r, %m, %s zero_point = {zero_point} "
              f"clamp = [-128, 127] : {tout}, {tm}, {ts} -> {tres}\n")
        result = ref.requantize(expected, m, shift, zero_point, -128, 127).astype(np.int8)
        extra = [m, shift]
        label = " -> requantize i8"
    header_end = mlir.index(f") -> {tout} {{")
    mlir = (mlir[:header_end] + args + f") -> {tres} {{" +
            mlir[header_end + len(f") -> {tout} {{"):])
    mlir = mlir.replace(f"  return %r : {tout}\n", op + f"  return %y : {tres}\n")
    return name + label, mlir, list(inputs) + extra, result


def make_case(seed, index, word64_share=0.25, cover=False, epilogues=False,
              operands=None):
    """Case `index` of `seed`. The vector kernels take 64-bit words (others
    fall back to the reference lowering), so their cases raise word64_share.
    With `cover`, cases alternate between matmul and conv2d with odd K and
    walk every encoding pair and bit width (_covered). With `operands`
    (bits and encoding of each side), cases alternate between matmul and
    conv2d of those operands. With `epilogues`, matmul and conv2d cases end
    in an epilogue (add_epilogue)."""
    rng = np.random.default_rng([seed, index])
    if cover:
        generator = make_matmul if index % 2 == 0 else make_conv2d
        case = generator(rng, word64_share, _covered(index))
    elif operands:
        generator = make_matmul if index % 2 == 0 else make_conv2d
        case = generator(rng, word64_share, operands=operands)
    elif epilogues:
        generator = make_matmul if rng.random() < 0.5 else make_conv2d
        case = generator(rng, word64_share)
    else:
        generators, weights = zip(*GENERATORS)
        generator = generators[rng.choice(len(generators), p=weights)]
        return generator(rng, word64_share)
    return add_epilogue(rng, case) if epilogues else case


def _compare(got, expected):
    """None if `got` equals `expected` (dtype, shape, values), else why not."""
    if got.dtype != expected.dtype or got.shape != expected.shape:
        return (f"got {got.dtype}{got.shape}, expected "
                f"{expected.dtype}{expected.shape}")
    if not np.array_equal(got, expected):
        bad = np.argwhere(got != expected)
        first = tuple(bad[0])
        return (f"{len(bad)} of {got.size} elements differ; at "
                f"{first}: got {got[first]}, expected {expected[first]}")
    return None


def _keep(work, keep_root, index, expected):
    """Copies the case's directory to `keep_root`; the note for the report."""
    kept = os.path.join(keep_root, f"case{index}")
    shutil.rmtree(kept, ignore_errors=True)
    shutil.copytree(work, kept)
    np.save(os.path.join(kept, "expected.npy"), expected)
    return f" (reproducer: {kept})"


def packs_as_arguments(mlir):
    """`mlir` (one public @main that packs some of its arguments first) with
    everything after the packs moved into a private callee taking the packed
    values as arguments: lowerings then decode the planes of block
    arguments instead of reading a pack's input."""
    lines = mlir.rstrip("\n").split("\n")
    header = re.match(r"func\.func @main\((.*)\) -> (.*) \{$", lines[0])
    packs = [re.match(r"\s*(%\w+) = bitserial\.pack (%\w+) : .* -> (.*)$", line)
             for line in lines[1:]]
    count = next(i for i, m in enumerate(packs) if m is None)
    if not header or count == 0:
        return mlir
    args = [a.split(": ", 1) for a in re.split(r", (?=%)", header.group(1))]
    packed = {m.group(2) for m in packs[:count]}
    params = [(m.group(1), m.group(3)) for m in packs[:count]] + [
        (name, t) for name, t in args if name not in packed]
    result = header.group(2)
    body = lines[1 + count:-1]
    call = (f"  %call = func.call @kernel({', '.join(n for n, _ in params)}) : "
            f"({', '.join(t for _, t in params)}) -> {result}")
    return "\n".join(
        [f"func.func private @kernel({', '.join(f'{n}: {t}' for n, t in params)})"
         f" -> {result} {{"] + body + ["}", lines[0]] + lines[1:1 + count] +
        [call, f"  return %call : {result}", "}", ""])


def weights_as_constants(mlir, inputs):
    """`mlir` with its second argument (the weights a bitserial.pack packs:
    a matmul's rhs, a conv2d's filter) turned into an arith.constant of the
    values in `inputs[1]`, and `inputs` without it: lowerings then see
    weights known at compile time (folded packs, relayouts and tables)."""
    header = re.match(r"(func\.func @main\()(.*)(\) -> .* \{)$", mlir.split("\n", 1)[0])
    if not header or len(inputs) < 3:
        return mlir, inputs
    args = re.split(r", (?=%)", header.group(2))
    name, type_ = args[1].split(": ", 1)
    if not re.search(rf"= bitserial\.pack {name} :", mlir):
        return mlir, inputs
    values = np.ascontiguousarray(inputs[1])
    if values.size == 0:
        # Upstream (MLIR 22) canonicalization folds a tile's subview of an
        # empty constant into one its verifier rejects ("offset 0 is
        # out-of-bounds: 0 >= 0"): empty weights stay arguments.
        return mlir, inputs
    static = _tensor(values.shape, type_.rsplit("x", 1)[1].rstrip(">"))
    literal = f'dense<"0x{values.astype(values.dtype.newbyteorder("<")).tobytes().hex().upper()}">'
    lines = [f"  {name}_c = arith.constant {literal} : {static}"]
    lines.append(f"  {name} = tensor.cast {name}_c : {static} to {type_}")
    first, rest = mlir.split("\n", 1)
    first = header.group(1) + ", ".join(args[:1] + args[2:]) + header.group(3)
    return "\n".join([first] + lines) + "\n" + rest, inputs[:1] + inputs[2:]


def run_case(runner, seed, index, keep_root, lowering, cover=False,
             epilogues=False, operands=None):
    name, mlir, inputs, expected = make_case(
        seed, index, 0.8 if lowering.startswith("vector") else 0.25, cover,
        epilogues, operands)
    name += f" via {lowering}"
    if "const" in lowering.split("+"):
        mlir, inputs = weights_as_constants(mlir, inputs)
    if "planes" in lowering.split("+"):
        mlir = packs_as_arguments(mlir)
    work = tempfile.mkdtemp(prefix=f"case{index}-")
    try:
        path = os.path.join(work, "case.mlir")
        with open(path, "w") as f:
            f.write(mlir)
        spec, *flags = lowering.split("+")
        strategy, _, target = spec.partition(":")
        kernel_options = [o for o in ("unroll-steps", "narrow-accumulators",
                                      "straight-line-plane-pairs")
                          if o.split("-")[0] in flags]
        if kernel_options:
            # Kernel options no target of this machine uses: lower the
            # bitserial ops with bitserial-opt first, run the rest.
            opt = os.path.join(os.path.dirname(runner), "bitserial-opt")
            options = " ".join(["vector-bits=128"] +
                               [f"{o}=true" for o in kernel_options] +
                               (["parallel=true", "min-parallel-binops=0"]
                                if "par" in flags else []))
            lowered = subprocess.run(
                [opt, path, f"--convert-bitserial-to-vector={options}"],
                capture_output=True, text=True, timeout=300)
            if lowered.returncode != 0:
                return index, name, ("bitserial-opt exited "
                                     f"{lowered.returncode}: "
                                     f"{lowered.stderr.strip()[:500]}")
            path = os.path.join(work, "lowered.mlir")
            with open(path, "w") as f:
                f.write(lowered.stdout)
        int8 = [X86_INT8[f] for f in flags if f in X86_INT8]
        lookup = [f for f in flags if f in ("lookup", "vpermb")]
        if int8 or lookup:
            # Every matmul and conv2d the x86 int8 lowering handles goes to
            # int8 (min-bit-product=1), with +lookup (+vpermb) every one the
            # lookup lowering handles to vpshufb (vpermb) table lookups;
            # tiled first with +tile.
            opt = os.path.join(os.path.dirname(runner), "bitserial-opt")
            parallel = " parallel=true" if "par" in flags else ""
            passes = ["--bitserial-tile"] if "tile" in flags else []
            if int8:
                passes.append("--convert-bitserial-to-x86-int8="
                              f"{int8[0]} min-bit-product=1{parallel}")
            if lookup:
                instruction = "vpermb" if "vpermb" in lookup else "pshufb"
                passes.append("--convert-bitserial-to-x86-lookup="
                              f"instruction={instruction} "
                              f"min-parallel-macs=0{parallel}")
            lowered = subprocess.run([opt, path] + passes, capture_output=True,
                                     text=True, timeout=300)
            if lowered.returncode != 0:
                return index, name, ("bitserial-opt exited "
                                     f"{lowered.returncode}: "
                                     f"{lowered.stderr.strip()[:500]}")
            path = os.path.join(work, "lowered.mlir")
            with open(path, "w") as f:
                f.write(lowered.stdout)
        args = [runner, path, "--entry", "main", "--strategy", strategy]
        if target:
            args += ["--target", target]
        if "v3" in flags:
            args += ["--cpu", "x86-64-v3"]
        if "tile" in flags:
            args += ["--tile"]
        if "par" in flags:
            # Every kernel split, however small: the cases test the
            # parallel code, not the thresholds.
            args += ["--num-threads", "2", "--min-parallel-binops", "0"]
        for i, array in enumerate(inputs):
            np.save(os.path.join(work, f"in{i}.npy"), array)
            args += ["--input", os.path.join(work, f"in{i}.npy")]
        out = os.path.join(work, "out.npy")
        args += ["--output", out]
        proc = subprocess.run(args, capture_output=True, text=True, timeout=300)
        if proc.returncode != 0:
            problem = f"runner exited {proc.returncode}: {proc.stderr.strip()[:500]}"
        else:
            problem = _compare(np.load(out), expected)
        if problem and keep_root:
            problem += _keep(work, keep_root, index, expected)
        return index, name, problem
    finally:
        shutil.rmtree(work, ignore_errors=True)


# The +FLAG of a lowering that sends matmul and conv2d to the x86 int8
# lowering first, and its options: the instruction, and for +pmaddwd
# vpmaddwd only (+maddubsw: vpmaddubsw into i16 sums where the operands'
# ranges allow it, else vpmaddwd).
X86_INT8 = {"vnni": "instruction=avx512-vnni",
            "avxvnni": "instruction=avx-vnni",
            "pmaddwd": "instruction=avx2 narrow-products=false",
            "maddubsw": "instruction=avx2",
            "bw": "instruction=avx512bw",
            "amx": "instruction=amx"}


# ---------------------------------------------------------------------------
# Ahead-of-time compilation for AArch64, run under qemu
# ---------------------------------------------------------------------------

# AArch64 kernel targets (the triple is aarch64-linux-gnu throughout).
AOT_LOWERINGS = ["vector:aarch64-a53", "vector:aarch64-ooo", "reference",
                 "vector:aarch64-a53+tile", "vector:generic",
                 "vector:aarch64-ooo+tile"]
# The qemu CPU of each kernel target: qemu's Cortex-A53 model (which rejects
# newer instructions) unless the code is for a newer core.
QEMU_CPUS = {"aarch64-ooo": "max"}


def write_harness(path, inputs, expected):
    """A C program that calls _mlir_ciface_main on in<i>.bin (the raw C-order
    data of `inputs`) and writes the result's sizes (int64) and data to
    out.bin. It checks that the result is row-major and contiguous, as the
    header's ABI says, and frees everything."""
    def descriptor(array):
        return f"bitserial_memref_i{array.dtype.itemsize * 8}_{array.ndim}d"

    lines = ['#include "case.h"', "#include <stdio.h>", "#include <stdlib.h>", "",
             "static void *load(const char *path, size_t bytes) {",
             "  void *data = malloc(bytes ? bytes : 1);",
             '  FILE *f = fopen(path, "rb");',
             "  if (!data || !f || fread(data, 1, bytes, f) != bytes) {",
             '    fprintf(stderr, "harness: cannot read %s\\n", path);',
             "    exit(2);",
             "  }",
             "  fclose(f);",
             "  return data;",
             "}", "",
             "int main(void) {"]
    args = []
    for i, array in enumerate(inputs):
        lines += [f"  {descriptor(array)} a{i};",
                  f'  a{i}.allocated = a{i}.aligned = load("in{i}.bin", {array.nbytes});',
                  f"  a{i}.offset = 0;"]
        stride = 1
        for d in reversed(range(array.ndim)):
            lines += [f"  a{i}.sizes[{d}] = {array.shape[d]};",
                      f"  a{i}.strides[{d}] = {stride};"]
            stride *= array.shape[d]
        args.append(f"&a{i}")
    rank = expected.ndim
    lines += [f"  {descriptor(expected)} r;",
              f"  _mlir_ciface_main(&r{''.join(', ' + a for a in args)});",
              "  long long n = 1;",
              f"  for (int d = {rank - 1}; d >= 0; --d) {{",
              "    if (r.sizes[d] != 1 && r.strides[d] != n) {",
              '      fprintf(stderr, "harness: the result is not row-major\\n");',
              "      return 3;",
              "    }",
              "    n *= r.sizes[d];",
              "  }",
              '  FILE *out = fopen("out.bin", "wb");',
              f"  if (!out || fwrite(r.sizes, 8, {rank}, out) != {rank} ||",
              f"      fwrite(r.aligned + r.offset, {expected.itemsize}, (size_t)n, out) != (size_t)n)",
              "    return 4;",
              "  fclose(out);",
              "  free(r.allocated);"]
    lines += [f"  free(a{i}.allocated);" for i in range(len(inputs))]
    lines += ["  return 0;", "}", ""]
    with open(path, "w") as f:
        f.write("\n".join(lines))


def run_aot_case(tools, seed, index, keep_root, lowering, cover=False,
                 operands=None):
    """Case `index` compiled for AArch64 with `lowering` and run under qemu,
    against the reference lowering run on the host and NumPy."""
    name, mlir, inputs, expected = make_case(
        seed, index, 0.8 if lowering.startswith("vector") else 0.25, cover,
        operands=operands)
    name += f" via {lowering} on aarch64"
    work = tempfile.mkdtemp(prefix=f"aot{index}-")
    try:
        with open(os.path.join(work, "case.mlir"), "w") as f:
            f.write(mlir)
        for i, array in enumerate(inputs):
            np.save(os.path.join(work, f"in{i}.npy"), array)
            np.ascontiguousarray(array).tofile(os.path.join(work, f"in{i}.bin"))
        write_harness(os.path.join(work, "harness.c"), inputs, expected)
        spec, *flags = lowering.split("+")
        strategy, _, target = spec.partition(":")
        target = target or "aarch64-a53"
        compile_args = [tools.compiler, "case.mlir", "--strategy", strategy,
                        "--target", target, "--triple", "aarch64-linux-gnu",
                        "-o", "case.o", "--header", "case.h"]
        if "tile" in flags:
            compile_args.append("--tile")
        host_args = [tools.runner, "case.mlir", "--entry", "main", "--strategy",
                     "reference", "--output", "host.npy"]
        host_args += [f"--input=in{i}.npy" for i in range(len(inputs))]
        steps = [("bitserial-compile", compile_args),
                 ("the cross compiler", [tools.cross_cc, "-O1", "-static", "-o",
                                         "harness", "harness.c", "case.o"]),
                 ("qemu", [tools.qemu, "-cpu", QEMU_CPUS.get(target, "cortex-a53"),
                           "./harness"]),
                 ("the host reference run", host_args)]
        problem = None
        for what, args in steps:
            proc = subprocess.run(args, cwd=work, capture_output=True, text=True,
                                  timeout=300)
            if proc.returncode != 0:
                problem = (f"{what} exited {proc.returncode}: "
                           f"{proc.stderr.strip()[:500]}")
                break
        if problem is None:
            raw = np.fromfile(os.path.join(work, "out.bin"), dtype=np.uint8)
            rank = expected.ndim
            shape = tuple(int(v) for v in raw[:8 * rank].view(np.int64))
            got = raw[8 * rank:].view(expected.dtype).reshape(shape)
            problem = _compare(got, np.load(os.path.join(work, "host.npy")))
            if problem:
                problem = "against the host's reference lowering: " + problem
            elif _compare(got, expected):
                problem = "against NumPy: " + _compare(got, expected)
        if problem and keep_root:
            problem += _keep(work, keep_root, index, expected)
        return index, name, problem
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runner", required=True, help="path to bitserial-run")
    parser.add_argument("--cases", type=int, default=300)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--keep", default="", help="directory for reproducers")
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument(
        "--aot-qemu", action="store_true",
        help="compile each case for AArch64 with --compiler, run it under "
             "qemu-aarch64 with a generated C harness and compare with the "
             "host's reference lowering (--runner) and NumPy")
    parser.add_argument("--compiler", help="path to bitserial-compile (--aot-qemu)")
    parser.add_argument("--cross-cc", default="aarch64-linux-gnu-gcc",
                        help="C compiler for AArch64 (--aot-qemu)")
    parser.add_argument("--qemu", default="qemu-aarch64",
                        help="qemu user-mode emulator (--aot-qemu)")
    parser.add_argument(
        "--cover", action="store_true",
        help="alternate matmul and conv2d cases with odd K that walk every "
             "encoding pair and bit width 1..8 on each side")
    parser.add_argument(
        "--operands", metavar="BITS:ENCODING,BITS:ENCODING",
        help="matmul and conv2d cases only, of these activations and "
             "weights, e.g. 1:bipolar,1:bipolar (not with --cover)")
    parser.add_argument(
        "--epilogues", action="store_true",
        help="matmul and conv2d cases only, each followed by a threshold or "
             "a requantize (the pairs the vector lowering fuses)")
    parser.add_argument(
        "--lowerings",
        default="reference,vector:host,vector:x86-avx2+tile,vector:generic,"
                "reference+tile,vector:host+tile+par,"
                "vector:generic+unroll+narrow,vector:generic+unroll+narrow+par,"
                "vector:host+const,vector:x86-avx2+const+par,"
                "vector:generic+straight+narrow",
        help="comma-separated STRATEGY[:TARGET][+tile][+par][+unroll]"
             "[+narrow][+straight][+vnni|+avxvnni|+pmaddwd|+maddubsw|+bw][+lookup|+vpermb][+v3]"
             "[+planes]"
             "[+const] of "
             "bitserial-run "
             "(+tile: bitserial-tile with each "
             "op's random tile sizes; +par: 2 threads, every kernel "
             "split; +unroll, "
             "+narrow, +straight: 128-bit kernels with unroll-steps, "
             "narrow-accumulators, straight-line-plane-pairs, lowered by "
             "bitserial-opt first; +vnni, "
             "+avxvnni, +pmaddwd, +maddubsw, +bw: every matmul and conv2d "
             "the x86 int8 lowering handles lowered by bitserial-opt first "
             "with avx512-vnni, avx-vnni, avx2 without and with narrow "
             "products, or avx512bw; +lookup: every matmul and conv2d the "
             "x86 lookup lowering handles lowered by bitserial-opt first "
             "to vpshufb table lookups; +vpermb: the same with vpermb "
             "(2-bit weights, AVX512-VBMI); +v3: --cpu "
             "x86-64-v3; +planes: the packed operands reach the ops as "
             "arguments of a private function, not as bitserial.pack "
             "results; +const: the weights are a constant of the module, "
             "not an argument); case i "
             "uses lowering i %% count (with --aot-qemu: bitserial-compile's "
             "--strategy and --target, default " + ",".join(AOT_LOWERINGS) +
             ")")
    args = parser.parse_args(argv)
    operands = None
    if args.operands:
        if args.cover:
            parser.error("--operands and --cover exclude each other")
        try:
            sides = [side.split(":") for side in args.operands.split(",")]
            operands = tuple(v for bits, encoding in sides
                             for v in (int(bits), encoding))
        except ValueError:
            parser.error(f"--operands {args.operands}: expected "
                         "BITS:ENCODING,BITS:ENCODING")
        if (len(sides) != 2 or
                any(not 1 <= operands[i] <= ref.MAX_BITS or
                    operands[i + 1] not in ref.ENCODINGS for i in (0, 2))):
            parser.error(f"--operands {args.operands}: bits 1..{ref.MAX_BITS} "
                         f"and an encoding of {', '.join(ref.ENCODINGS)} per side")
    tools = {"runner": args.runner}
    if args.aot_qemu and args.epilogues:
        parser.error("--epilogues runs on this machine only (not with --aot-qemu)")
    if args.aot_qemu:
        if not args.compiler:
            parser.error("--aot-qemu needs --compiler (bitserial-compile)")
        tools["compiler"] = args.compiler
        for name, program in (("cross_cc", args.cross_cc), ("qemu", args.qemu)):
            tools[name] = shutil.which(program) or program
    for name, path in tools.items():
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            parser.error(f"--{name.replace('_', '-')} {path}: not an executable file")
    if args.keep:
        os.makedirs(args.keep, exist_ok=True)

    if args.aot_qemu:
        explicit = "--lowerings" in " ".join(argv if argv is not None else sys.argv)
        lowerings = args.lowerings.split(",") if explicit else AOT_LOWERINGS
        paths = argparse.Namespace(**tools)
        run = lambda i, lowering: run_aot_case(paths, args.seed, i, args.keep,
                                               lowering, args.cover,
                                               operands)
    else:
        lowerings = args.lowerings.split(",")
        run = lambda i, lowering: run_case(args.runner, args.seed, i, args.keep,
                                           lowering, args.cover, args.epilogues,
                                           operands)
    failures = 0
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        futures = [pool.submit(run, i, lowerings[i % len(lowerings)])
                   for i in range(args.cases)]
        for future in concurrent.futures.as_completed(futures):
            index, name, problem = future.result()
            if problem:
                failures += 1
                print(f"FAIL case {index} [{name}]: {problem}", flush=True)
            elif args.verbose:
                print(f"ok   case {index} [{name}]", flush=True)
    print(f"differential: {args.cases - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
