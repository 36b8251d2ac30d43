"""Tiles convolutions along padded axes and whole layers (matmul/conv2d with
their epilogue, pack fused into conv2d tiles), runs the tiled modules and
checks every result against bitserial's NumPy reference.

    tiling.py --runner BITSERIAL_RUN --opt BITSERIAL_OPT --work DIR

Each case is a module whose ops carry `bitserial.tile_sizes` (tiled by
`bitserial-opt --bitserial-tile`) or a transform script (tiled and fused by
`transform.structured.fuse` through `--transform-interpreter`). The tiled
module runs under the reference lowering, the vector kernels and the vector
kernels on two threads; the untiled module also runs with the runner's own
`--tile` (the pipeline's bitserial-tile, which honours the attribute). Tile
sizes are odd and do not divide the extents. Prints one line per run and a
summary; exits 1 on any mismatch or failed run.
"""
import argparse
import os
import subprocess
import sys

import numpy as np

from bitserial import reference as ref

TILED_CONFIGS = {
    "reference": ["--strategy", "reference"],
    "vector": ["--strategy", "vector"],
    "vector-threads": ["--strategy", "vector", "--num-threads", "2"],
}
UNTILED_CONFIGS = {
    "runner-tile": ["--strategy", "vector", "--tile", "--num-threads", "2"],
}

NP_TYPE = {np.int8: "i8", np.int16: "i16", np.int32: "i32", np.int64: "i64", np.bool_: "i1"}


def tensor(shape, dtype, layout=None):
    dims = "x".join(str(d) for d in shape)
    suffix = f", {layout}" if layout else ""
    return f"tensor<{dims}x{NP_TYPE[dtype]}{suffix}>"


def packed_type(shape, bits, encoding):
    layout = f"#bitserial.packed<bits = {bits}, encoding = {encoding}, length = {shape[-1]}>"
    return tensor(ref.packed_shape(list(shape), bits), np.int64, layout)


def attr(tiles):
    return f"{{bitserial.tile_sizes = array<i64: {', '.join(str(t) for t in tiles)}>}}"


class Case:
    def __init__(self, name, body, inputs, expected, transform=None, expect_if=False):
        self.name, self.body, self.inputs, self.expected = name, body, inputs, expected
        self.transform = transform
        # Padded axes tiled in loops of a transform script: the tiles choose
        # between the unpadded conv2d and the split by kernel taps.
        self.expect_if = expect_if


def conv_case(rng, name, n, h, w, c, co, kh, kw, strides, padding, dilations,
              a_bits, a_enc, w_bits, w_enc, tiles):
    x = ref.random_values(rng, (n, h, w, c), a_bits, a_enc)
    f = ref.random_values(rng, (co, kh, kw, c), w_bits, w_enc)
    oshape = ref.conv2d_output_shape(x.shape, f.shape, strides, padding, dilations)
    init = rng.integers(-1000, 1000, oshape).astype(np.int32)
    expected = ref.conv2d(x, f, strides, padding, dilations, init=init).astype(np.int32)
    xp, fp, it = packed_type(x.shape, a_bits, a_enc), packed_type(f.shape, w_bits, w_enc), tensor(oshape, np.int32)
    body = (f"func.func @{name}(%x: {xp}, %f: {fp}, %init: {it}) -> {it} {{\n"
            f"  %r = bitserial.conv2d ins(%x, %f : {xp}, {fp}) outs(%init : {it})\n"
            f"      strides = [{strides[0]}, {strides[1]}] padding = [{', '.join(map(str, padding))}]"
            f" dilations = [{dilations[0]}, {dilations[1]}] {attr(tiles)} -> {it}\n"
            f"  return %r : {it}\n}}\n")
    inputs = [ref.pack(x, a_bits, a_enc), ref.pack(f, w_bits, w_enc), init]
    padded_tiled = any(t and (padding[2 * a] or padding[2 * a + 1]) and t < oshape[a + 1]
                       for a, t in enumerate(tiles[1:3]))
    return Case(name, body, inputs, [expected], expect_if=padded_tiled)


def thresholds_for(rng, acc, bits):
    channels = acc.shape[-1]
    flat = acc.reshape(-1, channels).astype(np.int64)
    lo, hi = flat.min(axis=0), flat.max(axis=0) + 1
    t = np.stack([rng.integers(lo, hi) for _ in range((1 << bits) - 1)], axis=1)
    return t.astype(np.int32)


