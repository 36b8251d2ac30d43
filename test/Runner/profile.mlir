// --profile: a per-op time table of the entry's top-level compute ops (each
// bitserial op one row, also tiled and threaded), the rest as "other";
// shares sum to 100%. The table goes to stdout after the repeats.
//
// RUN: bitserial-run %s --random-inputs --profile --repeat 3 > %t.txt
// RUN: FileCheck %s < %t.txt
// RUN: %bitserial_python %S/Inputs/check_profile.py %t.txt 3 | FileCheck %s --check-prefix=SUM
// RUN: bitserial-run %s --random-inputs --profile --repeat 3 --tile --num-threads 2 > %t.tiled.txt
// RUN: FileCheck %s < %t.tiled.txt
// RUN: %bitserial_python %S/Inputs/check_profile.py %t.tiled.txt 3 | FileCheck %s --check-prefix=SUM
// RUN: bitserial-run %s --random-inputs --profile --strategy reference | FileCheck %s --check-prefix=ONCE
//
// CHECK: target: {{.*}}
// CHECK: time over 3 calls: median
// CHECK: profile of 'two_layers' over 3 calls:
// CHECK-NEXT: {{^ +}}op{{ +}}location{{ +}}calls{{ +}}total ms{{ +}}share
// CHECK-DAG: {{^ +}}bitserial.matmul{{ +}}profile.mlir:42{{ +}}3{{ +}}[[#]].[[#]]{{ +}}[[#]].[[#]]%
// CHECK-DAG: {{^ +}}bitserial.matmul{{ +}}profile.mlir:49{{ +}}3{{ +}}[[#]].[[#]]{{ +}}[[#]].[[#]]%
// CHECK-DAG: {{^ +}}linalg.generic{{ +}}profile.mlir:{{[0-9]+}}{{ +}}3{{ +}}
// CHECK-DAG: {{^ +}}other{{ +}}3{{ +}}
// CHECK: {{^ +}}total{{ +}}3{{ +}}[[#]].[[#]]{{ +}}100.0%
// SUM: shares sum to 100.0%, 2 bitserial.matmul rows
//
// Without --repeat, the one call is profiled.
// ONCE: profile of 'two_layers' over 1 call:
// ONCE: bitserial.matmul
// ONCE: {{^ +}}total{{ +}}1{{ +}}
//
// RUN: not bitserial-run %s --profile 2>&1 | FileCheck %s --check-prefix=INPUTS
// INPUTS: bitserial-run: error: 'two_layers' takes 3 inputs, got 0

!X = tensor<8x1x5xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 300>>
!W1 = tensor<64x1x5xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 300>>
!H = tensor<8x2x1xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 64>>
!W2 = tensor<10x2x1xi64, #bitserial.packed<bits = 2, encoding = signed, length = 64>>

func.func @two_layers(%x: tensor<8x300xi8>, %w1: tensor<64x300xi8>, %w2: tensor<10x64xi8>) -> tensor<8x10xi32> {
  %px = bitserial.pack %x : tensor<8x300xi8> -> !X
  %pw1 = bitserial.pack %w1 : tensor<64x300xi8> -> !W1
  %zero = arith.constant dense<0> : tensor<8x64xi32>
  %three = arith.constant dense<3> : tensor<8x64xi32>
  %h = bitserial.matmul ins(%px, %pw1 : !X, !W1) outs(%zero : tensor<8x64xi32>) -> tensor<8x64xi32>
  %relu = arith.maxsi %h, %zero : tensor<8x64xi32>
  %clamped = arith.minsi %relu, %three : tensor<8x64xi32>
  %h8 = arith.trunci %clamped : tensor<8x64xi32> to tensor<8x64xi8>
  %ph = bitserial.pack %h8 : tensor<8x64xi8> -> !H
  %pw2 = bitserial.pack %w2 : tensor<10x64xi8> -> !W2
  %zero2 = arith.constant dense<0> : tensor<8x10xi32>
  %y = bitserial.matmul ins(%ph, %pw2 : !H, !W2) outs(%zero2 : tensor<8x10xi32>) -> tensor<8x10xi32>
  return %y : tensor<8x10xi32>
}
