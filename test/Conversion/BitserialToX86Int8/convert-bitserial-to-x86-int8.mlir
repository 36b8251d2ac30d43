// RUN: bitserial-opt %s -split-input-file --convert-bitserial-to-x86-int8 | FileCheck %s
// RUN: bitserial-opt %s -split-input-file --convert-bitserial-to-x86-int8="instruction=avx-vnni" | FileCheck %s --check-prefix=YMM
// vpmaddwd on i16 codes (narrow products off):
// RUN: bitserial-opt %s -split-input-file --convert-bitserial-to-x86-int8="instruction=avx2 min-bit-product=1 narrow-products=false" | FileCheck %s --check-prefix=AVX2
// RUN: bitserial-opt %s -split-input-file --convert-bitserial-to-x86-int8="instruction=avx512bw min-bit-product=1 narrow-products=false" | FileCheck %s --check-prefix=BW
// Narrow products: vpmaddubsw into i16 sums where the codes' ranges bound
// them, widened by vpmaddwd.
// RUN: bitserial-opt %s -split-input-file --convert-bitserial-to-x86-int8="instruction=avx2 min-bit-product=1" | FileCheck %s --check-prefix=NARROW
// RUN: bitserial-opt %s -split-input-file --convert-bitserial-to-x86-int8="instruction=avx512bw min-bit-product=1" | FileCheck %s --check-prefix=NARROW-BW
// The default threshold is 8, 16 below 128 output rows; never for one row.
// RUN: bitserial-opt %s -split-input-file --convert-bitserial-to-x86-int8="instruction=avx2 narrow-products=false" | FileCheck %s --check-prefix=DEFAULT
// 65: never (but for ops marked bitserial.int8 = true).
// RUN: bitserial-opt %s -split-input-file --convert-bitserial-to-x86-int8="min-bit-product=65" | FileCheck %s --check-prefix=NEVER
// parallel=true: output rows of a convolution and runs of row blocks of a
// matmul are the tasks of an scf.forall, each storing its own slice.
// RUN: bitserial-opt %s -split-input-file --convert-bitserial-to-x86-int8="parallel=true min-parallel-macs=0" | FileCheck %s --check-prefix=PAR
// Ops of fewer multiply-accumulates than min-parallel-macs (default 2^21;
// @stem 282 240, @conv 903 168) stay on one thread.
// RUN: bitserial-opt %s -split-input-file --convert-bitserial-to-x86-int8="parallel=true" | FileCheck %s --check-prefix=SERIAL
// RUN: bitserial-opt %s -split-input-file --convert-bitserial-to-x86-int8="parallel=true min-parallel-macs=282240" | FileCheck %s --check-prefix=AT-LIMIT
// RUN: bitserial-opt %s -split-input-file --convert-bitserial-to-x86-int8="parallel=true min-parallel-macs=282241" | FileCheck %s --check-prefix=ABOVE-LIMIT
// RUN: not bitserial-opt %s -split-input-file --convert-bitserial-to-x86-int8="min-parallel-macs=-1" 2>&1 | FileCheck %s --check-prefix=NEGATIVE
// NEGATIVE: error: min-parallel-macs must be at least 0, got -1

// SERIAL-LABEL: func.func @stem
// SERIAL-NOT: scf.forall
// SERIAL: func.call @llvm.x86.avx512.vpdpbusd.512
// SERIAL-NOT: scf.forall
// SERIAL: return
// AT-LIMIT-LABEL: func.func @stem
// AT-LIMIT: scf.forall
// ABOVE-LIMIT-LABEL: func.func @stem
// ABOVE-LIMIT-NOT: scf.forall
// ABOVE-LIMIT: return

// NEVER-LABEL: func.func @stem
// NEVER-NOT: func.call
// NEVER: bitserial.matmul
// NEVER-NOT: func.call
// NEVER: return

