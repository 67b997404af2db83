"""numba options, in one place for every kernel.

``cache=True`` so a second process starts warm. ``fastmath`` stays off: it lets LLVM
reorder sums and assume no NaN/inf, which would make kernels disagree with their numpy
references (and hide NaNs a user needs to see).
"""

import numba

JIT = dict(cache=True, fastmath=False)
PARALLEL_JIT = dict(JIT, parallel=True)

njit = numba.njit(**JIT)
parallel_njit = numba.njit(**PARALLEL_JIT)


def vectorize(signatures):
    return numba.vectorize(signatures, cache=True)
