// RUN: bitserial-opt %s -split-input-file --convert-bitserial-to-arm-neon="min-bit-product=3" | FileCheck %s
// RUN: bitserial-opt %s -split-input-file --convert-bitserial-to-arm-neon="i8mm=true" | FileCheck %s --check-prefix=I8MM
// Cortex-A53 class (no dot product): bit-serial everywhere.
// RUN: bitserial-opt %s -split-input-file --convert-bitserial-to-arm-neon="dot-product=false" | FileCheck %s --check-prefix=NODOT
// The default threshold with dot products only is 4.
// RUN: bitserial-opt %s -split-input-file --convert-bitserial-to-arm-neon | FileCheck %s --check-prefix=MIN4
// RUN: bitserial-opt %s -split-input-file --convert-bitserial-to-arm-neon="min-bit-product=5" | FileCheck %s --check-prefix=MIN5

// NODOT-NOT: arm_neon
// NODOT-NOT: aarch64

// s8 x s8 (2-bit signed x 2-bit unsigned): blocks of 4 rows x 16 output
// channels, sdot by lane over 16 values of K, zero-padded. Decoding: per 64 values of K and plane, one
// 64-bit chunk of words as 8 bytes, each byte spread over 8 lanes, tested
// against the lane's bit and weighted (the signed top plane by -2 = 0xfe).
// CHECK-LABEL: func.func @sdot_signed_unsigned
// CHECK-SAME: %[[A:[^:]+]]: tensor<5x2x1xi64
// CHECK-SAME: %[[B:[^:]+]]: tensor<6x2x1xi64
// CHECK-SAME: %[[INIT:[^:]+]]: tensor<5x6xi32>
// CHECK-DAG: %[[BITS:.*]] = arith.constant dense<[1, 2, 4, 8, 16, 32, 64, -128, 1, 2, 4, 8, 16, 32, 64, -128]> : vector<16xi8>
// CHECK-DAG: %[[WA:.*]] = tensor.cast %[[A]] : {{.*}} to tensor<5x2x1xi64>
// CHECK-DAG: %[[XA0:.*]] = tensor.empty() : tensor<8x64xi8>
// Zeros first (rows 5 to 7 stay so), then the 5 rows.
// CHECK: %[[Z:.*]] = scf.for {{.*}} iter_args(%{{.*}} = %[[XA0]]) -> (tensor<8x64xi8>)
// CHECK: vector.transfer_write %{{.*}} {in_bounds = [true]} : vector<16xi8>, tensor<8x64xi8>
// CHECK: scf.for %[[R:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%{{.*}} = %[[Z]]) -> (tensor<8x64xi8>)
// CHECK: %[[WORD:.*]] = vector.transfer_read %[[WA]][%[[R]], %{{.*}}, %{{.*}}], %{{.*}} {in_bounds = [true]} : tensor<5x2x1xi64>, vector<1xi64>
// CHECK: %[[BYTES:.*]] = vector.bitcast %[[WORD]] : vector<1xi64> to vector<8xi8>
// CHECK: %[[SPREAD:.*]] = vector.shuffle %[[BYTES]], %[[BYTES]] [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1]
// CHECK: %[[BIT:.*]] = arith.andi %[[SPREAD]], %[[BITS]] : vector<16xi8>
// CHECK: %[[SET:.*]] = arith.cmpi ne, %[[BIT]]
// CHECK: arith.select %[[SET]]
// CHECK-COUNT-3: vector.shuffle %[[BYTES]], %[[BYTES]]
// CHECK: vector.transfer_read %[[WA]]
// CHECK-COUNT-4: vector.transfer_write {{.*}} {in_bounds = [true]} : vector<16xi8>, tensor<8x64xi8>
// The rhs decoded straight into blocks of 16 channels x 4 values of K, i32
// words of 4 codes (channels past 6 are 0): one word store per group.
// CHECK: tensor.cast %[[B]]
// CHECK: %[[WB:.*]] = tensor.empty() : tensor<1x16x16xi32>
// CHECK: %[[LAST:.*]] = tensor.extract_slice %[[WB]]
// CHECK: linalg.fill ins(%{{.*}} : i32) outs(%[[LAST]] : tensor<1x16x16xi32>)
// CHECK: %[[W:.*]] = scf.for {{.*}} -> (tensor<1x16x16xi32>)
// CHECK: vector.bitcast %{{.*}} : vector<16xi8> to vector<4xi32>
// CHECK-COUNT-4: vector.transfer_write {{.*}} : vector<1xi32>, tensor<1x16x16xi32>
// CHECK: %[[S:.*]] = scf.for {{.*}} -> (tensor<8x16xi32>)
// CHECK: scf.for {{.*}} -> (tensor<8x16xi32>)
// CHECK: %[[ACC:.*]]:16 = scf.for %[[K:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args({{.*}}) -> (vector<4xi32>,
// CHECK-COUNT-4: vector.transfer_read %{{.*}} : tensor<8x64xi8>, vector<16xi8>
// The 4 values of K in lane 0 of each row against 4 vectors of 4 channels.
// CHECK-COUNT-4: vector.transfer_read %[[W]]{{.*}} : tensor<1x16x16xi32>, vector<4xi32>
// CHECK: %[[ROW:.*]] = vector.bitcast %{{.*}} : vector<16xi8> to vector<4xi32>
// CHECK: %[[LANE:.*]] = vector.shuffle %[[ROW]], %[[ROW]] [0, 0, 0, 0] : vector<4xi32>, vector<4xi32>
// CHECK: %[[OP:.*]] = vector.bitcast %[[LANE]] : vector<4xi32> to vector<16xi8>
// CHECK-COUNT-4: arm_neon.intr.sdot %{{.*}}, %{{.*}}, %[[OP]]
// CHECK-COUNT-60: arm_neon.intr.sdot
// CHECK: scf.yield
// A row's 4 accumulators are its 16 channels: no lane sums.
// CHECK-NOT: vector.reduction
// CHECK: vector.shuffle %[[ACC]]#0, %[[ACC]]#1 [0, 1, 2, 3, 4, 5, 6, 7] : vector<4xi32>, vector<4xi32>
// CHECK: %[[BLOCK:.*]] = vector.insert %{{.*}} [3] : vector<16xi32> into vector<4x16xi32>
// CHECK: vector.transfer_write %[[BLOCK]], {{.*}} {in_bounds = [true, true]} : vector<4x16xi32>, tensor<8x16xi32>
// CHECK: %[[P:.*]] = tensor.extract_slice %[[S]][0, 0] [5, 6] [1, 1]
// CHECK: linalg.generic {{.*}} ins(%[[P]] : tensor<5x6xi32>) outs(%[[INIT]] : tensor<5x6xi32>)
// CHECK: arith.addi
// CHECK-NOT: arith.muli
// CHECK: linalg.yield
// CHECK-NOT: bitserial.matmul
// I8MM-LABEL: func.func @sdot_signed_unsigned
// I8MM: tensor.empty() : tensor<4x8x16xi8>
// Rows 2i and 2i + 1 in 8-byte halves of blocks of 16.
// I8MM: %[[HALF:.*]] = vector.extract_strided_slice %{{.*}} {offsets = [8], sizes = [8], strides = [1]} : vector<16xi8> to vector<8xi8>
// I8MM: vector.transfer_write %[[HALF]], {{.*}} : vector<8xi8>, tensor<4x8x16xi8>
// Blocks of 4 rows x 16 channels: 2 x 8 tiles of 2 x 2; two lanes of each
// tile go to each row, 4 per shuffle of two tiles.
// I8MM-COUNT-16: arm_neon.intr.smmla
// I8MM: vector.shuffle %{{.*}}#0, %{{.*}}#1 [0, 1, 4, 5] : vector<4xi32>, vector<4xi32>
// I8MM: vector.shuffle %{{.*}}#0, %{{.*}}#1 [2, 3, 6, 7] : vector<4xi32>, vector<4xi32>
// I8MM: vector.transfer_write {{.*}} : vector<4x16xi32>, tensor<8x16xi32>
// MIN4-LABEL: func.func @sdot_signed_unsigned
// MIN4: arm_neon.intr.sdot
// MIN5-LABEL: func.func @sdot_signed_unsigned
// MIN5: bitserial.matmul
!A = tensor<5x2x1xi64, #bitserial.packed<bits = 2, encoding = signed, length = 37>>
!B = tensor<6x2x1xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 37>>
func.func @sdot_signed_unsigned(%a: !A, %b: !B, %init: tensor<5x6xi32>) -> tensor<5x6xi32> {
  %r = bitserial.matmul ins(%a, %b : !A, !B) outs(%init : tensor<5x6xi32>) -> tensor<5x6xi32>
  return %r : tensor<5x6xi32>
}

