// Harness for the AArch64 cost model (benchmarks/aarch64_model.py), built
// with aarch64-linux-gnu-gcc -static and run under qemu-aarch64.
//
//   harness MODE KIND H W CIN COUT K STRIDE PAD BA BW
//
// MODE "model": one call of the kernel between bench_begin() and
// bench_end() (the window whose translation blocks the model counts), and
// nothing else of note. MODE "check": the same call, then every output is
// compared with plain C loops; prints "ok N" or the first mismatches and
// exits 1. KIND "bitserial" calls _mlir_ciface_kernel on packed unsigned
// operands, "xnor" on packed 1-bit bipolar ones (+-1); "s16" and "s8" call
// the baseline conv_s16 / conv_s8 of aarch64/baselines.c on pre-padded NHWC
// data.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  void *allocated, *aligned;
  int64_t offset, sizes[5], strides[5];
} Desc5;
typedef struct {
  void *allocated, *aligned;
  int64_t offset, sizes[4], strides[4];
} Desc4;

void _mlir_ciface_kernel(Desc4 *result, Desc5 *x, Desc5 *f, Desc4 *init);
void conv_s16(const int16_t *in, const int16_t *w, int32_t *out, int wp, int c,
              int co, int k, int s, int oh, int ow);
void conv_s8(const int8_t *in, const int8_t *w, int32_t *out, int wp, int c,
             int co, int k, int s, int oh, int ow);

// Weak stand-ins so that one harness links with either kind of kernel.
__attribute__((weak)) void _mlir_ciface_kernel(Desc4 *r, Desc5 *x, Desc5 *f,
                                               Desc4 *i) {
  (void)r, (void)x, (void)f, (void)i;
  abort();
}
__attribute__((weak)) void conv_s16(const int16_t *in, const int16_t *w,
                                    int32_t *out, int wp, int c, int co, int k,
                                    int s, int oh, int ow) {
  abort();
}
__attribute__((weak)) void conv_s8(const int8_t *in, const int8_t *w,
                                   int32_t *out, int wp, int c, int co, int k,
                                   int s, int oh, int ow) {
  abort();
}

// memrefCopy of MLIR's C runner utilities (the reference lowering calls it
// for copies it cannot express as loops): a strided copy of any rank.
typedef struct {
  int64_t rank;
  void *descriptor;
} UnrankedMemRef;
typedef struct {
  char *allocated, *aligned;
  int64_t offset, rest[];
} AnyDesc;
static void copyDim(int64_t elem, const AnyDesc *src, const AnyDesc *dst,
                    int64_t rank, int64_t dim, int64_t so, int64_t dO) {
  if (dim == rank) {
    memcpy(dst->aligned + dO * elem, src->aligned + so * elem, elem);
    return;
  }
  for (int64_t i = 0; i < src->rest[dim]; ++i)
    copyDim(elem, src, dst, rank, dim + 1, so + i * src->rest[rank + dim],
            dO + i * dst->rest[rank + dim]);
}
void memrefCopy(int64_t elem, UnrankedMemRef *src, UnrankedMemRef *dst) {
  const AnyDesc *s = src->descriptor, *d = dst->descriptor;
  copyDim(elem, s, d, src->rank, 0, s->offset, d->offset);
}

// The model counts the translation blocks executed between these two calls.
__attribute__((noinline)) void bench_begin(void) { __asm__ volatile(""); }
__attribute__((noinline)) void bench_end(void) { __asm__ volatile(""); }

static uint64_t state = 88172645463325252ull;
static uint64_t next(void) {
  state ^= state << 13;
  state ^= state >> 7;
  state ^= state << 17;
  return state;
}

static void *xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p) {
    fprintf(stderr, "out of memory\n");
    exit(2);
  }
  return p;
}

static void desc5(Desc5 *d, void *p, const int64_t sizes[5]) {
  d->allocated = d->aligned = p;
  d->offset = 0;
  int64_t stride = 1;
  for (int i = 4; i >= 0; --i) {
    d->sizes[i] = sizes[i];
    d->strides[i] = stride;
    stride *= sizes[i];
  }
}

static int report(const int32_t *got, const int32_t *want, int64_t n) {
  int64_t bad = 0;
  for (int64_t i = 0; i < n; ++i)
    if (got[i] != want[i] && bad++ < 5)
      printf("mismatch at %lld: got %d, want %d\n", (long long)i, got[i],
             want[i]);
  if (bad) {
    printf("FAILED %lld of %lld\n", (long long)bad, (long long)n);
    return 1;
  }
  printf("ok %lld\n", (long long)n);
  return 0;
}

