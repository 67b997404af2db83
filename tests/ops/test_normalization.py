"""batch_norm and layer_norm: gradients (first and second order), forward, running stats."""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import ops
from autograd import Tensor, grad
from autograd.testing import gradcheck, gradgradcheck
from autograd.testing import strategies as st_ag
from tests.helpers import check_forward, gradchecks


def _spread_enough(x, axes):
    """Normalising nearly-constant data amplifies rounding: keep the variance away from 0."""
    return bool(np.all(x.var(axis=axes) > 1e-2))


@st.composite
def bn_case(draw):
    """x (N, C, *spatial) with > 1 value per channel; weight, bias (C,) or None."""
    n = draw(st.integers(1, 3))
    c = draw(st.integers(1, 3))
    spatial = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    assume(n * int(np.prod(spatial)) > 1)
    x = draw(st_ag.arrays((n, c) + spatial))
    assume(_spread_enough(x, (0,) + tuple(range(2, x.ndim))))
    affine = draw(st.booleans())
    w = draw(st_ag.arrays((c,))) if affine else None
    b = draw(st_ag.arrays((c,))) if affine else None
    return x, w, b


@st.composite
def ln_case(draw):
    """x (*lead, *normalized_shape); weight, bias normalized_shape or None."""
    lead = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    norm = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=2)))
    assume(int(np.prod(norm)) > 1)
    x = draw(st_ag.arrays(lead + norm))
    axes = tuple(range(len(lead), x.ndim))
    assume(_spread_enough(x, axes))
    affine = draw(st.booleans())
    w = draw(st_ag.arrays(norm)) if affine else None
    b = draw(st_ag.arrays(norm)) if affine else None
    return x, norm, w, b


def bn_reference(x, w, b, mean=None, var=None, eps=1e-5):
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    x64 = x.astype(np.float64)
    if mean is None:
        mean, var = x64.mean(axis=axes), x64.var(axis=axes)
    out = (x64 - np.reshape(mean, shape)) / np.sqrt(np.reshape(var, shape) + eps)
    if w is not None:
        out = out * np.reshape(w, shape) + np.reshape(b, shape)
    return out


def ln_reference(x, normalized_shape, w=None, b=None, eps=1e-5):
    axes = tuple(range(x.ndim - len(normalized_shape), x.ndim))
    x64 = x.astype(np.float64)
    out = (x64 - x64.mean(axis=axes, keepdims=True)) / np.sqrt(
        x64.var(axis=axes, keepdims=True) + eps)
    if w is not None:
        out = out * w + b
    return out


# --- batch_norm -----------------------------------------------------------------------
def _bn(training, c):
    """batch_norm in training, or in eval with fixed running statistics, as f(x, w, b)."""
    mean, var = np.linspace(-1, 1, c), np.linspace(0.5, 2, c)
    if training:
        return lambda x, w=None, b=None: ops.batch_norm(x, w, b)
    return lambda x, w=None, b=None: ops.batch_norm(x, w, b, mean, var, training=False)


@gradchecks("batch_norm")
@given(bn_case(), st.booleans())
def test_batch_norm_gradient(case, training):
    x, w, b = case
    gradcheck(_bn(training, x.shape[1]), [x] if w is None else [x, w, b])


@settings(max_examples=10)
@given(bn_case(), st.booleans())
def test_batch_norm_second_order(case, training):
    x, w, b = case
    gradgradcheck(_bn(training, x.shape[1]), [x] if w is None else [x, w, b], atol=1e-5)


@given(bn_case())
def test_batch_norm_forward_matches_numpy(case):
    x, w, b = case
    if w is None:
        check_forward(lambda xt: ops.batch_norm(xt), lambda a: bn_reference(a, None, None), x,
                      rtol=1e-4, atol=1e-4)
    else:
        check_forward(lambda *ts: ops.batch_norm(*ts), lambda *a: bn_reference(*a), x, w, b,
                      rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_batch_norm_eval_uses_running_stats(dtype):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 3, 2)).astype(dtype)
    w, b = rng.standard_normal(3).astype(dtype), rng.standard_normal(3).astype(dtype)
    mean, var = rng.standard_normal(3).astype(dtype), rng.random(3).astype(dtype) + 0.5
    out = ops.batch_norm(Tensor(x), Tensor(w), Tensor(b), mean, var, training=False)
    assert out.dtype == dtype
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(out.data, bn_reference(x, w, b, mean, var), rtol=tol, atol=tol)


