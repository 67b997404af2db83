"""Pooling kernels against direct loops; threaded against serial; adjoint identities."""

from functools import partial

import numpy as np
import pytest
from hypothesis import given, strategies as st

from ops.kernels import policy
from ops.kernels import pool as K
from tests.naive_pool import naive_avg_pool2d, naive_max_pool2d, pool_geometries


def _threaded_and_serial(driver):
    """The driver forced onto several threads (where there are planes enough), and onto one."""
    return partial(driver, parallel=True), partial(driver, parallel=False)


def _flat_geometry(kernel, stride, padding):
    return (*kernel, *stride, *padding)


def _max_pool(driver, x, kernel, stride, padding):
    n, c, h, w = x.shape
    oh, ow = (K.out_size(h, kernel[0], stride[0], padding[0]),
              K.out_size(w, kernel[1], stride[1], padding[1]))
    out = np.full((n * c, oh, ow), np.nan, dtype=x.dtype)
    argmax = np.full((n * c, oh, ow), -1, dtype=np.int32)
    planes = x.reshape(n * c, h, w)  # (N, C, H, W) -> (N*C, H, W)
    driver(planes, *_flat_geometry(kernel, stride, padding), out, argmax)
    return out.reshape(n, c, oh, ow), argmax.reshape(n, c, oh, ow)


@given(pool_geometries(), st.sampled_from([np.float32, np.float64]), st.integers(0, 2**32 - 1))
def test_max_pool_kernels_match_naive(geometry, dtype, seed):
    shape, kernel, stride, padding = geometry
    rng = np.random.default_rng(seed)
    x = rng.integers(-3, 4, size=shape).astype(dtype)  # small integers: plenty of ties
    expected, expected_at = naive_max_pool2d(x, kernel, stride, padding)
    for driver in _threaded_and_serial(K.max_pool2d_forward):
        out, argmax = _max_pool(driver, x, kernel, stride, padding)
        assert out.dtype == dtype
        np.testing.assert_array_equal(out, expected)
        np.testing.assert_array_equal(argmax, expected_at)  # the first max wins a tie

    # backward: zeros with g added at the argmax (np.add.at accumulates repeats)
    n, c, h, w = shape
    g = rng.standard_normal(out.shape).astype(dtype)
    reference = np.zeros((n * c, h * w), dtype=dtype)
    rows = np.arange(n * c)[:, None]
    np.add.at(reference, (rows, argmax.reshape(n * c, -1)), g.reshape(n * c, -1))
    for driver in _threaded_and_serial(K.max_pool2d_backward):
        gx = np.full((n * c, h * w), np.nan, dtype=dtype)
        driver(g.reshape(n * c, -1), argmax.reshape(n * c, -1), gx)
        np.testing.assert_allclose(gx, reference, rtol=1e-6)

    # gather is the adjoint of the scatter
    gathered = np.empty((n * c, argmax[0, 0].size), dtype=dtype)
    K.max_pool2d_gather(reference, argmax.reshape(n * c, -1), gathered)
    np.testing.assert_array_equal(gathered, reference[rows, argmax.reshape(n * c, -1)])


@given(pool_geometries(), st.booleans(), st.sampled_from([np.float32, np.float64]),
       st.integers(0, 2**32 - 1))
def test_avg_pool_kernels_match_naive_and_are_adjoint(geometry, include_pad, dtype, seed):
    shape, kernel, stride, padding = geometry
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(dtype)
    expected = naive_avg_pool2d(x.astype(np.float64), kernel, stride, padding, include_pad)
    n, c, h, w = shape
    geo = _flat_geometry(kernel, stride, padding)
    g = rng.standard_normal(expected.shape).astype(dtype)
    results = []
    for forward, backward in zip(_threaded_and_serial(K.avg_pool2d_forward),
                                 _threaded_and_serial(K.avg_pool2d_backward)):
        out = np.full((n * c,) + expected.shape[2:], np.nan, dtype=dtype)
        forward(x.reshape(n * c, h, w), *geo, include_pad, out)
        np.testing.assert_allclose(out.reshape(expected.shape), expected, rtol=1e-5, atol=1e-6)
        gx = np.full((n * c, h, w), np.nan, dtype=dtype)
        backward(g.reshape(n * c, *g.shape[2:]), *geo, include_pad, gx)
        # <avg(x), g> == <x, avg^T(g)>
        np.testing.assert_allclose(np.sum(out.astype(np.float64) * g.reshape(out.shape)),
                                   np.sum(x.reshape(gx.shape).astype(np.float64) * gx),
                                   rtol=1e-4, atol=1e-5)
        results.append((out, gx))
    # threaded and serial runs use the same plane code: identical bits
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


def test_max_pool_nan_wins_and_threaded_run_matches_serial():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 64, 64)).astype(np.float32)
    x[3, 10, 11] = np.nan
    assert policy.threads_for("pool", x.size) == 3  # large enough to go threaded by itself
    results = []
    for driver in (K.max_pool2d_forward, partial(K.max_pool2d_forward, parallel=False)):
        out = np.empty((8, 32, 32), dtype=np.float32)
        argmax = np.empty((8, 32, 32), dtype=np.int32)
        driver(x, 2, 2, 2, 2, 0, 0, out, argmax)
        results.append((out, argmax))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][1], results[1][1])
    assert np.isnan(results[0][0][3, 5, 5]) and results[0][1][3, 5, 5] == 10 * 64 + 11
    assert np.isnan(results[0][0]).sum() == 1


@pytest.mark.parametrize("height, width", [(28, 28), (7, 9), (2, 2), (5, 4)])
def test_max_pool_2x2_fast_path_matches_general_window(height, width):
    rng = np.random.default_rng(0)
    x = rng.integers(-3, 3, size=(6, height, width)).astype(np.float64)  # many ties
    x[0, 0, 1] = x[1, 1, 1] = x[1, 0, 0] = np.nan
    shape = (6, (height - 2) // 2 + 1, (width - 2) // 2 + 1)
    fast, fast_at = np.empty(shape), np.empty(shape, np.int64)
    general, general_at = np.empty(shape), np.empty(shape, np.int64)
    K.max_pool2d_forward(x, 2, 2, 2, 2, 0, 0, fast, fast_at, parallel=False)
    for p in range(6):
        K._max_plane(x, p, 2, 2, 2, 2, 0, 0, general, general_at)
    np.testing.assert_array_equal(fast, general)
    np.testing.assert_array_equal(fast_at, general_at)