static int bitserial(int check, int xnor, int h, int w, int c, int co, int k,
                     int s, int p, int ba, int bw) {
  int oh = (h + 2 * p - k) / s + 1, ow = (w + 2 * p - k) / s + 1;
  int words = (c + 63) / 64;
  int64_t xs[5] = {1, h, w, ba, words}, fs[5] = {co, k, k, bw, words};
  int64_t nx = (int64_t)h * w * ba * words,
          nf = (int64_t)co * k * k * bw * words;
  int64_t no = (int64_t)oh * ow * co;
  uint64_t *x = xmalloc(nx * 8), *f = xmalloc(nf * 8);
  // Random bits; the unused tail of a partial last word stays zero.
  uint64_t tail = c % 64 ? (1ull << (c % 64)) - 1 : ~0ull;
  for (int64_t i = 0; i < nx; ++i)
    x[i] = next() & ((i % words) == words - 1 ? tail : ~0ull);
  for (int64_t i = 0; i < nf; ++i)
    f[i] = next() & ((i % words) == words - 1 ? tail : ~0ull);
  int32_t *init = xmalloc(no * 4), *want = NULL;
  for (int64_t i = 0; i < no; ++i)
    init[i] = (int32_t)(next() % 1000) - 500;
  if (check) {
    want = xmalloc(no * 4);
    memcpy(want, init, no * 4);
  }
  Desc5 dx, df;
  desc5(&dx, x, xs);
  desc5(&df, f, fs);
  Desc4 di = {init,
              init,
              0,
              {1, oh, ow, co},
              {(int64_t)oh * ow * co, (int64_t)ow * co, co, 1}};
  Desc4 dr;
  bench_begin();
  _mlir_ciface_kernel(&dr, &dx, &df, &di);
  bench_end();
  int rc = 0;
  if (check) {
    // Unsigned x unsigned: sum over plane pairs of 2^(i+j) popcount(a & w);
    // bipolar x bipolar (one plane each): C - 2 popcount(a ^ w) per tap;
    // zero outside the image.
    for (int y = 0; y < oh; ++y)
      for (int xo = 0; xo < ow; ++xo)
        for (int o = 0; o < co; ++o) {
          int64_t acc = 0;
          for (int ky = 0; ky < k; ++ky)
            for (int kx = 0; kx < k; ++kx) {
              int iy = y * s + ky - p, ix = xo * s + kx - p;
              if (iy < 0 || iy >= h || ix < 0 || ix >= w)
                continue;
              const uint64_t *a = x + ((int64_t)iy * w + ix) * ba * words;
              const uint64_t *b =
                  f + (((int64_t)o * k + ky) * k + kx) * bw * words;
              if (xnor) {
                acc += c;
                for (int q = 0; q < words; ++q)
                  acc -= 2 * (int64_t)__builtin_popcountll(a[q] ^ b[q]);
                continue;
              }
              for (int i = 0; i < ba; ++i)
                for (int j = 0; j < bw; ++j)
                  for (int q = 0; q < words; ++q)
                    acc += (int64_t)__builtin_popcountll(a[i * words + q] &
                                                         b[j * words + q])
                           << (i + j);
            }
          want[((int64_t)y * ow + xo) * co + o] += (int32_t)acc;
        }
    const int32_t *got = (const int32_t *)dr.aligned + dr.offset;
    if (dr.sizes[0] != 1 || dr.sizes[1] != oh || dr.sizes[2] != ow ||
        dr.sizes[3] != co || dr.strides[3] != 1 || dr.strides[2] != co ||
        dr.strides[1] != (int64_t)ow * co) {
      printf("FAILED: unexpected result descriptor\n");
      return 1;
    }
    rc = report(got, want, no);
    // An FNV-1a hash of the outputs, to compare lowerings with each other.
    uint64_t hash = 1469598103934665603ull;
    for (int64_t i = 0; i < no; ++i) {
      hash ^= (uint32_t)got[i];
      hash *= 1099511628211ull;
    }
    printf("hash %016llx\n", (unsigned long long)hash);
  }
  if (dr.allocated != init)
    free(dr.allocated);
  free(init);
  free(want);
  free(x);
  free(f);
  return rc;
}

