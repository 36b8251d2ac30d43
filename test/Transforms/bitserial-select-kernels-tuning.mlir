// A tuning cache entry (benchmarks/tune.py) replaces the cost model's choice
// for the op whose key, target, CPU and int8 instruction it names; other ops
// keep the cost model's, and the user's bitserial.int8 wins over both.
// RUN: bitserial-opt %s -split-input-file --bitserial-select-kernels="target=x86-avx512-vpopcntdq int8=avx512-vnni cpu=test-cpu tuning-cache=%S/Inputs/tuning-cache.json" | FileCheck %s
// RUN: bitserial-opt %s -split-input-file --bitserial-select-kernels="target=x86-avx512-vpopcntdq int8=avx512-vnni cpu=test-cpu tuning-cache=%S/Inputs/tuning-cache.json emit-remarks=true" -o /dev/null 2>&1 | FileCheck %s --check-prefix=REMARK
// Entries of another CPU or int8 instruction do not apply.
// RUN: bitserial-opt %s -split-input-file --bitserial-select-kernels="target=x86-avx512-vpopcntdq int8=avx512-vnni cpu=other-cpu tuning-cache=%S/Inputs/tuning-cache.json" | FileCheck %s --check-prefix=OTHER
// RUN: bitserial-opt %s -split-input-file --bitserial-select-kernels="target=x86-avx512-vpopcntdq int8=none cpu=test-cpu tuning-cache=%S/Inputs/tuning-cache.json" | FileCheck %s --check-prefix=OTHER
// The keys benchmarks/tune.py reads.
// RUN: bitserial-opt %s -split-input-file --bitserial-select-kernels="target=x86-avx512-vpopcntdq int8=avx512-vnni cpu=test-cpu emit-tuning-keys=true" -o /dev/null 2>&1 | FileCheck %s --check-prefix=KEY

// C2 at 1 x 1 bits: the cache's 8 x 2 block (its last entry for the key)
// instead of the fitted 4 x 4.
// CHECK-LABEL: func.func @c2_a1w1
// CHECK: bitserial.conv2d
// CHECK-SAME: bitserial.kernel = "bitserial", bitserial.register_block = array<i64: 8, 2>
// REMARK: remark: kernel bitserial (tuned, block 8x2); estimated cycles: bit-serial {{[0-9]+}} (block 4x4), int8 avx512-vnni {{[0-9]+}}
// OTHER-LABEL: func.func @c2_a1w1
// OTHER: bitserial.conv2d
// OTHER-SAME: bitserial.register_block = array<i64: 4, 4>
// KEY: remark: tuning {"accumulators":16,"cpu":"test-cpu","default":{"kernel":"bitserial","register_block":[4,4]},"domain":[1,56,56,64],"int8":"avx512-vnni","int8_candidate":true,"key":{"C":64,"CO":64,"H":56,"KH":3,"KW":3,"N":1,"W":56,"bits":[1,1],"dilation":[1,1],"encodings":["bipolar","bipolar"],"epilogue":"none","op":"conv2d","padding":[1,1,1,1],"stride":[1,1]},"lanes":8,"lookup_candidate":false,"target":"x86-avx512-vpopcntdq"}
!X = tensor<1x56x56x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 64>>
!F = tensor<64x3x3x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 64>>
func.func @c2_a1w1(%x: !X, %f: !F, %init: tensor<1x56x56x64xi32>) -> tensor<1x56x56x64xi32> {
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%init : tensor<1x56x56x64xi32>) padding = [1, 1, 1, 1] -> tensor<1x56x56x64xi32>
  return %r : tensor<1x56x56x64xi32>
}

// -----

// The same layer at 2 x 1 bits has an entry only for another target: the
// cost model decides.
// CHECK-LABEL: func.func @c2_a2w1
// CHECK: bitserial.conv2d
// CHECK-SAME: bitserial.kernel = "bitserial", bitserial.register_block = array<i64: 4, 4>
// REMARK: remark: kernel bitserial (cost model)
// KEY: remark: tuning {{.*}}"bits":[2,1],"dilation":[1,1],"encodings":["unsigned","bipolar"]
!X = tensor<1x56x56x2x1xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 64>>
!F = tensor<64x3x3x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 64>>
func.func @c2_a2w1(%x: !X, %f: !F, %init: tensor<1x56x56x64xi32>) -> tensor<1x56x56x64xi32> {
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%init : tensor<1x56x56x64xi32>) padding = [1, 1, 1, 1] -> tensor<1x56x56x64xi32>
  return %r : tensor<1x56x56x64xi32>
}

