// bitserial-baselines: the baseline half of the x86 benchmark.
//
// Measures, in one run, on the current machine:
//   1. oneDNN int8 convolution (u8 x s8 -> s32, NHWC, batch 1, weights in
//      format_tag::any) for the ResNet-18 layers C2..C12;
//   2. oneDNN fp32 convolution for the same layers;
//   3. a plain int16 x int16 -> int32 im2col GEMM (M = OH*OW, N = Cout,
//      K = KH*KW*Cin; the GEMM only is timed);
//   4. the AND+popcount peak: AVX2 vpshufb nibble-lookup popcount (256 binary
//      ops per 256-bit AND+popcount), the same on operands stored split into
//      nibbles (what the bitserial AVX2 kernel does), and scalar 64-bit
//      popcnt.
// Prints a table (median ms) and optionally writes the same numbers as JSON.
// See benchmarks/README.md.

#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <dlfcn.h>
#include <strings.h>

#ifndef BITSERIAL_HAVE_DNNL
#define BITSERIAL_HAVE_DNNL 0
#endif
#if BITSERIAL_HAVE_DNNL
#include "oneapi/dnnl/dnnl.hpp"
#endif

namespace {

//===----------------------------------------------------------------------===//
// Workloads
//===----------------------------------------------------------------------===//

struct Layer {
  const char *name;
  int H, W, Cin, Cout, KH, KW, stride, pad;
  int OH() const { return (H + 2 * pad - KH) / stride + 1; }
  int OW() const { return (W + 2 * pad - KW) / stride + 1; }
  int64_t M() const { return int64_t(OH()) * OW(); }
  int64_t N() const { return Cout; }
  int64_t K() const { return int64_t(KH) * KW * Cin; }
  double macs() const { return double(M()) * N() * K(); }
  std::string shape() const {
    char buf[96];
    std::snprintf(buf, sizeof buf, "%dx%d %d->%d k%d s%d p%d", H, W, Cin,
                  Cout, KH, stride, pad);
    return buf;
  }
};

// ResNet-18 convolutions, docs/background.md "Reference workloads".
const Layer kLayers[] = {
    {"C2", 56, 56, 64, 64, 3, 3, 1, 1},     {"C3", 56, 56, 64, 64, 1, 1, 1, 0},
    {"C4", 56, 56, 64, 128, 3, 3, 2, 1},    {"C5", 56, 56, 64, 128, 1, 1, 2, 0},
    {"C6", 28, 28, 128, 128, 3, 3, 1, 1},   {"C7", 28, 28, 128, 256, 3, 3, 2, 1},
    {"C8", 28, 28, 128, 256, 1, 1, 2, 0},   {"C9", 14, 14, 256, 256, 3, 3, 1, 1},
    {"C10", 14, 14, 256, 512, 3, 3, 2, 1},  {"C11", 14, 14, 256, 512, 1, 1, 2, 0},
    {"C12", 7, 7, 512, 512, 3, 3, 1, 1},
};
constexpr int kNumLayers = sizeof(kLayers) / sizeof(kLayers[0]);

//===----------------------------------------------------------------------===//
// Options
//===----------------------------------------------------------------------===//

struct Options {
  int threads = 1;
  int repeat = 20;        // minimum timed repetitions
  double minTime = 0.2;   // minimum timed seconds per measurement
  std::string jsonPath;
  std::vector<int> layers; // indices into kLayers
  bool check = false;
  bool runDnnl = true, runInt16 = true, runPeak = true;
  std::string dnnlMaxIsa; // empty: oneDNN's default (best ISA of the CPU)
  std::string network;    // "resnet18": time the whole network instead
  int resolution = 224;
};

[[noreturn]] void usage(int code) {
  std::FILE *f = code ? stderr : stdout;
  std::fprintf(f,
      "usage: bitserial-baselines [options]\n"
      "  --threads N     threads for oneDNN, the int16 GEMM and an extra\n"
      "                  all-thread popcount peak (default 1); above 1 also\n"
      "                  a cache line's round trip between two threads\n"
      "  --layers LIST   comma-separated subset of C2..C12 (default all)\n"
      "  --repeat N      minimum timed repetitions per measurement (default 20)\n"
      "  --min-time S    minimum timed seconds per measurement (default 0.2;\n"
      "                  0 = exactly --repeat repetitions)\n"
      "  --json FILE     also write the results as JSON to FILE\n"
      "  --check         verify every selected layer's oneDNN int8/fp32 output\n"
      "                  and the int16 GEMM against naive loops first\n"
      "  --skip WHAT     skip a part: onednn, int16, peak (repeatable)\n"
      "  --onednn-max-isa ISA  cap oneDNN's ISA: avx2, avx512_core,\n"
      "                  avx512_core_vnni, ... (default: the CPU's best; the\n"
      "                  DNNL_MAX_CPU_ISA environment variable does the same)\n"
      "  --network resnet18  time a whole ResNet-18 (batch 1, NHWC) in oneDNN\n"
      "                  int8 and fp32 instead of the per-layer table\n"
      "  --resolution N  input height and width of --network (default 224)\n"
      "  -h, --help      this text\n");
  std::exit(code);
}

Options parseArgs(int argc, char **argv) {
  Options o;
  auto need = [&](int &i) -> const char * {
    if (i + 1 >= argc) {
      std::fprintf(stderr, "bitserial-baselines: error: %s needs a value\n",
                   argv[i]);
      usage(1);
    }
    return argv[++i];
  };
  auto toInt = [](const char *s, const char *what, int lo) {
    char *end = nullptr;
    long v = std::strtol(s, &end, 10);
    if (!*s || *end || v < lo || v > 1000000) {
      std::fprintf(stderr, "bitserial-baselines: error: bad %s '%s'\n", what, s);
      std::exit(1);
    }
    return int(v);
  };
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-h" || a == "--help") usage(0);
    else if (a == "--threads") o.threads = toInt(need(i), "--threads", 1);
    else if (a == "--repeat") o.repeat = toInt(need(i), "--repeat", 1);
    else if (a == "--min-time") {
      const char *s = need(i);
      char *end = nullptr;
      o.minTime = std::strtod(s, &end);
      if (!*s || *end || !(o.minTime >= 0) || o.minTime > 3600) {
        std::fprintf(stderr, "bitserial-baselines: error: bad --min-time '%s'\n", s);
        std::exit(1);
      }
    } else if (a == "--json") o.jsonPath = need(i);
    else if (a == "--check") o.check = true;
    else if (a == "--onednn-max-isa") o.dnnlMaxIsa = need(i);
    else if (a == "--skip") {
      std::string w = need(i);
      if (w == "onednn") o.runDnnl = false;
      else if (w == "int16") o.runInt16 = false;
      else if (w == "peak") o.runPeak = false;
      else {
        std::fprintf(stderr, "bitserial-baselines: error: bad --skip '%s'\n", w.c_str());
        std::exit(1);
      }
    } else if (a == "--network") {
      o.network = need(i);
      if (o.network != "resnet18") {
        std::fprintf(stderr, "bitserial-baselines: error: unknown network '%s' (resnet18)\n",
                     o.network.c_str());
        std::exit(1);
      }
    } else if (a == "--resolution") {
      o.resolution = toInt(need(i), "--resolution", 32);
    } else if (a == "--layers") {
      std::stringstream ss(need(i));
      std::string item;
      while (std::getline(ss, item, ',')) {
        if (item.empty()) continue;
        int found = -1;
        for (int l = 0; l < kNumLayers; ++l)
          if (strcasecmp(item.c_str(), kLayers[l].name) == 0) found = l;
        if (found < 0) {
          std::fprintf(stderr, "bitserial-baselines: error: unknown layer '%s' (C2..C12)\n",
                       item.c_str());
          std::exit(1);
        }
        if (std::find(o.layers.begin(), o.layers.end(), found) == o.layers.end())
          o.layers.push_back(found);
      }
      std::sort(o.layers.begin(), o.layers.end());
    } else {
      std::fprintf(stderr, "bitserial-baselines: error: unknown option '%s'\n", a.c_str());
      usage(1);
    }
  }
  if (o.layers.empty())
    for (int l = 0; l < kNumLayers; ++l) o.layers.push_back(l);
  return o;
}

//===----------------------------------------------------------------------===//
// Timing
//===----------------------------------------------------------------------===//

