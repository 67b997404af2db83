"""Elementwise ops: gradients (float64, hypothesis), forward vs numpy, second order (the
activations: tests/ops/test_activations.py)."""

import numpy as np
import pytest
from hypothesis import assume, given, strategies as st

import autograd as ag
import ops
from autograd import Tensor
from autograd.testing import gradcheck, gradgradcheck
from autograd.testing import strategies as st_ag
from tests.helpers import check_forward, check_unary, gradchecks


def pair(low=-3.0, high=3.0):
    """Two float64 arrays of mutually broadcastable shapes (0-d included)."""
    return st_ag.broadcastable_shapes(2).flatmap(
        lambda shapes: st.tuples(*(st_ag.arrays(s, low=low, high=high) for s in shapes))
    )


def single(low=-3.0, high=3.0):
    return st_ag.arrays(st_ag.shapes(), low=low, high=high)


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _gelu(x):
    from math import erf

    return 0.5 * x * (1 + np.vectorize(erf)(x / np.sqrt(2)))


# name -> (op, numpy reference, strategy, kinks to stay away from)
UNARY = {
    "neg": (ops.neg, np.negative, single(), ()),
    "exp": (ops.exp, np.exp, single(), ()),
    "log": (ops.log, np.log, single(0.1, 5.0), ()),
    "sqrt": (ops.sqrt, np.sqrt, single(0.1, 5.0), ()),
    "abs": (ops.abs, np.abs, single(), (0.0,)),
    "sin": (ops.sin, np.sin, single(), ()),
    "cos": (ops.cos, np.cos, single(), ()),
    "tanh": (ops.tanh, np.tanh, single(), ()),
    "erf": (ops.erf, lambda x: np.vectorize(__import__("math").erf)(x), single(), ()),
    "log1p": (ops.log1p, np.log1p, single(-0.9, 3.0), ()),
    "expm1": (ops.expm1, np.expm1, single(), ()),
    "square": (ops.square, np.square, single(), ()),
}

BINARY = {
    "add": (ops.add, np.add, pair()),
    "sub": (ops.sub, np.subtract, pair()),
    "mul": (ops.mul, np.multiply, pair()),
    "div": (ops.div, np.divide, pair()),
    "maximum": (ops.maximum, np.maximum, pair()),
    "minimum": (ops.minimum, np.minimum, pair()),
    "logaddexp": (ops.logaddexp, np.logaddexp, pair()),
}


gradchecks(*UNARY, *BINARY)  # the two parametrized gradient tests below cover these


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_gradients(name):
    op, reference, strategy, kinks = UNARY[name]
    check_unary(op, reference, strategy, kinks)[0]()


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_forward_matches_numpy(name):
    op, reference, strategy, kinks = UNARY[name]
    check_unary(op, reference, strategy, kinks)[1]()


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_gradients(name):
    op, _, strategy = BINARY[name]

    @given(strategy)
    def check(ab):
        a, b = ab
        if name == "div":
            assume(np.all(np.abs(b) > 0.1))
        if name in ("maximum", "minimum"):
            assume(np.all(np.abs(a - b) > 1e-3))  # ties are tested separately
        assert gradcheck(op, [a, b])
        assert gradgradcheck(op, [a, b])

    check()


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_forward_matches_numpy(name):
    op, reference, strategy = BINARY[name]

    @given(strategy)
    def check(ab):
        a, b = ab
        if name == "div":
            assume(np.all(np.abs(b) > 0.1))
        check_forward(op, reference, a, b, rtol=1e-6)

    check()


@gradchecks("pow")
@given(pair(0.2, 3.0))
def test_pow_tensor_tensor_gradients(ab):
    a, b = ab
    assert gradcheck(ops.pow, [a, b])
    assert gradgradcheck(ops.pow, [a, b])
    check_forward(ops.pow, np.power, a, b, rtol=1e-5)


@given(single(), st.sampled_from([2, 3, 0.5, -1.5]))
def test_pow_tensor_scalar(x, p):
    if p != int(p):
        x = np.abs(x) + 0.2
    assert gradcheck(lambda t: t**p, [x])
    assert gradgradcheck(lambda t: t**p, [x])


@gradchecks("where")
@given(pair().flatmap(lambda ab: st.tuples(
    st.just(ab), st_ag.arrays(np.broadcast_shapes(ab[0].shape, ab[1].shape)))))
def test_where_gradients(args):
    (a, b), c = args
    cond = c > 0
    assert gradcheck(lambda x, y: ops.where(cond, x, y), [a, b])
    assert gradgradcheck(lambda x, y: ops.where(cond, x, y), [a, b])
    np.testing.assert_array_equal(ops.where(cond, Tensor(a), Tensor(b)).data, np.where(cond, a, b))


@gradchecks("clip")
@given(single())
def test_clip_gradients(x):
    st_ag.assume_away_from(x, (-1.0, 0.5))
    assert gradcheck(lambda t: ops.clip(t, -1.0, 0.5), [x])
    assert gradgradcheck(lambda t: ops.clip(t, -1.0, 0.5), [x])
    check_forward(lambda t: ops.clip(t, -1.0, 0.5), lambda a: np.clip(a, -1.0, 0.5), x)


