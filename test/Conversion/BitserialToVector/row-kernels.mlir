// RUN: bitserial-opt %s -split-input-file --convert-bitserial-to-vector --canonicalize | FileCheck %s
// RUN: bitserial-opt %s -split-input-file --convert-bitserial-to-vector="parallel=true" --canonicalize | FileCheck %s --check-prefix=PAR

// pack: per row and word, one read of 64 values and per plane an AND, a
// compare and a vector<64xi1> -> i64 bitcast (plane 0's word through an
// empty asm, which LLVM 22's x86 backend otherwise miscompiled: see
// test/Integration/one-channel-filter.mlir). K = 70: the second word's read
// is masked (in_bounds = false) and pads with 0, whose planes are zero.
// CHECK-LABEL: func.func @pack_unsigned
// CHECK-SAME: (%[[X:.*]]: tensor<3x4x70xi8>) -> tensor<3x4x2x2xi64>
// CHECK: %[[EMPTY:.*]] = tensor.empty() : tensor<3x4x2x2xi64>
// CHECK: scf.for %[[I:.*]] = %c0 to %c3 {{.*}} iter_args(%{{.*}} = %[[EMPTY]])
// CHECK: scf.for %[[J:.*]] = %c0 to %c4
// CHECK: scf.for %[[W:.*]] = %c0 to %c2 {{.*}} iter_args(%[[OUT:.*]] = %{{.*}})
// CHECK: %[[K:.*]] = arith.muli %[[W]], %c64
// CHECK: %[[V:.*]] = vector.transfer_read %[[X]][%[[I]], %[[J]], %[[K]]], %c0_i8 : tensor<3x4x70xi8>, vector<64xi8>
// CHECK: %[[B0:.*]] = arith.andi %[[V]], %{{.*}} : vector<64xi8>
// CHECK: %[[S0:.*]] = arith.cmpi ne, %[[B0]], %{{.*}} : vector<64xi8>
// CHECK: %[[C0:.*]] = vector.bitcast %[[S0]] : vector<64xi1> to vector<1xi64>
// CHECK: %[[E0:.*]] = vector.extract %[[C0]][0] : i64 from vector<1xi64>
// CHECK: %[[W0:.*]] = llvm.inline_asm "", "=r,0" %[[E0]] : (i64) -> i64
// CHECK: %[[B1:.*]] = arith.andi %[[V]], %{{.*}} : vector<64xi8>
// CHECK: %[[C1:.*]] = vector.bitcast %{{.*}} : vector<64xi1> to vector<1xi64>
// CHECK: %[[W1:.*]] = vector.extract %[[C1]][0]
// CHECK: %[[P0:.*]] = tensor.insert %[[W0]] into %[[OUT]][%[[I]], %[[J]], %c0, %[[W]]]
// CHECK: tensor.insert %[[W1]] into %[[P0]][%[[I]], %[[J]], %c1, %[[W]]]
// CHECK-NOT: linalg.generic
func.func @pack_unsigned(%x: tensor<3x4x70xi8>)
    -> tensor<3x4x2x2xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 70>> {
  %p = bitserial.pack %x : tensor<3x4x70xi8>
      -> tensor<3x4x2x2xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 70>>
  return %p : tensor<3x4x2x2xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 70>>
}

// -----

// Bipolar codes (v + 2^bits - 1) / 2; 8-bit bipolar values need i16, the
// shift a 9-bit code. Past the length reads pad with -(2^bits - 1), code 0.
// 16-bit words: a vector<16xi1> per plane.
// CHECK-LABEL: func.func @pack_bipolar
// CHECK: vector.transfer_read %{{.*}}, %c-255_i16 : tensor<5x20xi16>, vector<16xi16>
// CHECK: arith.addi %{{.*}}, %{{.*}} : vector<16xi16>
// CHECK: arith.shrui %{{.*}}, %{{.*}} : vector<16xi16>
// CHECK-COUNT-8: vector.bitcast %{{.*}} : vector<16xi1> to vector<1xi16>
// CHECK-COUNT-8: tensor.insert %{{.*}} : tensor<5x8x2xi16>
func.func @pack_bipolar(%x: tensor<5x20xi16>)
    -> tensor<5x8x2xi16, #bitserial.packed<bits = 8, encoding = bipolar, length = 20>> {
  %p = bitserial.pack %x : tensor<5x20xi16>
      -> tensor<5x8x2xi16, #bitserial.packed<bits = 8, encoding = bipolar, length = 20>>
  return %p : tensor<5x8x2xi16, #bitserial.packed<bits = 8, encoding = bipolar, length = 20>>
}

// -----

// A rank-1 input is one row.
// CHECK-LABEL: func.func @pack_vector
// CHECK: vector.transfer_read {{.*}} {in_bounds = [true]} : tensor<64xi32>, vector<64xi32>
// CHECK-COUNT-3: tensor.insert %{{.*}} : tensor<3x1xi64>
func.func @pack_vector(%x: tensor<64xi32>)
    -> tensor<3x1xi64, #bitserial.packed<bits = 3, encoding = signed, length = 64>> {
  %p = bitserial.pack %x : tensor<64xi32>
      -> tensor<3x1xi64, #bitserial.packed<bits = 3, encoding = signed, length = 64>>
  return %p : tensor<3x1xi64, #bitserial.packed<bits = 3, encoding = signed, length = 64>>
}

