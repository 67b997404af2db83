"""Learning-rate schedulers: each sets ``group["lr"]`` from a closed form in the step count.

A scheduler remembers each group's starting rate (``group["initial_lr"]``, the ``base_lr``
below) and, on every ``step()``, sets ``lr = lr_at(base_lr, t)`` for ``t`` = the number of
``step()`` calls so far (0 right after construction). Because the rate is a function of
``t`` only (never "multiply the current rate by ..."), schedules compose cleanly:
``SequentialLR`` runs one schedule after another, ``ChainedScheduler`` applies several at
once, and a resumed run only needs ``t``.

Call ``scheduler.step()`` once per epoch (or per batch) after ``optimizer.step()``.
"""

import bisect
import itertools
import math
import numbers

import numpy as np

from optim.optimizer import Optimizer


class LRScheduler:
    """Base class: subclasses define ``lr_at(base_lr, t)``.

    Parameters
    ----------
    optimizer : Optimizer
    last_epoch : int, default -1
        The step count to resume from; -1 starts a new schedule.

    Examples
    --------
    >>> sched = optim.lr_scheduler.StepLR(opt, step_size=10, gamma=0.5)
    >>> for epoch in range(30):
    ...     train_one_epoch(opt)
    ...     sched.step()
    """

    def __init__(self, optimizer, last_epoch=-1):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{self._name}: expected an Optimizer, got "
                            f"{type(optimizer).__name__}")
        if not isinstance(last_epoch, numbers.Integral) or last_epoch < -1:
            raise ValueError(f"{self._name}: last_epoch must be an integer >= -1, "
                             f"got {last_epoch!r}")
        if last_epoch != -1 and any("initial_lr" not in g for g in optimizer.param_groups):
            raise ValueError(f"{self._name}: resuming (last_epoch={last_epoch}) needs "
                             "'initial_lr' in every parameter group; load the optimizer's "
                             "state_dict first")
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])
        self.base_lrs = [float(g["initial_lr"]) for g in optimizer.param_groups]
        self.last_epoch = int(last_epoch)
        self.step()

    @property
    def _name(self):
        return type(self).__name__

    def lr_at(self, base_lr, t):
        """The learning rate after ``t`` calls of ``step()``, for a group starting at
        ``base_lr``."""
        raise NotImplementedError

    def step(self):
        """Advance one step and set each group's ``lr``."""
        self.last_epoch += 1
        self._apply()

    def _apply(self):
        self._last_lr = [self.lr_at(b, self.last_epoch) for b in self.base_lrs]
        for group, lr in zip(self.optimizer.param_groups, self._last_lr):
            group["lr"] = lr

    def get_last_lr(self):
        """The learning rate of each group, as set by the last ``step()``."""
        return list(self._last_lr)

    def state_dict(self):
        """``{"last_epoch": int, "base_lrs": array}``: savable with ``np.savez``."""
        return {"last_epoch": self.last_epoch, "base_lrs": np.array(self.base_lrs)}

    def load_state_dict(self, state_dict):
        """Resume from ``state_dict()`` (a dict or an ``np.load`` result); sets the groups'
        learning rates to the schedule's value at the restored step."""
        name = f"{self._name}.load_state_dict"
        d = dict(state_dict)
        unexpected = sorted(set(d) - {"last_epoch", "base_lrs"})
        missing = sorted({"last_epoch", "base_lrs"} - set(d))
        if unexpected or missing:
            raise ValueError(f"{name}: missing keys {missing}, unexpected keys {unexpected}")
        base_lrs = [float(b) for b in np.asarray(d["base_lrs"]).reshape(-1)]
        if len(base_lrs) != len(self.optimizer.param_groups):
            raise ValueError(f"{name}: the state has {len(base_lrs)} base rates, the optimizer "
                             f"has {len(self.optimizer.param_groups)} groups")
        self.last_epoch = int(np.asarray(d["last_epoch"]))
        self.base_lrs = base_lrs
        for group, base_lr in zip(self.optimizer.param_groups, base_lrs):
            group["initial_lr"] = base_lr
        self._apply()

    def _check(self, name, value, ok, what):
        if not ok:
            raise ValueError(f"{self._name}: {name} must be {what}, got {value!r}")


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


class LambdaLR(LRScheduler):
    """``lr = base_lr * lr_lambda(t)``.

    Examples
    --------
    >>> sched = LambdaLR(opt, lambda t: 1 / (1 + t))
    """

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        if not callable(lr_lambda):
            raise TypeError(f"LambdaLR: lr_lambda must be callable, got {lr_lambda!r}")
        self.lr_lambda = lr_lambda
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, t):
        return base_lr * self.lr_lambda(t)


class StepLR(LRScheduler):
    """``lr = base_lr * gamma ** (t // step_size)``: decay by ``gamma`` every
    ``step_size`` steps.

    Examples
    --------
    >>> sched = StepLR(opt, step_size=30, gamma=0.1)   # 0.1 lr from epoch 30, 0.01 from 60
    """

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        self._check("step_size", step_size, _is_int(step_size) and step_size > 0,
                    "an integer > 0")
        self._check("gamma", gamma, isinstance(gamma, numbers.Real) and gamma >= 0, ">= 0")
        self.step_size, self.gamma = int(step_size), float(gamma)
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, t):
        return base_lr * self.gamma ** (t // self.step_size)


class ExponentialLR(LRScheduler):
    """``lr = base_lr * gamma ** t``.

    Examples
    --------
    >>> sched = ExponentialLR(opt, gamma=0.95)
    """

    def __init__(self, optimizer, gamma, last_epoch=-1):
        self._check("gamma", gamma, isinstance(gamma, numbers.Real) and gamma >= 0, ">= 0")
        self.gamma = float(gamma)
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, t):
        return base_lr * self.gamma**t


