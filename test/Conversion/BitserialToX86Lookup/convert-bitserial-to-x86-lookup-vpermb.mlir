// RUN: bitserial-opt %s -split-input-file --convert-bitserial-to-x86-lookup=instruction=vpermb | FileCheck %s
// RUN: bitserial-opt %s -split-input-file --convert-bitserial-to-x86-lookup="instruction=vpermb parallel=true min-parallel-macs=0" | FileCheck %s --check-prefix=PAR
// RUN: not bitserial-opt %s -split-input-file --convert-bitserial-to-x86-lookup=instruction=vpshufd 2>&1 | FileCheck %s --check-prefix=UNKNOWN
// UNKNOWN: error: unknown lookup instruction 'vpshufd' (expected pshufb or vpermb)

// 2-bit unsigned activations x 2-bit signed weights, K = 100, as vpermb
// lookups: a group is values g, 34 + g and 68 + g of K (34 groups), the
// 64 tables (3 activations each, 64 bytes) hold sum a_i w_i + 18, at most
// 27, so byte sums take 9 lookups: the 34 groups run in 4 chunks. The
// activations are decoded to their values; a group's table offset (64 x
// index: value i's code at bits 2i..2i+1) takes 3 reads 34 apart. The
// weights are one byte per channel and group (the 3 codes) in vectors of
// 64 channels ([1, 34, 64]). Blocks of 8 rows x 1 vector of 64 channels
// (40 channels); the outputs subtract the bias of 34 lookups (612).
// The loop over a chunk's groups asks LLVM to unroll it twice, not fully.
// CHECK-DAG: #[[UNROLL:.*]] = #llvm.loop_unroll<count = 2 : i32>
// CHECK-DAG: #[[TWICE:.*]] = #llvm.loop_annotation<unroll = #[[UNROLL]]>
// CHECK-DAG: func.func private @llvm.uadd.sat.v64i8(vector<64xi8>, vector<64xi8>) -> vector<64xi8>
// CHECK-DAG: func.func private @llvm.x86.avx512.permvar.qi.512(vector<64xi8>, vector<64xi8>) -> vector<64xi8>
// CHECK-LABEL: func.func @matmul
// CHECK: %[[TABLES:.*]] = arith.constant dense<"0x121212{{.*}}"> : tensor<4096xi8>
// CHECK: %[[OFFSETS:.*]] = scf.for {{.*}} -> (tensor<30x34xi16>)
// CHECK: scf.for %[[G:.*]] = %{{.*}} to %c34 step %c64
// CHECK: vector.transfer_read %{{.*}}[%{{.*}}, %{{.*}}], %{{.*}} : tensor<30x128xi8>, vector<64xi8>
// CHECK: %[[SECOND:.*]] = arith.addi %[[G]], %c34
// CHECK: vector.transfer_read %{{.*}}[%{{.*}}, %[[SECOND]]], %{{.*}} : tensor<30x128xi8>, vector<64xi8>
// CHECK: arith.constant dense<2> : vector<64xi8>
// CHECK: %[[THIRD:.*]] = arith.addi %[[G]], %c68
// CHECK: vector.transfer_read %{{.*}}[%{{.*}}, %[[THIRD]]], %{{.*}} : tensor<30x128xi8>, vector<64xi8>
// CHECK: arith.constant dense<4> : vector<64xi8>
// CHECK: arith.extui %{{.*}} : vector<64xi8> to vector<64xi16>
// CHECK: arith.constant dense<64> : vector<64xi16>
// CHECK: %[[W:.*]] = tensor.collapse_shape %{{.*}} {{\[}}[0], [1], [2, 3]] : tensor<1x34x64x1xi8> into tensor<1x34x64xi8>
// CHECK: scf.for {{.*}} step %c8{{.*}} -> (tensor<30x40xi32>)
// CHECK: %{{.*}}:16 = scf.for %{{.*}} = %{{.*}} to %c4{{.*}} step %c1{{.*}} -> (vector<32xi16>,
// CHECK: %{{.*}}:8 = scf.for {{.*}} -> (vector<64xi8>,
// CHECK: %[[OFFSET:.*]] = tensor.extract %[[OFFSETS]]
// CHECK: %[[AT:.*]] = arith.index_castui %[[OFFSET]] : i16 to index
// CHECK: %[[TABLE:.*]] = vector.transfer_read %[[TABLES]][%[[AT]]]{{.*}} : tensor<4096xi8>, vector<64xi8>
// CHECK-COUNT-7: tensor.extract %[[OFFSETS]]
// CHECK-NOT: tensor.extract %[[OFFSETS]]
// CHECK: %[[W0:.*]] = vector.transfer_read %[[W]]{{.*}} : tensor<1x34x64xi8>, vector<64xi8>
// CHECK: %[[E:.*]] = func.call @llvm.x86.avx512.permvar.qi.512(%[[TABLE]], %[[W0]])
// CHECK: func.call @llvm.uadd.sat.v64i8(%{{.*}}, %[[E]])
// CHECK-COUNT-7: func.call @llvm.x86.avx512.permvar.qi.512
// CHECK: scf.yield
// CHECK: } {llvm.loop_annotation = #[[TWICE]]}
// CHECK: vector.bitcast %{{.*}} : vector<64xi8> to vector<32xi16>
// CHECK: arith.extui %{{.*}} : vector<32xi16> to vector<32xi32>
// CHECK: %[[BIAS:.*]] = arith.constant dense<612> : vector<64xi32>
// CHECK: arith.subi %{{.*}}, %[[BIAS]] : vector<64xi32>
// CHECK-NOT: bitserial.matmul
// CHECK: return
// PAR-LABEL: func.func @matmul
// PAR: scf.forall
// PAR: func.call @llvm.x86.avx512.permvar.qi.512
// PAR: tensor.parallel_insert_slice
!A = tensor<30x2x2xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 100>>
!B = tensor<40x2x2xi64, #bitserial.packed<bits = 2, encoding = signed, length = 100>>
func.func @matmul(%a: !A, %b: !B, %init: tensor<30x40xi32>) -> tensor<30x40xi32> {
  %r = bitserial.matmul ins(%a, %b : !A, !B) outs(%init : tensor<30x40xi32>) -> tensor<30x40xi32>
  return %r : tensor<30x40xi32>
}

