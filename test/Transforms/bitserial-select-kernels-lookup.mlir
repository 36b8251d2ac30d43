// With lookup=true on x86-avx2, the table-lookup kernel (vpshufb, 1-bit
// weights) is a candidate for the ops convert-bitserial-to-x86-lookup
// takes; its estimate joins the remark.
// RUN: bitserial-opt %s -split-input-file --bitserial-select-kernels="target=x86-avx2 int8=avx2 lookup=true" | FileCheck %s
// RUN: bitserial-opt %s -split-input-file --bitserial-select-kernels="target=x86-avx2 int8=avx2 lookup=true emit-remarks=true" -o /dev/null 2>&1 | FileCheck %s --check-prefix=REMARK
// A second run keeps the first one's choices.
// RUN: bitserial-opt %s -split-input-file --bitserial-select-kernels="target=x86-avx2 int8=avx2 lookup=true" --bitserial-select-kernels="target=x86-avx2 int8=avx2 lookup=true" | FileCheck %s
// Without the option the choice is between bit-serial and int8 as before;
// on x86-avx512-vpopcntdq the lookups are vpermb ones, for 2-bit weights
// only (the first ops here have 1-bit weights).
// RUN: bitserial-opt %s -split-input-file --bitserial-select-kernels="target=x86-avx2 int8=avx2 emit-remarks=true" -o /dev/null 2>&1 | FileCheck %s --check-prefix=OFF
// RUN: bitserial-opt %s -split-input-file --bitserial-select-kernels="target=x86-avx512-vpopcntdq int8=avx512-vnni lookup=true emit-remarks=true" -o /dev/null 2>&1 | FileCheck %s --check-prefix=OFF
// RUN: bitserial-opt %s -split-input-file --bitserial-select-kernels="target=x86-avx512-vpopcntdq int8=avx512-vnni lookup=true" | FileCheck %s --check-prefix=VPERMB
// RUN: bitserial-opt %s -split-input-file --bitserial-select-kernels="target=x86-avx512-vpopcntdq int8=avx512-vnni lookup=true emit-remarks=true" -o /dev/null 2>&1 | FileCheck %s --check-prefix=VPERMB-REMARK
// RUN: bitserial-opt %s -split-input-file --bitserial-select-kernels="target=x86-avx512-vpopcntdq int8=avx512-vnni" | FileCheck %s --check-prefix=VPERMB-OFF

// ResNet-18's C2 at 2-bit unsigned x 1-bit bipolar: lookups (Zen 3: 0.30 ms
// against 0.52 ms bit-serial), without a register block.
// CHECK-LABEL: func.func @c2_a2w1
// CHECK: bitserial.conv2d
// CHECK-SAME: bitserial.kernel = "lookup"
// CHECK-NOT: register_block
// REMARK: remark: kernel lookup (cost model); estimated cycles: bit-serial {{[0-9]+}} (block 4x2), int8 avx2 {{[0-9]+}}, lookup {{[0-9]+}}
// OFF: remark: kernel bitserial (cost model); estimated cycles: bit-serial {{[0-9]+}} (block {{[0-9]+}}x{{[0-9]+}}), int8 {{[a-z0-9-]+}} {{[0-9]+}}{{$}}
!X = tensor<1x56x56x2x1xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 64>>
!F = tensor<64x3x3x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 64>>
func.func @c2_a2w1(%x: !X, %f: !F, %init: tensor<1x56x56x64xi32>) -> tensor<1x56x56x64xi32> {
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%init : tensor<1x56x56x64xi32>) padding = [1, 1, 1, 1] -> tensor<1x56x56x64xi32>
  return %r : tensor<1x56x56x64xi32>
}

// -----

