"""Loss modules with PyTorch's names, options and class layout: CrossEntropyLoss, NLLLoss,
MSELoss, L1Loss, SmoothL1Loss, HuberLoss, BCELoss, BCEWithLogitsLoss, KLDivLoss.

Each module holds its options and calls the fused op of ``ops.losses`` or
``ops.pointwise_losses`` with them, so its value, gradient and checks are the op's. What a
module adds is PyTorch's layout and names: the classes of ``CrossEntropyLoss`` and
``NLLLoss`` lie along axis 1 of an input (N, C) or (N, C, d1, ...), or axis 0 of an
unbatched (C,) (the functional ``ops.cross_entropy`` takes ``axis=``, default -1); errors
name the module; and ``BCEWithLogitsLoss``'s ``weight`` and ``pos_weight``, which the op
lacks, are composed on top of it. Every option is keyword-only, so a PyTorch call written
with keywords means the same here and a positional one fails loudly.
"""

import numpy as np

import ops
from autograd.core.tensor import unwrap
from autograd.nn.layers import shape_of
from autograd.nn.module import Module

__all__ = [
    "BCELoss",
    "BCEWithLogitsLoss",
    "CrossEntropyLoss",
    "HuberLoss",
    "KLDivLoss",
    "L1Loss",
    "MSELoss",
    "NLLLoss",
    "SmoothL1Loss",
]


def _run(loss, op, *args, **options):
    """``op(*args, **options)``, with a ValueError/TypeError it raises about bad input (a
    label out of range, a weight of the wrong size, a bad option...) re-raised under the
    module's name, the one the caller wrote, and the op's message."""
    try:
        return op(*args, **options)
    except (ValueError, TypeError) as e:
        where, sep, message = str(e).partition(": ")
        if not sep or not where.isidentifier():  # not an op's "name: ..." message
            raise
        raise type(e)(f"{type(loss).__name__}: {message}") from None


class _Loss(Module):
    """``reduction``: 'mean' over the elements (or the weighted samples), 'sum' or 'none'.

    ``op`` runs once on the tiny input ``probe`` with the options: the op checks them (its
    own checks, so module and op agree on what is valid), and a bad one fails where the
    loss is built rather than at the first batch."""

    def __init__(self, op, probe, reduction, **options):
        super().__init__()
        _run(self, op, *probe, reduction=reduction, **options)
        self.reduction = reduction

    def extra_repr(self):
        return "" if self.reduction == "mean" else f"reduction={self.reduction!r}"


def _float_buffer(name, what, value):
    """An optional per-class (or per-element) weight as a float ndarray without gradient."""
    if value is None:
        return None
    array = np.asarray(unwrap(value))
    if array.dtype.kind not in "fiu":
        raise TypeError(f"{name}: {what} must be numbers, got dtype {array.dtype}")
    return array if array.dtype.kind == "f" else array.astype(np.float64)


def _check_target(loss, input, target, class_axis=None, labels_only=False):
    """The target's shape against the input's, in the module's words: the input's shape for
    elementwise losses and class probabilities (a float target, unless ``labels_only``), the
    input's shape without ``class_axis`` for labels. (The ops check it too, but speak of
    their own arguments and ``axis=``.)"""
    name, shape, target_shape = type(loss).__name__, shape_of(input), shape_of(target)
    if class_axis is None:
        if target_shape != shape:
            raise ValueError(f"{name}: input of shape {shape} and target of shape "
                             f"{target_shape} differ; they must match (broadcasting here is "
                             f"usually a bug)")
    elif not labels_only and np.asarray(unwrap(target)).dtype.kind == "f":
        if target_shape != shape:
            raise ValueError(f"{name}: probability target of shape {target_shape} must have "
                             f"the input's shape {shape}")
    elif target_shape != shape[:class_axis] + shape[class_axis + 1:]:
        raise ValueError(f"{name}: class labels of shape {target_shape} don't match input of "
                         f"shape {shape}: expected labels of shape "
                         f"{shape[:class_axis] + shape[class_axis + 1:]}")


# --- class losses -----------------------------------------------------------------------
_ONE_CLASS = (np.zeros(1), np.array(0))  # logits (C=1,) and label 0: a probe for the options


def _class_axis(loss, input):
    """PyTorch's class axis: 1 of (N, C, ...), 0 of an unbatched (C,)."""
    ndim = len(shape_of(input))
    if ndim == 0:
        raise ValueError(f"{type(loss).__name__}: expected input of shape (C,), (N, C) or "
                         f"(N, C, d1, ...), got a 0-d input")
    return 1 if ndim >= 2 else 0


