"""im2col / col2im kernels against the naive loops in tests/naive.py, serial vs threaded."""

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from ops.kernels.im2col import col2im, conv_out_size, im2col
from tests import naive


@st.composite
def geometries(draw, max_side=7):
    """(x shape, kernel, stride, padding, dilation) with at least one window."""
    n, c = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    h, w = draw(st.integers(1, max_side)), draw(st.integers(1, max_side))
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = (draw(st.integers(0, 3)), draw(st.integers(0, 3)))
    dilation = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    for size, i in ((h, 0), (w, 1)):
        assume(conv_out_size(size, kernel[i], stride[i], padding[i], dilation[i]) >= 1)
    return (n, c, h, w), kernel, stride, padding, dilation


def _random(shape, dtype, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@given(geometries())
def test_im2col_matches_naive(dtype, geometry):
    shape, kernel, stride, padding, dilation = geometry
    x = _random(shape, dtype)
    cols = im2col(x, kernel, stride, padding, dilation)
    assert cols.dtype == dtype
    np.testing.assert_array_equal(cols, naive.im2col(x, kernel, stride, padding, dilation))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@given(geometries())
def test_col2im_matches_naive(dtype, geometry):
    shape, kernel, stride, padding, dilation = geometry
    cols_shape = im2col(np.zeros(shape), kernel, stride, padding, dilation).shape
    cols = _random(cols_shape, dtype, seed=1)
    x = col2im(cols, shape[2:], stride, padding, dilation)
    assert x.dtype == dtype and x.shape == shape
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(
        x, naive.col2im(cols, shape[2:], stride, padding, dilation), rtol=tol, atol=tol
    )


@given(geometries())
def test_col2im_is_the_adjoint_of_im2col(geometry):
    shape, kernel, stride, padding, dilation = geometry
    x = _random(shape, np.float64)
    cols = im2col(x, kernel, stride, padding, dilation)
    c = _random(cols.shape, np.float64, seed=2)
    lhs = np.sum(cols * c)
    rhs = np.sum(x * col2im(c, shape[2:], stride, padding, dilation))
    assert np.isclose(lhs, rhs, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_serial_and_threaded_runs_agree(dtype):
    # Big enough that every thread gets several (channel, sample) pairs; overlapping
    # windows (stride 1, 3x3, dilation 2) so a racy col2im would show.
    x = _random((5, 7, 13, 11), dtype)
    geometry = ((1, 1), (2, 1), (2, 1))  # stride, padding, dilation
    serial = im2col(x, (3, 3), *geometry, parallel=False)
    parallel = im2col(x, (3, 3), *geometry, parallel=True)
    np.testing.assert_array_equal(serial, parallel)
    cols = _random(serial.shape, dtype, seed=3)
    np.testing.assert_array_equal(
        col2im(cols, x.shape[2:], *geometry, parallel=False),
        col2im(cols, x.shape[2:], *geometry, parallel=True),
    )


def test_non_contiguous_inputs():
    x = _random((4, 6, 9, 8), np.float64)[::2, ::-2, :, 1:]  # (2, 3, 9, 7), strided
    assert not x.flags.c_contiguous
    geometry = ((2, 3), (2, 1), (1, 0), (1, 2))
    cols = im2col(x, *geometry)
    np.testing.assert_array_equal(cols, naive.im2col(np.ascontiguousarray(x), *geometry))
    strided = np.asfortranarray(cols)
    np.testing.assert_allclose(
        col2im(strided, x.shape[2:], *geometry[1:]), naive.col2im(cols, x.shape[2:], *geometry[1:])
    )


def test_bad_arguments():
    x = np.zeros((1, 1, 4, 4))
    with pytest.raises(ValueError, match=r"kernel \(5, 5\).*\(4, 4\)"):
        im2col(x, (5, 5))
    with pytest.raises(ValueError, match="stride"):
        im2col(x, (3, 3), stride=(0, 1))
    with pytest.raises(ValueError, match=r"\(N, C, H, W\).*\(4, 4\)"):
        im2col(np.zeros((4, 4)), (3, 3))
    with pytest.raises(TypeError, match="int64"):
        im2col(np.zeros((1, 1, 4, 4), dtype=np.int64), (3, 3))
    with pytest.raises(ValueError, match=r"\(5, 5\)"):
        col2im(np.zeros((1, 3, 3, 1, 2, 2)), (5, 5))


def test_im2col_into_out():
    # the columns go into the caller's array (conv2d unfolds into the first rows of a block
    # whose last row is ones); a wrong out is refused, naming the shapes
    x = _random((2, 3, 5, 4), np.float32)
    geometry = ((3, 2), (1, 2), (1, 0), (1, 1))
    block = np.full((3 * 3 * 2 + 1, 2 * 5 * 2), 7.0, np.float32)
    out = block[:-1].reshape(3, 3, 2, 2, 5, 2)  # (K, N*oh*ow) -> (C, kh, kw, N, oh, ow)
    assert im2col(x, *geometry, out=out) is out
    np.testing.assert_array_equal(out, naive.im2col(x, *geometry))
    np.testing.assert_array_equal(block[-1], 7.0)  # nothing written past the columns
    with pytest.raises(ValueError, match=r"im2col: out must be a C-contiguous float32 array "
                                         r"of shape \(3, 3, 2, 2, 5, 2\), got float64"):
        im2col(x, *geometry, out=np.zeros((3, 3, 2, 2, 5, 2)))
    with pytest.raises(ValueError, match=r"got float32 \(3, 3, 2, 2, 5, 3\)"):
        im2col(x, *geometry, out=np.zeros((3, 3, 2, 2, 5, 3), np.float32))
