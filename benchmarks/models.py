#!/usr/bin/python3
"""End-to-end latency of the example networks (python/bitserial/models.py).

    benchmarks/models.py [--build build] [--resolution 224] [--repeat 20]
                         [--threads 1,2] [--profile] [--markdown FILE]

Generates the binarized ResNet-18 (batch 1, NHWC, A1W1 body, 8-bit stem and
classifier, f32 scores) and the binarized MLP into BUILD/benchmarks/models,
checks one call of each against the NumPy evaluation (exact; f32 bit for
bit), and times them with bitserial-run --repeat (median of single calls;
the lowest median of --rounds runs; the machines are shared). Compilation
is not timed.

--profile times each part of the ResNet alone (stem, max pool, the residual
stream's requantize, each BasicBlock with its two thresholds, global pool,
head) as a function of its inputs on random values, since the runner has no
per-layer timer; the sum of the parts is printed next to the whole.

With bitserial-baselines built (oneDNN), also runs its whole-network mode
(--network resnet18: the same ResNet-18 shape in oneDNN int8 and fp32) in the
same run.
"""

import argparse
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "python"))

from bitserial import models  # noqa: E402

TIME_RE = re.compile(r"median ([0-9.]+) ms, min ([0-9.]+) ms, max ([0-9.]+) ms")
TARGET_RE = re.compile(r"target: (.*)")


def run_timed(runner, path, inputs, repeat, threads, extra=(), use_min=False):
    cmd = [runner, path, "--repeat", str(repeat), "--num-threads", str(threads),
           "--no-check-inputs", *extra]
    for x in inputs:
        cmd += ["--input", x]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{out.stderr}")
    m = TIME_RE.search(out.stdout)
    t = TARGET_RE.search(out.stdout)
    return float(m.group(2 if use_min else 1)), (t.group(1).strip() if t else "?")


def best_of(rounds, fn):
    best, info = None, None
    for _ in range(rounds):
        ms, info = fn()
        best = ms if best is None else min(best, ms)
    return best, info


def check_once(runner, base, inputs, extra=()):
    out = base + ".out.npy"
    cmd = [runner, base + ".mlir", "--output", out, *extra]
    for x in inputs:
        cmd += ["--input", x]
    subprocess.run(cmd, check=True, capture_output=True)
    import numpy as np
    expected = np.load(base + ".expected0.npy")
    actual = np.load(out)
    if expected.dtype == np.float32 and actual.dtype == np.int32:
        actual = actual.view(np.float32)
    err = models.compare(expected, actual)
    return "exact" if err is None else f"MISMATCH: {err}"


def generate(kind, outdir, args, **kw):
    """Writes the model, its input and the NumPy evaluation; returns (builder, base)."""
    import numpy as np
    os.makedirs(outdir, exist_ok=True)
    if kind == "mlp":
        b, text = models.mlp(epilogue=args.epilogue, float_abi=args.float_abi, **kw)
    else:
        b, text = models.resnet18(resolution=args.resolution, epilogue=args.epilogue,
                                  float_abi=args.float_abi, calib_batch=1,
                                  stem_wbits=args.stem_wbits, **kw)
    base = os.path.join(outdir, kind)
    with open(base + ".mlir", "w") as f:
        f.write(text)
    inputs = models._random_input(b, 1)
    paths = []
    for i, x in enumerate(inputs):
        paths.append(f"{base}.input{i}.npy")
        np.save(paths[-1], x)
    expected = models.evaluate(b.graph(), inputs)
    np.save(base + ".expected0.npy", expected[0])
    return b, base, paths


