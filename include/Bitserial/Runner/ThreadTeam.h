//===- ThreadTeam.h - The JIT's runtime for parallel kernels ----*- C++ -*-===//
//
// The JIT runs parallel kernels (OpenMP code: calls of five libomp entry
// points) on the thread team of Bitserial/Runtime/ThreadTeam.h, whose
// workers spin between regions; objects compiled ahead of time call
// libomp's, or the team's when their program links
// libbitserial_thread_team.a.
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