// -----

// A 3x3 convolution of 1-bit signed activations (values 0 and -1; padding
// and past K 0) and a constant 2-bit bipolar filter over C = 16 (6 groups:
// values g, 6 + g, 12 + g): the filter's bytes are computed here ([CO / 64,
// KH, KW, 6, 64]), 8 tables of 3 activations. The activations are decoded
// with their padding (a 9 x 9 image of 16 values). Entries (3 products of
// 0 or -1 by -3, -1, 1 or 3) range over -9..9: the bias of 9 taps x 6
// lookups is 486.
// CHECK-LABEL: func.func @conv
// CHECK: %[[TABLES:.*]] = arith.constant dense<{{.*}}> : tensor<512xi8>
// CHECK: scf.for {{.*}} -> (tensor<1x9x9x6xi16>)
// CHECK: %[[W:.*]] = arith.constant dense<{{.*}}> : tensor<1x3x3x6x64xi8>
// CHECK: func.call @llvm.x86.avx512.permvar.qi.512
// CHECK: arith.constant dense<486> : vector<64xi32>
// CHECK-NOT: bitserial.conv2d
// CHECK: return
!X = tensor<1x7x7x1x1xi64, #bitserial.packed<bits = 1, encoding = signed, length = 16>>
!F = tensor<20x3x3x2x1xi64, #bitserial.packed<bits = 2, encoding = bipolar, length = 16>>
func.func @conv(%x: !X, %init: tensor<1x7x7x20xi32>) -> tensor<1x7x7x20xi32> {
  %fp = arith.constant dense<12345> : !F
  %r = bitserial.conv2d ins(%x, %fp : !X, !F) outs(%init : tensor<1x7x7x20xi32>)
      strides = [1, 1] padding = [1, 1, 1, 1] -> tensor<1x7x7x20xi32>
  return %r : tensor<1x7x7x20xi32>
}

// -----

