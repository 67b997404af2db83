"""Tensor's operators and the method forms of ops, installed by the op library.

The engine's Tensor (``autograd.core.tensor``) is the data model only; as in HIPS autograd's
numpy layer, the op library gives it arithmetic and methods, so imports run one way: ops
knows the engine, the engine knows nothing of ops. Each method is a one-line call into an op.
"""

from autograd.core.tensor import FUNCTIONS, UFUNCS, Tensor
from ops import (
    attention, conv, creation, elementwise, functional, indexing, linalg, losses, normalization,
    pool, recurrent, reductions, shape,
)
from ops.elementwise import abs, add, astype, clip, div, exp, log, mul, neg, pow, relu, sigmoid
from ops.elementwise import sqrt, sub, tanh
from ops.functional import log_softmax, softmax
from ops.indexing import getitem
from ops.linalg import matmul
from ops.reductions import max, mean, min, std, sum, var
from ops.shape import broadcast_to, expand_dims, flatten, reshape, squeeze, swapaxes, transpose

for _module in (elementwise, reductions, shape, indexing, linalg, functional, losses, conv,
                pool, normalization, attention, recurrent, creation):
    UFUNCS.update(getattr(_module, "UFUNCS", {}))
    FUNCTIONS.update(getattr(_module, "FUNCTIONS", {}))


def _reversed(op):
    return lambda self, o: op(o, self)


# Ops bind like functions (Op.__get__), so they are installed as methods directly.
_OPERATORS = {
    "__add__": add, "__sub__": sub, "__mul__": mul, "__truediv__": div, "__pow__": pow,
    "__matmul__": matmul, "__radd__": _reversed(add), "__rsub__": _reversed(sub),
    "__rmul__": _reversed(mul), "__rtruediv__": _reversed(div), "__rpow__": _reversed(pow),
    "__rmatmul__": _reversed(matmul), "__getitem__": getitem, "__neg__": neg, "__abs__": abs,
    "__pos__": lambda self: self,
}


def _reduction(op):
    def method(self, axis=None, keepdims=False):
        return op(self, axis=axis, keepdims=keepdims)
    method.__name__ = method.__qualname__ = op.name
    return method


def _std(self, axis=None, keepdims=False, ddof=0):
    return std(self, axis=axis, keepdims=keepdims, ddof=ddof)


def _var(self, axis=None, keepdims=False, ddof=0):
    return var(self, axis=axis, keepdims=keepdims, ddof=ddof)


def _reshape(self, *shape):
    return reshape(self, shape[0] if len(shape) == 1 else shape)


def _transpose(self, *axes):
    return transpose(self, (axes[0] if len(axes) == 1 else axes) or None)


def _softmax(self, axis=-1):
    return softmax(self, axis)


def _log_softmax(self, axis=-1):
    return log_softmax(self, axis)


_METHODS = {
    "sum": _reduction(sum), "mean": _reduction(mean), "max": _reduction(max),
    "min": _reduction(min), "var": _var, "std": _std, "reshape": _reshape,
    "transpose": _transpose, "swapaxes": swapaxes, "flatten": flatten, "squeeze": squeeze,
    "expand_dims": expand_dims, "broadcast_to": broadcast_to, "astype": astype, "exp": exp,
    "log": log, "sqrt": sqrt, "tanh": tanh, "sigmoid": sigmoid, "relu": relu, "abs": abs,
    "clip": clip,
    "softmax": _softmax, "log_softmax": _log_softmax, "T": property(transpose),
}

for _name, _fn in {**_OPERATORS, **_METHODS}.items():
    setattr(Tensor, _name, _fn)
