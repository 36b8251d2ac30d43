"""Compile MLIR modules and call them on NumPy arrays: ``bitserial.compile``.

A thin, documented layer over the extension ``bitserial._native`` (built by
the CMake build into ``build/python/bitserial``), which parses the module,
lowers it with ``bitserial-to-llvm``, JIT-compiles it and calls it, as
``bitserial-run`` does.  This module imports without the extension: it is
loaded on the first ``compile`` call.  See docs/python.md.
"""

import errno
import os
import re
import statistics
import threading
from dataclasses import dataclass
from typing import Any, List, Optional, Sequence, Tuple, Union

import numpy as np

__all__ = [
    "compile", "Compiled", "CompileError", "InputError",
    "TensorInfo", "BenchmarkResult", "Profile", "ProfileRow",
    "TARGETS", "STRATEGIES",
]

TARGETS = ("host", "generic", "x86-avx2", "x86-avx512", "x86-avx512-vpopcntdq",
           "aarch64-a53", "aarch64-ooo")
STRATEGIES = ("vector", "reference")

# The first bytes of MLIR bytecode.
_BYTECODE_MAGIC = b"ML\xefR"


class CompileError(Exception):
    """The module could not be parsed, verified, lowered or JIT-compiled, or
    the options do not fit it (unknown entry, unsupported signature, a CPU
    or target this machine cannot run).

    ``diagnostics`` holds MLIR's rendered diagnostics (location, source line,
    caret, notes) as ``bitserial-opt`` prints them, or ``""`` when the error
    is not an MLIR diagnostic.
    """

    def __init__(self, message: str, diagnostics: str = ""):
        super().__init__(message)
        self.diagnostics = diagnostics


class InputError(TypeError, ValueError):
    """An input does not fit the entry's signature: count, rank, shape,
    dtype, or a value outside the range of its encoding.  Both a
    ``TypeError`` and a ``ValueError``."""


def _load_native():
    try:
        from . import _native  # noqa: F401
    except ImportError as error:
        raise ImportError(
            "bitserial.compile needs the extension bitserial._native, which "
            "this bitserial package does not have (" + str(error) + "). "
            "Build it (scripts/setup.sh, or ninja -C build bitserial-python) "
            "and import the package from the build tree: "
            "PYTHONPATH=build/python /usr/bin/python3 ...") from error
    return _native


@dataclass(frozen=True)
class TensorInfo:
    """An argument or result of the entry function."""
    #: ``"argument #0 (tensor<4x70xi8>)"``: position and MLIR type.
    description: str
    #: Extents, ``None`` for a dynamic (``?``) one.
    shape: Tuple[Optional[int], ...]
    #: The dtype results have and inputs need (inputs of integer arguments
    #: may also be the unsigned dtype of the same width).
    dtype: np.dtype
    #: Arguments: whether the compiled code writes into the argument's
    #: buffer (an accumulator updated in place), so that a call copies the
    #: input rather than reading it in place.  False for results.
    written: bool
    #: ``(min, max)`` that values must lie in when the argument feeds
    #: ``bitserial.pack`` (checked unless ``check_inputs=False``), else None.
    value_range: Optional[Tuple[int, int]]
    #: Whether only odd values are allowed (bipolar encodings).
    odd_only: bool
    #: Packed arguments: the logical length of each plane (bits past it must
    #: be zero); 0 otherwise.
    packed_length: int


@dataclass(frozen=True)
class BenchmarkResult:
    """Wall times of the compiled call alone (no input checks), in seconds."""
    samples: Tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def min(self) -> float:
        return min(self.samples)

    @property
    def max(self) -> float:
        return max(self.samples)

    @property
    def mean(self) -> float:
        return statistics.fmean(self.samples)

    def __str__(self) -> str:
        return ("{} calls: median {:.4f} ms, min {:.4f} ms, mean {:.4f} ms, "
                "max {:.4f} ms").format(len(self.samples), self.median * 1e3,
                                        self.min * 1e3, self.mean * 1e3,
                                        self.max * 1e3)


