/*===- KmpcEntryPoints.c - libomp's names for the thread team -------------===*\
|*                                                                          *|
|* The entry points parallel kernels call, under libomp's names, for        *|
|* programs of ahead-of-time objects (libbitserial_thread_team.a): linked   *|
|* instead of libomp, they run the kernels' regions on the thread team.     *|
|*                                                                          *|
\*===----------------------------------------------------------------------===*/

#include "Bitserial/Runtime/ThreadTeam.h"

void __kmpc_fork_call(void *loc, int32_t argc, bitserial_microtask task, ...) {
  va_list list;
  va_start(list, task);
  bitserial_team_fork_call_va(loc, argc, task, list);
  va_end(list);
}

int32_t __kmpc_global_thread_num(void *loc) {
  return bitserial_team_global_thread_num(loc);
}

void __kmpc_barrier(void *loc, int32_t gtid) {
  bitserial_team_barrier(loc, gtid);
}

/// __kmpc_for_static_init_SUFFIX, of bound type T and stride type S.
#define FORWARD_FOR_STATIC_INIT(SUFFIX, T, S)                                  \
  void __kmpc_for_static_init_##SUFFIX(                                        \
      void *loc, int32_t gtid, int32_t schedule, int32_t *last, T *lower,      \
      T *upper, S *stride, S increment, S chunk) {                             \
    bitserial_team_for_static_init_##SUFFIX(loc, gtid, schedule, last, lower,  \
                                            upper, stride, increment, chunk);  \
  }

FORWARD_FOR_STATIC_INIT(4, int32_t, int32_t)
FORWARD_FOR_STATIC_INIT(4u, uint32_t, int32_t)
FORWARD_FOR_STATIC_INIT(8, int64_t, int64_t)
FORWARD_FOR_STATIC_INIT(8u, uint64_t, int64_t)

void __kmpc_for_static_fini(void *loc, int32_t gtid) {
  bitserial_team_for_static_fini(loc, gtid);
}
