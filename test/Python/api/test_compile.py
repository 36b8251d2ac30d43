"""bitserial.compile: results against the NumPy reference, input forms,
lowerings, and how inputs reach the compiled code."""

import os
import pathlib
import subprocess
import tempfile
import unittest

import numpy as np

import bitserial
import modules


class MatmulTest(unittest.TestCase):
    def check_matmul(self, m, n, k, a, b, word=64, **options):
        source = modules.matmul(m, n, k, *a, *b, word=word)
        compiled = bitserial.compile(source, **options)
        rng = np.random.default_rng(k * 31 + m)
        x = modules.values(rng, (m, k), *a)
        w = modules.values(rng, (n, k), *b)
        y = compiled(x, w)
        np.testing.assert_array_equal(y, bitserial.matmul(x, w))
        self.assertEqual(y.dtype, np.int32)
        self.assertEqual(y.shape, (m, n))
        return compiled

    def test_bits_and_encodings(self):
        # Every encoding pair; bit widths 1..8; K odd and past a word.
        cases = [((1, "bipolar"), (1, "bipolar"), 300), ((2, "signed"), (1, "bipolar"), 131),
                 ((3, "unsigned"), (2, "signed"), 65), ((8, "signed"), (8, "unsigned"), 67),
                 ((4, "bipolar"), (5, "unsigned"), 129), ((7, "unsigned"), (3, "bipolar"), 1),
                 ((5, "signed"), (6, "signed"), 193), ((6, "bipolar"), (8, "bipolar"), 63),
                 ((1, "unsigned"), (1, "signed"), 9)]
        for a, b, k in cases:
            with self.subTest(a=a, b=b, k=k):
                self.check_matmul(3, 5, k, a, b)

    def test_word_types(self):
        for word in (8, 16, 32):
            with self.subTest(word=word):
                self.check_matmul(2, 3, 37, (2, "unsigned"), (2, "signed"), word=word)

    def test_lowerings(self):
        a, b = (2, "signed"), (1, "bipolar")
        for options in (dict(strategy="reference"), dict(tile=True), dict(threads=2),
                        dict(threads=2, tile=True), dict(target="generic"),
                        dict(opt_level=0)):
            with self.subTest(**options):
                self.check_matmul(9, 17, 150, a, b, **options)

    def test_tuning_cache(self):
        # A cache entry (as benchmarks/tune.py writes it, for the key and CPU
        # bitserial-run reports) makes the 2 x 2-bit matmul, bit-serial by
        # default, an int8 kernel; the result stays exact.
        import json
        import re
        tools = os.environ.get("BITSERIAL_BIN")
        if not tools:
            self.skipTest("BITSERIAL_BIN is not set")
        a, b = (2, "unsigned"), (2, "signed")
        source = modules.matmul(64, 128, 256, *a, *b)
        with tempfile.TemporaryDirectory() as work:
            path = os.path.join(work, "matmul.mlir")
            with open(path, "w") as f:
                f.write(source)
            run = subprocess.run([os.path.join(tools, "bitserial-run"), path, "--random-inputs",
                                  "--print-tuning-keys"], capture_output=True, text=True,
                                 check=True)
            record = json.loads(re.search(r"remark: tuning (\{.*\})", run.stderr).group(1))
            if record["int8"] == "none" or not record["int8_candidate"]:
                self.skipTest("no int8 kernel for this matmul here")
            self.assertEqual(record["default"]["kernel"], "bitserial")
            entry = {name: record[name] for name in ("target", "cpu", "int8", "key")}
            entry["winner"] = {"kernel": "int8"}
            cache = os.path.join(work, "cache.json")
            with open(cache, "w") as f:
                json.dump({"format": "bitserial-tuning-cache", "version": 1,
                           "entries": [entry]}, f)
            default = self.check_matmul(64, 128, 256, a, b, keep_ir=True)
            tuned = self.check_matmul(64, 128, 256, a, b, keep_ir=True,
                                      tuning_cache=pathlib.Path(cache))
            self.assertIn('bitserial.kernel = "bitserial"',
                          default.ir("bitserial-select-kernels"))
            self.assertIn('bitserial.kernel = "int8"', tuned.ir("bitserial-select-kernels"))
            with self.assertRaisesRegex(bitserial.CompileError, "tuning cache .*cannot read"):
                bitserial.compile(source, tuning_cache=os.path.join(work, "missing.json"))
        with self.assertRaisesRegex(TypeError, "tuning_cache"):
            bitserial.compile(source, tuning_cache=3)

    def test_threads_then_one(self):
        # A parallel and a serial function in one process, both exact.
        self.check_matmul(8, 8, 70, (1, "bipolar"), (1, "bipolar"), threads=2)
        self.check_matmul(8, 8, 70, (1, "bipolar"), (1, "bipolar"), threads=1)

    def test_compiled_properties(self):
        compiled = self.check_matmul(4, 6, 70, (2, "unsigned"), (1, "bipolar"))
        self.assertEqual(compiled.entry, "matmul")
        self.assertEqual([a.shape for a in compiled.arguments], [(4, 70), (6, 70)])
        self.assertEqual(compiled.arguments[0].dtype, np.int16)
        self.assertEqual(compiled.arguments[0].value_range, (0, 3))
        self.assertEqual(compiled.arguments[1].value_range, (-1, 1))
        self.assertTrue(compiled.arguments[1].odd_only)
        self.assertEqual(compiled.results[0].shape, (4, 6))
        self.assertEqual(compiled.results[0].dtype, np.int32)
        self.assertIn("kernels, cpu", compiled.target)
        self.assertIn("matmul", repr(compiled))


