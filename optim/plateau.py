"""``ReduceLROnPlateau``: cut the learning rate when a monitored metric stops improving.

Unlike the schedulers in ``optim.lr_scheduler`` (closed forms in the step count), its rate
depends on the metrics it was given, so it keeps counters instead, and does not compose
with ``SequentialLR``/``ChainedScheduler``. It is exported from ``optim.lr_scheduler`` too.
"""

import math
import numbers

import numpy as np

from optim.optimizer import check_optimizer, per_group

__all__ = ["ReduceLROnPlateau"]

_STATE_KEYS = ("best", "num_bad_epochs", "cooldown_counter", "last_epoch")


class ReduceLROnPlateau:
    """Multiply each group's rate by ``factor`` once the metric has not improved for more
    than ``patience`` consecutive ``step(metric)`` calls (PyTorch's rule).

    The metric improves when it beats the best so far by more than ``threshold``: relative
    (``best * (1 - threshold)`` in ``"min"`` mode, ``best * (1 + threshold)`` in ``"max"``)
    or absolute (``best -/+ threshold``). After a cut, ``cooldown`` steps pass before bad
    steps count again. Rates never go below ``min_lr``, and a cut smaller than ``eps`` is
    skipped. A NaN metric counts as no improvement.

    Parameters
    ----------
    optimizer : Optimizer
    mode : {"min", "max"}, default "min"
        Whether the metric should fall (a loss) or rise (an accuracy).
    factor : float, default 0.1
        In [0, 1).
    patience : int, default 10
    threshold : float, default 1e-4
    threshold_mode : {"rel", "abs"}, default "rel"
    cooldown : int, default 0
    min_lr : float or list of float, default 0
        A floor for every group, or one per group.
    eps : float, default 1e-8

    Examples
    --------
    >>> sched = optim.lr_scheduler.ReduceLROnPlateau(opt, mode="min", factor=0.5, patience=2)
    >>> for epoch in range(epochs):
    ...     train_one_epoch(opt)
    ...     sched.step(validation_loss())
    """

    def __init__(self, optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4,
                 threshold_mode="rel", cooldown=0, min_lr=0.0, eps=1e-8):
        name = "ReduceLROnPlateau"
        check_optimizer(name, optimizer)
        checks = [
            ("mode", mode, mode in ("min", "max"), "'min' or 'max'"),
            ("threshold_mode", threshold_mode, threshold_mode in ("rel", "abs"),
             "'rel' or 'abs'"),
            ("factor", factor, _real(factor) and 0 <= factor < 1, "in [0, 1)"),
            ("patience", patience, _natural(patience), "an integer >= 0"),
            ("cooldown", cooldown, _natural(cooldown), "an integer >= 0"),
            ("threshold", threshold, _real(threshold) and threshold >= 0, ">= 0"),
            ("eps", eps, _real(eps) and eps >= 0, ">= 0"),
        ]
        for option, value, ok, what in checks:
            if not ok:
                raise ValueError(f"{name}: {option} must be {what}, got {value!r}")
        self.optimizer = optimizer
        self.mode, self.threshold_mode = mode, threshold_mode
        self.factor, self.threshold, self.eps = float(factor), float(threshold), float(eps)
        self.patience, self.cooldown = int(patience), int(cooldown)
        self.min_lrs = per_group(name, "min_lr", min_lr, optimizer)
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        self.last_epoch = 0
        self._last_lr = [float(g["lr"]) for g in optimizer.param_groups]

    @property
    def in_cooldown(self):
        return self.cooldown_counter > 0

    def is_better(self, value, best):
        """Whether ``value`` improves on ``best`` by more than the threshold."""
        if self.threshold_mode == "rel":
            scale = 1.0 - self.threshold if self.mode == "min" else 1.0 + self.threshold
            return value < best * scale if self.mode == "min" else value > best * scale
        if self.mode == "min":
            return value < best - self.threshold
        return value > best + self.threshold

    def step(self, metric):
        """Record this epoch's ``metric`` (a number, or a one-element Tensor/array) and cut
        the rates if it has stalled for more than ``patience`` steps."""
        try:
            current = float(metric)
        except (TypeError, ValueError):
            raise TypeError(f"ReduceLROnPlateau.step: metric must be a number, got "
                            f"{type(metric).__name__}") from None
        self.last_epoch += 1
        if self.is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad steps during the cooldown do not count
        if self.num_bad_epochs > self.patience:
            self._reduce()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = [float(g["lr"]) for g in self.optimizer.param_groups]

    def _reduce(self):
        groups = self.optimizer.param_groups
        if len(groups) != len(self.min_lrs):
            raise RuntimeError(f"ReduceLROnPlateau: the optimizer has {len(groups)} parameter "
                               f"groups, {len(self.min_lrs)} when the scheduler was built; "
                               "set min_lrs to one value per group")
        for group, floor in zip(groups, self.min_lrs):
            old = float(group["lr"])
            new = max(old * self.factor, floor)
            if old - new > self.eps:
                group["lr"] = new

    def get_last_lr(self):
        """The learning rate of each group after the last ``step()``."""
        return list(self._last_lr)

    def state_dict(self):
        """The counters, as numbers (savable with ``np.savez``); the options come from the
        constructor and the rates live in the optimizer's state_dict."""
        return {key: getattr(self, key) for key in _STATE_KEYS}

    def load_state_dict(self, state_dict):
        """Resume from ``state_dict()`` (a dict or an ``np.load`` result)."""
        d = dict(state_dict)
        missing = sorted(set(_STATE_KEYS) - set(d))
        unexpected = sorted(set(d) - set(_STATE_KEYS))
        if missing or unexpected:
            raise ValueError(f"ReduceLROnPlateau.load_state_dict: missing keys {missing}, "
                             f"unexpected keys {unexpected}")
        self.best = float(np.asarray(d["best"]))
        for key in _STATE_KEYS[1:]:
            setattr(self, key, int(np.asarray(d[key])))
        self._last_lr = [float(g["lr"]) for g in self.optimizer.param_groups]


def _real(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _natural(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and value >= 0
