//===- ThreadTeam.cpp - The JIT's runtime for parallel kernels ------------===//
//
// One team per process, made of the thread that starts a region and up to
// RunnerOptions::kMaxThreads - 1 workers, created when a region first needs
// them. A region is published as one 64-bit word (generation, size): a
// worker reads who takes part from the word it saw change, so a worker that
// sat out a region never mistakes the next region's size for it. Workers
// spin for kSpinTime after a region, then sleep on a condition variable.
//
//===----------------------------------------------------------------------===//

#include "Bitserial/Runner/ThreadTeam.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <thread>
#include <type_traits>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

using namespace mlir::bitserial;

/// An outlined region: (global thread id, bound thread id, captured values).
using Microtask = void (*)(int32_t *, int32_t *, ...);

/// Captured values per region: MLIR's OpenMP translation passes one (a
/// pointer to a structure of them).
constexpr int kMaxArguments = 16;
/// How long a worker spins for the next region before it sleeps: kernels
/// of a network follow each other within microseconds.
constexpr auto kSpinTime = std::chrono::milliseconds(10);
/// The least stack of a worker. The kernels' static allocations are
/// bounded by half the stack limit (Runner.cpp), or 4 MiB without one.
constexpr size_t kMinWorkerStackBytes = size_t(16) << 20;

// libomp's schedule types (kmp.h).
constexpr int32_t kStaticChunked = 33;
constexpr int32_t kStatic = 34;

[[noreturn]] static void fatal(const char *message, long value) {
  std::fprintf(stderr, "bitserial thread team: %s %ld\n", message, value);
  std::fflush(stderr);
  std::_Exit(1);
}

namespace {
/// What the calling thread does inside a region.
struct ThreadState {
  unsigned index = 0;
  unsigned teamSize = 1;
  bool inRegion = false;
  /// setThreadTeamSize's value.
  unsigned requestedSize = 1;
};
} // namespace
static thread_local ThreadState self;

static bool oversubscribed(unsigned size) {
  static const unsigned cores =
      std::max(1u, std::thread::hardware_concurrency());
  return size > cores;
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
  asm volatile("yield");
#endif
}

static void invoke(Microtask task, int argc, void *const *a, unsigned index) {
  int32_t gtid = int32_t(index), btid = int32_t(index);
  switch (argc) {
  case 0:
    return task(&gtid, &btid);
  case 1:
    return task(&gtid, &btid, a[0]);
  case 2:
    return task(&gtid, &btid, a[0], a[1]);
  case 3:
    return task(&gtid, &btid, a[0], a[1], a[2]);
  case 4:
    return task(&gtid, &btid, a[0], a[1], a[2], a[3]);
  default:
    // The callee reads its own count; the caller cleans up the rest (SysV
    // and AAPCS64 calling conventions).
    return task(&gtid, &btid, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7],
                a[8], a[9], a[10], a[11], a[12], a[13], a[14], a[15]);
  }
}

namespace {
struct alignas(64) Counter {
  std::atomic<uint64_t> value{0};
};

class Team {
public:
  /// Runs `task` on `size` threads (the caller is thread 0); false if the
  /// team is busy with another thread's region.
  bool run(unsigned size, Microtask task, int argc, void *const *args);
  void barrier();

private:
  struct WorkerStart {
    Team *team;
    unsigned index;
    uint64_t seen;
  };
  static void *workerMain(void *start);
  void work(unsigned index, uint64_t seen);
  uint64_t waitForRegion(uint64_t seen);
  unsigned grow(unsigned size, uint64_t current);

  /// (generation << 32) | size of the latest region.
  Counter region;
  /// Workers done with the current region.
  Counter finished;
  /// Threads at the current barrier, and the barriers passed.
  Counter arrived;
  Counter barriers;
  std::atomic<bool> busy{false};
  // The current region, written before `region` is published.
  Microtask task = nullptr;
  int argc = 0;
  void *args[kMaxArguments] = {};
  std::atomic<unsigned> workers{0};
  std::mutex sleepMutex;
  std::condition_variable wake;
  std::atomic<unsigned> sleepers{0};
};
} // namespace

/// Never destroyed: workers may still spin on it while the process exits.
/// A forked child gets a new one (its parent's workers are not its own).
static Team *team = new Team;
[[maybe_unused]] static int atForkRegistered =
    pthread_atfork(nullptr, nullptr, [] { team = new Team; });

