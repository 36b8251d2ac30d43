// RUN: bitserial-opt %s --bitserial-to-llvm | FileCheck %s
// RUN: bitserial-opt %s --bitserial-to-llvm="emit-c-interface=true" | FileCheck %s --check-prefix=CIFACE
// RUN: bitserial-opt %s --pass-pipeline="builtin.module(bitserial-to-llvm{emit-c-interface=true})" | FileCheck %s --check-prefix=CIFACE

// The whole module ends in the LLVM dialect: popcounts become llvm.intr.ctpop.
// CHECK-LABEL: llvm.func @pack_matmul
// CHECK: llvm.intr.ctpop
// CHECK-NOT: tensor.
// CHECK-NOT: memref.
// CHECK-NOT: linalg.
// CHECK-NOT: bitserial.
// CHECK-NOT: _mlir_ciface_pack_matmul

// CIFACE: llvm.func @pack_matmul
// CIFACE: llvm.func @_mlir_ciface_pack_matmul
func.func @pack_matmul(%a: tensor<3x70xi8>, %b: tensor<5x70xi8>) -> tensor<3x5xi32> {
  %pa = bitserial.pack %a : tensor<3x70xi8>
      -> tensor<3x2x2xi64, #bitserial.packed<bits = 2, encoding = signed, length = 70>>
  %pb = bitserial.pack %b : tensor<5x70xi8>
      -> tensor<5x1x2xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 70>>
  %zero = arith.constant 0 : i32
  %empty = tensor.empty() : tensor<3x5xi32>
  %init = linalg.fill ins(%zero : i32) outs(%empty : tensor<3x5xi32>) -> tensor<3x5xi32>
  %r = bitserial.matmul ins(%pa, %pb : tensor<3x2x2xi64, #bitserial.packed<bits = 2, encoding = signed, length = 70>>,
                                       tensor<5x1x2xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 70>>)
      outs(%init : tensor<3x5xi32>) -> tensor<3x5xi32>
  return %r : tensor<3x5xi32>
}