// -----

// u8 x u8 (8-bit unsigned x 3-bit unsigned): udot, a call of the intrinsic
// declared as a private function.
// CHECK: func.func private @llvm.aarch64.neon.udot.v4i32.v16i8(vector<4xi32>, vector<16xi8>, vector<16xi8>) -> vector<4xi32>
// CHECK-LABEL: func.func @udot_unsigned
// CHECK-COUNT-64: func.call @llvm.aarch64.neon.udot.v4i32.v16i8({{.*}}) : (vector<4xi32>, vector<16xi8>, vector<16xi8>) -> vector<4xi32>
// CHECK-NOT: arm_neon.intr.sdot
// I8MM-LABEL: func.func @udot_unsigned
// I8MM-COUNT-16: arm_neon.intr.ummla
// MIN4-LABEL: func.func @udot_unsigned
// MIN4: func.call @llvm.aarch64.neon.udot
// MIN5-LABEL: func.func @udot_unsigned
// MIN5: func.call @llvm.aarch64.neon.udot
!A = tensor<4x8x2xi32, #bitserial.packed<bits = 8, encoding = unsigned, length = 64>>
!B = tensor<4x3x2xi32, #bitserial.packed<bits = 3, encoding = unsigned, length = 64>>
func.func @udot_unsigned(%a: !A, %b: !B, %init: tensor<4x4xi32>) -> tensor<4x4xi32> {
  %r = bitserial.matmul ins(%a, %b : !A, !B) outs(%init : tensor<4x4xi32>) -> tensor<4x4xi32>
  return %r : tensor<4x4xi32>
}

