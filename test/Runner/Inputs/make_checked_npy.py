"""Writes the inputs of input-checks.test: in and out of each range."""
import os
import sys

import numpy as np

import bitserial

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(1)

# signed 4-bit activations (-8..7), bipolar 2-bit weights (odd, -3..3).
x = rng.integers(-8, 8, size=(2, 70)).astype(np.int8)
w = (2 * rng.integers(0, 4, size=(3, 70)) - 3).astype(np.int8)
np.save(f"{out}/x.npy", x)
np.save(f"{out}/w.npy", w)
wide = np.arange(-100, 40, dtype=np.int8).reshape(2, 70)  # -100..39
np.save(f"{out}/x_wide.npy", wide)
big = x.copy()
big[1, 9] = 8
np.save(f"{out}/x_8.npy", big)
np.save(f"{out}/x_uint8.npy", np.full((2, 70), 200, dtype=np.uint8))
even = w.copy()
even[2, 69] = 2
np.save(f"{out}/w_even.npy", even)

# Packed operands: valid words, and words with a bit past the length.
px = bitserial.pack(x, 4, "signed")          # [2, 4, 2] int64, length 70
pw = bitserial.pack(w, 2, "bipolar")         # [3, 2, 2]
np.save(f"{out}/px.npy", px)
np.save(f"{out}/pw.npy", pw)
stray = px.copy()
stray[1, 3, 1] |= np.int64(1) << np.int64(6)  # bit 64 + 6 = 70: the first past
np.save(f"{out}/px_stray.npy", stray)
top = pw.view(np.uint64).copy()
top[0, 1, 1] |= np.uint64(1) << np.uint64(63)
np.save(f"{out}/pw_top.npy", top)
# 8-bit words: length 70 needs 9 words, bits 70.. of the last one are zero.
px8 = bitserial.pack(x, 4, "signed", word_bits=8)
np.save(f"{out}/px8.npy", px8)
stray8 = px8.copy()
stray8[0, 0, 8] = np.int8(-128)
np.save(f"{out}/px8_stray.npy", stray8)
