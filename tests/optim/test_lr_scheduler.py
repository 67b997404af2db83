"""Schedulers give hand-derived learning-rate sequences; they compose and resume."""

import math

import numpy as np
import pytest

import optim
from autograd import Tensor
from optim.lr_scheduler import (
    ChainedScheduler,
    CosineAnnealingLR,
    ExponentialLR,
    LambdaLR,
    LinearWarmup,
    SequentialLR,
    StepLR,
)


def make_opt(lr=1.0, lr2=None):
    a = Tensor(np.zeros(1), requires_grad=True)
    if lr2 is None:
        return optim.SGD([a], lr=lr)
    b = Tensor(np.zeros(1), requires_grad=True)
    return optim.SGD([{"params": [a]}, {"params": [b], "lr": lr2}], lr=lr)


def sequence(opt, sched, n):
    """The lr in force for the first n optimizer steps (t = 0 .. n-1)."""
    lrs = []
    for _ in range(n):
        lrs.append(opt.param_groups[0]["lr"])
        assert sched.get_last_lr()[0] == lrs[-1]
        sched.step()
    return lrs


def close(got, expected):
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15)


def test_step_lr():
    opt = make_opt()
    close(sequence(opt, StepLR(opt, step_size=2, gamma=0.5), 6),
          [1, 1, 0.5, 0.5, 0.25, 0.25])


def test_exponential_lr():
    opt = make_opt(2.0)
    close(sequence(opt, ExponentialLR(opt, gamma=0.5), 4), [2, 1, 0.5, 0.25])


def test_cosine_annealing_lr():
    opt = make_opt()
    s = math.sqrt(2) / 4  # (1 + cos(pi/4)) / 2 = 1/2 + sqrt(2)/4
    close(sequence(opt, CosineAnnealingLR(opt, T_max=4), 5), [1, 0.5 + s, 0.5, 0.5 - s, 0])
    opt = make_opt()
    close(sequence(opt, CosineAnnealingLR(opt, T_max=2, eta_min=0.1), 3), [1, 0.55, 0.1])


def test_linear_warmup():
    opt = make_opt(0.4)
    close(sequence(opt, LinearWarmup(opt, warmup_steps=4), 6), [0.1, 0.2, 0.3, 0.4, 0.4, 0.4])


def test_lambda_lr():
    opt = make_opt()
    close(sequence(opt, LambdaLR(opt, lambda t: 1 / (t + 1)), 3), [1, 0.5, 1 / 3])


def test_sequential_lr():
    opt = make_opt()
    warmup = LinearWarmup(opt, warmup_steps=2)
    decay = ExponentialLR(opt, gamma=0.5)
    sched = SequentialLR(opt, [warmup, decay], milestones=[2])
    # warm-up 0.5, 1; then the decay restarts its count: 1, 0.5, 0.25
    close(sequence(opt, sched, 5), [0.5, 1, 1, 0.5, 0.25])


def test_sequential_lr_warmup_then_cosine():
    opt = make_opt()
    sched = SequentialLR(opt, [LinearWarmup(opt, 2), CosineAnnealingLR(opt, T_max=2)], [2])
    close(sequence(opt, sched, 5), [0.5, 1, 1, 0.5, 0])


def test_chained_scheduler_multiplies():
    opt = make_opt()
    sched = ChainedScheduler([LinearWarmup(opt, 2), StepLR(opt, step_size=2, gamma=0.1)])
    # warm-up factors 0.5, 1, 1, 1, 1 times step factors 1, 1, 0.1, 0.1, 0.01
    close(sequence(opt, sched, 5), [0.5, 1, 0.1, 0.1, 0.01])


def test_every_group_is_scheduled_from_its_own_base():
    opt = make_opt(1.0, 0.1)
    sched = ExponentialLR(opt, gamma=0.5)
    sched.step()
    close(sched.get_last_lr(), [0.5, 0.05])
    close([g["lr"] for g in opt.param_groups], [0.5, 0.05])
    assert [g["initial_lr"] for g in opt.param_groups] == [1.0, 0.1]


def test_the_optimizer_uses_the_scheduled_rate():
    x = Tensor(np.zeros(1), requires_grad=True)
    opt = optim.SGD([x], lr=1.0)
    sched = StepLR(opt, step_size=1, gamma=0.5)
    for _ in range(3):
        x.grad = np.ones(1)
        opt.step()
        sched.step()
    close(x.data, [-1.75])  # -(1 + 0.5 + 0.25)


def test_resume_through_npz(tmp_path):
    def build():
        opt = make_opt(1.0, 0.5)
        warmup = LinearWarmup(opt, 3)
        return opt, SequentialLR(opt, [warmup, CosineAnnealingLR(opt, T_max=10)], [3])

    opt, sched = build()
    for _ in range(5):
        sched.step()
    np.savez(tmp_path / "opt.npz", **opt.state_dict())
    np.savez(tmp_path / "sched.npz", **sched.state_dict())
    expected = []
    for _ in range(4):
        sched.step()
        expected.append(sched.get_last_lr())

    opt2, sched2 = build()
    opt2.load_state_dict(np.load(tmp_path / "opt.npz"))
    sched2.load_state_dict(np.load(tmp_path / "sched.npz"))
    assert sched2.last_epoch == 5
    got = []
    for _ in range(4):
        sched2.step()
        got.append(sched2.get_last_lr())
    assert got == expected


def test_load_state_dict_errors():
    opt = make_opt()
    sched = StepLR(opt, 2)
    with pytest.raises(ValueError, match="missing keys \\['base_lrs'\\]"):
        sched.load_state_dict({"last_epoch": 3})
    with pytest.raises(ValueError, match="2 base rates, the optimizer has 1 groups"):
        sched.load_state_dict({"last_epoch": 3, "base_lrs": np.array([1.0, 2.0])})


@pytest.mark.parametrize("build, match", [
    (lambda o: StepLR(o, step_size=0), "StepLR: step_size must be an integer > 0, got 0"),
    (lambda o: StepLR(o, step_size=2, gamma=-1), "StepLR: gamma must be >= 0, got -1"),
    (lambda o: ExponentialLR(o, gamma=-0.5), "ExponentialLR: gamma must be >= 0"),
    (lambda o: CosineAnnealingLR(o, T_max=0), "CosineAnnealingLR: T_max must be"),
    (lambda o: CosineAnnealingLR(o, T_max=5, eta_min=-1), "CosineAnnealingLR: eta_min"),
    (lambda o: LinearWarmup(o, warmup_steps=2.5), "LinearWarmup: warmup_steps must be"),
    (lambda o: SequentialLR(o, [StepLR(o, 2), StepLR(o, 3)], milestones=[]),
     "SequentialLR: expected 1 milestones for 2 schedulers"),
    (lambda o: SequentialLR(o, [StepLR(o, 2), StepLR(o, 3), StepLR(o, 3)], milestones=[3, 2]),
     "SequentialLR: milestones must be increasing"),
    (lambda o: SequentialLR(o, [StepLR(make_opt(), 2), StepLR(o, 3)], milestones=[2]),
     "SequentialLR: schedulers\\[0\\] drives a different optimizer"),
    (lambda o: ChainedScheduler([]), "ChainedScheduler: expected at least one scheduler"),
    (lambda o: StepLR(o, 2, last_epoch=4), "StepLR: resuming .* needs 'initial_lr'"),
])
def test_bad_arguments(build, match):
    with pytest.raises(ValueError, match=match):
        build(make_opt())


def test_not_an_optimizer():
    with pytest.raises(TypeError, match="StepLR: expected an Optimizer, got list"):
        StepLR([], step_size=1)
