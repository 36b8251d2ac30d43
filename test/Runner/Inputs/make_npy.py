"""Writes the .npy files (good and bad) that errors.test feeds bitserial-run."""
import os
import sys

import numpy as np

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
x = np.ones((4, 300), dtype=np.int8)
w = np.ones((10, 300), dtype=np.int8)
np.save(f"{out}/x.npy", x)
np.save(f"{out}/w.npy", w)
np.save(f"{out}/x_uint8.npy", x.astype(np.uint8))
np.save(f"{out}/x_int32.npy", x.astype(np.int32))
np.save(f"{out}/x_float.npy", x.astype(np.float32))
np.save(f"{out}/x_shape.npy", np.ones((4, 299), dtype=np.int8))
np.save(f"{out}/x_rank.npy", np.ones((1200,), dtype=np.int8))
np.save(f"{out}/x_fortran.npy", np.asfortranarray(np.ones((4, 300), dtype=np.int8)))
np.save(f"{out}/x_object.npy", np.array([1, "a"], dtype=object), allow_pickle=True)
np.save(f"{out}/x_bigendian.npy", x.astype(">i4"))
with open(f"{out}/x.npy", "rb") as f:
    data = f.read()
with open(f"{out}/x_truncated.npy", "wb") as f:
    f.write(data[:-10])
with open(f"{out}/x_header_truncated.npy", "wb") as f:
    f.write(data[:30])
with open(f"{out}/x_trailing.npy", "wb") as f:
    f.write(data + b"\0\0")
with open(f"{out}/not_npy.npy", "wb") as f:
    f.write(b"hello, world\n")
with open(f"{out}/empty.npy", "wb") as f:
    pass