class Conv2dTest(unittest.TestCase):
    def test_conv2d(self):
        cases = [(1, 6, 7, 40, 10, 3, 3, (2, "unsigned"), (2, "signed"), (1, 1, 1, 1), (1, 1)),
                 (2, 5, 5, 67, 3, 2, 3, (1, "bipolar"), (1, "bipolar"), (0, 1, 2, 0), (2, 1)),
                 (1, 4, 4, 9, 5, 1, 1, (8, "signed"), (3, "unsigned"), (0, 0, 0, 0), (1, 1))]
        rng = np.random.default_rng(2)
        for n, h, w, c, co, kh, kw, xe, fe, padding, strides in cases:
            source = modules.conv2d(n, h, w, c, co, kh, kw, *xe, *fe, padding, strides)
            for options in (dict(), dict(strategy="reference"), dict(tile=True)):
                with self.subTest(c=c, **options):
                    compiled = bitserial.compile(source, **options)
                    x = modules.values(rng, (n, h, w, c), *xe)
                    f = modules.values(rng, (co, kh, kw, c), *fe)
                    np.testing.assert_array_equal(
                        compiled(x, f), bitserial.conv2d(x, f, strides, padding))


SMALL = modules.matmul(2, 3, 70, 2, "signed", 1, "bipolar")


class SourceFormsTest(unittest.TestCase):
    def setUp(self):
        rng = np.random.default_rng(3)
        self.x = modules.values(rng, (2, 70), 2, "signed")
        self.w = modules.values(rng, (3, 70), 1, "bipolar")
        self.expected = bitserial.matmul(self.x, self.w)
        self.dir = tempfile.TemporaryDirectory()
        self.path = os.path.join(self.dir.name, "small.mlir")
        with open(self.path, "w") as f:
            f.write(SMALL)

    def tearDown(self):
        self.dir.cleanup()

    def check(self, module_or_path):
        compiled = bitserial.compile(module_or_path)
        np.testing.assert_array_equal(compiled(self.x, self.w), self.expected)

    def test_text(self):
        self.check(SMALL)
        self.check(SMALL.encode())

    def test_path(self):
        self.check(self.path)
        self.check(pathlib.Path(self.path))

    def test_bytecode(self):
        tools = os.environ.get("BITSERIAL_BIN")
        if not tools:
            self.skipTest("BITSERIAL_BIN is not set")
        bytecode = os.path.join(self.dir.name, "small.mlirbc")
        subprocess.run([os.path.join(tools, "bitserial-opt"), self.path,
                        "--emit-bytecode", "-o", bytecode], check=True)
        self.check(bytecode)
        with open(bytecode, "rb") as f:
            data = f.read()
        self.assertTrue(data.startswith(b"ML\xefR"))
        self.check(data)
        self.check(memoryview(data))