// -----

// Same sizes and bits as the first entry but another padding: no match.
// CHECK-LABEL: func.func @c2_a1w1_unpadded
// CHECK: bitserial.conv2d
// CHECK-SAME: bitserial.register_block = array<i64: 2, 8>
// REMARK: remark: kernel bitserial (cost model); estimated cycles: bit-serial {{[0-9]+}} (block 2x8)
// KEY: remark: tuning {{.*}}"padding":[0,0,0,0]
!X = tensor<1x56x56x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 64>>
!F = tensor<64x3x3x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 64>>
func.func @c2_a1w1_unpadded(%x: !X, %f: !F, %init: tensor<1x54x54x64xi32>) -> tensor<1x54x54x64xi32> {
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%init : tensor<1x54x54x64xi32>) -> tensor<1x54x54x64xi32>
  return %r : tensor<1x54x54x64xi32>
}

// -----

// A matmul whose entry says int8 (the cost model picks bit-serial at 1 x 1
// bits).
// CHECK-LABEL: func.func @matmul_tuned_int8
// CHECK: bitserial.matmul
// CHECK-SAME: bitserial.kernel = "int8"
// CHECK-NOT: bitserial.register_block
// CHECK: return
// REMARK: remark: kernel int8 (tuned); estimated cycles
// KEY: remark: tuning {{.*}}"key":{"B":1,"K":256,"M":64,"N":128,"bits":[1,1],"encodings":["bipolar","bipolar"],"epilogue":"none","op":"matmul"}
// OTHER-LABEL: func.func @matmul_tuned_int8
// OTHER: bitserial.matmul
// OTHER-SAME: bitserial.kernel = "bitserial"
!A = tensor<64x1x4xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 256>>
!B = tensor<128x1x4xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 256>>
func.func @matmul_tuned_int8(%a: !A, %b: !B, %init: tensor<64x128xi32>) -> tensor<64x128xi32> {
  %r = bitserial.matmul ins(%a, %b : !A, !B) outs(%init : tensor<64x128xi32>) -> tensor<64x128xi32>
  return %r : tensor<64x128xi32>
}

// -----

// The user's bitserial.int8 wins over a matching entry: no annotation, and
// no key to tune.
// CHECK-LABEL: func.func @matmul_user_choice
// CHECK: bitserial.matmul
// CHECK-SAME: {bitserial.int8 = false}
// REMARK: remark: kernel bitserial (bitserial.int8 = false)
// KEY-NOT: remark: tuning
!A = tensor<64x1x4xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 256>>
!B = tensor<128x1x4xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 256>>
func.func @matmul_user_choice(%a: !A, %b: !B, %init: tensor<64x128xi32>) -> tensor<64x128xi32> {
  %r = bitserial.matmul ins(%a, %b : !A, !B) outs(%init : tensor<64x128xi32>) {bitserial.int8 = false} -> tensor<64x128xi32>
  return %r : tensor<64x128xi32>
}

// -----

// A fused threshold is part of the key: the matmul of the int8 entry, with
// one, is another op and keeps the cost model's choice.
// CHECK-LABEL: func.func @matmul_threshold
// CHECK: bitserial.matmul
// CHECK-SAME: bitserial.kernel = "bitserial"
// REMARK: remark: kernel bitserial (cost model)
// KEY: remark: tuning {{.*}}"epilogue":"threshold","op":"matmul"
!A = tensor<64x1x4xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 256>>
!B = tensor<128x1x4xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 256>>
!Y = tensor<64x1x2xi64, #bitserial.packed<bits = 1, encoding = unsigned, length = 128>>
func.func @matmul_threshold(%a: !A, %b: !B, %init: tensor<64x128xi32>, %t: tensor<128x1xi32>) -> !Y {
  %r = bitserial.matmul ins(%a, %b : !A, !B) outs(%init : tensor<64x128xi32>) -> tensor<64x128xi32>
  %y = bitserial.threshold %r, %t : tensor<64x128xi32>, tensor<128x1xi32> -> !Y
  return %y : !Y
}
