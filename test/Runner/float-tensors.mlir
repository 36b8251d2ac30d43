// f32 and f64 arguments and results, mixed with integer ones: random inputs
// in [-1, 1), .npy files in and out, --print, checked against NumPy.
//
// RUN: rm -rf %t && mkdir -p %t
// RUN: bitserial-run %s --random-inputs --seed 5 --save-inputs %t/in --output %t/y.npy --output %t/s.npy --output %t/c.npy
// RUN: env PYTHONPATH=%bitserial_src_root/python %bitserial_python %S/Inputs/expect.py x=%t/in0.npy w=%t/in1.npy b=%t/in2.npy n=%t/in3.npy y=%t/y.npy s=%t/s.npy c=%t/c.npy -- \
// RUN:   "x.dtype == np.float32 and w.dtype == np.float32 and b.dtype == np.float64 and n.dtype == np.int32" \
// RUN:   "((x >= -1) & (x < 1)).all() and x.std() > 0.3 and ((b >= -1) & (b < 1)).all()" \
// RUN:   "y.dtype == np.float32 and s.dtype == np.float64 and c.dtype == np.int32" \
// RUN:   "np.allclose(y, x @ w, rtol=1e-6, atol=1e-6)" \
// RUN:   "s == b * 2.0 + n.astype(np.float64)" \
// RUN:   "c == np.floor(b * 8.0).astype(np.int32)" \
// RUN:   | FileCheck %s --check-prefix=EXPECT
// EXPECT-COUNT-6: PASS
// EXPECT-NOT: MISMATCH
//
// The same with inputs written by NumPy.
// RUN: %bitserial_python -c "import numpy as np; r = np.random.default_rng(1); np.save('%t/x.npy', r.standard_normal((3, 5)).astype(np.float32)); np.save('%t/w.npy', r.standard_normal((5, 4)).astype(np.float32)); np.save('%t/b.npy', r.standard_normal(4) * 1e3); np.save('%t/n.npy', np.array([-7, 0, 9, 2**20], np.int32))"
// RUN: bitserial-run %s --input %t/x.npy --input %t/w.npy --input %t/b.npy --input %t/n.npy --output %t/y2.npy --output %t/s2.npy --output %t/c2.npy
// RUN: env PYTHONPATH=%bitserial_src_root/python %bitserial_python %S/Inputs/expect.py x=%t/x.npy w=%t/w.npy b=%t/b.npy n=%t/n.npy y=%t/y2.npy s=%t/s2.npy c=%t/c2.npy -- \
// RUN:   "np.allclose(y, x @ w, rtol=1e-5, atol=1e-6)" "s == b * 2.0 + n" "c == np.floor(b * 8.0).astype(np.int32)" \
// RUN:   | FileCheck %s --check-prefix=EXPECT2
// EXPECT2-COUNT-3: PASS
//
// --print: the digits that read back to the same value.
// RUN: bitserial-run %s --input %t/x.npy --input %t/w.npy --input %t/b.npy --input %t/n.npy --print > %t/print.txt
// RUN: FileCheck %s --check-prefix=PRINT < %t/print.txt
// PRINT: result #0: float32 [3, 4]
// PRINT: result #1: float64 [4]
// PRINT: result #2: int32 [4]
// RUN: %bitserial_python -c "import numpy as np; t = open('%t/print.txt').read().split('result #'); y = np.array(t[1].split()[4:], np.float32); s = np.array(t[2].split()[3:], np.float64); assert (y == np.load('%t/y2.npy').ravel()).all() and (s == np.load('%t/s2.npy')).all(); print('round trip')" | FileCheck %s --check-prefix=ROUND
// ROUND: round trip
//
// Wrong dtypes name the argument.
// RUN: %bitserial_python -c "import numpy as np; np.save('%t/x64.npy', np.zeros((3, 5))); np.save('%t/xi.npy', np.zeros((3, 5), np.int32)); np.save('%t/n32.npy', np.zeros(4, np.float32)); np.save('%t/f16.npy', np.zeros((3, 5), np.float16))"
// RUN: not bitserial-run %s --input %t/x64.npy --input %t/w.npy --input %t/b.npy --input %t/n.npy 2>&1 | FileCheck %s --check-prefix=F8
// F8: bitserial-run: error: argument #0 (tensor<3x5xf32>): expected dtype float32, got float64
// RUN: not bitserial-run %s --input %t/xi.npy --input %t/w.npy --input %t/b.npy --input %t/n.npy 2>&1 | FileCheck %s --check-prefix=INT
// INT: bitserial-run: error: argument #0 (tensor<3x5xf32>): expected dtype float32, got int32
// RUN: not bitserial-run %s --input %t/x.npy --input %t/w.npy --input %t/n32.npy --input %t/n.npy 2>&1 | FileCheck %s --check-prefix=F4
// F4: bitserial-run: error: argument #2 (tensor<4xf64>): expected dtype float64, got float32
// RUN: not bitserial-run %s --input %t/x.npy --input %t/w.npy --input %t/b.npy --input %t/n32.npy 2>&1 | FileCheck %s --check-prefix=FORINT
// FORINT: bitserial-run: error: argument #3 (tensor<4xi32>): expected dtype int32 (or uint32), got float32
// RUN: not bitserial-run %s --input %t/f16.npy --input %t/w.npy --input %t/b.npy --input %t/n.npy 2>&1 | FileCheck %s --check-prefix=HALF
// HALF: bitserial-run: error: {{.*}}f16.npy: unsupported dtype '<f2' (expected int8/16/32/64, uint8/16/32/64, bool, float32 or float64)
//
// Ahead-of-time compilation declares float descriptors.
// RUN: bitserial-compile %s -o %t/m.o --header %t/m.h
// RUN: FileCheck %s --check-prefix=HEADER < %t/m.h
// HEADER: float *aligned;
// HEADER: } bitserial_memref_f32_2d;
// HEADER: double *aligned;
// HEADER: } bitserial_memref_f64_1d;
// HEADER: void _mlir_ciface_mixed(bitserial_results_mixed *results, const bitserial_memref_f32_2d *arg0, const bitserial_memref_f32_2d *arg1, const bitserial_memref_f64_1d *arg2, const bitserial_memref_i32_1d *arg3);

