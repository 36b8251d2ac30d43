// A bit-serial layer whose f32 scores come from bitserial.dequantize, next
// to its i32 accumulator: bitserial-run returns both, bit for bit what NumPy
// computes (float32 conversion, multiply, add, each rounded), and profiles
// the epilogue as its own row.
//
// RUN: rm -rf %t && mkdir -p %t
// RUN: bitserial-run %s --random-inputs --seed 3 --save-inputs %t/in --output %t/f.npy --output %t/acc.npy --profile | FileCheck %s --check-prefix=PROFILE
// RUN: bitserial-run %s --random-inputs --seed 3 --strategy reference --output %t/f_ref.npy --output %t/acc_ref.npy
// RUN: env PYTHONPATH=%bitserial_src_root/python %bitserial_python %S/Inputs/expect.py x=%t/in0.npy w=%t/in1.npy s=%t/in2.npy b=%t/in3.npy f=%t/f.npy fr=%t/f_ref.npy acc=%t/acc.npy -- \
// RUN:   "acc == x.astype(np.int64) @ w.astype(np.int64).T" \
// RUN:   "f.dtype == np.float32 and f.view(np.uint32) == (acc.astype(np.float32) * s + b).view(np.uint32)" \
// RUN:   "fr.view(np.uint32) == f.view(np.uint32)" | FileCheck %s --check-prefix=EXPECT
// EXPECT-COUNT-3: PASS
// PROFILE-DAG: {{^ +}}bitserial.matmul{{ +}}float-epilogue.mlir:[[#]]{{ +}}1{{ +}}
// PROFILE-DAG: {{^ +}}bitserial.dequantize{{ +}}float-epilogue.mlir:[[#]]{{ +}}1{{ +}}

!X = tensor<4x4x2xi64, #bitserial.packed<bits = 4, encoding = signed, length = 70>>
!W = tensor<8x2x2xi64, #bitserial.packed<bits = 2, encoding = bipolar, length = 70>>

func.func @scores(%x: tensor<4x70xi8>, %w: tensor<8x70xi8>, %scale: tensor<8xf32>, %bias: tensor<8xf32>)
    -> (tensor<4x8xf32>, tensor<4x8xi32>) {
  %px = bitserial.pack %x : tensor<4x70xi8> -> !X
  %pw = bitserial.pack %w : tensor<8x70xi8> -> !W
  %zeros = arith.constant dense<0> : tensor<4x8xi32>
  %acc = bitserial.matmul ins(%px, %pw : !X, !W) outs(%zeros : tensor<4x8xi32>) -> tensor<4x8xi32>
  %f = bitserial.dequantize %acc, %scale, %bias : tensor<4x8xi32>, tensor<8xf32>, tensor<8xf32> -> tensor<4x8xf32>
  return %f, %acc : tensor<4x8xf32>, tensor<4x8xi32>
}
