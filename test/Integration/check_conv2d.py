"""Checks OUT == conv2d(X, W) + INIT for .npy files written by bitserial-run.

    check_conv2d.py [--strides H,W] [--padding T,B,L,R] [--dilations H,W]
        X.npy W.npy INIT.npy OUT.npy

X is NHWC, W is [CO, KH, KW, C] (bitserial.conv2d's layouts); the reference
is plain int64 arithmetic (bitserial.reference.conv2d).
"""
import argparse
import sys

import numpy as np

import bitserial

parser = argparse.ArgumentParser()
ints = lambda s: [int(v) for v in s.split(",")]
parser.add_argument("--strides", type=ints, default=[1, 1])
parser.add_argument("--padding", type=ints, default=[0, 0, 0, 0])
parser.add_argument("--dilations", type=ints, default=[1, 1])
parser.add_argument("files", nargs=4)
args = parser.parse_args()
x, w, init, out = (np.load(p) for p in args.files)
expected = bitserial.conv2d(x.astype(np.int64), w.astype(np.int64),
                            args.strides, args.padding, args.dilations,
                            init=init.astype(np.int64))
if out.dtype != init.dtype or not np.array_equal(out, expected):
    bad = np.argwhere(out != expected)
    print(f"MISMATCH at {len(bad)} of {out.size} outputs, first {bad[:5].tolist()}")
    sys.exit(1)
print(f"exact: {'x'.join(map(str, out.shape))} results match the reference")
