"""Class losses, each one fused op with its own VJP: ``cross_entropy`` and ``nll_loss``, with
PyTorch's ``weight``, ``ignore_index`` and (cross_entropy) ``label_smoothing``; and the
helpers every loss shares (reductions, shape checks). Elementwise losses (mse, l1, huber,
binary cross entropy, kl_div) are in ``ops.pointwise_losses``.

Fused: fewer temporaries in the training loop and no exp/log round trips that could
overflow (cross_entropy's gradient is softmax - onehot). A VJP reuses what the forward
saved; the ``graph_vjp`` that runs under ``create_graph`` recomputes softmax from the
inputs instead, so that the gradient is itself differentiable.

With options, cross entropy is ``-sum_c q_c log_softmax(x)_c`` per sample, where the
coefficients ``q`` fold everything in: for a label y, ``q_c = valid w_y (1 - eps) [c = y] +
valid w_c eps / C`` (``valid`` 0 for an ignored sample, ``w`` the class weights); for class
probabilities t, ``q_c = w_c ((1 - eps) t_c + eps / C)``. Its gradient is
``softmax(x) sum(q) - q``. 'mean' divides by the summed weights ``sum valid w_y`` of the
labels (the count of samples not ignored, without weights), and by the number of samples
for probabilities, as PyTorch does.
"""

import numbers

import numpy as np

from autograd.core.registry import call, defop
from autograd.core.tensor import Tensor
from ops.functional import (
    OutOfRangeError,
    _as_float,
    _log_softmax,
    _softmax,
    as_input,
    class_axis,
    shifted_exp,
)

__all__ = ["cross_entropy", "nll_loss"]

REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(reduction, name, allowed=REDUCTIONS):
    if not isinstance(reduction, str) or reduction not in allowed:
        quoted = ", ".join(repr(r) for r in allowed[:-1]) + f" or {allowed[-1]!r}"
        raise ValueError(f"{name}: reduction must be {quoted}, got {reduction!r}")


def _reduce(loss, reduction, divisor=None):
    """'none': the losses; 'sum'; 'mean': over the elements, or sum / ``divisor``."""
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    if divisor is None:
        return loss.mean()
    with np.errstate(invalid="ignore", divide="ignore"):  # nothing to average: NaN (PyTorch)
        return loss.sum() / np.asarray(divisor, dtype=loss.dtype)


def _sample_grad(g, reduction, count, shape):
    """The upstream gradient of each sample's loss, shaped to broadcast against the input:
    g / count for 'mean', g for 'sum', g reshaped to ``shape`` for 'none'."""
    if reduction == "none":
        return g.reshape(shape)
    if reduction != "mean":
        return g
    with np.errstate(invalid="ignore", divide="ignore"):  # count 0: NaN, as the loss
        return g / count


def _same_shape(a, b, name, what):
    if np.shape(a) != np.shape(b):
        raise ValueError(
            f"{name}: {what} of shape {np.shape(a)} and target of shape {np.shape(b)} differ; "
            "they must match (broadcasting here is usually a bug)"
        )


def _labels(target, x, axis, name, ignore_index=None):
    """Integer class labels for ``x`` with classes along ``axis``, expanded to keep that
    axis: (...) -> (..., 1, ...), with ignored labels replaced by class 0; and the mask
    (...) of the labels not ignored, or None when none is. Wrong shape or a label out of
    range is a clear error."""
    if target.dtype.kind not in "iu":
        raise TypeError(f"{name}: target must be integer class labels, got dtype {target.dtype}")
    expected = x.shape[:axis] + x.shape[axis + 1:]
    if target.shape != expected:
        raise ValueError(
            f"{name}: class labels of shape {target.shape} don't match input of shape "
            f"{x.shape} with classes along axis {axis}: expected labels of shape {expected}"
        )
    valid = None
    n = x.shape[axis]
    if target.size:
        lo, hi = target.min(), target.max()
        # Only a label in [lo, hi] can be ignore_index: the default -100 costs no mask.
        if ignore_index is not None and lo <= ignore_index <= hi:
            ignored = target == ignore_index
            if ignored.any():
                valid = ~ignored
                target = np.where(ignored, 0, target)  # any class will do: its weight is 0
                lo, hi = target.min(), target.max()
        if lo < 0 or hi >= n:
            raise OutOfRangeError(
                f"{name}: class label {lo if lo < 0 else hi} is out of range for input of "
                f"shape {x.shape} ({n} classes along axis {axis})"
            )
    return np.expand_dims(target, axis), valid


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


