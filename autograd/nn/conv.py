"""Image layers over NCHW inputs: Conv2d, MaxPool2d, AvgPool2d."""

import math

import ops
from autograd.nn import init
from autograd.nn.layers import check_input, empty_param
from autograd.nn.module import Module
from ops.conv_geometry import integer, pair

__all__ = ["AvgPool2d", "Conv2d", "MaxPool2d"]


class Conv2d(Module):
    """2-D convolution (cross-correlation, as PyTorch) over (N, C_in, H, W) inputs.

    ``weight`` (out_channels, in_channels // groups, kh, kw), ``bias`` (out_channels,);
    initialised as PyTorch: U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = C_in/groups*kh*kw.

    >>> conv = nn.Conv2d(1, 32, 3, padding=1)
    >>> conv(x).shape                        # x (64, 1, 28, 28) -> (64, 32, 28, 28)
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 dilation=1, groups=1, bias=True, dtype=None):
        super().__init__()
        in_channels = integer(in_channels, "in_channels", "Conv2d", 0)
        out_channels = integer(out_channels, "out_channels", "Conv2d", 0)
        groups = integer(groups, "groups", "Conv2d", 1)
        if in_channels % groups or out_channels % groups:
            raise ValueError(
                f"Conv2d: in_channels {in_channels} and out_channels {out_channels} must both "
                f"be divisible by groups {groups}"
            )
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = pair(kernel_size, "kernel_size", "Conv2d", 1)
        self.stride = pair(stride, "stride", "Conv2d", 1)
        self.padding = pair(padding, "padding", "Conv2d", 0)
        self.dilation = pair(dilation, "dilation", "Conv2d", 1)
        shape = (out_channels, in_channels // groups) + self.kernel_size
        self.weight = empty_param(shape, dtype)
        self.register_parameter("bias", empty_param(out_channels, dtype) if bias else None)
        self.reset_parameters()

    def reset_parameters(self):
        if self.weight.size == 0:  # no inputs (fan_in 0) or no outputs: nothing to draw
            if self.bias is not None:
                init.zeros_(self.bias)
            return
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init.fans(self.weight.shape)
            bound = 1 / math.sqrt(fan_in) if fan_in else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x):
        check_input(self, x, (4,), 1, self.in_channels,
                    f"shape (N, {self.in_channels}, H, W)")
        return ops.conv2d(x, self.weight, self.bias, stride=self.stride,
                          padding=self.padding, dilation=self.dilation, groups=self.groups)

    def extra_repr(self):
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0, 0):
            s += f", padding={self.padding}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        return s + ("" if self.bias is not None else ", bias=False")


class _Pool2d(Module):
    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        name = type(self).__name__
        self.kernel_size = pair(kernel_size, "kernel_size", name, 1)
        self.stride = self.kernel_size if stride is None else pair(stride, "stride", name, 1)
        self.padding = pair(padding, "padding", name, 0)

    def _check(self, x):
        check_input(self, x, (4,), what="shape (N, C, H, W)")

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxPool2d(_Pool2d):
    """Max over each kernel window of (N, C, H, W); ``stride`` defaults to the kernel size."""

    def forward(self, x):
        self._check(x)
        return ops.max_pool2d(x, self.kernel_size, stride=self.stride, padding=self.padding)


class AvgPool2d(_Pool2d):
    """Mean over each kernel window of (N, C, H, W); ``stride`` defaults to the kernel size."""

    def forward(self, x):
        self._check(x)
        return ops.avg_pool2d(x, self.kernel_size, stride=self.stride, padding=self.padding)
