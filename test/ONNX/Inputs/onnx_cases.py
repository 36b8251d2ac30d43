"""QONNX/FINN test graphs built with onnx.helper, and the comparison of
bitserial-run's results with the NumPy evaluation of the ONNX graph
(bitserial.onnx_reference).

  onnx_cases.py make NAME DIR        DIR/NAME.onnx, DIR/NAME.input0.npy
  onnx_cases.py check NAME DIR OUT0.npy [OUT1.npy ...]
  onnx_cases.py bad NAME DIR         DIR/NAME.onnx: a model the importer rejects

Agreement rule (docs/onnx.md): an output marked "exact" (quantized
activations, i.e. codes times a power-of-two scale, and float outputs whose
float arithmetic the compiled code reproduces step by step) must be bit for
bit equal, except that -0.0 and +0.0 are equal; a "float" output (a float head whose sums run in another order)
must agree within |got - want| <= 1e-5 * max(1, max|want|) elementwise and
have the same argmax per row.
"""

import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

QD = "qonnx.custom_op.general"
FD = "finn.custom_op.general"


class G:
    """A graph under construction."""

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)
        self.nodes, self.inits, self.n = [], [], 0

    def const(self, arr, dtype=np.float32):
        self.n += 1
        name = f"c{self.n}"
        self.inits.append(numpy_helper.from_array(np.asarray(arr, dtype=dtype), name))
        return name

    def node(self, op, ins, domain="", name=None, **attrs):
        self.n += 1
        out = f"t{self.n}"
        self.nodes.append(helper.make_node(op, ins, [out], name=name or f"{op.lower()}{self.n}",
                                           domain=domain, **attrs))
        return out

    def quant(self, x, scale, bits, signed=1, narrow=0, mode="ROUND", domain=QD, name=None):
        return self.node("Quant", [x, self.const(scale), self.const(0.0), self.const(float(bits))],
                         domain, name, signed=signed, narrow=narrow, rounding_mode=mode)

    def bipolar(self, x, scale, domain=QD):
        return self.node("BipolarQuant", [x, self.const(scale)], domain)

    def bn(self, x, c, negative=0.3):
        gamma = self.rng.uniform(0.5, 1.5, c).astype(np.float32)
        gamma[self.rng.random(c) < negative] *= -1
        beta = self.rng.normal(0, 0.5, c)
        mean = self.rng.normal(0, 1.0, c)
        var = self.rng.uniform(0.5, 2.0, c)
        return self.node("BatchNormalization", [x, self.const(gamma), self.const(beta),
                                                self.const(mean), self.const(var)],
                         epsilon=1e-3)

    def model(self, inputs, outputs):
        g = helper.make_graph(self.nodes, "g", inputs, outputs, self.inits)
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13),
                                                helper.make_opsetid(QD, 1),
                                                helper.make_opsetid(FD, 1)])
        m.ir_version = 8
        return m


