"""ops/conv_geometry.py: argument parsing and shape checks, directly and through the conv
ops, whose errors name the op and the offending shapes or values."""

import re

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import ops
from ops.conv_geometry import (
    ConvGeometry, conv_geometry, conv_padding, integer, ints, pair, real_dtype,
    transpose_geometry,
)
from tests import naive


# --- the helpers ----------------------------------------------------------------------------
def test_pair():
    assert pair(3, "stride", "conv2d", 1) == (3, 3)
    assert pair((1, 2), "stride", "conv2d", 1) == (1, 2)
    assert pair(np.int64(0), "padding", "conv2d", 0) == (0, 0)
    assert pair([2, 3], "stride", "conv2d", 1) == (2, 3)
    for bad in (1.5, (1, 2.0), "2", None, True, (1, None)):
        with pytest.raises(TypeError, match=r"conv2d: stride must be an int or a pair of ints"):
            pair(bad, "stride", "conv2d", 1)
    with pytest.raises(ValueError, match=r"conv2d: stride must be an int or a pair of ints"):
        pair((1, 2, 3), "stride", "conv2d", 1)
    for bad in (0, (1, 0), -2):
        with pytest.raises(ValueError, match=r"conv2d: stride must be >= 1, got"):
            pair(bad, "stride", "conv2d", 1)


def test_integer():
    assert integer(np.int32(3), "groups", "conv2d", 1) == 3
    with pytest.raises(TypeError, match="Conv2d: in_channels must be an int, got 2.0"):
        integer(2.0, "in_channels", "Conv2d", 0)
    with pytest.raises(ValueError, match="Conv2d: in_channels must be >= 0, got -1"):
        integer(-1, "in_channels", "Conv2d", 0)


def test_ints():
    assert ints(3, 1, "stride", "conv1d", 1) == (3,)
    assert ints([2], 1, "stride", "conv1d", 1) == (2,)
    with pytest.raises(ValueError, match=r"conv1d: stride must be an int or a tuple of 1 "
                                         r"ints, got \(1, 2\)"):
        ints((1, 2), 1, "stride", "conv1d", 1)


def test_conv_padding():
    one = (1, 1)
    assert conv_padding((1, 0), (3, 3), one, one, "conv2d") == ((1, 0), (0, 0))
    assert conv_padding("valid", (3, 2), one, one, "conv2d") == ((0, 0), (0, 0))
    # 'same': d (k - 1) in all; an odd total pads the larger half and crops the first row
    assert conv_padding("same", (3, 5), one, one, "conv2d") == ((1, 2), (0, 0))
    assert conv_padding("same", (2, 4), one, one, "conv2d") == ((1, 2), (1, 1))
    assert conv_padding("same", (2, 2), one, (2, 1), "conv2d") == ((1, 1), (0, 1))
    assert conv_padding("same", (4,), (1,), (1,), "conv1d") == ((2,), (1,))
    with pytest.raises(ValueError, match=r"conv2d: padding='same' needs stride 1 .*\(1, 2\)"):
        conv_padding("same", (3, 3), (1, 2), one, "conv2d")
    with pytest.raises(ValueError, match="conv2d: padding must be .* 'same', got 'full'"):
        conv_padding("full", (3, 3), one, one, "conv2d")


def test_conv_geometry():
    geometry = conv_geometry("conv2d", 2, (2, 4, 5, 6), (6, 2, 3, 3), (6,), 2, (1, 0), 1, 2)
    assert geometry == ConvGeometry((3, 3), (2, 2), (1, 0), (1, 1), 2, (3, 2))
    assert geometry.params == {"stride": (2, 2), "padding": (1, 0), "dilation": (1, 1),
                               "groups": 2}
    # the input rows after the last window: conv_transpose2d's output_padding back to x
    assert geometry.output_padding((5, 6)) == (0, 1)
    # 1-D: a convolution over a height of 1
    geometry = conv_geometry("conv1d", 1, (2, 4, 7), (3, 4, 2), None, 1, "same", 1, 1)
    assert geometry == ConvGeometry((1, 2), (1, 1), (0, 1), (1, 1), 1, (1, 8), (0, 1))
    with pytest.raises(ValueError, match="conv_transpose2d: groups must be >= 1, got 0"):
        conv_geometry("conv_transpose2d", 2, (1, 1, 3, 3), (1, 1, 1, 1), None, 1, 0, 1, 0)
    for groups in (1.0, None):
        with pytest.raises(TypeError, match="conv2d: groups must be an int"):
            conv_geometry("conv2d", 2, (1, 1, 3, 3), (1, 1, 1, 1), None, 1, 0, 1, groups)


