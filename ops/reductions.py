"""Reductions over ``axis`` (None, int or tuple) with ``keepdims``, numpy style.

Every op takes ``axis`` and ``keepdims`` (and ``ddof``) as keyword parameters, so its VJP
returns a single gradient, and saves the normalised axes tuple (logsumexp: and its shift)
as ``saved``. A VJP first reshapes ``g`` (and ``out`` where it needs it) with
``expand_reduced`` so that it broadcasts against x again; everything after that is plain
numpy arithmetic, which also runs on Tensors under ``create_graph=True``.

``sum``, ``mean``, ``prod``, ``logsumexp`` and ``norm`` also take PyTorch's spelling,
``dim=`` and ``keepdim=``, where it means exactly the same. ``max``/``min`` and
``var``/``std`` do not: PyTorch's ``max(x, dim)`` returns indices too and its ``var``
defaults to the unbiased estimate, so those spellings are the Tensor methods' business
(``ops.tensor_methods``), which give them PyTorch's meaning.
"""

import builtins

import numpy as np

from autograd.core.registry import call, defop

__all__ = ["logsumexp", "max", "mean", "min", "norm", "prod", "std", "sum", "var"]


def normalize_axis(axis, ndim, name):
    """``axis`` as a sorted tuple of non-negative ints; a clear error when out of range."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (int, np.integer)) and not isinstance(axis, bool):
        axes = (axis,)
    else:
        try:
            axes = tuple(axis)
        except TypeError:
            raise TypeError(f"{name}: axis must be None, an int or a tuple of ints, got "
                            f"{axis!r}") from None
        if not all(isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in axes):
            raise TypeError(f"{name}: axis must be None, an int or a tuple of ints, got {axis!r}")
    out = []
    size = builtins.max(ndim, 1)  # numpy lets a 0-d array take axis 0 or -1
    for a in axes:
        if not -size <= a < size:
            raise ValueError(f"{name}: axis {a} is out of bounds for an array of {ndim} dims")
        out.append(int(a) % size)
    if len(set(out)) != len(out):
        raise ValueError(f"{name}: repeated axis in {axis}")
    return tuple(sorted(out)) if ndim else ()


def torch_spelling(name, axis, keepdims, dim, keepdim):
    """``(axis, keepdims)`` from numpy's or PyTorch's keywords; giving both is an error."""
    if dim is not None:
        if axis is not None:
            raise TypeError(f"{name}: give axis= or dim=, not both (got axis={axis!r}, "
                            f"dim={dim!r})")
        axis = dim
    if keepdim is not None:
        if keepdims:
            raise TypeError(f"{name}: give keepdims= or keepdim=, not both")
        keepdims = keepdim
    return axis, bool(keepdims)


def kept(params):
    """The keepdims a reduction was called with, under either spelling."""
    return bool(params.get("keepdims") or params.get("keepdim"))


def expand_reduced(g, in_shape, axes, keepdims):
    """Reshape a reduced gradient so it broadcasts against the input.
    (reduced shape) -> (in_shape with 1 at every reduced axis)"""
    if keepdims:
        return g
    return g.reshape(tuple(1 if i in axes else n for i, n in enumerate(in_shape)))


def _count(shape, axes):
    """How many elements of x go into each element of the output."""
    return int(np.prod([shape[a] for a in axes], dtype=np.int64))


def _nonempty(x, axes, name):
    for a in axes:
        if np.shape(x)[a] == 0:
            raise ValueError(
                f"{name}: cannot reduce over axis {a} of length 0 (array of shape "
                f"{np.shape(x)}); the {name} of no elements is undefined"
            )


# --- sum and mean -----------------------------------------------------------------------
def sum_forward(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
    axis, keepdims = torch_spelling("sum", axis, keepdims, dim, keepdim)
    axes = normalize_axis(axis, np.ndim(x), "sum")
    return np.sum(x, axis=axes, keepdims=keepdims), axes


def sum_vjp(g, ctx):
    x = ctx.inputs[0]
    g = expand_reduced(g, x.shape, ctx.saved, kept(ctx.params))
    return (np.broadcast_to(g, x.shape),)


sum = defop("sum", sum_forward, sum_vjp, doc="Sum over axis.  VJP: g broadcast back to x")



def mean_forward(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
    axis, keepdims = torch_spelling("mean", axis, keepdims, dim, keepdim)
    axes = normalize_axis(axis, np.ndim(x), "mean")
    return np.mean(x, axis=axes, keepdims=keepdims), axes


def mean_vjp(g, ctx):
    x = ctx.inputs[0]
    count = _count(x.shape, ctx.saved)
    g = expand_reduced(g, x.shape, ctx.saved, kept(ctx.params))
    # An empty x gets an empty gradient; dividing by 1 then only avoids a 0/0 warning.
    return (np.broadcast_to(g / (count or 1), x.shape),)


mean = defop("mean", mean_forward, mean_vjp, doc="Mean over axis.  VJP: g / n broadcast to x")



# --- prod -----------------------------------------------------------------------------
def prod_forward(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
    axis, keepdims = torch_spelling("prod", axis, keepdims, dim, keepdim)
    axes = normalize_axis(axis, np.ndim(x), "prod")
    return np.prod(x, axis=axes, keepdims=keepdims), axes


def prod_vjp(g, ctx):
    """Each element's gradient is g times the product of the others in its slice: out / x
    where the slice has no zero (as PyTorch; so a product that underflows to 0 without a
    zero factor gives 0 too). A zero takes the product of the rest if it is the slice's
    only zero, else 0; every nonzero element of a slice holding a zero gets 0.

    Written so that it differentiates exactly too, zeros included. With Z the product of
    a slice's zeros (0, or 1 when there are none) and P the product of its nonzeros:
    nonzero x_i gets Z P / x_i, and a zero gets P times the product of the other zeros,
    W: 1 for a lone zero, for two zeros the other one, (sum of the zeros) - x_i, and 0 from
    three on (where every second derivative vanishes as well)."""
    x = ctx.inputs[0]
    axes = ctx.saved
    keepdims = kept(ctx.params)
    g = expand_reduced(g, x.shape, axes, keepdims)
    zero = np.asarray(x == 0)
    if not zero.any():
        out = expand_reduced(ctx.out, x.shape, axes, keepdims)
        return (g * (out / x),)
    count = zero.sum(axis=axes, keepdims=True)  # zeros per slice, broadcasting against x
    nonzeros = np.where(zero, 1, x)
    p = call(prod, nonzeros, axis=axes, keepdims=True)
    z = call(prod, np.where(zero, x, 1), axis=axes, keepdims=True)
    other_zero = call(sum, np.where(zero, x, 0), axis=axes, keepdims=True) - x
    w = np.where(count == 1, 1, np.where(count == 2, other_zero, 0))
    return (g * np.where(zero, p * w, z * p / nonzeros),)


prod = defop("prod", prod_forward, prod_vjp,
             doc="Product over axis.  VJP: g times the product of the other elements of the "
                 "slice (exact at zeros: a lone zero gets the product of the rest, 0 else)")


# --- max and min ------------------------------------------------------------------------
def _extreme_forward(reduce, name, x, axis, keepdims):
    axes = normalize_axis(axis, np.ndim(x), name)
    _nonempty(x, axes, name)
    return reduce(x, axis=axes, keepdims=keepdims), axes


def _extreme_vjp(g, ctx):
    # Tied extremes share g equally: the average of the one-hot subgradients, so the result
    # does not depend on which tied element numpy happens to report. A NaN wins the
    # reduction (numpy propagates it), so NaN elements take the gradient in their slice.
    x = ctx.inputs[0]
    keepdims = kept(ctx.params)
    out = expand_reduced(ctx.out, x.shape, ctx.saved, keepdims)
    hit = (x == out) | np.isnan(x)
    share = (hit / hit.sum(axis=ctx.saved, keepdims=True)).astype(g.dtype)
    return (expand_reduced(g, x.shape, ctx.saved, keepdims) * share,)


def max_forward(x, axis=None, keepdims=False):
    return _extreme_forward(np.max, "max", x, axis, keepdims)


def min_forward(x, axis=None, keepdims=False):
    return _extreme_forward(np.min, "min", x, axis, keepdims)


max = defop("max", max_forward, _extreme_vjp,
             doc="Max over axis.  VJP: g to the maximal elements, split equally on ties")
min = defop("min", min_forward, _extreme_vjp,
             doc="Min over axis.  VJP: g to the minimal elements, split equally on ties")




# --- variance and standard deviation ----------------------------------------------------
def _dof(shape, axes, ddof, name):
    """n - ddof, the divisor; an error when it leaves no degrees of freedom."""
    if isinstance(ddof, bool) or not isinstance(ddof, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name}: ddof must be a number, got {ddof!r}")
    n = _count(shape, axes)
    if n - ddof <= 0:
        raise ValueError(
            f"{name}: ddof={ddof} leaves no degrees of freedom: {n} element(s) per output "
            f"(array of shape {shape}, axes {axes})"
        )
    return float(n - ddof)  # a Python float keeps g's dtype (a numpy scalar would promote)


def var_forward(x, axis=None, keepdims=False, ddof=0):
    axes = normalize_axis(axis, np.ndim(x), "var")
    _dof(np.shape(x), axes, ddof, "var")
    return np.var(x, axis=axes, keepdims=keepdims, ddof=ddof), axes


def _centered(x, axes):
    return x - call(mean, x, axis=axes, keepdims=True)


def var_vjp(g, ctx):
    x = ctx.inputs[0]
    dof = _dof(x.shape, ctx.saved, ctx.params.get("ddof", 0), "var")
    g = expand_reduced(g, x.shape, ctx.saved, kept(ctx.params))
    return (g * _centered(x, ctx.saved) * (2.0 / dof),)


var = defop("var", var_forward, var_vjp,
             doc="Variance over axis.  VJP: g 2 (x - mean) / (n - ddof)")



def std_forward(x, axis=None, keepdims=False, ddof=0):
    axes = normalize_axis(axis, np.ndim(x), "std")
    _dof(np.shape(x), axes, ddof, "std")
    return np.std(x, axis=axes, keepdims=keepdims, ddof=ddof), axes


def std_vjp(g, ctx):
    x = ctx.inputs[0]
    keepdims = kept(ctx.params)
    dof = _dof(x.shape, ctx.saved, ctx.params.get("ddof", 0), "std")
    out = expand_reduced(ctx.out, x.shape, ctx.saved, keepdims)
    # Where std is 0 every x - mean is 0 too; dividing by 1 there instead of 0 gives the
    # zero subgradient (not NaN) at constant inputs.
    safe = out + (out == 0)
    g = expand_reduced(g, x.shape, ctx.saved, keepdims)
    return (g * _centered(x, ctx.saved) / (safe * dof),)


std = defop("std", std_forward, std_vjp,
             doc="Standard deviation.  VJP: g (x - mean) / ((n - ddof) std); 0 where std = 0")



# --- logsumexp and norm -----------------------------------------------------------------
def logsumexp_forward(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
    axis, keepdims = torch_spelling("logsumexp", axis, keepdims, dim, keepdim)
    axes = normalize_axis(axis, np.ndim(x), "logsumexp")
    _nonempty(x, axes, "logsumexp")
    # Shifting by the max keeps exp from overflowing (x - m <= 0). An infinite max (all -inf,
    # or a +inf present) would make x - m NaN, so those slices shift by 0 instead.
    shift = np.max(x, axis=axes, keepdims=True)
    shift = np.where(np.isfinite(shift), shift, 0)
    with np.errstate(divide="ignore"):  # log 0 = -inf is the answer for an all -inf slice
        out = np.log(np.sum(np.exp(x - shift), axis=axes, keepdims=True)) + shift
    return (out if keepdims else np.squeeze(out, axis=axes)), (axes, shift)


def logsumexp_vjp(g, ctx):
    x = ctx.inputs[0]
    axes, shift = ctx.saved
    # softmax(x) from the forward's shifted exponentials rather than exp(x - out): next to a
    # large out, float32 cannot hold out's fractional digits (1e4 + log 2 is kept to 1e-3).
    # The shift is a constant, so the softmax stays differentiable in x.
    e = np.exp(x - shift)
    softmax = e / call(sum, e, axis=axes, keepdims=True)
    return (expand_reduced(g, x.shape, axes, kept(ctx.params)) * softmax,)


logsumexp = defop("logsumexp", logsumexp_forward, logsumexp_vjp,
                   doc="log sum exp x over axis, stable.  VJP: g softmax(x)")



def norm_forward(x, axis=None, keepdims=False):
    axes = normalize_axis(axis, np.ndim(x), "norm")
    return np.sqrt(np.sum(x * x, axis=axes, keepdims=keepdims)), axes


def norm_vjp(g, ctx):
    x = ctx.inputs[0]
    keepdims = kept(ctx.params)
    out = expand_reduced(ctx.out, x.shape, ctx.saved, keepdims)
    # At a zero norm x is 0 along the slice: dividing by 1 instead of 0 gives the zero
    # (minimum-norm) subgradient, as PyTorch does, rather than NaN.
    safe = out + (out == 0)
    return (expand_reduced(g, x.shape, ctx.saved, keepdims) * x / safe,)


_norm = defop("norm", norm_forward, norm_vjp,
              doc="2-norm (Frobenius) over axis.  VJP: g x / norm; 0 where the norm is 0")


def norm(x, axis=None, keepdims=False, ord=None, *, dim=None, keepdim=None):
    """Euclidean norm sqrt(sum(x**2)) over ``axis``: the vector 2-norm for one axis, the
    Frobenius norm over several (or all). ``ord`` may be None, 'fro', or 2 over a single axis
    (numpy's ord=2 over two axes is the spectral norm, which is not provided). ``dim`` and
    ``keepdim`` are PyTorch's names for ``axis`` and ``keepdims``.
    VJP: g x / norm(x), taken as 0 where the norm is 0 (the minimum-norm subgradient)."""
    axis, keepdims = torch_spelling("norm", axis, keepdims, dim, keepdim)
    if ord is None or (isinstance(ord, str) and ord == "fro"):
        return _norm(x, axis=axis, keepdims=keepdims)
    if isinstance(ord, (int, float, np.integer, np.floating)) and ord == 2:
        ndim = np.ndim(x)
        if len(normalize_axis(axis, ndim, "norm")) == 1 or ndim == 1:
            return _norm(x, axis=axis, keepdims=keepdims)
        raise ValueError(
            f"norm: ord=2 over axes {axis} of an array of {ndim} dims is the spectral norm, "
            "which is not supported; use ord=None for the Frobenius norm"
        )
    raise ValueError(f"norm: ord={ord!r} is not supported; only the 2-norm / Frobenius norm")


def _numpy_norm(x, ord=None, axis=None, keepdims=False):
    """``np.linalg.norm`` on a Tensor (its ``ord`` comes second)."""
    return norm(x, axis=axis, keepdims=keepdims, ord=ord)


FUNCTIONS = {
    "sum": sum, "mean": mean, "max": max, "amax": max, "min": min, "amin": min, "var": var,
    "std": std, "norm": _numpy_norm, "prod": prod,
}
