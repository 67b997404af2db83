"""nn functional ops: softmax, log_softmax, linear, dropout, embedding.

Each VJP is written with numpy operators and methods so it also runs on Tensors under
``create_graph=True``; anything a VJP needs from another op goes through ``call``.
"""

import math
import numbers

import numpy as np

from autograd.core.registry import call, defop
from autograd.core.tensor import Tensor
from ops.creation import default_generator
from ops.indexing import OutOfRangeError, scatter_add

__all__ = ["softmax", "log_softmax", "linear", "dropout", "embedding"]


def class_axis(axis, ndim, name):
    """``axis`` as a non-negative int for an array of ``ndim`` >= 1 dims, or a clear error."""
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"{name}: axis must be an int, got {type(axis).__name__} {axis!r}")
    if ndim == 0:
        raise ValueError(f"{name}: expected an array of at least 1 dim, got a 0-d array")
    if not -ndim <= axis < ndim:
        raise ValueError(f"{name}: axis {axis} is out of bounds for an array of {ndim} dims")
    return int(axis) % ndim


def shifted_exp(x, axis):
    """(x - max, e**(x - max), sum of e**(x - max)) along ``axis``: the max shift keeps
    exp from overflowing, so logits of +-1e4 stay finite."""
    shifted = x - x.max(axis=axis, keepdims=True)
    e = np.exp(shifted)
    return shifted, e, e.sum(axis=axis, keepdims=True)


def _as_array(x):
    return x.data if isinstance(x, Tensor) else np.asarray(x)


def as_input(x):
    """Tensors and arrays as they are; lists and scalars become Tensors (default dtype), so
    VJPs can rely on .shape."""
    return x if isinstance(x, (Tensor, np.ndarray)) or x is None else Tensor(x)


def _as_float(x):
    return x if x.dtype.kind in "fc" else x.astype(np.float64)


# --- softmax, log_softmax ---------------------------------------------------------------
def softmax_forward(x, axis=-1):
    axis = class_axis(axis, np.ndim(x), "softmax")
    _, e, s = shifted_exp(_as_float(x), axis)
    e /= s  # e is our own buffer
    return e, axis


def softmax_vjp(g, ctx):
    """out, g (...): gx = out (g - sum(g out, axis))."""
    out, axis = ctx.out, ctx.saved
    return (out * (g - (g * out).sum(axis=axis, keepdims=True)),)


_softmax = defop("softmax", softmax_forward, softmax_vjp,
                 doc="e**x / sum(e**x) along axis.  VJP: out (g - sum(g out, axis))")


def softmax(x, axis=-1):
    """Softmax along ``axis``: non-negative, sums to 1, stable for large logits.

    >>> softmax(Tensor(np.array([1.0, 2.0, 3.0]))).data
    array([0.09003057, 0.24472847, 0.66524096])
    """
    return _softmax(as_input(x), axis=axis)


def log_softmax_forward(x, axis=-1):
    axis = class_axis(axis, np.ndim(x), "log_softmax")
    shifted, _, s = shifted_exp(_as_float(x), axis)
    shifted -= np.log(s)  # shifted is our own buffer
    return shifted, axis


def log_softmax_vjp(g, ctx):
    """out, g (...): gx = g - e**out sum(g, axis)."""
    out, axis = ctx.out, ctx.saved
    return (g - np.exp(out) * g.sum(axis=axis, keepdims=True),)


_log_softmax = defop("log_softmax", log_softmax_forward, log_softmax_vjp,
                     doc="x - logsumexp(x) along axis.  VJP: g - softmax(x) sum(g, axis)")


def log_softmax(x, axis=-1):
    """log(softmax(x)) along ``axis``, computed without overflow or log(0).

    >>> log_softmax(Tensor(np.array([0.0, 1e4]))).data
    array([-10000.,      0.])
    """
    return _log_softmax(as_input(x), axis=axis)


# --- linear -----------------------------------------------------------------------------
def linear_forward(x, w, b=None, /):
    sx, sw = np.shape(x), np.shape(w)
    if len(sw) != 2 or len(sx) == 0 or sx[-1] != sw[0]:
        raise ValueError(
            f"linear: x of shape {sx} and w of shape {sw} don't fit: expected x (..., in) and "
            "w (in, out)"
        )
    # One GEMM over all rows: numpy's matmul of a stacked (N, T, in) array makes a BLAS call
    # per leading index. (..., in) -> (rows, in) @ (in, out) -> (..., out)
    rows = math.prod(sx[:-1])  # not -1: reshape(-1, 0) is ambiguous for in = 0
    out = np.matmul(np.reshape(x, (rows, sw[0])), w).reshape(sx[:-1] + (sw[1],))
    if b is not None:
        try:
            if np.result_type(out, b) == out.dtype:
                np.add(out, b, out=out)  # out is our own buffer: no second (N, out) array
            else:
                out = np.add(out, b)
        except ValueError:
            raise ValueError(
                f"linear: bias of shape {np.shape(b)} does not broadcast to the output shape "
                f"{out.shape} (expected ({sw[1]},))"
            ) from None
    return out, None


