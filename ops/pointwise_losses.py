"""Losses that compare an input with a target element by element: ``mse_loss``,
``l1_loss``, ``huber_loss``, ``smooth_l1_loss``, ``binary_cross_entropy`` (on
probabilities), ``binary_cross_entropy_with_logits`` and ``kl_div``, with PyTorch's
options and conventions.

Each is one fused op, input and target of the same shape (broadcasting a target is almost
always a bug, so it is refused). A VJP that needs more than its saved arrays recomputes
from the inputs, which keeps it differentiable under ``create_graph``.
"""

import numbers

import numpy as np

from autograd.core.registry import call, defop
from ops.activations import sigmoid
from ops.functional import as_input
from ops.losses import REDUCTIONS, _check_reduction, _reduce, _same_shape, _sample_grad

__all__ = [
    "mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "kl_div",
]


def _positive(value, name, what, allow_zero=False):
    if (isinstance(value, bool) or not isinstance(value, numbers.Real)
            or not (value >= 0 if allow_zero else value > 0)):
        bound = "non-negative" if allow_zero else "positive"
        raise ValueError(f"{name}: {what} must be a {bound} number, got {value!r}")
    return float(value)  # a Python float keeps float32 losses float32


# --- mse_loss ---------------------------------------------------------------------------
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


# --- l1_loss, huber_loss, smooth_l1_loss --------------------------------------------------
def l1_loss_forward(pred, target, reduction="mean"):
    _check_reduction(reduction, "l1_loss")
    _same_shape(pred, target, "l1_loss", "pred")
    d = pred - target
    return _reduce(np.abs(d), reduction), d


def l1_loss_vjp(g, ctx):
    """d = pred - target: gpred = sign(d) gs, gtarget = -sign(d) gs (0 where d = 0, as
    PyTorch). sign is piecewise constant, so the saved d serves create_graph too."""
    d = ctx.saved
    gs = _sample_grad(g, ctx.params.get("reduction", "mean"), d.size, d.shape)
    gp = np.sign(d) * gs
    return (gp if ctx.needs[0] else None), (-gp if ctx.needs[1] else None)


_l1_loss = defop("l1_loss", l1_loss_forward, l1_loss_vjp,
                 doc="|pred - target|.  VJP: (sign(d) g, -sign(d) g), d = pred - target")


def l1_loss(pred, target, reduction="mean"):
    """Absolute error ``|pred - target|``, reduced by 'mean', 'sum' or 'none'.

    >>> l1_loss(Tensor(np.array([1.0, -3.0])), np.array([0.0, 0.0])).item()
    2.0
    """
    return _l1_loss(as_input(pred), as_input(target), reduction=reduction)


def huber_loss_forward(pred, target, reduction="mean", delta=1.0):
    _check_reduction(reduction, "huber_loss")
    _same_shape(pred, target, "huber_loss", "pred")
    delta = _positive(delta, "huber_loss", "delta")
    d = pred - target
    a = np.abs(d)
    loss = np.where(a < delta, 0.5 * d * d, delta * (a - 0.5 * delta))
    return _reduce(loss, reduction), None


def huber_loss_vjp(g, ctx):
    """d = pred - target: gpred = clip(d, -delta, delta) gs, gtarget = -gpred. d is
    recomputed from the inputs, so under create_graph the clip differentiates."""
    pred, target = ctx.inputs
    delta = float(ctx.params.get("delta", 1.0))
    d = pred - target
    gs = _sample_grad(g, ctx.params.get("reduction", "mean"), d.size, d.shape)
    gp = np.clip(d, -delta, delta) * gs
    return (gp if ctx.needs[0] else None), (-gp if ctx.needs[1] else None)


_huber_loss = defop("huber_loss", huber_loss_forward, huber_loss_vjp,
                    doc="0.5 d**2 where |d| < delta, else delta (|d| - delta / 2); d = pred - "
                        "target.  VJP: (clip(d, -delta, delta) g, -clip(d, -delta, delta) g)")


