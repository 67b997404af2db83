"""Normalisation layers: BatchNorm1d, BatchNorm2d, LayerNorm, GroupNorm, RMSNorm."""

import numbers

import numpy as np

import ops
from autograd.nn import init
from autograd.nn.layers import check_input, empty_param, shape_of, size_arg
from autograd.jit.trace import host_call
from autograd.nn.module import Module, _float_dtype

__all__ = ["BatchNorm1d", "BatchNorm2d", "GroupNorm", "LayerNorm", "RMSNorm"]



def _check_trailing(layer, x):
    """x's shape, which must end in ``layer.normalized_shape`` (LayerNorm, RMSNorm)."""
    k = len(layer.normalized_shape)
    shape = shape_of(x)
    if len(shape) < k or tuple(shape[len(shape) - k:]) != layer.normalized_shape:
        dims = ", ".join(str(n) for n in layer.normalized_shape)
        raise ValueError(f"{layer!r}: expected input of shape (..., {dims}), got shape {shape}")
    return shape

class _BatchNorm(Module):
    """Shared by BatchNorm1d/2d: axis 1 holds the ``num_features`` channels."""

    ndims = ()
    layout = ""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, dtype=None):
        super().__init__()
        self.num_features = size_arg(type(self).__name__, "num_features", num_features)
        self.eps, self.momentum = eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = init.ones_(empty_param(self.num_features, dtype))
            self.bias = init.zeros_(empty_param(self.num_features, dtype))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            dtype = _float_dtype(dtype)
            self.register_buffer("running_mean", np.zeros(self.num_features, dtype=dtype))
            self.register_buffer("running_var", np.ones(self.num_features, dtype=dtype))
            self.register_buffer("num_batches_tracked", np.zeros((), dtype=np.int64))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self):
        if self.track_running_stats:
            self.running_mean[...] = 0
            self.running_var[...] = 1
            self.num_batches_tracked[...] = 0

    def forward(self, x):
        check_input(self, x, self.ndims, 1, self.num_features,
                    f"shape {self.layout.format(self.num_features)}")
        use_batch_stats = self.training or not self.track_running_stats
        if use_batch_stats and np.prod(shape_of(x)) == 0:
            return self._empty_batch(x)
        if not use_batch_stats:
            return ops.batch_norm(x, self.weight, self.bias, self.running_mean,
                                  self.running_var, training=False, eps=self.eps)
        if self.training and self.track_running_stats:
            # The op counts the batch and, with momentum None, takes the cumulative average.
            return ops.batch_norm(x, self.weight, self.bias, self.running_mean,
                                  self.running_var, training=True, momentum=self.momentum,
                                  eps=self.eps, num_batches_tracked=self.num_batches_tracked)
        return ops.batch_norm(x, self.weight, self.bias, training=True, eps=self.eps)

    def _empty_batch(self, x):
        """An empty batch has no statistics: as PyTorch, the running ones stay as they are
        (the batch is still counted) and the output is empty. Normalising with fixed
        statistics keeps the output in the graph (zero gradients for weight and bias)
        without the NaN means of empty slices."""
        if self.training and self.track_running_stats:
            self._count_batch()
        c = self.num_features
        dtype = self.weight.dtype if self.weight is not None else _float_dtype(None)
        return ops.batch_norm(x, self.weight, self.bias, np.zeros(c, dtype), np.ones(c, dtype),
                              training=False, eps=self.eps)

    @host_call
    def _count_batch(self):  # a host call: a compiled step counts the batch at every replay
        self.num_batches_tracked += 1

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L) inputs over every axis but 1.

    Training uses the batch's statistics and updates ``running_mean`` and ``running_var``
    (the unbiased batch variance) with ``momentum``; eval mode uses the running statistics.
    """

    ndims = (2, 3)
    layout = "(N, {0}) or (N, {0}, L)"


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (N, C, H, W) inputs per channel (see BatchNorm1d).

    >>> bn = nn.BatchNorm2d(32)
    >>> bn(x)                  # training: batch statistics; bn.eval() -> running statistics
    """

    ndims = (4,)
    layout = "(N, {0}, H, W)"


