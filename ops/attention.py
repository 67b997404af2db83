"""Scaled dot-product attention as one fused op: softmax(q k^T * scale + mask) v.

The VJP is written with numpy operators and methods: on ndarrays it reuses the saved
attention weights ``p``; under ``create_graph=True`` it recomputes ``p`` from the input
Tensors, so the gradient stays differentiable.
"""

import numbers

import numpy as np

from autograd.core.registry import defop
from autograd.core.tensor import unwrap
from ops.creation import default_generator
from ops.linalg import mT

__all__ = ["attention_dropout_mask", "scaled_dot_product_attention"]


def attention_masks(mask, is_causal, L, S, dtype):
    """(keep, add): a boolean keep-mask and an additive float mask, either may be None."""
    keep = add = None
    if mask is not None:
        mask = np.asarray(unwrap(mask))
        if mask.dtype == bool:
            keep = mask
        elif mask.dtype.kind in "fiu":
            finite = mask > -np.inf
            keep = None if finite.all() else finite
            add = np.where(finite, mask, 0).astype(dtype, copy=False)
        else:
            raise TypeError(
                f"scaled_dot_product_attention: mask must be boolean or float, got dtype "
                f"{mask.dtype}"
            )
    if is_causal:
        causal = np.tril(np.ones((L, S), dtype=bool))
        keep = causal if keep is None else keep & causal
    return keep, add


def _check_shapes(q, k, v):
    if q.ndim < 2 or k.ndim < 2 or v.ndim < 2:
        raise ValueError(
            f"scaled_dot_product_attention: q, k, v need at least 2 dims (..., L, E), got shapes "
            f"{q.shape}, {k.shape}, {v.shape}"
        )
    if q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2]:
        raise ValueError(
            f"scaled_dot_product_attention: shapes q {q.shape}, k {k.shape}, v {v.shape} do not "
            "fit (..., L, E), (..., S, E), (..., S, Ev)"
        )
    if k.shape[-2] == 0:  # softmax over no keys is undefined (numpy: a reduction error)
        raise ValueError(
            f"scaled_dot_product_attention: no keys to attend to (S = 0): q {q.shape}, "
            f"k {k.shape}, v {v.shape}"
        )


def _check_masks(q, k, keep, add, what="mask"):
    scores_shape = np.broadcast_shapes(q.shape[:-2], k.shape[:-2]) + (q.shape[-2], k.shape[-2])
    for m in (keep, add):
        if m is not None:
            try:
                np.broadcast_shapes(m.shape, scores_shape)
            except ValueError:
                raise ValueError(
                    f"scaled_dot_product_attention: {what} of shape {m.shape} does not "
                    f"broadcast to the attention scores {scores_shape}"
                ) from None


def attention_weights(q, k, keep, add, scale):
    """p = softmax(q k^T scale + add) over the keys, 0 where not kept; rows with no key
    kept are all 0. On Tensors the result is differentiable in q and k."""
    s = (q @ mT(k)) * scale  # (..., L, E) @ (..., E, S) -> (..., L, S)
    if add is not None:
        s = s + add
    sd = unwrap(s)
    # The shift is a constant (softmax does not depend on it): no gradient through the max.
    shift = np.max(sd if keep is None else np.where(keep, sd, -np.inf), axis=-1, keepdims=True)
    shift = np.where(np.isfinite(shift), shift, 0)
    if keep is not None:
        s = np.where(keep, s - shift, np.zeros((), dtype=sd.dtype))
        e = np.exp(s) * keep
    else:
        e = np.exp(s - shift)
    total = e.sum(axis=-1, keepdims=True)
    empty = unwrap(total) == 0  # a row with every key masked: output 0
    return e / (total + empty) if empty.any() else e / total


def attention_dropout_mask(shape, p, dtype, rng=None):
    """A dropout mask for attention weights of ``shape`` (..., L, S): 0 with probability
    ``p``, else 1 / (1 - p), so the expected weights are unchanged. ``rng`` a
    ``numpy.random.Generator``; when None, the library's default generator, which
    ``autograd.manual_seed`` makes reproducible (as for ``ops.dropout``)."""
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0 <= p < 1:
        raise ValueError(
            f"scaled_dot_product_attention: dropout_p must be a probability in [0, 1), got {p!r}"
        )
    if rng is not None and not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"scaled_dot_product_attention: rng must be a numpy.random.Generator, got "
            f"{type(rng).__name__}"
        )
    rng = default_generator() if rng is None else rng
    # Draw in float32 where the weights are float32: half the random bits, as ops.dropout.
    draw = rng.random(shape, dtype=np.float32 if dtype == np.float32 else np.float64)
    mask = (draw >= p).astype(dtype)
    mask *= 1 / (1 - p)
    return mask


