"""Time-bounded fuzzer for bitserial-opt and bitserial-run.

Mutates the project's test IR (test/**/*.mlir, examples/*.mlir, split at
``// -----``) and modules with .npy inputs generated like the differential
suite's, then runs ``bitserial-opt`` with random passes and pipelines and
``bitserial-run`` with random runner options and mutated .npy inputs.

Every input must end in a result or a clear error. A crash is a death by
signal, ``LLVM ERROR``, an assertion, ``PLEASE submit a bug report``, a
``Stack dump``, an AddressSanitizer or UndefinedBehaviorSanitizer report
(``runtime error:``), a timeout (a hang) or bitserial-run's report that the
JIT-compiled function crashed (mutated IR with its own loads, stores or
``in_bounds`` promises is only compiled, never run). Crashes are grouped by signature;
the first of each group is shrunk (line deletions that keep the signature)
and kept in ``--keep DIR/<group>/`` with its command (``cmd.sh``) and output.

    PYTHONPATH=python /usr/bin/python3 -m bitserial.fuzz --bin build/bin \\
        --seconds 300 --seed 1 --keep /tmp/fuzz

Prints one closing line ``fuzz: N runs, N crashes (N distinct), ...`` and
exits non-zero if anything crashed.
"""

import argparse
import concurrent.futures
import glob
import hashlib
import io
import os
import random
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np

from . import differential

# ---------------------------------------------------------------------------
# Crash detection
# ---------------------------------------------------------------------------

_CRASH_PATTERNS = [
    ("asan", re.compile(r"ERROR: AddressSanitizer: ([\w-]+)")),
    ("memory", re.compile(r"AddressSanitizer: (hard rss limit exhausted)")),
    ("lsan", re.compile(r"ERROR: LeakSanitizer: ([\w-]+)")),
    ("ubsan", re.compile(r"runtime error: (.*)")),
    ("assertion", re.compile(r"Assertion `(.*)' failed")),
    ("unreachable", re.compile(r"UNREACHABLE executed at (.*)")),
    ("llvm-error", re.compile(r"LLVM ERROR: (.*)")),
    # bitserial-run turns a crash of the JIT-compiled code into an error line;
    # the fuzzer runs only IR whose accesses the compiler emits, so such a
    # crash is the compiler's.
    ("compiled-code", re.compile(r"the compiled function crashed with (SIG\w+)")),
    ("bug-report", re.compile(r"(PLEASE submit a bug report)")),
    ("stack-dump", re.compile(r"(Stack dump):")),
]
# Frames of the crash machinery itself, skipped when naming the crash site.
_BORING_FRAME = re.compile(
    r"llvm::sys::|SignalHandler|PrintStackTrace|__sanitizer|__asan|__ubsan|"
    r"libc\.so|libpthread|\braise\b|\babort\b|__GI_|\b_start\b|__libc_start|"
    r"llvm::report_fatal_error|llvm::llvm_unreachable_internal|"
    r"reportFatal|__assert|__interceptor|compiler-rt|libclang_rt")
_FRAME = re.compile(r"^\s*#\d+\s+0x[0-9a-f]+\s+(?:in\s+)?(.*)$", re.M)
_UBSAN_SITE = re.compile(r"([\w./-]+:\d+):\d+: runtime error")


def _normalize(text):
    text = re.sub(r"0x[0-9a-fA-F]+", "0x?", text)
    text = re.sub(r"\d+", "N", text)
    text = re.sub(r"(/[\w.+-]+)+/", "", text)  # directories
    return text.strip()[:160]


def _frame_name(frame):
    """A frame's function (or library; None for the crash machinery)."""
    module = re.search(r"\((/[^)+]*)[^)]*\)\s*$", frame)
    symbol = re.sub(r"\s*\(/[^)]*\)\s*$", "", frame)  # (/lib/x.so+0x..)
    if _BORING_FRAME.search(frame):
        return None
    if not symbol:
        if module and re.search(r"lib(LLVM|MLIR|c)\b", module.group(1)):
            return None  # an unsymbolized frame of the signal handling
        return os.path.basename(module.group(1)) if module else "JIT-compiled code"
    symbol = re.sub(r"\s+/\S+$", "", symbol)  # trailing source path
    symbol = re.sub(r"\(.*\)", "()", symbol)  # argument lists
    return _normalize(symbol)[:120]


def _top_frame(output):
    """Where it crashed: the first frame of the project's code if there is
    one, else the first frame outside the crash machinery."""
    names = [name for name in (_frame_name(m.group(1).strip())
                               for m in _FRAME.finditer(output)) if name]
    for name in names[:12]:
        if "bitserial" in name:
            return name
    return names[0] if names else ""


