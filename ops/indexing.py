"""``x[index]``: basic, integer-array and boolean indexing, and its scatter-add adjoint."""

import numpy as np

from autograd.core.registry import call, defop
from autograd.core.tensor import unwrap_index

__all__ = ["getitem", "scatter_add"]


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
