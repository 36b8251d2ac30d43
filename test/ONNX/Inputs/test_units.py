"""Unit tests of bitserial.onnx's threshold folding and of the NumPy ONNX
evaluator, against brute force and QONNX's documented examples."""

import os
import sys
import unittest

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "python"))
sys.path.insert(0, os.path.dirname(__file__))

from bitserial import onnx as bo  # noqa: E402
from bitserial import onnx_reference as ox  # noqa: E402


class ReferenceQuant(unittest.TestCase):
    # QONNX's Quant documentation: rounding of 5.5 2.5 1.6 1.1 1.0 -1.0 -1.1 -1.6 -2.5 -5.5.
    X = np.array([5.5, 2.5, 1.6, 1.1, 1.0, -1.0, -1.1, -1.6, -2.5, -5.5], np.float32)
    TABLE = {"ROUND": [6, 2, 2, 1, 1, -1, -1, -2, -2, -6],
             "CEIL": [6, 3, 2, 2, 1, -1, -1, -1, -2, -5],
             "FLOOR": [5, 2, 1, 1, 1, -1, -2, -2, -3, -6]}

    def test_rounding_modes(self):
        for mode, want in self.TABLE.items():
            got = ox.quant(self.X, 1.0, 0.0, 8, 1, 0, mode)
            self.assertEqual(got.tolist(), want, mode)

    def test_clamp_narrow_bipolar(self):
        x = np.array([-9.0, -8.0, 0.4, 7.6, 100.0], np.float32)
        self.assertEqual(ox.quant(x, 1.0, 0.0, 4, 1, 0, "ROUND").tolist(), [-8, -8, 0, 7, 7])
        self.assertEqual(ox.quant(x, 1.0, 0.0, 4, 1, 1, "ROUND").tolist(), [-7, -7, 0, 7, 7])
        self.assertEqual(ox.quant(x, 1.0, 0.0, 4, 0, 1, "ROUND").tolist(), [0, 0, 0, 8, 14])
        self.assertEqual(ox.quant(x, 2.0, 0.0, 1, 1, 0, "ROUND").tolist(), [-2, -2, 2, 2, 2])
        self.assertEqual(ox.bipolar_quant(np.array([-0.0, -1e-9, 3.0]), 0.5).tolist(),
                         [0.5, -0.5, 0.5])

    def test_multithreshold(self):
        x = np.array([[[[0.0, 1.0, 2.5]], [[-1.0, 0.5, 3.0]]]], np.float32)  # [1, 2, 1, 3]
        t = np.array([[0.5, 1.0, 2.0], [0.0, 0.5, 3.0]], np.float32)
        self.assertEqual(ox.multithreshold(x, t, 2.0, -1.0, "NCHW").tolist(),
                         [[[[-1.0, 3.0, 5.0]], [[-1.0, 3.0, 5.0]]]])