@dataclass(frozen=True)
class ProfileRow:
    """One top-level compute op of the entry (``bitserial-run --profile``)."""
    #: ``"bitserial.matmul"``, ``"linalg.generic"``, ...
    name: str
    #: ``"file.mlir:12"`` or ``"?"``.
    location: str
    calls: int
    #: Time inside the op, excluding other profiled ops it calls.
    seconds: float


@dataclass(frozen=True)
class Profile:
    """The per-op profile of the calls since the last ``reset_profile()``."""
    ops: Tuple[ProfileRow, ...]
    #: Calls of the entry and their total wall time; the time outside the
    #: ops is ``seconds - sum(op.seconds)``.
    calls: int
    seconds: float


def _python_words(message: str) -> str:
    """The runner's messages name bitserial-run's flags: use the keyword
    arguments of compile() instead."""
    for flag, keyword in (("--no-check-inputs", "check_inputs=False"),
                          ("choose another --target", "choose another target"),
                          ("--entry", "entry="), ("--cpu ", "cpu=")):
        message = message.replace(flag, keyword)
    return re.sub(r"--target ([\w-]+)", r'target="\1"', message)


def _tensor_info(info: dict) -> TensorInfo:
    value_range = info["range"]
    return TensorInfo(
        description=info["description"],
        shape=tuple(info["shape"]),
        dtype=np.dtype(info["dtype"]),
        written=bool(info["written"]),
        value_range=None if value_range is None else (value_range[0], value_range[1]),
        odd_only=bool(value_range and value_range[2]),
        packed_length=int(info["packed_length"]))


def _accepts(dtype: np.dtype, expected: np.dtype) -> bool:
    """Whether an array of `dtype` may be passed for `expected` as is (up to
    byte order): the same dtype, or the unsigned one of the same width for
    integers (bit patterns, as bitserial-run takes them)."""
    if dtype.kind == "b" or expected.kind == "b":
        return dtype.kind == expected.kind
    if expected.kind == "f":
        return dtype.kind == "f" and dtype.itemsize == expected.itemsize
    return dtype.kind in "iu" and dtype.itemsize == expected.itemsize


def _convert_lossless(values: np.ndarray, expected: np.dtype) -> Optional[np.ndarray]:
    """`values` (from a list or another array-like) in `expected`'s dtype,
    or the unsigned one of its width, if no value changes; else None."""
    if values.dtype.kind not in "biuf":
        return None
    candidates = [expected]
    if expected.kind == "i":
        candidates.append(np.dtype("uint{}".format(8 * expected.itemsize)))
    for dtype in candidates:
        with np.errstate(all="ignore"):
            converted = values.astype(dtype)
            same = np.array_equal(converted, values,
                                  equal_nan=values.dtype.kind == "f")
        if same:
            return converted
    return None


