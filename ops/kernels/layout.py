"""A convolution's GEMM result, channel-first, into the NCHW output, plus the bias.

One GEMM over the whole batch, (O, K) @ (K, N*oh*ow), leaves its result channel-first,
(O, N, oh*ow); the op's output is (N, O, oh, ow). numpy's ``np.add(prod.transpose(1, 0,
2), bias, out=out)`` makes that copy three times slower than a plain copy (its broadcast
loop strides through the bias and the transposed operand); this kernel copies whole rows of
oh*ow elements, adding one bias value to each, at the speed of ``np.copyto``. Its work
items are the (sample, channel) rows of the output, which ops/kernels/policy.py may split
over threads.
"""

import numpy as np

from ops.kernels import policy
from ops.kernels.config import njit

__all__ = ["nchw_from_channels_first"]

_u = np.uint64  # unsigned innermost index: numba's wraparound check stops vectorisation


@njit
def _nchw_kernel(start, stop, src, bias, out):
    """out[n, o, :] = src[o, n, :] + bias[o] for the rows t = n * O + o in [start, stop);
    src (O, N, P), bias (O,), out (N, O, P)."""
    n_channels, positions = src.shape[0], src.shape[2]
    for t in range(start, stop):
        n = t // n_channels
        o = t - n * n_channels
        b = bias[o]
        for j in range(_u(positions)):
            out[n, o, j] = src[o, n, j] + b


def nchw_from_channels_first(src, bias, out, parallel=None):
    """src (O, N, P) -> out (N, O, P) with ``bias`` (O,) added to each channel (None: no
    bias). src and out C-contiguous, of one float dtype; ``parallel`` True/False forces a
    run on several threads or on this one, None leaves it to the policy."""
    o, n, _ = src.shape
    if bias is None:
        bias = np.zeros(o, src.dtype)
    policy.run(_nchw_kernel, n * o, (src, np.ascontiguousarray(bias, src.dtype), out),
               family="layout", work=src.size, parallel=parallel)
    return out
