"""A small NumPy interpreter of ONNX graphs with QONNX/FINN quantizers.

The oracle of the importer's tests (``bitserial.onnx``): it evaluates the
float graph as written, node by node, with the ONNX operator definitions and
QONNX's reference semantics (``Quant``, ``BipolarQuant``, ``Trunc``,
``MultiThreshold``), and shares no code with the importer.

Arithmetic: tensors are float32 and every elementwise step rounds to
float32, as an ONNX runtime does. ``Conv``, ``MatMul`` and ``Gemm`` sum
their products in float64 and round the result (with the bias) once to
float32; that is exact, and then independent of the summation order,
whenever the float32 result is (power-of-two scales and small codes).

``python -m bitserial.onnx_reference model.onnx --input x.npy --output y.npy``
writes each graph output (``y.npy``, then ``y.1.npy``, ...).
"""

import argparse
import sys

import numpy as np

__all__ = ["run", "main"]


def _f32(x):
    return np.asarray(x, dtype=np.float32)


def _attrs(node):
    from onnx import helper
    out = {}
    for a in node.attribute:
        v = helper.get_attribute_value(a)
        out[a.name] = v.decode() if isinstance(v, bytes) else v
    return out


def _rounding(mode):
    mode = mode.upper()
    return {"ROUND": np.round, "FLOOR": np.floor, "CEIL": np.ceil}[mode]


def _int_range(signed, narrow, bits):
    if signed:
        return -(2 ** (bits - 1)) + (1 if narrow else 0), 2 ** (bits - 1) - 1
    return 0, 2 ** bits - 1 - (1 if narrow else 0)


def quant(x, scale, zeropt, bitwidth, signed, narrow, rounding_mode):
    """QONNX Quant (qonnx.custom_op.general.quant)."""
    y = np.divide(_f32(x), _f32(scale), dtype=np.float32)
    y = np.add(y, _f32(zeropt), dtype=np.float32)
    bitwidth = int(np.asarray(bitwidth).reshape(()))
    if bitwidth == 1 and signed:
        y = np.where(y >= 0, np.float32(1), np.float32(-1))
    else:
        lo, hi = _int_range(signed, narrow, bitwidth)
        y = np.where(y > hi, np.float32(hi), y)
        y = np.where(y < lo, np.float32(lo), y)
        y = _rounding(rounding_mode)(y)
    y = np.subtract(y, _f32(zeropt), dtype=np.float32)
    return np.multiply(y, _f32(scale), dtype=np.float32)


def bipolar_quant(x, scale):
    y = np.where(_f32(x) >= 0, np.float32(1), np.float32(-1))
    return np.multiply(y, _f32(scale), dtype=np.float32)


def trunc(x, ins, signed, narrow, rounding_mode):
    """QONNX Trunc: version 2 (7 inputs) or version 1 (5 inputs)."""
    scale, zeropt = _f32(ins[0]), _f32(ins[1])
    y = np.round(np.add(np.divide(_f32(x), scale, dtype=np.float32), zeropt, dtype=np.float32))
    if len(ins) == 6:
        out_scale, out_bits = _f32(ins[3]), int(np.asarray(ins[5]).reshape(()))
        t = np.float32(2.0 ** np.round(np.log2(np.float64(out_scale) / np.float64(scale))))
        y = np.divide(y, t, dtype=np.float32)
        lo, hi = _int_range(signed, narrow, out_bits)
        y = np.where(y > hi, np.float32(hi), y)
        y = np.where(y < lo, np.float32(lo), y)
        y = _rounding(rounding_mode)(y)
        y = np.subtract(y, np.divide(zeropt, t, dtype=np.float32), dtype=np.float32)
        return np.multiply(y, out_scale, dtype=np.float32)
    in_bits, out_bits = np.asarray(ins[2]).reshape(()), np.asarray(ins[3]).reshape(())
    t = np.float32(2.0 ** (float(in_bits) - float(out_bits)))
    y = _rounding(rounding_mode)(np.divide(y, t, dtype=np.float32))
    return np.multiply(np.subtract(y, zeropt, dtype=np.float32), scale, dtype=np.float32)