// The ResNet-18 stem's matmul (8-bit unsigned x 4-bit signed): u8 x s8 as
// is, no offsets. The weights become [N / 16, K / 4, 64] (K = 147 rounded up
// to 148); each step of 4 values of K broadcasts 4 activation codes per row
// and multiplies them with 4 vectors of 16 channels: 6 x 4 accumulators,
// which are the outputs (init added in the kernel, no reductions).
// CHECK: func.func private @llvm.x86.avx512.vpdpbusd.512(vector<16xi32>, vector<64xi8>, vector<64xi8>) -> vector<16xi32>
// CHECK-LABEL: func.func @stem
// PAR-LABEL: func.func @stem
// PAR-SAME: %[[INIT:[^:]+]]: tensor<30x64xi32>
// PAR: scf.forall (%{{.*}}) in (%{{.*}}) shared_outs(%[[SHARED:.*]] = %[[INIT]]) -> (tensor<30x64xi32>)
// PAR: %[[ROWS:.*]] = tensor.extract_slice %[[SHARED]][%[[AT:.*]], 0] [%[[COUNT:.*]], 64] [1, 1] : tensor<30x64xi32> to tensor<?x64xi32>
// PAR: func.call @llvm.x86.avx512.vpdpbusd.512
// PAR: scf.forall.in_parallel
// PAR-NEXT: tensor.parallel_insert_slice %{{.*}} into %[[SHARED]][%[[AT]], 0] [%[[COUNT]], 64] [1, 1]
// CHECK-SAME: %[[INIT:[^:]+]]: tensor<30x64xi32>
// CHECK: %[[XA:.*]] = scf.for {{.*}} -> (tensor<30x192xi8>)
// CHECK: %[[XB:.*]] = scf.for {{.*}} -> (tensor<64x192xi8>)
// CHECK: %[[RELAID:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<4x37x16x4xi8>)
// CHECK: tensor.extract %[[XB]]
// CHECK: %[[W:.*]] = tensor.collapse_shape %[[RELAID]] {{\[}}[0], [1], [2, 3]] : tensor<4x37x16x4xi8> into tensor<4x37x64xi8>
// CHECK: scf.for {{.*}} step %c6{{.*}} iter_args(%{{.*}} = %[[INIT]]) -> (tensor<30x64xi32>)
// CHECK: scf.for {{.*}} step %c4{{.*}} -> (tensor<30x64xi32>)
// CHECK: %{{.*}}:24 = scf.for %{{.*}} = %{{.*}} to %c148{{.*}} step %c4{{.*}} -> (vector<16xi32>,
// CHECK: %[[CODES:.*]] = vector.transfer_read %[[XA]]{{.*}} : tensor<30x192xi8>, vector<4xi8>
// CHECK: %[[WORD:.*]] = vector.bitcast %[[CODES]] : vector<4xi8> to vector<1xi32>
// CHECK: %[[SPLAT:.*]] = vector.broadcast %[[WORD]] : vector<1xi32> to vector<16xi32>
// CHECK: vector.bitcast %[[SPLAT]] : vector<16xi32> to vector<64xi8>
// CHECK-COUNT-4: vector.transfer_read %[[W]]{{.*}} : tensor<4x37x64xi8>, vector<64xi8>
// CHECK-COUNT-24: func.call @llvm.x86.avx512.vpdpbusd.512
// CHECK: scf.yield
// CHECK-COUNT-24: vector.transfer_read {{.*}} {in_bounds = [true]} : tensor<30x64xi32>, vector<16xi32>
// CHECK-COUNT-24: vector.transfer_write {{.*}} {in_bounds = [true]} : vector<16xi32>, tensor<30x64xi32>
// CHECK-NOT: linalg.generic
// CHECK-NOT: bitserial.matmul
// CHECK: return
// YMM: func.func private @llvm.x86.avx512.vpdpbusd.256(vector<8xi32>, vector<32xi8>, vector<32xi8>) -> vector<8xi32>
// YMM-LABEL: func.func @stem
// YMM: tensor.collapse_shape {{.*}} into tensor<8x37x32xi8>
// YMM-COUNT-12: func.call @llvm.x86.avx512.vpdpbusd.256
// vpmaddwd: i16 codes, 2 values of K per lane, zero-extended activations
// and sign-extended weights, the products added.
// AVX2: func.func private @llvm.x86.avx2.pmadd.wd(vector<16xi16>, vector<16xi16>) -> vector<8xi32>
// AVX2-LABEL: func.func @stem
// AVX2: arith.extsi %{{.*}} : i8 to i16
// AVX2: tensor.collapse_shape {{.*}} into tensor<8x74x16xi16>
// AVX2: scf.for {{.*}} to %c148{{.*}} step %c2
// AVX2: arith.extui %{{.*}} : vector<2xi8> to vector<2xi16>
// AVX2: vector.bitcast %{{.*}} : vector<2xi16> to vector<1xi32>
// AVX2: %[[P:.*]] = func.call @llvm.x86.avx2.pmadd.wd
// AVX2: arith.addi %{{.*}}, %[[P]] : vector<8xi32>
// AVX2-NOT: pmaddubs
// BW: func.func private @llvm.x86.avx512.pmaddw.d.512(vector<32xi16>, vector<32xi16>) -> vector<16xi32>
// Narrow products: u8 x s8 codes as for vpdpbusd (K in groups of 4); a
// vpmaddubsw lane adds two products of at most 255 x 8, so 8 steps (4080
// each) stay within 32767: the 37 groups run in 5 chunks of at most 8 steps
// ([32 c, min(32 c + 32, 148))) into 6 x 2 i16 sums, each chunk widened by
// vpmaddwd with ones into the i32 accumulators.
// NARROW: func.func private @llvm.x86.avx2.pmadd.wd(vector<16xi16>, vector<16xi16>) -> vector<8xi32>
// NARROW: func.func private @llvm.x86.avx2.pmadd.ub.sw(vector<32xi8>, vector<32xi8>) -> vector<16xi16>
// NARROW-LABEL: func.func @stem
// NARROW: tensor.collapse_shape {{.*}} into tensor<8x37x32xi8>
// NARROW: %{{.*}}:12 = scf.for %[[CHUNK:.*]] = %{{.*}} to %c5{{.*}} step %c1{{.*}} -> (vector<8xi32>,
// NARROW: %[[BEGIN:.*]] = arith.muli %[[CHUNK]], %c32{{.*}} : index
// NARROW: %[[NEXT:.*]] = arith.addi %[[BEGIN]], %c32{{.*}} : index
// NARROW: %[[END:.*]] = arith.minui %[[NEXT]], %c148{{.*}} : index
// NARROW: %[[SUMS:.*]]:12 = scf.for %{{.*}} = %[[BEGIN]] to %[[END]] step %c4{{.*}} -> (vector<16xi16>,
// NARROW: vector.transfer_read {{.*}} : tensor<30x192xi8>, vector<4xi8>
// NARROW-NOT: arith.ext
// NARROW: %[[P:.*]] = func.call @llvm.x86.avx2.pmadd.ub.sw
// NARROW: arith.addi %{{.*}}, %[[P]] : vector<16xi16>
// NARROW: scf.yield
// NARROW: %[[ONES:.*]] = arith.constant dense<1> : vector<16xi16>
// NARROW: %[[PAIRS:.*]] = func.call @llvm.x86.avx2.pmadd.wd(%[[SUMS]]#0, %[[ONES]])
// NARROW: arith.addi %{{.*}}, %[[PAIRS]] : vector<8xi32>
// NARROW: return
// NARROW-BW: func.func private @llvm.x86.avx512.pmaddw.d.512(vector<32xi16>, vector<32xi16>) -> vector<16xi32>
// NARROW-BW: func.func private @llvm.x86.avx512.pmaddubs.w.512(vector<64xi8>, vector<64xi8>) -> vector<32xi16>
// NARROW-BW-LABEL: func.func @stem
// NARROW-BW: func.call @llvm.x86.avx512.pmaddubs.w.512
// DEFAULT-LABEL: func.func @stem
// DEFAULT: func.call @llvm.x86.avx2.pmadd.wd
!A = tensor<30x8x3xi64, #bitserial.packed<bits = 8, encoding = unsigned, length = 147>>
!B = tensor<64x4x3xi64, #bitserial.packed<bits = 4, encoding = signed, length = 147>>
func.func @stem(%a: !A, %b: !B, %init: tensor<30x64xi32>) -> tensor<30x64xi32> {
  %r = bitserial.matmul ins(%a, %b : !A, !B) outs(%init : tensor<30x64xi32>) -> tensor<30x64xi32>
  return %r : tensor<30x64xi32>
}