def _class_weight(weight, classes, dtype, name):
    """The per-class weights as a (classes,) array of the loss's float dtype, or None."""
    if weight is None:
        return None
    w = np.asarray(weight.data if isinstance(weight, Tensor) else weight)
    if w.dtype.kind not in "fiu":
        raise TypeError(f"{name}: weight must be numbers, got dtype {w.dtype}")
    if w.shape != (classes,):
        raise ValueError(f"{name}: weight of shape {w.shape} does not match the {classes} "
                         f"classes; expected ({classes},)")
    return w.astype(dtype, copy=False)


def _check_ignore_index(ignore_index, name):
    if isinstance(ignore_index, bool) or not isinstance(ignore_index, (int, np.integer)):
        raise TypeError(f"{name}: ignore_index must be an int, got {ignore_index!r}")


def _along(v, axis, ndim):
    """A (C,) vector shaped to broadcast along ``axis`` of an ndim array: (C, 1, ...)."""
    return v.reshape((-1,) + (1,) * (ndim - axis - 1))


def _probability_coefficients(t, weight, smoothing, axis):
    """q for class probabilities t (works on Tensors): w_c ((1 - eps) t_c + eps / C)."""
    q = t
    if smoothing:
        q = q * (1 - smoothing) + smoothing / t.shape[axis]
    if weight is not None:
        q = q * _along(weight, axis, t.ndim)
    return q


def _label_coefficients(labels, valid, weight, smoothing, shape, axis, dtype):
    """q (..., C, ...) for labels (..., 1, ...), and the 'mean' divisor sum(valid w_y)."""
    keep = np.ones(labels.shape, dtype) if valid is None else \
        np.expand_dims(valid, axis).astype(dtype)  # (...) -> (..., 1, ...)
    w_y = keep if weight is None else np.take(weight, labels) * keep
    q = _onehot(labels, shape, axis, dtype) * (w_y * (1 - smoothing))
    if smoothing:
        w = np.ones(shape[axis], dtype) if weight is None else weight
        q += keep * _along(w, axis, len(shape)) * (smoothing / shape[axis])
    return q, float(w_y.sum())


def _float_dtype(x):
    return x.dtype if x.dtype.kind == "f" else np.dtype(np.float64)


# --- cross_entropy ----------------------------------------------------------------------
def cross_entropy_forward(logits, target, axis=-1, reduction="mean", weight=None,
                          ignore_index=-100, label_smoothing=0.0):
    _check_reduction(reduction, "cross_entropy")
    _check_ignore_index(ignore_index, "cross_entropy")
    if (isinstance(label_smoothing, bool) or not isinstance(label_smoothing, numbers.Real)
            or not 0 <= label_smoothing <= 1):
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got "
                         f"{label_smoothing!r}")
    ax = class_axis(axis, np.ndim(logits), "cross_entropy")
    x = _as_float(logits)
    if target.dtype.kind == "f" and target.shape != x.shape:
        raise ValueError(
            f"cross_entropy: probability target of shape {target.shape} must have the shape of "
            f"logits {x.shape} (or give integer class labels of shape "
            f"{x.shape[:ax] + x.shape[ax + 1:]})"
        )
    w = _class_weight(weight, x.shape[ax], x.dtype, "cross_entropy")
    eps = float(label_smoothing)
    labels = valid = None
    if target.dtype.kind != "f":
        labels, valid = _labels(target, x, ax, "cross_entropy", ignore_index)
    shifted, e, s = shifted_exp(x, ax)
    log_s = np.log(s)
    count = None  # 'mean' divides by the number of samples
    q = lp = None
    if labels is not None and w is None and valid is None and not eps:
        # logsumexp - x[label], both shifted by the max: (..., 1, ...) -> (...)
        loss = np.squeeze(log_s - np.take_along_axis(shifted, labels, ax), ax)
    else:
        lp = np.subtract(shifted, log_s, out=shifted)  # log_softmax, in our own buffer
        if labels is None:
            q = _probability_coefficients(target, w, eps, ax)
        else:
            q, count = _label_coefficients(labels, valid, w, eps, x.shape, ax, x.dtype)
        loss = -(q * lp).sum(axis=ax)
    p = np.divide(e, s, out=e)  # softmax, kept for backward
    out = _reduce(loss, reduction, count)
    return out, (ax, labels, p, lp, q, w, loss.size if count is None else count)


