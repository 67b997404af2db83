"""ReLU's forward and gradient, one pass each over flat, C-contiguous float arrays.

numpy's ``np.maximum(x, 0)`` and ``g * (x > 0)`` were the two slowest elementwise steps of
the CNN's training step: the maximum runs a NaN-aware loop, and the gradient makes a
boolean temporary and then a second pass. These kernels read their inputs once and write
their output once, in a loop LLVM vectorises, and the drivers split large arrays over the
threads of ops/kernels/policy.py. The results are numpy's to the bit: NaN stays NaN in the
forward, and the gradient is the product ``g * [x > 0]`` (a NaN or infinite g times 0 is
NaN, as in numpy).
"""

import numpy as np

from ops.kernels import policy
from ops.kernels.config import njit

__all__ = ["relu", "relu_grad", "takes"]

# Unsigned indices: with a signed one numba checks every index for wraparound, and the
# loops stop vectorising (5x slower here).
_u = np.uint64


@njit
def _relu_kernel(start, stop, x, out):
    """out[i] = max(x[i], 0) for i in [start, stop), NaN kept (np.maximum's rule)."""
    zero = x.dtype.type(0)
    for i in range(_u(start), _u(stop)):
        v = x[i]
        out[i] = v if (v > zero) | (v != v) else zero


@njit
def _relu_grad_kernel(start, stop, g, x, out):
    """out[i] = g[i] * [x[i] > 0] for i in [start, stop)."""
    one, zero = g.dtype.type(1), g.dtype.type(0)
    for i in range(_u(start), _u(stop)):
        out[i] = g[i] * (one if x[i] > zero else zero)


_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def takes(*arrays):
    """Whether the kernels take these arrays: ndarrays (not Tensors, not subclasses) of one
    float dtype and one shape, all C-contiguous (flattening them is then free)."""
    first = arrays[0]
    return first.__class__ is np.ndarray and first.dtype in _DTYPES and all(
        a.__class__ is np.ndarray and a.dtype == first.dtype and a.shape == first.shape
        and a.flags.c_contiguous for a in arrays)


def relu(x, out, parallel=None):
    """out = max(x, 0): x and out flat C-contiguous arrays of one float dtype and size.
    ``parallel``: True/False forces a run on several threads or on this one, None leaves it
    to the policy."""
    policy.run(_relu_kernel, x.size, (x, out), family="elementwise", work=x.size,
               parallel=parallel)
    return out


def relu_grad(g, x, out, parallel=None):
    """out = g * [x > 0]: flat C-contiguous arrays of one float dtype and size."""
    policy.run(_relu_grad_kernel, g.size, (g, x, out), family="elementwise", work=g.size,
               parallel=parallel)
    return out