// -----

// u8 x s8 without i8mm: the unsigned operand shifted to s8 (x = v - 128,
// lanes past K cleared), sdot, and 128 times the rhs row sums added back.
// With i8mm: usmmla with the unsigned operand first.
// CHECK-LABEL: func.func @mixed_unsigned_signed
// CHECK: tensor.empty() : tensor<4x64xi8>
// CHECK: arith.constant dense<-128> : vector<16xi8>
// CHECK: %[[N:.*]] = arith.subi %{{.*}}, %{{.*}} : index
// CHECK-NEXT: %[[VALID:.*]] = vector.create_mask %[[N]] : vector<16xi1>
// CHECK-NEXT: arith.select %[[VALID]], %{{.*}}, %{{.*}} : vector<16xi1>, vector<16xi8>
// CHECK: tensor.empty() : tensor<1x16x16xi32>
// CHECK: %[[RB0:.*]] = tensor.empty() : tensor<2xi32>
// CHECK: %[[RB:.*]]:2 = scf.for {{.*}} iter_args(%{{.*}} = %{{.*}}, %{{.*}} = %[[RB0]]) -> (tensor<1x16x16xi32>, tensor<2xi32>)
// CHECK: %[[WIDE:.*]] = arith.extsi %{{.*}} : vector<16xi8> to vector<16xi32>
// CHECK: vector.reduction <add>, %[[WIDE]] : vector<16xi32> into i32
// CHECK: tensor.insert %{{.*}} into %{{.*}} : tensor<2xi32>
// CHECK-COUNT-16: arm_neon.intr.sdot
// CHECK: linalg.generic {{.*}} ins(%{{.*}}, %[[RB]]#1 : tensor<3x2xi32>, tensor<2xi32>)
// CHECK: %[[F:.*]] = arith.constant 128 : i32
// CHECK: arith.muli %{{.*}}, %[[F]] : i32
// I8MM-LABEL: func.func @mixed_unsigned_signed
// I8MM-NOT: vector.reduction <add>, %{{.*}} : vector<16xi32>
// I8MM: scf.for {{.*}} -> (vector<4xi32>,
// I8MM: %[[LA:.*]] = vector.transfer_read {{.*}} : tensor<2x8x16xi8>, vector<16xi8>
// I8MM: vector.transfer_read
// I8MM: %[[LB:.*]] = vector.transfer_read {{.*}} : tensor<8x8x16xi8>, vector<16xi8>
// I8MM: arm_neon.intr.usmmla %{{.*}}, %[[LA]], %[[LB]]
!A = tensor<3x8x1xi64, #bitserial.packed<bits = 8, encoding = unsigned, length = 20>>
!B = tensor<2x4x1xi64, #bitserial.packed<bits = 4, encoding = signed, length = 20>>
func.func @mixed_unsigned_signed(%a: !A, %b: !B, %init: tensor<3x2xi32>) -> tensor<3x2xi32> {
  %r = bitserial.matmul ins(%a, %b : !A, !B) outs(%init : tensor<3x2xi32>) -> tensor<3x2xi32>
  return %r : tensor<3x2xi32>
}

// -----

