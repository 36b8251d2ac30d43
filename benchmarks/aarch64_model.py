#!/usr/bin/python3
"""An AArch64 cost model benchmark: bitserial.conv2d kernels and int16/int8 baselines.

    benchmarks/aarch64_model.py [--build build] [--layers C2,C6]
        [--configs A1W1,A2W1,A2W2] [--cpus cortex-a53,neoverse-n1]
        [--weights argument|constant] [--kernel auto|bitserial|int8]
        [--jobs 2] [--markdown FILE] [--cache FILE]

No ARM hardware is involved. For each ResNet-18 layer C2-C12 (background.md)
and bit configuration, one bitserial.conv2d on packed unsigned x unsigned
operands (X1W1: 1-bit bipolar x bipolar, XNOR-net) is lowered with bitserial-opt --bitserial-to-llvm (target=aarch64-a53
for Cortex-A53, aarch64-ooo for Neoverse-N1 and for Neoverse-N2, with i8mm
and run under qemu's `max` CPU), mlir-translate and llc, linked
with benchmarks/aarch64/harness.c and run once under qemu-aarch64 with
`-d in_asm,exec,nochain`: the log, parsed as it streams and never stored,
gives the start address of every translation block (TB) executed during the
call and each TB's instructions. Each distinct TB's instruction text goes
through llvm-mca (-iterations=100, total cycles / 100, one region per TB,
cached by text); a layer's cycles are the sum over TBs of executions x
cycles. The baselines (benchmarks/aarch64/baselines.c: int16 smlal by lane
for Cortex-A53, int8 sdot by lane for Neoverse-N1, both register-blocked
direct convolutions built with clang-22 -O3) are modelled the same way in the
same run. Every kernel's output is first checked under qemu against plain C
loops in the harness, and the vector lowering against the reference lowering
on --reference-check layers.
"""

import argparse
import collections
import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "python"))
from bitserial import asm  # noqa: E402  (the stack-access pattern)

LAYERS = {  # name: (H, W, Cin, Cout, K, stride, pad); background.md
    "C2": (56, 56, 64, 64, 3, 1, 1), "C3": (56, 56, 64, 64, 1, 1, 0),
    "C4": (56, 56, 64, 128, 3, 2, 1), "C5": (56, 56, 64, 128, 1, 2, 0),
    "C6": (28, 28, 128, 128, 3, 1, 1), "C7": (28, 28, 128, 256, 3, 2, 1),
    "C8": (28, 28, 128, 256, 1, 2, 0), "C9": (14, 14, 256, 256, 3, 1, 1),
    "C10": (14, 14, 256, 512, 3, 2, 1), "C11": (14, 14, 256, 512, 1, 2, 0),
    "C12": (7, 7, 512, 512, 3, 1, 1),
}
CONFIGS = {"A1W1": (1, 1), "A2W1": (2, 1), "A2W2": (2, 2),  # unsigned x unsigned
           "A3W2": (3, 2), "A4W2": (4, 2),
           "X1W1": (1, 1)}  # bipolar x bipolar (XNOR-net)
ENCODINGS = {"X1W1": "bipolar"}  # the others: unsigned
DEFAULT_CONFIGS = "A1W1,A2W1,A2W2"
CPUS = {  # llc/llvm-mca CPU: (bitserial target, qemu CPU, baseline kind,
          #                   pipeline options of the CPU's features)
    "cortex-a53": ("aarch64-a53", "cortex-a53", "s16", ""),
    # N1 has the dot product: the pipeline's int8 rule may pick sdot/udot
    # (from a bit product of 5: none of A1W1, A2W1, A2W2).
    "neoverse-n1": ("aarch64-ooo", "neoverse-n1", "s8", " dot-product=true"),
    # N2 adds i8mm (qemu has no N2: its `max` CPU runs the same code).
    "neoverse-n2": ("aarch64-ooo", "max", "s8", " dot-product=true i8mm=true"),
}
BASELINE_NAMES = {"s16": "int16 smlal", "s8": "int8 sdot"}
TOOLS = ["aarch64-linux-gnu-gcc", "qemu-aarch64", "mlir-translate-22", "llc-22",
         "llvm-mca-22", "llvm-objdump-22", "clang-22"]