def conv_threshold_case(rng, name, shape, co, k, stride, pad, a_bits, a_enc, out_bits, out_enc,
                        tiles):
    n, h, w, c = shape
    x = ref.random_values(rng, shape, a_bits, a_enc)
    f = ref.random_values(rng, (co, k, k, c), 1, "bipolar")
    padding = (pad, pad, pad, pad)
    acc = ref.conv2d(x, f, (stride, stride), padding)
    t = thresholds_for(rng, acc, out_bits)
    flip = rng.integers(0, 2, co).astype(np.bool_)
    values = ref.threshold(acc, t, out_bits, out_enc, flip)
    xp, fp = packed_type(shape, a_bits, a_enc), packed_type((co, k, k, c), 1, "bipolar")
    out, it = packed_type(acc.shape, out_bits, out_enc), tensor(acc.shape, np.int32)
    body = (f"func.func @{name}(%x: {xp}, %f: {fp}, %t: {tensor(t.shape, np.int32)}, "
            f"%flip: {tensor((co,), np.bool_)}) -> {out} {{\n"
            f"  %init = arith.constant dense<0> : {it}\n"
            f"  %acc = bitserial.conv2d ins(%x, %f : {xp}, {fp}) outs(%init : {it}) "
            f"strides = [{stride}, {stride}] padding = [{pad}, {pad}, {pad}, {pad}] {attr(tiles)} -> {it}\n"
            f"  %y = bitserial.threshold %acc, %t descending(%flip : {tensor((co,), np.bool_)}) : {it}, "
            f"{tensor(t.shape, np.int32)} -> {out}\n"
            f"  return %y : {out}\n}}\n")
    inputs = [ref.pack(x, a_bits, a_enc), ref.pack(f, 1, "bipolar"), t, flip]
    return Case(name, body, inputs, [ref.pack(values, out_bits, out_enc)], expect_if=pad > 0)


def requantize_params(rng, channels):
    m = rng.integers(1 << 30, (1 << 31) - 1, channels).astype(np.int32)
    s = rng.integers(-12, 1, channels).astype(np.int8)
    return m, s


def network_case(rng, name, tiles1, tiles2):
    """pack -> conv2d 3x3/2 -> threshold (2-bit) -> conv2d 3x3 with a residual
    init -> requantize: two layers, each tiled with its epilogue."""
    n, h, w, c, c1, c2 = 1, 11, 9, 24, 20, 12
    x = ref.random_values(rng, (n, h, w, c), 2, "signed")
    f1 = ref.random_values(rng, (c1, 3, 3, c), 1, "bipolar")
    f2 = ref.random_values(rng, (c2, 3, 3, c1), 2, "signed")
    acc1 = ref.conv2d(x, f1, (2, 2), (1, 1, 1, 1))
    t = thresholds_for(rng, acc1, 2)
    y = ref.threshold(acc1, t, 2, "unsigned")
    residual = rng.integers(-300, 300, acc1.shape[:3] + (c2,)).astype(np.int32)
    acc2 = ref.conv2d(y, f2, (1, 1), (1, 1, 1, 1), init=residual)
    m, s = requantize_params(rng, c2)
    q = ref.requantize(acc2, m, s, 5, -128, 127).astype(np.int8)
    xp = packed_type(x.shape, 2, "signed")
    f1p, f2p = packed_type(f1.shape, 1, "bipolar"), packed_type(f2.shape, 2, "signed")
    yp = packed_type(y.shape, 2, "unsigned")
    a1, a2 = tensor(acc1.shape, np.int32), tensor(acc2.shape, np.int32)
    out = tensor(q.shape, np.int8)
    body = (f"func.func @{name}(%x: {tensor(x.shape, np.int8)}, %f1: {f1p}, %t: {tensor(t.shape, np.int32)}, "
            f"%f2: {f2p}, %res: {a2}, %m: {tensor((c2,), np.int32)}, %s: {tensor((c2,), np.int8)}) -> {out} {{\n"
            f"  %p = bitserial.pack %x : {tensor(x.shape, np.int8)} -> {xp}\n"
            f"  %zero = arith.constant dense<0> : {a1}\n"
            f"  %acc1 = bitserial.conv2d ins(%p, %f1 : {xp}, {f1p}) outs(%zero : {a1}) strides = [2, 2] "
            f"padding = [1, 1, 1, 1] {attr(tiles1)} -> {a1}\n"
            f"  %y = bitserial.threshold %acc1, %t : {a1}, {tensor(t.shape, np.int32)} -> {yp}\n"
            f"  %acc2 = bitserial.conv2d ins(%y, %f2 : {yp}, {f2p}) outs(%res : {a2}) "
            f"padding = [1, 1, 1, 1] {attr(tiles2)} -> {a2}\n"
            f"  %q = bitserial.requantize %acc2, %m, %s zero_point = 5 clamp = [-128, 127] : {a2}, "
            f"{tensor((c2,), np.int32)}, {tensor((c2,), np.int8)} -> {out}\n"
            f"  return %q : {out}\n}}\n")
    inputs = [x.astype(np.int8), ref.pack(f1, 1, "bipolar"), t, ref.pack(f2, 2, "signed"), residual, m, s]
    return Case(name, body, inputs, [q], expect_if=True)