def _cross_entropy_grads(g, ctx, probs, log_probs, q):
    """logits x, probs = softmax(x) (..., C, ...), q the coefficients; gs the per-sample g:
    gx = (probs sum(q) - q) gs; for probabilities t, gt = -(1 - eps) w log_probs gs."""
    x, target = ctx.inputs[:2]
    ax, _, _, _, _, w, count = ctx.saved
    keep = x.shape[:ax] + (1,) + x.shape[ax + 1:]
    gs = _sample_grad(g, ctx.params.get("reduction", "mean"), count, keep)
    gx = gt = None
    if ctx.needs[0]:
        gx = (probs * q.sum(axis=ax, keepdims=True) - q) * gs
    if ctx.needs[1]:  # only probability targets can want a gradient
        eps = ctx.params.get("label_smoothing", 0.0)
        coefficient = log_probs * (1 - eps) if eps else log_probs
        if w is not None:
            coefficient = coefficient * _along(w, ax, x.ndim)
        gt = -(coefficient * gs)
    return gx, gt


def _plain_labels_vjp(g, ctx):
    """Labels without options, from the saved softmax: onehot subtracted in place."""
    x = ctx.inputs[0]
    ax, labels, p, _, _, _, count = ctx.saved
    keep = x.shape[:ax] + (1,) + x.shape[ax + 1:]
    gs = _sample_grad(g, ctx.params.get("reduction", "mean"), count, keep)
    gx = p * gs
    np.put_along_axis(gx, labels, np.take_along_axis(gx, labels, ax) - gs, ax)
    return gx, None


def cross_entropy_vjp(g, ctx):
    ax, labels, p, lp, q = ctx.saved[:5]
    if labels is not None and q is None:
        return _plain_labels_vjp(g, ctx) if ctx.needs[0] else (None, None)
    return _cross_entropy_grads(g, ctx, p, lp, q)


def cross_entropy_graph_vjp(g, ctx):
    """softmax and log_softmax recomputed from the logits, so the gradient depends on them
    (and q from probability targets, which may want a gradient too)."""
    x, target = ctx.inputs[:2]
    ax, labels, _, _, q, w = ctx.saved[:6]
    if labels is None:
        q = _probability_coefficients(target, w, ctx.params.get("label_smoothing", 0.0), ax)
    elif q is None:
        q = _onehot(labels, x.shape, ax, x.dtype)
    return _cross_entropy_grads(g, ctx, call(_softmax, x, axis=ax),
                                call(_log_softmax, x, axis=ax), q)


_cross_entropy = defop(
    "cross_entropy", cross_entropy_forward, cross_entropy_vjp,
    graph_vjp=cross_entropy_graph_vjp,
    doc="-sum(q log_softmax(x)) per sample, q the target coefficients (one-hot labels or "
        "probabilities, with weights and smoothing folded in).  VJP: (softmax(x) sum(q) - q) "
        "g; for probabilities -(1 - eps) w log_softmax(x) g",
)


