"""Reductions: gradients (hypothesis, float64), forward against numpy, second order, errors."""

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autograd import Tensor, grad
from autograd.testing import gradcheck, gradgradcheck
from autograd.testing.strategies import arrays, away_from, axes, distinct_values, shapes
from ops import reductions as R
from tests.helpers import check_forward, gradchecks

REDUCTIONS = {"sum": R.sum, "mean": R.mean, "max": R.max, "min": R.min, "var": R.var,
              "std": R.std, "logsumexp": R.logsumexp, "norm": R.norm, "prod": R.prod}


@st.composite
def reduction_cases(draw, max_side=4):
    """(x, axis, keepdims) with axis valid for x, 0-d x included."""
    x = draw(arrays(shapes(max_side=max_side)))
    return x, draw(axes(x.ndim)), draw(st.booleans())


def _axes_tuple(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    return (axis % ndim,) if isinstance(axis, int) else tuple(a % ndim for a in axis)


def no_near_ties(x, axis, margin=1e-3):
    """No two values within ``margin`` of each other inside any one reduced slice."""
    reduced = _axes_tuple(axis, x.ndim)
    moved = np.moveaxis(x, reduced, tuple(range(x.ndim - len(reduced), x.ndim)))
    # (kept..., reduced...) -> (kept..., n_reduced)
    return distinct_values(moved.reshape(moved.shape[: x.ndim - len(reduced)] + (-1,)),
                           axis=-1, margin=margin)


def _square(fn):
    """fn followed by a square, so the second-order test also runs through fn's VJP graph."""
    def squared(*xs):
        y = fn(*xs)
        return y * y
    return squared


# --- gradient property tests ------------------------------------------------------------
@gradchecks("sum")
@given(reduction_cases())
def test_sum_gradient(case):
    x, axis, keepdims = case
    gradcheck(lambda t: R.sum(t, axis=axis, keepdims=keepdims), [x])


@gradchecks("mean")
@given(reduction_cases())
def test_mean_gradient(case):
    x, axis, keepdims = case
    gradcheck(lambda t: R.mean(t, axis=axis, keepdims=keepdims), [x])


@gradchecks("max", "min")
@given(reduction_cases(max_side=3), st.sampled_from(["max", "min"]))
def test_max_min_gradient(case, name):
    x, axis, keepdims = case
    assume(no_near_ties(x, axis))  # a tie is a kink: central differences straddle it
    gradcheck(lambda t: REDUCTIONS[name](t, axis=axis, keepdims=keepdims), [x])


@gradchecks("var", "std")
@given(reduction_cases(), st.sampled_from(["var", "std"]), st.integers(0, 1))
def test_var_std_gradient(case, name, ddof):
    x, axis, keepdims = case
    n = int(np.prod([x.shape[a] for a in _axes_tuple(axis, x.ndim)]))
    assume(n - ddof > 0)
    if name == "std":  # std has a kink where the spread is 0
        assume(away_from(np.std(x, axis=axis, ddof=ddof), margin=1e-2))
    gradcheck(lambda t: REDUCTIONS[name](t, axis=axis, keepdims=keepdims, ddof=ddof), [x])


@gradchecks("logsumexp")
@given(reduction_cases())
def test_logsumexp_gradient(case):
    x, axis, keepdims = case
    gradcheck(lambda t: R.logsumexp(t, axis=axis, keepdims=keepdims), [x])


@gradchecks("norm")
@given(reduction_cases())
def test_norm_gradient(case):
    x, axis, keepdims = case
    assume(away_from(np.sqrt(np.sum(x * x, axis=axis)), margin=1e-2))  # kink at norm 0
    gradcheck(lambda t: R.norm(t, axis=axis, keepdims=keepdims), [x])


@gradchecks("prod")
@given(reduction_cases(max_side=3), st.data())
def test_prod_gradient_zeros_included(case, data):
    x, axis, keepdims = case
    # Exact zeros, one or several per slice: prod is linear in each element, so central
    # differences are exact there too, for the gradient and for its own derivative.
    x = np.where(data.draw(hnp.arrays(bool, x.shape)), 0.0, x)
    # Other elements well away from 0, so no product underflows (where out / x fails).
    assume(away_from(x[x != 0], margin=1e-3))
    gradcheck(lambda t: R.prod(t, axis=axis, keepdims=keepdims), [x])
    gradgradcheck(lambda t: R.prod(t, axis=axis, keepdims=keepdims), [x])


# --- forward against numpy, float32 and float64 ------------------------------------------
FORWARD_CASES = [((), None, False), ((4,), 0, True), ((3, 4), None, False), ((3, 4), 1, False),
                 ((3, 4), -2, True), ((2, 3, 4), (0, 2), False), ((2, 3, 4), (2, 0), True)]


def _logsumexp_reference(x, axis=None, keepdims=False):
    return np.log(np.sum(np.exp(x.astype(np.float64)), axis=axis, keepdims=keepdims))


def _norm_reference(x, axis=None, keepdims=False):
    return np.sqrt(np.sum(x.astype(np.float64) ** 2, axis=axis, keepdims=keepdims))


@pytest.mark.parametrize("shape, axis, keepdims", FORWARD_CASES)
@pytest.mark.parametrize("name, reference", [
    ("sum", np.sum), ("mean", np.mean), ("max", np.max), ("min", np.min), ("var", np.var),
    ("std", np.std), ("logsumexp", _logsumexp_reference), ("norm", _norm_reference),
    ("prod", np.prod),
])
def test_forward_matches_numpy(name, reference, shape, axis, keepdims):
    x = np.random.default_rng(0).standard_normal(shape)
    check_forward(REDUCTIONS[name], reference, x, axis=axis, keepdims=keepdims)


@pytest.mark.parametrize("name, reference", [("var", np.var), ("std", np.std)])
@pytest.mark.parametrize("ddof", [1, 2])
def test_var_std_ddof_matches_numpy(name, reference, ddof):
    x = np.random.default_rng(1).standard_normal((3, 4))
    check_forward(REDUCTIONS[name], reference, x, axis=1, ddof=ddof)


@pytest.mark.parametrize("axis", [None, 0, 1, (0, 1)])
def test_norm_matches_numpy_linalg_norm(axis):
    x = np.random.default_rng(2).standard_normal((3, 4))
    check_forward(R.norm, np.linalg.norm, x, axis=axis, keepdims=True)
    check_forward(lambda t: R.norm(t, axis=1, ord=2),
                  lambda a: np.linalg.norm(a, ord=2, axis=1), x)
    check_forward(lambda t: R.norm(t, axis=(0, 1), ord="fro"),
                  lambda a: np.linalg.norm(a, ord="fro", axis=(0, 1)), x)


def test_methods_and_numpy_functions_dispatch_to_the_ops():
    x = Tensor(np.random.default_rng(3).standard_normal((3, 4)), requires_grad=True)
    pairs = [
        (x.max(axis=1), np.max(x.data, axis=1)), (np.amax(x, 0), np.amax(x.data, 0)),
        (x.min(), np.min(x.data)), (np.amin(x, axis=1, keepdims=True), x.data.min(1, None, True)),
        (x.var(axis=0, ddof=1), np.var(x.data, axis=0, ddof=1)), (np.std(x), np.std(x.data)),
        (np.linalg.norm(x, 2, axis=1), np.linalg.norm(x.data, 2, axis=1)),
        (np.sum(x, axis=1), x.data.sum(1)), (np.mean(x), x.data.mean()),
    ]
    for out, expected in pairs:
        assert isinstance(out, Tensor) and out.requires_grad
        np.testing.assert_allclose(out.data, expected, rtol=1e-12)


# --- ties, zeros and large inputs --------------------------------------------------------
def _grad_of(fn, x):
    t = Tensor(np.asarray(x, dtype=np.float64), requires_grad=True)
    fn(t).sum().backward()
    return t.grad


def test_max_min_ties_share_the_gradient_equally():
    x = [[1.0, 3.0, 3.0, 2.0], [5.0, 5.0, 5.0, 0.0]]
    np.testing.assert_array_equal(_grad_of(lambda t: R.max(t, axis=1), x),
                                  [[0, 0.5, 0.5, 0], [1 / 3, 1 / 3, 1 / 3, 0]])
    np.testing.assert_array_equal(_grad_of(lambda t: R.max(t), x),
                                  [[0, 0, 0, 0], [1 / 3, 1 / 3, 1 / 3, 0]])
    np.testing.assert_array_equal(
        _grad_of(lambda t: R.min(t, axis=0, keepdims=True), [[1.0, 2.0, 4.0], [1.0, 0.0, 4.0]]),
        [[0.5, 0, 0.5], [0.5, 1, 0.5]])
    np.testing.assert_array_equal(_grad_of(lambda t: R.min(t), [[2.0, 2.0], [2.0, 2.0]]),
                                  np.full((2, 2), 0.25))


def test_prod_gradient_at_zeros_is_exact():
    x = [[2.0, 0.0, 3.0], [0.0, 0.0, 5.0], [2.0, 4.0, 0.5]]
    # a lone zero gets the product of the others; two zeros give 0 everywhere
    np.testing.assert_array_equal(_grad_of(lambda t: R.prod(t, axis=1), x),
                                  [[0, 6, 0], [0, 0, 0], [2, 1, 8]])
    np.testing.assert_array_equal(_grad_of(lambda t: R.prod(t, axis=0), x),
                                  [[0, 0, 2.5], [4, 0, 1.5], [0, 0, 15]])


def test_numpy_prod_on_a_tensor_dispatches():
    x = Tensor(np.array([[1.0, 2.0], [3.0, 4.0]]), requires_grad=True)
    out = np.prod(x, axis=0)
    assert isinstance(out, Tensor) and out.requires_grad
    np.testing.assert_array_equal(out.data, [3, 8])


@pytest.mark.parametrize("name", ["sum", "mean", "prod", "logsumexp", "norm"])
def test_pytorch_dim_and_keepdim_spelling(name):
    x = np.random.default_rng(6).standard_normal((2, 3, 4))
    op = REDUCTIONS[name]
    for axis in (1, (0, 2), -1):
        for keepdims in (False, True):
            expected = op(Tensor(x), axis=axis, keepdims=keepdims).data
            np.testing.assert_array_equal(op(Tensor(x), dim=axis, keepdim=keepdims).data,
                                          expected)
    with pytest.raises(TypeError, match=f"{name}: give axis= or dim=, not both"):
        op(Tensor(x), axis=1, dim=1)
    with pytest.raises(TypeError, match=f"{name}: give keepdims= or keepdim=, not both"):
        op(Tensor(x), axis=1, keepdims=True, keepdim=True)


def test_dim_spelling_gradient_keeps_the_dims():
    x = np.random.default_rng(7).standard_normal((2, 3))
    gradcheck(lambda t: R.sum(t, dim=1, keepdim=True) * t, [x])
    gradcheck(lambda t: R.prod(t, dim=0, keepdim=True) * t, [x])
    gradcheck(lambda t: R.logsumexp(t, dim=-1, keepdim=True) * t, [x])


def test_max_nan_takes_the_gradient():
    np.testing.assert_array_equal(_grad_of(R.max, [1.0, np.nan, 2.0]), [0, 1, 0])


def test_std_and_norm_gradients_at_zero_are_zero():
    np.testing.assert_array_equal(_grad_of(lambda t: R.std(t, axis=1), np.full((2, 3), 1.5)),
                                  np.zeros((2, 3)))
    np.testing.assert_array_equal(_grad_of(lambda t: R.norm(t, axis=0), [[0.0, 3.0], [0.0, 4.0]]),
                                  [[0, 0.6], [0, 0.8]])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_logsumexp_is_stable_at_large_inputs(dtype):
    t = Tensor(np.array([[1e4, 1e4, -1e4], [-1e4, -1e4, -1e4 - 1]], dtype=dtype),
               requires_grad=True)
    out = R.logsumexp(t, axis=1)
    np.testing.assert_allclose(out.data, [1e4 + np.log(2), -1e4 + np.log(2 + np.exp(-1))],
                               rtol=1e-6)
    out.sum().backward()
    e = np.exp(-1) / (2 + np.exp(-1))
    np.testing.assert_allclose(t.grad, [[0.5, 0.5, 0], [(1 - e) / 2, (1 - e) / 2, e]],
                               rtol=1e-5, atol=1e-7)
    assert t.grad.dtype == dtype


def test_logsumexp_of_infinite_slices():
    x = np.array([[-np.inf, -np.inf], [np.inf, 0.0]])
    np.testing.assert_array_equal(R.logsumexp(Tensor(x), axis=1).data, [-np.inf, np.inf])


# --- second order -------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(REDUCTIONS))
@pytest.mark.parametrize("axis, keepdims", [(None, False), (1, True), ((0, 2), False)])
def test_second_order(name, axis, keepdims):
    x = np.random.default_rng(4).standard_normal((2, 3, 2))
    gradgradcheck(_square(lambda t: REDUCTIONS[name](t, axis=axis, keepdims=keepdims)), [x])


def test_second_derivative_of_var_and_logsumexp_directly():
    # var(x) = mean(x**2) - mean(x)**2, so its Hessian is 2 (I - 1/n) / n.
    x = Tensor(np.random.default_rng(5).standard_normal(4), requires_grad=True)
    (gx,) = grad(R.var(x), [x], create_graph=True)
    rows = [grad(gx[i], [x], retain_graph=True)[0] for i in range(4)]
    np.testing.assert_allclose(rows, 2 * (np.eye(4) - 0.25) / 4, atol=1e-12)
    gradgradcheck(lambda t: R.logsumexp(t, axis=0), [x.data])


# --- errors --------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(REDUCTIONS))
def test_bad_axis(name):
    x = Tensor(np.ones((2, 3)))
    with pytest.raises(ValueError, match=rf"{name}: axis 2 is out of bounds .* 2 dims"):
        REDUCTIONS[name](x, axis=2)
    with pytest.raises(ValueError, match=rf"{name}: repeated axis"):
        REDUCTIONS[name](x, axis=(0, -2))
    with pytest.raises(TypeError, match=rf"{name}: axis must be"):
        REDUCTIONS[name](x, axis=1.0)


@pytest.mark.parametrize("name", ["max", "min", "logsumexp"])
def test_empty_reduction(name):
    with pytest.raises(ValueError, match=rf"{name}: cannot reduce over axis 1 of length 0 .*"
                                         r"\(array of shape \(2, 0\)\)"):
        REDUCTIONS[name](Tensor(np.ones((2, 0))), axis=1)


@pytest.mark.parametrize("name", ["var", "std"])
def test_ddof_errors(name):
    with pytest.raises(ValueError, match=rf"{name}: ddof=3 leaves no degrees of freedom: 3 "
                                         r"element\(s\) .*shape \(2, 3\)"):
        REDUCTIONS[name](Tensor(np.ones((2, 3))), axis=1, ddof=3)
    with pytest.raises(TypeError, match=rf"{name}: ddof must be a number"):
        REDUCTIONS[name](Tensor(np.ones(3)), ddof="1")


def test_norm_ord_errors():
    x = Tensor(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"norm: ord=2 over axes \(0, 1\) .* spectral norm"):
        R.norm(x, axis=(0, 1), ord=2)
    with pytest.raises(ValueError, match="norm: ord=1 is not supported"):
        R.norm(x, ord=1)
