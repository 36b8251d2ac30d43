// RUN: bitserial-opt %s -split-input-file --convert-bitserial-to-x86-lookup | FileCheck %s
// parallel=true: output rows of a convolution and runs of row blocks of a
// matmul are the tasks of an scf.forall (@matmul: 30 x 40 x 100 = 120 000
// multiply-accumulates).
// RUN: bitserial-opt %s -split-input-file --convert-bitserial-to-x86-lookup="parallel=true min-parallel-macs=0" | FileCheck %s --check-prefix=PAR
// RUN: bitserial-opt %s -split-input-file --convert-bitserial-to-x86-lookup="parallel=true min-parallel-macs=120001" | FileCheck %s --check-prefix=SERIAL
// RUN: not bitserial-opt %s -split-input-file --convert-bitserial-to-x86-lookup="min-parallel-macs=-1" 2>&1 | FileCheck %s --check-prefix=NEGATIVE
// NEGATIVE: error: min-parallel-macs must be at least 0, got -1

// 2-bit unsigned activations x 1-bit bipolar weights, K = 100: 25 lookups
// per output. The 256 tables (4 activations each, 32 bytes: both lanes)
// hold sum a_i (2 w_i - 1) + 12, at most 24, so byte sums take 10 lookups:
// the 25 groups run in 3 chunks of at most 9, each widened into even and
// odd i16 sums. The activations' table offsets (32 x index: plane p's 4
// bits at bits 4p..4p+3) are i16, computed from the planes' bytes (a low
// and a high nibble each, interleaved into group order); the weights one
// byte per channel and 4 values of K in vectors of 32 channels
// ([N / 32, K / 4, 32]). Blocks of 4 rows x 2 channel vectors; the outputs
// subtract the bias of 25 lookups (300).
// CHECK-DAG: func.func private @llvm.uadd.sat.v32i8(vector<32xi8>, vector<32xi8>) -> vector<32xi8>
// CHECK-DAG: func.func private @llvm.x86.avx2.pshuf.b(vector<32xi8>, vector<32xi8>) -> vector<32xi8>
// CHECK-LABEL: func.func @matmul
// CHECK-SAME: %[[INIT:[^:]+]]: tensor<30x40xi32>
// CHECK: %[[TABLES:.*]] = arith.constant dense<"0x0C0C0C0C{{.*}}"> : tensor<8192xi8>
// CHECK: %[[OFFSETS:.*]] = scf.for {{.*}} -> (tensor<30x32xi16>)
// CHECK-COUNT-2: vector.transfer_read {{.*}} : tensor<30x2x2xi64>, vector<1xi64>
// CHECK: vector.shuffle %{{.*}}, %{{.*}} [0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15] : vector<8xi8>, vector<8xi8>
// CHECK: arith.extui %{{.*}} : vector<16xi8> to vector<16xi16>
// CHECK: arith.constant dense<5> : vector<16xi16>
// CHECK: %[[W:.*]] = tensor.collapse_shape %{{.*}} {{\[}}[0], [1], [2, 3]] : tensor<2x25x32x1xi8> into tensor<2x25x32xi8>
// CHECK: scf.for {{.*}} step %c4{{.*}} iter_args(%{{.*}} = %[[INIT]]) -> (tensor<30x40xi32>)
// CHECK: scf.for {{.*}} step %c2{{.*}} -> (tensor<30x40xi32>)
// CHECK: %{{.*}}:16 = scf.for %{{.*}} = %{{.*}} to %c3{{.*}} step %c1{{.*}} -> (vector<16xi16>,
// CHECK: %{{.*}}:8 = scf.for {{.*}} -> (vector<32xi8>,
// CHECK: %[[OFFSET:.*]] = tensor.extract %[[OFFSETS]]
// CHECK: %[[AT:.*]] = arith.index_castui %[[OFFSET]] : i16 to index
// CHECK: %[[TABLE:.*]] = vector.transfer_read %[[TABLES]][%[[AT]]]{{.*}} : tensor<8192xi8>, vector<32xi8>
// CHECK-COUNT-3: tensor.extract %[[OFFSETS]]
// CHECK-NOT: tensor.extract %[[OFFSETS]]
// CHECK: %[[W0:.*]] = vector.transfer_read %[[W]]{{.*}} : tensor<2x25x32xi8>, vector<32xi8>
// CHECK: %[[E:.*]] = func.call @llvm.x86.avx2.pshuf.b(%[[TABLE]], %[[W0]])
// CHECK: func.call @llvm.uadd.sat.v32i8(%{{.*}}, %[[E]])
// CHECK-COUNT-7: func.call @llvm.x86.avx2.pshuf.b
// CHECK: scf.yield
// CHECK: vector.bitcast %{{.*}} : vector<32xi8> to vector<16xi16>
// CHECK: arith.andi %{{.*}}, %{{.*}} : vector<16xi16>
// CHECK: arith.shrui %{{.*}}, %{{.*}} : vector<16xi16>
// CHECK: %[[EVEN:.*]] = arith.extui %{{.*}} : vector<16xi16> to vector<16xi32>
// CHECK: %[[ODD:.*]] = arith.extui %{{.*}} : vector<16xi16> to vector<16xi32>
// CHECK: %[[ALL:.*]] = vector.shuffle %[[EVEN]], %[[ODD]] [0, 16, 1, 17, {{.*}}, 15, 31] : vector<16xi32>, vector<16xi32>
// CHECK: %[[BIAS:.*]] = arith.constant dense<300> : vector<32xi32>
// CHECK: arith.subi %[[ALL]], %[[BIAS]] : vector<32xi32>
// CHECK: vector.transfer_read {{.*}} : tensor<30x40xi32>, vector<32xi32>
// CHECK-NOT: bitserial.matmul
// CHECK: return
// PAR-LABEL: func.func @matmul
// PAR: scf.forall
// PAR: func.call @llvm.x86.avx2.pshuf.b
// PAR: tensor.parallel_insert_slice
// SERIAL-LABEL: func.func @matmul
// SERIAL-NOT: scf.forall
// SERIAL: return
!A = tensor<30x2x2xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 100>>
!B = tensor<40x1x2xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 100>>
func.func @matmul(%a: !A, %b: !B, %init: tensor<30x40xi32>) -> tensor<30x40xi32> {
  %r = bitserial.matmul ins(%a, %b : !A, !B) outs(%init : tensor<30x40xi32>) -> tensor<30x40xi32>
  return %r : tensor<30x40xi32>
}

