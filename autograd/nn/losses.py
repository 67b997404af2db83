"""Loss modules with PyTorch's names, options and class layout: CrossEntropyLoss, NLLLoss,
MSELoss, L1Loss, SmoothL1Loss, HuberLoss, BCEWithLogitsLoss.

As in PyTorch, the classes of ``CrossEntropyLoss`` and ``NLLLoss`` lie along axis 1 of an
input (N, C) or (N, C, d1, ...), or axis 0 of an unbatched (C,) (the functional
``ops.cross_entropy`` takes classes along ``axis=-1``). Every option is keyword-only, so a
PyTorch call written with keywords means the same here and a positional one fails loudly.

With their default options the losses run the fused ops of ``ops.losses``; class weights,
``ignore_index``, ``label_smoothing`` and ``pos_weight`` are composed from other ops, so
their gradients come from those ops' VJPs.
"""

import numpy as np

import ops
from autograd.core.tensor import Tensor, unwrap
from autograd.nn.module import Module
from autograd.nn.layers import shape_of
from ops.losses import _check_reduction, _reduce, _same_shape

__all__ = [
    "BCEWithLogitsLoss",
    "CrossEntropyLoss",
    "HuberLoss",
    "L1Loss",
    "MSELoss",
    "NLLLoss",
    "SmoothL1Loss",
]


class _Loss(Module):
    """``reduction``: 'mean' over the elements (or the weighted samples), 'sum' or 'none'."""

    def __init__(self, reduction="mean"):
        super().__init__()
        _check_reduction(reduction, type(self).__name__)
        self.reduction = reduction

    def extra_repr(self):
        return "" if self.reduction == "mean" else f"reduction={self.reduction!r}"


def _float_buffer(name, value):
    """An optional per-class (or per-element) weight as an ndarray without gradient."""
    if value is None:
        return None
    array = np.asarray(unwrap(value))
    if array.dtype.kind not in "fiu":
        raise TypeError(f"{name}: weights must be numbers, got dtype {array.dtype}")
    return array if array.dtype.kind == "f" else array.astype(np.float64)


def _broadcasts_to(shape, target):
    try:
        return np.broadcast_shapes(shape, target) == tuple(target)
    except ValueError:
        return False


def _cast(weight, like):
    """``weight`` in the float dtype of ``like``, so float32 losses stay float32."""
    dtype = np.dtype(getattr(like, "dtype", np.float64))
    return weight.astype(dtype if dtype.kind == "f" else np.float64, copy=False)


# --- class losses -----------------------------------------------------------------------
def _class_axis(name, shape):
    if len(shape) == 0:
        raise ValueError(f"{name}: expected input of shape (C,), (N, C) or (N, C, d1, ...), "
                         f"got a 0-d input")
    return 1 if len(shape) >= 2 else 0


def _check_weight(name, weight, classes):
    if weight is not None and weight.shape != (classes,):
        raise ValueError(f"{name}: weight of shape {weight.shape} does not match the {classes} "
                         f"classes; expected ({classes},)")


def _labels(name, target, shape, axis, ignore_index):
    """Integer class labels for an input of ``shape`` with classes along ``axis``: checked,
    and the mask of labels equal to ``ignore_index``."""
    labels = np.asarray(unwrap(target))
    if labels.dtype.kind not in "iu":
        raise TypeError(f"{name}: target must be integer class labels or class probabilities "
                        f"of the input's shape, got dtype {labels.dtype} and shape "
                        f"{labels.shape} for input of shape {shape}")
    expected = shape[:axis] + shape[axis + 1:]
    if labels.shape != expected:
        raise ValueError(f"{name}: class labels of shape {labels.shape} don't match input of "
                         f"shape {shape}: expected labels of shape {expected}")
    ignored = labels == ignore_index
    valid = labels[~ignored]
    if valid.size and (valid.min() < 0 or valid.max() >= shape[axis]):
        bad = valid.min() if valid.min() < 0 else valid.max()
        raise ValueError(f"{name}: class label {bad} is out of range for input of shape "
                         f"{shape} ({shape[axis]} classes along axis {axis})")
    return labels, ignored


