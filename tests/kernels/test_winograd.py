"""Winograd F(2x2, 3x3) tile kernels against slow, obvious references (tests/naive.py)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ops.kernels import winograd as W
from tests import naive


def _random(shape, dtype=np.float64, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


# --- the algebra ----------------------------------------------------------------------------
def test_one_dimensional_identities():
    rng = np.random.default_rng(0)
    for _ in range(20):
        d, g3, g2 = rng.standard_normal(4), rng.standard_normal(3), rng.standard_normal(2)
        # F(2, 3): 2 outputs of a 3-tap correlation over 4 inputs
        np.testing.assert_allclose(W.AT @ ((W.G @ g3) * (W.BT @ d)),
                                   [d[i:i + 3] @ g3 for i in range(2)], rtol=0, atol=1e-14)
        # F(3, 2), the weight gradient's: 3 outputs of a 2-tap correlation, the same BT
        np.testing.assert_allclose(W.AT3 @ ((W.G2 @ g2) * (W.BT @ d)),
                                   [d[i:i + 2] @ g2 for i in range(3)], rtol=0, atol=1e-14)


def test_two_dimensional_identity():
    d, w = _random((4, 4)), _random((3, 3), seed=1)
    y = W.AT @ ((W.G @ w @ W.G.T) * (W.BT @ d @ W.BT.T)) @ W.AT.T
    expected = [[np.sum(d[i:i + 3, j:j + 3] * w) for j in range(2)] for i in range(2)]
    np.testing.assert_allclose(y, expected, rtol=0, atol=1e-13)


# --- the kernels, element by element ---------------------------------------------------
@st.composite
def planes(draw, max_side=9):
    """(N, C, H, W) and padding with at least one output of a 3x3 kernel."""
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    h = draw(st.integers(max(1, 3 - 2 * padding[0]), max_side))
    w = draw(st.integers(max(1, 3 - 2 * padding[1]), max_side))
    return (draw(st.integers(1, 3)), draw(st.integers(1, 3)), h, w), padding


def _reference_input_tiles(x, padding, tiles):
    """The 4x4 patch at (2i - ph, 2j - pw), zero padded, through BT . BT^T, tile by tile."""
    (n, c, h, w), (ph, pw), (th, tw) = x.shape, padding, tiles
    big = np.zeros((n, c, 2 * th + 2 + h + ph, 2 * tw + 2 + w + pw))
    big[:, :, ph:ph + h, pw:pw + w] = x
    v = np.zeros((4, 4, c, n * th * tw))
    for nn in range(n):
        for cc in range(c):
            for i in range(th):
                for j in range(tw):
                    d = big[nn, cc, 2 * i:2 * i + 4, 2 * j:2 * j + 4]
                    v[:, :, cc, (nn * th + i) * tw + j] = W.BT @ d @ W.BT.T
    return v.reshape(16, c, -1)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@given(planes())
def test_input_tiles(dtype, case):
    shape, padding = case
    x = _random(shape, dtype)
    out = (shape[2] + 2 * padding[0] - 2, shape[3] + 2 * padding[1] - 2)
    tiles = W.tile_counts(*out)
    v = W.input_tiles(x, padding, tiles)
    assert v.dtype == dtype and v.shape == (16, shape[1], shape[0] * tiles[0] * tiles[1])
    np.testing.assert_allclose(v, _reference_input_tiles(x.astype(np.float64), padding, tiles),
                               rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 7), st.integers(1, 7))
def test_grad_tiles(dtype, n, o, h, w):
    g = _random((n, o, h, w), dtype)
    th, tw = W.tile_counts(h, w)
    padded = np.zeros((n, o, 2 * th, 2 * tw))
    padded[:, :, :h, :w] = g
    expected = np.zeros((4, 4, o, n * th * tw))
    for nn in range(n):
        for i in range(th):
            for j in range(tw):
                t = padded[nn, :, 2 * i:2 * i + 2, 2 * j:2 * j + 2]  # (O, 2, 2)
                expected[:, :, :, (nn * th + i) * tw + j] = np.einsum(
                    "ak,okl,bl->abo", W.G2, t, W.G2)
    u = W.grad_tiles(g)
    assert u.dtype == dtype
    np.testing.assert_allclose(u, expected.reshape(16, o, -1), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 7), st.integers(1, 7))
def test_output_tiles(dtype, n, o, h, w):
    th, tw = W.tile_counts(h, w)
    m = _random((16, o, n * th * tw), dtype)
    blocks = np.einsum("pa,abot,qb->pqot", W.AT, m.astype(np.float64).reshape(4, 4, o, -1), W.AT)
    expected = np.zeros((n, o, 2 * th, 2 * tw))
    for nn in range(n):
        for i in range(th):
            for j in range(tw):
                expected[nn, :, 2 * i:2 * i + 2, 2 * j:2 * j + 2] = (
                    blocks[:, :, :, (nn * th + i) * tw + j].transpose(2, 0, 1))
    y = W.output_tiles(m, (n, o, h, w))
    assert y.dtype == dtype and y.shape == (n, o, h, w)
    np.testing.assert_allclose(y, expected[:, :, :h, :w], rtol=1e-6, atol=1e-5)


# --- the kernels together: a convolution and its weight gradient ------------------------
@given(planes(), st.integers(1, 4))
def test_convolution_and_weight_gradient(case, n_out):
    shape, padding = case
    x, w = _random(shape), _random((n_out, shape[1], 3, 3), seed=1)
    expected = naive.conv2d(x, w, padding=padding)
    tiles = W.tile_counts(*expected.shape[2:])
    v = W.input_tiles(x, padding, tiles)
    y = W.output_tiles(W.filter_tiles(w) @ v, expected.shape)
    np.testing.assert_allclose(y, expected, rtol=1e-12, atol=1e-12)
    # gw[o, c, p, q] = sum over n, i, j of g[n, o, i, j] x_padded[n, c, i + p, j + q]
    g = _random(expected.shape, seed=2)
    cols = naive.im2col(x, (3, 3), (1, 1), padding, (1, 1))  # (C, 3, 3, N, oh, ow)
    gw_expected = np.einsum("nohw,cpqnhw->ocpq", g, cols)
    gw = W.weight_from_tiles(W.grad_tiles(g) @ v.transpose(0, 2, 1))
    np.testing.assert_allclose(gw, gw_expected, rtol=1e-12, atol=1e-11)
