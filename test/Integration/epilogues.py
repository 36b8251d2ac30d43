"""Runs bitserial.threshold, requantize and dequantize, alone and after
matmul/conv2d layers, under several lowerings and checks each result against
bitserial's NumPy reference.

    epilogues.py --runner BITSERIAL_RUN --work DIR [--configs A,B] [--cases fused]
                 [--write-only]

Writes DIR/CASE.mlir (one module per case) and seeded inputs,
runs every entry under every configuration and compares exactly: packed words
for threshold, integers for requantize, the IEEE bit patterns of dequantize
(results bitcast to integers, since they must agree bit for bit). Prints one
line per run and a summary; exits 1 on any mismatch or failed run.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys

import numpy as np

import bitserial
from bitserial import reference as ref

CONFIGS = {
    "reference": ["--strategy", "reference"],
    "vector": ["--strategy", "vector"],
    "vector-generic": ["--strategy", "vector", "--target", "generic"],
    "vector-avx2": ["--strategy", "vector", "--target", "x86-avx2", "--cpu", "x86-64-v3"],
    "vector-tile": ["--strategy", "vector", "--tile"],
    "vector-threads": ["--strategy", "vector", "--tile", "--num-threads", "2"],
    "vector-parallel": ["--strategy", "vector", "--num-threads", "2"],
}
DEFAULT_CONFIGS = ("reference,vector,vector-generic,vector-avx2,vector-tile,vector-threads,"
                   "vector-parallel")

NP_TYPE = {np.int8: "i8", np.int16: "i16", np.int32: "i32", np.int64: "i64",
           np.bool_: "i1", np.float32: "f32", np.float64: "f64"}


def tensor(shape, dtype, layout=None):
    dims = "x".join(str(d) for d in shape)
    suffix = f", {layout}" if layout else ""
    return f"tensor<{dims}x{NP_TYPE[dtype]}{suffix}>"


def packed_type(shape, bits, encoding):
    shape = list(shape)
    words = ref.packed_shape(shape, bits)
    layout = f"#bitserial.packed<bits = {bits}, encoding = {encoding}, length = {shape[-1]}>"
    return tensor(words, np.int64, layout), words


def float_constant(name, values, dtype):
    items = ", ".join(repr(float(v)) for v in values)
    return f"  %{name} = arith.constant dense<[{items}]> : {tensor(values.shape, dtype)}\n"


def bitcast_to_int(value, shape, fdtype):
    idtype = np.int32 if fdtype == np.float32 else np.int64
    rank = len(shape)
    dims = ", ".join(f"d{i}" for i in range(rank))
    ftype, itype = tensor(shape, fdtype), tensor(shape, idtype)
    iterators = ", ".join(['"parallel"'] * rank)
    return (
        f"  %bits_empty = tensor.empty() : {itype}\n"
        f"  %bits = linalg.generic {{indexing_maps = [affine_map<({dims}) -> ({dims})>, "
        f"affine_map<({dims}) -> ({dims})>], iterator_types = [{iterators}]}} "
        f"ins(%{value} : {ftype}) outs(%bits_empty : {itype}) {{\n"
        f"  ^bb0(%in: {NP_TYPE[fdtype]}, %out: {NP_TYPE[idtype]}):\n"
        f"    %b = arith.bitcast %in : {NP_TYPE[fdtype]} to {NP_TYPE[idtype]}\n"
        f"    linalg.yield %b : {NP_TYPE[idtype]}\n"
        f"  }} -> {itype}\n"), "bits", itype, idtype


class Case:
    """One entry: MLIR text, its inputs, and the expected outputs."""

    def __init__(self, name, body, inputs, expected):
        self.name, self.body, self.inputs, self.expected = name, body, inputs, expected


def thresholds_for(rng, acc, channels, bits, spread):
    """Per-channel thresholds around the data, so every code occurs."""
    count = (1 << bits) - 1
    t = rng.integers(-spread, spread, (channels, count))
    # Some ties with actual values, and some unsorted rows.
    flat = acc.reshape(-1, channels)
    t[:, 0] = flat[rng.integers(0, flat.shape[0], channels), np.arange(channels)]
    return t.astype(acc.dtype)


def threshold_case(rng, name, shape, bits, encoding, dtype, descending, constant=False):
    """A threshold of an argument; with `constant`, its thresholds and flags
    are constants (which the vector lowering relays out at compile time)."""
    acc = rng.integers(-300, 300, shape).astype(dtype)
    channels = shape[-1]
    t = thresholds_for(rng, acc, channels, bits, 300)
    flip = rng.integers(0, 2, channels).astype(np.bool_) if descending else None
    result_type, _ = packed_type(shape, bits, encoding)
    args = [f"%acc: {tensor(shape, dtype)}"]
    consts = ""
    inputs = [acc]
    if constant:
        consts += int_constant("t", t, dtype)
    else:
        args.append(f"%t: {tensor(t.shape, dtype)}")
        inputs.append(t)
    flip_text = ""
    if descending:
        flip_text = f" descending(%flip : {tensor((channels,), np.bool_)})"
        if constant:
            consts += int_constant("flip", flip, np.bool_)
        else:
            args.append(f"%flip: {tensor((channels,), np.bool_)}")
            inputs.append(flip)
    body = (f"func.func @{name}({', '.join(args)}) -> {result_type} {{\n" + consts +
            f"  %y = bitserial.threshold %acc, %t{flip_text} : {tensor(shape, dtype)}, "
            f"{tensor(t.shape, dtype)} -> {result_type}\n"
            f"  return %y : {result_type}\n}}\n")
    values = ref.threshold(acc, t, bits, encoding, flip)
    return Case(name, body, inputs, [ref.pack(values, bits, encoding)])


def requantize_params(rng, channels):
    multiplier = rng.integers(1 << 30, (1 << 31) - 1, channels, dtype=np.int64)
    multiplier[0] = -(1 << 31)  # the saturating case with x = INT32_MIN
    if channels > 2:
        multiplier[1] = 0
        multiplier[2] = rng.integers(-(1 << 31), 0)
    shift = rng.integers(-34, 34, channels).astype(np.int8)  # clamped to [-31, 30]
    shift[rng.random(channels) < 0.5] = rng.integers(-12, 2)
    return multiplier.astype(np.int32), shift


def pack_case(rng, name, shape, bits, encoding):
    values = ref.random_values(rng, shape, bits, encoding).astype(np.int8)
    result_type, _ = packed_type(shape, bits, encoding)
    body = (f"func.func @{name}(%x: {tensor(shape, np.int8)}) -> {result_type} {{\n"
            f"  %p = bitserial.pack %x : {tensor(shape, np.int8)} -> {result_type}\n"
            f"  return %p : {result_type}\n}}\n")
    return Case(name, body, [values], [ref.pack(values, bits, encoding)])


def requantize_case(rng, name, shape, out_dtype, zero_point, clamp):
    acc = rng.integers(-(1 << 20), 1 << 20, shape).astype(np.int32)
    acc.reshape(-1)[0] = -(1 << 31)
    acc.reshape(-1)[-1] = (1 << 31) - 1
    channels = shape[-1]
    m, s = requantize_params(rng, channels)
    out = tensor(shape, out_dtype)
    body = (f"func.func @{name}(%acc: {tensor(shape, np.int32)}, %m: {tensor((channels,), np.int32)}, "
            f"%s: {tensor((channels,), np.int8)}) -> {out} {{\n"
            f"  %q = bitserial.requantize %acc, %m, %s zero_point = {zero_point} clamp = [{clamp[0]}, {clamp[1]}]"
            f" : {tensor(shape, np.int32)}, {tensor((channels,), np.int32)}, {tensor((channels,), np.int8)} -> {out}\n"
            f"  return %q : {out}\n}}\n")
    expected = ref.requantize(acc, m, s, zero_point, *clamp).astype(out_dtype)
    return Case(name, body, [acc, m, s], [expected])


def dequantize_case(rng, name, shape, acc_dtype, fdtype):
    limit = (1 << 30) if acc_dtype == np.int32 else (1 << 60)
    acc = rng.integers(-limit, limit, shape).astype(acc_dtype)
    channels = shape[-1]
    scale = (rng.standard_normal(channels) * 1e-3).astype(fdtype)
    bias = rng.standard_normal(channels).astype(fdtype)
    f = tensor(shape, fdtype)
    cast, bits, itype, idtype = bitcast_to_int("f", shape, fdtype)
    body = (f"func.func @{name}(%acc: {tensor(shape, acc_dtype)}) -> {itype} {{\n"
            + float_constant("scale", scale, fdtype) + float_constant("bias", bias, fdtype)
            + f"  %f = bitserial.dequantize %acc, %scale, %bias : {tensor(shape, acc_dtype)}, "
            f"{tensor((channels,), fdtype)}, {tensor((channels,), fdtype)} -> {f}\n"
            + cast + f"  return %{bits} : {itype}\n}}\n")
    expected = ref.dequantize(acc, scale, bias).view(idtype)
    return Case(name, body, [acc], [expected])


def conv_threshold_case(rng, name, n, h, w, c, co, k, stride, pad, a_bits, a_enc, w_enc,
                        out_bits, out_enc):
    x = ref.random_values(rng, (n, h, w, c), a_bits, a_enc)
    f = ref.random_values(rng, (co, k, k, c), 1, w_enc)
    padding = (pad, pad, pad, pad)
    acc = ref.conv2d(x, f, strides=(stride, stride), padding=padding)
    t = thresholds_for(rng, acc.astype(np.int32), co, out_bits, int(np.abs(acc).max()) + 1)
    flip = rng.integers(0, 2, co).astype(np.bool_)
    values = ref.threshold(acc, t, out_bits, out_enc, flip)
    xp, xs = packed_type((n, h, w, c), a_bits, a_enc)
    fp, fs = packed_type((co, k, k, c), 1, w_enc)
    out_type, _ = packed_type(acc.shape, out_bits, out_enc)
    init = tensor(acc.shape, np.int32)
    body = (f"func.func @{name}(%x: {xp}, %f: {fp}, %t: {tensor(t.shape, np.int32)}, "
            f"%flip: {tensor((co,), np.bool_)}) -> {out_type} {{\n"
            f"  %zero = arith.constant 0 : i32\n"
            f"  %empty = tensor.empty() : {init}\n"
            f"  %init = linalg.fill ins(%zero : i32) outs(%empty : {init}) -> {init}\n"
            f"  %acc = bitserial.conv2d ins(%x, %f : {xp}, {fp}) outs(%init : {init}) "
            f"strides = [{stride}, {stride}] padding = [{pad}, {pad}, {pad}, {pad}] -> {init}\n"
            f"  %y = bitserial.threshold %acc, %t descending(%flip : {tensor((co,), np.bool_)}) : {init}, "
            f"{tensor(t.shape, np.int32)} -> {out_type}\n"
            f"  return %y : {out_type}\n}}\n")
    inputs = [ref.pack(x, a_bits, a_enc), ref.pack(f, 1, w_enc), t, flip]
    return Case(name, body, inputs, [ref.pack(values, out_bits, out_enc)])


def conv_requantize_case(rng, name, n, h, w, c, co, residual):
    x = ref.random_values(rng, (n, h, w, c), 2, "unsigned")
    f = ref.random_values(rng, (co, 3, 3, c), 2, "signed")
    xp, _ = packed_type((n, h, w, c), 2, "unsigned")
    fp, _ = packed_type((co, 3, 3, c), 2, "signed")
    shape = (n, h, w, co)
    init_value = rng.integers(-500, 500, shape).astype(np.int32) if residual else np.zeros(shape, np.int32)
    acc = ref.conv2d(x, f, padding=(1, 1, 1, 1), init=init_value)
    m, s = requantize_params(rng, co)
    s = np.clip(s, -20, 0).astype(np.int8)
    expected = ref.requantize(acc, m, s, -3, -128, 127).astype(np.int8)
    init = tensor(shape, np.int32)
    out = tensor(shape, np.int8)
    body = (f"func.func @{name}(%x: {xp}, %f: {fp}, %init: {init}, %m: {tensor((co,), np.int32)}, "
            f"%s: {tensor((co,), np.int8)}) -> {out} {{\n"
            f"  %acc = bitserial.conv2d ins(%x, %f : {xp}, {fp}) outs(%init : {init}) "
            f"padding = [1, 1, 1, 1] -> {init}\n"
            f"  %q = bitserial.requantize %acc, %m, %s zero_point = -3 clamp = [-128, 127] : {init}, "
            f"{tensor((co,), np.int32)}, {tensor((co,), np.int8)} -> {out}\n"
            f"  return %q : {out}\n}}\n")
    inputs = [ref.pack(x, 2, "unsigned"), ref.pack(f, 2, "signed"), init_value, m, s]
    return Case(name, body, inputs, [expected])


def mlp_case(rng, name, batch, k, hidden, classes):
    """matmul -> threshold (1-bit bipolar) -> matmul -> dequantize (f32)."""
    x = ref.random_values(rng, (batch, k), 2, "unsigned")
    w1 = ref.random_values(rng, (hidden, k), 1, "bipolar")
    w2 = ref.random_values(rng, (classes, hidden), 1, "bipolar")
    acc1 = ref.matmul(x, w1)
    t = np.median(acc1, axis=0).astype(np.int32).reshape(hidden, 1)
    h = ref.threshold(acc1, t, 1, "bipolar")
    acc2 = ref.matmul(h, w2)
    scale = (rng.standard_normal(classes) * 0.01).astype(np.float32)
    bias = rng.standard_normal(classes).astype(np.float32)
    scores = ref.dequantize(acc2, scale, bias)
    xp, _ = packed_type((batch, k), 2, "unsigned")
    w1p, _ = packed_type((hidden, k), 1, "bipolar")
    hp, _ = packed_type((batch, hidden), 1, "bipolar")
    w2p, _ = packed_type((classes, hidden), 1, "bipolar")
    a1, a2 = tensor((batch, hidden), np.int32), tensor((batch, classes), np.int32)
    cast, bits, itype, _ = bitcast_to_int("scores", (batch, classes), np.float32)
    body = (f"func.func @{name}(%x: {xp}, %w1: {w1p}, %t: {tensor(t.shape, np.int32)}, %w2: {w2p}) -> {itype} {{\n"
            f"  %zero = arith.constant 0 : i32\n"
            f"  %e1 = tensor.empty() : {a1}\n"
            f"  %i1 = linalg.fill ins(%zero : i32) outs(%e1 : {a1}) -> {a1}\n"
            f"  %acc1 = bitserial.matmul ins(%x, %w1 : {xp}, {w1p}) outs(%i1 : {a1}) -> {a1}\n"
            f"  %h = bitserial.threshold %acc1, %t : {a1}, {tensor(t.shape, np.int32)} -> {hp}\n"
            f"  %e2 = tensor.empty() : {a2}\n"
            f"  %i2 = linalg.fill ins(%zero : i32) outs(%e2 : {a2}) -> {a2}\n"
            f"  %acc2 = bitserial.matmul ins(%h, %w2 : {hp}, {w2p}) outs(%i2 : {a2}) -> {a2}\n"
            + float_constant("scale", scale, np.float32) + float_constant("bias", bias, np.float32)
            + f"  %scores = bitserial.dequantize %acc2, %scale, %bias : {a2}, "
            f"{tensor((classes,), np.float32)}, {tensor((classes,), np.float32)} -> {tensor((batch, classes), np.float32)}\n"
            + cast + f"  return %{bits} : {itype}\n}}\n")
    inputs = [ref.pack(x, 2, "unsigned"), ref.pack(w1, 1, "bipolar"), t, ref.pack(w2, 1, "bipolar")]
    return Case(name, body, inputs, [scores.view(np.int32)])


def int_constant(name, values, dtype):
    """An arith.constant of an integer (or i1) array."""
    if dtype == np.bool_:
        items = ", ".join("true" if v else "false" for v in values.reshape(-1))
    else:
        items = ", ".join(str(int(v)) for v in values.reshape(-1))
    shape = values.shape
    text = f"dense<[{items}]>" if len(shape) == 1 else \
        "dense<" + repr(values.astype(np.int64).tolist()).replace(" ", "") + ">"
    return f"  %{name} = arith.constant {text} : {tensor(shape, dtype)}\n"


class Fused:
    """A matmul or conv2d whose only use is an epilogue (fused by the vector
    lowering): geometry, operands, init, and the epilogue's parameters."""

    def __init__(self, rng, name, epilogue, n=1, h=1, w=1, c=64, co=20, k=1, stride=1, pad=0,
                 a=(1, "bipolar"), wt=(1, "bipolar"), acc_dtype=np.int32, residual=False,
                 matmul=False, batched=False, out=(1, "bipolar"), descending=True,
                 constants=False, out_dtype=np.int8, fdtype=np.float32, fill=0):
        self.rng, self.name, self.epilogue = rng, name, epilogue
        self.args, self.inputs, self.lines = [], [], []
        if matmul:
            # [B?, M, K] x [N, K]: n = B (batched) or None, w = M.
            lhs_shape = (n, w, c) if batched else (w, c)
            x = ref.random_values(rng, lhs_shape, *a)
            f = ref.random_values(rng, (co, c), *wt)
            acc_shape = lhs_shape[:-1] + (co,)
        else:
            x = ref.random_values(rng, (n, h, w, c), *a)
            f = ref.random_values(rng, (co, k, k, c), *wt)
            acc_shape = ref.conv2d_output_shape(x.shape, f.shape, (stride, stride),
                                                (pad,) * 4)
        init = (rng.integers(-500, 500, acc_shape).astype(acc_dtype) if residual
                else np.full(acc_shape, fill, acc_dtype))
        if matmul:
            acc = ref.matmul(x, f, init=init)
        else:
            acc = ref.conv2d(x, f, strides=(stride, stride), padding=(pad,) * 4, init=init)
        self.acc_shape = acc_shape
        xp, _ = packed_type(x.shape, *a)
        fp, _ = packed_type(f.shape, *wt)
        self.arg("x", xp, ref.pack(x, *a))
        self.arg("f", fp, ref.pack(f, *wt))
        it = tensor(acc_shape, acc_dtype)
        if residual:
            self.arg("init", it, init)
        else:
            self.lines.append(f"  %fill = arith.constant {fill} : {NP_TYPE[acc_dtype]}\n"
                              f"  %empty = tensor.empty() : {it}\n"
                              f"  %init = linalg.fill ins(%fill : {NP_TYPE[acc_dtype]}) "
                              f"outs(%empty : {it}) -> {it}\n")
        if matmul:
            op = f"bitserial.matmul ins(%x, %f : {xp}, {fp}) outs(%init : {it}) -> {it}"
        else:
            op = (f"bitserial.conv2d ins(%x, %f : {xp}, {fp}) outs(%init : {it}) "
                  f"strides = [{stride}, {stride}] padding = [{pad}, {pad}, {pad}, {pad}] -> {it}")
        self.lines.append(f"  %acc = {op}\n")
        self.constants = constants
        if epilogue == "none":
            # The accumulators themselves (wrapping like the result type).
            bits = np.iinfo(acc_dtype).bits
            wrapped = (acc.astype(object) + (1 << (bits - 1))) % (1 << bits) - (1 << (bits - 1))
            self.result, self.result_type = "acc", it
            self.expected = wrapped.astype(acc_dtype)
        elif epilogue == "threshold":
            bits, enc = out
            t = thresholds_for(rng, acc.astype(np.int64), co, bits, int(np.abs(acc).max()) + 2)
            t = t.astype(acc_dtype)
            flip = rng.integers(0, 2, co).astype(np.bool_) if descending else None
            self.param("t", t, acc_dtype)
            flip_text = ""
            if descending:
                self.param("flip", flip, np.bool_)
                flip_text = f" descending(%flip : {tensor((co,), np.bool_)})"
            rt, _ = packed_type(acc_shape, bits, enc)
            self.lines.append(f"  %y = bitserial.threshold %acc, %t{flip_text} : {it}, "
                              f"{tensor(t.shape, acc_dtype)} -> {rt}\n")
            self.result, self.result_type = "y", rt
            self.expected = ref.pack(ref.threshold(acc, t, bits, enc, flip), bits, enc)
        elif epilogue == "requantize":
            acc32 = ((acc + (1 << 31)) % (1 << 32) - (1 << 31))
            m, sh = requantize_params(rng, co)
            sh = np.clip(sh, -20, 2).astype(np.int8)
            self.param("m", m, np.int32)
            self.param("s", sh, np.int8)
            info = np.iinfo(out_dtype)
            lo, hi = int(info.min), int(info.max)
            zp = -5
            ot = tensor(acc_shape, out_dtype)
            self.lines.append(f"  %q = bitserial.requantize %acc, %m, %s zero_point = {zp} "
                              f"clamp = [{lo}, {hi}] : {it}, {tensor((co,), np.int32)}, "
                              f"{tensor((co,), np.int8)} -> {ot}\n")
            self.result, self.result_type = "q", ot
            self.expected = ref.requantize(acc32, m, sh, zp, lo, hi).astype(out_dtype)
        else:
            scale = (rng.standard_normal(co) * 1e-2).astype(fdtype)
            bias = rng.standard_normal(co).astype(fdtype)
            self.lines.append(float_constant("scale", scale, fdtype)
                              + float_constant("bias", bias, fdtype))
            ft = tensor(acc_shape, fdtype)
            self.lines.append(f"  %d = bitserial.dequantize %acc, %scale, %bias : {it}, "
                              f"{tensor((co,), fdtype)}, {tensor((co,), fdtype)} -> {ft}\n")
            cast, bits_name, itype, idtype = bitcast_to_int("d", acc_shape, fdtype)
            self.lines.append(cast)
            self.result, self.result_type = bits_name, itype
            acc_wrapped = acc.astype(acc_dtype)
            self.expected = ref.dequantize(acc_wrapped, scale, bias).view(idtype)

    def arg(self, name, type_text, value):
        self.args.append(f"%{name}: {type_text}")
        self.inputs.append(value)

    def param(self, name, value, dtype):
        if self.constants:
            self.lines.append(int_constant(name, value, dtype))
        else:
            self.arg(name, tensor(value.shape, dtype), value)

    def case(self):
        body = (f"func.func @{self.name}({', '.join(self.args)}) -> {self.result_type} {{\n"
                + "".join(self.lines) + f"  return %{self.result} : {self.result_type}\n}}\n")
        return Case(self.name, body, self.inputs, [self.expected])


