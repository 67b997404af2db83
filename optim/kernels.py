"""Fused optimizer updates: one pass over a parameter, its gradient and its state.

The numpy updates (``_update`` in sgd.py, adam.py, rmsprop.py, adagrad.py) make a pass over
the parameter's memory per arithmetic operation (Adam: about nine, through a scratch
buffer); these kernels read each element of ``p``, ``g`` and the state once and write it
once. They do the numpy code's operations in the numpy code's order, in the parameter's
dtype, so the two paths agree to the last bit (tests/optim/test_kernels.py checks them
against plain numpy references):

- every scalar arrives as a Python float, computed in double precision exactly as the
  numpy code computes it, and is rounded once to the arrays' dtype (``p.dtype.type``), as
  numpy rounds a Python float operand of a float32 array;
- no ``fastmath``: LLVM then neither reorders nor contracts ``a * b + c`` into an FMA.

The arrays are 1-D and C-contiguous, all of one dtype (float32 or float64): a kernel has
at most two specialisations, compiled on first use and cached by numba. Option switches
(``l2``, ``nesterov``, ...) are arguments, but LLVM compiles a vectorised copy of the loop
for every combination of them, so each switch costs compile time: options that can be
applied exactly as a factor are (AdamW's decay is ``x * 1.0`` for Adam, no dampening is
``d * 1.0``), and rarer variants are kernels of their own (amsgrad, momentum), compiled
only when used. Arrays a variant does not use are passed as ``unused(dtype)``. Serial:
these are memory-bound passes of well under a millisecond for the models here; a threaded
split would belong with the other thresholds in ops/kernels/policy.py.
"""

import numba
import numpy as np

__all__ = ["adagrad", "adam", "adam_amsgrad", "rmsprop", "sgd", "sgd_momentum", "unused"]

# ops/kernels/config.py's options (cached, no fastmath, GIL released), and numpy's error
# model: x / 0 gives inf or nan as in numpy (Adam or RMSprop with eps = 0 and a zero
# second moment) instead of raising ZeroDivisionError; the zero test Python's model puts
# before every division also kept the loops from being vectorised (10x slower).
njit = numba.njit(cache=True, fastmath=False, nogil=True, error_model="numpy")

_UNUSED = {np.dtype(np.float32): np.empty(0, np.float32),
           np.dtype(np.float64): np.empty(0, np.float64)}


def unused(dtype):
    """An empty array standing for a state array the update does not use."""
    return _UNUSED[dtype]


@njit
def sgd(p, g, weight_decay, l2, lr):
    """Plain SGD (optim/sgd.py), all arrays (n,): ``p -= lr * d`` with ``d`` the gradient,
    plus ``weight_decay * p`` when ``l2``."""
    cast = p.dtype.type
    weight_decay, lr = cast(weight_decay), cast(lr)
    for i in range(p.size):
        d = g[i]
        if l2:
            d = p[i] * weight_decay + d
        p[i] = p[i] - d * lr


@njit
def sgd_momentum(p, g, buf, weight_decay, l2, momentum, one_minus_dampening, nesterov, lr):
    """SGD with momentum after its first step (which sets ``buf`` to the gradient, in numpy),
    all arrays (n,); ``one_minus_dampening`` is exactly 1.0 without dampening, and
    ``d * 1.0`` is ``d``, as numpy's ``buf += d``."""
    cast = p.dtype.type
    weight_decay, momentum, lr = cast(weight_decay), cast(momentum), cast(lr)
    one_minus_dampening = cast(one_minus_dampening)
    for i in range(p.size):
        d = g[i]
        if l2:
            d = p[i] * weight_decay + d
        b = buf[i] * momentum + d * one_minus_dampening
        buf[i] = b
        d = b * momentum + d if nesterov else b
        p[i] = p[i] - d * lr


