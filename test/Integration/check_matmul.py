"""Checks OUT == X @ W^T + INIT for .npy files written by bitserial-run."""
import sys

import numpy as np

import bitserial

x, w, init, out = (np.load(p) for p in sys.argv[1:5])
assert x.min() >= -2 and x.max() <= 1, "x outside signed 2-bit range"
assert set(np.unique(w)) <= {-1, 1}, "w outside bipolar 1-bit range"
expected = bitserial.matmul(x.astype(np.int64), w.astype(np.int64), init=init)
if out.dtype != np.int32 or not np.array_equal(out, expected):
    print("MISMATCH", out, expected, sep="\n")
    sys.exit(1)
print(f"exact: {out.shape[0]}x{out.shape[1]} results match the reference")
