// Debian's stock mlir-opt (linked against the same libMLIR.so) loads
// BitserialPlugin.so: the dialect parses and prints, and the passes and
// pipelines run. Passes registered by a plugin are not command-line flags of
// the tool: name them in --pass-pipeline.
//
// RUN: mlir-opt %s --load-dialect-plugin=%bitserial_plugin | mlir-opt --load-dialect-plugin=%bitserial_plugin | FileCheck %s --check-prefix=ROUNDTRIP
// RUN: mlir-opt %s --load-dialect-plugin=%bitserial_plugin --pass-pipeline="builtin.module(convert-bitserial-to-linalg)" | FileCheck %s --check-prefix=LINALG
// RUN: mlir-opt %s --load-dialect-plugin=%bitserial_plugin --pass-pipeline="builtin.module(bitserial-to-llvm{strategy=reference})" | FileCheck %s --check-prefix=LLVM
// RUN: mlir-opt %s --load-dialect-plugin=%bitserial_plugin --pass-pipeline="builtin.module(bitserial-vectorize{target=generic})" | FileCheck %s --check-prefix=VECTOR
//
// Both entry points, in either order, in one process.
// RUN: mlir-opt %s --load-pass-plugin=%bitserial_plugin --load-dialect-plugin=%bitserial_plugin --pass-pipeline="builtin.module(bitserial-to-llvm)" | FileCheck %s --check-prefix=LLVM
// RUN: mlir-opt %s --load-dialect-plugin=%bitserial_plugin --load-pass-plugin=%bitserial_plugin --pass-pipeline="builtin.module(bitserial-to-llvm)" | FileCheck %s --check-prefix=LLVM
//
// The pass plugin alone gives the passes, not the dialect.
// RUN: not mlir-opt %s --load-pass-plugin=%bitserial_plugin --pass-pipeline="builtin.module(bitserial-to-llvm)" 2>&1 | FileCheck %s --check-prefix=NODIALECT
//
// A tool that already contains bitserial keeps its own registrations (a
// second copy of the dialect or passes would abort with an LLVM ERROR).
// RUN: bitserial-opt %s --load-dialect-plugin=%bitserial_plugin --load-pass-plugin=%bitserial_plugin --pass-pipeline="builtin.module(bitserial-to-llvm)" | FileCheck %s --check-prefix=LLVM

// ROUNDTRIP-LABEL: func.func @pack_matmul
// ROUNDTRIP: bitserial.pack %{{.*}} : tensor<3x70xi8> -> tensor<3x2x2xi64, #bitserial.packed<bits = 2, encoding = signed, length = 70>>
// ROUNDTRIP: bitserial.matmul

// LINALG-LABEL: func.func @pack_matmul
// LINALG: linalg.generic
// LINALG: math.ctpop
// LINALG-NOT: bitserial.

// LLVM-LABEL: llvm.func @pack_matmul
// LLVM: llvm.intr.ctpop
// LLVM-NOT: bitserial.
// LLVM-NOT: tensor.

// VECTOR-LABEL: func.func @pack_matmul
// VECTOR: math.ctpop %{{.*}} : vector<
// VECTOR-NOT: bitserial.matmul

// NODIALECT: error: Dialect `bitserial' not found for custom op 'bitserial.pack'

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