GHZ = 1.2
ITERATIONS = 100
# The harness's own code inside the measured window (the call's set-up).
HARNESS_SYMBOLS = {"main", "bench_begin", "bench_end"}

CNT16 = re.compile(r"^cnt\s+v\d+\.16b")
# Branches (objdump mnemonics); NEON bic/bsl/bit/bif are not.
BRANCH = re.compile(r"^(b|b\.\w+|bl|blr|br|cbn?z|tbn?z|ret)\s")
WIDEN = re.compile(r"^(uadalp|uaddlp|saddlp|sadalp|ushll2?|uxtl2?|zip[12]|"
                   r"uaddw2?|saddw2?)\s")


def packed(shape, bits, length, encoding="unsigned"):
    words = (length + 63) // 64
    dims = "x".join(str(d) for d in list(shape) + [bits, words])
    return (f"tensor<{dims}xi64, #bitserial.packed<bits = {bits}, "
            f"encoding = {encoding}, length = {length}>>")


def out_shape(layer):
    h, w, cin, cout, k, s, p = LAYERS[layer]
    return (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1


def macs(layer):
    h, w, cin, cout, k, s, p = LAYERS[layer]
    oh, ow = out_shape(layer)
    return oh * ow * cout * k * k * cin


def harness_filter(layer, config):
    """The filter words the harness passes (its xorshift64 after the input
    words), to hold as a constant of the module."""
    h, w, cin, cout, k, s, p = LAYERS[layer]
    ba, bw = CONFIGS[config]
    words = (cin + 63) // 64
    mask = (1 << 64) - 1
    tail = (1 << (cin % 64)) - 1 if cin % 64 else mask
    state = 88172645463325252

    def draw():
        nonlocal state
        state ^= (state << 13) & mask
        state ^= state >> 7
        state ^= (state << 17) & mask
        return state

    for _ in range(h * w * ba * words):
        draw()
    return [draw() & (tail if i % words == words - 1 else mask)
            for i in range(cout * k * k * bw * words)]


def conv_module(layer, config, weights="argument", kernel="auto"):
    """The layer as @kernel(x, f, init). With weights="constant" the filter
    is a constant of the module holding the words the harness passes (its
    `f` is then ignored), as in a deployed network; kernel "int8" or
    "bitserial" sets `bitserial.int8` on the op."""
    h, w, cin, cout, k, s, p = LAYERS[layer]
    ba, bw = CONFIGS[config]
    oh, ow = out_shape(layer)
    encoding = ENCODINGS.get(config, "unsigned")
    tx = packed((1, h, w), ba, cin, encoding)
    tf = packed((cout, k, k), bw, cin, encoding)
    to = f"tensor<1x{oh}x{ow}x{cout}xi32>"
    filt, constant = "%f", ""
    if weights == "constant":
        data = b"".join(v.to_bytes(8, "little")
                        for v in harness_filter(layer, config))
        constant = f'  %fc = arith.constant dense<"0x{data.hex().upper()}"> : {tf}\n'
        filt = "%fc"
    attrs = ("" if kernel == "auto" else
             f" {{bitserial.int8 = {'true' if kernel == 'int8' else 'false'}}}")
    return f"""func.func @kernel(%x: {tx}, %f: {tf}, %init: {to}) -> {to} {{
{constant}  %r = bitserial.conv2d ins(%x, {filt} : {tx}, {tf}) outs(%init : {to})
      strides = [{s}, {s}] padding = [{p}, {p}, {p}, {p}]{attrs} -> {to}
  return %r : {to}
}}
"""


def run(cmd, **kw):
    proc = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n"
                           f"{proc.stderr[-3000:]}{proc.stdout[-2000:]}")
    return proc.stdout


