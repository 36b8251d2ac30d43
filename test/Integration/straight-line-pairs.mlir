// A 1x1 convolution whose 4 plane pairs take 16 steps together (2 x 2 bits
// over 250 channels: 4 words) is one straight-line body with unroll-steps
// (test/Conversion/BitserialToVector/a53-kernel-options.mlir checks that).
// The 128-bit kernels, lowered by bitserial-opt and run on the host, and the
// Cortex-A53 pipeline under qemu, are exact against NumPy: batch 2, stride
// 2, odd sizes, signed activations against unsigned weights (the plane pairs
// of the activations' sign plane are negative: no Horner order).
// RUN: rm -rf %t && mkdir -p %t
// RUN: bitserial-run %s --random-inputs --seed 6 --save-inputs %t/in --output %t/default.npy
// RUN: bitserial-opt %s --convert-bitserial-to-vector="vector-bits=128 pixel-block=3 channel-block=2 fit-register-block=false unroll-steps=true narrow-accumulators=true horner-plane-pairs=true" -o %t/kernel.mlir
// RUN: bitserial-run %t/kernel.mlir --input %t/in0.npy --input %t/in1.npy --input %t/in2.npy --output %t/out.npy
// RUN: env PYTHONPATH=%bitserial_src_root/python %bitserial_python %S/check_conv2d.py --strides 2,2 %t/in0.npy %t/in1.npy %t/in2.npy %t/out.npy | FileCheck %s
// The same with unsigned activations (Horner order).
// RUN: sed -e 's/bits = 2, encoding = signed/bits = 2, encoding = unsigned/' %s > %t/unsigned.mlir
// RUN: bitserial-run %t/unsigned.mlir --random-inputs --seed 7 --save-inputs %t/uin --output %t/udefault.npy
// RUN: bitserial-opt %t/unsigned.mlir --convert-bitserial-to-vector="vector-bits=128 pixel-block=3 channel-block=2 fit-register-block=false unroll-steps=true narrow-accumulators=true horner-plane-pairs=true" -o %t/ukernel.mlir
// RUN: bitserial-run %t/ukernel.mlir --input %t/uin0.npy --input %t/uin1.npy --input %t/uin2.npy --output %t/uout.npy
// RUN: env PYTHONPATH=%bitserial_src_root/python %bitserial_python %S/check_conv2d.py --strides 2,2 %t/uin0.npy %t/uin1.npy %t/uin2.npy %t/uout.npy | FileCheck %s

// CHECK: exact: 2x6x7x5 results match the reference
!X = tensor<2x11x13x2x4xi64, #bitserial.packed<bits = 2, encoding = signed, length = 250>>
!F = tensor<5x1x1x2x4xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 250>>
func.func @main(%x: tensor<2x11x13x250xi8>, %w: tensor<5x1x1x250xi8>, %init: tensor<2x6x7x5xi32>) -> tensor<2x6x7x5xi32> {
  %a = bitserial.pack %x : tensor<2x11x13x250xi8> -> !X
  %b = bitserial.pack %w : tensor<5x1x1x250xi8> -> !F
  %r = bitserial.conv2d ins(%a, %b : !X, !F) outs(%init : tensor<2x6x7x5xi32>) strides = [2, 2] -> tensor<2x6x7x5xi32>
  return %r : tensor<2x6x7x5xi32>
}
