// Straight-line steps of a strided window (unroll-steps, the A53 kernels'
// option): with 4 words per plane the steps run in pairs of adjacent words
// with taps that read the same columns adjacent (stride 2: kw 0, 2, 1;
// test/Conversion/BitserialToVector/a53-kernel-options.mlir checks the
// order), and a plane pair takes 36 steps: more than one chunk of byte sums,
// so the 16-bit sums either take byte sums widened per kernel row or, with
// widen-each-step, every step's widened counts. The 128-bit kernels, lowered
// by bitserial-opt and run on the host, are exact against NumPy (the inputs
// come from a run of the module itself, which keeps them in the packed
// encodings' ranges): 250 channels (K not a multiple of 64), batch 2, odd
// sizes, asymmetric padding, 2-bit unsigned activations against 2-bit
// signed weights. strided-steps-aarch64.test runs the A53 pipeline under
// qemu.
// RUN: rm -rf %t && mkdir -p %t
// RUN: bitserial-run %s --random-inputs --seed 3 --save-inputs %t/in --output %t/default.npy
// RUN: env PYTHONPATH=%bitserial_src_root/python %bitserial_python %S/check_conv2d.py --strides 2,2 --padding 1,0,1,2 %t/in0.npy %t/in1.npy %t/in2.npy %t/default.npy | FileCheck %s
// RUN: bitserial-opt %s --convert-bitserial-to-vector="vector-bits=128 pixel-block=3 channel-block=2 fit-register-block=false unroll-steps=true narrow-accumulators=true" -o %t/chunks.mlir
// RUN: bitserial-run %t/chunks.mlir --input %t/in0.npy --input %t/in1.npy --input %t/in2.npy --output %t/chunks.npy
// RUN: env PYTHONPATH=%bitserial_src_root/python %bitserial_python %S/check_conv2d.py --strides 2,2 --padding 1,0,1,2 %t/in0.npy %t/in1.npy %t/in2.npy %t/chunks.npy | FileCheck %s
// RUN: bitserial-opt %s --convert-bitserial-to-vector="vector-bits=128 pixel-block=3 channel-block=2 fit-register-block=false unroll-steps=true narrow-accumulators=true widen-each-step=true" -o %t/widened.mlir
// RUN: bitserial-run %t/widened.mlir --input %t/in0.npy --input %t/in1.npy --input %t/in2.npy --output %t/widened.npy
// RUN: env PYTHONPATH=%bitserial_src_root/python %bitserial_python %S/check_conv2d.py --strides 2,2 --padding 1,0,1,2 %t/in0.npy %t/in1.npy %t/in2.npy %t/widened.npy | FileCheck %s
// The same with dilation 2 along the row (kw 0, 1, 2: every tap reads the
// even columns).
// RUN: sed -e 's/dilations = \[1, 1\]/dilations = [1, 2]/' -e 's/2x6x7x5/2x6x6x5/g' %s > %t/dilated.mlir
// RUN: bitserial-run %t/dilated.mlir --random-inputs --seed 4 --save-inputs %t/din --output %t/ddefault.npy
// RUN: bitserial-opt %t/dilated.mlir --convert-bitserial-to-vector="vector-bits=128 pixel-block=3 channel-block=2 fit-register-block=false unroll-steps=true narrow-accumulators=true widen-each-step=true" -o %t/dilated-kernel.mlir
// RUN: bitserial-run %t/dilated-kernel.mlir --input %t/din0.npy --input %t/din1.npy --input %t/din2.npy --output %t/dout.npy
// RUN: env PYTHONPATH=%bitserial_src_root/python %bitserial_python %S/check_conv2d.py --strides 2,2 --padding 1,0,1,2 --dilations 1,2 %t/din0.npy %t/din1.npy %t/din2.npy %t/dout.npy | FileCheck %s --check-prefix=DILATED

// CHECK: exact: 2x6x7x5 results match the reference
// DILATED: exact: 2x6x6x5 results match the reference
!X = tensor<2x13x13x2x4xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 250>>
!F = tensor<5x3x3x2x4xi64, #bitserial.packed<bits = 2, encoding = signed, length = 250>>
func.func @main(%x: tensor<2x13x13x250xi8>, %w: tensor<5x3x3x250xi8>, %init: tensor<2x6x7x5xi32>) -> tensor<2x6x7x5xi32> {
  %a = bitserial.pack %x : tensor<2x13x13x250xi8> -> !X
  %b = bitserial.pack %w : tensor<5x3x3x250xi8> -> !F
  %r = bitserial.conv2d ins(%a, %b : !X, !F) outs(%init : tensor<2x6x7x5xi32>) strides = [2, 2] padding = [1, 0, 1, 2] dilations = [1, 1] -> tensor<2x6x7x5xi32>
  return %r : tensor<2x6x7x5xi32>
}
