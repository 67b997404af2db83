"""numba options, in one place for every kernel.

``cache=True`` so a second process starts warm. ``fastmath`` stays off: it lets LLVM
reorder sums and assume no NaN/inf, which would make kernels disagree with their numpy
references (and hide NaNs a user needs to see).
"""

import os
import types

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


def serial_and_parallel(fn):
    """(serial, parallel) builds of one kernel source whose loop is a ``prange``: the serial
    one for inputs too small to pay for waking the thread pool, and for tests that check
    the two agree."""
    return njit(_twin(fn, "_serial")), parallel_njit(_twin(fn, "_parallel"))


def _twin(fn, suffix):
    """A copy of ``fn`` under another qualname: numba's cache keys files by qualname, not by
    compile options, so the serial and parallel builds need distinct names."""
    copy = types.FunctionType(
        fn.__code__, fn.__globals__, fn.__name__ + suffix, fn.__defaults__, fn.__closure__
    )
    copy.__qualname__ = fn.__qualname__ + suffix
    copy.__doc__ = fn.__doc__
    return copy