#map = affine_map<(d0) -> (d0)>
func.func @mixed(%x: tensor<3x5xf32>, %w: tensor<5x4xf32>, %b: tensor<4xf64>, %n: tensor<4xi32>)
    -> (tensor<3x4xf32>, tensor<4xf64>, tensor<4xi32>) {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<3x4xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<3x4xf32>) -> tensor<3x4xf32>
  %y = linalg.matmul ins(%x, %w : tensor<3x5xf32>, tensor<5x4xf32>) outs(%acc : tensor<3x4xf32>) -> tensor<3x4xf32>
  %e1 = tensor.empty() : tensor<4xf64>
  %s = linalg.generic {indexing_maps = [#map, #map, #map], iterator_types = ["parallel"]}
      ins(%b, %n : tensor<4xf64>, tensor<4xi32>) outs(%e1 : tensor<4xf64>) {
  ^bb0(%bv: f64, %nv: i32, %out: f64):
    %two = arith.constant 2.0 : f64
    %d = arith.mulf %bv, %two : f64
    %f = arith.sitofp %nv : i32 to f64
    %r = arith.addf %d, %f : f64
    linalg.yield %r : f64
  } -> tensor<4xf64>
  %e2 = tensor.empty() : tensor<4xi32>
  %c = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel"]}
      ins(%b : tensor<4xf64>) outs(%e2 : tensor<4xi32>) {
  ^bb0(%bv: f64, %out: i32):
    %eight = arith.constant 8.0 : f64
    %m = arith.mulf %bv, %eight : f64
    %fl = math.floor %m : f64
    %i = arith.fptosi %fl : f64 to i32
    linalg.yield %i : i32
  } -> tensor<4xi32>
  return %y, %s, %c : tensor<3x4xf32>, tensor<4xf64>, tensor<4xi32>
}
