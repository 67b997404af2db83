"""Slow, obvious pooling references (direct loops) and a geometry strategy for the tests."""

import numpy as np
from hypothesis import strategies as st


def naive_max_pool2d(x, kernel_size, stride, padding):
    """x (N, C, H, W) -> (out, argmax), both (N, C, OH, OW); argmax is the flat index
    h * W + w of the first max of each window in its plane."""
    (kh, kw), (sh, sw), (ph, pw) = kernel_size, stride, padding
    n, c, h, w = x.shape
    oh, ow = (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1
    out = np.empty((n, c, oh, ow), dtype=x.dtype)
    argmax = np.empty((n, c, oh, ow), dtype=np.int64)
    for b in range(n):
        for ch in range(c):
            for i in range(oh):
                for j in range(ow):
                    best, at = -np.inf, -1
                    for a in range(i * sh - ph, i * sh - ph + kh):
                        for e in range(j * sw - pw, j * sw - pw + kw):
                            if 0 <= a < h and 0 <= e < w and x[b, ch, a, e] > best:
                                best, at = x[b, ch, a, e], a * w + e
                    out[b, ch, i, j], argmax[b, ch, i, j] = best, at
    return out, argmax


def naive_avg_pool2d(x, kernel_size, stride, padding, count_include_pad=True):
    """x (N, C, H, W) -> (N, C, OH, OW): window sums over the zero-padded input, divided by
    kh * kw (count_include_pad) or by the number of real elements in the window."""
    (kh, kw), (sh, sw), (ph, pw) = kernel_size, stride, padding
    n, c, h, w = x.shape
    padded = np.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=np.float64)
    padded[:, :, ph:ph + h, pw:pw + w] = x
    real = np.zeros((h + 2 * ph, w + 2 * pw))
    real[ph:ph + h, pw:pw + w] = 1
    oh, ow = (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1
    out = np.empty((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            rows, cols = slice(i * sh, i * sh + kh), slice(j * sw, j * sw + kw)
            count = kh * kw if count_include_pad else real[rows, cols].sum()
            out[:, :, i, j] = padded[:, :, rows, cols].sum(axis=(2, 3)) / count
    return out.astype(x.dtype)


@st.composite
def pool_geometries(draw, max_side=7):
    """(x_shape, kernel, stride, padding) with valid geometry: odd and even sizes, strides
    below, at and above the kernel, padding up to half the kernel."""
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = (draw(st.integers(0, kernel[0] // 2)), draw(st.integers(0, kernel[1] // 2)))
    h = draw(st.integers(max(1, kernel[0] - 2 * padding[0]), max_side))
    w = draw(st.integers(max(1, kernel[1] - 2 * padding[1]), max_side))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 3)), h, w)
    return shape, kernel, stride, padding


@st.composite
def distinct_images(draw, shape, gap=0.05):
    """float64 arrays of ``shape`` whose values are at least ``gap`` apart (no ties for a
    max, even after a central-difference step): a drawn permutation plus small noise."""
    size = int(np.prod(shape))
    order = np.array(draw(st.permutations(range(size))), dtype=np.float64)
    noise = draw(st.lists(st.floats(0, 0.4), min_size=size, max_size=size))
    return ((order + np.array(noise)) * 2 * gap - gap * size).reshape(shape)


def window_values(x, kernel, stride, padding):
    """The values of each window, a list of 1-D arrays (for no-tie assumptions)."""
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    n, c, h, w = x.shape
    oh, ow = (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1
    windows = []
    for i in range(oh):
        for j in range(ow):
            rows = slice(max(i * sh - ph, 0), i * sh - ph + kh)
            cols = slice(max(j * sw - pw, 0), j * sw - pw + kw)
            windows.extend(x[:, :, rows, cols].reshape(n * c, -1))
    return windows
