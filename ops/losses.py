"""Losses, each one fused op with its own VJP: fewer temporaries in the training loop and
no exp/log round trips that could overflow (cross_entropy's gradient is softmax - onehot).

A VJP reuses what the forward saved; the ``graph_vjp`` that runs under ``create_graph``
recomputes softmax (or the difference) from the inputs instead, so that the gradient is itself
differentiable.
"""

import numpy as np

from autograd.core.registry import call, defop
from autograd.core.tensor import Tensor
from ops.elementwise import sigmoid
from ops.functional import (
    OutOfRangeError,
    _as_float,
    _log_softmax,
    _softmax,
    as_input,
    class_axis,
    shifted_exp,
)

__all__ = ["cross_entropy", "nll_loss", "mse_loss", "binary_cross_entropy_with_logits"]

REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(reduction, name):
    if not isinstance(reduction, str) or reduction not in REDUCTIONS:
        raise ValueError(
            f"{name}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}"
        )


def _reduce(loss, reduction):
    if reduction == "none":
        return loss
    return loss.mean() if reduction == "mean" else loss.sum()


def _sample_grad(g, reduction, count, shape):
    """The upstream gradient of each sample's loss, shaped to broadcast against the input:
    g / count for 'mean', g for 'sum', g reshaped to ``shape`` for 'none'."""
    if reduction == "none":
        return g.reshape(shape)
    return g / count if reduction == "mean" else g


def _labels(target, x, axis, name):
    """Integer class labels for ``x`` with classes along ``axis``, expanded to keep that
    axis: (...) -> (..., 1, ...). Wrong shape or a label out of range is a clear error."""
    if target.dtype.kind not in "iu":
        raise TypeError(f"{name}: target must be integer class labels, got dtype {target.dtype}")
    expected = x.shape[:axis] + x.shape[axis + 1:]
    if target.shape != expected:
        raise ValueError(
            f"{name}: class labels of shape {target.shape} don't match input of shape "
            f"{x.shape} with classes along axis {axis}: expected labels of shape {expected}"
        )
    n = x.shape[axis]
    if target.size:
        lo, hi = target.min(), target.max()
        if lo < 0 or hi >= n:
            raise OutOfRangeError(
                f"{name}: class label {lo if lo < 0 else hi} is out of range for input of "
                f"shape {x.shape} ({n} classes along axis {axis})"
            )
    return np.expand_dims(target, axis)


def _onehot(labels, shape, axis, dtype):
    """1 at each label along ``axis``, 0 elsewhere; ``labels`` keep the axis (size 1)."""
    out = np.zeros(shape, dtype=dtype)
    np.put_along_axis(out, labels, 1, axis)
    return out


def _as_target(target):
    """Integer label Tensors carry no gradient: their arrays. Float targets stay Tensors."""
    if isinstance(target, Tensor):
        return target.data if target.dtype.kind in "iub" else target
    return np.asarray(target)


# --- cross_entropy ----------------------------------------------------------------------
def cross_entropy_forward(logits, target, axis=-1, reduction="mean"):
    _check_reduction(reduction, "cross_entropy")
    ax = class_axis(axis, np.ndim(logits), "cross_entropy")
    if target.dtype.kind == "f" and target.shape != logits.shape:
        raise ValueError(
            f"cross_entropy: probability target of shape {target.shape} must have the shape of "
            f"logits {logits.shape} (or give integer class labels of shape "
            f"{logits.shape[:ax] + logits.shape[ax + 1:]})"
        )
    labels = None if target.dtype.kind == "f" else _labels(target, logits, ax, "cross_entropy")
    shifted, e, s = shifted_exp(_as_float(logits), ax)
    log_s = np.log(s)
    if labels is not None:
        # logsumexp - x[label], both shifted by the max: (..., 1, ...) -> (...)
        loss = np.squeeze(log_s - np.take_along_axis(shifted, labels, ax), ax)
        lp = None
    else:
        lp = np.subtract(shifted, log_s, out=shifted)  # log_softmax, in our own buffer
        loss = -(target * lp).sum(axis=ax)
    p = np.divide(e, s, out=e)  # softmax, kept for backward
    return _reduce(loss, reduction), (ax, labels, p, lp)