def _weighted_nll(log_probs, labels, ignored, axis, weight, reduction, smoothing=0.0):
    """PyTorch's weighted, ignoring, label-smoothed negative log likelihood from log
    probabilities (N, C, ...) and labels (N, ...), composed from ops."""
    classes = log_probs.shape[axis]
    safe = np.where(ignored, 0, labels)  # any valid class: the ignored terms get weight 0
    picked = ops.nll_loss(log_probs, safe, axis=axis, reduction="none")  # (N, ...): -lp[y]
    per_class = np.ones(classes) if weight is None else weight
    sample_weight = _cast(np.where(ignored, 0.0, per_class[safe]), log_probs)  # (N, ...)
    loss = picked * sample_weight
    if smoothing:
        # -sum_c w_c lp_c per sample: the loss against the uniform distribution
        w_c = _cast(per_class.reshape((classes,) + (1,) * (log_probs.ndim - axis - 1)),
                    log_probs)  # (C,) -> (C, 1, ...), broadcasting along the class axis
        uniform = -ops.sum(log_probs * w_c, axis=axis) * _cast(~ignored, log_probs)
        loss = loss * (1 - smoothing) + uniform * (smoothing / classes)
    if reduction == "mean":
        with np.errstate(invalid="ignore", divide="ignore"):  # all ignored: NaN, as PyTorch
            return ops.sum(loss) / sample_weight.sum()
    return _reduce(loss, reduction)


class NLLLoss(_Loss):
    """Negative log likelihood of integer class labels under log probabilities (pair it
    with ``LogSoftmax(axis=1)``): ``-weight[y] input[n, y]`` per sample.

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
        super().__init__(reduction)
        self.register_buffer("weight", _float_buffer("NLLLoss", weight))
        self.ignore_index = int(ignore_index)

    def forward(self, input, target):
        shape = shape_of(input)
        axis = _class_axis("NLLLoss", shape)
        _check_weight("NLLLoss", self.weight, shape[axis])
        labels, ignored = _labels("NLLLoss", target, shape, axis, self.ignore_index)
        if self.weight is None and not ignored.any():
            return ops.nll_loss(input, labels, axis=axis, reduction=self.reduction)
        return _weighted_nll(input, labels, ignored, axis, self.weight, self.reduction)


class CrossEntropyLoss(_Loss):
    """Softmax cross entropy of logits with classes along axis 1 (axis 0 when unbatched).

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
        super().__init__(reduction)
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"CrossEntropyLoss: label_smoothing must be in [0, 1], got "
                             f"{label_smoothing!r}")
        self.register_buffer("weight", _float_buffer("CrossEntropyLoss", weight))
        self.ignore_index = int(ignore_index)
        self.label_smoothing = float(label_smoothing)

    def forward(self, input, target):
        name = "CrossEntropyLoss"
        shape = shape_of(input)
        axis = _class_axis(name, shape)
        classes = shape[axis]
        _check_weight(name, self.weight, classes)
        if np.asarray(unwrap(target)).dtype.kind == "f":
            return self._probabilities(input, target, shape, axis)
        labels, ignored = _labels(name, target, shape, axis, self.ignore_index)
        if self.weight is None and not self.label_smoothing and not ignored.any():
            return ops.cross_entropy(input, labels, axis=axis, reduction=self.reduction)
        log_probs = ops.log_softmax(input, axis=axis)
        return _weighted_nll(log_probs, labels, ignored, axis, self.weight, self.reduction,
                             self.label_smoothing)

    def _probabilities(self, input, target, shape, axis):
        if shape_of(target) != shape:
            raise ValueError(f"CrossEntropyLoss: probability target of shape "
                             f"{shape_of(target)} must have the input's shape {shape}")
        if self.weight is None and not self.label_smoothing:
            return ops.cross_entropy(input, target, axis=axis, reduction=self.reduction)
        classes = shape[axis]
        if not isinstance(target, Tensor):
            target = np.asarray(target)
        if self.label_smoothing:
            target = target * (1 - self.label_smoothing) + self.label_smoothing / classes
        log_probs = ops.log_softmax(input, axis=axis)
        if self.weight is not None:
            w_c = _cast(self.weight.reshape((classes,) + (1,) * (len(shape) - axis - 1)),
                        log_probs)  # (C,) -> (C, 1, ...)
            log_probs = log_probs * w_c
        loss = -ops.sum(log_probs * target, axis=axis)  # (N, ...)
        return _reduce(loss, self.reduction)

    def extra_repr(self):
        s = super().extra_repr()
        if self.label_smoothing:
            s += (", " if s else "") + f"label_smoothing={self.label_smoothing}"
        return s


