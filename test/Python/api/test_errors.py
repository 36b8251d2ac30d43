"""bitserial.compile and calls: every bad input is a Python exception."""

import os
import unittest

import numpy as np

import bitserial
import modules

SMALL = modules.matmul(2, 3, 70, 2, "signed", 1, "bipolar")


class InputErrorTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.compiled = bitserial.compile(SMALL)
        rng = np.random.default_rng(1)
        cls.x = modules.values(rng, (2, 70), 2, "signed")
        cls.w = modules.values(rng, (3, 70), 1, "bipolar")

    def assertInputError(self, pattern, *inputs):
        with self.assertRaisesRegex(bitserial.InputError, pattern) as context:
            self.compiled(*inputs)
        # Both kinds of error, as callers may expect either.
        self.assertIsInstance(context.exception, TypeError)
        self.assertIsInstance(context.exception, ValueError)

    def test_count(self):
        self.assertInputError(r"'matmul' takes 2 inputs, got 1", self.x)
        self.assertInputError(r"'matmul' takes 2 inputs, got 3", self.x, self.w, self.w)

    def test_dtype(self):
        self.assertInputError(r"argument #0 \(tensor<2x70xi16>\): expected dtype int16 "
                              r"\(or uint16\), got int32", self.x.astype(np.int32), self.w)
        self.assertInputError(r"expected dtype int16.*got float64",
                              self.x.astype(np.float64), self.w)
        self.assertInputError(r"argument #1.*got bool", self.x, self.w > 0)

    def test_shape(self):
        self.assertInputError(r"argument #0 \(tensor<2x70xi16>\): expected shape \(2, 70\), "
                              r"got \(2, 71\)", np.zeros((2, 71), np.int16), self.w)
        self.assertInputError(r"expected rank 2, got an array of shape \(140,\)",
                              self.x.ravel(), self.w)

    def test_values(self):
        bad = self.w.copy()
        bad[2, 5] = 2
        self.assertInputError(r"argument #1 .*: value 2 at index \[2, 5\] is not in "
                              r"\[-1, 1\] \(odd values only\), the range of the 1-bit "
                              r"bipolar encoding of bitserial.pack \(check_inputs=False "
                              r"skips this check\)", self.x, bad)
        unchecked = bitserial.compile(SMALL, check_inputs=False)
        self.assertEqual(unchecked(self.x, bad).shape, (2, 3))

    def test_lossy_conversion(self):
        self.assertInputError(r"cannot convert float64 values to int16 without changing them",
                              [[0.5] * 70] * 2, self.w)
        self.assertInputError(r"cannot convert int64 values to int16",
                              [[70000] * 70] * 2, self.w)
        self.assertInputError(r"argument #0.*: not an array|cannot convert object",
                              [[1, 2], [3]], self.w)
        self.assertInputError(r"cannot convert <U2 values", "ab", self.w)


BROKEN = """
func.func @f(%x: tensor<4xi32>) -> tensor<4xi32> {
  %y = arith.addi %x, %x : tensor<4xi64>
  return %y : tensor<4xi32>
}
"""


class CompileErrorTest(unittest.TestCase):
    def assertCompileError(self, pattern, *args, **kwargs):
        with self.assertRaisesRegex(bitserial.CompileError, pattern) as context:
            bitserial.compile(*args, **kwargs)
        return context.exception

    def test_malformed_ir(self):
        error = self.assertCompileError(r"<string>:3:\d+: error: ", BROKEN)
        # The rendered diagnostic: location, source line and caret.
        self.assertIn("%y = arith.addi %x, %x : tensor<4xi64>", error.diagnostics)
        self.assertIn("^", error.diagnostics)
        self.assertEqual(str(error), error.diagnostics.rstrip("\n"))
        error = self.assertCompileError(r"<bytes>:\d+:\d+: error: ", b"func.func @f( {")
        self.assertIn("error:", error.diagnostics)
        self.assertCompileError(r"error", b"ML\xefR\x00\x01garbage")

    def test_verifier_error(self):
        source = """
func.func @f(%x: tensor<4x70xi8>) -> tensor<4x1x2xi64, #bitserial.packed<bits = 2, encoding = signed, length = 70>> {
  %p = bitserial.pack %x : tensor<4x70xi8> -> tensor<4x1x2xi64, #bitserial.packed<bits = 2, encoding = signed, length = 70>>
  return %p : tensor<4x1x2xi64, #bitserial.packed<bits = 2, encoding = signed, length = 70>>
}
"""
        error = self.assertCompileError(r"error", source)
        self.assertTrue(error.diagnostics)

    def test_entry(self):
        two = SMALL + SMALL.replace("@matmul", "@other")
        self.assertCompileError(r"the module has 2 public functions; name one with entry= "
                                r"\(candidates: matmul, other\)", two)
        self.assertCompileError(r"unknown entry function 'nope' in <string> \(public "
                                r"functions: matmul, other\)", two, entry="nope")
        self.assertEqual(bitserial.compile(two, entry="other").entry, "other")
        error = self.assertCompileError(r"unknown entry", SMALL, entry="nope")
        self.assertEqual(error.diagnostics, "")

    def test_signature(self):
        self.assertCompileError(r"unsupported signature: argument #0 \(index\) is not a "
                                r"ranked tensor",
                                "func.func @f(%i: index) -> index {\n return %i : index\n}")
        self.assertCompileError(r"must have an i1, i8, i16, i32, i64, f32 or f64 element type",
                                "func.func @f(%x: tensor<4xbf16>) -> tensor<4xbf16> {\n"
                                " return %x : tensor<4xbf16>\n}")

    def test_cpu_and_target(self):
        self.assertCompileError(r"unknown cpu='no-such-cpu'", SMALL, cpu="no-such-cpu")
        with self.assertRaisesRegex(ValueError, r"unknown target 'x86'"):
            bitserial.compile(SMALL, target="x86")
        self.assertCompileError(r"target=\"aarch64-a53\" needs an AArch64 CPU", SMALL,
                                target="aarch64-a53")

    def test_options(self):
        for kwargs, pattern in ((dict(threads=0), "threads must be"),
                                (dict(threads=2000), "threads must be"),
                                (dict(opt_level=4), "opt_level must be"),
                                (dict(strategy="fast"), "unknown strategy")):
            with self.subTest(**kwargs):
                with self.assertRaisesRegex(ValueError, pattern):
                    bitserial.compile(SMALL, **kwargs)
        with self.assertRaises(TypeError):
            bitserial.compile(SMALL, entry=3)
        with self.assertRaises(TypeError):
            bitserial.compile(42)

    def test_missing_file(self):
        with self.assertRaisesRegex(FileNotFoundError, "no such MLIR file"):
            bitserial.compile("no/such/file.mlir")
        with self.assertRaisesRegex(bitserial.CompileError, r"cannot read '/'.*directory"):
            bitserial.compile(os.sep)


if __name__ == "__main__":
    unittest.main()
