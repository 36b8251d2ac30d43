#!/usr/bin/python3
"""Tunes register blocks, tile sizes and bit-serial vs int8 per op on this machine.

    benchmarks/tune.py [FILE.mlir ...] [--layers C2,C3] [--configs A1W1,A2W1]
                       [--target host] [--cpu NAME] [--cache tuning.json]
                       [--rounds 5] [--repeat 30] [--max-candidates 8]
                       [--tile-candidates 3]

For every bitserial.matmul and conv2d with static sizes in the given files
(without files: the ResNet-18 layers C2-C12 of benchmarks/run.py at the
chosen bit configurations, AxWy), asks bitserial-run for the op's tuning key and
default choice (--print-tuning-keys), enumerates candidates (register blocks
p x q that use the target's accumulators, the int8 kernel where it handles
the op), and times each with bitserial-run --repeat through a one-entry
tuning cache (--tuning-cache). Rounds are interleaved (every candidate once
per round, in a shuffled order) and a candidate's time is the median over
rounds of each run's median call, so a burst of load on a shared machine
hits all candidates alike. Every candidate's output must equal the default's
on the same random inputs (a difference is reported and fails the run).

A candidate replaces the default only if its median is at least --min-gain
(3%) and --min-diff-ms (2 us, twice the runner's resolution) faster and it
was faster in most rounds, and again so in a second set of rounds of the
two alone (unless --no-confirm); otherwise the default is recorded as the
winner.
Then the winner runs whole and tiled (bitserial-tile sizes: halves and
quarters of the output rows, halves of the channels; --tile-candidates of
them), measured and chosen the same way against the whole op; the entry's
winner records its "tile_sizes" (all 0: whole), which the pipelines apply.
Entries are merged into --cache after each op (docs/design.md, "Tuning"):
an entry of the same target, CPU, int8 instruction and key is replaced.
Prints a table of winners and their speedup over the default heuristic.
"""

import argparse
import datetime
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import CONFIGS, LAYERS, conv_module  # noqa: E402

FORMAT = "bitserial-tuning-cache"
VERSION = 1
REMARK = re.compile(r"^(?P<loc>\S+?):(?P<line>\d+):(?P<col>\d+): remark: "
                    r"tuning (?P<json>\{.*\})$")
MEDIAN = re.compile(r"median ([0-9.]+) ms")


class TuneError(Exception):
    pass


def load_cache(path):
    """The cache at `path` ({} entries if it does not exist)."""
    if not os.path.exists(path):
        return {"format": FORMAT, "version": VERSION, "entries": []}
    try:
        with open(path) as f:
            cache = json.load(f)
    except (OSError, ValueError) as e:
        raise TuneError(f"tuning cache '{path}': cannot read it: {e}")
    if (not isinstance(cache, dict) or cache.get("format") != FORMAT
            or not isinstance(cache.get("entries"), list)):
        raise TuneError(f"tuning cache '{path}': not a {FORMAT} file")
    if cache.get("version") != VERSION:
        raise TuneError(f"tuning cache '{path}': version "
                        f"{cache.get('version')} is not {VERSION}")
    return cache


def lookup_fields(record):
    return (record["target"], record["cpu"], record["int8"],
            json.dumps(record["key"], sort_keys=True))


def merge(cache, entries):
    new = {lookup_fields(e) for e in entries}
    cache["entries"] = [e for e in cache["entries"]
                        if lookup_fields(e) not in new] + entries
    cache["entries"].sort(key=lambda e: (e["target"], e["cpu"], e["int8"],
                                         json.dumps(e["key"], sort_keys=True)))
    return cache


def save(path, cache):
    with open(path + ".tmp", "w") as f:
        json.dump(cache, f, indent=1)
        f.write("\n")
    os.replace(path + ".tmp", path)


def output_width(key):
    """Output pixels per row and output channels of the op of `key`."""
    if key["op"] == "matmul":
        return key["M"], key["N"]
    top, bottom, left, right = key["padding"]
    _, sw = key["stride"]
    _, dw = key["dilation"]
    ow = (key["W"] + left + right - dw * (key["KW"] - 1) - 1) // sw + 1
    return ow, key["CO"]


