/*===- ThreadTeam.h - A thread team behind libomp's entry points -*- C -*-===*\
|*                                                                          *|
|* Parallel kernels are OpenMP code: the lowering makes each scf.forall an  *|
|* omp.parallel region, which the translation to LLVM IR turns into calls   *|
|* of five libomp entry points (__kmpc_fork_call, __kmpc_barrier,           *|
|* __kmpc_for_static_init_*, __kmpc_for_static_fini,                        *|
|* __kmpc_global_thread_num). The thread team implements them on workers    *|
|* that spin between regions: a fork is one store the workers see, a join   *|
|* one counter the caller waits on (on a 2-vCPU virtual machine a region    *|
|* with a barrier cost 0.5 us this way against libomp's 2.6 us).            *|
|*                                                                          *|
|* The JIT resolves the libomp names to the bitserial_team_* functions.     *|
|* Programs of ahead-of-time objects link libbitserial_thread_team.a, which *|
|* defines the libomp names themselves, instead of libomp.                  *|
|*                                                                          *|
\*===----------------------------------------------------------------------===*/

#ifndef BITSERIAL_RUNTIME_THREADTEAM_H
#define BITSERIAL_RUNTIME_THREADTEAM_H

#include <stdarg.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Sets the team size of the parallel regions the calling thread starts
/// (as omp_set_num_threads); 0 restores the default: the environment's
/// BITSERIAL_NUM_THREADS, else OMP_NUM_THREADS, else the online CPUs.
/// Regions nested in a region, or started while another thread's region
/// runs, run on their thread alone.
void bitserial_set_num_threads(int threads);

/// The team size of the regions the calling thread starts.
int bitserial_get_num_threads(void);

/// An outlined region: (global thread id, bound thread id, captured values).
typedef void (*bitserial_microtask)(int32_t *, int32_t *, ...);

/// The libomp entry points (kmp.h's signatures; `loc` is unused).
void bitserial_team_fork_call_va(void *loc, int32_t argc,
                                 bitserial_microtask task, va_list args);
void bitserial_team_fork_call(void *loc, int32_t argc, bitserial_microtask task,
                              ...);
int32_t bitserial_team_global_thread_num(void *loc);
void bitserial_team_barrier(void *loc, int32_t gtid);
void bitserial_team_for_static_init_4(void *loc, int32_t gtid, int32_t schedule,
                                      int32_t *last, int32_t *lower,
                                      int32_t *upper, int32_t *stride,
                                      int32_t increment, int32_t chunk);
void bitserial_team_for_static_init_4u(void *loc, int32_t gtid,
                                       int32_t schedule, int32_t *last,
                                       uint32_t *lower, uint32_t *upper,
                                       int32_t *stride, int32_t increment,
                                       int32_t chunk);
void bitserial_team_for_static_init_8(void *loc, int32_t gtid, int32_t schedule,
                                      int32_t *last, int64_t *lower,
                                      int64_t *upper, int64_t *stride,
                                      int64_t increment, int64_t chunk);
void bitserial_team_for_static_init_8u(void *loc, int32_t gtid,
                                       int32_t schedule, int32_t *last,
                                       uint64_t *lower, uint64_t *upper,
                                       int64_t *stride, int64_t increment,
                                       int64_t chunk);
void bitserial_team_for_static_fini(void *loc, int32_t gtid);

#ifdef __cplusplus
}
#endif

#endif /* BITSERIAL_RUNTIME_THREADTEAM_H */
