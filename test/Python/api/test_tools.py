"""Compiled.ir(), benchmark(), profile(), random_inputs()."""

import time
import unittest

import numpy as np

import bitserial
import modules

SMALL = modules.matmul(4, 8, 100, 2, "unsigned", 2, "signed")


class IRTest(unittest.TestCase):
    def test_default_stages(self):
        compiled = bitserial.compile(SMALL)
        self.assertEqual(compiled.ir_stages, ["input", "llvm"])
        self.assertIn("bitserial.matmul", compiled.ir("input"))
        self.assertIn("func.func @matmul", compiled.ir("input"))
        lowered = compiled.ir("llvm")
        self.assertIn("llvm.func @_mlir_ciface_matmul", lowered)
        self.assertNotIn("bitserial.matmul", lowered)
        with self.assertRaisesRegex(ValueError, "keep_ir=True"):
            compiled.ir("one-shot-bufferize")
        self.assertEqual(compiled.pass_ir, [])

    def test_keep_ir(self):
        compiled = bitserial.compile(SMALL, keep_ir=True)
        stages = compiled.ir_stages
        self.assertEqual(stages[0], "input")
        self.assertEqual(stages[-2:], ["llvm", "llvmir"])
        for name in ("convert-bitserial-to-vector", "one-shot-bufferize", "canonicalize",
                     "canonicalize#2", "convert-func-to-llvm"):
            self.assertIn(name, stages)
        self.assertIn("bitserial.matmul", compiled.ir("bitserial-emit-c-interface"))
        self.assertNotIn("bitserial.matmul", compiled.ir("convert-bitserial-to-vector"))
        self.assertIn("memref", compiled.ir("one-shot-bufferize"))
        # Passes in pipeline order; a pass on functions names each function.
        names = [name for name, _ in compiled.pass_ir]
        self.assertLess(names.index("one-shot-bufferize"), names.index("convert-func-to-llvm"))
        self.assertIn("func.func @matmul", dict(compiled.pass_ir)["convert-linalg-to-loops"])
        self.assertIn("define", compiled.ir("llvmir"))
        self.assertIn("@_mlir_ciface_matmul", compiled.ir("llvmir"))
        self.assertEqual(compiled.ir("llvm"), compiled.ir_stages and compiled.ir("llvm"))
        rng = np.random.default_rng(1)
        x = modules.values(rng, (4, 100), 2, "unsigned")
        w = modules.values(rng, (8, 100), 2, "signed")
        np.testing.assert_array_equal(compiled(x, w), bitserial.matmul(x, w))


class BenchmarkTest(unittest.TestCase):
    def test_benchmark(self):
        compiled = bitserial.compile(SMALL)
        result = compiled.benchmark(repeat=7, warmup=2)
        self.assertEqual(len(result.samples), 7)
        self.assertTrue(all(s > 0 for s in result.samples))
        self.assertLessEqual(result.min, result.median)
        self.assertLessEqual(result.median, result.max)
        self.assertGreater(result.mean, 0)
        self.assertIn("7 calls: median", str(result))
        x, w = compiled.random_inputs(seed=3)
        self.assertEqual(len(compiled.benchmark(repeat=1, inputs=[x, w]).samples), 1)
        with self.assertRaises(ValueError):
            compiled.benchmark(repeat=0)
        for bad in (-1, 60001, "5", True):
            with self.assertRaises(ValueError):
                compiled.benchmark(repeat=1, warmup_ms=bad)
        with self.assertRaises(bitserial.InputError):
            compiled.benchmark(inputs=[x])

    def test_benchmark_warmup(self):
        compiled = bitserial.compile(SMALL, profile=True)
        # No warm-up: only the timed calls run.
        compiled.reset_profile()
        compiled.benchmark(repeat=2, warmup=0, warmup_ms=0)
        self.assertEqual(compiled.profile().calls, 2)
        # A count of untimed calls.
        compiled.reset_profile()
        compiled.benchmark(repeat=2, warmup=5, warmup_ms=0)
        self.assertEqual(compiled.profile().calls, 7)
        # A time: far more than 3 calls of this small matmul in 30 ms.
        compiled.reset_profile()
        start = time.perf_counter()
        compiled.benchmark(repeat=1, warmup=0, warmup_ms=30)
        self.assertGreaterEqual(time.perf_counter() - start, 0.03)
        self.assertGreater(compiled.profile().calls, 4)

    def test_random_inputs(self):
        compiled = bitserial.compile(SMALL)
        x, w = compiled.random_inputs(seed=5)
        self.assertEqual((x.dtype, x.shape, w.shape), (np.int16, (4, 100), (8, 100)))
        self.assertTrue(((0 <= x) & (x <= 3)).all())
        self.assertTrue(((-2 <= w) & (w <= 1)).all())
        np.testing.assert_array_equal(compiled(x, w), bitserial.matmul(x, w))
        dynamic = bitserial.compile(
            "func.func @f(%x: tensor<?xf32>) -> tensor<?xf32> {\n return %x : tensor<?xf32>\n}")
        with self.assertRaisesRegex(bitserial.InputError, "dynamic shape"):
            dynamic.random_inputs()


class ProfileTest(unittest.TestCase):
    def test_profile(self):
        compiled = bitserial.compile(SMALL, profile=True)
        x, w = compiled.random_inputs()
        for _ in range(3):
            compiled(x, w)
        profile = compiled.profile()
        self.assertEqual(profile.calls, 3)
        self.assertGreater(profile.seconds, 0)
        names = [row.name for row in profile.ops]
        self.assertIn("bitserial.matmul", names)
        matmul = profile.ops[names.index("bitserial.matmul")]
        self.assertEqual(matmul.calls, 3)
        self.assertRegex(matmul.location, r"<string>:\d+")
        self.assertLessEqual(sum(row.seconds for row in profile.ops), profile.seconds)
        compiled.reset_profile()
        self.assertEqual(compiled.profile().calls, 0)

    def test_needs_profile(self):
        with self.assertRaisesRegex(ValueError, "profile=True"):
            bitserial.compile(SMALL).profile()


if __name__ == "__main__":
    unittest.main()