def test_batch_norm_updates_running_stats_unbiased():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((5, 2, 3))
    mean, var = np.array([0.5, -0.5]), np.array([2.0, 3.0])
    before_mean, before_var = mean.copy(), var.copy()
    ops.batch_norm(Tensor(x), None, None, mean, var, training=True, momentum=0.3)
    m = 5 * 3
    batch_mean = x.mean(axis=(0, 2))
    batch_var = x.var(axis=(0, 2)) * m / (m - 1)
    np.testing.assert_allclose(mean, 0.7 * before_mean + 0.3 * batch_mean)
    np.testing.assert_allclose(var, 0.7 * before_var + 0.3 * batch_var)


def test_batch_norm_running_stats_get_no_gradient():
    x = Tensor(np.random.default_rng(2).standard_normal((4, 3)), requires_grad=True)
    mean, var = np.zeros(3), np.ones(3)
    out = ops.batch_norm(x, None, None, mean, var)
    (gx,) = grad((out * out).sum(), [x])
    assert gx.shape == x.shape and mean.any()


def test_batch_norm_errors_name_the_shapes():
    x = Tensor(np.zeros((4, 3, 2)))
    with pytest.raises(ValueError, match=r"batch_norm: weight of shape \(2,\) does not match "
                                         r"the 3 channels of input shape \(4, 3, 2\)"):
        ops.batch_norm(x, np.ones(2), np.zeros(3))
    with pytest.raises(ValueError, match=r"batch_norm: expected input of shape \(N, C, \.\.\.\)"):
        ops.batch_norm(Tensor(np.zeros(3)))
    with pytest.raises(ValueError, match=r"expected more than 1 value per channel .* \(1, 3\)"):
        ops.batch_norm(Tensor(np.zeros((1, 3))))
    with pytest.raises(ValueError, match="batch_norm: training=False needs running_mean"):
        ops.batch_norm(x, training=False)


# --- layer_norm -----------------------------------------------------------------------
@gradchecks("layer_norm")
@given(ln_case())
def test_layer_norm_gradient(case):
    x, norm, w, b = case
    if w is None:
        gradcheck(lambda xt: ops.layer_norm(xt, norm), [x])
    else:
        gradcheck(lambda xt, wt, bt: ops.layer_norm(xt, norm, wt, bt), [x, w, b])


@settings(max_examples=10)
@given(ln_case())
def test_layer_norm_second_order(case):
    x, norm, w, b = case
    if w is None:
        gradgradcheck(lambda xt: ops.layer_norm(xt, norm), [x], atol=1e-5)
    else:
        gradgradcheck(lambda xt, wt, bt: ops.layer_norm(xt, norm, wt, bt), [x, w, b], atol=1e-5)


@given(ln_case())
def test_layer_norm_forward_matches_numpy(case):
    x, norm, w, b = case
    if w is None:
        check_forward(lambda xt: ops.layer_norm(xt, norm), lambda a: ln_reference(a, norm), x,
                      rtol=1e-4, atol=1e-4)
    else:
        check_forward(lambda xt, wt, bt: ops.layer_norm(xt, norm, wt, bt),
                      lambda a, wa, ba: ln_reference(a, norm, wa, ba), x, w, b,
                      rtol=1e-4, atol=1e-4)


def test_layer_norm_int_shape_and_errors():
    x = Tensor(np.arange(12.0).reshape(3, 4))
    np.testing.assert_allclose(ops.layer_norm(x, 4).data, ln_reference(x.data, (4,)))
    with pytest.raises(ValueError, match=r"layer_norm: input of shape \(3, 4\) does not end in "
                                         r"normalized_shape \(3,\)"):
        ops.layer_norm(x, (3,))
    with pytest.raises(ValueError, match=r"layer_norm: weight of shape \(3,\) does not match"):
        ops.layer_norm(x, (4,), np.ones(3))
