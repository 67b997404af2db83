"""Gradient clipping, in place on ``.grad``."""

import math
import numbers

import numpy as np

from autograd.core.tensor import Tensor
from autograd.jit.trace import host_call


def _grads(params, name):
    if isinstance(params, Tensor):
        params = [params]
    grads = []
    for i, p in enumerate(params):
        if not isinstance(p, Tensor):
            raise TypeError(f"{name}: parameter {i} is a {type(p).__name__}, not a Tensor")
        if p.grad is not None:
            grads.append(p.grad.data if isinstance(p.grad, Tensor) else p.grad)
    return grads


@host_call
def clip_grad_norm_(params, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """Scale the gradients in place so that their joint norm is at most ``max_norm``.

    The norm is taken over all the gradients together, as if concatenated into one vector;
    parameters without a gradient are skipped. Gradients are multiplied by
    ``max_norm / (total_norm + 1e-6)`` when that is below 1 (PyTorch's rule).

    Parameters
    ----------
    params : Tensor or iterable of Tensor
    max_norm : float
        Largest allowed norm, >= 0.
    norm_type : float, default 2
        The p of the p-norm (> 0), or ``float("inf")`` for the largest absolute value.
    error_if_nonfinite : bool, default False
        Raise RuntimeError when the total norm is nan or infinite.

    Returns
    -------
    float
        The total norm of the gradients before clipping.

    Examples
    --------
    >>> loss.backward()
    >>> total = optim.clip_grad_norm_(model.parameters(), max_norm=1.0)
    >>> opt.step()
    """
    name = "clip_grad_norm_"
    if not isinstance(max_norm, numbers.Real) or not max_norm >= 0:
        raise ValueError(f"{name}: max_norm must be a number >= 0, got {max_norm!r}")
    if not isinstance(norm_type, numbers.Real) or not norm_type > 0:
        raise ValueError(f"{name}: norm_type must be > 0 or inf, got {norm_type!r}")
    grads = _grads(params, name)
    if not grads:
        return 0.0
    norm_type = float(norm_type)
    if norm_type == math.inf:
        total = max(float(np.max(np.abs(g))) if g.size else 0.0 for g in grads)
    elif norm_type == 2.0:
        # vdot of the flattened gradient with itself: a BLAS dot, no temporary of g**2
        total = math.sqrt(sum(float(np.vdot(g, g)) for g in grads))
    elif norm_type == 1.0:
        total = sum(float(np.abs(g).sum()) for g in grads)
    else:
        total = sum(float((np.abs(g) ** norm_type).sum()) for g in grads) ** (1.0 / norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"{name}: the total norm of order {norm_type} of the gradients is "
                           f"{total}; pass error_if_nonfinite=False to clip anyway")
    coef = max_norm / (total + 1e-6)
    if not coef >= 1.0:  # also when total is nan: the gradients become nan, as in PyTorch
        for g in grads:
            g *= coef
    return total


@host_call
def clip_grad_value_(params, value):
    """Clip every gradient in place to ``[-value, value]``; parameters without a gradient
    are skipped.

    Examples
    --------
    >>> loss.backward()
    >>> optim.clip_grad_value_(model.parameters(), 0.5)
    """
    if not isinstance(value, numbers.Real) or not value >= 0:
        raise ValueError(f"clip_grad_value_: value must be a number >= 0, got {value!r}")
    for g in _grads(params, "clip_grad_value_"):
        np.clip(g, -value, value, out=g)
