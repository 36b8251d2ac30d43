#!/usr/bin/python3
"""The x86 benchmark: bitserial kernels against baselines measured in the same run.

    benchmarks/run.py [--build build] [--repeat 30] [--min-ms 200] [--layers C2,C6] [--init zero|argument] [--thread-runtime team|libomp] [--markdown FILE]

Runs bitserial-baselines twice (oneDNN at its best ISA, and capped to AVX2,
as on an AVX2-only machine), then times bitserial.conv2d on the ResNet-18
layers C2-C12 (background.md) at A1W1 (bipolar x bipolar), A2W1 (unsigned x
bipolar) and A2W2 (unsigned x signed), and bitserial.matmul dense layers
(M = 1 and 64, K = N = 4096), each with the x86-avx2 and the host kernels
(host also on 2 threads, on bitserial-run's thread team or with
--thread-runtime libomp on libomp: output rows and channel parts in parallel, with
the popcount loops' own 2-thread speedup as the ceiling, and a cache line's
round trip between two threads before and after each table: on a virtual
machine the vCPUs can be near or far apart, which 2-thread times follow),
through bitserial-run --repeat (median of single calls, at least --repeat
and enough to span --min-ms, as the baselines' medians; packed activations
in, i32 out; the filters constants of the module, re-laid out at compile
time as oneDNN's weights are reordered outside its timed calls, or with
--weights argument re-laid out in every call, for the dense layers too;
the lowest of --rounds such medians, the rounds alternating between
the targets, and likewise for the baselines). Prints tables of median ms, binary G op/s (one op = one AND'ed bit
pair counted = MACs x bits_a x bits_w), percent of the AND+popcount peak
measured by bitserial-baselines (AVX2 vpshufb on operands split into
nibbles, as the avx2 kernel stores them, for the avx2 kernel; 512-bit
vpopcntq for the AVX-512 kernel; marked "int8" or "lookup" where the
cost model chose the int8 or the table-lookup kernel, which can pass it),
and speedups against oneDNN
int8 / fp32
and the int16 GEMM, and (for all of C2-C12) the ratios to Apache TVM
0.13's fixed figures (TVM_SUM_MS). Dense M = 1 rows also give the weights' bytes per
second against the read bandwidth bitserial-baselines measures (again,
right before the dense table) for a buffer of their size (read
repeatedly: cache-resident where it fits, as the weights are across the
timed calls), and, timed again with every call
preceded by two passes over a 256 MiB buffer (bitserial-run --cold) so
that the weights come from memory, against that of a 256 MiB buffer
(memory) and against a plain read of as many bytes timed the same way
(bitserial-baselines' cold read: the best loop, after the same passes).
"""

import argparse
import json
import math
import os
import re
import subprocess
import sys
import tempfile

# The baselines' memory read bandwidth is that of a buffer this large; dense
# M = 1's cold calls follow passes over one as large.
MEMORY_BUFFER_MIB = 256

LAYERS = {  # name: (H, W, Cin, Cout, K, stride, pad)
    "C2": (56, 56, 64, 64, 3, 1, 1), "C3": (56, 56, 64, 64, 1, 1, 0),
    "C4": (56, 56, 64, 128, 3, 2, 1), "C5": (56, 56, 64, 128, 1, 2, 0),
    "C6": (28, 28, 128, 128, 3, 1, 1), "C7": (28, 28, 128, 256, 3, 2, 1),
    "C8": (28, 28, 128, 256, 1, 2, 0), "C9": (14, 14, 256, 256, 3, 1, 1),
    "C10": (14, 14, 256, 512, 3, 2, 1), "C11": (14, 14, 256, 512, 1, 2, 0),
    "C12": (7, 7, 512, 512, 3, 1, 1),
}
CONFIGS = {  # name: ((bits, encoding) of activations, of weights)
    "A1W1": ((1, "bipolar"), (1, "bipolar")),
    "A2W1": ((2, "unsigned"), (1, "bipolar")),
    "A2W2": ((2, "unsigned"), (2, "signed")),
}
# Calls per median at most (--min-ms on a layer of a few us).
MAX_CALLS = 100000
# bitserial-run's --thread-runtime for the 2-thread target (None: its
# default, the thread team).
THREAD_RUNTIME = None

TARGETS = ["x86-avx2", "host", "host-2t"]


