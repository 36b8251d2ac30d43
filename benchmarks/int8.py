#!/usr/bin/python3
"""Int8 dot products on x86 against bit-serial kernels and oneDNN int8.

    benchmarks/int8.py [--build build] [--repeat 30] [--rounds 3]
                       [--layers C2,C6] [--configs A8W8,A4W4] [--markdown FILE]

Times, through bitserial-run --repeat (median of single calls, packed
operands in, i32 out; the lowest of --rounds medians), each op twice: forced
to the int8 lowering (`bitserial.int8 = true`: vpdpbusd on zmm with the
host's AVX-512 VNNI, or vpmaddwd on ymm for `--target x86-avx2 --cpu
x86-64-v3`) and forced to the bit-serial kernels (`bitserial.int8 = false`).
The ops: the ResNet-18 stem's matmul as the example network computes it
(im2col rows 12544 x 147, 8-bit unsigned activations x 4-bit signed
weights, 64 channels) and bitserial.conv2d on C2-C12 at the --configs
widths (unsigned activations x signed weights). oneDNN int8 (best ISA) runs
the same layers and the stem in the same run (bitserial-baselines).
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import LAYERS, baselines, packed  # noqa: E402

CONFIGS = {"A8W8": (8, 8), "A4W4": (4, 4), "A4W2": (4, 2), "A2W2": (2, 2),
           "A8W4": (8, 4), "A3W3": (3, 3), "A4W3": (4, 3)}
STEM = (12544, 147, 64)


def stem_module(force):
    m, k, n = STEM
    ta, tb = packed((m,), 8, "unsigned", k), packed((n,), 4, "signed", k)
    to = f"tensor<{m}x{n}xi32>"
    return f"""func.func @main(%a: {ta}, %b: {tb}, %init: {to}) -> {to} {{
  %r = bitserial.matmul ins(%a, %b : {ta}, {tb}) outs(%init : {to})
      {{bitserial.int8 = {force}}} -> {to}
  return %r : {to}
}}
"""


def conv_module(layer, config, force):
    h, w, cin, cout, k, s, p = LAYERS[layer]
    ba, bw = CONFIGS[config]
    oh, ow = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
    tx = packed((1, h, w), ba, "unsigned", cin)
    tf = packed((cout, k, k), bw, "signed", cin)
    to = f"tensor<1x{oh}x{ow}x{cout}xi32>"
    return f"""func.func @main(%x: {tx}, %f: {tf}, %init: {to}) -> {to} {{
  %r = bitserial.conv2d ins(%x, %f : {tx}, {tf}) outs(%init : {to})
      strides = [{s}, {s}] padding = [{p}, {p}, {p}, {p}]
      {{bitserial.int8 = {force}}} -> {to}
  return %r : {to}
}}
"""


def time_module(runner, text, target, repeat, rounds):
    """The lowest of `rounds` medians of `repeat` calls each, and the
    fastest call."""
    with tempfile.NamedTemporaryFile("w", suffix=".mlir", delete=False) as f:
        f.write(text)
    extra = (["--target", "x86-avx2", "--cpu", "x86-64-v3"]
             if target == "avx2" else [])
    medians, mins = [], []
    try:
        for _ in range(rounds):
            out = subprocess.run(
                [runner, f.name, "--random-inputs", "--seed", "1", "--repeat",
                 str(repeat), "-O3"] + extra,
                capture_output=True, text=True, check=True).stdout
            found = re.search(r"median ([0-9.]+) ms, min ([0-9.]+) ms", out)
            medians.append(float(found.group(1)))
            mins.append(float(found.group(2)))
    finally:
        os.unlink(f.name)
    return min(medians), min(mins)


def onednn_stem(tool, rounds):
    """oneDNN int8's stem (7x7/2 conv of the 224x224 network), lowest
    median of `rounds` runs."""
    best = None
    for _ in range(rounds):
        out = subprocess.run([tool, "--network", "resnet18", "--skip", "peak"],
                             capture_output=True, text=True, check=True).stdout
        found = re.search(r"part int8 stem: median ([0-9.]+) ms, min ([0-9.]+)",
                          out)
        if found:
            value = (float(found.group(1)), float(found.group(2)))
            best = value if best is None else (min(best[0], value[0]),
                                               min(best[1], value[1]))
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", default=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "build"))
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--layers", default=",".join(LAYERS))
    parser.add_argument("--configs", default="A8W8,A4W4,A4W2,A2W2")
    parser.add_argument("--targets", default="host,avx2",
                        help="host (AVX-512: vpdpbusd on zmm), avx2 "
                        "(x86-64-v3: vpmaddwd on ymm)")
    parser.add_argument("--no-onednn", action="store_true")
    parser.add_argument("--markdown")
    args = parser.parse_args()
    runner = os.path.join(args.build, "bin", "bitserial-run")
    tool = os.path.join(args.build, "bin", "bitserial-baselines")
    layers = args.layers.split(",") if args.layers else []
    configs = args.configs.split(",")
    targets = args.targets.split(",")
    lines = []

    def emit(line=""):
        print(line, flush=True)
        lines.append(line)

    onednn = {}
    stem_onednn = None
    if not args.no_onednn and os.path.exists(tool):
        if layers:
            data = baselines(tool, ["--layers", ",".join(layers), "--skip",
                                    "peak", "--skip", "int16"], args.rounds)
            onednn = {l["name"]: (l["onednn_int8_ms"], l["onednn_int8_min_ms"])
                      for l in data["layers"]
                      if l.get("onednn_int8_ms") is not None}
        stem_onednn = onednn_stem(tool, args.rounds)
    emit(f"load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    emit()
    emit("Median (fastest call) ms; ratios of the fastest calls.")
    emit()
    header = ("| op | target | int8 ms | bit-serial ms | bit-serial / int8 "
              "| oneDNN int8 ms | int8 / oneDNN |")
    emit(header)
    emit("|" + "---|" * 7)

    def row(name, target, text_of, reference):
        int8 = time_module(runner, text_of("true"), target, args.repeat,
                           args.rounds)
        serial = time_module(runner, text_of("false"), target, args.repeat,
                             args.rounds)
        ref = f"{reference[0]:.3f} ({reference[1]:.3f})" if reference else "-"
        ratio = f"{int8[1] / reference[1]:.2f}x" if reference else "-"
        emit(f"| {name} | {target} | {int8[0]:.3f} ({int8[1]:.3f}) | "
             f"{serial[0]:.3f} ({serial[1]:.3f}) | {serial[1] / int8[1]:.2f}x "
             f"| {ref} | {ratio} |")

    for target in targets:
        row("stem matmul A8W4 (12544x147x64)", target, stem_module,
            stem_onednn if target == "host" else None)
    for config in configs:
        for layer in layers:
            for target in targets:
                row(f"{layer} {config}", target,
                    lambda force: conv_module(layer, config, force),
                    onednn.get(layer) if target == "host" else None)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
