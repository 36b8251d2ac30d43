"""Cases for the int8 dot-product lowerings' execution tests (AArch64, x86).

Writes OUT/{ref,dot,mmla,tiled}.mlir (or the --lowering names), the same
functions under the prefixes ref_, dot_, mmla_ and tiled_ (one per case: pack logical i16 operands, some 8-bit lhs
operands truncated to i8 first, bitserial.matmul or bitserial.conv2d into
`init`), and OUT/harness.c, which fills the operands of
every case with pseudo-random values of their encodings' ranges, computes the
expected result with plain int64 loops and compares it with every lowering's
output. Cases with `constant` weights pack them as a module constant (the
harness passes the same values, which the function ignores).
"""

import argparse
import itertools
import os
import random

ENCODINGS = ["unsigned", "signed", "bipolar"]
WORDS = [8, 16, 32, 64]


def value_range(encoding, bits):
    if encoding == "unsigned":
        return 0, (1 << bits) - 1
    if encoding == "signed":
        return -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    return -((1 << bits) - 1), (1 << bits) - 1


def make_cases():
    cases = []
    shapes = [(1, 1), (3, 5), (5, 4), (9, 7), (4, 9), (8, 8), (2, 13)]
    lengths = [1, 3, 17, 37, 70, 129, 200, 15, 65]
    n = 0

    def add(ea, ba, eb, bb, **kw):
        nonlocal n
        m, nn = shapes[n % len(shapes)]
        case = dict(ea=ea, ba=ba, eb=eb, bb=bb, m=m, n=nn,
                    k=lengths[n % len(lengths)], word=WORDS[n % len(WORDS)],
                    result=64 if n % 3 == 0 else 32,
                    batch=[None, (3, False), (2, True)][n % 3 if n % 5 == 4 else 0],
                    extreme=False, dynamic=False, lhs8=False, constant=False)
        case.update(kw)
        cases.append(case)
        n += 1

    # Every encoding pair with every width on each side (the other side's
    # width rotates), and all four 7/8-bit combinations, which need the u8
    # and shifted representations.
    for pair, (ea, eb) in enumerate(itertools.product(ENCODINGS, ENCODINGS)):
        for ba in range(1, 9):
            add(ea, ba, eb, (ba + pair) % 8 + 1)
        for ba, bb in itertools.product([7, 8], [7, 8]):
            add(ea, ba, eb, bb, lhs8=ba == 8 and ea != "bipolar")
    # Batches: a batched lhs with shared weights, and both batched.
    add("unsigned", 8, "signed", 3, batch=(3, False), result=32)
    add("signed", 8, "unsigned", 4, batch=(2, True), result=32, lhs8=True)
    add("bipolar", 8, "unsigned", 8, batch=(2, True), result=64)
    add("signed", 4, "bipolar", 8, batch=(2, True), result=32)
    # Shared activations, batched weights.
    add("unsigned", 3, "signed", 5, batch=(3, True, False), result=32)
    add("bipolar", 8, "unsigned", 6, batch=(2, True, False), result=64)
    # Dynamic batch, M and N (K is always static).
    add("signed", 5, "unsigned", 8, dynamic=True, result=32)
    add("unsigned", 8, "signed", 4, dynamic=True, result=32, lhs8=True)
    add("bipolar", 8, "signed", 2, batch=(3, True), dynamic=True, result=64)
    # i64 results whose chunks of K need the widening: extreme values and K
    # past the 16384-value chunk, for each representation.
    for ea, ba, eb, bb in [("unsigned", 8, "unsigned", 8),
                           ("bipolar", 8, "bipolar", 8),
                           ("signed", 8, "unsigned", 8),
                           ("signed", 8, "signed", 8)]:
        add(ea, ba, eb, bb, m=2, n=3, k=40001, word=64, result=64,
            batch=None, extreme=True)
    # Extreme = 2: every value at the largest magnitude of its encoding, so
    # that every product has its largest magnitude (and one sign): the
    # bounds of narrow int8 products (vpmaddubsw into i16 sums) exactly,
    # over many widenings (K = 1001: 251 groups of 4).
    for ea, ba, eb, bb in [("unsigned", 4, "unsigned", 4),  # 72 steps
                           ("signed", 4, "unsigned", 4),  # 136 steps
                           ("unsigned", 8, "signed", 6),  # 2 steps
                           ("unsigned", 8, "signed", 2),  # 32 steps
                           ("bipolar", 4, "bipolar", 4),  # 72 steps
                           ("unsigned", 7, "signed", 8)]:  # none: 1 step
        add(ea, ba, eb, bb, m=3, n=9, k=1001, word=64, result=32,
            batch=None, extreme=2)
    add("unsigned", 2, "unsigned", 3, m=2, n=5, k=30001, word=32, result=64,
        batch=None, extreme=2)
    # Constant weights (the int8 lowerings may decode and re-lay them out
    # at compile time), lhs offsets or not, narrow, vpmaddwd and vpdpbusd
    # codes.
    for ea, ba, eb, bb, k in [("unsigned", 2, "signed", 2, 200),
                              ("unsigned", 8, "signed", 4, 147),
                              ("signed", 8, "signed", 8, 65),
                              ("bipolar", 3, "unsigned", 5, 70),
                              ("unsigned", 1, "bipolar", 1, 129)]:
        add(ea, ba, eb, bb, m=9, n=13, k=k, word=WORDS[len(cases) % 4],
            result=32, batch=None, constant=True, lhs8=ba == 8)
    # Whole register blocks (rows of 4 or 8, 16 or 32 channels), where the
    # AArch64 kernels add to init in place unless there are offsets.
    for ea, ba, eb, bb, m, nn, k, result, kw in [
            ("unsigned", 3, "signed", 4, 8, 32, 100, 32, {}),
            ("signed", 5, "unsigned", 7, 8, 16, 37, 64, {}),
            ("unsigned", 2, "signed", 2, 4, 16, 70, 32,
             dict(batch=(3, False))),
            ("unsigned", 2, "signed", 2, 8, 16, 200, 64, dict(constant=True)),
            ("unsigned", 8, "signed", 4, 8, 16, 65, 32, dict(lhs8=True))]:
        add(ea, ba, eb, bb, m=m, n=nn, k=k, word=WORDS[len(cases) % 4],
            result=result, **{"batch": None, **kw})
    return cases


