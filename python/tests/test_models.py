"""Tests of the epilogue semantics and the graph evaluation of bitserial.models.

Run: /usr/bin/python3 -m unittest discover -s python/tests -v
"""

import os
import struct
import sys
import unittest

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from bitserial import models as m  # noqa: E402
from bitserial import reference as ref  # noqa: E402

I32_MIN, I32_MAX = -(1 << 31), (1 << 31) - 1


def slow_requantize(acc, mult, shift, zp, lo, hi):
    """Scalar Python integers, line by line from the epilogue specification."""
    s = min(max(shift, -31), 30)
    left, right = max(s, 0), max(-s, 0)
    x = (acc << left) & 0xFFFFFFFF
    x = x - (1 << 32) if x >= 1 << 31 else x
    if x == I32_MIN and mult == I32_MIN:
        q = I32_MAX
    else:
        ab = x * mult
        v = ab + ((1 << 30) if ab >= 0 else 1 - (1 << 30))
        q = abs(v) // (1 << 31) * (1 if v >= 0 else -1)  # C++ division truncates
    mask = (1 << right) - 1
    rem = q & mask
    thr = (mask >> 1) + (1 if q < 0 else 0)
    y = (q >> right) + (1 if rem > thr else 0)
    return min(max(y + zp, lo), hi)


def f32(v):
    return struct.unpack("f", struct.pack("f", v))[0]


class EpilogueTest(unittest.TestCase):
    def test_threshold_counts_and_encodings(self):
        acc = np.array([[-5, 0, 3, 7]])
        t = np.array([[0, 3, 5], [0, 3, 5], [0, 3, 5], [0, 3, 5]])
        # counts: -5 -> 0, 0 -> 1 (ties count), 3 -> 2, 7 -> 3
        np.testing.assert_array_equal(m.threshold(acc, t, 2, "unsigned"), [[0, 1, 2, 3]])
        np.testing.assert_array_equal(m.threshold(acc, t, 2, "signed"), [[-2, -1, 0, 1]])
        np.testing.assert_array_equal(m.threshold(acc, t, 2, "bipolar"), [[-3, -1, 1, 3]])
        # descending channels count t >= acc: -5 -> 3, 0 -> 3, 3 -> 2, 7 -> 0
        flip = [True, True, True, True]
        np.testing.assert_array_equal(m.threshold(acc, t, 2, "unsigned", flip), [[3, 3, 2, 0]])
        # unsorted thresholds, sign activation
        np.testing.assert_array_equal(
            m.threshold(np.array([[4, 4]]), np.array([[5], [4]]), 1, "bipolar"), [[-1, 1]])

    def test_requantize_known_values(self):
        half = 1 << 30  # multiplier 0.5
        self.assertEqual(int(m.requantize(1000, half, 0, 0, -10**9, 10**9)), 500)
        self.assertEqual(int(m.requantize(3, half, 0, 0, -10, 10)), 2)    # 1.5 -> 2
        self.assertEqual(int(m.requantize(-3, half, 0, 0, -10, 10)), -1)  # SRDHM nudge
        self.assertEqual(int(m.requantize(5, I32_MAX, -1, 0, -10, 10)), 3)  # RDBP 2.5 -> 3
        self.assertEqual(int(m.requantize(-5, I32_MAX, -1, 0, -10, 10)), -3)
        self.assertEqual(int(m.requantize(I32_MIN, I32_MIN, 0, 0, I32_MIN, I32_MAX)), I32_MAX)
        self.assertEqual(int(m.requantize(100, half, 0, -128, -128, 127)), -78)
        self.assertEqual(int(m.requantize(10**6, half, 0, 0, -128, 127)), 127)

    def test_requantize_matches_scalar_spec(self):
        rng = np.random.default_rng(3)
        n = 4000
        acc = rng.integers(I32_MIN, I32_MAX, n, endpoint=True)
        acc[:200] = rng.integers(-1000, 1000, 200)
        acc[200:210] = I32_MIN
        mult = rng.integers(I32_MIN, I32_MAX, n, endpoint=True)
        mult[:2000] = rng.integers(1 << 30, 1 << 31, 2000)
        mult[205:210] = I32_MIN
        shift = rng.integers(-40, 40, n)
        got = m.requantize(acc, mult, shift, 3, -200000, 200000)
        want = [slow_requantize(int(a), int(b), int(s), 3, -200000, 200000)
                for a, b, s in zip(acc, mult, shift)]
        np.testing.assert_array_equal(got, want)

    def test_agrees_with_the_dialect_reference(self):
        # bitserial.reference has its own transcription of the epilogue rules.
        rng = np.random.default_rng(6)
        acc = rng.integers(-300, 300, (3, 5, 16))
        for bits, enc in ((1, "bipolar"), (2, "unsigned"), (2, "signed"), (3, "bipolar")):
            t = rng.integers(-300, 300, (16, (1 << bits) - 1))
            flip = rng.random(16) < 0.5
            np.testing.assert_array_equal(m.threshold(acc, t, bits, enc, flip),
                                          ref.threshold(acc, t, bits, enc, flip))
        big = rng.integers(I32_MIN, I32_MAX, (64, 16), endpoint=True)
        mult = rng.integers(I32_MIN, I32_MAX, 16, endpoint=True)
        shift = rng.integers(-40, 40, 16)
        np.testing.assert_array_equal(m.requantize(big, mult, shift, -5, -1000, 1000),
                                      ref.requantize(big, mult, shift, -5, -1000, 1000))
        scale = rng.standard_normal(16).astype(np.float32)
        bias = rng.standard_normal(16).astype(np.float32)
        np.testing.assert_array_equal(m.dequantize(big, scale, bias).view(np.uint32),
                                      ref.dequantize(big, scale, bias).view(np.uint32))

    def test_quantize_multiplier(self):
        for real in (0.5, 0.75, 1e-4, 3.0, 0.999999999):
            q, e = m.quantize_multiplier(real)
            self.assertTrue((1 << 30) <= q < (1 << 31))
            self.assertAlmostEqual(q * 2.0 ** (e - 31), real, delta=real * 2 ** -30)

    def test_dequantize_is_ieee_single_steps(self):
        rng = np.random.default_rng(4)
        acc = rng.integers(I32_MIN, I32_MAX, 3000, endpoint=True)
        acc[:1000] = rng.integers(-3000, 3000, 1000)
        scale = (rng.standard_normal(3000) * 10.0 ** rng.integers(-8, 8, 3000)).astype(np.float32)
        bias = (rng.standard_normal(3000) * 10.0 ** rng.integers(-8, 8, 3000)).astype(np.float32)
        got = m.dequantize(acc, scale, bias)
        # Double arithmetic rounded to single after each step is correctly
        # rounded (53 >= 2 * 24 + 2), so this is IEEE single precision.
        want = np.array([f32(f32(f32(float(a)) * float(s)) + float(b))
                         for a, s, b in zip(acc, scale, bias)], dtype=np.float32)
        np.testing.assert_array_equal(got.view(np.uint32), want.view(np.uint32))

    def test_quantize_u8_rounds_half_even(self):
        x = np.array([0.5, 1.5, 2.5, -1.0, 300.0, 254.5, 253.5], dtype=np.float32)
        np.testing.assert_array_equal(m.quantize_u8(x, 1.0), [0, 2, 2, 0, 255, 254, 254])

    def test_max_and_sum_pool(self):
        x = np.arange(2 * 5 * 5 * 3).reshape(2, 5, 5, 3) - 70
        got = m.max_pool(x, 3, 2, 1)
        want = np.zeros((2, 3, 3, 3), dtype=np.int64)
        for n in range(2):
            for i in range(3):
                for j in range(3):
                    for c in range(3):
                        win = [x[n, h, w, c] for h in range(2 * i - 1, 2 * i + 2)
                               for w in range(2 * j - 1, 2 * j + 2) if 0 <= h < 5 and 0 <= w < 5]
                        want[n, i, j, c] = max(win)
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(m.sum_pool(x), x.sum(axis=(1, 2)))


