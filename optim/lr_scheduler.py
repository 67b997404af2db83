"""Learning-rate schedulers: each sets ``group["lr"]`` from a closed form in the step count.

A scheduler remembers each group's starting rate (``group["initial_lr"]``, the ``base_lr``
below) and, on every ``step()``, sets ``lr = lr_at(base_lr, t)`` for ``t`` = the number of
``step()`` calls so far (0 right after construction). Because the rate is a function of
``t`` only (never "multiply the current rate by ..."), schedules compose cleanly:
``SequentialLR`` runs one schedule after another, ``ChainedScheduler`` applies several at
once, and a resumed run only needs ``t``.

Call ``scheduler.step()`` once per epoch (or per batch) after ``optimizer.step()``.
``ReduceLROnPlateau``, whose rate follows a metric rather than the step count, is defined in
``optim.plateau`` and exported here too.
"""

import bisect
import itertools
import math
import numbers

import numpy as np

from autograd.jit.trace import host_call
from optim.optimizer import check_optimizer, per_group
from optim.plateau import ReduceLROnPlateau

__all__ = [
    "ChainedScheduler",
    "CosineAnnealingLR",
    "ExponentialLR",
    "LRScheduler",
    "LambdaLR",
    "LinearWarmup",
    "MultiStepLR",
    "OneCycleLR",
    "ReduceLROnPlateau",
    "SequentialLR",
    "StepLR",
]


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
        check_optimizer(self._name, optimizer)
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

    @host_call
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


class MultiStepLR(LRScheduler):
    """``lr = base_lr * gamma ** k``, ``k`` the number of ``milestones`` <= ``t``: decay by
    ``gamma`` at each milestone (one listed twice decays twice, as in PyTorch).

    Examples
    --------
    >>> sched = MultiStepLR(opt, milestones=[30, 80], gamma=0.1)   # 0.1 lr from 30, 0.01 from 80
    """

    def __init__(self, optimizer, milestones, gamma=0.1, last_epoch=-1):
        try:
            milestones = list(milestones)
        except TypeError:
            raise TypeError(f"MultiStepLR: milestones must be a list of integers, got "
                            f"{type(milestones).__name__}") from None
        self._check("milestones", milestones, all(_is_int(m) and m >= 0 for m in milestones),
                    "integers >= 0")
        self._check("gamma", gamma, isinstance(gamma, numbers.Real) and gamma >= 0, ">= 0")
        self.milestones, self.gamma = sorted(int(m) for m in milestones), float(gamma)
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, t):
        return base_lr * self.gamma ** bisect.bisect_right(self.milestones, t)


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