// With i8mm, an unsigned rhs goes first into usmmla (the tile is transposed
// when read back).
// I8MM-LABEL: func.func @mixed_signed_bipolar8
// I8MM: scf.for {{.*}} -> (vector<4xi32>,
// I8MM: %[[LA:.*]] = vector.transfer_read {{.*}} : tensor<2x8x16xi8>, vector<16xi8>
// I8MM: vector.transfer_read
// I8MM: %[[LB:.*]] = vector.transfer_read {{.*}} : tensor<8x8x16xi8>, vector<16xi8>
// I8MM: arm_neon.intr.usmmla %{{.*}}, %[[LB]], %[[LA]]
// The transposed tiles: lanes 0 and 2 of each to row 2i.
// I8MM: vector.shuffle %{{.*}}#0, %{{.*}}#1 [0, 2, 4, 6] : vector<4xi32>, vector<4xi32>
// 8-bit bipolar as s8: x = (v - 1) / 2 = u - 128 for the planes' unsigned
// value u (scale 2, offset 1): the signed lhs needs its row sums, in i64.
// CHECK-LABEL: func.func @mixed_signed_bipolar8
// CHECK: tensor.empty() : tensor<4x64xi8>
// CHECK: tensor.empty() : tensor<2xi64>
// CHECK: arith.extsi %{{.*}} : i32 to i64
// CHECK: tensor.empty() : tensor<1x16x16xi32>
// CHECK: arith.constant dense<-128> : vector<16xi8>
// CHECK: vector.create_mask
// CHECK: arm_neon.intr.sdot
!A = tensor<2x3x1xi16, #bitserial.packed<bits = 3, encoding = signed, length = 9>>
!B = tensor<7x8x1xi16, #bitserial.packed<bits = 8, encoding = bipolar, length = 9>>
func.func @mixed_signed_bipolar8(%a: !A, %b: !B, %init: tensor<2x7xi64>) -> tensor<2x7xi64> {
  %r = bitserial.matmul ins(%a, %b : !A, !B) outs(%init : tensor<2x7xi64>) -> tensor<2x7xi64>
  return %r : tensor<2x7xi64>
}

// -----

// i64 results over K past one chunk: i32 sums of at most 16384 values of K,
// sign-extended and added in i64.
// CHECK-LABEL: func.func @i64_chunks
// CHECK: %[[CHUNK:.*]] = arith.constant 16384 : index
// CHECK: scf.for %[[KC:.*]] = %{{.*}} to %{{.*}} step %[[CHUNK]] iter_args({{.*}}) -> (vector<16xi64>,
// CHECK: %[[END:.*]] = arith.minsi %{{.*}}, %{{.*}} : index
// CHECK: scf.for %{{.*}} = %[[KC]] to %[[END]]
// CHECK-COUNT-64: arm_neon.intr.sdot
// CHECK: arith.extsi %{{.*}} : vector<16xi32> to vector<16xi64>
// CHECK: vector.insert %{{.*}} [3] : vector<16xi64> into vector<4x16xi64>
!A = tensor<2x4x625xi64, #bitserial.packed<bits = 4, encoding = signed, length = 40000>>
!B = tensor<3x4x625xi64, #bitserial.packed<bits = 4, encoding = signed, length = 40000>>
func.func @i64_chunks(%a: !A, %b: !B, %init: tensor<2x3xi64>) -> tensor<2x3xi64> {
  %r = bitserial.matmul ins(%a, %b : !A, !B) outs(%init : tensor<2x3xi64>) -> tensor<2x3xi64>
  return %r : tensor<2x3xi64>
}

// -----

// Batched lhs with shared weights and dynamic batch and M: the loops run over
// the batch, the rows round up at run time.
// CHECK-LABEL: func.func @batched_dynamic
// CHECK: tensor.cast %{{.*}} to tensor<?x?x3x1xi64>
// CHECK: tensor.empty(%{{.*}}, %{{.*}}) : tensor<?x?x64xi8>
// CHECK: scf.for {{.*}} -> (tensor<?x?x16xi32>)
// CHECK: vector.transfer_read %{{.*}}[%{{.*}}, %{{.*}}, %{{.*}}], {{.*}} : tensor<?x?x64xi8>, vector<16xi8>
// CHECK: vector.transfer_read %{{.*}}[%{{.*}}, %{{.*}}, %{{.*}}], {{.*}} : tensor<1x16x16xi32>, vector<4xi32>
// CHECK: tensor.extract_slice {{.*}} : tensor<?x?x16xi32> to tensor<?x?x5xi32>
!A = tensor<?x?x3x1xi64, #bitserial.packed<bits = 3, encoding = unsigned, length = 40>>
!B = tensor<5x3x1xi64, #bitserial.packed<bits = 3, encoding = signed, length = 40>>
func.func @batched_dynamic(%a: !A, %b: !B, %init: tensor<?x?x5xi32>) -> tensor<?x?x5xi32> {
  %r = bitserial.matmul ins(%a, %b : !A, !B) outs(%init : tensor<?x?x5xi32>) -> tensor<?x?x5xi32>
  return %r : tensor<?x?x5xi32>
}

// -----