def matmul_threshold_case(rng, name, m, k, nn, tiles):
    a = ref.random_values(rng, (m, k), 3, "unsigned")
    b = ref.random_values(rng, (nn, k), 1, "bipolar")
    acc = ref.matmul(a, b)
    t = thresholds_for(rng, acc, 1)
    values = ref.threshold(acc, t, 1, "bipolar")
    ap, bp = packed_type(a.shape, 3, "unsigned"), packed_type(b.shape, 1, "bipolar")
    it, out = tensor(acc.shape, np.int32), packed_type(acc.shape, 1, "bipolar")
    body = (f"func.func @{name}(%a: {ap}, %b: {bp}, %t: {tensor(t.shape, np.int32)}) -> {out} {{\n"
            f"  %init = arith.constant dense<0> : {it}\n"
            f"  %acc = bitserial.matmul ins(%a, %b : {ap}, {bp}) outs(%init : {it}) {attr(tiles)} -> {it}\n"
            f"  %y = bitserial.threshold %acc, %t : {it}, {tensor(t.shape, np.int32)} -> {out}\n"
            f"  return %y : {out}\n}}\n")
    inputs = [ref.pack(a, 3, "unsigned"), ref.pack(b, 1, "bipolar"), t]
    return Case(name, body, inputs, [ref.pack(values, 1, "bipolar")])


FUSE_SCRIPT = """module attributes {{transform.with_named_sequence}} {{
  transform.named_sequence @__transform_main(%root: !transform.any_op {{transform.readonly}}) {{
    %0 = transform.structured.match ops{{["{op}"]}} in %root : (!transform.any_op) -> !transform.any_op
    %1, %loops:{count} = transform.structured.fuse %0 tile_sizes [{sizes}]
        : (!transform.any_op) -> ({handles})
    transform.yield
  }}
}}
"""


def fuse_script(op, sizes):
    count = sum(1 for s in sizes if s)
    handles = ", ".join(["!transform.any_op"] * (count + 1))
    return FUSE_SCRIPT.format(op=op, count=count, sizes=", ".join(map(str, sizes)), handles=handles)


