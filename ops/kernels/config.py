"""numba options, in one place for every kernel.

``cache=True`` so a second process starts warm. ``fastmath`` stays off: it lets LLVM
reorder sums and assume no NaN/inf, which would make kernels disagree with their numpy
references (and hide NaNs a user needs to see).
"""

import os

# numba's OpenMP threads otherwise spin while idle and take the cores from BLAS's threads,
# which run the GEMM right after an im2col: measured on the CNN, 55 s/epoch spinning against
# 30 s passive. Must be set before the first parallel kernel starts the OpenMP runtime.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numba  # noqa: E402

JIT = dict(cache=True, fastmath=False)
PARALLEL_JIT = dict(JIT, parallel=True)

njit = numba.njit(**JIT)
parallel_njit = numba.njit(**PARALLEL_JIT)


def vectorize(signatures):
    return numba.vectorize(signatures, cache=True)