# Geometries of fused layers: (n, h, w, c, co, k, stride, pad).
FUSED_GEOMETRIES = [
    (2, 5, 6, 64, 20, 1, 1, 0),
    (1, 9, 9, 130, 67, 1, 2, 0),
    (1, 7, 8, 70, 1, 3, 1, 1),
    (2, 6, 7, 64, 130, 3, 2, 1),
    (1, 5, 11, 33, 200, 3, 1, 0),
    (1, 4, 4, 128, 64, 1, 1, 0),
    (2, 3, 14, 96, 67, 3, 1, 2),
    (1, 8, 3, 200, 129, 1, 1, 0),
]


def build_fused_cases(rng):
    cases = []
    encodings = ["unsigned", "signed", "bipolar"]
    operands = [((1, "bipolar"), (1, "bipolar")), ((2, "unsigned"), (1, "bipolar")),
                ((2, "signed"), (2, "unsigned")), ((1, "unsigned"), (3, "signed"))]
    index = 0
    for bits in range(1, 9):
        for enc in encodings:
            n, h, w, c, co, k, stride, pad = FUSED_GEOMETRIES[index % len(FUSED_GEOMETRIES)]
            a, wt = operands[index % len(operands)]
            acc_dtype = np.int64 if index % 5 == 3 else np.int32
            cases.append(Fused(rng, f"fused_conv{k}x{k}_{enc}{bits}_co{co}", "threshold",
                               n, h, w, c, co, k, stride, pad, a, wt, acc_dtype,
                               residual=index % 4 == 1, out=(bits, enc),
                               descending=index % 3 != 2,
                               constants=index % 6 == 0 and bits < 6).case())
            index += 1
    for i, (n, h, w, c, co, k, stride, pad) in enumerate(FUSED_GEOMETRIES[:5]):
        a, wt = operands[i % len(operands)]
        cases.append(Fused(rng, f"fused_conv{k}x{k}_requantize_co{co}", "requantize",
                           n, h, w, c, co, k, stride, pad, a, wt, np.int32,
                           residual=i % 2 == 0, constants=i == 1,
                           out_dtype=np.int16 if i == 4 else np.int8).case())
        cases.append(Fused(rng, f"fused_conv{k}x{k}_dequantize_co{co}", "dequantize",
                           n, h, w, c, co, k, stride, pad, a, wt,
                           np.int64 if i == 3 else np.int32, residual=i % 2 == 1,
                           fdtype=np.float64 if i == 2 else np.float32).case())
    # Layers large enough for bitserial-tile to tile them (rows of ResNet-18's
    # C5): the epilogue moves into the tile loop.
    cases.append(Fused(rng, "fused_tiled_conv1x1_threshold", "threshold", 1, 56, 56, 64, 128,
                       1, 2, 0, (2, "unsigned"), (1, "bipolar"), np.int32,
                       out=(2, "unsigned")).case())
    cases.append(Fused(rng, "fused_tiled_conv1x1_requantize", "requantize", 1, 56, 56, 64, 128,
                       1, 2, 0, (1, "bipolar"), (1, "bipolar"), np.int32,
                       residual=True).case())
    # Matmuls (a 1 x M image), batched ones ([B, M, K] x [N, K]).
    for i, (batched, m, k, co) in enumerate([(False, 5, 130, 67), (True, 3, 200, 130),
                                             (False, 1, 64, 1), (True, 9, 70, 200)]):
        a, wt = operands[i % len(operands)]
        cases.append(Fused(rng, f"fused_matmul{'_batched' if batched else ''}_threshold_n{co}",
                           "threshold", n=2, w=m, c=k, co=co, a=a, wt=wt, matmul=True,
                           batched=batched, out=(2 if i % 2 else 1, encodings[i % 3]),
                           residual=i == 1).case())
        cases.append(Fused(rng, f"fused_matmul{'_batched' if batched else ''}_requantize_n{co}",
                           "requantize", n=2, w=m, c=k, co=co, a=a, wt=wt, matmul=True,
                           batched=batched, residual=i == 2).case())
        cases.append(Fused(rng, f"fused_matmul{'_batched' if batched else ''}_dequantize_n{co}",
                           "dequantize", n=2, w=m, c=k, co=co, a=a, wt=wt, matmul=True,
                           batched=batched, acc_dtype=np.int64 if i == 3 else np.int32).case())
    return cases


