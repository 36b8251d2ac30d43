#!/usr/bin/python3
"""Fused epilogues: 1x1 layers with a threshold, fused into the kernel or not.

    benchmarks/fusion.py [--build build] [--repeat 50] [--rounds 3] [--target host]

Times bitserial.conv2d followed by bitserial.threshold on the 1x1 layers C5,
C8 and C11 of ResNet-18 (background.md) at A1W1 and A2W1, with thresholds to
1-bit bipolar and 2-bit unsigned codes: fused (the vector kernel applies the
threshold to its registers and stores packed codes) and unfused (a
`tensor.cast` between the two ops keeps them apart: the kernel stores i32
accumulators, the reference threshold lowering reads them). Prints the median
ms of each (the lowest of --rounds medians of --repeat calls, see run.py) and
the speedup, and the convolution alone (i32 out) for scale; --markdown FILE
writes the table.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import CONFIGS, LAYERS, packed, time_module  # noqa: E402

CODES = {"1-bit": (1, "bipolar"), "2-bit": (2, "unsigned")}


def conv_only(layer, config):
    """The convolution alone, storing i32 (for scale)."""
    h, w, cin, cout, k, s, p = LAYERS[layer]
    (ba, ea), (bw, ew) = CONFIGS[config]
    oh, ow = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
    tx = packed((1, h, w), ba, ea, cin)
    tf = packed((cout, k, k), bw, ew, cin)
    acc = f"tensor<1x{oh}x{ow}x{cout}xi32>"
    return f"""func.func @main(%x: {tx}, %f: {tf}) -> {acc} {{
  %zero = arith.constant 0 : i32
  %empty = tensor.empty() : {acc}
  %init = linalg.fill ins(%zero : i32) outs(%empty : {acc}) -> {acc}
  %r = bitserial.conv2d ins(%x, %f : {tx}, {tf}) outs(%init : {acc})
      strides = [{s}, {s}] padding = [{p}, {p}, {p}, {p}] -> {acc}
  return %r : {acc}
}}
"""


def module(layer, config, codes, fused):
    h, w, cin, cout, k, s, p = LAYERS[layer]
    (ba, ea), (bw, ew) = CONFIGS[config]
    bits, encoding = CODES[codes]
    oh, ow = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
    tx = packed((1, h, w), ba, ea, cin)
    tf = packed((cout, k, k), bw, ew, cin)
    ty = packed((1, oh, ow), bits, encoding, cout)
    acc = f"tensor<1x{oh}x{ow}x{cout}xi32>"
    tt = f"tensor<{cout}x{(1 << bits) - 1}xi32>"
    apart = "" if fused else f"  %a = tensor.cast %r : {acc} to {acc}\n"
    use = "%r" if fused else "%a"
    return f"""func.func @main(%x: {tx}, %f: {tf}, %t: {tt}) -> {ty} {{
  %zero = arith.constant 0 : i32
  %empty = tensor.empty() : {acc}
  %init = linalg.fill ins(%zero : i32) outs(%empty : {acc}) -> {acc}
  %r = bitserial.conv2d ins(%x, %f : {tx}, {tf}) outs(%init : {acc})
      strides = [{s}, {s}] padding = [{p}, {p}, {p}, {p}] -> {acc}
{apart}  %y = bitserial.threshold {use}, %t : {acc}, {tt} -> {ty}
  return %y : {ty}
}}
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", default=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "build"))
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--target", default="host",
                        help="x86-avx2 (compiled for znver3, or skylake on Intel), host, or host-2t")
    parser.add_argument("--layers", default="C5,C8,C11")
    parser.add_argument("--markdown", help="also write the table to this file")
    args = parser.parse_args()
    runner = os.path.join(args.build, "bin", "bitserial-run")
    lines = ["| layer | config | codes | conv alone ms | unfused ms | fused ms | speedup |",
             "|---|---|---|---:|---:|---:|---:|"]
    print(f"target {args.target}, median of {args.repeat} calls, best of {args.rounds}")
    for layer in args.layers.split(","):
        for config in ("A1W1", "A2W1"):
            alone = time_module(runner, conv_only(layer, config), args.target,
                                args.repeat, args.rounds)
            for codes in CODES:
                times = [time_module(runner, module(layer, config, codes, fused),
                                     args.target, args.repeat, args.rounds)
                         for fused in (False, True)]
                line = (f"| {layer} | {config} | {codes} | {alone:.4f} | {times[0]:.4f} | "
                        f"{times[1]:.4f} | {times[0] / times[1]:.2f}x |")
                print(line, flush=True)
                lines.append(line)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