using Clock = std::chrono::steady_clock;
double secondsSince(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

struct Stat {
  double medianMs = NAN, minMs = NAN, maxMs = NAN;
  int reps = 0;
};

// Warm up (>= 3 calls and >= 50 ms, at most 1 s), then time single calls
// until >= minReps calls and >= minTime seconds; report the median.
Stat timeIt(const std::function<void()> &f, int minReps, double minTime) {
  auto w0 = Clock::now();
  for (int i = 0;; ++i) {
    f();
    double e = secondsSince(w0);
    if ((i >= 2 && e >= 0.05) || e >= 1.0) break;
  }
  std::vector<double> ts;
  double total = 0;
  while ((int)ts.size() < minReps || total < minTime) {
    auto t0 = Clock::now();
    f();
    double s = secondsSince(t0);
    ts.push_back(s * 1e3);
    total += s;
    if (ts.size() >= 1000000) break;
  }
  Stat st;
  st.reps = (int)ts.size();
  std::sort(ts.begin(), ts.end());
  size_t n = ts.size();
  st.medianMs = n % 2 ? ts[n / 2] : 0.5 * (ts[n / 2 - 1] + ts[n / 2]);
  st.minMs = ts.front();
  st.maxMs = ts.back();
  return st;
}

//===----------------------------------------------------------------------===//
// Data and naive references
//===----------------------------------------------------------------------===//

// Activations NHWC [H][W][Cin]; weights OHWI [Cout][KH][KW][Cin].
template <typename T>
std::vector<T> randomInts(size_t n, int lo, int hi, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> d(lo, hi);
  std::vector<T> v(n);
  for (auto &x : v) x = T(d(rng));
  return v;
}

// Elements where `got` differs from `want` (same sizes).
static size_t mismatches(const std::vector<int32_t> &want,
                         const std::vector<int32_t> &got) {
  size_t bad = 0;
  for (size_t i = 0; i < want.size(); ++i) bad += want[i] != got[i];
  return bad;
}

// Naive direct convolution; Acc is the accumulator type. Output NHWC.
template <typename Acc, typename TA, typename TW>
std::vector<Acc> naiveConv(const Layer &L, const TA *src, const TW *wei) {
  int OH = L.OH(), OW = L.OW();
  std::vector<Acc> out(size_t(OH) * OW * L.Cout);
  for (int oh = 0; oh < OH; ++oh)
    for (int ow = 0; ow < OW; ++ow)
      for (int co = 0; co < L.Cout; ++co) {
        Acc acc = 0;
        for (int kh = 0; kh < L.KH; ++kh) {
          int ih = oh * L.stride - L.pad + kh;
          if (ih < 0 || ih >= L.H) continue;
          for (int kw = 0; kw < L.KW; ++kw) {
            int iw = ow * L.stride - L.pad + kw;
            if (iw < 0 || iw >= L.W) continue;
            const TA *a = src + (size_t(ih) * L.W + iw) * L.Cin;
            const TW *w = wei + ((size_t(co) * L.KH + kh) * L.KW + kw) * L.Cin;
            for (int ci = 0; ci < L.Cin; ++ci) acc += Acc(a[ci]) * Acc(w[ci]);
          }
        }
        out[(size_t(oh) * OW + ow) * L.Cout + co] = acc;
      }
  return out;
}

//===----------------------------------------------------------------------===//
// int16 GEMM baseline
//===----------------------------------------------------------------------===//

// im2col of an NHWC image: A[M][K], K ordered (kh, kw, ci) like OHWI weights.
std::vector<int16_t> im2col(const Layer &L, const int16_t *src) {
  int OH = L.OH(), OW = L.OW();
  int64_t K = L.K();
  std::vector<int16_t> A(size_t(L.M()) * K, 0);
  for (int oh = 0; oh < OH; ++oh)
    for (int ow = 0; ow < OW; ++ow) {
      int16_t *row = A.data() + (size_t(oh) * OW + ow) * K;
      for (int kh = 0; kh < L.KH; ++kh) {
        int ih = oh * L.stride - L.pad + kh;
        for (int kw = 0; kw < L.KW; ++kw) {
          int iw = ow * L.stride - L.pad + kw;
          int16_t *dst = row + (size_t(kh) * L.KW + kw) * L.Cin;
          if (ih < 0 || ih >= L.H || iw < 0 || iw >= L.W) continue;
          std::memcpy(dst, src + (size_t(ih) * L.W + iw) * L.Cin,
                      L.Cin * sizeof(int16_t));
        }
      }
    }
  return A;
}

// C[M][N] = A[M][K] * B[K][N], int16 x int16 -> int32, rows [m0, m1).
// A plain, cache-blocked loop nest: K is blocked so that a KB x N panel of
// B stays in L2; for each row of A the inner j loop is a broadcast multiply-
// accumulate over a contiguous row of B and C, which the compiler
// auto-vectorizes (-O3 -march=native). No hand-written intrinsics, no packing.
constexpr int64_t kGemmKB = 128;
void gemmInt16Rows(const int16_t *__restrict A, const int16_t *__restrict B,
                   int32_t *__restrict C, int64_t m0, int64_t m1, int64_t N,
                   int64_t K) {
  for (int64_t i = m0; i < m1; ++i)
    std::memset(C + i * N, 0, N * sizeof(int32_t));
  for (int64_t k0 = 0; k0 < K; k0 += kGemmKB) {
    int64_t k1 = std::min(K, k0 + kGemmKB);
    for (int64_t i = m0; i < m1; ++i) {
      int32_t *__restrict c = C + i * N;
      const int16_t *__restrict a = A + i * K;
      for (int64_t k = k0; k < k1; ++k) {
        int32_t av = a[k];
        const int16_t *__restrict b = B + k * N;
        for (int64_t j = 0; j < N; ++j) c[j] += av * int32_t(b[j]);
      }
    }
  }
}

void gemmInt16(const int16_t *A, const int16_t *B, int32_t *C, int64_t M,
               int64_t N, int64_t K, int threads) {
  if (threads <= 1) {
    gemmInt16Rows(A, B, C, 0, M, N, K);
    return;
  }
  std::vector<std::thread> pool;
  int64_t chunk = (M + threads - 1) / threads;
  for (int t = 0; t < threads; ++t) {
    int64_t m0 = t * chunk, m1 = std::min(M, m0 + chunk);
    if (m0 >= m1) break;
    pool.emplace_back(gemmInt16Rows, A, B, C, m0, m1, N, K);
  }
  for (auto &th : pool) th.join();
}

//===----------------------------------------------------------------------===//
// AND + popcount peaks
//===----------------------------------------------------------------------===//

// Tell the compiler a value may have changed, at zero instruction cost, so the
// AND+popcount work cannot be hoisted out of the loop or folded (the vector
// loops use the same empty-asm trick inline).
#define CLOBBER_GPR(v) asm volatile("" : "+r"(v))

constexpr int kAvxInner = 30; // <= 31 steps of +<=8 keep byte counters < 256

// Compile the AVX2 kernel for plain AVX2 (VEX encodings, 16 ymm registers)
// even when -march=native enables AVX-512 (Zen 4/5): what an AVX2-only machine
// such as Zen 3 runs. Only clang accepts AVX2 intrinsics inside a function
// whose target is narrower than the command line's; with GCC the same
// instructions may be EVEX-encoded on an AVX-512 machine.
#if defined(__clang__)
#define BS_AVX2_ONLY __attribute__((target("arch=haswell")))
#else
#define BS_AVX2_ONLY
#endif

// total + the byte sums (vpsadbw) of four byte counters, in 64-bit lanes.
BS_AVX2_ONLY static inline __m256i addByteCounts(__m256i total, __m256i c0,
                                                 __m256i c1, __m256i c2,
                                                 __m256i c3) {
  const __m256i zero = _mm256_setzero_si256();
  __m256i s01 = _mm256_add_epi64(_mm256_sad_epu8(c0, zero), _mm256_sad_epu8(c1, zero));
  __m256i s23 = _mm256_add_epi64(_mm256_sad_epu8(c2, zero), _mm256_sad_epu8(c3, zero));
  return _mm256_add_epi64(total, _mm256_add_epi64(s01, s23));
}

BS_AVX2_ONLY static inline uint64_t sumLanes(__m256i v) {
  alignas(32) uint64_t lanes[4];
  _mm256_store_si256(reinterpret_cast<__m256i *>(lanes), v);
  return lanes[0] + lanes[1] + lanes[2] + lanes[3];
}

// The popcounts of 0..15, in each 128-bit lane (vpshufb looks up per lane).
BS_AVX2_ONLY static inline __m256i nibbleCountTable() {
  return _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1,
                          1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
}

// Four independent chains x_i = a_i AND b (a_i and b re-"defined" every step by
// an empty asm, so nothing can be hoisted); per step and chain: vpand, then
// vpand + vpsrlw + vpand for the nibbles, 2x vpshufb (lookup), 2x vpaddb into
// the byte counter. Every kAvxInner steps the byte counters are folded into
// 64-bit lanes with vpsadbw. 13 live ymm registers + temporaries: fits the 16
// of AVX2 without spills. Returns the total popcount.
__attribute__((noinline)) BS_AVX2_ONLY uint64_t avx2PopcountLoop(uint64_t outer,
                                                                 const uint64_t *seeds) {
  const __m256i lut = nibbleCountTable();
  const __m256i m4 = _mm256_set1_epi8(0x0f);
  const __m256i zero = _mm256_setzero_si256();
#define BS_LD(i) _mm256_loadu_si256(reinterpret_cast<const __m256i *>(seeds + 4 * (i)))
  __m256i a0 = BS_LD(0), a1 = BS_LD(1), a2 = BS_LD(2), a3 = BS_LD(3);
  __m256i b = BS_LD(4);
#undef BS_LD
  __m256i total = zero;
#define BS_STEP(a, acc)                                                        \
  do {                                                                         \
    __m256i x = _mm256_and_si256(a, b);                                        \
    __m256i lo = _mm256_and_si256(x, m4);                                      \
    __m256i hi = _mm256_and_si256(_mm256_srli_epi16(x, 4), m4);                \
    acc = _mm256_add_epi8(acc, _mm256_add_epi8(_mm256_shuffle_epi8(lut, lo),   \
                                               _mm256_shuffle_epi8(lut, hi))); \
  } while (0)
  for (uint64_t o = 0; o < outer; ++o) {
    __m256i c0 = zero, c1 = zero, c2 = zero, c3 = zero;
    for (int r = 0; r < kAvxInner; ++r) {
      asm volatile("" : "+x"(a0), "+x"(a1), "+x"(a2), "+x"(a3), "+x"(b));
      BS_STEP(a0, c0);
      BS_STEP(a1, c1);
      BS_STEP(a2, c2);
      BS_STEP(a3, c3);
    }
    total = addByteCounts(total, c0, c1, c2, c3);
  }
#undef BS_STEP
  return sumLanes(total);
}
constexpr double kAvxBitsPerOuter = 4.0 * kAvxInner * 256; // binary ops

// The same with operands stored split into nibbles (a_lo = a & 0x0f..,
// a_hi = (a >> 4) & 0x0f.., b and b >> 4), as the bitserial AVX2 kernel
// keeps them: per step and chain vpand + vpshufb + vpaddb per half, no shift
// or mask. Two chains of two halves each: 256 binary ops per chain step, as
// above; 4 byte counters + 9 operands + table fit in 16 ymm registers.
__attribute__((noinline)) BS_AVX2_ONLY uint64_t
avx2SplitNibblePopcountLoop(uint64_t outer, const uint64_t *seeds) {
  const __m256i lut = nibbleCountTable();
  const __m256i m4 = _mm256_set1_epi8(0x0f);
  const __m256i zero = _mm256_setzero_si256();
#define BS_LD(i) _mm256_loadu_si256(reinterpret_cast<const __m256i *>(seeds + 4 * (i)))
  __m256i a0 = BS_LD(0), a1 = BS_LD(1), a2 = BS_LD(2), a3 = BS_LD(3);
  __m256i b = BS_LD(4);
#undef BS_LD
  // Chain i counts a_i & b as (a_i lo & b) + (a_i hi & b >> 4).
  __m256i lo0 = _mm256_and_si256(a0, m4), hi0 = _mm256_and_si256(_mm256_srli_epi16(a0, 4), m4);
  __m256i lo1 = _mm256_and_si256(a1, m4), hi1 = _mm256_and_si256(_mm256_srli_epi16(a1, 4), m4);
  __m256i lo2 = _mm256_and_si256(a2, m4), hi2 = _mm256_and_si256(_mm256_srli_epi16(a2, 4), m4);
  __m256i lo3 = _mm256_and_si256(a3, m4), hi3 = _mm256_and_si256(_mm256_srli_epi16(a3, 4), m4);
  __m256i bhi = _mm256_srli_epi16(b, 4);
  __m256i total = zero;
#define BS_STEP(lo, hi, acc)                                                   \
  acc = _mm256_add_epi8(                                                       \
      acc, _mm256_add_epi8(_mm256_shuffle_epi8(lut, _mm256_and_si256(lo, b)),  \
                           _mm256_shuffle_epi8(lut, _mm256_and_si256(hi, bhi))))
  for (uint64_t o = 0; o < outer; ++o) {
    __m256i c0 = zero, c1 = zero, c2 = zero, c3 = zero;
    for (int r = 0; r < kAvxInner; ++r) {
      asm volatile("" : "+x"(lo0), "+x"(hi0), "+x"(lo1), "+x"(hi1), "+x"(b), "+x"(bhi));
      asm volatile("" : "+x"(lo2), "+x"(hi2), "+x"(lo3), "+x"(hi3));
      BS_STEP(lo0, hi0, c0);
      BS_STEP(lo1, hi1, c1);
      BS_STEP(lo2, hi2, c2);
      BS_STEP(lo3, hi3, c3);
    }
    total = addByteCounts(total, c0, c1, c2, c3);
  }
#undef BS_STEP
  return sumLanes(total);
}

// Counting by table lookup instead of AND + popcount: a table per 4 values
// of K of the activations (here 2-bit unsigned: 256 tables), indexed by the 4
// bits of one weight plane, holds the exact sum of those 4 products; one
// vpshufb looks up 32 output channels at once, with no AND. Each lookup is
// 4 MACs at 2 x 1 bits, 8 binary ops. The loop is a register block of 4
// pixels (tables loaded from L1 through an index per pixel and step, 32
// bytes per table, both lanes) x 2 vectors of 32 channels (weight nibbles
// loaded per step), byte sums widened into i16 every 8 steps.
constexpr int kTableSteps = 144, kTablePixels = 4, kTableVectors = 2;
constexpr int kTableWiden = 8, kTableBlocks = 4;
struct LookupData {
  alignas(64) uint8_t tables[256 * 32];
  uint16_t offsets[kTableBlocks * kTablePixels * kTableSteps]; // bytes
  alignas(64) uint8_t weights[kTableSteps * kTableVectors * 32];
};
const LookupData &lookupData() {
  static LookupData d;
  static bool init = false;
  if (!init) {
    // Table t at bytes [32 t, 32 t + 32): entry w (both lanes) is
    // sum over 4 positions of activation (t >> 2 pos) & 3 times bit pos of w.
    for (int t = 0; t < 256; ++t)
      for (int w = 0; w < 16; ++w) {
        int sum = 0;
        for (int pos = 0; pos < 4; ++pos)
          sum += ((t >> (2 * pos)) & 3) * ((w >> pos) & 1);
        d.tables[32 * t + w] = d.tables[32 * t + 16 + w] = uint8_t(sum);
      }
    std::mt19937_64 rng(6789);
    for (auto &o : d.offsets) o = uint16_t(32 * (rng() & 255));
    for (auto &w : d.weights) w = uint8_t(rng() & 15);
    init = true;
  }
  return d;
}
__attribute__((noinline)) BS_AVX2_ONLY uint64_t avx2TableLookupLoop(uint64_t outer,
                                                                    const uint64_t *) {
  const LookupData &d = lookupData();
  const __m256i lowBytes = _mm256_set1_epi16(0xff);
  __m256i total = _mm256_setzero_si256();
  for (uint64_t o = 0; o < outer; ++o) {
    for (int blk = 0; blk < kTableBlocks; ++blk) {
      const uint16_t *offsets = d.offsets + blk * kTablePixels * kTableSteps;
      __m256i wide[kTablePixels][kTableVectors][2];
      for (auto &p : wide)
        for (auto &v : p) v[0] = v[1] = _mm256_setzero_si256();
      for (int s0 = 0; s0 < kTableSteps; s0 += kTableWiden) {
        __m256i acc[kTablePixels][kTableVectors];
        for (auto &p : acc)
          for (auto &v : p) v = _mm256_setzero_si256();
        // Unrolled, clang re-associates the adds and spills.
#if defined(__clang__)
#pragma clang loop unroll(disable)
#endif
        for (int s = s0; s < s0 + kTableWiden; ++s) {
          __m256i w[kTableVectors];
          for (int v = 0; v < kTableVectors; ++v)
            w[v] = _mm256_load_si256(
                reinterpret_cast<const __m256i *>(d.weights + (s * kTableVectors + v) * 32));
          for (int p = 0; p < kTablePixels; ++p) {
            __m256i table = _mm256_load_si256(reinterpret_cast<const __m256i *>(
                d.tables + offsets[p * kTableSteps + s]));
            for (int v = 0; v < kTableVectors; ++v)
              acc[p][v] = _mm256_add_epi8(acc[p][v], _mm256_shuffle_epi8(table, w[v]));
          }
        }
        for (int p = 0; p < kTablePixels; ++p)
          for (int v = 0; v < kTableVectors; ++v) {
            wide[p][v][0] = _mm256_add_epi16(wide[p][v][0], _mm256_and_si256(acc[p][v], lowBytes));
            wide[p][v][1] = _mm256_add_epi16(wide[p][v][1], _mm256_srli_epi16(acc[p][v], 8));
          }
      }
      // <= 144 steps x 12 per i16 lane: no overflow; sum the block's lanes.
      for (auto &p : wide)
        for (auto &v : p)
          total = _mm256_add_epi64(
              total, _mm256_sad_epu8(_mm256_add_epi16(v[0], v[1]), _mm256_setzero_si256()));
    }
  }
  return sumLanes(total);
}
// Sum of the i16 lanes as avx2TableLookupLoop's vpsadbw takes them (each
// i16 as its two bytes) per outer iteration.
uint64_t tableLookupExpectedPerOuter() {
  const LookupData &d = lookupData();
  uint64_t total = 0;
  for (int blk = 0; blk < kTableBlocks; ++blk)
    for (int p = 0; p < kTablePixels; ++p)
      for (int v = 0; v < kTableVectors; ++v)
        for (int lane = 0; lane < 16; ++lane) {
          uint32_t sum = 0;
          for (int byte = 2 * lane; byte < 2 * lane + 2; ++byte)
            for (int s = 0; s < kTableSteps; ++s) {
              uint8_t w = d.weights[(s * kTableVectors + v) * 32 + byte];
              sum += d.tables[d.offsets[(blk * kTablePixels + p) * kTableSteps + s] +
                              (byte & 16) + w];
            }
          total += (sum & 0xff) + (sum >> 8);
        }
  return total;
}
constexpr double kTableBitsPerOuter =
    double(kTableBlocks) * kTablePixels * kTableVectors * kTableSteps * 32 * 8;

// The same loop on 512-bit registers (64 channels per lookup; each table's 16
// entries repeated in the four 128-bit lanes), for CPUs with AVX512BW (measured
// where VBMI is present too: one template). With AVX512_VBMI, vpermb looks up
// 64-entry tables: one per 3 unsigned 2-bit activations (64 tables), indexed by
// 3 signed 2-bit weights (6 bits), entries biased by 18 to [0, 27]: 3
// multiply-accumulates at 2 x 2 bits per byte lane, against 4 at 2 x 1 bits for
// vpshufb.
struct WideLookupData {
  alignas(64) uint8_t tables[256 * 64];
  alignas(64) uint8_t weights[kTableSteps * kTableVectors * 64];
  alignas(64) uint8_t permuteTables[64 * 64];
  alignas(64) uint8_t permuteWeights[kTableSteps * kTableVectors * 64];
};
const WideLookupData &wideLookupData() {
  static WideLookupData d;
  static bool init = false;
  if (!init) {
    const LookupData &narrow = lookupData();
    for (int t = 0; t < 256; ++t)
      for (int byte = 0; byte < 64; ++byte)
        d.tables[64 * t + byte] = narrow.tables[32 * t + (byte & 15)];
    std::mt19937_64 rng(6790);
    for (auto &w : d.weights)
      w = uint8_t(rng() & 15);
    for (int t = 0; t < 64; ++t)
      for (int w = 0; w < 64; ++w) {
        int sum = 18;
        for (int pos = 0; pos < 3; ++pos) {
          int code = (w >> (2 * pos)) & 3;
          sum += ((t >> (2 * pos)) & 3) * (code >= 2 ? code - 4 : code);
        }
        d.permuteTables[64 * t + w] = uint8_t(sum);
      }
    for (auto &w : d.permuteWeights)
      w = uint8_t(rng() & 63);
    init = true;
  }
  return d;
}
template <bool Permute>
__attribute__((noinline, target("avx512f,avx512bw,avx512vbmi"))) uint64_t
avx512TableLookupLoop(uint64_t outer, const uint64_t *) {
  const LookupData &narrow = lookupData();
  const WideLookupData &d = wideLookupData();
  const uint8_t *tables = Permute ? d.permuteTables : d.tables;
  const uint8_t *weights = Permute ? d.permuteWeights : d.weights;
  // Offsets are the narrow loop's (32 t of 256 tables); tables here are 64
  // bytes, and only 64 of them for vpermb.
  auto tableAt = [&](unsigned offset) {
    return tables + ((2 * offset) & (Permute ? 64 * 63 : 64 * 255));
  };
  const __m512i lowBytes = _mm512_set1_epi16(0xff);
  __m512i total = _mm512_setzero_si512();
  for (uint64_t o = 0; o < outer; ++o) {
    for (int blk = 0; blk < kTableBlocks; ++blk) {
      const uint16_t *offsets =
          narrow.offsets + blk * kTablePixels * kTableSteps;
      __m512i wide[kTablePixels][kTableVectors][2];
      for (auto &p : wide)
        for (auto &v : p)
          v[0] = v[1] = _mm512_setzero_si512();
      for (int s0 = 0; s0 < kTableSteps; s0 += kTableWiden) {
        __m512i acc[kTablePixels][kTableVectors];
        for (auto &p : acc)
          for (auto &v : p)
            v = _mm512_setzero_si512();
#if defined(__clang__)
#pragma clang loop unroll(disable)
#endif
        for (int s = s0; s < s0 + kTableWiden; ++s) {
          __m512i w[kTableVectors];
          for (int v = 0; v < kTableVectors; ++v)
            w[v] = _mm512_load_si512(weights + (s * kTableVectors + v) * 64);
          for (int p = 0; p < kTablePixels; ++p) {
            __m512i table =
                _mm512_load_si512(tableAt(offsets[p * kTableSteps + s]));
            for (int v = 0; v < kTableVectors; ++v)
              acc[p][v] = _mm512_add_epi8(
                  acc[p][v], Permute ? _mm512_permutexvar_epi8(w[v], table)
                                     : _mm512_shuffle_epi8(table, w[v]));
          }
        }
        for (int p = 0; p < kTablePixels; ++p)
          for (int v = 0; v < kTableVectors; ++v) {
            wide[p][v][0] = _mm512_add_epi16(
                wide[p][v][0], _mm512_and_si512(acc[p][v], lowBytes));
            wide[p][v][1] = _mm512_add_epi16(wide[p][v][1],
                                             _mm512_srli_epi16(acc[p][v], 8));
          }
      }
      for (auto &p : wide)
        for (auto &v : p)
          total = _mm512_add_epi64(total,
                                   _mm512_sad_epu8(_mm512_add_epi16(v[0], v[1]),
                                                   _mm512_setzero_si512()));
    }
  }
  alignas(64) uint64_t lanes[8];
  _mm512_store_si512(lanes, total);
  uint64_t sum = 0;
  for (uint64_t lane : lanes)
    sum += lane;
  return sum;
}
template <bool Permute> uint64_t wideTableLookupExpectedPerOuter() {
  const LookupData &narrow = lookupData();
  const WideLookupData &d = wideLookupData();
  const uint8_t *tables = Permute ? d.permuteTables : d.tables;
  const uint8_t *weights = Permute ? d.permuteWeights : d.weights;
  uint64_t total = 0;
  for (int blk = 0; blk < kTableBlocks; ++blk)
    for (int p = 0; p < kTablePixels; ++p)
      for (int v = 0; v < kTableVectors; ++v)
        for (int lane = 0; lane < 32; ++lane) {
          uint32_t sum = 0;
          for (int byte = 2 * lane; byte < 2 * lane + 2; ++byte)
            for (int s = 0; s < kTableSteps; ++s) {
              uint8_t w = weights[(s * kTableVectors + v) * 64 + byte];
              unsigned offset =
                  narrow.offsets[(blk * kTablePixels + p) * kTableSteps + s];
              sum += tables[((2 * offset) & (Permute ? 64 * 63 : 64 * 255)) +
                            (Permute ? w : (byte & 48) + w)];
            }
          total += (sum & 0xff) + (sum >> 8);
        }
  return total;
}

constexpr int kScalarInner = 8;
// One scalar 64-bit popcnt, in asm so that the compiler cannot turn the loop
// into vector popcounts (clang SLP-vectorizes it to vpopcntq on AVX-512 CPUs).
inline uint64_t popcnt64(uint64_t x) {
  uint64_t r;
  asm("popcntq %1, %0" : "=r"(r) : "r"(x));
  return r;
}
// Four independent chains of and + popcnt + add on 64-bit registers.
__attribute__((noinline)) uint64_t scalarPopcountLoop(uint64_t outer,
                                                      const uint64_t *seeds) {
  uint64_t a0 = seeds[0], a1 = seeds[1], a2 = seeds[2], a3 = seeds[3];
  uint64_t b0 = seeds[4], b1 = seeds[5], b2 = seeds[6], b3 = seeds[7];
  uint64_t c0 = 0, c1 = 0, c2 = 0, c3 = 0;
  for (uint64_t o = 0; o < outer; ++o) {
    for (int r = 0; r < kScalarInner; ++r) {
      CLOBBER_GPR(a0); CLOBBER_GPR(a1); CLOBBER_GPR(a2); CLOBBER_GPR(a3);
      CLOBBER_GPR(b0); CLOBBER_GPR(b1); CLOBBER_GPR(b2); CLOBBER_GPR(b3);
      c0 += popcnt64(a0 & b0);
      c1 += popcnt64(a1 & b1);
      c2 += popcnt64(a2 & b2);
      c3 += popcnt64(a3 & b3);
      // Keep the counters in GPRs too (GCC otherwise moves the adds to xmm).
      CLOBBER_GPR(c0); CLOBBER_GPR(c1); CLOBBER_GPR(c2); CLOBBER_GPR(c3);
    }
  }
  return c0 + c1 + c2 + c3;
}
constexpr double kScalarBitsPerOuter = 4.0 * kScalarInner * 64;

// Extra, not part of the AVX2 baseline: on CPUs with AVX512_VPOPCNTDQ the
// natural kernel is vpandq + vpopcntq + vpaddq on 512-bit registers.
constexpr int kZmmInner = 8;
__attribute__((noinline, target("avx512f,avx512vpopcntdq"))) uint64_t
avx512PopcountLoop(uint64_t outer, const uint64_t *seeds) {
  // Lambdas do not inherit the enclosing function's target.
  auto ld = [&](int i) __attribute__((target("avx512f"))) {
    return _mm512_loadu_si512(seeds + 8 * i);
  };
  __m512i a0 = ld(0), a1 = ld(1), b0 = ld(2), b1 = ld(3);
  // Chains 2 and 3 reuse the a0/b0 data with the operands rotated.
  __m512i a2 = ld(1), a3 = ld(0), b2 = ld(3), b3 = ld(2);
  __m512i c0 = _mm512_setzero_si512(), c1 = c0, c2 = c0, c3 = c0;
  for (uint64_t o = 0; o < outer; ++o) {
    for (int r = 0; r < kZmmInner; ++r) {
      asm volatile("" : "+v"(a0), "+v"(a1), "+v"(a2), "+v"(a3));
      asm volatile("" : "+v"(b0), "+v"(b1), "+v"(b2), "+v"(b3));
      c0 = _mm512_add_epi64(c0, _mm512_popcnt_epi64(_mm512_and_si512(a0, b0)));
      c1 = _mm512_add_epi64(c1, _mm512_popcnt_epi64(_mm512_and_si512(a1, b1)));
      c2 = _mm512_add_epi64(c2, _mm512_popcnt_epi64(_mm512_and_si512(a2, b2)));
      c3 = _mm512_add_epi64(c3, _mm512_popcnt_epi64(_mm512_and_si512(a3, b3)));
    }
  }
  __m512i t = _mm512_add_epi64(_mm512_add_epi64(c0, c1), _mm512_add_epi64(c2, c3));
  alignas(64) uint64_t lanes[8];
  _mm512_store_si512(lanes, t);
  uint64_t sum = 0;
  for (uint64_t v : lanes) sum += v;
  return sum;
}
constexpr double kZmmBitsPerOuter = 4.0 * kZmmInner * 512;

// The same AND'ed words counted with Harley-Seal carry-save adders
// (vpternlogq majority and parity) into ones/twos/fours/eights, one
// vpopcntq per 16 words: fewer popcounts, but not fewer vector ALU
// operations (two ternlogs per word instead of a popcount and an add).
#define BITSERIAL_CSA(h, l, a, b, c)                                           \
  do {                                                                         \
    __m512i csaA = (a), csaB = (b), csaC = (c);                                \
    h = _mm512_ternarylogic_epi64(csaA, csaB, csaC, 0xE8);                     \
    l = _mm512_ternarylogic_epi64(csaA, csaB, csaC, 0x96);                     \
  } while (0)
__attribute__((noinline, target("avx512f,avx512vpopcntdq"))) uint64_t
avx512HarleySealLoop(uint64_t outer, const uint64_t *seeds) {
  // Lambdas do not inherit the enclosing function's target.
  auto ld = [&](int i) __attribute__((target("avx512f"))) {
    return _mm512_loadu_si512(seeds + 8 * i);
  };
  __m512i a0 = ld(0), a1 = ld(1), b0 = ld(2), b1 = ld(3);
  __m512i a2 = ld(1), a3 = ld(0), b2 = ld(3), b3 = ld(2);
  __m512i zero = _mm512_setzero_si512();
  __m512i ones = zero, twos = zero, fours = zero, eights = zero, total = zero;
  // Four AND'ed words, as the plain loop's four chains compute them.
  auto four = [&](__m512i *w) __attribute__((target("avx512f"))) {
    asm volatile("" : "+v"(a0), "+v"(a1), "+v"(a2), "+v"(a3));
    asm volatile("" : "+v"(b0), "+v"(b1), "+v"(b2), "+v"(b3));
    w[0] = _mm512_and_si512(a0, b0);
    w[1] = _mm512_and_si512(a1, b1);
    w[2] = _mm512_and_si512(a2, b2);
    w[3] = _mm512_and_si512(a3, b3);
  };
  static_assert(kZmmInner % 4 == 0, "16 words per carry-save tree");
  for (uint64_t o = 0; o < outer; ++o) {
    for (int r = 0; r < kZmmInner; r += 4) {
      __m512i w[16], twosA, twosB, foursA, foursB, eightsA, eightsB, sixteens;
      four(w), four(w + 4), four(w + 8), four(w + 12);
      BITSERIAL_CSA(twosA, ones, ones, w[0], w[1]);
      BITSERIAL_CSA(twosB, ones, ones, w[2], w[3]);
      BITSERIAL_CSA(foursA, twos, twos, twosA, twosB);
      BITSERIAL_CSA(twosA, ones, ones, w[4], w[5]);
      BITSERIAL_CSA(twosB, ones, ones, w[6], w[7]);
      BITSERIAL_CSA(foursB, twos, twos, twosA, twosB);
      BITSERIAL_CSA(eightsA, fours, fours, foursA, foursB);
      BITSERIAL_CSA(twosA, ones, ones, w[8], w[9]);
      BITSERIAL_CSA(twosB, ones, ones, w[10], w[11]);
      BITSERIAL_CSA(foursA, twos, twos, twosA, twosB);
      BITSERIAL_CSA(twosA, ones, ones, w[12], w[13]);
      BITSERIAL_CSA(twosB, ones, ones, w[14], w[15]);
      BITSERIAL_CSA(foursB, twos, twos, twosA, twosB);
      BITSERIAL_CSA(eightsB, fours, fours, foursA, foursB);
      BITSERIAL_CSA(sixteens, eights, eights, eightsA, eightsB);
      total = _mm512_add_epi64(total, _mm512_popcnt_epi64(sixteens));
    }
  }
  __m512i t = _mm512_slli_epi64(total, 4);
  t = _mm512_add_epi64(t, _mm512_slli_epi64(_mm512_popcnt_epi64(eights), 3));
  t = _mm512_add_epi64(t, _mm512_slli_epi64(_mm512_popcnt_epi64(fours), 2));
  t = _mm512_add_epi64(t, _mm512_slli_epi64(_mm512_popcnt_epi64(twos), 1));
  t = _mm512_add_epi64(t, _mm512_popcnt_epi64(ones));
  alignas(64) uint64_t lanes[8];
  _mm512_store_si512(lanes, t);
  uint64_t sum = 0;
  for (uint64_t v : lanes) sum += v;
  return sum;
}
#undef BITSERIAL_CSA
const uint64_t *peakSeeds();
uint64_t avx512ExpectedPerOuter() {
  const uint64_t *seeds = peakSeeds();
  uint64_t s = 0;
  auto chain = [&](int a, int b) {
    for (int i = 0; i < 8; ++i)
      s += uint64_t(__builtin_popcountll(seeds[8 * a + i] & seeds[8 * b + i]));
  };
  chain(0, 2); chain(1, 3); chain(1, 3); chain(0, 2);
  return s * kZmmInner;
}

// Read bandwidth: XOR of every 32-byte block of `bytes` (four independent
// chains of aligned loads), the best loop for streaming a kernel's weights.
__attribute__((noinline)) BS_AVX2_ONLY uint64_t xorBlocks(const uint64_t *p,
                                                         size_t words) {
  const __m256i *v = reinterpret_cast<const __m256i *>(p);
  __m256i a = _mm256_setzero_si256(), b = a, c = a, d = a;
  for (size_t i = 0; i + 16 <= words; i += 16, v += 4) {
    a = _mm256_xor_si256(a, _mm256_load_si256(v));
    b = _mm256_xor_si256(b, _mm256_load_si256(v + 1));
    c = _mm256_xor_si256(c, _mm256_load_si256(v + 2));
    d = _mm256_xor_si256(d, _mm256_load_si256(v + 3));
  }
  __m256i t = _mm256_xor_si256(_mm256_xor_si256(a, b), _mm256_xor_si256(c, d));
  alignas(32) uint64_t lanes[4];
  _mm256_store_si256(reinterpret_cast<__m256i *>(lanes), t);
  return lanes[0] ^ lanes[1] ^ lanes[2] ^ lanes[3];
}

struct Bandwidth {
  size_t bytes = 0;
  double gbs = NAN; // one thread, median of repeated reads of the same buffer
  // One thread, median of reads that find the buffer in memory (see
  // measureColdReadBandwidth); NAN where not measured.
  double coldGbs = NAN;
  bool verified = false;
};

// A buffer as large as bitserial-run --cold's default, and how often the
// buffer under test is read after evicting it (each eviction reads 512 MiB).
constexpr size_t kEvictBytes = size_t(256) << 20;
constexpr int kColdReads = 31;

// GB/s of one read of `words` (filled, checked against `expected`) that
// follows two passes over `evict`, as bitserial-run --cold precedes each
// call: the read finds the buffer in memory, with the prefetchers and the
// TLB as cold as a layer's weights find them after other work.
double measureColdRead(const uint64_t *buffer, size_t words, uint64_t expected,
                       const uint64_t *evict, size_t evictWords, bool &ok) {
  std::vector<double> seconds;
  volatile uint64_t sink = 0;
  for (int i = 0; i < kColdReads; ++i) {
    for (int pass = 0; pass < 2; ++pass)
      sink = sink + xorBlocks(evict, evictWords);
    auto t0 = Clock::now();
    uint64_t r = xorBlocks(buffer, words);
    seconds.push_back(secondsSince(t0));
    ok &= r == expected;
  }
  std::sort(seconds.begin(), seconds.end());
  return double(words * 8) / seconds[seconds.size() / 2] / 1e9;
}

// GB/s of reading one buffer of `bytes` again and again on one thread (it
// stays in the caches that hold it, as a kernel's weights do across calls),
// each read's XOR compared with a scalar one.
Bandwidth measureReadBandwidth(size_t bytes, int repeat, double minTime,
                               const uint64_t *evict = nullptr) {
  size_t words = bytes / 8;
  uint64_t *buffer =
      static_cast<uint64_t *>(std::aligned_alloc(64, words * sizeof(uint64_t)));
  std::mt19937_64 rng(7);
  uint64_t expected = 0;
  for (size_t i = 0; i < words; ++i)
    expected ^= buffer[i] = rng();
  Bandwidth bw;
  bw.bytes = bytes;
  bool ok = true;
  volatile uint64_t sink = 0;
  Stat st = timeIt([&] {
    uint64_t r = xorBlocks(buffer, words);
    ok &= r == expected;
    sink = sink + r;
  }, repeat, minTime);
  if (evict)
    bw.coldGbs = measureColdRead(buffer, words, expected, evict,
                                 kEvictBytes / 8, ok);
  std::free(buffer);
  bw.verified = ok;
  bw.gbs = double(bytes) / (st.medianMs * 1e-3) / 1e9;
  return bw;
}

struct Peak {
  double gops1 = NAN;   // one thread, G binary ops/s (median)
  double gopsAll = NAN; // --threads threads concurrently (aggregate)
  bool verified = false;
};

// 32 random words shared by all peak loops (each reads its operands here).
const uint64_t *peakSeeds() {
  static uint64_t seeds[32];
  static bool init = false;
  if (!init) {
    std::mt19937_64 rng(12345);
    for (auto &s : seeds) s = rng();
    init = true;
  }
  return seeds;
}

// Expected popcount per outer iteration of avx2PopcountLoop.
uint64_t avx2ExpectedPerOuter() {
  const uint64_t *seeds = peakSeeds();
  uint64_t s = 0;
  for (int i = 0; i < 16; ++i)
    s += uint64_t(__builtin_popcountll(seeds[i] & seeds[16 + i % 4]));
  return s * kAvxInner;
}

// Expected popcount per outer iteration for loops whose chain i ANDs words
// [i*w, (i+1)*w) with words [4*w + i*w, ...), `inner` times.
uint64_t expectedPerOuter(int wordsPerChain, int inner) {
  const uint64_t *seeds = peakSeeds();
  uint64_t s = 0;
  for (int i = 0; i < 4 * wordsPerChain; ++i)
    s += uint64_t(__builtin_popcountll(seeds[i] & seeds[4 * wordsPerChain + i]));
  return s * uint64_t(inner);
}

// Times loop(outer, seeds) (calibrated to ~20 ms a call) on one thread, and
// with threads > 1 also on `threads` threads at once. Every call's result is
// compared with perOuter * outer.
Peak measurePeak(uint64_t (*loop)(uint64_t, const uint64_t *), double bitsPerOuter,
                 uint64_t perOuter, int threads, int repeat, double minTime) {
  const uint64_t *seeds = peakSeeds();
  // Calibrate the outer count so that one call takes about 20 ms.
  uint64_t outer = 1024;
  for (;;) {
    auto t0 = Clock::now();
    loop(outer, seeds);
    double s = secondsSince(t0);
    if (s > 0.01 || outer > (uint64_t(1) << 40)) {
      outer = std::max<uint64_t>(1, uint64_t(double(outer) * 0.02 / std::max(s, 1e-9)));
      break;
    }
    outer *= 4;
  }
  Peak p;
  volatile uint64_t sink = 0;
  bool ok = true;
  Stat st = timeIt([&] {
    uint64_t r = loop(outer, seeds);
    ok &= r == perOuter * outer;
    sink = sink + r;
  }, std::min(repeat, 20), std::min(minTime, 0.3));
  p.verified = ok;
  p.gops1 = bitsPerOuter * double(outer) / (st.medianMs * 1e-3) / 1e9;
  if (threads > 1) {
    // All threads run the same loop concurrently; aggregate ops / wall time.
    std::vector<double> rates;
    for (int rep = 0; rep < 5; ++rep) {
      std::atomic<int> ready{0};
      std::atomic<bool> go{false};
      std::vector<std::thread> pool;
      std::vector<uint64_t> res(threads);
      for (int t = 0; t < threads; ++t)
        pool.emplace_back([&, t] {
          ready.fetch_add(1);
          while (!go.load()) {
          }
          res[t] = loop(outer, seeds);
        });
      while (ready.load() < threads) {
      }
      auto t0 = Clock::now();
      go.store(true);
      for (auto &th : pool) th.join();
      double s = secondsSince(t0);
      for (auto r : res) p.verified &= r == perOuter * outer;
      rates.push_back(bitsPerOuter * double(outer) * threads / s / 1e9);
    }
    std::sort(rates.begin(), rates.end());
    p.gopsAll = rates[rates.size() / 2];
  }
  return p;
}

// The time for a cache line to go from one thread to another and back (two
// threads passing a counter, median of 5 runs of 100000 round trips), in ns:
// what every fork, barrier and join of a parallel kernel pays, and what a
// thread pays for each line the other one wrote. The threads are not
// pinned, like OpenMP's by default; two vCPUs of a virtual machine may be
// near (a shared L3) or far apart, and that can change from one minute to
// the next.
double measureRoundTripNs() {
  constexpr int kTrips = 100000;
  std::vector<double> runs;
  for (int rep = 0; rep < 5; ++rep) {
    alignas(64) std::atomic<int> flag{0};
    std::thread other([&] {
      for (int i = 0; i < kTrips; ++i) {
        while (flag.load(std::memory_order_acquire) != 2 * i + 1) {
        }
        flag.store(2 * i + 2, std::memory_order_release);
      }
    });
    auto t0 = Clock::now();
    for (int i = 0; i < kTrips; ++i) {
      flag.store(2 * i + 1, std::memory_order_release);
      while (flag.load(std::memory_order_acquire) != 2 * i + 2) {
      }
    }
    double s = secondsSince(t0);
    other.join();
    runs.push_back(s / kTrips * 1e9);
  }
  std::sort(runs.begin(), runs.end());
  return runs[runs.size() / 2];
}

//===----------------------------------------------------------------------===//
// oneDNN
//===----------------------------------------------------------------------===//

// libdnnl on Debian is built with DNNL_CPU_RUNTIME=OMP (libgomp). libgomp reads
// OMP_NUM_THREADS when it is loaded, before main, so the thread count is set
// through omp_set_num_threads, looked up at run time (no -fopenmp needed).
struct OmpInfo {
  bool present = false;
  int maxThreads = -1;
};
OmpInfo setOmpThreads(int n) {
  OmpInfo info;
  using SetFn = void (*)(int);
  using GetFn = int (*)();
  auto set = reinterpret_cast<SetFn>(dlsym(RTLD_DEFAULT, "omp_set_num_threads"));
  auto get = reinterpret_cast<GetFn>(dlsym(RTLD_DEFAULT, "omp_get_max_threads"));
  if (set) {
    set(n);
    info.present = true;
  }
  if (get) info.maxThreads = get();
  return info;
}

struct DnnlResult {
  Stat stat;
  std::string impl;
  std::string error;
};

#if BITSERIAL_HAVE_DNNL
using namespace dnnl;

bool parseIsa(const std::string &n, cpu_isa &isa) {
  static const std::pair<const char *, cpu_isa> names[] = {
      {"sse41", cpu_isa::sse41}, {"avx", cpu_isa::avx}, {"avx2", cpu_isa::avx2},
      {"avx2_vnni", cpu_isa::avx2_vnni}, {"avx512_core", cpu_isa::avx512_core},
      {"avx512_core_vnni", cpu_isa::avx512_core_vnni},
      {"avx512_core_bf16", cpu_isa::avx512_core_bf16},
      {"avx512_core_amx", cpu_isa::avx512_core_amx}, {"all", cpu_isa::all}};
  for (auto &p : names)
    if (strcasecmp(n.c_str(), p.first) == 0) {
      isa = p.second;
      return true;
    }
  return false;
}

const char *isaName(cpu_isa isa) {
  switch (isa) {
  case cpu_isa::sse41: return "sse41";
  case cpu_isa::avx: return "avx";
  case cpu_isa::avx2: return "avx2";
  case cpu_isa::avx2_vnni: return "avx2_vnni";
  case cpu_isa::avx512_core: return "avx512_core";
  case cpu_isa::avx512_core_vnni: return "avx512_core_vnni";
  case cpu_isa::avx512_core_bf16: return "avx512_core_bf16";
  case cpu_isa::avx512_core_amx: return "avx512_core_amx";
  default: return "other";
  }
}

std::string dnnlVersion() {
  const version_t *v = version();
  char buf[64];
  std::snprintf(buf, sizeof buf, "%d.%d.%d", v->major, v->minor, v->patch);
  return buf;
}

const char *dnnlRuntime() {
#if DNNL_CPU_THREADING_RUNTIME == DNNL_RUNTIME_OMP
  return "OMP";
#elif DNNL_CPU_THREADING_RUNTIME == DNNL_RUNTIME_TBB
  return "TBB";
#elif DNNL_CPU_THREADING_RUNTIME == DNNL_RUNTIME_SEQ
  return "SEQ";
#elif DNNL_CPU_THREADING_RUNTIME == DNNL_RUNTIME_THREADPOOL
  return "THREADPOOL";
#else
  return "other";
#endif
}

// One convolution: builds the primitive (weights: format_tag::any), reorders
// the user weights (OHWI) into the chosen layout, optionally times execute()
// and returns the NHWC output. All reorders are outside the timed region.
struct DnnlConv {
  engine eng{engine::kind::cpu, 0};
  stream strm{eng};

  template <typename TA, typename TW, typename TD>
  DnnlResult run(const Layer &L, memory::data_type adt, memory::data_type wdt,
                 memory::data_type ddt, const TA *src, const TW *wei,
                 std::vector<TD> *outCopy, bool time, int repeat, double minTime) {
    DnnlResult r;
    try {
      using tag = memory::format_tag;
      memory::dims srcDims = {1, L.Cin, L.H, L.W};
      memory::dims weiDims = {L.Cout, L.Cin, L.KH, L.KW};
      memory::dims dstDims = {1, L.Cout, L.OH(), L.OW()};
      memory::dims strides = {L.stride, L.stride};
      memory::dims padL = {L.pad, L.pad};
      // Right padding so that the output size is exactly OH x OW.
      memory::dims padR = {
          (L.OH() - 1) * L.stride + L.KH - L.H - L.pad,
          (L.OW() - 1) * L.stride + L.KW - L.W - L.pad};
      memory::desc srcMd(srcDims, adt, tag::nhwc);
      memory::desc weiAny(weiDims, wdt, tag::any);
      memory::desc dstMd(dstDims, ddt, tag::nhwc);
#if DNNL_VERSION_MAJOR >= 3
      convolution_forward::primitive_desc pd(
          eng, prop_kind::forward_inference, algorithm::convolution_direct,
          srcMd, weiAny, dstMd, strides, padL, padR);
#else
      convolution_forward::desc d(prop_kind::forward_inference,
                                  algorithm::convolution_direct, srcMd, weiAny,
                                  dstMd, strides, padL, padR);
      convolution_forward::primitive_desc pd(d, eng);
#endif
      r.impl = pd.impl_info_str();
      if (pd.src_desc() != srcMd || pd.dst_desc() != dstMd)
        throw std::runtime_error("primitive did not keep NHWC src/dst");
      memory srcMem(srcMd, eng, const_cast<TA *>(src));
      memory userWei({weiDims, wdt, tag::ohwi}, eng, const_cast<TW *>(wei));
      memory weiMem(pd.weights_desc(), eng);
      reorder(userWei, weiMem).execute(strm, userWei, weiMem);
      strm.wait();
      memory dstMem(dstMd, eng);
      convolution_forward conv(pd);
      std::unordered_map<int, memory> args = {
          {DNNL_ARG_SRC, srcMem}, {DNNL_ARG_WEIGHTS, weiMem}, {DNNL_ARG_DST, dstMem}};
      conv.execute(strm, args);
      strm.wait();
      if (outCopy) {
        const TD *p = static_cast<const TD *>(dstMem.get_data_handle());
        outCopy->assign(p, p + size_t(L.OH()) * L.OW() * L.Cout);
      }
      if (time)
        r.stat = timeIt([&] {
          conv.execute(strm, args);
          strm.wait();
        }, repeat, minTime);
    } catch (const std::exception &e) {
      r.error = e.what();
    }
    return r;
  }
};

// A whole ResNet-18 (batch 1, activations NHWC, weights format_tag::any,
// reordered when the network is built): stem 7x7/2 + ReLU, max pool 3x3/2,
// 8 BasicBlocks (3x3 conv + ReLU, 3x3 conv with the shortcut added by a sum
// post-op + ReLU, 1x1/2 downsample convs), global average pool, fully
// connected 512 -> 1000 with f32 output. int8: u8 activations, s8 weights,
// output scales to u8 (what an int8 deployment runs); fp32: all f32. One call
// executes every primitive in order and waits for the stream.
struct DnnlNet {
  engine eng{engine::kind::cpu, 0};
  stream strm{eng};
  bool int8;
  memory::data_type act;
  std::vector<primitive> prims;
  std::vector<std::unordered_map<int, memory>> args;
  std::vector<std::string> impls;
  std::vector<std::string> labels; // per primitive: stem, pool, block N, head
  std::string label = "stem";
  uint64_t seed = 77;

  explicit DnnlNet(bool int8)
      : int8(int8), act(int8 ? memory::data_type::u8 : memory::data_type::f32) {}

  memory::desc actMd(int c, int h, int w) {
    return memory::desc({1, c, h, w}, act, memory::format_tag::nhwc);
  }

  // Weights OHWI from random values, reordered into the primitive's layout.
  memory weights(const memory::desc &want, memory::dims dims) {
    size_t n = 1;
    for (auto d : dims) n *= size_t(d);
    memory::data_type wdt = int8 ? memory::data_type::s8 : memory::data_type::f32;
    memory::format_tag userTag =
        dims.size() == 4 ? memory::format_tag::ohwi : memory::format_tag::oi;
    memory user({dims, wdt, userTag}, eng);
    if (int8) {
      auto v = randomInts<int8_t>(n, -64, 63, seed++);
      std::memcpy(user.get_data_handle(), v.data(), n);
    } else {
      auto v = randomInts<float>(n, -1, 1, seed++);
      std::memcpy(user.get_data_handle(), v.data(), n * sizeof(float));
    }
    memory w(want, eng);
    reorder(user, w).execute(strm, user, w);
    strm.wait();
    return w;
  }

  void add(primitive p, std::unordered_map<int, memory> a, const std::string &impl) {
    prims.push_back(p);
    args.push_back(std::move(a));
    labels.push_back(label);
    if (std::find(impls.begin(), impls.end(), impl) == impls.end()) impls.push_back(impl);
  }

  // dst = [relu](conv(src) [+ dst]) when sumInto is given (in place).
  memory conv(memory src, int c, int h, int w, int co, int k, int s, int p, bool relu,
              memory *sumInto = nullptr) {
    int oh = (h + 2 * p - k) / s + 1, ow = (w + 2 * p - k) / s + 1;
    memory::dims padR = {(oh - 1) * s + k - h - p, (ow - 1) * s + k - w - p};
    memory::desc dstMd = actMd(co, oh, ow);
    memory::desc weiAny({co, c, k, k}, int8 ? memory::data_type::s8 : memory::data_type::f32,
                        memory::format_tag::any);
    convolution_forward::desc d(prop_kind::forward_inference, algorithm::convolution_direct,
                                actMd(c, h, w), weiAny, dstMd, {s, s}, {p, p}, padR);
    primitive_attr attr;
    if (int8) attr.set_output_scales(0, {1.0f / 256});
    post_ops po;
    if (sumInto) po.append_sum(1.0f);
    if (relu) po.append_eltwise(1.0f, algorithm::eltwise_relu, 0.0f, 0.0f);
    attr.set_post_ops(po);
    convolution_forward::primitive_desc pd(d, attr, eng);
    memory wei = weights(pd.weights_desc(), {co, c, k, k}); // logical OIHW, stored OHWI
    memory dst = sumInto ? *sumInto : memory(dstMd, eng);
    add(convolution_forward(pd), {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, wei},
                                  {DNNL_ARG_DST, dst}}, pd.impl_info_str());
    return dst;
  }

  memory pool(memory src, int c, int h, int w, algorithm alg, int k, int s, int p) {
    int oh = (h + 2 * p - k) / s + 1, ow = (w + 2 * p - k) / s + 1;
    memory::dims padR = {(oh - 1) * s + k - h - p, (ow - 1) * s + k - w - p};
    memory::desc dstMd = actMd(c, oh, ow);
    pooling_forward::desc d(prop_kind::forward_inference, alg, actMd(c, h, w), dstMd, {s, s},
                            {k, k}, {p, p}, padR);
    pooling_forward::primitive_desc pd(d, eng);
    memory dst(dstMd, eng);
    add(pooling_forward(pd), {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}}, pd.impl_info_str());
    return dst;
  }

  memory fc(memory src, int c, int n) {
    memory::desc srcMd({1, c}, act, memory::format_tag::nc);
    memory::desc weiAny({n, c}, int8 ? memory::data_type::s8 : memory::data_type::f32,
                        memory::format_tag::any);
    memory::desc dstMd({1, n}, memory::data_type::f32, memory::format_tag::nc);
    inner_product_forward::desc d(prop_kind::forward_inference, srcMd, weiAny, dstMd);
    primitive_attr attr;
    if (int8) attr.set_output_scales(0, {1.0f / 256});
    inner_product_forward::primitive_desc pd(d, attr, eng);
    memory wei = weights(pd.weights_desc(), {n, c});
    memory flat(srcMd, eng, src.get_data_handle()); // [1, c, 1, 1] NHWC is [1, c]
    memory dst(dstMd, eng);
    add(inner_product_forward(pd), {{DNNL_ARG_SRC, flat}, {DNNL_ARG_WEIGHTS, wei},
                                    {DNNL_ARG_DST, dst}}, pd.impl_info_str());
    return dst;
  }

  // Builds the network on a random image of r x r x 3.
  memory input;
  void build(int r) {
    input = memory(actMd(3, r, r), eng);
    size_t n = size_t(r) * r * 3;
    if (int8) {
      auto v = randomInts<uint8_t>(n, 0, 255, 5);
      std::memcpy(input.get_data_handle(), v.data(), n);
    } else {
      auto v = randomInts<float>(n, 0, 255, 5);
      std::memcpy(input.get_data_handle(), v.data(), n * sizeof(float));
    }
    int h = r, c = 64;
    memory x = conv(input, 3, h, h, 64, 7, 2, 3, true);
    h = (h + 6 - 7) / 2 + 1;
    label = "max pool";
    x = pool(x, 64, h, h, algorithm::pooling_max, 3, 2, 1);
    h = (h + 2 - 3) / 2 + 1;
    for (int stage = 0; stage < 4; ++stage) {
      int co = 64 << stage;
      for (int block = 0; block < 2; ++block) {
        label = "blocks";
        int s = (stage > 0 && block == 0) ? 2 : 1;
        int oh = (h + 2 - 3) / s + 1;
        memory shortcut = x;
        if (s != 1 || co != c) shortcut = conv(x, c, h, h, co, 1, s, 0, false);
        memory y = conv(x, c, h, h, co, 3, s, 1, true);
        x = conv(y, co, oh, oh, co, 3, 1, 1, true, &shortcut);
        h = oh, c = co;
      }
    }
    label = "average pool + fc";
    x = pool(x, c, h, h, algorithm::pooling_avg_exclude_padding, h, 1, 0);
    fc(x, c, 1000);
  }

  void run() {
    for (size_t i = 0; i < prims.size(); ++i) prims[i].execute(strm, args[i]);
    strm.wait();
  }
};

