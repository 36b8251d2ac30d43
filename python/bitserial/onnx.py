"""QONNX / FINN import: low-bit ONNX models to bitserial MLIR.

``import_model(path_or_model, batch=1, name="model")`` returns the MLIR text
of one function; ``python -m bitserial.onnx model.onnx -o model.mlir`` does
the same from the command line (``error: ...`` and exit code 1 on a model it
cannot import).

The importer interprets the graph abstractly, node by node in order. A
tensor is one of:

* a constant (initializers, ``Constant`` nodes and nodes on constants,
  folded); a ``Quant``/``BipolarQuant`` of a constant keeps its integer codes
  and scale (quantized weights);
* a float tensor in MLIR (f32, ONNX layout): the float boundary (inputs,
  float heads, outputs), lowered through linalg/arith;
* quantized activations: integer codes times a per-tensor scale, as i8
  codes, packed bit planes, or a pending ``bitserial.threshold`` (i32
  accumulators and thresholds not emitted yet, so that max pooling and
  flattening can move in front of it);
* accumulators: an i32 tensor whose real value is a chain of per-channel
  float functions of it (the Conv/MatMul/Gemm scale and bias, then
  BatchNormalization, Relu, Mul, Add, Div ...).

A quantizer (``Quant``, ``BipolarQuant``, ``Trunc``, ``MultiThreshold``,
``Sign``) applied to accumulators becomes ``bitserial.threshold``: every
element of the chain and the quantizer is monotone in the accumulator, so the
integer thresholds are found by binary search over the accumulator's
possible range, evaluating the chain and the quantizer with the float32
arithmetic the ONNX graph specifies (see docs/onnx.md for the exactness
argument). Integer tensors in 4-D are NHWC (the dialect's layout); float
tensors keep ONNX's NCHW, with transposes at the boundary.
"""

import argparse
import math
import re
import sys

import numpy as np

from . import models
from . import reference as ref

__all__ = ["OnnxImportError", "import_model", "main"]

QONNX_DOMAINS = ("qonnx.custom_op.general", "finn.custom_op.general", "onnx.brevitas")
INT32_LIMIT = (1 << 31) - 2


class OnnxImportError(Exception):
    """A model the importer cannot read or lower; names the node and op type."""

    def __init__(self, message, node=None):
        if node is not None:
            message = f"{_describe(node)}: {message}"
        super().__init__(message)
        self.node_name = getattr(node, "name", None)
        self.op_type = getattr(node, "op_type", None)


def _describe(node):
    name = node.name or (node.output[0] if len(node.output) else "?")
    return f"node '{name}' ({node.op_type})"


# ---------------------------------------------------------------------------
# Abstract values
# ---------------------------------------------------------------------------

class Const:
    def __init__(self, arr):
        self.arr = np.asarray(arr)

    @property
    def shape(self):
        return tuple(self.arr.shape)


class QConst(Const):
    """Quantized constant: real = codes * scale (scale broadcast to the shape)."""

    def __init__(self, real, codes, scale, bits, encoding):
        super().__init__(np.asarray(real, dtype=np.float32))
        self.codes = np.asarray(codes, dtype=np.int64)
        self.scale = np.broadcast_to(np.asarray(scale, dtype=np.float64), self.codes.shape)
        self.bits = bits
        self.encoding = encoding


class FloatT:
    """f32 tensor in MLIR; physical shape = logical ONNX shape."""

    def __init__(self, v, shape):
        self.v = v
        self.shape = tuple(shape)


class IntT:
    """Common part of integer-domain tensors. 4-D: canonical (N, C, H, W),
    physical NHWC; ``lperm[i]`` is the canonical axis of logical axis i.
    2-D: physical (N, F); ``fperm[p]`` is the logical feature stored at p."""

    def __init__(self, canon, lperm=None, fperm=None):
        self.canon = tuple(canon)
        self.lperm = tuple(lperm) if lperm is not None else tuple(range(len(canon)))
        self.fperm = fperm

    @property
    def shape(self):
        return tuple(self.canon[a] for a in self.lperm)

    @property
    def phys(self):
        if len(self.canon) == 4:
            n, c, h, w = self.canon
            return (n, h, w, c)
        return self.canon

    @property
    def channels(self):
        return self.canon[1]

    def channel_axis(self):
        """Logical axis that holds the channels."""
        return self.lperm.index(1)

    def to_phys_channels(self, per_channel):
        """Per-channel array in logical channel order -> physical order."""
        a = np.asarray(per_channel)
        if self.fperm is not None and len(self.canon) == 2:
            return a[self.fperm]
        return a


class QAct(IntT):
    """Quantized activations: real = scale * code, codes of (bits, encoding).
    Forms: 'packed' (Value), 'codes' (Value of i8/i32 codes, physical
    layout), 'pending' (acc Value, thresholds, descending)."""

    def __init__(self, canon, bits, encoding, scale, form, lperm=None, fperm=None, **kw):
        super().__init__(canon, lperm, fperm)
        self.bits = bits
        self.encoding = encoding
        self.scale = np.asarray(scale, dtype=np.float64)  # scalar or [C] (physical)
        self.form = form
        self.packed = kw.get("packed")
        self.codes = kw.get("codes")
        self.acc = kw.get("acc")
        self.t = kw.get("t")
        self.desc = kw.get("desc")

    def code_range(self):
        lo, hi = ref.value_range(self.bits, self.encoding)
        return lo, hi


class AccT(IntT):
    """i32 accumulators; real value = chain(acc) per channel. ``lo``/``hi``
    bound the accumulator per (physical) channel."""

    def __init__(self, canon, acc, chain, lo, hi, lperm=None, fperm=None):
        super().__init__(canon, lperm, fperm)
        self.acc = acc
        self.chain = list(chain)
        self.lo = np.asarray(lo, dtype=np.int64)
        self.hi = np.asarray(hi, dtype=np.int64)


def _f32(x):
    return np.asarray(x, dtype=np.float32)


# Chain steps, each on float32 values [C, L] with per-channel params [C, 1].
def _chain_eval(chain, a):
    """Real (float32) values of integer accumulators ``a`` ([C, L])."""
    v = None
    for step in chain:
        kind = step[0]
        if kind == "base":  # Conv/MatMul/Gemm output: one rounding of acc*s + b
            _, s, b = step
            v = (a.astype(np.float64) * s[:, None] + b[:, None]).astype(np.float32)
        elif kind == "mul":
            v = np.multiply(v, _f32(step[1])[:, None], dtype=np.float32)
        elif kind == "add":
            v = np.add(v, _f32(step[1])[:, None], dtype=np.float32)
        elif kind == "sub":
            v = np.subtract(v, _f32(step[1])[:, None], dtype=np.float32)
        elif kind == "div":
            v = np.divide(v, _f32(step[1])[:, None], dtype=np.float32)
        elif kind == "relu":
            v = np.maximum(v, np.float32(0))
        elif kind == "clip":
            v = np.minimum(np.maximum(v, np.float32(step[1])), np.float32(step[2]))
        elif kind == "bn":
            _, scale, bias, mean, var, eps = step
            den = np.sqrt(np.add(_f32(var), np.float32(eps), dtype=np.float32))
            v = np.subtract(v, _f32(mean)[:, None], dtype=np.float32)
            v = np.divide(v, den[:, None], dtype=np.float32)
            v = np.multiply(v, _f32(scale)[:, None], dtype=np.float32)
            v = np.add(v, _f32(bias)[:, None], dtype=np.float32)
        else:
            raise AssertionError(kind)
    return v


def _round(mode, y):
    if mode == "ROUND":
        return np.round(y)
    if mode == "FLOOR":
        return np.floor(y)
    return np.ceil(y)


class Quantizer:
    """A quantizer on float32 values per channel: code(v) and how codes map to
    the dialect's encodings (count = (code - min) / step)."""

    def __init__(self, bits, encoding, scale, code_fn, name):
        self.bits = bits
        self.encoding = encoding
        self.scale = scale  # real = scale * code; scalar or [C] logical
        self.code_fn = code_fn  # (v [C, L] float32, channel index array) -> int codes
        self.name = name

    def count(self, v):
        code = self.code_fn(v)
        lo, _ = ref.value_range(self.bits, self.encoding)
        step = 2 if self.encoding == "bipolar" else 1
        return (code - lo) // step


def _solve_thresholds(chain, quantizer, lo, hi):
    """Integer thresholds [C, 2^bits - 1] and descending flags [C] such that
    the count of reached thresholds equals the quantizer's count of
    chain(acc) for every acc in [lo, hi] (per channel)."""
    levels = (1 << quantizer.bits) - 1
    c = lo.shape[0]
    k = np.arange(1, levels + 1, dtype=np.int64)[None, :]
    lo2 = np.broadcast_to(lo[:, None], (c, levels)).astype(np.int64)
    hi2 = np.broadcast_to(hi[:, None], (c, levels)).astype(np.int64)

    def count(a):
        return quantizer.count(_chain_eval(chain, a))

    c_lo, c_hi = count(lo2[:, :1])[:, 0], count(hi2[:, :1])[:, 0]
    desc = c_hi < c_lo
    # Ascending: the smallest a with count(a) >= k (hi + 1: never).
    left, right = lo2.copy(), hi2 + 1
    while (left < right).any():
        mid = (left + right) // 2
        ok = count(np.minimum(mid, hi2)) >= k
        ok |= mid > hi2
        right = np.where(ok & (left < right), mid, right)
        left = np.where(~ok & (left < right), mid + 1, left)
    t_up = left
    # Descending: the largest a with count(a) >= k (lo - 1: never).
    left, right = lo2 - 1, hi2.copy()
    while (left < right).any():
        mid = (left + right + 1) // 2
        ok = count(np.maximum(mid, lo2)) >= k
        left = np.where(ok & (left < right), mid, left)
        right = np.where(~ok & (left < right), mid - 1, right)
    t_down = left
    t = np.where(desc[:, None], t_down, t_up)
    # Check: the thresholds reproduce the quantizer at both ends and at the
    # thresholds themselves (and one past them).
    probe = np.concatenate([lo2, hi2, np.clip(t, lo2, hi2), np.clip(t - 1, lo2, hi2),
                            np.clip(t + 1, lo2, hi2)], axis=1)
    want = count(probe)
    got_up = (probe[:, :, None] >= t[:, None, :]).sum(-1)
    got_down = (probe[:, :, None] <= t[:, None, :]).sum(-1)
    got = np.where(desc[:, None], got_down, got_up)
    if not np.array_equal(got, want):
        raise AssertionError("threshold search is inconsistent (non-monotone chain)")
    return t, desc


