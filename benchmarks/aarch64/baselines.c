// Baseline convolutions for the AArch64 cost model (aarch64_model.py):
// direct NHWC convolutions (no im2col) on pre-padded activations and
// pre-blocked weights, register-blocked 4 output pixels x 16 output
// channels (16 int32x4 accumulators). Built with clang-22 -O3.
//   conv_s16: int16 x int16 -> int32 with smlal/smlal2 by lane (Cortex-A53).
//   conv_s8:  int8 x int8 -> int32 with sdot by lane (needs dotprod:
//             Neoverse-N1).
// in: [Hp][wp][c]; out: [oh*ow][co]; c % 16 == 0, co % 16 == 0. A last
// partial block of pixels repeats the last pixel (only 7x7 layers have one).
#include <arm_neon.h>
#include <stdint.h>

#define PIXELS(T)                                                              \
  const T *px[4];                                                              \
  for (int p = 0; p < 4; ++p) {                                                \
    int m = m0 + p < npix ? m0 + p : npix - 1;                                 \
    px[p] = in + ((long)(m / ow) * s * wp + (long)(m % ow) * s) * c;           \
  }

#define STORE()                                                                \
  for (int p = 0; p < 4 && m0 + p < npix; ++p)                                 \
    for (int q = 0; q < 4; ++q)                                                \
      vst1q_s32(out + (long)(m0 + p) * co + o + 4 * q, acc[p][q]);