// -----

// The stem packed from its i8 im2col matrix: the 8-bit codes are the
// matrix's bytes, read in place (no decoded, K-padded copy); the 36 whole
// groups of K run in the loop and the last one (K = 144..146) is a step of
// masked reads (in_bounds false) against the zero-padded weights.
// CHECK-LABEL: func.func @stem_from_i8
// CHECK-SAME: %[[X:[^:]+]]: tensor<30x147xi8>
// CHECK-NOT: bitserial.pack %
// CHECK-NOT: -> (tensor<30x192xi8>)
// CHECK: %[[ACCS:.*]]:24 = scf.for %[[K:.*]] = %{{.*}} to %c144{{.*}} step %c4{{.*}} -> (vector<16xi32>,
// CHECK: vector.transfer_read %[[X]][%{{.*}}, %[[K]]], %{{.*}} {in_bounds = [true]} : tensor<30x147xi8>, vector<4xi8>
// CHECK-COUNT-24: func.call @llvm.x86.avx512.vpdpbusd.512
// CHECK: scf.yield
// CHECK-COUNT-6: vector.transfer_read %[[X]][%{{.*}}, %c144{{[_0-9]*}}], %{{[a-z0-9_]+}} : tensor<30x147xi8>, vector<4xi8>
// CHECK-COUNT-4: vector.transfer_read %{{.*}} {in_bounds = [true]} : tensor<4x37x64xi8>, vector<64xi8>
// CHECK-COUNT-24: func.call @llvm.x86.avx512.vpdpbusd.512
// CHECK: return
!A = tensor<30x8x3xi64, #bitserial.packed<bits = 8, encoding = unsigned, length = 147>>
!B = tensor<64x4x3xi64, #bitserial.packed<bits = 4, encoding = signed, length = 147>>
func.func @stem_from_i8(%x: tensor<30x147xi8>, %b: !B, %init: tensor<30x64xi32>) -> tensor<30x64xi32> {
  %a = bitserial.pack %x : tensor<30x147xi8> -> !A
  %r = bitserial.matmul ins(%a, %b : !A, !B) outs(%init : tensor<30x64xi32>) -> tensor<30x64xi32>
  return %r : tensor<30x64xi32>
}