# ---------------------------------------------------------------------------
# The builder: models.Builder without calibration
# ---------------------------------------------------------------------------

class _Builder(models.Builder):
    """models.Builder emits the ops; the importer needs no calibration, so
    every value's calibration is a cheap in-range stand-in."""

    def _node(self, op, inputs, params, calib_value):
        self.nodes.append((op, [getattr(v, "node", None) for v in inputs], params))
        self.calib.append(None)
        return len(self.nodes) - 1

    def value_of(self, v):
        fill = 1 if (v.packed and v.packed[1] == "bipolar") else getattr(v, "fill", 0)
        return np.broadcast_to(np.int64(fill), v.shape)

    def argument(self, shape, dtype, calib=None):
        return super().argument(shape, dtype, None)


def _ttype(shape, elem):
    return models._ttype(shape, elem)


# ---------------------------------------------------------------------------
# Attribute helpers
# ---------------------------------------------------------------------------

def _attrs(node, allowed):
    from onnx import helper
    out = {}
    for a in node.attribute:
        if a.name not in allowed:
            raise OnnxImportError(f"unsupported attribute '{a.name}'", node)
        v = helper.get_attribute_value(a)
        if isinstance(v, bytes):
            v = v.decode("utf-8", "replace")
        out[a.name] = v
    return out


def _ints(v):
    return [int(t) for t in v]


# ---------------------------------------------------------------------------
# Importer
# ---------------------------------------------------------------------------

