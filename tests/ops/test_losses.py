"""Losses: gradients over drawn shapes, axes and reductions; forward against naive numpy;
stability at +-1e4; errors naming the op and the offending shapes or values."""

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import ops
from autograd import Tensor, grad
from autograd.testing import gradcheck, gradgradcheck
from autograd.testing import strategies as st_ag
from tests.helpers import check_forward, gradchecks

reductions = st.sampled_from(["mean", "sum", "none"])


def reduce(loss, reduction):
    return {"mean": np.mean, "sum": np.sum, "none": np.asarray}[reduction](loss)


def naive_log_softmax(x, axis):
    x = x.astype(np.float64)  # drawn logits are small: no max shift needed
    return x - np.log(np.exp(x).sum(axis=axis, keepdims=True))


@st.composite
def classification(draw, probabilities=None):
    """(logits, target, axis, reduction): target integer labels or probabilities."""
    logits = draw(st_ag.arrays(st_ag.shapes(min_dims=1, max_dims=3)))
    axis = draw(st.integers(-logits.ndim, logits.ndim - 1))
    if probabilities is None:
        probabilities = draw(st.booleans())
    if probabilities:
        target = draw(st_ag.arrays(logits.shape, low=0.0, high=1.0))
    else:
        shape = logits.shape[:axis % logits.ndim] + logits.shape[axis % logits.ndim + 1:]
        labels = st.integers(0, logits.shape[axis] - 1)
        target = draw(hnp.arrays(np.int64, shape, elements=labels))
    return logits, target, axis, draw(reductions)


def cross_entropy_reference(logits, target, axis=-1, reduction="mean"):
    lp = naive_log_softmax(logits, axis)
    if target.dtype.kind == "f":
        return reduce(-(target * lp).sum(axis=axis), reduction)
    picked = np.take_along_axis(lp, np.expand_dims(target, axis), axis)
    return reduce(-np.squeeze(picked, axis), reduction)


def nll_loss_reference(log_probs, target, axis=-1, reduction="mean"):
    picked = np.take_along_axis(log_probs, np.expand_dims(target, axis), axis)
    return reduce(-np.squeeze(picked, axis), reduction)


# --- cross_entropy ----------------------------------------------------------------------
@gradchecks("cross_entropy")
@given(classification())
def test_cross_entropy_gradient(case):
    logits, target, axis, reduction = case
    inputs = [logits, target] if target.dtype.kind == "f" else [logits]

    def loss(x, t=target):
        return ops.cross_entropy(x, t, axis=axis, reduction=reduction)

    gradcheck(loss, inputs)


@given(classification())
def test_cross_entropy_forward(case):
    logits, target, axis, reduction = case
    check_forward(ops.cross_entropy, cross_entropy_reference, logits, target, axis=axis,
                  reduction=reduction, rtol=1e-5, atol=1e-5)


@settings(max_examples=10)
@given(classification())
def test_cross_entropy_second_order(case):
    logits, target, axis, reduction = case
    inputs = [logits, target] if target.dtype.kind == "f" else [logits]
    gradgradcheck(lambda x, t=target: ops.cross_entropy(x, t, axis=axis, reduction=reduction),
                  inputs)


def test_cross_entropy_gradient_is_softmax_minus_onehot():
    logits = Tensor(np.array([[2.0, 0.0, 0.0], [0.0, 0.0, 0.0]]), requires_grad=True)
    ops.cross_entropy(logits, np.array([0, 2])).backward()
    onehot = np.array([[1.0, 0, 0], [0, 0, 1]])
    expected = (ops.softmax(logits).data - onehot) / 2
    np.testing.assert_allclose(logits.grad, expected, rtol=1e-12)


@pytest.mark.parametrize("target", [np.array([0, 2, 1]), np.eye(3)[[0, 2, 1]]])
def test_cross_entropy_backward_twice_leaves_saved_values_and_g_alone(target):
    logits = Tensor(np.random.default_rng(2).standard_normal((3, 3)), requires_grad=True)
    loss = ops.cross_entropy(logits, target, reduction="none")
    g = np.array([1.0, -2.0, 0.5])
    loss.backward(g, retain_graph=True)
    first, logits.grad = logits.grad, None
    loss.backward(g)
    np.testing.assert_array_equal(logits.grad, first)
    np.testing.assert_array_equal(g, [1.0, -2.0, 0.5])