def test_transpose_geometry():
    geometry, out_size = transpose_geometry("conv_transpose2d", (2, 4, 3, 3), (4, 3, 2, 3),
                                            None, (2, 1), (1, 0), (1, 2), (1, 3), 1)
    assert out_size == (5, 11)
    # output_padding 2 >= stride 1 leaves a window more than x has columns
    assert geometry == ConvGeometry((2, 3), (2, 1), (1, 0), (1, 3), 1, (3, 5))


def test_real_dtype():
    f32, f64 = np.zeros(1, np.float32), np.zeros(1)
    assert real_dtype("conv2d", f32, f32, None) == np.float32
    assert real_dtype("conv2d", f32, f64) == np.float64
    assert real_dtype("conv2d", np.zeros(1, np.int64), f32) == np.float64  # ints: float64
    assert real_dtype("conv2d", np.zeros(1, np.float16)) == np.float64
    assert real_dtype("conv2d", np.zeros(1, bool)) == np.float64
    for bad in (np.zeros(1, complex), np.zeros(1, object), np.array(["a"]),
                np.zeros(1, "datetime64[s]")):
        message = f"conv2d: an array of dtype {re.escape(str(bad.dtype))} .* is not supported"
        with pytest.raises(TypeError, match=message):
            real_dtype("conv2d", f32, bad)


@given(st.integers(1, 12), st.integers(1, 4), st.integers(1, 3), st.integers(0, 3),
       st.integers(1, 3))
def test_out_size_matches_the_naive_loops(size, k, s, p, d):
    span = d * (k - 1) + 1
    assume(span <= size + 2 * p)
    x, w = np.zeros((1, 1, size, size + 1)), np.zeros((1, 1, k, k))
    expected = naive.conv2d(x, w, stride=s, padding=p, dilation=d).shape[2:]
    geometry = conv_geometry("conv2d", 2, x.shape, w.shape, None, s, p, d, 1)
    assert geometry.out_size == expected


# --- bad geometry ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "x_shape, w_shape, kwargs, message",
    [
        ((1, 2, 4, 4), (3, 2, 5, 5), {}, r"kernel \(5, 5\).*padded input \(4, 4\)"),
        ((1, 2, 4, 4), (3, 2, 3, 3), {"dilation": 2}, r"spans \(5, 5\).*\(4, 4\)"),
        ((1, 3, 8, 8), (4, 1, 3, 3), {"groups": 2}, r"divisible by groups=2.*\(1, 3, 8, 8\)"),
        ((1, 4, 8, 8), (3, 2, 3, 3), {"groups": 2}, r"divisible by groups=2.*\(3, 2, 3, 3\)"),
        ((1, 4, 8, 8), (6, 3, 3, 3), {}, r"w \(6, 3, 3, 3\) expects 3 input channels.*4"),
        ((1, 4, 8, 8), (6, 4, 3, 3), {"groups": 2}, r"expects 8 input channels"),
        ((4, 8, 8), (6, 4, 3, 3), {}, r"x \(4, 8, 8\)"),
        ((1, 4, 8, 8), (6, 4, 3, 3), {"stride": 0}, "stride"),
        ((1, 4, 8, 8), (6, 4, 3, 3), {"padding": (1, 2, 3)}, "padding"),
        ((1, 4, 8, 8), (6, 4, 3, 3), {"groups": 0}, "groups"),
    ],
)
def test_conv2d_bad_geometry(x_shape, w_shape, kwargs, message):
    with pytest.raises(ValueError, match=message):
        ops.conv2d(np.zeros(x_shape), np.zeros(w_shape), **kwargs)