def _cross_entropy_grads(g, ctx, probs, log_probs):
    """logits x, probs = softmax(x) (..., C, ...); gs the per-sample g: labels -> gx =
    (probs - onehot) gs; probabilities t -> gx = (probs sum(t) - t) gs, gt = -log_probs gs."""
    x, target = ctx.inputs[:2]
    ax, labels = ctx.saved[:2]
    keep = x.shape[:ax] + (1,) + x.shape[ax + 1:]
    gs = _sample_grad(g, ctx.params.get("reduction", "mean"), int(np.prod(keep)), keep)
    gx = gt = None
    if ctx.needs[0] and labels is not None:
        gx = (probs - _onehot(labels, x.shape, ax, probs.dtype)) * gs
    elif ctx.needs[0]:
        gx = (probs * target.sum(axis=ax, keepdims=True) - target) * gs
    if ctx.needs[1]:  # only probability targets can want a gradient
        gt = -(log_probs * gs)
    return gx, gt


def cross_entropy_vjp(g, ctx):
    """From the softmax the forward saved; with labels, onehot is subtracted in place."""
    x = ctx.inputs[0]
    ax, labels, p, lp = ctx.saved
    if not (ctx.needs[0] and labels is not None):
        return _cross_entropy_grads(g, ctx, p, lp)
    keep = x.shape[:ax] + (1,) + x.shape[ax + 1:]
    gs = _sample_grad(g, ctx.params.get("reduction", "mean"), int(np.prod(keep)), keep)
    gx = p * gs
    np.put_along_axis(gx, labels, np.take_along_axis(gx, labels, ax) - gs, ax)
    return gx, None


def cross_entropy_graph_vjp(g, ctx):
    """softmax and log_softmax recomputed from the logits, so the gradient depends on them."""
    x = ctx.inputs[0]
    ax = ctx.saved[0]
    return _cross_entropy_grads(g, ctx, call(_softmax, x, axis=ax),
                                call(_log_softmax, x, axis=ax))


_cross_entropy = defop(
    "cross_entropy", cross_entropy_forward, cross_entropy_vjp,
    graph_vjp=cross_entropy_graph_vjp,
    doc="-sum(t log_softmax(x)) per sample.  VJP: (softmax(x) sum(t) - t) g, -log_softmax(x) g",
)


def cross_entropy(logits, target, axis=-1, reduction="mean"):
    """Softmax cross entropy of ``logits`` with classes along ``axis``.

    ``target`` is integer class labels (the shape of logits without ``axis``) or class
    probabilities (the shape of logits). ``reduction``: 'mean' over samples, 'sum' or 'none'
    (one loss per sample). Stable for any finite logits.

    >>> logits = Tensor(np.array([[2.0, 0.0, 0.0], [0.0, 0.0, 0.0]]), requires_grad=True)
    >>> loss = cross_entropy(logits, np.array([0, 2]))
    >>> loss.backward()                    # logits.grad = (softmax - onehot) / 2
    """
    return _cross_entropy(as_input(logits), _as_target(target), axis=axis, reduction=reduction)


# --- nll_loss ---------------------------------------------------------------------------
def nll_loss_forward(log_probs, target, axis=-1, reduction="mean"):
    _check_reduction(reduction, "nll_loss")
    ax = class_axis(axis, np.ndim(log_probs), "nll_loss")
    labels = _labels(target, log_probs, ax, "nll_loss")
    loss = -np.squeeze(np.take_along_axis(log_probs, labels, ax), ax)  # (..., 1, ...) -> (...)
    return _reduce(loss, reduction), (ax, labels)


def nll_loss_vjp(g, ctx):
    """log_probs (..., C, ...): gx = -onehot(target) gs (gs the per-sample g)."""
    x = ctx.inputs[0]
    ax, labels = ctx.saved
    keep = x.shape[:ax] + (1,) + x.shape[ax + 1:]
    gs = _sample_grad(g, ctx.params.get("reduction", "mean"), labels.size, keep)
    return _onehot(labels, x.shape, ax, g.dtype) * -gs, None