def test_cross_entropy_labels_match_probability_targets():
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((4, 5))
    labels = np.array([0, 4, 2, 2])
    by_label = ops.cross_entropy(Tensor(logits), Tensor(labels))  # an int Tensor works too
    by_prob = ops.cross_entropy(Tensor(logits), np.eye(5)[labels])
    np.testing.assert_allclose(by_label.data, by_prob.data, rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("probabilities", [False, True])
def test_cross_entropy_stable_at_large_logits(dtype, probabilities):
    x = Tensor(np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4]], dtype=dtype), requires_grad=True)
    labels = np.array([1, 0])
    target = np.eye(3, dtype=dtype)[labels] if probabilities else labels
    loss = ops.cross_entropy(x, target, reduction="none")
    (gx,) = grad(loss.sum(), [x])
    assert np.isfinite(loss.data).all() and np.isfinite(gx).all()
    np.testing.assert_allclose(loss.data, [2e4, 2e4 + np.log(2)], rtol=1e-6)
    np.testing.assert_allclose(gx, [[1, -1, 0], [-1, 0.5, 0.5]], atol=1e-6)


@pytest.mark.parametrize("target, error, message", [
    (np.array([0, 3]), IndexError,
     "cross_entropy: class label 3 is out of range for input of shape (2, 3) (3 classes"),
    (np.array([-1, 0]), ValueError, "cross_entropy: class label -1 is out of range"),
    (np.array([[0], [1]]), ValueError,
     "cross_entropy: class labels of shape (2, 1) don't match input of shape (2, 3)"),
    (np.array([[0], [1]]), ValueError, "with classes along axis 1: expected labels of shape (2,)"),
    (np.ones((2, 4)), ValueError,
     "cross_entropy: probability target of shape (2, 4) must have the shape of logits (2, 3)"),
    (np.array([True, False]), TypeError,
     "cross_entropy: target must be integer class labels, got dtype bool"),
])
def test_cross_entropy_bad_target(target, error, message):
    with pytest.raises(error, match=re.escape(message)):
        ops.cross_entropy(Tensor(np.zeros((2, 3))), target)


@pytest.mark.parametrize("op, args", [
    (ops.cross_entropy, (np.zeros((2, 3)), np.array([0, 1]))),
    (ops.nll_loss, (np.zeros((2, 3)), np.array([0, 1]))),
    (ops.mse_loss, (np.zeros(3), np.zeros(3))),
    (ops.binary_cross_entropy_with_logits, (np.zeros(3), np.zeros(3))),
])
@pytest.mark.parametrize("reduction", ["avg", None, "MEAN"])
def test_bad_reduction(op, args, reduction):
    message = f"{op.__name__}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}"
    with pytest.raises(ValueError, match=re.escape(message)):
        op(Tensor(args[0]), args[1], reduction=reduction)


def test_cross_entropy_bad_axis():
    with pytest.raises(ValueError, match="cross_entropy: axis 2 is out of bounds"):
        ops.cross_entropy(Tensor(np.zeros((2, 3))), np.array([0, 1]), axis=2)


# --- nll_loss ---------------------------------------------------------------------------
@gradchecks("nll_loss")
@given(classification(probabilities=False))
def test_nll_loss_gradient(case):
    log_probs, target, axis, reduction = case
    gradcheck(lambda x: ops.nll_loss(x, target, axis=axis, reduction=reduction), [log_probs])


@given(classification(probabilities=False))
def test_nll_loss_forward(case):
    log_probs, target, axis, reduction = case
    check_forward(ops.nll_loss, nll_loss_reference, log_probs, target, axis=axis,
                  reduction=reduction)


@settings(max_examples=10)
@given(classification(probabilities=False))
def test_nll_loss_second_order(case):
    log_probs, target, axis, reduction = case  # nll is linear: square first so it curves
    gradgradcheck(lambda x: ops.nll_loss(x * x, target, axis=axis, reduction=reduction),
                  [log_probs])


def test_nll_loss_of_log_softmax_is_cross_entropy():
    rng = np.random.default_rng(1)
    logits = Tensor(rng.standard_normal((3, 4, 2)), requires_grad=True)
    labels = np.array([[0, 3], [1, 1], [2, 0]])
    nll = ops.nll_loss(ops.log_softmax(logits, axis=1), labels, axis=1)
    ce = ops.cross_entropy(logits, labels, axis=1)
    np.testing.assert_allclose(nll.data, ce.data, rtol=1e-12)
    for a, b in zip(grad(nll, [logits]), grad(ce, [logits])):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-15)


