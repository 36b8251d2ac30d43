#!/usr/bin/python3
"""Measures each kernel of the cost model on ResNet-18 layers and fits its constants.

    benchmarks/fit_cost_model.py [--build build] [--layers C2,C3] [--configs A2W2,A4W2] [--json FILE]

For the host's `x86-avx512-vpopcntdq` kernels (AVX-512 VPOPCNTDQ, VNNI and
VBMI: the Zen 5 machines), times every layer (constant filters, zero init,
as benchmarks/run.py) with each kernel the op can take, asked for with a
`bitserial.kernel` attribute: bit-serial, int8 (`vpdpbusd`) and the
`vpermb` table lookup (2-bit weights, activations of at most 2 bits).
Then fits each kernel's constants (lib/Analysis/CostModel.cpp,
docs/design.md "Cost model") by least squares of the relative error, in
the model's cycles (4.5 GHz: ms x 4.5e6), and prints the fitted constants,
each op's measured and modelled times (with the constants in the build and
the fitted ones) and the kernel each set picks against the fastest
measured. The features mirror estimateKernels; the script checks them
against the estimates `bitserial-run --print-kernels` prints.
"""

import argparse
import json
import math
import os
import re
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402
from run import LAYERS, conv_module, time_targets  # noqa: E402

# Activations unsigned and weights signed past 1 x 1 bits, as in run.py's
# A2W2; A1W1 and A2W1 as there.
CONFIGS = {
    "A1W1": ((1, "bipolar"), (1, "bipolar")),
    "A2W1": ((2, "unsigned"), (1, "bipolar")),
    "A2W2": ((2, "unsigned"), (2, "signed")),
    "A3W2": ((3, "unsigned"), (2, "signed")),
    "A4W2": ((4, "unsigned"), (2, "signed")),
    "A3W3": ((3, "unsigned"), (3, "signed")),
    "A4W4": ((4, "unsigned"), (4, "signed")),
}
CYCLES_PER_MS = 4.5e6
# The int8 kernel's rows per register block and the caches of its model
# (Int8Costs::rowBlock, l2Bytes; kCachedInt8WeightBytes).
INT8_ROWS = 6
L2_BYTES = 1 << 20
CACHED_INT8_WEIGHT_BYTES = 8 << 20
# kLookupMargin of lib/Transforms/SelectKernels.cpp.
LOOKUP_MARGIN = 0.9
TARGET = "x86-avx512-vpopcntdq"
KERNELS = ("bitserial", "int8", "lookup")
REMARK = re.compile(
    r"remark: kernel (\w+) .*estimated cycles: bit-serial (\d+) \(block "
    r"(\d+)x(\d+)\)(?:, int8 ([\w-]+) (\d+))?(?:, lookup (\d+))?")


def align(x, a):
    return (x + a - 1) // a * a