class _Importer:
    def __init__(self, model, batch, name, epilogue):
        self.model = model
        self.batch = batch
        self.b = _Builder(name, 0, epilogue, "native", "vector")
        self.env = {}
        self.node = None

    # -- errors ---------------------------------------------------------------

    def fail(self, msg):
        raise OnnxImportError(msg, self.node)

    # -- values ----------------------------------------------------------------

    def get(self, name):
        if name == "":
            return None
        if name not in self.env:
            self.fail(f"input '{name}' is not defined before the node")
        return self.env[name]

    def const(self, name, what):
        v = self.get(name)
        if not isinstance(v, Const):
            self.fail(f"{what} ('{name}') must be a constant")
        return v

    def scalar(self, name, what):
        a = self.const(name, what).arr
        if a.size != 1:
            self.fail(f"{what} must be a scalar, got shape {list(a.shape)}")
        return a.reshape(()).item()

    # -- MLIR emission helpers ---------------------------------------------------

    def emit(self, line):
        self.b.emit(line)

    def fresh(self, hint):
        return self.b._fresh(hint)

    def value(self, name, shape, elem, packed=None, fill=0):
        v = models.Value(name, shape, elem, packed)
        v.fill = fill
        return v

    def generic(self, ins, out_shape, out_elem, body, maps=None, iters=None, init=None):
        """linalg.generic over ``out_shape``; ins: [(Value name, type, map)]."""
        rank = len(out_shape)
        ident = models._identity_map(rank)
        out_t = _ttype(out_shape, out_elem)
        if init is None:
            e = self.fresh("e")
            self.emit(f"{e} = tensor.empty() : {out_t}")
            init = e
        res = self.fresh("g")
        all_maps = [m for _, _, m in ins] + [maps or ident]
        it = iters or ", ".join(['"parallel"'] * rank)
        names = ", ".join(n for n, _, _ in ins)
        types = ", ".join(t for _, t, _ in ins)
        self.emit(f"{res} = linalg.generic {{indexing_maps = [{', '.join(all_maps)}],"
                  f" iterator_types = [{it}]}} ins({names} : {types}) outs({init} : {out_t}) {{")
        for line in body:
            self.emit("  " + line if not line.startswith("^") else line)
        self.emit("} -> " + out_t)
        return res

    def channel_map(self, rank, axis):
        d = ", ".join(f"d{i}" for i in range(rank))
        return f"affine_map<({d}) -> (d{axis})>"

    def transpose(self, name, shape, elem, perm):
        out_shape = tuple(shape[p] for p in perm)
        if list(perm) == list(range(len(shape))):
            return name, out_shape
        e, r = self.fresh("e"), self.fresh("tr")
        self.emit(f"{e} = tensor.empty() : {_ttype(out_shape, elem)}")
        self.emit(f"{r} = linalg.transpose ins({name} : {_ttype(shape, elem)})"
                  f" outs({e} : {_ttype(out_shape, elem)}) permutation = [{', '.join(map(str, perm))}]")
        return r, out_shape

    def reshape(self, name, shape, elem, new_shape):
        """Row-major reshape through collapse to 1-D and expand."""
        shape, new_shape = tuple(shape), tuple(new_shape)
        if shape == new_shape:
            return name
        total = int(np.prod(shape))
        flat = name
        if len(shape) != 1:
            flat = self.fresh("flat")
            grp = "[" + str(list(range(len(shape)))) + "]"
            self.emit(f"{flat} = tensor.collapse_shape {name} {grp} : {_ttype(shape, elem)}"
                      f" into {_ttype((total,), elem)}")
        if len(new_shape) == 1:
            return flat
        r = self.fresh("rs")
        grp = "[" + str(list(range(len(new_shape)))) + "]"
        self.emit(f"{r} = tensor.expand_shape {flat} {grp} output_shape"
                  f" [{', '.join(map(str, new_shape))}] : {_ttype((total,), elem)}"
                  f" into {_ttype(new_shape, elem)}")
        return r

    def const_tensor(self, arr, elem, hint="k"):
        arr = np.ascontiguousarray(arr)
        np_dtype = {"f32": np.float32, "i32": np.int32, "i8": np.int8}[elem]
        return self.b._constant(arr.astype(np_dtype), _ttype(arr.shape, elem), hint)

    # -- integer helpers ----------------------------------------------------------

    def to_i32(self, q):
        """i32 codes (physical layout) of a quantized activation."""
        shape = q.phys
        if q.form == "codes" and q.codes.elem == "i32":
            return q.codes.name
        if q.form == "codes":
            ext = "extui" if (q.encoding == "unsigned" and q.bits == 8) else "extsi"
            return self.generic([(q.codes.name, _ttype(shape, "i8"), models._identity_map(len(shape)))],
                                shape, "i32",
                                ["^bb0(%in: i8, %o: i32):", f"  %x = arith.{ext} %in : i8 to i32",
                                 "  linalg.yield %x : i32"])
        p = self.packed(q)
        r = self.fresh("up")
        self.emit(f"{r} = bitserial.unpack {p.name} : {p.type} -> {_ttype(shape, 'i32')}")
        return r

    def packed(self, q):
        """The packed Value of a quantized activation (emits it once)."""
        if q.form == "packed":
            return q.packed
        if q.form == "pending":
            acc = self.value(q.acc, q.phys, "i32")
            p = self.b.threshold(acc, q.bits, q.encoding, q.t,
                                 q.desc if q.desc is not None and q.desc.any() else None)
        else:
            fill = 1 if q.encoding == "bipolar" else 0
            x = self.value(q.codes.name, q.phys, q.codes.elem, fill=fill)
            p = self.b.pack(x, q.bits, q.encoding)
        q.form, q.packed = "packed", p
        return p

    # -- float helpers ---------------------------------------------------------------

    def float_map(self, x, ops, ch_axis=None):
        """Elementwise float ops on FloatT ``x``: ops = [(kind, per-channel array or None)]."""
        rank = len(x.shape)
        ident = models._identity_map(rank)
        ins = [(x.v, _ttype(x.shape, "f32"), ident)]
        args = ["%in: f32"]
        body = []
        cur = "%in"
        n = 0
        for kind, param in ops:
            pname = None
            if param is not None:
                p = _f32(param).reshape(-1)
                if p.size == 1:
                    pname = f"%s{n}"
                    body.append(f"  {pname} = arith.constant {models._f32_hex(p[0])} : f32")
                else:
                    cname = self.const_tensor(p, "f32", "fp")
                    ins.append((cname, _ttype(p.shape, "f32"), self.channel_map(rank, ch_axis)))
                    pname = f"%p{n}"
                    args.append(f"{pname}: f32")
            nxt = f"%r{n}"
            if kind == "relu":
                body.append(f"  %z{n} = arith.constant 0.0 : f32")
                body.append(f"  {nxt} = arith.maximumf {cur}, %z{n} : f32")
            elif kind in ("mul", "add", "sub", "div"):
                body.append(f"  {nxt} = arith.{kind}f {cur}, {pname} : f32")
            elif kind == "max":
                body.append(f"  {nxt} = arith.maximumf {cur}, {pname} : f32")
            elif kind == "min":
                body.append(f"  {nxt} = arith.minimumf {cur}, {pname} : f32")
            else:
                raise AssertionError(kind)
            cur = nxt
            n += 1
        body.append(f"  linalg.yield {cur} : f32")
        r = self.generic(ins, x.shape, "f32", [f"^bb0({', '.join(args)}, %o: f32):"] + body)
        return FloatT(r, x.shape)

    def float_binary(self, x, y, kind):
        shape = x.shape
        ident = models._identity_map(len(shape))
        t = _ttype(shape, "f32")
        r = self.generic([(x.v, t, ident), (y.v, t, ident)], shape, "f32",
                         ["^bb0(%a: f32, %b: f32, %o: f32):", f"  %r = arith.{kind}f %a, %b : f32",
                          "  linalg.yield %r : f32"])
        return FloatT(r, shape)

    def materialize(self, t):
        """Any tensor -> FloatT in its logical ONNX layout."""
        if isinstance(t, FloatT):
            return t
        if isinstance(t, Const):
            self.fail("a constant where a computed tensor is expected")
        if isinstance(t, QAct):
            codes = self.value(self.to_i32(t), t.phys, "i32")
            scale = np.broadcast_to(t.scale, (t.channels,))
            f = self.b.dequantize(codes, _f32(scale), np.zeros(t.channels, np.float32))
            return self._to_logical(FloatT(f.name, t.phys), t)
        # Accumulators: dequantize the base, then the rest of the chain in f32.
        chain = t.chain
        _, s, b = chain[0]
        acc = self.value(t.acc, t.phys, "i32")
        f = self.b.dequantize(acc, _f32(s), _f32(b))
        x = FloatT(f.name, t.phys)
        ax = len(t.phys) - 1
        for step in chain[1:]:
            kind = step[0]
            if kind in ("mul", "add", "sub", "div"):
                x = self.float_map(x, [(kind, step[1])], ax)
            elif kind == "relu":
                x = self.float_map(x, [("relu", None)], ax)
            elif kind == "clip":
                x = self.float_map(x, [("max", [step[1]]), ("min", [step[2]])], ax)
            elif kind == "bn":
                _, scale, bias, mean, var, eps = step
                den = np.sqrt(np.add(_f32(var), np.float32(eps), dtype=np.float32))
                x = self.float_map(x, [("sub", mean), ("div", den), ("mul", scale), ("add", bias)], ax)
        return self._to_logical(x, t)

    def _to_logical(self, x, t):
        if len(t.canon) == 4:
            # physical NHWC -> canonical NCHW -> logical
            canon_to_logical = list(t.lperm)
            perm = [(0, 3, 1, 2)[a] for a in canon_to_logical]
            name, shape = self.transpose(x.v, x.shape, "f32", perm)
            return FloatT(name, shape)
        if t.fperm is not None and not np.array_equal(t.fperm, np.arange(len(t.fperm))):
            self.fail("a float result of permuted (flattened NHWC) features is not supported")
        return x

    # -- driver ----------------------------------------------------------------------

    def run(self):
        g = self.model.graph
        inits = {i.name for i in g.initializer}
        from onnx import numpy_helper
        for init in g.initializer:
            try:
                self.env[init.name] = Const(numpy_helper.to_array(init))
            except Exception as e:  # noqa: BLE001 - malformed tensor data
                raise OnnxImportError(f"initializer '{init.name}' cannot be read: {e}") from None
        for inp in g.input:
            if inp.name in inits:
                continue
            self.env[inp.name] = self.input(inp)
        self.inferred = self._inferred_shapes()
        for node in g.node:
            self.node = node
            try:
                outs = self.convert(node)
            except OnnxImportError:
                raise
            except (ValueError, TypeError, IndexError, KeyError, OverflowError) as e:
                # Attribute values of the wrong type or size, broken tensors.
                self.fail(f"malformed node ({type(e).__name__}: {e})")
            if not isinstance(outs, (list, tuple)):
                outs = [outs]
            if any(node.output[len(outs):]):
                self.fail(f"{len(node.output)} outputs, only {len(outs)} supported")
            for name, v in zip(node.output, outs):
                if name:
                    self._check_shape(name, v)
                    self.env[name] = v
        self.node = None
        results = []
        for out in g.output:
            if out.name not in self.env:
                raise OnnxImportError(f"graph output '{out.name}' is not computed by any node")
            v = self.env[out.name]
            if isinstance(v, Const):
                raise OnnxImportError(f"graph output '{out.name}' is a constant")
            results.append(self.materialize(v))
        vals = [self.value(r.v, r.shape, "f32") for r in results]
        return self.b.finish(vals)

    def _inferred_shapes(self):
        from onnx import shape_inference
        try:
            m = shape_inference.infer_shapes(self.model)
        except Exception:  # noqa: BLE001 - custom ops may stop inference; shapes are checked below anyway
            return {}
        shapes = {}
        for vi in list(m.graph.value_info) + list(m.graph.output):
            t = vi.type.tensor_type
            if t.HasField("shape"):
                shapes[vi.name] = [d.dim_value if d.HasField("dim_value") else None
                                   for d in t.shape.dim]
        return shapes

    def _check_shape(self, name, v):
        want = self.inferred.get(name)
        if want is None or isinstance(v, Const):
            return
        got = list(v.shape)
        if len(want) != len(got) or any(w is not None and i > 0 and w != g
                                         for i, (w, g) in enumerate(zip(want, got))):
            self.fail(f"output '{name}' has shape {got}, the graph says {want}")

    def input(self, vi):
        t = vi.type.tensor_type
        from onnx import TensorProto
        if t.elem_type != TensorProto.FLOAT:
            raise OnnxImportError(f"input '{vi.name}': only float32 inputs are supported")
        if not t.HasField("shape"):
            raise OnnxImportError(f"input '{vi.name}' has no shape")
        shape = []
        for i, d in enumerate(t.shape.dim):
            if d.HasField("dim_value") and d.dim_value > 0:
                shape.append(d.dim_value)
            elif i == 0:
                shape.append(self.batch)
            else:
                raise OnnxImportError(f"input '{vi.name}': dimension {i} is symbolic "
                                      "(only the batch dimension may be)")
        v = self.b.argument(tuple(shape), "f32")
        return FloatT(v.name, shape)

    # -- nodes -----------------------------------------------------------------------

    def convert(self, node):
        op = node.op_type
        if node.domain not in ("", "ai.onnx") + QONNX_DOMAINS:
            self.fail(f"unsupported domain '{node.domain}'")
        handler = getattr(self, "op_" + op, None)
        if handler is None or (node.domain in QONNX_DOMAINS) != (op in (
                "Quant", "BipolarQuant", "Trunc", "MultiThreshold")):
            self.fail("unsupported operator")
        return handler(node)

    # Constants and shape ops ----------------------------------------------------------

    def op_Constant(self, node):
        from onnx import numpy_helper
        a = _attrs(node, {"value", "value_float", "value_floats", "value_int", "value_ints"})
        if "value" in a:
            return Const(numpy_helper.to_array(a["value"]))
        if not a:
            self.fail("no value")
        k, v = next(iter(a.items()))
        return Const(np.asarray(v, dtype=np.float32 if "float" in k else np.int64))

    def op_Identity(self, node):
        _attrs(node, set())
        return self.get(node.input[0])

    def op_Dropout(self, node):
        a = _attrs(node, {"seed", "ratio", "is_test"})
        if len(node.output) > 1 and any(node.output[1:]):
            self.fail("the mask output is not supported")
        if len(node.input) > 2 and node.input[2]:
            if self.scalar(node.input[2], "training_mode"):
                self.fail("training_mode = true is not supported")
        del a  # inference: the identity
        return self.get(node.input[0])

    def op_Flatten(self, node):
        a = _attrs(node, {"axis"})
        axis = a.get("axis", 1)
        x = self.get(node.input[0])
        rank = len(x.shape)
        axis = axis + rank if axis < 0 else axis
        shape = (int(np.prod(x.shape[:axis])), int(np.prod(x.shape[axis:])))
        return self._reshape(x, shape)

    def op_Reshape(self, node):
        a = _attrs(node, {"allowzero"})
        x = self.get(node.input[0])
        target = [int(t) for t in self.const(node.input[1], "the shape").arr.reshape(-1)]
        shape = list(target)
        for i, t in enumerate(target):
            if t == 0 and not a.get("allowzero", 0):
                shape[i] = x.shape[i]
        total = int(np.prod(x.shape))
        if shape.count(-1) > 1:
            self.fail("more than one -1 in the shape")
        if -1 in shape:
            known = int(np.prod([t for t in shape if t != -1]))
            if known == 0 or total % known:
                self.fail(f"cannot reshape {list(x.shape)} to {target}")
            shape[shape.index(-1)] = total // known
        if int(np.prod(shape)) != total:
            self.fail(f"cannot reshape {list(x.shape)} to {target}")
        return self._reshape(x, tuple(shape))

    def _reshape(self, x, shape):
        if isinstance(x, QConst):
            return QConst(x.arr.reshape(shape), x.codes.reshape(shape), x.scale.reshape(shape),
                          x.bits, x.encoding)
        if isinstance(x, Const):
            return Const(x.arr.reshape(shape))
        if isinstance(x, FloatT):
            return FloatT(self.reshape(x.v, x.shape, "f32", shape), shape)
        # Integer tensors: a 4-D tensor to [N, features] (flatten), or the same.
        if tuple(shape) == tuple(x.shape):
            return x
        if len(x.canon) == 4 and len(shape) == 2 and shape[0] == x.shape[0]:
            return self._flatten_int(x)
        if len(x.canon) == 2 and len(shape) == 4 and shape[:2] == x.shape and shape[2:] == (1, 1):
            return self._unflatten_int(x)
        self.fail(f"reshape of an integer tensor {list(x.shape)} to {list(shape)} is not supported")

    def _flatten_int(self, x):
        n, c, h, w = x.canon
        canon_idx = np.arange(c * h * w).reshape(c, h, w)
        logical = canon_idx.transpose([a - 1 for a in x.lperm[1:]]).reshape(-1)
        physical = canon_idx.transpose(1, 2, 0).reshape(-1)
        pos = np.empty(c * h * w, dtype=np.int64)
        pos[logical] = np.arange(c * h * w)
        fperm = pos[physical]  # logical feature index stored at each physical position
        if np.array_equal(fperm, np.arange(len(fperm))):
            fperm = None
        src = (n, h, w, c)
        new = (n, c * h * w)
        tile = h * w  # physical position p has channel p % c

        if isinstance(x, AccT):
            acc = self.reshape(x.acc, src, "i32", new)
            chain = [self._tile_step(s, tile) for s in x.chain]
            return AccT(new, acc, chain, np.tile(x.lo, tile), np.tile(x.hi, tile), fperm=fperm)
        scale = x.scale if x.scale.ndim == 0 else np.tile(x.scale, tile)
        if x.form == "pending":
            acc = self.reshape(x.acc, src, "i32", new)
            return QAct(new, x.bits, x.encoding, scale, "pending", fperm=fperm, acc=acc,
                        t=np.tile(x.t, (tile, 1)), desc=np.tile(x.desc, tile))
        if x.form == "codes":
            r = self.reshape(x.codes.name, src, x.codes.elem, new)
            return QAct(new, x.bits, x.encoding, scale, "codes", fperm=fperm,
                        codes=self.value(r, new, x.codes.elem))
        # Packed along C: unpack, flatten, repack at the consumer.
        codes = self.to_i32(x)
        r = self.reshape(codes, src, "i32", new)
        return QAct(new, x.bits, x.encoding, scale, "codes", fperm=fperm,
                    codes=self.value(r, new, "i32"))

    @staticmethod
    def _tile_step(step, tile):
        out = [step[0]]
        for p in step[1:]:
            p = np.asarray(p)
            out.append(np.tile(p, tile) if p.ndim == 1 else p)
        return tuple(out)

    def _unflatten_int(self, x):
        n, f = x.canon
        if x.fperm is not None:
            self.fail("reshape of permuted features is not supported")
        new = (n, 1, 1, f)
        canon = (n, f, 1, 1)
        if isinstance(x, AccT):
            return AccT(canon, self.reshape(x.acc, (n, f), "i32", new), x.chain, x.lo, x.hi)
        if x.form == "pending":
            return QAct(canon, x.bits, x.encoding, x.scale, "pending",
                        acc=self.reshape(x.acc, (n, f), "i32", new), t=x.t, desc=x.desc)
        codes = self.to_i32(x)
        return QAct(canon, x.bits, x.encoding, x.scale, "codes",
                    codes=self.value(self.reshape(codes, (n, f), "i32", new), new, "i32"))

    def op_Transpose(self, node):
        a = _attrs(node, {"perm"})
        x = self.get(node.input[0])
        rank = len(x.shape)
        perm = _ints(a.get("perm", list(reversed(range(rank)))))
        if sorted(perm) != list(range(rank)):
            self.fail(f"invalid perm {perm}")
        if isinstance(x, QConst):
            return QConst(x.arr.transpose(perm), x.codes.transpose(perm), x.scale.transpose(perm),
                          x.bits, x.encoding)
        if isinstance(x, Const):
            return Const(x.arr.transpose(perm))
        if isinstance(x, FloatT):
            name, shape = self.transpose(x.v, x.shape, "f32", perm)
            return FloatT(name, shape)
        if perm[0] != 0:
            self.fail("a transpose that moves the batch axis of an integer tensor is not supported")
        if len(x.canon) == 2:
            return x
        import copy
        y = copy.copy(x)
        y.lperm = tuple(x.lperm[p] for p in perm)
        return y

    # Quantizers ---------------------------------------------------------------------------

    def _quant_params(self, node):
        a = _attrs(node, {"signed", "narrow", "rounding_mode"})
        signed = int(a.get("signed", 1))
        narrow = int(a.get("narrow", 0))
        mode = str(a.get("rounding_mode", "ROUND")).upper()
        if mode not in ("ROUND", "FLOOR", "CEIL"):
            self.fail(f"unsupported rounding_mode '{mode}' (ROUND, FLOOR and CEIL are)")
        if len(node.input) != 4:
            self.fail("expected 4 inputs (x, scale, zeropt, bitwidth)")
        scale = self.const(node.input[1], "the scale").arr.astype(np.float32)
        zp = self.const(node.input[2], "the zero point").arr
        bw = self.scalar(node.input[3], "the bit width")
        if np.any(zp != 0):
            self.fail("a non-zero zero point is not supported")
        if bw != int(bw) or bw < 1:
            self.fail(f"bit width {bw} is not a positive integer")
        bw = int(bw)
        if signed and bw == 1:  # QONNX executes 1-bit signed Quant as bipolar
            lo, hi, enc = -1, 1, "bipolar"
        elif signed:
            lo, hi, enc = -(1 << (bw - 1)) + narrow, (1 << (bw - 1)) - 1, "signed"
        else:
            lo, hi, enc = 0, (1 << bw) - 1 - narrow, "unsigned"
        return dict(scale=scale, bits=bw, lo=lo, hi=hi, enc=enc, mode=mode)

    @staticmethod
    def _quant_codes(x, p):
        """QONNX Quant on float32 values: codes (float64 array of integers)."""
        y = np.divide(_f32(x), p["scale"], dtype=np.float32)
        if p["enc"] == "bipolar":
            return np.where(y >= 0, 1.0, -1.0)
        y = np.where(y > p["hi"], np.float32(p["hi"]), y)
        y = np.where(y < p["lo"], np.float32(p["lo"]), y)
        return _round(p["mode"], y)

    def op_Quant(self, node):
        p = self._quant_params(node)
        x = self.get(node.input[0])
        if isinstance(x, Const):
            codes = self._quant_codes(x.arr, p)
            real = np.multiply(codes.astype(np.float32), p["scale"], dtype=np.float32)
            return QConst(real, codes.astype(np.int64), np.broadcast_to(p["scale"], codes.shape),
                          p["bits"], p["enc"])
        if p["bits"] > 8:
            self.fail(f"{p['bits']}-bit activations (at most 8)")

        def code_fn(v, s):
            return self._quant_codes(v, dict(p, scale=s)).astype(np.int64)
        return self.quantize(x, p["bits"], p["enc"], p["scale"], code_fn, "quant", p)

    def op_BipolarQuant(self, node):
        _attrs(node, set())
        if len(node.input) != 2:
            self.fail("expected 2 inputs (x, scale)")
        scale = self.const(node.input[1], "the scale").arr.astype(np.float32)
        x = self.get(node.input[0])
        if isinstance(x, Const):
            codes = np.where(_f32(x.arr) >= 0, 1, -1).astype(np.int64)
            real = np.multiply(codes.astype(np.float32), scale, dtype=np.float32)
            return QConst(real, codes, np.broadcast_to(scale, codes.shape), 1, "bipolar")

        def code_fn(v, s):
            return np.where(v >= 0, 1, -1).astype(np.int64)
        return self.quantize(x, 1, "bipolar", scale, code_fn, "bipolar", None)

    def op_Sign(self, node):
        _attrs(node, set())
        x = self.get(node.input[0])
        if isinstance(x, Const):
            return Const(np.sign(x.arr))

        def code_fn(v, s):
            return np.sign(v).astype(np.int64)
        if isinstance(x, (AccT, QAct)):
            acc = x if isinstance(x, AccT) else self.as_acc(x)
            # Bipolar when no accumulator value gives exactly 0, else 2-bit signed.
            nonneg = Quantizer(1, "unsigned", 1.0, lambda v: (v >= 0).astype(np.int64), "ge")
            pos = Quantizer(1, "unsigned", 1.0, lambda v: (v > 0).astype(np.int64), "gt")
            t0, _ = _solve_thresholds(acc.chain, nonneg, acc.lo, acc.hi)
            t1, _ = _solve_thresholds(acc.chain, pos, acc.lo, acc.hi)
            if np.array_equal(t0, t1):
                return self.quantize(acc, 1, "bipolar", np.float32(1), code_fn, "sign", None)
            return self.quantize(acc, 2, "signed", np.float32(1), code_fn, "sign", None)
        self.fail("Sign of a float tensor is not supported (it is not a quantizer's input)")

    def op_Trunc(self, node):
        a = _attrs(node, {"signed", "narrow", "rounding_mode"})
        mode = str(a.get("rounding_mode", "FLOOR")).upper()
        if mode not in ("ROUND", "FLOOR", "CEIL"):
            self.fail(f"unsupported rounding_mode '{mode}' (ROUND, FLOOR and CEIL are)")
        x = self.get(node.input[0])
        if len(node.input) == 7:  # version 2
            s = self.scalar(node.input[1], "the scale")
            zp = self.scalar(node.input[2], "the zero point")
            out_s = self.scalar(node.input[4], "the output scale")
            ozp = self.scalar(node.input[5], "the output zero point")
            out_bw = self.scalar(node.input[6], "the output bit width")
            signed, narrow = int(a.get("signed", 1)), int(a.get("narrow", 0))
            shift = float(2.0 ** np.round(np.log2(np.float64(out_s) / np.float64(s))))
            if zp != 0 or ozp != 0:
                self.fail("a non-zero zero point is not supported")
        elif len(node.input) == 5:  # version 1: rescales by the input scale
            if "signed" in a or "narrow" in a:
                self.fail("signed/narrow need the 7-input Trunc (version 2)")
            s = self.scalar(node.input[1], "the scale")
            zp = self.scalar(node.input[2], "the zero point")
            in_bw = self.scalar(node.input[3], "the input bit width")
            out_bw = self.scalar(node.input[4], "the output bit width")
            out_s = s
            shift = float(2.0 ** (in_bw - out_bw))
            signed, narrow = None, 0
            if zp != 0:
                self.fail("a non-zero zero point is not supported")
        else:
            self.fail("expected 5 (version 1) or 7 (version 2) inputs")
        out_bw = int(out_bw)
        if not 1 <= out_bw <= 8:
            self.fail(f"{out_bw}-bit output (1 to 8 supported)")
        s32, sh32 = np.float32(s), np.float32(shift)

        def codes(v):
            y = np.round(np.divide(_f32(v), s32, dtype=np.float32))
            y = np.divide(y, sh32, dtype=np.float32)
            if signed is not None:
                lo = -(1 << (out_bw - 1)) + narrow if signed else 0
                hi = (1 << (out_bw - 1)) - 1 if signed else (1 << out_bw) - 1 - narrow
                y = np.where(y > hi, np.float32(hi), y)
                y = np.where(y < lo, np.float32(lo), y)
            return _round(mode, y).astype(np.int64)
        if isinstance(x, Const):
            c = codes(x.arr)
            return Const(np.multiply(c.astype(np.float32), np.float32(out_s), dtype=np.float32))
        enc = "signed" if signed else "unsigned"
        if signed is None:
            # Version 1 does not clamp: the codes must fit out_bw signed bits.
            acc = x if isinstance(x, AccT) else self.as_acc(x)
            ends = np.concatenate([codes(_chain_eval(acc.chain, acc.lo[:, None])),
                                   codes(_chain_eval(acc.chain, acc.hi[:, None]))])
            enc = "unsigned" if ends.min() >= 0 else "signed"
            lo_c, hi_c = ref.value_range(out_bw, enc)
            if ends.min() < lo_c or ends.max() > hi_c:
                self.fail(f"codes in [{ends.min()}, {ends.max()}] exceed {out_bw} {enc} bits "
                          "(version 1 does not clamp)")
        return self.quantize(x, out_bw, enc, np.float32(out_s), lambda v, _: codes(v), "trunc", None)

    def op_MultiThreshold(self, node):
        a = _attrs(node, {"out_dtype", "out_scale", "out_bias", "data_layout"})
        layout = a.get("data_layout", "NCHW")
        if layout not in ("NCHW", "NHWC"):
            self.fail(f"unsupported data_layout '{layout}'")
        out_scale = np.float32(a.get("out_scale", 1.0))
        out_bias = np.float32(a.get("out_bias", 0.0))
        x = self.get(node.input[0])
        T = _f32(self.const(node.input[1], "the thresholds").arr)
        if T.ndim != 2:
            self.fail(f"thresholds must be [C, N], got shape {list(T.shape)}")
        nt = T.shape[1]
        bits = max(1, int(math.ceil(math.log2(nt + 1))))
        if bits > 8:
            self.fail(f"{nt} thresholds need {bits} bits (at most 8)")
        # Map count -> code of an encoding: real = out_scale * count + out_bias.
        if out_bias == 0:
            enc, scale = "unsigned", out_scale
        elif out_bias == -out_scale * (1 << (bits - 1)):
            enc, scale = "signed", out_scale
        elif out_bias == -out_scale * ((1 << bits) - 1) / 2:
            enc, scale = "bipolar", out_scale / 2
        else:
            self.fail(f"out_bias {out_bias} with out_scale {out_scale} is not an unsigned, "
                      "signed or bipolar code")
        rank = len(x.shape)
        ch_axis = 3 if (layout == "NHWC" and rank == 4) else (1 if rank in (2, 4) else rank - 1)
        if isinstance(x, Const):
            self.fail("MultiThreshold of a constant is not supported")
        if isinstance(x, IntT) and x.channel_axis() != ch_axis:
            self.fail(f"the {layout} channel axis is not the tensor's channel axis")
        C = x.shape[ch_axis]
        if T.shape[0] not in (1, C):
            self.fail(f"thresholds have {T.shape[0]} rows for {C} channels")
        Tc = np.broadcast_to(T, (C, nt))
        lo_enc, _ = ref.value_range(bits, enc)
        step = 2 if enc == "bipolar" else 1

        def code_fn(v, chan):
            cnt = (v[:, :, None] >= Tc[chan][:, None, :]).sum(-1)
            return lo_enc + step * cnt
        return self.quantize(x, bits, enc, scale, code_fn, "multithreshold",
                             dict(T=Tc, ch_axis=ch_axis), per_channel_fn=True)

    def quantize(self, x, bits, enc, scale, code_fn, kind, params, per_channel_fn=False):
        """A quantizer applied to a computed tensor -> QAct."""
        if isinstance(x, FloatT):
            return self.quantize_float(x, bits, enc, scale, kind, params)
        acc = x if isinstance(x, AccT) else self.as_acc(x)
        C = acc.phys[-1]
        # Per-channel scale in physical channel order ([C]) or a scalar.
        sc = np.asarray(scale, dtype=np.float32)
        if sc.size == 1:
            sc = sc.reshape(())
        else:
            sc = self._per_channel(sc, acc, "the scale")
            sc = acc.to_phys_channels(sc) if len(acc.canon) == 2 else sc
        # Logical channel of each physical channel (flattened features are permuted).
        chan = acc.fperm if acc.fperm is not None else np.arange(C)
        if per_channel_fn:
            def codes(v):
                return code_fn(v, chan)
        elif sc.ndim == 1:
            def codes(v):
                return code_fn(v, sc[:, None])
        else:
            def codes(v):
                return code_fn(v, sc)
        q = Quantizer(bits, enc, sc, codes, kind)
        try:
            t, desc = _solve_thresholds(acc.chain, q, acc.lo, acc.hi)
        except AssertionError:
            self.fail("the quantizer's input is not monotone in the accumulators "
                      "(NaN or infinite parameters?)")
        if np.abs(t).max(initial=0) > INT32_LIMIT:
            self.fail("thresholds do not fit i32")
        return QAct(acc.canon, bits, enc, sc.astype(np.float64), "pending", acc.lperm, acc.fperm,
                    acc=acc.acc, t=t.astype(np.int32), desc=desc)

    def _per_channel(self, arr, t, what):
        """A constant broadcast over ``t``'s logical shape that varies along
        the channel axis only -> [C] (logical channel order)."""
        shape = t.shape
        arr = np.asarray(arr)
        try:
            b = np.broadcast_to(arr.reshape(arr.shape), shape) if arr.ndim <= len(shape) else None
        except ValueError:
            b = None
        if b is None:
            self.fail(f"{what} of shape {list(arr.shape)} does not broadcast to {list(shape)}")
        ax = t.channel_axis() if isinstance(t, IntT) else 1
        m = np.moveaxis(b, ax, -1).reshape(-1, shape[ax])
        if not (m == m[:1]).all():
            self.fail(f"{what} must be per-tensor or per-channel")
        return m[0]

    def quantize_float(self, x, bits, enc, scale, kind, params):
        """Quantize a float tensor in MLIR: i8 codes (NHWC for 4-D)."""
        sc = np.asarray(scale, dtype=np.float32)
        if sc.size != 1:
            self.fail("a per-channel scale on a float input is not supported")
        sc = np.float32(sc.reshape(-1)[0])
        rank = len(x.shape)
        if rank not in (2, 4):
            self.fail(f"quantized tensors must be 2-D or 4-D, got {list(x.shape)}")
        ident = models._identity_map(rank)
        xt = _ttype(x.shape, "f32")
        if kind == "quant":
            p = params
            rnd = {"ROUND": "math.roundeven", "FLOOR": "math.floor", "CEIL": "math.ceil"}[p["mode"]]
            if enc == "bipolar":
                body = ["^bb0(%in: f32, %o: i8):", f"  %s = arith.constant {models._f32_hex(sc)} : f32",
                        "  %d = arith.divf %in, %s : f32", "  %z = arith.constant 0.0 : f32",
                        "  %ge = arith.cmpf oge, %d, %z : f32", "  %p1 = arith.constant 1 : i8",
                        "  %m1 = arith.constant -1 : i8", "  %r = arith.select %ge, %p1, %m1 : i8",
                        "  linalg.yield %r : i8"]
            else:
                conv = "fptoui" if enc == "unsigned" else "fptosi"
                body = ["^bb0(%in: f32, %o: i8):", f"  %s = arith.constant {models._f32_hex(sc)} : f32",
                        f"  %lo = arith.constant {float(p['lo'])} : f32",
                        f"  %hi = arith.constant {float(p['hi'])} : f32",
                        "  %d = arith.divf %in, %s : f32",
                        # QONNX clamps with comparisons (NaN stays NaN), then rounds.
                        "  %gt = arith.cmpf ogt, %d, %hi : f32",
                        "  %a = arith.select %gt, %hi, %d : f32",
                        "  %lt = arith.cmpf olt, %a, %lo : f32",
                        "  %b = arith.select %lt, %lo, %a : f32",
                        f"  %r = {rnd} %b : f32",
                        f"  %i = arith.{conv} %r : f32 to i8", "  linalg.yield %i : i8"]
            codes = self.generic([(x.v, xt, ident)], x.shape, "i8", body)
        elif kind == "bipolar":
            body = ["^bb0(%in: f32, %o: i8):", "  %z = arith.constant 0.0 : f32",
                    "  %ge = arith.cmpf oge, %in, %z : f32", "  %p1 = arith.constant 1 : i8",
                    "  %m1 = arith.constant -1 : i8", "  %r = arith.select %ge, %p1, %m1 : i8",
                    "  linalg.yield %r : i8"]
            codes = self.generic([(x.v, xt, ident)], x.shape, "i8", body)
        elif kind == "multithreshold":
            T, ch = params["T"], params["ch_axis"]
            nt = T.shape[1]
            tname = self.const_tensor(T, "f32", "mt")
            d = [f"d{i}" for i in range(rank + 1)]
            alld = ", ".join(d)
            xmap = f"affine_map<({alld}) -> ({', '.join(d[:rank])})>"
            tmap = f"affine_map<({alld}) -> ({d[ch]}, {d[rank]})>"
            z = self.b._zeros(x.shape, "i8")
            lo_enc, _ = ref.value_range(bits, enc)
            step = 2 if enc == "bipolar" else 1
            cnt = self.generic([(x.v, xt, xmap), (tname, _ttype((T.shape[0], nt), "f32"), tmap)],
                               x.shape, "i8",
                               ["^bb0(%in: f32, %t: f32, %o: i8):",
                                "  %ge = arith.cmpf oge, %in, %t : f32",
                                "  %one = arith.extui %ge : i1 to i8",
                                "  %s = arith.addi %o, %one : i8", "  linalg.yield %s : i8"],
                               maps=xmap, iters=", ".join(['"parallel"'] * rank + ['"reduction"']),
                               init=z)
            codes = self.generic([(cnt, _ttype(x.shape, "i8"), ident)], x.shape, "i8",
                                 ["^bb0(%n: i8, %o: i8):", f"  %st = arith.constant {step} : i8",
                                  f"  %lo = arith.constant {lo_enc} : i8",
                                  "  %m = arith.muli %n, %st : i8", "  %r = arith.addi %m, %lo : i8",
                                  "  linalg.yield %r : i8"])
        else:
            self.fail("this quantizer needs an integer input (accumulators or codes)")
        shape = tuple(x.shape)
        canon, lperm = shape, None
        if rank == 4 and kind == "multithreshold" and params["ch_axis"] == 3:
            # An NHWC graph tensor: physical already, logical axes permuted.
            canon, lperm = (shape[0], shape[3], shape[1], shape[2]), (0, 2, 3, 1)
        elif rank == 4:
            codes, _ = self.transpose(codes, shape, "i8", (0, 2, 3, 1))
        phys = (canon[0], canon[2], canon[3], canon[1]) if rank == 4 else shape
        return QAct(canon, bits, enc, np.float64(sc), "codes", lperm,
                    codes=self.value(codes, phys, "i8", fill=1 if enc == "bipolar" else 0))

    def as_acc(self, q):
        """Quantized codes as accumulators (real = code * scale)."""
        codes = self.to_i32(q)
        lo, hi = q.code_range()
        C = q.phys[-1]
        s = np.broadcast_to(q.scale, (C,)).astype(np.float64)
        return AccT(q.canon, codes, [("base", s, np.zeros(C))], np.full(C, lo), np.full(C, hi),
                    q.lperm, q.fperm)

    # Compute layers ------------------------------------------------------------------------

    def _weights(self, name, what):
        w = self.get(name)
        if isinstance(w, QConst):
            if w.bits > 8:
                self.fail(f"{w.bits}-bit weights (at most 8)")
            return w
        if isinstance(w, Const):
            self.fail(f"{what} are float (not quantized by Quant/BipolarQuant); "
                      "only quantized weights are supported with quantized activations")
        self.fail(f"{what} must be constant")

    def _act(self, x, what):
        """The quantized activation ``x``, or None for a float one."""
        if isinstance(x, QAct):
            if x.scale.ndim != 0:
                self.fail(f"{what}: a per-channel activation scale is not supported")
            return x
        return None

    def _bounds(self, w2d, q):
        """Per-output-channel accumulator bounds: w2d [N, K] codes."""
        lo, hi = q.code_range()
        wpos, wneg = np.maximum(w2d, 0), np.minimum(w2d, 0)
        amin = (wpos * lo + wneg * hi).sum(1) + 0
        amax = (wpos * hi + wneg * lo).sum(1)
        # Padding contributes 0: widen to include it.
        return np.minimum(amin, 0), np.maximum(amax, 0)

    def _check_i32(self, lo, hi):
        if max(np.abs(lo).max(initial=0), np.abs(hi).max(initial=0)) > INT32_LIMIT:
            self.fail("the accumulators may overflow i32 (too many or too wide products)")

    def op_Conv(self, node):
        a = _attrs(node, {"auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"})
        x = self.get(node.input[0])
        q = self._act(x, "the Conv input")
        if q is None:
            self.fail("the input is not quantized: float convolutions are not supported "
                      "(quantize the input with Quant, BipolarQuant or MultiThreshold)")
        if len(q.canon) != 4 or q.lperm != (0, 1, 2, 3):
            self.fail("the input must be a 4-D NCHW tensor")
        w = self._weights(node.input[1], "the weights")
        if w.codes.ndim != 4:
            self.fail("only 2-D convolutions are supported")
        if a.get("group", 1) != 1:
            self.fail(f"group = {a['group']} (only 1 is supported)")
        auto = a.get("auto_pad", "NOTSET")
        co, ci, kh, kw = w.codes.shape
        n, c, h, wd = q.canon
        if ci != c:
            self.fail(f"weights have {ci} input channels, the input {c}")
        strides = _ints(a.get("strides", [1, 1]))
        dil = _ints(a.get("dilations", [1, 1]))
        pads = _ints(a.get("pads", [0, 0, 0, 0]))
        if auto not in ("NOTSET", "VALID") or (auto == "VALID" and "pads" in a):
            self.fail(f"unsupported auto_pad '{auto}'")
        if "kernel_shape" in a and _ints(a["kernel_shape"]) != [kh, kw]:
            self.fail("kernel_shape does not match the weights")
        if len(strides) != 2 or len(dil) != 2 or len(pads) != 4 or min(strides + dil) < 1 or min(pads) < 0:
            self.fail("invalid strides, dilations or pads")
        padding = (pads[0], pads[2], pads[1], pads[3])  # ONNX: [top, left, bottom, right]
        s = self._out_scale(w, 0, q)
        bias = np.zeros(co)
        if len(node.input) > 2 and node.input[2]:
            bias = self.const(node.input[2], "the bias").arr.astype(np.float32).astype(np.float64)
        wc = w.codes.transpose(0, 2, 3, 1)  # [CO, KH, KW, CI]
        try:
            oshape = ref.conv2d_output_shape((n, h, wd, c), wc.shape, strides, padding, dil)
        except ValueError as e:
            self.fail(str(e))
        xp = self.packed(q)
        wv = self.b._weight(wc, w.bits, w.encoding, "f")
        z = self.b._zeros(oshape, "i32")
        out = self.fresh("conv")
        ot = _ttype(oshape, "i32")
        self.emit(f"{out} = bitserial.conv2d ins({xp.name}, {wv.name} : {xp.type}, {wv.type})"
                  f" outs({z} : {ot}) strides = [{strides[0]}, {strides[1]}]"
                  f" padding = [{', '.join(map(str, padding))}]"
                  f" dilations = [{dil[0]}, {dil[1]}] -> {ot}")
        lo, hi = self._bounds(wc.reshape(co, -1), q)
        self._check_i32(lo, hi)
        canon = (oshape[0], co, oshape[1], oshape[2])
        return AccT(canon, out, [("base", s, bias)], lo, hi)

    def _out_scale(self, w, out_axis, q):
        """Per-output-channel real scale of the accumulator: x scale * w scale."""
        sw = np.moveaxis(w.scale, out_axis, 0).reshape(w.scale.shape[out_axis], -1)
        if not (sw == sw[:, :1]).all():
            self.fail("weight scales must be per-tensor or per output channel")
        return np.float64(q.scale) * sw[:, 0].astype(np.float64)

    def op_MatMul(self, node):
        _attrs(node, set())
        return self._dense(node, self.get(node.input[0]), node.input[1], False, 1.0, None, 1.0)

    def op_Gemm(self, node):
        a = _attrs(node, {"alpha", "beta", "transA", "transB"})
        if a.get("transA", 0):
            self.fail("transA = 1 is not supported")
        c = None
        if len(node.input) > 2 and node.input[2]:
            c = self.const(node.input[2], "C").arr.astype(np.float32)
        return self._dense(node, self.get(node.input[0]), node.input[1], bool(a.get("transB", 0)),
                           float(np.float32(a.get("alpha", 1.0))), c,
                           float(np.float32(a.get("beta", 1.0))))

    def _dense(self, node, x, wname, trans_b, alpha, c, beta):
        if len(x.shape) != 2:
            self.fail(f"the input must be 2-D, got {list(x.shape)}")
        q = self._act(x, "the input")
        wconst = self.get(wname)
        if not isinstance(wconst, Const):
            self.fail("the weights must be constant")
        W = wconst.arr.T if trans_b else wconst.arr  # [K, N]
        if W.ndim != 2 or W.shape[0] != x.shape[1]:
            self.fail(f"weights of shape {list(wconst.arr.shape)} do not match the input {list(x.shape)}")
        N = W.shape[1]
        bias = np.zeros(N, np.float64)
        if c is not None:
            try:
                cb = np.broadcast_to(c, (x.shape[0], N))
            except ValueError:
                self.fail(f"C of shape {list(c.shape)} does not broadcast to {[x.shape[0], N]}")
            if not (cb == cb[:1]).all():
                self.fail("C must not vary along the batch")
            bias = np.float64(beta) * cb[0].astype(np.float64)
        if q is None:
            return self._float_dense(x, W.astype(np.float32), alpha, bias if c is not None else None)
        w = self._weights(wname, "the weights")
        codes = w.codes.T if trans_b else w.codes
        scales = (w.scale.T if trans_b else w.scale)
        wq = QConst(W, codes, scales, w.bits, w.encoding)
        s = self._out_scale(wq, 1, q) * np.float64(alpha)
        wk = codes.T  # [N, K] in logical feature order
        if q.fperm is not None:
            wk = wk[:, q.fperm]
        xp = self.packed(q)
        out = self.b.matmul(xp, wk, w.bits, w.encoding)
        lo, hi = self._bounds(wk, q)
        self._check_i32(lo, hi)
        return AccT((x.shape[0], N), out.name, [("base", s, bias)], lo, hi)

    def _float_dense(self, x, W, alpha, bias):
        x = self.materialize(x)
        M, K = x.shape
        N = W.shape[1]
        wname = self.const_tensor(W, "f32", "fw")
        z = self.b._zeros((M, N), "f32", "0.0")
        r = self.fresh("fmm")
        self.emit(f"{r} = linalg.matmul ins({x.v}, {wname} : {_ttype((M, K), 'f32')}, {_ttype((K, N), 'f32')})"
                  f" outs({z} : {_ttype((M, N), 'f32')}) -> {_ttype((M, N), 'f32')}")
        y = FloatT(r, (M, N))
        ops = []
        if alpha != 1.0:
            ops.append(("mul", [alpha]))
        if bias is not None:
            ops.append(("add", bias))
        return self.float_map(y, ops, 1) if ops else y

    # Elementwise ----------------------------------------------------------------------------

    def op_BatchNormalization(self, node):
        a = _attrs(node, {"epsilon", "momentum", "training_mode", "spatial"})
        if a.get("training_mode", 0) or a.get("spatial", 1) != 1:
            self.fail("training_mode = 1 and spatial = 0 are not supported")
        if len(node.output) > 1 and any(node.output[1:]):
            self.fail("training outputs (running mean/var) are not supported")
        x = self.get(node.input[0])
        scale, bias, mean, var = (self.const(node.input[i], n).arr.astype(np.float32).reshape(-1)
                                  for i, n in ((1, "scale"), (2, "B"), (3, "mean"), (4, "var")))
        eps = np.float32(a.get("epsilon", 1e-5))
        C = x.shape[1] if len(x.shape) > 1 else 1
        for p in (scale, bias, mean, var):
            if p.shape != (C,):
                self.fail(f"parameters must have {C} elements")
        if not (np.add(var, eps, dtype=np.float32) > 0).all():
            self.fail("var + epsilon must be positive")
        if isinstance(x, FloatT):
            den = np.sqrt(np.add(var, eps, dtype=np.float32))
            return self.float_map(x, [("sub", mean), ("div", den), ("mul", scale), ("add", bias)], 1)
        if isinstance(x, IntT) and x.channel_axis() != 1:
            self.fail("the channel axis of the input is not axis 1")
        return self._chain(x, ("bn", scale, bias, mean, var, eps), per_channel=[1, 2, 3, 4])

    def _chain(self, x, step, per_channel=()):
        acc = x if isinstance(x, AccT) else self.as_acc(x)
        step = list(step)
        for p in step[1:]:
            if not np.isfinite(np.asarray(p, dtype=np.float64)).all():
                self.fail("parameters must be finite")
        for i in per_channel:
            step[i] = acc.to_phys_channels(np.asarray(step[i]))
        import copy
        out = copy.copy(acc)
        out.chain = acc.chain + [tuple(step)]
        return out

    def op_Relu(self, node):
        _attrs(node, set())
        x = self.get(node.input[0])
        if isinstance(x, FloatT):
            return self.float_map(x, [("relu", None)])
        if isinstance(x, Const):
            return Const(np.maximum(x.arr, 0))
        return self._chain(x, ("relu",))

    def op_Clip(self, node):
        _attrs(node, set())
        x = self.get(node.input[0])
        lo = self.scalar(node.input[1], "min") if len(node.input) > 1 and node.input[1] else -np.inf
        hi = self.scalar(node.input[2], "max") if len(node.input) > 2 and node.input[2] else np.inf
        if isinstance(x, FloatT):
            return self.float_map(x, [("max", [lo]), ("min", [hi])])
        return self._chain(x, ("clip", np.float32(lo), np.float32(hi)))

    def _binary(self, node, kind):
        _attrs(node, set())
        x, y = self.get(node.input[0]), self.get(node.input[1])
        if isinstance(x, Const) and isinstance(y, Const):
            f = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide}[kind]
            return Const(f(x.arr, y.arr))
        if isinstance(x, Const) and kind in ("add", "mul"):
            x, y = y, x
        if isinstance(y, Const):
            if isinstance(x, FloatT):
                if y.arr.size == 1:
                    return self.float_map(x, [(kind, y.arr.reshape(1))])
                pc = self._per_channel(y.arr, x, "the constant")
                return self.float_map(x, [(kind, pc)], 1)
            if isinstance(x, IntT):
                pc = np.broadcast_to(self._per_channel(_f32(y.arr), x, "the constant"),
                                     (x.channels,))
                return self._chain(x, (kind, pc), per_channel=[1])
            self.fail("unsupported operands")
        if isinstance(x, Const):
            self.fail("a constant first operand is not supported")
        if kind != "add":
            self.fail(f"{kind} of two computed tensors is not supported")
        return self._add(x, y)

    def op_Add(self, node):
        return self._binary(node, "add")

    def op_Sub(self, node):
        return self._binary(node, "sub")

    def op_Mul(self, node):
        return self._binary(node, "mul")

    def op_Div(self, node):
        return self._binary(node, "div")

    def _add(self, x, y):
        if x.shape != y.shape:
            self.fail(f"operands of shapes {list(x.shape)} and {list(y.shape)} (no broadcasting)")
        if isinstance(x, FloatT) or isinstance(y, FloatT):
            return self.float_binary(self.materialize(x), self.materialize(y), "add")
        # Integer tensors: real = a*sa + ba and c*sc + bc; add when sa = k * sc.
        xa = x if isinstance(x, AccT) else self.as_acc(x)
        ya = y if isinstance(y, AccT) else self.as_acc(y)
        if xa.lperm != ya.lperm or not _same_perm(xa.fperm, ya.fperm):
            self.fail("operands in different layouts")
        if len(xa.chain) != 1 or len(ya.chain) != 1:
            return self.float_binary(self.materialize(x), self.materialize(y), "add")
        (_, sa, ba), (_, sb, bb) = xa.chain[0], ya.chain[0]
        if (sa < sb).any():
            xa, ya, sa, sb, ba, bb = ya, xa, sb, sa, bb, ba
        with np.errstate(divide="ignore", invalid="ignore"):
            k = sa / sb
        if not (np.isfinite(k).all() and (k == np.round(k)).all() and (k >= 1).all()):
            # Scales that are not integer multiples: the sum stays float.
            return self.float_binary(self.materialize(x), self.materialize(y), "add")
        k = k.astype(np.int64)
        lo = np.minimum(xa.lo * k, xa.hi * k) + ya.lo
        hi = np.maximum(xa.lo * k, xa.hi * k) + ya.hi
        if max(np.abs(lo).max(), np.abs(hi).max()) > INT32_LIMIT:
            self.fail("the sum may overflow i32")
        shape = xa.phys
        t = _ttype(shape, "i32")
        ident = models._identity_map(len(shape))
        ins = [(xa.acc, t, ident), (ya.acc, t, ident)]
        args = "%a: i32, %b: i32"
        if (k == 1).all():
            body = ["  %r = arith.addi %a, %b : i32"]
        else:
            kname = self.const_tensor(k.astype(np.int32), "i32", "kres")
            ins.append((kname, _ttype((len(k),), "i32"), self.channel_map(len(shape), len(shape) - 1)))
            args += ", %k: i32"
            body = ["  %m = arith.muli %a, %k : i32", "  %r = arith.addi %m, %b : i32"]
        r = self.generic(ins, shape, "i32",
                         [f"^bb0({args}, %o: i32):"] + body + ["  linalg.yield %r : i32"])
        return AccT(xa.canon, r, [("base", sb, (ba + bb).astype(np.float64))], lo, hi,
                    xa.lperm, xa.fperm)

    # Pooling ----------------------------------------------------------------------------------

    def op_MaxPool(self, node):
        a = _attrs(node, {"auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads",
                          "storage_order", "strides"})
        x = self.get(node.input[0])
        if len(node.output) > 1 and any(node.output[1:]):
            self.fail("the Indices output is not supported")
        k = _ints(a.get("kernel_shape", []))
        s = _ints(a.get("strides", [1, 1]))
        p = _ints(a.get("pads", [0, 0, 0, 0]))
        if a.get("auto_pad", "NOTSET") not in ("NOTSET", "VALID") or a.get("ceil_mode", 0) \
                or any(d != 1 for d in a.get("dilations", [1, 1])):
            self.fail("auto_pad, ceil_mode or dilations are not supported")
        if len(k) != 2 or k[0] != k[1] or len(s) != 2 or s[0] != s[1] or len(p) != 4 or len(set(p)) != 1:
            self.fail("only square kernels, equal strides and equal padding are supported")
        k, s, p = k[0], s[0], p[0]
        if p >= k:
            self.fail("padding must be smaller than the kernel")
        if not isinstance(x, IntT) or len(x.canon) != 4 or x.lperm != (0, 1, 2, 3):
            self.fail("the input must be quantized or accumulators in NCHW (a float MaxPool is "
                      "not supported)")
        n, c, h, w = x.canon
        oh, ow = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
        if oh < 1 or ow < 1:
            self.fail("the window is larger than the input")
        canon = (n, c, oh, ow)

        def pool(name):
            v = self.b.max_pool(self.value(name, (n, h, w, c), "i32"), k, s, p)
            return v.name
        if isinstance(x, QAct) and x.form == "pending":
            if (x.scale < 0).any():
                self.fail("max pooling of codes with a negative scale is not supported")
            # Codes are non-decreasing in sgn * acc (sgn = -1 on descending
            # channels): pool that, with ascending thresholds sgn * t.
            if x.desc is not None and x.desc.any():
                sgn = np.where(x.desc, -1, 1)
                return QAct(canon, x.bits, x.encoding, x.scale, "pending",
                            acc=pool(self.flip(x.acc, (n, h, w, c), sgn)),
                            t=(x.t * sgn[:, None]).astype(np.int32), desc=np.zeros(c, bool))
            return QAct(canon, x.bits, x.encoding, x.scale, "pending", acc=pool(x.acc), t=x.t,
                        desc=x.desc)
        if isinstance(x, QAct):
            if (x.scale < 0).any():
                self.fail("max pooling of codes with a negative scale is not supported")
            return QAct(canon, x.bits, x.encoding, x.scale, "codes",
                        codes=self.value(pool(self.to_i32(x)), (n, oh, ow, c), "i32"))
        # Accumulators: max commutes with a non-decreasing chain.
        v_lo = _chain_eval(x.chain, x.lo[:, None])[:, 0]
        v_hi = _chain_eval(x.chain, x.hi[:, None])[:, 0]
        if (v_hi < v_lo).any():
            # A decreasing channel is non-decreasing in -acc: pool -acc and
            # negate the base scale (the same real values, bit for bit).
            sgn = np.where(v_hi < v_lo, -1, 1)
            _, bs, bb = x.chain[0]
            chain = [("base", bs * sgn, bb)] + x.chain[1:]
            lo = np.where(sgn < 0, -x.hi, x.lo)
            hi = np.where(sgn < 0, -x.lo, x.hi)
            return AccT(canon, pool(self.flip(x.acc, (n, h, w, c), sgn)), chain, lo, hi)
        return AccT(canon, pool(x.acc), x.chain, x.lo, x.hi)

    def flip(self, acc, shape, sgn):
        """acc * sgn[c] on i32 (sgn = +-1 per channel)."""
        kname = self.const_tensor(np.asarray(sgn, np.int32), "i32", "sgn")
        rank = len(shape)
        return self.generic([(acc, _ttype(shape, "i32"), models._identity_map(rank)),
                             (kname, _ttype((shape[-1],), "i32"), self.channel_map(rank, rank - 1))],
                            shape, "i32",
                            ["^bb0(%a: i32, %k: i32, %o: i32):", "  %r = arith.muli %a, %k : i32",
                             "  linalg.yield %r : i32"])

    def op_GlobalAveragePool(self, node):
        _attrs(node, set())
        return self._gap(self.get(node.input[0]))

    def op_AveragePool(self, node):
        a = _attrs(node, {"auto_pad", "ceil_mode", "count_include_pad", "kernel_shape", "pads",
                          "strides"})
        x = self.get(node.input[0])
        k = _ints(a.get("kernel_shape", []))
        if len(x.shape) != 4 or k != list(x.shape[2:]) or any(a.get("pads", [0])) \
                or a.get("auto_pad", "NOTSET") not in ("NOTSET", "VALID"):
            self.fail("only an AveragePool over the whole image (global) is supported")
        return self._gap(x)

    def _gap(self, x):
        if len(x.shape) != 4:
            self.fail("the input must be 4-D")
        n, c, h, w = x.shape
        if isinstance(x, QAct) and x.lperm == (0, 1, 2, 3):
            # Codes sum exactly; the mean is one float division (as the graph's).
            codes = self.value(self.to_i32(x), (n, h, w, c), "i32")
            summed = self.b.sum_pool(codes)
            r = self.reshape(summed.name, (n, c), "i32", (n, 1, 1, c))
            lo, hi = x.code_range()
            s = np.broadcast_to(x.scale, (c,)).astype(np.float64)
            return AccT((n, c, 1, 1), r, [("base", s, np.zeros(c)), ("div", np.full(c, h * w, np.float32))],
                        np.full(c, lo * h * w), np.full(c, hi * h * w))
        f = self.materialize(x)
        t = _ttype(f.shape, "f32")
        z = self.b._zeros((n, c), "f32", "0.0")
        r = self.generic([(f.v, t, "affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>")], (n, c), "f32",
                         ["^bb0(%in: f32, %o: f32):", "  %s = arith.addf %in, %o : f32",
                          "  linalg.yield %s : f32"],
                         maps="affine_map<(d0, d1, d2, d3) -> (d0, d1)>",
                         iters='"parallel", "parallel", "reduction", "reduction"', init=z)
        y = self.float_map(FloatT(r, (n, c)), [("div", [float(h * w)])])
        return FloatT(self.reshape(y.v, (n, c), "f32", (n, c, 1, 1)), (n, c, 1, 1))


