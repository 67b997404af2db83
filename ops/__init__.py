"""The op library: every op registers its forward and VJP in ``autograd.function``.

Also the tables through which numpy ufuncs and functions applied to a Tensor dispatch back
into these ops (``UFUNCS``, ``FUNCTIONS``), which is what makes VJPs differentiable.
"""

from ops.elementwise import (
    abs, add, astype, clip, cos, div, elu, erf, exp, gelu, leaky_relu, log, maximum, minimum,
    mul, neg, pow, relu, sigmoid, sin, softplus, sqrt, sub, tanh, where,
)
from ops.indexing import _getitem as getitem, scatter_add, unwrap_index
from ops.linalg import matmul
from ops.reductions import mean, sum
from ops.shape import broadcast_to, reshape, transpose

UFUNCS = {
    "add": add, "subtract": sub, "multiply": mul, "divide": div, "true_divide": div,
    "negative": neg, "power": pow, "exp": exp, "log": log, "sqrt": sqrt, "absolute": abs,
    "sin": sin, "cos": cos, "tanh": tanh, "maximum": maximum, "minimum": minimum,
    "matmul": matmul, "erf": erf,
}
COMPARISONS = {
    "greater", "greater_equal", "less", "less_equal", "equal", "not_equal", "sign",
    "isfinite", "isnan", "isinf", "signbit",
}
FUNCTIONS = {
    "where": where, "sum": sum, "mean": mean, "reshape": reshape, "transpose": transpose,
    "broadcast_to": broadcast_to, "clip": clip, "matmul": matmul,
}
