// The lowered IR computes popcounts on packed words, and running it gives
// exactly the NumPy reference (plain integer matmul of the decoded values).
//
// RUN: bitserial-opt %s --bitserial-to-llvm | FileCheck %s --check-prefix=IR
// RUN: rm -rf %t && mkdir -p %t
// RUN: bitserial-run %s --entry dense --random-inputs --seed 11 --save-inputs %t/in --output %t/out.npy
// RUN: env PYTHONPATH=%bitserial_src_root/python %bitserial_python %S/check_matmul.py %t/in0.npy %t/in1.npy %t/in2.npy %t/out.npy | FileCheck %s
// RUN: bitserial-run %s --entry dense --random-inputs --seed 11 --print --repeat 3 | FileCheck %s --check-prefix=PRINT

// IR: llvm.func @dense
// IR: llvm.intr.ctpop
// IR: llvm.func @_mlir_ciface_dense
// CHECK: exact: 3x5 results match the reference
// PRINT: result #0: int32 [3, 5]
// PRINT: time over 3 calls: median {{[0-9.]+}} ms, min {{[0-9.]+}} ms, max {{[0-9.]+}} ms

// Signed 2-bit activations times bipolar 1-bit weights, K = 130, accumulated
// into a non-zero init.
func.func @dense(%x: tensor<3x130xi8>, %w: tensor<5x130xi8>, %init: tensor<3x5xi32>) -> tensor<3x5xi32>
    attributes {llvm.emit_c_interface} {
  %px = bitserial.pack %x : tensor<3x130xi8>
      -> tensor<3x2x3xi64, #bitserial.packed<bits = 2, encoding = signed, length = 130>>
  %pw = bitserial.pack %w : tensor<5x130xi8>
      -> tensor<5x1x3xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 130>>
  %y = bitserial.matmul
      ins(%px, %pw : tensor<3x2x3xi64, #bitserial.packed<bits = 2, encoding = signed, length = 130>>,
                     tensor<5x1x3xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 130>>)
      outs(%init : tensor<3x5xi32>) -> tensor<3x5xi32>
  return %y : tensor<3x5xi32>
}
