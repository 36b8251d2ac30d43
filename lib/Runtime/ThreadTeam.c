/*===- ThreadTeam.c - A thread team behind libomp's entry points ----------===*\
|*                                                                          *|
|* One team per process, made of the thread that starts a region and up to  *|
|* kMaxTeamSize - 1 workers, created when a region first needs them. A      *|
|* region is published as one 64-bit word (generation, size): a worker      *|
|* reads who takes part from the word it saw change, so a worker that sat   *|
|* out a region never mistakes the next region's size for it. Workers spin  *|
|* for kSpinNanoseconds after a region, then sleep on a condition variable. *|
|* C11 and POSIX threads only: programs of ahead-of-time objects link it    *|
|* without a C++ runtime (and it cross-compiles with a C cross compiler).   *|
|*                                                                          *|
\*===----------------------------------------------------------------------===*/

#include "Bitserial/Runtime/ThreadTeam.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

enum {
  /// Captured values per region: MLIR's OpenMP translation passes one (a
  /// pointer to a structure of them).
  kMaxArguments = 16,
  /// The largest team (RunnerOptions::kMaxThreads).
  kMaxTeamSize = 1024,
  // libomp's schedule types (kmp.h).
  kStaticChunked = 33,
  kStatic = 34,
};
/// How long a worker spins for the next region before it sleeps: kernels
/// of a network follow each other within microseconds.
static const int64_t kSpinNanoseconds = 10 * 1000 * 1000;
/// The least stack of a worker. The JIT bounds the kernels' static
/// allocations by half the stack limit, or 4 MiB without one.
static const size_t kMinWorkerStackBytes = (size_t)16 << 20;

static _Noreturn void fatal(const char *message, long value) {
  fprintf(stderr, "bitserial thread team: %s %ld\n", message, value);
  fflush(stderr);
  _Exit(1);
}

static int64_t nowNanoseconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/// What the calling thread does inside a region.
struct ThreadState {
  unsigned index;
  unsigned teamSize;
  bool inRegion;
  /// bitserial_set_num_threads's value; 0: the default.
  unsigned requestedSize;
};
static _Thread_local struct ThreadState self = {0, 1, false, 0};

static unsigned onlineCpus(void) {
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  return cpus < 1 ? 1 : cpus > kMaxTeamSize ? kMaxTeamSize : (unsigned)cpus;
}

static bool oversubscribed(unsigned size) {
  static _Atomic unsigned cores;
  unsigned known = atomic_load_explicit(&cores, memory_order_relaxed);
  if (!known) {
    known = onlineCpus();
    atomic_store_explicit(&cores, known, memory_order_relaxed);
  }
  return size > known;
}

/// One step of a wait: with more threads than cores the others need the
/// core, else a pause keeps the sibling hyperthread going.
static void relax(bool yield) {
  if (yield) {
    sched_yield();
    return;
  }
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#elif defined(__aarch64__)
  __asm__ volatile("yield");
#endif
}

static void invoke(bitserial_microtask task, int argc, void *const *a,
                   unsigned index) {
  int32_t gtid = (int32_t)index, btid = (int32_t)index;
  switch (argc) {
  case 0:
    task(&gtid, &btid);
    return;
  case 1:
    task(&gtid, &btid, a[0]);
    return;
  case 2:
    task(&gtid, &btid, a[0], a[1]);
    return;
  case 3:
    task(&gtid, &btid, a[0], a[1], a[2]);
    return;
  case 4:
    task(&gtid, &btid, a[0], a[1], a[2], a[3]);
    return;
  default:
    // The callee reads its own count; the caller cleans up the rest (SysV
    // and AAPCS64 calling conventions).
    task(&gtid, &btid, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8],
         a[9], a[10], a[11], a[12], a[13], a[14], a[15]);
  }
}

struct Counter {
  _Alignas(64) _Atomic uint64_t value;
};

struct Team {
  /// (generation << 32) | size of the latest region.
  struct Counter region;
  /// Workers done with the current region.
  struct Counter finished;
  /// Threads at the current barrier, and the barriers passed.
  struct Counter arrived;
  struct Counter barriers;
  _Alignas(64) atomic_bool busy;
  // The current region, written before `region` is published.
  bitserial_microtask task;
  int argc;
  void *args[kMaxArguments];
  _Atomic unsigned workers;
  pthread_mutex_t sleepMutex;
  pthread_cond_t wake;
  _Atomic unsigned sleepers;
};

