"""Tensor's operators and the method forms of ops, installed by the op library.

The engine's Tensor (``autograd.core.tensor``) is the data model only; as in HIPS autograd's
numpy layer, the op library gives it arithmetic and methods, so imports run one way: ops
knows the engine, the engine knows nothing of ops. Each method is a short call into an op.

numpy's and PyTorch's spellings both work where they mean the same (``axis``/``dim``,
``keepdims``/``keepdim``, ``clip``/``clamp``). Where they disagree, numpy's meaning is kept
unless the call can only be PyTorch's, and PyTorch's keywords then get PyTorch's meaning:

- ``x.max(dim=1)`` / ``x.min(dim=1)`` return ``(values, indices)``; with ``axis`` (or
  positionally) the values alone.
- ``x.var(dim=1)`` / ``x.std(dim=1)`` default to the unbiased estimate (``ddof=1``), as do
  ``unbiased=True`` and ``correction=1``; ``x.var(axis=1)`` keeps numpy's ``ddof=0``.
- ``x.transpose(0, 1)`` swaps those two axes (PyTorch); ``x.transpose()`` and
  ``x.transpose((1, 0, 2))`` permute (numpy).
- ``x.size`` is numpy's element count, an int that can also be called: ``x.size()`` is the
  shape and ``x.size(0)`` its first entry (PyTorch).
- ``x.flatten(1)`` flattens from dim 1 (PyTorch's start_dim); ``x.squeeze(dim=1)`` leaves
  an axis that is not of length 1 alone (PyTorch) while ``x.squeeze(1)`` refuses (numpy).
- ``x.sort()`` returns PyTorch's ``(values, indices)`` (ndarray.sort sorts in place and
  returns None); ``x.norm(p, dim)`` and ``x.topk(k)`` are PyTorch's too.
"""

import numpy as np

from autograd.core.tensor import FUNCTIONS, UFUNCS, Tensor, unwrap
from ops import (
    attention, conv, creation, cumulative, elementwise, functional, indexing, linalg, losses,
    normalization, pointwise_losses, pool, products, recurrent, reductions, shape, sorting,
)
from ops.cumulative import cumsum
from ops.elementwise import abs, add, astype, clip, cos, div, exp, expm1, log, log1p, mul, neg
from ops.elementwise import pow, sin, sqrt, square, sub, tanh, where
from ops.activations import relu, sigmoid, silu
from ops.functional import log_softmax, softmax
from ops.indexing import gather, getitem
from ops.linalg import matmul
from ops.reductions import logsumexp, max, mean, min, norm, prod, std, sum, torch_spelling, var
from ops.shape import broadcast_to, chunk, expand_dims, flip, reshape, squeeze, swapaxes
from ops.shape import _axis, _is_int, transpose, tril, triu
from ops.sorting import argmax, argmin, argsort, max_along, min_along, sort, topk

for _module in (elementwise, reductions, shape, indexing, linalg, functional, losses,
                pointwise_losses, conv, pool, normalization, attention, recurrent, cumulative,
                sorting, products, creation):
    UFUNCS.update(getattr(_module, "UFUNCS", {}))
    FUNCTIONS.update(getattr(_module, "FUNCTIONS", {}))


def _reversed(op):
    return lambda self, o: op(o, self)


# Ops bind like functions (Op.__get__), so they are installed as methods directly.
_OPERATORS = {
    "__add__": add, "__sub__": sub, "__mul__": mul, "__truediv__": div, "__pow__": pow,
    "__matmul__": matmul, "__radd__": _reversed(add), "__rsub__": _reversed(sub),
    "__rmul__": _reversed(mul), "__rtruediv__": _reversed(div), "__rpow__": _reversed(pow),
    "__rmatmul__": _reversed(matmul), "__getitem__": getitem, "__neg__": neg, "__abs__": abs,
    "__pos__": lambda self: self,
}


# --- size: numpy's int, PyTorch's method ------------------------------------------------
class CallableSize(int):
    """``x.size``: the number of elements (numpy), and callable as PyTorch's ``x.size()``
    (the shape) or ``x.size(dim)`` (one length)."""

    def __new__(cls, size, shape):
        self = super().__new__(cls, size)
        self.shape = shape
        return self

    def __call__(self, dim=None):
        if dim is None:
            return self.shape
        if not _is_int(dim):
            raise TypeError(f"size: dim must be an int, got {dim!r}")
        if not -len(self.shape) <= dim < len(self.shape):
            raise IndexError(f"size: dim {dim} is out of range for a tensor of shape "
                             f"{self.shape}")
        return self.shape[dim]

    # numpy treats only an exact int as a "weak" Python scalar; handing it our plain int
    # keeps float32 / x.size in float32 instead of promoting to int64's float64.
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        inputs = tuple(int(i) if isinstance(i, CallableSize) else i for i in inputs)
        return getattr(ufunc, method)(*inputs, **kwargs)

    def __reduce__(self):
        return int, (int(self),)  # pickles (and copies) as the plain number


