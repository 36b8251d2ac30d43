/* Drives libbitserial_thread_team.a through the libomp entry points, as
 * compiled parallel kernels call them, and checks what a kernel relies on:
 * the team size, static schedules that give every iteration to exactly one
 * thread (balanced, chunked, signed and unsigned bounds, negative steps),
 * a barrier after which every thread sees the others' writes, nested
 * regions run by one thread, and regions started by several threads at
 * once. Prints one line per check and exits with 1 on a failure.
 *
 *   usage: thread_team_check EXPECTED_DEFAULT_TEAM_SIZE
 */
#include "Bitserial/Runtime/ThreadTeam.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void __kmpc_fork_call(void *, int32_t, bitserial_microtask, ...);
int32_t __kmpc_global_thread_num(void *);
void __kmpc_barrier(void *, int32_t);
void __kmpc_for_static_init_4u(void *, int32_t, int32_t, int32_t *, uint32_t *,
                               uint32_t *, int32_t *, int32_t, int32_t);
void __kmpc_for_static_init_8(void *, int32_t, int32_t, int32_t *, int64_t *,
                              int64_t *, int64_t *, int64_t, int64_t);
void __kmpc_for_static_fini(void *, int32_t);

enum { kStaticChunked = 33, kStatic = 34, kN = 1000, kMaxTeam = 16 };

struct Region {
  _Atomic int hits[kN];
  _Atomic int threads;
  _Atomic int lastCount;
  _Atomic int sawAll;
  _Atomic int nestedAlone;
  int64_t values[kN];
};

static int failures;

static void expect(int ok, const char *what) {
  printf("%s: %s\n", ok ? "OK" : "FAILED", what);
  if (!ok)
    ++failures;
}

/* Regions have the microtask's own (variadic) type, as a call through a
 * pointer of another function type is undefined. */
static struct Region *regionArgument(va_list list) {
  return va_arg(list, struct Region *);
}

static void nested(int32_t *gtid, int32_t *btid, ...) {
  (void)btid;
  va_list list;
  va_start(list, btid);
  struct Region *r = regionArgument(list);
  va_end(list);
  if (*gtid == 0 && __kmpc_global_thread_num(NULL) == 0)
    atomic_fetch_add(&r->nestedAlone, 1);
}

/* Every iteration of a loop is run once; then, past a barrier, every
 * thread reads every value. */
static void body(int32_t *gtid, int32_t *btid, ...) {
  va_list list;
  va_start(list, btid);
  struct Region *r = regionArgument(list);
  va_end(list);
  int32_t me = __kmpc_global_thread_num(NULL);
  if (me != *gtid)
    return;
  atomic_fetch_add(&r->threads, 1);
  int32_t last = 0;
  int64_t lower = 0, upper = kN - 1, stride = 0;
  __kmpc_for_static_init_8(NULL, me, kStatic, &last, &lower, &upper, &stride, 1,
                           1);
  for (int64_t i = lower; i <= upper; ++i) {
    atomic_fetch_add(&r->hits[i], 1);
    r->values[i] = i * 3 + 1;
  }
  __kmpc_for_static_fini(NULL, me);
  if (last)
    atomic_fetch_add(&r->lastCount, 1);
  __kmpc_barrier(NULL, me);
  int all = 1;
  for (int i = 0; i < kN; ++i)
    all &= r->values[i] == (int64_t)i * 3 + 1;
  if (all)
    atomic_fetch_add(&r->sawAll, 1);
  __kmpc_barrier(NULL, me);
  /* Chunks of 7 from the top down, unsigned bounds: [999, 0] by -1. */
  uint32_t ulower = kN - 1, uupper = 0;
  int32_t ustride = 0;
  __kmpc_for_static_init_4u(NULL, me, kStaticChunked, &last, &ulower, &uupper,
                            &ustride, -1, 7);
  for (int64_t start = ulower; start >= 0; start += ustride) {
    int64_t end = start - 6 < 0 ? 0 : start - 6;
    for (int64_t i = start; i >= end; --i)
      atomic_fetch_add(&r->hits[i], 1);
  }
  __kmpc_for_static_fini(NULL, me);
  __kmpc_fork_call(NULL, 1, nested, r);
}

static int runRegion(struct Region *r) {
  memset(r, 0, sizeof *r);
  __kmpc_fork_call(NULL, 1, body, r);
  int once = 1;
  for (int i = 0; i < kN; ++i)
    once &= atomic_load(&r->hits[i]) == 2;
  int threads = atomic_load(&r->threads);
  return once && atomic_load(&r->lastCount) == 1 &&
                 atomic_load(&r->sawAll) == threads &&
                 atomic_load(&r->nestedAlone) == threads
             ? threads
             : -1;
}

static void *caller(void *arg) {
  struct Region *r = malloc(sizeof *r);
  int *result = arg;
  bitserial_set_num_threads(2);
  for (int i = 0; i < 200 && *result != -1; ++i)
    *result = runRegion(r);
  free(r);
  return NULL;
}

int main(int argc, char **argv) {
  int expected = argc > 1 ? atoi(argv[1]) : 0;
  static struct Region r;
  char line[96];
  snprintf(line, sizeof line, "default team size %d",
           bitserial_get_num_threads());
  expect(bitserial_get_num_threads() == expected, line);
  int sizes[] = {1, 2, 3, 5};
  for (int s = 0; s < 4; ++s) {
    bitserial_set_num_threads(sizes[s]);
    int ok = 1;
    for (int i = 0; i < 50; ++i)
      ok &= runRegion(&r) == sizes[s];
    snprintf(line, sizeof line,
             "team of %d: schedules, barriers, nested regions", sizes[s]);
    expect(ok, line);
  }
  /* Two threads starting regions at once: each region runs whole, on the
   * team or alone. */
  pthread_t threads[2];
  int results[2] = {0, 0};
  for (int t = 0; t < 2; ++t)
    pthread_create(&threads[t], NULL, caller, &results[t]);
  for (int t = 0; t < 2; ++t)
    pthread_join(threads[t], NULL);
  expect(results[0] >= 1 && results[1] >= 1, "regions started concurrently");
  bitserial_set_num_threads(0);
  expect(bitserial_get_num_threads() == expected, "the default restored");
  printf("%d failures\n", failures);
  return failures ? 1 : 0;
}
