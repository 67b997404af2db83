"""Pooling ops: forward against direct loops, gradients by central differences, errors."""

import numpy as np
import pytest
from hypothesis import assume, given, strategies as st

import ops
from autograd import Tensor
from autograd.testing import gradcheck, gradgradcheck
from autograd.testing.strategies import distinct_values
from ops.pool import (
    _avg_pool2d_backward, _max_pool2d_backward, _max_pool2d_gather, max_pool2d_forward,
)
from tests.helpers import check_forward, gradchecks
from tests.naive_pool import (
    distinct_images, naive_avg_pool2d, naive_max_pool2d, pool_geometries, window_values,
)


def _max_ref(x, kernel_size, stride, padding):
    return naive_max_pool2d(x, kernel_size, stride, padding)[0]


# --- forward --------------------------------------------------------------------------
@given(pool_geometries(), st.integers(0, 2**32 - 1))
def test_max_pool2d_forward_matches_naive(geometry, seed):
    shape, kernel, stride, padding = geometry
    x = np.random.default_rng(seed).standard_normal(shape)
    check_forward(ops.max_pool2d, _max_ref, x, kernel_size=kernel, stride=stride,
                  padding=padding)


@given(pool_geometries(), st.booleans(), st.integers(0, 2**32 - 1))
def test_avg_pool2d_forward_matches_naive(geometry, include_pad, seed):
    shape, kernel, stride, padding = geometry
    x = np.random.default_rng(seed).standard_normal(shape)
    check_forward(ops.avg_pool2d, naive_avg_pool2d, x, kernel_size=kernel, stride=stride,
                  padding=padding, count_include_pad=include_pad)


def test_pool_defaults_and_docstring_examples():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    np.testing.assert_array_equal(ops.max_pool2d(x, 2).data[0, 0], [[5, 7], [13, 15]])
    np.testing.assert_array_equal(ops.avg_pool2d(x, 2).data[0, 0], [[2.5, 4.5], [10.5, 12.5]])
    # stride defaults to the kernel size; padding counts as zeros in the average
    assert ops.max_pool2d(x, (3, 2)).shape == (1, 1, 1, 2)
    edge = ops.avg_pool2d(np.ones((1, 1, 2, 2)), 3, stride=1, padding=1).data
    np.testing.assert_allclose(edge, np.full((1, 1, 2, 2), 4 / 9))
    edge = ops.avg_pool2d(np.ones((1, 1, 2, 2)), 3, 1, 1, count_include_pad=False).data
    np.testing.assert_allclose(edge, np.ones((1, 1, 2, 2)))


def test_float32_forward_close_to_float64():
    x = np.random.default_rng(0).standard_normal((2, 3, 9, 8))
    for op in (ops.max_pool2d, ops.avg_pool2d):
        out32 = op(x.astype(np.float32), 3, stride=2, padding=1)
        out64 = op(x, 3, stride=2, padding=1)
        assert out32.dtype == np.float32 and out64.dtype == np.float64
        np.testing.assert_allclose(out32.data, out64.data, rtol=1e-6, atol=1e-6)


def test_non_contiguous_input_and_gradient():
    base = np.random.default_rng(1).standard_normal((3, 2, 8, 7)).astype(np.float32)
    views = [base[:, :, ::-1], base.transpose(1, 0, 2, 3), base[..., ::2]]
    for view in views:
        for op in (ops.max_pool2d, ops.avg_pool2d):
            x = Tensor(view, requires_grad=True)
            out = op(x, 2, 1, 1)
            np.testing.assert_array_equal(out.data, op(np.ascontiguousarray(view), 2, 1, 1).data)
            out.sum().backward()  # sum's VJP hands pooling a broadcast (stride 0) gradient
            assert x.grad.shape == view.shape and x.grad.dtype == np.float32


def test_empty_batch():
    for op in (ops.max_pool2d, ops.avg_pool2d):
        x = Tensor(np.zeros((0, 3, 4, 4)), requires_grad=True)
        out = op(x, 2)
        assert out.shape == (0, 3, 2, 2)
        out.sum().backward()
        assert x.grad.shape == (0, 3, 4, 4)


