#!/usr/bin/env python3
"""Writes the NumPy fixtures in this folder; run it from here: python3 make.py.

Every array's values follow a formula that dataset_test.go repeats, so the
tests check the Go reader against what numpy itself wrote.
"""
import os

import numpy as np

here = os.path.dirname(os.path.abspath(__file__))


def path(*p):
    return os.path.join(here, *p)


# savez (stored entries): x float32 (5, 1, 2, 3) = arange * 0.5, y int64 class labels.
np.savez(path("stored.npz"),
         x=(np.arange(30, dtype=np.float32) * 0.5).reshape(5, 1, 2, 3),
         y=np.array([0, 1, 2, 1, 0], dtype=np.int64))

# savez_compressed (deflate): x uint8 (4, 3) = arange, y float64 targets = i / 4.
np.savez_compressed(path("compressed.npz"),
                    x=np.arange(12, dtype=np.uint8).reshape(4, 3),
                    y=np.arange(4, dtype=np.float64) / 4)

# float16 inputs with special values, big-endian int32 labels.
np.savez(path("float16.npz"),
         x=np.array([[1.0, -2.5], [6.1035156e-05, 5.9604645e-08], [65504.0, np.inf], [np.nan, -0.0]],
                    dtype=np.float16),
         y=np.array([3, 2, 1, 0], dtype=">i4"))

# A folder of .npy files: Fortran-ordered float64 x (3, 2, 4) whose C-order
# values are arange(24), big-endian uint16 labels.
os.makedirs(path("fortran"), exist_ok=True)
x = np.asfortranarray(np.arange(24, dtype=np.float64).reshape(3, 2, 4))
assert x.flags.f_contiguous and not x.flags.c_contiguous
np.save(path("fortran", "x.npy"), x)
np.save(path("fortran", "y.npy"), np.array([1, 0, 1], dtype=">u2"))

# Big-endian float64 inputs and bool labels under other names.
np.savez(path("bigendian.npz"),
         inputs=np.array([[1.5, -2.0], [3.25, 1e300]], dtype=">f8"),
         labels=np.array([True, False]))

# String labels, which this package refuses (npz's fixtures hold the other
# dtypes it refuses).
np.savez(path("strings.npz"), x=np.zeros((2, 2)), y=np.array(["cat", "dog"]))