def _size(self):
    return CallableSize(self.data.size, self.data.shape)


# --- reductions -------------------------------------------------------------------------
def _torch_keywords(dim, keepdim):
    """Only the PyTorch keywords actually given, so the op's params stay minimal."""
    return {k: v for k, v in (("dim", dim), ("keepdim", keepdim)) if v is not None}


def _reduction(op):
    def method(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        if dim is None and keepdim is None:  # the common call, kept as cheap as the op's
            return op(self, axis=axis, keepdims=keepdims)
        return op(self, axis=axis, keepdims=keepdims, **_torch_keywords(dim, keepdim))
    method.__name__ = method.__qualname__ = op.__name__
    method.__doc__ = f"``ops.{op.__name__}`` over ``axis`` (or PyTorch's ``dim``)."
    return method


def _extreme(op, along):
    def method(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        if dim is None:
            axis, keepdims = torch_spelling(op.__name__, axis, keepdims, None, keepdim)
            return op(self, axis=axis, keepdims=keepdims)
        if axis is not None or keepdims:
            raise TypeError(f"{op.__name__}: give axis=/keepdims= (values) or dim=/keepdim= "
                            "(values and indices, as PyTorch), not both")
        return along(self, dim, keepdim=bool(keepdim))
    method.__name__ = method.__qualname__ = op.__name__
    method.__doc__ = (f"The {op.__name__} over ``axis`` (numpy); with PyTorch's ``dim=`` the "
                      "named tuple (values, indices) along that dim.")
    return method


def _ddof(name, ddof, dim, unbiased, correction):
    """numpy's ddof=0 unless PyTorch's spelling is used, whose default is unbiased."""
    given = [v for v in (ddof, unbiased, correction) if v is not None]
    if len(given) > 1:
        raise TypeError(f"{name}: give one of ddof=, unbiased= or correction=")
    if ddof is not None:
        return ddof
    if correction is not None:
        return correction
    if unbiased is not None:
        return int(bool(unbiased))
    return 1 if dim is not None else 0


def _spread(op):
    def method(self, axis=None, keepdims=False, ddof=None, *, dim=None, keepdim=None,
               unbiased=None, correction=None):
        ddof = _ddof(op.__name__, ddof, dim, unbiased, correction)
        axis, keepdims = torch_spelling(op.__name__, axis, keepdims, dim, keepdim)
        return op(self, axis=axis, keepdims=keepdims, ddof=ddof)
    method.__name__ = method.__qualname__ = op.__name__
    method.__doc__ = (f"The {op.__name__} over ``axis`` with numpy's ddof=0; PyTorch's "
                      "``dim=``, ``unbiased=`` or ``correction=`` default to unbiased (1).")
    return method


def _amax(self, dim=None, keepdim=False):
    """PyTorch's amax: the max values over ``dim`` (int or tuple), ties sharing g."""
    return max(self, axis=dim, keepdims=keepdim)


def _amin(self, dim=None, keepdim=False):
    """PyTorch's amin: the min values over ``dim`` (int or tuple), ties sharing g."""
    return min(self, axis=dim, keepdims=keepdim)


def _norm(self, p="fro", dim=None, keepdim=False):
    """PyTorch's ``x.norm(p, dim, keepdim)`` for the 2-norm / Frobenius norm."""
    if not (p is None or p == "fro" or (not isinstance(p, str) and p == 2)):
        raise ValueError(f"norm: only the 2-norm (p=2 or 'fro') is supported, got p={p!r}")
    return norm(self, axis=dim, keepdims=keepdim)


def _cumsum(self, axis=None, *, dim=None):
    return cumsum(self, axis=axis, **_torch_keywords(dim, None))


def _arg(fn):
    def method(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        return fn(self, axis=axis, keepdims=keepdims, dim=dim, keepdim=keepdim)
    method.__name__ = method.__qualname__ = fn.__name__
    method.__doc__ = fn.__doc__
    return method


def _sort(self, dim=-1, descending=False, stable=True, *, axis=None):
    """PyTorch's sort: (values, indices) along ``dim``; always stable."""
    return sort(self, axis=dim if axis is None else axis, descending=descending)


def _argsort(self, dim=-1, descending=False, stable=True, *, axis=None):
    return argsort(self, axis=dim if axis is None else axis, descending=descending)


def _topk(self, k, dim=-1, largest=True, sorted=True):
    return topk(self, k, axis=dim, largest=largest, sorted=sorted)


# --- shape ------------------------------------------------------------------------------
def _shape_args(args):
    """``f(2, 3)`` and ``f((2, 3))`` alike."""
    return args[0] if len(args) == 1 and not _is_int(args[0]) else args


def _reshape(self, *shape):
    return reshape(self, _shape_args(shape))


def _view(self, *shape):
    """PyTorch's view: a new shape (a copy when numpy cannot make a view)."""
    if len(shape) == 1 and isinstance(shape[0], (type, np.dtype, str)):
        raise TypeError(f"view: reinterpreting the bytes as dtype {shape[0]!r} is not "
                        "supported; use .to(dtype) or .astype(dtype) to convert values")
    return reshape(self, _shape_args(shape))


def _transpose(self, *axes):
    if len(axes) == 2 and _is_int(axes[0]) and _is_int(axes[1]):
        return swapaxes(self, axes[0], axes[1])  # PyTorch's transpose(dim0, dim1)
    return transpose(self, (axes[0] if len(axes) == 1 else axes) or None)


def _permute(self, *dims):
    return transpose(self, tuple(_shape_args(dims)))


def _t(self):
    """PyTorch's t(): a 2-D tensor transposed; 0-D and 1-D ones as they are."""
    if self.ndim > 2:
        raise ValueError(f"t: expects a tensor of at most 2 dims, got shape {self.shape}; "
                         "use .mT or .transpose(dim0, dim1)")
    return self if self.ndim < 2 else transpose(self)


def _mT(self):
    if self.ndim < 2:
        raise ValueError(f"mT: needs at least 2 dims, got shape {self.shape}")
    return swapaxes(self, -2, -1)


def _flatten(self, start_dim=0, end_dim=-1):
    """PyTorch's flatten: dims start_dim..end_dim merged into one (all of them by default,
    numpy's ndarray.flatten). A view when numpy can make one."""
    if isinstance(start_dim, str):  # numpy's order argument
        if start_dim != "C":
            raise ValueError(f"flatten: only order 'C' is supported, got {start_dim!r}")
        start_dim = 0
    shape = self.shape
    if not shape:
        return reshape(self, (1,))
    start = _axis(start_dim, len(shape), "flatten", shape)
    end = _axis(end_dim, len(shape), "flatten", shape)
    if start > end:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} for "
                         f"shape {shape}")
    # (a..., n_start, ..., n_end, b...) -> (a..., n_start * ... * n_end, b...)
    return reshape(self, shape[:start] + (-1,) + shape[end + 1:])


def _squeeze(self, axis=None, *, dim=None):
    if dim is None:
        return squeeze(self, axis)
    if axis is not None:
        raise TypeError("squeeze: give axis= or dim=, not both")
    dims = (dim,) if _is_int(dim) else tuple(dim)
    # PyTorch: dims that are not of length 1 are left alone.
    ones = tuple(d for d in dims if self.shape[_axis(d, self.ndim, "squeeze", self.shape)] == 1)
    return squeeze(self, ones) if ones else self


def _unsqueeze(self, dim):
    return expand_dims(self, dim)


def _expand(self, *sizes):
    """PyTorch's expand: broadcast to ``sizes``, -1 keeping a dim's length."""
    sizes = tuple(_shape_args(sizes))
    lead = len(sizes) - self.ndim
    if lead < 0:
        raise ValueError(f"expand: {len(sizes)} sizes for a tensor of shape {self.shape}")
    shape = tuple(self.shape[i - lead] if n == -1 and i >= lead else n
                  for i, n in enumerate(sizes))
    return broadcast_to(self, shape)


def _flip(self, *dims):
    return flip(self, tuple(_shape_args(dims)) if dims else None)


def _chunk(self, chunks, dim=0):
    return chunk(self, chunks, axis=dim)


def _unbind(self, dim=0):
    """The slices along ``dim``, that dim removed (PyTorch's unbind)."""
    dim = _axis(dim, self.ndim, "unbind", self.shape)
    lead = (slice(None),) * dim
    return tuple(self[lead + (i,)] for i in range(self.shape[dim]))


def _tril(self, diagonal=0):
    return tril(self, k=diagonal)


def _triu(self, diagonal=0):
    return triu(self, k=diagonal)


def _broadcast_to(self, shape):
    return broadcast_to(self, shape)


# --- values -----------------------------------------------------------------------------
def _clamp(self, min=None, max=None):
    """Values limited to [min, max] (either may be None). PyTorch's clamp, numpy's clip."""
    return clip(self, min, max)


def _masked_fill(self, mask, value):
    """``value`` where ``mask`` is True, else x (PyTorch's masked_fill, out of place). The
    mask broadcasts to x's shape; x gets no gradient where it is replaced."""
    mask = np.asarray(unwrap(mask))
    if mask.dtype != bool:
        raise TypeError(f"masked_fill: mask must be boolean, got dtype {mask.dtype}")
    try:
        fits = np.broadcast_shapes(mask.shape, self.shape) == self.shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"masked_fill: mask of shape {mask.shape} does not broadcast to the "
                         f"tensor's shape {self.shape}")
    if not isinstance(value, Tensor):
        value = np.asarray(value, dtype=self.dtype)  # PyTorch casts the value to x's dtype
    elif value.ndim:
        raise ValueError(f"masked_fill: value must be a number or a 0-d tensor, got shape "
                         f"{value.shape}")
    return where(mask, value, self)


