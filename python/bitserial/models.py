"""Example quantized networks: MLIR builders and an independent NumPy evaluation.

Two networks, built with seeded random weights:

* ``mlp``: a binarized multi-layer perceptron (784 -> 256 -> 256 -> 10) on
  8-bit unsigned input codes, 1-bit bipolar hidden activations and weights,
  float32 scores;
* ``resnet18``: a binarized ResNet-18 (NHWC, any batch and resolution): an
  8-bit stem (im2col + ``bitserial.matmul``), 3x3/2 max pooling, four stages
  of BasicBlocks with k-bit activations and weights whose epilogues are
  ``bitserial.threshold`` (the next layer's packed input), residual adds
  through the convolution's ``init`` (an i32 residual stream), global sum
  pooling and an 8-bit classifier (``requantize`` -> ``pack`` -> ``matmul``
  -> ``dequantize``).

A ``Builder`` records each layer twice: as MLIR text and as a node of a small
graph that ``evaluate`` interprets with plain NumPy integer arithmetic on
decoded values (``bitserial.reference`` for pack, matmul and conv2d; the
epilogue rules below). The graph never looks at the MLIR, so the compiled
network and ``evaluate`` are independent; they must agree exactly (the
float32 scores bit for bit).

While it builds, the builder also evaluates every layer on a calibration
batch (seeded random inputs) and picks thresholds and requantization
multipliers from the accumulators it sees (per-channel quantiles), so codes
are not degenerate.

Weights are emitted as hex ``dense<"0x...">`` constants, already packed (the
vector lowering re-lays out constant filters at compile time, which needs a
``DenseElementsAttr``; the conversion also drops the packed encoding only
from those, not from a packed ``dense_resource``). Epilogues can be emitted as the dialect's ops
(``epilogue="ops"``, the default) or as ``linalg.generic`` glue that computes
the same values (``epilogue="linalg"``), which also serves as a cross-check of
the ops' lowerings.

Command line: ``python -m bitserial.models {mlp,resnet18} -o DIR [options]``
writes ``DIR/NAME.mlir``, ``DIR/NAME.input0.npy`` (a seeded random input),
``DIR/NAME.expected0.npy`` (its NumPy evaluation), ``DIR/NAME.graph.pkl``
(the graph) and ``DIR/NAME.json`` (sizes); ``python -m bitserial.models
check DIR/NAME OUT.npy`` compares a result of ``bitserial-run`` with the
evaluation (exactly; float32 bit for bit) and ``self-test DIR/NAME`` shows
that the comparison rejects a one-ulp change.
"""

import argparse
import json
import math
import os
import pickle
import re
import sys

import numpy as np

from . import reference as ref

__all__ = [
    "threshold", "requantize", "dequantize", "quantize_u8", "max_pool",
    "sum_pool", "quantize_multiplier", "Builder", "evaluate", "mlp",
    "resnet18", "weight_bytes",
]

INT32_MIN = -(1 << 31)
INT32_MAX = (1 << 31) - 1


# ---------------------------------------------------------------------------
# Epilogue semantics on integers (independent of the compiler)
# ---------------------------------------------------------------------------

def threshold(acc, thresholds, bits, encoding, descending=None):
    """Decoded result of ``bitserial.threshold``.

    count[..., c] = #{i : acc[..., c] >= t[c, i]} (``<=`` for descending
    channels); the value is the count in the encoding: unsigned count,
    signed count - 2^(bits-1), bipolar 2 count - (2^bits - 1).
    """
    acc = np.asarray(acc).astype(np.int64)
    t = np.asarray(thresholds).astype(np.int64)
    c = acc.shape[-1]
    if t.shape != (c, (1 << bits) - 1):
        raise ValueError(f"thresholds must be [{c}, {(1 << bits) - 1}], got {t.shape}")
    up = (acc[..., :, None] >= t).sum(axis=-1)
    if descending is None:
        count = up
    else:
        down = (acc[..., :, None] <= t).sum(axis=-1)
        count = np.where(np.asarray(descending, dtype=bool), down, up)
    if encoding == "unsigned":
        return count
    if encoding == "signed":
        return count - (1 << (bits - 1))
    if encoding == "bipolar":
        return 2 * count - ((1 << bits) - 1)
    raise ValueError(f"unknown encoding {encoding!r}")


def _wrap32(x):
    x = np.asarray(x, dtype=np.int64) & 0xFFFFFFFF
    return np.where(x >= (1 << 31), x - (1 << 32), x)


