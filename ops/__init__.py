"""The op library: every op registers its forward and VJP through ``autograd.defop``.

Each module lists its public ops in ``__all__``; it may also give ``UFUNCS`` (numpy ufunc
name -> op) and ``FUNCTIONS`` (numpy function name -> op). Those tables are how numpy calls
on a Tensor dispatch back into the ops, which is what makes every VJP differentiable.
"""

import importlib

_MODULES = [
    "elementwise", "reductions", "shape", "indexing", "linalg", "functional", "losses",
    "conv", "pool", "normalization", "attention", "recurrent",
]

UFUNCS: dict = {}
FUNCTIONS: dict = {}
COMPARISONS = {
    "greater", "greater_equal", "less", "less_equal", "equal", "not_equal", "sign",
    "isfinite", "isnan", "isinf", "signbit", "logical_and", "logical_or", "logical_not",
}
__all__ = ["UFUNCS", "FUNCTIONS", "COMPARISONS"]

for _name in _MODULES:
    _module = importlib.import_module(f"ops.{_name}")
    for _public in _module.__all__:
        globals()[_public] = getattr(_module, _public)
    __all__ += list(_module.__all__)
    UFUNCS.update(getattr(_module, "UFUNCS", {}))
    FUNCTIONS.update(getattr(_module, "FUNCTIONS", {}))
