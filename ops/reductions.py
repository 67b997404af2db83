"""Reductions over ``axis`` (None, int or tuple) with ``keepdims``, numpy style."""

import numpy as np

from autograd.function import defop

__all__ = ["sum", "mean"]


def normalize_axis(axis, ndim, name):
    """``axis`` as a sorted tuple of non-negative ints; a clear error when out of range."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = []
    for a in axes:
        if not -ndim <= a < max(ndim, 1) or (ndim == 0 and a not in (0, -1)):
            raise ValueError(f"{name}: axis {a} is out of bounds for an array of {ndim} dims")
        out.append(int(a) % max(ndim, 1))
    if len(set(out)) != len(out):
        raise ValueError(f"{name}: repeated axis in {axis}")
    return tuple(sorted(out)) if ndim else ()


def expand_reduced(g, in_shape, axes, keepdims):
    """Reshape a reduced gradient so it broadcasts against the input.
    (reduced shape) -> (in_shape with 1 at every reduced axis)"""
    if keepdims:
        return g
    return g.reshape(tuple(1 if i in axes else n for i, n in enumerate(in_shape)))


def sum_forward(x, axis=None, keepdims=False):
    axes = normalize_axis(axis, np.ndim(x), "sum")
    return np.sum(x, axis=axes, keepdims=keepdims), axes


def sum_vjp(g, ctx):
    x = ctx.inputs[0]
    g = expand_reduced(g, x.shape, ctx.saved, ctx.inputs[2])
    return np.broadcast_to(g, x.shape), None, None


_sum = defop("sum", sum_forward, sum_vjp, doc="Sum over axis.  VJP: g broadcast back to x")


def sum(x, axis=None, keepdims=False):
    """Sum over ``axis``.  VJP: g broadcast back to the shape of x"""
    return _sum(x, axis, keepdims)


def mean_forward(x, axis=None, keepdims=False):
    axes = normalize_axis(axis, np.ndim(x), "mean")
    return np.mean(x, axis=axes, keepdims=keepdims), axes


def mean_vjp(g, ctx):
    x = ctx.inputs[0]
    count = int(np.prod([x.shape[a] for a in ctx.saved]))
    g = expand_reduced(g, x.shape, ctx.saved, ctx.inputs[2])
    return np.broadcast_to(g / count, x.shape), None, None


_mean = defop("mean", mean_forward, mean_vjp, doc="Mean over axis.  VJP: g / n broadcast to x")


def mean(x, axis=None, keepdims=False):
    """Mean over ``axis``.  VJP: g / n broadcast back to the shape of x"""
    return _mean(x, axis, keepdims)

FUNCTIONS = {"sum": sum, "mean": mean}