def classify(returncode, output, timed_out, tool=""):
    """(kind, signature) of a crash, or None for a result or a clean error.
    Sanitizer reports, assertions and fatal errors name themselves; other
    deaths by signal are named by the signal and the crashing frame."""
    if timed_out:
        return "timeout", f"timeout: {tool}".strip(": ")
    patterns = [(kind, pattern.search(output)) for kind, pattern in _CRASH_PATTERNS]
    found = [(kind, match) for kind, match in patterns if match]
    generic = ("bug-report", "stack-dump")
    specific = [(kind, match) for kind, match in found if kind not in generic]
    if specific:
        kind, match = specific[0]
        message = match.group(1)
        if kind == "ubsan":
            site = _UBSAN_SITE.search(output)
            message = re.sub(r"^.*/", "", site.group(1)) + ": " + message if site else message
            return kind, f"{kind}: {_normalize(message)}"
        if kind == "memory":
            return kind, f"{kind}: {message} in {tool}"
        if kind in ("llvm-error", "compiled-code"):
            return kind, f"{kind}: {_normalize(message)}"
        frame = _top_frame(output[match.start():]) or _top_frame(output)
        return kind, f"{kind}: {_normalize(message)}" + (f" in {frame}" if frame else "")
    if returncode < 0 or found:
        try:
            name = signal.Signals(-returncode).name if returncode < 0 else "crash"
        except ValueError:
            name = f"signal {-returncode}"
        frame = _top_frame(output)
        return "signal", f"signal: {name}" + (f" in {frame}" if frame else "")
    if 128 < returncode < 128 + 65:
        # A shell-style death by signal (e.g. through a wrapper).
        return "signal", f"signal: exit {returncode}"
    return None


# ---------------------------------------------------------------------------
# Seeds
# ---------------------------------------------------------------------------

class Seed:
    """A module text and, for generated modules, matching .npy inputs."""

    def __init__(self, name, text, inputs=None):
        self.name = name
        self.text = text
        self.inputs = inputs


def _strip_comments(text):
    lines = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("//"):
            continue
        lines.append(re.sub(r"\s*//.*$", "", line) if "//" in line and
                     '"' not in line else line)
    return "\n".join(lines).strip() + "\n"


def load_seeds(src_root):
    """Seed modules grouped by file (a file with many small cases, such as
    the verifier tests, should not outweigh the others)."""
    seeds = []
    paths = sorted(glob.glob(os.path.join(src_root, "test", "**", "*.mlir"),
                             recursive=True))
    paths += sorted(glob.glob(os.path.join(src_root, "examples", "*.mlir")))
    for path in paths:
        with open(path) as f:
            text = f.read()
        rel = os.path.relpath(path, src_root)
        chunks = []
        for i, chunk in enumerate(re.split(r"^// -----.*$", text, flags=re.M)):
            chunk = _strip_comments(chunk)
            if "func.func" in chunk or "bitserial." in chunk:
                chunks.append(Seed(f"{rel}#{i}", chunk))
        if chunks:
            seeds.append(chunks)
    return seeds


def generated_seed(rng):
    """A differential-suite module with inputs (valid by construction)."""
    name, mlir, inputs, _ = differential.make_case(
        rng.randrange(1 << 30), rng.randrange(1 << 20), rng.random())
    return Seed("generated " + name, mlir, [np.asarray(a) for a in inputs])


# ---------------------------------------------------------------------------
# IR mutations
# ---------------------------------------------------------------------------

SMALL = [0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100,
         127, 128, 129]
HUGE = [255, 256, 1000, 4096, 65536, 2**31 - 1, 2**31, 2**32 + 1, 2**40,
        2**62, 2**63 - 1, 2**63, 10**30]
ELEM_TYPES = ["i1", "i2", "i7", "i8", "i16", "i32", "i64", "i128", "index",
              "f32", "f16"]
ENCODINGS = ["unsigned", "signed", "bipolar", "ternary", "Signed", ""]

# Numbers outside shapes (those are mut_shape's) and dense literals.
_NUMBER = re.compile(r"(?<![\w%#@^.<])-?\d+\b(?!\.)")
_SHAPE = re.compile(r"(?<=tensor<)((?:(?:\d+|\?)x)+)")
_TENSOR = re.compile(r"tensor<[^<>]*(?:<[^<>]*>[^<>]*)?>")
# Element types of tensors and values; not of dense arrays (MLIR's own parser
# crashes on `array<index: ...>`, which no project code sees).
_ELEM = re.compile(r"(?<=[x<\s,(:])(?<!array<)(?:i\d+|index|f16|f32|f64)\b")
_LIST_ATTR = re.compile(r"\b(strides|padding|dilations)\s*=\s*\[([^\]]*)\]")
_ARRAY = re.compile(r"array<i64(?::\s*([^>]*))?>")


