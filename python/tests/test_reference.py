"""Tests of the NumPy reference (python/bitserial/reference.py).

Run: /usr/bin/python3 -m unittest discover -s /work/main/python/tests -v
"""

import itertools
import os
import sys
import unittest

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import bitserial as bs  # noqa: E402

ENCODINGS = ("unsigned", "signed", "bipolar")
WORD_BITS = (8, 16, 32, 64)


def slow_pack(x, bits, encoding, word_bits):
    """Pure-Python packer straight from the layout text, as unsigned ints."""
    x = [int(v) for v in x]
    nw = (len(x) + word_bits - 1) // word_bits
    words = [[0] * nw for _ in range(bits)]
    for k, v in enumerate(x):
        if encoding == "unsigned":
            u = v
        elif encoding == "signed":
            u = v % (1 << bits)
        else:
            u = (v + (1 << bits) - 1) // 2
        for p in range(bits):
            if (u >> p) & 1:
                words[p][k // word_bits] |= 1 << (k % word_bits)
    return words


def slow_decode(planes, bits, encoding):
    """Value from a list of plane bits b_0..b_{n-1}, straight from background.md."""
    if encoding == "unsigned":
        return sum(b << i for i, b in enumerate(planes))
    if encoding == "signed":
        return sum(b << i for i, b in enumerate(planes[:-1])) - (planes[-1] << (bits - 1))
    return sum((2 * b - 1) << i for i, b in enumerate(planes))


def im2col_conv2d(x, w, strides, padding, dilations, init=None):
    """Convolution as im2col (explicit bounds checks, no padded copy) times a matmul."""
    n, h, wd, c = x.shape
    co, kh, kw, _ = w.shape
    sh, sw = strides
    dh, dw = dilations
    pt, pb, pl, pr = padding
    oh = (h + pt + pb - dh * (kh - 1) - 1) // sh + 1
    ow = (wd + pl + pr - dw * (kw - 1) - 1) // sw + 1
    cols = np.zeros((n * oh * ow, kh * kw * c), dtype=np.int64)
    row = 0
    for b in range(n):
        for y in range(oh):
            for z in range(ow):
                col = 0
                for i in range(kh):
                    for j in range(kw):
                        iy = y * sh + i * dh - pt
                        iz = z * sw + j * dw - pl
                        if 0 <= iy < h and 0 <= iz < wd:
                            cols[row, col:col + c] = x[b, iy, iz, :]
                        col += c
                row += 1
    # Plain Python dot products (independent of np.matmul / einsum).
    wm = w.reshape(co, kh * kw * c).astype(np.int64)
    out = np.array([[sum(int(p) * int(q) for p, q in zip(r, f)) for f in wm] for r in cols],
                   dtype=np.int64).reshape(n, oh, ow, co)
    return out if init is None else out + init


class EncodingTest(unittest.TestCase):
    def test_value_range(self):
        self.assertEqual(bs.value_range(1, "unsigned"), (0, 1))
        self.assertEqual(bs.value_range(1, "signed"), (-1, 0))
        self.assertEqual(bs.value_range(1, "bipolar"), (-1, 1))
        self.assertEqual(bs.value_range(2, "bipolar"), (-3, 3))
        self.assertEqual(bs.value_range(8, "unsigned"), (0, 255))
        self.assertEqual(bs.value_range(8, "signed"), (-128, 127))
        self.assertEqual(bs.value_range(8, "bipolar"), (-255, 255))
        self.assertEqual(list(bs.valid_values(2, "bipolar")), [-3, -1, 1, 3])

    def test_valid_values_match_plane_definitions(self):
        for bits, enc in itertools.product(range(1, 9), ENCODINGS):
            expected = sorted(slow_decode([(u >> p) & 1 for p in range(bits)], bits, enc)
                              for u in range(1 << bits))
            self.assertEqual(list(bs.valid_values(bits, enc)), expected, (bits, enc))
            codes = np.arange(1 << bits)
            self.assertEqual(sorted(bs.decode_planes(codes, bits, enc)), expected)
            vals = bs.decode_planes(codes, bits, enc)
            np.testing.assert_array_equal(bs.encode_planes(vals, bits, enc), codes)

    def test_random_values(self):
        rng = np.random.default_rng(0)
        for bits, enc in itertools.product(range(1, 9), ENCODINGS):
            v = bs.random_values(rng, (4000,), bits, enc)
            lo, hi = bs.value_range(bits, enc)
            self.assertEqual(v.shape, (4000,))
            self.assertTrue(np.all((v >= lo) & (v <= hi)))
            if enc == "bipolar":
                self.assertTrue(np.all(v % 2 == 1))
            if bits <= 3:  # every value shows up
                self.assertEqual(set(v.tolist()), set(bs.valid_values(bits, enc).tolist()))
        self.assertEqual(bs.random_values(rng, (2, 3), 2, "signed", dtype=np.int8).dtype, np.int8)


class PackTest(unittest.TestCase):
    def test_hand_examples(self):
        # unsigned 2-bit [1, 2, 3]: plane 0 = 1,0,1 -> 0b101; plane 1 = 0,1,1 -> 0b110.
        w = bs.pack([1, 2, 3], 2, "unsigned", word_bits=8)
        self.assertEqual(w.dtype, np.int8)
        np.testing.assert_array_equal(w, [[5], [6]])
        # signed 2-bit [-1, -2, 1] -> codes 3, 2, 1.
        np.testing.assert_array_equal(bs.pack([-1, -2, 1], 2, "signed", 8), [[0b101], [0b011]])
        # bipolar 1-bit [-1, 1, 1, -1] -> bits 0110.
        np.testing.assert_array_equal(bs.pack([-1, 1, 1, -1], 1, "bipolar", 8), [[0b0110]])
        # bipolar 2-bit [-3, -1, 1, 3] -> codes 0, 1, 2, 3.
        np.testing.assert_array_equal(bs.pack([-3, -1, 1, 3], 2, "bipolar", 8),
                                      [[0b1010], [0b1100]])
        # Element 8 goes to word 1, bit 0; words are signless (top bit -> negative).
        x = np.zeros(9, dtype=np.int64)
        x[7] = 1
        x[8] = 1
        np.testing.assert_array_equal(bs.pack(x, 1, "unsigned", 8), [[-128, 1]])
        x = np.zeros(64, dtype=np.int64)
        x[63] = 1
        w = bs.pack(x, 1, "unsigned", 64)
        self.assertEqual(w.dtype, np.int64)
        self.assertEqual(int(w[0, 0]), -(1 << 63))
        self.assertEqual(int(w.view(np.uint64)[0, 0]), 1 << 63)

    def test_shapes_and_dtypes(self):
        x = np.zeros((2, 3, 70), dtype=np.int8)
        for wb, dt in zip(WORD_BITS, (np.int8, np.int16, np.int32, np.int64)):
            w = bs.pack(x, 3, "signed", wb)
            self.assertEqual(w.shape, (2, 3, 3, -(-70 // wb)))
            self.assertEqual(w.dtype, dt)
            self.assertEqual(bs.word_dtype(wb), dt)
            self.assertEqual(bs.packed_shape(x.shape, 3, wb), w.shape)

    def test_against_slow_packer(self):
        rng = np.random.default_rng(1)
        for bits, enc, wb in itertools.product((1, 2, 3, 5, 8), ENCODINGS, WORD_BITS):
            for length in (1, wb - 1 or 1, wb + 3, 2 * wb + 1):
                x = bs.random_values(rng, (length,), bits, enc)
                got = bs.pack(x, bits, enc, wb).view(getattr(np, f"uint{wb}"))
                self.assertEqual(got.tolist(), slow_pack(x, bits, enc, wb),
                                 (bits, enc, wb, length))

    def test_round_trip(self):
        rng = np.random.default_rng(2)
        for bits, enc, wb in itertools.product(range(1, 9), ENCODINGS, WORD_BITS):
            for length in (1, 7, 63, 65, 129):
                x = bs.random_values(rng, (3, length), bits, enc)
                w = bs.pack(x, bits, enc, wb)
                nw = -(-length // wb)
                self.assertEqual(w.shape, (3, bits, nw))
                # Bits past the logical length are zero.
                tail = length - (nw - 1) * wb
                last = w.view(getattr(np, f"uint{wb}"))[..., -1].astype(np.uint64)
                self.assertFalse(np.any(last >> np.uint64(tail)) if tail < wb else False)
                y = bs.unpack(w, bits, enc, length)
                self.assertEqual(y.dtype, np.int64)
                np.testing.assert_array_equal(y, x, err_msg=str((bits, enc, wb, length)))
                # Unsigned views of the words decode the same way.
                y2 = bs.unpack(w.view(getattr(np, f"uint{wb}")), bits, enc, length, np.int16)
                self.assertEqual(y2.dtype, np.int16)
                np.testing.assert_array_equal(y2, x)

    def test_unpack_against_plane_definitions(self):
        rng = np.random.default_rng(3)
        for bits, enc in itertools.product((1, 2, 4, 8), ENCODINGS):
            words = rng.integers(-128, 128, size=(2, bits, 2), dtype=np.int8)
            length = 13
            words[..., -1] &= (1 << (length - 8)) - 1  # clear bits past length
            got = bs.unpack(words, bits, enc, length)
            uw = words.view(np.uint8)
            for r in range(2):
                for k in range(length):
                    planes = [(int(uw[r, p, k // 8]) >> (k % 8)) & 1 for p in range(bits)]
                    self.assertEqual(int(got[r, k]), slow_decode(planes, bits, enc))

    def test_input_dtypes(self):
        x = np.array([0, 255, 17], dtype=np.uint8)
        np.testing.assert_array_equal(bs.unpack(bs.pack(x, 8, "unsigned"), 8, "unsigned", 3), x)
        x = np.array([-128, 127], dtype=np.int8)
        np.testing.assert_array_equal(bs.unpack(bs.pack(x, 8, "signed", 16), 8, "signed", 2,
                                                np.int8), x)


class PackErrorTest(unittest.TestCase):
    def test_out_of_range(self):
        bad = [
            (1, "unsigned", [2]), (1, "unsigned", [-1]), (2, "unsigned", [4]),
            (8, "unsigned", [256]), (1, "signed", [1]), (2, "signed", [2]),
            (2, "signed", [-3]), (8, "signed", [128]), (8, "signed", [-129]),
            (1, "bipolar", [0]), (1, "bipolar", [3]), (2, "bipolar", [2]),
            (2, "bipolar", [5]), (2, "bipolar", [-5]), (8, "bipolar", [256]),
            (8, "bipolar", [257]),
        ]
        for bits, enc, x in bad:
            with self.assertRaises(ValueError, msg=(bits, enc, x)):
                bs.pack(x, bits, enc)
        with self.assertRaisesRegex(ValueError, "outside the range"):
            bs.pack(np.array([2**63 + 1], dtype=np.uint64), 8, "unsigned")

    def test_bad_arguments(self):
        for args in [([1], 0, "unsigned"), ([1], 9, "unsigned"), ([1], 2.0, "unsigned"),
                     ([1], 2, "twos"), ([1], 2, None)]:
            with self.assertRaises(ValueError, msg=args):
                bs.pack(*args)
        with self.assertRaises(ValueError):
            bs.pack([1], 1, "unsigned", word_bits=128)
        with self.assertRaises(ValueError):
            bs.pack([1.0], 1, "unsigned")
        with self.assertRaises(ValueError):
            bs.pack(np.array([True]), 1, "unsigned")
        with self.assertRaises(ValueError):
            bs.pack(np.int64(1), 1, "unsigned")  # rank 0
        with self.assertRaises(ValueError):
            bs.pack(np.zeros((2, 0), dtype=np.int64), 1, "unsigned")  # length 0
        with self.assertRaises(ValueError):
            bs.value_range(0, "unsigned")

    def test_unpack_errors(self):
        w = bs.pack(np.zeros((2, 70), dtype=np.int64), 2, "unsigned")  # [2, 2, 2]
        with self.assertRaisesRegex(ValueError, "plane"):
            bs.unpack(w, 3, "unsigned", 70)
        with self.assertRaisesRegex(ValueError, "word"):
            bs.unpack(w, 2, "unsigned", 140)
        with self.assertRaisesRegex(ValueError, "past the logical length"):
            w2 = w.copy()
            w2[0, 1, 1] = 1 << 6  # element 70 (length 70 -> valid bits 0..5 of word 1)
            bs.unpack(w2, 2, "unsigned", 70)
        with self.assertRaisesRegex(ValueError, "cannot hold"):
            bs.unpack(bs.pack([255], 8, "unsigned"), 8, "unsigned", 1, np.int8)
        with self.assertRaisesRegex(ValueError, "cannot hold"):
            bs.unpack(bs.pack([-1], 1, "signed"), 1, "signed", 1, np.uint8)
        with self.assertRaises(ValueError):
            bs.unpack(w, 2, "unsigned", 70, np.float32)
        with self.assertRaises(ValueError):
            bs.unpack(w.astype(np.float64), 2, "unsigned", 70)
        with self.assertRaises(ValueError):
            bs.unpack(w[0, 0], 2, "unsigned", 70)  # rank 1
        with self.assertRaises(ValueError):
            bs.unpack(w, 2, "unsigned", 0)


class MatmulTest(unittest.TestCase):
    def test_hand_example(self):
        a = np.array([[1, 2, 3], [-1, 0, 1]])
        b = np.array([[1, 1, 1], [3, -1, 2], [0, 0, 0], [-1, -1, 1]])
        expected = [[6, 7, 0, 0], [0, -1, 0, 2]]
        np.testing.assert_array_equal(bs.matmul(a, b), expected)
        r = bs.matmul(a, b, init=np.full((2, 4), 10, dtype=np.int32))
        self.assertEqual(r.dtype, np.int64)
        np.testing.assert_array_equal(r, np.array(expected) + 10)

    def test_batch_broadcasting(self):
        rng = np.random.default_rng(4)
        a3 = rng.integers(-8, 8, size=(3, 4, 5))
        b3 = rng.integers(-8, 8, size=(3, 6, 5))
        a2, b2 = a3[0], b3[0]

        def loops(a, b):
            return [[sum(int(x) * int(y) for x, y in zip(r, c)) for c in b] for r in a]

        np.testing.assert_array_equal(bs.matmul(a2, b2), loops(a2, b2))
        np.testing.assert_array_equal(bs.matmul(a3, b3), [loops(a3[i], b3[i]) for i in range(3)])
        np.testing.assert_array_equal(bs.matmul(a3, b2), [loops(a3[i], b2) for i in range(3)])
        np.testing.assert_array_equal(bs.matmul(a2, b3), [loops(a2, b3[i]) for i in range(3)])
        self.assertEqual(bs.matmul(a2, b3).shape, (3, 4, 6))

    def test_exact_large(self):
        # 255 * 255 * 100000 does not fit int32; int64 must be exact.
        a = np.full((1, 100000), 255, dtype=np.uint8)
        self.assertEqual(int(bs.matmul(a, a)[0, 0]), 255 * 255 * 100000)

    def test_errors(self):
        a = np.zeros((2, 3), dtype=np.int64)
        with self.assertRaises(ValueError):
            bs.matmul(a, np.zeros((2, 4), dtype=np.int64))  # K mismatch
        with self.assertRaises(ValueError):
            bs.matmul(np.zeros((2, 2, 3), dtype=np.int64), np.zeros((3, 2, 3), dtype=np.int64))
        with self.assertRaises(ValueError):
            bs.matmul(np.zeros(3, dtype=np.int64), a)
        with self.assertRaises(ValueError):
            bs.matmul(a, np.zeros((1, 1, 2, 3), dtype=np.int64))
        with self.assertRaises(ValueError):
            bs.matmul(a, a, init=np.zeros((2, 3), dtype=np.int64))
        with self.assertRaises(ValueError):
            bs.matmul(a.astype(np.float32), a)


class BitplaneDotTest(unittest.TestCase):
    def check(self, rng, a_bits, a_enc, b_bits, b_enc, k, wb, a_batch=None, b_batch=None,
              with_init=False):
        a_shape = ((a_batch,) if a_batch else ()) + (3, k)
        b_shape = ((b_batch,) if b_batch else ()) + (4, k)
        a = bs.random_values(rng, a_shape, a_bits, a_enc)
        b = bs.random_values(rng, b_shape, b_bits, b_enc)
        expected = bs.matmul(a, b)
        init = None
        if with_init:
            init = rng.integers(-1000, 1000, size=expected.shape)
            expected = expected + init
        pa, pb = bs.pack(a, a_bits, a_enc, wb), bs.pack(b, b_bits, b_enc, wb)
        for xor in (True, False):
            got = bs.bitplane_dot(pa, pb, a_bits, a_enc, b_bits, b_enc, k, init=init,
                                  xor_bipolar=xor)
            self.assertEqual(got.dtype, np.int64)
            np.testing.assert_array_equal(
                got, expected, err_msg=str((a_bits, a_enc, b_bits, b_enc, k, wb, xor)))

    def test_all_encoding_pairs(self):
        rng = np.random.default_rng(5)
        bit_pairs = [(1, 1), (2, 1), (1, 2), (2, 2), (3, 5), (8, 8)]
        for a_enc, b_enc in itertools.product(ENCODINGS, ENCODINGS):
            for (a_bits, b_bits), k in itertools.product(bit_pairs, (1, 63, 64, 65, 100, 200)):
                self.check(rng, a_bits, a_enc, b_bits, b_enc, k, 64)

    def test_word_widths_and_batches(self):
        rng = np.random.default_rng(6)
        for a_enc, b_enc in itertools.product(ENCODINGS, ENCODINGS):
            for wb in WORD_BITS:
                self.check(rng, 2, a_enc, 3, b_enc, 37, wb)
                self.check(rng, 1, a_enc, 2, b_enc, 19, wb, a_batch=2, with_init=True)
            self.check(rng, 2, a_enc, 1, b_enc, 70, 64, b_batch=3)
            self.check(rng, 4, a_enc, 2, b_enc, 70, 32, a_batch=2, b_batch=2, with_init=True)

    def test_padding_matters(self):
        # K = 1 bipolar x bipolar: without the K-based correction, the 63 zero pad bits
        # of each word would count as 63 matching (-1 * -1) positions.
        pa = bs.pack([[-1]], 1, "bipolar")
        self.assertEqual(bs.bitplane_dot(pa, pa, 1, "bipolar", 1, "bipolar", 1).tolist(), [[1]])

    def test_popcount(self):
        w = np.array([[-1, 0, 5]], dtype=np.int64)
        self.assertEqual(bs.popcount(w).tolist(), [66])
        self.assertEqual(bs.popcount(np.array([-128, 3], dtype=np.int8)).tolist(), 3)

    def test_errors(self):
        pa = bs.pack(np.zeros((2, 70), dtype=np.int64), 2, "unsigned")
        pb = bs.pack(np.zeros((3, 70), dtype=np.int64), 1, "unsigned")
        with self.assertRaises(ValueError):  # wrong bits for b
            bs.bitplane_dot(pa, pb, 2, "unsigned", 2, "unsigned", 70)
        with self.assertRaises(ValueError):  # word widths differ
            pb32 = bs.pack(np.zeros((3, 70), dtype=np.int64), 1, "unsigned", 32)
            bs.bitplane_dot(pa, pb32, 2, "unsigned", 1, "unsigned", 70)
        with self.assertRaises(ValueError):  # length disagrees with word count
            bs.bitplane_dot(pa, pb, 2, "unsigned", 1, "unsigned", 140)
        with self.assertRaises(ValueError):  # batch mismatch
            bs.bitplane_dot(np.stack([pa] * 2), np.stack([pb] * 3), 2, "unsigned", 1,
                            "unsigned", 70)
        with self.assertRaises(ValueError):  # init shape
            bs.bitplane_dot(pa, pb, 2, "unsigned", 1, "unsigned", 70,
                            init=np.zeros((3, 2), dtype=np.int64))


class Conv2dTest(unittest.TestCase):
    def test_hand_examples(self):
        x = np.arange(1, 10).reshape(1, 3, 3, 1)
        # w = [[1, 0], [0, -1]]: out[i, j] = x[i, j] - x[i+1, j+1] = -4.
        w = np.array([[1, 0], [0, -1]]).reshape(1, 2, 2, 1)
        np.testing.assert_array_equal(bs.conv2d(x, w), np.full((1, 2, 2, 1), -4))
        # 3x3 ones, pad 1, stride 2: sums of the four 2x2 corners.
        ones = np.ones((1, 3, 3, 1), dtype=np.int64)
        r = bs.conv2d(x, ones, strides=(2, 2), padding=(1, 1, 1, 1))
        np.testing.assert_array_equal(r[0, :, :, 0], [[12, 16], [24, 28]])
        # 2x2 input, 3x3 ones, pad 1: every window covers the whole input.
        x2 = np.array([[1, 2], [3, 4]]).reshape(1, 2, 2, 1)
        np.testing.assert_array_equal(bs.conv2d(x2, ones, padding=(1, 1, 1, 1))[0, :, :, 0],
                                      [[10, 10], [10, 10]])
        # Asymmetric padding: only bottom/right -> windows at (0,0),(0,1),(1,0),(1,1).
        np.testing.assert_array_equal(
            bs.conv2d(x2, np.ones((1, 2, 2, 1), dtype=np.int64), padding=(0, 1, 0, 1))[0, :, :, 0],
            [[10, 6], [7, 4]])
        # Dilation 2 on x[i, j] = 5i + j with w = [[1, 2], [3, 4]]:
        # x[i,j] + 2x[i,j+2] + 3x[i+2,j] + 4x[i+2,j+2] = 50i + 10j + 82.
        x5 = np.arange(25).reshape(1, 5, 5, 1)
        w5 = np.array([[1, 2], [3, 4]]).reshape(1, 2, 2, 1)
        r = bs.conv2d(x5, w5, dilations=(2, 2))
        i, j = np.meshgrid(np.arange(3), np.arange(3), indexing="ij")
        np.testing.assert_array_equal(r[0, :, :, 0], 50 * i + 10 * j + 82)
        # Two channels, two output channels, 1x1 kernel, with init.
        xc = np.array([[[[1, 2], [3, -1]]]])  # [1, 1, 2, 2]
        wc = np.array([[[[1, 1]]], [[[2, -3]]]])  # [2, 1, 1, 2]
        r = bs.conv2d(xc, wc, init=np.array([[[[100, 0], [0, 100]]]]))
        np.testing.assert_array_equal(r, [[[[103, -4], [2, 109]]]])
        self.assertEqual(r.dtype, np.int64)

    def test_bipolar_padding_is_zero(self):
        # All +-1 values; pad contributes 0, so a corner of a 3x3 all-ones conv
        # sees only 4 real inputs.
        x = np.ones((1, 2, 2, 1), dtype=np.int8)
        w = -np.ones((1, 3, 3, 1), dtype=np.int8)
        np.testing.assert_array_equal(bs.conv2d(x, w, padding=(1, 1, 1, 1)),
                                      np.full((1, 2, 2, 1), -4))

    def test_against_im2col(self):
        rng = np.random.default_rng(7)
        cases = [
            # (N, H, W, C, CO, KH, KW, strides, padding, dilations)
            (1, 5, 5, 3, 2, 3, 3, (1, 1), (1, 1, 1, 1), (1, 1)),
            (2, 7, 6, 4, 3, 3, 3, (2, 2), (1, 1, 1, 1), (1, 1)),
            (1, 6, 7, 2, 2, 1, 1, (2, 1), (0, 0, 0, 0), (1, 1)),
            (1, 8, 8, 3, 2, 3, 2, (1, 2), (0, 2, 1, 0), (2, 1)),
            (2, 5, 4, 5, 4, 2, 3, (3, 2), (2, 1, 0, 3), (1, 2)),
            (1, 4, 4, 70, 2, 3, 3, (1, 1), (1, 1, 1, 1), (1, 1)),
            (1, 3, 3, 1, 1, 5, 5, (1, 1), (2, 2, 2, 2), (1, 1)),
        ]
        encs = list(itertools.product(ENCODINGS, ENCODINGS))
        for idx, (n, h, wd, c, co, kh, kw, s, p, d) in enumerate(cases):
            x_enc, w_enc = encs[idx % len(encs)]
            x = bs.random_values(rng, (n, h, wd, c), 2, x_enc)
            w = bs.random_values(rng, (co, kh, kw, c), 3, w_enc)
            expected = im2col_conv2d(x, w, s, p, d)
            got = bs.conv2d(x, w, strides=s, padding=p, dilations=d)
            self.assertEqual(got.shape, bs.conv2d_output_shape(x.shape, w.shape, s, p, d))
            np.testing.assert_array_equal(got, expected, err_msg=str(cases[idx]))
            init = rng.integers(-50, 50, size=expected.shape)
            np.testing.assert_array_equal(
                bs.conv2d(x, w, strides=s, padding=p, dilations=d, init=init), expected + init)

    def test_conv_as_bitplane_dot_without_padding(self):
        # Unpadded conv == matmul over packed im2col rows (packing along KH*KW*C).
        rng = np.random.default_rng(8)
        for x_enc, w_enc in itertools.product(ENCODINGS, ENCODINGS):
            x = bs.random_values(rng, (1, 5, 5, 3), 2, x_enc)
            w = bs.random_values(rng, (2, 3, 3, 3), 1, w_enc)
            cols = np.stack([x[0, i:i + 3, j:j + 3, :].reshape(-1)
                             for i in range(3) for j in range(3)])
            got = bs.bitplane_dot(bs.pack(cols, 2, x_enc), bs.pack(w.reshape(2, -1), 1, w_enc),
                                  2, x_enc, 1, w_enc, 27)
            np.testing.assert_array_equal(got.reshape(1, 3, 3, 2), bs.conv2d(x, w))

    def test_errors(self):
        x = np.zeros((1, 4, 4, 3), dtype=np.int64)
        w = np.zeros((2, 3, 3, 3), dtype=np.int64)
        bad = [
            dict(w=np.zeros((2, 3, 3, 2), dtype=np.int64)),  # channel mismatch
            dict(strides=(0, 1)), dict(strides=(1,)), dict(dilations=(1, 0)),
            dict(padding=(-1, 0, 0, 0)), dict(padding=(1, 1)),
            dict(w=np.zeros((2, 5, 3, 3), dtype=np.int64)),  # window larger than input
            dict(dilations=(2, 2)),  # dilated window 5 > 4
            dict(init=np.zeros((1, 2, 2, 3), dtype=np.int64)),
            dict(x=np.zeros((4, 4, 3), dtype=np.int64)),
            dict(x=np.zeros((1, 4, 4, 3))),  # float
        ]
        for kw in bad:
            args = dict(x=x, w=w)
            args.update(kw)
            with self.assertRaises(ValueError, msg=str(kw)):
                bs.conv2d(**args)
        # Padding makes room for the dilated window: OK.
        self.assertEqual(bs.conv2d(x, w, dilations=(2, 2), padding=(1, 0, 0, 1)).shape,
                         (1, 1, 1, 2))


if __name__ == "__main__":
    unittest.main()