class Model:
    def __init__(self, args, work):
        self.args = args
        self.work = work
        self.opt = os.path.join(args.build, "bin", "bitserial-opt")
        self.cache = {}
        if args.cache and os.path.exists(args.cache):
            with open(args.cache) as f:
                self.cache = {k: v for k, v in json.load(f).items()
                              if isinstance(v, list) and len(v) == 2}
        self.harness = os.path.join(work, "harness.o")
        run(["aarch64-linux-gnu-gcc", "-O2", "-c",
             os.path.join(HERE, "aarch64", "harness.c"), "-o", self.harness])

    # Building.
    def bitserial_elf(self, layer, config, cpu, strategy="vector"):
        target = CPUS[cpu][0]
        stem = os.path.join(self.work, f"{layer}-{config}-{cpu}-{strategy}")
        with open(stem + ".mlir", "w") as f:
            f.write(conv_module(layer, config, self.args.weights,
                                self.args.kernel))
        options = f"target={target} emit-c-interface=true"
        if strategy == "vector":
            options += CPUS[cpu][3]
        if strategy != "vector":
            options += f" strategy={strategy}"
        run([self.opt, stem + ".mlir", f"--bitserial-to-llvm={options}",
             "-o", stem + ".llvm.mlir"])
        run(["mlir-translate-22", "--mlir-to-llvmir", stem + ".llvm.mlir",
             "-o", stem + ".ll"])
        run(["llc-22", "-O3", "-mtriple=aarch64-linux-gnu", f"-mcpu={cpu}",
             "-filetype=obj", stem + ".ll", "-o", stem + ".o"])
        run(["aarch64-linux-gnu-gcc", "-static", self.harness, stem + ".o",
             "-o", stem + ".elf"])
        for ext in (".llvm.mlir", ".ll"):
            os.unlink(stem + ext)
        return stem + ".elf"

    def baseline_elf(self, cpu):
        stem = os.path.join(self.work, f"baseline-{cpu}")
        if not os.path.exists(stem + ".elf"):
            run(["clang-22", "--target=aarch64-linux-gnu", f"-mcpu={cpu}",
                 "-O3", "-c", os.path.join(HERE, "aarch64", "baselines.c"),
                 "-o", stem + ".o"])
            run(["aarch64-linux-gnu-gcc", "-static", self.harness, stem + ".o",
                 "-o", stem + ".elf"])
        return stem + ".elf"

    @staticmethod
    def harness_args(kind, layer, config):
        """The harness's arguments; kind "bitserial" of a bipolar config
        becomes "xnor" (the harness's loops decode +-1 bits)."""
        ba, bw = CONFIGS[config] if config else (0, 0)
        if kind == "bitserial" and ENCODINGS.get(config) == "bipolar":
            kind = "xnor"
        return [kind] + [str(v) for v in LAYERS[layer]] + [str(ba), str(bw)]

    def check(self, elf, cpu, args):
        """Runs the harness's check mode: the output against plain C loops."""
        out = run(["qemu-aarch64", "-cpu", CPUS[cpu][1], elf, "check"] + args)
        if not re.search(r"^ok \d+$", out, re.M):
            raise RuntimeError(f"{elf} {' '.join(args)}: wrong output:\n{out}")
        m = re.search(r"^hash (\w+)$", out, re.M)
        return m.group(1) if m else None

    # Counting translation blocks.
    def count(self, elf, cpu, args):
        """Executions per TB start address inside the bench_begin/bench_end
        window, the TBs' instruction addresses (from in_asm) and the symbol
        of each TB. The log streams through a pipe and is never stored."""
        cmd = ["qemu-aarch64", "-cpu", CPUS[cpu][1], "-d",
               "in_asm,exec,nochain", elf, "model"] + args
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, bufsize=1 << 20)
        counts = collections.Counter()
        symbols = {}
        extents = {}
        inside = False
        current = None
        lines = 0
        for line in proc.stderr:
            if line.startswith(b"Trace "):
                lines += 1
                # Trace 0: HOST [CS_BASE/PC/FLAGS/CFLAGS] SYMBOL
                close = line.index(b"]")
                pc = int(line[:close].split(b"/")[1], 16)
                sym = line[close + 1:].strip().decode()
                if sym == "bench_begin":
                    inside = True
                elif sym == "bench_end":
                    inside = False
                elif inside and sym not in HARNESS_SYMBOLS:
                    counts[pc] += 1
                    symbols[pc] = sym
            elif line.startswith(b"IN:"):
                current = []
            elif line.startswith(b"0x") and current is not None:
                current.append(int(line[:line.index(b":")], 16))
            elif current is not None and not line.strip():
                if current:
                    old = extents.setdefault(current[0], current)
                    if old != current:
                        raise RuntimeError(
                            f"TB at {current[0]:#x} translated twice with "
                            "different extents")
                current = None
        if proc.wait() != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode})")
        missing = [pc for pc in counts if pc not in extents]
        if missing:
            raise RuntimeError(f"no in_asm for TBs {missing[:5]}")
        return counts, {pc: extents[pc] for pc in counts}, symbols, lines

    @staticmethod
    def disassemble(elf, symbols):
        out = run(["llvm-objdump-22", "-d", "--no-show-raw-insn",
                   "--disassemble-symbols=" + ",".join(sorted(symbols)), elf])
        text = {}
        for line in out.splitlines():
            m = re.match(r"^\s*([0-9a-f]+):\s+(\S.*)$", line)
            if m:
                text[int(m.group(1), 16)] = m.group(2)
        return text

    @staticmethod
    def disassemble_range(elf, start, stop):
        out = run(["llvm-objdump-22", "-d", "--no-show-raw-insn",
                   f"--start-address={start:#x}", f"--stop-address={stop:#x}",
                   elf])
        text = {}
        for line in out.splitlines():
            m = re.match(r"^\s*([0-9a-f]+):\s+(\S.*)$", line)
            if m:
                text[int(m.group(1), 16)] = m.group(2)
        return text

    @staticmethod
    def mca_text(insn):
        """An llvm-objdump instruction as llvm-mca input: comments dropped,
        branch/adr/literal targets replaced by a label."""
        insn = re.sub(r"\s*(//.*|<[^>]*>)", "", insn).strip()
        insn = re.sub(r"(?<![#\w-])0x[0-9a-f]+$", ".Lt", insn)
        return re.sub(r"\s+", " ", insn)

    def mca(self, cpu, texts):
        """(cycles per execution, resource-bound cycles) of each TB text,
        cached by (cpu, text)."""
        todo = sorted({t for t in texts if f"{cpu}\n{t}" not in self.cache})
        chunks = [todo[i::self.args.jobs] for i in range(self.args.jobs)]

        def batch(chunk):
            if not chunk:
                return {}
            src = [".Lt:"]
            for i, t in enumerate(chunk):
                src += [f"# LLVM-MCA-BEGIN tb{i}", t, "# LLVM-MCA-END"]
            with tempfile.NamedTemporaryFile(
                    "w", suffix=".s", dir=self.work, delete=False) as f:
                f.write("\n".join(src) + "\n")
            out = run(["llvm-mca-22", "-mtriple=aarch64-linux-gnu",
                       f"-mcpu={cpu}", f"-iterations={ITERATIONS}",
                       "--call-latency=1", "--instruction-info=0",
                       "--skip-unsupported-instructions=lack-sched",
                       "--resource-pressure=0", f.name])
            os.unlink(f.name)
            cycles = {}
            for m in re.finditer(r"Code Region - tb(\d+)\s.*?Total Cycles:\s+"
                                 r"(\d+).*?Block RThroughput:\s+([\d.]+)",
                                 out, re.S):
                cycles[chunk[int(m.group(1))]] = (
                    int(m.group(2)) / ITERATIONS, float(m.group(3)))
            if len(cycles) != len(chunk):
                raise RuntimeError("llvm-mca skipped regions")
            return cycles

        with concurrent.futures.ThreadPoolExecutor(self.args.jobs) as pool:
            for cycles in pool.map(batch, chunks):
                for t, c in cycles.items():
                    self.cache[f"{cpu}\n{t}"] = c
        return {t: tuple(self.cache[f"{cpu}\n{t}"]) for t in texts}

    def profile(self, elf, cpu, args):
        """TBs of one call: [(pc, symbol, text, executions)], straight-line
        loop bodies: [(start, text, iterations)] and log lines."""
        counts, extents, symbols, lines = self.count(elf, cpu, args)
        dis = self.disassemble(elf, {s for s in symbols.values() if s})
        # TBs outside named functions (the static binary's ifunc stubs).
        for pc in counts:
            if any(a not in dis for a in extents[pc]):
                dis.update(self.disassemble_range(elf, extents[pc][0],
                                                  extents[pc][-1] + 4))
        tbs = []
        for pc, n in counts.items():
            try:
                insns = [self.mca_text(dis[a]) for a in extents[pc]]
            except KeyError as e:
                raise RuntimeError(f"{elf}: no disassembly at {e.args[0]:#x}")
            tbs.append((pc, symbols[pc], "\n".join(insns), n))
        return tbs, self.loops(counts, extents, dis), lines

    def loops(self, counts, extents, dis):
        """Loop bodies without inner branches, ending in a backward branch:
        one block each, whatever TBs qemu split them into (it ends a TB
        after about 230 instructions). Iterations = executions of the TBs
        ending in the branch."""
        taken = collections.Counter()
        for pc, n in counts.items():
            taken[extents[pc][-1]] += n
        bodies = []
        for last, n in taken.items():
            insn = re.sub(r"\s*<[^>]*>", "", dis.get(last, "")).strip()
            target = re.search(r"\s0x([0-9a-f]+)$", insn)
            if not BRANCH.match(insn) or not target:
                continue
            start = int(target.group(1), 16)
            if start > last:  # a forward branch ends no loop
                continue
            addrs = range(start, last + 4, 4)
            if (any(a not in dis for a in addrs)
                    or any(BRANCH.match(dis[a]) for a in addrs[:-1])):
                continue
            bodies.append((addrs[0], "\n".join(self.mca_text(dis[a])
                                               for a in addrs), n))
        return bodies

    def cost(self, cpu, tbs, loops, kernel_symbols):
        """Cycles in total, per category, the hottest TB with a `cnt` (the
        step code; the hottest TB if none has one), all TBs by cost, and
        the costliest loop body with a `cnt` (the step loop) or None."""
        cycles = self.mca(cpu, [t for _, _, t, _ in tbs] +
                          [t for _, t, _ in loops])
        total = 0.0
        parts = collections.Counter()
        hot = None
        for pc, sym, text, n in tbs:
            c = n * cycles[text][0]
            total += c
            lines = text.split("\n")
            cnts = sum(1 for l in lines if CNT16.match(l))
            if sym not in kernel_symbols:
                parts["libc " + sym.split(".")[0]] += c
            elif cnts:
                parts["popcount"] += c
            elif any(WIDEN.match(l) for l in lines):
                parts["widening"] += c
            else:
                parts["other"] += c
            if (hot is None or (cnts > 0, c) > (hot["cnt"] > 0, hot["cycles"])):
                hot = {"cycles": c, "pc": pc, "symbol": sym, "count": n,
                       "tb_cycles": cycles[text][0],
                       "tb_floor": cycles[text][1], "insns": len(lines),
                       "cnt": cnts, "text": text,
                       "stack": sum(1 for l in lines if asm.STACK.search(l))}
        top = sorted(((n * cycles[t][0], n, cycles[t][0], sym, t)
                      for _, sym, t, n in tbs), reverse=True)
        loop = None
        for start, text, n in loops:
            lines = text.split("\n")
            cnts = sum(1 for l in lines if CNT16.match(l))
            if cnts and (loop is None or n * cycles[text][0] > loop["cycles"]):
                loop = {"cycles": n * cycles[text][0], "count": n,
                        "body_cycles": cycles[text][0], "insns": len(lines),
                        "cnt": cnts, "text": text,
                        "stack": sum(1 for l in lines if asm.STACK.search(l))}
        return total, parts, hot, top, loop

    def save_cache(self):
        if self.args.cache:
            with open(self.args.cache, "w") as f:
                json.dump(self.cache, f)