// C12 (7x7, 512 channels) with a constant filter (re-laid out at compile
// time) likewise: 0.33 ms against 0.49 ms. With the filter an argument,
// its 2.4 M values decoded and re-laid out on every call cost more than the
// lookups save (0.76 ms against 0.53 ms): bit-serial.
// CHECK-LABEL: func.func @c12_a2w1
// CHECK: bitserial.conv2d
// CHECK-SAME: bitserial.kernel = "lookup"
// CHECK: bitserial.conv2d
// CHECK-SAME: bitserial.kernel = "bitserial"
// REMARK: remark: kernel lookup (cost model)
// REMARK: remark: kernel bitserial (cost model)
!X = tensor<1x7x7x2x8xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 512>>
!F = tensor<512x3x3x1x8xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 512>>
func.func @c12_a2w1(%x: !X, %g: !F, %init: tensor<1x7x7x512xi32>) -> (tensor<1x7x7x512xi32>, tensor<1x7x7x512xi32>) {
  %f = arith.constant dense<6148914691236517205> : !F
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%init : tensor<1x7x7x512xi32>) padding = [1, 1, 1, 1] -> tensor<1x7x7x512xi32>
  %s = bitserial.conv2d ins(%x, %g : !X, !F) outs(%init : tensor<1x7x7x512xi32>) padding = [1, 1, 1, 1] -> tensor<1x7x7x512xi32>
  return %r, %s : tensor<1x7x7x512xi32>, tensor<1x7x7x512xi32>
}

// -----

// Not lookup candidates: bipolar activations (XNOR layers) and 2-bit
// weights; no lookup estimate in their remarks.
// CHECK-LABEL: func.func @c2_a1w1
// CHECK: bitserial.conv2d
// CHECK-SAME: bitserial.kernel = "bitserial"
// REMARK: remark: kernel bitserial (cost model); estimated cycles: bit-serial {{[0-9]+}} (block {{[0-9]+}}x{{[0-9]+}}), int8 avx2 {{[0-9]+}}{{$}}
// REMARK: remark: kernel int8 (cost model); estimated cycles: bit-serial {{[0-9]+}} (block {{[0-9]+}}x{{[0-9]+}}), int8 avx2 {{[0-9]+}}{{$}}
!X = tensor<1x56x56x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 64>>
!F = tensor<64x3x3x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 64>>
!X2 = tensor<1x56x56x2x1xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 64>>
!F2 = tensor<64x3x3x2x1xi64, #bitserial.packed<bits = 2, encoding = signed, length = 64>>
func.func @c2_a1w1(%x: !X, %f: !F, %x2: !X2, %f2: !F2, %init: tensor<1x56x56x64xi32>) -> (tensor<1x56x56x64xi32>, tensor<1x56x56x64xi32>) {
  %r = bitserial.conv2d ins(%x, %f : !X, !F) outs(%init : tensor<1x56x56x64xi32>) padding = [1, 1, 1, 1] -> tensor<1x56x56x64xi32>
  %r2 = bitserial.conv2d ins(%x2, %f2 : !X2, !F2) outs(%init : tensor<1x56x56x64xi32>) padding = [1, 1, 1, 1] -> tensor<1x56x56x64xi32>
  return %r, %r2 : tensor<1x56x56x64xi32>, tensor<1x56x56x64xi32>
}

// -----