def cross_entropy(logits, target, axis=-1, reduction="mean", *, weight=None,
                  ignore_index=-100, label_smoothing=0.0):
    """Softmax cross entropy of ``logits`` with classes along ``axis``, as PyTorch's.

    Parameters
    ----------
    logits : Tensor (..., C, ...)
    target : integer class labels (the shape of logits without ``axis``) or class
        probabilities (the shape of logits)
    reduction : {"mean", "sum", "none"}
        'mean' over samples: with labels, divided by the summed ``weight`` of the labels
        not ignored (their count without weights); 'none' gives one loss per sample.
    weight : array (C,), optional
        A weight per class (no gradient).
    ignore_index : int
        Samples whose label equals it contribute nothing, also to the mean's count (labels
        only). If every sample is ignored, 'mean' is NaN, as in PyTorch.
    label_smoothing : float in [0, 1]
        The target mixed with the uniform distribution: (1 - eps) target + eps / C.

    Stable for any finite logits.

    >>> logits = Tensor(np.array([[2.0, 0.0, 0.0], [0.0, 0.0, 0.0]]), requires_grad=True)
    >>> loss = cross_entropy(logits, np.array([0, 2]))
    >>> loss.backward()                    # logits.grad = (softmax - onehot) / 2
    """
    return _cross_entropy(as_input(logits), _as_target(target), axis=axis, reduction=reduction,
                          weight=weight, ignore_index=ignore_index,
                          label_smoothing=label_smoothing)


# --- nll_loss ---------------------------------------------------------------------------
def nll_loss_forward(log_probs, target, axis=-1, reduction="mean", weight=None,
                     ignore_index=-100):
    _check_reduction(reduction, "nll_loss")
    _check_ignore_index(ignore_index, "nll_loss")
    ax = class_axis(axis, np.ndim(log_probs), "nll_loss")
    labels, valid = _labels(target, log_probs, ax, "nll_loss", ignore_index)
    w = _class_weight(weight, log_probs.shape[ax], _float_dtype(log_probs), "nll_loss")
    picked = np.take_along_axis(log_probs, labels, ax)  # (..., 1, ...)
    sample = count = None  # per-sample weights valid w_y (..., 1, ...), and their sum
    if w is not None or valid is not None:
        sample = np.ones(labels.shape, _float_dtype(log_probs)) if w is None else \
            np.take(w, labels)
        if valid is not None:
            sample = sample * np.expand_dims(valid, ax)
        picked = picked * sample
        count = float(sample.sum())
    loss = -np.squeeze(picked, ax)  # (..., 1, ...) -> (...)
    saved = (ax, labels, sample, labels.size if count is None else count)
    return _reduce(loss, reduction, count), saved


def nll_loss_vjp(g, ctx):
    """log_probs (..., C, ...): gx = -onehot(target) w_y valid gs (gs the per-sample g)."""
    x = ctx.inputs[0]
    ax, labels, sample, count = ctx.saved
    keep = x.shape[:ax] + (1,) + x.shape[ax + 1:]
    gs = _sample_grad(g, ctx.params.get("reduction", "mean"), count, keep)
    if sample is not None:
        gs = gs * sample
    return _onehot(labels, x.shape, ax, g.dtype) * -gs, None


_nll_loss = defop("nll_loss", nll_loss_forward, nll_loss_vjp,
                  doc="-w_y x[y] per sample (0 where ignored).  VJP: -onehot(y) w_y g")


def nll_loss(log_probs, target, axis=-1, reduction="mean", *, weight=None, ignore_index=-100):
    """Negative log likelihood of integer class labels ``target`` under ``log_probs``
    (classes along ``axis``), as PyTorch's nll_loss: pair it with log_softmax.

    ``weight`` (C,) weighs each class, and 'mean' then divides by the summed weights of the
    labels; samples labelled ``ignore_index`` contribute nothing and are not counted (NaN
    if every one is, as in PyTorch).

    >>> lp = log_softmax(Tensor(np.zeros((2, 4)), requires_grad=True))
    >>> nll_loss(lp, np.array([1, 3])).item()      # log 4
    1.3862943611198906
    """
    return _nll_loss(as_input(log_probs), _as_target(target), axis=axis, reduction=reduction,
                     weight=weight, ignore_index=ignore_index)
