"""Normalisation layers: BatchNorm1d, BatchNorm2d, LayerNorm."""

import numbers

import numpy as np

import ops
from autograd.nn import init
from autograd.nn.layers import check_input, empty_param, shape_of, size_arg
from autograd.nn.module import Module, _float_dtype

__all__ = ["BatchNorm1d", "BatchNorm2d", "LayerNorm"]


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
        momentum = self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked += 1
            if momentum is None:  # a cumulative moving average, as PyTorch
                momentum = 1.0 / float(self.num_batches_tracked)
            return ops.batch_norm(x, self.weight, self.bias, self.running_mean,
                                  self.running_var, training=True, momentum=momentum,
                                  eps=self.eps)
        return ops.batch_norm(x, self.weight, self.bias, training=True, eps=self.eps)

    def _empty_batch(self, x):
        """An empty batch has no statistics: as PyTorch, the running ones stay as they are
        (the batch is still counted) and the output is empty. Normalising with fixed
        statistics keeps the output in the graph (zero gradients for weight and bias)
        without the NaN means of empty slices."""
        if self.training and self.track_running_stats:
            self.num_batches_tracked += 1
        c = self.num_features
        dtype = self.weight.dtype if self.weight is not None else _float_dtype(None)
        return ops.batch_norm(x, self.weight, self.bias, np.zeros(c, dtype), np.ones(c, dtype),
                              training=False, eps=self.eps)

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
        k = len(self.normalized_shape)
        shape = shape_of(x)
        if len(shape) < k or tuple(shape[len(shape) - k:]) != self.normalized_shape:
            dims = ", ".join(str(n) for n in self.normalized_shape)
            raise ValueError(f"{self!r}: expected input of shape (..., {dims}), got shape "
                             f"{shape}")
        return ops.layer_norm(x, self.normalized_shape, self.weight, self.bias, eps=self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")