def fused_pack_conv_dequantize_case(rng, name):
    """Upstream tile-and-fuse on the epilogue: dequantize tiles fuse the
    conv2d, whose tiles fuse the pack of their (padded) input window."""
    n, h, w, c, co = 2, 8, 7, 40, 10
    x = ref.random_values(rng, (n, h, w, c), 1, "bipolar")
    f = ref.random_values(rng, (co, 5, 3, c), 2, "unsigned")
    padding = (2, 1, 0, 1)
    acc = ref.conv2d(x, f, (1, 2), padding)
    scale = rng.integers(-8, 8, co).astype(np.float32) / 4
    bias = rng.integers(-8, 8, co).astype(np.float32)
    expected = ref.dequantize(acc, scale, bias).astype(np.float32)
    xp, fp = packed_type(x.shape, 1, "bipolar"), packed_type(f.shape, 2, "unsigned")
    it, ft = tensor(acc.shape, np.int32), f"tensor<{'x'.join(map(str, acc.shape))}xf32>"
    ints = tensor(acc.shape, np.int32)
    dims = ", ".join(f"d{i}" for i in range(4))
    cvec = lambda v: ", ".join(repr(float(e)) for e in v)
    body = (f"func.func @{name}(%x: {tensor(x.shape, np.int8)}, %f: {fp}) -> {ints} {{\n"
            f"  %p = bitserial.pack %x : {tensor(x.shape, np.int8)} -> {xp}\n"
            f"  %init = arith.constant dense<0> : {it}\n"
            f"  %acc = bitserial.conv2d ins(%p, %f : {xp}, {fp}) outs(%init : {it}) strides = [1, 2] "
            f"padding = [{', '.join(map(str, padding))}] -> {it}\n"
            f"  %scale = arith.constant dense<[{cvec(scale)}]> : tensor<{co}xf32>\n"
            f"  %bias = arith.constant dense<[{cvec(bias)}]> : tensor<{co}xf32>\n"
            f"  %d = bitserial.dequantize %acc, %scale, %bias : {it}, tensor<{co}xf32>, tensor<{co}xf32> -> {ft}\n"
            f"  %e = tensor.empty() : {ints}\n"
            f"  %b = linalg.generic {{indexing_maps = [affine_map<({dims}) -> ({dims})>, affine_map<({dims}) -> ({dims})>], "
            f"iterator_types = [\"parallel\", \"parallel\", \"parallel\", \"parallel\"]}} ins(%d : {ft}) outs(%e : {ints}) {{\n"
            f"  ^bb0(%in: f32, %out: i32):\n"
            f"    %v = arith.bitcast %in : f32 to i32\n"
            f"    linalg.yield %v : i32\n"
            f"  }} -> {ints}\n"
            f"  return %b : {ints}\n}}\n")
    inputs = [x.astype(np.int8), ref.pack(f, 2, "unsigned")]
    return Case(name, body, inputs, [expected.view(np.int32)],
                transform=fuse_script("bitserial.dequantize", [1, 3, 2, 3]), expect_if=True)


def fused_pack_conv_case(rng, name):
    """tile_using_for-style fusion rooted at a conv2d: its pack producer is
    tiled to the rows and columns each conv2d tile reads."""
    n, h, w, c, co = 1, 9, 10, 70, 6
    x = ref.random_values(rng, (n, h, w, c), 3, "signed")
    f = ref.random_values(rng, (co, 3, 3, c), 1, "bipolar")
    acc = ref.conv2d(x, f, (1, 1), (0, 0, 0, 0), (2, 1))
    xp, fp, it = packed_type(x.shape, 3, "signed"), packed_type(f.shape, 1, "bipolar"), tensor(acc.shape, np.int32)
    body = (f"func.func @{name}(%x: {tensor(x.shape, np.int8)}, %f: {fp}) -> {it} {{\n"
            f"  %p = bitserial.pack %x : {tensor(x.shape, np.int8)} -> {xp}\n"
            f"  %init = arith.constant dense<0> : {it}\n"
            f"  %acc = bitserial.conv2d ins(%p, %f : {xp}, {fp}) outs(%init : {it}) dilations = [2, 1] -> {it}\n"
            f"  return %acc : {it}\n}}\n")
    inputs = [x.astype(np.int8), ref.pack(f, 1, "bipolar")]
    return Case(name, body, inputs, [acc.astype(np.int32)],
                transform=fuse_script("bitserial.conv2d", [1, 2, 3, 0]))


