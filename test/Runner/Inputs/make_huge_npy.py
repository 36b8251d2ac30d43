"""Writes .npy files whose headers claim huge shapes (no data behind them)."""
import os
import struct
import sys

out = sys.argv[1]
os.makedirs(out, exist_ok=True)


def write(name, shape):
    header = "{'descr': '<i4', 'fortran_order': False, 'shape': %s, }" % shape
    header = header.ljust(118) + "\n"
    with open(f"{out}/{name}", "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)))
        f.write(header.encode())


write("overflow.npy", "(4294967296, 4294967296)")
write("zero_times_huge.npy", "(0, 4611686018427387904)")
write("huge_extent.npy", "(99999999999999999999999, 2)")
write("large.npy", "(1048576, 1048577)")
with open(f"{out}/n8.npy", "wb") as f:
    header = "{'descr': '<i4', 'fortran_order': False, 'shape': (8,), }".ljust(118) + "\n"
    f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)))
    f.write(header.encode() + bytes(32))