void *Team::workerMain(void *start) {
  WorkerStart s = *static_cast<WorkerStart *>(start);
  delete static_cast<WorkerStart *>(start);
  // A stack overflow in a kernel reaches the runner's crash handler on this
  // stack.
  stack_t alt = {};
  alt.ss_size = 1 << 16;
  alt.ss_sp = std::malloc(alt.ss_size);
  if (alt.ss_sp)
    sigaltstack(&alt, nullptr);
  s.team->work(s.index, s.seen);
  return nullptr;
}

uint64_t Team::waitForRegion(uint64_t seen) {
  auto start = std::chrono::steady_clock::now();
  for (unsigned spins = 1;; ++spins) {
    uint64_t now = region.value.load(std::memory_order_acquire);
    if (now != seen)
      return now;
    relax(oversubscribed(workers.load(std::memory_order_relaxed) + 1));
    if (spins % 1024 == 0 &&
        std::chrono::steady_clock::now() - start > kSpinTime) {
      std::unique_lock<std::mutex> lock(sleepMutex);
      sleepers.fetch_add(1, std::memory_order_seq_cst);
      while (region.value.load(std::memory_order_seq_cst) == seen)
        wake.wait(lock);
      sleepers.fetch_sub(1, std::memory_order_relaxed);
      start = std::chrono::steady_clock::now();
    }
  }
}

void Team::work(unsigned index, uint64_t seen) {
  for (;;) {
    seen = waitForRegion(seen);
    unsigned size = unsigned(seen & 0xffffffffu);
    if (index >= size)
      continue;
    self.index = index;
    self.teamSize = size;
    self.inRegion = true;
    invoke(task, argc, args, index);
    self.inRegion = false;
    finished.value.fetch_add(1, std::memory_order_release);
  }
}