def build_cases(rng):
    cases = []
    # Padded convolutions: ResNet's 3x3/1 and 3x3/2, the 7x7/2 stem,
    # asymmetric padding, dilation 2, padding wider than the window reaches.
    convs = [
        ("c3x3_s1_bipolar", 1, 9, 8, 70, 11, 3, 3, (1, 1), (1, 1, 1, 1), (1, 1), 1, "bipolar", 1, "bipolar", [1, 2, 3, 5]),
        ("c3x3_s1_signed_rows", 2, 7, 6, 64, 9, 3, 3, (1, 1), (1, 1, 1, 1), (1, 1), 2, "signed", 1, "bipolar", [1, 3, 0, 0]),
        ("c3x3_s2_bipolar2", 1, 10, 9, 33, 8, 3, 3, (2, 2), (1, 1, 1, 1), (1, 1), 2, "bipolar", 2, "signed", [0, 2, 3, 3]),
        ("c7x7_s2_p3", 1, 15, 13, 3, 7, 7, 7, (2, 2), (3, 3, 3, 3), (1, 1), 8, "unsigned", 1, "bipolar", [1, 3, 5, 4]),
        ("c7x7_s2_p3_tile1", 1, 11, 9, 5, 4, 7, 7, (2, 2), (3, 3, 3, 3), (1, 1), 3, "bipolar", 2, "unsigned", [1, 1, 1, 3]),
        ("asymmetric", 1, 8, 9, 20, 5, 3, 2, (1, 2), (2, 0, 1, 3), (1, 1), 2, "signed", 3, "signed", [1, 3, 2, 2]),
        ("dilation2", 2, 9, 10, 65, 6, 3, 3, (1, 1), (2, 2, 2, 2), (2, 2), 1, "bipolar", 1, "unsigned", [1, 4, 3, 5]),
        ("pad_beyond_window", 1, 5, 6, 16, 3, 1, 2, (1, 1), (2, 1, 3, 0), (1, 1), 2, "unsigned", 1, "bipolar", [1, 2, 2, 0]),
        ("stride3_rows", 1, 14, 6, 40, 7, 3, 3, (3, 1), (1, 2, 1, 1), (1, 1), 4, "signed", 2, "bipolar", [1, 2, 0, 7]),
    ]
    for spec in convs:
        cases.append(conv_case(rng, *spec))
    cases.append(conv_threshold_case(rng, "chain_conv_threshold", (1, 8, 7, 64), 20, 3, 1, 1,
                                     1, "bipolar", 2, "unsigned", [1, 3, 2, 8]))
    cases.append(conv_threshold_case(rng, "chain_conv_threshold_s2", (2, 9, 9, 30), 9, 3, 2, 1,
                                     2, "unsigned", 1, "bipolar", [1, 2, 0, 4]))
    cases.append(network_case(rng, "network", [1, 2, 3, 8], [1, 2, 0, 5]))
    cases.append(matmul_threshold_case(rng, "chain_matmul_threshold", 13, 100, 70, [5, 32]))
    cases.append(fused_pack_conv_dequantize_case(rng, "fuse_pack_conv_dequantize"))
    cases.append(fused_pack_conv_case(rng, "fuse_pack_into_conv"))
    return cases


def run(command):
    return subprocess.run(command, capture_output=True, text=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runner", required=True)
    parser.add_argument("--opt", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--seed", type=int, default=23)
    args = parser.parse_args()
    os.makedirs(args.work, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    failures = runs = 0
    for case in build_cases(rng):
        base = os.path.join(args.work, case.name)
        with open(base + ".mlir", "w") as f:
            f.write(case.body)
        inputs = []
        for i, value in enumerate(case.inputs):
            path = f"{base}.in{i}.npy"
            np.save(path, value)
            inputs += ["--input", path]
        if case.transform:
            with open(base + ".transform.mlir", "w") as f:
                f.write(case.transform)
            tile = [f"--transform-preload-library=transform-library-paths={base}.transform.mlir",
                    "--transform-interpreter", "--canonicalize"]
        else:
            tile = ["--bitserial-tile", "--canonicalize"]
        result = run([args.opt, base + ".mlir", "-o", base + ".tiled.mlir"] + tile)
        runs += 1
        if result.returncode != 0:
            failures += 1
            print(f"FAIL tile {case.name}: exit {result.returncode}\n{result.stderr}")
            continue
        tiled = open(base + ".tiled.mlir").read()
        # bitserial-tile splits off border parts, so every tile has constant
        # padding; loops of other drivers test the padding at run time.
        if "scf.for" not in tiled or ("scf.if" in tiled) != bool(case.transform and case.expect_if):
            failures += 1
            print(f"FAIL tile {case.name}: not tiled as expected")
            continue
        print(f"ok tile {case.name}")
        plan = [(name, base + ".tiled.mlir", flags) for name, flags in TILED_CONFIGS.items()]
        if not case.transform:
            plan += [(name, base + ".mlir", flags) for name, flags in UNTILED_CONFIGS.items()]
        for config, module, flags in plan:
            runs += 1
            out = f"{base}.{config}.npy"
            result = run([args.runner, module, "--entry", case.name, "--output", out] + flags + inputs)
            if result.returncode != 0:
                failures += 1
                print(f"FAIL {config} {case.name}: exit {result.returncode}\n{result.stderr}")
                continue
            got, want = np.load(out), case.expected[0]
            if got.shape != want.shape or not np.array_equal(got, want.astype(got.dtype)):
                failures += 1
                bad = np.argwhere(got != want)[:3] if got.shape == want.shape else "shape"
                print(f"FAIL {config} {case.name}: mismatch at {bad}")
            else:
                print(f"ok {config} {case.name}")
    print(f"{runs - failures}/{runs} runs exact")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
