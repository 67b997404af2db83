"""Tensors made from nothing: ``zeros``, ``ones``, ``full``, ``arange``, ``rand``, ``randn``
and their ``*_like`` forms, PyTorch style; and the library's default random generator.

Floating results take the default dtype (float32 unless ``set_default_dtype`` changed it),
integer ones int64, as in PyTorch. ``rand``/``randn`` and ``ops.dropout`` draw from one
generator when no ``rng`` is given: fresh OS entropy until ``seed`` (``autograd.manual_seed``)
resets it. Nothing process-wide is touched: numpy's global random state stays the user's.

numpy's own ``np.zeros_like`` etc. on a Tensor give plain arrays (``FUNCTIONS`` below): their
values say nothing about the input's, so there is no gradient to keep.
"""

import numbers

import numpy as np

from autograd.core.tensor import Tensor, get_default_dtype

__all__ = [
    "zeros", "ones", "full", "arange", "rand", "randn", "zeros_like", "ones_like", "full_like",
    "rand_like", "randn_like", "default_generator", "seed",
]

_generator = np.random.default_rng()


def default_generator():
    """The generator ``rand``, ``randn`` and ``ops.dropout`` use when given no ``rng``."""
    return _generator


def seed(value):
    """Reset the default generator to the state of ``numpy.random.default_rng(value)``, in
    place: code holding the generator (a compiled step) draws from the new seed."""
    _generator.bit_generator.state = np.random.default_rng(value).bit_generator.state


def _shape(size, name):
    """``zeros(2, 3)``, ``zeros((2, 3))``, ``zeros([2, 3])`` and ``zeros(())`` alike."""
    if len(size) == 1 and not isinstance(size[0], (int, np.integer)):
        size = size[0]
    try:
        shape = tuple(size)
    except TypeError:
        raise TypeError(f"{name}: size must be ints or one sequence of ints, got "
                        f"{size!r}") from None
    for n in shape:
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
            raise TypeError(f"{name}: size must be ints or one sequence of ints, got {size!r}")
        if n < 0:
            raise ValueError(f"{name}: negative dimension in size {shape}")
    return tuple(int(n) for n in shape)


def _float_dtype(dtype, name):
    dtype = get_default_dtype() if dtype is None else np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"{name}: random values need a floating dtype, got {dtype}")
    return dtype


def _tensor(data, requires_grad, name):
    if requires_grad and data.dtype.kind not in "fc":
        raise TypeError(f"{name}: only floating point tensors can require grad, got dtype "
                        f"{data.dtype}")
    return Tensor(data, requires_grad=requires_grad)


def _inferred_dtype(value):
    """PyTorch's rule for a fill value: bool stays bool, an int int64, a float the default
    dtype; a numpy scalar or array keeps its own."""
    if isinstance(value, (np.generic, np.ndarray)):
        return value.dtype
    if isinstance(value, bool):
        return np.dtype(bool)
    if isinstance(value, numbers.Integral):
        return np.dtype(np.int64)
    return get_default_dtype()


def _value(fill_value):
    return fill_value.data if isinstance(fill_value, Tensor) else fill_value


# --- constant tensors -------------------------------------------------------------------
def zeros(*size, dtype=None, requires_grad=False):
    """A tensor of zeros: ``zeros(2, 3)`` or ``zeros((2, 3))``, the default float dtype
    unless ``dtype`` is given."""
    data = np.zeros(_shape(size, "zeros"), dtype=get_default_dtype() if dtype is None else dtype)
    return _tensor(data, requires_grad, "zeros")


def ones(*size, dtype=None, requires_grad=False):
    """A tensor of ones: ``ones(2, 3)`` or ``ones((2, 3))``."""
    data = np.ones(_shape(size, "ones"), dtype=get_default_dtype() if dtype is None else dtype)
    return _tensor(data, requires_grad, "ones")


def full(size, fill_value, dtype=None, requires_grad=False):
    """A tensor of ``size`` filled with ``fill_value``; the dtype follows the value as in
    PyTorch (bool, int64 for an int, the default float dtype for a float)."""
    fill_value = _value(fill_value)
    shape = _shape((size,), "full")
    data = np.full(shape, fill_value, dtype=_inferred_dtype(fill_value) if dtype is None else dtype)
    return _tensor(data, requires_grad, "full")


