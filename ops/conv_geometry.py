"""Arguments of the convolution and pooling ops and layers, parsed and checked once per call:
one parser for ints and tuples of ints, the dtype the ops compute in, and the geometry of a
convolution. Every error names the op (or layer), the argument and the offending shapes or
values."""

import numbers
from typing import NamedTuple

import numpy as np

from ops.kernels.im2col import conv_out_size

# How the docs and errors write the operands of a convolution over 1 or 2 spatial dims.
_LAYOUTS = {1: ("(N, C_in, L)", "(C_out, C_in // groups, k)"),
            2: ("(N, C_in, H, W)", "(C_out, C_in // groups, kh, kw)")}


def _is_int(value):
    # bool is an Integral, but True as a stride is a mistake, not a 1
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def integer(value, what, name, least):
    """value as an int >= least; TypeError for a non-integer, ValueError when too small."""
    if not _is_int(value):
        raise TypeError(f"{name}: {what} must be an int, got {value!r}")
    if value < least:
        raise ValueError(f"{name}: {what} must be >= {least}, got {value!r}")
    return int(value)


def ints(value, n, what, name, least):
    """value as a tuple of n ints >= least (an int stands for all n).

    TypeError for anything but an int or a tuple or list of ints (``2.5``, ``"2"``),
    ValueError for a sequence of another length or a value below ``least``.
    """
    expected = "an int or a pair of ints" if n == 2 else f"an int or a tuple of {n} ints"
    if _is_int(value):
        values = (value,) * n
    elif isinstance(value, (tuple, list)) and all(_is_int(v) for v in value):
        values = tuple(value)
    else:
        raise TypeError(f"{name}: {what} must be {expected}, got {value!r}")
    if len(values) != n:
        raise ValueError(f"{name}: {what} must be {expected}, got {value!r}")
    if min(values, default=least) < least:
        raise ValueError(f"{name}: {what} must be >= {least}, got {value!r}")
    return tuple(int(v) for v in values)


def pair(value, what, name, least):
    """value as a pair of ints >= least (an int stands for both); see ``ints``."""
    return ints(value, 2, what, name, least)