def test_max_pool2d_nan_propagates_and_ties_go_to_the_first_max():
    x = np.ones((1, 1, 4, 4))
    x[0, 0, 0, 1] = np.nan
    assert np.isnan(ops.max_pool2d(x, 2).data[0, 0, 0, 0])
    t = Tensor(np.ones((1, 1, 2, 4)), requires_grad=True)
    ops.max_pool2d(t, 2).sum().backward()
    np.testing.assert_array_equal(t.grad[0, 0], [[1, 0, 1, 0], [0, 0, 0, 0]])


def test_bad_geometry_raises_value_error_naming_shapes():
    x = np.zeros((1, 2, 3, 3))
    with pytest.raises(ValueError, match=r"max_pool2d: kernel \(4, 4\) .* padded input \(3, 3\)"
                       r".*\(1, 2, 3, 3\)"):
        ops.max_pool2d(x, 4)
    with pytest.raises(ValueError, match=r"avg_pool2d: kernel \(2, 6\) .* \(5, 5\)"):
        ops.avg_pool2d(x, (2, 6), padding=1)
    with pytest.raises(ValueError, match=r"padding \(2, 2\) must be at most half .* \(3, 3\)"):
        ops.max_pool2d(x, 3, padding=2)
    with pytest.raises(ValueError, match=r"\(N, C, H, W\), got shape \(2, 3, 3\)"):
        ops.avg_pool2d(np.zeros((2, 3, 3)), 2)
    with pytest.raises(ValueError, match=r"max_pool2d: stride must be >= 1, got 0"):
        ops.max_pool2d(x, 2, stride=0)
    with pytest.raises(ValueError, match=r"avg_pool2d: padding must be >= 0, got -1"):
        ops.avg_pool2d(x, 2, padding=-1)
    with pytest.raises(ValueError, match="kernel_size must be an int or a pair"):
        ops.max_pool2d(x, (2, 2, 2))
    with pytest.raises(ValueError, match=r"global_avg_pool2d: .* got \(2, 3\)"):
        ops.global_avg_pool2d(np.zeros((2, 3)))


def test_non_integer_sizes_name_the_op_and_argument():
    # 2.5 once reached tuple() and raised "'float' object is not iterable"
    x = np.zeros((1, 1, 4, 4))
    with pytest.raises(TypeError, match=r"max_pool2d: kernel_size must be an int or a pair "
                                        r"of ints, got 2.5"):
        ops.max_pool2d(x, 2.5)
    with pytest.raises(TypeError, match=r"avg_pool2d: stride must be an int or a pair of ints, "
                                        r"got \(1, 1.5\)"):
        ops.avg_pool2d(x, 2, stride=(1, 1.5))
    with pytest.raises(TypeError, match=r"max_pool2d: padding must be an int"):
        ops.max_pool2d(x, 2, padding=None)


@pytest.mark.parametrize("dtype", [complex, object, "U3"])
def test_non_real_arrays_are_refused(dtype):
    # global_avg_pool2d once averaged complex and object arrays without complaint
    x = np.ones((1, 1, 4, 4)).astype(dtype)
    for name, op in [("max_pool2d", ops.max_pool2d), ("avg_pool2d", ops.avg_pool2d)]:
        with pytest.raises(TypeError, match=f"{name}: an array of dtype {x.dtype} .* not supported"):
            op(x, 2)
    with pytest.raises(TypeError, match=f"global_avg_pool2d: an array of dtype {x.dtype}"):
        ops.global_avg_pool2d(x)


def test_integer_and_bool_images_pool_in_float64():
    x = np.arange(16).reshape(1, 1, 4, 4)
    for op in (ops.max_pool2d, ops.avg_pool2d):
        out = op(x, 2)
        assert out.dtype == np.float64
        np.testing.assert_array_equal(out.data, op(x.astype(np.float64), 2).data)
    assert ops.max_pool2d(x > 7, 2).dtype == np.float64


# --- gradients ------------------------------------------------------------------------
@gradchecks("max_pool2d", "max_pool2d_backward")
@given(pool_geometries(), st.data())
def test_max_pool2d_gradients(geometry, data):
    shape, kernel, stride, padding = geometry
    x = data.draw(distinct_images(shape))
    # no two values of a window within 1e-3: the max (and its argmax) stays put under eps
    assume(all(distinct_values(v) for v in window_values(x, kernel, stride, padding)))
    gradcheck(lambda t: ops.max_pool2d(t, kernel, stride, padding), [x])
    # double backward: the first gradient depends on x through g = 2 v pool(x)
    gradgradcheck(lambda t: ops.max_pool2d(t, kernel, stride, padding) ** 2, [x])