// x86-avx512-vpopcntdq with vpermb lookups (Zen 5, constant filters,
// ms): ResNet-18's C6 at A2W2 0.140 against 0.195 bit-serial, C3 (1x1)
// 0.034 against 0.027; a 4096 x 4096 matmul at M = 64 1.43 against 1.95,
// at M = 1 (weights streamed once per call) no lookup estimate at all.
// VPERMB-LABEL: func.func @a2w2_layers
// VPERMB: bitserial.conv2d
// VPERMB-SAME: bitserial.kernel = "lookup"
// VPERMB: bitserial.conv2d
// VPERMB-SAME: bitserial.kernel = "bitserial"
// VPERMB: bitserial.matmul
// VPERMB-SAME: bitserial.kernel = "lookup"
// VPERMB: bitserial.matmul
// VPERMB-SAME: bitserial.kernel = "bitserial"
// VPERMB-REMARK: remark: kernel lookup (cost model); estimated cycles: bit-serial {{[0-9]+}} (block 4x4), int8 avx512-vnni {{[0-9]+}}, lookup {{[0-9]+}}
// VPERMB-REMARK: remark: kernel bitserial (cost model); estimated cycles: bit-serial {{[0-9]+}} (block 4x2), int8 avx512-vnni {{[0-9]+}}, lookup {{[0-9]+}}
// VPERMB-REMARK: remark: kernel lookup (cost model)
// VPERMB-REMARK: remark: kernel bitserial (cost model); estimated cycles: bit-serial {{[0-9]+}} (block {{[0-9]+}}x{{[0-9]+}}), int8 avx512-vnni {{[0-9]+}}{{$}}
// VPERMB-OFF-LABEL: func.func @a2w2_layers
// VPERMB-OFF-NOT: "lookup"
!X6 = tensor<1x28x28x2x2xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 128>>
!F6 = tensor<128x3x3x2x2xi64, #bitserial.packed<bits = 2, encoding = signed, length = 128>>
!X3 = tensor<1x56x56x2x1xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 64>>
!F3 = tensor<64x1x1x2x1xi64, #bitserial.packed<bits = 2, encoding = signed, length = 64>>
!A64 = tensor<64x2x64xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 4096>>
!A1 = tensor<1x2x64xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 4096>>
!B = tensor<4096x2x64xi64, #bitserial.packed<bits = 2, encoding = signed, length = 4096>>
func.func @a2w2_layers(%x6: !X6, %x3: !X3, %a64: !A64, %a1: !A1,
                       %i6: tensor<1x28x28x128xi32>, %i3: tensor<1x56x56x64xi32>,
                       %i64: tensor<64x4096xi32>, %i1: tensor<1x4096xi32>)
    -> (tensor<1x28x28x128xi32>, tensor<1x56x56x64xi32>, tensor<64x4096xi32>, tensor<1x4096xi32>) {
  %f6 = arith.constant dense<6148914691236517205> : !F6
  %f3 = arith.constant dense<6148914691236517205> : !F3
  %b = arith.constant dense<6148914691236517205> : !B
  %r6 = bitserial.conv2d ins(%x6, %f6 : !X6, !F6) outs(%i6 : tensor<1x28x28x128xi32>) padding = [1, 1, 1, 1] -> tensor<1x28x28x128xi32>
  %r3 = bitserial.conv2d ins(%x3, %f3 : !X3, !F3) outs(%i3 : tensor<1x56x56x64xi32>) -> tensor<1x56x56x64xi32>
  %r64 = bitserial.matmul ins(%a64, %b : !A64, !B) outs(%i64 : tensor<64x4096xi32>) -> tensor<64x4096xi32>
  %r1 = bitserial.matmul ins(%a1, %b : !A1, !B) outs(%i1 : tensor<1x4096xi32>) -> tensor<1x4096xi32>
  return %r6, %r3, %r64, %r1 : tensor<1x28x28x128xi32>, tensor<1x56x56x64xi32>, tensor<64x4096xi32>, tensor<1x4096xi32>
}

// -----

// Lookups need an estimate 10% below the other kernels' (their speed moved
// with the machine's phase where the popcounts' held): C11 (1x1, stride 2,
// 14x14 -> 7x7, 256 -> 512 channels) at 2 x 2 bits, lookups estimated 8%
// cheaper, stays bit-serial.
// VPERMB-LABEL: func.func @c11_a2w2
// VPERMB: bitserial.conv2d
// VPERMB-SAME: bitserial.kernel = "bitserial"
// VPERMB-REMARK: remark: kernel bitserial (cost model); estimated cycles: bit-serial {{[0-9]+}} (block 7x2), int8 avx512-vnni {{[0-9]+}}, lookup {{[0-9]+}}
!X11 = tensor<1x14x14x2x4xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 256>>
!F11 = tensor<512x1x1x2x4xi64, #bitserial.packed<bits = 2, encoding = signed, length = 256>>
func.func @c11_a2w2(%x: !X11, %i: tensor<1x7x7x512xi32>) -> tensor<1x7x7x512xi32> {
  %f = arith.constant dense<6148914691236517205> : !F11
  %r = bitserial.conv2d ins(%x, %f : !X11, !F11) outs(%i : tensor<1x7x7x512xi32>) strides = [2, 2] -> tensor<1x7x7x512xi32>
  return %r : tensor<1x7x7x512xi32>
}