int runNetwork(const Options &opt) {
  int failed = 0;
  for (bool int8 : {true, false}) {
    const char *what = int8 ? "int8" : "fp32";
    try {
      DnnlNet net(int8);
      net.build(opt.resolution);
      Stat st = timeIt([&] { net.run(); }, opt.repeat, opt.minTime);
      std::string impls;
      for (auto &i : net.impls) impls += (impls.empty() ? "" : ", ") + i;
      std::printf("network resnet18 %dx%d %s: median %.3f ms, min %.3f ms, %d calls "
                  "(%zu primitives: %s)\n", opt.resolution, opt.resolution, what,
                  st.medianMs, st.minMs, st.reps, net.prims.size(), impls.c_str());
      // Each primitive alone (the same arguments), summed per part.
      std::vector<std::pair<std::string, Stat>> parts;
      for (size_t i = 0; i < net.prims.size(); ++i) {
        Stat one = timeIt([&] {
          net.prims[i].execute(net.strm, net.args[i]);
          net.strm.wait();
        }, opt.repeat, opt.minTime / 4);
        if (parts.empty() || parts.back().first != net.labels[i])
          parts.push_back({net.labels[i], Stat{0, 0, 0, 0}});
        parts.back().second.medianMs += one.medianMs;
        parts.back().second.minMs += one.minMs;
      }
      for (auto &p : parts)
        std::printf("  part %s %s: median %.3f ms, min %.3f ms\n", what, p.first.c_str(),
                    p.second.medianMs, p.second.minMs);
    } catch (const std::exception &e) {
      std::printf("network resnet18 %s: ERROR %s\n", what, e.what());
      failed = 1;
    }
  }
  return failed;
}
#endif // BITSERIAL_HAVE_DNNL