def test_nll_loss_errors():
    with pytest.raises(TypeError, match="nll_loss: target must be integer class labels"):
        ops.nll_loss(Tensor(np.zeros((2, 3))), np.zeros((2, 3)))
    with pytest.raises(IndexError, match=re.escape("nll_loss: class label 5 is out of range")):
        ops.nll_loss(Tensor(np.zeros((2, 3))), np.array([5, 0]))
    with pytest.raises(ValueError, match=re.escape("nll_loss: class labels of shape (3,)")):
        ops.nll_loss(Tensor(np.zeros((2, 3))), np.array([0, 1, 2]))


# --- mse_loss, binary_cross_entropy_with_logits -------------------------------------------
@st.composite
def pairs(draw, target_low=-3.0):
    shape = draw(st_ag.shapes())
    return draw(st_ag.arrays(shape)), draw(st_ag.arrays(shape, low=target_low, high=1.0))


def mse_reference(pred, target, reduction="mean"):
    return reduce((pred - target) ** 2, reduction)


def bce_reference(x, t, reduction="mean"):
    x = x.astype(np.float64)  # drawn logits are small: the textbook formula is fine
    s = 1 / (1 + np.exp(-x))
    return reduce(-(t * np.log(s) + (1 - t) * np.log(1 - s)), reduction)


@gradchecks("mse_loss")
@given(pairs(), reductions)
def test_mse_loss_gradient(arrays, reduction):
    gradcheck(lambda p, t: ops.mse_loss(p, t, reduction=reduction), list(arrays))


@given(pairs(), reductions)
def test_mse_loss_forward(arrays, reduction):
    check_forward(ops.mse_loss, mse_reference, *arrays, reduction=reduction, rtol=1e-5)


@settings(max_examples=10)
@given(pairs(), reductions)
def test_mse_loss_second_order(arrays, reduction):
    gradgradcheck(lambda p, t: ops.mse_loss(p, t, reduction=reduction), list(arrays))


@gradchecks("binary_cross_entropy_with_logits")
@given(pairs(target_low=0.0), reductions)
def test_bce_with_logits_gradient(arrays, reduction):
    fn = ops.binary_cross_entropy_with_logits
    gradcheck(lambda x, t: fn(x, t, reduction=reduction), list(arrays))


@given(pairs(target_low=0.0), reductions)
def test_bce_with_logits_forward(arrays, reduction):
    check_forward(ops.binary_cross_entropy_with_logits, bce_reference, *arrays,
                  reduction=reduction, rtol=1e-5, atol=1e-5)


@settings(max_examples=10)
@given(pairs(target_low=0.0), reductions)
def test_bce_with_logits_second_order(arrays, reduction):
    fn = ops.binary_cross_entropy_with_logits
    gradgradcheck(lambda x, t: fn(x, t, reduction=reduction), list(arrays))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bce_with_logits_stable_at_large_logits(dtype):
    x = Tensor(np.array([1e4, -1e4, 1e4, -1e4], dtype=dtype), requires_grad=True)
    t = np.array([1.0, 0.0, 0.0, 1.0], dtype=dtype)
    loss = ops.binary_cross_entropy_with_logits(x, t, reduction="none")
    (gx,) = grad(loss.sum(), [x])
    np.testing.assert_allclose(loss.data, [0, 0, 1e4, 1e4])
    np.testing.assert_allclose(gx, [0, 0, 1, -1])


@pytest.mark.parametrize("op, name, what", [
    (ops.mse_loss, "mse_loss", "pred"),
    (ops.binary_cross_entropy_with_logits, "binary_cross_entropy_with_logits", "logits"),
])
def test_elementwise_losses_shape_mismatch(op, name, what):
    message = f"{name}: {what} of shape (3,) and target of shape (3, 1) differ"
    with pytest.raises(ValueError, match=re.escape(message)):
        op(Tensor(np.zeros(3)), np.zeros((3, 1)))


def test_losses_keep_float32():
    x = Tensor(np.zeros((4, 3), dtype=np.float32), requires_grad=True)
    losses = [
        ops.cross_entropy(x, np.array([0, 1, 2, 0])),
        ops.nll_loss(x, np.array([0, 1, 2, 0])),
        ops.mse_loss(x, np.ones((4, 3), dtype=np.float32)),
        ops.binary_cross_entropy_with_logits(x, np.ones((4, 3), dtype=np.float32)),
    ]
    for loss in losses:
        assert loss.dtype == np.float32 and loss.shape == ()
        (gx,) = grad(loss, [x])
        assert gx.dtype == np.float32
