"""softmax, log_softmax, linear, dropout, embedding: gradients, forward, stability, errors."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ops
from autograd import Tensor, grad
from autograd.testing import gradcheck, gradgradcheck
from autograd.testing import strategies as st_ag
from tests.helpers import check_forward, gradchecks


@st.composite
def array_and_axis(draw, max_dims=3):
    """A float64 array of 1..max_dims dims and a valid int axis (maybe negative)."""
    x = draw(st_ag.arrays(st_ag.shapes(min_dims=1, max_dims=max_dims)))
    return x, draw(st.integers(-x.ndim, x.ndim - 1))


def softmax_reference(x, axis):
    e = np.exp(x.astype(np.float64))  # inputs are small here: the naive formula is exact
    return e / e.sum(axis=axis, keepdims=True)


def log_softmax_reference(x, axis):
    x = x.astype(np.float64)
    return x - np.log(np.exp(x).sum(axis=axis, keepdims=True))


# --- softmax / log_softmax --------------------------------------------------------------
@gradchecks("softmax")
@given(array_and_axis())
def test_softmax_gradient(case):
    x, axis = case
    gradcheck(lambda t: ops.softmax(t, axis=axis), [x])


@gradchecks("log_softmax")
@given(array_and_axis())
def test_log_softmax_gradient(case):
    x, axis = case
    gradcheck(lambda t: ops.log_softmax(t, axis=axis), [x])


@given(array_and_axis())
def test_softmax_forward(case):
    x, axis = case
    check_forward(ops.softmax, softmax_reference, x, axis=axis)
    check_forward(ops.log_softmax, log_softmax_reference, x, axis=axis, atol=2e-6)


@settings(max_examples=10)
@given(array_and_axis(max_dims=2))
def test_softmax_second_order(case):
    x, axis = case
    gradgradcheck(lambda t: ops.softmax(t, axis=axis), [x])
    gradgradcheck(lambda t: ops.log_softmax(t, axis=axis), [x])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("op", [ops.softmax, ops.log_softmax])
def test_softmax_stable_at_large_logits(op, dtype):
    x = Tensor(np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4]], dtype=dtype), requires_grad=True)
    out = op(x)
    (gx,) = grad((out * Tensor(np.arange(6.0, dtype=dtype).reshape(2, 3))).sum(), [x])
    assert np.isfinite(out.data).all() and np.isfinite(gx).all()
    expected = np.array([[1, 0, 0], [1 / 3, 1 / 3, 1 / 3]])
    if op is ops.softmax:
        np.testing.assert_allclose(out.data, expected, atol=1e-6)
    else:
        np.testing.assert_allclose(out.data[0], [0, -2e4, -1e4])
        np.testing.assert_allclose(np.exp(out.data[1]), expected[1], rtol=1e-6)


def test_softmax_method_and_list_input():
    np.testing.assert_allclose(Tensor(np.zeros((2, 4))).softmax().data, np.full((2, 4), 0.25))
    assert ops.softmax([1.0, 2.0]).dtype == np.float32  # lists get the default dtype


@pytest.mark.parametrize("op", [ops.softmax, ops.log_softmax])
def test_softmax_errors(op):
    name = op.__name__
    with pytest.raises(ValueError, match=f"{name}: axis 2 is out of bounds for an array of 2"):
        op(Tensor(np.ones((2, 3))), axis=2)
    with pytest.raises(TypeError, match=f"{name}: axis must be an int"):
        op(Tensor(np.ones((2, 3))), axis=(0, 1))
    with pytest.raises(ValueError, match=f"{name}: expected an array of at least 1 dim"):
        op(Tensor(np.array(1.0)))


# --- linear -----------------------------------------------------------------------------
@st.composite
def linear_operands(draw):
    batch = draw(st_ag.shapes(min_dims=0, max_dims=2, max_side=3))
    n_in, n_out = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    x = draw(st_ag.arrays(batch + (n_in,)))
    w = draw(st_ag.arrays((n_in, n_out)))
    b = draw(st.none() | st_ag.arrays((n_out,)))
    return x, w, b


@gradchecks("linear")
@given(linear_operands())
def test_linear_gradient(operands):
    x, w, b = operands
    if b is None:
        gradcheck(lambda x, w: ops.linear(x, w), [x, w])
    else:
        gradcheck(ops.linear, [x, w, b])


@given(linear_operands())
def test_linear_forward(operands):
    def reference(x, w, b=None):
        return x @ w if b is None else x @ w + b

    check_forward(ops.linear, reference, *[a for a in operands if a is not None],
                  rtol=1e-5, atol=1e-5)


@settings(max_examples=10)
@given(linear_operands())
def test_linear_second_order(operands):
    x, w, b = operands

    def squared(*args):
        out = ops.linear(*args)
        return out * out

    gradgradcheck(squared, [x, w] if b is None else [x, w, b])


def test_linear_keeps_float32_and_matches_matmul_add():
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((8, 5)).astype(np.float32), requires_grad=True)
    w = Tensor(rng.standard_normal((5, 3)).astype(np.float32), requires_grad=True)
    b = Tensor(rng.standard_normal(3).astype(np.float32), requires_grad=True)
    out = ops.linear(x, w, b)
    assert out.dtype == np.float32
    grads = grad(ops.relu(out).sum(), [x, w, b])
    expected = grad(ops.relu(x @ w + b).sum(), [x, w, b])
    for got, want in zip(grads, expected):
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, want, rtol=1e-6)


@pytest.mark.parametrize("x_shape, w_shape", [((2, 0), (0, 4)), ((3, 4), (4, 0)),
                                             ((0, 4), (4, 3)), ((2, 2, 0), (0, 3))])
def test_linear_gradients_with_an_empty_dimension(x_shape, w_shape):
    """reshape(-1, 0) used to fail in the VJP: zero features are legal (nn.Linear(0, 4))."""
    x = Tensor(np.ones(x_shape), requires_grad=True)
    w = Tensor(np.ones(w_shape), requires_grad=True)
    b = Tensor(np.ones(w_shape[1]), requires_grad=True)
    gx, gw, gb = grad(ops.linear(x, w, b).sum(), [x, w, b])
    n = int(np.prod(x_shape[:-1]))  # rows of x
    np.testing.assert_array_equal(gx, np.full(x_shape, w_shape[1]))  # each entry: sum of w's row
    np.testing.assert_array_equal(gw, np.full(w_shape, n))  # x^T @ ones, x all ones
    np.testing.assert_array_equal(gb, np.full(w_shape[1], n))


@pytest.mark.parametrize("shapes, message", [
    (((2, 3), (4, 5), None), "linear: x of shape (2, 3) and w of shape (4, 5) don't fit"),
    (((2, 3), (3,), None), "linear: x of shape (2, 3) and w of shape (3,) don't fit"),
    (((2, 3), (3, 5), (4,)), "linear: bias of shape (4,) does not broadcast"),
])
def test_linear_errors(shapes, message):
    args = [None if s is None else Tensor(np.ones(s)) for s in shapes]
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        ops.linear(*args)
    with pytest.raises(TypeError, match="linear: w must be a Tensor or an array"):
        ops.linear(Tensor(np.ones((2, 3))), "w")


# --- dropout ----------------------------------------------------------------------------
@gradchecks("dropout")
@given(st_ag.arrays(st_ag.shapes(max_dims=3)), st.floats(0.05, 0.9), st.integers(0, 2**32))
def test_dropout_gradient(x, p, seed):
    # A fresh generator with the same seed on every call: the same mask each evaluation.
    gradcheck(lambda t: ops.dropout(t, p, rng=np.random.default_rng(seed)), [x])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dropout_forward(dtype):
    x = np.random.default_rng(1).uniform(1, 2, size=(200, 100)).astype(dtype)
    out = ops.dropout(Tensor(x), 0.3, rng=np.random.default_rng(2)).data
    assert out.dtype == dtype
    kept = out != 0
    np.testing.assert_allclose(out[kept], x[kept] / np.asarray(0.7, dtype), rtol=1e-6)
    assert abs(1 - kept.mean() - 0.3) < 0.01  # 20000 draws: std of the fraction ~0.003
    again = ops.dropout(Tensor(x), 0.3, rng=np.random.default_rng(2)).data
    np.testing.assert_array_equal(out, again)  # the same seed, the same mask


def test_dropout_identity_when_not_training_or_p_zero():
    x = Tensor(np.ones((3, 4)), requires_grad=True)
    assert ops.dropout(x, 0.5, training=False) is x
    assert ops.dropout(x, 0.0) is x


def test_dropout_second_order():
    x = np.random.default_rng(3).standard_normal((3, 4))
    gradgradcheck(lambda t: ops.dropout(t * t, 0.5, rng=np.random.default_rng(4)), [x])


@pytest.mark.parametrize("p", [1.0, 1.5, -0.1, float("nan"), "0.5", True])
def test_dropout_bad_p(p):
    with pytest.raises(ValueError, match=r"dropout: p must be a probability in \[0, 1\), got"):
        ops.dropout(Tensor(np.ones(3)), p)


def test_dropout_bad_rng():
    with pytest.raises(TypeError, match="dropout: rng must be a numpy.random.Generator"):
        ops.dropout(Tensor(np.ones(3)), 0.5, rng=np.random.RandomState(0))


# --- embedding --------------------------------------------------------------------------
@st.composite
def embedding_operands(draw):
    rows, dim = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    index_shape = draw(st_ag.shapes(min_dims=0, max_dims=2, max_side=4))
    indices = draw(st.lists(st.integers(0, rows - 1), min_size=int(np.prod(index_shape)),
                            max_size=int(np.prod(index_shape))))
    weight = draw(st_ag.arrays((rows, dim)))
    return np.array(indices, dtype=np.int64).reshape(index_shape), weight


@gradchecks("embedding")
@given(embedding_operands())
def test_embedding_gradient(case):
    indices, weight = case  # small tables: repeated indices are common and must accumulate
    gradcheck(lambda w: ops.embedding(indices, w), [weight])


@given(embedding_operands())
def test_embedding_forward(case):
    indices, weight = case
    check_forward(lambda w: ops.embedding(indices, w), lambda w: w[indices], weight)


@settings(max_examples=10)
@given(embedding_operands())
def test_embedding_second_order(case):
    indices, weight = case

    def squared(w):
        out = ops.embedding(indices, w)
        return out * out

    gradgradcheck(squared, [weight])


def test_embedding_repeated_indices_accumulate():
    weight = Tensor(np.zeros((3, 2)), requires_grad=True)
    ops.embedding(Tensor(np.array([[2, 2], [0, 2]])), weight).sum().backward()
    np.testing.assert_array_equal(weight.grad, [[1, 1], [0, 0], [3, 3]])


@pytest.mark.parametrize("index", [3, -1])
def test_embedding_index_out_of_range(index):
    message = f"embedding: index {index} is out of range for a weight of shape (3, 2)"
    for error in (IndexError, ValueError):
        with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
            ops.embedding(np.array([0, index]), Tensor(np.ones((3, 2))))


def test_embedding_bad_inputs():
    with pytest.raises(TypeError, match="embedding: indices must be integers, got dtype float"):
        ops.embedding(np.array([0.0, 1.0]), Tensor(np.ones((3, 2))))
    with pytest.raises(ValueError, match=r"embedding: weight must be 2-D .* got shape \(3,\)"):
        ops.embedding(np.array([0]), Tensor(np.ones(3)))