@gradchecks("astype")
@given(single())
def test_astype_gradient_goes_back_to_input_dtype(x):
    assert gradcheck(lambda t: ops.astype(t, np.float64) * 2, [x])
    # through float32 the rounding steps need a step far above float32's resolution
    assert gradcheck(lambda t: ops.astype(t, np.float32).astype(np.float64), [x], eps=1e-2,
                     atol=1e-4, rtol=1e-4)
    t = Tensor(x.astype(np.float32), requires_grad=True)
    t.astype(np.float64).sum().backward()
    assert t.grad.dtype == np.float32


def test_maximum_minimum_ties_split_the_gradient():
    a = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    b = Tensor(np.array([1.0, 5.0, 0.0]), requires_grad=True)
    ops.maximum(a, b).sum().backward()
    assert a.grad.tolist() == [0.5, 0.0, 1.0] and b.grad.tolist() == [0.5, 1.0, 0.0]
    a.grad = b.grad = None
    ops.minimum(a, b).sum().backward()
    assert a.grad.tolist() == [0.5, 1.0, 0.0] and b.grad.tolist() == [0.5, 0.0, 1.0]


@pytest.mark.parametrize("op", [ops.sigmoid, ops.tanh, ops.softplus])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_stable_at_large_inputs(op, dtype):
    x = Tensor(np.array([-1e4, -50.0, 0.0, 50.0, 1e4], dtype=dtype), requires_grad=True)
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is fine
        y = op(x)
        y.sum().backward()
    assert np.all(np.isfinite(y.data)) and np.all(np.isfinite(x.grad))


def test_operators_dispatch_to_ops():
    a = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = (2 - a) * 3 / (1 + a) ** 2 + (-a) + abs(a) - 1 / a
    y.sum().backward()
    expected = (-3 / (1 + a.data) ** 2 - 6 * (2 - a.data) / (1 + a.data) ** 3 - 1 + 1
                + 1 / a.data**2)
    np.testing.assert_allclose(a.grad, expected)


def test_numpy_ufuncs_on_tensors_dispatch():
    a = Tensor(np.array([0.5, 1.5]), requires_grad=True)
    y = np.exp(a) * np.sin(a)
    assert isinstance(y, Tensor) and y.requires_grad
    (g,) = ag.grad(y.sum(), [a])
    np.testing.assert_allclose(g, np.exp(a.data) * (np.sin(a.data) + np.cos(a.data)))


def test_broadcast_mismatch_names_the_op_and_shapes():
    with pytest.raises(ValueError, match=r"add: shapes \(2, 3\) and \(4,\) cannot be broadcast"):
        Tensor(np.ones((2, 3))) + Tensor(np.ones(4))
    with pytest.raises(ValueError, match=r"mul: shapes"):
        Tensor(np.ones((2, 3))) * np.ones(4)


def test_where_needs_a_boolean_condition():
    with pytest.raises(TypeError, match="where: condition must be boolean"):
        ops.where(np.ones(3), Tensor(np.ones(3)), Tensor(np.ones(3)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_log1p_expm1_exact_for_tiny_inputs(dtype):
    x = Tensor(np.array([1e-20, -1e-20], dtype=dtype), requires_grad=True)
    np.testing.assert_array_equal(ops.log1p(x).data, x.data)  # log(1 + x) would give 0
    np.testing.assert_array_equal(ops.expm1(x).data, x.data)
    ops.log1p(x).sum().backward()
    np.testing.assert_array_equal(x.grad, [1, 1])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_logaddexp_and_silu_stable_at_large_inputs(dtype):
    a = Tensor(np.array([1e4, -1e4, 0.0], dtype=dtype), requires_grad=True)
    b = Tensor(np.array([1e4, -1e4, -1e4], dtype=dtype), requires_grad=True)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        out = ops.logaddexp(a, b)
        out.sum().backward()
        y = ops.silu(a)
        (gs,) = ag.grad(y.sum(), [a])
    np.testing.assert_allclose(out.data, [1e4 + np.log(2), -1e4 + np.log(2), 0.0], rtol=1e-6)
    np.testing.assert_allclose(a.grad, [0.5, 0.5, 1.0])
    np.testing.assert_allclose(b.grad, [0.5, 0.5, 0.0])
    np.testing.assert_allclose(y.data, [1e4, 0.0, 0.0])
    np.testing.assert_allclose(gs, [1.0, 0.0, 0.5])
    assert out.dtype == y.dtype == dtype


def test_new_ufuncs_dispatch_from_numpy():
    # A user's VJP written with these numpy functions stays differentiable on Tensors.
    x = Tensor(np.array([0.5, 1.5]), requires_grad=True)
    y = np.log1p(x) + np.expm1(x) + np.square(x) + np.logaddexp(x, 2 * x)
    assert isinstance(y, Tensor) and y.requires_grad
    (g,) = ag.grad(y.sum(), [x])
    e = np.exp(x.data)
    expected = 1 / (1 + x.data) + e + 2 * x.data + (e + 2 * e**2) / (e + e**2)
    np.testing.assert_allclose(g, expected)
