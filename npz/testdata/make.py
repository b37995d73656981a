#!/usr/bin/env python3
"""Writes the NumPy fixtures in this folder; run it from here: python3 make.py.

The values are listed again in fixtures_test.go, so that the tests check
the Go reader against what numpy itself wrote.
"""
import os

import numpy as np

here = os.path.dirname(os.path.abspath(__file__))


def path(*p):
    return os.path.join(here, *p)


inf, nan = np.inf, np.nan

# One (2, 4) array of every dtype the package reads, little-endian, C order.
every = {
    "float16": [1.0, -2.5, 2.0**-14, 2.0**-24, 65504.0, inf, nan, -0.0],
    "float32": [0.0, -1.5, 2.25, 3.4028234663852886e38, -2.0**-149, 0.1, inf, -inf],
    "float64": [0.0, -1.5, np.pi, 1.7976931348623157e308, 5e-324, 0.1, nan, -0.0],
    "int8": [-128, 127, 0, -1, 1, 2, 3, 4],
    "int16": [-32768, 32767, 0, -1, 1, 2, 3, 4],
    "int32": [-2**31, 2**31 - 1, 0, -1, 1, 2, 3, 4],
    "int64": [-2**63, 2**62, 0, -1, 1, 2, 3, 2**53],
    "uint8": [0, 255, 1, 2, 3, 4, 5, 6],
    "uint16": [0, 65535, 1, 2, 3, 4, 5, 6],
    "uint32": [0, 2**32 - 1, 1, 2, 3, 4, 5, 6],
    "uint64": [0, 2**63, 1, 2, 3, 4, 5, 2**53],
    "bool": [True, False, True, True, False, False, True, False],
}
arrays = {k: np.array(v, dtype=k).reshape(2, 4) for k, v in every.items()}
# Other layouts and names.
arrays["scalar"] = np.array(2.5)
arrays["empty"] = np.zeros((0, 3), dtype=np.float32)
arrays["x/conv1.weight"] = np.arange(6, dtype=np.float32).reshape(2, 3)
arrays["bigendian"] = np.array([[1.5, -2.0], [3.25, 1e300]], dtype=">f8")
# C-order values arange(24), stored in Fortran order, big-endian.
arrays["fortran"] = np.asfortranarray(np.arange(24, dtype=">i2").reshape(2, 3, 4))
assert arrays["fortran"].flags.f_contiguous and not arrays["fortran"].flags.c_contiguous

np.savez(path("numpy.npz"), **arrays)
np.savez_compressed(path("compressed.npz"), **arrays)

# Format versions 2.0 and 3.0 (4-byte header length), as .npy files.
for v in (2, 3):
    with open(path("v%d.npy" % v), "wb") as f:
        np.lib.format.write_array(f, arrays["bigendian"], version=(v, 0))

# dtypes the package refuses.
np.savez(path("refused.npz"),
         complex=np.ones((2, 2), dtype=np.complex64),
         object=np.array([{"a": 1}, None], dtype=object),
         strings=np.array(["cat", "dog"]))