_nll_loss = defop("nll_loss", nll_loss_forward, nll_loss_vjp,
                  doc="-x[target] per sample.  VJP: -onehot(target) g")


def nll_loss(log_probs, target, axis=-1, reduction="mean"):
    """Negative log likelihood of integer class labels ``target`` under ``log_probs``
    (classes along ``axis``), as PyTorch's nll_loss: pair it with log_softmax.

    >>> lp = log_softmax(Tensor(np.zeros((2, 4)), requires_grad=True))
    >>> nll_loss(lp, np.array([1, 3])).item()      # log 4
    1.3862943611198906
    """
    return _nll_loss(as_input(log_probs), _as_target(target), axis=axis, reduction=reduction)


# --- elementwise losses -----------------------------------------------------------------
def _same_shape(a, b, name, what):
    if np.shape(a) != np.shape(b):
        raise ValueError(
            f"{name}: {what} of shape {np.shape(a)} and target of shape {np.shape(b)} differ; "
            "they must match (broadcasting here is usually a bug)"
        )


def mse_loss_forward(pred, target, reduction="mean"):
    _check_reduction(reduction, "mse_loss")
    _same_shape(pred, target, "mse_loss", "pred")
    d = pred - target
    return _reduce(d * d, reduction), d


def _mse_grads(g, ctx, d):
    """d = pred - target: gpred = 2 d gs, gtarget = -2 d gs."""
    gs = _sample_grad(g, ctx.params.get("reduction", "mean"), d.size, d.shape)
    gp = d * (2 * gs)
    return (gp if ctx.needs[0] else None), (-gp if ctx.needs[1] else None)


def mse_loss_vjp(g, ctx):
    return _mse_grads(g, ctx, ctx.saved)


def mse_loss_graph_vjp(g, ctx):
    pred, target = ctx.inputs
    return _mse_grads(g, ctx, pred - target)  # recomputed: d depends on the inputs


_mse_loss = defop("mse_loss", mse_loss_forward, mse_loss_vjp, graph_vjp=mse_loss_graph_vjp,
                  doc="(pred - target)**2.  VJP: (2 (pred - target) g, -2 (pred - target) g)")


def mse_loss(pred, target, reduction="mean"):
    """Squared error ``(pred - target) ** 2``, reduced by 'mean', 'sum' or 'none'.

    >>> mse_loss(Tensor(np.array([1.0, 2.0])), np.array([0.0, 0.0])).item()
    2.5
    """
    return _mse_loss(as_input(pred), as_input(target), reduction=reduction)


def bce_with_logits_forward(logits, target, reduction="mean"):
    _check_reduction(reduction, "binary_cross_entropy_with_logits")
    _same_shape(logits, target, "binary_cross_entropy_with_logits", "logits")
    # -t log s(x) - (1 - t) log(1 - s(x)) = max(x, 0) - x t + log(1 + e**-|x|): no overflow
    loss = np.maximum(logits, 0) - logits * target + np.log1p(np.exp(-np.abs(logits)))
    return _reduce(loss, reduction), None


def bce_with_logits_vjp(g, ctx):
    """gx = (sigmoid(x) - t) gs, gt = -x gs."""
    x, t = ctx.inputs
    gs = _sample_grad(g, ctx.params.get("reduction", "mean"), x.size, x.shape)
    gx = (call(sigmoid, x) - t) * gs if ctx.needs[0] else None
    gt = -(x * gs) if ctx.needs[1] else None
    return gx, gt


_bce_with_logits = defop(
    "binary_cross_entropy_with_logits", bce_with_logits_forward, bce_with_logits_vjp,
    doc="max(x, 0) - x t + log(1 + e**-|x|).  VJP: ((sigmoid(x) - t) g, -x g)",
)


def binary_cross_entropy_with_logits(logits, target, reduction="mean"):
    """Binary cross entropy of ``target`` (probabilities in [0, 1], the shape of logits)
    under sigmoid(``logits``), computed from the logits so it never takes log(0).

    >>> binary_cross_entropy_with_logits(Tensor(np.array([0.0])), np.array([1.0])).item()
    0.6931471805599453
    """
    return _bce_with_logits(as_input(logits), as_input(target), reduction=reduction)
