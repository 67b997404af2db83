"""Ordering: ``sort``, ``argsort``, ``topk``, ``argmax``, ``argmin``, and PyTorch's
``max``/``min`` along a dim with their indices (``max_along``, ``min_along``).

No VJP of their own: an ordering is computed on the data (indices carry no gradient), and
the values are then picked with ``take_along_axis``, whose scatter-add VJP sends each
value's gradient back to the element it came from.

Ties are deterministic: equal values keep their index order (the lower index first) in
either direction, and NaN counts as larger than every number, as in numpy and PyTorch.
"""

from collections import namedtuple

import numpy as np

from autograd.core.tensor import Tensor
from ops.indexing import take_along_axis
from ops.reductions import normalize_axis, torch_spelling
from ops.shape import _axis

__all__ = [
    "sort", "argsort", "topk", "argmax", "argmin", "max_along", "min_along", "ValuesIndices",
]

# As PyTorch's torch.return_types: a tuple that also names its fields.
ValuesIndices = namedtuple("ValuesIndices", ["values", "indices"])


def _data(x):
    return x.data if isinstance(x, Tensor) else np.asarray(x)


def _order(data, axis, descending):
    """Stable argsort along ``axis``. Descending: sort the reversed array ascending and
    reverse the result back, which puts NaN first and keeps ties in index order."""
    if not descending:
        return np.argsort(data, axis=axis, kind="stable")
    n = data.shape[axis]
    return (n - 1) - np.flip(np.argsort(np.flip(data, axis), axis=axis, kind="stable"), axis)


def _one_axis(x, axis, dim, name):
    axis, _ = torch_spelling(name, axis, False, dim, None)
    data = _data(x)
    if data.ndim == 0:
        raise ValueError(f"{name}: a 0-d array has nothing to order")
    return data, _axis(axis, data.ndim, name, data.shape)


def argsort(x, axis=-1, descending=False, *, dim=None):
    """Indices that sort ``x`` along ``axis`` (stable; ``descending`` for largest first),
    as an integer Tensor without gradient."""
    data, axis = _one_axis(x, axis, dim, "argsort")
    return Tensor(_order(data, axis, descending))


def sort(x, axis=-1, descending=False, *, dim=None):
    """Sorted values along ``axis`` and the indices they came from, as PyTorch's sort.

    >>> values, indices = sort(Tensor(np.array([3.0, 1.0, 2.0]), requires_grad=True))
    >>> values.data, indices.data
    (array([1., 2., 3.]), array([1, 2, 0]))

    ``values`` is differentiable (each gradient goes back to the element it came from),
    ``indices`` an integer Tensor. ``np.sort`` on a Tensor gives the values alone.
    VJP: g scattered back through the sorting permutation (take_along_axis)."""
    data, axis = _one_axis(x, axis, dim, "sort")
    order = _order(data, axis, descending)
    return ValuesIndices(take_along_axis(x, order, axis=axis), Tensor(order))


def topk(x, k, axis=-1, largest=True, sorted=True, *, dim=None):
    """The ``k`` largest (``largest=False``: smallest) values along ``axis`` and their
    indices, as PyTorch's topk; always in order, largest (smallest) first, ties by index.

    >>> topk(Tensor(np.array([1.0, 3.0, 2.0])), 2).values.data
    array([3., 2.])

    VJP: g scattered back to the k chosen elements (take_along_axis); the rest get 0."""
    data, axis = _one_axis(x, axis, dim, "topk")
    n = data.shape[axis]
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 0 <= k <= n:
        raise ValueError(f"topk: k must be an integer in 0..{n} for axis {axis} of an array "
                         f"of shape {data.shape}, got {k!r}")
    # (..., n, ...) -> (..., k, ...): the first k of the full order along axis
    order = _order(data, axis, largest)
    order = order[(slice(None),) * axis + (slice(0, int(k)),)]
    return ValuesIndices(take_along_axis(x, order, axis=axis), Tensor(order))


def _arg_extreme(reduce, name, x, axis, keepdims, dim, keepdim):
    axis, keepdims = torch_spelling(name, axis, keepdims, dim, keepdim)
    data = _data(x)
    if axis is not None and data.ndim:
        axis = _axis(axis, data.ndim, name, data.shape)
    elif axis is not None:
        normalize_axis(axis, 0, name)  # a 0-d array takes axis 0 or -1 (numpy); answer 0
        axis = None
    if data.size == 0:
        raise ValueError(f"{name}: an empty array (shape {data.shape}) has no {name[3:]}")
    return Tensor(np.asarray(reduce(data, axis=axis, keepdims=keepdims)))


def argmax(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
    """Index of the largest value (the first one on ties), over the flattened ``x`` when
    ``axis`` is None; an integer Tensor without gradient."""
    return _arg_extreme(np.argmax, "argmax", x, axis, keepdims, dim, keepdim)


def argmin(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
    """Index of the smallest value (the first one on ties), over the flattened ``x`` when
    ``axis`` is None; an integer Tensor without gradient."""
    return _arg_extreme(np.argmin, "argmin", x, axis, keepdims, dim, keepdim)


def _along(reduce, name, x, dim, keepdim):
    data, axis = _one_axis(x, None, dim, name)
    if data.shape[axis] == 0:
        raise ValueError(f"{name}: cannot reduce over dim {axis} of length 0 (array of shape "
                         f"{data.shape})")
    index = reduce(data, axis=axis, keepdims=True)  # (..., 1, ...)
    values = take_along_axis(x, index, axis=axis)
    if not keepdim:
        values, index = values.reshape(values.shape[:axis] + values.shape[axis + 1:]), \
            np.squeeze(index, axis)
    return ValuesIndices(values, Tensor(index))


def max_along(x, dim, keepdim=False):
    """PyTorch's ``max(x, dim)``: the largest values along ``dim`` and their indices (the
    first on ties; NaN wins). VJP: g to the element at the index (take_along_axis)."""
    return _along(np.argmax, "max", x, dim, keepdim)


def min_along(x, dim, keepdim=False):
    """PyTorch's ``min(x, dim)``: the smallest values along ``dim`` and their indices (the
    first on ties; NaN wins). VJP: g to the element at the index (take_along_axis)."""
    return _along(np.argmin, "min", x, dim, keepdim)


def _numpy_sort(a, axis=-1, kind=None, order=None, *, stable=None):
    """``np.sort`` on a Tensor: the values alone (numpy's meaning), differentiable."""
    if order is not None:
        raise TypeError("sort: order= (structured arrays) is not supported on Tensors")
    if axis is None:  # numpy sorts the flattened array
        a, axis = a.reshape(-1), 0
    return sort(a, axis=axis).values


FUNCTIONS = {"sort": _numpy_sort}