class Thresholds(unittest.TestCase):
    """Every accumulator value in range: count of reached thresholds ==
    the quantizer's code of the float chain, evaluated with the reference's
    own operators (onnx_reference)."""

    def check(self, rng, C, quant, ref_codes, bits, enc):
        lo = -rng.integers(0, 300, C)
        hi = rng.integers(0, 300, C)
        s = (2.0 ** rng.integers(-4, 1, C)).astype(np.float64)
        b = rng.normal(0, 2, C).astype(np.float32).astype(np.float64)
        gamma = rng.normal(0, 1, C).astype(np.float32)
        beta, mean = rng.normal(0, 1, C).astype(np.float32), rng.normal(0, 5, C).astype(np.float32)
        var = rng.uniform(0.1, 4, C).astype(np.float32)
        chain = [("base", s, b), ("bn", gamma, beta, mean, var, np.float32(1e-3)), ("relu",)] \
            if rng.random() < 0.5 else [("base", s, b), ("bn", gamma, beta, mean, var, np.float32(1e-3))]
        t, desc = bo._solve_thresholds(chain, quant, lo, hi)
        lo_e, _ = bo.ref.value_range(bits, enc)
        step = 2 if enc == "bipolar" else 1
        for c in range(C):
            a = np.arange(lo[c], hi[c] + 1)
            v = (a.astype(np.float64) * s[c] + b[c]).astype(np.float32)
            v = ox.batch_norm(v.reshape(1, 1, -1), gamma[c:c + 1], beta[c:c + 1], mean[c:c + 1],
                              var[c:c + 1], np.float32(1e-3)).reshape(-1)
            if len(chain) == 3:
                v = np.maximum(v, np.float32(0))
            want = (ref_codes(v) - lo_e) // step
            got = ((a[:, None] <= t[c]) if desc[c] else (a[:, None] >= t[c])).sum(1)
            np.testing.assert_array_equal(got, want, err_msg=f"channel {c}")
            self.assertTrue(np.abs(t).max() < 2 ** 31 - 1)

    def test_quant(self):
        rng = np.random.default_rng(0)
        for signed, narrow, bits, mode in [(0, 0, 2, "ROUND"), (1, 0, 3, "FLOOR"), (1, 1, 4, "CEIL"),
                                           (0, 1, 2, "ROUND"), (1, 0, 1, "ROUND"), (1, 0, 8, "ROUND")]:
            scale = np.float32(rng.choice([0.25, 0.3, 1.0]))
            enc = "bipolar" if (signed and bits == 1) else ("signed" if signed else "unsigned")
            lo_c = -(1 << (bits - 1)) + narrow if signed else 0
            hi_c = (1 << (bits - 1)) - 1 if signed else (1 << bits) - 1 - narrow
            p = dict(scale=scale, bits=bits, lo=lo_c, hi=hi_c, enc=enc, mode=mode)

            def codes(v, p=p):
                return bo._Importer._quant_codes(v, p).astype(np.int64)

            def ref_codes(v, p=p, signed=signed, narrow=narrow):
                return np.round(ox.quant(v, p["scale"], 0.0, p["bits"], signed, narrow, p["mode"])
                                / p["scale"]).astype(np.int64)
            q = bo.Quantizer(bits, enc, scale, codes, "quant")
            self.check(rng, 12, q, ref_codes, bits, enc)

    def test_multithreshold(self):
        rng = np.random.default_rng(1)
        T = np.sort(rng.normal(0, 3, (10, 5)), axis=1).astype(np.float32)
        C = 10

        def codes(v):
            return (v[:, :, None] >= T[:, None, :]).sum(-1)
        q = bo.Quantizer(3, "unsigned", 1.0, codes, "mt")
        # Per-channel thresholds: check channel by channel through the reference.
        lo, hi = -rng.integers(0, 200, C), rng.integers(0, 200, C)
        chain = [("base", np.full(C, 0.125), np.zeros(C))]
        t, desc = bo._solve_thresholds(chain, q, lo, hi)
        for c in range(C):
            a = np.arange(lo[c], hi[c] + 1)
            v = (a * 0.125).astype(np.float32).reshape(1, 1, -1)
            want = ox.multithreshold(np.broadcast_to(v, (1, 1, v.size)), T[c:c + 1], 1.0, 0.0,
                                     "NCHW").reshape(-1)
            got = (a[:, None] >= t[c]).sum(1)
            np.testing.assert_array_equal(got, want)


class Api(unittest.TestCase):
    def test_model_proto_and_errors(self):
        import onnx_cases
        m, _, _ = onnx_cases.bnn_mlp()
        text = bo.import_model(m, batch=2, name="bnn")
        self.assertIn("func.func @bnn(%arg0: tensor<2x64xf32>)", text)
        with self.assertRaises(bo.OnnxImportError) as e:
            bo.import_model(onnx_cases.bad("softmax"))
        self.assertEqual((e.exception.node_name, e.exception.op_type), ("probabilities", "Softmax"))
        with self.assertRaises(bo.OnnxImportError):
            bo.import_model(m, batch=0)


if __name__ == "__main__":
    unittest.main()