def ms(cycles):
    return cycles / (GHZ * 1e6)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    parser.add_argument("--layers", default=",".join(LAYERS))
    parser.add_argument("--configs", default=DEFAULT_CONFIGS,
                        help=f"of {', '.join(CONFIGS)}")
    parser.add_argument("--cpus", default="cortex-a53,neoverse-n1",
                        help=f"of {', '.join(CPUS)}")
    parser.add_argument("--jobs", type=int, default=2,
                        help="parallel builds, qemu runs and llvm-mca runs")
    parser.add_argument("--reference-check", default="C12:A2W2,C11:A2W1",
                        help="LAYER:CONFIG pairs whose vector kernels are "
                        "compared with the reference lowering under qemu "
                        "first ('' for none)")
    parser.add_argument("--weights", choices=["argument", "constant"],
                        default="argument",
                        help="the filter as an argument of the kernel, or "
                        "as a constant of the module (the same words; "
                        "lowerings may decode or re-lay it out at compile "
                        "time)")
    parser.add_argument("--kernel", choices=["auto", "bitserial", "int8"],
                        default="auto",
                        help="force the kernel (bitserial.int8 on the op); "
                        "auto: the pipeline's choice")
    parser.add_argument("--markdown", help="also write the tables to FILE")
    parser.add_argument("--cache", help="keep llvm-mca results in this JSON "
                        "file across runs")
    parser.add_argument("--top", type=int, default=0,
                        help="after the tables, list each bitserial layer's "
                        "N costliest TBs")
    parser.add_argument("--keep", help="keep the objects and binaries, and "
                        "write each step TB's instructions, in this "
                        "directory")
    args = parser.parse_args()
    layers = args.layers.split(",")
    configs = args.configs.split(",")
    cpus = args.cpus.split(",")
    for name, known in (("layer", LAYERS), ("config", CONFIGS), ("cpu", CPUS)):
        for v in {"layer": layers, "config": configs, "cpu": cpus}[name]:
            if v not in known:
                parser.error(f"unknown {name} '{v}' (known: {', '.join(known)})")
    if args.jobs < 1:
        parser.error("--jobs must be >= 1")
    if not os.path.exists(os.path.join(args.build, "bin", "bitserial-opt")):
        parser.error(f"no bitserial-opt in {args.build}/bin")
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing:
        parser.error(f"missing tools: {', '.join(missing)} (see "
                     "benchmarks/README.md)")
    pairs = [p.split(":") for p in args.reference_check.split(",") if p]
    for pair in pairs:
        if len(pair) != 2 or pair[0] not in LAYERS or pair[1] not in CONFIGS:
            parser.error(f"--reference-check: '{':'.join(pair)}' is not "
                         "LAYER:CONFIG")
    start = time.time()
    if args.keep:
        os.makedirs(args.keep, exist_ok=True)
        work = args.keep
        tmp = None
    else:
        tmp = tempfile.TemporaryDirectory(prefix="aarch64-model-")
        work = tmp.name
    model = Model(args, work)
    pool = concurrent.futures.ThreadPoolExecutor(args.jobs)
    try:
        return report(args, model, pool, work, layers, configs, cpus, pairs,
                      start)
    finally:
        pool.shutdown(cancel_futures=True)
        if tmp:
            tmp.cleanup()


