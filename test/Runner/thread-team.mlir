// Parallel kernels on the runner's thread team (the default of --num-threads)
// and on libomp (--thread-runtime libomp): teams of 2, 3 and 5 threads (more
// than this machine may have cores), a layer of 3 output rows for 5
// threads, a barrier inside each 3x3 kernel, and a strided, padded 1x1
// layer whose tasks copy their own input rows, checked against NumPy.
//
// DEFINE: %{expect} = env PYTHONPATH=%bitserial_src_root/python %bitserial_python %S/Inputs/expect.py x=%t/in0.npy f=%t/in1.npy y=%t/in2.npy g=%t/in3.npy a=%t/in4.npy b=%t/in5.npy u=%t/in6.npy h=%t/in7.npy
// DEFINE: %{exact} = -- "rows == bitserial.conv2d(x, f, padding=(1, 1, 1, 1))" "few == bitserial.conv2d(y, g)" "dense == bitserial.matmul(a, b)" "ones == bitserial.conv2d(u, h, strides=(2, 2), padding=(1, 0, 1, 0))"
// RUN: rm -rf %t && mkdir -p %t
// RUN: bitserial-run %s --random-inputs --seed 3 --save-inputs %t/in --output %t/r1.npy --output %t/f1.npy --output %t/d1.npy --output %t/o1.npy
// RUN: %{expect} rows=%t/r1.npy few=%t/f1.npy dense=%t/d1.npy ones=%t/o1.npy %{exact} | FileCheck %s
// RUN: bitserial-run %s --random-inputs --seed 3 --num-threads 2 --dump-object %t/team.o --output %t/r2.npy --output %t/f2.npy --output %t/d2.npy --output %t/o2.npy
// RUN: %{expect} rows=%t/r2.npy few=%t/f2.npy dense=%t/d2.npy ones=%t/o2.npy %{exact} | FileCheck %s
// RUN: bitserial-run %s --random-inputs --seed 3 --num-threads 3 --output %t/r3.npy --output %t/f3.npy --output %t/d3.npy --output %t/o3.npy
// RUN: %{expect} rows=%t/r3.npy few=%t/f3.npy dense=%t/d3.npy ones=%t/o3.npy %{exact} | FileCheck %s
// RUN: bitserial-run %s --random-inputs --seed 3 --num-threads 5 --repeat 3 --output %t/r5.npy --output %t/f5.npy --output %t/d5.npy --output %t/o5.npy
// RUN: %{expect} rows=%t/r5.npy few=%t/f5.npy dense=%t/d5.npy ones=%t/o5.npy %{exact} | FileCheck %s
// RUN: bitserial-run %s --random-inputs --seed 3 --num-threads 2 --thread-runtime libomp --output %t/ro.npy --output %t/fo.npy --output %t/do.npy --output %t/oo.npy
// RUN: %{expect} rows=%t/ro.npy few=%t/fo.npy dense=%t/do.npy ones=%t/oo.npy %{exact} | FileCheck %s
// CHECK-COUNT-4: PASS
// CHECK-NOT: MISMATCH
//
// Each kernel forks (all are above the parallel thresholds), and the 3x3
// ones wait at a barrier after copying their input rows.
// RUN: llvm-nm -u %t/team.o | FileCheck %s --check-prefix=CALLS
// CALLS-DAG: __kmpc_fork_call
// CALLS-DAG: __kmpc_barrier
// CALLS-DAG: __kmpc_for_static_init_8u
//
// A layer far below the parallel thresholds forks with
// --min-parallel-binops 0, and only then.
// RUN: bitserial-run %bitserial_src_root/examples/binary_dense.mlir --random-inputs --num-threads 2 --min-parallel-binops 0 --dump-object %t/forced.o
// RUN: llvm-nm -u %t/forced.o | FileCheck %s --check-prefix=CALLS-FORCED
// CALLS-FORCED: __kmpc_fork_call
// RUN: bitserial-run %bitserial_src_root/examples/binary_dense.mlir --random-inputs --num-threads 2 --dump-object %t/default.o
// RUN: llvm-nm -u %t/default.o | FileCheck %s --check-prefix=CALLS-DEFAULT
// CALLS-DEFAULT-NOT: __kmpc_fork_call
//
// RUN: not bitserial-run %s --random-inputs --num-threads 2 --thread-runtime omp 2>&1 | FileCheck %s --check-prefix=BAD
// BAD: Cannot find option named 'omp'