def conv_padding(padding, kernel, stride, dilation, name):
    """(padding, crop): the symmetric padding the kernels apply and the output positions to
    drop at the start of each spatial dim.

    ``padding`` is an int or tuple, ``'valid'`` (none) or ``'same'`` (the output as large as
    the input; stride 1 only, as in PyTorch). 'same' pads ``d (k - 1)`` in all; where that
    is odd, PyTorch puts the extra row at the end, which is the same as padding the larger
    half on both sides and dropping the first output row (crop 1).
    """
    n = len(kernel)
    if isinstance(padding, str):
        if padding == "valid":
            return (0,) * n, (0,) * n
        if padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError(f"{name}: padding='same' needs stride 1 (as in PyTorch), "
                                 f"got stride {stride}")
            total = [d * (k - 1) for k, d in zip(kernel, dilation)]
            return tuple(t - t // 2 for t in total), tuple(t % 2 for t in total)
        raise ValueError(f"{name}: padding must be an int, a tuple of ints, 'valid' or "
                         f"'same', got {padding!r}")
    return ints(padding, n, "padding", name, 0), (0,) * n


def real_dtype(name, *arrays):
    """The float dtype the conv and pooling ops compute in: the arrays' numpy result type
    when that is float32 or float64, else float64 (ints, bool, float16).

    Complex, object, string and other non-numeric arrays raise a TypeError naming ``name``
    (as the registry does for an op's inputs; this also covers the composed pooling
    functions): casting them would drop the imaginary part or fail inside numpy.
    """
    for a in arrays:
        if a is not None and a.dtype.kind not in "biuf":
            raise TypeError(f"{name}: an array of dtype {a.dtype} (shape {tuple(a.shape)}) is "
                            "not supported; only booleans, integers and real floats are")
    dtype = np.result_type(*[a.dtype for a in arrays if a is not None])
    return dtype if dtype in (np.float32, np.float64) else np.dtype(np.float64)


def real_arrays(name, *arrays):
    """The arrays (None stays None) as ndarrays of their ``real_dtype``."""
    arrays = [None if a is None else np.asarray(a) for a in arrays]
    dtype = real_dtype(name, *arrays)
    return [None if a is None else a.astype(dtype, copy=False) for a in arrays]


class ConvGeometry(NamedTuple):
    """A checked 2-D convolution (a 1-D one is one over a height of 1).

    ``padding`` is what the kernels apply on both sides; ``out_size`` the (oh, ow) they
    compute with it; ``crop`` the rows and columns then dropped at the start (padding='same'
    with an even kernel), so the op's output is ``out_size - crop``.
    """

    kernel: tuple
    stride: tuple
    padding: tuple
    dilation: tuple
    groups: int
    out_size: tuple
    crop: tuple = (0, 0)

    @property
    def params(self):
        """stride, padding, dilation and groups, as keyword arguments of the conv ops."""
        return {"stride": self.stride, "padding": self.padding, "dilation": self.dilation,
                "groups": self.groups}

    def output_padding(self, in_size):
        """conv_transpose2d's output_padding that maps an (oh, ow) output back to in_size:
        the input rows and columns after the last window (fewer than the stride)."""
        return tuple(
            (in_size[i] + 2 * self.padding[i] - self.dilation[i] * (self.kernel[i] - 1) - 1)
            % self.stride[i] for i in range(2))


def conv_geometry(name, spatial, x_shape, w_shape, b_shape, stride, padding, dilation, groups):
    """Parse and check a convolution of x with w, plus b, over ``spatial`` (1 or 2) dims:
    x (N, C_in, *size), w (C_out, C_in // groups, *kernel), b (C_out,) or None.

    Returns the ``ConvGeometry`` (2-D); raises TypeError or ValueError naming ``name`` and
    the shapes when the arguments don't fit.
    """
    x_shape, w_shape = tuple(x_shape), tuple(w_shape)
    if len(x_shape) != spatial + 2 or len(w_shape) != spatial + 2:
        x_layout, w_layout = _LAYOUTS[spatial]
        raise ValueError(f"{name}: expected x {x_layout} and w {w_layout}, got x {x_shape} "
                         f"and w {w_shape}")
    stride = ints(stride, spatial, "stride", name, 1)
    dilation = ints(dilation, spatial, "dilation", name, 1)
    groups = integer(groups, "groups", name, 1)
    kernel = w_shape[2:]
    padding, crop = conv_padding(padding, kernel, stride, dilation, name)
    c_in, c_out = x_shape[1], w_shape[0]
    if c_in % groups or c_out % groups:
        raise ValueError(
            f"{name}: channels must be divisible by groups={groups}: x {x_shape} "
            f"has {c_in} input channels, w {w_shape} has {c_out} output channels"
        )
    if w_shape[1] != c_in // groups:
        raise ValueError(
            f"{name}: w {w_shape} expects {w_shape[1] * groups} input channels "
            f"(groups={groups}), x {x_shape} has {c_in}"
        )
    if b_shape is not None and tuple(b_shape) != (c_out,):
        raise ValueError(
            f"{name}: bias shape {tuple(b_shape)} does not match the {c_out} "
            f"output channels of w {w_shape}"
        )
    size = tuple(x_shape[2 + i] + 2 * padding[i] for i in range(spatial))
    span = tuple(dilation[i] * (kernel[i] - 1) + 1 for i in range(spatial))
    if any(span[i] > size[i] for i in range(spatial)) or 0 in kernel:
        raise ValueError(
            f"{name}: kernel {kernel} with dilation {dilation} spans {span}, larger than "
            f"the padded input {size} (x {x_shape}, w {w_shape}, padding {padding})"
        )
    out_size = tuple(conv_out_size(x_shape[2 + i], kernel[i], stride[i], padding[i],
                                   dilation[i]) for i in range(spatial))
    if spatial == 1:  # as a convolution over a height of 1
        return ConvGeometry((1,) + kernel, (1,) + stride, (0,) + padding, (1,) + dilation,
                            groups, (1,) + out_size, (0,) + crop)
    return ConvGeometry(kernel, stride, padding, dilation, groups, out_size, crop)


def transpose_geometry(name, x_shape, w_shape, b_shape, stride, padding, output_padding,
                       dilation, groups):
    """Parse and check conv_transpose2d(x, w, b): x (N, C_in, H, W), w (C_in, C_out //
    groups, kh, kw), b (C_out,) or None.

    Returns ``(geometry, out_size)``: the ``ConvGeometry`` of the convolution over the
    output (N, C_out, *out_size) that the op is the adjoint of (its ``out_size`` may exceed
    (H, W) when output_padding reaches the stride), and out_size (H_out, W_out).
    """
    x_shape, w_shape = tuple(x_shape), tuple(w_shape)
    if len(x_shape) != 4 or len(w_shape) != 4:
        raise ValueError(f"{name}: expected x (N, C_in, H, W) and w (C_in, C_out // groups, "
                         f"kh, kw), got x {x_shape} and w {w_shape}")
    stride = pair(stride, "stride", name, 1)
    padding = pair(padding, "padding", name, 0)
    dilation = pair(dilation, "dilation", name, 1)
    groups = integer(groups, "groups", name, 1)
    extra = pair(output_padding, "output_padding", name, 0)
    if any(extra[i] >= max(stride[i], dilation[i]) for i in range(2)):
        raise ValueError(f"{name}: output_padding {extra} must be smaller than stride "
                         f"{stride} or dilation {dilation}")
    if x_shape[1] != w_shape[0] or x_shape[1] % groups:
        raise ValueError(f"{name}: x {x_shape} has {x_shape[1]} channels; w {w_shape} "
                         f"expects {w_shape[0]}, divisible by groups={groups}")
    c_out, kernel = w_shape[1] * groups, w_shape[2:]
    if b_shape is not None and tuple(b_shape) != (c_out,):
        raise ValueError(f"{name}: bias shape {tuple(b_shape)} does not match the {c_out} "
                         f"output channels of w {w_shape} (groups={groups})")
    out_size = tuple((x_shape[2 + i] - 1) * stride[i] - 2 * padding[i]
                     + dilation[i] * (kernel[i] - 1) + extra[i] + 1 for i in range(2))
    if min(out_size) < 1 or 0 in kernel:
        raise ValueError(f"{name}: x {x_shape} and w {w_shape} give an empty output "
                         f"{out_size} (stride {stride}, padding {padding}, dilation "
                         f"{dilation})")
    # the windows of a convolution over the output: (H - 1) + output_padding // stride + 1
    windows = tuple(conv_out_size(out_size[i], kernel[i], stride[i], padding[i], dilation[i])
                    for i in range(2))
    return ConvGeometry(kernel, stride, padding, dilation, groups, windows), out_size
