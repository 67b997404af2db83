"""Geometry of the convolutions in ops/conv.py: argument parsing and shape checks that name
the op and the offending shapes."""

import numpy as np

from ops.kernels.im2col import conv_out_size


def pair(v, what, name, least):
    """v as a pair of ints >= least (an int stands for both)."""
    if isinstance(v, (int, np.integer)):
        values = (v, v)
    else:
        values = tuple(v) if isinstance(v, (tuple, list)) else ()  # e.g. 1.5: not a pair
    if len(values) != 2 or not all(isinstance(e, (int, np.integer)) and e >= least
                                   for e in values):
        raise ValueError(f"{name}: {what} must be an int or a pair of ints >= {least}, got {v!r}")
    return int(values[0]), int(values[1])


def parse_geometry(name, stride, padding, dilation, groups):
    """Keyword arguments for the conv ops: stride, padding, dilation as pairs, groups."""
    if not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ValueError(f"{name}: groups must be a positive int, got {groups!r}")
    return {
        "stride": pair(stride, "stride", name, 1),
        "padding": pair(padding, "padding", name, 0),
        "dilation": pair(dilation, "dilation", name, 1),
        "groups": int(groups),
    }


def common_dtype(*arrays):
    """The float dtype the conv ops compute in: float32 or float64."""
    dtype = np.result_type(*[a.dtype for a in arrays if a is not None])
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