def _srdhm(a, b):
    """gemmlowp SaturatingRoundingDoublingHighMul on int32 values (int64 arrays)."""
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    overflow = (a == INT32_MIN) & (b == INT32_MIN)
    ab = a * b  # |ab| <= 2^62: exact in int64
    nudge = np.where(ab >= 0, 1 << 30, 1 - (1 << 30))
    v = ab + nudge
    q = np.where(v >= 0, v // (1 << 31), -((-v) // (1 << 31)))  # truncate toward zero
    return np.where(overflow, INT32_MAX, q)


def _rdbp(x, e):
    """gemmlowp RoundingDivideByPOT (arithmetic shift, round half away from zero)."""
    x = np.asarray(x, dtype=np.int64)
    e = np.asarray(e, dtype=np.int64)
    mask = (np.int64(1) << e) - 1
    rem = x & mask
    thr = (mask >> 1) + (x < 0)
    return (x >> e) + (rem > thr)


def requantize(acc, multiplier, shift, zero_point, lo, hi):
    """``bitserial.requantize``: TFLite per-channel requantization (int64 result)."""
    acc = np.asarray(acc, dtype=np.int64)
    s = np.clip(np.asarray(shift, dtype=np.int64), -31, 30)
    left = np.maximum(s, 0)
    right = np.maximum(-s, 0)
    x = _wrap32(acc << left)
    y = _rdbp(_srdhm(x, np.asarray(multiplier, dtype=np.int64)), right)
    return np.clip(y + int(zero_point), lo, hi)


def dequantize(acc, scale, bias):
    """``bitserial.dequantize``: fl(fl(fl(acc) * scale) + bias) in float32."""
    f = np.asarray(acc).astype(np.float32)  # round to nearest even
    prod = np.multiply(f, np.asarray(scale, dtype=np.float32), dtype=np.float32)
    return np.add(prod, np.asarray(bias, dtype=np.float32), dtype=np.float32)


def quantize_u8(x, scale):
    """Float input -> 8-bit unsigned codes: clamp(round_half_even(x / scale), 0, 255)."""
    q = np.divide(np.asarray(x, dtype=np.float32), np.float32(scale), dtype=np.float32)
    return np.clip(np.round(q), 0, 255).astype(np.int64)


def max_pool(x, k, s, p):
    """NHWC max pooling with ``p`` rows/columns of -infinity padding on each side."""
    x = np.asarray(x, dtype=np.int64)
    n, h, w, c = x.shape
    oh, ow = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
    xp = np.full((n, h + 2 * p, w + 2 * p, c), np.iinfo(np.int64).min, dtype=np.int64)
    xp[:, p:p + h, p:p + w, :] = x
    out = np.full((n, oh, ow, c), np.iinfo(np.int64).min, dtype=np.int64)
    for i in range(k):
        for j in range(k):
            out = np.maximum(out, xp[:, i:i + (oh - 1) * s + 1:s, j:j + (ow - 1) * s + 1:s, :])
    return out


def sum_pool(x):
    """Global sum over H and W of an NHWC tensor: [N, C]."""
    return np.asarray(x, dtype=np.int64).sum(axis=(1, 2))


def quantize_multiplier(real):
    """TFLite QuantizeMultiplier: real = multiplier * 2^(shift - 31), multiplier in [2^30, 2^31)."""
    if real <= 0:
        raise ValueError("the real multiplier must be positive")
    m, e = math.frexp(real)
    q = int(round(m * (1 << 31)))
    if q == 1 << 31:
        q //= 2
        e += 1
    return q, e


# ---------------------------------------------------------------------------
# MLIR text helpers
# ---------------------------------------------------------------------------

_ELEM = {np.dtype(np.int8): "i8", np.dtype(np.int16): "i16", np.dtype(np.int32): "i32",
         np.dtype(np.int64): "i64", np.dtype(np.float32): "f32"}


def _shape_str(shape):
    return "x".join(str(int(d)) for d in shape)


def _ttype(shape, elem, packed=None):
    enc = ""
    if packed is not None:
        bits, encoding, length = packed
        enc = f", #bitserial.packed<bits = {bits}, encoding = {encoding}, length = {length}>"
    return f"tensor<{_shape_str(shape)}x{elem}{enc}>"


def _hex_dense(array, ttype):
    """A dense constant from the raw little-endian bytes of ``array``."""
    data = np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<"), copy=False)
    return f'dense<"0x{data.tobytes().hex().upper()}"> : {ttype}'


def _f32_hex(v):
    return "0x%08X" % np.array(v, dtype=np.float32).view(np.uint32)


def _identity_map(rank):
    d = ", ".join(f"d{i}" for i in range(rank))
    return f"affine_map<({d}) -> ({d})>"


class Value:
    """An SSA value: its logical shape (packed values: the unpacked [..., C])
    and element type, or for packed values (bits, encoding) and the word type."""

    def __init__(self, name, shape, elem, packed=None, node=None):
        self.name = name
        self.shape = tuple(int(d) for d in shape)
        self.elem = elem
        self.packed = packed  # (bits, encoding) or None
        self.node = node

    @property
    def type(self):
        if self.packed is None:
            return _ttype(self.shape, self.elem)
        bits, encoding = self.packed
        words = ref.num_words(self.shape[-1], 64)
        return _ttype(self.shape[:-1] + (bits, words), "i64",
                      (bits, encoding, self.shape[-1]))


# ---------------------------------------------------------------------------
# Builder: MLIR text + graph + eager calibration
# ---------------------------------------------------------------------------

class Builder:
    """Builds one function. Each method emits MLIR, records a graph node and
    evaluates it on the calibration inputs (``self.calib[value.node]``)."""

    def __init__(self, name, seed=0, epilogue="ops", float_abi="native", pack_form="op"):
        if epilogue not in ("ops", "linalg"):
            raise ValueError("epilogue must be 'ops' or 'linalg'")
        if float_abi not in ("native", "bits"):
            raise ValueError("float_abi must be 'native' or 'bits'")
        if pack_form not in ("vector", "op"):
            raise ValueError("pack_form must be 'vector' or 'op'")
        self.name = name
        self.float_abi = float_abi
        # How the model packs the i8 tensors it builds itself (the stem's
        # im2col matrix, linalg threshold codes, the classifier input):
        # "op" = bitserial.pack, "vector" = pack_vector.
        self.pack_form = pack_form
        self.rng = np.random.default_rng(seed)
        self.epilogue = epilogue
        self.body = []
        self.args = []
        self.nodes = []  # (op, inputs (node ids), params)
        self.calib = []  # per node: its value on the calibration batch
        self.counter = 0
        self.weights = []  # (name, logical shape, bits, stored bytes) for reports
        self.values = {}  # node -> (Value, body length after it)

    # -- infrastructure ---------------------------------------------------

    def _fresh(self, hint="v"):
        self.counter += 1
        return f"%{hint}{self.counter}"

    def _node(self, op, inputs, params, calib_value):
        self.nodes.append((op, [v.node for v in inputs], params))
        self.calib.append(calib_value)
        return len(self.nodes) - 1

    def _node_of(self, out, op, inputs, params, calib_value):
        """Records a node whose MLIR value ``out`` is fully emitted."""
        node = self._node(op, inputs, params, calib_value)
        self.values[node] = (out, len(self.body))
        return node

    def value_of(self, v):
        return self.calib[v.node]

    def emit(self, line):
        self.body.append("  " + line)

    def _constant(self, array, ttype, hint="c"):
        name = self._fresh(hint)
        self.emit(f"{name} = arith.constant {_hex_dense(array, ttype)}")
        return name

    def _zeros(self, shape, elem, value=0):
        e, c, z = self._fresh("e"), self._fresh("c"), self._fresh("z")
        t = _ttype(shape, elem)
        self.emit(f"{e} = tensor.empty() : {t}")
        self.emit(f"{c} = arith.constant {value} : {elem}")
        self.emit(f"{z} = linalg.fill ins({c} : {elem}) outs({e} : {t}) -> {t}")
        return z

    def argument(self, shape, dtype, calib):
        """A function argument: 'u8' (8-bit unsigned codes in i8) or 'f32'."""
        elem = {"u8": "i8", "f32": "f32"}[dtype]
        name = f"%arg{len(self.args)}"
        bits_abi = elem == "f32" and self.float_abi == "bits"
        arg = Value(name, shape, "i32" if bits_abi else elem)
        self.args.append(arg)
        v = arg
        if bits_abi:  # float32 passed as its int32 bit pattern
            v = self._bitcast(arg, "f32")
        v.node = self._node_of(v, "input", [], {"index": len(self.args) - 1, "dtype": dtype}, calib)
        return v

    def _bitcast(self, x, elem):
        out = Value(self._fresh("bc"), x.shape, elem)
        rank = len(x.shape)
        m = _identity_map(rank)
        par = ", ".join(['"parallel"'] * rank)
        e = self._fresh("e")
        self.emit(f"{e} = tensor.empty() : {out.type}")
        self.emit(f"{out.name} = linalg.generic {{indexing_maps = [{m}, {m}], iterator_types = [{par}]}}"
                  f" ins({x.name} : {x.type}) outs({e} : {out.type}) {{")
        self.emit(f"^bb0(%in: {x.elem}, %o: {elem}):")
        self.emit(f"  %b = arith.bitcast %in : {x.elem} to {elem}")
        self.emit(f"  linalg.yield %b : {elem}")
        self.emit("} -> " + out.type)
        return out

    # -- layers -----------------------------------------------------------

    def quantize_u8(self, x, scale):
        """f32 -> 8-bit unsigned codes (i8 bit patterns), in linalg + arith + math."""
        out = Value(self._fresh("q"), x.shape, "i8")
        rank = len(x.shape)
        e = self._fresh("e")
        self.emit(f"{e} = tensor.empty() : {out.type}")
        m = _identity_map(rank)
        par = ", ".join(['"parallel"'] * rank)
        self.emit(f"{out.name} = linalg.generic {{indexing_maps = [{m}, {m}], iterator_types = [{par}]}}"
                  f" ins({x.name} : {x.type}) outs({e} : {out.type}) {{")
        self.emit("^bb0(%in: f32, %o: i8):")
        self.emit(f"  %s = arith.constant {_f32_hex(scale)} : f32")
        self.emit("  %lo = arith.constant 0.0 : f32")
        self.emit("  %hi = arith.constant 255.0 : f32")
        self.emit("  %d = arith.divf %in, %s : f32")
        self.emit("  %r = math.roundeven %d : f32")
        self.emit("  %a = arith.maximumf %r, %lo : f32")
        self.emit("  %b = arith.minimumf %a, %hi : f32")
        self.emit("  %i = arith.fptoui %b : f32 to i8")
        self.emit("  linalg.yield %i : i8")
        self.emit("} -> " + out.type)
        out.node = self._node_of(out, "quantize_u8", [x], {"scale": float(np.float32(scale))},
                              quantize_u8(self.value_of(x), scale))
        return out

    def pack(self, x, bits, encoding):
        out = Value(self._fresh("p"), x.shape, None, (bits, encoding))
        if self.pack_form == "vector" and x.elem == "i8":
            self._emit_pack_vector(x, out)
        else:
            self.emit(f"{out.name} = bitserial.pack {x.name} : {x.type} -> {out.type}")
        out.node = self._node_of(out, "pack", [x], {"bits": bits, "encoding": encoding},
                              self._check_codes(self.value_of(x), bits, encoding))
        return out

    def pack_vector(self, x, bits, encoding):
        """The same packing as ``bitserial.pack`` of an i8 tensor, written with
        vector ops: per row and 64-value word, one 64-byte load, and per plane
        an AND, a compare and a ``vector<64xi1>`` -> ``i64`` bitcast (a
        movemask; ``vptestmb`` + ``kmovq`` with AVX-512BW). The dialect's pack
        lowering is a scalar per-bit loop (22 ms for the 224x224 stem's
        12544 x 147 8-bit im2col matrix, against 0.2 ms for this)."""
        if x.elem != "i8":
            raise ValueError("pack_vector packs i8 tensors")
        out = Value(self._fresh("p"), x.shape, None, (bits, encoding))
        self._emit_pack_vector(x, out)
        out.node = self._node_of(out, "pack", [x], {"bits": bits, "encoding": encoding},
                                 self._check_codes(self.value_of(x), bits, encoding))
        return out

    def _emit_pack_vector(self, x, out):
        bits, encoding = out.packed
        rows = int(np.prod(x.shape[:-1]))
        k = x.shape[-1]
        words = ref.num_words(k, 64)
        src, src_shape = x.name, x.shape
        if len(x.shape) != 2:
            flat = self._fresh("flat")
            lead = list(range(len(x.shape) - 1))
            self.emit(f"{flat} = tensor.collapse_shape {x.name} [{lead}, [{len(x.shape) - 1}]]"
                      f" : {x.type} into {_ttype((rows, k), 'i8')}")
            src, src_shape = flat, (rows, k)
        # Past the length, reads give the value whose plane code is 0, so the
        # bits past the length are zero (a masked load, not a padded copy:
        # strided tensor.insert_slice copies go element by element).
        pad_value = -((1 << bits) - 1) if encoding == "bipolar" else 0
        in_bounds = "false" if k % 64 else "true"
        st = _ttype(src_shape, "i8")
        wt = _ttype((rows, bits, words), "i64")
        n = self._fresh("pk")[1:]
        self.emit(f"%{n}_e = tensor.empty() : {wt}")
        self.emit(f"%{n}_c0 = arith.constant 0 : index")
        self.emit(f"%{n}_c1 = arith.constant 1 : index")
        self.emit(f"%{n}_c64 = arith.constant 64 : index")
        self.emit(f"%{n}_rows = arith.constant {rows} : index")
        self.emit(f"%{n}_words = arith.constant {words} : index")
        self.emit(f"%{n}_pad = arith.constant {pad_value} : i8")
        self.emit(f"%{n}_zero = arith.constant dense<0> : vector<64xi8>")
        if encoding == "bipolar":  # code = (v + 2^bits - 1) / 2
            self.emit(f"%{n}_off = arith.constant dense<{(1 << bits) - 1}> : vector<64xi8>")
            self.emit(f"%{n}_one = arith.constant dense<1> : vector<64xi8>")
        for q in range(bits):
            mask = (1 << q) if q < 7 else -128
            self.emit(f"%{n}_bit{q} = arith.constant dense<{mask}> : vector<64xi8>")
        self.emit(f"%{n}_r = scf.for %{n}_i = %{n}_c0 to %{n}_rows step %{n}_c1"
                  f" iter_args(%{n}_a = %{n}_e) -> ({wt}) {{")
        self.emit(f"  %{n}_r2 = scf.for %{n}_w = %{n}_c0 to %{n}_words step %{n}_c1"
                  f" iter_args(%{n}_a2 = %{n}_a) -> ({wt}) {{")
        self.emit(f"    %{n}_k = arith.muli %{n}_w, %{n}_c64 : index")
        self.emit(f"    %{n}_v0 = vector.transfer_read {src}[%{n}_i, %{n}_k], %{n}_pad"
                  f" {{in_bounds = [{in_bounds}]}} : {st}, vector<64xi8>")
        if encoding == "bipolar":
            self.emit(f"    %{n}_vs = arith.addi %{n}_v0, %{n}_off : vector<64xi8>")
            self.emit(f"    %{n}_v = arith.shrui %{n}_vs, %{n}_one : vector<64xi8>")
        else:
            self.emit(f"    %{n}_v = arith.addi %{n}_v0, %{n}_zero : vector<64xi8>")
        for q in range(bits):
            self.emit(f"    %{n}_m{q} = arith.andi %{n}_v, %{n}_bit{q} : vector<64xi8>")
            self.emit(f"    %{n}_t{q} = arith.cmpi ne, %{n}_m{q}, %{n}_zero : vector<64xi8>")
            self.emit(f"    %{n}_b{q} = vector.bitcast %{n}_t{q} : vector<64xi1> to vector<1xi64>")
            self.emit(f"    %{n}_s{q} = vector.extract %{n}_b{q}[0] : i64 from vector<1xi64>")
        elems = ", ".join(f"%{n}_s{q}" for q in range(bits))
        self.emit(f"    %{n}_ws = vector.from_elements {elems} : vector<{bits}xi64>")
        self.emit(f"    %{n}_o = vector.transfer_write %{n}_ws, %{n}_a2[%{n}_i, %{n}_c0, %{n}_w]"
                  f" {{in_bounds = [true], permutation_map = affine_map<(d0, d1, d2) -> (d1)>}}"
                  f" : vector<{bits}xi64>, {wt}")
        self.emit(f"    scf.yield %{n}_o : {wt}")
        self.emit("  }")
        self.emit(f"  scf.yield %{n}_r2 : {wt}")
        self.emit("}")
        plain = f"%{n}_r"
        plain_type = _ttype(x.shape[:-1] + (bits, words), "i64")
        if len(x.shape) != 2:
            plain = self._fresh("exp")
            lead = len(x.shape) - 1
            # [rows, bits, words] -> [..., bits, words]
            groups = "[" + ", ".join(
                [str(list(range(lead)))] + [f"[{lead}]", f"[{lead + 1}]"]) + "]"
            dims = ", ".join(str(d) for d in x.shape[:-1] + (bits, words))
            self.emit(f"{plain} = tensor.expand_shape %{n}_r {groups} output_shape [{dims}]"
                      f" : {wt} into {plain_type}")
        self.emit(f"{out.name} = tensor.cast {plain} : {plain_type} to {out.type}")

    @staticmethod
    def _check_codes(values, bits, encoding):
        # An unsigned value lives in its element type as a bit pattern.
        v = np.asarray(values, dtype=np.int64)
        if encoding == "unsigned":
            v = v & ((1 << bits) - 1) if bits == 8 else v
        ref.encode_planes(v, bits, encoding)  # range check
        return v

    def _weight(self, w, bits, encoding, hint):
        """A packed weight constant [..., C] from decoded values."""
        words = ref.pack(w, bits, encoding, 64)
        v = Value(None, w.shape, None, (bits, encoding))
        v.name = self._constant(words, v.type, hint)
        self.weights.append((hint, w.shape, bits, words.nbytes))
        return v

    def matmul(self, a, w, bits, encoding, init=None):
        """a: packed [M, K] (or [B, M, K]); w: decoded [N, K] weights."""
        wv = self._weight(w, bits, encoding, "w")
        shape = a.shape[:-1] + (w.shape[0],)
        out = Value(self._fresh("mm"), shape, "i32")
        init_name = init.name if init is not None else self._zeros(shape, "i32")
        self.emit(f"{out.name} = bitserial.matmul ins({a.name}, {wv.name} : {a.type}, {wv.type})"
                  f" outs({init_name} : {out.type}) -> {out.type}")
        ins = [a] + ([init] if init is not None else [])
        calib = ref.matmul(self.value_of(a), w,
                           init=self.value_of(init) if init is not None else None)
        out.node = self._node_of(out, "matmul", ins, {"w": w, "has_init": init is not None}, calib)
        return out

    def conv2d(self, x, w, bits, encoding, stride, pad, init=None):
        """x: packed [N, H, W, C]; w: decoded [CO, KH, KW, C]; symmetric padding."""
        wv = self._weight(w, bits, encoding, "f")
        strides, padding = (stride, stride), (pad, pad, pad, pad)
        shape = ref.conv2d_output_shape(x.shape, w.shape, strides, padding)
        out = Value(self._fresh("conv"), shape, "i32")
        init_name = init.name if init is not None else self._zeros(shape, "i32")
        self.emit(f"{out.name} = bitserial.conv2d ins({x.name}, {wv.name} : {x.type}, {wv.type})"
                  f" outs({init_name} : {out.type}) strides = [{stride}, {stride}]"
                  f" padding = [{pad}, {pad}, {pad}, {pad}] -> {out.type}")
        ins = [x] + ([init] if init is not None else [])
        calib = ref.conv2d(self.value_of(x), w, strides, padding,
                           init=self.value_of(init) if init is not None else None)
        out.node = self._node_of(out, "conv2d", ins, {"w": w, "stride": stride, "pad": pad,
                                              "has_init": init is not None}, calib)
        return out

    def threshold(self, acc, bits, encoding, thresholds, descending=None):
        c = acc.shape[-1]
        t = np.asarray(thresholds, dtype=np.int32)
        out = Value(self._fresh("t"), acc.shape, None, (bits, encoding))
        tname = self._constant(t, _ttype(t.shape, "i32"), "thr")
        fname = None
        if descending is not None:
            fname = self._fresh("flip")
            flags = ", ".join("true" if f else "false" for f in descending)
            self.emit(f"{fname} = arith.constant dense<[{flags}]> : {_ttype((c,), 'i1')}")
        if self.epilogue == "ops":
            desc = f" descending({fname} : {_ttype((c,), 'i1')})" if fname else ""
            self.emit(f"{out.name} = bitserial.threshold {acc.name}, {tname}{desc}"
                      f" : {acc.type}, {_ttype(t.shape, 'i32')} -> {out.type}")
        else:
            self._threshold_linalg(acc, out, bits, encoding, tname, t.shape, fname)
        calib = threshold(self.value_of(acc), t, bits, encoding, descending)
        out.node = self._node_of(out, "threshold", [acc], {
            "t": t, "bits": bits, "encoding": encoding,
            "descending": None if descending is None else np.asarray(descending, dtype=bool)},
            calib)
        return out

    def _threshold_linalg(self, acc, out, bits, encoding, tname, tshape, fname):
        """Counts in a linalg.generic reduction, decode, bitserial.pack."""
        rank = len(acc.shape)
        d = [f"d{i}" for i in range(rank + 1)]
        all_d = ", ".join(d)
        lead = ", ".join(d[:rank])
        cnt_type = _ttype(acc.shape, "i8")
        z = self._zeros(acc.shape, "i8")
        maps = [f"affine_map<({all_d}) -> ({lead})>",
                f"affine_map<({all_d}) -> ({d[rank - 1]}, {d[rank]})>"]
        ins = [f"{acc.name}", tname]
        types = [acc.type, _ttype(tshape, "i32")]
        if fname:
            maps.append(f"affine_map<({all_d}) -> ({d[rank - 1]})>")
            ins.append(fname)
            types.append(_ttype((acc.shape[-1],), "i1"))
        maps.append(f"affine_map<({all_d}) -> ({lead})>")
        it = ", ".join(['"parallel"'] * rank + ['"reduction"'])
        cnt = self._fresh("cnt")
        self.emit(f"{cnt} = linalg.generic {{indexing_maps = [{', '.join(maps)}], iterator_types = [{it}]}}"
                  f" ins({', '.join(ins)} : {', '.join(types)}) outs({z} : {cnt_type}) {{")
        if fname:
            self.emit("^bb0(%a: i32, %t: i32, %f: i1, %o: i8):")
            self.emit("  %ge = arith.cmpi sge, %a, %t : i32")
            self.emit("  %le = arith.cmpi sle, %a, %t : i32")
            self.emit("  %hit = arith.select %f, %le, %ge : i1")
        else:
            self.emit("^bb0(%a: i32, %t: i32, %o: i8):")
            self.emit("  %hit = arith.cmpi sge, %a, %t : i32")
        self.emit("  %one = arith.extui %hit : i1 to i8")
        self.emit("  %s = arith.addi %o, %one : i8")
        self.emit("  linalg.yield %s : i8")
        self.emit("} -> " + cnt_type)
        # Decode the count in the encoding, then pack.
        m = _identity_map(rank)
        par = ", ".join(['"parallel"'] * rank)
        e, val = self._fresh("e"), self._fresh("val")
        self.emit(f"{e} = tensor.empty() : {cnt_type}")
        self.emit(f"{val} = linalg.generic {{indexing_maps = [{m}, {m}], iterator_types = [{par}]}}"
                  f" ins({cnt} : {cnt_type}) outs({e} : {cnt_type}) {{")
        self.emit("^bb0(%n: i8, %o: i8):")
        if encoding == "unsigned":
            self.emit("  linalg.yield %n : i8")
        elif encoding == "signed":
            self.emit(f"  %off = arith.constant {1 << (bits - 1)} : i8")
            self.emit("  %v = arith.subi %n, %off : i8")
            self.emit("  linalg.yield %v : i8")
        else:
            self.emit(f"  %off = arith.constant {(1 << bits) - 1} : i8")
            self.emit("  %n2 = arith.addi %n, %n : i8")
            self.emit("  %v = arith.subi %n2, %off : i8")
            self.emit("  linalg.yield %v : i8")
        self.emit("} -> " + cnt_type)
        if self.pack_form == "vector":
            self._emit_pack_vector(Value(val, acc.shape, "i8"), out)
        else:
            self.emit(f"{out.name} = bitserial.pack {val} : {cnt_type} -> {out.type}")

    def requantize(self, acc, multiplier, shift, zero_point, lo, hi, elem="i8"):
        c = acc.shape[-1]
        mult = np.asarray(multiplier, dtype=np.int32).reshape(c)
        sh = np.asarray(shift, dtype=np.int8).reshape(c)
        out = Value(self._fresh("rq"), acc.shape, elem)
        mname = self._constant(mult, _ttype((c,), "i32"), "mult")
        sname = self._constant(sh, _ttype((c,), "i8"), "shift")
        if self.epilogue == "ops":
            self.emit(f"{out.name} = bitserial.requantize {acc.name}, {mname}, {sname}"
                      f" zero_point = {zero_point} clamp = [{lo}, {hi}]"
                      f" : {acc.type}, {_ttype((c,), 'i32')}, {_ttype((c,), 'i8')} -> {out.type}")
        else:
            self._requantize_linalg(acc, out, mname, sname, zero_point, lo, hi, elem)
        calib = requantize(self.value_of(acc), mult, sh, zero_point, lo, hi)
        out.node = self._node_of(out, "requantize", [acc], {"multiplier": mult, "shift": sh,
                                                    "zero_point": zero_point, "lo": lo, "hi": hi,
                                                    "elem": elem}, calib)
        return out

    def _requantize_linalg(self, acc, out, mname, sname, zp, lo, hi, elem):
        rank = len(acc.shape)
        d = ", ".join(f"d{i}" for i in range(rank))
        m = _identity_map(rank)
        ch = f"affine_map<({d}) -> (d{rank - 1})>"
        par = ", ".join(['"parallel"'] * rank)
        c = acc.shape[-1]
        e = self._fresh("e")
        self.emit(f"{e} = tensor.empty() : {out.type}")
        self.emit(f"{out.name} = linalg.generic {{indexing_maps = [{m}, {ch}, {ch}, {m}], iterator_types = [{par}]}}"
                  f" ins({acc.name}, {mname}, {sname} : {acc.type}, {_ttype((c,), 'i32')}, {_ttype((c,), 'i8')})"
                  f" outs({e} : {out.type}) {{")
        trunc = "" if elem == "i64" else f"  %res = arith.trunci %cl : i64 to {elem}"
        body = f"""^bb0(%acc: i32, %mul: i32, %sh8: i8, %o: {elem}):
  %sh = arith.extsi %sh8 : i8 to i32
  %m31 = arith.constant -31 : i32
  %p30 = arith.constant 30 : i32
  %z32 = arith.constant 0 : i32
  %s0 = arith.maxsi %sh, %m31 : i32
  %s = arith.minsi %s0, %p30 : i32
  %left = arith.maxsi %s, %z32 : i32
  %ns = arith.subi %z32, %s : i32
  %right32 = arith.maxsi %ns, %z32 : i32
  %x = arith.shli %acc, %left : i32
  %imin = arith.constant -2147483648 : i32
  %imax = arith.constant 2147483647 : i32
  %xo = arith.cmpi eq, %x, %imin : i32
  %mo = arith.cmpi eq, %mul, %imin : i32
  %ov = arith.andi %xo, %mo : i1
  %a64 = arith.extsi %x : i32 to i64
  %b64 = arith.extsi %mul : i32 to i64
  %ab = arith.muli %a64, %b64 : i64
  %z64 = arith.constant 0 : i64
  %pos = arith.cmpi sge, %ab, %z64 : i64
  %np = arith.constant 1073741824 : i64
  %nn = arith.constant -1073741823 : i64
  %nudge = arith.select %pos, %np, %nn : i64
  %sum = arith.addi %ab, %nudge : i64
  %two31 = arith.constant 2147483648 : i64
  %q0 = arith.divsi %sum, %two31 : i64
  %imax64 = arith.constant 2147483647 : i64
  %q = arith.select %ov, %imax64, %q0 : i64
  %right = arith.extsi %right32 : i32 to i64
  %one = arith.constant 1 : i64
  %pw = arith.shli %one, %right : i64
  %mask = arith.subi %pw, %one : i64
  %rem = arith.andi %q, %mask : i64
  %half = arith.shrsi %mask, %one : i64
  %neg = arith.cmpi slt, %q, %z64 : i64
  %negi = arith.extui %neg : i1 to i64
  %thr = arith.addi %half, %negi : i64
  %sh2 = arith.shrsi %q, %right : i64
  %up = arith.cmpi sgt, %rem, %thr : i64
  %upi = arith.extui %up : i1 to i64
  %y = arith.addi %sh2, %upi : i64
  %zp = arith.constant {zp} : i64
  %yz = arith.addi %y, %zp : i64
  %lo = arith.constant {lo} : i64
  %hi = arith.constant {hi} : i64
  %c0 = arith.maxsi %yz, %lo : i64
  %cl = arith.minsi %c0, %hi : i64
{trunc}
  linalg.yield {"%cl" if elem == "i64" else "%res"} : {elem}"""
        for line in body.splitlines():
            if line.strip():
                self.emit(line if line.startswith("^") else line)
        self.emit("} -> " + out.type)

    def dequantize(self, acc, scale, bias):
        c = acc.shape[-1]
        scale = np.asarray(scale, dtype=np.float32).reshape(c)
        bias = np.asarray(bias, dtype=np.float32).reshape(c)
        out = Value(self._fresh("dq"), acc.shape, "f32")
        sname = self._constant(scale, _ttype((c,), "f32"), "scale")
        bname = self._constant(bias, _ttype((c,), "f32"), "bias")
        if self.epilogue == "ops":
            self.emit(f"{out.name} = bitserial.dequantize {acc.name}, {sname}, {bname}"
                      f" : {acc.type}, {_ttype((c,), 'f32')}, {_ttype((c,), 'f32')} -> {out.type}")
        else:
            rank = len(acc.shape)
            d = ", ".join(f"d{i}" for i in range(rank))
            m = _identity_map(rank)
            ch = f"affine_map<({d}) -> (d{rank - 1})>"
            par = ", ".join(['"parallel"'] * rank)
            e = self._fresh("e")
            self.emit(f"{e} = tensor.empty() : {out.type}")
            self.emit(f"{out.name} = linalg.generic {{indexing_maps = [{m}, {ch}, {ch}, {m}], iterator_types = [{par}]}}"
                      f" ins({acc.name}, {sname}, {bname} : {acc.type}, {_ttype((c,), 'f32')}, {_ttype((c,), 'f32')})"
                      f" outs({e} : {out.type}) {{")
            self.emit("^bb0(%a: i32, %s: f32, %b: f32, %o: f32):")
            self.emit("  %f = arith.sitofp %a : i32 to f32")
            self.emit("  %p = arith.mulf %f, %s : f32")
            self.emit("  %r = arith.addf %p, %b : f32")
            self.emit("  linalg.yield %r : f32")
            self.emit("} -> " + out.type)
        out.node = self._node_of(out, "dequantize", [acc], {"scale": scale, "bias": bias},
                              dequantize(self.value_of(acc), scale, bias))
        return out

    def _pad(self, x, pad, value):
        """x [N, H, W, C] inside a tensor filled with ``value``: one vector
        copy per row (a strided tensor.insert_slice copies element by
        element)."""
        n, h, w, c = x.shape
        shape = (n, h + 2 * pad, w + 2 * pad, c)
        flat_shape = (n, h + 2 * pad, (w + 2 * pad) * c)
        z = self._zeros(flat_shape, x.elem, value)
        q = self._fresh("pd")[1:]
        src_t, dst_t = _ttype((n, h, w * c), x.elem), _ttype(flat_shape, x.elem)
        self.emit(f"%{q}_src = tensor.collapse_shape {x.name} [[0], [1], [2, 3]] : {x.type} into {src_t}")
        for name, v in (("c0", 0), ("c1", 1), ("n", n), ("h", h), ("p", pad), ("pc", pad * c)):
            self.emit(f"%{q}_{name} = arith.constant {v} : index")
        self.emit(f"%{q}_fill = arith.constant {value} : {x.elem}")
        vt = f"vector<{w * c}x{x.elem}>"
        row_t = _ttype((1, 1, flat_shape[2]), x.elem)
        # Rows are independent: scf.forall, which runs on several threads
        # when the pipeline's `parallel` is on.
        self.emit(f"%{q}_r = scf.forall (%{q}_b, %{q}_y) in ({n}, {h})"
                  f" shared_outs(%{q}_t = {z}) -> ({dst_t}) {{")
        self.emit(f"  %{q}_v = vector.transfer_read %{q}_src[%{q}_b, %{q}_y, %{q}_c0], %{q}_fill"
                  f" {{in_bounds = [true]}} : {src_t}, {vt}")
        self.emit(f"  %{q}_yp = arith.addi %{q}_y, %{q}_p : index")
        self.emit(f"  %{q}_row = tensor.extract_slice %{q}_t[%{q}_b, %{q}_yp, 0] [1, 1, {flat_shape[2]}]"
                  f" [1, 1, 1] : {dst_t} to {row_t}")
        self.emit(f"  %{q}_w = vector.transfer_write %{q}_v, %{q}_row[%{q}_c0, %{q}_c0, %{q}_pc]"
                  f" {{in_bounds = [true]}} : {vt}, {row_t}")
        self.emit("  scf.forall.in_parallel {")
        self.emit(f"    tensor.parallel_insert_slice %{q}_w into %{q}_t[%{q}_b, %{q}_yp, 0]"
                  f" [1, 1, {flat_shape[2]}] [1, 1, 1] : {row_t} into {dst_t}")
        self.emit("  }")
        self.emit("}")
        out = self._fresh("pad")
        self.emit(f"{out} = tensor.expand_shape %{q}_r [[0], [1], [2, 3]] output_shape"
                  f" [{', '.join(str(d) for d in shape)}] : {dst_t} into {_ttype(shape, x.elem)}")
        return out, shape

    def _emit_im2col(self, padded, pshape, elem, out, out_hw, kernel, stride):
        """out[(n, oy, ox), (ky, kx, c)] = padded[n, oy*s + ky, ox*s + kx, c] as
        row copies: per output pixel and kernel row, the KW*C values of a
        window row are contiguous in the padded image (a [N, Hp, Wp*C] view),
        so vector reads and writes move them (a gather generic moves one
        byte at a time). A run of odd length moves as power-of-two pieces,
        the last one overlapping the one before (21 bytes: 16 at 0 and 16 at
        5), rather than as a vector of that length, which LLVM splits into
        16 + 4 + 1."""
        n_, hp, wp, c = pshape
        oh, ow = out_hw
        kh, kw = kernel
        run = kw * c
        n = self._fresh("ic")[1:]
        rows_t = _ttype((n_, hp, wp * c), elem)
        out_t = out.type
        piece = run if run & (run - 1) == 0 else 1 << (min(run, 64).bit_length() - 1)
        offsets = list(range(0, run - piece + 1, piece))
        if offsets[-1] != run - piece:
            offsets.append(run - piece)
        vt = f"vector<{piece}x{elem}>"
        self.emit(f"%{n}_src = tensor.collapse_shape {padded} [[0], [1], [2, 3]] : "
                  f"{_ttype(pshape, elem)} into {rows_t}")
        self.emit(f"%{n}_e = tensor.empty() : {out_t}")
        constants = [("c0", 0), ("c1", 1), ("n", n_), ("oh", oh), ("ow", ow), ("kh", kh),
                     ("s", stride), ("sc", stride * c), ("run", run), ("ohw", oh * ow)]
        constants += [(f"o{i}", o) for i, o in enumerate(offsets) if o]
        for name, v in constants:
            self.emit(f"%{n}_{name} = arith.constant {v} : index")
        self.emit(f"%{n}_pad = arith.constant 0 : {elem}")
        # One output image row (ow rows of the matrix) per scf.forall
        # iteration: independent, so they may run on several threads.
        k = kh * run
        slice_t = _ttype((ow, k), elem)
        self.emit(f"%{n}_r0 = scf.forall (%{n}_b, %{n}_y) in ({n_}, {oh})"
                  f" shared_outs(%{n}_t = %{n}_e) -> ({out_t}) {{")
        self.emit(f"  %{n}_bm = arith.muli %{n}_b, %{n}_ohw : index")
        self.emit(f"  %{n}_ym = arith.muli %{n}_y, %{n}_ow : index")
        self.emit(f"  %{n}_m0 = arith.addi %{n}_bm, %{n}_ym : index")
        self.emit(f"  %{n}_ys = arith.muli %{n}_y, %{n}_s : index")
        self.emit(f"  %{n}_rows = tensor.extract_slice %{n}_t[%{n}_m0, 0] [{ow}, {k}] [1, 1]"
                  f" : {out_t} to {slice_t}")
        self.emit(f"  %{n}_r2 = scf.for %{n}_x = %{n}_c0 to %{n}_ow step %{n}_c1"
                  f" iter_args(%{n}_t2 = %{n}_rows) -> ({slice_t}) {{")
        self.emit(f"    %{n}_col = arith.muli %{n}_x, %{n}_sc : index")
        self.emit(f"    %{n}_r3 = scf.for %{n}_k = %{n}_c0 to %{n}_kh step %{n}_c1"
                  f" iter_args(%{n}_t3 = %{n}_t2) -> ({slice_t}) {{")
        self.emit(f"      %{n}_row = arith.addi %{n}_ys, %{n}_k : index")
        self.emit(f"      %{n}_kk = arith.muli %{n}_k, %{n}_run : index")
        dest = f"%{n}_t3"
        for i, o in enumerate(offsets):
            col, kk = f"%{n}_col", f"%{n}_kk"
            if o:
                self.emit(f"      %{n}_col{i} = arith.addi %{n}_col, %{n}_o{i} : index")
                self.emit(f"      %{n}_kk{i} = arith.addi %{n}_kk, %{n}_o{i} : index")
                col, kk = f"%{n}_col{i}", f"%{n}_kk{i}"
            self.emit(f"      %{n}_v{i} = vector.transfer_read %{n}_src[%{n}_b, %{n}_row, {col}], %{n}_pad"
                      f" {{in_bounds = [true]}} : {rows_t}, {vt}")
            self.emit(f"      %{n}_w{i} = vector.transfer_write %{n}_v{i}, {dest}[%{n}_x, {kk}]"
                      f" {{in_bounds = [true]}} : {vt}, {slice_t}")
            dest = f"%{n}_w{i}"
        self.emit(f"      scf.yield {dest} : {slice_t}")
        self.emit("    }")
        self.emit(f"    scf.yield %{n}_r3 : {slice_t}")
        self.emit("  }")
        self.emit("  scf.forall.in_parallel {")
        self.emit(f"    tensor.parallel_insert_slice %{n}_r2 into %{n}_t[%{n}_m0, 0] [{ow}, {k}] [1, 1]"
                  f" : {slice_t} into {out_t}")
        self.emit("  }")
        self.emit("}")
        self.emit(f"{out.name} = tensor.cast %{n}_r0 : {out_t} to {out_t}")

    def im2col_matmul(self, x, w, bits, encoding, stride, pad, x_bits, x_encoding):
        """A convolution as im2col (row copies) + pack + bitserial.matmul.

        x: [N, H, W, C] codes (i8); w: decoded [CO, KH, KW, C]. The im2col row
        is (kh, kw, c), so K = KH*KW*C packs densely.
        """
        n, h, wd, c = x.shape
        co, kh, kw, _ = w.shape
        _, oh, ow, _ = ref.conv2d_output_shape(x.shape, w.shape, (stride, stride), (pad,) * 4)
        padded, pshape = self._pad(x, pad, 0)
        m, k = n * oh * ow, kh * kw * c
        flat = Value(self._fresh("rows"), (m, k), x.elem)
        self._emit_im2col(padded, pshape, x.elem, flat, (oh, ow), (kh, kw), stride)
        packed = Value(self._fresh("p"), (m, k), None, (x_bits, x_encoding))
        if self.pack_form == "vector" and x.elem == "i8":
            self._emit_pack_vector(flat, packed)
        else:
            self.emit(f"{packed.name} = bitserial.pack {flat.name} : {flat.type} -> {packed.type}")
        wv = self._weight(w.reshape(co, k), bits, encoding, "w")
        acc = Value(self._fresh("mm"), (m, co), "i32")
        z = self._zeros((m, co), "i32")
        self.emit(f"{acc.name} = bitserial.matmul ins({packed.name}, {wv.name} : {packed.type}, {wv.type})"
                  f" outs({z} : {acc.type}) -> {acc.type}")
        out = Value(self._fresh("conv"), (n, oh, ow, co), "i32")
        self.emit(f"{out.name} = tensor.expand_shape {acc.name} [[0, 1, 2], [3]] output_shape [{n}, {oh}, {ow}, {co}]"
                  f" : {acc.type} into {out.type}")
        # The graph records the convolution itself: evaluate() never sees the im2col.
        calib = ref.conv2d(self._check_codes(self.value_of(x), x_bits, x_encoding), w,
                           (stride, stride), (pad,) * 4)
        out.node = self._node_of(out, "conv2d", [x], {"w": w, "stride": stride, "pad": pad,
                                                      "has_init": False, "x_bits": x_bits,
                                                      "x_encoding": x_encoding, "w_bits": bits},
                                 calib)
        return out

    def max_pool(self, x, k, s, p):
        """Max pooling of an i32 NHWC tensor (padding never wins), as vector
        code: per output pixel, the maximum of the k*k window's channel
        vectors. linalg's pooling op on a padded copy took 3 ms for the
        224x224 stem's 112x112x64, mostly the strided copy into the padding."""
        n, h, w, c = x.shape
        oh, ow = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
        out = Value(self._fresh("pool"), (n, oh, ow, c), "i32")
        pt, ot = x.type, out.type
        vt = f"vector<{c}xi32>"
        q = self._fresh("mp")[1:]
        self.emit(f"%{q}_e = tensor.empty() : {ot}")
        for name, v in (("c0", 0), ("c1", 1), ("s", s), ("n", n), ("oh", oh), ("ow", ow),
                        ("p", p), ("hmax", h - 1), ("wmax", w - 1)):
            self.emit(f"%{q}_{name} = arith.constant {v} : index")
        for i in range(k):
            self.emit(f"%{q}_k{i} = arith.constant {i} : index")
        self.emit(f"%{q}_pad = arith.constant 0 : i32")
        self.emit(f"%{q}_min = arith.constant dense<{INT32_MIN}> : {vt}")
        # Output rows are independent: scf.forall (threads with `parallel`).
        row_t = _ttype((1, 1, ow, c), "i32")
        self.emit(f"%{out.name[1:]} = scf.forall (%{q}_b, %{q}_y) in ({n}, {oh})"
                  f" shared_outs(%{q}_t1 = %{q}_e) -> ({ot}) {{")
        self.emit(f"    %{q}_y0 = arith.muli %{q}_y, %{q}_s : index")
        self.emit(f"    %{q}_row = tensor.extract_slice %{q}_t1[%{q}_b, %{q}_y, 0, 0] [1, 1, {ow}, {c}]"
                  f" [1, 1, 1, 1] : {ot} to {row_t}")
        self.emit(f"    %{q}_r2 = scf.for %{q}_x = %{q}_c0 to %{q}_ow step %{q}_c1"
                  f" iter_args(%{q}_t2 = %{q}_row) -> ({row_t}) {{")
        self.emit(f"      %{q}_x0 = arith.muli %{q}_x, %{q}_s : index")
        acc = f"%{q}_min"
        # A window position outside the input reads the nearest row/column
        # inside it instead of padding: that element is in the window too,
        # and max ignores duplicates (every window overlaps the input).
        for axis, count, hi in (("yi", k, "hmax"), ("xj", k, "wmax")):
            base = f"%{q}_y0" if axis == "yi" else f"%{q}_x0"
            for i in range(count):
                self.emit(f"      %{q}_{axis}a{i} = arith.addi {base}, %{q}_k{i} : index")
                self.emit(f"      %{q}_{axis}b{i} = arith.maxsi %{q}_{axis}a{i}, %{q}_p : index")
                self.emit(f"      %{q}_{axis}c{i} = arith.subi %{q}_{axis}b{i}, %{q}_p : index")
                self.emit(f"      %{q}_{axis}{i} = arith.minsi %{q}_{axis}c{i}, %{q}_{hi} : index")
        for i in range(k):
            for j in range(k):
                self.emit(f"      %{q}_v{i}_{j} = vector.transfer_read {x.name}[%{q}_b, %{q}_yi{i},"
                          f" %{q}_xj{j}, %{q}_c0], %{q}_pad {{in_bounds = [true]}} : {pt}, {vt}")
                self.emit(f"      %{q}_m{i}_{j} = arith.maxsi {acc}, %{q}_v{i}_{j} : {vt}")
                acc = f"%{q}_m{i}_{j}"
        self.emit(f"      %{q}_w = vector.transfer_write {acc}, %{q}_t2[%{q}_c0, %{q}_c0, %{q}_x, %{q}_c0]"
                  f" {{in_bounds = [true]}} : {vt}, {row_t}")
        self.emit(f"      scf.yield %{q}_w : {row_t}")
        self.emit("    }")
        self.emit("    scf.forall.in_parallel {")
        self.emit(f"      tensor.parallel_insert_slice %{q}_r2 into %{q}_t1[%{q}_b, %{q}_y, 0, 0]"
                  f" [1, 1, {ow}, {c}] [1, 1, 1, 1] : {row_t} into {ot}")
        self.emit("    }")
        self.emit("}")
        out.node = self._node_of(out, "max_pool", [x], {"k": k, "s": s, "p": p},
                              max_pool(self.value_of(x), k, s, p))
        return out

    def sum_pool(self, x):
        n, h, w, c = x.shape
        out = Value(self._fresh("gap"), (n, c), "i32")
        z = self._zeros((n, c), "i32")
        self.emit(f"{out.name} = linalg.generic {{indexing_maps = ["
                  f"affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, "
                  f"affine_map<(d0, d1, d2, d3) -> (d0, d3)>], iterator_types = "
                  f"[\"parallel\", \"reduction\", \"reduction\", \"parallel\"]}}"
                  f" ins({x.name} : {x.type}) outs({z} : {out.type}) {{")
        self.emit("^bb0(%in: i32, %o: i32):")
        self.emit("  %s = arith.addi %in, %o : i32")
        self.emit("  linalg.yield %s : i32")
        self.emit("} -> " + out.type)
        out.node = self._node_of(out, "sum_pool", [x], {}, sum_pool(self.value_of(x)))
        return out

    def unpack(self, x, elem="i32"):
        """``bitserial.unpack`` of a packed value to decoded integers
        (e.g. to max-pool codes, then ``pack`` them again)."""
        if x.packed is None:
            raise ValueError("unpack takes a packed value")
        out = Value(self._fresh("u"), x.shape, elem)
        self.emit(f"{out.name} = bitserial.unpack {x.name} : {x.type} -> {out.type}")
        out.node = self._node_of(out, "unpack", [x], {}, self.value_of(x))
        return out

    def reshape(self, x, shape):
        """``tensor.collapse_shape`` of an unpacked value to ``shape`` (each
        new extent the product of consecutive old ones, e.g. [N, 1, 1, C] to
        [N, C])."""
        shape = tuple(int(d) for d in shape)
        if x.packed is not None:
            raise ValueError("reshape takes an unpacked value")
        groups, i = [], 0
        for k, d in enumerate(shape):
            g, p = [i], x.shape[i] if i < len(x.shape) else 0
            i += 1
            while i < len(x.shape) and (p < d or k == len(shape) - 1):
                g.append(i)
                p *= x.shape[i]
                i += 1
            if p != d:
                raise ValueError(f"cannot collapse {x.shape} into {shape}")
            groups.append(g)
        if i != len(x.shape):
            raise ValueError(f"cannot collapse {x.shape} into {shape}")
        out = Value(self._fresh("r"), shape, x.elem)
        self.emit(f"{out.name} = tensor.collapse_shape {x.name} {groups} : {x.type} into {out.type}")
        out.node = self._node_of(out, "reshape", [x], {"shape": shape},
                                 np.asarray(self.value_of(x)).reshape(shape))
        return out

    # -- output -----------------------------------------------------------

    def finish(self, results):
        self.results = results
        if self.float_abi == "bits":
            results = [self._bitcast(r, "i32") if r.elem == "f32" else r for r in results]
        args = ", ".join(f"{a.name}: {a.type}" for a in self.args)
        rtypes = ", ".join(r.type for r in results)
        head = (f"func.func @{self.name}({args}) -> ({rtypes})"
                f" attributes {{llvm.emit_c_interface}} {{")
        ret = f"  return {', '.join(r.name for r in results)} : {rtypes}"
        return "\n".join([head] + self.body + [ret, "}", ""])

    def prefix(self, node):
        """The function cut after ``node`` (returning its value): for per-layer
        timing by differences of prefixes. Packed values are returned as words."""
        out, mark = self.values[node]
        saved, self.body = self.body, self.body[:mark]
        try:
            if out.elem == "f32" and self.float_abi == "bits":
                out = self._bitcast(out, "i32")
            body = self.body
        finally:
            self.body = saved
        args = ", ".join(f"{a.name}: {a.type}" for a in self.args)
        head = (f"func.func @{self.name}({args}) -> ({out.type})"
                f" attributes {{llvm.emit_c_interface}} {{")
        return "\n".join([head] + body + [f"  return {out.name} : {out.type}", "}", ""])

    def part(self, first, last, name="part"):
        """Nodes ``first..last`` alone as a function: the values they read
        from earlier nodes become arguments (packed ones as packed words), the
        value of ``last`` the result. For per-layer timing with random inputs."""
        start = self.values[first - 1][1] if first > 0 else 0
        out, end = self.values[last]
        saved, self.body = self.body, self.body[start:end]
        try:
            if out.elem == "f32" and self.float_abi == "bits":
                out = self._bitcast(out, "i32")
            body = self.body
        finally:
            self.body = saved
        text = "\n".join(body)
        args = []
        for node in range(first):
            v = self.values[node][0]
            if v not in args and re.search(re.escape(v.name) + r"\b", text):
                args.append(v)
        sig = ", ".join(f"{a.name}: {a.type}" for a in args)
        head = (f"func.func @{name}({sig}) -> ({out.type})"
                f" attributes {{llvm.emit_c_interface}} {{")
        return "\n".join([head] + body + [f"  return {out.name} : {out.type}", "}", ""])

    def graph(self):
        return {"nodes": self.nodes, "results": [r.node for r in self.results],
                "result_types": [r.elem for r in self.results], "float_abi": self.float_abi}


# ---------------------------------------------------------------------------
# Graph evaluation (the test oracle)
# ---------------------------------------------------------------------------

def evaluate(graph, inputs):
    """Evaluate a recorded graph on ``inputs`` (one array per argument).

    Packed values are carried decoded; convolutions use the direct definition
    (``reference.conv2d``), also for the stem the MLIR computes as im2col +
    matmul. Returns the results as
    int32 / float32 arrays.
    """
    nodes = graph["nodes"]
    vals = [None] * len(nodes)
    for i, (op, ins, p) in enumerate(nodes):
        a = [vals[j] for j in ins]
        if op == "input":
            x = np.asarray(inputs[p["index"]])
            if p["dtype"] == "f32":
                vals[i] = x.view(np.float32) if x.dtype == np.int32 else x.astype(np.float32)
            else:
                vals[i] = x.astype(np.int64) & 0xFF
        elif op == "quantize_u8":
            vals[i] = quantize_u8(a[0], p["scale"])
        elif op == "pack":
            vals[i] = Builder._check_codes(a[0], p["bits"], p["encoding"])
        elif op == "matmul":
            vals[i] = ref.matmul(a[0], p["w"], init=a[1] if p["has_init"] else None)
        elif op == "conv2d":
            s, q = p["stride"], p["pad"]
            x = a[0]
            if "x_bits" in p:  # convolution of codes packed inside the model
                x = Builder._check_codes(x, p["x_bits"], p["x_encoding"])
            vals[i] = ref.conv2d(x, p["w"], (s, s), (q, q, q, q),
                                 init=a[1] if p["has_init"] else None)
        elif op == "threshold":
            vals[i] = threshold(a[0], p["t"], p["bits"], p["encoding"], p["descending"])
        elif op == "requantize":
            vals[i] = requantize(a[0], p["multiplier"], p["shift"], p["zero_point"],
                                 p["lo"], p["hi"])
        elif op == "dequantize":
            vals[i] = dequantize(a[0], p["scale"], p["bias"])
        elif op == "max_pool":
            vals[i] = max_pool(a[0], p["k"], p["s"], p["p"])
        elif op == "sum_pool":
            vals[i] = sum_pool(a[0])
        elif op == "unpack":
            vals[i] = a[0]
        elif op == "reshape":
            vals[i] = np.asarray(a[0]).reshape(p["shape"])
        else:
            raise ValueError(f"unknown node {op!r}")
        if op in ("matmul", "conv2d", "sum_pool", "requantize") and np.issubdtype(
                vals[i].dtype, np.integer):
            if vals[i].size and (vals[i].min() < INT32_MIN or vals[i].max() > INT32_MAX):
                raise OverflowError(f"node {i} ({op}) does not fit i32")
    out = []
    for r, elem in zip(graph["results"], graph["result_types"]):
        v = vals[r]
        out.append(v.astype(np.float32) if elem == "f32" else v.astype(
            {"i8": np.int8, "i16": np.int16, "i32": np.int32}[elem]))
    return out


# ---------------------------------------------------------------------------
# Calibration helpers
# ---------------------------------------------------------------------------

def _quantile_thresholds(acc, bits):
    """Per-channel thresholds at the quantiles i / 2^bits of the accumulators."""
    acc = np.asarray(acc).reshape(-1, acc.shape[-1]).astype(np.float64)
    qs = [i / (1 << bits) for i in range(1, 1 << bits)]
    t = np.ceil(np.quantile(acc, qs, axis=0)).T  # [C, 2^bits - 1]
    return t.astype(np.int32)


def _random_weights(rng, shape, bits, encoding):
    return ref.random_values(rng, shape, bits, encoding)


def _epilogue_threshold(b, acc, bits, encoding, flip_fraction=0.25):
    """Threshold ``acc`` at per-channel quantiles; a fraction of the channels
    descending (a negative batch-norm scale)."""
    calib = b.value_of(acc)
    t = _quantile_thresholds(calib, bits)
    c = acc.shape[-1]
    flips = b.rng.random(c) < flip_fraction
    if flip_fraction > 0 and flips.any():
        # Descending channels count thresholds >= acc: reverse the quantiles.
        t[flips] = t[flips][:, ::-1]
        return b.threshold(acc, bits, encoding, t, descending=flips)
    return b.threshold(acc, bits, encoding, t)


def _requant_to(b, acc, target, lo, hi, zero_point=0, elem="i8"):
    """Requantize so that the calibration's per-channel max |acc| maps to ``target``."""
    calib = np.abs(b.value_of(acc)).reshape(-1, acc.shape[-1]).max(axis=0)
    mult, shift = [], []
    for m in calib:
        q, e = quantize_multiplier(target / max(int(m), 1))
        mult.append(q)
        shift.append(e)
    return b.requantize(acc, mult, shift, zero_point, lo, hi, elem)


def _dequant(b, acc):
    calib = b.value_of(acc).reshape(-1, acc.shape[-1]).astype(np.float64)
    c = acc.shape[-1]
    std = calib.std(axis=0) + 1.0
    scale = (1.0 / std).astype(np.float32)
    bias = b.rng.normal(0.0, 0.1, c).astype(np.float32)
    return b.dequantize(acc, scale, bias)


# ---------------------------------------------------------------------------
# Networks
# ---------------------------------------------------------------------------

def mlp(batch=1, seed=0, float_input=True, epilogue="ops", output="scores",
        hidden=256, calib_batch=64, float_abi="native", pack_form="op"):
    """A binarized MLP: [B, 784] -> 8-bit unsigned codes -> 784x256 (u8 x bipolar)
    -> sign -> 256x256 (bipolar x bipolar) -> sign -> 256x10 -> f32 scores.

    ``float_input``: f32 input quantized in the model (scale 1/255), else
    8-bit unsigned codes (uint8). ``output``: 'scores' (f32 through
    dequantize) or 'logits' (the i32 accumulators). ``float_abi='bits'``
    passes f32 arguments and results as their int32 bit patterns (bitcasts
    inside the function), for runners that take integer tensors only.
    """
    b = Builder("mlp", seed, epilogue, float_abi, pack_form)
    rng = np.random.default_rng(seed + 1000)
    scale = np.float32(1.0 / 255.0)
    if float_input:
        calib = rng.random((calib_batch, 784), dtype=np.float32)
        x = b.argument((batch, 784), "f32", calib)
        codes = b.quantize_u8(x, scale)
    else:
        calib = rng.integers(0, 256, (calib_batch, 784)).astype(np.int64)
        codes = b.argument((batch, 784), "u8", calib)
    h = b.pack(codes, 8, "unsigned")
    for n_out in (hidden, hidden):
        w = _random_weights(b.rng, (n_out, h.shape[-1]), 1, "bipolar")
        acc = b.matmul(h, w, 1, "bipolar")
        h = _epilogue_threshold(b, acc, 1, "bipolar")
    w = _random_weights(b.rng, (10, hidden), 1, "bipolar")
    acc = b.matmul(h, w, 1, "bipolar")
    result = _dequant(b, acc) if output == "scores" else acc
    text = b.finish([result])
    return b, text


def resnet18(batch=1, resolution=224, seed=0, epilogue="ops", output="scores",
             act=(1, "bipolar"), wgt=(1, "bipolar"), stem_wbits=4, width=64,
             num_classes=1000, calib_batch=4, float_input=False, float_abi="native",
             pack_form="op"):
    """A binarized ResNet-18, NHWC, input [batch, resolution, resolution, 3].

    stem: 7x7/2 conv, 8-bit unsigned image x ``stem_wbits``-bit signed weights,
    as im2col + bitserial.matmul (K = 147); 3x3/2 max pool on the i32
    accumulators; requantize to a residual stream of [-127, 127].
    Blocks: a = threshold(r); h = conv3x3(a); b = threshold(h);
    r' = conv3x3(b, init = shortcut), shortcut = r or a 1x1/2 conv of a.
    Head: global sum pool, requantize to i8, pack 8-bit signed, 8-bit signed
    classifier weights, dequantize to f32 (or the i32 logits).
    """
    b = Builder("resnet18", seed, epilogue, float_abi, pack_form)
    rng = np.random.default_rng(seed + 1000)
    shape = (batch, resolution, resolution, 3)
    cshape = (calib_batch, resolution, resolution, 3)
    if float_input:
        x = b.argument(shape, "f32", rng.random(cshape, dtype=np.float32))
        img = b.quantize_u8(x, np.float32(1.0 / 255.0))
    else:
        img = b.argument(shape, "u8", rng.integers(0, 256, cshape).astype(np.int64))
    abits, aenc = act
    wbits, wenc = wgt
    ws = _random_weights(b.rng, (width, 7, 7, 3), stem_wbits, "signed")
    stem = b.im2col_matmul(img, ws, stem_wbits, "signed", 2, 3, 8, "unsigned")
    pooled = b.max_pool(stem, 3, 2, 1)
    r = _requant_to(b, pooled, 100.0, -127, 127, elem="i32")
    cin = width
    for stage, cout in enumerate((width, 2 * width, 4 * width, 8 * width)):
        for block in range(2):
            stride = 2 if (stage > 0 and block == 0) else 1
            a = _epilogue_threshold(b, r, abits, aenc)
            if stride != 1 or cin != cout:
                wd = _random_weights(b.rng, (cout, 1, 1, cin), wbits, wenc)
                shortcut = b.conv2d(a, wd, wbits, wenc, stride, 0)
            else:
                shortcut = r
            w1 = _random_weights(b.rng, (cout, 3, 3, cin), wbits, wenc)
            h = b.conv2d(a, w1, wbits, wenc, stride, 1)
            a2 = _epilogue_threshold(b, h, abits, aenc)
            w2 = _random_weights(b.rng, (cout, 3, 3, cout), wbits, wenc)
            r = b.conv2d(a2, w2, wbits, wenc, 1, 1, init=shortcut)
            cin = cout
    pooled = b.sum_pool(r)
    q = _requant_to(b, pooled, 127.0, -128, 127, elem="i8")
    qp = b.pack(q, 8, "signed")
    wf = _random_weights(b.rng, (num_classes, cin), 8, "signed")
    logits = b.matmul(qp, wf, 8, "signed")
    result = _dequant(b, logits) if output == "scores" else logits
    text = b.finish([result])
    return b, text


def weight_bytes(builder):
    """Weight memory: packed (as stored), int8 and fp32 equivalents."""
    packed = sum(nbytes for _, _, _, nbytes in builder.weights)
    count = sum(int(np.prod(shape)) for _, shape, _, _ in builder.weights)
    return {"parameters": count, "packed_bytes": packed, "int8_bytes": count,
            "fp32_bytes": 4 * count}


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------

def _random_input(builder, seed):
    """Seeded inputs in the function's ABI (f32 as int32 bit patterns with float_abi='bits')."""
    rng = np.random.default_rng(seed)
    out = []
    for v in builder.args:
        if v.elem == "f32" or (v.elem == "i32" and builder.float_abi == "bits"):
            x = rng.random(v.shape, dtype=np.float32)
            out.append(x.view(np.int32) if v.elem == "i32" else x)
        else:
            out.append(rng.integers(0, 256, v.shape).astype(np.uint8))
    return out


def _write(args):
    kw = dict(batch=args.batch, seed=args.seed, epilogue=args.epilogue, output=args.output_kind,
              float_input=args.float_input, float_abi=args.float_abi, pack_form=args.pack)
    if args.calib_batch:
        kw["calib_batch"] = args.calib_batch
    if args.model == "mlp":
        b, text = mlp(**kw)
    else:
        b, text = resnet18(resolution=args.resolution, stem_wbits=args.stem_wbits,
                           act=(args.abits, args.aenc), wgt=(args.wbits, args.wenc),
                           width=args.width, **kw)
    os.makedirs(args.o, exist_ok=True)
    base = os.path.join(args.o, args.name or args.model)
    header = [f"// {args.model}: generated by python -m bitserial.models "
              + " ".join(sys.argv[1:]), ""]
    with open(base + ".mlir", "w") as f:
        f.write("\n".join(header) + text)
    graph = b.graph()
    with open(base + ".graph.pkl", "wb") as f:
        pickle.dump(graph, f)
    inputs = _random_input(b, args.input_seed)
    for i, x in enumerate(inputs):
        np.save(f"{base}.input{i}.npy", x)
    expected = [] if args.no_expected else evaluate(graph, inputs)
    for i, y in enumerate(expected):
        np.save(f"{base}.expected{i}.npy", y)  # f32 results stay f32 (check views)
    info = {"model": args.model, "file_bytes": os.path.getsize(base + ".mlir"),
            **weight_bytes(b), "nodes": len(graph["nodes"])}
    with open(base + ".json", "w") as f:
        json.dump(info, f, indent=1)
    print(f"wrote {base}.mlir ({info['file_bytes']} bytes; weights: "
          f"{info['parameters']} parameters, {info['packed_bytes']} bytes packed, "
          f"{info['int8_bytes']} as int8, {info['fp32_bytes']} as fp32)")


def compare(expected, actual):
    """Exact comparison: same dtype and shape, equal values (bitwise for floats).
    Returns an error string or None."""
    if actual.dtype != expected.dtype:
        return f"dtype {actual.dtype} != expected {expected.dtype}"
    if actual.shape != expected.shape:
        return f"shape {actual.shape} != expected {expected.shape}"
    if expected.dtype.kind == "f":
        same = expected.view(np.uint32 if expected.itemsize == 4 else np.uint64) == \
            actual.view(np.uint32 if actual.itemsize == 4 else np.uint64)
    else:
        same = expected == actual
    if same.all():
        return None
    bad = np.argwhere(~same)
    i = tuple(bad[0])
    return (f"{bad.shape[0]} of {same.size} values differ, first at {list(i)}: "
            f"{actual[i]!r} != expected {expected[i]!r}")


def _check(args):
    failed = False
    for i, path in enumerate(args.outputs):
        expected = np.load(f"{args.base}.expected{i}.npy")
        actual = np.load(path)
        if expected.dtype == np.float32 and actual.dtype == np.int32:
            actual = actual.view(np.float32)  # float_abi='bits'
        err = compare(expected, actual)
        if err:
            print(f"MISMATCH result #{i}: {err}")
            failed = True
        else:
            kind = "bit-identical" if expected.dtype.kind == "f" else "exact"
            print(f"result #{i}: {expected.dtype} {list(expected.shape)} {kind}")
    return 1 if failed else 0


def _self_test(args):
    """The checker rejects a perturbed output (one ulp / one unit at one index)."""
    expected = np.load(f"{args.base}.expected0.npy")
    bad = expected.copy()
    flat = bad.reshape(-1)
    if bad.dtype.kind == "f":
        flat[-1] = np.nextafter(flat[-1], np.float32(np.inf))
    else:
        flat[-1] += 1
    err = compare(expected, bad)
    print(f"perturbed: {'rejected' if err else 'ACCEPTED'}")
    print(f"unperturbed: {'rejected' if compare(expected, expected.copy()) else 'accepted'}")
    return 0


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m bitserial.models", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    for model in ("mlp", "resnet18"):
        g = sub.add_parser(model, help=f"write the {model} model")
        g.add_argument("-o", required=True, help="output directory")
        g.add_argument("--name", help="file base name (default: the model's)")
        g.add_argument("--batch", type=int, default=1)
        g.add_argument("--seed", type=int, default=0, help="weights and calibration seed")
        g.add_argument("--input-seed", type=int, default=1)
        g.add_argument("--epilogue", choices=("ops", "linalg"), default="ops")
        g.add_argument("--output", dest="output_kind", choices=("scores", "logits"), default="scores")
        g.add_argument("--float-input", action=argparse.BooleanOptionalAction,
                       default=model == "mlp")
        g.add_argument("--calib-batch", type=int, default=0,
                       help="calibration batch (default: 64 for mlp, 4 for resnet18)")
        g.add_argument("--no-expected", action="store_true",
                       help="skip the NumPy evaluation of the input (benchmarks)")
        g.add_argument("--pack", choices=("vector", "op"), default="op",
                       help="how i8 tensors built in the model are packed: vector ops "
                            "(pack_vector) or bitserial.pack")
        g.add_argument("--float-abi", choices=("native", "bits"), default="native",
                       help="bits: f32 arguments and results as int32 bit patterns")
        if model == "resnet18":
            g.add_argument("--resolution", type=int, default=224)
            g.add_argument("--width", type=int, default=64)
            g.add_argument("--stem-wbits", type=int, default=4)
            g.add_argument("--abits", type=int, default=1)
            g.add_argument("--aenc", default="bipolar")
            g.add_argument("--wbits", type=int, default=1)
            g.add_argument("--wenc", default="bipolar")
        g.set_defaults(func=_write, model=model)
    c = sub.add_parser("check", help="compare bitserial-run outputs with the NumPy evaluation")
    c.add_argument("base", help="DIR/NAME of a generated model")
    c.add_argument("outputs", nargs="+")
    c.set_defaults(func=_check)
    s = sub.add_parser("self-test", help="show that the checker rejects a perturbed output")
    s.add_argument("base")
    s.set_defaults(func=_self_test)
    args = p.parse_args(argv)
    return args.func(args) or 0


if __name__ == "__main__":
    sys.exit(main())
