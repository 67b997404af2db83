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
    MultiStepLR,
    OneCycleLR,
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


def test_cosine_annealing_is_bitwise_the_per_step_cosine_of_the_training_command():
    """The training command decays ``lr`` per step as ``0.5 lr (1 + cos(pi t / total))``;
    CosineAnnealingLR(T_max=total) stepped after every batch gives exactly those floats, so
    the command can use it without moving the README's figures."""
    total, base = 12 * 469, 2e-3  # 12 epochs of 469 batches of 128 images
    opt = make_opt(base)
    sched = CosineAnnealingLR(opt, T_max=total)
    for t in range(total):
        assert opt.param_groups[0]["lr"] == 0.5 * base * (1.0 + math.cos(math.pi * t / total))
        sched.step()


def test_linear_warmup():
    opt = make_opt(0.4)
    close(sequence(opt, LinearWarmup(opt, warmup_steps=4), 6), [0.1, 0.2, 0.3, 0.4, 0.4, 0.4])


def test_lambda_lr():
    opt = make_opt()
    close(sequence(opt, LambdaLR(opt, lambda t: 1 / (t + 1)), 3), [1, 0.5, 1 / 3])


def test_multi_step_lr():
    opt = make_opt()
    # milestones sorted; 5 listed twice decays twice: 1, 1 | 0.5 x3 | 0.5 * 0.25
    close(sequence(opt, MultiStepLR(opt, milestones=[5, 2, 5], gamma=0.5), 7),
          [1, 1, 0.5, 0.5, 0.5, 0.125, 0.125])


def test_one_cycle_lr_linear_and_momentum():
    opt = make_opt()
    sched = OneCycleLR(opt, max_lr=1.0, total_steps=10, anneal_strategy="linear")
    # start 1/25 = 0.04, min 0.04 / 1e4; the rise ends at step 0.3 * 10 - 1 = 2, then a
    # straight line down to the minimum at step 9
    low = 0.04 / 1e4
    expected = [0.04, 0.52, 1.0] + [1.0 + (low - 1.0) * (t - 2) / 7 for t in range(3, 10)]
    momentum = []
    lrs = []
    for _ in range(10):
        lrs.append(opt.param_groups[0]["lr"])
        momentum.append(opt.param_groups[0]["momentum"])
        sched.step()
    close(lrs, expected)
    close(momentum[:3], [0.95, 0.9, 0.85])  # momentum falls while the rate rises ...
    close(momentum[9], 0.95)  # ... and comes back
    assert opt.param_groups[0]["max_lr"] == 1.0
    with pytest.raises(ValueError, match="OneCycleLR: stepped 11 times, past total_steps=10"):
        sched.step()


def test_one_cycle_lr_cosine_three_phase_and_adam_betas():
    a = Tensor(np.zeros(1), requires_grad=True)
    opt = optim.Adam([a], betas=(0.9, 0.99))
    sched = OneCycleLR(opt, max_lr=[0.5], epochs=2, steps_per_epoch=4, pct_start=0.25,
                       three_phase=True)
    # phase ends: 0.25 * 8 - 1 = 1, 2 * 1 = 2, 7; cosine halfway points by hand
    start, low = 0.02, 0.02 / 1e4
    lrs = sequence(opt, sched, 8)
    close(lrs[:3], [start, 0.5, start])
    close(lrs[7], low)
    half = low + (start - low) / 2  # the cosine's middle, at step (2 + 7) / 2 = 4.5
    assert lrs[4] > half > lrs[5]
    assert opt.param_groups[0]["betas"][1] == 0.99  # only beta1 cycles


def test_one_cycle_lr_errors():
    opt = make_opt()
    with pytest.raises(ValueError, match="OneCycleLR: give total_steps, or epochs and"):
        OneCycleLR(opt, max_lr=0.1)
    with pytest.raises(ValueError, match="OneCycleLR: pct_start must be in \\[0, 1\\], got 1.5"):
        OneCycleLR(opt, max_lr=0.1, total_steps=5, pct_start=1.5)
    with pytest.raises(ValueError, match="OneCycleLR: expected 2 values of max_lr"):
        OneCycleLR(make_opt(1.0, 0.5), max_lr=[0.1], total_steps=5)
    adagrad = optim.Adagrad([Tensor(np.zeros(1), requires_grad=True)])
    with pytest.raises(ValueError, match="OneCycleLR: cycle_momentum=True needs an optimizer "
                                         "with momentum or betas, and Adagrad has neither"):
        OneCycleLR(adagrad, max_lr=0.1, total_steps=5)
    OneCycleLR(adagrad, max_lr=0.1, total_steps=5, cycle_momentum=False)
    # one step of rise (0.1 * 10 - 1 = 0): over at once, no division by zero
    close(sequence(opt, OneCycleLR(opt, max_lr=1.0, total_steps=10, pct_start=0.1), 1), [1.0])


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
