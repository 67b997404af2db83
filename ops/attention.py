"""Scaled dot-product attention as one fused op: softmax(q k^T * scale + mask) v.

The VJP is written with numpy operators and methods: on ndarrays it reuses the saved
attention weights ``p``; under ``create_graph=True`` it recomputes ``p`` from the input
Tensors, so the gradient stays differentiable.
"""

import numpy as np

from autograd.core.registry import defop
from autograd.core.tensor import unwrap
from ops.linalg import mT

__all__ = ["scaled_dot_product_attention"]


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


def _check_masks(q, k, keep, add):
    scores_shape = np.broadcast_shapes(q.shape[:-2], k.shape[:-2]) + (q.shape[-2], k.shape[-2])
    for m in (keep, add):
        if m is not None:
            try:
                np.broadcast_shapes(m.shape, scores_shape)
            except ValueError:
                raise ValueError(
                    f"scaled_dot_product_attention: mask of shape {m.shape} does not broadcast "
                    f"to the attention scores {scores_shape}"
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


def sdpa_forward(q, k, v, mask=None, is_causal=False, scale=None):
    """q (..., L, E), k (..., S, E), v (..., S, Ev) -> out (..., L, Ev)."""
    _check_shapes(q, k, v)
    keep, add = attention_masks(mask, is_causal, q.shape[-2], k.shape[-2], q.dtype)
    _check_masks(q, k, keep, add)
    scale = 1.0 / np.sqrt(q.shape[-1]) if scale is None else scale
    p = attention_weights(q, k, keep, add, scale).astype(np.result_type(q, k), copy=False)
    return p @ v, (p, keep, add, scale)


def _sdpa_grads(g, ctx, p):
    """g (..., L, Ev), p (..., L, S) -> gq (..., L, E), gk (..., S, E), gv (..., S, Ev)."""
    q, k, v = ctx.inputs
    scale = ctx.saved[3]
    gv = mT(p) @ g if ctx.needs[2] else None  # (..., S, L) @ (..., L, Ev)
    gq = gk = None
    if ctx.needs[0] or ctx.needs[1]:
        gp = g @ mT(v)  # (..., L, Ev) @ (..., Ev, S) -> (..., L, S)
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
    _, keep, add, scale = ctx.saved
    return _sdpa_grads(g, ctx, attention_weights(q, k, keep, add, scale))


_sdpa = defop(
    "scaled_dot_product_attention", sdpa_forward, sdpa_vjp, graph_vjp=sdpa_graph_vjp,
    doc="softmax(q k^T s + mask) v.  VJP: gv = p^T g, gs = p (g v^T - rowsum(p g v^T)) s, "
        "gq = gs k, gk = gs^T q",
)


def scaled_dot_product_attention(q, k, v, mask=None, is_causal=False, scale=None):
    """softmax(q @ k^T * scale + mask) @ v over the last two axes, batch axes broadcast.

    q (..., L, E), k (..., S, E), v (..., S, Ev) -> (..., L, Ev); ``scale`` defaults to
    1 / sqrt(E). ``mask`` broadcasts to (..., L, S): boolean True = may attend (as
    PyTorch's ``scaled_dot_product_attention``), or float added to the scores (-inf
    blocks). ``is_causal`` blocks keys after the query's position. A query with no key
    to attend gets output 0 (and gradient 0), not NaN. The mask gets no gradient.

    VJP: ``gv = p^T g``, ``gs = p (g v^T - rowsum(p * g v^T)) scale``, ``gq = gs k``,
    ``gk = gs^T q`` with ``p`` the attention weights.

    >>> out = ops.scaled_dot_product_attention(q, k, v, is_causal=True)
    """
    return _sdpa(q, k, v, mask=mask if mask is None else np.asarray(unwrap(mask)),
                 is_causal=bool(is_causal), scale=scale)
