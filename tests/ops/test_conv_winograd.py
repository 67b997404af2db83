"""conv2d on the Winograd F(2x2, 3x3) path: gradients, second order, against the direct
loops and float32 against float64, with the path forced on for small convolutions."""

import contextlib

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd as ag
import ops
from autograd import Tensor
from autograd.testing import gradcheck, gradgradcheck
from ops.kernels import policy
from tests import naive
from tests.ops.test_conv import _arrays, _same_reference

@contextlib.contextmanager
def winograd_for_any_channels():
    """Every 3x3, stride-1, undilated, ungrouped convolution takes the Winograd path, however
    small (by default only large ones do: see ops.kernels.policy.use_winograd)."""
    names = ("WINOGRAD", "WINOGRAD_MIN_CHANNELS", "WINOGRAD_MIN_COLUMN_BYTES")
    saved = [getattr(policy, name) for name in names]
    for name, value in zip(names, (True, 1, 0)):
        setattr(policy, name, value)
    try:
        yield
    finally:
        for name, value in zip(names, saved):
            setattr(policy, name, value)


@st.composite
def winograd_cases(draw, max_side=7, max_channels=3):
    """conv2d geometry the Winograd path takes: 3x3, stride 1, odd and even sizes (partial
    tiles at the edges), padding 0-3 (past 2, the input gradient goes through im2col)."""
    padding = (draw(st.integers(0, 3)), draw(st.integers(0, 3)))
    h, w = (draw(st.integers(max(1, 3 - 2 * p), max_side)) for p in padding)
    c, o = draw(st.integers(1, max_channels)), draw(st.integers(1, max_channels))
    return {
        "x": (draw(st.integers(1, 2)), c, h, w),
        "w": (o, c, 3, 3),
        "b": (o,),
        "params": {"stride": (1, 1), "padding": padding, "dilation": (1, 1), "groups": 1},
    }


def test_which_convolutions_take_winograd():
    use = policy.use_winograd
    one = (1, 1)
    assert use((64, 32, 3, 3), 64, (28, 28), one, one, 1, 4)  # the benchmark's layer
    assert use((64, 64, 3, 3), 64, (14, 14), one, one, 1, 4)
    assert not use((64, 32, 3, 3), 64, (14, 14), one, one, 1, 4)  # columns fit the cache
    assert not use((32, 1, 3, 3), 64, (28, 28), one, one, 1, 4)  # one channel in
    assert not use((64, 32, 3, 3), 64, (28, 28), (2, 2), one, 1, 4)
    assert not use((64, 32, 3, 3), 64, (28, 28), one, (2, 2), 1, 4)
    assert not use((64, 16, 3, 3), 64, (28, 28), one, one, 2, 4)
    assert not use((64, 32, 5, 5), 64, (28, 28), one, one, 1, 4)
    assert not use((64, 64, 3, 3), 4096, (64, 64), one, one, 1, 4)  # tiles past 512 MB


@given(winograd_cases(), st.booleans())
def test_winograd_gradients(case, with_bias):
    # conv2d, and in its VJP conv_transpose2d (gx) and conv2d_weight_grad (gw from the
    # saved tiles), all on the Winograd path
    x, w, b = _arrays(case)
    params = case["params"]
    with winograd_for_any_channels():
        out_size = naive.conv2d(x, w, **params).shape[2:]
        assert policy.use_winograd(w.shape, x.shape[0], out_size, (1, 1), (1, 1), 1, 8)
        if with_bias:
            assert gradcheck(lambda x, w, b: ops.conv2d(x, w, b, **params), [x, w, b])
        else:
            assert gradcheck(lambda x, w: ops.conv2d(x, w, **params), [x, w])


@given(winograd_cases())
def test_winograd_weight_grad_gradients(case):
    x, w, _ = _arrays(case)
    params = case["params"]
    g = np.random.default_rng(3).standard_normal(naive.conv2d(x, w, **params).shape)
    with winograd_for_any_channels():  # without saved tiles: conv2d_weight_grad makes them
        assert gradcheck(
            lambda x, g: ops.conv.conv2d_weight_grad(x, g, kernel_size=(3, 3), **params), [x, g]
        )


@given(winograd_cases(), st.booleans())
def test_winograd_matches_naive(case, with_bias):
    x, w, b = _arrays(case, seed=1)
    b = b if with_bias else None
    p = case["params"]["padding"]
    y = naive.conv2d(x, w, b, padding=p)
    b_t = None if b is None else np.arange(w.shape[1], dtype=float)  # C channels out
    with winograd_for_any_channels():
        np.testing.assert_allclose(ops.conv2d(x, w, b, padding=p).data, y,
                                   rtol=1e-12, atol=1e-12)
        # conv2d's adjoint in x, with the same w (O, C, 3, 3): y (N, O, ..) -> (N, C, ..)
        np.testing.assert_allclose(ops.conv_transpose2d(y, w, b_t, padding=p).data,
                                   naive.conv_transpose2d(y, w, b_t, padding=p),
                                   rtol=1e-12, atol=1e-11)


@given(winograd_cases())
def test_winograd_float32_matches_float64(case):
    x, w, b = _arrays(case, seed=2)
    params = case["params"]
    g = np.random.default_rng(3).standard_normal(naive.conv2d(x, w, **params).shape)
    results = {}
    with winograd_for_any_channels():
        for dtype in (np.float32, np.float64):
            tensors = [Tensor(a.astype(dtype), requires_grad=True) for a in (x, w, b)]
            out = ops.conv2d(*tensors, **params)
            results[dtype] = [out.data] + list(ag.grad(out, tensors, g.astype(dtype)))
    for r32, r64 in zip(results[np.float32], results[np.float64]):
        assert r32.dtype == np.float32
        np.testing.assert_allclose(r32, r64, rtol=1e-4, atol=1e-4)


@settings(max_examples=8)
@given(winograd_cases(max_side=5, max_channels=2))
def test_winograd_second_order(case):
    x, w, b = _arrays(case)
    params = case["params"]
    with winograd_for_any_channels():
        assert gradgradcheck(lambda x, w, b: ops.conv2d(x, w, b, **params), [x, w, b])


def test_same_padding_on_the_winograd_path():
    rng = np.random.default_rng(8)
    x, w = rng.standard_normal((2, 3, 5, 6)), rng.standard_normal((2, 3, 3, 3))
    with winograd_for_any_channels():
        assert gradcheck(lambda x, w: ops.conv2d(x, w, padding="same"), [x, w])
        np.testing.assert_allclose(ops.conv2d(x, w, padding="same").data,
                                   _same_reference(x, w), rtol=1e-12, atol=1e-12)