// -----

// 8-bit signed x 8-bit signed: vpdpbusd needs one u8 operand, so the
// weights go as v + 128 and the activations' row sums correct it:
// init + acc - 128 rowsum(xa). Channels past N = 20 are masked (in_bounds
// false) and rows past M = 3 repeat the last one; i64 results widen the
// i32 sums once (K = 40 <= 32768).
// CHECK-LABEL: func.func @signed_signed_i64
// CHECK: %{{.*}}:{{[0-9]+}} = scf.for {{.*}} -> (vector<16xi32>,
// CHECK: vector.transfer_read {{.*}} : tensor<3x20xi64>, vector<16xi64>
// CHECK: arith.extsi %{{.*}} : vector<16xi32> to vector<16xi64>
// CHECK: vector.transfer_write {{.*}} : vector<16xi64>, tensor<3x20xi64>
// CHECK: linalg.generic
// CHECK: arith.constant -128 : i64
// CHECK: linalg.yield
// vpmaddwd multiplies s16 by s16: no offset, no correction.
// AVX2-LABEL: func.func @signed_signed_i64
// AVX2: func.call @llvm.x86.avx2.pmadd.wd
// AVX2-NOT: linalg.generic
// AVX2: return
!A = tensor<3x8x1xi64, #bitserial.packed<bits = 8, encoding = signed, length = 40>>
!B = tensor<20x8x1xi64, #bitserial.packed<bits = 8, encoding = signed, length = 40>>
func.func @signed_signed_i64(%a: !A, %b: !B, %init: tensor<3x20xi64>) -> tensor<3x20xi64> {
  %r = bitserial.matmul ins(%a, %b : !A, !B) outs(%init : tensor<3x20xi64>) -> tensor<3x20xi64>
  return %r : tensor<3x20xi64>
}

// -----

// i64 results over more than 32768 values of K, batched weights and ops
// below the bit product stay bit-serial; `bitserial.int8` overrides the
// rule both ways.
// CHECK-LABEL: func.func @kept
// CHECK: bitserial.matmul {{.*}} -> tensor<2x3xi64>
// CHECK: bitserial.matmul {{.*}} -> tensor<2x2x3xi32>
// CHECK: bitserial.matmul {{.*}} -> tensor<2x3xi32>
// CHECK: bitserial.matmul {{.*}} {bitserial.int8 = false}
// CHECK-NOT: bitserial.matmul
// CHECK: return
!W = tensor<2x8x513xi64, #bitserial.packed<bits = 8, encoding = unsigned, length = 32800>>
!V = tensor<3x8x513xi64, #bitserial.packed<bits = 8, encoding = signed, length = 32800>>
!A = tensor<2x2x1xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 40>>
!B = tensor<3x2x1xi64, #bitserial.packed<bits = 2, encoding = signed, length = 40>>
!BB = tensor<2x3x8x1xi64, #bitserial.packed<bits = 8, encoding = signed, length = 40>>
!AB = tensor<2x2x8x1xi64, #bitserial.packed<bits = 8, encoding = unsigned, length = 40>>
func.func @kept(%w: !W, %v: !V, %i64: tensor<2x3xi64>, %a: !A, %b: !B, %ab: !AB, %bb: !BB,
                %i32: tensor<2x3xi32>, %batch: tensor<2x2x3xi32>) -> (tensor<2x3xi64>, tensor<2x2x3xi32>, tensor<2x3xi32>, tensor<2x3xi32>, tensor<2x3xi32>) {
  %0 = bitserial.matmul ins(%w, %v : !W, !V) outs(%i64 : tensor<2x3xi64>) -> tensor<2x3xi64>
  %1 = bitserial.matmul ins(%ab, %bb : !AB, !BB) outs(%batch : tensor<2x2x3xi32>) -> tensor<2x2x3xi32>
  %2 = bitserial.matmul ins(%a, %b : !A, !B) outs(%i32 : tensor<2x3xi32>) -> tensor<2x3xi32>
  %3 = bitserial.matmul ins(%a, %b : !A, !B) outs(%i32 : tensor<2x3xi32>) {bitserial.int8 = true} -> tensor<2x3xi32>
  %4 = bitserial.matmul ins(%ab, %b : !AB, !B) outs(%batch : tensor<2x2x3xi32>) {bitserial.int8 = false} -> tensor<2x2x3xi32>
  %5 = tensor.extract_slice %4[0, 0, 0] [1, 2, 3] [1, 1, 1] : tensor<2x2x3xi32> to tensor<2x3xi32>
  return %0, %1, %2, %3, %5 : tensor<2x3xi64>, tensor<2x2x3xi32>, tensor<2x3xi32>, tensor<2x3xi32>, tensor<2x3xi32>
}