@njit
def adam(p, g, m, v, weight_decay, l2, decay, one_minus_beta1, beta2, one_minus_beta2, eps_hat,
         step_size):
    """Adam and AdamW (optim/adam.py) without amsgrad, all arrays (n,).

    ``l2``: Adam's gradient gets ``weight_decay * p``; AdamW's ``p *= decay``
    (``1 - lr * weight_decay``) comes first, and ``decay`` is exactly 1.0 for Adam. Then, as
    the numpy code (sqrt(1 - beta2**t) moved into the scalars ``eps_hat`` and ``step_size``)::

        m += (g - m) * (1 - beta1);  v = v * beta2 + g * g * (1 - beta2)
        p -= m / (sqrt(v) + eps_hat) * step_size
    """
    cast = p.dtype.type
    weight_decay, decay, eps_hat, step_size = (cast(weight_decay), cast(decay), cast(eps_hat),
                                               cast(step_size))
    one_minus_beta1, beta2, one_minus_beta2 = (cast(one_minus_beta1), cast(beta2),
                                               cast(one_minus_beta2))
    for i in range(p.size):
        x = p[i]
        d = g[i]
        if l2:
            d = x * weight_decay + d
        mi = m[i] + (d - m[i]) * one_minus_beta1  # PyTorch's lerp, as the numpy code
        vi = v[i] * beta2 + d * d * one_minus_beta2
        m[i] = mi
        v[i] = vi
        p[i] = x * decay - mi / (np.sqrt(vi) + eps_hat) * step_size


@njit
def adam_amsgrad(p, g, m, v, v_max, weight_decay, l2, decay, one_minus_beta1, beta2,
                 one_minus_beta2, eps_hat, step_size):
    """``adam`` with amsgrad: ``v_max = max(v_max, v)`` takes the place of ``v`` in the
    denominator; all arrays (n,)."""
    cast = p.dtype.type
    weight_decay, decay, eps_hat, step_size = (cast(weight_decay), cast(decay), cast(eps_hat),
                                               cast(step_size))
    one_minus_beta1, beta2, one_minus_beta2 = (cast(one_minus_beta1), cast(beta2),
                                               cast(one_minus_beta2))
    for i in range(p.size):
        x = p[i]
        d = g[i]
        if l2:
            d = x * weight_decay + d
        mi = m[i] + (d - m[i]) * one_minus_beta1
        vi = v[i] * beta2 + d * d * one_minus_beta2
        m[i] = mi
        v[i] = vi
        vm = v_max[i]
        if not vm >= vi:  # np.maximum: a NaN in either wins
            vm = vi if vm == vm else vm
        v_max[i] = vm
        p[i] = x * decay - mi / (np.sqrt(vm) + eps_hat) * step_size


@njit
def rmsprop(p, g, square_avg, grad_avg, buf, weight_decay, l2, alpha, one_minus_alpha, eps,
            momentum, lr):
    """RMSprop (optim/rmsprop.py), all arrays (n,); ``grad_avg`` is empty unless centered,
    ``buf`` empty unless ``momentum > 0``."""
    cast = p.dtype.type
    weight_decay, alpha, one_minus_alpha = cast(weight_decay), cast(alpha), cast(one_minus_alpha)
    eps, momentum, lr = cast(eps), cast(momentum), cast(lr)
    centered = grad_avg.size > 0
    use_momentum = buf.size > 0
    for i in range(p.size):
        d = g[i]
        if l2:
            d = p[i] * weight_decay + d
        s = square_avg[i] * alpha + d * d * one_minus_alpha
        square_avg[i] = s
        if centered:
            a = grad_avg[i] + (d - grad_avg[i]) * one_minus_alpha  # PyTorch's lerp
            grad_avg[i] = a
            s = s - a * a
        step = d / (np.sqrt(s) + eps)
        if use_momentum:
            step = buf[i] * momentum + step
            buf[i] = step
        p[i] = p[i] - step * lr


@njit
def adagrad(p, g, total, weight_decay, l2, eps, clr):
    """Adagrad (optim/adagrad.py), all arrays (n,): ``total += d * d``,
    ``p -= d / (sqrt(total) + eps) * clr`` with ``clr`` the decayed learning rate."""
    cast = p.dtype.type
    weight_decay, eps, clr = cast(weight_decay), cast(eps), cast(clr)
    for i in range(p.size):
        d = g[i]
        if l2:
            d = p[i] * weight_decay + d
        s = total[i] + d * d
        total[i] = s
        p[i] = p[i] - d / (np.sqrt(s) + eps) * clr