// -----

// A 3x3 convolution of 2-bit signed activations (padding: offset 0, the
// table of codes 0, values 0) and a constant 1-bit unsigned filter, whose bytes are computed here
// ([CO / 32, KH, KW, C / 4, 32]). Entries a_i w_i + 8 are at most 12: the 16
// groups of a tap take one chunk. A zero init is not read: the kernel
// stores into a fresh tensor. The bias is 8 x 9 taps x 16 lookups.
// CHECK-LABEL: func.func @conv
// CHECK: linalg.fill ins(%{{.*}} : i16) outs(%{{.*}} : tensor<1x9x9x16xi16>)
// CHECK: %[[OFFSETS:.*]] = scf.for {{.*}} -> (tensor<1x9x9x16xi16>)
// CHECK: %[[W:.*]] = arith.constant dense<{{.*}}> : tensor<2x3x3x16x32xi8>
// CHECK: tensor.empty() : tensor<1x7x7x64xi32>
// CHECK: %{{.*}}:16 = scf.for %{{.*}} iter_args({{.*}}) -> (vector<16xi16>,
// CHECK: %{{.*}}:8 = scf.for {{.*}} -> (vector<32xi8>,
// CHECK: tensor.extract %[[OFFSETS]]
// CHECK: vector.transfer_read %[[W]]{{.*}} : tensor<2x3x3x16x32xi8>, vector<32xi8>
// CHECK: arith.constant dense<1152> : vector<32xi32>
// CHECK-NOT: vector.transfer_read {{.*}} : tensor<1x7x7x64xi32>, vector<32xi32>
// CHECK: vector.transfer_write {{.*}} {in_bounds = [true]} : vector<32xi32>, tensor<1x7x7x64xi32>
// CHECK-NOT: bitserial.conv2d
// CHECK: return
// PAR-LABEL: func.func @conv
// PAR: scf.forall (%{{.*}}, %{{.*}}, %{{.*}}) in (1, 7, 1)
// PAR: func.call @llvm.x86.avx2.pshuf.b
!X = tensor<1x7x7x2x1xi64, #bitserial.packed<bits = 2, encoding = signed, length = 64>>
!F = tensor<64x3x3x1x1xi64, #bitserial.packed<bits = 1, encoding = unsigned, length = 64>>
func.func @conv(%x: !X) -> tensor<1x7x7x64xi32> {
  %fp = arith.constant dense<-6148914691236517206> : !F
  %c0 = arith.constant 0 : i32
  %e = tensor.empty() : tensor<1x7x7x64xi32>
  %init = linalg.fill ins(%c0 : i32) outs(%e : tensor<1x7x7x64xi32>) -> tensor<1x7x7x64xi32>
  %r = bitserial.conv2d ins(%x, %fp : !X, !F) outs(%init : tensor<1x7x7x64xi32>) strides = [1, 1] padding = [1, 1, 1, 1] -> tensor<1x7x7x64xi32>
  return %r : tensor<1x7x7x64xi32>
}