@gradchecks("avg_pool2d", "avg_pool2d_backward")
@given(pool_geometries(), st.booleans(), st.integers(0, 2**32 - 1))
def test_avg_pool2d_gradients(geometry, include_pad, seed):
    shape, kernel, stride, padding = geometry
    x = np.random.default_rng(seed).standard_normal(shape)

    def pool(t):
        return ops.avg_pool2d(t, kernel, stride, padding, count_include_pad=include_pad)

    gradcheck(pool, [x])
    gradgradcheck(lambda t: pool(t) ** 2, [x])


@gradchecks("max_pool2d_backward", "max_pool2d_gather")
@given(pool_geometries(), st.integers(0, 2**32 - 1))
def test_max_pool2d_backward_ops_are_an_adjoint_pair(geometry, seed):
    shape, kernel, stride, padding = geometry
    rng = np.random.default_rng(seed)
    argmax = max_pool2d_forward(rng.standard_normal(shape), kernel, stride, padding)[1]
    g = rng.standard_normal((shape[0], shape[1]) + argmax.shape[1:])
    h = rng.standard_normal(shape)
    scatter = _max_pool2d_backward(g, argmax=argmax, shape=shape).data
    gather = _max_pool2d_gather(h, argmax=argmax).data
    np.testing.assert_allclose(np.sum(scatter * h), np.sum(g * gather), rtol=1e-12)
    gradcheck(lambda t: _max_pool2d_backward(t, argmax=argmax, shape=shape), [g])
    gradcheck(lambda t: _max_pool2d_gather(t, argmax=argmax), [h])
    gradgradcheck(lambda t: _max_pool2d_gather(t, argmax=argmax) ** 2, [h])


@gradchecks("avg_pool2d_backward")
@given(pool_geometries(), st.booleans(), st.integers(0, 2**32 - 1))
def test_avg_pool2d_backward_op(geometry, include_pad, seed):
    shape, kernel, stride, padding = geometry
    rng = np.random.default_rng(seed)
    out_shape = ops.avg_pool2d(np.zeros(shape), kernel, stride, padding).shape
    g, h = rng.standard_normal(out_shape), rng.standard_normal(shape)
    params = dict(shape=shape, kernel_size=kernel, stride=stride, padding=padding,
                  count_include_pad=include_pad)
    spread = _avg_pool2d_backward(g, **params).data
    pooled = ops.avg_pool2d(h, kernel, stride, padding, count_include_pad=include_pad).data
    # Two sums of the same products in another order: rounding scales with the terms, not
    # with the (possibly cancelling) total.
    np.testing.assert_allclose(np.sum(spread * h), np.sum(g * pooled), rtol=1e-12,
                               atol=1e-13 * np.sum(np.abs(spread * h)))
    gradcheck(lambda t: _avg_pool2d_backward(t, **params), [g])


@given(st.tuples(st.integers(1, 2), st.integers(1, 3), st.integers(1, 4), st.integers(1, 4)),
       st.booleans(), st.integers(0, 2**32 - 1))
def test_global_avg_pool2d(shape, keepdims, seed):
    x = np.random.default_rng(seed).standard_normal(shape)
    out = ops.global_avg_pool2d(x, keepdims=keepdims)
    np.testing.assert_allclose(out.data, x.mean(axis=(2, 3), keepdims=keepdims))
    gradcheck(lambda t: ops.global_avg_pool2d(t, keepdims) ** 2, [x])


# --- adaptive average pooling ---------------------------------------------------------
def naive_adaptive_avg_pool2d(x, output_size):
    """PyTorch's windows, from its definition: rows floor(i H / oh) .. ceil((i+1) H / oh)."""
    n, c, h, w = x.shape
    oh, ow = output_size
    out = np.empty((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            r0, r1 = (i * h) // oh, -(-((i + 1) * h) // oh)
            c0, c1 = (j * w) // ow, -(-((j + 1) * w) // ow)
            out[:, :, i, j] = x[:, :, r0:r1, c0:c1].astype(np.float64).mean(axis=(2, 3))
    return out.astype(x.dtype)


@st.composite
def adaptive_cases(draw):
    """(x shape, output_size): sizes that divide the input, that don't, and larger ones."""
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 7)),
             draw(st.integers(1, 7)))
    return shape, (draw(st.integers(1, 8)), draw(st.integers(1, 8)))


