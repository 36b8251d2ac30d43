/* Calls the layers of layers.mlir compiled ahead of time (layers.o and
 * layers.h from bitserial-compile) and checks them against plain integer
 * loops. Prints one line per layer and exits with 1 on a mismatch.
 *
 *   aarch64-linux-gnu-gcc -O2 -static -I. main.c layers.o -o layers
 *   qemu-aarch64 -cpu cortex-a53 ./layers
 *
 * Objects of bitserial-compile --parallel also link the thread team
 * (build/lib/aarch64-linux-gnu/libbitserial_thread_team.a -lpthread on
 * AArch64, build/lib/libbitserial_thread_team.a here); BITSERIAL_NUM_THREADS
 * sets its size.
 */
#include "layers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A descriptor of a row-major array `data` of rank `rank`. */
#define DESCRIBE(desc, data, rank, ...)                                        \
  do {                                                                         \
    const int64_t shape_[] = {__VA_ARGS__};                                    \
    int64_t stride_ = 1;                                                       \
    (desc).allocated = (desc).aligned = (data);                                \
    (desc).offset = 0;                                                         \
    for (int d_ = (rank) - 1; d_ >= 0; --d_) {                                 \
      (desc).sizes[d_] = shape_[d_];                                           \
      (desc).strides[d_] = stride_;                                            \
      stride_ *= shape_[d_];                                                   \
    }                                                                          \
  } while (0)

static uint32_t state = 12345;
/* A value in [lo, hi] (odd only if `odd`), from a fixed LCG. */
static int8_t draw(int lo, int hi, int odd) {
  state = state * 1664525u + 1013904223u;
  int v = lo + (int)((state >> 8) % (uint32_t)(hi - lo + 1));
  if (odd && !(v & 1))
    v = v == hi ? v - 1 : v + 1;
  return (int8_t)v;
}

static int check(const char *name, const int32_t *got, const int32_t *want,
                 int n) {
  for (int i = 0; i < n; ++i)
    if (got[i] != want[i]) {
      printf("%s: mismatch at %d: got %d, expected %d\n", name, i, got[i],
             want[i]);
      return 1;
    }
  printf("%s: OK (%d values)\n", name, n);
  return 0;
}

enum { H = 6, W = 6, C = 70, CO = 8, K = 3 };
enum { M = 4, N = 10, D = 300 };

static int run_conv(void) {
  static int8_t x[H][W][C], w[CO][K][K][C];
  static int32_t want[H][W][CO];
  for (int i = 0; i < H * W * C; ++i)
    (&x[0][0][0])[i] = draw(0, 3, 0);
  for (int i = 0; i < CO * K * K * C; ++i)
    (&w[0][0][0][0])[i] = draw(-1, 1, 1);
  /* The reference: NHWC convolution, zero padding 1. */
  for (int oh = 0; oh < H; ++oh)
    for (int ow = 0; ow < W; ++ow)
      for (int co = 0; co < CO; ++co) {
        int32_t sum = 0;
        for (int kh = 0; kh < K; ++kh)
          for (int kw = 0; kw < K; ++kw) {
            int ih = oh + kh - 1, iw = ow + kw - 1;
            if (ih < 0 || ih >= H || iw < 0 || iw >= W)
              continue;
            for (int c = 0; c < C; ++c)
              sum += x[ih][iw][c] * w[co][kh][kw][c];
          }
        want[oh][ow][co] = sum;
      }

  bitserial_memref_i8_4d xd, wd;
  DESCRIBE(xd, &x[0][0][0], 4, 1, H, W, C);
  DESCRIBE(wd, &w[0][0][0][0], 4, CO, K, K, C);
  bitserial_memref_i32_4d y;
  _mlir_ciface_conv(&y, &xd, &wd);
  int failed = check("conv", y.aligned + y.offset, &want[0][0][0], H * W * CO);
  free(y.allocated);
  return failed;
}

static int run_dense(void) {
  static int8_t x[M][D], w[N][D];
  static int32_t bias[M][N], copy[M][N], want[M][N];
  for (int i = 0; i < M * D; ++i)
    (&x[0][0])[i] = draw(-2, 1, 0);
  for (int i = 0; i < N * D; ++i)
    (&w[0][0])[i] = draw(-1, 1, 1);
  for (int i = 0; i < M * N; ++i)
    (&bias[0][0])[i] = draw(-100, 100, 0);
  for (int m = 0; m < M; ++m)
    for (int n = 0; n < N; ++n) {
      int32_t sum = bias[m][n];
      for (int k = 0; k < D; ++k)
        sum += x[m][k] * w[n][k];
      want[m][n] = sum;
    }

  /* The function may update its bias argument in place: pass a copy. */
  memcpy(copy, bias, sizeof(bias));
  bitserial_memref_i8_2d xd, wd;
  bitserial_memref_i32_2d bd, y;
  DESCRIBE(xd, &x[0][0], 2, M, D);
  DESCRIBE(wd, &w[0][0], 2, N, D);
  DESCRIBE(bd, &copy[0][0], 2, M, N);
  _mlir_ciface_dense(&y, &xd, &wd, &bd);
  int failed = check("dense", y.aligned + y.offset, &want[0][0], M * N);
  free(y.allocated);
  return failed;
}

int main(void) {
  int failed = run_conv();
  failed |= run_dense();
  return failed;
}
