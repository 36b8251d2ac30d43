// RUN: bitserial-opt %s --split-input-file --bitserial-merge-parallel-regions | FileCheck %s

// Two worksharing loops: one team, the first loop's implicit barrier
// between them; the allocation and constants between them move up. The
// last loop drops its barrier: the region's end joins the team.
// CHECK-LABEL: func.func @copy_then_kernel
// CHECK:         %[[OUT:.*]] = memref.alloc() : memref<16xi32>
// CHECK:         %[[C16:.*]] = arith.constant 16 : index
// CHECK:         omp.parallel {
// CHECK:           omp.wsloop {
// CHECK:             memref.store {{.*}} : memref<8xi32>
// CHECK-NOT:       omp.barrier
// CHECK:           omp.wsloop nowait {
// CHECK:             omp.loop_nest ({{.*}}) : index = ({{.*}}) to (%[[C16]])
// CHECK:             memref.store {{.*}}, %[[OUT]]
// CHECK:           omp.terminator
// CHECK-NEXT:    }
// CHECK-NOT:     omp.parallel
// CHECK:         return %[[OUT]]
func.func @copy_then_kernel(%in: memref<8xi32>) -> memref<16xi32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %tmp = memref.alloc() : memref<8xi32>
  omp.parallel {
    omp.wsloop {
      omp.loop_nest (%i) : index = (%c0) to (%c8) step (%c1) {
        %v = memref.load %in[%i] : memref<8xi32>
        memref.store %v, %tmp[%i] : memref<8xi32>
        omp.yield
      }
    }
    omp.terminator
  }
  %out = memref.alloc() : memref<16xi32>
  %c16 = arith.constant 16 : index
  omp.parallel {
    omp.wsloop {
      omp.loop_nest (%i) : index = (%c0) to (%c16) step (%c1) {
        %j = arith.remui %i, %c8 : index
        %v = memref.load %tmp[%j] : memref<8xi32>
        memref.store %v, %out[%i] : memref<16xi32>
        omp.yield
      }
    }
    omp.terminator
  }
  memref.dealloc %tmp : memref<8xi32>
  return %out : memref<16xi32>
}

// -----

// A first body that does not end in a worksharing loop (or ends in one
// with nowait) gets an explicit barrier; three regions become one.
// CHECK-LABEL: func.func @barriers
// CHECK:         omp.parallel {
// CHECK:           omp.wsloop nowait {
// CHECK:           omp.barrier
// CHECK:           memref.store
// CHECK:           omp.barrier
// CHECK:           omp.wsloop nowait {
// CHECK:           omp.terminator
// CHECK-NEXT:    }
// CHECK-NOT:     omp.parallel
func.func @barriers(%buf: memref<8xi32>, %v: i32) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  omp.parallel {
    omp.wsloop nowait {
      omp.loop_nest (%i) : index = (%c0) to (%c8) step (%c1) {
        memref.store %v, %buf[%i] : memref<8xi32>
        omp.yield
      }
    }
    omp.terminator
  }
  omp.parallel {
    memref.store %v, %buf[%c0] : memref<8xi32>
    omp.terminator
  }
  omp.parallel {
    omp.wsloop {
      omp.loop_nest (%i) : index = (%c0) to (%c8) step (%c1) {
        memref.store %v, %buf[%i] : memref<8xi32>
        omp.yield
      }
    }
    omp.terminator
  }
  return
}

// -----

// Memory accesses between the regions, or clauses on a region, keep them
// apart. A region with clauses keeps its last barrier.
// CHECK-LABEL: func.func @kept_apart
// CHECK:         omp.parallel {
// CHECK-NEXT:      omp.wsloop nowait {
// CHECK:         memref.store
// CHECK:         omp.parallel {
// CHECK-NEXT:      omp.wsloop nowait {
// CHECK:         omp.parallel num_threads
// CHECK-NEXT:      omp.wsloop {
// CHECK:         %[[V:.*]] = memref.load
// CHECK:         omp.parallel {
// CHECK:           memref.store %[[V]]
func.func @kept_apart(%buf: memref<8xi32>, %v: i32, %n: i32) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  omp.parallel {
    omp.wsloop {
      omp.loop_nest (%i) : index = (%c0) to (%c8) step (%c1) {
        memref.store %v, %buf[%i] : memref<8xi32>
        omp.yield
      }
    }
    omp.terminator
  }
  memref.store %v, %buf[%c0] : memref<8xi32>
  omp.parallel {
    omp.wsloop {
      omp.loop_nest (%i) : index = (%c0) to (%c8) step (%c1) {
        memref.store %v, %buf[%i] : memref<8xi32>
        omp.yield
      }
    }
    omp.terminator
  }
  omp.parallel num_threads(%n : i32) {
    omp.wsloop {
      omp.loop_nest (%i) : index = (%c0) to (%c8) step (%c1) {
        memref.store %v, %buf[%i] : memref<8xi32>
        omp.yield
      }
    }
    omp.terminator
  }
  %w = memref.load %buf[%c1] : memref<8xi32>
  omp.parallel {
    memref.store %w, %buf[%c0] : memref<8xi32>
    omp.terminator
  }
  return
}

// -----

// A loop with a reduction keeps its barrier.
omp.declare_reduction @add_i32 : i32 init {
^bb0(%arg: i32):
  %zero = arith.constant 0 : i32
  omp.yield(%zero : i32)
} combiner {
^bb0(%lhs: i32, %rhs: i32):
  %sum = arith.addi %lhs, %rhs : i32
  omp.yield(%sum : i32)
}

// CHECK-LABEL: func.func @reduction
// CHECK:         omp.parallel {
// CHECK-NEXT:      omp.wsloop reduction(
func.func @reduction(%buf: memref<8xi32>, %acc: !llvm.ptr) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  omp.parallel {
    omp.wsloop reduction(@add_i32 %acc -> %partial : !llvm.ptr) {
      omp.loop_nest (%i) : index = (%c0) to (%c8) step (%c1) {
        %v = memref.load %buf[%i] : memref<8xi32>
        %p = llvm.load %partial : !llvm.ptr -> i32
        %s = arith.addi %p, %v : i32
        llvm.store %s, %partial : i32, !llvm.ptr
        omp.yield
      }
    }
    omp.terminator
  }
  return
}
