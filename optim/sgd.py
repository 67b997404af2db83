"""Stochastic gradient descent, with PyTorch's momentum, dampening, Nesterov and L2 decay."""

import numpy as np

from optim import kernels
from optim.optimizer import Optimizer


class SGD(Optimizer):
    """Stochastic gradient descent (PyTorch's ``torch.optim.SGD`` update).

    With ``d = g + weight_decay * p``, at step ``t``::

        b = d                                   (t = 1)
        b = momentum * b + (1 - dampening) * d  (t > 1)
        d = d + momentum * b   if nesterov else   d = b       (when momentum != 0)
        p = p - lr * d

    Parameters
    ----------
    params : iterable of Tensor or of dict
        Parameters, or parameter groups with per-group options.
    lr : float
        Learning rate, >= 0.
    momentum : float, default 0
        Momentum factor, >= 0.
    dampening : float, default 0
        Dampening of the momentum.
    nesterov : bool, default False
        Nesterov momentum (needs ``momentum > 0`` and ``dampening == 0``).
    weight_decay : float, default 0
        L2 penalty added to the gradient.

    Examples
    --------
    >>> opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True)
    >>> opt.zero_grad(); loss.backward(); opt.step()
    """

    def __init__(self, params, lr, momentum=0.0, dampening=0.0, nesterov=False,
                 weight_decay=0.0):
        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening,
                    "nesterov": nesterov, "weight_decay": weight_decay}
        super().__init__(params, defaults)

    def _check_options(self, options):
        super()._check_options(options)
        self._require(options, "momentum", lambda v: v >= 0, ">= 0")
        self._require(options, "dampening", lambda v: True, "a number")
        if options["nesterov"] and (options["momentum"] <= 0 or options["dampening"] != 0):
            raise ValueError(f"{self._name}: nesterov=True needs momentum > 0 and dampening = 0, "
                             f"got momentum={options['momentum']!r}, "
                             f"dampening={options['dampening']!r}")

    def _update(self, p, g, state, o):
        state["step"] += 1
        lr, momentum = o["lr"], o["momentum"]
        (work,) = self._scratch(p)
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = np.array(g, dtype=p.dtype)
            else:
                buf *= momentum
                if o["dampening"] == 0:
                    buf += g
                else:
                    np.multiply(g, 1.0 - o["dampening"], out=work)
                    buf += work
            if o["nesterov"]:
                np.multiply(buf, momentum, out=work)
                work += g
                g = work
            else:
                g = buf
        np.multiply(g, lr, out=work)
        p -= work

    def _fused_update(self, p, g, state, o):
        momentum, wd = float(o["momentum"]), float(o["weight_decay"])
        if momentum == 0:
            state["step"] += 1
            kernels.sgd(p.reshape(-1), g.reshape(-1), wd, wd != 0, float(o["lr"]))
            return True
        buf = state.get("momentum_buffer")
        if buf is None:
            return False  # the first step copies the gradient into the buffer: numpy's job
        state["step"] += 1
        kernels.sgd_momentum(p.reshape(-1), g.reshape(-1), buf.reshape(-1), wd, wd != 0,
                             momentum, 1.0 - float(o["dampening"]), bool(o["nesterov"]),
                             float(o["lr"]))
        return True


class Momentum(SGD):
    """Classic heavy-ball momentum: ``b = momentum * b + g``, ``p = p - lr * b``.

    The same update as ``SGD(params, lr, momentum)`` with no dampening; ``momentum``
    defaults to 0.9 and must be in [0, 1).

    Examples
    --------
    >>> opt = optim.Momentum(model.parameters(), lr=0.01, momentum=0.9)
    """

    def __init__(self, params, lr, momentum=0.9, weight_decay=0.0, nesterov=False):
        super().__init__(params, lr, momentum=momentum, dampening=0.0, nesterov=nesterov,
                         weight_decay=weight_decay)

    def _check_options(self, options):
        super()._check_options(options)
        self._require(options, "momentum", lambda v: 0 <= v < 1, "in [0, 1)")
