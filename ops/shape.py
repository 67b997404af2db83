"""Shape ops: they move elements around, so each VJP moves the gradient back."""

import numpy as np

from autograd.function import defop

__all__ = ["reshape", "transpose", "broadcast_to"]


def reshape_forward(x, shape):
    try:
        return np.reshape(x, shape), None
    except ValueError:
        raise ValueError(
            f"reshape: cannot reshape array of shape {np.shape(x)} (size {np.size(x)}) into "
            f"shape {shape}"
        ) from None


def reshape_vjp(g, ctx):
    return g.reshape(ctx.inputs[0].shape), None


_reshape = defop("reshape", reshape_forward, reshape_vjp, view=True,
                 doc="Reshape.  VJP: g reshaped back to the input's shape")


def reshape(x, shape):
    """Give x a new shape (one entry may be -1).  VJP: g reshaped back"""
    if isinstance(shape, (int, np.integer)):
        shape = (int(shape),)
    return _reshape(x, tuple(shape))


def transpose_forward(x, axes=None):
    try:
        return np.transpose(x, axes), None
    except ValueError:
        raise ValueError(
            f"transpose: axes {axes} don't match an array of shape {np.shape(x)}"
        ) from None


def transpose_vjp(g, ctx):
    axes = ctx.inputs[1]
    inverse = None if axes is None else tuple(np.argsort(axes))
    return np.transpose(g, inverse), None


_transpose = defop("transpose", transpose_forward, transpose_vjp, view=True,
                   doc="Permute axes.  VJP: g permuted by the inverse permutation")


def transpose(x, axes=None):
    """Permute the axes (reverse them when axes is None).  VJP: inverse permutation of g"""
    return _transpose(x, None if axes is None else tuple(int(a) for a in axes))


def broadcast_to_forward(x, shape):
    try:
        return np.broadcast_to(x, shape), None
    except ValueError:
        raise ValueError(
            f"broadcast_to: cannot broadcast shape {np.shape(x)} to {shape}"
        ) from None


def broadcast_to_vjp(g, ctx):
    return g, None  # the engine sums g back down to the input's shape


_broadcast_to = defop("broadcast_to", broadcast_to_forward, broadcast_to_vjp, view=True,
                      doc="Broadcast to shape.  VJP: g summed over the broadcast axes")


def broadcast_to(x, shape):
    """Broadcast x to ``shape`` (read-only view).  VJP: g summed over broadcast axes"""
    return _broadcast_to(x, tuple(shape) if not isinstance(shape, int) else (shape,))

FUNCTIONS = {"reshape": reshape, "transpose": transpose, "broadcast_to": broadcast_to}