// 1 x 2 bits: bit-serial wins with dot products only; i8mm takes it (its
// default threshold is 2).
// CHECK-LABEL: func.func @negative_1x2_without_i8mm
// CHECK: bitserial.matmul
// CHECK-NOT: bitserial.unpack
// I8MM-LABEL: func.func @negative_1x2_without_i8mm
// I8MM: arm_neon.intr.smmla
!A = tensor<4x1x1xi64, #bitserial.packed<bits = 1, encoding = unsigned, length = 64>>
!B = tensor<4x2x1xi64, #bitserial.packed<bits = 2, encoding = bipolar, length = 64>>
func.func @negative_1x2_without_i8mm(%a: !A, %b: !B, %init: tensor<4x4xi32>) -> tensor<4x4xi32> {
  %r = bitserial.matmul ins(%a, %b : !A, !B) outs(%init : tensor<4x4xi32>) -> tensor<4x4xi32>
  return %r : tensor<4x4xi32>
}

// -----

// 1 x 1 bit: bit-serial wins with i8mm too.
// CHECK-LABEL: func.func @negative_1x1
// CHECK: bitserial.matmul
// I8MM-LABEL: func.func @negative_1x1
// I8MM: bitserial.matmul
// I8MM-NOT: arm_neon
!A = tensor<4x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 64>>
func.func @negative_1x1(%a: !A, %b: !A, %init: tensor<4x4xi32>) -> tensor<4x4xi32> {
  %r = bitserial.matmul ins(%a, %b : !A, !A) outs(%init : tensor<4x4xi32>) -> tensor<4x4xi32>
  return %r : tensor<4x4xi32>
}

// -----

// conv2d directly over the taps: the input decoded into x [N, H + 1, W + 1,
// 64] with zeros around it (padding top and left; each padded pixel gets
// zeros or its input pixel's values in one nest), the filter into
// channel blocks [CO / 16, KH, KW, 64 / 4, 16] of i32 words of 4 codes;
// blocks of 4 consecutive output pixels (across output rows) x 16 channels
// reduce over (kh, kw, 16 channels); pixels past the output repeat the
// last one, and each pixel's 16 channels are written on their own.
// CHECK-LABEL: func.func @conv2d
// CHECK-SAME: %[[INIT:[^:]+]]: tensor<1x3x3x8xi32>
// CHECK: %[[XE:.*]] = tensor.empty() : tensor<1x7x7x64xi8>
// CHECK: %[[X:.*]] = scf.for {{.*}} iter_args(%{{.*}} = %[[XE]]) -> (tensor<1x7x7x64xi8>)
// CHECK: scf.for %[[PH:[a-z0-9_]+]] = {{.*}} -> (tensor<1x7x7x64xi8>)
// CHECK: scf.for %[[PW:[a-z0-9_]+]] = {{.*}} -> (tensor<1x7x7x64xi8>)
// CHECK: scf.if %{{.*}} -> (tensor<1x7x7x64xi8>) {
// CHECK: vector.transfer_write %{{.*}}[%{{.*}}, %[[PH]], %[[PW]], %{{.*}}] {in_bounds = [true]} : vector<16xi8>, tensor<1x7x7x64xi8>
// CHECK: } else {
// CHECK: %[[H:.*]] = arith.subi %[[PH]], %{{.*}} : index
// CHECK: %[[W:.*]] = arith.subi %[[PW]], %{{.*}} : index
// CHECK: vector.transfer_read %{{.*}}[%{{.*}}, %[[H]], %[[W]], %{{.*}}, %{{.*}}]
// CHECK: vector.transfer_write %{{.*}} {in_bounds = [true]} : vector<16xi8>, tensor<1x7x7x64xi8>
// CHECK: linalg.fill ins(%{{.*}} : i32) outs(%{{.*}} : tensor<1x3x3x16x16xi32>)
// CHECK: %[[FBC:.*]] = scf.for {{.*}} -> (tensor<1x3x3x16x16xi32>)
// CHECK-COUNT-4: vector.transfer_write {{.*}} : vector<1xi32>, tensor<1x3x3x16x16xi32>
// CHECK: %[[S0:.*]] = tensor.empty() : tensor<1x3x3x16xi32>
// CHECK: %[[S:.*]] = scf.for {{.*}} iter_args(%{{.*}} = %[[S0]]) -> (tensor<1x3x3x16xi32>)
// CHECK: %[[PIX:.*]] = arith.minui
// CHECK: arith.divui %[[PIX]]
// CHECK: arith.remui %[[PIX]]
// CHECK: scf.for %[[KH:[a-z0-9_]+]] = {{.*}} -> (vector<4xi32>,
// CHECK: scf.for %[[KW:[a-z0-9_]+]] = {{.*}} -> (vector<4xi32>,
// CHECK: scf.for %[[C:[a-z0-9_]+]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args({{.*}}) -> (vector<4xi32>,
// CHECK-COUNT-4: vector.transfer_read %[[X]][%{{.*}}, %{{.*}}, %{{.*}}, %[[C]]], %{{.*}} {in_bounds = [true]} : tensor<1x7x7x64xi8>, vector<16xi8>
// CHECK-COUNT-4: vector.transfer_read %[[FBC]][%{{.*}}, %[[KH]], %[[KW]], %{{.*}}, %{{.*}}]
// CHECK-COUNT-64: arm_neon.intr.sdot
// CHECK-COUNT-4: vector.transfer_write {{.*}} {in_bounds = [true]} : vector<16xi32>, tensor<1x3x3x16xi32>
// CHECK: %[[P:.*]] = tensor.extract_slice %[[S]][0, 0, 0, 0] [1, 3, 3, 8] [1, 1, 1, 1]
// CHECK: linalg.generic {{.*}} ins(%[[P]] : tensor<1x3x3x8xi32>) outs(%[[INIT]] : tensor<1x3x3x8xi32>)
// CHECK-NOT: bitserial.conv2d
// I8MM-LABEL: func.func @conv2d
// Two pixels of 8 values each make one i8mm operand; the filter is decoded
// into pairs of channels, i64 words of 8 codes, one operand per load.
// I8MM: %[[FP:.*]] = scf.for {{.*}} -> (tensor<4x3x3x8x2xi64>)
// I8MM: %[[LO:.*]] = vector.transfer_read {{.*}} : tensor<1x7x7x64xi8>, vector<8xi8>
// I8MM: %[[HI:.*]] = vector.transfer_read {{.*}} : tensor<1x7x7x64xi8>, vector<8xi8>
// I8MM: vector.shuffle %[[LO]], %[[HI]] [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15] : vector<8xi8>, vector<8xi8>
// I8MM-COUNT-4: vector.transfer_read %[[FP]]{{.*}} : tensor<4x3x3x8x2xi64>, vector<2xi64>
// I8MM-COUNT-16: arm_neon.intr.smmla
// I8MM-COUNT-4: vector.transfer_write {{.*}} : vector<16xi32>, tensor<1x3x3x16xi32>
!X = tensor<1x6x6x4x1xi64, #bitserial.packed<bits = 4, encoding = unsigned, length = 16>>
!F = tensor<8x3x3x4x1xi64, #bitserial.packed<bits = 4, encoding = signed, length = 16>>
func.func @conv2d(%x: !X, %f: !F, %init: tensor<1x3x3x8xi32>) -> tensor<1x3x3x8xi32> {
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%init : tensor<1x3x3x8xi32>) strides = [2, 2] padding = [1, 0, 1, 0] -> tensor<1x3x3x8xi32>
  return %r : tensor<1x3x3x8xi32>
}