def linear_vjp(g, ctx):
    """x (..., in), w (in, out), g (..., out): gx = g @ w^T, gw = x^T @ g over all rows,
    gb = g (the engine sums it over the rows)."""
    x, w = ctx.inputs[:2]
    gx = gw = None
    n = math.prod(x.shape[:-1])  # not -1: reshape(-1, 0) is ambiguous for in/out = 0
    g_rows = g.reshape(n, w.shape[1])  # (..., out) -> (N, out)
    if ctx.needs[0]:
        gx = (g_rows @ w.T).reshape(x.shape)  # (N, out) @ (out, in) -> (N, in) -> (..., in)
    if ctx.needs[1]:
        rows = x.reshape(n, w.shape[0])  # (..., in) -> (N, in)
        gw = rows.T @ g_rows  # (in, N) @ (N, out) -> (in, out)
    return gx, gw, (g if ctx.needs[2] else None)


_linear = defop("linear", linear_forward, linear_vjp,
                doc="x @ w + b.  VJP: (g @ w^T, x^T @ g, g summed over rows)")


def linear(x, w, b=None):
    """``x @ w + b`` with ``w`` of shape (in_features, out_features), one fused op whose
    backward is two plain matrix products.

    >>> x, w, b = Tensor(np.ones((128, 784))), Tensor(np.ones((784, 10))), Tensor(np.zeros(10))
    >>> linear(x, w, b).shape
    (128, 10)
    """
    for name, v in (("x", x), ("w", w), ("b", b)):
        if v is not None and not isinstance(v, (Tensor, np.ndarray, numbers.Number, list)):
            raise TypeError(f"linear: {name} must be a Tensor or an array, got "
                            f"{type(v).__name__}")
    return _linear(as_input(x), as_input(w), as_input(b))


# --- dropout ----------------------------------------------------------------------------
def dropout_forward(x, /, p, rng):
    """The mask is drawn here, in the op, so that a compiled step draws a new one at every
    replay (from the same generator, which ``manual_seed`` reseeds in place)."""
    dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float64)
    # Draw in float32 where we can: half the random bits, and the mask's dtype anyway.
    draw = rng.random(x.shape, dtype=np.float32 if dtype == np.float32 else np.float64)
    mask = (draw >= p).astype(dtype)
    mask *= 1 / (1 - p)
    return x * mask, mask


def dropout_vjp(g, ctx):
    return (g * ctx.saved,)


_dropout = defop("dropout", dropout_forward, dropout_vjp,
                 doc="x * mask, mask 0 with probability p else 1/(1-p).  VJP: g * mask")


def dropout(x, p, training=True, rng=None):
    """Zero each element with probability ``p`` and scale the rest by 1/(1-p), so the
    expected value is unchanged; the identity when ``training`` is False or ``p`` is 0.

    ``rng`` is a ``numpy.random.Generator``; when None the masks come from the library's
    default generator, which ``autograd.manual_seed`` makes reproducible.

    >>> rng = np.random.default_rng(0)
    >>> dropout(Tensor(np.ones(6)), 0.5, rng=rng).data
    array([2., 0., 0., 0., 2., 2.])
    """
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0 <= p < 1:
        raise ValueError(f"dropout: p must be a probability in [0, 1), got {p!r}")
    if rng is not None and not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"dropout: rng must be a numpy.random.Generator, got {type(rng).__name__}"
        )
    if not isinstance(x, Tensor):
        x = Tensor(x)
    if not training or p == 0:
        return x
    return _dropout(x, p=float(p), rng=default_generator() if rng is None else rng)


# --- embedding --------------------------------------------------------------------------
def embedding_forward(weight, /, indices):
    if np.ndim(weight) != 2:
        raise ValueError(
            f"embedding: weight must be 2-D (num_embeddings, dim), got shape {np.shape(weight)}"
        )
    if indices.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be integers, got dtype {indices.dtype}")
    n = weight.shape[0]
    if indices.size:
        lo, hi = indices.min(), indices.max()
        if lo < 0 or hi >= n:
            raise OutOfRangeError(
                f"embedding: index {lo if lo < 0 else hi} is out of range for a weight of "
                f"shape {weight.shape} (valid indices are 0..{n - 1})"
            )
    return np.take(weight, indices, axis=0), None  # indices (...) -> (..., dim)


def embedding_vjp(g, ctx):
    """g (..., dim) added into zeros (num_embeddings, dim) at the rows indexed; repeated
    indices accumulate."""
    return (call(scatter_add, g, shape=ctx.inputs[0].shape, index=ctx.params["indices"]),)


_embedding = defop("embedding", embedding_forward, embedding_vjp,
                   doc="weight[indices].  VJP: g scatter-added into the rows indexed")


def embedding(indices, weight):
    """Rows of ``weight`` (num_embeddings, dim) picked by integer ``indices`` of any shape:
    the result has shape ``indices.shape + (dim,)``.

    >>> weight = Tensor(np.arange(6.0).reshape(3, 2), requires_grad=True)
    >>> embedding(np.array([[0, 2], [2, 2]]), weight).shape
    (2, 2, 2)
    """
    return _embedding(as_input(weight), indices=_as_array(indices))


UFUNCS = {}
FUNCTIONS = {}
