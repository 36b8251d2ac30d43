// Model files: MLIR bytecode (.mlirbc) and weights in dense_resource blobs
// run like text modules (bitserial-run, bitserial-compile, bitserial-opt);
// constant weights in a dense attribute are packed at compile time;
// --module-stats reports the bytes of constants in the lowered module.
//
// RUN: rm -rf %t && mkdir -p %t
// RUN: bitserial-opt %s -emit-bytecode -o %t/model.mlirbc
// RUN: %bitserial_python -c "import numpy as np; np.save('%t/x.npy', np.array([[1, -2, 0, 1, -1, 1, -2, 0], [-2, -2, 1, 1, 0, -1, 1, 1]], np.int8))"
// RUN: bitserial-run %s --entry resource_weights --input %t/x.npy --output %t/text.npy
// RUN: bitserial-run %t/model.mlirbc --entry resource_weights --input %t/x.npy --output %t/bytecode.npy
// RUN: bitserial-run %t/model.mlirbc --entry resource_weights --input %t/x.npy --strategy reference --output %t/reference.npy
// RUN: bitserial-run %t/model.mlirbc --entry dense_weights --input %t/x.npy --output %t/dense.npy
// RUN: env PYTHONPATH=%bitserial_src_root/python %bitserial_python %S/Inputs/expect.py x=%t/x.npy t=%t/text.npy b=%t/bytecode.npy r=%t/reference.npy d=%t/dense.npy -- \
// RUN:   "t == x.astype(np.int32) @ np.array([[0, 1, -1, -2, 1, 0, 1, 1], [1, 0, -1, -2, -1, 0, 1, -2], [-1, 1, -2, 0, 1, -1, -2, 1]]).T" \
// RUN:   "(b == t) & (r == t) & (d == t)" "t.any()" | FileCheck %s --check-prefix=EXPECT
// EXPECT-COUNT-3: PASS
//
// RUN: bitserial-compile %t/model.mlirbc -o %t/model.o --header %t/model.h
// RUN: FileCheck %s --check-prefix=HEADER < %t/model.h
// HEADER: _mlir_ciface_resource_weights(
// HEADER: _mlir_ciface_dense_weights(
//
// The dense weights are packed by the front end already (pack of a constant
// folds): 3 rows x 2 planes x 1 word.
// RUN: bitserial-opt %t/model.mlirbc --bitserial-front-end | FileCheck %s --check-prefix=FOLD
// FOLD-LABEL: func.func @dense_weights
// FOLD:         arith.constant dense<{{.*}}> : tensor<3x2x1xi64, #bitserial.packed<bits = 2, encoding = signed, length = 8>>
// FOLD-NOT:     bitserial.pack %cst
// FOLD:         bitserial.matmul
//
// Constants of the lowered module (both functions): the packed weights
// (48 bytes: the packs of the dense and the resource weights fold to one
// constant; the unpacked forms are gone), the shared 24-byte zero
// accumulator.
// RUN: bitserial-run %t/model.mlirbc --entry dense_weights --input %t/x.npy --strategy reference --module-stats | FileCheck %s --check-prefix=STATS
// STATS: constants: 2 globals, 72 bytes
//
// Bad model files are one clear error.
// RUN: head -c 100 %t/model.mlirbc > %t/truncated.mlirbc
// RUN: not bitserial-run %t/truncated.mlirbc --random-inputs 2>&1 | FileCheck %s --check-prefix=TRUNCATED
// TRUNCATED: truncated.mlirbc:0:0: error: attempting to parse {{[0-9]+}} bytes when only {{[0-9]+}} remain
// RUN: grep -v "weights: " %s > %t/missing.mlir
// RUN: not bitserial-run %t/missing.mlir --entry resource_weights --random-inputs 2>&1 | FileCheck %s --check-prefix=MISSING
// MISSING: missing.mlir:[[#]]:8: error: resource does not exist
// RUN: sed -e 's/weights: "0x[0-9A-F]*"/weights: "0x0100000000010203"/' %s > %t/short.mlir
// RUN: not bitserial-run %t/short.mlir --entry resource_weights --random-inputs 2>&1 | FileCheck %s --check-prefix=SHORT
// SHORT: short.mlir:[[#]]:8: error: raw data size does not match element type size

!X = tensor<2x2x1xi64, #bitserial.packed<bits = 2, encoding = signed, length = 8>>
!W = tensor<3x2x1xi64, #bitserial.packed<bits = 2, encoding = signed, length = 8>>

func.func @resource_weights(%x: tensor<2x8xi8>) -> tensor<2x3xi32> {
  %w = arith.constant dense_resource<weights> : tensor<3x8xi8>
  %px = bitserial.pack %x : tensor<2x8xi8> -> !X
  %pw = bitserial.pack %w : tensor<3x8xi8> -> !W
  %zero = arith.constant dense<0> : tensor<2x3xi32>
  %y = bitserial.matmul ins(%px, %pw : !X, !W) outs(%zero : tensor<2x3xi32>) -> tensor<2x3xi32>
  return %y : tensor<2x3xi32>
}

func.func @dense_weights(%x: tensor<2x8xi8>) -> tensor<2x3xi32> {
  %w = arith.constant dense<[[0, 1, -1, -2, 1, 0, 1, 1], [1, 0, -1, -2, -1, 0, 1, -2], [-1, 1, -2, 0, 1, -1, -2, 1]]> : tensor<3x8xi8>
  %px = bitserial.pack %x : tensor<2x8xi8> -> !X
  %pw = bitserial.pack %w : tensor<3x8xi8> -> !W
  %zero = arith.constant dense<0> : tensor<2x3xi32>
  %y = bitserial.matmul ins(%px, %pw : !X, !W) outs(%zero : tensor<2x3xi32>) -> tensor<2x3xi32>
  return %y : tensor<2x3xi32>
}

// The resource: 4 bytes of alignment (1), then the 3 x 8 int8 weights.
{-#
  dialect_resources: {
    builtin: {
      weights: "0x010000000001FFFE010001010100FFFEFF0001FEFF01FE0001FFFE01"
    }
  }
#-}
