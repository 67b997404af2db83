"""Every optimizer lowers the loss of a small linear regression built with autograd."""

import numpy as np
import pytest

import optim
from autograd import Tensor

OPTIMIZERS = {
    "SGD": lambda p: optim.SGD(p, lr=0.1),
    "SGD-nesterov": lambda p: optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True),
    "Momentum": lambda p: optim.Momentum(p, lr=0.05),
    "Adam": lambda p: optim.Adam(p, lr=0.05),
    "Adam-amsgrad": lambda p: optim.Adam(p, lr=0.05, amsgrad=True),
    "AdamW": lambda p: optim.AdamW(p, lr=0.05),
    "RMSprop": lambda p: optim.RMSprop(p, lr=0.03),
    "RMSprop-centered": lambda p: optim.RMSprop(p, lr=0.01, momentum=0.5, centered=True),
    "Adagrad": lambda p: optim.Adagrad(p, lr=0.2),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", OPTIMIZERS)
def test_lowers_the_loss_of_linear_regression(name, dtype):
    rng = np.random.default_rng(0)
    X = Tensor(rng.standard_normal((64, 3)).astype(dtype))
    y = Tensor((X.data @ np.array([[1.5], [-2.0], [0.5]]) + 0.3
                + 0.01 * rng.standard_normal((64, 1))).astype(dtype))
    w = Tensor(np.zeros((3, 1), dtype), requires_grad=True)
    b = Tensor(np.zeros(1, dtype), requires_grad=True)
    opt = OPTIMIZERS[name]([w, b])
    losses = []
    for _ in range(60):
        opt.zero_grad()
        loss = ((X @ w + b - y) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(float(loss.data))
    assert losses[-1] < 0.1 * losses[0], losses[::10]
    assert w.dtype == dtype and b.dtype == dtype