def huber_loss(pred, target, reduction="mean", delta=1.0):
    """PyTorch's Huber loss: quadratic ``0.5 d**2`` for ``|d| < delta``, linear
    ``delta (|d| - delta / 2)`` beyond (d = pred - target); ``delta`` > 0.

    >>> huber_loss(Tensor(np.array([0.5, 3.0])), np.zeros(2), reduction="none").data
    array([0.125, 2.5  ])
    """
    return _huber_loss(as_input(pred), as_input(target), reduction=reduction, delta=delta)


def smooth_l1_loss(pred, target, reduction="mean", beta=1.0):
    """PyTorch's smooth L1 loss: ``0.5 d**2 / beta`` for ``|d| < beta``, ``|d| - beta / 2``
    beyond; that is huber_loss(delta=beta) / beta, and l1_loss for beta = 0.

    >>> smooth_l1_loss(Tensor(np.array([0.5, 3.0])), np.zeros(2), reduction="none").data
    array([0.125, 2.5  ])

    VJP: clip(d / beta, -1, 1) g (sign(d) g for beta = 0), through huber_loss or l1_loss."""
    beta = _positive(beta, "smooth_l1_loss", "beta", allow_zero=True)
    if beta == 0:
        return l1_loss(pred, target, reduction=reduction)
    return huber_loss(pred, target, reduction=reduction, delta=beta) / beta


# --- binary_cross_entropy on probabilities ------------------------------------------------
_LOG_FLOOR = -100.0  # PyTorch's clamp: log 0 counts as -100, so the loss stays finite
_EPSILON = 1e-12     # PyTorch's floor for p (1 - p) in the gradient


def _clamped_logs(p):
    """(max(log p, -100), max(log(1 - p), -100)); works on Tensors too."""
    with np.errstate(divide="ignore"):
        return np.maximum(np.log(p), _LOG_FLOOR), np.maximum(np.log1p(-p), _LOG_FLOOR)


def bce_forward(probs, target, reduction="mean", weight=None):
    _check_reduction(reduction, "binary_cross_entropy")
    _same_shape(probs, target, "binary_cross_entropy", "input")
    if probs.size and not ((probs >= 0) & (probs <= 1)).all():
        raise ValueError(
            f"binary_cross_entropy: input must be probabilities in [0, 1], got values from "
            f"{np.nanmin(probs)} to {np.nanmax(probs)}"
            + (" and NaN" if np.isnan(probs).any() else "")
            + " (for logits use binary_cross_entropy_with_logits)"
        )
    log_p, log_q = _clamped_logs(probs)
    loss = -(target * log_p + (1 - target) * log_q)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction), None


def bce_vjp(g, ctx):
    """p, t: gp = (p - t) / max(p (1 - p), 1e-12) gs (PyTorch's formula: the derivative,
    kept finite at p = 0 or 1), gt = (max(log(1 - p), -100) - max(log p, -100)) gs, the
    derivative of the clamped loss; both times the weight."""
    p, t = ctx.inputs
    gs = _sample_grad(g, ctx.params.get("reduction", "mean"), p.size, p.shape)
    weight = ctx.params.get("weight")
    if weight is not None:
        gs = gs * weight
    gp = gt = None
    if ctx.needs[0]:
        gp = (p - t) / np.maximum(p * (1 - p), _EPSILON) * gs
    if ctx.needs[1]:
        log_p, log_q = _clamped_logs(p)
        gt = (log_q - log_p) * gs
    return gp, gt


_bce = defop("binary_cross_entropy", bce_forward, bce_vjp,
             doc="-(t max(log p, -100) + (1 - t) max(log(1 - p), -100)).  VJP: ((p - t) / "
                 "max(p (1 - p), 1e-12) g, (max(log(1-p), -100) - max(log p, -100)) g)")