class InputPassingTest(unittest.TestCase):
    """Inputs are read in place when possible and never modified."""

    def setUp(self):
        self.compiled = bitserial.compile(SMALL)
        rng = np.random.default_rng(4)
        self.x = modules.values(rng, (2, 70), 2, "signed")
        self.w = modules.values(rng, (3, 70), 1, "bipolar")
        self.expected = bitserial.matmul(self.x, self.w)

    def test_read_in_place(self):
        self.assertFalse(self.compiled.arguments[0].written)
        self.assertFalse(self.compiled.arguments[1].written)
        # Read-only buffers are read in place too.
        x = self.x.copy()
        x.flags.writeable = False
        np.testing.assert_array_equal(self.compiled(x, self.w), self.expected)

    def test_strided_and_fortran(self):
        # A strided view (every other row of a larger array) and a Fortran-
        # order array are copied once, C-contiguous.
        big = np.zeros((4, 70), np.int16)
        big[::2] = self.x
        fortran = np.asfortranarray(self.w)
        self.assertFalse(fortran.flags.c_contiguous)
        np.testing.assert_array_equal(self.compiled(big[::2], fortran), self.expected)
        # A view into the middle of a buffer, C-contiguous: read in place.
        offset = np.zeros((5, 70), np.int16)
        offset[1:3] = self.x
        np.testing.assert_array_equal(self.compiled(offset[1:3], self.w), self.expected)
        # Non-native byte order and unaligned data.
        np.testing.assert_array_equal(
            self.compiled(self.x.astype(">i2"), self.w), self.expected)
        raw = np.zeros(2 * 70 * 2 + 1, np.uint8)
        unaligned = raw[1:].view(np.int16).reshape(2, 70)
        unaligned[...] = self.x
        self.assertFalse(unaligned.flags.aligned)
        np.testing.assert_array_equal(self.compiled(unaligned, self.w), self.expected)

    def test_lists(self):
        # Array-likes that convert without loss.
        np.testing.assert_array_equal(
            self.compiled(self.x.tolist(), self.w.tolist()), self.expected)

    def test_unsigned_dtype(self):
        # uintN arrays for iN arguments (values, or bit patterns of unsigned
        # codes as wide as the element type).
        compiled = bitserial.compile(modules.matmul(2, 3, 70, 3, "unsigned", 1, "bipolar"))
        x = np.abs(self.x).astype(np.uint16)
        np.testing.assert_array_equal(compiled(x, self.w), bitserial.matmul(x, self.w))
        with self.assertRaisesRegex(bitserial.InputError, "value 65534 at index"):
            self.compiled(self.x.view(np.uint16), self.w)

    def test_accumulator_is_copied(self):
        # The code updates `init` in place: the call works on a copy.
        compiled = bitserial.compile(modules.matmul(3, 4, 65, 1, "bipolar", 1, "bipolar",
                                                    init=True))
        self.assertEqual([a.written for a in compiled.arguments], [False, False, True])
        rng = np.random.default_rng(5)
        x = modules.values(rng, (3, 65), 1, "bipolar")
        w = modules.values(rng, (4, 65), 1, "bipolar")
        init = rng.integers(-100, 100, (3, 4)).astype(np.int32)
        before = init.copy()
        for _ in range(2):
            np.testing.assert_array_equal(compiled(x, w, init),
                                          bitserial.matmul(x, w, init=before))
        np.testing.assert_array_equal(init, before)

    def test_written_through_a_yield(self):
        # The fill may write into %x's buffer through the scf.if: %x counts
        # as written and is copied.
        compiled = bitserial.compile("""
func.func @f(%x: tensor<4xi32>, %flag: tensor<i1>) -> tensor<4xi32> {
  %c = tensor.extract %flag[] : tensor<i1>
  %e = tensor.empty() : tensor<4xi32>
  %t = scf.if %c -> tensor<4xi32> {
    scf.yield %x : tensor<4xi32>
  } else {
    scf.yield %e : tensor<4xi32>
  }
  %one = arith.constant 1 : i32
  %r = linalg.fill ins(%one : i32) outs(%t : tensor<4xi32>) -> tensor<4xi32>
  return %r : tensor<4xi32>
}
""")
        self.assertTrue(compiled.arguments[0].written)
        x = np.arange(4, dtype=np.int32)
        for flag in (True, False):
            np.testing.assert_array_equal(compiled(x, np.array(flag)), [1, 1, 1, 1])
        np.testing.assert_array_equal(x, [0, 1, 2, 3])

    def test_results_own_their_buffers(self):
        y1 = self.compiled(self.x, self.w)
        y2 = self.compiled(self.x, self.w)
        self.assertFalse(np.shares_memory(y1, y2))
        self.assertTrue(y1.flags.writeable and y1.flags.c_contiguous)
        y1[...] = 0
        np.testing.assert_array_equal(y2, self.expected)
        del self.compiled  # results outlive the compiled function
        np.testing.assert_array_equal(y2, self.expected)