def _number(rng, huge_share=0.15):
    if rng.random() < huge_share:
        value = rng.choice(HUGE)
    else:
        value = rng.choice(SMALL)
    return -value if rng.random() < 0.08 else value


def _replace_match(text, match, replacement, group=0):
    return text[:match.start(group)] + replacement + text[match.end(group):]


def _pick(rng, pattern, text):
    matches = list(pattern.finditer(text))
    return rng.choice(matches) if matches else None


def mut_number(rng, text, donors):
    m = _pick(rng, _NUMBER, text)
    if not m:
        return None
    old = int(m.group(0))
    choice = rng.random()
    if choice < 0.3:
        new = old + rng.choice([-2, -1, 1, 2])
    elif choice < 0.4:
        new = old * 2
    else:
        new = _number(rng)
    return _replace_match(text, m, str(new))


def _project_line(text, pos):
    """Whether the line at `pos` is the project's (a bitserial op, a function
    signature, a type alias) rather than another dialect's op, whose parsers
    and folders may build one object per element of a huge shape."""
    start = text.rfind("\n", 0, pos) + 1
    end = text.find("\n", pos)
    line = text[start:end if end >= 0 else len(text)]
    return bool(re.search(r"bitserial\.|func\.func|^\s*!|return", line))


def mut_shape(rng, text, donors):
    m = _pick(rng, _SHAPE, text)
    if not m:
        return None
    dims = m.group(1).split("x")[:-1]
    op = rng.random()
    i = rng.randrange(len(dims))
    huge_share = 0.05 if _project_line(text, m.start()) else 0.0
    if op < 0.55:
        dims[i] = str(_number(rng, huge_share) if rng.random() < 0.85 else "?")
        if dims[i].startswith("-"):
            dims[i] = dims[i][1:]
    elif op < 0.7:
        dims[i] = "?"
    elif op < 0.85 and len(dims) > 1:
        del dims[i]
    else:
        dims.insert(i, str(rng.choice(SMALL[1:12])))
    return _replace_match(text, m, "".join(d + "x" for d in dims), 1)


def mut_packed_field(rng, text, donors):
    fields = list(re.finditer(r"\b(bits|length)\s*=\s*(-?\d+)", text))
    encs = list(re.finditer(r"\bencoding\s*=\s*(\w*)", text))
    if not fields and not encs:
        return None
    if encs and (not fields or rng.random() < 0.35):
        m = rng.choice(encs)
        return _replace_match(text, m, rng.choice(ENCODINGS), 1)
    m = rng.choice(fields)
    if m.group(1) == "bits":
        new = rng.choice([0, 1, 2, 3, 4, 7, 8, 9, 16, 33, 64, -1, 2**31, 2**63])
    else:
        new = _number(rng, 0.1)
    return _replace_match(text, m, str(new), 2)


def mut_elem_type(rng, text, donors):
    m = _pick(rng, _ELEM, text)
    if not m:
        return None
    return _replace_match(text, m, rng.choice(ELEM_TYPES))


def mut_list_attr(rng, text, donors):
    m = _pick(rng, _LIST_ATTR, text)
    if not m:
        return None
    values = [v.strip() for v in m.group(2).split(",") if v.strip()]
    op = rng.random()
    if op < 0.6 and values:
        values[rng.randrange(len(values))] = str(_number(rng, 0.05))
    elif op < 0.8 and values:
        del values[rng.randrange(len(values))]
    else:
        values.append(str(rng.choice(SMALL[:6])))
    return _replace_match(text, m, ", ".join(values), 2)


def mut_tile_attr(rng, text, donors):
    m = _pick(rng, _ARRAY, text)
    if m and rng.random() < 0.7:
        values = [v.strip() for v in (m.group(1) or "").split(",") if v.strip()]
        op = rng.random()
        if op < 0.6 and values:
            values[rng.randrange(len(values))] = str(_number(rng, 0.05))
        elif op < 0.8 and values:
            del values[rng.randrange(len(values))]
        else:
            values.append(str(rng.choice(SMALL[:8])))
        body = ": " + ", ".join(values) if values else ""
        return _replace_match(text, m, f"array<i64{body}>")
    # Add tile sizes to an op that has none.
    ops = list(re.finditer(r"(bitserial\.(?:matmul|conv2d)\b[^\n]*?)(\s*->\s*tensor)",
                           text))
    if not ops:
        return None
    m = rng.choice(ops)
    if "tile_sizes" in m.group(0):
        return None
    sizes = ", ".join(str(rng.choice(SMALL[:10])) for _ in range(rng.choice([2, 3, 4, 5])))
    return (text[:m.end(1)] + f" {{bitserial.tile_sizes = array<i64: {sizes}>}}"
            + text[m.end(1):])