class Compiled:
    """An entry function of a module, JIT-compiled for this machine.

    Call it with one array per argument; see ``bitserial.compile``.
    """

    def __init__(self, native: Any, options: dict):
        self._native = native
        self._options = dict(options)
        self._arguments = tuple(_tensor_info(i) for i in native.arguments)
        self._results = tuple(_tensor_info(i) for i in native.results)
        # Profiling state is per process and not thread-safe: one call at a
        # time.
        self._lock = threading.Lock() if options["profile"] else None

    # -- signature and target ---------------------------------------------

    @property
    def entry(self) -> str:
        """The name of the compiled function."""
        return self._native.entry

    @property
    def arguments(self) -> Tuple[TensorInfo, ...]:
        return self._arguments

    @property
    def results(self) -> Tuple[TensorInfo, ...]:
        return self._results

    @property
    def target(self) -> str:
        """What the code was generated for, ``host`` resolved: e.g.
        ``"x86-avx512-vpopcntdq kernels, cpu znver4"``."""
        return self._native.target

    @property
    def options(self) -> dict:
        """The keyword arguments of ``compile``."""
        return dict(self._options)

    def __repr__(self) -> str:
        return "<bitserial.Compiled {}({}) -> ({}); {}>".format(
            self.entry, ", ".join(a.description for a in self._arguments),
            ", ".join(r.description for r in self._results), self.target)

    # -- calls ----------------------------------------------------------------

    def _prepare(self, inputs: Sequence[Any]) -> List[np.ndarray]:
        if len(inputs) != len(self._arguments):
            raise InputError("'{}' takes {} inputs, got {}".format(
                self.entry, len(self._arguments), len(inputs)))
        arrays = []
        for value, spec in zip(inputs, self._arguments):
            if isinstance(value, np.ndarray):
                array = value
                if not _accepts(array.dtype, spec.dtype):
                    raise InputError(
                        "{}: expected dtype {}{}, got {} (convert it with "
                        ".astype; arrays are not converted implicitly)".format(
                            spec.description, spec.dtype,
                            " (or u{})".format(spec.dtype) if spec.dtype.kind == "i" else "",
                            array.dtype))
                if not array.dtype.isnative:
                    array = array.astype(array.dtype.newbyteorder("="))
            else:
                try:
                    values = np.asarray(value)
                except (ValueError, TypeError) as error:
                    raise InputError("{}: not an array: {}".format(
                        spec.description, error)) from None
                array = (values if _accepts(values.dtype, spec.dtype)
                         else _convert_lossless(values, spec.dtype))
                if array is None:
                    raise InputError(
                        "{}: cannot convert {} values to {} without changing "
                        "them (pass a numpy array of dtype {})".format(
                            spec.description, values.dtype, spec.dtype, spec.dtype))
            # Read in place when possible; else one copy.
            arrays.append(np.require(array, requirements=("C", "A")))
        return arrays

    def _run(self, arrays: List[np.ndarray]) -> list:
        try:
            if self._lock is None:
                return self._native.run(arrays)
            with self._lock:
                return self._native.run(arrays)
        except InputError as error:
            raise InputError(_python_words(str(error))) from None

    def __call__(self, *inputs: Any) -> Union[np.ndarray, Tuple[np.ndarray, ...]]:
        """Calls the function: one input per argument (ndarrays of the
        argument's dtype, or array-likes that convert to it without loss).
        Returns the result as an ndarray, or a tuple of them when there are
        zero or several.  Inputs are never modified."""
        results = self._run(self._prepare(inputs))
        if len(results) == 1:
            return results[0]
        return tuple(results)

    def random_inputs(self, seed: int = 0) -> List[np.ndarray]:
        """Valid inputs drawn deterministically from each argument's range
        (``bitserial-run --random-inputs``); static shapes only."""
        return self._native.random_inputs(seed)

    def benchmark(self, repeat: int = 100, warmup: int = 3,
                  inputs: Optional[Sequence[Any]] = None,
                  seed: int = 0, warmup_ms: float = 50.0) -> BenchmarkResult:
        """Times `repeat` calls on `inputs` or on ``random_inputs(seed)``,
        after untimed ones: at least `warmup` calls and `warmup_ms`
        milliseconds of them (the first calls after compiling often run
        slower), at most max(`warmup_ms`, 1000) ms once one ran, as
        ``bitserial-run --warmup``.  Each sample is the compiled call alone
        (the GIL is released for the whole loop)."""
        if not isinstance(repeat, int) or not 1 <= repeat <= 10**6:
            raise ValueError("repeat must be an integer in [1, 10^6], got {!r}".format(repeat))
        if not isinstance(warmup, int) or not 0 <= warmup <= 10**6:
            raise ValueError("warmup must be an integer in [0, 10^6], got {!r}".format(warmup))
        if (isinstance(warmup_ms, bool) or not isinstance(warmup_ms, (int, float))
                or not 0 <= warmup_ms <= 60000):
            raise ValueError("warmup_ms must be a number in [0, 60000], got {!r}".format(warmup_ms))
        arrays = self._prepare(self.random_inputs(seed) if inputs is None else inputs)
        try:
            if self._lock is None:
                samples = self._native.benchmark(arrays, repeat, warmup, float(warmup_ms))
            else:
                with self._lock:
                    samples = self._native.benchmark(arrays, repeat, warmup, float(warmup_ms))
        except InputError as error:
            raise InputError(_python_words(str(error))) from None
        return BenchmarkResult(tuple(samples))

    # -- profile --------------------------------------------------------------

    def profile(self) -> Profile:
        """Time per top-level compute op over the calls since the last
        ``reset_profile()`` (needs ``compile(..., profile=True)``)."""
        if not self._options["profile"]:
            raise ValueError("compile with profile=True to profile the calls")
        rows, calls, seconds = self._native.profile()
        return Profile(tuple(ProfileRow(*row) for row in rows), calls, seconds)

    def reset_profile(self) -> None:
        self._native.reset_profile()

    # -- IR ---------------------------------------------------------------------

    @property
    def ir_stages(self) -> List[str]:
        """The names ``ir()`` takes, in pipeline order: ``"input"``, with
        ``keep_ir=True`` one per pass of the lowering (its flag, e.g.
        ``"one-shot-bufferize"``; a pass that runs again gets ``#2``,
        ``#3``, ...), ``"llvm"``, and with ``keep_ir=True`` ``"llvmir"``."""
        return ["input"] + [name for name, _ in self._pass_ir()] + (
            ["llvm", "llvmir"] if self._options["keep_ir"] else ["llvm"])

    def _pass_ir(self) -> List[Tuple[str, str]]:
        stages, seen = [], {}
        for name, text in self._native.pass_ir():
            seen[name] = seen.get(name, 0) + 1
            stages.append((name if seen[name] == 1 else "{}#{}".format(name, seen[name]), text))
        return stages

    @property
    def pass_ir(self) -> List[Tuple[str, str]]:
        """With ``keep_ir=True``: ``(pass, IR after it)`` for every pass of
        the lowering, in order (pass names as the pipeline spells them)."""
        return list(self._native.pass_ir())

    def ir(self, stage: str = "llvm") -> str:
        """The IR at `stage` (see ``ir_stages``): ``"input"`` the parsed
        module, ``"llvm"`` the module in the LLVM dialect, ``"llvmir"`` the
        optimized LLVM IR the JIT compiles (``keep_ir=True``), or the IR
        after a pass of the lowering (``keep_ir=True``; constants of more
        than 64 elements elided)."""
        if stage == "input":
            return self._native.input_ir()
        if stage == "llvm":
            return self._native.lowered_ir()
        if stage == "llvmir" and self._options["keep_ir"]:
            return self._native.llvm_ir()
        for name, text in self._pass_ir():
            if name == stage:
                return text
        hint = "" if self._options["keep_ir"] else (
            "; compile with keep_ir=True for the IR after each pass and the LLVM IR")
        raise ValueError("unknown IR stage {!r} (stages: {}){}".format(
            stage, ", ".join(self.ir_stages), hint))


