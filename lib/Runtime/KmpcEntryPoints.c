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

void __kmpc_for_static_init_4(void *loc, int32_t gtid, int32_t schedule,
                              int32_t *last, int32_t *lower, int32_t *upper,
                              int32_t *stride, int32_t increment,
                              int32_t chunk) {
  bitserial_team_for_static_init_4(loc, gtid, schedule, last, lower, upper,
                                   stride, increment, chunk);
}

void __kmpc_for_static_init_4u(void *loc, int32_t gtid, int32_t schedule,
                               int32_t *last, uint32_t *lower, uint32_t *upper,
                               int32_t *stride, int32_t increment,
                               int32_t chunk) {
  bitserial_team_for_static_init_4u(loc, gtid, schedule, last, lower, upper,
                                    stride, increment, chunk);
}

void __kmpc_for_static_init_8(void *loc, int32_t gtid, int32_t schedule,
                              int32_t *last, int64_t *lower, int64_t *upper,
                              int64_t *stride, int64_t increment,
                              int64_t chunk) {
  bitserial_team_for_static_init_8(loc, gtid, schedule, last, lower, upper,
                                   stride, increment, chunk);
}

void __kmpc_for_static_init_8u(void *loc, int32_t gtid, int32_t schedule,
                               int32_t *last, uint64_t *lower, uint64_t *upper,
                               int64_t *stride, int64_t increment,
                               int64_t chunk) {
  bitserial_team_for_static_init_8u(loc, gtid, schedule, last, lower, upper,
                                    stride, increment, chunk);
}

void __kmpc_for_static_fini(void *loc, int32_t gtid) {
  bitserial_team_for_static_fini(loc, gtid);
}