// -----

// Left alone: the annotations of another kernel, the user's bitserial.int8,
// a user's register block, and what the lowering does not take (3-bit or
// bipolar activations, 2-bit weights, batched weights).
// CHECK-LABEL: func.func @left_alone
// CHECK-NOT: func.call
// CHECK-COUNT-8: bitserial.matmul
// CHECK: return
!A2 = tensor<8x2x1xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 64>>
!A3 = tensor<8x3x1xi64, #bitserial.packed<bits = 3, encoding = unsigned, length = 64>>
!AX = tensor<8x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 64>>
!B1 = tensor<32x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 64>>
!B2 = tensor<32x2x1xi64, #bitserial.packed<bits = 2, encoding = signed, length = 64>>
!AB = tensor<2x8x2x1xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 64>>
!BB = tensor<2x32x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 64>>
func.func @left_alone(%a2: !A2, %a3: !A3, %ax: !AX, %b1: !B1, %b2: !B2, %ab: !AB, %bb: !BB, %init: tensor<8x32xi32>, %binit: tensor<2x8x32xi32>) -> (tensor<8x32xi32>, tensor<8x32xi32>, tensor<8x32xi32>, tensor<8x32xi32>, tensor<8x32xi32>, tensor<8x32xi32>, tensor<8x32xi32>, tensor<2x8x32xi32>) {
  %0 = bitserial.matmul ins(%a2, %b1 : !A2, !B1) outs(%init : tensor<8x32xi32>) {bitserial.kernel = "bitserial"} -> tensor<8x32xi32>
  %1 = bitserial.matmul ins(%a2, %b1 : !A2, !B1) outs(%init : tensor<8x32xi32>) {bitserial.kernel = "int8"} -> tensor<8x32xi32>
  %2 = bitserial.matmul ins(%a2, %b1 : !A2, !B1) outs(%init : tensor<8x32xi32>) {bitserial.int8 = false} -> tensor<8x32xi32>
  %3 = bitserial.matmul ins(%a2, %b1 : !A2, !B1) outs(%init : tensor<8x32xi32>) {bitserial.register_block = array<i64: 2, 2>} -> tensor<8x32xi32>
  %4 = bitserial.matmul ins(%a3, %b1 : !A3, !B1) outs(%init : tensor<8x32xi32>) {bitserial.kernel = "lookup"} -> tensor<8x32xi32>
  %5 = bitserial.matmul ins(%ax, %b1 : !AX, !B1) outs(%init : tensor<8x32xi32>) {bitserial.kernel = "lookup"} -> tensor<8x32xi32>
  %6 = bitserial.matmul ins(%a2, %b2 : !A2, !B2) outs(%init : tensor<8x32xi32>) {bitserial.kernel = "lookup"} -> tensor<8x32xi32>
  %7 = bitserial.matmul ins(%ab, %bb : !AB, !BB) outs(%binit : tensor<2x8x32xi32>) {bitserial.kernel = "lookup"} -> tensor<2x8x32xi32>
  return %0, %1, %2, %3, %4, %5, %6, %7 : tensor<8x32xi32>, tensor<8x32xi32>, tensor<8x32xi32>, tensor<8x32xi32>, tensor<8x32xi32>, tensor<8x32xi32>, tensor<8x32xi32>, tensor<2x8x32xi32>
}

