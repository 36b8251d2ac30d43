"""Checks bitserial-run results of the network tests against NumPy.

    check_networks.py MODEL INPUT_PREFIX RESULT.npy...

INPUT_PREFIX<i>.npy are the inputs bitserial-run saved (--save-inputs).
Prints "MODEL: OK <shapes>" or the mismatch and exits 1.
"""
import sys

import numpy as np

model, prefix, results = sys.argv[1], sys.argv[2], sys.argv[3:]
got = [np.load(path) for path in results]


def inputs(count):
    return [np.load(f"{prefix}{i}.npy") for i in range(count)]


def conv_nhwc_ohwi(x, w, stride=1):
    """x [N, H, W, C] (already padded), w [O, KH, KW, C] -> [N, OH, OW, O]."""
    n, h, wd, _ = x.shape
    o, kh, kw, _ = w.shape
    oh, ow = (h - kh) // stride + 1, (wd - kw) // stride + 1
    out = np.zeros((n, oh, ow, o), dtype=np.result_type(x, w))
    for i in range(oh):
        for j in range(ow):
            patch = x[:, i * stride:i * stride + kh, j * stride:j * stride + kw, :]
            out[:, i, j, :] = np.einsum("nhwc,ohwc->no", patch, w)
    return out


def pool(x, k, reduce):
    n, h, w, c = x.shape
    return reduce(x.reshape(n, h // k, k, w // k, k, c), axis=(2, 4))


def rescale(x, multiplier, shift, input_zp, output_zp, low, high):
    """TOSA SINGLE_ROUND per-channel rescale (channel = last axis), exact."""
    v = x.astype(np.int64) - input_zp
    m = multiplier.astype(np.int64)
    s = shift.astype(np.int64)
    y = (v * m + (np.int64(1) << (s - 1))) >> s
    return np.clip(y + output_zp, low, high)


def check(expected, actual, exact):
    ok = expected.shape == actual.shape and (
        np.array_equal(expected, actual) if exact
        else np.allclose(expected, actual, rtol=1e-5, atol=1e-5))
    if not ok:
        print(f"{model}: MISMATCH\nexpected {expected}\ngot {actual}")
        sys.exit(1)


if model == "tosa_float":
    x, w, b, fc = (a.astype(np.float64) for a in inputs(4))
    c = conv_nhwc_ohwi(np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0))), w) + b
    r = np.clip(c, 0.0, 6.0)
    p = pool(pool(r, 2, np.max), 2, np.mean)
    check(p.reshape(1, 16) @ fc[0], got[0], exact=False)
    assert got[0].dtype == np.float32 and np.abs(got[0]).max() > 0.1
elif model == "residual":
    x, w, skip = inputs(3)
    acc = x.astype(np.int64) @ w.astype(np.int64).T + skip
    relu = np.maximum(acc, 0)
    mult = np.array([1073741824, 1518500250, 1859775393, 1276901417,
                     2147483647, 1073741824, 1431655765, 1717986918])
    shift = np.array([31, 32, 33, 31, 32, 33, 31, 32])
    q = rescale(relu, mult, shift, 0, -128, -128, 127)
    check(q.astype(np.int8), got[0], exact=True)
    check(np.argmax(q, axis=1).astype(np.int32), got[1], exact=True)
    # Not degenerate: some channels clamp, others do not.
    assert (q == 127).any() and ((q > -128) & (q < 127)).any()
elif model == "int8_conv":
    x, w, b = inputs(3)
    c = conv_nhwc_ohwi(x.astype(np.int64) + 7, w.astype(np.int64)) + b
    mult = np.array([1073741824, 1518500250, 1859775393, 2147483647])
    shift = np.array([40, 41, 42, 40])
    q = rescale(c, mult, shift, 0, 5, -128, 127)
    p = pool(q, 2, np.max)
    check(p.astype(np.int8), got[0], exact=True)
    check(p.reshape(1, 36).astype(np.int32), got[1], exact=True)
    assert ((p > -128) & (p < 127)).any()
else:
    sys.exit(f"unknown model {model}")
print(f"{model}: OK " + " ".join(str(a.shape) for a in got))
