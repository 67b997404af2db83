"""ReduceLROnPlateau: hand-traced rate sequences, floors, resuming, errors."""

import math

import numpy as np
import pytest

import optim
from autograd import Tensor
from optim.lr_scheduler import ReduceLROnPlateau


def make_opt(*lrs):
    groups = [{"params": [Tensor(np.zeros(1), requires_grad=True)], "lr": lr} for lr in lrs]
    return optim.SGD(groups, lr=lrs[0])


def rates(sched, metrics):
    out = []
    for m in metrics:
        sched.step(m)
        out.append(sched.get_last_lr()[0])
    return out


def test_patience_and_cooldown():
    opt = make_opt(1.0)
    sched = ReduceLROnPlateau(opt, factor=0.5, patience=1, threshold=0, cooldown=1)
    # 5, 4 improve; 4, 4 are two bad steps (> patience 1): cut to 0.5 and cool down one
    # step (its bad step does not count); 4 is then bad step 1; 3 improves; 3, 3 cut again
    got = rates(sched, [5, 4, 4, 4, 4, 4, 3, 3, 3])
    assert got == [1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.5, 0.25]
    assert opt.param_groups[0]["lr"] == 0.25 and sched.best == 3


def test_relative_threshold_in_max_mode_and_the_floor():
    opt = make_opt(1.0, 0.2)
    sched = ReduceLROnPlateau(opt, mode="max", factor=0.1, patience=0, threshold=0.1,
                              min_lr=[0.05, 0.0])
    # 1.05 is not 10% better than 1: a bad step, and patience 0 cuts at once
    assert rates(sched, [1.0, 1.05, 1.2]) == [1.0, 0.1, 0.1]
    sched.step(1.2)
    assert sched.get_last_lr() == [0.05, pytest.approx(0.002)]  # group 0 floored at min_lr
    sched.step(0.0)
    assert sched.get_last_lr()[0] == 0.05  # at the floor: no smaller cut


def test_nan_counts_as_no_improvement_and_tensors_are_accepted():
    opt = make_opt(1.0)
    sched = ReduceLROnPlateau(opt, patience=0)
    sched.step(Tensor(np.array(2.0)))
    sched.step(math.nan)
    assert sched.get_last_lr() == [pytest.approx(0.1)]


def test_resume_through_npz(tmp_path):
    opt = make_opt(1.0)
    sched = ReduceLROnPlateau(opt, factor=0.5, patience=2)
    for m in [3, 2, 2]:
        sched.step(m)
    np.savez(tmp_path / "s.npz", **sched.state_dict())
    again = ReduceLROnPlateau(make_opt(1.0), factor=0.5, patience=2)
    again.load_state_dict(np.load(tmp_path / "s.npz"))
    assert (again.best, again.num_bad_epochs, again.last_epoch) == (2.0, 1, 3)
    for s in (sched, again):
        s.step(2)
        s.step(2)
    assert sched.get_last_lr() == [0.5]
    assert again.optimizer.param_groups[0]["lr"] == 0.5


@pytest.mark.parametrize("kwargs, match", [
    ({"mode": "lowest"}, "mode must be 'min' or 'max', got 'lowest'"),
    ({"factor": 1.0}, r"factor must be in \[0, 1\), got 1.0"),
    ({"patience": -1}, "patience must be an integer >= 0, got -1"),
    ({"threshold_mode": "pct"}, "threshold_mode must be 'rel' or 'abs'"),
    ({"min_lr": [0.1, 0.2]}, "expected 1 values of min_lr"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=f"ReduceLROnPlateau: {match}"):
        ReduceLROnPlateau(make_opt(1.0), **kwargs)


def test_bad_metric_and_state():
    sched = ReduceLROnPlateau(make_opt(1.0))
    with pytest.raises(TypeError, match="ReduceLROnPlateau.step: metric must be a number, got "
                                        "str"):
        sched.step("low")
    with pytest.raises(ValueError, match=r"missing keys \['best'"):
        sched.load_state_dict({"last_epoch": 1})
    with pytest.raises(TypeError, match="ReduceLROnPlateau: expected an Optimizer, got list"):
        ReduceLROnPlateau([])
