"""Checks .npy files written by bitserial-run against NumPy expressions.

    expect.py NAME=FILE... -- EXPR...

Each EXPR is evaluated with the arrays bound to their NAMEs, `np` and the
`bitserial` reference; it must hold for every element. Prints "PASS: EXPR"
per expression, or the mismatch and exits 1.
"""
import sys

import numpy as np

import bitserial

split = sys.argv.index("--")
names = {"np": np, "bitserial": bitserial}
for binding in sys.argv[1:split]:
    name, path = binding.split("=", 1)
    names[name] = np.load(path)
failed = False
for expr in sys.argv[split + 1:]:
    value = eval(expr, names)  # noqa: S307 - expressions written in the tests
    if not np.all(value):
        print(f"MISMATCH: {expr}")
        failed = True
    else:
        print(f"PASS: {expr}")
sys.exit(1 if failed else 0)