// -----

// Padding is the value 0, which an 8-bit bipolar input cannot map to x = 0
// (x = (v + 255) / 2 or (v - 1) / 2): bit-serial. Unpadded, the filter's
// sums of x bring the offset back.
// CHECK-LABEL: func.func @negative_conv2d_bipolar8_padded
// CHECK: bitserial.conv2d
// I8MM-LABEL: func.func @negative_conv2d_bipolar8_padded
// I8MM: bitserial.conv2d
// CHECK-LABEL: func.func @conv2d_bipolar8_unpadded
// CHECK-NOT: bitserial.conv2d
// CHECK: arm_neon.intr.sdot
// The filter's sums: per tap while decoding, then over the taps.
// CHECK: %[[FS:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "reduction", "reduction"]} ins(%{{.*}} : tensor<4x3x3xi32>) outs(%{{.*}} : tensor<4xi32>)
// CHECK: linalg.generic {{.*}} ins(%{{.*}}, %[[FS]] : tensor<1x2x2x4xi32>, tensor<4xi32>)
!X = tensor<1x4x4x8x1xi64, #bitserial.packed<bits = 8, encoding = bipolar, length = 8>>
!F = tensor<4x3x3x4x1xi64, #bitserial.packed<bits = 4, encoding = signed, length = 8>>
func.func @negative_conv2d_bipolar8_padded(%x: !X, %f: !F, %init: tensor<1x4x4x4xi32>) -> tensor<1x4x4x4xi32> {
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%init : tensor<1x4x4x4xi32>) padding = [1, 1, 1, 1] -> tensor<1x4x4x4xi32>
  return %r : tensor<1x4x4x4xi32>
}
func.func @conv2d_bipolar8_unpadded(%x: !X, %f: !F, %init: tensor<1x2x2x4xi32>) -> tensor<1x2x2x4xi32> {
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%init : tensor<1x2x2x4xi32>) -> tensor<1x2x2x4xi32>
  return %r : tensor<1x2x2x4xi32>
}

// -----