class OneCycleLR(LRScheduler):
    """The 1cycle policy (PyTorch's ``OneCycleLR``): from ``max_lr / div_factor`` up to
    ``max_lr`` over the first ``pct_start`` of ``total_steps``, then down to
    ``max_lr / div_factor / final_div_factor``; with ``cycle_momentum``, the momentum (or
    Adam's ``beta1``) moves the opposite way, between ``max_momentum`` and ``base_momentum``.

    Step it after every batch. With ``three_phase`` the rate comes back down to its start
    over a second ``pct_start`` and then falls to the minimum. Each segment follows a
    half cosine (``anneal_strategy="cos"``) or a straight line (``"linear"``).

    Parameters
    ----------
    optimizer : Optimizer
    max_lr : float or list of float
        The peak rate, or one per parameter group.
    total_steps : int, optional
        Number of ``step()`` calls in the cycle; else ``epochs * steps_per_epoch``.
    epochs, steps_per_epoch : int, optional
    pct_start : float, default 0.3
        Fraction of the cycle spent rising.
    anneal_strategy : {"cos", "linear"}
    cycle_momentum : bool, default True
        Needs an optimizer with ``momentum`` (SGD, RMSprop) or ``betas`` (Adam, AdamW).
    base_momentum, max_momentum : float or list of float, default 0.85, 0.95
    div_factor : float, default 25
        The starting rate is ``max_lr / div_factor``.
    final_div_factor : float, default 1e4
        The final rate is the starting rate / ``final_div_factor``.
    three_phase : bool, default False
    last_epoch : int, default -1

    Examples
    --------
    >>> sched = OneCycleLR(opt, max_lr=0.1, epochs=10, steps_per_epoch=len(batches))
    >>> for epoch in range(10):
    ...     for x, y in batches:
    ...         train_step(x, y)
    ...         sched.step()
    """

    def __init__(self, optimizer, max_lr, total_steps=None, epochs=None, steps_per_epoch=None,
                 pct_start=0.3, anneal_strategy="cos", cycle_momentum=True, base_momentum=0.85,
                 max_momentum=0.95, div_factor=25.0, final_div_factor=1e4, three_phase=False,
                 last_epoch=-1):
        name = "OneCycleLR"
        check_optimizer(name, optimizer)
        if total_steps is not None:
            self._check("total_steps", total_steps, _is_int(total_steps) and total_steps > 0,
                        "an integer > 0")
        elif epochs is not None and steps_per_epoch is not None:
            self._check("epochs", epochs, _is_int(epochs) and epochs > 0, "an integer > 0")
            self._check("steps_per_epoch", steps_per_epoch,
                        _is_int(steps_per_epoch) and steps_per_epoch > 0, "an integer > 0")
            total_steps = epochs * steps_per_epoch
        else:
            raise ValueError("OneCycleLR: give total_steps, or epochs and steps_per_epoch")
        self._check("pct_start", pct_start,
                    isinstance(pct_start, numbers.Real) and 0 <= pct_start <= 1, "in [0, 1]")
        self._check("anneal_strategy", anneal_strategy, anneal_strategy in ("cos", "linear"),
                    "'cos' or 'linear'")
        for option, value in (("div_factor", div_factor), ("final_div_factor", final_div_factor)):
            self._check(option, value, isinstance(value, numbers.Real) and value > 0, "> 0")
        self.total_steps = int(total_steps)
        self.anneal_strategy, self.cycle_momentum = anneal_strategy, bool(cycle_momentum)
        self.div_factor, self.final_div_factor = float(div_factor), float(final_div_factor)
        # (last step of the phase, rate at its start and end as factors of the starting
        # rate, momentum at its start and end): PyTorch's phases.
        peak, low = self.div_factor, 1.0 / self.final_div_factor
        rise_end = float(pct_start * self.total_steps) - 1
        if three_phase:
            self.phases = [(rise_end, 1.0, peak, "max", "base"),
                           (2 * rise_end, peak, 1.0, "base", "max"),
                           (self.total_steps - 1, 1.0, low, "max", "max")]
        else:
            self.phases = [(rise_end, 1.0, peak, "max", "base"),
                           (self.total_steps - 1, peak, low, "base", "max")]
        max_lrs = per_group(name, "max_lr", max_lr, optimizer)
        if last_epoch == -1:
            for group, top in zip(optimizer.param_groups, max_lrs):
                group["initial_lr"] = top / self.div_factor
                group["max_lr"] = top
                group["min_lr"] = group["initial_lr"] / self.final_div_factor
        if self.cycle_momentum:
            self.beta1 = "betas" in optimizer.defaults
            if not self.beta1 and "momentum" not in optimizer.defaults:
                raise ValueError(f"OneCycleLR: cycle_momentum=True needs an optimizer with "
                                 f"momentum or betas, and {type(optimizer).__name__} has "
                                 "neither; pass cycle_momentum=False")
            self.momentums = {"base": per_group(name, "base_momentum", base_momentum, optimizer),
                              "max": per_group(name, "max_momentum", max_momentum, optimizer)}
            for i, group in enumerate(optimizer.param_groups):
                group["base_momentum"] = self.momentums["base"][i]
                group["max_momentum"] = self.momentums["max"][i]
        super().__init__(optimizer, last_epoch)

    def _phase(self, t):
        """(phase, fraction of it done) at step ``t``."""
        if t > self.total_steps:
            raise ValueError(f"OneCycleLR: stepped {t} times, past total_steps="
                             f"{self.total_steps}")
        start = 0.0
        for i, phase in enumerate(self.phases):
            end = phase[0]
            if t <= end or i == len(self.phases) - 1:
                # A phase of no steps (pct_start * total_steps = 1) is over at once; PyTorch
                # divides by zero there.
                return phase, (t - start) / (end - start) if end != start else 1.0
            start = end
        raise AssertionError("unreachable")

    def _anneal(self, start, end, pct):
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def lr_at(self, base_lr, t):
        (_, start, end, _, _), pct = self._phase(t)
        return self._anneal(base_lr * start, base_lr * end, pct)

    def _apply(self):
        super()._apply()
        if not self.cycle_momentum:
            return
        (_, _, _, start, end), pct = self._phase(self.last_epoch)
        for i, group in enumerate(self.optimizer.param_groups):
            momentum = self._anneal(self.momentums[start][i], self.momentums[end][i], pct)
            if self.beta1:
                group["betas"] = (momentum, *tuple(group["betas"])[1:])
            else:
                group["momentum"] = momentum


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
