/* Calls the functions of results.mlir compiled ahead of time: every result
 * must hold the right values in a buffer of its own (not an argument's, not
 * another result's, not a constant's), which free() releases. Built with
 * AddressSanitizer, a double free or a leak fails the test. */
#include "results.h"

#include <stdio.h>
#include <stdlib.h>

static int failures = 0;

#define EXPECT(cond)                                                           \
  do {                                                                         \
    if (!(cond)) {                                                             \
      printf("FAIL line %d: %s\n", __LINE__, #cond);                           \
      ++failures;                                                              \
    }                                                                          \
  } while (0)

static void distinct(void *const *pointers, int n, const void *argument) {
  for (int i = 0; i < n; ++i) {
    EXPECT(pointers[i] != NULL);
    EXPECT(pointers[i] != argument);
    for (int j = 0; j < i; ++j)
      EXPECT(pointers[i] != pointers[j]);
  }
}

int main(void) {
  int32_t x[15];
  for (int i = 0; i < 15; ++i)
    x[i] = i - 7;
  bitserial_memref_i32_2d xd = {x, x, 0, {3, 5}, {5, 1}};
  bitserial_results_same_twice same;
  _mlir_ciface_same_twice(&same, &xd);
  for (int i = 0; i < 15; ++i) {
    EXPECT(same.r0.aligned[same.r0.offset + i] == 2 * x[i]);
    EXPECT(same.r1.aligned[same.r1.offset + i] == 2 * x[i]);
  }
  void *sp[] = {same.r0.allocated, same.r1.allocated};
  distinct(sp, 2, x);
  free(same.r0.allocated);
  free(same.r1.allocated);
  printf("same_twice done\n");

  int8_t rows[2][130];
  for (int i = 0; i < 260; ++i)
    (&rows[0][0])[i] = (int8_t)(i * 7);
  bitserial_memref_i8_2d rd = {&rows[0][0], &rows[0][0], 0, {2, 130}, {130, 1}};
  bitserial_results_argument_thrice three;
  _mlir_ciface_argument_thrice(&three, &rd);
  bitserial_memref_i8_2d *r[] = {&three.r0, &three.r1, &three.r2};
  for (int k = 0; k < 3; ++k) {
    EXPECT(r[k]->sizes[0] == 2 && r[k]->sizes[1] == 130);
    for (int i = 0; i < 260; ++i)
      EXPECT(r[k]->aligned[r[k]->offset + i] == (&rows[0][0])[i]);
  }
  void *tp[] = {three.r0.allocated, three.r1.allocated, three.r2.allocated};
  distinct(tp, 3, rows);
  for (int k = 0; k < 3; ++k)
    free(r[k]->allocated);
  printf("argument_thrice done\n");

  bitserial_results_constant_twice c1, c2;
  _mlir_ciface_constant_twice(&c1);
  /* Writing into one call's result changes nothing of the next call's. */
  c1.r0.aligned[c1.r0.offset] = 100;
  _mlir_ciface_constant_twice(&c2);
  EXPECT(c2.r0.aligned[c2.r0.offset] == 7 && c2.r1.aligned[c2.r1.offset + 1] == -9);
  void *cp[] = {c1.r0.allocated, c1.r1.allocated, c2.r0.allocated,
                c2.r1.allocated};
  distinct(cp, 4, NULL);
  free(c1.r0.allocated);
  free(c1.r1.allocated);
  free(c2.r0.allocated);
  free(c2.r1.allocated);
  printf("constant_twice done\n");

  int64_t scalar = -5;
  bool flags[4] = {true, false, false, true};
  bitserial_memref_i64_0d sd = {&scalar, &scalar, 0};
  bitserial_memref_i1_1d fd = {flags, flags, 0, {4}, {1}};
  bitserial_results_scalars s;
  _mlir_ciface_scalars(&s, &sd, &fd);
  EXPECT(s.r0.aligned[s.r0.offset] == -5 && s.r2.aligned[s.r2.offset] == -5);
  EXPECT(s.r1.aligned[0] && !s.r1.aligned[1] && !s.r1.aligned[2] &&
         s.r1.aligned[3]);
  void *scp[] = {s.r0.allocated, s.r1.allocated, s.r2.allocated};
  distinct(scp, 3, &scalar);
  free(s.r0.allocated);
  free(s.r1.allocated);
  free(s.r2.allocated);
  printf("scalars done\n");

  int32_t acc[6] = {1, 2, 3, 4, 5, 6};
  bitserial_memref_i32_2d ad = {acc, acc, 0, {2, 3}, {3, 1}};
  bitserial_results_update u;
  _mlir_ciface_update(&u, &ad);
  for (int i = 0; i < 6; ++i) {
    EXPECT(u.r0.aligned[u.r0.offset + i] == 2 * (i + 1));
    EXPECT(u.r1.aligned[u.r1.offset + i] == i + 1);
  }
  void *up[] = {u.r0.allocated, u.r1.allocated};
  distinct(up, 2, acc);
  free(u.r0.allocated);
  free(u.r1.allocated);
  printf("update done\n");

  int16_t v[4] = {1, -2, 3, -4};
  bitserial_memref_i16_1d vd = {v, v, 0, {4}, {1}};
  bitserial_memref_i16_1d id;
  _mlir_ciface_identity(&id, &vd);
  EXPECT(id.allocated != v && id.aligned[id.offset + 3] == -4);
  free(id.allocated);
  printf("identity done\n");

  printf("%s (%d failures)\n", failures ? "FAILED" : "PASSED", failures);
  return failures != 0;
}