class LayerNorm(Module):
    """Normalise over the trailing ``normalized_shape`` axes, then scale and shift
    (``weight`` starts at 1, ``bias`` at 0)."""

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True,
                 dtype=None):
        super().__init__()
        if isinstance(normalized_shape, numbers.Integral):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(size_arg("LayerNorm", f"normalized_shape[{i}]", n)
                                      for i, n in enumerate(normalized_shape))
        self.eps, self.elementwise_affine = eps, elementwise_affine
        weight = bias_p = None
        if elementwise_affine:
            weight = init.ones_(empty_param(self.normalized_shape, dtype))
            bias_p = init.zeros_(empty_param(self.normalized_shape, dtype)) if bias else None
        self.register_parameter("weight", weight)
        self.register_parameter("bias", bias_p)

    def forward(self, x):
        _check_trailing(self, x)
        return ops.layer_norm(x, self.normalized_shape, self.weight, self.bias, eps=self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")


class GroupNorm(Module):
    """Normalise each sample over groups of channels, then scale and shift per channel.

    Input (N, C, ...) with C = ``num_channels``: the channels are split into ``num_groups``
    groups of C / num_groups, and each (sample, group) is normalised to zero mean and unit
    (biased) variance over its channels and every trailing axis; ``weight`` and ``bias``
    (C,) start at 1 and 0. The same in training and eval: no running statistics.

    Built on ``ops.layer_norm`` over (N, groups, C / groups * ...), so the gradient and its
    own gradient come from that op's closed-form VJP.

    >>> gn = nn.GroupNorm(4, 32)
    >>> gn(x).shape                      # x (N, 32, H, W) -> (N, 32, H, W)
    """

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, dtype=None):
        super().__init__()
        num_groups = size_arg("GroupNorm", "num_groups", num_groups)
        num_channels = size_arg("GroupNorm", "num_channels", num_channels)
        if num_groups < 1 or num_channels < 1 or num_channels % num_groups:
            raise ValueError(
                f"GroupNorm: num_channels {num_channels} must be a positive multiple of "
                f"num_groups {num_groups}"
            )
        self.num_groups, self.num_channels = num_groups, num_channels
        self.eps, self.affine = eps, affine
        weight = bias = None
        if affine:
            weight = init.ones_(empty_param(self.num_channels, dtype))
            bias = init.zeros_(empty_param(self.num_channels, dtype))
        self.register_parameter("weight", weight)
        self.register_parameter("bias", bias)

    def forward(self, x):
        check_input(self, x, None, 1, self.num_channels,
                    f"shape (N, {self.num_channels}, ...)")
        shape = shape_of(x)
        group_size = int(np.prod(shape[1:])) // self.num_groups
        # (N, C, ...) -> (N, groups, C / groups * prod(...)): one layer_norm row per group
        grouped = ops.reshape(x, (shape[0], self.num_groups, group_size))
        out = ops.reshape(ops.layer_norm(grouped, (group_size,), eps=self.eps), shape)
        if self.affine:
            channels = (self.num_channels,) + (1,) * (len(shape) - 2)  # (C,) -> (C, 1, ...)
            out = out * ops.reshape(self.weight, channels) + ops.reshape(self.bias, channels)
        return out

    def extra_repr(self):
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}"


class RMSNorm(Module):
    """Root-mean-square normalisation over the trailing ``normalized_shape`` axes:
    ``x / sqrt(mean(x**2) + eps) * weight``, as PyTorch's ``nn.RMSNorm`` (no centring, no
    bias; ``weight`` starts at 1). ``eps=None`` uses the machine epsilon of the input's
    dtype, as PyTorch.

    >>> norm = nn.RMSNorm(64)
    >>> norm(x).shape                    # x (N, L, 64) -> (N, L, 64)
    """

    def __init__(self, normalized_shape, eps=None, elementwise_affine=True, dtype=None):
        super().__init__()
        if isinstance(normalized_shape, numbers.Integral):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(size_arg("RMSNorm", f"normalized_shape[{i}]", n)
                                      for i, n in enumerate(normalized_shape))
        if not self.normalized_shape or min(self.normalized_shape) < 1:
            raise ValueError(f"RMSNorm: normalized_shape must be positive sizes, got "
                             f"{normalized_shape}")
        self.eps, self.elementwise_affine = eps, elementwise_affine
        weight = init.ones_(empty_param(self.normalized_shape, dtype)) if elementwise_affine \
            else None
        self.register_parameter("weight", weight)

    def forward(self, x):
        shape = _check_trailing(self, x)
        k = len(self.normalized_shape)
        axes = tuple(range(len(shape) - k, len(shape)))
        eps = self.eps
        if eps is None:
            dtype = np.dtype(x.dtype) if hasattr(x, "dtype") else np.dtype(np.float64)
            eps = float(np.finfo(dtype if dtype.kind == "f" else np.float64).eps)
        mean_square = ops.mean(x * x, axis=axes, keepdims=True)
        out = x / ops.sqrt(mean_square + eps)
        return out * self.weight if self.weight is not None else out

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")
