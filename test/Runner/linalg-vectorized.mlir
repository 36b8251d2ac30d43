// Named linalg matmuls, convolutions and pools (written as linalg or from
// TOSA) are tiled and vectorized by bitserial-to-llvm; odd extents, strides,
// dilations, integer and float elements match NumPy.
//
// RUN: bitserial-opt %s --bitserial-front-end --bitserial-vectorize-linalg | FileCheck %s --check-prefix=IR
// IR-LABEL: func.func @layers
// IR:         vector.fma {{.*}} : vector<13xf32>
// IR:         vector.transfer_read {{.*}} : tensor<1x8x8xi8>, vector<1x8x8xi8>
// IR:         arith.muli {{.*}} : vector<12xi32>
// IR:         arith.maxsi {{.*}} : vector<1x1x24xi8>
// IR:         arith.addf {{.*}} : vector<
// IR-NOT:     linalg.matmul
// IR-NOT:     linalg.conv
// IR-NOT:     linalg.pooling
//
// RUN: rm -rf %t && mkdir -p %t
// RUN: bitserial-run %s --random-inputs --seed 2 --save-inputs %t/in --output %t/mm.npy --output %t/conv.npy --output %t/max.npy --output %t/sum.npy
// RUN: env PYTHONPATH=%bitserial_src_root/python %bitserial_python %S/Inputs/expect.py a=%t/in0.npy b=%t/in1.npy x=%t/in2.npy w=%t/in3.npy f=%t/in4.npy mm=%t/mm.npy conv=%t/conv.npy mx=%t/max.npy sm=%t/sum.npy -- \
// RUN:   "np.allclose(mm, a.astype(np.float64) @ b, rtol=1e-5, atol=1e-5)" \
// RUN:   "conv == sum(np.einsum('nhwc,cf->nhwf', x[:, i:i+2*9:2, j:j+3*9:3, :].astype(np.int64), w[i, j].astype(np.int64)) for i in range(3) for j in range(2))" \
// RUN:   "mx == np.max([x[:, i:i+2*8:2, j:j+2*10:2, :] for i in range(3) for j in range(3)], axis=0)" \
// RUN:   "np.allclose(sm, sum(f[:, i:i+8, j:j+11, :] for i in range(2) for j in range(2)), rtol=1e-5, atol=1e-5)" \
// RUN:   | FileCheck %s --check-prefix=EXPECT
// EXPECT-COUNT-4: PASS

func.func @layers(%a: tensor<7x9xf32>, %b: tensor<9x13xf32>, %x: tensor<1x19x28x24xi8>,
                  %w: tensor<3x2x24x12xi8>, %f: tensor<1x9x12x6xf32>)
    -> (tensor<7x13xf32>, tensor<1x9x9x12xi32>, tensor<1x8x10x24xi8>, tensor<1x8x11x6xf32>) {
  %zf = arith.constant 0.0 : f32
  %zi = arith.constant 0 : i32
  %min8 = arith.constant -128 : i8
  %e0 = tensor.empty() : tensor<7x13xf32>
  %i0 = linalg.fill ins(%zf : f32) outs(%e0 : tensor<7x13xf32>) -> tensor<7x13xf32>
  %mm = linalg.matmul ins(%a, %b : tensor<7x9xf32>, tensor<9x13xf32>) outs(%i0 : tensor<7x13xf32>) -> tensor<7x13xf32>
  %e1 = tensor.empty() : tensor<1x9x9x12xi32>
  %i1 = linalg.fill ins(%zi : i32) outs(%e1 : tensor<1x9x9x12xi32>) -> tensor<1x9x9x12xi32>
  %conv = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<[2, 3]> : tensor<2xi64>}
      ins(%x, %w : tensor<1x19x28x24xi8>, tensor<3x2x24x12xi8>) outs(%i1 : tensor<1x9x9x12xi32>) -> tensor<1x9x9x12xi32>
  %e2 = tensor.empty() : tensor<1x8x10x24xi8>
  %i2 = linalg.fill ins(%min8 : i8) outs(%e2 : tensor<1x8x10x24xi8>) -> tensor<1x8x10x24xi8>
  %k3 = tensor.empty() : tensor<3x3xi8>
  %max = linalg.pooling_nhwc_max {dilations = dense<1> : vector<2xi64>, strides = dense<2> : vector<2xi64>}
      ins(%x, %k3 : tensor<1x19x28x24xi8>, tensor<3x3xi8>) outs(%i2 : tensor<1x8x10x24xi8>) -> tensor<1x8x10x24xi8>
  %e3 = tensor.empty() : tensor<1x8x11x6xf32>
  %i3 = linalg.fill ins(%zf : f32) outs(%e3 : tensor<1x8x11x6xf32>) -> tensor<1x8x11x6xf32>
  %k2 = tensor.empty() : tensor<2x2xf32>
  %sum = linalg.pooling_nhwc_sum {dilations = dense<1> : vector<2xi64>, strides = dense<1> : vector<2xi64>}
      ins(%f, %k2 : tensor<1x9x12x6xf32>, tensor<2x2xf32>) outs(%i3 : tensor<1x8x11x6xf32>) -> tensor<1x8x11x6xf32>
  return %mm, %conv, %max, %sum : tensor<7x13xf32>, tensor<1x9x9x12xi32>, tensor<1x8x10x24xi8>, tensor<1x8x11x6xf32>
}