// An 8-bit unsigned input with a signed filter and padding: shifted to s8
// (x = v - 128) for sdot it would pad with x = 0, v = 128, so bit-serial;
// i8mm keeps it u8 (usmmla) and takes it.
// CHECK-LABEL: func.func @negative_conv2d_unsigned8_padded_without_i8mm
// CHECK: bitserial.conv2d
// I8MM-LABEL: func.func @negative_conv2d_unsigned8_padded_without_i8mm
// I8MM: arm_neon.intr.usmmla
!X = tensor<1x4x4x8x1xi64, #bitserial.packed<bits = 8, encoding = unsigned, length = 8>>
!F = tensor<4x3x3x2x1xi64, #bitserial.packed<bits = 2, encoding = signed, length = 8>>
func.func @negative_conv2d_unsigned8_padded_without_i8mm(%x: !X, %f: !F, %init: tensor<1x4x4x4xi32>) -> tensor<1x4x4x4xi32> {
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%init : tensor<1x4x4x4xi32>) padding = [1, 1, 1, 1] -> tensor<1x4x4x4xi32>
  return %r : tensor<1x4x4x4xi32>
}

// -----

// Dynamic kernel extents: no static im2col.
// CHECK-LABEL: func.func @negative_conv2d_dynamic_kernel
// CHECK: bitserial.conv2d
!X = tensor<1x6x6x4x1xi64, #bitserial.packed<bits = 4, encoding = unsigned, length = 16>>
!F = tensor<8x?x?x4x1xi64, #bitserial.packed<bits = 4, encoding = signed, length = 16>>
func.func @negative_conv2d_dynamic_kernel(%x: !X, %f: !F, %init: tensor<1x4x4x8xi32>) -> tensor<1x4x4x8xi32> {
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%init : tensor<1x4x4x8xi32>) -> tensor<1x4x4x8xi32>
  return %r : tensor<1x4x4x8xi32>
}

// -----

// An i64 convolution sums its whole reduction in one i32 chunk: 3 x 3 x 2048
// values of K are past the 16384 that cannot wrap, so bit-serial.
// CHECK-LABEL: func.func @negative_conv2d_i64_long_reduction
// CHECK: bitserial.conv2d
// I8MM-LABEL: func.func @negative_conv2d_i64_long_reduction
// I8MM: bitserial.conv2d
!X = tensor<1x3x3x4x32xi64, #bitserial.packed<bits = 4, encoding = unsigned, length = 2048>>
!F = tensor<4x3x3x4x32xi64, #bitserial.packed<bits = 4, encoding = signed, length = 2048>>
func.func @negative_conv2d_i64_long_reduction(%x: !X, %f: !F, %init: tensor<1x1x1x4xi64>) -> tensor<1x1x1x4xi64> {
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%init : tensor<1x1x1x4xi64>) -> tensor<1x1x1x4xi64>
  return %r : tensor<1x1x1x4xi64>
}

// -----

// Constant weights are decoded at compile time: the rhs codes (signed 2-bit
// [1, -2, 0] and [-1, 1, 1], K padded to 64) as channel blocks of i32 words
// and their row sums for the lhs offset (8-bit unsigned as s8: v - 128) are
// constants; the lhs is decoded per call. With i8mm the rows pair up in
// blocks of 8 values of K.
// CHECK-LABEL: func.func @constant_rhs
// CHECK-SAME: %[[A:[^:]+]]: tensor<3x8x1xi64
// CHECK: tensor.cast %[[A]]
// CHECK-NOT: tensor.cast
// CHECK-DAG: arith.constant dense<"0x01FE0000FF010100{{(00)+}}"> : tensor<1x16x16xi32>
// CHECK-DAG: arith.constant dense<[-1, 1]> : tensor<2xi32>
// CHECK: arm_neon.intr.sdot
// I8MM-LABEL: func.func @constant_rhs
// I8MM: arith.constant dense<"0x01FE000000000000FF01010000000000{{(00)+}}"> : tensor<8x8x16xi8>
!A = tensor<3x8x1xi64, #bitserial.packed<bits = 8, encoding = unsigned, length = 3>>
!B = tensor<2x2x1xi64, #bitserial.packed<bits = 2, encoding = signed, length = 3>>
func.func @constant_rhs(%a: !A, %init: tensor<3x2xi32>) -> tensor<3x2xi32> {
  %b = arith.constant dense<[[[1], [2]], [[7], [1]]]> : !B
  %r = bitserial.matmul ins(%a, %b : !A, !B) outs(%init : tensor<3x2xi32>) -> tensor<3x2xi32>
  return %r : tensor<3x2xi32>
}

// -----