PathOrSource = Union[str, bytes, bytearray, memoryview, "os.PathLike[str]"]


def compile(module_or_path: PathOrSource, *, entry: Optional[str] = None,
            target: str = "host", strategy: str = "vector", threads: int = 1,
            tile: bool = False, cpu: Optional[str] = None, opt_level: int = 2,
            check_inputs: bool = True, profile: bool = False,
            keep_ir: bool = False,
            tuning_cache: Optional[Union[str, "os.PathLike[str]"]] = None) -> Compiled:
    """Parses, lowers and JIT-compiles one function of an MLIR module.

    `module_or_path` is the module:

    * an ``os.PathLike`` (``pathlib.Path``): a ``.mlir`` text or ``.mlirbc``
      bytecode file;
    * ``bytes``-like: the module's bytecode (it starts with ``ML\\xefR``) or
      its UTF-8 text;
    * ``str``: MLIR text if it contains a newline or ``{`` (every module with
      a function does), else a file path.

    Options, as ``bitserial-run``'s: `entry` names the function (default: the
    module's only public function); `target` the kernels (``"host"``: the
    best this CPU has; one of ``TARGETS``); `strategy` ``"vector"`` or
    ``"reference"`` (the oracle lowering); `threads` > 1 runs the kernels on
    OpenMP threads; `tile` runs ``bitserial-tile`` first; `cpu` generates
    code for that LLVM CPU (default: this machine's); `opt_level` is LLVM's
    (0-3); `check_inputs` checks input values against their encoding's range
    on every call; `profile` times each compute op (``Compiled.profile()``);
    `keep_ir` keeps the IR after every pass and the LLVM IR
    (``Compiled.ir()``); `tuning_cache` is the path of a JSON tuning cache
    (``benchmarks/tune.py``) whose entries for this CPU replace the cost
    model's kernel choices, as ``bitserial-run --tuning-cache``.

    Raises ``CompileError`` when the module does not parse, verify, lower or
    compile (with MLIR's diagnostics), ``ValueError`` or ``TypeError`` for
    bad options, ``FileNotFoundError`` for a missing file.
    """
    native = _load_native()
    if target not in TARGETS:
        raise ValueError("unknown target {!r} (one of {})".format(target, ", ".join(TARGETS)))
    if strategy not in STRATEGIES:
        raise ValueError("unknown strategy {!r} (vector or reference)".format(strategy))
    if not isinstance(threads, int) or isinstance(threads, bool) or not 1 <= threads <= 1024:
        raise ValueError("threads must be an integer in [1, 1024], got {!r}".format(threads))
    if not isinstance(opt_level, int) or isinstance(opt_level, bool) or not 0 <= opt_level <= 3:
        raise ValueError("opt_level must be 0, 1, 2 or 3, got {!r}".format(opt_level))
    if entry is not None and (not isinstance(entry, str) or not entry):
        raise TypeError("entry must be a function name or None, got {!r}".format(entry))
    if cpu is not None and (not isinstance(cpu, str) or not cpu):
        raise TypeError("cpu must be an LLVM CPU name or None, got {!r}".format(cpu))
    if tuning_cache is not None:
        if not isinstance(tuning_cache, (str, os.PathLike)):
            raise TypeError("tuning_cache must be a path or None, got {!r}".format(tuning_cache))
        tuning_cache = os.fsdecode(os.fspath(tuning_cache))
        if not tuning_cache:
            raise TypeError("tuning_cache must be a path or None, got ''")

    if isinstance(module_or_path, (bytes, bytearray, memoryview)):
        source, is_path = bytes(module_or_path), False
        name = "<bytecode>" if source.startswith(_BYTECODE_MAGIC) else "<bytes>"
    elif isinstance(module_or_path, str) and ("\n" in module_or_path or "{" in module_or_path):
        source, is_path, name = module_or_path.encode("utf-8"), False, "<string>"
    elif isinstance(module_or_path, (str, os.PathLike)):
        path = os.fspath(module_or_path)
        if isinstance(path, bytes):
            path = os.fsdecode(path)
        if not os.path.exists(path):
            raise FileNotFoundError(
                errno.ENOENT, "no such MLIR file (a str without a newline or "
                "'{' is a path, not MLIR text)", path)
        source, is_path, name = os.fsencode(path), True, path
    else:
        raise TypeError("module_or_path must be MLIR text, bytes or a path, "
                        "got {}".format(type(module_or_path).__name__))

    options = dict(entry=entry, target=target, strategy=strategy, threads=threads,
                   tile=bool(tile), cpu=cpu, opt_level=opt_level,
                   check_inputs=bool(check_inputs), profile=bool(profile),
                   keep_ir=bool(keep_ir), tuning_cache=tuning_cache)
    try:
        runner = native.Runner(
            source, is_path, name, entry=entry or "", target=target,
            strategy=strategy, threads=threads, tile=bool(tile), cpu=cpu or "",
            opt_level=opt_level, check_inputs=bool(check_inputs),
            profile=bool(profile), keep_ir=bool(keep_ir),
            tuning_cache=tuning_cache or "")
    except CompileError as error:
        raise CompileError(_python_words(str(error)), error.diagnostics) from None
    return Compiled(runner, options)
