// RUN: bitserial-opt %s --split-input-file --bitserial-attach-loop-annotations | FileCheck %s
// RUN: bitserial-opt %s --split-input-file --bitserial-to-llvm | FileCheck %s --check-prefix=PIPELINE
// RUN: bitserial-opt %s --split-input-file --bitserial-to-llvm | mlir-translate --split-input-file --mlir-to-llvmir | FileCheck %s --check-prefix=LLVMIR

#unroll = #llvm.loop_unroll<count = 2 : i32>
#annotation = #llvm.loop_annotation<unroll = #unroll>

// An scf.for's annotation reaches the back edge and !llvm.loop; other
// branches keep none.
// CHECK-LABEL: llvm.func @branches
// CHECK:         llvm.br ^bb1 {loop_annotation = #[[ANN:.*]]}
// CHECK-NOT:     llvm.loop_annotation
// CHECK:         llvm.cond_br %{{.*}}, ^bb1, ^bb2 {loop_annotation = #[[ANN]]}
// CHECK:         llvm.br ^bb3
// CHECK-NOT:     loop_annotation
// CHECK:         llvm.return
llvm.func @branches(%c: i1) {
  llvm.br ^bb1 {llvm.loop_annotation = #annotation}
^bb1:
  llvm.cond_br %c, ^bb1, ^bb2 {llvm.loop_annotation = #annotation}
^bb2:
  llvm.br ^bb3
^bb3:
  llvm.return
}

// -----

#unroll = #llvm.loop_unroll<count = 2 : i32>
#annotation = #llvm.loop_annotation<unroll = #unroll>

// PIPELINE-LABEL: llvm.func @annotated_loop
// PIPELINE:         llvm.br ^{{.*}} {loop_annotation = #{{.*}}}
// PIPELINE-NOT:     llvm.loop_annotation
// LLVMIR-LABEL: define void @annotated_loop
// LLVMIR:         br label %{{.*}}, !llvm.loop ![[LOOP:[0-9]+]]
// LLVMIR:       ![[LOOP]] = distinct !{![[LOOP]], ![[COUNT:[0-9]+]]}
// LLVMIR:       ![[COUNT]] = !{!"llvm.loop.unroll.count", i32 2}
func.func @annotated_loop(%n: index, %m: memref<?xi32>, %v: i32) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  scf.for %i = %c0 to %n step %c1 {
    memref.store %v, %m[%i] : memref<?xi32>
  } {llvm.loop_annotation = #annotation}
  return
}