def sdpa_forward(q, k, v, mask=None, is_causal=False, scale=None, dropout_mask=None):
    """q (..., L, E), k (..., S, E), v (..., S, Ev) -> out (..., L, Ev)."""
    _check_shapes(q, k, v)
    keep, add = attention_masks(mask, is_causal, q.shape[-2], k.shape[-2], q.dtype)
    _check_masks(q, k, keep, add)
    if dropout_mask is not None:
        _check_masks(q, k, np.asarray(dropout_mask), None, "dropout_mask")
    scale = 1.0 / np.sqrt(q.shape[-1]) if scale is None else scale
    p = attention_weights(q, k, keep, add, scale).astype(np.result_type(q, k), copy=False)
    if dropout_mask is not None:  # a float64 mask must not promote float32 attention
        dropout_mask = np.asarray(dropout_mask, dtype=p.dtype)
    dropped = p if dropout_mask is None else p * dropout_mask  # (..., L, S)
    return dropped @ v, (p, keep, add, scale, dropout_mask)


def _sdpa_grads(g, ctx, p):
    """g (..., L, Ev), p (..., L, S) -> gq (..., L, E), gk (..., S, E), gv (..., S, Ev)."""
    q, k, v = ctx.inputs
    scale, dropout_mask = ctx.saved[3], ctx.saved[4]
    dropped = p if dropout_mask is None else p * dropout_mask
    gv = mT(dropped) @ g if ctx.needs[2] else None  # (..., S, L) @ (..., L, Ev)
    gq = gk = None
    if ctx.needs[0] or ctx.needs[1]:
        gp = g @ mT(v)  # (..., L, Ev) @ (..., Ev, S) -> (..., L, S)
        if dropout_mask is not None:
            gp = gp * dropout_mask
        gs = p * (gp - (gp * p).sum(axis=-1, keepdims=True)) * scale  # softmax VJP
        if ctx.needs[0]:
            gq = gs @ k  # (..., L, S) @ (..., S, E)
        if ctx.needs[1]:
            gk = mT(gs) @ q  # (..., S, L) @ (..., L, E)
    return gq, gk, gv


def sdpa_vjp(g, ctx):
    return _sdpa_grads(g, ctx, ctx.saved[0])


def sdpa_graph_vjp(g, ctx):
    """p recomputed from q and k, so that the gradient depends on them."""
    q, k, _ = ctx.inputs
    _, keep, add, scale, _ = ctx.saved
    return _sdpa_grads(g, ctx, attention_weights(q, k, keep, add, scale))


_sdpa = defop(
    "scaled_dot_product_attention", sdpa_forward, sdpa_vjp, graph_vjp=sdpa_graph_vjp,
    doc="(softmax(q k^T s + mask) * dropout_mask) v.  VJP: gv = (p m)^T g, gp = (g v^T) m, "
        "gs = p (gp - rowsum(p gp)) s, gq = gs k, gk = gs^T q (m = dropout_mask or 1)",
)


def scaled_dot_product_attention(q, k, v, mask=None, is_causal=False, scale=None,
                                 dropout_p=0.0, rng=None, dropout_mask=None):
    """softmax(q @ k^T * scale + mask) @ v over the last two axes, batch axes broadcast.

    q (..., L, E), k (..., S, E), v (..., S, Ev) -> (..., L, Ev); ``scale`` defaults to
    1 / sqrt(E). ``mask`` broadcasts to (..., L, S): boolean True = may attend (as
    PyTorch's ``scaled_dot_product_attention``), or float added to the scores (-inf
    blocks). ``is_causal`` blocks keys after the query's position. A query with no key
    to attend gets output 0 (and gradient 0), not NaN. The mask gets no gradient.

    ``dropout_p`` > 0 zeroes each attention weight with that probability and scales the
    rest by 1 / (1 - p), as PyTorch does whenever ``dropout_p`` is given (pass 0 in eval);
    the mask is drawn from ``rng`` (a ``numpy.random.Generator``; when None, the library's
    default generator, which ``autograd.manual_seed`` seeds). Or pass ``dropout_mask``
    (broadcasting to (..., L, S), e.g. from ``attention_dropout_mask``) to use a mask of
    your own.

    VJP: ``gv = (p m)^T g``, ``gs = p (gp - rowsum(p gp)) scale`` with ``gp = (g v^T) m``,
    ``gq = gs k``, ``gk = gs^T q``; ``p`` the attention weights, ``m`` the dropout mask.

    >>> out = ops.scaled_dot_product_attention(q, k, v, is_causal=True)
    """
    if dropout_mask is None and dropout_p:
        qd, kd, vd = (np.asarray(unwrap(a)) for a in (q, k, v))
        _check_shapes(qd, kd, vd)
        scores = np.broadcast_shapes(qd.shape[:-2], kd.shape[:-2]) + (qd.shape[-2],
                                                                      kd.shape[-2])
        dropout_mask = attention_dropout_mask(scores, dropout_p, np.result_type(qd, kd), rng)
    elif dropout_p:
        raise ValueError("scaled_dot_product_attention: give dropout_p or dropout_mask, not both")
    elif dropout_mask is not None:
        dropout_mask = np.asarray(unwrap(dropout_mask))
    return _sdpa(q, k, v, mask=mask if mask is None else np.asarray(unwrap(mask)),
                 is_causal=bool(is_causal), scale=scale, dropout_mask=dropout_mask)
