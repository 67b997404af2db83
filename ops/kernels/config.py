"""numba options, in one place for every kernel.

``cache=True`` so a second process starts warm (``python -m autograd.warm`` fills the
cache once, after install). ``nogil=True`` so that ops/kernels/policy.py can run a kernel
on several threads at once. No ``parallel=True``: policy.py says why. ``fastmath`` stays
off: it lets LLVM reorder sums and assume no NaN/inf, which would make kernels disagree
with their numpy references (and hide NaNs a user needs to see).

Kernels are compiled lazily, for the argument types of their first call: a process that
only ever sees float32 compiles nothing for float64.
"""

import numba

JIT = dict(cache=True, fastmath=False, nogil=True)

njit = numba.njit(**JIT)


def vectorize(signatures):
    return numba.vectorize(signatures, cache=True)
