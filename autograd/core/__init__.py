"""The engine, the ground floor: it imports nothing from the op library or above.

``grad_mode`` <- ``tensor`` (the data model) <- ``registry`` (ops and graph nodes) <-
``backward`` (the backward pass), each importing only the ones before it.
"""

from autograd.core.grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from autograd.core.tensor import Tensor, get_default_dtype, set_default_dtype, tensor
from autograd.core.registry import REGISTRY, Op, call, defop
from autograd.core.backward import grad
from autograd.core.transforms import hessian, hvp, jacobian, jvp, vjp

__all__ = [
    "Tensor", "tensor", "set_default_dtype", "get_default_dtype", "defop", "Op", "call",
    "REGISTRY", "grad", "vjp", "jvp", "jacobian", "hessian", "hvp", "no_grad", "enable_grad", "is_grad_enabled", "set_grad_enabled",
]