def constant_values(index, case, count=None):
    """The weights of a `constant` case, [N, K] (deterministic), or
    `count` of them."""
    lo, hi = value_range(case["eb"], case["bb"])
    rng = random.Random(index)
    values = []
    for _ in range(case["n"] * case["k"] if count is None else count):
        v = rng.randint(lo, hi)
        if case["eb"] == "bipolar" and v % 2 == 0:
            v = v + 1 if v < hi else v - 1
        values.append(v)
    return values


def pack_words(values, rows, k, encoding, bits, word):
    """`values` ([rows, K]) as packed words [rows, bits, words], each word as
    the signed integer of its bits."""
    words = (k + word - 1) // word
    out = []
    for r in range(rows):
        planes = []
        for p in range(bits):
            row_words = [0] * words
            for i in range(k):
                v = values[r * k + i]
                if encoding == "bipolar":
                    v = (v + (1 << bits) - 1) // 2
                if (v >> p) & 1:
                    row_words[i // word] |= 1 << (i % word)
            planes.append([w - (1 << word) if w >> (word - 1) else w
                           for w in row_words])
        out.append(planes)
    return out


def make_convs():
    """(encodings, widths, N, H, W, C, CO, KH, KW, strides, padding,
    dilations, result bits)."""
    convs = []
    geometries = [
        # n, h, w, c, co, kh, kw, strides, padding, dilations
        (1, 6, 6, 16, 8, 3, 3, (1, 1), (1, 1, 1, 1), (1, 1)),
        (2, 7, 5, 3, 5, 3, 3, (2, 2), (1, 0, 1, 0), (1, 1)),
        (1, 8, 8, 37, 6, 3, 3, (1, 2), (0, 0, 0, 0), (2, 1)),
        (1, 5, 6, 9, 3, 1, 1, (2, 1), (0, 0, 0, 0), (1, 1)),
        (2, 6, 7, 5, 9, 2, 3, (1, 1), (2, 1, 0, 2), (1, 2)),
    ]
    i = 0
    for ea, eb in itertools.product(ENCODINGS, ENCODINGS):
        for ba, bb in [(3, 2), (8, 8), (8, 5), (4, 8), (7, 7)]:
            # Every width pair meets every geometry across encoding pairs.
            g = geometries[(i + i // 5) % len(geometries)]
            convs.append(dict(ea=ea, ba=ba, eb=eb, bb=bb, geometry=g,
                              word=WORDS[i % len(WORDS)],
                              result=64 if i % 4 == 0 else 32))
            i += 1
    # Offsets (8-bit unsigned shifted to s8, 8-bit bipolar) of the filter
    # with dilations, strides and padding, and of an unpadded input.
    for ea, ba, eb, bb, g in [("signed", 3, "bipolar", 8, 2),
                              ("signed", 5, "unsigned", 8, 1),
                              ("unsigned", 8, "bipolar", 8, 4),
                              ("bipolar", 8, "signed", 4, 2),
                              ("unsigned", 8, "signed", 6, 3)]:
        convs.append(dict(ea=ea, ba=ba, eb=eb, bb=bb, geometry=geometries[g],
                          word=64, result=64 if g % 2 else 32))
    # 4 x 4 bits over 96 channels at the largest magnitudes: narrow products
    # allow 72 steps, a kernel row's 3 x 24 groups, not the window's 216:
    # i16 sums per row of taps, widened three times per pixel.
    convs.append(dict(ea="unsigned", ba=4, eb="unsigned", bb=4,
                      geometry=(1, 5, 5, 96, 16, 3, 3, (1, 1), (1, 1, 1, 1),
                                (1, 1)),
                      word=64, result=32, extreme=2))
    # Constant filters (decoded at compile time), with and without padding
    # and input offsets (8-bit bipolar or unsigned input on x86).
    for ea, ba, eb, bb, g, result in [("unsigned", 2, "signed", 2, 0, 32),
                                      ("signed", 8, "bipolar", 8, 2, 64),
                                      ("bipolar", 8, "signed", 4, 3, 32),
                                      ("unsigned", 8, "unsigned", 8, 4, 64),
                                      ("unsigned", 8, "signed", 6, 3, 32)]:
        convs.append(dict(ea=ea, ba=ba, eb=eb, bb=bb, geometry=geometries[g],
                          word=WORDS[len(convs) % 4], result=result,
                          constant=True))
    # Whole register blocks (output rows of 8, 16 or 32 channels), where
    # the AArch64 kernels add to init in place unless there are offsets.
    whole = [(1, 8, 8, 20, 32, 3, 3, (1, 1), (1, 1, 1, 1), (1, 1)),
             (2, 6, 16, 70, 16, 1, 1, (1, 2), (0, 0, 0, 0), (1, 1))]
    for ea, ba, eb, bb, g, result, constant in [
            ("unsigned", 3, "signed", 2, 0, 32, False),
            ("signed", 4, "unsigned", 5, 1, 64, False),
            ("unsigned", 2, "signed", 2, 0, 64, True),
            ("unsigned", 8, "signed", 4, 1, 32, False)]:
        convs.append(dict(ea=ea, ba=ba, eb=eb, bb=bb, geometry=whole[g],
                          word=WORDS[len(convs) % 4], result=result,
                          constant=constant))
    # A dynamic number of output channels (the AArch64 kernels zero the
    # padded channels of the filter's last block at run time), without and
    # with an input offset (8-bit unsigned as s8: the filter's sums).
    for ea, ba, eb, bb, g, result in [("unsigned", 3, "signed", 4, 4, 32),
                                      ("unsigned", 8, "signed", 5, 3, 64)]:
        convs.append(dict(ea=ea, ba=ba, eb=eb, bb=bb, geometry=geometries[g],
                          word=WORDS[len(convs) % 4], result=result,
                          dynamic=True))
    return convs


def constant_filter(index, conv):
    """The filter of a `constant` convolution, [CO, KH, KW, C]."""
    n, h, w, c, co, kh, kw = conv["geometry"][:7]
    return constant_values(1000 + index, conv, co * kh * kw * c)


def conv_output(h, w, kh, kw, strides, padding, dilations):
    oh = (h + padding[0] + padding[1] - dilations[0] * (kh - 1) - 1) // strides[0] + 1
    ow = (w + padding[2] + padding[3] - dilations[1] * (kw - 1) - 1) // strides[1] + 1
    return oh, ow


def conv_function(prefix, index, conv):
    n, h, w, c, co, kh, kw, strides, padding, dilations = conv["geometry"]
    oh, ow = conv_output(h, w, kh, kw, strides, padding, dilations)
    word = conv["word"]
    # Dynamic: the output channels.
    co = "?" if conv.get("dynamic") else co
    tx, tf = tensor([n, h, w, c], "i16"), tensor([co, kh, kw, c], "i16")
    tr = tensor([n, oh, ow, co], f"i{conv['result']}")
    px = packed_type([n, h, w], conv["ea"], conv["ba"], c, word)
    pf = packed_type([co, kh, kw], conv["eb"], conv["bb"], c, word)
    attrs = (f"strides = [{strides[0]}, {strides[1]}] padding = "
             f"[{', '.join(map(str, padding))}] dilations = "
             f"[{dilations[0]}, {dilations[1]}]")
    pack_filter = f"  %pf = bitserial.pack %f : {tf} -> {pf}\n"
    if conv.get("constant"):
        # The harness passes the same values as %f, which is ignored.
        planes = pack_words(constant_filter(index, conv), co * kh * kw, c,
                            conv["eb"], conv["bb"], word)
        nested = [[planes[(o * kh + i) * kw:(o * kh + i + 1) * kw]
                   for i in range(kh)] for o in range(co)]
        pack_filter = f"  %pf = arith.constant dense<{nested}> : {pf}\n"
    return (f"func.func @{prefix}v{index}(%x: {tx}, %f: {tf}, %init: {tr}) -> {tr} {{\n"
            f"  %px = bitserial.pack %x : {tx} -> {px}\n"
            + pack_filter +
            f"  %r = bitserial.conv2d ins(%px, %pf : {px}, {pf}) outs(%init : {tr}) "
            f"{attrs} -> {tr}\n"
            f"  return %r : {tr}\n}}\n")


def packed_type(shape, encoding, bits, k, word):
    words = (k + word - 1) // word
    dims = "x".join(str(d) for d in list(shape) + [bits, words])
    return (f"tensor<{dims}xi{word}, #bitserial.packed<bits = {bits}, "
            f"encoding = {encoding}, length = {k}>>")


def shapes_of(case):
    b = case["batch"]
    lhs = [case["m"], case["k"]]
    rhs = [case["n"], case["k"]]
    res = [case["m"], case["n"]]
    if b:
        res = [b[0]] + res
        if b[1]:
            rhs = [b[0]] + rhs
        if len(b) < 3 or b[2]:
            lhs = [b[0]] + lhs
    return lhs, rhs, res


def tensor(shape, element):
    return "tensor<" + "x".join(str(d) for d in shape) + f"x{element}>"


def mlir_function(prefix, index, case):
    if case["constant"]:
        return constant_function(prefix, index, case)
    lhs, rhs, res = shapes_of(case)
    if case["dynamic"]:
        # Every dimension but K.
        lhs = ["?"] * (len(lhs) - 1) + lhs[-1:]
        rhs = ["?"] * (len(rhs) - 1) + rhs[-1:]
        res = ["?"] * len(res)
    k, word = case["k"], case["word"]
    ta, tb = tensor(lhs, "i16"), tensor(rhs, "i16")
    tr = tensor(res, f"i{case['result']}")
    pa = packed_type(lhs[:-1], case["ea"], case["ba"], k, word)
    pb = packed_type(rhs[:-1], case["eb"], case["bb"], k, word)
    # lhs8: the lhs is packed from i8 (8-bit codes the int8 kernels may
    # read in place).
    pack_lhs = f"  %pa = bitserial.pack %a : {ta} -> {pa}\n"
    if case["lhs8"]:
        ta8 = tensor(lhs, "i8")
        pack_lhs = (f"  %a8 = arith.trunci %a : {ta} to {ta8}\n"
                    f"  %pa = bitserial.pack %a8 : {ta8} -> {pa}\n")
    return (f"func.func @{prefix}c{index}(%a: {ta}, %b: {tb}, %init: {tr}) -> {tr} {{\n"
            + pack_lhs +
            f"  %pb = bitserial.pack %b : {tb} -> {pb}\n"
            f"  %r = bitserial.matmul ins(%pa, %pb : {pa}, {pb}) outs(%init : {tr}) -> {tr}\n"
            f"  return %r : {tr}\n}}\n")


def constant_function(prefix, index, case):
    """The case with its weights packed as a constant (%b is ignored)."""
    m, n, k, word = case["m"], case["n"], case["k"], case["word"]
    ta, tb = tensor([m, k], "i16"), tensor([n, k], "i16")
    tr = tensor([m, n], f"i{case['result']}")
    pa = packed_type([m], case["ea"], case["ba"], k, word)
    pb = packed_type([n], case["eb"], case["bb"], k, word)
    words = pack_words(constant_values(index, case), n, k, case["eb"],
                       case["bb"], word)
    pack_lhs = f"  %pa = bitserial.pack %a : {ta} -> {pa}\n"
    if case["lhs8"]:
        ta8 = tensor([m, k], "i8")
        pack_lhs = (f"  %a8 = arith.trunci %a : {ta} to {ta8}\n"
                    f"  %pa = bitserial.pack %a8 : {ta8} -> {pa}\n")
    return (f"func.func @{prefix}c{index}(%a: {ta}, %b: {tb}, %init: {tr}) -> {tr} {{\n"
            + pack_lhs +
            f"  %pb = arith.constant dense<{words}> : {pb}\n"
            f"  %r = bitserial.matmul ins(%pa, %pb : {pa}, {pb}) outs(%init : {tr}) -> {tr}\n"
            f"  return %r : {tr}\n}}\n")


HEADER = r"""
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  void *allocated, *aligned;
  int64_t offset, rest[8]; /* sizes, then strides */
} Memref;

/* MLIR's runtime copy (libmlir_c_runner_utils has no AArch64 build here):
   strided copy of ranked descriptors {allocated, aligned, offset, sizes,
   strides}. */
typedef struct {
  int64_t rank;
  void *descriptor;
} Unranked;

void memrefCopy(int64_t elementSize, Unranked *src, Unranked *dst) {
  int64_t rank = src->rank;
  char **s = src->descriptor, **d = dst->descriptor;
  int64_t *sm = (int64_t *)(s + 2), *dm = (int64_t *)(d + 2);
  int64_t count = 1, index[8] = {0};
  for (int64_t r = 0; r < rank; ++r)
    count *= sm[1 + r];
  for (int64_t e = 0; e < count; ++e) {
    int64_t so = sm[0], doff = dm[0];
    for (int64_t r = 0; r < rank; ++r) {
      so += index[r] * sm[1 + rank + r];
      doff += index[r] * dm[1 + rank + r];
    }
    memcpy(d[1] + doff * elementSize, s[1] + so * elementSize, elementSize);
    for (int64_t r = rank - 1; r >= 0; --r) {
      if (++index[r] < sm[1 + r])
        break;
      index[r] = 0;
    }
  }
}

static uint64_t state = 0x9e3779b97f4a7c15ull;
static uint64_t next(void) {
  state ^= state << 13;
  state ^= state >> 7;
  state ^= state << 17;
  return state;
}

/* A value of the encoding's range; `extreme` favours its ends (2: always
   the end of the largest magnitude). */
static int16_t draw(int lo, int hi, int bipolar, int extreme) {
  if (extreme == 2)
    return -lo > hi ? lo : hi;
  if (extreme && next() % 4 != 0)
    return next() % 2 ? lo : hi;
  int v = lo + (int)(next() % (uint64_t)(hi - lo + 1));
  if (bipolar && (v & 1) == 0)
    v = v == hi ? v - 1 : v + 1;
  return (int16_t)v;
}

static Memref view(void *data, int rank, const int64_t *shape) {
  Memref m = {data, data, 0, {0}};
  int64_t stride = 1;
  for (int d = rank - 1; d >= 0; --d) {
    m.rest[d] = shape[d];
    m.rest[rank + d] = stride;
    stride *= shape[d];
  }
  return m;
}

static void range(int encoding, int bits, int *lo, int *hi) {
  if (encoding == 0) {
    *lo = 0; *hi = (1 << bits) - 1;
  } else if (encoding == 1) {
    *lo = -(1 << (bits - 1)); *hi = (1 << (bits - 1)) - 1;
  } else {
    *lo = -((1 << bits) - 1); *hi = (1 << bits) - 1;
  }
}

typedef void (*Fn)(Memref *, Memref *, Memref *, Memref *);
static int failures = 0;

static void check(const char *name, int index, Memref *r, const int64_t *expected,
                  int64_t count, int wide) {
  for (int64_t i = 0; i < count; ++i) {
    int64_t got = wide ? ((int64_t *)r->aligned)[r->offset + i]
                       : ((int32_t *)r->aligned)[r->offset + i];
    if (got != expected[i]) {
      printf("MISMATCH %s case %d at %lld: got %lld, expected %lld\n", name,
             index, (long long)i, (long long)got, (long long)expected[i]);
      ++failures;
      return;
    }
  }
}

/* Runs one case: lhs [B?, M, K], rhs [B?, N, K], result [B?, M, N]. */
static void run(int index, Fn *fns, const char **names, int numFns,
                int ea, int ba, int eb, int bb, int batch, int lhsBatched,
                int rhsBatched, int64_t m, int64_t n, int64_t k, int wide,
                int extreme, const int16_t *fixedB) {
  int64_t ob = batch ? batch : 1, lb = lhsBatched ? batch : 1;
  int64_t rb = rhsBatched ? batch : 1;
  int16_t *a = malloc(sizeof(int16_t) * lb * m * k);
  int16_t *b = malloc(sizeof(int16_t) * rb * n * k);
  int64_t outputs = ob * m * n;
  int64_t *init = malloc(sizeof(int64_t) * outputs);
  int64_t *expected = malloc(sizeof(int64_t) * outputs);
  int alo, ahi, blo, bhi;
  range(ea, ba, &alo, &ahi);
  range(eb, bb, &blo, &bhi);
  for (int64_t i = 0; i < lb * m * k; ++i)
    a[i] = draw(alo, ahi, ea == 2, extreme);
  for (int64_t i = 0; i < rb * n * k; ++i)
    b[i] = fixedB ? fixedB[i] : draw(blo, bhi, eb == 2, extreme);
  for (int64_t i = 0; i < outputs; ++i)
    init[i] = (int64_t)(next() % 2001) - 1000;
  for (int64_t bi = 0; bi < ob; ++bi)
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        const int16_t *ar = a + ((lhsBatched ? bi : 0) * m + i) * k;
        const int16_t *br = b + ((rhsBatched ? bi : 0) * n + j) * k;
        int64_t sum = init[(bi * m + i) * n + j];
        for (int64_t kk = 0; kk < k; ++kk)
          sum += (int64_t)ar[kk] * br[kk];
        expected[(bi * m + i) * n + j] = wide ? sum : (int64_t)(int32_t)sum;
      }
  int rank = batch ? 3 : 2, arank = lhsBatched ? 3 : 2;
  int64_t ashape[3], bshape[3], rshape[3];
  int d = 0;
  if (batch) {
    rshape[0] = batch;
    ++d;
  }
  rshape[d] = m; rshape[d + 1] = n;
  if (lhsBatched) {
    ashape[0] = batch; ashape[1] = m; ashape[2] = k;
  } else {
    ashape[0] = m; ashape[1] = k;
  }
  int brank = rhsBatched ? 3 : 2;
  if (rhsBatched) {
    bshape[0] = batch; bshape[1] = n; bshape[2] = k;
  } else {
    bshape[0] = n; bshape[1] = k;
  }
  for (int f = 0; f < numFns; ++f) {
    /* Fresh copies: a lowering may update `init` in place. */
    void *initCopy = malloc((wide ? 8 : 4) * outputs);
    for (int64_t i = 0; i < outputs; ++i) {
      if (wide)
        ((int64_t *)initCopy)[i] = init[i];
      else
        ((int32_t *)initCopy)[i] = (int32_t)init[i];
    }
    Memref ma = view(a, arank, ashape), mb = view(b, brank, bshape);
    Memref mi = view(initCopy, rank, rshape), result;
    fns[f](&result, &ma, &mb, &mi);
    check(names[f], index, &result, expected, outputs, wide);
  }
  free(a);
  free(b);
  free(init);
  free(expected);
}

/* Runs one convolution: x [N, H, W, C], f [CO, KH, KW, C], zero padding. */
static void runConv(int index, Fn *fns, const char **names, int numFns,
                    int ea, int ba, int eb, int bb, int64_t n, int64_t h,
                    int64_t w, int64_t c, int64_t co, int64_t kh, int64_t kw,
                    int64_t sh, int64_t sw, int64_t pt, int64_t pb, int64_t pl,
                    int64_t pr, int64_t dh, int64_t dw, int wide,
                    int extreme, const int16_t *fixedF) {
  int64_t oh = (h + pt + pb - dh * (kh - 1) - 1) / sh + 1;
  int64_t ow = (w + pl + pr - dw * (kw - 1) - 1) / sw + 1;
  int16_t *x = malloc(sizeof(int16_t) * n * h * w * c);
  int16_t *f = malloc(sizeof(int16_t) * co * kh * kw * c);
  int64_t outputs = n * oh * ow * co;
  int64_t *init = malloc(sizeof(int64_t) * outputs);
  int64_t *expected = malloc(sizeof(int64_t) * outputs);
  int alo, ahi, blo, bhi;
  range(ea, ba, &alo, &ahi);
  range(eb, bb, &blo, &bhi);
  for (int64_t i = 0; i < n * h * w * c; ++i)
    x[i] = draw(alo, ahi, ea == 2, extreme);
  for (int64_t i = 0; i < co * kh * kw * c; ++i)
    f[i] = fixedF ? fixedF[i] : draw(blo, bhi, eb == 2, extreme);
  for (int64_t i = 0; i < outputs; ++i)
    init[i] = (int64_t)(next() % 2001) - 1000;
  for (int64_t b = 0; b < n; ++b)
    for (int64_t y = 0; y < oh; ++y)
      for (int64_t z = 0; z < ow; ++z)
        for (int64_t o = 0; o < co; ++o) {
          int64_t at = ((b * oh + y) * ow + z) * co + o;
          int64_t sum = init[at];
          for (int64_t i = 0; i < kh; ++i)
            for (int64_t j = 0; j < kw; ++j) {
              int64_t row = y * sh + i * dh - pt, col = z * sw + j * dw - pl;
              if (row < 0 || row >= h || col < 0 || col >= w)
                continue;
              for (int64_t k = 0; k < c; ++k)
                sum += (int64_t)x[((b * h + row) * w + col) * c + k] *
                       f[((o * kh + i) * kw + j) * c + k];
            }
          expected[at] = wide ? sum : (int64_t)(int32_t)sum;
        }
  int64_t xshape[4] = {n, h, w, c}, fshape[4] = {co, kh, kw, c};
  int64_t rshape[4] = {n, oh, ow, co};
  for (int fn = 0; fn < numFns; ++fn) {
    void *initCopy = malloc((wide ? 8 : 4) * outputs);
    for (int64_t i = 0; i < outputs; ++i) {
      if (wide)
        ((int64_t *)initCopy)[i] = init[i];
      else
        ((int32_t *)initCopy)[i] = (int32_t)init[i];
    }
    Memref mx = view(x, 4, xshape), mf = view(f, 4, fshape);
    Memref mi = view(initCopy, 4, rshape), result;
    fns[fn](&result, &mx, &mf, &mi);
    check(names[fn], 1000 + index, &result, expected, outputs, wide);
  }
  free(x);
  free(f);
  free(init);
  free(expected);
}
"""

def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--lowering", action="append", default=[],
                        metavar="NAME=LABEL",
                        help="a lowering: functions NAME_* in OUT/NAME.mlir "
                             "(default: ref, dot, mmla and tiled)")
    args = parser.parse_args()
    cases = make_cases()
    convs = make_convs()
    lowerings = [l.split("=", 1) for l in args.lowering] or [
        ("ref", "reference"), ("dot", "sdot/udot"), ("mmla", "i8mm"),
        ("tiled", "tiled sdot/udot")]
    prefixes = [name + "_" for name, _ in lowerings]
    count = len(prefixes)
    for prefix in prefixes:
        with open(os.path.join(args.out, prefix[:-1] + ".mlir"), "w") as f:
            for i, case in enumerate(cases):
                f.write(mlir_function(prefix, i, case))
            for i, conv in enumerate(convs):
                f.write(conv_function(prefix, i, conv))
    with open(os.path.join(args.out, "harness.c"), "w") as f:
        f.write(HEADER)
        for i in range(len(cases)):
            for prefix in prefixes:
                f.write(f"void _mlir_ciface_{prefix}c{i}(Memref *, Memref *, "
                        "Memref *, Memref *);\n")
        for i in range(len(convs)):
            for prefix in prefixes:
                f.write(f"void _mlir_ciface_{prefix}v{i}(Memref *, Memref *, "
                        "Memref *, Memref *);\n")
        for i, case in enumerate(cases):
            if case["constant"]:
                values = ", ".join(map(str, constant_values(i, case)))
                f.write(f"static const int16_t weights{i}[] = {{{values}}};\n")
        for i, conv in enumerate(convs):
            if conv.get("constant"):
                values = ", ".join(map(str, constant_filter(i, conv)))
                f.write(f"static const int16_t filter{i}[] = {{{values}}};\n")
        f.write("\nint main(void) {\n")
        labels = ", ".join(f'"{label}"' for _, label in lowerings)
        f.write(f"  const char *names[] = {{{labels}}};\n")
        for i, case in enumerate(cases):
            fns = ", ".join(f"_mlir_ciface_{p}c{i}" for p in prefixes)
            batch = case["batch"]
            f.write(f"  {{ Fn fns[] = {{{fns}}};\n"
                    f"    run({i}, fns, names, {count}, {ENCODINGS.index(case['ea'])}, "
                    f"{case['ba']}, {ENCODINGS.index(case['eb'])}, {case['bb']}, "
                    f"{batch[0] if batch else 0}, "
                    f"{int(bool(batch and (len(batch) < 3 or batch[2])))}, "
                    f"{int(bool(batch and batch[1]))}, "
                    f"{case['m']}, {case['n']}, {case['k']}, "
                    f"{int(case['result'] == 64)}, {int(case['extreme'])}, "
                    f"{f'weights{i}' if case['constant'] else 'NULL'}); }}\n")
        for i, conv in enumerate(convs):
            fns = ", ".join(f"_mlir_ciface_{p}v{i}" for p in prefixes)
            n, h, w, c, co, kh, kw, st, pad, dil = conv["geometry"]
            geometry = ", ".join(str(v) for v in [n, h, w, c, co, kh, kw] +
                                 list(st) + list(pad) + list(dil))
            f.write(f"  {{ Fn fns[] = {{{fns}}};\n"
                    f"    runConv({i}, fns, names, {count}, {ENCODINGS.index(conv['ea'])}, "
                    f"{conv['ba']}, {ENCODINGS.index(conv['eb'])}, {conv['bb']}, "
                    f"{geometry}, {int(conv['result'] == 64)}, "
                    f"{conv.get('extreme', 0)}, "
                    f"{f'filter{i}' if conv.get('constant') else 'NULL'}); }}\n")
        total = len(cases) + len(convs)
        f.write(f'  printf("%d of {total} cases x {count} lowerings failed\\n", '
                "failures);\n  return failures != 0;\n}\n")


if __name__ == "__main__":
    main()
