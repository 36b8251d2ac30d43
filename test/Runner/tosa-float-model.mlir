// A float TOSA model (conv2d + bias, clamp as ReLU6, max and average
// pooling, reshape to flatten, matmul as the fully connected layer: TOSA 1.0
// has no fully_connected) runs through bitserial-run under every lowering
// option and matches NumPy.
//
// RUN: rm -rf %t && mkdir -p %t
// RUN: bitserial-run %s --random-inputs --seed 3 --save-inputs %t/in --output %t/out.npy
// RUN: %bitserial_python %S/Inputs/check_networks.py tosa_float %t/in %t/out.npy | FileCheck %s
// RUN: bitserial-run %s --random-inputs --seed 3 --tile --num-threads 2 --output %t/out2.npy
// RUN: %bitserial_python %S/Inputs/check_networks.py tosa_float %t/in %t/out2.npy | FileCheck %s
// RUN: bitserial-run %s --random-inputs --seed 3 --strategy reference --output %t/out3.npy
// RUN: %bitserial_python %S/Inputs/check_networks.py tosa_float %t/in %t/out3.npy | FileCheck %s
// CHECK: tosa_float: OK (1, 10)

func.func @tosa_float(%x: tensor<1x8x8x3xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<4xf32>,
                      %fc: tensor<1x16x10xf32>) -> tensor<1x10xf32> {
  %zp = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  %c = tosa.conv2d %x, %w, %b, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 1, 1, 1, 1>, stride = array<i64: 1, 1>}
      : (tensor<1x8x8x3xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x8x8x4xf32>
  %r = tosa.clamp %c {min_val = 0.0 : f32, max_val = 6.0 : f32} : (tensor<1x8x8x4xf32>) -> tensor<1x8x8x4xf32>
  %p = tosa.max_pool2d %r {kernel = array<i64: 2, 2>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 2, 2>}
      : (tensor<1x8x8x4xf32>) -> tensor<1x4x4x4xf32>
  %a = tosa.avg_pool2d %p, %zp, %zp {acc_type = f32, kernel = array<i64: 2, 2>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 2, 2>}
      : (tensor<1x4x4x4xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x2x2x4xf32>
  %s1 = tosa.const_shape {values = dense<[1, 1, 16]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %f = tosa.reshape %a, %s1 : (tensor<1x2x2x4xf32>, !tosa.shape<3>) -> tensor<1x1x16xf32>
  %m = tosa.matmul %f, %fc, %zp, %zp : (tensor<1x1x16xf32>, tensor<1x16x10xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x1x10xf32>
  %s2 = tosa.const_shape {values = dense<[1, 10]> : tensor<2xindex>} : () -> !tosa.shape<2>
  %o = tosa.reshape %m, %s2 : (tensor<1x1x10xf32>, !tosa.shape<2>) -> tensor<1x10xf32>
  return %o : tensor<1x10xf32>
}