//===----------------------------------------------------------------------===//
// Output helpers
//===----------------------------------------------------------------------===//

std::string fmtMs(double ms) {
  if (std::isnan(ms)) return "n/a";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", ms);
  return buf;
}

std::string jsonNum(double v) {
  if (std::isnan(v)) return "null";
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

std::string jsonStr(const std::string &s) {
  std::string o = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') o += '\\', o += c;
    else if ((unsigned char)c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      o += buf;
    } else o += c;
  }
  return o + "\"";
}

std::string loadAvg() {
  std::FILE *f = std::fopen("/proc/loadavg", "r");
  if (!f) return "?";
  char buf[128] = {0};
  if (!std::fgets(buf, sizeof buf, f)) buf[0] = 0;
  std::fclose(f);
  std::string r(buf);
  // first three fields: 1, 5, 15 minute load averages
  size_t pos = 0;
  for (int i = 0; i < 3 && pos != std::string::npos; ++i) pos = r.find(' ', pos + 1);
  return r.substr(0, pos);
}

#if defined(__clang__)
const char *kCompilerPrefix = "";
#else
const char *kCompilerPrefix = "GCC ";
#endif

struct LayerResult {
  const Layer *layer;
  // i8Low: the int8 convolution on 2-bit-range data (u8 in [0, 3], s8 in
  // [-2, 1]); AMX's speed depends on the values.
  DnnlResult i8, i8Low, f32;
  Stat i16;
};

} // namespace