class NLLLoss(_Loss):
    """Negative log likelihood of integer class labels under log probabilities (pair it
    with ``LogSoftmax(axis=1)``): ``-weight[y] input[n, y]`` per sample; ``ops.nll_loss``
    with the classes along axis 1.

    Parameters
    ----------
    weight : array of shape (C,), optional
        A weight per class; 'mean' then divides by the summed weights of the targets.
    ignore_index : int
        Targets equal to it contribute nothing, and do not count in the mean.
    reduction : {"mean", "sum", "none"}

    >>> loss = nn.NLLLoss()(log_probs, labels)     # (N, C), (N,) -> ()
    """

    def __init__(self, weight=None, *, ignore_index=-100, reduction="mean"):
        super().__init__(ops.nll_loss, _ONE_CLASS, reduction, ignore_index=ignore_index)
        self.register_buffer("weight", _float_buffer("NLLLoss", "weight", weight))
        self.ignore_index = int(ignore_index)

    def forward(self, input, target):
        axis = _class_axis(self, input)
        _check_target(self, input, target, axis, labels_only=True)
        return _run(self, ops.nll_loss, input, target, axis=axis, reduction=self.reduction,
                    weight=self.weight, ignore_index=self.ignore_index)


class CrossEntropyLoss(_Loss):
    """Softmax cross entropy of logits with classes along axis 1 (axis 0 when unbatched):
    ``ops.cross_entropy`` in PyTorch's layout.

    ``target`` is integer class labels (the input's shape without the class axis) or class
    probabilities (the input's shape).

    Parameters
    ----------
    weight : array of shape (C,), optional
        A weight per class. With labels, 'mean' divides by the summed weights of the
        targets; with probabilities, by the number of samples.
    ignore_index : int
        Labels equal to it contribute nothing, and do not count in the mean (labels only).
    reduction : {"mean", "sum", "none"}
    label_smoothing : float in [0, 1]
        Mixes the target with the uniform distribution: ``(1 - s) target + s / C``.

    >>> criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
    >>> loss = criterion(logits, labels)           # (N, C), (N,) -> ()
    """

    def __init__(self, weight=None, *, ignore_index=-100, reduction="mean",
                 label_smoothing=0.0):
        super().__init__(ops.cross_entropy, _ONE_CLASS, reduction, ignore_index=ignore_index,
                         label_smoothing=label_smoothing)
        self.register_buffer("weight", _float_buffer("CrossEntropyLoss", "weight", weight))
        self.ignore_index = int(ignore_index)
        self.label_smoothing = float(label_smoothing)

    def forward(self, input, target):
        axis = _class_axis(self, input)
        _check_target(self, input, target, axis)
        return _run(self, ops.cross_entropy, input, target, axis=axis,
                    reduction=self.reduction, weight=self.weight,
                    ignore_index=self.ignore_index, label_smoothing=self.label_smoothing)

    def extra_repr(self):
        s = super().extra_repr()
        if self.label_smoothing:
            s += (", " if s else "") + f"label_smoothing={self.label_smoothing}"
        return s


# --- elementwise losses -----------------------------------------------------------------
_ZEROS = (0.0, 0.0)  # input and target: a probe for the options


