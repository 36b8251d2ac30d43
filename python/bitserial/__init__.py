"""bitserial: Python API of the bitserial compiler.

``bitserial.compile`` JIT-compiles an MLIR module and calls it on NumPy
arrays (``bitserial.compiler``; it loads the extension ``bitserial._native``
on first use, so this package imports without a build). ``bitserial.reference``
is the NumPy reference: the exact semantics and the word-dtype convention
(packed words use the signed NumPy dtype of the word width, e.g. int64 for
MLIR i64, because MLIR integers are signless).
"""

from .reference import (  # noqa: F401
    ENCODINGS, WORD_BITS, MAX_BITS,
    word_dtype, num_words, packed_shape,
    value_range, valid_values, random_values,
    encode_planes, decode_planes,
    pack, unpack,
    matmul, conv2d, conv2d_output_shape,
    popcount, bitplane_dot,
    threshold, requantize, dequantize,
)
from . import reference  # noqa: F401
from .compiler import (  # noqa: F401
    compile, Compiled, CompileError, InputError,
    TensorInfo, BenchmarkResult, Profile, ProfileRow, TARGETS, STRATEGIES,
)
from . import compiler  # noqa: F401

__all__ = list(reference.__all__) + ["reference"] + list(compiler.__all__) + ["compiler"]