int main(int argc, char **argv) {
  Options opt = parseArgs(argc, argv);
#if BITSERIAL_HAVE_DNNL
  if (!opt.dnnlMaxIsa.empty()) {
    // Must happen before oneDNN generates any code.
    cpu_isa isa;
    if (!parseIsa(opt.dnnlMaxIsa, isa)) {
      std::fprintf(stderr, "bitserial-baselines: error: unknown --onednn-max-isa '%s'\n",
                   opt.dnnlMaxIsa.c_str());
      return 1;
    }
    try {
      set_max_cpu_isa(isa);
    } catch (const std::exception &e) {
      std::fprintf(stderr, "bitserial-baselines: error: set_max_cpu_isa: %s\n", e.what());
      return 1;
    }
  }
#else
  if (!opt.dnnlMaxIsa.empty())
    std::fprintf(stderr, "bitserial-baselines: warning: --onednn-max-isa ignored (built without oneDNN)\n");
#endif
  OmpInfo omp = setOmpThreads(opt.threads);
  auto wall0 = Clock::now();
  std::string load0 = loadAvg();
  unsigned ncpu = std::thread::hardware_concurrency();

  std::printf("bitserial-baselines: threads=%d, min repetitions=%d, min time=%.2f s, "
              "median of single calls\n", opt.threads, opt.repeat, opt.minTime);
  std::printf("compiler: %s%s; %u CPUs, load average at start %s\n", kCompilerPrefix, __VERSION__, ncpu,
              load0.c_str());
#if BITSERIAL_HAVE_DNNL
  std::string dnnlVer = dnnlVersion();
  std::string dnnlIsa = isaName(get_effective_cpu_isa());
  std::printf("oneDNN %s, CPU runtime %s (omp_get_max_threads=%d), effective ISA %s\n",
              dnnlVer.c_str(), dnnlRuntime(), omp.maxThreads, dnnlIsa.c_str());
  DnnlConv dnnlConv;
#else
  std::printf("oneDNN: NOT AVAILABLE at build time -- oneDNN rows are n/a\n");
#endif
  if (!opt.runDnnl) std::printf("oneDNN: skipped (--skip onednn)\n");
  if (!opt.network.empty()) {
#if BITSERIAL_HAVE_DNNL
    int rc = runNetwork(opt);
    std::printf("load average at end %s\n", loadAvg().c_str());
    return rc;
#else
    std::fprintf(stderr, "bitserial-baselines: error: --network needs oneDNN\n");
    return 1;
#endif
  }

  bool checkFailed = false, fullRangeMismatch = false;
  std::vector<std::string> checkLines;
  std::vector<LayerResult> results;
  for (int li : opt.layers) {
    const Layer &L = kLayers[li];
    LayerResult R;
    R.layer = &L;
    size_t srcN = size_t(L.H) * L.W * L.Cin;
    size_t weiN = size_t(L.Cout) * L.KH * L.KW * L.Cin;
    uint64_t seed = 1000 + li;
    std::fflush(stdout);

#if BITSERIAL_HAVE_DNNL
    if (opt.runDnnl) {
      // int8: full u8 / s8 range.
      auto a8 = randomInts<uint8_t>(srcN, 0, 255, seed);
      auto w8 = randomInts<int8_t>(weiN, -128, 127, seed + 7);
      std::vector<int32_t> out8;
      R.i8 = dnnlConv.run<uint8_t, int8_t, int32_t>(
          L, memory::data_type::u8, memory::data_type::s8, memory::data_type::s32,
          a8.data(), w8.data(), opt.check ? &out8 : nullptr, true, opt.repeat,
          opt.minTime);
      auto aLow = randomInts<uint8_t>(srcN, 0, 3, seed + 19);
      auto wLow = randomInts<int8_t>(weiN, -2, 1, seed + 23);
      R.i8Low = dnnlConv.run<uint8_t, int8_t, int32_t>(
          L, memory::data_type::u8, memory::data_type::s8, memory::data_type::s32,
          aLow.data(), wLow.data(), nullptr, true, opt.repeat, opt.minTime);
      if (opt.check && R.i8.error.empty()) {
        auto ref = naiveConv<int32_t>(L, a8.data(), w8.data());
        size_t bad = mismatches(ref, out8);
        // Same shapes with 7-bit weights ([-64, 63]): no u8*s8 pair sum can
        // exceed int16, so this isolates intermediate saturation.
        auto w7 = randomInts<int8_t>(weiN, -64, 63, seed + 11);
        std::vector<int32_t> out7;
        auto r7 = dnnlConv.run<uint8_t, int8_t, int32_t>(
            L, memory::data_type::u8, memory::data_type::s8, memory::data_type::s32,
            a8.data(), w7.data(), &out7, false, 0, 0);
        size_t bad7 = mismatches(naiveConv<int32_t>(L, a8.data(), w7.data()), out7);
        // Low-bit operands as used by bit-serial A2W2: u2 x s2.
        auto a2 = randomInts<uint8_t>(srcN, 0, 3, seed + 13);
        auto w2 = randomInts<int8_t>(weiN, -2, 1, seed + 17);
        std::vector<int32_t> out2;
        auto r2 = dnnlConv.run<uint8_t, int8_t, int32_t>(
            L, memory::data_type::u8, memory::data_type::s8, memory::data_type::s32,
            a2.data(), w2.data(), &out2, false, 0, 0);
        size_t bad2 = mismatches(naiveConv<int32_t>(L, a2.data(), w2.data()), out2);
        char buf[320];
        std::snprintf(buf, sizeof buf,
                      "check %-3s int8: %zu outputs; mismatches: full-range u8 x s8 %zu, "
                      "u8 x s7 %zu, u2 x s2 %zu",
                      L.name, ref.size(), bad, bad7, bad2);
        checkLines.push_back(buf);
        if (bad7 || bad2 || !r7.error.empty() || !r2.error.empty()) checkFailed = true;
        if (bad) fullRangeMismatch = true;
      }
      // fp32: integer-valued data so the reference is exact-ish.
      auto af = randomInts<float>(srcN, 0, 255, seed + 3);
      auto wf = randomInts<float>(weiN, -128, 127, seed + 5);
      std::vector<float> outf;
      R.f32 = dnnlConv.run<float, float, float>(
          L, memory::data_type::f32, memory::data_type::f32, memory::data_type::f32,
          af.data(), wf.data(), opt.check ? &outf : nullptr, true, opt.repeat,
          opt.minTime);
      if (opt.check && R.f32.error.empty()) {
        auto ref = naiveConv<double>(L, af.data(), wf.data());
        double maxRel = 0;
        for (size_t i = 0; i < ref.size(); ++i) {
          // Scale: |sum| <= K * 255 * 128.
          double scale = double(L.K()) * 255 * 128;
          maxRel = std::max(maxRel, std::fabs(ref[i] - outf[i]) / scale);
        }
        char buf[200];
        std::snprintf(buf, sizeof buf,
                      "check %-3s fp32: max |err| / (K*255*128) = %.2e", L.name, maxRel);
        checkLines.push_back(buf);
        if (maxRel > 1e-6) checkFailed = true;
      }
    }
#endif

    if (opt.runInt16) {
      auto a16 = randomInts<int16_t>(srcN, -128, 127, seed + 19);
      auto w16 = randomInts<int16_t>(weiN, -128, 127, seed + 23);
      auto A = im2col(L, a16.data());
      int64_t M = L.M(), N = L.N(), K = L.K();
      std::vector<int16_t> B(size_t(K) * N); // B[k][n] = w[n][k]
      for (int64_t n = 0; n < N; ++n)
        for (int64_t k = 0; k < K; ++k) B[size_t(k) * N + n] = w16[size_t(n) * K + k];
      std::vector<int32_t> C(size_t(M) * N);
      R.i16 = timeIt([&] { gemmInt16(A.data(), B.data(), C.data(), M, N, K, opt.threads); },
                     opt.repeat, opt.minTime);
      if (opt.check) {
        auto ref = naiveConv<int32_t>(L, a16.data(), w16.data());
        size_t bad = 0;
        for (size_t i = 0; i < ref.size(); ++i) bad += ref[i] != C[i];
        char buf[160];
        std::snprintf(buf, sizeof buf, "check %-3s int16 GEMM: %zu outputs, %zu mismatches",
                      L.name, ref.size(), bad);
        checkLines.push_back(buf);
        if (bad) checkFailed = true;
      }
    }
    results.push_back(R);
  }

  Peak avx, split, scalar, zmm, harleySeal, lookup, wideLookup, permuteLookup;
  double roundTripNs = opt.threads > 1 ? measureRoundTripNs() : NAN;
  // The packed weights of a 4096 x 4096 matmul at 1 and 2 bits, and a
  // buffer far larger than the caches (memory).
  std::vector<Bandwidth> bandwidths;
  if (opt.runPeak) {
    // The weights' sizes are also read from memory (cold), after passes
    // over a buffer of the memory one's size.
    std::vector<uint64_t> evict(kEvictBytes / 8);
    for (size_t i = 0; i < evict.size(); ++i)
      evict[i] = i;
    for (size_t bytes : {size_t(2) << 20, size_t(4) << 20})
      bandwidths.push_back(
          measureReadBandwidth(bytes, opt.repeat, opt.minTime, evict.data()));
    evict = {};
    bandwidths.push_back(
        measureReadBandwidth(kEvictBytes, opt.repeat, opt.minTime));
    avx = measurePeak(avx2PopcountLoop, kAvxBitsPerOuter, avx2ExpectedPerOuter(),
                      opt.threads, opt.repeat, opt.minTime);
    split = measurePeak(avx2SplitNibblePopcountLoop, kAvxBitsPerOuter,
                        avx2ExpectedPerOuter(), opt.threads, opt.repeat,
                        opt.minTime);
    scalar = measurePeak(scalarPopcountLoop, kScalarBitsPerOuter,
                         expectedPerOuter(1, kScalarInner), opt.threads, opt.repeat,
                         opt.minTime);
    lookup = measurePeak(avx2TableLookupLoop, kTableBitsPerOuter,
                         tableLookupExpectedPerOuter(), 1, opt.repeat, opt.minTime);
    if (__builtin_cpu_supports("avx512vpopcntdq")) {
      zmm = measurePeak(avx512PopcountLoop, kZmmBitsPerOuter, avx512ExpectedPerOuter(),
                        opt.threads, opt.repeat, opt.minTime);
      harleySeal = measurePeak(avx512HarleySealLoop, kZmmBitsPerOuter,
                               avx512ExpectedPerOuter(), 1, opt.repeat,
                               opt.minTime);
    }
    // Both lookup loops are compiled for AVX512BW and VBMI (one template).
    if (__builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vbmi")) {
      wideLookup = measurePeak(
          avx512TableLookupLoop<false>, 2 * kTableBitsPerOuter,
          wideTableLookupExpectedPerOuter<false>(), 1, opt.repeat, opt.minTime);
      // 3 multiply-accumulates of 2 x 2 bits per byte lane: 12 binary ops,
      // against the 8 of a 2 x 1-bit vpshufb lookup.
      permuteLookup = measurePeak(
          avx512TableLookupLoop<true>, 3 * kTableBitsPerOuter,
          wideTableLookupExpectedPerOuter<true>(), 1, opt.repeat, opt.minTime);
    }
  }

  // ---- Table ----
  bool all = (int)opt.layers.size() == kNumLayers;
  std::printf("\n%-6s %-24s %12s %12s %12s\n", "layer", "shape", "dnnl_i8_ms",
              "dnnl_f32_ms", "int16_ms");
  double s8 = 0, sf = 0, s16 = 0;
  bool n8 = false, nf = false, n16 = false;
  for (auto &R : results) {
    std::printf("%-6s %-24s %12s %12s %12s\n", R.layer->name, R.layer->shape().c_str(),
                fmtMs(R.i8.stat.medianMs).c_str(), fmtMs(R.f32.stat.medianMs).c_str(),
                fmtMs(R.i16.medianMs).c_str());
    s8 += R.i8.stat.medianMs, n8 |= std::isnan(R.i8.stat.medianMs);
    sf += R.f32.stat.medianMs, nf |= std::isnan(R.f32.stat.medianMs);
    s16 += R.i16.medianMs, n16 |= std::isnan(R.i16.medianMs);
  }
  if (n8) s8 = NAN;
  if (nf) sf = NAN;
  if (n16) s16 = NAN;
  std::string sumLabel = all ? "sum C2-C12" : "sum (selected layers)";
  std::printf("%-31s %12s %12s %12s\n", sumLabel.c_str(), fmtMs(s8).c_str(),
              fmtMs(sf).c_str(), fmtMs(s16).c_str());
  if (opt.runPeak) {
    std::printf("\nAND+popcount peak (1 binary op = 1 AND'ed bit pair counted), 1 thread: "
                "AVX2 vpshufb %.1f G binary ops/s, on split nibbles %.1f G binary ops/s, "
                "scalar popcnt64 %.1f G binary ops/s%s\n",
                avx.gops1, split.gops1, scalar.gops1,
                avx.verified && split.verified && scalar.verified
                    ? "" : "  [RESULT CHECK FAILED]");
    std::printf("table lookups instead (vpshufb in tables of 4 activations, indexed by "
                "weight bits; 2 x 1 bits, loads from L1, widening included), 1 thread: "
                "%.1f G binary ops/s%s\n",
                lookup.gops1, lookup.verified ? "" : "  [RESULT CHECK FAILED]");
    if (opt.threads > 1)
      std::printf("AND+popcount peak, %d threads aggregate: AVX2 vpshufb %.1f G/s, "
                  "scalar popcnt64 %.1f G/s\n",
                  opt.threads, avx.gopsAll, scalar.gopsAll);
    if (!std::isnan(zmm.gops1))
      std::printf("extra (this CPU has AVX512_VPOPCNTDQ): 512-bit vpandq+vpopcntq %.1f G binary "
                  "ops/s, 1 thread%s%s\n", zmm.gops1,
                  opt.threads > 1 ? (", " + jsonNum(zmm.gopsAll) + " G/s all threads").c_str() : "",
                  zmm.verified ? "" : "  [RESULT CHECK FAILED]");
    for (const Bandwidth &bw : bandwidths) {
      std::printf("read bandwidth, 1 thread, %zu MiB buffer read repeatedly: %.1f GB/s",
                  bw.bytes >> 20, bw.gbs);
      if (!std::isnan(bw.coldGbs))
        std::printf("; from memory (after 2 passes over %zu MiB): %.1f GB/s",
                    kEvictBytes >> 20, bw.coldGbs);
      std::printf("%s\n", bw.verified ? "" : "  [RESULT CHECK FAILED]");
    }
    if (!std::isnan(harleySeal.gops1))
      std::printf("extra: the same words counted by Harley-Seal carry-save adders "
                  "(vpternlogq, one vpopcntq per 16 words) %.1f G binary ops/s, "
                  "1 thread%s\n", harleySeal.gops1,
                  harleySeal.verified ? "" : "  [RESULT CHECK FAILED]");
    if (!std::isnan(wideLookup.gops1))
      std::printf(
          "extra: the table lookups on 512-bit registers (64 channels per "
          "vpshufb) %.1f G binary ops/s, 1 thread%s\n",
          wideLookup.gops1,
          wideLookup.verified ? "" : "  [RESULT CHECK FAILED]");
    if (!std::isnan(permuteLookup.gops1))
      std::printf(
          "extra: vpermb lookups in 64-entry tables of 3 activations indexed "
          "by 3 "
          "2-bit weights (2 x 2 bits) %.1f G binary ops/s, 1 thread%s\n",
          permuteLookup.gops1,
          permuteLookup.verified ? "" : "  [RESULT CHECK FAILED]");
  }
  // oneDNN implementations, grouped: "impl (C2,C4,...)".
  auto printImpls = [&](const char *what, DnnlResult LayerResult::*field) {
    std::vector<std::pair<std::string, std::string>> groups; // impl -> layers
    for (auto &R : results) {
      const DnnlResult &d = R.*field;
      if (d.impl.empty() && d.error.empty()) continue;
      std::string key = d.error.empty() ? d.impl : "ERROR: " + d.error;
      auto it = std::find_if(groups.begin(), groups.end(),
                             [&](auto &g) { return g.first == key; });
      if (it == groups.end()) groups.push_back({key, R.layer->name});
      else it->second += std::string(",") + R.layer->name;
    }
    if (groups.empty()) return;
    std::printf("oneDNN %s implementation:", what);
    for (size_t i = 0; i < groups.size(); ++i)
      std::printf("%s %s (%s)", i ? ";" : "", groups[i].first.c_str(), groups[i].second.c_str());
    std::printf("\n");
  };
  printImpls("int8", &LayerResult::i8);
  printImpls("fp32", &LayerResult::f32);
  for (auto &l : checkLines) std::printf("%s\n", l.c_str());
  if (fullRangeMismatch)
    std::printf("NOTE: oneDNN int8 is not exact for full-range u8 x s8 on this ISA (u8*s8 pair sums "
                "saturate to int16, vpmaddubsw without VNNI); it is exact when |weights| <= 64 or "
                "for <= 7-bit operands, which covers every bit-serial comparison (1-2 bit).\n");
  if (opt.check) std::printf("check: %s\n", checkFailed ? "FAILED" : "ok");
  if (!std::isnan(roundTripNs))
    std::printf("a cache line's round trip between two threads: %.0f ns\n",
                roundTripNs);
  std::string load1 = loadAvg();
  std::printf("load average at end %s%s; total wall time %.1f s\n", load1.c_str(),
              std::atof(load1.c_str()) > opt.threads + 0.75 ? " (other work was running: "
                                                              "numbers are noisy)" : "",
              secondsSince(wall0));

  // ---- JSON ----
  if (!opt.jsonPath.empty()) {
    std::FILE *f = std::fopen(opt.jsonPath.c_str(), "w");
    if (!f) {
      std::fprintf(stderr, "bitserial-baselines: error: cannot write '%s'\n",
                   opt.jsonPath.c_str());
      return 1;
    }
    std::fprintf(f, "{\n  \"tool\": \"bitserial-baselines\",\n  \"threads\": %d,\n",
                 opt.threads);
    std::fprintf(f, "  \"compiler\": %s,\n  \"cpus\": %u,\n  \"loadavg_start\": %s,\n"
                    "  \"loadavg_end\": %s,\n",
                 jsonStr(std::string(kCompilerPrefix) + __VERSION__).c_str(), ncpu, jsonStr(load0).c_str(),
                 jsonStr(load1).c_str());
#if BITSERIAL_HAVE_DNNL
    std::fprintf(f, "  \"onednn\": {\"available\": %s, \"version\": %s, \"cpu_runtime\": %s, "
                    "\"effective_isa\": %s},\n",
                 opt.runDnnl ? "true" : "false", jsonStr(dnnlVer).c_str(),
                 jsonStr(dnnlRuntime()).c_str(), jsonStr(dnnlIsa).c_str());
#else
    std::fprintf(f, "  \"onednn\": {\"available\": false, \"version\": null, \"cpu_runtime\": null, "
                    "\"effective_isa\": null},\n");
#endif
    std::fprintf(f, "  \"unit\": \"ms (median of single calls)\",\n  \"layers\": [\n");
    for (size_t i = 0; i < results.size(); ++i) {
      auto &R = results[i];
      const Layer &L = *R.layer;
      std::fprintf(f,
                   "    {\"name\": %s, \"H\": %d, \"W\": %d, \"cin\": %d, \"cout\": %d, "
                   "\"kh\": %d, \"kw\": %d, \"stride\": %d, \"pad\": %d, \"oh\": %d, \"ow\": %d, "
                   "\"M\": %lld, \"N\": %lld, \"K\": %lld, \"macs\": %.0f,\n"
                   "     \"onednn_int8_ms\": %s, \"onednn_int8_low_ms\": %s, "
                   "\"onednn_fp32_ms\": %s, \"int16_gemm_ms\": %s,\n"
                   "     \"onednn_int8_min_ms\": %s, \"onednn_fp32_min_ms\": %s, \"int16_gemm_min_ms\": %s,\n"
                   "     \"onednn_int8_reps\": %d, \"onednn_fp32_reps\": %d, \"int16_gemm_reps\": %d,\n"
                   "     \"onednn_int8_impl\": %s, \"onednn_fp32_impl\": %s}%s\n",
                   jsonStr(L.name).c_str(), L.H, L.W, L.Cin, L.Cout, L.KH, L.KW, L.stride,
                   L.pad, L.OH(), L.OW(), (long long)L.M(), (long long)L.N(),
                   (long long)L.K(), L.macs(), jsonNum(R.i8.stat.medianMs).c_str(),
                   jsonNum(R.i8Low.stat.medianMs).c_str(),
                   jsonNum(R.f32.stat.medianMs).c_str(), jsonNum(R.i16.medianMs).c_str(),
                   jsonNum(R.i8.stat.minMs).c_str(), jsonNum(R.f32.stat.minMs).c_str(),
                   jsonNum(R.i16.minMs).c_str(), R.i8.stat.reps, R.f32.stat.reps, R.i16.reps,
                   R.i8.impl.empty() ? "null" : jsonStr(R.i8.impl).c_str(),
                   R.f32.impl.empty() ? "null" : jsonStr(R.f32.impl).c_str(),
                   i + 1 < results.size() ? "," : "");
    }
    std::fprintf(f, "  ],\n  \"sum\": {\"label\": %s, \"all_layers\": %s, \"onednn_int8_ms\": %s, "
                    "\"onednn_fp32_ms\": %s, \"int16_gemm_ms\": %s},\n",
                 jsonStr(sumLabel).c_str(), all ? "true" : "false", jsonNum(s8).c_str(),
                 jsonNum(sf).c_str(), jsonNum(s16).c_str());
    std::fprintf(
        f,
        "  \"popcount_peak\": {\"unit\": \"G binary ops/s\", "
        "\"avx2_vpshufb_1thread\": %s, \"avx2_split_nibbles_1thread\": %s, "
        "\"scalar_popcnt64_1thread\": %s, "
        "\"avx2_vpshufb_all_threads\": %s, \"scalar_popcnt64_all_threads\": "
        "%s, "
        "\"avx512_vpopcntq_1thread\": %s, \"avx512_vpopcntq_all_threads\": %s, "
        "\"avx512_harley_seal_1thread\": %s, "
        "\"avx2_table_lookup_2x1_1thread\": %s, "
        "\"avx512_table_lookup_2x1_1thread\": %s, "
        "\"avx512_vpermb_lookup_2x2_1thread\": %s, \"verified\": %s},\n",
        jsonNum(avx.gops1).c_str(), jsonNum(split.gops1).c_str(),
        jsonNum(scalar.gops1).c_str(), jsonNum(avx.gopsAll).c_str(),
        jsonNum(scalar.gopsAll).c_str(), jsonNum(zmm.gops1).c_str(),
        jsonNum(zmm.gopsAll).c_str(), jsonNum(harleySeal.gops1).c_str(),
        jsonNum(lookup.gops1).c_str(), jsonNum(wideLookup.gops1).c_str(),
        jsonNum(permuteLookup.gops1).c_str(),
        opt.runPeak && avx.verified && split.verified && scalar.verified &&
                lookup.verified && (std::isnan(zmm.gops1) || zmm.verified) &&
                (std::isnan(harleySeal.gops1) || harleySeal.verified) &&
                (std::isnan(wideLookup.gops1) || wideLookup.verified) &&
                (std::isnan(permuteLookup.gops1) || permuteLookup.verified)
            ? "true"
            : "false");
    std::fprintf(f, "  \"read_bandwidth\": {\"unit\": \"GB/s\", \"buffers\": [");
    for (size_t i = 0; i < bandwidths.size(); ++i)
      std::fprintf(f,
                   "%s{\"bytes\": %zu, \"gbs_1thread\": %s, "
                   "\"cold_gbs_1thread\": %s, \"verified\": %s}",
                   i ? ", " : "", bandwidths[i].bytes, jsonNum(bandwidths[i].gbs).c_str(),
                   jsonNum(bandwidths[i].coldGbs).c_str(),
                   bandwidths[i].verified ? "true" : "false");
    std::fprintf(f, "]},\n");
    std::fprintf(f, "  \"round_trip_ns\": %s,\n", jsonNum(roundTripNs).c_str());
    std::fprintf(f, "  \"check\": %s\n}\n",
                 opt.check ? (checkFailed ? "\"failed\"" : "\"ok\"") : "null");
    std::fclose(f);
  }
  return checkFailed ? 2 : 0;
}
