"""Arguments of the convolution and pooling ops and layers: one parser for ints and pairs of
ints, the dtype the ops compute in, and shape checks, each error naming the op (or layer),
the argument and the offending shapes or values."""

import numbers

import numpy as np

from ops.kernels.im2col import conv_out_size


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


def pair(value, what, name, least):
    """value as a pair of ints >= least (an int stands for both).

    TypeError for anything but an int or a tuple or list of ints (``2.5``, ``"2"``),
    ValueError for a sequence of another length or a value below ``least``.
    """
    if _is_int(value):
        values = (value, value)
    elif isinstance(value, (tuple, list)) and all(_is_int(v) for v in value):
        values = tuple(value)
    else:
        raise TypeError(f"{name}: {what} must be an int or a pair of ints, got {value!r}")
    if len(values) != 2:
        raise ValueError(f"{name}: {what} must be an int or a pair of ints, got {value!r}")
    if min(values) < least:
        raise ValueError(f"{name}: {what} must be >= {least}, got {value!r}")
    return int(values[0]), int(values[1])


def parse_geometry(name, stride, padding, dilation, groups):
    """Keyword arguments for the conv ops: stride, padding, dilation as pairs, groups."""
    return {
        "stride": pair(stride, "stride", name, 1),
        "padding": pair(padding, "padding", name, 0),
        "dilation": pair(dilation, "dilation", name, 1),
        "groups": integer(groups, "groups", name, 1),
    }


def real_dtype(name, *arrays):
    """The float dtype the conv and pooling ops compute in: the arrays' numpy result type
    when that is float32 or float64, else float64 (ints, bool, float16).

    Complex, object, string and other non-numeric arrays raise a TypeError naming ``name``:
    casting them would drop the imaginary part or fail inside numpy.
    """
    dtypes = [a.dtype for a in arrays if a is not None]
    for dtype in dtypes:
        if dtype.kind not in "biuf":
            raise TypeError(
                f"{name}: expected real numbers (float, int or bool arrays), got dtype {dtype}"
            )
    dtype = np.result_type(*dtypes)
    return dtype if dtype in (np.float32, np.float64) else np.dtype(np.float64)


def check_conv(name, x_shape, w_shape, b_shape, stride, padding, dilation, groups):
    """Shapes of conv2d(x, w, b): a ValueError naming them when they don't fit."""
    x_shape, w_shape = tuple(x_shape), tuple(w_shape)
    if len(x_shape) != 4 or len(w_shape) != 4:
        raise ValueError(
            f"{name}: expected x (N, C, H, W) and w (C_out, C_in // groups, kh, kw), "
            f"got x {x_shape} and w {w_shape}"
        )
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
    size = tuple(x_shape[2 + i] + 2 * padding[i] for i in range(2))
    span = tuple(dilation[i] * (w_shape[2 + i] - 1) + 1 for i in range(2))
    if span[0] > size[0] or span[1] > size[1] or 0 in w_shape[2:]:
        raise ValueError(
            f"{name}: kernel {w_shape[2:]} with dilation {dilation} spans {span}, "
            f"larger than the padded input {size} (x {x_shape}, w {w_shape}, "
            f"padding {padding})"
        )


def output_size(in_size, kernel, stride, padding, dilation):
    """(oh, ow) of a convolution over in_size (H, W)."""
    return tuple(
        conv_out_size(in_size[i], kernel[i], stride[i], padding[i], dilation[i]) for i in range(2)
    )
