// Integer networks: a bit-serial layer followed by elementwise arith on
// tensors (residual add, ReLU as arith.maxsi), TOSA per-channel
// requantization and argmax; and an int8 TOSA conv2d with zero points,
// rescale, max pooling, flatten and argmax. Checked against NumPy under the
// vector (tiled, threaded) and reference lowerings.
//
// RUN: rm -rf %t && mkdir -p %t
// RUN: bitserial-run %s --entry residual --random-inputs --seed 4 --save-inputs %t/r --output %t/r_q.npy --output %t/r_am.npy
// RUN: %bitserial_python %S/Inputs/check_networks.py residual %t/r %t/r_q.npy %t/r_am.npy | FileCheck %s --check-prefix=RES
// RUN: bitserial-run %s --entry residual --random-inputs --seed 4 --tile --num-threads 2 --output %t/r_q2.npy --output %t/r_am2.npy
// RUN: %bitserial_python %S/Inputs/check_networks.py residual %t/r %t/r_q2.npy %t/r_am2.npy | FileCheck %s --check-prefix=RES
// RUN: bitserial-run %s --entry residual --random-inputs --seed 4 --strategy reference --output %t/r_q3.npy --output %t/r_am3.npy
// RUN: %bitserial_python %S/Inputs/check_networks.py residual %t/r %t/r_q3.npy %t/r_am3.npy | FileCheck %s --check-prefix=RES
// RES: residual: OK (4, 8) (4,)
//
// RUN: bitserial-run %s --entry int8_conv --random-inputs --seed 5 --save-inputs %t/c --output %t/c_p.npy --output %t/c_am.npy
// RUN: %bitserial_python %S/Inputs/check_networks.py int8_conv %t/c %t/c_p.npy %t/c_am.npy | FileCheck %s --check-prefix=CONV
// RUN: bitserial-run %s --entry int8_conv --random-inputs --seed 5 --strategy reference --num-threads 2 --output %t/c_p2.npy --output %t/c_am2.npy
// RUN: %bitserial_python %S/Inputs/check_networks.py int8_conv %t/c %t/c_p2.npy %t/c_am2.npy | FileCheck %s --check-prefix=CONV
// CONV: int8_conv: OK (1, 3, 3, 4) (1, 36)

!X = tensor<4x4x2xi64, #bitserial.packed<bits = 4, encoding = signed, length = 70>>
!W = tensor<8x2x2xi64, #bitserial.packed<bits = 2, encoding = bipolar, length = 70>>

func.func @residual(%x: tensor<4x70xi8>, %w: tensor<8x70xi8>, %skip: tensor<4x8xi32>)
    -> (tensor<4x8xi8>, tensor<4xi32>) {
  %px = bitserial.pack %x : tensor<4x70xi8> -> !X
  %pw = bitserial.pack %w : tensor<8x70xi8> -> !W
  %zeros = arith.constant dense<0> : tensor<4x8xi32>
  %acc = bitserial.matmul ins(%px, %pw : !X, !W) outs(%zeros : tensor<4x8xi32>) -> tensor<4x8xi32>
  %sum = arith.addi %acc, %skip : tensor<4x8xi32>
  %relu = arith.maxsi %sum, %zeros : tensor<4x8xi32>
  %mult = "tosa.const"() {values = dense<[1073741824, 1518500250, 1859775393, 1276901417, 2147483647, 1073741824, 1431655765, 1717986918]> : tensor<8xi32>} : () -> tensor<8xi32>
  %shift = "tosa.const"() {values = dense<[31, 32, 33, 31, 32, 33, 31, 32]> : tensor<8xi8>} : () -> tensor<8xi8>
  %izp = "tosa.const"() {values = dense<0> : tensor<1xi32>} : () -> tensor<1xi32>
  %ozp = "tosa.const"() {values = dense<-128> : tensor<1xi8>} : () -> tensor<1xi8>
  %q = tosa.rescale %relu, %mult, %shift, %izp, %ozp {input_unsigned = false, output_unsigned = false, per_channel = true, rounding_mode = SINGLE_ROUND, scale32 = true}
      : (tensor<4x8xi32>, tensor<8xi32>, tensor<8xi8>, tensor<1xi32>, tensor<1xi8>) -> tensor<4x8xi8>
  %am = tosa.argmax %q {axis = 1 : i32} : (tensor<4x8xi8>) -> tensor<4xi32>
  return %q, %am : tensor<4x8xi8>, tensor<4xi32>
}

func.func @int8_conv(%x: tensor<1x8x8x3xi8>, %w: tensor<4x3x3x3xi8>, %b: tensor<4xi32>)
    -> (tensor<1x3x3x4xi8>, tensor<1x36xi32>) {
  %izp = "tosa.const"() {values = dense<-7> : tensor<1xi8>} : () -> tensor<1xi8>
  %wzp = "tosa.const"() {values = dense<0> : tensor<1xi8>} : () -> tensor<1xi8>
  %c = tosa.conv2d %x, %w, %b, %izp, %wzp {acc_type = i32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>}
      : (tensor<1x8x8x3xi8>, tensor<4x3x3x3xi8>, tensor<4xi32>, tensor<1xi8>, tensor<1xi8>) -> tensor<1x6x6x4xi32>
  %mult = "tosa.const"() {values = dense<[1073741824, 1518500250, 1859775393, 2147483647]> : tensor<4xi32>} : () -> tensor<4xi32>
  %shift = "tosa.const"() {values = dense<[40, 41, 42, 40]> : tensor<4xi8>} : () -> tensor<4xi8>
  %rzp = "tosa.const"() {values = dense<0> : tensor<1xi32>} : () -> tensor<1xi32>
  %ozp = "tosa.const"() {values = dense<5> : tensor<1xi8>} : () -> tensor<1xi8>
  %q = tosa.rescale %c, %mult, %shift, %rzp, %ozp {input_unsigned = false, output_unsigned = false, per_channel = true, rounding_mode = SINGLE_ROUND, scale32 = true}
      : (tensor<1x6x6x4xi32>, tensor<4xi32>, tensor<4xi8>, tensor<1xi32>, tensor<1xi8>) -> tensor<1x6x6x4xi8>
  %p = tosa.max_pool2d %q {kernel = array<i64: 2, 2>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 2, 2>}
      : (tensor<1x6x6x4xi8>) -> tensor<1x3x3x4xi8>
  %s = tosa.const_shape {values = dense<[1, 36]> : tensor<2xindex>} : () -> !tosa.shape<2>
  %f = tosa.reshape %p, %s : (tensor<1x3x3x4xi8>, !tosa.shape<2>) -> tensor<1x36xi8>
  %wide = tosa.cast %f : (tensor<1x36xi8>) -> tensor<1x36xi32>
  return %p, %wide : tensor<1x3x3x4xi8>, tensor<1x36xi32>
}