def candidates(record, limit, int8=True, lookup=True):
    """The default first, then register blocks ranked as fitRegisterBlock
    ranks them (fewest padded outputs, most accumulators), then int8 and
    table lookups where the op can take them."""
    default = record["default"]
    acc, lanes = record["accumulators"], record["lanes"]
    width, channels = output_width(record["key"])
    vectors = -(-channels // lanes)
    blocks = set()
    for p in range(1, min(acc, max(width, 1)) + 1):
        for use in (acc, acc // 2):
            q = min(use // p, vectors)
            if q >= 1:
                blocks.add((p, q))

    def rank(block):
        p, q = block
        computed = -(-width // p) * p * (-(-vectors // q) * q)
        return (computed, -p * q, abs(p - 4))

    result = [default]
    for p, q in sorted(blocks, key=rank):
        choice = {"kernel": "bitserial", "register_block": [p, q]}
        if choice != default and len(result) < limit:
            result.append(choice)
    if int8 and record["int8_candidate"] and {"kernel": "int8"} != default:
        result.append({"kernel": "int8"})
    if (lookup and record.get("lookup_candidate") and
            {"kernel": "lookup"} != default):
        result.append({"kernel": "lookup"})
    return result


def add_config(name):
    """Makes AxWy (e.g. A3W2) a configuration of run.py's layers: unsigned
    activations, signed weights, bipolar at 1 bit (as A1W1 and A2W2)."""
    match = re.fullmatch(r"A([1-8])W([1-8])", name)
    if name in CONFIGS or not match:
        return
    a, w = int(match.group(1)), int(match.group(2))
    CONFIGS[name] = ((a, "bipolar" if a == 1 else "unsigned"),
                     (w, "bipolar" if w == 1 else "signed"))


def tile_candidates(record, limit):
    """Tile sizes of the op's iteration domain (conv2d N, OH, OW, CO; matmul
    [B,] M, N) to try: one image or batch at a time, then half and a quarter
    of the rows (output rows, matmul M), half of the channels (whole
    vectors of them), and halves of both."""
    domain = record["domain"]
    lanes = record["lanes"]
    rows_axis = 1 if record["key"]["op"] == "conv2d" else len(domain) - 2
    channels_axis = len(domain) - 1
    base = [0] * len(domain)
    if rows_axis > 0 and domain[0] > 1:
        base[0] = 1
    rows = [r for r in dict.fromkeys([-(-domain[rows_axis] // 2),
                                      -(-domain[rows_axis] // 4)])
            if 1 <= r < domain[rows_axis]]
    channels = domain[channels_axis] // 2 // lanes * lanes
    result = []
    for r in rows:
        sizes = list(base)
        sizes[rows_axis] = r
        result.append(sizes)
    if 0 < channels < domain[channels_axis]:
        sizes = list(base)
        sizes[channels_axis] = channels
        result.append(sizes)
        if rows:
            sizes = list(sizes)
            sizes[rows_axis] = rows[0]
            result.append(sizes)
    if any(base) and base not in result:
        result.insert(0, base)
    return result[:limit]


def describe(choice):
    name = choice["kernel"]
    if name == "bitserial":
        p, q = choice["register_block"]
        name = f"{p}x{q}"
    tiles = choice.get("tile_sizes")
    if tiles is not None:
        name += " tiles " + "x".join(map(str, tiles)) if any(tiles) \
            else " whole"
    return name


class Runner:
    def __init__(self, args):
        self.tool = os.path.join(args.build, "bin", "bitserial-run")
        if not os.access(self.tool, os.X_OK):
            raise TuneError(f"no runner at {self.tool} (--build)")
        self.common = ["--random-inputs", "--seed", str(args.seed),
                       "--target", args.target]
        if args.cpu:
            self.common += ["--cpu", args.cpu]
        if args.entry:
            self.common += ["--entry", args.entry]

    def run(self, path, extra):
        proc = subprocess.run([self.tool, path] + self.common + extra,
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise TuneError(f"bitserial-run {path} {' '.join(extra)} "
                            f"failed:\n{proc.stderr.strip()}")
        return proc

    def results(self, path, workdir):
        """How many results the entry function of `path` returns."""
        probe = os.path.join(workdir, "probe.npy")
        proc = subprocess.run([self.tool, path] + self.common +
                              ["--output", probe], capture_output=True,
                              text=True)
        match = re.search(r"returns (\d+) results, got 1 --output",
                          proc.stderr)
        if match:
            return int(match.group(1))
        if proc.returncode != 0:
            raise TuneError(f"bitserial-run {path} failed:\n"
                            f"{proc.stderr.strip()}")
        return 1

    def keys(self, path):
        """The tuning records of the ops of `path`, by source line."""
        stderr = self.run(path, ["--print-tuning-keys"]).stderr
        records = []
        for line in stderr.splitlines():
            match = REMARK.match(line)
            if match:
                record = json.loads(match.group("json"))
                record["line"] = int(match.group("line"))
                records.append(record)
        return records


def entry_for(record, winner):
    return {"target": record["target"], "cpu": record["cpu"],
            "int8": record["int8"], "key": record["key"], "winner": winner}


def measure(runner, path, record, choices, args, workdir, tag,
            reference=None):
    """Times `choices` of one op in interleaved rounds. Returns each one's
    per-round medians and whether its outputs equal `reference` (default:
    the outputs of choices[0]), and the reference outputs."""
    results = runner.results(path, workdir)
    caches, outputs = [], []
    for i, choice in enumerate(choices):
        cache = os.path.join(workdir, f"{tag}{i}.json")
        with open(cache, "w") as f:
            json.dump({"format": FORMAT, "version": VERSION,
                       "entries": [entry_for(record, choice)]}, f)
        caches.append(cache)
        outputs.append([os.path.join(workdir, f"{tag}out{i}_{k}.npy")
                        for k in range(results)])
    times = [[] for _ in choices]
    order = list(range(len(choices)))
    rng = random.Random(args.seed)
    for r in range(args.rounds):
        rng.shuffle(order)
        for i in order:
            extra = ["--tuning-cache", caches[i], "--repeat", str(args.repeat)]
            if r == 0:
                for output in outputs[i]:
                    extra += ["--output", output]
            out = runner.run(path, extra).stdout
            match = MEDIAN.search(out)
            if not match:
                raise TuneError(f"no median in bitserial-run output:\n{out}")
            times[i].append(float(match.group(1)))
    if reference is None:
        reference = [np.load(o) for o in outputs[0]]
    exact = [all(np.array_equal(np.load(o), ref)
                 for o, ref in zip(files, reference)) for files in outputs]
    return times, exact, reference


def pick(times, exact, args):
    """The index of the fastest exact candidate that beats candidate 0 by
    --min-gain and --min-diff-ms and in most rounds, else 0."""
    medians = [statistics.median(t) for t in times]
    best = 0
    for i in range(1, len(times)):
        if not exact[i]:
            continue
        wins = sum(t < d for t, d in zip(times[i], times[0]))
        if (medians[i] < medians[best] and
                medians[i] <= medians[0] * (1 - args.min_gain) and
                medians[0] - medians[i] >= args.min_diff_ms and
                2 * wins > args.rounds):
            best = i
    return best


def confirm(runner, path, record, choices, best, args, workdir, tag,
            reference):
    """Whether choices[best] beats choices[0] again, by the same rule, in a
    second set of rounds: on a shared machine a burst of load can make a
    candidate win most of one set by 30%."""
    if best == 0 or not args.confirm:
        return best
    times, exact, _ = measure(runner, path, record,
                              [choices[0], choices[best]], args, workdir,
                              tag, reference)
    return best if pick(times, exact, args) == 1 else 0


def tune_op(runner, path, record, name, args, workdir):
    """Times the candidates of one op; returns its cache entry."""
    choices = candidates(record, args.max_candidates, not args.no_int8,
                         not args.no_lookup)
    times, exact, reference = measure(runner, path, record, choices, args,
                                      workdir, "b")
    best = confirm(runner, path, record, choices, pick(times, exact, args),
                   args, workdir, "bc", reference)
    medians = [statistics.median(t) for t in times]
    default_ms, winner_ms = medians[0], medians[best]
    winner = choices[best]
    measured = list(zip(choices, times, exact))
    # The winner whole (0 sizes) against the winner tiled.
    tiles = (tile_candidates(record, args.tile_candidates)
             if args.tile_candidates > 0 and "domain" in record else [])
    if tiles:
        tiled = [{**winner, "tile_sizes": [0] * len(tiles[0])}] + \
            [{**winner, "tile_sizes": t} for t in tiles]
        tile_times, tile_exact, _ = measure(runner, path, record, tiled, args,
                                            workdir, "t", reference)
        tile_best = confirm(runner, path, record, tiled,
                            pick(tile_times, tile_exact, args), args,
                            workdir, "tc", reference)
        tile_medians = [statistics.median(t) for t in tile_times]
        winner = tiled[tile_best]
        # Relative to the whole winner measured in the same rounds.
        winner_ms *= tile_medians[tile_best] / tile_medians[0]
        measured += list(zip(tiled, tile_times, tile_exact))
    spread = (max(times[0]) - min(times[0])) / medians[0] if medians[0] else 0
    entry = entry_for(record, winner)
    entry.update({
        "source": name,
        "default": choices[0],
        "speedup": round(default_ms / winner_ms, 4),
        "default_ms": round(default_ms, 5),
        "winner_ms": round(winner_ms, 5),
        "candidates": [{**c, "median_ms": round(statistics.median(ts), 5),
                        "round_ms": [round(t, 5) for t in ts],
                        **({} if ok else {"mismatch": True})}
                       for c, ts, ok in measured],
        "rounds": args.rounds, "repeat": args.repeat,
        "default_spread": round(spread, 4),
        "measured": datetime.datetime.now(datetime.timezone.utc)
        .strftime("%Y-%m-%dT%H:%M:%SZ"),
    })
    mismatches = [describe(c) for c, _, ok in measured if not ok]
    return entry, mismatches


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", help="MLIR modules to tune "
                        "(default: the ResNet-18 layers)")
    parser.add_argument("--build", default=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "build"))
    parser.add_argument("--layers", default=",".join(LAYERS))
    parser.add_argument("--configs", default="A1W1,A2W1,A2W2",
                        help="bit configurations AxWy (A1W1, A2W1 and A2W2 "
                        "as in run.py; others unsigned x signed)")
    parser.add_argument("--weights", choices=["constant", "argument"],
                        default="constant", help="the layers' filters as "
                        "module constants (run.py's default) or arguments "
                        "re-laid out on every call")
    parser.add_argument("--init", choices=["zero", "argument"],
                        default="zero", help="the layers' accumulators start "
                        "at zero (run.py's default) or from an init argument")
    parser.add_argument("--target", default="host")
    parser.add_argument("--cpu", default="", help="LLVM CPU name (default: "
                        "the host's)")
    parser.add_argument("--entry", default="", help="entry function")
    parser.add_argument("--cache", default="tuning.json",
                        help="tuning cache to write or merge into")
    parser.add_argument("--rounds", type=int, default=5,
                        help="interleaved rounds (one run per candidate each)")
    parser.add_argument("--repeat", type=int, default=30,
                        help="calls per run (the run's median is kept)")
    parser.add_argument("--max-candidates", type=int, default=8,
                        help="register blocks per op, the default included")
    parser.add_argument("--no-int8", action="store_true",
                        help="not the int8 kernel")
    parser.add_argument("--no-lookup", action="store_true",
                        help="not the table-lookup kernel")
    parser.add_argument("--tile-candidates", type=int, default=3,
                        help="tile sizes to try for the winner (0: do not "
                        "try tiling)")
    parser.add_argument("--min-gain", type=float, default=0.03,
                        help="fraction by which a candidate must beat the "
                        "default")
    parser.add_argument("--min-diff-ms", type=float, default=0.002,
                        help="milliseconds by which a candidate must beat "
                        "the default (bitserial-run prints whole "
                        "microseconds)")
    parser.add_argument("--no-confirm", dest="confirm",
                        action="store_false", help="take a winner without "
                        "measuring it against the default a second time")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.rounds < 1 or args.repeat < 1 or args.max_candidates < 1:
        parser.error("--rounds, --repeat and --max-candidates must be >= 1")
    if args.tile_candidates < 0:
        parser.error("--tile-candidates must be >= 0")

    try:
        cache = load_cache(args.cache)
        runner = Runner(args)
        with tempfile.TemporaryDirectory() as workdir:
            modules = []
            if args.files:
                modules = [(path, os.path.basename(path)) for path in args.files]
            else:
                for config in args.configs.split(","):
                    for layer in args.layers.split(","):
                        add_config(config)
                        if layer not in LAYERS or config not in CONFIGS:
                            raise TuneError(f"unknown layer or config: "
                                            f"{layer} {config}")
                        path = os.path.join(workdir, f"{layer}_{config}.mlir")
                        with open(path, "w") as f:
                            f.write(conv_module(layer, config,
                                                args.weights, args.init)[0])
                        modules.append((path, f"{layer} {config}"))
            entries, failures, tuned = [], [], set()
            print(f"{'op':<24} {'default':>8} {'winner':>22} "
                  f"{'default ms':>11} {'winner ms':>10} {'speedup':>8} "
                  f"{'spread':>7}")
            for path, name in modules:
                records = runner.keys(path)
                for record in records:
                    # Ops of one key share an entry: tune the first.
                    if lookup_fields(record) in tuned:
                        continue
                    tuned.add(lookup_fields(record))
                    label = name if len(records) == 1 and not args.files \
                        else f"{name}:{record['line']}"
                    entry, mismatches = tune_op(runner, path, record, label,
                                                args, workdir)
                    entries.append(entry)
                    # After every op: an interrupted run keeps what it
                    # measured.
                    save(args.cache, merge(cache, [entry]))
                    if mismatches:
                        failures.append(f"{label}: {', '.join(mismatches)} "
                                        "differ from the default's output")
                    print(f"{label:<24} {describe(entry['default']):>8} "
                          f"{describe(entry['winner']):>22} "
                          f"{entry['default_ms']:>11.4f} "
                          f"{entry['winner_ms']:>10.4f} "
                          f"{entry['speedup']:>7.3f}x "
                          f"{100 * entry['default_spread']:>6.1f}%",
                          flush=True)
            print(f"wrote {len(entries)} entries to {args.cache} "
                  f"({len(cache['entries'])} in all)")
            if failures:
                raise TuneError("outputs differ (a lowering bug):\n  " +
                                "\n  ".join(failures))
    except TuneError as e:
        print(f"tune.py: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