struct WorkerStart {
  struct Team *team;
  unsigned index;
  uint64_t seen;
};

static struct Team *newTeam(void) {
  // Its counters sit on their own cache lines: calloc's alignment (16)
  // would not keep them there. sizeof is a multiple of the alignment.
  struct Team *team = aligned_alloc(_Alignof(struct Team), sizeof(struct Team));
  if (!team)
    fatal("cannot allocate a team of bytes", (long)sizeof(struct Team));
  memset(team, 0, sizeof(struct Team));
  pthread_mutex_init(&team->sleepMutex, NULL);
  pthread_cond_init(&team->wake, NULL);
  return team;
}

/// Never freed: workers may still spin on it while the process exits. A
/// forked child gets a new one (its parent's workers are not its own).
static struct Team *_Atomic processTeam;
static pthread_once_t processTeamOnce = PTHREAD_ONCE_INIT;

static void renewTeamInChild(void) { atomic_store(&processTeam, newTeam()); }

static void createProcessTeam(void) {
  atomic_store(&processTeam, newTeam());
  pthread_atfork(NULL, NULL, renewTeamInChild);
}

static struct Team *getTeam(void) {
  pthread_once(&processTeamOnce, createProcessTeam);
  return atomic_load_explicit(&processTeam, memory_order_relaxed);
}

static uint64_t waitForRegion(struct Team *team, uint64_t seen) {
  int64_t start = nowNanoseconds();
  for (unsigned spins = 1;; ++spins) {
    uint64_t now =
        atomic_load_explicit(&team->region.value, memory_order_acquire);
    if (now != seen)
      return now;
    relax(oversubscribed(
        atomic_load_explicit(&team->workers, memory_order_relaxed) + 1));
    if (spins % 1024 == 0 && nowNanoseconds() - start > kSpinNanoseconds) {
      // Sleepers are counted before the region is read again, and the
      // forking thread reads the count after it publishes the region (both
      // sequentially consistent): one of the two sees the other.
      pthread_mutex_lock(&team->sleepMutex);
      atomic_fetch_add(&team->sleepers, 1);
      while (atomic_load(&team->region.value) == seen)
        pthread_cond_wait(&team->wake, &team->sleepMutex);
      atomic_fetch_sub_explicit(&team->sleepers, 1, memory_order_relaxed);
      pthread_mutex_unlock(&team->sleepMutex);
      start = nowNanoseconds();
    }
  }
}

static void *workerMain(void *argument) {
  struct WorkerStart s = *(struct WorkerStart *)argument;
  free(argument);
  // A stack overflow in a kernel reaches a crash handler (the JIT's) on
  // this stack.
  stack_t alt = {0};
  alt.ss_size = 1 << 16;
  alt.ss_sp = malloc(alt.ss_size);
  if (alt.ss_sp)
    sigaltstack(&alt, NULL);
  struct Team *team = s.team;
  uint64_t seen = s.seen;
  for (;;) {
    seen = waitForRegion(team, seen);
    unsigned size = (unsigned)(seen & 0xffffffffu);
    if (s.index >= size)
      continue;
    self.index = s.index;
    self.teamSize = size;
    self.inRegion = true;
    invoke(team->task, team->argc, team->args, s.index);
    self.inRegion = false;
    atomic_fetch_add_explicit(&team->finished.value, 1, memory_order_release);
  }
  return NULL;
}