def mut_type_swap(rng, text, donors):
    types = [m for m in _TENSOR.finditer(text)]
    pool = [m.group(0) for m in types]
    for donor in donors[:3]:
        pool += _TENSOR.findall(donor)
    if not types or not pool:
        return None
    m = rng.choice(types)
    return _replace_match(text, m, rng.choice(pool))


def mut_lines(rng, text, donors):
    lines = text.splitlines()
    if len(lines) < 2:
        return None
    op = rng.random()
    i = rng.randrange(len(lines))
    if op < 0.4:
        del lines[i]
    elif op < 0.7:
        lines.insert(rng.randrange(len(lines) + 1), lines[i])
    elif op < 0.85:
        j = rng.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
    else:
        donor_lines = rng.choice(donors).splitlines() if donors else lines
        if not donor_lines:
            return None
        lines.insert(i, rng.choice(donor_lines))
    return "\n".join(lines) + "\n"


def mut_op_name(rng, text, donors):
    names = ["bitserial.matmul", "bitserial.conv2d", "bitserial.pack",
             "bitserial.unpack"]
    m = _pick(rng, re.compile(r"bitserial\.(?:matmul|conv2d|pack|unpack)\b"), text)
    if not m:
        return None
    return _replace_match(text, m, rng.choice(names))


def mut_token(rng, text, donors):
    """Deletes or duplicates a random token (punctuation, keyword, value)."""
    tokens = list(re.finditer(r"[%@#!]?[\w.]+|[^\s\w]", text))
    if not tokens:
        return None
    m = rng.choice(tokens)
    if rng.random() < 0.5:
        return _replace_match(text, m, "")
    return _replace_match(text, m, m.group(0) + " " + m.group(0))


IR_MUTATIONS = [
    (mut_number, 3), (mut_shape, 4), (mut_packed_field, 4), (mut_elem_type, 3),
    (mut_list_attr, 2), (mut_tile_attr, 2), (mut_type_swap, 2), (mut_lines, 2),
    (mut_op_name, 0.5), (mut_token, 1),
]


def mutate_ir(rng, text, donors, count):
    funcs, weights = zip(*IR_MUTATIONS)
    applied = []
    for _ in range(count):
        for _attempt in range(5):
            func = rng.choices(funcs, weights)[0]
            new = func(rng, text, donors)
            if new is not None and new != text:
                text = new
                applied.append(func.__name__[4:])
                break
    return text, applied


# ---------------------------------------------------------------------------
# .npy mutations
# ---------------------------------------------------------------------------