!X = tensor<1x14x14x2x4xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 256>>
!F = tensor<64x3x3x1x4xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 256>>
!Y = tensor<1x5x5x1x8xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 512>>
!G = tensor<256x3x3x1x8xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 512>>
!A = tensor<32x2x32xi64, #bitserial.packed<bits = 2, encoding = signed, length = 2000>>
!B = tensor<128x2x32xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 2000>>
!U = tensor<2x17x17x2x4xi64, #bitserial.packed<bits = 2, encoding = unsigned, length = 256>>
!H = tensor<256x1x1x1x4xi64, #bitserial.packed<bits = 1, encoding = bipolar, length = 256>>

func.func @main(%x: tensor<1x14x14x256xi8>, %f: tensor<64x3x3x256xi8>,
                %y: tensor<1x5x5x512xi8>, %g: tensor<256x3x3x512xi8>,
                %a: tensor<32x2000xi8>, %b: tensor<128x2000xi8>,
                %u: tensor<2x17x17x256xi8>, %h: tensor<256x1x1x256xi8>)
    -> (tensor<1x14x14x64xi32>, tensor<1x3x3x256xi32>, tensor<32x128xi32>,
        tensor<2x9x9x256xi32>) {
  %c0 = arith.constant 0 : i32
  %px = bitserial.pack %x : tensor<1x14x14x256xi8> -> !X
  %pf = bitserial.pack %f : tensor<64x3x3x256xi8> -> !F
  %e0 = tensor.empty() : tensor<1x14x14x64xi32>
  %i0 = linalg.fill ins(%c0 : i32) outs(%e0 : tensor<1x14x14x64xi32>) -> tensor<1x14x14x64xi32>
  %rows = bitserial.conv2d ins(%px, %pf : !X, !F) outs(%i0 : tensor<1x14x14x64xi32>)
      padding = [1, 1, 1, 1] -> tensor<1x14x14x64xi32>
  %py = bitserial.pack %y : tensor<1x5x5x512xi8> -> !Y
  %pg = bitserial.pack %g : tensor<256x3x3x512xi8> -> !G
  %e1 = tensor.empty() : tensor<1x3x3x256xi32>
  %i1 = linalg.fill ins(%c0 : i32) outs(%e1 : tensor<1x3x3x256xi32>) -> tensor<1x3x3x256xi32>
  %few = bitserial.conv2d ins(%py, %pg : !Y, !G) outs(%i1 : tensor<1x3x3x256xi32>)
      -> tensor<1x3x3x256xi32>
  %pa = bitserial.pack %a : tensor<32x2000xi8> -> !A
  %pb = bitserial.pack %b : tensor<128x2000xi8> -> !B
  %e2 = tensor.empty() : tensor<32x128xi32>
  %i2 = linalg.fill ins(%c0 : i32) outs(%e2 : tensor<32x128xi32>) -> tensor<32x128xi32>
  %dense = bitserial.matmul ins(%pa, %pb : !A, !B) outs(%i2 : tensor<32x128xi32>)
      -> tensor<32x128xi32>
  %pu = bitserial.pack %u : tensor<2x17x17x256xi8> -> !U
  %ph = bitserial.pack %h : tensor<256x1x1x256xi8> -> !H
  %e3 = tensor.empty() : tensor<2x9x9x256xi32>
  %i3 = linalg.fill ins(%c0 : i32) outs(%e3 : tensor<2x9x9x256xi32>) -> tensor<2x9x9x256xi32>
  %ones = bitserial.conv2d ins(%pu, %ph : !U, !H) outs(%i3 : tensor<2x9x9x256xi32>)
      strides = [2, 2] padding = [1, 0, 1, 0] -> tensor<2x9x9x256xi32>
  return %rows, %few, %dense, %ones : tensor<1x14x14x64xi32>, tensor<1x3x3x256xi32>, tensor<32x128xi32>, tensor<2x9x9x256xi32>
}