# --- elementwise losses -----------------------------------------------------------------
class MSELoss(_Loss):
    """Squared error ``(input - target)**2``; input and target of the same shape.

    >>> loss = nn.MSELoss()(pred, target)
    """

    def __init__(self, *, reduction="mean"):
        super().__init__(reduction)

    def forward(self, input, target):
        _same_shape(input, target, "MSELoss", "input")
        return ops.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Absolute error ``|input - target|`` (gradient 0 where they are equal, as PyTorch).

    >>> loss = nn.L1Loss()(pred, target)
    """

    def __init__(self, *, reduction="mean"):
        super().__init__(reduction)

    def forward(self, input, target):
        _same_shape(input, target, "L1Loss", "input")
        return _reduce(ops.abs(input - target), self.reduction)


def _smooth_l1(name, input, target, beta):
    """0.5 d**2 / beta where |d| < beta, else |d| - 0.5 beta (d = input - target): value and
    slope agree where the pieces meet."""
    _same_shape(input, target, name, "input")
    d = input - target
    quadratic = d * d * (0.5 / beta)
    linear = ops.abs(d) - 0.5 * beta
    return ops.where(np.abs(unwrap(d)) < beta, quadratic, linear)


class SmoothL1Loss(_Loss):
    """``0.5 d**2 / beta`` where ``|d| < beta``, else ``|d| - 0.5 beta``, with
    ``d = input - target``: L1 away from 0, quadratic near it; ``beta=0`` is L1Loss.

    >>> loss = nn.SmoothL1Loss(beta=0.5)(pred, target)
    """

    def __init__(self, *, reduction="mean", beta=1.0):
        super().__init__(reduction)
        if beta < 0:
            raise ValueError(f"SmoothL1Loss: beta must be non-negative, got {beta!r}")
        self.beta = float(beta)

    def forward(self, input, target):
        if self.beta == 0:
            _same_shape(input, target, "SmoothL1Loss", "input")
            return _reduce(ops.abs(input - target), self.reduction)
        return _reduce(_smooth_l1("SmoothL1Loss", input, target, self.beta), self.reduction)

    def extra_repr(self):
        s = super().extra_repr()
        return s if self.beta == 1 else s + (", " if s else "") + f"beta={self.beta}"


class HuberLoss(_Loss):
    """``0.5 d**2`` where ``|d| < delta``, else ``delta (|d| - 0.5 delta)``, with
    ``d = input - target``: ``delta`` times SmoothL1Loss with ``beta = delta``.

    >>> loss = nn.HuberLoss(delta=2.0)(pred, target)
    """

    def __init__(self, *, reduction="mean", delta=1.0):
        super().__init__(reduction)
        if not delta > 0:
            raise ValueError(f"HuberLoss: delta must be positive, got {delta!r}")
        self.delta = float(delta)

    def forward(self, input, target):
        loss = _smooth_l1("HuberLoss", input, target, self.delta)
        return _reduce(loss * self.delta if self.delta != 1 else loss, self.reduction)

    def extra_repr(self):
        s = super().extra_repr()
        return s if self.delta == 1 else s + (", " if s else "") + f"delta={self.delta}"


class BCEWithLogitsLoss(_Loss):
    """Binary cross entropy of targets in [0, 1] under sigmoid(logits), computed from the
    logits (never log 0): ``-w [p t log s(x) + (1 - t) log(1 - s(x))]``.

    Parameters
    ----------
    weight : array, optional
        Broadcasts to the input: a weight per element (or per trailing position).
    reduction : {"mean", "sum", "none"}
    pos_weight : array, optional
        ``p``, a weight on the positive term per class, broadcasting along the last axis
        (> 1 raises recall, < 1 precision).

    >>> loss = nn.BCEWithLogitsLoss(pos_weight=np.full(5, 3.0))(logits, targets)  # (N, 5)
    """

    def __init__(self, weight=None, *, reduction="mean", pos_weight=None):
        super().__init__(reduction)
        self.register_buffer("weight", _float_buffer("BCEWithLogitsLoss", weight))
        self.register_buffer("pos_weight", _float_buffer("BCEWithLogitsLoss", pos_weight))

    def forward(self, input, target):
        name = "BCEWithLogitsLoss"
        _same_shape(input, target, name, "input")
        shape = shape_of(input)
        for what, w in (("weight", self.weight), ("pos_weight", self.pos_weight)):
            if w is not None and not _broadcasts_to(w.shape, shape):
                raise ValueError(f"{name}: {what} of shape {w.shape} does not broadcast to the "
                                 f"input's shape {shape}")
        if self.weight is None and self.pos_weight is None:
            return ops.binary_cross_entropy_with_logits(input, target,
                                                        reduction=self.reduction)
        if self.pos_weight is None:
            loss = ops.binary_cross_entropy_with_logits(input, target, reduction="none")
        else:
            # -p t log s(x) - (1 - t) log(1 - s(x)) = (1 - t) x + (1 + (p - 1) t) log(1 + e**-x),
            # with softplus(-x) = log(1 + e**-x) computed without overflow
            log_weight = (_cast(self.pos_weight, input) - 1) * target + 1
            loss = (1 - target) * input + log_weight * ops.softplus(-input)
        if self.weight is not None:
            loss = loss * _cast(self.weight, input)
        return _reduce(loss, self.reduction)
