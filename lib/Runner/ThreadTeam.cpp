//===- ThreadTeam.cpp - The JIT's runtime for parallel kernels ------------===//
//
// The JIT resolves the libomp entry points of parallel kernels to the
// thread team of lib/Runtime (Bitserial/Runtime/ThreadTeam.h).
//
//===----------------------------------------------------------------------===//

#include "Bitserial/Runner/ThreadTeam.h"
#include "Bitserial/Runtime/ThreadTeam.h"

#include <algorithm>

std::vector<std::pair<const char *, void *>>
mlir::bitserial::getThreadTeamSymbols() {
  return {
      {"__kmpc_fork_call", reinterpret_cast<void *>(&bitserial_team_fork_call)},
      {"__kmpc_global_thread_num",
       reinterpret_cast<void *>(&bitserial_team_global_thread_num)},
      {"__kmpc_barrier", reinterpret_cast<void *>(&bitserial_team_barrier)},
      {"__kmpc_for_static_init_4",
       reinterpret_cast<void *>(&bitserial_team_for_static_init_4)},
      {"__kmpc_for_static_init_4u",
       reinterpret_cast<void *>(&bitserial_team_for_static_init_4u)},
      {"__kmpc_for_static_init_8",
       reinterpret_cast<void *>(&bitserial_team_for_static_init_8)},
      {"__kmpc_for_static_init_8u",
       reinterpret_cast<void *>(&bitserial_team_for_static_init_8u)},
      {"__kmpc_for_static_fini",
       reinterpret_cast<void *>(&bitserial_team_for_static_fini)},
  };
}

void mlir::bitserial::setThreadTeamSize(unsigned threads) {
  bitserial_set_num_threads(int(std::clamp(threads, 1u, 1024u)));
}