def profile_parts(builder):
    """(label, first node, last node) of the ResNet's parts, in order."""
    marks, block = [], 0
    stages = {64: 1, 128: 2, 256: 3, 512: 4}
    seen_stem = False
    for i, (op, ins, p) in enumerate(builder.nodes):
        if op == "conv2d" and not seen_stem:
            marks.append((f"stem 7x7/2: im2col, pack, matmul 8-bit x {p['w_bits']}-bit", i))
            seen_stem = True
        elif op == "max_pool":
            marks.append(("max pool 3x3/2", i))
        elif op == "requantize" and block == 0:
            marks.append(("requantize to the residual stream", i))
        elif op == "conv2d" and p["has_init"]:
            co = p["w"].shape[0]
            block += 1
            marks.append((f"block {block} (stage {stages.get(co, '?')}, {co} ch)", i))
        elif op == "sum_pool":
            marks.append(("global sum pool", i))
        elif op == "dequantize":
            marks.append(("requantize, pack, classifier 8-bit x 8-bit, dequantize", i))
    parts, first = [], 1  # node 0 is the input
    for label, last in marks:
        parts.append((label, first, last))
        first = last + 1
    return parts


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    p.add_argument("--resolution", type=int, default=224)
    p.add_argument("--repeat", type=int, default=20)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--threads", default="1,2")
    p.add_argument("--epilogue", choices=("ops", "linalg"), default="ops")
    p.add_argument("--float-abi", choices=("native", "bits"), default="native")
    p.add_argument("--stem-wbits", type=int, default=4)
    p.add_argument("--profile", action="store_true")
    p.add_argument("--skip-baselines", action="store_true")
    p.add_argument("--markdown", help="also write the tables to this file")
    args = p.parse_args()

    runner = os.path.join(args.build, "bin", "bitserial-run")
    baselines = os.path.join(args.build, "bin", "bitserial-baselines")
    outdir = os.path.join(args.build, "benchmarks", "models")
    threads = [int(t) for t in args.threads.split(",")]
    lines = []

    def say(s=""):
        print(s, flush=True)
        lines.append(s)

    say(f"# bitserial models benchmark ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
        f"load {os.getloadavg()[0]:.2f})")
    rn, rn_base, rn_in = generate("resnet18", outdir, args)
    info = models.weight_bytes(rn)
    size = os.path.getsize(rn_base + ".mlir")
    say(f"ResNet-18 {args.resolution}x{args.resolution}: {rn_base}.mlir {size / 1e6:.2f} MB; "
        f"weights {info['parameters']} parameters: {info['packed_bytes'] / 1e6:.2f} MB packed, "
        f"{info['int8_bytes'] / 1e6:.2f} MB int8, {info['fp32_bytes'] / 1e6:.2f} MB fp32")
    t0 = time.time()
    verdict = check_once(runner, rn_base, rn_in)
    say(f"one call (compile + run) {time.time() - t0:.1f} s; result against NumPy: {verdict}")
    mlp, mlp_base, mlp_in = generate("mlp", outdir, args)
    say(f"MLP: result against NumPy: {check_once(runner, mlp_base, mlp_in)}")
    say()
    say("| network | threads | median ms | fastest call ms | kernels |")
    say("|---|---|---|---|---|")
    for name, base, inputs in (("ResNet-18", rn_base, rn_in), ("MLP", mlp_base, mlp_in)):
        for t in threads:
            ms, target = best_of(args.rounds, lambda: run_timed(
                runner, base + ".mlir", inputs, args.repeat, t))
            fastest, _ = best_of(1, lambda: run_timed(
                runner, base + ".mlir", inputs, args.repeat, t, use_min=True))
            label = f"{args.resolution}x{args.resolution}" if name == "ResNet-18" else "B=1"
            say(f"| {name} {label} | {t} | {ms:.3f} | {fastest:.3f} | {target} |")

    if args.profile:
        say()
        say("Per part: each part alone as a function on random inputs (its packed or i32")
        say("inputs as arguments), 1 thread, ms:")
        say()
        say("| part | median | fastest call |")
        say("|---|---|---|")
        total_med = total_min = 0.0
        for i, (label, first, last) in enumerate(profile_parts(rn)):
            path = f"{rn_base}.part{i}.mlir"
            with open(path, "w") as f:
                f.write(rn.part(first, last))
            med, _ = best_of(args.rounds, lambda: run_timed(
                runner, path, [], args.repeat, 1, extra=("--random-inputs",)))
            fast, _ = best_of(1, lambda: run_timed(
                runner, path, [], args.repeat, 1, extra=("--random-inputs",), use_min=True))
            total_med += med
            total_min += fast
            say(f"| {label} | {med:.3f} | {fast:.3f} |")
        say(f"| sum of the parts | {total_med:.3f} | {total_min:.3f} |")

    if args.profile:
        # The runner's own per-op profile of the whole network, summed per op.
        cmd = [runner, rn_base + ".mlir", "--profile", "--repeat", str(args.repeat),
               "--no-check-inputs"] + [a for x in rn_in for a in ("--input", x)]
        out = subprocess.run(cmd, capture_output=True, text=True)
        rows, inside = {}, False
        for line in out.stdout.splitlines():
            if line.startswith("profile of"):
                inside = True
                continue
            f = line.split()
            if not inside or len(f) < 4 or not f[-1].endswith("%") or f[0] == "op":
                continue
            try:
                ms, share = float(f[-2]), float(f[-1][:-1])
            except ValueError:
                continue
            total, pct = rows.get(f[0], (0.0, 0.0))
            rows[f[0]] = (total + ms, pct + share)
        if rows:
            say()
            say(f"bitserial-run --profile of the whole network ({args.repeat} calls, summed per op):")
            say()
            say("| op | total ms | share |")
            say("|---|---|---|")
            for op, (ms, pct) in sorted(rows.items(), key=lambda r: -r[1][0]):
                if op != "total":
                    say(f"| {op} | {ms:.3f} | {pct:.1f}% |")
            if "total" in rows:
                say(f"| total | {rows['total'][0]:.3f} | 100% |")
        elif out.returncode != 0:
            say(f"bitserial-run --profile failed: {out.stderr.strip()[:200]}")

    if not args.skip_baselines and os.path.exists(baselines):
        say()
        say("oneDNN, the same ResNet-18 shape (bitserial-baselines --network resnet18):")
        for t in threads:
            out = subprocess.run([baselines, "--network", "resnet18", "--threads", str(t),
                                  "--resolution", str(args.resolution)],
                                 capture_output=True, text=True)
            if out.returncode != 0:
                say(f"  threads {t}: failed: {out.stderr.strip()}")
                continue
            for line in out.stdout.splitlines():
                if line.startswith("network") or line.startswith("  part"):
                    say(f"  threads {t}: {line.strip()}")
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