def avx2_cpu():
    """The CPU the x86-avx2 kernels are compiled for: an AVX2-only CPU (no
    AVX-512, no VNNI) of the host's vendor, whose code runs on the host (code
    for Zen 3 needs AMD's SSE4a)."""
    try:
        with open("/proc/cpuinfo") as f:
            amd = "AuthenticAMD" in f.read()
    except OSError:
        amd = False
    return "znver3" if amd else "skylake"


AVX2_CPU = avx2_cpu()
# Apache TVM 0.13's bit-serial x86 schedules (tuned tiles, AVX-512 target,
# unsigned operands), 1 thread, measured on a Zen 5 machine of this kind on
# 30 Nov 2026 (background.md): a fixed reference, as TVM is not installed
# here. oneDNN int8 took TVM_ONEDNN_SUM_MS over C2-C12 in that run; these
# virtual machines' speed moves between days, so the ratios are also given
# with TVM's times scaled by how much oneDNN's sum moved since.
TVM_SUM_MS = {"A1W1": 0.67, "A2W1": 1.19, "A2W2": 2.84}
TVM_A1W1_MS = {"C2": 0.109, "C3": 0.054, "C4": 0.077, "C5": 0.044,
               "C6": 0.084, "C7": 0.053, "C8": 0.024, "C9": 0.079,
               "C10": 0.050, "C11": 0.014, "C12": 0.082}
TVM_ONEDNN_SUM_MS = 1.26


def packed(shape, bits, encoding, length):
    words = (length + 63) // 64
    dims = "x".join(str(d) for d in list(shape) + [bits, words])
    return (f"tensor<{dims}xi64, #bitserial.packed<bits = {bits}, "
            f"encoding = {encoding}, length = {length}>>")


def constant_words(shape, bits, length, seed):
    """A dense literal of random packed words (every bit inside `length`)."""
    import numpy as np
    words = (length + 63) // 64
    rng = np.random.default_rng(seed)
    data = rng.integers(0, 1 << 63, tuple(shape) + (bits, words), dtype=np.int64)
    data ^= rng.integers(0, 2, data.shape, dtype=np.int64) << 63
    if length % 64:
        data[..., -1] &= (1 << (length % 64)) - 1
    return f'dense<"0x{data.astype("<i8").tobytes().hex().upper()}">'


def zero_init(to):
    """Lines defining %init as a zero-filled `to` (a fresh output, as
    oneDNN's dst, which the baselines write without accumulating)."""
    return (f"  %c0_i32 = arith.constant 0 : i32\n"
            f"  %empty = tensor.empty() : {to}\n"
            f"  %init = linalg.fill ins(%c0_i32 : i32) outs(%empty : {to})"
            f" -> {to}\n")


def main_header(activation, weight, weight_type, literal, to, weights, init):
    """The start of @main returning `to`: the `activation` argument, the
    weight (`weight`: `weight_type`) as an argument or, with
    weights="constant", a constant holding `literal()`, and %init as an
    argument or, with init="zero", a zero fill."""
    params = [activation]
    if weights != "constant":
        params.append(f"{weight}: {weight_type}")
    if init != "zero":
        params.append(f"%init: {to}")
    header = f"func.func @main({', '.join(params)}) -> {to} {{\n"
    if weights == "constant":
        header += f"  {weight} = arith.constant {literal()} : {weight_type}\n"
    if init == "zero":
        header += zero_init(to)
    return header


def conv_module(layer, config, weights="constant", init="zero"):
    """The layer as @main; with weights="constant" the filter is a constant
    of the module (as in a deployed network, and as oneDNN's weights are
    reordered before its timed calls), else an argument re-laid out on every
    call. With init="zero" the accumulator starts at zero (the call writes
    its output only, as oneDNN's convolution does), else it is an argument
    the call reads and adds to."""
    h, w, cin, cout, k, s, p = LAYERS[layer]
    (ba, ea), (bw, ew) = CONFIGS[config]
    oh, ow = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
    tx = packed((1, h, w), ba, ea, cin)
    tf = packed((cout, k, k), bw, ew, cin)
    to = f"tensor<1x{oh}x{ow}x{cout}xi32>"
    header = main_header(f"%x: {tx}", "%f", tf,
                         lambda: constant_words((cout, k, k), bw, cin, 1), to,
                         weights, init)
    return header + f"""  %r = bitserial.conv2d ins(%x, %f : {tx}, {tf}) outs(%init : {to})
      strides = [{s}, {s}] padding = [{p}, {p}, {p}, {p}] -> {to}
  return %r : {to}
}}
""", oh * ow * cout * k * k * cin * ba * bw


