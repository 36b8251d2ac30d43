// The front part of bitserial-to-llvm lowers TOSA and elementwise ops on
// tensors to linalg next to bitserial ops, which it leaves alone; the whole
// pipeline then takes such modules to the LLVM dialect under every option.
//
// RUN: bitserial-opt %s --bitserial-front-end --split-input-file | FileCheck %s
// RUN: bitserial-opt %s --split-input-file --bitserial-to-llvm | FileCheck %s --check-prefix=LLVM
// RUN: bitserial-opt %s --split-input-file --bitserial-to-llvm="tile=true parallel=true" | FileCheck %s --check-prefix=LLVM
// RUN: bitserial-opt %s --split-input-file --bitserial-to-llvm="strategy=reference tile=true" | FileCheck %s --check-prefix=LLVM
// RUN: bitserial-opt %s --split-input-file --bitserial-to-llvm="strategy=reference parallel=true" | FileCheck %s --check-prefix=LLVM

// LLVM-NOT: tosa.
// LLVM-NOT: linalg.
// LLVM-NOT: bitserial.
// LLVM-LABEL: llvm.func @residual
// LLVM-LABEL: llvm.func @tosa_float
// LLVM-NOT: tosa.
// LLVM-NOT: linalg.

!X = tensor<4x4x2xi64, #bitserial.packed<bits = 4, encoding = signed, length = 70>>
!W = tensor<8x2x2xi64, #bitserial.packed<bits = 2, encoding = bipolar, length = 70>>

// CHECK-LABEL: func.func @residual
// CHECK:         %[[ACC:.*]] = bitserial.matmul
// CHECK:         %[[Q:.*]] = linalg.generic {{.*}} ins(%[[ACC]], %{{.*}} : tensor<4x8xi32>, tensor<4x8xi32>)
// CHECK:           arith.addi
// CHECK:           arith.maxsi
// CHECK:           arith.muli {{.*}} : i64
// CHECK:           arith.shr{{[su]}}i {{.*}} : i64
// CHECK:           linalg.yield {{.*}} : i8
// CHECK:         linalg.generic {{.*}} ins(%[[Q]] : tensor<4x8xi8>)
// CHECK:           arith.cmpi sgt
// CHECK-NOT:     tosa.
// CHECK:         return
func.func @residual(%x: tensor<4x70xi8>, %w: tensor<8x70xi8>, %skip: tensor<4x8xi32>)
    -> (tensor<4x8xi8>, tensor<4xi32>) {
  %px = bitserial.pack %x : tensor<4x70xi8> -> !X
  %pw = bitserial.pack %w : tensor<8x70xi8> -> !W
  %zeros = arith.constant dense<0> : tensor<4x8xi32>
  %acc = bitserial.matmul ins(%px, %pw : !X, !W) outs(%zeros : tensor<4x8xi32>) -> tensor<4x8xi32>
  %sum = arith.addi %acc, %skip : tensor<4x8xi32>
  %relu = arith.maxsi %sum, %zeros : tensor<4x8xi32>
  %mult = "tosa.const"() {values = dense<1073741824> : tensor<8xi32>} : () -> tensor<8xi32>
  %shift = "tosa.const"() {values = dense<32> : tensor<8xi8>} : () -> tensor<8xi8>
  %izp = "tosa.const"() {values = dense<0> : tensor<1xi32>} : () -> tensor<1xi32>
  %ozp = "tosa.const"() {values = dense<-128> : tensor<1xi8>} : () -> tensor<1xi8>
  %q = tosa.rescale %relu, %mult, %shift, %izp, %ozp {input_unsigned = false, output_unsigned = false, per_channel = true, rounding_mode = SINGLE_ROUND, scale32 = true}
      : (tensor<4x8xi32>, tensor<8xi32>, tensor<8xi8>, tensor<1xi32>, tensor<1xi8>) -> tensor<4x8xi8>
  %am = tosa.argmax %q {axis = 1 : i32} : (tensor<4x8xi8>) -> tensor<4xi32>
  return %q, %am : tensor<4x8xi8>, tensor<4xi32>
}

// -----

// CHECK-LABEL: func.func @tosa_float
// CHECK:         tensor.pad
// CHECK:         linalg.transpose
// CHECK:         linalg.conv_2d_nhwc_hwcf
// CHECK:         arith.minimumf
// CHECK:         arith.maximumf
// CHECK:         linalg.pooling_nhwc_max
// CHECK:         linalg.pooling_nhwc_sum
// CHECK:         arith.divf
// CHECK:         tensor.collapse_shape
// CHECK:         linalg.batch_matmul
// CHECK-NOT:     tosa.
// CHECK:         return
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