// -----

// conv2d over the taps: the input decoded with its padding (x = 0, written
// to the padded rows and columns only, not under the values), the
// filter re-laid out as [CO / 16, KH, KW, C / 4, 64]; blocks of pixels of
// one output row (7 here: the row is 7 wide) x channel vectors reduce over
// (kh, kw, 4 channels). With threads the input is zeroed and decoded by
// rows in parallel too (one task per padded row: its zeros and values).
// CHECK-LABEL: func.func @conv
// SERIAL-LABEL: func.func @conv
// SERIAL-NOT: scf.forall
// SERIAL: return
// PAR-LABEL: func.func @conv
// PAR: scf.forall (%{{.*}}, %{{.*}}) in (1, 16) shared_outs(%{{.*}}) -> (tensor<1x16x16x64xi8>)
// PAR-NOT: scf.forall {{.*}} -> (tensor<1x16x16x64xi8>)
// PAR: scf.forall (%[[N:.*]], %[[OH:.*]]) in (%{{.*}}, %{{.*}}) shared_outs(%[[SHARED:.*]] = %{{.*}}) -> (tensor<1x7x7x32xi32>)
// PAR: tensor.extract_slice %[[SHARED]][%[[N]], %[[OH]], 0, 0] [1, 1, 7, 32] [1, 1, 1, 1] : tensor<1x7x7x32xi32> to tensor<1x1x7x32xi32>
// PAR: scf.forall.in_parallel
// PAR-NEXT: tensor.parallel_insert_slice %{{.*}} into %[[SHARED]][%[[N]], %[[OH]], 0, 0] [1, 1, 7, 32]
// CHECK: arith.cmpi ult
// CHECK: scf.if %{{.*}} -> (tensor<1x16x16x64xi8>) {
// CHECK: vector.transfer_write {{.*}} : vector<64xi8>, tensor<1x16x16x64xi8>
// CHECK: } else {
// CHECK: scf.for {{.*}} -> (tensor<2x3x3x16x64xi8>)
// CHECK: scf.for {{.*}} -> (tensor<1x7x7x32xi32>)
// CHECK: scf.for {{.*}} step %c7{{.*}} -> (tensor<1x7x7x32xi32>)
// CHECK: %{{.*}}:14 = scf.for {{.*}} -> (vector<16xi32>,
// CHECK: scf.for {{.*}} -> (vector<16xi32>,
// CHECK: scf.for {{.*}} to %c64{{.*}} step %c4{{.*}} -> (vector<16xi32>,
// CHECK-COUNT-7: vector.transfer_read {{.*}} : tensor<1x16x16x64xi8>, vector<4xi8>
// CHECK-COUNT-2: vector.transfer_read {{.*}} : tensor<2x3x3x16x64xi8>, vector<64xi8>
// CHECK-COUNT-14: func.call @llvm.x86.avx512.vpdpbusd.512
// CHECK-NOT: bitserial.conv2d
// CHECK: return
!X = tensor<1x14x14x8x1xi64, #bitserial.packed<bits = 8, encoding = unsigned, length = 64>>
!F = tensor<32x3x3x2x1xi64, #bitserial.packed<bits = 2, encoding = signed, length = 64>>
func.func @conv(%x: !X, %f: !F, %init: tensor<1x7x7x32xi32>) -> tensor<1x7x7x32xi32> {
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%init : tensor<1x7x7x32xi32>) strides = [2, 2] padding = [1, 1, 1, 1] -> tensor<1x7x7x32xi32>
  return %r : tensor<1x7x7x32xi32>
}