def multithreshold(x, thresholds, out_scale, out_bias, layout):
    x = _f32(x)
    if layout == "NHWC" and x.ndim == 4:
        x = x.transpose(0, 3, 1, 2)
    xm = np.moveaxis(x, 1, -1)
    count = (xm[..., None] >= _f32(thresholds)).sum(-1).astype(np.float32)
    out = np.moveaxis(count, -1, 1)
    out = np.add(np.multiply(np.float32(out_scale), out, dtype=np.float32), np.float32(out_bias),
                 dtype=np.float32)
    if layout == "NHWC" and x.ndim == 4:
        out = out.transpose(0, 2, 3, 1)
    return out


def conv(x, w, b, strides, pads, dilations, group):
    """NCHW convolution: products summed in float64, rounded once."""
    x64, w64 = np.asarray(x, np.float64), np.asarray(w, np.float64)
    n, c, h, wd = x64.shape
    co, cig, kh, kw = w64.shape
    pt, pl, pb, pr = pads
    sh, sw = strides
    dh, dw = dilations
    xp = np.zeros((n, c, h + pt + pb, wd + pl + pr))
    xp[:, :, pt:pt + h, pl:pl + wd] = x64
    oh = (h + pt + pb - dh * (kh - 1) - 1) // sh + 1
    ow = (wd + pl + pr - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((n, co, oh, ow))
    cog = co // group
    for g in range(group):
        for i in range(kh):
            for j in range(kw):
                patch = xp[:, g * cig:(g + 1) * cig, i * dh:i * dh + (oh - 1) * sh + 1:sh,
                           j * dw:j * dw + (ow - 1) * sw + 1:sw]
                out[:, g * cog:(g + 1) * cog] += np.einsum(
                    "nchw,oc->nohw", patch, w64[g * cog:(g + 1) * cog, :, i, j])
    if b is not None:
        out += np.asarray(b, np.float64)[None, :, None, None]
    return out.astype(np.float32)


def max_pool(x, kernel, strides, pads):
    x = _f32(x)
    n, c, h, w = x.shape
    kh, kw = kernel
    pt, pl, pb, pr = pads
    xp = np.full((n, c, h + pt + pb, w + pl + pr), -np.inf, dtype=np.float32)
    xp[:, :, pt:pt + h, pl:pl + w] = x
    oh = (h + pt + pb - kh) // strides[0] + 1
    ow = (w + pl + pr - kw) // strides[1] + 1
    out = np.full((n, c, oh, ow), -np.inf, dtype=np.float32)
    for i in range(kh):
        for j in range(kw):
            out = np.maximum(out, xp[:, :, i:i + (oh - 1) * strides[0] + 1:strides[0],
                                     j:j + (ow - 1) * strides[1] + 1:strides[1]])
    return out


def global_average_pool(x):
    x = _f32(x)
    s = x.astype(np.float64).sum(axis=(2, 3), keepdims=True).astype(np.float32)
    return np.divide(s, np.float32(x.shape[2] * x.shape[3]), dtype=np.float32)


def batch_norm(x, scale, bias, mean, var, eps):
    shape = (1, -1) + (1,) * (np.ndim(x) - 2)
    den = np.sqrt(np.add(_f32(var), np.float32(eps), dtype=np.float32)).reshape(shape)
    y = np.subtract(_f32(x), _f32(mean).reshape(shape), dtype=np.float32)
    y = np.divide(y, den, dtype=np.float32)
    y = np.multiply(y, _f32(scale).reshape(shape), dtype=np.float32)
    return np.add(y, _f32(bias).reshape(shape), dtype=np.float32)


def _node(node, ins, a):
    op = node.op_type
    if op == "Constant":
        from onnx import numpy_helper
        return numpy_helper.to_array(a["value"])
    if op == "Identity":
        return ins[0]
    if op == "Quant":
        return quant(ins[0], ins[1], ins[2], ins[3], a.get("signed", 1), a.get("narrow", 0),
                     a.get("rounding_mode", "ROUND"))
    if op == "BipolarQuant":
        return bipolar_quant(ins[0], ins[1])
    if op == "Trunc":
        return trunc(ins[0], ins[1:], a.get("signed", 1), a.get("narrow", 0),
                     a.get("rounding_mode", "FLOOR"))
    if op == "MultiThreshold":
        return multithreshold(ins[0], ins[1], a.get("out_scale", 1.0), a.get("out_bias", 0.0),
                              a.get("data_layout", "NCHW"))
    if op == "Conv":
        return conv(ins[0], ins[1], ins[2] if len(ins) > 2 else None, a.get("strides", [1, 1]),
                    a.get("pads", [0, 0, 0, 0]), a.get("dilations", [1, 1]), a.get("group", 1))
    if op == "MatMul":
        return (np.asarray(ins[0], np.float64) @ np.asarray(ins[1], np.float64)).astype(np.float32)
    if op == "Gemm":
        A, B = np.asarray(ins[0], np.float64), np.asarray(ins[1], np.float64)
        if a.get("transA", 0):
            A = A.T
        if a.get("transB", 0):
            B = B.T
        y = np.float64(np.float32(a.get("alpha", 1.0))) * (A @ B)
        if len(ins) > 2:
            y = y + np.float64(np.float32(a.get("beta", 1.0))) * np.asarray(ins[2], np.float64)
        return y.astype(np.float32)
    if op == "BatchNormalization":
        return batch_norm(ins[0], ins[1], ins[2], ins[3], ins[4], a.get("epsilon", 1e-5))
    if op == "Relu":
        return np.maximum(_f32(ins[0]), np.float32(0))
    if op == "Clip":
        y = _f32(ins[0])
        if len(ins) > 1 and ins[1] is not None:
            y = np.maximum(y, _f32(ins[1]))
        if len(ins) > 2 and ins[2] is not None:
            y = np.minimum(y, _f32(ins[2]))
        return y
    if op == "Sign":
        return np.sign(_f32(ins[0]))
    if op in ("Add", "Sub", "Mul", "Div"):
        f = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Div": np.divide}[op]
        if all(np.asarray(i).dtype.kind in "iu" for i in ins):
            return f(ins[0], ins[1])
        return f(_f32(ins[0]), _f32(ins[1]), dtype=np.float32)
    if op == "MaxPool":
        return max_pool(ins[0], a["kernel_shape"], a.get("strides", [1, 1]),
                        a.get("pads", [0, 0, 0, 0]))
    if op == "GlobalAveragePool":
        return global_average_pool(ins[0])
    if op == "AveragePool":
        if list(a["kernel_shape"]) != list(np.shape(ins[0])[2:]) or any(a.get("pads", [0])):
            raise NotImplementedError("AveragePool other than global")
        return global_average_pool(ins[0])
    if op == "Flatten":
        x = np.asarray(ins[0])
        axis = a.get("axis", 1)
        axis = axis + x.ndim if axis < 0 else axis
        return x.reshape(int(np.prod(x.shape[:axis])), -1)
    if op == "Reshape":
        x = np.asarray(ins[0])
        shape = [int(t) for t in np.asarray(ins[1]).reshape(-1)]
        shape = [x.shape[i] if t == 0 else t for i, t in enumerate(shape)]
        return x.reshape(shape)
    if op == "Transpose":
        x = np.asarray(ins[0])
        return x.transpose(a.get("perm", list(reversed(range(x.ndim)))))
    raise NotImplementedError(f"operator {op}")


def run(model, inputs):
    """Evaluates ``model`` (ModelProto or path) on ``inputs`` (a list in graph
    input order, or a dict by name). Returns the graph outputs (a list)."""
    import onnx
    from onnx import numpy_helper
    if not isinstance(model, onnx.ModelProto):
        model = onnx.load(model)
    g = model.graph
    env = {i.name: numpy_helper.to_array(i) for i in g.initializer}
    names = [i.name for i in g.input if i.name not in env]
    if not isinstance(inputs, dict):
        inputs = dict(zip(names, inputs))
    for n in names:
        env[n] = _f32(inputs[n])
    for node in g.node:
        ins = [env[i] if i else None for i in node.input]
        while ins and ins[-1] is None:
            ins.pop()
        env[node.output[0]] = _node(node, ins, _attrs(node))
    return [env[o.name] for o in g.output]


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m bitserial.onnx_reference")
    p.add_argument("model")
    p.add_argument("--input", action="append", default=[])
    p.add_argument("--output", required=True)
    args = p.parse_args(argv)
    outs = run(args.model, [np.load(f) for f in args.input])
    for i, y in enumerate(outs):
        np.save(args.output if i == 0 else args.output.replace(".npy", f".{i}.npy"), y)
    return 0


if __name__ == "__main__":
    sys.exit(main())