/// Starts workers up to `size - 1`; returns the team size they allow.
unsigned Team::grow(unsigned size, uint64_t current) {
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  size_t stack = kMinWorkerStackBytes;
  struct rlimit limit;
  if (getrlimit(RLIMIT_STACK, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY)
    stack = std::max(stack, size_t(limit.rlim_cur));
  pthread_attr_setstacksize(&attr, stack);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  unsigned started = workers.load(std::memory_order_relaxed);
  while (started + 1 < size) {
    auto *start = new WorkerStart{this, started + 1, current};
    pthread_t thread;
    if (pthread_create(&thread, &attr, workerMain, start) != 0) {
      delete start;
      break;
    }
    workers.store(++started, std::memory_order_relaxed);
  }
  pthread_attr_destroy(&attr);
  return std::min(size, started + 1);
}

bool Team::run(unsigned size, Microtask task, int argc, void *const *args) {
  if (busy.exchange(true, std::memory_order_acquire))
    return false;
  uint64_t current = region.value.load(std::memory_order_relaxed);
  size = grow(size, current);
  if (size > 1) {
    this->task = task;
    this->argc = argc;
    std::copy(args, args + argc, this->args);
    finished.value.store(0, std::memory_order_relaxed);
    uint64_t generation = (current >> 32) + 1;
    region.value.store((generation << 32) | size, std::memory_order_seq_cst);
    if (sleepers.load(std::memory_order_seq_cst) > 0) {
      std::lock_guard<std::mutex> lock(sleepMutex);
      wake.notify_all();
    }
  }
  ThreadState saved = self;
  self.index = 0;
  self.teamSize = size;
  self.inRegion = true;
  invoke(task, argc, args, 0);
  self = saved;
  bool yield = oversubscribed(size);
  while (size > 1 && finished.value.load(std::memory_order_acquire) != size - 1)
    relax(yield);
  busy.store(false, std::memory_order_release);
  return true;
}

void Team::barrier() {
  unsigned size = self.teamSize;
  if (size == 1)
    return;
  uint64_t passed = barriers.value.load(std::memory_order_acquire);
  if (arrived.value.fetch_add(1, std::memory_order_acq_rel) == size - 1) {
    arrived.value.store(0, std::memory_order_relaxed);
    barriers.value.store(passed + 1, std::memory_order_release);
    return;
  }
  bool yield = oversubscribed(size);
  while (barriers.value.load(std::memory_order_acquire) == passed)
    relax(yield);
}

//===----------------------------------------------------------------------===//
// The libomp entry points (kmp.h's signatures)
//===----------------------------------------------------------------------===//

static void forkCall(void *, int32_t argc, Microtask task, ...) {
  if (argc < 0 || argc > kMaxArguments)
    fatal("cannot pass this many values to a parallel region:", argc);
  void *args[kMaxArguments] = {};
  va_list list;
  va_start(list, task);
  for (int32_t i = 0; i < argc; ++i)
    args[i] = va_arg(list, void *);
  va_end(list);
  unsigned size = self.requestedSize;
  if (size > 1 && !self.inRegion && team->run(size, task, argc, args))
    return;
  // A team of one.
  ThreadState saved = self;
  self.index = 0;
  self.teamSize = 1;
  self.inRegion = true;
  invoke(task, argc, args, 0);
  self = saved;
}

static int32_t globalThreadNum(void *) { return int32_t(self.index); }

static void barrier(void *, int32_t) { team->barrier(); }

/// The static schedules of libomp's __kmp_for_static_init: the iterations
/// [*lower, *upper] by `increment`, balanced over the team (kStatic) or in
/// round-robin chunks (kStaticChunked).
template <typename T>
static void forStaticInit(void *, int32_t, int32_t schedule, int32_t *last,
                          T *lower, T *upper, std::make_signed_t<T> *stride,
                          std::make_signed_t<T> increment,
                          std::make_signed_t<T> chunk) {
  using U = std::make_unsigned_t<T>;
  if (increment == 0)
    fatal("a parallel loop's increment is", 0);
  if (increment > 0 ? *upper < *lower : *lower < *upper) {
    if (last)
      *last = 0;
    *stride = increment;
    return;
  }
  U trip;
  if (increment > 0)
    trip = (U(*upper) - U(*lower)) / U(increment) + 1;
  else
    trip = (U(*lower) - U(*upper)) / (U(0) - U(increment)) + 1;
  U threads = self.teamSize, index = self.index;
  if (schedule == kStatic) {
    if (trip < threads) {
      if (index < trip)
        *upper = *lower = T(*lower + T(index) * increment);
      else
        *lower = T(*upper + increment);
      if (last)
        *last = index == trip - 1;
    } else {
      U small = trip / threads, extra = trip % threads;
      *lower =
          T(*lower + T(index * small + std::min(index, extra)) * increment);
      *upper =
          T(*lower + T(small) * increment - (index < extra ? 0 : increment));
      if (last)
        *last = index == threads - 1;
    }
    *stride = std::make_signed_t<T>(trip);
    return;
  }
  if (schedule == kStaticChunked) {
    if (chunk < 1)
      chunk = 1;
    T span = T(chunk * increment);
    *stride = std::make_signed_t<T>(span * T(threads));
    *lower = T(*lower + span * T(index));
    *upper = T(*lower + span - increment);
    if (last)
      *last = index == ((trip - 1) / U(chunk)) % threads;
    return;
  }
  fatal("cannot run the OpenMP schedule type", schedule);
}

static void forStaticFini(void *, int32_t) {}

std::vector<std::pair<const char *, void *>>
mlir::bitserial::getThreadTeamSymbols() {
  return {
      {"__kmpc_fork_call", reinterpret_cast<void *>(&forkCall)},
      {"__kmpc_global_thread_num", reinterpret_cast<void *>(&globalThreadNum)},
      {"__kmpc_barrier", reinterpret_cast<void *>(&barrier)},
      {"__kmpc_for_static_init_4",
       reinterpret_cast<void *>(&forStaticInit<int32_t>)},
      {"__kmpc_for_static_init_4u",
       reinterpret_cast<void *>(&forStaticInit<uint32_t>)},
      {"__kmpc_for_static_init_8",
       reinterpret_cast<void *>(&forStaticInit<int64_t>)},
      {"__kmpc_for_static_init_8u",
       reinterpret_cast<void *>(&forStaticInit<uint64_t>)},
      {"__kmpc_for_static_fini", reinterpret_cast<void *>(&forStaticFini)},
  };
}

void mlir::bitserial::setThreadTeamSize(unsigned threads) {
  self.requestedSize = std::max(1u, threads);
}