def npy_bytes(array):
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def _npy_header(descr, fortran, shape):
    header = f"{{'descr': {descr}, 'fortran_order': {fortran}, 'shape': {shape}, }}"
    header += " " * ((64 - (len(header) + 11) % 64) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode("latin1")


def mutate_npy(rng, array):
    """Bytes of a (usually) damaged .npy file made from `array`."""
    data = npy_bytes(array)
    body_offset = data.index(b"\n") + 1
    body = data[body_offset:]
    op = rng.randrange(11)
    if op == 0:  # another dtype, consistent file
        dtype = rng.choice(["i1", "u1", "i2", "u2", "i4", "u4", "i8", "u8",
                            "f4", "f8", "?", ">i4", ">i8", "c8"])
        return "dtype", npy_bytes(array.astype(dtype))
    if op == 1:  # another shape, consistent file
        shape = tuple(rng.choice([0, 1, 2, 3, 5, 8, 64, 65])
                      for _ in range(rng.choice([0, 1, 2, 3, 4, 5])))
        return "shape", npy_bytes(np.zeros(shape, dtype=array.dtype))
    if op == 2:  # header shape that does not match the data
        shape = list(array.shape) or [1]
        i = rng.randrange(len(shape))
        shape[i] = rng.choice([0, -1, 2**31, 2**62, 2**64, shape[i] + 1, shape[i] * 7])
        text = "(" + "".join(f"{d}, " for d in shape) + ")"
        if rng.random() < 0.2:
            text = rng.choice(["(1.5,)", "('a',)", "[2, 3]", "(,)", "((1,),)", "()"])
        return "header-shape", _npy_header(repr(array.dtype.str), False, text) + body
    if op == 3:  # header descr
        descr = rng.choice(["'<i3'", "'<f2'", "'|O'", "'<U4'", "'|V8'", "'x'",
                            "42", "'<i4'", "'|b1'", "[('a', '<i4')]", "'>u8'"])
        return "header-descr", _npy_header(descr, False, repr(tuple(array.shape))) + body
    if op == 4:  # fortran_order
        value = rng.choice(["True", "1", "'no'", "None"])
        return "header-fortran", _npy_header(repr(array.dtype.str), value,
                                             repr(tuple(array.shape))) + body
    if op == 5:  # truncate anywhere
        return "truncate", data[:rng.randrange(len(data))]
    if op == 6:  # trailing bytes
        return "append", data + bytes(rng.randrange(256) for _ in range(rng.choice([1, 7, 64])))
    if op == 7:  # random bytes in the header
        raw = bytearray(data)
        for _ in range(rng.choice([1, 2, 4])):
            i = rng.randrange(min(len(raw), body_offset))
            raw[i] = rng.randrange(256)
        return "header-bytes", bytes(raw)
    if op == 8:  # header length or version fields
        raw = bytearray(data)
        if rng.random() < 0.5:
            raw[6] = rng.choice([0, 2, 3, 9])
        else:
            raw[8:10] = rng.randrange(65536).to_bytes(2, "little")
        return "header-len", bytes(raw)
    if op == 9:  # values: extremes and random words
        flat = array.copy().reshape(-1)
        if flat.size and flat.dtype.kind in "iu":
            info = np.iinfo(flat.dtype)
            for _ in range(max(1, flat.size // 4)):
                flat[rng.randrange(flat.size)] = rng.choice(
                    [info.min, info.max, 0, -1 if info.min < 0 else 1,
                     rng.randrange(info.min, info.max)])
        return "values", npy_bytes(flat.reshape(array.shape))
    # A version 2/3 header with a 4-byte length field.
    header = data[10:body_offset]
    return "version2", (b"\x93NUMPY" + bytes([rng.choice([2, 3]), 0])
                        + len(header).to_bytes(4, "little") + header + body)


# ---------------------------------------------------------------------------
# Tool invocations
# ---------------------------------------------------------------------------

TARGETS = ["host", "x86-avx2", "x86-avx512", "x86-avx512-vpopcntdq", "generic"]
CPUS = ["znver3", "znver4", "skylake-avx512", "icelake-server", "haswell",
        "x86-64", "x86-64-v2", "x86-64-v4", "sapphirerapids", "nonsense-cpu"]


def _tile_sizes(rng):
    return ",".join(str(rng.choice([0, 0, 1, 2, 3, 4, 5, 7, 8, 16, 64, -1]))
                    for _ in range(rng.choice([1, 2, 3, 4, 5])))


def _bool(rng):
    return rng.choice(["true", "false"])


def random_opt_pipeline(rng):
    """A list of bitserial-opt pass flags."""
    choice = rng.randrange(7)
    if choice == 0:
        passes = ["--convert-bitserial-to-linalg"]
    elif choice == 1:
        opts = []
        if rng.random() < 0.6:
            opts.append(f"vector-bits={rng.choice([128, 256, 512, 128, 256, 512, 64, 0, 100, 1024])}")
        if rng.random() < 0.5:
            opts.append(f"pixel-block={rng.choice([1, 2, 3, 4, 7, 8, 16, 0, -1])}")
        if rng.random() < 0.5:
            opts.append(f"channel-block={rng.choice([1, 2, 3, 4, 8, 0, -1])}")
        for flag in ("word-popcount", "nibble-lookup", "fit-register-block", "parallel"):
            if rng.random() < 0.3:
                opts.append(f"{flag}={_bool(rng)}")
        passes = ["--convert-bitserial-to-vector" + (f"={' '.join(opts)}" if opts else "")]
        if "nibble-lookup=true" in opts and rng.random() < 0.3:
            passes += ["--one-shot-bufferize=bufferize-function-boundaries",
                       "--bitserial-x86-byte-counts"]
    elif choice == 2:
        opts = []
        if rng.random() < 0.5:
            opts.append(f"matmul-tile-sizes={_tile_sizes(rng)}")
        if rng.random() < 0.5:
            opts.append(f"conv-tile-sizes={_tile_sizes(rng)}")
        if rng.random() < 0.3:
            opts.append(f"cache-bytes={rng.choice([0, 1, 64, 4096, 32768, 1 << 20, -1])}")
        passes = ["--bitserial-tile" + (f"={' '.join(opts)}" if opts else "")]
        if rng.random() < 0.5:
            passes.append("--canonicalize")
        if rng.random() < 0.4:
            passes.append(rng.choice(["--convert-bitserial-to-linalg",
                                      "--convert-bitserial-to-vector"]))
    elif choice in (3, 4):
        name = "--bitserial-vectorize" if choice == 3 else "--bitserial-to-llvm"
        opts = []
        if rng.random() < 0.7:
            opts.append(f"target={rng.choice(TARGETS)}")
        if rng.random() < 0.5:
            opts.append(f"tile={_bool(rng)}")
        if rng.random() < 0.4:
            opts.append(f"parallel={_bool(rng)}")
        if rng.random() < 0.25:
            opts.append(f"matmul-tile-sizes={_tile_sizes(rng)}")
        if rng.random() < 0.25:
            opts.append(f"conv-tile-sizes={_tile_sizes(rng)}")
        if choice == 4:
            if rng.random() < 0.5:
                opts.append(f"strategy={rng.choice(['reference', 'vector'])}")
            if rng.random() < 0.3:
                opts.append(f"emit-c-interface={_bool(rng)}")
        passes = [name + (f"={' '.join(opts)}" if opts else "")]
    elif choice == 5:
        passes = [rng.choice(["--canonicalize", "--cse", "--bitserial-emit-c-interface",
                              "--bitserial-x86-byte-counts"])]
        passes.append(rng.choice(["--convert-bitserial-to-linalg",
                                  "--convert-bitserial-to-vector", "--bitserial-tile",
                                  "--bitserial-to-llvm"]))
    else:
        passes = ["--canonicalize"]
    if rng.random() < 0.1:
        passes.append("--mlir-print-op-generic")
    return passes


def random_run_options(rng):
    opts = []
    if rng.random() < 0.6:
        opts += ["--strategy", rng.choice(["reference", "vector", "vector"])]
    if rng.random() < 0.6:
        opts += ["--target", rng.choice(TARGETS)]
    if rng.random() < 0.35:
        opts.append("--tile")
    if rng.random() < 0.3:
        opts += ["--num-threads", str(rng.choice([1, 2, 2, 3, 4, 7, 16, 64, 0]))]
    if rng.random() < 0.2:
        opts += ["--cpu", rng.choice(CPUS)]
    if rng.random() < 0.15:
        opts.append(f"-O{rng.choice([0, 1, 3])}")
    if rng.random() < 0.2:
        opts.append("--print")
    if rng.random() < 0.1:
        opts += ["--repeat", str(rng.choice([1, 2]))]
    return opts


# ---------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------

class Case:
    """A module, its .npy files and a command line, in a directory."""

    def __init__(self, tool, text, args, npys):
        self.tool = tool      # "opt" or "run"
        self.text = text      # module text (case.mlir)
        self.args = args      # options after the module path
        self.npys = npys      # [(file name, bytes)] in --input order

    def command(self, tools, workdir):
        cmd = [tools[self.tool], os.path.join(workdir, "case.mlir")] + self.args
        for name, _ in self.npys:
            cmd += ["--input", os.path.join(workdir, name)]
        return cmd

    def write(self, workdir):
        with open(os.path.join(workdir, "case.mlir"), "w") as f:
            f.write(self.text)
        for name, data in self.npys:
            with open(os.path.join(workdir, name), "wb") as f:
                f.write(data)

    def script(self, tools):
        cmd = [os.path.basename(tools[self.tool]), "case.mlir"] + self.args
        for name, _ in self.npys:
            cmd += ["--input", name]
        return " ".join(shlex.quote(c) for c in cmd)


def _limit_memory(limit_bytes):
    def set_limits():
        os.setsid()
        if limit_bytes:
            import resource
            resource.setrlimit(resource.RLIMIT_AS, (limit_bytes, limit_bytes))
    return set_limits


def execute(case, tools, timeout, memory_limit, env):
    """Runs `case` in a scratch directory: (returncode, output, timed_out)."""
    workdir = tempfile.mkdtemp(prefix="bitserial-fuzz-")
    try:
        case.write(workdir)
        try:
            proc = subprocess.Popen(case.command(tools, workdir), cwd=workdir,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                    env=env, preexec_fn=_limit_memory(memory_limit))
        except OSError as error:  # e.g. the tool is being relinked
            return 127, f"fuzz: cannot run {case.tool}: {error}", False
        try:
            _, err = proc.communicate(timeout=timeout)
            timed_out = False
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            _, err = proc.communicate()
            timed_out = True
        output = err.decode("utf-8", "replace")
        return proc.returncode, output, timed_out
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


# What the program itself must keep defined: indices it computes (and
# `in_bounds` promises), divisors, stack sizes, recursion; with mutated IR,
# also its loops (a step of 0). The fuzzer compiles such modules but never
# runs them: a crash there would be the program's, not the compiler's.
_PROGRAM_UB = re.compile(
    r"vector\.(transfer_|load|store|gather|scatter|masked)|tensor\.(extract|insert)\b|"
    r"memref\.(load|store|alloca)|in_bounds|llvm\.|arith\.(div|rem|ceildiv|floordiv)")
_LOOPS = re.compile(r"scf\.(for|while|forall|parallel)|cf\.(br|cond_br)")


def _recursive(text):
    for match in re.finditer(r"func\.func\s+(?:private\s+)?@([\w$.]+)", text):
        end = text.find("func.func", match.end())
        body = text[match.end():end if end >= 0 else len(text)]
        if re.search(r"call @" + re.escape(match.group(1)) + r"\b", body):
            return True
    return False


def runs_safely(original, text):
    """Whether running `text` (mutated from `original`) can only crash by a
    fault of the tools."""
    for module in {original, text}:
        if _PROGRAM_UB.search(module) or _recursive(module):
            return False
    return text == original or not _LOOPS.search(text)


def make_case(rng, seeds):
    """One random case: a (mutated) seed and a random tool invocation."""
    use_generated = rng.random() < 0.35
    seed = generated_seed(rng) if use_generated else rng.choice(rng.choice(seeds))
    donors = [rng.choice(rng.choice(seeds)).text for _ in range(3)]
    mutated_ir = rng.random() < (0.55 if use_generated else 0.85)
    text, applied = seed.text, []
    if mutated_ir:
        text, applied = mutate_ir(rng, seed.text, donors, rng.choice([1, 1, 2, 3]))
    tool = "run" if rng.random() < (0.75 if use_generated else 0.4) else "opt"
    if not runs_safely(seed.text, text):
        tool = "opt"
    npys = []
    if tool == "opt":
        args = random_opt_pipeline(rng)
    else:
        args = random_run_options(rng)
        funcs = re.findall(r"func\.func\s+@([\w$.]+)", text)
        if funcs and (len(funcs) > 1 or rng.random() < 0.3):
            args += ["--entry", rng.choice(funcs) if rng.random() < 0.95 else "nope"]
        if seed.inputs is not None and rng.random() < 0.8:
            arrays = list(seed.inputs)
            mutated_npy = not mutated_ir or rng.random() < 0.3
            for i, array in enumerate(arrays):
                if mutated_npy and rng.random() < 0.5:
                    how, data = mutate_npy(rng, array)
                    applied.append(f"npy{i}-{how}")
                else:
                    data = npy_bytes(array)
                npys.append((f"in{i}.npy", data))
            if rng.random() < 0.1 and npys:  # one too many or too few
                if rng.random() < 0.5:
                    npys.pop()
                else:
                    npys.append(npys[0])
                applied.append("npy-count")
        else:
            args += ["--random-inputs", "--seed", str(rng.randrange(100))]
        if rng.random() < 0.3:
            args += ["--output", "out.npy"]
    return Case(tool, text, args, npys), seed.name, applied


def minimize(case, signature, tools, timeout, memory_limit, env, budget_s):
    """Deletes runs of lines (halving their length down to single lines) as
    long as the crash keeps its signature."""
    deadline = time.time() + budget_s

    def same(text):
        trial = Case(case.tool, text, case.args, case.npys)
        code, out, timed_out = execute(trial, tools, timeout, memory_limit, env)
        found = classify(code, out, timed_out, os.path.basename(tools[case.tool]))
        return found is not None and found[1] == signature

    lines = case.text.splitlines()
    chunk = max(1, len(lines) // 2)
    while chunk >= 1 and time.time() < deadline:
        i, changed = 0, False
        while i < len(lines) and time.time() < deadline:
            trial = lines[:i] + lines[i + chunk:]
            if trial and same("\n".join(trial) + "\n"):
                lines, changed = trial, True
            else:
                i += chunk
        if not changed:
            chunk //= 2
    return Case(case.tool, "\n".join(lines) + "\n", case.args, case.npys)


def _crash_id(signature):
    slug = re.sub(r"[^\w]+", "-", signature).strip("-")[:48]
    return slug + "-" + hashlib.sha1(signature.encode()).hexdigest()[:8]


def keep_reproducer(keep_root, case, tools, signature, output, extra):
    path = os.path.join(keep_root, _crash_id(signature))
    os.makedirs(path, exist_ok=True)
    case.write(path)
    with open(os.path.join(path, "cmd.sh"), "w") as f:
        f.write("#!/bin/sh\n# " + signature.replace("\n", " ") + "\n")
        f.write(f"# {extra}\ncd \"$(dirname \"$0\")\"\n")
        f.write(f"PATH={shlex.quote(os.path.dirname(tools[case.tool]))}:$PATH "
                + case.script(tools) + "\n")
    os.chmod(os.path.join(path, "cmd.sh"), 0o755)
    with open(os.path.join(path, "output.txt"), "w") as f:
        f.write(output)
    return path


def is_sanitized(tool):
    """Whether `tool` was built with AddressSanitizer."""
    with open(tool, "rb") as f:
        tail = b""
        while True:
            chunk = f.read(1 << 24)
            if not chunk:
                return False
            if b"__asan_init" in tail + chunk:
                return True
            tail = chunk[-16:]


def default_env(memory_mb):
    env = dict(os.environ)
    # Symbolized stack dumps; sanitizer settings for a sanitized build (see
    # README: the tools link Debian's uninstrumented libMLIR.so).
    env["PATH"] = "/usr/lib/llvm-22/bin:" + env.get("PATH", "")
    env.setdefault("ASAN_OPTIONS",
                   "allow_user_poisoning=0:detect_leaks=1:abort_on_error=1")
    if memory_mb and "hard_rss_limit_mb" not in env["ASAN_OPTIONS"]:
        # A run that needs more memory than this is reported, not swapped in.
        env["ASAN_OPTIONS"] += f":hard_rss_limit_mb={memory_mb}"
    env.setdefault("UBSAN_OPTIONS",
                   "halt_on_error=1:abort_on_error=1:print_stacktrace=1")
    env.setdefault("OMP_WAIT_POLICY", "passive")
    return env


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin", required=True,
                        help="directory with bitserial-opt and bitserial-run")
    parser.add_argument("--src", default=os.path.abspath(
        os.path.join(os.path.dirname(__file__), "..", "..")),
        help="source root (its test/ and examples/ modules are the seeds)")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--max-runs", type=int, default=0,
                        help="stop after this many runs (0: only the time bound)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=60,
                        help="seconds before a run counts as a hang")
    parser.add_argument("--memory-mb", type=int, default=6144,
                        help="memory limit per run (address space; resident "
                             "memory for ASan builds); 0: none")
    parser.add_argument("--keep", default="", help="directory for reproducers")
    parser.add_argument("--minimize-seconds", type=float, default=60,
                        help="time spent shrinking each distinct crash")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)

    bin_dir = os.path.abspath(args.bin)
    tools = {"opt": os.path.join(bin_dir, "bitserial-opt"),
             "run": os.path.join(bin_dir, "bitserial-run")}
    for path in tools.values():
        if not os.access(path, os.X_OK):
            parser.error(f"{path}: not an executable")
    seeds = load_seeds(args.src)
    if not seeds:
        parser.error(f"no seed modules under {args.src}")
    if args.keep:
        os.makedirs(args.keep, exist_ok=True)
    env = default_env(args.memory_mb)
    # ASan reserves terabytes of address space: limit its resident memory
    # (hard_rss_limit_mb above) instead of the address space.
    memory_limit = 0 if is_sanitized(tools["run"]) else args.memory_mb << 20

    start = time.time()
    deadline = start + args.seconds
    lock = threading.Lock()
    counter = iter(range(1 << 62))
    stats = {"runs": 0, "ok": 0, "errors": 0, "crashes": 0}
    groups = {}  # signature -> [count, first iteration, kept path]

    def worker():
        while time.time() < deadline:
            with lock:
                if args.max_runs and stats["runs"] >= args.max_runs:
                    return
                index = next(counter)
                stats["runs"] += 1
            rng = random.Random(args.seed * 1000003 + index)
            case, seed_name, applied = make_case(rng, seeds)
            timeout = min(args.timeout, max(5.0, deadline - time.time() + 5))
            code, output, timed_out = execute(case, tools, timeout,
                                              memory_limit, env)
            found = classify(code, output, timed_out, os.path.basename(tools[case.tool]))
            with lock:
                if found is None:
                    stats["ok" if code == 0 else "errors"] += 1
                    if args.verbose:
                        print(f"[{index}] exit {code} {seed_name} {applied} "
                              f"{case.tool} {' '.join(case.args)}", flush=True)
                    continue
                stats["crashes"] += 1
                kind, signature = found
                first = signature not in groups
                if first:
                    groups[signature] = [1, index, ""]
                else:
                    groups[signature][0] += 1
            if not first:
                continue
            extra = f"iteration {index} of seed {args.seed}: {seed_name}, mutations {applied}"
            print(f"CRASH [{index}] {signature}\n  from {seed_name}, mutations {applied}\n"
                  f"  {case.tool}: {case.script(tools)}", flush=True)
            for line in output.strip().splitlines()[:6]:
                print("  | " + line[:200], flush=True)
            if args.keep:
                small = case
                budget = min(args.minimize_seconds, max(0.0, deadline - time.time()))
                if kind != "timeout" and budget > 0:
                    small = minimize(case, signature, tools, args.timeout,
                                     memory_limit, env, budget)
                path = keep_reproducer(args.keep, small, tools, signature,
                                       output, extra)
                with lock:
                    groups[signature][2] = path
                print(f"  kept {path}", flush=True)

    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        for future in [pool.submit(worker) for _ in range(args.jobs)]:
            future.result()

    elapsed = time.time() - start
    if groups:
        print("distinct crashes:")
        for signature, (count, index, path) in sorted(groups.items(),
                                                      key=lambda g: -g[1][0]):
            print(f"  {count:4d}x {signature}" + (f"  ({path})" if path else ""))
    print(f"fuzz: {stats['runs']} runs, {stats['crashes']} crashes "
          f"({len(groups)} distinct), {stats['errors']} clean errors, "
          f"{stats['ok']} ok in {elapsed:.0f} s (seed {args.seed})", flush=True)
    return 1 if groups else 0


if __name__ == "__main__":
    sys.exit(main())
