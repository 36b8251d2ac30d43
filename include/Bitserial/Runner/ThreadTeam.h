//===- ThreadTeam.h - The JIT's runtime for parallel kernels ----*- C++ -*-===//
//
// Parallel kernels are OpenMP code: the lowering makes each scf.forall an
// omp.parallel region, which the translation to LLVM IR turns into calls of
// five libomp entry points (__kmpc_fork_call, __kmpc_barrier,
// __kmpc_for_static_init_*, __kmpc_for_static_fini,
// __kmpc_global_thread_num). The thread team here implements them on
// workers that spin between regions: a fork is one store the workers see,
// a join one counter the caller waits on. On a 2-vCPU virtual machine a
// region with a barrier cost 0.5 us this way against libomp's 2.6 us
// (docs/benchmarks.md), where the smaller 3x3 kernels take 17-20 us on two
// threads. The JIT resolves the libomp names to these functions; objects
// compiled ahead of time keep calling libomp's.
//
//===----------------------------------------------------------------------===//

#ifndef BITSERIAL_RUNNER_THREADTEAM_H
#define BITSERIAL_RUNNER_THREADTEAM_H

#include <utility>
#include <vector>

namespace mlir::bitserial {

/// The libomp names the thread team implements, with its functions.
std::vector<std::pair<const char *, void *>> getThreadTeamSymbols();

/// The team size of the parallel regions the calling thread starts (as
/// omp_set_num_threads). Regions nested in a region, or started while
/// another thread's region runs, run on their thread alone.
void setThreadTeamSize(unsigned threads);

} // namespace mlir::bitserial

#endif // BITSERIAL_RUNNER_THREADTEAM_H