def arange(start, end=None, step=1, dtype=None, requires_grad=False):
    """Evenly spaced values in [start, end), PyTorch's ``arange``: int64 when every bound
    is an int, else the default float dtype.

    >>> arange(4).data, arange(0, 1, 0.25).data
    (array([0, 1, 2, 3]), array([0.  , 0.25, 0.5 , 0.75], dtype=float32))
    """
    if end is None:
        start, end = 0, start
    bounds = (start, end, step)
    for v in bounds:
        if isinstance(v, bool) or not isinstance(v, numbers.Real):
            raise TypeError(f"arange: start, end and step must be numbers, got {bounds!r}")
    if step == 0:
        raise ValueError("arange: step must be nonzero")
    if dtype is None:
        integral = all(isinstance(v, numbers.Integral) for v in bounds)
        dtype = np.int64 if integral else get_default_dtype()
    data = np.arange(start, end, step).astype(dtype, copy=False)
    return _tensor(data, requires_grad, "arange")


# --- random tensors ---------------------------------------------------------------------
def _draw(method, size, dtype, requires_grad, rng, name):
    shape = _shape(size, name)
    dtype = _float_dtype(dtype, name)
    rng = default_generator() if rng is None else rng
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"{name}: rng must be a numpy.random.Generator, got "
                        f"{type(rng).__name__}")
    # The generator draws float32 and float64 directly; other floats are cast.
    native = dtype if dtype in (np.float32, np.float64) else np.float64
    data = getattr(rng, method)(shape, dtype=native).astype(dtype, copy=False)
    return _tensor(data, requires_grad, name)


def rand(*size, dtype=None, requires_grad=False, rng=None):
    """Uniform values in [0, 1): ``rand(2, 3)`` or ``rand((2, 3))``, from ``rng`` or the
    default generator (``autograd.manual_seed`` makes it reproducible)."""
    return _draw("random", size, dtype, requires_grad, rng, "rand")


def randn(*size, dtype=None, requires_grad=False, rng=None):
    """Standard normal values: ``randn(2, 3)`` or ``randn((2, 3))``, from ``rng`` or the
    default generator (``autograd.manual_seed`` makes it reproducible)."""
    return _draw("standard_normal", size, dtype, requires_grad, rng, "randn")


# --- the *_like forms: x's shape and (unless dtype is given) its dtype -------------------
def _like_shape_dtype(x, dtype):
    data = x.data if isinstance(x, Tensor) else np.asarray(x)
    return data.shape, (data.dtype if dtype is None else np.dtype(dtype))


def zeros_like(x, dtype=None, requires_grad=False):
    """Zeros of x's shape and dtype."""
    shape, dtype = _like_shape_dtype(x, dtype)
    return _tensor(np.zeros(shape, dtype=dtype), requires_grad, "zeros_like")


def ones_like(x, dtype=None, requires_grad=False):
    """Ones of x's shape and dtype."""
    shape, dtype = _like_shape_dtype(x, dtype)
    return _tensor(np.ones(shape, dtype=dtype), requires_grad, "ones_like")


def full_like(x, fill_value, dtype=None, requires_grad=False):
    """``fill_value`` in x's shape and dtype."""
    shape, dtype = _like_shape_dtype(x, dtype)
    return _tensor(np.full(shape, _value(fill_value), dtype=dtype), requires_grad, "full_like")


def rand_like(x, dtype=None, requires_grad=False, rng=None):
    """Uniform values in [0, 1) in x's shape and (floating) dtype."""
    shape, dtype = _like_shape_dtype(x, dtype)
    return _draw("random", (shape,), dtype, requires_grad, rng, "rand_like")


def randn_like(x, dtype=None, requires_grad=False, rng=None):
    """Standard normal values in x's shape and (floating) dtype."""
    shape, dtype = _like_shape_dtype(x, dtype)
    return _draw("standard_normal", (shape,), dtype, requires_grad, rng, "randn_like")


def _plain(make):
    """numpy's ``make`` (np.zeros_like...) run on the array behind a Tensor."""
    def plain(a, *args, **kwargs):
        return make(a.data if isinstance(a, Tensor) else a, *args, **kwargs)
    plain.__name__ = plain.__qualname__ = make.__name__
    return plain


FUNCTIONS = {name: _plain(getattr(np, name))
             for name in ("zeros_like", "ones_like", "full_like", "empty_like")}
