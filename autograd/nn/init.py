"""Parameter initialisation: uniform, normal, Kaiming (He) and Xavier (Glorot).

Every function fills a Parameter (or ndarray) in place and returns it. Random numbers come
from ``rng`` when given, else from this module's generator, which ``seed`` resets: seed it
once before building a model and the same weights come out every run.

Fans follow the layouts of this library's layers: a 2-D weight is ``(in, out)`` (as
``Linear`` stores it, for ``x @ w``), so ``fan_in = shape[0]``; a weight of more dims is
``(out, in, *kernel)`` (``Conv2d``), so ``fan_in = shape[1] * prod(kernel)`` and
``fan_out = shape[0] * prod(kernel)``.

>>> nn.init.seed(0)
>>> model = nn.Linear(784, 10)          # the same weights every run
"""

import math
import warnings

import numpy as np

from autograd.core.tensor import Tensor

__all__ = [
    "calculate_gain",
    "constant_",
    "fans",
    "get_rng",
    "kaiming_normal_",
    "kaiming_uniform_",
    "normal_",
    "ones_",
    "seed",
    "uniform_",
    "xavier_normal_",
    "xavier_uniform_",
    "zeros_",
]

_rng = np.random.default_rng(0)


def seed(value):
    """Reset the module's generator: layers built afterwards get reproducible weights (and
    Dropout layers without an rng of their own reproducible masks)."""
    _rng.bit_generator.state = np.random.default_rng(value).bit_generator.state  # in place


def get_rng(rng=None):
    """``rng`` if given, else the module's generator."""
    if rng is None:
        return _rng
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"init: rng must be a numpy.random.Generator, got {type(rng).__name__}")
    return rng


def calculate_gain(nonlinearity, param=None):
    """The gain that keeps activations' variance steady through ``nonlinearity``."""
    if nonlinearity in ("linear", "identity", "sigmoid") or nonlinearity.startswith("conv"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else float(param)
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def fans(shape):
    """(fan_in, fan_out) of a weight of ``shape`` (see the module docstring for layouts)."""
    shape = tuple(shape)
    if len(shape) < 2:
        raise ValueError(f"init: fan in and fan out need a weight of >= 2 dims, got {shape}")
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = int(np.prod(shape[2:]))
    return shape[1] * receptive, shape[0] * receptive


def _fill(tensor, values):
    target = tensor.data if isinstance(tensor, Tensor) else tensor
    target[...] = values
    if isinstance(tensor, Tensor):
        tensor._version[0] += 1
    return tensor


def uniform_(tensor, a=0.0, b=1.0, rng=None):
    """Fill with U(a, b)."""
    return _fill(tensor, get_rng(rng).uniform(a, b, tensor.shape))


def normal_(tensor, mean=0.0, std=1.0, rng=None):
    """Fill with N(mean, std**2)."""
    return _fill(tensor, get_rng(rng).normal(mean, std, tensor.shape))


def constant_(tensor, value):
    return _fill(tensor, value)


def zeros_(tensor):
    return _fill(tensor, 0)


def ones_(tensor):
    return _fill(tensor, 1)


def _no_elements(tensor):
    """True (with PyTorch's warning) for a weight with a zero dim: it has nothing to fill,
    and a fan of 0 would divide by zero."""
    if tensor.size:
        return False
    warnings.warn("init: initializing a zero-element tensor is a no-op", stacklevel=3)
    return True


def _fan(shape, mode):
    fan_in, fan_out = fans(shape)
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"init: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    return fan_in if mode == "fan_in" else fan_out


def kaiming_uniform_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu", rng=None):
    """He uniform: U(-bound, bound), ``bound = gain * sqrt(3 / fan)``."""
    if _no_elements(tensor):
        return tensor
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor.shape, mode))
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, rng)


def kaiming_normal_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu", rng=None):
    """He normal: N(0, std**2), ``std = gain / sqrt(fan)``."""
    if _no_elements(tensor):
        return tensor
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor.shape, mode))
    return normal_(tensor, 0.0, std, rng)


def xavier_uniform_(tensor, gain=1.0, rng=None):
    """Glorot uniform: U(-bound, bound), ``bound = gain * sqrt(6 / (fan_in + fan_out))``."""
    if _no_elements(tensor):
        return tensor
    fan_in, fan_out = fans(tensor.shape)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound, rng)


def xavier_normal_(tensor, gain=1.0, rng=None):
    """Glorot normal: N(0, std**2), ``std = gain * sqrt(2 / (fan_in + fan_out))``."""
    if _no_elements(tensor):
        return tensor
    fan_in, fan_out = fans(tensor.shape)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), rng)
