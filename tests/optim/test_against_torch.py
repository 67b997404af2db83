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
