"""Optional: the same trajectories as torch.optim (skipped when torch is not installed)."""

import numpy as np
import pytest

import optim
from autograd import Tensor

torch = pytest.importorskip("torch")

CASES = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.05}),
    ("SGD", {"lr": 0.1, "momentum": 0.8, "nesterov": True, "weight_decay": 0.05}),
    ("Adam", {"lr": 0.05, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.05, "betas": (0.5, 0.7), "eps": 1e-3, "amsgrad": True}),
    ("AdamW", {"lr": 0.05}),
    ("AdamW", {"lr": 0.05, "weight_decay": 0.3, "amsgrad": True}),
    ("RMSprop", {"lr": 0.01}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.9, "momentum": 0.7, "centered": True, "weight_decay": 0.1}),
    ("Adagrad", {"lr": 0.1}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.05, "weight_decay": 0.1,
                 "initial_accumulator_value": 0.2}),
]


@pytest.mark.parametrize("name, kwargs", CASES, ids=[f"{n}-{i}" for i, (n, _) in
                                                      enumerate(CASES)])
def test_matches_torch(name, kwargs):
    rng = np.random.default_rng(7)
    init = [rng.standard_normal((4, 3)), rng.standard_normal(5)]
    ours = [Tensor(a.copy(), requires_grad=True) for a in init]
    theirs = [torch.tensor(a.copy(), requires_grad=True) for a in init]
    opt = getattr(optim, name)(ours, **kwargs)
    ref = getattr(torch.optim, name)(theirs, **kwargs)
    for _ in range(10):
        grads = [np.sin(3 * p.data) + 0.1 * rng.standard_normal(p.shape) for p in ours]
        for p, q, g in zip(ours, theirs, grads):
            p.grad = g
            q.grad = torch.from_numpy(g.copy())
        opt.step()
        ref.step()
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.data, q.detach().numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name, kwargs", [
    ("StepLR", {"step_size": 3, "gamma": 0.5}),
    ("ExponentialLR", {"gamma": 0.9}),
    ("CosineAnnealingLR", {"T_max": 7, "eta_min": 0.1}),
])
def test_schedulers_match_torch(name, kwargs):
    def lrs(lib, p):
        opt = lib.SGD([p], lr=1.0)
        sched = getattr(lib.lr_scheduler, name)(opt, **kwargs)
        seq = []
        for _ in range(12):
            seq.append(opt.param_groups[0]["lr"])
            opt.step()
            sched.step()
        return seq

    ours = lrs(optim, Tensor(np.zeros(1), requires_grad=True))
    theirs = lrs(torch.optim, torch.zeros(1, requires_grad=True))
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)


@pytest.mark.parametrize("opt_name, opt_kwargs, kwargs", [
    ("SGD", {"lr": 1.0, "momentum": 0.9}, {"max_lr": 0.3, "total_steps": 17}),
    ("SGD", {"lr": 1.0}, {"max_lr": 0.3, "epochs": 3, "steps_per_epoch": 5, "pct_start": 0.4,
                          "anneal_strategy": "linear", "div_factor": 10.0}),
    ("Adam", {}, {"max_lr": 0.01, "total_steps": 20, "three_phase": True,
                  "final_div_factor": 100.0, "base_momentum": 0.8, "max_momentum": 0.9}),
    ("RMSprop", {"momentum": 0.5}, {"max_lr": 0.1, "total_steps": 12, "cycle_momentum": False}),
])
def test_one_cycle_matches_torch(opt_name, opt_kwargs, kwargs):
    def run(lib, p):
        opt = getattr(lib, opt_name)([p], **opt_kwargs)
        sched = lib.lr_scheduler.OneCycleLR(opt, **kwargs)
        seq = []
        for _ in range(sched.total_steps):
            group = opt.param_groups[0]
            seq.append((group["lr"], group.get("momentum", group.get("betas", (0,))[0])))
            opt.step()
            sched.step()
        return seq

    ours = run(optim, Tensor(np.zeros(1), requires_grad=True))
    theirs = run(torch.optim, torch.zeros(1, requires_grad=True))
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_multi_step_matches_torch():
    def run(lib, p):
        opt = lib.SGD([p], lr=0.5)
        sched = lib.lr_scheduler.MultiStepLR(opt, milestones=[6, 2, 6, 9], gamma=0.3)
        seq = []
        for _ in range(12):
            seq.append(opt.param_groups[0]["lr"])
            opt.step()
            sched.step()
        return seq

    np.testing.assert_allclose(run(optim, Tensor(np.zeros(1), requires_grad=True)),
                               run(torch.optim, torch.zeros(1, requires_grad=True)), rtol=1e-12)


@pytest.mark.parametrize("kwargs", [
    {"factor": 0.5, "patience": 1, "cooldown": 2},
    {"mode": "max", "factor": 0.2, "patience": 0, "threshold": 0.05, "min_lr": 0.01},
    {"threshold_mode": "abs", "threshold": 0.3, "patience": 2, "eps": 0.05},
])
def test_reduce_on_plateau_matches_torch(kwargs):
    metrics = np.random.default_rng(3).standard_normal(40).cumsum() * 0.2 + 5

    def run(lib, p):
        opt = lib.SGD([p], lr=1.0)
        sched = lib.lr_scheduler.ReduceLROnPlateau(opt, **kwargs)
        seq = []
        for m in metrics:
            opt.step()
            sched.step(float(m))
            seq.append(opt.param_groups[0]["lr"])
        return seq

    ours = run(optim, Tensor(np.zeros(1), requires_grad=True))
    theirs = run(torch.optim, torch.zeros(1, requires_grad=True))
    assert len(set(ours)) > 1  # the case does cut the rate
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)
