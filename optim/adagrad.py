"""Adagrad (PyTorch's update, with learning-rate decay)."""

import numpy as np

from optim import kernels
from optim.optimizer import Optimizer


class Adagrad(Optimizer):
    """Adagrad (PyTorch's ``torch.optim.Adagrad`` update).

    With ``d = g + weight_decay * p``, at step ``t``::

        s = s + d**2                          (s starts at initial_accumulator_value)
        p = p - lr / (1 + (t - 1) * lr_decay) * d / (sqrt(s) + eps)

    Parameters
    ----------
    params : iterable of Tensor or of dict
        Parameters, or parameter groups with per-group options.
    lr : float, default 1e-2
        Learning rate, >= 0.
    lr_decay : float, default 0
        Learning-rate decay, >= 0.
    weight_decay : float, default 0
        L2 penalty added to the gradient.
    initial_accumulator_value : float, default 0
        Starting value of the sum of squared gradients, >= 0.
    eps : float, default 1e-10
        Added to the denominator, >= 0.

    Examples
    --------
    >>> opt = optim.Adagrad(model.parameters(), lr=0.1)
    """

    def __init__(self, params, lr=1e-2, lr_decay=0.0, weight_decay=0.0,
                 initial_accumulator_value=0.0, eps=1e-10):
        defaults = {"lr": lr, "lr_decay": lr_decay, "weight_decay": weight_decay,
                    "initial_accumulator_value": initial_accumulator_value, "eps": eps}
        super().__init__(params, defaults)

    def _check_options(self, options):
        super()._check_options(options)
        self._require(options, "lr_decay", lambda v: v >= 0, ">= 0")
        self._require(options, "initial_accumulator_value", lambda v: v >= 0, ">= 0")

    def _update(self, p, g, state, o):
        step = state["step"] = state["step"] + 1
        (work,) = self._scratch(p)
        total = _sum(state, p, o)
        np.multiply(g, g, out=work)
        total += work
        np.sqrt(total, out=work)
        work += o["eps"]
        np.divide(g, work, out=work)
        work *= o["lr"] / (1.0 + (step - 1) * o["lr_decay"])
        p -= work

    def _fused_update(self, p, g, state, o):
        step = state["step"] = state["step"] + 1
        wd = float(o["weight_decay"])
        kernels.adagrad(p.reshape(-1), g.reshape(-1), _sum(state, p, o).reshape(-1), wd,
                        wd != 0, float(o["eps"]), o["lr"] / (1.0 + (step - 1) * o["lr_decay"]))
        return True


def _sum(state, p, o):
    """Adagrad's sum of squared gradients, created on ``p``'s first step."""
    total = state.get("sum")
    if total is None:
        total = state["sum"] = np.full_like(p, o["initial_accumulator_value"])
    return total
