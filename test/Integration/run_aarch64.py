"""Calls @main of an MLIR module compiled for AArch64 under qemu.

    run_aarch64.py --compiler BITSERIAL_COMPILE --target TARGET
        [--qemu-cpu CPU] --like RESULT.npy --work DIR MODULE.mlir OUT.npy
        IN0.npy [IN1.npy ...]

bitserial-compile writes an object and header for TARGET, differential.py's
C harness (bitserial.differential.write_harness) calls _mlir_ciface_main on
the raw inputs, aarch64-linux-gnu-gcc links it statically, qemu-aarch64 runs
it, and the result (shaped and typed like RESULT.npy) goes to OUT.npy.
"""
import argparse
import os
import subprocess
import sys

import numpy as np

from bitserial.differential import write_harness

parser = argparse.ArgumentParser()
parser.add_argument("--compiler", required=True)
parser.add_argument("--target", required=True)
parser.add_argument("--qemu-cpu", default="cortex-a53")
parser.add_argument("--like", required=True)
parser.add_argument("--work", required=True)
parser.add_argument("module")
parser.add_argument("out")
parser.add_argument("inputs", nargs="+")
args = parser.parse_args()

os.makedirs(args.work, exist_ok=True)
inputs = [np.load(p) for p in args.inputs]
like = np.load(args.like)
for i, array in enumerate(inputs):
    np.ascontiguousarray(array).tofile(os.path.join(args.work, f"in{i}.bin"))
write_harness(os.path.join(args.work, "harness.c"), inputs, like)
steps = [[args.compiler, os.path.abspath(args.module), "--target", args.target,
          "-o", "case.o", "--header", "case.h"],
         ["aarch64-linux-gnu-gcc", "-O1", "-static", "-o", "harness",
          "harness.c", "case.o"],
         ["qemu-aarch64", "-cpu", args.qemu_cpu, "./harness"]]
for step in steps:
    proc = subprocess.run(step, cwd=args.work, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"run_aarch64.py: {step[0]} exited {proc.returncode}: "
                 f"{proc.stderr.strip()[:2000]}")
raw = np.fromfile(os.path.join(args.work, "out.bin"), dtype=np.uint8)
shape = tuple(int(v) for v in raw[:8 * like.ndim].view(np.int64))
np.save(args.out, raw[8 * like.ndim:].view(like.dtype).reshape(shape))