class CosineAnnealingLR(LRScheduler):
    """``lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * t / T_max)) / 2``.

    From ``base_lr`` at ``t = 0`` down to ``eta_min`` at ``t = T_max`` (PyTorch's closed
    form: past ``T_max`` the cosine continues and the rate rises again; follow it with a
    constant schedule in a ``SequentialLR`` to hold ``eta_min``).

    Examples
    --------
    >>> sched = CosineAnnealingLR(opt, T_max=100, eta_min=1e-5)
    """

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        self._check("T_max", T_max, _is_int(T_max) and T_max > 0, "an integer > 0")
        self._check("eta_min", eta_min, isinstance(eta_min, numbers.Real) and eta_min >= 0,
                    ">= 0")
        self.T_max, self.eta_min = int(T_max), float(eta_min)
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, t):
        cosine = (1 + math.cos(math.pi * t / self.T_max)) / 2
        return self.eta_min + (base_lr - self.eta_min) * cosine


class LinearWarmup(LRScheduler):
    """``lr = base_lr * min(1, (t + 1) / warmup_steps)``: the first ``warmup_steps``
    optimizer steps use ``base_lr / n, 2 base_lr / n, ..., base_lr``, then ``base_lr``.

    Examples
    --------
    >>> warmup = LinearWarmup(opt, warmup_steps=5)
    >>> cosine = CosineAnnealingLR(opt, T_max=95)
    >>> sched = SequentialLR(opt, [warmup, cosine], milestones=[5])
    """

    def __init__(self, optimizer, warmup_steps, last_epoch=-1):
        self._check("warmup_steps", warmup_steps, _is_int(warmup_steps) and warmup_steps > 0,
                    "an integer > 0")
        self.warmup_steps = int(warmup_steps)
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, t):
        return base_lr * min(1.0, (t + 1) / self.warmup_steps)


def _check_children(name, optimizer, schedulers):
    schedulers = list(schedulers)
    if not schedulers:
        raise ValueError(f"{name}: expected at least one scheduler")
    for i, s in enumerate(schedulers):
        if not isinstance(s, LRScheduler):
            raise TypeError(f"{name}: schedulers[{i}] is a {type(s).__name__}, "
                            "not an LRScheduler")
        if s.optimizer is not optimizer:
            raise ValueError(f"{name}: schedulers[{i}] drives a different optimizer")
    return schedulers


class SequentialLR(LRScheduler):
    """Run ``schedulers[0]`` until ``milestones[0]``, then ``schedulers[1]`` (restarting
    its count at 0) until ``milestones[1]``, and so on.

    Parameters
    ----------
    optimizer : Optimizer
    schedulers : list of LRScheduler
        Built on ``optimizer``; only this scheduler's ``step()`` should be called.
    milestones : list of int
        ``len(schedulers) - 1`` increasing step counts at which to switch.

    Examples
    --------
    >>> warmup = LinearWarmup(opt, warmup_steps=5)
    >>> decay = ExponentialLR(opt, gamma=0.9)
    >>> sched = SequentialLR(opt, [warmup, decay], milestones=[5])
    """

    def __init__(self, optimizer, schedulers, milestones, last_epoch=-1):
        self.schedulers = _check_children("SequentialLR", optimizer, schedulers)
        milestones = list(milestones)
        if len(milestones) != len(self.schedulers) - 1:
            raise ValueError(f"SequentialLR: expected {len(self.schedulers) - 1} milestones for "
                             f"{len(self.schedulers)} schedulers, got {milestones}")
        if not all(_is_int(m) and m > 0 for m in milestones) or \
                any(a >= b for a, b in itertools.pairwise(milestones)):
            raise ValueError(f"SequentialLR: milestones must be increasing integers > 0, "
                             f"got {milestones}")
        self.milestones = [int(m) for m in milestones]
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, t):
        i = bisect.bisect_right(self.milestones, t)
        start = self.milestones[i - 1] if i > 0 else 0
        return self.schedulers[i].lr_at(base_lr, t - start)


class ChainedScheduler(LRScheduler):
    """Apply several schedules at once, each to the rate the previous one produced:
    ``lr = s_n.lr_at(... s_1.lr_at(base_lr, t) ..., t)``.

    For the multiplicative schedules (``StepLR``, ``ExponentialLR``, ``LinearWarmup``,
    ``LambdaLR``) that is the product of their factors.

    Examples
    --------
    >>> warmup = LinearWarmup(opt, warmup_steps=5)
    >>> decay = StepLR(opt, step_size=10, gamma=0.5)
    >>> sched = ChainedScheduler([warmup, decay])
    """

    def __init__(self, schedulers, last_epoch=-1):
        schedulers = list(schedulers)
        optimizer = schedulers[0].optimizer if schedulers and \
            isinstance(schedulers[0], LRScheduler) else None
        self.schedulers = _check_children("ChainedScheduler", optimizer, schedulers)
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, t):
        lr = base_lr
        for s in self.schedulers:
            lr = s.lr_at(lr, t)
        return lr