def _where(self, condition, other):
    """PyTorch's ``x.where(condition, other)``: x where condition, else other."""
    return where(np.asarray(unwrap(condition)), self, other)


def _to(self, *args, dtype=None, device=None, copy=False, non_blocking=False):
    """PyTorch's ``to``: a dtype, a tensor (its dtype) or the device 'cpu'; self when
    nothing changes (unless ``copy``)."""
    target = dtype
    for a in args + ((device,) if device is not None else ()):
        if isinstance(a, Tensor):
            target = a.dtype
        elif isinstance(a, str) and a.split(":")[0] in ("cpu", "cuda", "mps", "xpu", "meta"):
            if a.split(":")[0] != "cpu":
                raise RuntimeError(f"to: only the CPU is supported, got device {a!r}")
        else:
            target = a
    if target is None:
        return _clone(self) if copy else self
    try:
        target = np.dtype(target)
    except TypeError:
        raise TypeError(f"to: expected a dtype, a tensor or 'cpu', got {target!r}") from None
    return astype(self, target) if copy or target != self.dtype else self


def _cast(name, dtype):
    def method(self):
        return _to(self, dtype)
    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"The tensor as {np.dtype(dtype).name} (self when it already is)."
    return method


def _type_as(self, other):
    return _to(self, other.dtype)