// Baselines: activations pre-padded NHWC [H+2p][W+2p][C]; weights in the
// kernel's blocked order (see baselines.c), int8 values in both cases.
static int baseline(int check, int s8, int h, int w, int c, int co, int k,
                    int s, int p) {
  int oh = (h + 2 * p - k) / s + 1, ow = (w + 2 * p - k) / s + 1;
  int hp = h + 2 * p, wp = w + 2 * p;
  int64_t nx = (int64_t)hp * wp * c, nf = (int64_t)co * k * k * c;
  int64_t no = (int64_t)oh * ow * co;
  int8_t *x = xmalloc(nx), *f = xmalloc(nf); // logical [kh][kw][c][co]
  for (int64_t i = 0; i < nx; ++i) {
    int64_t pix = i / c;
    int y = (int)(pix / wp), xi = (int)(pix % wp);
    int pad = y < p || y >= p + h || xi < p || xi >= p + w;
    x[i] = pad ? 0 : (int8_t)next();
  }
  for (int64_t i = 0; i < nf; ++i)
    f[i] = (int8_t)next();
  int32_t *out = xmalloc(no * 4);
  void *xin, *win;
  if (s8) {
    // [co/16][kh][kw][c/4][16][4]
    int8_t *wl = xmalloc(nf);
    for (int o = 0; o < co; ++o)
      for (int t = 0; t < k * k; ++t)
        for (int i = 0; i < c; ++i)
          wl[((((int64_t)(o / 16) * k * k + t) * (c / 4) + i / 4) * 16 +
              o % 16) *
                 4 +
             i % 4] = f[((int64_t)t * c + i) * co + o];
    xin = x;
    win = wl;
  } else {
    // [co/16][kh][kw][c][16]
    int16_t *xl = xmalloc(nx * 2), *wl = xmalloc(nf * 2);
    for (int64_t i = 0; i < nx; ++i)
      xl[i] = x[i];
    for (int o = 0; o < co; ++o)
      for (int t = 0; t < k * k; ++t)
        for (int i = 0; i < c; ++i)
          wl[(((int64_t)(o / 16) * k * k + t) * c + i) * 16 + o % 16] =
              f[((int64_t)t * c + i) * co + o];
    xin = xl;
    win = wl;
  }
  bench_begin();
  if (s8)
    conv_s8(xin, win, out, wp, c, co, k, s, oh, ow);
  else
    conv_s16(xin, win, out, wp, c, co, k, s, oh, ow);
  bench_end();
  int rc = 0;
  if (check) {
    int32_t *want = xmalloc(no * 4);
    for (int y = 0; y < oh; ++y)
      for (int xo = 0; xo < ow; ++xo)
        for (int o = 0; o < co; ++o) {
          int32_t acc = 0;
          for (int ky = 0; ky < k; ++ky)
            for (int kx = 0; kx < k; ++kx)
              for (int i = 0; i < c; ++i)
                acc += x[(((int64_t)y * s + ky) * wp + xo * s + kx) * c + i] *
                       f[(((int64_t)ky * k + kx) * c + i) * co + o];
          want[((int64_t)y * ow + xo) * co + o] = acc;
        }
    rc = report(out, want, no);
    free(want);
  }
  if (xin != x)
    free(xin);
  free(win);
  free(x);
  free(f);
  free(out);
  return rc;
}

int main(int argc, char **argv) {
  if (argc != 12) {
    fprintf(stderr,
            "usage: %s model|check bitserial|xnor|s16|s8 H W CIN COUT K "
            "STRIDE PAD BA BW\n",
            argv[0]);
    return 2;
  }
  int v[9];
  for (int i = 0; i < 9; ++i)
    v[i] = atoi(argv[3 + i]);
  int check = strcmp(argv[1], "check") == 0;
  int xnor = strcmp(argv[2], "xnor") == 0;
  if (xnor && (v[7] != 1 || v[8] != 1)) {
    fprintf(stderr, "%s: xnor takes 1-bit operands (BA = BW = 1)\n", argv[0]);
    return 2;
  }
  if (xnor || strcmp(argv[2], "bitserial") == 0)
    return bitserial(check, xnor, v[0], v[1], v[2], v[3], v[4], v[5], v[6],
                     v[7], v[8]);
  return baseline(check, strcmp(argv[2], "s8") == 0, v[0], v[1], v[2], v[3],
                  v[4], v[5], v[6]);
}
