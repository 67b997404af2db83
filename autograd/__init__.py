"""jitgrad's engine: Tensor, the op registry, backward, grad modes and gradient checking.

>>> import numpy as np, autograd as ag, ops
>>> x = ag.Tensor(np.random.randn(4, 3), requires_grad=True)
>>> w = ag.tensor([[1.0], [2.0], [3.0]], requires_grad=True)
>>> loss = ops.relu(x @ w).mean()
>>> loss.backward()
"""

from autograd.tensor import Tensor, get_default_dtype, set_default_dtype, tensor
from autograd.function import REGISTRY, Op, call, defop
from autograd.grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from autograd.engine import grad

__all__ = [
    "Tensor", "tensor", "set_default_dtype", "get_default_dtype", "defop", "Op", "call",
    "REGISTRY", "grad", "no_grad", "enable_grad", "is_grad_enabled", "set_grad_enabled",
]