// -----

// Signed activations and unsigned weights need no offset (s8 x u8). An
// 8-bit bipolar input needs one either way ((v - 1) / 2 as s8): with
// padding it stays bit-serial, without it the filter's sums correct it.
// CHECK-LABEL: func.func @conv_signed_unsigned
// CHECK: func.call @llvm.x86.avx512.vpdpbusd.512
// CHECK-NOT: linalg.generic
// CHECK: return
!X = tensor<1x6x6x8x1xi64, #bitserial.packed<bits = 8, encoding = signed, length = 9>>
!F = tensor<5x3x3x8x1xi64, #bitserial.packed<bits = 8, encoding = unsigned, length = 9>>
func.func @conv_signed_unsigned(%x: !X, %f: !F, %init: tensor<1x6x6x5xi32>) -> tensor<1x6x6x5xi32> {
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%init : tensor<1x6x6x5xi32>) padding = [1, 1, 1, 1] -> tensor<1x6x6x5xi32>
  return %r : tensor<1x6x6x5xi32>
}

// -----

// CHECK-LABEL: func.func @conv_offsets
// CHECK: bitserial.conv2d
// CHECK: func.call @llvm.x86.avx512.vpdpbusd.512
// CHECK: linalg.generic
// CHECK: return
!X = tensor<1x6x6x8x1xi64, #bitserial.packed<bits = 8, encoding = bipolar, length = 9>>
!F = tensor<5x3x3x8x1xi64, #bitserial.packed<bits = 8, encoding = unsigned, length = 9>>
func.func @conv_offsets(%x: !X, %f: !F, %init: tensor<1x6x6x5xi32>, %init2: tensor<1x4x4x5xi32>) -> (tensor<1x6x6x5xi32>, tensor<1x4x4x5xi32>) {
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%init : tensor<1x6x6x5xi32>) padding = [1, 1, 1, 1] -> tensor<1x6x6x5xi32>
  %s = bitserial.conv2d ins(%x, %f : !X, !F) outs(%init2 : tensor<1x4x4x5xi32>) -> tensor<1x4x4x5xi32>
  return %r, %s : tensor<1x6x6x5xi32>, tensor<1x4x4x5xi32>
}

// -----

// 4 x 2 bits reach the default threshold of 8 with 128 rows, not with 127
// (the weights' decoding per call is not amortized).
// CHECK-LABEL: func.func @few_rows
// CHECK: func.call @llvm.x86.avx512.vpdpbusd.512
// CHECK: bitserial.matmul {{.*}} -> tensor<127x16xi32>
// DEFAULT-LABEL: func.func @few_rows
// DEFAULT: func.call @llvm.x86.avx2.pmadd.wd
// DEFAULT: bitserial.matmul {{.*}} -> tensor<127x16xi32>
!A = tensor<128x4x1xi64, #bitserial.packed<bits = 4, encoding = unsigned, length = 64>>
!A2 = tensor<127x4x1xi64, #bitserial.packed<bits = 4, encoding = unsigned, length = 64>>
!B = tensor<16x2x1xi64, #bitserial.packed<bits = 2, encoding = signed, length = 64>>
func.func @few_rows(%a: !A, %a2: !A2, %b: !B, %i: tensor<128x16xi32>, %i2: tensor<127x16xi32>) -> (tensor<128x16xi32>, tensor<127x16xi32>) {
  %r = bitserial.matmul ins(%a, %b : !A, !B) outs(%i : tensor<128x16xi32>) -> tensor<128x16xi32>
  %s = bitserial.matmul ins(%a2, %b : !A2, !B) outs(%i2 : tensor<127x16xi32>) -> tensor<127x16xi32>
  return %r, %s : tensor<128x16xi32>, tensor<127x16xi32>
}

// -----

// One output row (a matrix-vector product) stays bit-serial by default even
// at 8 x 8 bits (decoding the weights costs more than the product); two rows
// reach the doubled threshold of 16.
// DEFAULT-LABEL: func.func @single_row
// DEFAULT: bitserial.matmul {{.*}} -> tensor<1x16xi32>
// DEFAULT: func.call @llvm.x86.avx2.pmadd.wd
// DEFAULT-NOT: bitserial.matmul
// DEFAULT: return
!A = tensor<1x8x1xi64, #bitserial.packed<bits = 8, encoding = unsigned, length = 64>>
!A2 = tensor<2x8x1xi64, #bitserial.packed<bits = 8, encoding = unsigned, length = 64>>
!B = tensor<16x8x1xi64, #bitserial.packed<bits = 8, encoding = signed, length = 64>>
func.func @single_row(%a: !A, %a2: !A2, %b: !B, %i: tensor<1x16xi32>, %i2: tensor<2x16xi32>) -> (tensor<1x16xi32>, tensor<2x16xi32>) {
  %r = bitserial.matmul ins(%a, %b : !A, !B) outs(%i : tensor<1x16xi32>) -> tensor<1x16xi32>
  %s = bitserial.matmul ins(%a2, %b : !A2, !B) outs(%i2 : tensor<2x16xi32>) -> tensor<2x16xi32>
  return %r, %s : tensor<1x16xi32>, tensor<2x16xi32>
}