def build_cases(rng):
    cases = []
    # Unfused matmul and conv2d layers whose init is a fill (of 0 or not):
    # the kernels broadcast the scalar instead of reading init. The last
    # convolution is large enough for threads.
    operands = [((1, "bipolar"), (1, "bipolar")), ((2, "unsigned"), (1, "bipolar")),
                ((2, "signed"), (2, "unsigned"))]
    for i, (n, h, w, c, co, k, stride, pad) in enumerate(FUSED_GEOMETRIES[:6]):
        fill = [0, 7, -3][i % 3]
        cases.append(Fused(rng, f"filled_conv{k}x{k}_co{co}_fill{fill}".replace("-", "m"), "none",
                           n, h, w, c, co, k, stride, pad, *operands[i % 3],
                           np.int64 if i == 4 else np.int32, fill=fill).case())
    cases.append(Fused(rng, "filled_conv3x3_threads", "none", 1, 56, 56, 64, 64, 3, 1, 1,
                       (1, "bipolar"), (1, "bipolar"), np.int32, fill=-9).case())
    for i, (batched, m, k, co) in enumerate([(False, 5, 130, 67), (True, 3, 200, 130)]):
        cases.append(Fused(rng, f"filled_matmul{'_batched' if batched else ''}_n{co}", "none",
                           n=2, w=m, c=k, co=co, a=operands[i][0], wt=operands[i][1],
                           matmul=True, batched=batched, fill=11 * i - 4).case())
    for bits, encoding in [(1, "bipolar"), (1, "unsigned"), (2, "unsigned"), (2, "signed"),
                           (3, "bipolar"), (4, "signed"), (8, "unsigned")]:
        for dtype in (np.int32, np.int64):
            for descending in (False, True):
                name = f"threshold_{encoding}{bits}_{NP_TYPE[dtype]}{'_desc' if descending else ''}"
                shape = (2, 3, 70) if bits < 8 else (5, 33)
                cases.append(threshold_case(rng, name, shape, bits, encoding, dtype, descending))
    cases.append(threshold_case(rng, "threshold_one_channel", (9, 1), 2, "unsigned", np.int32, True))
    cases.append(threshold_case(rng, "threshold_130_channels", (3, 130), 1, "bipolar", np.int32, False))
    for bits, encoding in [(1, "bipolar"), (2, "signed"), (4, "unsigned")]:
        cases.append(threshold_case(rng, f"threshold_constant_{encoding}{bits}", (2, 5, 70), bits,
                                    encoding, np.int32, True, constant=True))
    for out_dtype, clamp in [(np.int8, (-128, 127)), (np.int8, (0, 100)), (np.int16, (-32768, 32767)),
                             (np.int32, (-(1 << 31), (1 << 31) - 1))]:
        for zero_point in (0, -128, 77):
            name = f"requantize_{NP_TYPE[out_dtype]}_{clamp[0]}_{zero_point}".replace("-", "m")
            cases.append(requantize_case(rng, name, (3, 4, 37), out_dtype, zero_point, clamp))
    for acc_dtype in (np.int32, np.int64):
        for fdtype in (np.float32, np.float64):
            name = f"dequantize_{NP_TYPE[acc_dtype]}_{NP_TYPE[fdtype]}"
            cases.append(dequantize_case(rng, name, (4, 3, 29), acc_dtype, fdtype))
    cases.append(conv_threshold_case(rng, "conv_threshold_bipolar", 2, 6, 7, 70, 20, 3, 1, 1,
                                     1, "bipolar", "bipolar", 1, "bipolar"))
    cases.append(conv_threshold_case(rng, "conv_threshold_unsigned2", 1, 9, 9, 64, 40, 3, 2, 1,
                                     2, "unsigned", "bipolar", 2, "unsigned"))
    cases.append(conv_threshold_case(rng, "conv_threshold_1x1_signed3", 1, 5, 6, 130, 67, 1, 1, 0,
                                     2, "unsigned", "bipolar", 3, "signed"))
    cases.append(conv_requantize_case(rng, "conv_requantize", 1, 6, 5, 33, 24, False))
    cases.append(conv_requantize_case(rng, "conv_residual_requantize", 2, 4, 4, 64, 16, True))
    cases.append(mlp_case(rng, "mlp", 3, 200, 96, 10))
    # Large enough (>= 2^16 values) for the row kernels to split rows across
    # threads under `parallel`: images and rows (rank 4), rows (rank 2).
    cases.append(threshold_case(rng, "threshold_rows_parallel", (2, 30, 19, 70), 2, "signed",
                                np.int32, True))
    cases.append(requantize_case(rng, "requantize_rows_parallel", (2, 30, 30, 37), np.int8, -5,
                                 (-128, 127)))
    cases.append(requantize_case(rng, "requantize_matrix_parallel", (1801, 37), np.int16, 0,
                                 (-32768, 32767)))
    cases.append(dequantize_case(rng, "dequantize_rows_parallel", (2, 40, 29, 30), np.int32,
                                 np.float32))
    cases.append(pack_case(rng, "pack_rows_parallel", (3, 23, 29, 70), 3, "bipolar"))
    cases.append(pack_case(rng, "pack_matrix_parallel", (600, 130), 2, "unsigned"))
    return cases + build_fused_cases(rng)