def report(args, model, pool, work, layers, configs, cpus, pairs, start):

    # The vector lowering against the reference lowering (and both against
    # the harness's loops) on a few layers first.
    for layer, config in pairs:
        ref = model.bitserial_elf(layer, config, cpus[0], "reference")
        want = model.check(ref, cpus[0],
                           model.harness_args("bitserial", layer, config))
        for cpu in cpus:
            elf = model.bitserial_elf(layer, config, cpu)
            got = model.check(elf, cpu,
                              model.harness_args("bitserial", layer, config))
            if got != want:
                raise RuntimeError(f"{layer} {config} {cpu}: vector lowering "
                                   "differs from the reference lowering")
        print(f"# checked {layer} {config}: vector ({', '.join(cpus)}) == "
              "reference lowering == C loops", file=sys.stderr, flush=True)

    def bitserial_job(layer, config, cpu):
        elf = model.bitserial_elf(layer, config, cpu)
        hargs = model.harness_args("bitserial", layer, config)
        model.check(elf, cpu, hargs)
        tbs_loops_lines = model.profile(elf, cpu, hargs)
        os.unlink(elf)
        return tbs_loops_lines

    def baseline_job(layer, cpu):
        elf = model.baseline_elf(cpu)
        hargs = model.harness_args(CPUS[cpu][2], layer, None)
        model.check(elf, cpu, hargs)
        return model.profile(elf, cpu, hargs)

    for cpu in cpus:  # build the shared baseline binaries once
        model.baseline_elf(cpu)
    futures = {}
    for cpu in cpus:
        for layer in layers:
            futures[("base", layer, cpu)] = pool.submit(baseline_job, layer, cpu)
            for config in configs:
                futures[(config, layer, cpu)] = pool.submit(
                    bitserial_job, layer, config, cpu)
    results = {}
    max_lines = 0
    for key, fut in futures.items():
        tbs, loops, lines = fut.result()
        max_lines = max(max_lines, lines)
        symbols = ({"kernel", "_mlir_ciface_kernel"} if key[0] != "base"
                   else {"conv_s16", "conv_s8"})
        results[key] = model.cost(key[2], tbs, loops, symbols)
        if args.keep:
            with open(os.path.join(work, "hot-{}-{}-{}.s".format(*key)),
                      "w") as f:
                f.write(results[key][2]["text"] + "\n")
            if results[key][4]:
                with open(os.path.join(work, "loop-{}-{}-{}.s".format(*key)),
                          "w") as f:
                    f.write(results[key][4]["text"] + "\n")
    model.save_cache()

    lines = []
    emit = lambda s="": (print(s, flush=True), lines.append(s))
    emit(f"Modelled, not measured: 1 core at {GHZ} GHz; cycles = sum over "
         "qemu-aarch64 translation blocks (TBs) executed in one call of "
         f"executions x llvm-mca-22 cycles per TB (-iterations={ITERATIONS}, "
         "total / 100). llvm-mca assumes every load hits L1 and no branch is "
         "mispredicted, and overlaps consecutive runs of the same TB; "
         "libc code called by the kernel (malloc, free, memcpy) is counted, "
         "syscalls, page faults and cache misses are not.")
    emit()
    emit("Bitserial: one bitserial.conv2d, packed unsigned x unsigned "
         "operands (X1W1: bipolar x bipolar), padding inside the call, i32 outputs accumulated into "
         "init; bitserial-opt --bitserial-to-llvm target=aarch64-a53 "
         "(Cortex-A53) / aarch64-ooo (Neoverse-N1; Neoverse-N2 also with "
         "i8mm, run under qemu's max CPU), llc-22 -O3 -mcpu=CPU. "
         "Baselines: direct NHWC convolution on pre-padded activations and "
         "pre-blocked weights, 4 pixels x 16 channels in 16 int32x4 "
         "accumulators, clang-22 -O3 with arm_neon.h intrinsics: int16 "
         "smlal/smlal2 by lane (Cortex-A53), int8 sdot by lane "
         "(Neoverse-N1, -N2; the A53 has no dot product). All outputs checked "
         "under qemu against plain C loops. Binary ops = MACs x bits_a x "
         "bits_w; step TB = the costliest TB containing cnt; its binops/"
         "cycle = cnt .16b in the TB x 128 / its cycles (in brackets: / "
         "llvm-mca's resource bound). Step loop = the costliest loop body "
         "without inner branches containing cnt, as one llvm-mca block "
         "(qemu splits bodies of over about 230 instructions into TBs); "
         "its binops/cycle likewise.")
    emit()
    emit("Filters: " + ("constants of the module (the words the harness "
                        "passes)" if args.weights == "constant" else
                        "arguments of the call") + "; kernel: " +
         {"auto": "the pipeline's choice", "bitserial": "bit-serial (forced)",
          "int8": "int8 (forced)"}[args.kernel] + ".")
    emit()
    for cpu in cpus:
        base_name = BASELINE_NAMES[CPUS[cpu][2]]
        for config in configs:
            ba, bw = CONFIGS[config]
            encoding = ENCODINGS.get(config, "unsigned")
            emit(f"### {cpu}, {config} ({encoding} x {encoding})")
            emit()
            emit(f"| layer | bitserial ms | {base_name} ms | x vs {base_name} "
                 "| binop/cycle | step TB share "
                 "| step TB insns / cnt / stack / cycles "
                 "| step TB binop/cycle (resource bound) "
                 "| step loop insns / cnt / stack / cycles "
                 "| step loop binop/cycle "
                 "| popcount TBs | widening | other kernel | libc |")
            emit("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
            tot = tb = 0.0
            onebyone = [0.0, 0]
            for layer in layers:
                cyc, parts, hot, _, loop = results[(config, layer, cpu)]
                bcyc = results[("base", layer, cpu)][0]
                tot += cyc
                tb += bcyc
                if LAYERS[layer][4] == 1:
                    onebyone[0] += cyc
                    onebyone[1] += macs(layer)
                share = lambda k: 100 * parts.get(k, 0) / cyc
                libc = sum(v for k, v in parts.items() if k.startswith("libc"))
                hot_binops = (f"{hot['cnt'] * 128 / hot['tb_cycles']:.1f} "
                              f"({hot['cnt'] * 128 / hot['tb_floor']:.1f})"
                              if hot["cnt"] else "(no cnt)")
                loop_cells = (f"{loop['insns']} / {loop['cnt']} / "
                              f"{loop['stack']} / {loop['body_cycles']:.2f} | "
                              f"{loop['cnt'] * 128 / loop['body_cycles']:.1f}"
                              if loop else "- | -")
                emit(f"| {layer} | {ms(cyc):.3f} | {ms(bcyc):.3f} "
                     f"| {bcyc / cyc:.2f} "
                     f"| {macs(layer) * ba * bw / cyc:.1f} "
                     f"| {100 * hot['cycles'] / cyc:.0f}% "
                     f"| {hot['insns']} / {hot['cnt']} / {hot['stack']} "
                     f"/ {hot['tb_cycles']:.2f} "
                     f"| {hot_binops} | {loop_cells} "
                     f"| {share('popcount'):.0f}% | {share('widening'):.0f}% "
                     f"| {share('other'):.0f}% | {100 * libc / cyc:.0f}% |")
            emit(f"| **sum** | {ms(tot):.3f} | {ms(tb):.3f} | {tb / tot:.2f} "
                 f"| {sum(macs(l) for l in layers) * ba * bw / tot:.1f} "
                 "| | | | | | | | | |")
            if onebyone[1]:
                allmacs = sum(macs(l) for l in layers)
                emit()
                emit(f"1x1 layers: {100 * onebyone[1] / allmacs:.1f}% of the "
                     f"MACs, {100 * onebyone[0] / tot:.1f}% of the time.")
            emit()
    for cpu in cpus:
        base_name = BASELINE_NAMES[CPUS[cpu][2]]
        emit(f"### {cpu}: summary (ms at {GHZ} GHz; x = {base_name} ms / "
             "bitserial ms; step = the step loop's binops/cycle, or the step "
             "TB's (marked TB) where no loop body has a cnt)")
        emit()
        emit("| layer | MACs (M) | " + " | ".join(
            f"{c} ms" for c in configs) + f" | {base_name} ms | " +
            " | ".join(f"x {c}" for c in configs) + " | " +
            " | ".join(f"step {c}" for c in configs) + " |")
        emit("|---|---|" + "---|" * (3 * len(configs) + 1))
        for layer in layers + ["sum"]:
            row = layers if layer == "sum" else [layer]
            cyc = {c: sum(results[(c, l, cpu)][0] for l in row)
                   for c in configs}
            bcyc = sum(results[("base", l, cpu)][0] for l in row)
            step = []
            for c in configs:
                if layer == "sum":
                    step.append("")
                    continue
                _, _, hot, _, loop = results[(c, layer, cpu)]
                if loop:
                    step.append(f"{loop['cnt'] * 128 / loop['body_cycles']:.1f}")
                elif hot["cnt"]:
                    step.append(f"{hot['cnt'] * 128 / hot['tb_cycles']:.1f} TB")
                else:
                    step.append("")
            name = "**sum**" if layer == "sum" else layer
            emit(f"| {name} | {sum(macs(l) for l in row) / 1e6:.1f} | "
                 + " | ".join(f"{ms(cyc[c]):.2f}" for c in configs)
                 + f" | {ms(bcyc):.2f} | "
                 + " | ".join(f"{bcyc / cyc[c]:.2f}" for c in configs)
                 + " | " + " | ".join(step) + " |")
        emit()
    if args.top:
        emit("### Costliest TBs (share of the layer, executions x cycles, "
             "symbol, instructions)")
        emit()
        for cpu in cpus:
            for config in configs:
                for layer in layers:
                    cyc, _, _, top, _ = results[(config, layer, cpu)]
                    emit(f"{cpu} {config} {layer}:")
                    for c, n, per, sym, text in top[:args.top]:
                        insns = text.split("\n")
                        mnemonics = collections.Counter(
                            i.split()[0] for i in insns)
                        emit(f"    {100 * c / cyc:4.1f}% {n} x {per:.2f} {sym}: "
                             f"{len(insns)} insns "
                             + " ".join(f"{k}:{v}" for k, v in
                                        mnemonics.most_common(8)))
        emit()
    emit(f"Largest qemu exec log: {max_lines} TB executions (whole process, "
         "streamed). "
         f"Run time {time.time() - start:.0f} s, {args.jobs} jobs; "
         f"{len(model.cache)} distinct TB timings.")
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except RuntimeError as e:
        print(f"aarch64_model.py: error: {e}", file=sys.stderr)
        sys.exit(1)
