"""Plain NumPy reference semantics of the bitserial dialect (the test oracle).

Everything here is deliberately simple and independent of the MLIR code:

* ``pack`` / ``unpack`` implement the ``#bitserial.packed`` layout: a logical
  integer tensor ``[..., K]`` becomes words ``[..., bits, ceil(K / word_bits)]``
  (plane outside the word); bit ``k % word_bits`` of word ``k // word_bits`` of
  plane ``p`` is plane ``p`` of element ``k``; bits past ``K`` are zero.
* ``matmul`` and ``conv2d`` work on *decoded* integers with plain int64
  arithmetic; they define the exact result every bitserial kernel must match.
* ``bitplane_dot`` computes a matmul from *packed* words through the popcount
  identities, so the identities themselves are checked against ``matmul``.

Word dtype convention
---------------------
MLIR integer types are signless, and a ``tensor<...xi64>`` is read and written
by NumPy (e.g. ``np.save`` of a memref, the Python bindings' buffers) as
``int64``.  ``pack`` therefore returns the *signed* dtype of the word width
(``np.int8``, ``np.int16``, ``np.int32`` or ``np.int64`` for i8/i16/i32/i64):
the bit pattern is what matters, so a word whose top bit is set appears
negative.  Use ``words.view(np.uint64)`` (etc.) to see unsigned bit patterns.
``unpack`` and ``bitplane_dot`` accept signed or unsigned integer words and
infer ``word_bits`` from the dtype's size.
"""

import numpy as np

__all__ = [
    "ENCODINGS", "WORD_BITS", "MAX_BITS",
    "word_dtype", "num_words", "packed_shape",
    "value_range", "valid_values", "random_values",
    "encode_planes", "decode_planes",
    "pack", "unpack",
    "matmul", "conv2d", "conv2d_output_shape",
    "popcount", "bitplane_dot",
    "threshold", "requantize", "dequantize",
]

ENCODINGS = ("unsigned", "signed", "bipolar")
WORD_BITS = (8, 16, 32, 64)
MAX_BITS = 8

_SIGNED_WORD = {8: np.int8, 16: np.int16, 32: np.int32, 64: np.int64}
_UNSIGNED_WORD = {8: np.uint8, 16: np.uint16, 32: np.uint32, 64: np.uint64}


# ---------------------------------------------------------------------------
# Argument checking
# ---------------------------------------------------------------------------

def _check_bits(bits):
    if isinstance(bits, (bool, np.bool_)) or not isinstance(bits, (int, np.integer)):
        raise ValueError(f"bits must be an integer in [1, {MAX_BITS}], got {bits!r}")
    bits = int(bits)
    if not 1 <= bits <= MAX_BITS:
        raise ValueError(f"bits must be in [1, {MAX_BITS}], got {bits}")
    return bits


def _check_encoding(encoding):
    name = getattr(encoding, "value", encoding)  # tolerate enum-like objects
    if isinstance(name, str) and name.lower() in ENCODINGS:
        return name.lower()
    raise ValueError(f"encoding must be one of {ENCODINGS}, got {encoding!r}")


def _check_word_bits(word_bits):
    if isinstance(word_bits, (bool, np.bool_)) or word_bits not in WORD_BITS:
        raise ValueError(f"word_bits must be one of {WORD_BITS}, got {word_bits!r}")
    return int(word_bits)


def _check_length(length):
    if isinstance(length, (bool, np.bool_)) or not isinstance(length, (int, np.integer)):
        raise ValueError(f"length must be a positive integer, got {length!r}")
    if length < 1:
        raise ValueError(f"length must be positive, got {length}")
    return int(length)


def _as_int_array(x, name):
    x = np.asarray(x)
    if x.dtype == np.bool_ or not np.issubdtype(x.dtype, np.integer):
        raise ValueError(f"{name} must be an integer array, got dtype {x.dtype}")
    return x


# ---------------------------------------------------------------------------
# Layout helpers
# ---------------------------------------------------------------------------

def word_dtype(word_bits):
    """The NumPy dtype of a signless ``i<word_bits>`` word (the signed one)."""
    return np.dtype(_SIGNED_WORD[_check_word_bits(word_bits)])