// -----

// A bitserial.kernel already on an op is kept (the user's choice, or an
// earlier run's), a bit-serial one with its register block; one the
// pipeline cannot lower becomes "bitserial" with the cost model's block.
// CHECK-LABEL: func.func @annotated
// CHECK: bitserial.conv2d {{.*}} {bitserial.kernel = "lookup"}
// CHECK: bitserial.conv2d {{.*}} {bitserial.kernel = "bitserial", bitserial.register_block = array<i64: 2, 2>}
// CHECK: bitserial.conv2d {{.*}} {bitserial.kernel = "bitserial", bitserial.register_block = array<i64: {{[0-9]+}}, {{[0-9]+}}>}
// CHECK: bitserial.conv2d {{.*}} {bitserial.kernel = "int8"}
// REMARK: remark: kernel lookup (bitserial.kernel = "lookup"); estimated cycles: bit-serial {{[0-9]+}} (block {{[0-9]+}}x{{[0-9]+}}), int8 avx2 {{[0-9]+}}, lookup {{[0-9]+}}
// REMARK: remark: kernel bitserial (bitserial.kernel = "bitserial", block 2x2)
// REMARK: remark: kernel bitserial (bitserial.kernel = "lookup", not handled by the lookup lowering)
// REMARK: remark: kernel int8 (bitserial.kernel = "int8")
// OFF: remark: kernel bitserial (bitserial.kernel = "lookup", {{no lookup kernel in this pipeline|not handled by the lookup lowering}})
!X12 = tensor<1x7x7x2x8xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 512>>
!F12 = tensor<512x3x3x1x8xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 512>>
!X2 = tensor<1x56x56x2x1xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 64>>
!F2 = tensor<64x3x3x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 64>>
!X1 = tensor<1x56x56x1x1xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 64>>
func.func @annotated(%x12: !X12, %f12: !F12, %i12: tensor<1x7x7x512xi32>,
                     %x2: !X2, %f2: !F2, %x1: !X1, %i2: tensor<1x56x56x64xi32>)
    -> (tensor<1x7x7x512xi32>, tensor<1x56x56x64xi32>, tensor<1x56x56x64xi32>, tensor<1x56x56x64xi32>) {
  %r = bitserial.conv2d ins(%x12, %f12 : !X12, !F12) outs(%i12 : tensor<1x7x7x512xi32>) padding = [1, 1, 1, 1] {bitserial.kernel = "lookup"} -> tensor<1x7x7x512xi32>
  %s = bitserial.conv2d ins(%x2, %f2 : !X2, !F2) outs(%i2 : tensor<1x56x56x64xi32>) padding = [1, 1, 1, 1] {bitserial.kernel = "bitserial", bitserial.register_block = array<i64: 2, 2>} -> tensor<1x56x56x64xi32>
  %t = bitserial.conv2d ins(%x1, %f2 : !X1, !F2) outs(%i2 : tensor<1x56x56x64xi32>) padding = [1, 1, 1, 1] {bitserial.kernel = "lookup"} -> tensor<1x56x56x64xi32>
  %u = bitserial.conv2d ins(%x1, %f2 : !X1, !F2) outs(%i2 : tensor<1x56x56x64xi32>) padding = [1, 1, 1, 1] {bitserial.kernel = "int8"} -> tensor<1x56x56x64xi32>
  return %r, %s, %t, %u : tensor<1x7x7x512xi32>, tensor<1x56x56x64xi32>, tensor<1x56x56x64xi32>, tensor<1x56x56x64xi32>
}
