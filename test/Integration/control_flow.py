"""Runs the entries of control-flow.mlir under several lowerings and checks
each result against NumPy.

    control_flow.py --runner BITSERIAL_RUN --work DIR [--configs A,B] MODULE.mlir

Every entry gets seeded random inputs in the ranges its packs accept; the
expected value is computed here from the decoded integers (bitserial's
NumPy reference for conv2d, plain int64 matmul otherwise). Prints one line
per run and a summary; exits 1 on any mismatch or failed run.
"""
import argparse
import os
import subprocess
import sys

import numpy as np

import bitserial

CONFIGS = {
    "reference": ["--strategy", "reference"],
    "vector": ["--strategy", "vector"],
    "vector-generic": ["--strategy", "vector", "--target", "generic"],
    "reference-tile": ["--strategy", "reference", "--tile"],
    "vector-tile": ["--strategy", "vector", "--tile"],
    "vector-threads": ["--strategy", "vector", "--num-threads", "2"],
}
DEFAULT_CONFIGS = "reference,vector,vector-tile,vector-threads"


def signed2(rng, shape):
    return rng.integers(-2, 2, shape).astype(np.int8)


def unsigned2(rng, shape):
    return rng.integers(0, 4, shape).astype(np.int8)


def bipolar1(rng, shape):
    return (2 * rng.integers(0, 2, shape) - 1).astype(np.int8)


def acc(rng, shape, dtype):
    # i64 accumulators get values beyond the i32 range.
    limit = 1000 if dtype == np.int32 else 2**40
    return rng.integers(-limit, limit, shape).astype(dtype)


def mm(x, w):
    return x.astype(np.int64) @ w.astype(np.int64).T


def matmul_accumulate(rng, dtype=np.int32):
    x, w, init = signed2(rng, (4, 3, 130)), bipolar1(rng, (5, 130)), acc(rng, (3, 5), dtype)
    return [x, w, init], init + sum(mm(x[t], w) for t in range(4))


def conv_accumulate(rng):
    x = unsigned2(rng, (3, 1, 5, 6, 70))
    f = bipolar1(rng, (4, 3, 3, 70))
    init = acc(rng, (1, 5, 6, 4), np.int32)
    total = init.astype(np.int64)
    for t in range(3):
        total = bitserial.conv2d(x[t].astype(np.int64), f.astype(np.int64),
                                 padding=(1, 1, 1, 1), init=total)
    return [x, f, init], total


def packed_iter_args(rng):
    x, w, init = signed2(rng, (4, 3, 130)), bipolar1(rng, (5, 130)), acc(rng, (3, 5), np.int32)
    return [x, w, init], init + mm(x[3], w)


def packed_and_accumulator(rng):
    x, w, init = signed2(rng, (4, 3, 130)), bipolar1(rng, (5, 130)), acc(rng, (3, 5), np.int32)
    return [x, w, init], init + sum(mm(x[t], w) for t in range(3))


def packed_if(rng, select):
    x, w, init = signed2(rng, (2, 3, 130)), bipolar1(rng, (5, 130)), acc(rng, (3, 5), np.int64)
    sel = np.array([select], dtype=np.int32)
    return [sel, x, w, init], init + mm(x[0 if select > 0 else 1], w)


def packed_calls(rng):
    x, w, init = signed2(rng, (3, 130)), bipolar1(rng, (5, 130)), acc(rng, (3, 5), np.int32)
    return [x, w, init], init + 2 * mm(x, w)


def constant_init(rng):
    x, w = signed2(rng, (1, 130)), bipolar1(rng, (7, 130))
    init = np.array([[1, -2, 3, -4, 5, -6, 7]], dtype=np.int32)
    return [x, w], init + mm(x, w), np.int32


def init_reused(rng):
    x, w, init = signed2(rng, (2, 1, 130)), bipolar1(rng, (7, 130)), acc(rng, (1, 7), np.int32)
    return [x, w, init], 2 * init + mm(x[0], w) + mm(x[1], w)


# (case name, entry, input and expected-value maker)
CASES = [
    ("matmul_accumulate", "matmul_accumulate", matmul_accumulate),
    ("matmul_accumulate_i64", "matmul_accumulate_i64",
     lambda rng: matmul_accumulate(rng, np.int64)),
    ("conv_accumulate", "conv_accumulate", conv_accumulate),
    ("packed_iter_args", "packed_iter_args", packed_iter_args),
    ("packed_and_accumulator", "packed_and_accumulator", packed_and_accumulator),
    ("packed_while", "packed_while", packed_and_accumulator),
    ("packed_if_then", "packed_if", lambda rng: packed_if(rng, 7)),
    ("packed_if_else", "packed_if", lambda rng: packed_if(rng, -3)),
    ("packed_branches_then", "packed_branches", lambda rng: packed_if(rng, 1)),
    ("packed_branches_else", "packed_branches", lambda rng: packed_if(rng, 0)),
    ("packed_calls", "packed_calls", packed_calls),
    ("constant_init", "constant_init", constant_init),
    ("init_reused", "init_reused", init_reused),
]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runner", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--configs", default=DEFAULT_CONFIGS,
                        help="comma-separated names of CONFIGS")
    parser.add_argument("module")
    args = parser.parse_args()
    passed = failed = 0
    module = args.module
    for c, (name, entry, make) in enumerate(CASES):
        rng = np.random.default_rng(c)
        inputs, expected, *dtype = make(rng)
        dtype = dtype[0] if dtype else inputs[-1].dtype
        paths = []
        for i, array in enumerate(inputs):
            paths.append(os.path.join(args.work, f"{name}-in{i}.npy"))
            np.save(paths[-1], array)
        for config in args.configs.split(","):
            out = os.path.join(args.work, f"{name}-{config}.npy")
            command = [args.runner, module, "--entry", entry, "--output", out]
            command += [a for p in paths for a in ("--input", p)]
            command += CONFIGS[config]
            run = subprocess.run(command, capture_output=True, text=True)
            label = f"{os.path.basename(module)} {name} {config}"
            if run.returncode != 0:
                print(f"MISMATCH {label}: exit {run.returncode}: {run.stderr.strip()}")
                failed += 1
                continue
            result = np.load(out)
            if result.dtype != dtype or not np.array_equal(result, expected):
                print(f"MISMATCH {label}:", result, expected, sep="\n")
                failed += 1
                continue
            print(f"exact: {label} {list(result.shape)}")
            passed += 1
    print(f"control-flow: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
