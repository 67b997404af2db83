"""Basic layers: Linear, Flatten, Identity, Dropout, Embedding and the activation modules."""

import math
import numbers

import numpy as np

import ops
from autograd.nn import init
from autograd.nn.module import Module, Parameter, _float_dtype

__all__ = [
    "ELU",
    "GELU",
    "Dropout",
    "Embedding",
    "Flatten",
    "Identity",
    "LeakyReLU",
    "Linear",
    "LogSoftmax",
    "ReLU",
    "Sigmoid",
    "Softmax",
    "Softplus",
    "Tanh",
]


def shape_of(x):
    """The shape of a Tensor, an ndarray or anything numpy can make an array of."""
    return tuple(x.shape) if hasattr(x, "shape") else np.shape(x)


def check_input(module, x, ndims=None, axis=None, size=None, what="shape"):
    """ValueError naming the layer and the shapes unless ``x`` has a number of dims in
    ``ndims`` (any when None) and ``x.shape[axis] == size`` (when ``axis`` is given)."""
    shape = shape_of(x)
    bad = ndims is not None and len(shape) not in ndims
    if axis is not None:
        bad = bad or not -len(shape) <= axis < len(shape) or shape[axis] != size
    if bad:
        raise ValueError(f"{module!r}: expected input of {what}, got shape {shape}")