def dense_module(m, config, k=4096, n=4096, weights="constant", init="zero"):
    """An M x K by N x K matmul as @main; `weights` and `init` as for
    conv_module. Returns the text, the AND'ed bit pairs and the bytes of the
    packed weights."""
    (ba, ea), (bw, ew) = CONFIGS[config]
    ta, tb = packed((m,), ba, ea, k), packed((n,), bw, ew, k)
    to = f"tensor<{m}x{n}xi32>"
    header = main_header(f"%a: {ta}", "%b", tb,
                         lambda: constant_words((n,), bw, k, 1), to, weights,
                         init)
    return header + f"""  %r = bitserial.matmul ins(%a, %b : {ta}, {tb}) outs(%init : {to}) -> {to}
  return %r : {to}
}}
""", m * n * k * ba * bw, n * bw * ((k + 63) // 64) * 8


def run_once(runner, path, target, repeat, kernels=None, extra=()):
    """The median of one bitserial-run --repeat process, in ms."""
    threads = ["--num-threads", "2"] if target.endswith("-2t") else []
    if threads and THREAD_RUNTIME:
        threads += ["--thread-runtime", THREAD_RUNTIME]
    target = target.removesuffix("-2t")
    out = subprocess.run(
        [runner, path, "--random-inputs", "--seed", "1", "--repeat",
         str(repeat), "--target", target, "-O3"] + threads
        # The AVX2 kernel is compiled for an AVX2-only CPU, as it
        # would run on an AVX2-only machine.
        + (["--cpu", AVX2_CPU] if target == "x86-avx2" else [])
        + (["--print-kernels"] if kernels is not None else [])
        + list(extra),
        capture_output=True, text=True, check=True)
    if kernels is not None:
        kernels.update(re.findall(r"remark: kernel (\w+)", out.stderr))
    return float(re.search(r"median ([0-9.]+) ms", out.stdout).group(1))


def time_targets(runner, text, targets, repeat, rounds, kernels=None,
                 extra=(), min_ms=0.0):
    """For each target, the lowest of `rounds` medians of at least `repeat`
    calls; the rounds go over the targets in turn, so that the machine's
    slow and fast phases reach all of them alike. With `min_ms`, an untimed
    first process sizes each target's medians to span at least that many ms
    of calls, as the baselines' do (a median of 30 calls of a few us spans a
    moment of the machine). `kernels` (target -> set) collects the kernel
    each op's cost model chose ("bitserial", "int8", "lookup"); `extra`
    holds more bitserial-run options."""
    with tempfile.NamedTemporaryFile("w", suffix=".mlir", delete=False) as f:
        f.write(text)
    calls = dict.fromkeys(targets, repeat)
    medians = {t: [] for t in targets}
    try:
        if min_ms:
            for t in targets:
                ms = run_once(runner, f.name, t, repeat, extra=extra)
                if ms > 0:
                    calls[t] = min(max(repeat, math.ceil(min_ms / ms)),
                                   MAX_CALLS)
        for _ in range(rounds):
            for t in targets:
                medians[t].append(run_once(
                    runner, f.name, t, calls[t],
                    kernels[t] if kernels is not None else None, extra))
    finally:
        os.unlink(f.name)
    return {t: min(m) for t, m in medians.items()}


def time_module(runner, text, target, repeat, rounds, kernels=None, extra=()):
    """time_targets for one target, with a fixed number of calls."""
    found = {target: kernels} if kernels is not None else None
    return time_targets(runner, text, [target], repeat, rounds, found,
                        extra)[target]


def percent_of_peak(gops, peak, kernels, target):
    """The AND+popcount peak's share, marked "int8" or "lookup" where the
    cost model chose the int8 or the table-lookup kernel (which the popcount
    peak does not bound: the share says how far they pass it)."""
    share = f"{100 * gops[target] / peak[target]:.0f}%"
    for other in ("int8", "lookup"):
        if other in kernels[target]:
            return f"{other} {share}"
    return share


def baselines(tool, extra, rounds):
    """bitserial-baselines' JSON, with each layer's times the lowest of
    `rounds` runs and the popcount peaks the highest."""
    best = None
    for _ in range(rounds):
        with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
            path = f.name
        subprocess.run([tool, "--json", path] + extra, check=True,
                       stdout=subprocess.DEVNULL)
        with open(path) as f:
            data = json.load(f)
        os.unlink(path)
        if best is None:
            best = data
            continue
        for old, new in zip(best["layers"], data["layers"]):
            for key in ("onednn_int8_ms", "onednn_int8_low_ms",
                        "onednn_fp32_ms", "int16_gemm_ms"):
                if new.get(key) is not None and (old.get(key) is None or
                                                 new[key] < old[key]):
                    old[key] = new[key]
        for key, value in data["popcount_peak"].items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                old = best["popcount_peak"].get(key)
                if old is None or value > old:
                    best["popcount_peak"][key] = value
        for old, new in zip(best.get("read_bandwidth", {}).get("buffers", []),
                            data.get("read_bandwidth", {}).get("buffers", [])):
            for key in ("gbs_1thread", "cold_gbs_1thread"):
                if new.get(key) is not None and (old.get(key) is None or
                                                 new[key] > old[key]):
                    old[key] = new[key]
    return best


def round_trip_ns(tool):
    """A cache line's round trip between two threads, as bitserial-baselines
    measures it: on a virtual machine the two vCPUs may be near or far apart,
    which changes over minutes and shows in every 2-thread figure."""
    return baselines(tool, ["--threads", "2", "--layers", "C2", "--skip",
                            "onednn", "--skip", "int16", "--skip", "peak"],
                     1).get("round_trip_ns")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", default=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "build"))
    parser.add_argument("--repeat", type=int, default=30,
                        help="calls per median")
    parser.add_argument("--min-ms", type=float, default=200,
                        help="calls per median of a conv or dense layer: "
                        "--repeat or more, to span this many ms (0: exactly "
                        "--repeat); the baselines' take at least 20 calls "
                        "and 200 ms")
    parser.add_argument("--rounds", type=int, default=3,
                        help="medians per measurement, the lowest kept (the "
                        "machines are shared: this filters out periods of "
                        "contention)")
    parser.add_argument("--layers", default=",".join(LAYERS))
    parser.add_argument("--markdown", help="also write the tables to FILE")
    parser.add_argument("--weights", choices=["constant", "argument"],
                        default="constant",
                        help="filters as module constants (re-laid out at "
                        "compile time, as oneDNN's are reordered outside its "
                        "timed calls) or as arguments (re-laid out per call)")
    parser.add_argument("--init", choices=["zero", "argument"],
                        default="zero",
                        help="accumulators start at zero, the call only "
                        "writes its output (what the baselines compute), or "
                        "from an init argument the call reads and adds to")
    parser.add_argument("--thread-runtime", choices=["team", "libomp"],
                        help="what runs the 2-thread kernels (bitserial-run's "
                        "--thread-runtime; default its thread team)")
    args = parser.parse_args()
    global THREAD_RUNTIME
    THREAD_RUNTIME = args.thread_runtime
    runner = os.path.join(args.build, "bin", "bitserial-run")
    tool = os.path.join(args.build, "bin", "bitserial-baselines")
    layers = args.layers.split(",")

    lines = []
    emit = lambda s="": (print(s, flush=True), lines.append(s))
    best = baselines(tool, ["--layers", ",".join(layers)], args.rounds)
    avx2 = baselines(tool, ["--layers", ",".join(layers), "--skip", "peak",
                            "--skip", "int16", "--onednn-max-isa", "avx2"],
                     args.rounds)
    # The vpopcntq loop on 2 threads at once: how far 2 threads can scale
    # register-resident popcount work on this machine (2 vCPUs of a virtual
    # machine may share a core's vector units or its clock).
    both = baselines(tool, ["--layers", layers[0], "--threads", "2", "--skip",
                            "onednn", "--skip", "int16"], args.rounds)
    peaks = best["popcount_peak"]
    both_peaks = both["popcount_peak"]
    # The kernels' own counting methods: split-nibble lookups for AVX2 (the
    # faster of the two AVX2 loops), vpopcntq where the host has it.
    avx2_peak = max(peaks["avx2_vpshufb_1thread"],
                    peaks["avx2_split_nibbles_1thread"])
    peak = {"x86-avx2": avx2_peak,
            "host": peaks.get("avx512_vpopcntq_1thread") or avx2_peak}
    peak["host-2t"] = 2 * peak["host"]
    base = {l["name"]: l for l in best["layers"]}
    base_avx2 = {l["name"]: l for l in avx2["layers"]}
    onednn = best["onednn"]
    emit(f"oneDNN {onednn['version']} ({onednn['effective_isa']}), 1 thread; "
         f"AND+popcount peak: AVX2 {peak['x86-avx2']:.0f} G/s "
         f"(vpshufb {peaks['avx2_vpshufb_1thread']:.0f}, split nibbles "
         f"{peaks['avx2_split_nibbles_1thread']:.0f}), "
         f"host {peak['host']:.0f} G/s; table lookups at 2 x 1 bits "
         f"{peaks.get('avx2_table_lookup_2x1_1thread') or 0:.0f} G/s; "
         f"load average {best['loadavg_start']}; avx2 kernels compiled for "
         f"--cpu {AVX2_CPU}; 2 threads on "
         f"{'libomp' if THREAD_RUNTIME == 'libomp' else 'the thread team'}")
    zmm_1t = both_peaks.get("avx512_vpopcntq_1thread")
    zmm_2t = both_peaks.get("avx512_vpopcntq_all_threads")
    scalar_1t = both_peaks["scalar_popcnt64_1thread"]
    scalar_2t = both_peaks["scalar_popcnt64_all_threads"]
    ceiling = (f"vpopcntq {zmm_2t / zmm_1t:.2f}x, " if zmm_1t and zmm_2t
               else "")
    emit()
    emit(f"The popcount peak loops (registers only) on 2 threads over 1: "
         f"{ceiling}scalar popcnt {scalar_2t / scalar_1t:.2f}x")
    emit()

    sums = {}
    for config in CONFIGS:
        emit(f"### {config} ({CONFIGS[config][0][1]} x {CONFIGS[config][1][1]})")
        emit()
        trip_before = round_trip_ns(tool)
        emit("| layer | avx2 ms | host ms | host 2 threads ms | host G binop/s "
             "| host % peak | avx2 % peak "
             "| oneDNN i8 ms | oneDNN i8 (avx2) ms | x vs i8 | avx2 x vs i8 (avx2) "
             "| x vs fp32 | x vs int16 |")
        emit("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        total = {t: 0.0 for t in TARGETS}
        host_ms = {}
        for layer in layers:
            text, ops = conv_module(layer, config, args.weights, args.init)
            kernels = {t: set() for t in TARGETS}
            ms = time_targets(runner, text, TARGETS, args.repeat,
                              args.rounds, kernels, min_ms=args.min_ms)
            for t in TARGETS:
                total[t] += ms[t]
            host_ms[layer] = ms["host"]
            b, b2 = base[layer], base_avx2[layer]
            gops = {t: ops / (ms[t] * 1e6) for t in TARGETS}
            emit(f"| {layer} | {ms['x86-avx2']:.4f} | {ms['host']:.4f} "
                 f"| {ms['host-2t']:.4f} | {gops['host']:.0f} "
                 f"| {percent_of_peak(gops, peak, kernels, 'host')} "
                 f"| {percent_of_peak(gops, peak, kernels, 'x86-avx2')} "
                 f"| {b['onednn_int8_ms']:.4f} | {b2['onednn_int8_ms']:.4f} "
                 f"| {b['onednn_int8_ms'] / ms['host']:.2f} "
                 f"| {b2['onednn_int8_ms'] / ms['x86-avx2']:.2f} "
                 f"| {b['onednn_fp32_ms'] / ms['host']:.2f} "
                 f"| {b['int16_gemm_ms'] / ms['host']:.2f} |")
        s8 = sum(base[l]["onednn_int8_ms"] for l in layers)
        s8a = sum(base_avx2[l]["onednn_int8_ms"] for l in layers)
        sf = sum(base[l]["onednn_fp32_ms"] for l in layers)
        s16 = sum(base[l]["int16_gemm_ms"] for l in layers)
        sums[config] = total
        emit(f"| **sum** | {total['x86-avx2']:.3f} | {total['host']:.3f} "
             f"| {total['host-2t']:.3f} | | | "
             f"| {s8:.3f} | {s8a:.3f} | {s8 / total['host']:.2f} "
             f"| {s8a / total['x86-avx2']:.2f} | {sf / total['host']:.2f} "
             f"| {s16 / total['host']:.2f} |")
        emit()
        if all(base[l].get("onednn_int8_low_ms") is not None for l in layers):
            # AMX's speed depends on the values it multiplies: oneDNN on
            # operands of A2W2's range as well as on full-range ones.
            low = {l: base[l]["onednn_int8_low_ms"] for l in layers}
            s8low = sum(low.values())
            emit(f"oneDNN int8 on 2-bit-range data (u8 in [0, 3] x s8 in "
                 f"[-2, 1]): sum {s8low:.3f} ms, {s8low / total['host']:.2f}x "
                 f"of the host sum; per layer "
                 + ", ".join(f"{l} {low[l]:.4f} ({low[l] / host_ms[l]:.2f}x)"
                             for l in layers))
            emit()
        trip_after = round_trip_ns(tool)
        emit(f"2 threads over 1 (sum): {total['host'] / total['host-2t']:.2f}x; "
             f"a cache line's round trip between two threads {trip_before:.0f} "
             f"ns before this table, {trip_after:.0f} ns after")
        emit()
        if set(layers) == set(LAYERS):
            scale = s8 / TVM_ONEDNN_SUM_MS
            tvm = TVM_SUM_MS[config]
            emit(f"Against TVM 0.13 (fixed figures, 1 thread; oneDNN int8 "
                 f"then {TVM_ONEDNN_SUM_MS:.2f} ms, now {s8:.3f} ms, so "
                 f"TVM scaled by {scale:.2f}): sum {tvm:.2f} ms, "
                 f"{tvm / total['host']:.2f}x, scaled "
                 f"{tvm * scale / total['host']:.2f}x")
            if config == "A1W1":
                ratios = [f"{l} {TVM_A1W1_MS[l] * scale / host_ms[l]:.2f}x"
                          for l in layers]
                emit(f"Per layer, scaled: {', '.join(ratios)}")
            emit()

    emit("### Dense (bitserial.matmul, K = N = 4096)")
    emit()
    # M = 1 streams its weights once per call: their bytes per second against
    # the read bandwidth of a buffer of the same size (read again and again,
    # so cache-resident where it fits, as the weights are across the timed
    # calls) and, for calls that find them in memory (`--cold`: two passes
    # over a buffer as large as the baselines' memory one before each call),
    # against that of a 256 MiB buffer (memory) and against a plain read of
    # as many bytes after the same passes (cold read).
    # Measured again right before the table: this VM's memory bandwidth
    # moves over minutes (the start's figures made the M = 1 rows exceed
    # 100% of it in some runs).
    near = baselines(tool, ["--layers", layers[0], "--skip", "onednn",
                            "--skip", "int16"], args.rounds)
    buffers = near.get("read_bandwidth", {}).get("buffers", [])
    read_bw = {b["bytes"]: b["gbs_1thread"] for b in buffers}
    cold_read_bw = {b["bytes"]: b.get("cold_gbs_1thread") for b in buffers}
    memory_bw = read_bw.get(MEMORY_BUFFER_MIB << 20)
    emit("| M | bits | avx2 ms | host ms | host 2 threads ms | host G binop/s "
         "| host % peak | avx2 % peak | host weights GB/s "
         "| % of read bandwidth (same size) | host cold ms "
         "| cold weights GB/s | % of memory bandwidth "
         "| % of cold read (same size) |")
    emit("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for m in (1, 64):
        for config in CONFIGS:
            text, ops, weight_bytes = dense_module(
                m, config, weights=args.weights, init=args.init)
            kernels = {t: set() for t in TARGETS}
            ms = time_targets(runner, text, TARGETS, args.repeat,
                              args.rounds, kernels, min_ms=args.min_ms)
            gops = {t: ops / (ms[t] * 1e6) for t in ms}
            stream = "| - | - | - | - | - | - |"
            if m == 1:
                percent = lambda gbs, bw: f"{100 * gbs / bw:.0f}%" if bw else "-"
                gbs = weight_bytes / (ms["host"] * 1e6)
                cold_ms = time_targets(
                    runner, text, ["host"], args.repeat, args.rounds,
                    extra=["--cold", str(MEMORY_BUFFER_MIB)])["host"]
                cold_gbs = weight_bytes / (cold_ms * 1e6)
                stream = (f"| {gbs:.1f} | {percent(gbs, read_bw.get(weight_bytes))} "
                          f"| {cold_ms:.4f} | {cold_gbs:.1f} "
                          f"| {percent(cold_gbs, memory_bw)} "
                          f"| {percent(cold_gbs, cold_read_bw.get(weight_bytes))} |")
            emit(f"| {m} | {config} | {ms['x86-avx2']:.4f} | {ms['host']:.4f} "
                 f"| {ms['host-2t']:.4f} "
                 f"| {gops['host']:.0f} "
                 f"| {percent_of_peak(gops, peak, kernels, 'host')} "
                 f"| {percent_of_peak(gops, peak, kernels, 'x86-avx2')} {stream}")
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