// -----

// The i16 sums bound the reduction: 2-bit unsigned x bipolar entries reach
// 24, so 2730 lookups (10 920 values of K) per output are the most; an
// annotated op past that is left alone.
// CHECK-LABEL: func.func @longest
// CHECK: func.call @llvm.x86.avx2.pshuf.b
// CHECK-LABEL: func.func @too_long
// CHECK-NOT: func.call
// CHECK: bitserial.matmul
!A = tensor<4x2x171xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 10920>>
!B = tensor<32x1x171xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 10920>>
func.func @longest(%a: !A, %b: !B, %init: tensor<4x32xi32>) -> tensor<4x32xi32> {
  %r = bitserial.matmul ins(%a, %b : !A, !B) outs(%init : tensor<4x32xi32>) {bitserial.kernel = "lookup"} -> tensor<4x32xi32>
  return %r : tensor<4x32xi32>
}
!A1 = tensor<4x2x171xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 10921>>
!B1 = tensor<32x1x171xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 10921>>
func.func @too_long(%a: !A1, %b: !B1, %init: tensor<4x32xi32>) -> tensor<4x32xi32> {
  %r = bitserial.matmul ins(%a, %b : !A1, !B1) outs(%init : tensor<4x32xi32>) {bitserial.kernel = "lookup"} -> tensor<4x32xi32>
  return %r : tensor<4x32xi32>
}

// -----

// Activations packed from an i8 tensor in the function: their planes (the
// pack's result, lowered later) give the offsets; K = 40 reads the one
// word of each plane, the groups past K read code 0.
// CHECK-LABEL: func.func @from_i8
// CHECK: %[[PACKED:.*]] = bitserial.pack
// CHECK: %[[WORDS:.*]] = tensor.cast %[[PACKED]]
// CHECK: %[[OFFSETS:.*]] = scf.for {{.*}} -> (tensor<8x16xi16>)
// CHECK: vector.transfer_read %[[WORDS]]
// CHECK: tensor.extract %[[OFFSETS]]
// CHECK: func.call @llvm.x86.avx2.pshuf.b
!A = tensor<8x2x1xi64, #bitserial.packed<bits = 2, encoding = signed, length = 40>>
!B = tensor<32x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 40>>
func.func @from_i8(%x: tensor<8x40xi8>, %b: !B, %init: tensor<8x32xi32>) -> tensor<8x32xi32> {
  %a = bitserial.pack %x : tensor<8x40xi8> -> !A
  %r = bitserial.matmul ins(%a, %b : !A, !B) outs(%init : tensor<8x32xi32>) -> tensor<8x32xi32>
  return %r : tensor<8x32xi32>
}