// vpermb takes 2-bit weights only: 1-bit and 3-bit weights, 3-bit and
// bipolar activations stay.
// CHECK-LABEL: func.func @left_alone
// CHECK-COUNT-4: bitserial.matmul
// CHECK-NOT: permvar
// CHECK: return
!A2 = tensor<8x2x1xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 64>>
!A3 = tensor<8x3x1xi64, #bitserial.packed<bits = 3, encoding = unsigned, length = 64>>
!AB = tensor<8x2x1xi64, #bitserial.packed<bits = 2, encoding = bipolar, length = 64>>
!W1 = tensor<8x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 64>>
!W2 = tensor<8x2x1xi64, #bitserial.packed<bits = 2, encoding = signed, length = 64>>
!W3 = tensor<8x3x1xi64, #bitserial.packed<bits = 3, encoding = signed, length = 64>>
func.func @left_alone(%a2: !A2, %a3: !A3, %ab: !AB, %w1: !W1, %w2: !W2, %w3: !W3, %init: tensor<8x8xi32>) -> (tensor<8x8xi32>, tensor<8x8xi32>, tensor<8x8xi32>, tensor<8x8xi32>) {
  %0 = bitserial.matmul ins(%a2, %w1 : !A2, !W1) outs(%init : tensor<8x8xi32>) -> tensor<8x8xi32>
  %1 = bitserial.matmul ins(%a2, %w3 : !A2, !W3) outs(%init : tensor<8x8xi32>) -> tensor<8x8xi32>
  %2 = bitserial.matmul ins(%a3, %w2 : !A3, !W2) outs(%init : tensor<8x8xi32>) -> tensor<8x8xi32>
  %3 = bitserial.matmul ins(%ab, %w2 : !AB, !W2) outs(%init : tensor<8x8xi32>) -> tensor<8x8xi32>
  return %0, %1, %2, %3 : tensor<8x8xi32>, tensor<8x8xi32>, tensor<8x8xi32>, tensor<8x8xi32>
}

// -----

// The i16 sums bound the reduction: at 2-bit unsigned x 2-bit signed an
// entry is at most 27, so 2427 lookups (K = 7281) fit 65535 and 2428 (K =
// 7282) do not.
// CHECK-LABEL: func.func @longest
// CHECK: func.call @llvm.x86.avx512.permvar.qi.512
// CHECK-LABEL: func.func @too_long
// CHECK-NOT: permvar
// CHECK: bitserial.matmul
!AL = tensor<4x2x114xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 7281>>
!BL = tensor<4x2x114xi64, #bitserial.packed<bits = 2, encoding = signed, length = 7281>>
func.func @longest(%a: !AL, %b: !BL, %init: tensor<4x4xi32>) -> tensor<4x4xi32> {
  %r = bitserial.matmul ins(%a, %b : !AL, !BL) outs(%init : tensor<4x4xi32>) -> tensor<4x4xi32>
  return %r : tensor<4x4xi32>
}
!AT = tensor<4x2x114xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 7282>>
!BT = tensor<4x2x114xi64, #bitserial.packed<bits = 2, encoding = signed, length = 7282>>
func.func @too_long(%a: !AT, %b: !BT, %init: tensor<4x4xi32>) -> tensor<4x4xi32> {
  %r = bitserial.matmul ins(%a, %b : !AT, !BT) outs(%init : tensor<4x4xi32>) -> tensor<4x4xi32>
  return %r : tensor<4x4xi32>
}

// -----

// With threads, a convolution's output rows split into parts of whole
// register blocks of channels, so that layers of few rows keep every thread
// busy: 256 channels are 4 blocks of 64, in register blocks of 2 blocks, so
// 2 parts; each task stores its part's channels into its own slice of the
// row.
// PAR-LABEL: func.func @conv_channel_parts
// PAR: scf.forall (%[[N:.*]], %[[OH:.*]], %[[P:.*]]) in (1, 7, 2) shared_outs(%[[OUT:.*]] = %{{.*}}) -> (tensor<1x7x7x256xi32>)
// PAR: %[[SLICE:.*]] = tensor.extract_slice %[[OUT]][%[[N]], %[[OH]], 0, %[[C0:.*]]] [1, 1, 7, %[[CS:.*]]] [1, 1, 1, 1] : tensor<1x7x7x256xi32> to tensor<1x1x7x?xi32>
// PAR: func.call @llvm.x86.avx512.permvar.qi.512
// PAR: vector.transfer_write {{.*}} : vector<64xi32>, tensor<1x1x7x?xi32>
// PAR: tensor.parallel_insert_slice %{{.*}} into %[[OUT]][%[[N]], %[[OH]], 0, %[[C0]]] [1, 1, 7, %[[CS]]] [1, 1, 1, 1]
!X = tensor<1x7x7x2x1xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 64>>
!F = tensor<256x3x3x2x1xi64, #bitserial.packed<bits = 2, encoding = signed, length = 64>>
func.func @conv_channel_parts(%x: !X, %f: !F, %init: tensor<1x7x7x256xi32>) -> tensor<1x7x7x256xi32> {
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%init : tensor<1x7x7x256xi32>)
      strides = [1, 1] padding = [1, 1, 1, 1] -> tensor<1x7x7x256xi32>
  return %r : tensor<1x7x7x256xi32>
}