def features(layer, bits_a, bits_w, block):
    """Per kernel, the terms its constants multiply (estimateKernels with
    constant filters, batch 1): bit-serial [binops, outputs x plane pairs,
    outputs], int8 [MACs, outputs, input values, weight bytes streamed
    past the L2], lookup [lookups, outputs, input values]; the first term
    of each over the kernel's rate."""
    h, w, c, co, k, s, p = LAYERS[layer]
    oh, ow = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
    outputs = oh * ow * co
    pairs = bits_a * bits_w
    pb, qb = block
    lanes = 8
    row_pixels = ow if ow < pb else align(ow, pb)
    computed = oh * row_pixels * align(-(-co // lanes), qb) * lanes
    bs = [pairs * k * k * c * computed, outputs * pairs, outputs]
    pointwise = k == 1 and p == 0
    input_values = h * w * c
    weight_bytes = co * k * k * c
    streamed = (weight_bytes * oh * -(-ow // INT8_ROWS)
                if L2_BYTES < weight_bytes <= CACHED_INT8_WEIGHT_BYTES else 0)
    int8 = [k * k * align(c, 4) * oh * ow * co, outputs,
            (oh * ow * c) if pointwise else input_values, streamed]
    vectors = -(-co // 64)
    channel_block = min(vectors, 2)
    row_block = 4 * 2 // channel_block
    row_blocks = -(-ow // row_block)
    rows = oh * row_blocks * -(-ow // row_blocks)
    lookups = rows * align(vectors, channel_block) * k * k * -(-c // 3)
    lookup = [lookups, outputs, input_values]
    return {"bitserial": bs, "int8": int8, "lookup": lookup}


def estimate(feature, constants):
    """constants: [rate, then the cost per unit of each further term]."""
    return feature[0] / constants[0] + sum(
        c * f for c, f in zip(constants[1:], feature[1:]))


def fit(rows):
    """Least squares of the relative error: the constants (as `estimate`
    takes them) for the rows' (features, measured cycles). A term whose
    cost fits negative (noise) is dropped."""
    a = np.array([[v / t for v in f] for f, t in rows])
    keep = list(range(a.shape[1]))
    while True:
        x, *_ = np.linalg.lstsq(a[:, keep], np.ones(len(rows)), rcond=None)
        negative = [j for j, v in zip(keep[1:], x[1:]) if v < 0]
        if not negative:
            break
        keep.remove(negative[0])
    full = np.zeros(a.shape[1])
    full[keep] = x
    return [1 / full[0]] + list(full[1:])


def choose(estimates):
    """The kernel bitserial-select-kernels picks: the cheapest of bit-serial
    and int8, then lookups only when estimated cheaper by LOOKUP_MARGIN."""
    kernel = min((k for k in estimates if k != "lookup"), key=estimates.get)
    if "lookup" in estimates and \
            estimates["lookup"] < LOOKUP_MARGIN * estimates[kernel]:
        kernel = "lookup"
    return kernel


def with_kernel(text, kernel):
    return re.sub(r"(padding = \[[0-9, ]*\]) ->",
                  rf'\1 {{bitserial.kernel = "{kernel}"}} ->', text, count=1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", default=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "build"))
    parser.add_argument("--layers", default=",".join(LAYERS))
    parser.add_argument("--configs", default=",".join(CONFIGS))
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--min-ms", type=float, default=100)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--json", help="write the measurements to FILE")
    parser.add_argument("--load", help="fit measurements from FILE "
                        "(written by --json) instead of measuring; their "
                        "estimates (the build's choice) are those of the "
                        "build that measured them")
    args = parser.parse_args()
    runner = os.path.join(args.build, "bin", "bitserial-run")
    run.CONFIGS.update(CONFIGS)
    ops = []
    if args.load:
        with open(args.load) as f:
            ops = json.load(f)
    for layer in ([] if args.load else args.layers.split(",")):
        for config in args.configs.split(","):
            (ba, ea), (bw, ew) = CONFIGS[config]
            text, _ = conv_module(layer, config)
            with tempfile.NamedTemporaryFile("w", suffix=".mlir") as f:
                f.write(text)
                f.flush()
                out = subprocess.run(
                    [runner, f.name, "--random-inputs", "--target", TARGET,
                     "-O3", "--print-kernels"],
                    capture_output=True, text=True, check=True)
            m = REMARK.search(out.stderr)
            if not m:
                sys.exit(f"fit_cost_model.py: no kernel remark for {layer} "
                         f"{config}:\n{out.stderr}")
            chosen, bs_est, pb, qb, unit, i8_est, lk_est = m.groups()
            if unit != "avx512-vnni" or not lk_est and bw == 2 and ba <= 2:
                sys.exit("fit_cost_model.py: needs a CPU whose pipeline "
                         "offers vpdpbusd (AVX512-VNNI, not AMX) and vpermb "
                         f"lookups (AVX512-VBMI); the remark was: {m.group(0)}")
            block = (int(pb), int(qb))
            estimates = {"bitserial": float(bs_est)}
            if i8_est:
                estimates["int8"] = float(i8_est)
            if lk_est:
                estimates["lookup"] = float(lk_est)
            measured = {}
            for kernel in estimates:
                ms = time_targets(runner, with_kernel(text, kernel), [TARGET],
                                  args.repeat, args.rounds,
                                  min_ms=args.min_ms)[TARGET]
                measured[kernel] = ms
            op = {"layer": layer, "config": config, "bits": [ba, bw],
                  "block": block, "chosen": chosen, "estimates": estimates,
                  "ms": measured}
            print(json.dumps(op), flush=True)
            ops.append(op)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(ops, f, indent=1)

    # The build's constants (lib/Analysis/CostModel.cpp).
    current = {
        "bitserial": [486, 0.033, 0.032],
        "int8": [90, 0.029, 0.027, 0.0114],
        "lookup": [0.891, 0.364, 0],
    }
    rows = {k: [] for k in KERNELS}
    for op in ops:
        # vpdpbusd on bipolar x bipolar pays corrections the model does not
        # have, and is never near bit-serial there.
        if op["bits"] == [1, 1]:
            op["estimates"].pop("int8", None)
            op["ms"].pop("int8", None)
        feats = features(op["layer"], *op["bits"], op["block"])
        op["features"] = feats
        for kernel, est in op["estimates"].items():
            mine = estimate(feats[kernel], current[kernel])
            if not args.load and abs(mine - est) > 1 + 1e-6 * est:
                sys.exit(f"fit_cost_model.py: features of {op['layer']} "
                         f"{op['config']} {kernel} give {mine:.0f}, the "
                         f"build's estimate is {est:.0f}")
            rows[kernel].append((feats[kernel],
                                 op["ms"][kernel] * CYCLES_PER_MS))
    fitted = {k: fit(r) for k, r in rows.items() if len(r) >= 3}
    for kernel, constants in fitted.items():
        errors = [estimate(f, constants) / t - 1 for f, t in rows[kernel]]
        print(f"{kernel}: rate {constants[0]:.4g}, further terms "
              f"{', '.join(f'{c:.3g}' for c in constants[1:])}; max error "
              f"{100 * max(map(abs, errors)):.0f}% over {len(errors)} ops")
    print()
    print("| layer | config | ms: bit-serial / int8 / lookup | fastest | "
          "build's choice | fitted choice | fitted estimate / measured |")
    print("|---|---|---|---|---|---|---|")
    lost = {"build": 0.0, "fitted": 0.0}
    for op in ops:
        ms = op["ms"]
        best = min(ms, key=ms.get)
        build = choose(op["estimates"])
        est = {k: estimate(op["features"][k], fitted.get(k, current[k]))
               for k in ms}
        mine = choose(est)
        lost["build"] += ms[build] - ms[best]
        lost["fitted"] += ms[mine] - ms[best]
        times = " / ".join(f"{ms[k]:.4f}" if k in ms else "-" for k in KERNELS)
        ratio = " / ".join(f"{est[k] / (ms[k] * CYCLES_PER_MS):.2f}"
                           if k in ms else "-" for k in KERNELS)
        print(f"| {op['layer']} | {op['config']} | {times} | {best} | {build}"
              f"{'' if build == best else ' (lost)'} | {mine}"
              f"{'' if mine == best else ' (lost)'} | {ratio} |")
    print(f"\ntime lost to wrong choices: build's constants "
          f"{lost['build']:.4f} ms, fitted {lost['fitted']:.4f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