// -----

// An operand straight from bitserial.pack is read from the pack's input:
// 3-bit bipolar values v in i16 become their codes ((v + 7) / 2 keeps the
// plane bits, decoded to v again: s8 here, as the 8-bit signed weights take
// u8 with an offset), the lanes past K = 147 cleared. A zero-filled init is
// neither read nor needed: the kernel stores into a fresh tensor.
// CHECK-LABEL: func.func @from_pack
// CHECK-SAME: %[[X:[^:]+]]: tensor<30x147xi16>
// CHECK: vector.transfer_read %[[X]]{{.*}} : tensor<30x147xi16>, vector<64xi16>
// CHECK: arith.shrui {{.*}} : vector<64xi16>
// CHECK: arith.andi {{.*}} : vector<64xi16>
// CHECK: arith.trunci {{.*}} : vector<64xi16> to vector<64xi8>
// CHECK: vector.create_mask
// CHECK: %[[OUT:.*]] = tensor.empty() : tensor<30x64xi32>
// CHECK: scf.for {{.*}} iter_args(%{{.*}} = %[[OUT]]) -> (tensor<30x64xi32>)
// CHECK-NOT: vector.transfer_read {{.*}} : tensor<30x64xi32>, vector<16xi32>
// CHECK: vector.transfer_write {{.*}} : vector<16xi32>, tensor<30x64xi32>
// CHECK-NOT: vector.transfer_read {{.*}} : tensor<30x64xi32>, vector<16xi32>
// CHECK: return
!A = tensor<30x3x3xi64, #bitserial.packed<bits = 3, encoding = bipolar, length = 147>>
!B = tensor<64x8x3xi64, #bitserial.packed<bits = 8, encoding = signed, length = 147>>
func.func @from_pack(%x: tensor<30x147xi16>, %b: !B) -> tensor<30x64xi32> {
  %a = bitserial.pack %x : tensor<30x147xi16> -> !A
  %e = tensor.empty() : tensor<30x64xi32>
  %c0 = arith.constant 0 : i32
  %z = linalg.fill ins(%c0 : i32) outs(%e : tensor<30x64xi32>) -> tensor<30x64xi32>
  %r = bitserial.matmul ins(%a, %b : !A, !B) outs(%z : tensor<30x64xi32>) -> tensor<30x64xi32>
  return %r : tensor<30x64xi32>
}

// -----

// Narrow products over a whole 3x3 window: 2-bit unsigned x 2-bit signed
// codes (u8 at most 3, s8 at least -2) allow 2730 steps per widening, and
// the window has 3 x 3 x 4 groups: one loop nest of i16 sums, widened once.
// NARROW-LABEL: func.func @narrow_window
// NARROW-NOT: -> (vector<8xi32>
// NARROW: scf.for {{.*}} -> (vector<16xi16>,
// NARROW: scf.for {{.*}} -> (vector<16xi16>,
// NARROW: scf.for {{.*}} to %c16{{.*}} step %c4{{.*}} -> (vector<16xi16>,
// NARROW: func.call @llvm.x86.avx2.pmadd.ub.sw
// NARROW-NOT: -> (vector<8xi32>
// NARROW: func.call @llvm.x86.avx2.pmadd.wd
// NARROW: return
!X = tensor<1x6x6x2x1xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 16>>
!F = tensor<8x3x3x2x1xi64, #bitserial.packed<bits = 2, encoding = signed, length = 16>>
func.func @narrow_window(%x: !X, %f: !F, %init: tensor<1x6x6x8xi32>) -> tensor<1x6x6x8xi32> {
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%init : tensor<1x6x6x8xi32>) padding = [1, 1, 1, 1] -> tensor<1x6x6x8xi32>
  return %r : tensor<1x6x6x8xi32>
}

// -----

