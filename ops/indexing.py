"""``x[index]``: basic, integer-array and boolean indexing, and its scatter-add adjoint;
``take_along_axis`` (numpy) and ``gather`` (PyTorch), whose VJPs are that same scatter-add;
``one_hot``.
"""

import numpy as np

from autograd.core.registry import call, defop
from autograd.core.tensor import Tensor, unwrap_index

__all__ = ["getitem", "scatter_add", "take_along_axis", "gather", "one_hot"]


class OutOfRangeError(IndexError, ValueError):
    """An index or class label outside its valid range. Both an IndexError (like indexing)
    and a ValueError (like other bad input), as numpy's AxisError is."""


def _has_int_array(index):
    parts = index if isinstance(index, tuple) else (index,)
    for p in parts:
        if isinstance(p, list) or (isinstance(p, np.ndarray) and p.dtype.kind in "iu"):
            return True
    return False


def getitem_forward(x, /, index):
    """x[index]: basic, integer-array or boolean indexing (Tensors in the index allowed)."""
    index = unwrap_index(index)
    try:
        return x[index], None
    except IndexError as e:
        raise IndexError(f"getitem: {e} (array of shape {np.shape(x)}, index {index!r})") from None


def getitem_vjp(g, ctx):
    return (call(scatter_add, g, shape=ctx.inputs[0].shape, index=ctx.params["index"]),)


getitem = defop("getitem", getitem_forward, getitem_vjp, view=True,
                doc="x[index]: basic, integer-array or boolean indexing.  "
                    "VJP: g scattered (added) into zeros at index")


def scatter_add_forward(g, /, shape, index):
    index = unwrap_index(index)
    out = np.zeros(shape, dtype=g.dtype)
    try:
        if _has_int_array(index):
            np.add.at(out, index, g)  # repeated indices accumulate
        else:
            out[index] = g  # slices and boolean masks never repeat an element
    except (IndexError, ValueError) as e:
        raise type(e)(
            f"scatter_add: cannot add values of shape {np.shape(g)} at index {index!r} of an "
            f"array of shape {tuple(shape)} ({e})"
        ) from None
    return out, None


def scatter_add_vjp(g, ctx):
    return (call(getitem, g, index=ctx.params["index"]),)


scatter_add = defop("scatter_add", scatter_add_forward, scatter_add_vjp,
                    doc="zeros(shape) with g added at index.  VJP: g[index]")


# --- take_along_axis and gather ---------------------------------------------------------
def _integer_indices(indices, name):
    indices = np.asarray(indices.data if isinstance(indices, Tensor) else indices)
    if indices.dtype.kind not in "iu":
        raise TypeError(f"{name}: indices must be integers, got dtype {indices.dtype}")
    return indices


def _check_range(indices, n, name, what, negative_ok):
    if indices.size:
        lo, hi = indices.min(), indices.max()
        if hi >= n or lo < (-n if negative_ok else 0):
            bad = hi if hi >= n else lo
            valid = f"{-n}..{n - 1}" if negative_ok else f"0..{n - 1}"
            raise OutOfRangeError(f"{name}: index {bad} is out of range for {what} (valid "
                                  f"indices are {valid})")


def along_axis_index(indices, axis, shape):
    """The integer-array index that picks ``indices`` along ``axis`` of an array of
    ``shape``: ``indices`` at ``axis`` and ``arange(shape[d])`` shaped (1, .., n_d, .., 1) at
    every other d, so the parts broadcast as take_along_axis broadcasts."""
    return tuple(
        indices if d == axis else
        np.arange(n).reshape((1,) * d + (n,) + (1,) * (len(shape) - d - 1))
        for d, n in enumerate(shape)
    )


def take_along_axis_forward(x, indices, /, axis=-1):
    indices = _integer_indices(indices, "take_along_axis")
    x = np.asarray(x)
    shape = x.shape
    if axis is None:
        if indices.ndim != 1:
            raise ValueError(f"take_along_axis: with axis=None indices must be 1-D, got shape "
                             f"{indices.shape}")
        x, shape, axis = np.reshape(x, -1), (np.size(x),), 0  # (...) -> (size,)
    elif indices.ndim != len(shape):
        raise ValueError(
            f"take_along_axis: indices of shape {indices.shape} and array of shape {shape} "
            "must have the same number of dimensions"
        )
    else:
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise TypeError(f"take_along_axis: axis must be an int or None, got {axis!r}")
        if not -len(shape) <= axis < len(shape) or not shape:
            raise ValueError(f"take_along_axis: axis {axis} is out of bounds for an array of "
                             f"shape {shape}")
        axis = int(axis) % len(shape)
        for d, (n, m) in enumerate(zip(shape, indices.shape)):
            if d != axis and n != m and 1 not in (n, m):
                raise ValueError(
                    f"take_along_axis: indices of shape {indices.shape} don't broadcast "
                    f"against the array of shape {shape} along axis {d}"
                )
    _check_range(indices, shape[axis], "take_along_axis",
                 f"axis {axis} of length {shape[axis]} (array of shape {shape})", True)
    index = along_axis_index(indices, axis, shape)
    return x[index], index