class GraphTest(unittest.TestCase):
    def test_resnet_graph_evaluates_its_calibration(self):
        b, text = m.resnet18(resolution=32, width=8, num_classes=10, calib_batch=2,
                             output="logits", epilogue="linalg")
        self.assertIn("bitserial.conv2d", text)
        # The recorded graph, replayed on the calibration input, gives the
        # values the builder computed eagerly.
        calib_input = b.calib[0]
        out = m.evaluate(b.graph(), [calib_input])[0]
        np.testing.assert_array_equal(out, b.calib[b.results[0].node])

    def test_stem_is_a_plain_convolution(self):
        rng = np.random.default_rng(5)
        x = rng.integers(0, 256, (1, 9, 9, 3))
        w = ref.random_values(rng, (4, 7, 7, 3), 4, "signed")
        b = m.Builder("stem")
        img = b.argument(x.shape, "u8", x)
        out = b.im2col_matmul(img, w, 4, "signed", 2, 3, 8, "unsigned")
        want = np.zeros((1, 5, 5, 4), dtype=np.int64)
        xp = np.pad(x, ((0, 0), (3, 3), (3, 3), (0, 0)))
        for i in range(5):
            for j in range(5):
                patch = xp[0, 2 * i:2 * i + 7, 2 * j:2 * j + 7, :]
                want[0, i, j] = [(patch * w[o]).sum() for o in range(4)]
        np.testing.assert_array_equal(b.value_of(out), want)

    def test_compare(self):
        a = np.array([1.0, -0.0], dtype=np.float32)
        self.assertIsNone(m.compare(a, a.copy()))
        self.assertIsNotNone(m.compare(a, np.array([1.0, 0.0], dtype=np.float32)))
        self.assertIsNotNone(m.compare(a, a.astype(np.float64)))
        self.assertIsNotNone(m.compare(np.arange(3, dtype=np.int32), np.array([0, 1, 3], np.int32)))


if __name__ == "__main__":
    unittest.main()