def num_words(length, word_bits=64):
    """``ceil(length / word_bits)``: words per plane holding ``length`` bits."""
    length = _check_length(length)
    word_bits = _check_word_bits(word_bits)
    return -(-length // word_bits)


def packed_shape(shape, bits, word_bits=64):
    """Packed shape of a logical shape ``[..., K]``: ``[..., bits, ceil(K/wb)]``."""
    shape = tuple(int(d) for d in shape)
    if not shape:
        raise ValueError("cannot pack a rank-0 shape (need an innermost axis)")
    return shape[:-1] + (_check_bits(bits), num_words(shape[-1], word_bits))


# ---------------------------------------------------------------------------
# Encodings
# ---------------------------------------------------------------------------

def value_range(bits, encoding):
    """Inclusive ``(lo, hi)`` of the values an encoding can represent.

    unsigned: ``0 .. 2^n - 1``; signed: ``-2^(n-1) .. 2^(n-1) - 1``;
    bipolar: ``-(2^n - 1) .. 2^n - 1`` (odd values only).
    """
    bits = _check_bits(bits)
    encoding = _check_encoding(encoding)
    if encoding == "unsigned":
        return 0, (1 << bits) - 1
    if encoding == "signed":
        return -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    return -((1 << bits) - 1), (1 << bits) - 1


def valid_values(bits, encoding):
    """All representable values, ascending, as an int64 array (2^bits of them)."""
    lo, hi = value_range(bits, encoding)
    step = 2 if _check_encoding(encoding) == "bipolar" else 1
    return np.arange(lo, hi + 1, step, dtype=np.int64)


def random_values(rng, shape, bits, encoding, dtype=np.int64):
    """Uniform random values of an encoding (bipolar ones are odd).

    ``rng`` is a ``np.random.Generator`` (an int seed is also accepted).
    """
    if not isinstance(rng, np.random.Generator):
        rng = np.random.default_rng(rng)
    values = valid_values(bits, encoding)
    return values[rng.integers(0, values.size, size=shape)].astype(dtype)


def _check_range(x, bits, encoding):
    lo, hi = value_range(bits, encoding)
    bad = (x < lo) | (x > hi)
    if encoding == "bipolar":
        bad |= (x % 2) == 0
    if np.any(bad):
        first = x[bad].flat[0]
        what = f"odd integers in [{lo}, {hi}]" if encoding == "bipolar" else f"[{lo}, {hi}]"
        raise ValueError(
            f"{np.count_nonzero(bad)} value(s) outside the range of {bits}-bit "
            f"{encoding} ({what}), e.g. {int(first)}")


def encode_planes(x, bits, encoding):
    """Plane code ``u`` of each value (``v = decode(u)``), checked, as int64.

    unsigned: ``u = v``; signed: ``u = v mod 2^n``; bipolar: ``u = (v + 2^n - 1) / 2``.
    """
    bits = _check_bits(bits)
    encoding = _check_encoding(encoding)
    x = _as_int_array(x, "values")
    _check_range(x, bits, encoding)
    v = x.astype(np.int64)
    if encoding == "unsigned":
        return v
    if encoding == "signed":
        return v & ((1 << bits) - 1)
    return (v + (1 << bits) - 1) // 2


def decode_planes(u, bits, encoding):
    """Decode plane codes ``u`` (bit i = plane i) to values, straight from the
    definitions: ``sum 2^i b_i``, with ``-2^(n-1)`` for a signed top plane and
    ``2^i (2 b_i - 1)`` for bipolar."""
    bits = _check_bits(bits)
    encoding = _check_encoding(encoding)
    u = np.asarray(u).astype(np.int64)
    v = np.zeros(u.shape, dtype=np.int64)
    for i in range(bits):
        b = (u >> i) & 1
        if encoding == "unsigned":
            v += b << i
        elif encoding == "signed":
            v += (b << i) if i < bits - 1 else -(b << i)
        else:
            v += (2 * b - 1) << i
    return v


# ---------------------------------------------------------------------------
# pack / unpack
# ---------------------------------------------------------------------------

def pack(x, bits, encoding, word_bits=64):
    """Pack an integer array ``[..., K]`` to words ``[..., bits, ceil(K/word_bits)]``.

    Returns the signed NumPy dtype of the word width (int64 for i64 words,
    see the module docstring).  Raises ValueError for values outside the
    encoding's range (including even values for bipolar).
    """
    bits = _check_bits(bits)
    encoding = _check_encoding(encoding)
    word_bits = _check_word_bits(word_bits)
    x = _as_int_array(x, "x")
    if x.ndim < 1:
        raise ValueError("pack needs an array of rank >= 1 (packs the innermost axis)")
    length = _check_length(x.shape[-1])
    nw = num_words(length, word_bits)
    codes = encode_planes(x, bits, encoding).astype(np.uint64)
    padded = np.zeros(x.shape[:-1] + (nw * word_bits,), dtype=np.uint64)
    padded[..., :length] = codes
    # [..., nw, wb]: element k sits at word k // wb, bit k % wb.
    padded = padded.reshape(x.shape[:-1] + (nw, word_bits))
    shifts = np.arange(word_bits, dtype=np.uint64)
    planes = []
    for p in range(bits):
        plane_bits = (padded >> np.uint64(p)) & np.uint64(1)
        # Distinct powers of two: the sum is an exact bitwise OR.
        planes.append((plane_bits << shifts).sum(axis=-1, dtype=np.uint64))
    words = np.stack(planes, axis=-2)  # [..., bits, nw]
    return words.astype(_UNSIGNED_WORD[word_bits]).view(_SIGNED_WORD[word_bits])


def _unsigned_words(words, name="words"):
    words = _as_int_array(words, name)
    word_bits = words.dtype.itemsize * 8
    if word_bits not in WORD_BITS:
        raise ValueError(f"{name} must have an 8/16/32/64-bit integer dtype, got {words.dtype}")
    return words.view(_UNSIGNED_WORD[word_bits]), word_bits


def _word_bits_of(words):
    """Per word position, the bit matrix ``[..., nw, wb]`` (uint8 0/1)."""
    u, word_bits = _unsigned_words(words)
    shifts = np.arange(word_bits, dtype=u.dtype)
    return ((u[..., None] >> shifts) & u.dtype.type(1)).astype(np.uint8)


def _check_packed(words, bits, length, name="words"):
    """Validate a packed array; return (unsigned view, word_bits)."""
    bits = _check_bits(bits)
    length = _check_length(length)
    u, word_bits = _unsigned_words(words, name)
    if u.ndim < 2:
        raise ValueError(f"{name} must have rank >= 2 ([..., planes, words]), got rank {u.ndim}")
    nw = -(-length // word_bits)
    if u.shape[-2] != bits:
        raise ValueError(f"{name} plane dimension must be {bits} (bits), got {u.shape[-2]}")
    if u.shape[-1] != nw:
        raise ValueError(
            f"{name} word dimension must be ceil({length}/{word_bits}) = {nw}, got {u.shape[-1]}")
    tail = length - (nw - 1) * word_bits  # valid bits in the last word, 1..wb
    if tail < word_bits:
        mask = u.dtype.type(~((1 << tail) - 1) & ((1 << word_bits) - 1))
        if np.any(u[..., -1] & mask):
            raise ValueError(f"{name} has nonzero bits past the logical length {length}")
    return u, word_bits


def unpack(words, bits, encoding, length, dtype=np.int64):
    """Decode packed words ``[..., bits, nw]`` to an integer array ``[..., length]``.

    ``words`` may be signed or unsigned (word width = dtype size).  Raises
    ValueError for a shape that does not match ``bits``/``length``, nonzero
    bits past ``length``, or a ``dtype`` too narrow for the encoding.
    """
    bits = _check_bits(bits)
    encoding = _check_encoding(encoding)
    u, word_bits = _check_packed(words, bits, length)
    dtype = np.dtype(dtype)
    if dtype == np.bool_ or not np.issubdtype(dtype, np.integer):
        raise ValueError(f"dtype must be an integer dtype, got {dtype}")
    lo, hi = value_range(bits, encoding)
    info = np.iinfo(dtype)
    if lo < info.min or hi > info.max:
        raise ValueError(
            f"dtype {dtype} cannot hold every {bits}-bit {encoding} value [{lo}, {hi}]")
    bitmat = _word_bits_of(u)  # [..., bits, nw, wb]
    bitmat = bitmat.reshape(u.shape[:-1] + (u.shape[-1] * word_bits,))[..., :length]  # [..., bits, length]
    codes = np.zeros(u.shape[:-2] + (length,), dtype=np.int64)
    for p in range(bits):
        codes |= bitmat[..., p, :].astype(np.int64) << p
    return decode_planes(codes, bits, encoding).astype(dtype)


# ---------------------------------------------------------------------------
# Decoded-integer operators
# ---------------------------------------------------------------------------

def _matmul_shapes(a_shape, b_shape, a_name="a", b_name="b", inner="K"):
    """Result shape of a [M,K]/[B,M,K] x [N,K]/[B,N,K] product."""
    if len(a_shape) not in (2, 3):
        raise ValueError(f"{a_name} must have rank 2 ([M, {inner}]) or 3 ([B, M, {inner}]), "
                         f"got shape {tuple(a_shape)}")
    if len(b_shape) not in (2, 3):
        raise ValueError(f"{b_name} must have rank 2 ([N, {inner}]) or 3 ([B, N, {inner}]), "
                         f"got shape {tuple(b_shape)}")
    if len(a_shape) == 3 and len(b_shape) == 3 and a_shape[0] != b_shape[0]:
        raise ValueError(f"{a_name} batch ({a_shape[0]}) must equal {b_name} batch ({b_shape[0]})")
    m, n = a_shape[-2], b_shape[-2]
    if len(a_shape) == 3:
        return (a_shape[0], m, n)
    if len(b_shape) == 3:
        return (b_shape[0], m, n)
    return (m, n)


def _add_init(result, init):
    if init is None:
        return result
    init = _as_int_array(init, "init")
    if init.shape != result.shape:
        raise ValueError(f"init shape {init.shape} must equal the result shape {result.shape}")
    return result + init.astype(np.int64)


def matmul(a, b, init=None):
    """``init + a @ b^T`` on decoded integers, exact in int64.

    ``a`` is ``[M, K]`` or ``[B, M, K]``, ``b`` is ``[N, K]`` or ``[B, N, K]``;
    an operand without a batch dimension is shared by every batch and the
    result is then ``[B, M, N]`` (both batched: batches must be equal).
    """
    a = _as_int_array(a, "a")
    b = _as_int_array(b, "b")
    shape = _matmul_shapes(a.shape, b.shape)
    if a.shape[-1] != b.shape[-1]:
        raise ValueError(f"a and b must have the same reduction length K, "
                         f"got {a.shape[-1]} and {b.shape[-1]}")
    result = np.matmul(a.astype(np.int64), np.swapaxes(b.astype(np.int64), -1, -2))
    result = np.broadcast_to(result, shape).copy()
    return _add_init(result, init)


def _pair(v, name, count, minimum):
    try:
        v = tuple(int(t) for t in v)
    except TypeError:
        raise ValueError(f"{name} must be a sequence of {count} integers, got {v!r}") from None
    if len(v) != count:
        raise ValueError(f"{name} must have {count} elements, got {len(v)}")
    if any(t < minimum for t in v):
        raise ValueError(f"{name} must be >= {minimum}, got {list(v)}")
    return v


def conv2d_output_shape(x_shape, w_shape, strides=(1, 1), padding=(0, 0, 0, 0),
                        dilations=(1, 1)):
    """``(N, OH, OW, CO)`` of an NHWC convolution, with the op's checks."""
    strides = _pair(strides, "strides", 2, 1)
    dilations = _pair(dilations, "dilations", 2, 1)
    padding = _pair(padding, "padding", 4, 0)
    if len(x_shape) != 4:
        raise ValueError(f"x must have rank 4 ([N, H, W, C]), got shape {tuple(x_shape)}")
    if len(w_shape) != 4:
        raise ValueError(f"w must have rank 4 ([CO, KH, KW, C]), got shape {tuple(w_shape)}")
    n, h, w, c = x_shape
    co, kh, kw, wc = w_shape
    if c != wc:
        raise ValueError(f"x and w must have the same channel count, got {c} and {wc}")
    out = []
    for axis, size, pb, pa, k, s, d in (("height", h, padding[0], padding[1], kh, strides[0], dilations[0]),
                                        ("width", w, padding[2], padding[3], kw, strides[1], dilations[1])):
        padded, window = size + pb + pa, d * (k - 1) + 1
        if k < 1 or padded < window:
            raise ValueError(f"padded input {axis} ({padded}) must be at least the "
                             f"dilated filter {axis} ({window})")
        out.append((padded - window) // s + 1)
    return (n, out[0], out[1], co)


def conv2d(x, w, strides=(1, 1), padding=(0, 0, 0, 0), dilations=(1, 1), init=None):
    """NHWC 2-D convolution of decoded integers, exact in int64.

    ``x``: ``[N, H, W, C]``; ``w``: ``[CO, KH, KW, C]``; ``padding``:
    ``[top, bottom, left, right]`` with value 0 (whatever the encoding);
    ``strides`` / ``dilations``: ``[h, w]``.  Result ``[N, OH, OW, CO]``::

        out[n, oh, ow, co] = init + sum_{kh, kw, c}
            x[n, oh*sh + kh*dh - pad_top, ow*sw + kw*dw - pad_left, c] * w[co, kh, kw, c]
    """
    x = _as_int_array(x, "x")
    w = _as_int_array(w, "w")
    n, oh, ow, co = conv2d_output_shape(x.shape, w.shape, strides, padding, dilations)
    sh, sw = _pair(strides, "strides", 2, 1)
    dh, dw = _pair(dilations, "dilations", 2, 1)
    pt, pb, pl, pr = _pair(padding, "padding", 4, 0)
    _, h, wd, c = x.shape
    xp = np.zeros((n, h + pt + pb, wd + pl + pr, c), dtype=np.int64)
    xp[:, pt:pt + h, pl:pl + wd, :] = x
    w64 = w.astype(np.int64)
    out = np.zeros((n, oh, ow, co), dtype=np.int64)
    for i in range(w.shape[1]):
        for j in range(w.shape[2]):
            # Rows i*dh, i*dh + sh, ..., i*dh + (oh-1)*sh of the padded input.
            patch = xp[:, i * dh: i * dh + (oh - 1) * sh + 1: sh,
                          j * dw: j * dw + (ow - 1) * sw + 1: sw, :]
            out += np.einsum("nhwc,oc->nhwo", patch, w64[:, i, j, :])
    return _add_init(out, init)


# ---------------------------------------------------------------------------
# Popcount identities on packed words
# ---------------------------------------------------------------------------

_POPCOUNT8 = np.array([bin(i).count("1") for i in range(256)], dtype=np.int64)


def popcount(words, axis=-1):
    """Total set bits of integer ``words`` summed along ``axis`` (int64)."""
    u, _ = _unsigned_words(words)
    u = np.ascontiguousarray(np.moveaxis(u, axis, -1))
    per_word = _POPCOUNT8[u.view(np.uint8)]  # [..., n * itemsize]
    return per_word.sum(axis=-1)


def _plane_weights(bits, encoding):
    """Weight of each plane's +-value in the decoded sum (top signed plane negative)."""
    w = [1 << i for i in range(bits)]
    if encoding == "signed":
        w[-1] = -w[-1]
    return w


def bitplane_dot(a_words, b_words, a_bits, a_encoding, b_bits, b_encoding, length,
                 init=None, xor_bipolar=True):
    """``matmul(unpack(a), unpack(b), init)`` computed from packed words only.

    ``a_words``: ``[M, a_bits, nw]`` or ``[B, M, a_bits, nw]``; ``b_words``:
    ``[N, b_bits, nw]`` or ``[B, N, b_bits, nw]`` (same word width, same
    ``length`` = K).  For each plane pair (i, j) with AND count
    ``pc(A_i & B_j)`` and row counts ``pc(A_i)``, ``pc(B_j)`` over the valid K
    positions (padding bits are zero), the plane-value dot product is

    * 0/1 x 0/1 (unsigned/signed planes):  ``pc(A&B)``
    * 0/1 x +-1 (b bipolar):               ``2 pc(A&B) - pc(A)``
    * +-1 x 0/1 (a bipolar):               ``2 pc(A&B) - pc(B)``
    * +-1 x +-1:                           ``K - 2 pc(A^B)`` if ``xor_bipolar``,
      else ``4 pc(A&B) - 2 pc(A) - 2 pc(B) + K``

    and it enters with weight ``2^i * 2^j``, negated for each signed top plane.
    """
    a_enc = _check_encoding(a_encoding)
    b_enc = _check_encoding(b_encoding)
    a_bits = _check_bits(a_bits)
    b_bits = _check_bits(b_bits)
    length = _check_length(length)
    ua, wa = _check_packed(a_words, a_bits, length, "a_words")
    ub, wb = _check_packed(b_words, b_bits, length, "b_words")
    if wa != wb:
        raise ValueError(f"a_words and b_words must use the same word width, got {wa} and {wb}")
    shape = _matmul_shapes(ua.shape[:-2] + (0,), ub.shape[:-2] + (0,), "a_words", "b_words",
                           inner="planes, words")
    # Broadcast to [B?, M, 1, nw] x [B?, 1, N, nw] per plane.
    acc = np.zeros(shape, dtype=np.int64)
    a_w = _plane_weights(a_bits, a_enc)
    b_w = _plane_weights(b_bits, b_enc)
    for i in range(a_bits):
        A = ua[..., i, :][..., :, None, :]          # [..., M, 1, nw]
        pc_a = popcount(A)                          # [..., M, 1]
        for j in range(b_bits):
            Bj = ub[..., j, :][..., None, :, :]     # [..., 1, N, nw]
            pc_b = popcount(Bj)                     # [..., 1, N]
            pc_ab = popcount(A & Bj)                # [..., M, N]
            if a_enc != "bipolar" and b_enc != "bipolar":
                term = pc_ab
            elif a_enc != "bipolar":
                term = 2 * pc_ab - pc_a
            elif b_enc != "bipolar":
                term = 2 * pc_ab - pc_b
            elif xor_bipolar:
                term = length - 2 * popcount(A ^ Bj)
            else:
                term = 4 * pc_ab - 2 * pc_a - 2 * pc_b + length
            acc += (a_w[i] * b_w[j]) * np.broadcast_to(term, shape)
    return _add_init(acc, init)


# ---------------------------------------------------------------------------
# Epilogues: accumulators to the next layer's input
# ---------------------------------------------------------------------------

def threshold(acc, thresholds, bits, encoding, descending=None):
    """Decoded values of ``bitserial.threshold``: per-channel threshold counts.

    ``acc`` is ``[..., C]``; ``thresholds`` is ``[C, 2^bits - 1]``.  The count
    of thresholds each value reaches (``acc >= t``, or ``acc <= t`` where
    ``descending[c]``) is mapped to the encoding: ``count`` (unsigned),
    ``count - 2^(bits-1)`` (signed), ``2 count - (2^bits - 1)`` (bipolar).
    Pack the result with ``pack(values, bits, encoding)`` for the op's words.
    """
    _check_bits(bits)
    _check_encoding(encoding)
    acc = _as_int_array(acc, "acc").astype(np.int64)
    t = _as_int_array(thresholds, "thresholds").astype(np.int64)
    channels = acc.shape[-1]
    if t.shape != (channels, (1 << bits) - 1):
        raise ValueError(f"thresholds must have shape {(channels, (1 << bits) - 1)}, got {t.shape}")
    count = np.zeros(acc.shape, dtype=np.int64)
    down = np.zeros(channels, dtype=bool) if descending is None else np.asarray(descending, dtype=bool)
    for c in range(channels):
        for i in range(t.shape[1]):
            if down[c]:
                count[..., c] += acc[..., c] <= t[c, i]
            else:
                count[..., c] += acc[..., c] >= t[c, i]
    if encoding == "signed":
        return count - (1 << (bits - 1))
    if encoding == "bipolar":
        return 2 * count - ((1 << bits) - 1)
    return count


def _srdhm(a, b):
    """gemmlowp's SaturatingRoundingDoublingHighMul on int64 arrays of int32 values."""
    product = a * b
    nudge = np.where(product >= 0, 1 << 30, 1 - (1 << 30))
    total = product + nudge
    # Division by 2^31 rounded toward zero (C++ integer division).
    high = np.where(total >= 0, total // (1 << 31), -((-total) // (1 << 31)))
    overflow = (a == -(1 << 31)) & (b == -(1 << 31))
    return np.where(overflow, (1 << 31) - 1, high)


def _rounding_divide_by_pot(x, exponent):
    mask = (np.int64(1) << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (x < 0)
    return (x >> exponent) + (remainder > threshold)


def requantize(acc, multiplier, shift, zero_point, clamp_min, clamp_max):
    """``bitserial.requantize``: TFLite's MultiplyByQuantizedMultiplier per
    channel (the innermost axis), then ``+ zero_point`` and a clamp; int64 out.
    """
    acc = _as_int_array(acc, "acc").astype(np.int64)
    m = _as_int_array(multiplier, "multiplier").astype(np.int64)
    s = np.clip(_as_int_array(shift, "shift").astype(np.int64), -31, 30)
    left = np.maximum(s, 0)
    right = np.maximum(-s, 0)
    # x << left wraps to int32, as in TFLite's x * (1 << left).
    x = ((acc << left) + (1 << 31)) % (1 << 32) - (1 << 31)
    y = _rounding_divide_by_pot(_srdhm(x, m), right)
    return np.clip(y + int(zero_point), int(clamp_min), int(clamp_max))


def dequantize(acc, scale, bias):
    """``bitserial.dequantize``: ``fl(fl(fl(acc) * scale) + bias)`` per channel,
    in the dtype of ``scale`` (float32 or float64), each step rounded."""
    scale = np.asarray(scale)
    bias = np.asarray(bias, dtype=scale.dtype)
    acc = _as_int_array(acc, "acc")
    value = acc.astype(scale.dtype)
    value = (value * scale).astype(scale.dtype)
    return (value + bias).astype(scale.dtype)