def take_along_axis_vjp(g, ctx):
    """g (out shape) added into zeros of x's (flattened, for axis=None) shape at the picked
    places; an index picked twice gets both gradients."""
    x = ctx.inputs[0]
    index = ctx.saved
    if ctx.params.get("axis", -1) is None:
        flat = call(scatter_add, g, shape=(np.size(x),), index=index)  # (size,) -> x.shape
        return flat.reshape(np.shape(x)), None
    return call(scatter_add, g, shape=np.shape(x), index=index), None


take_along_axis = defop(
    "take_along_axis", take_along_axis_forward, take_along_axis_vjp,
    doc="numpy's take_along_axis: out[..., i, ...] = x[..., indices[..., i, ...], ...] along "
        "axis.  VJP: g scatter-added into zeros at the picked places",
)


def gather(x, dim, index):
    """PyTorch's gather: ``out[i][j][k] = x[i][index[i][j][k]][k]`` for ``dim`` 1.

    ``index`` has as many dims as ``x`` and is at most as long along every other dim; the
    result has index's shape. Unlike ``take_along_axis`` nothing broadcasts and negative
    indices are out of range, as in PyTorch.

    >>> x = Tensor(np.array([[1.0, 2.0], [3.0, 4.0]]), requires_grad=True)
    >>> gather(x, 1, np.array([[0, 0], [1, 0]])).data
    array([[1., 1.],
           [4., 3.]])

    VJP: g scatter-added into zeros at the gathered places (through take_along_axis)."""
    index = _integer_indices(index, "gather")
    x = x if isinstance(x, Tensor) else np.asarray(x)
    shape = x.shape
    if index.ndim != len(shape):
        raise ValueError(f"gather: index of shape {index.shape} and input of shape {shape} "
                         "must have the same number of dimensions")
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
        raise TypeError(f"gather: dim must be an int, got {dim!r}")
    if not shape:  # 0-d: numpy has no axis to take along; index must be 0
        _check_range(index, 1, "gather", "a 0-d input", False)
        return take_along_axis(x.reshape(1), index.reshape(1), axis=0).reshape(())
    if not -len(shape) <= dim < len(shape):
        raise ValueError(f"gather: dim {dim} is out of bounds for an input of shape {shape}")
    dim = int(dim) % len(shape)
    for d, (n, m) in enumerate(zip(shape, index.shape)):
        if d != dim and m > n:
            raise ValueError(f"gather: index of shape {index.shape} is longer than the input "
                             f"of shape {shape} along dim {d}")
    _check_range(index, shape[dim], "gather",
                 f"dim {dim} of length {shape[dim]} (input of shape {shape})", False)
    if any(m != n for d, (n, m) in enumerate(zip(shape, index.shape)) if d != dim):
        # PyTorch reads only the leading block of the other dims: cut x down to it.
        x = x[tuple(slice(None) if d == dim else slice(0, m) for d, m in enumerate(index.shape))]
    return take_along_axis(x, index, axis=dim)


# --- one_hot ----------------------------------------------------------------------------
def one_hot(indices, num_classes=-1, dtype=np.int64):
    """PyTorch's one_hot: ``indices`` (...) of class labels -> (..., num_classes) with 1 at
    each label; ``num_classes=-1`` takes max(indices) + 1. Not differentiable: the result is
    a Tensor of ``dtype`` (int64, as PyTorch; pass a float dtype for soft targets).

    >>> one_hot(np.array([0, 2]), 3).data
    array([[1, 0, 0],
           [0, 0, 1]])
    """
    indices = _integer_indices(indices, "one_hot")
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)):
        raise TypeError(f"one_hot: num_classes must be an int, got {num_classes!r}")
    if num_classes == -1:
        if not indices.size:
            raise ValueError("one_hot: cannot infer num_classes from empty indices; pass it")
        num_classes = int(indices.max()) + 1
    if num_classes < 0:
        raise ValueError(f"one_hot: num_classes must be -1 or non-negative, got {num_classes}")
    _check_range(indices, num_classes, "one_hot", f"{num_classes} classes", False)
    out = np.zeros(indices.shape + (num_classes,), dtype=dtype)
    # (...) -> (..., 1): put_along_axis writes one 1 per label along the new last axis.
    np.put_along_axis(out, indices[..., None], 1, axis=-1)
    return Tensor(out)


FUNCTIONS = {"take_along_axis": take_along_axis}
