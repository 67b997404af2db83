"""Adam and AdamW (PyTorch's updates, amsgrad included)."""

import math
import numbers

import numpy as np

from optim import kernels
from optim.optimizer import Optimizer


class Adam(Optimizer):
    """Adam (PyTorch's ``torch.optim.Adam`` update).

    With ``d = g + weight_decay * p``, at step ``t``::

        m = beta1 * m + (1 - beta1) * d
        v = beta2 * v + (1 - beta2) * d**2
        v_hat = max(v_hat, v) if amsgrad else v
        p = p - lr / (1 - beta1**t) * m / (sqrt(v_hat) / sqrt(1 - beta2**t) + eps)

    Parameters
    ----------
    params : iterable of Tensor or of dict
        Parameters, or parameter groups with per-group options.
    lr : float, default 1e-3
        Learning rate, >= 0.
    betas : (float, float), default (0.9, 0.999)
        Decay rates of the first and second moment estimates, each in [0, 1).
    eps : float, default 1e-8
        Added to the denominator, >= 0.
    weight_decay : float, default 0
        L2 penalty added to the gradient (see ``AdamW`` for decoupled decay).
    amsgrad : bool, default False
        Use the running maximum of ``v`` (AMSGrad).

    Examples
    --------
    >>> opt = optim.Adam(model.parameters(), lr=1e-3)
    >>> opt.zero_grad(); loss.backward(); opt.step()
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 amsgrad=False):
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "amsgrad": amsgrad}
        super().__init__(params, defaults)

    def _check_options(self, options):
        super()._check_options(options)
        betas = options["betas"]
        if not (isinstance(betas, (tuple, list)) and len(betas) == 2
                and all(isinstance(b, numbers.Real) for b in betas)):
            raise TypeError(f"{self._name}: betas must be a pair of numbers, got {betas!r}")
        for i, beta in enumerate(betas):
            if not 0 <= beta < 1:
                raise ValueError(f"{self._name}: betas[{i}] must be in [0, 1), got {beta!r}")

    def _update(self, p, g, state, o):
        step = state["step"] = state["step"] + 1
        lr, wd, eps = o["lr"], o["weight_decay"], o["eps"]
        beta1, beta2 = o["betas"]
        (work,) = self._scratch(p)
        if wd != 0 and self.decoupled_weight_decay:  # AdamW; Adam's L2 term is in g already
            p *= 1.0 - lr * wd
        m, v = _moments(state, p)
        np.subtract(g, m, out=work)  # m += (1 - beta1) (g - m), PyTorch's lerp
        work *= 1.0 - beta1
        m += work
        v *= beta2
        np.multiply(g, g, out=work)
        work *= 1.0 - beta2
        v += work
        if o["amsgrad"]:
            v_max = state.get("max_exp_avg_sq")
            if v_max is None:
                v_max = state["max_exp_avg_sq"] = np.zeros_like(p)
            np.maximum(v_max, v, out=v_max)
            v = v_max
        # lr/bc1 * m / (sqrt(v)/sqrt(bc2) + eps) with sqrt(bc2) moved into the scalars:
        # one pass over the parameter fewer.
        bc2_sqrt = math.sqrt(1.0 - beta2**step)
        np.sqrt(v, out=work)
        work += eps * bc2_sqrt
        np.divide(m, work, out=work)
        work *= lr * bc2_sqrt / (1.0 - beta1**step)
        p -= work

    def _fused_update(self, p, g, state, o):
        step = state["step"] = state["step"] + 1
        lr, wd, eps = o["lr"], float(o["weight_decay"]), o["eps"]
        beta1, beta2 = o["betas"]
        m, v = _moments(state, p)
        decay = 1.0 - lr * wd if self.decoupled_weight_decay else 1.0  # x * 1.0 is x
        l2 = wd != 0 and not self.decoupled_weight_decay
        bc2_sqrt = math.sqrt(1.0 - beta2**step)  # the scalars as _update computes them
        scalars = (1.0 - beta1, float(beta2), 1.0 - beta2, eps * bc2_sqrt,
                   lr * bc2_sqrt / (1.0 - beta1**step))
        if o["amsgrad"]:
            v_max = state.get("max_exp_avg_sq")
            if v_max is None:
                v_max = state["max_exp_avg_sq"] = np.zeros_like(p)
            kernels.adam_amsgrad(p.reshape(-1), g.reshape(-1), m.reshape(-1), v.reshape(-1),
                                 v_max.reshape(-1), wd, l2, decay, *scalars)
        else:
            kernels.adam(p.reshape(-1), g.reshape(-1), m.reshape(-1), v.reshape(-1), wd, l2,
                         decay, *scalars)
        return True


def _moments(state, p):
    """Adam's first and second moments of ``p``, created (zeros) on its first step."""
    m = state.get("exp_avg")
    if m is None:
        m = state["exp_avg"] = np.zeros_like(p)
        state["exp_avg_sq"] = np.zeros_like(p)
    return m, state["exp_avg_sq"]


class AdamW(Adam):
    """Adam with decoupled weight decay (PyTorch's ``torch.optim.AdamW``).

    Before the Adam update (which here has no L2 term), ``p = p * (1 - lr * weight_decay)``.
    Same parameters as ``Adam``; ``weight_decay`` defaults to 1e-2.

    Examples
    --------
    >>> opt = optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.05)
    """

    decoupled_weight_decay = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad)