def vi(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def po2(rng, n, lo=-3, hi=0):
    return (2.0 ** rng.integers(lo, hi + 1, n)).astype(np.float32)


# ---------------------------------------------------------------------------
# Cases: (model, input shape, output kinds)
# ---------------------------------------------------------------------------

def bnn_mlp():
    """Binarized MLP: BipolarQuant input, bipolar weights, BN + Sign (negative
    gammas: descending thresholds), K = 64, 100, 70."""
    g = G(1)
    x = g.bipolar("x", 1.0)
    h = x
    for k, n in ((64, 100), (100, 70)):
        w = g.bipolar(g.const(g.rng.normal(size=(k, n))), 1.0)
        h = g.node("MatMul", [h, w])
        h = g.bn(h, n)
        h = g.node("Sign", [h], name=f"sign{n}")
        hidden = h
    w = g.bipolar(g.const(g.rng.normal(size=(70, 10))), 0.5)
    y = g.node("MatMul", [h, w])
    y = g.node("Mul", [y, g.const(np.float32(0.25))])
    m = g.model([vi("x", ["N", 64])], [vi(y, ["N", 10]), vi(hidden, ["N", 70])])
    return m, (4, 64), ["exact", "exact"]


def cnn():
    """8-bit signed input, 2-bit weights (per-channel scales) and activations,
    max pool after thresholds with descending channels, a bipolar-weight
    stride-2 conv with 20 channels, global average pool, float Gemm head."""
    g = G(2)
    x = g.quant("x", 2.0 ** -7, 8)
    w1 = g.quant(g.const(g.rng.normal(size=(16, 3, 3, 3))),
                 po2(g.rng, 16, -2, 0).reshape(16, 1, 1, 1), 2, narrow=1)
    h = g.node("Conv", [x, w1, g.const(g.rng.normal(0, 0.1, 16))], kernel_shape=[3, 3],
               pads=[1, 1, 1, 1])
    h = g.bn(h, 16)
    h = g.node("Relu", [h])
    h = g.quant(h, 0.5, 2, signed=0)
    h = g.node("MaxPool", [h], kernel_shape=[2, 2], strides=[2, 2])
    w2 = g.bipolar(g.const(g.rng.normal(size=(20, 16, 3, 3))), 0.25)
    h = g.node("Conv", [h, w2], kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[2, 2])
    h = g.bn(h, 20)
    h = g.node("Relu", [h])
    act = g.quant(h, 0.25, 2, signed=0)
    p = g.node("GlobalAveragePool", [act])
    f = g.node("Flatten", [p])
    y = g.node("Gemm", [f, g.const(g.rng.normal(size=(10, 20))), g.const(g.rng.normal(size=10))],
               transB=1)
    m = g.model([vi("x", [1, 3, 16, 16])], [vi(y, [1, 10]), vi(act, [1, 20, 4, 4])])
    return m, (1, 3, 16, 16), ["float", "exact"]


def finn():
    """FINN style: MultiThreshold on the float input and on accumulators,
    bipolar through out_scale/out_bias, an NHWC MultiThreshold after a
    Transpose, Reshape to a dense layer."""
    g = G(3)
    t_in = np.array([[-0.5, 0.0, 0.5]], dtype=np.float32)
    x = g.node("MultiThreshold", ["x", g.const(t_in)], FD, out_dtype="UINT2")
    w1 = g.quant(g.const(g.rng.normal(size=(8, 1, 3, 3))), 1.0, 2)
    h = g.node("Conv", [x, w1], kernel_shape=[3, 3])
    t1 = np.sort(g.rng.normal(0, 2, (8, 1)), axis=1).round()
    h = g.node("MultiThreshold", [h, g.const(t1)], FD, out_dtype="BIPOLAR", out_scale=2.0,
               out_bias=-1.0)
    w2 = g.bipolar(g.const(g.rng.normal(size=(12, 8, 3, 3))), 1.0)
    h = g.node("Conv", [h, w2], kernel_shape=[3, 3])
    h = g.node("Transpose", [h], perm=[0, 2, 3, 1])
    t2 = np.sort(g.rng.normal(0, 6, (12, 7)), axis=1).round() + 0.5
    act = g.node("MultiThreshold", [h, g.const(t2)], FD, out_dtype="UINT3", data_layout="NHWC")
    f = g.node("Reshape", [act, g.const(np.array([-1, 192]), np.int64)])
    w3 = g.quant(g.const(g.rng.normal(size=(192, 10))), 1.0, 3)
    y = g.node("MatMul", [f, w3])
    y = g.node("Mul", [y, g.const(np.float32(0.5))])
    m = g.model([vi("x", ["N", 1, 8, 8])], [vi(y, ["N", 10]), vi(act, ["N", 4, 4, 12])])
    return m, (3, 1, 8, 8), ["exact", "exact"]


def residual():
    """A residual block: the input's codes (4-bit signed, scale 2^-3) added
    to a conv whose accumulators have scale 2^-4 (ratio 2), conv bias, ReLU,
    4-bit requantization; global average pool output."""
    g = G(4)
    q = g.quant("x", 2.0 ** -3, 4)
    w1 = g.quant(g.const(g.rng.normal(size=(8, 8, 3, 3))), 0.5, 2)
    h = g.node("Conv", [q, w1], kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    h = g.bn(h, 8)
    h = g.node("Relu", [h])
    a = g.quant(h, 0.25, 3, signed=0)
    w2 = g.quant(g.const(g.rng.normal(size=(8, 8, 3, 3))), 0.25, 2)
    c2 = g.node("Conv", [a, w2, g.const(g.rng.integers(-4, 4, 8) / 16.0)], kernel_shape=[3, 3],
                pads=[1, 1, 1, 1])
    s = g.node("Add", [c2, q], name="residual_add")
    s = g.node("Relu", [s])
    out = g.quant(s, 2.0 ** -3, 4, signed=0)
    p = g.node("GlobalAveragePool", [out])
    m = g.model([vi("x", [1, 8, 6, 6])], [vi(out, [1, 8, 6, 6]), vi(p, [1, 8, 1, 1])])
    return m, (1, 8, 6, 6), ["exact", "exact"]


def odd():
    """Odd sizes: 5 -> 13 channels, a 3x2 kernel, strides [2, 1], asymmetric
    pads, dilation 2 along W, 1-bit signed Quant weights (bipolar), an Add
    of a per-channel constant, a flatten of NCHW features (K = 13*5*5 = 325)
    into a 2-bit unsigned-weight layer, 8-bit signed output codes."""
    g = G(5)
    x = g.quant("x", 2.0 ** -4, 3, signed=0, mode="FLOOR")
    w1 = g.quant(g.const(g.rng.normal(size=(13, 5, 3, 2))),
                 po2(g.rng, 13, -1, 1).reshape(13, 1, 1, 1), 1)
    h = g.node("Conv", [x, w1], kernel_shape=[3, 2], strides=[2, 1], pads=[1, 0, 2, 1],
               dilations=[1, 2])
    h = g.node("Add", [h, g.const(g.rng.normal(0, 0.5, (1, 13, 1, 1)))])
    h = g.node("Relu", [h])
    h = g.quant(h, 0.125, 2, signed=0)
    f = g.node("Flatten", [h])
    w2 = g.quant(g.const(g.rng.uniform(0, 3, size=(325, 7))), 1.0, 2, signed=0)
    y = g.node("MatMul", [f, w2])
    y = g.quant(y, 1.0, 8, signed=1, mode="CEIL")
    m = g.model([vi("x", ["B", 5, 9, 6])], [vi(y, ["B", 7])])
    return m, (2, 5, 9, 6), ["exact"]


def sign_zero():
    """Sign of bipolar accumulators with an even K: exact zeros, so the
    importer keeps 2-bit signed codes (-1, 0, +1) instead of bipolar ones."""
    g = G(6)
    x = g.bipolar("x", 1.0)
    w = g.bipolar(g.const(g.rng.normal(size=(64, 30))), 1.0)
    h = g.node("Sign", [g.node("MatMul", [x, w])], name="sign_acc")
    w2 = g.bipolar(g.const(g.rng.normal(size=(30, 5))), 1.0)
    y = g.node("MatMul", [h, w2])
    m = g.model([vi("x", [2, 64])], [vi(y, [2, 5]), vi(h, [2, 30])])
    return m, (2, 64), ["exact", "exact"]


def trunc_pool():
    """QuantAvgPool-style Trunc (version 2 and version 1) after a global
    average pool times H*W; a max pool of accumulators after a batch norm
    with negative scales (pooled as -acc), a Clip on accumulators, and a
    quantized Gemm with alpha, beta and C."""
    g = G(7)
    x = g.quant("x", 2.0 ** -2, 4, signed=0)
    w = g.quant(g.const(g.rng.normal(size=(6, 6, 3, 3))), 0.5, 3)
    h = g.node("Conv", [x, w], kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    h = g.bn(h, 6, negative=0.5)
    h = g.node("MaxPool", [h], kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    h = g.node("Clip", [h, g.const(np.float32(-0.3)), g.const(np.float32(1.7))])
    a = g.quant(h, 2.0 ** -2, 3, signed=0)
    p = g.node("GlobalAveragePool", [a])
    p = g.node("Mul", [p, g.const(np.float32(16.0))])
    s, z = g.const(2.0 ** -2), g.const(0.0)
    t2 = g.node("Trunc", [p, s, z, g.const(7.0), g.const(2.0 ** 0), z, g.const(4.0)], QD,
                rounding_mode="FLOOR", signed=0)
    t1 = g.node("Trunc", [p, s, z, g.const(7.0), g.const(5.0)], QD, rounding_mode="ROUND")
    f = g.node("Flatten", [t2])
    w2 = g.quant(g.const(g.rng.normal(size=(9, 6))), 0.5, 2)
    y = g.node("Gemm", [f, w2, g.const(g.rng.integers(-8, 8, 9) / 8.0)], transB=1, alpha=0.5,
               beta=2.0)
    m = g.model([vi("x", [1, 6, 4, 4])], [vi(y, [1, 9]), vi(t1, [1, 6, 1, 1])])
    return m, (1, 6, 4, 4), ["exact", "exact"]


def fanout():
    """Activations used twice: a padded conv packs them first, then a
    Flatten reads the packed codes (unpacked, flattened, repacked as i32);
    4-bit signed output codes with zeros from negative values (-0.0)."""
    g = G(11)
    x = g.quant("x", 0.25, 3, signed=0)
    w = g.quant(g.const(g.rng.normal(size=(6, 4, 3, 3))), 0.5, 2)
    h = g.node("Conv", [x, w], kernel_shape=[3, 3])
    a = g.quant(g.node("Relu", [h]), 0.5, 2, signed=0)
    w2 = g.bipolar(g.const(g.rng.normal(size=(5, 6, 3, 3))), 1.0)
    c2 = g.node("Conv", [a, w2], kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    out = g.quant(c2, 1.0, 4)
    f = g.node("Flatten", [a])
    w3 = g.quant(g.const(g.rng.normal(size=(6 * 4 * 4, 3))), 0.5, 3)
    y = g.node("MatMul", [f, w3])
    m = g.model([vi("x", [2, 4, 6, 6])], [vi(y, [2, 3]), vi(out, [2, 5, 4, 4])])
    return m, (2, 4, 6, 6), ["exact", "exact"]


CASES = {"bnn_mlp": bnn_mlp, "cnn": cnn, "finn": finn, "residual": residual, "odd": odd,
         "sign_zero": sign_zero, "trunc_pool": trunc_pool, "fanout": fanout}


# ---------------------------------------------------------------------------
# Models the importer rejects
# ---------------------------------------------------------------------------

def bad(name):
    g = G(9)
    if name == "softmax":
        x = g.quant("x", 0.5, 2, signed=0)
        w = g.bipolar(g.const(g.rng.normal(size=(8, 4))), 1.0)
        y = g.node("MatMul", [x, w])
        y = g.node("Softmax", [y], name="probabilities")
        return g.model([vi("x", [1, 8])], [vi(y, [1, 4])])
    if name == "rounding":
        y = g.quant("x", 0.5, 2, signed=0, mode="HALF_UP", name="q_half_up")
        return g.model([vi("x", [1, 8])], [vi(y, [1, 8])])
    if name == "zeropoint":
        y = g.node("Quant", ["x", g.const(0.5), g.const(1.0), g.const(4.0)], QD, name="q_zp",
                   signed=0, narrow=0, rounding_mode="ROUND")
        return g.model([vi("x", [1, 8])], [vi(y, [1, 8])])
    if name == "float_conv":
        y = g.node("Conv", ["x", g.const(g.rng.normal(size=(4, 3, 3, 3)))], name="float_conv",
                   kernel_shape=[3, 3])
        return g.model([vi("x", [1, 3, 8, 8])], [vi(y, [1, 4, 6, 6])])
    if name == "float_weights":
        x = g.quant("x", 0.5, 2, signed=0)
        y = g.node("MatMul", [x, g.const(g.rng.normal(size=(8, 4)))], name="fc")
        return g.model([vi("x", [1, 8])], [vi(y, [1, 4])])
    if name == "group":
        x = g.quant("x", 0.5, 2, signed=0)
        w = g.bipolar(g.const(g.rng.normal(size=(4, 1, 3, 3))), 1.0)
        y = g.node("Conv", [x, w], name="depthwise", kernel_shape=[3, 3], group=4)
        return g.model([vi("x", [1, 4, 8, 8])], [vi(y, [1, 4, 6, 6])])
    if name == "attribute":
        x = g.quant("x", 0.5, 2, signed=0)
        y = g.node("Relu", [x], name="relu_extra", alpha=0.1)
        return g.model([vi("x", [1, 8])], [vi(y, [1, 8])])
    raise SystemExit(f"unknown bad model {name}")


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------

def compare(kind, want, got):
    if got.shape != want.shape or got.dtype != want.dtype:
        return f"shape/dtype {got.shape} {got.dtype} != {want.shape} {want.dtype}"
    if kind == "exact":
        # Equal values: the graph's -0.0 (a negative value quantized to
        # code 0) equals the compiled +0.0, the code being the same.
        same = (want.view(np.uint32) == got.view(np.uint32)) | ((want == 0) & (got == 0))
        if same.all():
            return None
        i = tuple(np.argwhere(~same)[0])
        return f"{(~same).sum()} of {same.size} differ, first at {list(i)}: {got[i]!r} != {want[i]!r}"
    tol = 1e-5 * max(1.0, float(np.abs(want).max()))
    diff = float(np.abs(got.astype(np.float64) - want).max())
    if diff > tol:
        return f"max difference {diff:g} > tolerance {tol:g}"
    if not np.array_equal(want.reshape(want.shape[0], -1).argmax(1),
                          got.reshape(got.shape[0], -1).argmax(1)):
        return "argmax differs"
    return None


def main(argv):
    cmd, name, d = argv[0], argv[1], argv[2]
    base = os.path.join(d, name)
    if cmd == "make":
        m, shape, _ = CASES[name]()
        onnx.save(m, base + ".onnx")
        x = np.random.default_rng(7).uniform(-1, 1, shape).astype(np.float32)
        np.save(base + ".input0.npy", x)
        return 0
    if cmd == "bad":
        onnx.save(bad(name), base + ".onnx")
        return 0
    if cmd == "check":
        sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "python"))
        from bitserial import onnx_reference
        _, _, kinds = CASES[name]()
        want = onnx_reference.run(base + ".onnx", [np.load(base + ".input0.npy")])
        failed = False
        for i, (kind, w, path) in enumerate(zip(kinds, want, argv[3:])):
            got = np.load(path)
            err = compare(kind, w, got)
            if err:
                print(f"MISMATCH output #{i} ({kind}): {err}")
                failed = True
            else:
                how = "exact" if kind == "exact" else "within tolerance, argmax equal"
                print(f"output #{i}: {list(w.shape)} {how}")
        # The comparison must be able to fail: a one-ulp change is rejected.
        bad_out = want[0].copy().reshape(-1)
        bad_out[0] = np.nextafter(bad_out[0], np.float32(np.inf))
        if kinds[0] == "exact" and compare("exact", want[0], bad_out.reshape(want[0].shape)) is None:
            print("CHECKER ACCEPTS A PERTURBED OUTPUT")
            failed = True
        return 1 if failed else 0
    raise SystemExit(f"unknown command {cmd}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