RESULTS = """
!X = tensor<3x2x3xi64, #bitserial.packed<bits = 2, encoding = signed, length = 130>>
!W = tensor<5x1x3xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 130>>
func.func @twice(%x: tensor<3x130xi8>, %w: tensor<5x130xi8>, %init: tensor<3x5xi32>)
    -> (tensor<3x5xi32>, tensor<3x5xi32>, tensor<3x130xi8>) {
  %px = bitserial.pack %x : tensor<3x130xi8> -> !X
  %pw = bitserial.pack %w : tensor<5x130xi8> -> !W
  %y = bitserial.matmul ins(%px, %pw : !X, !W) outs(%init : tensor<3x5xi32>) -> tensor<3x5xi32>
  return %y, %y, %x : tensor<3x5xi32>, tensor<3x5xi32>, tensor<3x130xi8>
}
func.func @argument(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
  return %x : tensor<?x4xf32>
}
func.func @nothing(%x: tensor<2xi1>) {
  return
}
"""


class ThreadsTest(unittest.TestCase):
    def test_concurrent_calls(self):
        # The GIL is released during calls: Python threads call at once.
        import concurrent.futures
        compiled = bitserial.compile(modules.matmul(16, 24, 200, 2, "signed", 2, "unsigned"))
        parallel = bitserial.compile(modules.matmul(8, 8, 70, 1, "bipolar", 1, "bipolar"),
                                   threads=2)
        # Above the parallel thresholds: its kernel forks, and calls that
        # find the thread team busy run on their own thread.
        forking = bitserial.compile(modules.matmul(32, 128, 2000, 2, "signed", 2, "unsigned"),
                                  threads=2)
        rng = np.random.default_rng(7)
        cases = []
        for _ in range(8):
            x = modules.values(rng, (16, 200), 2, "signed")
            w = modules.values(rng, (24, 200), 2, "unsigned")
            a = modules.values(rng, (8, 70), 1, "bipolar")
            b = modules.values(rng, (8, 70), 1, "bipolar")
            c = modules.values(rng, (32, 2000), 2, "signed")
            d = modules.values(rng, (128, 2000), 2, "unsigned")
            cases.append((x, w, a, b, c, d))

        def work(case):
            x, w, a, b, c, d = case
            expected = bitserial.matmul(c, d)
            for _ in range(20):
                np.testing.assert_array_equal(compiled(x, w), bitserial.matmul(x, w))
                np.testing.assert_array_equal(parallel(a, b), bitserial.matmul(a, b))
                np.testing.assert_array_equal(forking(c, d), expected)
            return True

        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            self.assertTrue(all(pool.map(work, cases)))


class ResultsTest(unittest.TestCase):
    def test_several_results(self):
        compiled = bitserial.compile(RESULTS, entry="twice")
        rng = np.random.default_rng(6)
        x = modules.values(rng, (3, 130), 2, "signed").astype(np.int8)
        w = modules.values(rng, (5, 130), 1, "bipolar").astype(np.int8)
        init = np.arange(15, dtype=np.int32).reshape(3, 5)
        y0, y1, echo = compiled(x, w, init)
        expected = bitserial.matmul(x, w, init=init)
        np.testing.assert_array_equal(y0, expected)
        np.testing.assert_array_equal(y1, expected)
        self.assertFalse(np.shares_memory(y0, y1))
        np.testing.assert_array_equal(echo, x)
        self.assertFalse(np.shares_memory(echo, x))

    def test_returning_an_argument(self):
        compiled = bitserial.compile(RESULTS, entry="argument")
        self.assertEqual(compiled.arguments[0].shape, (None, 4))
        x = np.arange(12, dtype=np.float32).reshape(3, 4)
        y = compiled(x)
        np.testing.assert_array_equal(y, x)
        self.assertFalse(np.shares_memory(x, y))
        y[...] = -1
        self.assertEqual(x[2, 3], 11)
        self.assertEqual(compiled(np.zeros((0, 4), np.float32)).shape, (0, 4))

    def test_no_results(self):
        compiled = bitserial.compile(RESULTS, entry="nothing")
        self.assertEqual(compiled(np.array([True, False])), ())


if __name__ == "__main__":
    unittest.main()