def _clone(self):
    """A copy that stays in the graph: its gradient flows back to self."""
    return astype(self, self.dtype)


def _softmax(self, axis=-1, *, dim=None):
    return softmax(self, axis if dim is None else dim)


def _log_softmax(self, axis=-1, *, dim=None):
    return log_softmax(self, axis if dim is None else dim)


_METHODS = {
    # reductions
    "sum": _reduction(sum), "mean": _reduction(mean), "prod": _reduction(prod),
    "logsumexp": _reduction(logsumexp), "max": _extreme(max, max_along),
    "min": _extreme(min, min_along), "var": _spread(var), "std": _spread(std), "amax": _amax,
    "amin": _amin, "norm": _norm, "cumsum": _cumsum, "argmax": _arg(argmax),
    "argmin": _arg(argmin), "sort": _sort, "argsort": _argsort, "topk": _topk,
    # shape
    "reshape": _reshape, "view": _view, "transpose": _transpose, "permute": _permute,
    "swapaxes": swapaxes, "flatten": _flatten, "squeeze": _squeeze, "unsqueeze": _unsqueeze,
    "expand_dims": expand_dims, "broadcast_to": _broadcast_to, "expand": _expand,
    "expand_as": lambda self, other: _expand(self, other.shape),
    "view_as": lambda self, other: _view(self, other.shape),
    "reshape_as": lambda self, other: _reshape(self, other.shape),
    "flip": _flip, "chunk": _chunk, "unbind": _unbind, "tril": _tril, "triu": _triu,
    "t": _t, "T": property(transpose), "mT": property(_mT),
    "gather": gather,
    # values
    "exp": exp, "log": log, "sqrt": sqrt, "tanh": tanh, "sigmoid": sigmoid, "relu": relu,
    "abs": abs, "neg": neg, "sin": sin, "cos": cos, "square": square, "log1p": log1p,
    "expm1": expm1, "silu": silu, "pow": pow,
    "clip": _clamp, "clamp": _clamp, "masked_fill": _masked_fill, "where": _where,
    "softmax": _softmax, "log_softmax": _log_softmax,
    # dtype, copies, plain values
    "astype": astype, "to": _to, "float": _cast("float", np.float32),
    "double": _cast("double", np.float64), "half": _cast("half", np.float16),
    "long": _cast("long", np.int64), "int": _cast("int", np.int32),
    "bool": _cast("bool", np.bool_), "type_as": _type_as, "clone": _clone,
    "contiguous": lambda self: self, "cpu": lambda self: self,
    "tolist": lambda self: self.data.tolist(), "numel": lambda self: self.data.size,
    "dim": lambda self: self.data.ndim, "size": property(_size),
}

for _name, _fn in {**_OPERATORS, **_METHODS}.items():
    setattr(Tensor, _name, _fn)