/// Starts workers up to `size - 1`; returns the team size they allow.
static unsigned grow(struct Team *team, unsigned size, uint64_t current) {
  unsigned started = atomic_load_explicit(&team->workers, memory_order_relaxed);
  if (started + 1 >= size)
    return size;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  size_t stack = kMinWorkerStackBytes;
  struct rlimit limit;
  if (getrlimit(RLIMIT_STACK, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY &&
      limit.rlim_cur > stack)
    stack = limit.rlim_cur;
  pthread_attr_setstacksize(&attr, stack);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  while (started + 1 < size) {
    struct WorkerStart *start = malloc(sizeof(struct WorkerStart));
    if (!start)
      break;
    start->team = team;
    start->index = started + 1;
    start->seen = current;
    pthread_t thread;
    if (pthread_create(&thread, &attr, workerMain, start) != 0) {
      free(start);
      break;
    }
    atomic_store_explicit(&team->workers, ++started, memory_order_relaxed);
  }
  pthread_attr_destroy(&attr);
  return size < started + 1 ? size : started + 1;
}

/// Runs `task` on `size` threads (the caller is thread 0); false if the
/// team is busy with another thread's region.
static bool run(struct Team *team, unsigned size, bitserial_microtask task,
                int argc, void *const *args) {
  if (atomic_exchange_explicit(&team->busy, true, memory_order_acquire))
    return false;
  uint64_t current =
      atomic_load_explicit(&team->region.value, memory_order_relaxed);
  size = grow(team, size, current);
  if (size > 1) {
    team->task = task;
    team->argc = argc;
    for (int i = 0; i < argc; ++i)
      team->args[i] = args[i];
    atomic_store_explicit(&team->finished.value, 0, memory_order_relaxed);
    uint64_t generation = (current >> 32) + 1;
    atomic_store(&team->region.value, (generation << 32) | size);
    if (atomic_load(&team->sleepers) > 0) {
      pthread_mutex_lock(&team->sleepMutex);
      pthread_cond_broadcast(&team->wake);
      pthread_mutex_unlock(&team->sleepMutex);
    }
  }
  struct ThreadState saved = self;
  self.index = 0;
  self.teamSize = size;
  self.inRegion = true;
  invoke(task, argc, args, 0);
  self = saved;
  bool yield = oversubscribed(size);
  while (size > 1 && atomic_load_explicit(&team->finished.value,
                                          memory_order_acquire) != size - 1)
    relax(yield);
  atomic_store_explicit(&team->busy, false, memory_order_release);
  return true;
}

static unsigned defaultTeamSize(void) {
  static _Atomic unsigned size;
  unsigned known = atomic_load_explicit(&size, memory_order_relaxed);
  if (known)
    return known;
  const char *names[] = {"BITSERIAL_NUM_THREADS", "OMP_NUM_THREADS"};
  for (int i = 0; i < 2 && !known; ++i) {
    const char *text = getenv(names[i]);
    if (!text || !*text)
      continue;
    char *end;
    long value = strtol(text, &end, 10);
    // OMP_NUM_THREADS may list the sizes of nested levels ("4,2").
    if (value >= 1 && (*end == '\0' || *end == ','))
      known = value > kMaxTeamSize ? kMaxTeamSize : (unsigned)value;
  }
  if (!known)
    known = onlineCpus();
  atomic_store_explicit(&size, known, memory_order_relaxed);
  return known;
}

void bitserial_set_num_threads(int threads) {
  self.requestedSize = threads < 1              ? 0
                       : threads > kMaxTeamSize ? kMaxTeamSize
                                                : (unsigned)threads;
}

int bitserial_get_num_threads(void) {
  return (int)(self.requestedSize ? self.requestedSize : defaultTeamSize());
}

void bitserial_team_fork_call_va(void *loc, int32_t argc,
                                 bitserial_microtask task, va_list list) {
  (void)loc;
  if (argc < 0 || argc > kMaxArguments)
    fatal("cannot pass this many values to a parallel region:", argc);
  void *args[kMaxArguments] = {0};
  for (int32_t i = 0; i < argc; ++i)
    args[i] = va_arg(list, void *);
  unsigned size = (unsigned)bitserial_get_num_threads();
  if (size > 1 && !self.inRegion && run(getTeam(), size, task, argc, args))
    return;
  // A team of one.
  struct ThreadState saved = self;
  self.index = 0;
  self.teamSize = 1;
  self.inRegion = true;
  invoke(task, argc, args, 0);
  self = saved;
}

void bitserial_team_fork_call(void *loc, int32_t argc, bitserial_microtask task,
                              ...) {
  va_list list;
  va_start(list, task);
  bitserial_team_fork_call_va(loc, argc, task, list);
  va_end(list);
}

int32_t bitserial_team_global_thread_num(void *loc) {
  (void)loc;
  return (int32_t)self.index;
}

void bitserial_team_barrier(void *loc, int32_t gtid) {
  (void)loc;
  (void)gtid;
  unsigned size = self.teamSize;
  if (size == 1)
    return;
  struct Team *team = getTeam();
  uint64_t passed =
      atomic_load_explicit(&team->barriers.value, memory_order_acquire);
  if (atomic_fetch_add_explicit(&team->arrived.value, 1,
                                memory_order_acq_rel) == size - 1) {
    atomic_store_explicit(&team->arrived.value, 0, memory_order_relaxed);
    atomic_store_explicit(&team->barriers.value, passed + 1,
                          memory_order_release);
    return;
  }
  bool yield = oversubscribed(size);
  while (atomic_load_explicit(&team->barriers.value, memory_order_acquire) ==
         passed)
    relax(yield);
}

/// The static schedules of libomp's __kmp_for_static_init: the iterations
/// [*lower, *upper] by `increment`, balanced over the team (kStatic) or in
/// round-robin chunks (kStaticChunked). T is the bound type, S its signed
/// and U its unsigned counterpart.
#define DEFINE_FOR_STATIC_INIT(NAME, T, S, U)                                  \
  void NAME(void *loc, int32_t gtid, int32_t schedule, int32_t *last,          \
            T *lower, T *upper, S *stride, S increment, S chunk) {             \
    (void)loc;                                                                 \
    (void)gtid;                                                                \
    if (increment == 0)                                                        \
      fatal("a parallel loop's increment is", 0);                              \
    if (increment > 0 ? *upper < *lower : *lower < *upper) {                   \
      if (last)                                                                \
        *last = 0;                                                             \
      *stride = increment;                                                     \
      return;                                                                  \
    }                                                                          \
    U trip;                                                                    \
    if (increment > 0)                                                         \
      trip = ((U)*upper - (U)*lower) / (U)increment + 1;                       \
    else                                                                       \
      trip = ((U)*lower - (U)*upper) / ((U)0 - (U)increment) + 1;              \
    U threads = self.teamSize, index = self.index;                             \
    if (schedule == kStatic) {                                                 \
      if (trip < threads) {                                                    \
        if (index < trip)                                                      \
          *upper = *lower = (T)(*lower + (T)index * (T)increment);             \
        else                                                                   \
          *lower = (T)(*upper + (T)increment);                                 \
        if (last)                                                              \
          *last = index == trip - 1;                                           \
      } else {                                                                 \
        U small = trip / threads, extra = trip % threads;                      \
        U before = index * small + (index < extra ? index : extra);            \
        *lower = (T)(*lower + (T)before * (T)increment);                       \
        *upper = (T)(*lower + (T)small * (T)increment -                        \
                     (index < extra ? 0 : (T)increment));                      \
        if (last)                                                              \
          *last = index == threads - 1;                                        \
      }                                                                        \
      *stride = (S)trip;                                                       \
      return;                                                                  \
    }                                                                          \
    if (schedule == kStaticChunked) {                                          \
      if (chunk < 1)                                                           \
        chunk = 1;                                                             \
      T span = (T)(chunk * increment);                                         \
      *stride = (S)(span * (T)threads);                                        \
      *lower = (T)(*lower + span * (T)index);                                  \
      *upper = (T)(*lower + span - (T)increment);                              \
      if (last)                                                                \
        *last = index == ((trip - 1) / (U)chunk) % threads;                    \
      return;                                                                  \
    }                                                                          \
    fatal("cannot run the OpenMP schedule type", schedule);                    \
  }

DEFINE_FOR_STATIC_INIT(bitserial_team_for_static_init_4, int32_t, int32_t,
                       uint32_t)
DEFINE_FOR_STATIC_INIT(bitserial_team_for_static_init_4u, uint32_t, int32_t,
                       uint32_t)
DEFINE_FOR_STATIC_INIT(bitserial_team_for_static_init_8, int64_t, int64_t,
                       uint64_t)
DEFINE_FOR_STATIC_INIT(bitserial_team_for_static_init_8u, uint64_t, int64_t,
                       uint64_t)

void bitserial_team_for_static_fini(void *loc, int32_t gtid) {
  (void)loc;
  (void)gtid;
}