def binary_cross_entropy(probs, target, reduction="mean", *, weight=None):
    """Binary cross entropy of ``target`` under probabilities ``probs`` in [0, 1] (same
    shape), as PyTorch's: each log is clamped at -100, so p = 0 or 1 gives a finite loss.
    ``weight`` (no gradient) scales each element's loss and broadcasts to the input.
    Prefer ``binary_cross_entropy_with_logits`` on logits: it never needs the clamp.

    >>> binary_cross_entropy(Tensor(np.array([0.5, 1.0])), np.array([1.0, 0.0]),
    ...                      reduction="none").data
    array([  0.69314718, 100.        ])
    """
    probs, target = as_input(probs), as_input(target)
    if weight is not None:
        weight = np.asarray(weight.data if hasattr(weight, "data") else weight)
        if weight.dtype.kind not in "fiu":
            raise TypeError(f"binary_cross_entropy: weight must be numbers, got dtype "
                            f"{weight.dtype}")
        try:
            fits = np.broadcast_shapes(weight.shape, probs.shape) == probs.shape
        except ValueError:
            fits = False
        if not fits:
            raise ValueError(f"binary_cross_entropy: weight of shape {weight.shape} does not "
                             f"broadcast to the input's shape {probs.shape}")
        weight = weight.astype(probs.dtype if probs.dtype.kind == "f" else np.float64)
    return _bce(probs, target, reduction=reduction, weight=weight)


# --- kl_div -----------------------------------------------------------------------------
def _kl_reduction(reduction, x):
    """kl_div's reductions as (reduction, divisor): 'batchmean' is the sum over the first
    axis's length (1 for a 0-d input), the true KL divergence per sample."""
    _check_reduction(reduction, "kl_div", REDUCTIONS + ("batchmean",))
    if reduction == "batchmean":
        return "mean", (x.shape[0] if x.ndim else 1)
    return reduction, x.size


def kl_div_forward(log_probs, target, reduction="mean", log_target=False):
    reduction, divisor = _kl_reduction(reduction, log_probs)
    _same_shape(log_probs, target, "kl_div", "input")
    if log_target:
        # A target of -inf (probability 0) contributes its limit 0, not 0 * -inf = NaN.
        p = np.exp(target)
        with np.errstate(invalid="ignore"):
            loss = np.where(p == 0, 0, p * (target - log_probs))
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            # t log t is 0 at t = 0 (its limit), as PyTorch's xlogy; negative t is NaN.
            t_log_t = np.where(target == 0, 0, target * np.log(target))
        loss = t_log_t - target * log_probs
    return _reduce(loss, reduction, divisor), None


def kl_div_vjp(g, ctx):
    """x log-probabilities, t the target: gx = -t gs, gt = (log t + 1 - x) gs (-inf at
    t = 0, where t log t has an infinite slope; PyTorch gives NaN); with log_target,
    gx = -e**t gs and gt = e**t (t - x + 1) gs (0 at t = -inf)."""
    x, t = ctx.inputs
    reduction, divisor = _kl_reduction(ctx.params.get("reduction", "mean"), x)
    gs = _sample_grad(g, reduction, divisor, x.shape)
    log_target = ctx.params.get("log_target", False)
    gx = gt = None
    if ctx.needs[0]:
        gx = -(np.exp(t) if log_target else t) * gs
    if ctx.needs[1] and log_target:
        p = np.exp(t)
        with np.errstate(invalid="ignore"):  # its limit 0 where t = -inf
            gt = np.where(np.asarray(p == 0), 0, p * (t - x + 1) * gs)
    elif ctx.needs[1]:
        with np.errstate(divide="ignore"):
            gt = (np.log(t) + 1 - x) * gs
    return gx, gt


_kl_div = defop("kl_div", kl_div_forward, kl_div_vjp,
                doc="t (log t - x) (log_target: e**t (t - x)), x = log q.  VJP: (-t g, "
                    "(log t + 1 - x) g); log_target: (-e**t g, e**t (t - x + 1) g)")


def kl_div(log_probs, target, reduction="mean", log_target=False):
    """PyTorch's kl_div: the KL divergence of ``target`` from the distribution whose
    log-probabilities are ``log_probs`` (the input is a log-probability, as PyTorch's),
    ``target * (log(target) - log_probs)`` per element, 0 where target is 0.

    ``log_target=True`` takes the target as log-probabilities too (a target of -inf, a zero
    probability, contributes 0 where PyTorch gives NaN). ``reduction``: 'mean' over all
    elements (PyTorch's default, not the true KL), 'batchmean' (sum / batch size:
    the KL per sample), 'sum' or 'none'.

    >>> kl_div(Tensor(np.log([0.5, 0.5])), np.array([0.5, 0.5]), reduction="sum").item()
    0.0
    """
    return _kl_div(as_input(log_probs), as_input(target), reduction=reduction,
                   log_target=bool(log_target))