class MSELoss(_Loss):
    """Squared error ``(input - target)**2``; input and target of the same shape.

    >>> loss = nn.MSELoss()(pred, target)
    """

    def __init__(self, *, reduction="mean"):
        super().__init__(ops.mse_loss, _ZEROS, reduction)

    def forward(self, input, target):
        _check_target(self, input, target)
        return _run(self, ops.mse_loss, input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Absolute error ``|input - target|`` (gradient 0 where they are equal, as PyTorch).

    >>> loss = nn.L1Loss()(pred, target)
    """

    def __init__(self, *, reduction="mean"):
        super().__init__(ops.l1_loss, _ZEROS, reduction)

    def forward(self, input, target):
        _check_target(self, input, target)
        return _run(self, ops.l1_loss, input, target, reduction=self.reduction)


class SmoothL1Loss(_Loss):
    """``0.5 d**2 / beta`` where ``|d| < beta``, else ``|d| - 0.5 beta``, with
    ``d = input - target``: L1 away from 0, quadratic near it; ``beta=0`` is L1Loss.

    >>> loss = nn.SmoothL1Loss(beta=0.5)(pred, target)
    """

    def __init__(self, *, reduction="mean", beta=1.0):
        if beta < 0:
            raise ValueError(f"SmoothL1Loss: beta must be non-negative, got {beta!r}")
        super().__init__(ops.smooth_l1_loss, _ZEROS, reduction, beta=beta)
        self.beta = float(beta)

    def forward(self, input, target):
        _check_target(self, input, target)
        return _run(self, ops.smooth_l1_loss, input, target, reduction=self.reduction,
                    beta=self.beta)

    def extra_repr(self):
        s = super().extra_repr()
        return s if self.beta == 1 else s + (", " if s else "") + f"beta={self.beta}"


class HuberLoss(_Loss):
    """``0.5 d**2`` where ``|d| < delta``, else ``delta (|d| - 0.5 delta)``, with
    ``d = input - target``: ``delta`` times SmoothL1Loss with ``beta = delta``.

    >>> loss = nn.HuberLoss(delta=2.0)(pred, target)
    """

    def __init__(self, *, reduction="mean", delta=1.0):
        if not delta > 0:
            raise ValueError(f"HuberLoss: delta must be positive, got {delta!r}")
        super().__init__(ops.huber_loss, _ZEROS, reduction, delta=delta)
        self.delta = float(delta)

    def forward(self, input, target):
        _check_target(self, input, target)
        return _run(self, ops.huber_loss, input, target, reduction=self.reduction,
                    delta=self.delta)

    def extra_repr(self):
        s = super().extra_repr()
        return s if self.delta == 1 else s + (", " if s else "") + f"delta={self.delta}"


class BCELoss(_Loss):
    """Binary cross entropy of targets in [0, 1] under probabilities in [0, 1]:
    ``-w [t log p + (1 - t) log(1 - p)]``, each log clamped at -100 as PyTorch's, so
    p = 0 or 1 gives a finite loss. Prefer ``BCEWithLogitsLoss`` on logits.

    Parameters
    ----------
    weight : array, optional
        ``w``, broadcasting to the input: a weight per element (or per trailing position).
    reduction : {"mean", "sum", "none"}

    >>> loss = nn.BCELoss()(ops.sigmoid(logits), targets)
    """

    def __init__(self, weight=None, *, reduction="mean"):
        super().__init__(ops.binary_cross_entropy, (0.5, 0.0), reduction)
        self.register_buffer("weight", _float_buffer("BCELoss", "weight", weight))

    def forward(self, input, target):
        _check_target(self, input, target)
        return _run(self, ops.binary_cross_entropy, input, target, reduction=self.reduction,
                    weight=self.weight)


def _cast(weight, like):
    """``weight`` in the float dtype of ``like``, so float32 losses stay float32."""
    dtype = np.dtype(getattr(like, "dtype", np.float64))
    return weight.astype(dtype if dtype.kind == "f" else np.float64, copy=False)


def _broadcasts_to(shape, target):
    try:
        return np.broadcast_shapes(shape, target) == tuple(target)
    except ValueError:
        return False


class BCEWithLogitsLoss(_Loss):
    """Binary cross entropy of targets in [0, 1] under sigmoid(logits), computed from the
    logits (never log 0): ``-w [p t log s(x) + (1 - t) log(1 - s(x))]``.

    Parameters
    ----------
    weight : array, optional
        ``w``, broadcasting to the input: a weight per element (or per trailing position).
    reduction : {"mean", "sum", "none"}
    pos_weight : array, optional
        ``p``, a weight on the positive term per class, broadcasting along the last axis
        (> 1 raises recall, < 1 precision).

    >>> loss = nn.BCEWithLogitsLoss(pos_weight=np.full(5, 3.0))(logits, targets)  # (N, 5)
    """

    def __init__(self, weight=None, *, reduction="mean", pos_weight=None):
        super().__init__(ops.binary_cross_entropy_with_logits, _ZEROS, reduction)
        self.register_buffer("weight", _float_buffer("BCEWithLogitsLoss", "weight", weight))
        self.register_buffer("pos_weight",
                             _float_buffer("BCEWithLogitsLoss", "pos_weight", pos_weight))

    def forward(self, input, target):
        _check_target(self, input, target)
        shape = shape_of(input)
        for what, w in (("weight", self.weight), ("pos_weight", self.pos_weight)):
            if w is not None and not _broadcasts_to(w.shape, shape):
                raise ValueError(f"BCEWithLogitsLoss: {what} of shape {w.shape} does not "
                                 f"broadcast to the input's shape {shape}")
        if self.weight is None and self.pos_weight is None:
            return _run(self, ops.binary_cross_entropy_with_logits, input, target,
                        reduction=self.reduction)
        # The op has neither weight: compose them on its unreduced loss.
        loss = _run(self, ops.binary_cross_entropy_with_logits, input, target,
                    reduction="none")
        if self.pos_weight is not None:
            # -p t log s(x) = -t log s(x) + (p - 1) t softplus(-x): softplus(-x) = -log s(x),
            # without overflow for large |x|
            loss = loss + (_cast(self.pos_weight, input) - 1) * target * ops.softplus(-input)
        if self.weight is not None:
            loss = loss * _cast(self.weight, input)
        if self.reduction == "none":
            return loss
        return loss.sum() if self.reduction == "sum" else loss.mean()


class KLDivLoss(_Loss):
    """PyTorch's KL divergence loss: ``target (log target - input)`` per element, the input
    being log-probabilities (``LogSoftmax`` output) and 0 where the target is 0;
    ``ops.kl_div``.

    Parameters
    ----------
    reduction : {"mean", "batchmean", "sum", "none"}
        'mean' over all elements (PyTorch's default, not the true KL); 'batchmean' sums and
        divides by the batch size (axis 0), the KL divergence per sample.
    log_target : bool
        The target is log-probabilities too.

    >>> loss = nn.KLDivLoss(reduction="batchmean")(ops.log_softmax(logits, axis=1), probs)
    """

    def __init__(self, *, reduction="mean", log_target=False):
        super().__init__(ops.kl_div, _ZEROS, reduction)
        self.log_target = bool(log_target)

    def forward(self, input, target):
        _check_target(self, input, target)
        return _run(self, ops.kl_div, input, target, reduction=self.reduction,
                    log_target=self.log_target)

    def extra_repr(self):
        s = super().extra_repr()
        return s if not self.log_target else s + (", " if s else "") + "log_target=True"