// 4-bit x 4-bit unsigned: 2 x 15 x 15 per step allows 72 steps; a kernel
// row (3 taps x 24 groups of 96 channels) fits, the window does not: i32
// accumulators over kh, i16 sums over (kw, channel groups).
// NARROW-LABEL: func.func @narrow_rows
// NARROW: scf.for {{.*}} to %c3{{.*}} step %c1{{.*}} -> (vector<8xi32>,
// NARROW: scf.for {{.*}} to %c3{{.*}} step %c1{{.*}} -> (vector<16xi16>,
// NARROW: scf.for {{.*}} to %c96{{.*}} step %c4{{.*}} -> (vector<16xi16>,
// NARROW: func.call @llvm.x86.avx2.pmadd.ub.sw
// NARROW: scf.yield
// NARROW: scf.yield
// NARROW: func.call @llvm.x86.avx2.pmadd.wd
// NARROW: scf.yield
!X = tensor<1x5x5x4x2xi64, #bitserial.packed<bits = 4, encoding = unsigned, length = 96>>
!F = tensor<16x3x3x4x2xi64, #bitserial.packed<bits = 4, encoding = unsigned, length = 96>>
func.func @narrow_rows(%x: !X, %f: !F, %init: tensor<1x3x3x16xi32>) -> tensor<1x3x3x16xi32> {
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%init : tensor<1x3x3x16xi32>) -> tensor<1x3x3x16xi32>
  return %r : tensor<1x3x3x16xi32>
}

// -----

// 7-bit unsigned x 8-bit signed: one vpmaddubsw lane may reach
// 2 x 127 x 128 = 32512, so two steps could leave i16: vpmaddwd on i16
// codes instead.
// NARROW-LABEL: func.func @too_wide_for_narrow
// NARROW-NOT: pmadd.ub.sw
// NARROW: func.call @llvm.x86.avx2.pmadd.wd
// NARROW-NOT: pmadd.ub.sw
// NARROW: return
!A = tensor<5x7x1xi64, #bitserial.packed<bits = 7, encoding = unsigned, length = 40>>
!B = tensor<16x8x1xi64, #bitserial.packed<bits = 8, encoding = signed, length = 40>>
func.func @too_wide_for_narrow(%a: !A, %b: !B, %init: tensor<5x16xi32>) -> tensor<5x16xi32> {
  %r = bitserial.matmul ins(%a, %b : !A, !B) outs(%init : tensor<5x16xi32>) -> tensor<5x16xi32>
  return %r : tensor<5x16xi32>
}

// -----

// Constant weights are decoded and re-laid out here, not on every call: the
// 2-bit unsigned rows [1, 2, 3, 0] (planes 0b0101, 0b0110) and [3, 3, 0, 1]
// (0b1011, 0b0011) become the codes of channels 0 and 1 of a vector of 16
// (vpdpbusd) or 8 (vpmaddubsw) channels x 4 values of K (vpmaddwd: i16
// codes, 2 values of K); the other channels are 0. No weight decoding or
// re-layout is left.
// CHECK-LABEL: func.func @constant_weights
// CHECK: arith.constant dense<{{\[\[\[}}1, 2, 3, 0, 3, 3, 0, 1, 0, 0, 0, 0, {{.*}}]]]> : tensor<1x1x64xi8>
// CHECK-NOT: linalg.generic
// CHECK-NOT: tensor<2x64xi8>
// CHECK: func.call @llvm.x86.avx512.vpdpbusd.512
// CHECK: return
// NARROW-LABEL: func.func @constant_weights
// NARROW: arith.constant dense<{{\[\[\[}}1, 2, 3, 0, 3, 3, 0, 1, 0, 0, 0, 0, {{.*}}]]]> : tensor<1x1x32xi8>
// NARROW-NOT: linalg.generic
// NARROW: func.call @llvm.x86.avx2.pmadd.ub.sw
// AVX2-LABEL: func.func @constant_weights
// AVX2: arith.constant dense<{{\[\[\[}}1, 2, 3, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], [3, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]]]> : tensor<1x2x16xi16>
// AVX2-NOT: linalg.generic
// AVX2: func.call @llvm.x86.avx2.pmadd.wd
!A = tensor<3x2x1xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 4>>
!B = tensor<2x2x1xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 4>>
func.func @constant_weights(%a: !A, %init: tensor<3x2xi32>) -> tensor<3x2xi32> {
  %b = arith.constant dense<[[[5], [6]], [[11], [3]]]> : !B
  %r = bitserial.matmul ins(%a, %b : !A, !B) outs(%init : tensor<3x2xi32>) {bitserial.int8 = true} -> tensor<3x2xi32>
  return %r : tensor<3x2xi32>
}
