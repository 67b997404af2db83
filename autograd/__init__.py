"""jitgrad's engine: Tensor, the op registry, backward, grad modes and gradient checking.

>>> import numpy as np, autograd as ag, ops
>>> x = ag.Tensor(np.random.randn(4, 3), requires_grad=True)
>>> w = ag.tensor([[1.0], [2.0], [3.0]], requires_grad=True)
>>> loss = ops.relu(x @ w).mean()
>>> loss.backward()

The layers, bottom to top: ``autograd.core`` (the engine) <- ``ops`` (the op library) <-
``optim`` <- ``autograd.nn`` <- ``autograd.train``. This package's own namespace is the front
door: it re-exports the engine and imports the op library, which gives Tensor its operators.
"""

from autograd.core import (
    REGISTRY, Op, Tensor, call, defop, enable_grad, get_default_dtype, grad, hessian, hvp,
    is_grad_enabled, jacobian, jvp, no_grad, set_default_dtype, set_grad_enabled, tensor, vjp,
)
from autograd.tools import checkpoint, detect_anomaly, profile, render_dot, to_dot
from autograd.jit import TraceError, host_call, jit
import ops  # noqa: F401  (installs Tensor's operators and methods)
from ops.kernels import get_num_threads, set_num_threads
from autograd.creation import (
    arange, full, full_like, manual_seed, ones, ones_like, rand, rand_like, randn, randn_like,
    zeros, zeros_like,
)

__all__ = [
    "Tensor", "tensor", "set_default_dtype", "get_default_dtype", "defop", "Op", "call",
    "REGISTRY", "grad", "set_num_threads", "get_num_threads", "detect_anomaly", "profile", "to_dot", "render_dot", "checkpoint",
    "vjp", "jvp", "jacobian", "hessian", "hvp", "no_grad", "enable_grad", "is_grad_enabled",
    "set_grad_enabled", "jit", "host_call", "TraceError", "zeros", "ones", "full", "arange", "rand", "randn", "zeros_like",
    "ones_like", "full_like", "rand_like", "randn_like", "manual_seed",
]