// -----

// A threshold that no kernel fused: per row and word, 64 accumulators XORed
// with the descending masks, compared with each relaid-out threshold (acc ^ m
// >= t ^ m), the counts' planes as words. Channels past C = 70 are masked
// off. Constant thresholds and flags are relaid out at compile time.
// CHECK-LABEL: func.func @threshold
// CHECK-SAME: (%[[ACC:.*]]: tensor<2x3x70xi32>) -> tensor<2x3x2x2xi64>
// CHECK-DAG: %[[TABLE:.*]] = arith.constant dense<{{.*}}> : tensor<3x128xi32>
// CHECK-DAG: %[[MASKS:.*]] = arith.constant dense<{{.*}}> : tensor<128xi32>
// CHECK: scf.for
// CHECK: scf.for %[[W:.*]] =
// CHECK: %[[X0:.*]] = vector.transfer_read %[[ACC]]{{.*}}, %c0_i32 : tensor<2x3x70xi32>, vector<64xi32>
// CHECK: %[[M:.*]] = vector.transfer_read %[[MASKS]]{{.*}} {in_bounds = [true]} : tensor<128xi32>, vector<64xi32>
// CHECK: %[[X:.*]] = arith.xori %[[X0]], %[[M]] : vector<64xi32>
// CHECK: %[[T0:.*]] = vector.transfer_read %[[TABLE]][%c0, {{.*}} : tensor<3x128xi32>, vector<64xi32>
// CHECK: arith.cmpi sge, %[[X]], %[[T0]] : vector<64xi32>
// CHECK: %[[T2:.*]] = vector.transfer_read %[[TABLE]][%c2, {{.*}} : tensor<3x128xi32>, vector<64xi32>
// CHECK: arith.cmpi sge, %[[X]], %[[T2]] : vector<64xi32>
// CHECK: %[[VALID:.*]] = vector.create_mask %{{.*}} : vector<64xi1>
// CHECK: arith.andi %{{.*}}, %[[VALID]] : vector<64xi1>
// CHECK: vector.bitcast %{{.*}} : vector<64xi1> to vector<1xi64>
// CHECK-NOT: linalg.generic
func.func @threshold(%acc: tensor<2x3x70xi32>)
    -> tensor<2x3x2x2xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 70>> {
  %t = arith.constant dense<7> : tensor<70x3xi32>
  %flip = arith.constant dense<true> : tensor<70xi1>
  %y = bitserial.threshold %acc, %t descending(%flip : tensor<70xi1>)
      : tensor<2x3x70xi32>, tensor<70x3xi32>
      -> tensor<2x3x2x2xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 70>>
  return %y : tensor<2x3x2x2xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 70>>
}

// -----

// Thresholds from arguments are relaid out by generics once per call; 15
// thresholds (4 bits) are a loop; signed codes flip the count's top bit.
// CHECK-LABEL: func.func @threshold_arguments
// CHECK-SAME: (%[[ACC:.*]]: tensor<5x128xi64>, %[[T:.*]]: tensor<128x15xi64>)
// CHECK: %[[TABLE:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<15x128xi64>)
// CHECK: tensor.extract %[[T]]
// CHECK: scf.for
// CHECK: scf.for
// CHECK: vector.transfer_read %[[ACC]]{{.*}} {in_bounds = [true]} : tensor<5x128xi64>, vector<64xi64>
// CHECK: scf.for %{{.*}} = %c0 to %c15
// CHECK: vector.transfer_read %[[TABLE]]
// CHECK: arith.cmpi sge
// CHECK: arith.xori %{{.*}}, %cst{{.*}} : vector<64xi64>
// CHECK-COUNT-4: vector.bitcast %{{.*}} : vector<64xi1> to vector<1xi64>
func.func @threshold_arguments(%acc: tensor<5x128xi64>, %t: tensor<128x15xi64>)
    -> tensor<5x4x2xi64, #bitserial.packed<bits = 4, encoding = signed, length = 128>> {
  %y = bitserial.threshold %acc, %t : tensor<5x128xi64>, tensor<128x15xi64>
      -> tensor<5x4x2xi64, #bitserial.packed<bits = 4, encoding = signed, length = 128>>
  return %y : tensor<5x4x2xi64, #bitserial.packed<bits = 4, encoding = signed, length = 128>>
}

// -----