def _same_perm(a, b):
    if a is None or b is None:
        return a is None and b is None
    return np.array_equal(a, b)


# ---------------------------------------------------------------------------
# Entry points
# ---------------------------------------------------------------------------

def _load(model):
    import onnx
    if isinstance(model, onnx.ModelProto):
        return model
    try:
        with open(model, "rb") as f:
            data = f.read()
    except OSError as e:
        raise OnnxImportError(f"cannot read '{model}': {e.strerror}") from None
    try:
        m = onnx.ModelProto()
        m.ParseFromString(data)
    except Exception as e:  # noqa: BLE001 - protobuf's DecodeError and friends
        raise OnnxImportError(f"'{model}' is not an ONNX model ({type(e).__name__}: {e})") from None
    if not m.HasField("graph"):
        raise OnnxImportError(f"'{model}' is not an ONNX model (no graph)")
    return m


def _check(m):
    names = set(i.name for i in m.graph.initializer) | set(i.name for i in m.graph.input)
    for node in m.graph.node:
        for i in node.input:
            if i and i not in names:
                raise OnnxImportError(f"input '{i}' is not defined before the node "
                                      "(the graph is not topologically sorted or is truncated)",
                                      node)
        names.update(o for o in node.output if o)
    if not len(m.graph.output):
        raise OnnxImportError("the graph has no outputs")