def test_bad_bias():
    with pytest.raises(ValueError, match=r"bias shape \(5,\).*6"):
        ops.conv2d(np.zeros((1, 4, 8, 8)), np.zeros((6, 4, 3, 3)), np.zeros(5))
    with pytest.raises(ValueError, match=r"bias shape \(5,\).*6 output channels"):
        ops.conv_transpose2d(np.zeros((1, 4, 8, 8)), np.zeros((4, 3, 3, 3)), np.zeros(5), groups=2)


@pytest.mark.parametrize(
    "x_shape, w_shape, kwargs, message",
    [
        ((1, 4, 3, 3), (3, 2, 3, 3), {}, r"x \(1, 4, 3, 3\) has 4 channels; w \(3, 2, 3, 3\)"),
        ((1, 3, 3, 3), (3, 2, 3, 3), {"groups": 2}, r"divisible by groups=2"),
        ((1, 2, 3, 3), (2, 2, 3, 3), {"stride": 2, "output_padding": 2}, "output_padding"),
        ((1, 2, 1, 1), (2, 2, 1, 1), {"padding": 1}, r"empty output"),
        ((2, 3, 3), (2, 2, 3, 3), {}, r"x \(2, 3, 3\)"),
    ],
)
def test_conv_transpose2d_bad_geometry(x_shape, w_shape, kwargs, message):
    with pytest.raises(ValueError, match=message):
        ops.conv_transpose2d(np.zeros(x_shape), np.zeros(w_shape), **kwargs)


@pytest.mark.parametrize("dtype", [complex, object, "U3"])
def test_non_real_arrays_are_refused(dtype):
    # complex once lost its imaginary part, object arrays were cast, strings failed in numpy
    x, w = np.ones((1, 2, 4, 4)).astype(dtype), np.ones((3, 2, 3, 3)).astype(dtype)
    real_x, real_w = np.ones((1, 2, 4, 4)), np.ones((3, 2, 3, 3))
    for name, args in [("conv2d", (x, real_w)), ("conv2d", (real_x, w)),
                       ("conv2d", (real_x, real_w, np.ones(3).astype(dtype))),
                       ("conv_transpose2d", (x[:, :, :2, :2], real_w[:2])),
                       ("conv1d", (x[:, :, 0], real_w[:, :, 0]))]:
        with pytest.raises(TypeError, match=f"{name}: an array of dtype .* is not supported"):
            getattr(ops, name)(*args)
    # nested lists too
    with pytest.raises(TypeError, match="conv2d: .*complex128"):
        ops.conv2d(np.ones((1, 2, 4, 4), complex).tolist(), real_w)


def test_conv1d_bad_geometry():
    with pytest.raises(ValueError, match=r"conv1d: .*x \(2, 3, 4, 5\)"):
        ops.conv1d(np.zeros((2, 3, 4, 5)), np.zeros((2, 3, 3)))
    # the errors speak of conv1d's own shapes, not of the conv2d it runs
    with pytest.raises(ValueError, match=r"conv1d: kernel \(7,\) .* padded input \(5,\) "
                                         r"\(x \(2, 3, 5\), w \(2, 3, 7\)"):
        ops.conv1d(np.zeros((2, 3, 5)), np.zeros((2, 3, 7)))
    with pytest.raises(ValueError, match=r"conv1d: stride must be >= 1, got 0"):
        ops.conv1d(np.zeros((2, 3, 5)), np.zeros((2, 3, 2)), stride=0)
    with pytest.raises(ValueError, match=r"conv1d: padding='same' needs stride 1"):
        ops.conv1d(np.zeros((2, 3, 5)), np.zeros((2, 3, 2)), stride=2, padding="same")
    with pytest.raises(ValueError, match=r"conv1d: w \(2, 2, 2\) expects 2 input channels"):
        ops.conv1d(np.zeros((2, 3, 5)), np.zeros((2, 2, 2)))
