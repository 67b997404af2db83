"""Running (cumulative) ops along one axis: ``cumsum``.

The VJP of a running sum is the running sum of ``g`` taken from the other end: element i
feeds every output j >= i. It is written with ``np.flip`` and ``np.cumsum``, which dispatch
back to ops on Tensors, so it is differentiable itself.
"""

import numpy as np

from autograd.core.registry import defop
from ops.reductions import torch_spelling
from ops.shape import _axis

__all__ = ["cumsum"]


def cumsum_forward(x, axis=None, *, dim=None):
    """Running sum along ``axis``; of the flattened x when axis is None (numpy)."""
    axis, _ = torch_spelling("cumsum", axis, False, dim, None)
    if axis is None:
        return np.cumsum(np.reshape(x, -1)), None  # (...) -> (size,)
    if np.ndim(x) == 0:
        raise ValueError("cumsum: a 0-d array has no axis to run along; use axis=None")
    axis = _axis(axis, np.ndim(x), "cumsum", np.shape(x))
    return np.cumsum(x, axis=axis), axis


def cumsum_vjp(g, ctx):
    x = ctx.inputs[0]
    axis = ctx.saved
    if axis is None:  # g (size,) -> reversed running sum -> (x.shape)
        return (np.flip(np.cumsum(np.flip(g, 0), axis=0), 0).reshape(np.shape(x)),)
    return (np.flip(np.cumsum(np.flip(g, axis), axis=axis), axis),)


cumsum = defop("cumsum", cumsum_forward, cumsum_vjp,
               doc="Running sum along axis (flattened when None).  "
                   "VJP: the running sum of g from the other end, flip(cumsum(flip(g)))")

FUNCTIONS = {"cumsum": cumsum}
