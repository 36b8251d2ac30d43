// K = 2^20 + 3 with 8-bit x 8-bit unsigned operands: each output is up to
// K * 255 * 255 ~ 2^36, so it only fits the declared i64 result. Nothing may
// wrap on the way (narrow counts, plane-weight shifts).
//
// RUN: rm -rf %t && mkdir -p %t
// RUN: bitserial-run %s --entry large_k --random-inputs --seed 5 --save-inputs %t/in --output %t/out.npy
// RUN: env PYTHONPATH=%bitserial_src_root/python %bitserial_python %S/check_matmul.py --no-range-check %t/in0.npy %t/in1.npy %t/in2.npy %t/out.npy | FileCheck %s
// CHECK: exact: 2x2 results match the reference
// CHECK: largest |value| {{[0-9]+}} > 2^31

func.func @large_k(%x: tensor<2x1048579xi16>, %w: tensor<2x1048579xi16>, %init: tensor<2x2xi64>) -> tensor<2x2xi64> {
  %px = bitserial.pack %x : tensor<2x1048579xi16>
      -> tensor<2x8x16385xi64, #bitserial.packed<bits = 8, encoding = unsigned, length = 1048579>>
  %pw = bitserial.pack %w : tensor<2x1048579xi16>
      -> tensor<2x8x16385xi64, #bitserial.packed<bits = 8, encoding = unsigned, length = 1048579>>
  %y = bitserial.matmul
      ins(%px, %pw : tensor<2x8x16385xi64, #bitserial.packed<bits = 8, encoding = unsigned, length = 1048579>>,
                     tensor<2x8x16385xi64, #bitserial.packed<bits = 8, encoding = unsigned, length = 1048579>>)
      outs(%init : tensor<2x2xi64>) -> tensor<2x2xi64>
  return %y : tensor<2x2xi64>
}