def import_model(model, batch=1, name="model", epilogue="ops"):
    """Imports an ONNX ModelProto or file into MLIR text (one function ``@name``).

    ``batch`` replaces a symbolic batch dimension (axis 0 of the inputs);
    ``epilogue``: 'ops' (bitserial.threshold/dequantize) or 'linalg'.
    Raises OnnxImportError for what it cannot import.
    """
    if not (isinstance(batch, int) and batch >= 1):
        raise OnnxImportError(f"batch must be a positive integer, got {batch!r}")
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_$.]*", name or ""):
        raise OnnxImportError(f"invalid function name {name!r}")
    m = _load(model)
    _check(m)
    imp = _Importer(m, batch, name, epilogue)
    with np.errstate(all="ignore"):  # NaN/inf in a model's parameters are reported as errors
        return imp.run()


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m bitserial.onnx",
                                description="Import a QONNX/FINN model into bitserial MLIR.")
    p.add_argument("model", help="ONNX file")
    p.add_argument("-o", dest="output", default="-", help="MLIR output (default: stdout)")
    p.add_argument("--batch", type=int, default=1, help="size of a symbolic batch dimension")
    p.add_argument("--name", default="model", help="function name")
    p.add_argument("--epilogue", choices=("ops", "linalg"), default="ops")
    args = p.parse_args(argv)
    try:
        text = import_model(args.model, batch=args.batch, name=args.name, epilogue=args.epilogue)
    except OnnxImportError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except RecursionError:
        print("error: the model is nested too deeply", file=sys.stderr)
        return 1
    except Exception as e:  # noqa: BLE001 - one line, never a traceback
        print(f"error: internal error in the importer ({type(e).__name__}: {e})", file=sys.stderr)
        return 1
    header = f"// Imported from {args.model} by python -m bitserial.onnx\n"
    try:
        if args.output == "-":
            sys.stdout.write(header + text)
        else:
            with open(args.output, "w") as f:
                f.write(header + text)
    except OSError as e:
        print(f"error: cannot write '{args.output}': {e.strerror}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
