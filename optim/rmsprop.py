"""RMSprop (PyTorch's update: centered and momentum variants included)."""

import numpy as np

from optim import kernels
from optim.optimizer import Optimizer


class RMSprop(Optimizer):
    """RMSprop (PyTorch's ``torch.optim.RMSprop`` update).

    With ``d = g + weight_decay * p``::

        s = alpha * s + (1 - alpha) * d**2
        a = alpha * a + (1 - alpha) * d                  (centered only)
        r = sqrt(s - a**2) + eps   if centered   else   sqrt(s) + eps
        b = momentum * b + d / r;   p = p - lr * b       (momentum > 0)
        p = p - lr * d / r                               (momentum = 0)

    Parameters
    ----------
    params : iterable of Tensor or of dict
        Parameters, or parameter groups with per-group options.
    lr : float, default 1e-2
        Learning rate, >= 0.
    alpha : float, default 0.99
        Smoothing constant of the squared-gradient average, in [0, 1].
    eps : float, default 1e-8
        Added to the denominator, >= 0.
    weight_decay : float, default 0
        L2 penalty added to the gradient.
    momentum : float, default 0
        Momentum factor, >= 0.
    centered : bool, default False
        Normalise by an estimate of the gradient's variance instead of its second moment.

    Examples
    --------
    >>> opt = optim.RMSprop(model.parameters(), lr=1e-3, momentum=0.9)
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                 centered=False):
        defaults = {"lr": lr, "alpha": alpha, "eps": eps, "weight_decay": weight_decay,
                    "momentum": momentum, "centered": centered}
        super().__init__(params, defaults)

    def _check_options(self, options):
        super()._check_options(options)
        self._require(options, "alpha", lambda v: 0 <= v <= 1, "in [0, 1]")
        self._require(options, "momentum", lambda v: v >= 0, ">= 0")

    def _update(self, p, g, state, o):
        state["step"] += 1
        lr, alpha, momentum = o["lr"], o["alpha"], o["momentum"]
        (work,) = self._scratch(p)
        square_avg = _buffer(state, "square_avg", p)
        square_avg *= alpha
        np.multiply(g, g, out=work)
        work *= 1.0 - alpha
        square_avg += work
        if o["centered"]:
            grad_avg = _buffer(state, "grad_avg", p)
            np.subtract(g, grad_avg, out=work)  # PyTorch's lerp
            work *= 1.0 - alpha
            grad_avg += work
            np.multiply(grad_avg, grad_avg, out=work)
            np.subtract(square_avg, work, out=work)
            np.sqrt(work, out=work)
        else:
            np.sqrt(square_avg, out=work)
        work += o["eps"]
        np.divide(g, work, out=work)
        if momentum > 0:
            buf = _buffer(state, "momentum_buffer", p)
            buf *= momentum
            buf += work
            np.multiply(buf, lr, out=work)
        else:
            work *= lr
        p -= work

    def _fused_update(self, p, g, state, o):
        state["step"] += 1
        alpha, momentum, wd = float(o["alpha"]), float(o["momentum"]), float(o["weight_decay"])
        grad_avg = buf = kernels.unused(p.dtype)
        square_avg = _buffer(state, "square_avg", p)
        if o["centered"]:
            grad_avg = _buffer(state, "grad_avg", p)
        if momentum > 0:
            buf = _buffer(state, "momentum_buffer", p)
        kernels.rmsprop(p.reshape(-1), g.reshape(-1), square_avg.reshape(-1),
                        grad_avg.reshape(-1), buf.reshape(-1), wd, wd != 0, alpha, 1.0 - alpha,
                        float(o["eps"]), momentum, float(o["lr"]))
        return True


def _buffer(state, key, p):
    buf = state.get(key)
    if buf is None:
        buf = state[key] = np.zeros_like(p)
    return buf