@given(adaptive_cases(), st.integers(0, 2**32 - 1))
def test_adaptive_avg_pool2d_forward_matches_naive(case, seed):
    shape, size = case
    x = np.random.default_rng(seed).standard_normal(shape)
    check_forward(ops.adaptive_avg_pool2d, naive_adaptive_avg_pool2d, x, output_size=size)


@given(adaptive_cases(), st.integers(0, 2**32 - 1))
def test_adaptive_avg_pool2d_gradients(case, seed):
    shape, size = case
    x = np.random.default_rng(seed).standard_normal(shape)
    assert gradcheck(lambda t: ops.adaptive_avg_pool2d(t, size), [x])
    assert gradgradcheck(lambda t: ops.adaptive_avg_pool2d(t, size) ** 2, [x])


def test_adaptive_avg_pool2d_sizes():
    x = np.arange(2 * 3 * 6 * 5.0).reshape(2, 3, 6, 5)
    # an int is both sizes, None keeps the input's; 1 is the global average
    assert ops.adaptive_avg_pool2d(x, 3).shape == (2, 3, 3, 3)
    np.testing.assert_allclose(ops.adaptive_avg_pool2d(x, (None, 2)).data,
                               naive_adaptive_avg_pool2d(x, (6, 2)), rtol=1e-12)
    np.testing.assert_allclose(ops.adaptive_avg_pool2d(x, 1).data[..., 0, 0],
                               ops.global_avg_pool2d(x).data, rtol=1e-12)
    # dividing sizes run avg_pool2d: the same windows
    np.testing.assert_allclose(ops.adaptive_avg_pool2d(x, (3, 5)).data,
                               ops.avg_pool2d(x, (2, 1)).data, rtol=1e-12)
    assert ops.adaptive_avg_pool2d(x.astype(np.float32), (4, 3)).dtype == np.float32
    assert ops.adaptive_avg_pool2d(np.ones((1, 1, 3, 3), int), 2).dtype == np.float64


def test_adaptive_avg_pool2d_bad_arguments():
    x = np.zeros((1, 2, 4, 4))
    with pytest.raises(ValueError, match=r"adaptive_avg_pool2d: output_size must be >= 1, "
                                         r"got 0"):
        ops.adaptive_avg_pool2d(x, (2, 0))
    with pytest.raises(TypeError, match=r"adaptive_avg_pool2d: output_size must be an int, "
                                        r"got 2.5"):
        ops.adaptive_avg_pool2d(x, 2.5)
    with pytest.raises(ValueError, match=r"adaptive_avg_pool2d: output_size must be an int or "
                                         r"a pair, got \(1, 2, 3\)"):
        ops.adaptive_avg_pool2d(x, (1, 2, 3))
    with pytest.raises(ValueError, match=r"adaptive_avg_pool2d: expected x of shape "
                                         r"\(N, C, H, W\) .* got \(2, 4, 4\)"):
        ops.adaptive_avg_pool2d(x[0], 2)
    with pytest.raises(TypeError, match=r"adaptive_avg_pool2d: an array of dtype complex128"):
        ops.adaptive_avg_pool2d(x.astype(complex), 2)


def test_pooling_matches_torch():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    x = np.random.default_rng(2).standard_normal((2, 3, 7, 6))
    cases = [(ops.max_pool2d, F.max_pool2d, (3,), {"stride": 2, "padding": 1}),
             (ops.avg_pool2d, F.avg_pool2d, ((3, 2),), {"stride": 1, "padding": (1, 0),
                                                        "count_include_pad": False}),
             (ops.adaptive_avg_pool2d, F.adaptive_avg_pool2d, ((4, 5),), {}),
             (ops.adaptive_avg_pool2d, F.adaptive_avg_pool2d, ((3, 2),), {})]
    for ours, theirs, args, kwargs in cases:
        t = Tensor(x, requires_grad=True)
        tx = torch.tensor(x, requires_grad=True)
        out, expected = ours(t, *args, **kwargs), theirs(tx, *args, **kwargs)
        np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-12, atol=1e-12)
        g = np.random.default_rng(3).standard_normal(out.shape)
        out.backward(g)
        expected.backward(torch.tensor(g))
        np.testing.assert_allclose(t.grad, tx.grad.numpy(), rtol=1e-12, atol=1e-12)