// A requantize that no kernel fused: per position, vectors of 16 channels
// through the same arithmetic as the reference (here its doubling high
// multiply in i64); 37 channels: the last vector's reads and write are
// masked (in_bounds = false).
// CHECK-LABEL: func.func @requantize
// CHECK-SAME: (%[[ACC:.*]]: tensor<3x4x37xi32>, %[[M:.*]]: tensor<37xi32>, %[[S:.*]]: tensor<37xi8>)
// CHECK: scf.for
// CHECK: scf.for
// CHECK: scf.for %[[V:.*]] = %c0 to %c3
// CHECK: %[[X:.*]] = vector.transfer_read %[[ACC]]{{.*}} : tensor<3x4x37xi32>, vector<16xi32>
// CHECK: vector.transfer_read %[[M]]{{.*}} : tensor<37xi32>, vector<16xi32>
// CHECK: vector.transfer_read %[[S]]{{.*}} : tensor<37xi8>, vector<16xi8>
// CHECK: arith.muli %{{.*}} : vector<16xi64>
// CHECK: vector.transfer_write %{{.*}} : vector<16xi8>, tensor<3x4x37xi8>
// CHECK-NOT: linalg.generic
func.func @requantize(%acc: tensor<3x4x37xi32>, %m: tensor<37xi32>, %s: tensor<37xi8>) -> tensor<3x4x37xi8> {
  %q = bitserial.requantize %acc, %m, %s zero_point = -3 clamp = [-128, 127]
      : tensor<3x4x37xi32>, tensor<37xi32>, tensor<37xi8> -> tensor<3x4x37xi8>
  return %q : tensor<3x4x37xi8>
}

// -----

// Dequantize: fl(fl(fl(acc) * scale) + bias) on vectors, 32 channels in
// bounds.
// CHECK-LABEL: func.func @dequantize
// CHECK: %[[X:.*]] = vector.transfer_read %{{.*}} {in_bounds = [true]} : tensor<?x32xi64>, vector<16xi64>
// CHECK: %[[F:.*]] = arith.sitofp %[[X]] : vector<16xi64> to vector<16xf32>
// CHECK: %[[P:.*]] = arith.mulf %[[F]], %{{.*}} : vector<16xf32>
// CHECK: arith.addf %[[P]], %{{.*}} : vector<16xf32>
// CHECK: vector.transfer_write %{{.*}} {in_bounds = [true]} : vector<16xf32>, tensor<?x32xf32>
func.func @dequantize(%acc: tensor<?x32xi64>, %scale: tensor<32xf32>, %bias: tensor<32xf32>) -> tensor<?x32xf32> {
  %f = bitserial.dequantize %acc, %scale, %bias : tensor<?x32xi64>, tensor<32xf32>, tensor<32xf32> -> tensor<?x32xf32>
  return %f : tensor<?x32xf32>
}

// -----

// With `parallel`, a row kernel over >= 2^16 values splits the first two
// axes (images and rows) across threads: each scf.forall iteration reads at
// its global indices and writes its own [1, 1, W, C] slice at [0, 0, w, c].
// PAR-LABEL: func.func @requantize_parallel
// PAR-SAME: (%[[ACC:.*]]: tensor<2x30x30x37xi32>
// PAR: scf.forall (%[[N:.*]], %[[H:.*]]) in (2, 30) shared_outs(%[[OUT:.*]] = %{{.*}})
// PAR: %[[SLICE:.*]] = tensor.extract_slice %[[OUT]][%[[N]], %[[H]], 0, 0] [1, 1, 30, 37] [1, 1, 1, 1]
// PAR: scf.for %[[W:.*]] = %c0 to %c30 {{.*}} iter_args(%[[ROW:.*]] = %[[SLICE]])
// PAR: scf.for %[[V:.*]] = %c0 to %c3 {{.*}} iter_args(%[[CUR:.*]] = %[[ROW]])
// PAR: vector.transfer_read %[[ACC]][%[[N]], %[[H]], %[[W]], %{{.*}}]
// PAR: vector.transfer_write %{{.*}}, %[[CUR]][%c0, %c0, %[[W]], %{{.*}}]
// PAR: scf.forall.in_parallel
// PAR: tensor.parallel_insert_slice %{{.*}} into %[[OUT]][%[[N]], %[[H]], 0, 0] [1, 1, 30, 37]
func.func @requantize_parallel(%acc: tensor<2x30x30x37xi32>, %m: tensor<37xi32>, %s: tensor<37xi8>) -> tensor<2x30x30x37xi8> {
  %q = bitserial.requantize %acc, %m, %s zero_point = 0 clamp = [-128, 127]
      : tensor<2x30x30x37xi32>, tensor<37xi32>, tensor<37xi8> -> tensor<2x30x30x37xi8>
  return %q : tensor<2x30x30x37xi8>
}

// -----

// Fewer values: forking would cost more than the threads save.
// PAR-LABEL: func.func @requantize_small
// PAR-NOT: scf.forall
// PAR: return
func.func @requantize_small(%acc: tensor<3x4x37xi32>, %m: tensor<37xi32>, %s: tensor<37xi8>) -> tensor<3x4x37xi8> {
  %q = bitserial.requantize %acc, %m, %s zero_point = 0 clamp = [-128, 127]
      : tensor<3x4x37xi32>, tensor<37xi32>, tensor<37xi8> -> tensor<3x4x37xi8>
  return %q : tensor<3x4x37xi8>
}
