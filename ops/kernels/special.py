"""Special functions numpy lacks, as real numpy ufuncs compiled by numba."""

import math

from ops.kernels.config import vectorize


@vectorize(["float32(float32)", "float64(float64)"])
def erf(x):
    return math.erf(x)