def size_arg(layer, name, value):
    """``value`` as an int >= 0, else TypeError/ValueError naming the layer and argument
    (numpy's own messages name neither; a float such as 2.5 was truncated)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{layer}: {name} must be an integer, got {type(value).__name__} "
                        f"{value!r}")
    if value < 0:
        raise ValueError(f"{layer}: {name} must be >= 0, got {value}")
    return int(value)


def empty_param(shape, dtype):
    return Parameter(np.empty(shape, dtype=_float_dtype(dtype)), dtype=_float_dtype(dtype))


class Identity(Module):
    """Returns its input."""

    def forward(self, x):
        return x


class Linear(Module):
    """``x @ weight + bias`` with ``weight`` of shape (in_features, out_features).

    Initialised as PyTorch: weight and bias U(-1/sqrt(in), 1/sqrt(in)).
    Input (..., in_features) -> (..., out_features).

    >>> fc = nn.Linear(784, 10)
    >>> fc(x).shape                          # x (128, 784) -> (128, 10)
    """

    def __init__(self, in_features, out_features, bias=True, dtype=None):
        super().__init__()
        self.in_features = size_arg("Linear", "in_features", in_features)
        self.out_features = size_arg("Linear", "out_features", out_features)
        self.weight = empty_param((self.in_features, self.out_features), dtype)
        self.register_parameter("bias", empty_param(self.out_features, dtype) if bias else None)
        self.reset_parameters()

    def reset_parameters(self):
        if self.weight.size:  # Linear(0, n) has nothing to draw (and no fan in)
            init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features) if self.in_features else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x):
        check_input(self, x, None, -1, self.in_features,
                    f"shape (..., {self.in_features})")
        return ops.linear(x, self.weight, self.bias)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Flatten(Module):
    """Merge axes ``start_axis`` .. ``end_axis`` into one: (N, C, H, W) -> (N, C*H*W)."""

    def __init__(self, start_axis=1, end_axis=-1):
        super().__init__()
        self.start_axis, self.end_axis = start_axis, end_axis

    def forward(self, x):
        shape = shape_of(x)
        ndim = len(shape)
        start = self.start_axis % max(ndim, 1)
        end = self.end_axis % max(ndim, 1)
        if ndim == 0 or not (-ndim <= self.start_axis < ndim and -ndim <= self.end_axis < ndim
                             and start <= end):
            raise ValueError(
                f"{self!r}: cannot flatten axes {self.start_axis}..{self.end_axis} of an input "
                f"of shape {shape}"
            )
        new = shape[:start] + (int(np.prod(shape[start: end + 1])),) + shape[end + 1:]
        return ops.reshape(x, new)

    def extra_repr(self):
        return f"start_axis={self.start_axis}, end_axis={self.end_axis}"


class Dropout(Module):
    """Zero each element with probability ``p`` in training (scaling the rest by 1/(1-p));
    the identity in eval mode. Masks come from ``rng`` or, when None, from the generator
    of ``autograd.nn.init`` (so ``nn.init.seed`` makes them reproducible)."""

    def __init__(self, p=0.5, rng=None):
        super().__init__()
        if not 0 <= p < 1:
            raise ValueError(f"Dropout: p must be a probability in [0, 1), got {p!r}")
        self.p = float(p)
        self.rng = rng

    def forward(self, x):
        if not self.training or self.p == 0:
            return x
        return ops.dropout(x, self.p, training=True, rng=init.get_rng(self.rng))

    def extra_repr(self):
        return f"p={self.p}"


class Embedding(Module):
    """A lookup table: integer indices (...) -> rows of ``weight`` (..., embedding_dim).
    The weight starts N(0, 1), as PyTorch's.

    With ``padding_idx`` (negative counts from the end), that row starts at zero and gets
    no gradient: positions holding it (padding in a batch of sequences of unequal lengths)
    output the row as it is but never train it, as in PyTorch.

    >>> emb = nn.Embedding(10000, 64, padding_idx=0)
    >>> emb(tokens).shape                    # tokens (32, 20) -> (32, 20, 64)
    """

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, dtype=None):
        super().__init__()
        self.num_embeddings = size_arg("Embedding", "num_embeddings", num_embeddings)
        self.embedding_dim = size_arg("Embedding", "embedding_dim", embedding_dim)
        if padding_idx is not None:
            n = self.num_embeddings
            if not isinstance(padding_idx, numbers.Integral) or not -n <= padding_idx < n:
                raise ValueError(f"Embedding: padding_idx must be in {-n}..{n - 1}, got "
                                 f"{padding_idx!r}")
            padding_idx = int(padding_idx) % n
        self.padding_idx = padding_idx
        self.weight = empty_param((self.num_embeddings, self.embedding_dim), dtype)
        self.reset_parameters()

    def reset_parameters(self):
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight.data[self.padding_idx] = 0

    def forward(self, indices):
        idx = np.asarray(getattr(indices, "data", indices))
        if idx.dtype.kind not in "iu":
            raise TypeError(f"{self!r}: expected integer indices, got dtype {idx.dtype}")
        if idx.size and (idx.min() < 0 or idx.max() >= self.num_embeddings):
            bad = idx.min() if idx.min() < 0 else idx.max()
            raise ValueError(
                f"{self!r}: index {bad} is out of range 0..{self.num_embeddings - 1} "
                f"(indices of shape {idx.shape})"
            )
        out = ops.embedding(idx, self.weight)  # (...) -> (..., dim)
        if self.padding_idx is None or not self.weight.requires_grad:
            return out
        padded = idx == self.padding_idx
        if not padded.any():
            return out
        # The padded positions take the row as a constant: the same values, no gradient.
        row = self.weight.data[self.padding_idx].copy()  # (dim,)
        return ops.where(padded[..., None], row, out)  # (..., 1) with (dim,) and (..., dim)

    def extra_repr(self):
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        return s if self.padding_idx is None else f"{s}, padding_idx={self.padding_idx}"


# --- activations ------------------------------------------------------------------------
class ReLU(Module):
    """max(x, 0)."""

    def forward(self, x):
        return ops.relu(x)


class LeakyReLU(Module):
    """x if x > 0 else negative_slope * x."""

    def __init__(self, negative_slope=0.01):
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, x):
        return ops.leaky_relu(x, self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}"


class ELU(Module):
    """x if x > 0 else alpha (e**x - 1)."""

    def __init__(self, alpha=1.0):
        super().__init__()
        self.alpha = alpha

    def forward(self, x):
        return ops.elu(x, self.alpha)

    def extra_repr(self):
        return f"alpha={self.alpha}"


class GELU(Module):
    """x Phi(x); ``approximate='tanh'`` for the tanh approximation."""

    def __init__(self, approximate="none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x):
        return ops.gelu(x, self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class Sigmoid(Module):
    """1 / (1 + e**-x)."""

    def forward(self, x):
        return ops.sigmoid(x)


class Tanh(Module):
    """tanh x."""

    def forward(self, x):
        return ops.tanh(x)


class Softplus(Module):
    """log(1 + e**(beta x)) / beta."""

    def __init__(self, beta=1.0):
        super().__init__()
        if beta <= 0:
            raise ValueError(f"Softplus: beta must be positive, got {beta!r}")
        self.beta = beta

    def forward(self, x):
        if self.beta == 1:
            return ops.softplus(x)
        return ops.softplus(x * self.beta) * (1 / self.beta)

    def extra_repr(self):
        return f"beta={self.beta}"


class Softmax(Module):
    """Softmax along ``axis``."""

    def __init__(self, axis=-1):
        super().__init__()
        self.axis = axis

    def forward(self, x):
        return ops.softmax(x, axis=self.axis)

    def extra_repr(self):
        return f"axis={self.axis}"


class LogSoftmax(Softmax):
    """log(softmax(x)) along ``axis``."""

    def forward(self, x):
        return ops.log_softmax(x, axis=self.axis)