// A constant filter ([1, -2] and [-1, 0]) as channel blocks, with its sums
// per tap for the input offset.
// CHECK-LABEL: func.func @constant_filter
// CHECK-DAG: arith.constant dense<"0x01FE0000FF{{(00)+}}"> : tensor<1x1x1x16x16xi32>
// CHECK-DAG: %[[TAPS:.*]] = arith.constant dense<-1> : tensor<2x1x1xi32>
// CHECK: arm_neon.intr.sdot
// CHECK: linalg.generic {{.*}} ins(%[[TAPS]] : tensor<2x1x1xi32>) outs(%{{.*}} : tensor<2xi32>)
!X = tensor<1x3x3x8x1xi64, #bitserial.packed<bits = 8, encoding = unsigned, length = 2>>
!F = tensor<2x1x1x2x1xi64, #bitserial.packed<bits = 2, encoding = signed, length = 2>>
func.func @constant_filter(%x: !X, %init: tensor<1x3x3x2xi32>) -> tensor<1x3x3x2xi32> {
  %f = arith.constant dense<[[[[[1], [2]]]], [[[[1], [1]]]]]> : !F
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%init : tensor<1x3x3x2xi32>) -> tensor<1x3x3x2xi32>
  return %r : tensor<1x3x3x2xi32>
}

// -----

// Without offsets a constant filter ([1, -2] and [-1, 0]) becomes channel
// blocks at compile time: [CO / 16, KH, KW, 16 groups of K, 16 channels] of
// i32 words of 4 codes.
// CHECK-LABEL: func.func @constant_filter_blocks
// CHECK: arith.constant dense<"0x01FE0000FF{{(00)+}}"> : tensor<1x1x1x16x16xi32>
// CHECK-NOT: linalg.generic {{.*}}xi8>)
// CHECK: arm_neon.intr.sdot
!X = tensor<1x3x3x2x1xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 2>>
!F = tensor<2x1x1x2x1xi64, #bitserial.packed<bits = 2, encoding = signed, length = 2>>
func.func @constant_filter_blocks(%x: !X, %init: tensor<1x3x3x2xi32>) -> tensor<1x3x3x2xi32> {
  %f = arith.constant dense<[[[[[1], [2]]]], [[[[1], [1]]]]]> : !F
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%init : tensor<1x3x3x2xi32>) -> tensor<1x3x3x2xi32>
  return %r : tensor<1x3x3x2xi32>
}

// -----

// Without offsets and over whole blocks of 16 channels (whole blocks of
// rows for a matmul), the kernel adds init to its sums and writes a new
// tensor: no padded product, no elementwise epilogue.
// CHECK-LABEL: func.func @conv2d_whole_blocks
// CHECK-SAME: %[[INIT:[^:]+]]: tensor<1x5x5x16xi32>
// CHECK: %[[OUT:.*]] = tensor.empty() : tensor<1x5x5x16xi32>
// CHECK: scf.for {{.*}} iter_args(%{{.*}} = %[[OUT]]) -> (tensor<1x5x5x16xi32>)
// CHECK-COUNT-64: arm_neon.intr.sdot
// CHECK-COUNT-4: vector.transfer_read %[[INIT]]{{.*}} : tensor<1x5x5x16xi32>, vector<16xi32>
// CHECK-COUNT-4: vector.transfer_write {{.*}} : vector<16xi32>, tensor<1x5x5x16xi32>
// CHECK-NOT: tensor.extract_slice
// CHECK-NOT: linalg.generic
// CHECK-LABEL: func.func @matmul_whole_blocks
// CHECK-SAME: %[[MINIT:[^:]+]]: tensor<8x32xi64>
// CHECK: arith.extsi %{{.*}} : vector<16xi32> to vector<16xi64>
// CHECK: vector.transfer_read %[[MINIT]]{{.*}} : tensor<8x32xi64>, vector<4x16xi64>
// CHECK: vector.transfer_write {{.*}} : vector<4x16xi64>, tensor<8x32xi64>
// CHECK-NOT: tensor.extract_slice
// CHECK-NOT: linalg.generic
!X = tensor<1x5x5x3x1xi64, #bitserial.packed<bits = 3, encoding = unsigned, length = 20>>
!F = tensor<16x3x3x2x1xi64, #bitserial.packed<bits = 2, encoding = signed, length = 20>>
func.func @conv2d_whole_blocks(%x: !X, %f: !F, %init: tensor<1x5x5x16xi32>) -> tensor<1x5x5x16xi32> {
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%init : tensor<1x5x5x16xi32>) padding = [1, 1, 1, 1] -> tensor<1x5x5x16xi32>
  return %r : tensor<1x5x5x16xi32>
}
!A = tensor<8x3x1xi64, #bitserial.packed<bits = 3, encoding = unsigned, length = 50>>
!B = tensor<32x2x1xi64, #bitserial.packed<bits = 2, encoding = signed, length = 50>>
func.func @matmul_whole_blocks(%a: !A, %b: !B, %init: tensor<8x32xi64>) -> tensor<8x32xi64> {
  %r = bitserial.matmul ins(%a, %b : !A, !B) outs(%init : tensor<8x32xi64>) -> tensor<8x32xi64>
  return %r : tensor<8x32xi64>
}
