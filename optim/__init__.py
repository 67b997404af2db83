"""Optimizers, learning-rate schedulers and gradient clipping.

Every optimizer updates ``p.data`` in place from ``p.grad`` (numpy arrays), keeping the
parameter's dtype; parameters whose ``.grad`` is None, or that do not require grad (frozen
with ``requires_grad_(False)``), are skipped. The updates run as one numba pass per parameter
(optim/kernels.py) for C-contiguous float32 and float64 parameters, compiled on the first
step of each optimizer (a fraction of a second, then cached), and in numpy otherwise; both
give the same bits.

>>> import numpy as np, autograd as ag, optim
>>> w = ag.Tensor(np.zeros(3), requires_grad=True)
>>> opt = optim.Adam([w], lr=1e-2)
>>> sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=100)
>>> for _ in range(100):
...     opt.zero_grad()
...     loss = ((w - 1.0) ** 2).sum()
...     loss.backward()
...     optim.clip_grad_norm_([w], max_norm=1.0)
...     opt.step()
...     sched.step()
>>> np.savez("opt.npz", **opt.state_dict())           # plain arrays: no pickle
>>> opt.load_state_dict(np.load("opt.npz"))
"""

from optim import lr_scheduler
from optim.adagrad import Adagrad
from optim.adam import Adam, AdamW
from optim.clip import clip_grad_norm_, clip_grad_value_
from optim.lr_scheduler import (
    ChainedScheduler,
    CosineAnnealingLR,
    ExponentialLR,
    LambdaLR,
    LinearWarmup,
    LRScheduler,
    MultiStepLR,
    OneCycleLR,
    ReduceLROnPlateau,
    SequentialLR,
    StepLR,
)
from optim.optimizer import Optimizer
from optim.rmsprop import RMSprop
from optim.sgd import SGD, Momentum

__all__ = [
    "SGD",
    "Adagrad",
    "Adam",
    "AdamW",
    "ChainedScheduler",
    "CosineAnnealingLR",
    "ExponentialLR",
    "LRScheduler",
    "LambdaLR",
    "LinearWarmup",
    "Momentum",
    "MultiStepLR",
    "OneCycleLR",
    "Optimizer",
    "RMSprop",
    "ReduceLROnPlateau",
    "SequentialLR",
    "StepLR",
    "clip_grad_norm_",
    "clip_grad_value_",
    "lr_scheduler",
]