# AArch64 kernel targets and the qemu CPU each runs on.
AARCH64_TARGETS = {"aarch64-a53": "cortex-a53", "aarch64-ooo": "max", "generic": "cortex-a53"}


def run_aarch64(case, compiler, target, work):
    """Compiles `case` ahead of time for AArch64 (bitserial-compile), runs it
    under qemu with differential.py's C harness and returns its result, or a
    string saying what failed."""
    from bitserial import differential
    os.makedirs(work, exist_ok=True)
    # The harness calls _mlir_ciface_main.
    text = re.sub(rf"@{case.name}\(", "@main(", case.body)
    with open(os.path.join(work, "case.mlir"), "w") as f:
        f.write(text)
    for i, value in enumerate(case.inputs):
        np.ascontiguousarray(value).tofile(os.path.join(work, f"in{i}.bin"))
    expected = case.expected[0]
    harness = os.path.join(work, "harness.c")
    differential.write_harness(harness, case.inputs, expected)
    # i1 inputs are bytes (NumPy's bool) behind the header's i1 descriptors.
    with open(harness) as f:
        text = f.read()
    for i, value in enumerate(case.inputs):
        if value.dtype == np.bool_:
            text = text.replace(f"bitserial_memref_i8_{value.ndim}d a{i};",
                                f"bitserial_memref_i1_{value.ndim}d a{i};")
    with open(harness, "w") as f:
        f.write(text)
    steps = [[compiler, "case.mlir", "--strategy", "vector", "--target", target,
              "--triple", "aarch64-linux-gnu", "-o", "case.o", "--header", "case.h"],
             ["aarch64-linux-gnu-gcc", "-O1", "-static", "-o", "harness", "harness.c",
              "case.o"],
             ["qemu-aarch64", "-cpu", AARCH64_TARGETS[target], "./harness"]]
    for command in steps:
        result = subprocess.run(command, cwd=work, capture_output=True, text=True,
                                timeout=300)
        if result.returncode != 0:
            return f"{os.path.basename(command[0])} exited {result.returncode}: " \
                   f"{result.stderr.strip()[:400]}"
    raw = np.fromfile(os.path.join(work, "out.bin"), dtype=np.uint8)
    rank = expected.ndim
    shape = tuple(int(v) for v in raw[:8 * rank].view(np.int64))
    return raw[8 * rank:].view(expected.dtype).reshape(shape)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runner", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--configs", default=DEFAULT_CONFIGS)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--cases", choices=["all", "fused", "basic"], default="all",
                        help="fused: a matmul or conv2d whose only use is an epilogue "
                             "(the fused_* cases); basic: the others")
    parser.add_argument("--aarch64-compiler",
                        help="bitserial-compile: run the cases compiled for AArch64 under "
                             "qemu instead (--configs then names AArch64 kernel targets: "
                             + ", ".join(AARCH64_TARGETS) + ")")
    parser.add_argument("--filter", default="",
                        help="only the cases whose name contains this")
    parser.add_argument("--write-only", action="store_true",
                        help="write the module and inputs, run nothing")
    args = parser.parse_args()
    os.makedirs(args.work, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    cases = build_cases(rng)
    if args.cases != "all":
        fused = args.cases == "fused"
        cases = [case for case in cases if case.name.startswith("fused_") == fused]
    cases = [case for case in cases if args.filter in case.name]
    for case in cases:
        with open(os.path.join(args.work, f"{case.name}.mlir"), "w") as f:
            f.write(case.body)
        for i, value in enumerate(case.inputs):
            np.save(os.path.join(args.work, f"{case.name}.in{i}.npy"), value)
    if args.write_only:
        print(f"wrote {len(cases)} cases to {args.work}")
        return 0

    failures = runs = 0
    for config in args.configs.split(","):
        for case in cases:
            runs += 1
            if args.aarch64_compiler:
                work = os.path.join(args.work, f"{case.name}.{config}")
                got = run_aarch64(case, os.path.abspath(args.aarch64_compiler), config,
                                  os.path.abspath(work))
                shutil.rmtree(work, ignore_errors=True)
                want = case.expected[0]
                if isinstance(got, str):
                    failures += 1
                    print(f"FAIL {config} {case.name}: {got}")
                elif got.shape != want.shape or not np.array_equal(got, want):
                    failures += 1
                    print(f"FAIL {config} {case.name}: mismatch")
                else:
                    print(f"ok {config} {case.name}")
                continue
            out = os.path.join(args.work, f"{case.name}.{config}.npy")
            module = os.path.join(args.work, f"{case.name}.mlir")
            command = [args.runner, module, "--entry", case.name, "--output", out] + CONFIGS[config]
            for i in range(len(case.inputs)):
                command += ["--input", os.path.join(args.work, f"{case.name}.in{i}.npy")]
            result = subprocess.run(command, capture_output=True, text=True)
            if result.returncode != 0:
                failures += 1
                print(f"FAIL {config} {case.name}: exit {result.returncode}\n{result.stderr}")
                continue
            got = np.load(out)
            want = case.expected[0]
            if got.shape != want.shape or not np.array_equal(got, want.astype(got.dtype)):
                failures += 1
                bad = np.argwhere(got != want)[:3] if got.shape == want.shape else "shape"
                print(f"FAIL {config} {case.name}: mismatch at {bad}")
            else:
                print(f"ok {config} {case.name}")
    print(f"{runs - failures}/{runs} runs exact")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