#ifndef __ARM_FEATURE_DOTPROD
// Weights [co/16][kh][kw][c][16].
void conv_s16(const int16_t *in, const int16_t *w, int32_t *out, int wp, int c,
              int co, int k, int s, int oh, int ow) {
  int npix = oh * ow;
  for (int o = 0; o < co; o += 16) {
    const int16_t *wb = w + (long)o * k * k * c;
    for (int m0 = 0; m0 < npix; m0 += 4) {
      PIXELS(int16_t)
      int32x4_t acc[4][4];
      for (int p = 0; p < 4; ++p)
        for (int q = 0; q < 4; ++q)
          acc[p][q] = vdupq_n_s32(0);
      const int16_t *wt = wb;
      for (int kh = 0; kh < k; ++kh)
        for (int kw = 0; kw < k; ++kw) {
          long off = ((long)kh * wp + kw) * c;
          for (int i = 0; i < c; i += 8) {
            int16x8_t a0 = vld1q_s16(px[0] + off + i);
            int16x8_t a1 = vld1q_s16(px[1] + off + i);
            int16x8_t a2 = vld1q_s16(px[2] + off + i);
            int16x8_t a3 = vld1q_s16(px[3] + off + i);
#define LANE(j)                                                                \
  {                                                                            \
    int16x8_t w0 = vld1q_s16(wt + 16 * j), w1 = vld1q_s16(wt + 16 * j + 8);    \
    int16x4_t l0 = vget_low_s16(w0), l1 = vget_low_s16(w1);                    \
    acc[0][0] = vmlal_laneq_s16(acc[0][0], l0, a0, j);                         \
    acc[0][1] = vmlal_high_laneq_s16(acc[0][1], w0, a0, j);                    \
    acc[0][2] = vmlal_laneq_s16(acc[0][2], l1, a0, j);                         \
    acc[0][3] = vmlal_high_laneq_s16(acc[0][3], w1, a0, j);                    \
    acc[1][0] = vmlal_laneq_s16(acc[1][0], l0, a1, j);                         \
    acc[1][1] = vmlal_high_laneq_s16(acc[1][1], w0, a1, j);                    \
    acc[1][2] = vmlal_laneq_s16(acc[1][2], l1, a1, j);                         \
    acc[1][3] = vmlal_high_laneq_s16(acc[1][3], w1, a1, j);                    \
    acc[2][0] = vmlal_laneq_s16(acc[2][0], l0, a2, j);                         \
    acc[2][1] = vmlal_high_laneq_s16(acc[2][1], w0, a2, j);                    \
    acc[2][2] = vmlal_laneq_s16(acc[2][2], l1, a2, j);                         \
    acc[2][3] = vmlal_high_laneq_s16(acc[2][3], w1, a2, j);                    \
    acc[3][0] = vmlal_laneq_s16(acc[3][0], l0, a3, j);                         \
    acc[3][1] = vmlal_high_laneq_s16(acc[3][1], w0, a3, j);                    \
    acc[3][2] = vmlal_laneq_s16(acc[3][2], l1, a3, j);                         \
    acc[3][3] = vmlal_high_laneq_s16(acc[3][3], w1, a3, j);                    \
  }
            LANE(0);
            LANE(1);
            LANE(2);
            LANE(3);
            LANE(4);
            LANE(5);
            LANE(6);
            LANE(7);
#undef LANE
            wt += 16 * 8;
          }
        }
      STORE()
    }
  }
}
#else
// Weights [co/16][kh][kw][c/4][16][4].
void conv_s8(const int8_t *in, const int8_t *w, int32_t *out, int wp, int c,
             int co, int k, int s, int oh, int ow) {
  int npix = oh * ow;
  for (int o = 0; o < co; o += 16) {
    const int8_t *wb = w + (long)o * k * k * c;
    for (int m0 = 0; m0 < npix; m0 += 4) {
      PIXELS(int8_t)
      int32x4_t acc[4][4];
      for (int p = 0; p < 4; ++p)
        for (int q = 0; q < 4; ++q)
          acc[p][q] = vdupq_n_s32(0);
      const int8_t *wt = wb;
      for (int kh = 0; kh < k; ++kh)
        for (int kw = 0; kw < k; ++kw) {
          long off = ((long)kh * wp + kw) * c;
          for (int i = 0; i < c; i += 16) {
            int8x16_t a0 = vld1q_s8(px[0] + off + i);
            int8x16_t a1 = vld1q_s8(px[1] + off + i);
            int8x16_t a2 = vld1q_s8(px[2] + off + i);
            int8x16_t a3 = vld1q_s8(px[3] + off + i);
#define LANE(j)                                                                \
  {                                                                            \
    int8x16_t w0 = vld1q_s8(wt + 64 * j), w1 = vld1q_s8(wt + 64 * j + 16);     \
    int8x16_t w2 = vld1q_s8(wt + 64 * j + 32);                                 \
    int8x16_t w3 = vld1q_s8(wt + 64 * j + 48);                                 \
    acc[0][0] = vdotq_laneq_s32(acc[0][0], w0, a0, j);                         \
    acc[0][1] = vdotq_laneq_s32(acc[0][1], w1, a0, j);                         \
    acc[0][2] = vdotq_laneq_s32(acc[0][2], w2, a0, j);                         \
    acc[0][3] = vdotq_laneq_s32(acc[0][3], w3, a0, j);                         \
    acc[1][0] = vdotq_laneq_s32(acc[1][0], w0, a1, j);                         \
    acc[1][1] = vdotq_laneq_s32(acc[1][1], w1, a1, j);                         \
    acc[1][2] = vdotq_laneq_s32(acc[1][2], w2, a1, j);                         \
    acc[1][3] = vdotq_laneq_s32(acc[1][3], w3, a1, j);                         \
    acc[2][0] = vdotq_laneq_s32(acc[2][0], w0, a2, j);                         \
    acc[2][1] = vdotq_laneq_s32(acc[2][1], w1, a2, j);                         \
    acc[2][2] = vdotq_laneq_s32(acc[2][2], w2, a2, j);                         \
    acc[2][3] = vdotq_laneq_s32(acc[2][3], w3, a2, j);                         \
    acc[3][0] = vdotq_laneq_s32(acc[3][0], w0, a3, j);                         \
    acc[3][1] = vdotq_laneq_s32(acc[3][1], w1, a3, j);                         \
    acc[3][2] = vdotq_laneq_s32(acc[3][2], w2, a3, j);                         \
    acc[3][3] = vdotq_laneq_s32(acc[3][3], w3, a3, j);                         \
  }
            LANE(0);
            LANE(1);
            LANE(2);
            LANE(3);
#undef LANE
            wt += 64 * 4;
          }
        }
      STORE()
    }
  }
}
#endif
