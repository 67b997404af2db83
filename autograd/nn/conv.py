"""Convolution and pooling layers: Conv1d, Conv2d, ConvTranspose2d, MaxPool2d, AvgPool2d,
AdaptiveAvgPool2d.

Weights keep PyTorch's layout (unlike ``Linear``'s): (out, in // groups, *kernel) for a
convolution, (in, out // groups, *kernel) for a transposed one, so PyTorch state dicts load
as they are. Sizes are checked when a layer is built, with errors naming the layer and the
argument.
"""

import math

import ops
from autograd.nn import init
from autograd.nn.layers import check_input, empty_param
from autograd.nn.module import Module
from ops.conv_geometry import conv_padding, integer, ints, pair
from ops.pool import adaptive_output_size

__all__ = [
    "AdaptiveAvgPool2d", "AvgPool2d", "Conv1d", "Conv2d", "ConvTranspose2d", "MaxPool2d",
]


class _ConvBase(Module):
    """What the convolution layers share: checked sizes, the weight and bias, PyTorch's
    initialisation and the repr. Subclasses set ``spatial``, the number of spatial dims,
    and ``transposed``."""

    spatial = 2
    transposed = False

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 dilation=1, groups=1, bias=True, dtype=None):
        super().__init__()
        name, n = type(self).__name__, self.spatial
        in_channels = integer(in_channels, "in_channels", name, 0)
        out_channels = integer(out_channels, "out_channels", name, 0)
        groups = integer(groups, "groups", name, 1)
        if in_channels % groups or out_channels % groups:
            raise ValueError(
                f"{name}: in_channels {in_channels} and out_channels {out_channels} must both "
                f"be divisible by groups {groups}"
            )
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = ints(kernel_size, n, "kernel_size", name, 1)
        self.stride = ints(stride, n, "stride", name, 1)
        self.dilation = ints(dilation, n, "dilation", name, 1)
        if isinstance(padding, str) and not self.transposed:
            conv_padding(padding, self.kernel_size, self.stride, self.dilation, name)  # checks
            self.padding = padding
        else:
            self.padding = ints(padding, n, "padding", name, 0)
        channels = ((in_channels, out_channels // groups) if self.transposed
                    else (out_channels, in_channels // groups))
        self.weight = empty_param(channels + self.kernel_size, dtype)
        self.register_parameter("bias", empty_param(out_channels, dtype) if bias else None)
        self.reset_parameters()

    def reset_parameters(self):
        """U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weight and bias, as PyTorch, with fan_in
        the weight's dim 1 times the kernel size."""
        if self.weight.size == 0:  # no inputs (fan_in 0) or no outputs: nothing to draw
            if self.bias is not None:
                init.zeros_(self.bias)
            return
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init.fans(self.weight.shape)
            init.uniform_(self.bias, -1 / math.sqrt(fan_in), 1 / math.sqrt(fan_in))

    def _check(self, x, layout):
        check_input(self, x, (self.spatial + 2,), 1, self.in_channels,
                    f"shape (N, {self.in_channels}, {layout})")

    def extra_repr(self):
        ones, zeros = (1,) * self.spatial, (0,) * self.spatial
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != zeros:
            s += f", padding={self.padding!r}"
        if getattr(self, "output_padding", zeros) != zeros:
            s += f", output_padding={self.output_padding}"
        if self.dilation != ones:
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        return s + ("" if self.bias is not None else ", bias=False")


class Conv1d(_ConvBase):
    """1-D convolution (cross-correlation, as PyTorch) over (N, C_in, L) inputs.

    ``weight`` (out_channels, in_channels // groups, k), ``bias`` (out_channels,),
    initialised as PyTorch. ``padding`` is an int, ``'valid'`` or ``'same'`` (stride 1).

    >>> conv = nn.Conv1d(16, 32, 5, padding="same")
    >>> conv(x).shape                        # x (8, 16, 100) -> (8, 32, 100)
    """

    spatial = 1

    def forward(self, x):
        self._check(x, "L")
        return ops.conv1d(x, self.weight, self.bias, self.stride, self.padding,
                          self.dilation, self.groups)


class Conv2d(_ConvBase):
    """2-D convolution (cross-correlation, as PyTorch) over (N, C_in, H, W) inputs.

    ``weight`` (out_channels, in_channels // groups, kh, kw), ``bias`` (out_channels,);
    initialised as PyTorch: U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = C_in/groups*kh*kw.
    ``padding`` is an int, a pair, ``'valid'`` or ``'same'`` (stride 1; an even kernel pads
    one more row and column at the end, as PyTorch).

    >>> conv = nn.Conv2d(1, 32, 3, padding=1)
    >>> conv(x).shape                        # x (64, 1, 28, 28) -> (64, 32, 28, 28)
    """

    def forward(self, x):
        self._check(x, "H, W")
        return ops.conv2d(x, self.weight, self.bias, self.stride, self.padding,
                          self.dilation, self.groups)


class ConvTranspose2d(_ConvBase):
    """Transposed 2-D convolution (the gradient of a convolution in its input), PyTorch's
    arguments and layout: (N, C_in, H, W) -> (N, C_out, H_out, W_out) with
    ``H_out = (H - 1) sh - 2 ph + dh (kh - 1) + oph + 1``.

    ``weight`` (in_channels, out_channels // groups, kh, kw), ``bias`` (out_channels,),
    initialised as PyTorch (fan_in = out_channels / groups * kh * kw). ``forward(x,
    output_size)`` picks the output_padding that gives ``output_size`` (H_out, W_out).

    >>> up = nn.ConvTranspose2d(16, 8, 4, stride=2, padding=1)
    >>> up(x).shape                          # x (2, 16, 7, 7) -> (2, 8, 14, 14)
    """

    transposed = True

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, dtype)
        self.output_padding = pair(output_padding, "output_padding", "ConvTranspose2d", 0)
        if any(p >= max(s, d) for p, s, d in zip(self.output_padding, self.stride,
                                                   self.dilation)):
            raise ValueError(f"ConvTranspose2d: output_padding {self.output_padding} must be "
                             f"smaller than stride {self.stride} or dilation {self.dilation}")

    def forward(self, x, output_size=None):
        self._check(x, "H, W")
        extra = self.output_padding
        if output_size is not None:
            extra = self._output_padding(x.shape[2:], output_size)
        return ops.conv_transpose2d(x, self.weight, self.bias, self.stride, self.padding,
                                    extra, self.dilation, self.groups)

    def _output_padding(self, size, output_size):
        """The output_padding that makes an input of ``size`` (H, W) give ``output_size``
        (its last two entries, as PyTorch)."""
        wanted = tuple(output_size)[-2:]
        least = tuple((size[i] - 1) * self.stride[i] - 2 * self.padding[i]
                      + self.dilation[i] * (self.kernel_size[i] - 1) + 1 for i in range(2))
        most = tuple(least[i] + max(self.stride[i], self.dilation[i]) - 1 for i in range(2))
        if len(wanted) != 2 or not all(least[i] <= wanted[i] <= most[i] for i in range(2)):
            raise ValueError(f"{self!r}: output_size {tuple(output_size)} is not reachable "
                             f"from an input of size {tuple(size)}: each of the last two "
                             f"sizes must be between {least} and {most}")
        return tuple(int(wanted[i] - least[i]) for i in range(2))


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
        return ops.max_pool2d(x, self.kernel_size, self.stride, self.padding)


class AvgPool2d(_Pool2d):
    """Mean over each kernel window of (N, C, H, W); ``stride`` defaults to the kernel size.
    With ``count_include_pad`` (the default, as PyTorch) padding counts as zeros."""

    def __init__(self, kernel_size, stride=None, padding=0, count_include_pad=True):
        super().__init__(kernel_size, stride, padding)
        self.count_include_pad = bool(count_include_pad)

    def forward(self, x):
        self._check(x)
        return ops.avg_pool2d(x, self.kernel_size, self.stride, self.padding,
                              self.count_include_pad)

    def extra_repr(self):
        return super().extra_repr() + ("" if self.count_include_pad
                                       else ", count_include_pad=False")


class AdaptiveAvgPool2d(Module):
    """Average pooling of (N, C, H, W) to (N, C, *output_size) for any input size, with
    PyTorch's windows (``ops.adaptive_avg_pool2d``). ``output_size`` is an int or a pair
    whose entries may be None (keep that input size); 1 is global average pooling.

    >>> pool = nn.AdaptiveAvgPool2d((7, 7))
    >>> pool(x).shape                        # x (2, 64, 30, 23) -> (2, 64, 7, 7)
    """

    def __init__(self, output_size):
        super().__init__()
        self.output_size = adaptive_output_size(output_size, "AdaptiveAvgPool2d")

    def forward(self, x):
        check_input(self, x, (4,), what="shape (N, C, H, W)")
        return ops.adaptive_avg_pool2d(x, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"
