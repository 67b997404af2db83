"""l1_loss, huber_loss, smooth_l1_loss, binary_cross_entropy and kl_div: gradients over drawn
shapes and reductions (float64, hypothesis), forward against numpy, second order, PyTorch's
conventions at the edges, errors naming the op. (mse_loss and binary_cross_entropy_with_logits
are tested in test_losses.py.)"""

import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import ops
from autograd import Tensor, grad
from autograd.testing import gradcheck, gradgradcheck
from autograd.testing import strategies as st_ag
from tests.helpers import check_forward, gradchecks

reductions = st.sampled_from(["mean", "sum", "none"])


def reduce(loss, reduction):
    return {"mean": np.mean, "sum": np.sum, "none": np.asarray}[reduction](loss)


@st.composite
def pairs(draw, low=-3.0, high=3.0, target_low=-3.0, target_high=3.0):
    shape = draw(st_ag.shapes())
    return (draw(st_ag.arrays(shape, low=low, high=high)),
            draw(st_ag.arrays(shape, low=target_low, high=target_high)))


def huber_reference(x, t, reduction="mean", delta=1.0):
    d = x - t
    return reduce(np.where(np.abs(d) < delta, 0.5 * d**2, delta * (np.abs(d) - 0.5 * delta)),
                  reduction)


def bce_reference(p, t, reduction="mean", weight=None):
    with np.errstate(divide="ignore"):
        loss = -(t * np.maximum(np.log(p), -100) + (1 - t) * np.maximum(np.log(1 - p), -100))
    return reduce(loss if weight is None else loss * weight, reduction)


def kl_reference(x, t, reduction="mean", log_target=False):
    if log_target:
        loss = np.exp(t) * (t - x)
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            loss = np.where(t > 0, t * np.log(t), 0.0) - t * x
    if reduction == "batchmean":
        return loss.sum() / (x.shape[0] if x.ndim else 1)
    return reduce(loss, reduction)


# --- l1_loss ----------------------------------------------------------------------------
@gradchecks("l1_loss")
@given(pairs(), reductions)
def test_l1_loss_gradient_and_forward(xt, reduction):
    x, t = xt
    st_ag.assume_away_from(x - t, (0.0,))  # |d| has a kink at 0
    gradcheck(lambda a, b: ops.l1_loss(a, b, reduction=reduction), [x, t])
    gradgradcheck(lambda a, b: ops.l1_loss(a * a, b, reduction=reduction), [x, t])
    check_forward(ops.l1_loss, lambda a, b, reduction: reduce(np.abs(a - b), reduction), x, t,
                  reduction=reduction, rtol=1e-5, atol=1e-6)


def test_l1_loss_gradient_at_zero_difference_is_zero():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    ops.l1_loss(x, np.array([1.0, 0.0]), reduction="sum").backward()
    np.testing.assert_array_equal(x.grad, [0, 1])


# --- huber_loss, smooth_l1_loss ---------------------------------------------------------
@gradchecks("huber_loss")
@given(pairs(), reductions, st.sampled_from([0.5, 1.0, 2.0]))
def test_huber_loss_gradient_and_forward(xt, reduction, delta):
    x, t = xt
    # The second derivative jumps where |d| = delta; the first is continuous there.
    st_ag.assume_away_from(np.abs(x - t), (delta,))
    gradcheck(lambda a, b: ops.huber_loss(a, b, reduction=reduction, delta=delta), [x, t])
    gradgradcheck(lambda a, b: ops.huber_loss(a, b, reduction=reduction, delta=delta), [x, t])
    check_forward(ops.huber_loss, huber_reference, x, t, reduction=reduction, delta=delta,
                  rtol=1e-5, atol=1e-6)


@given(pairs(), reductions, st.sampled_from([0.0, 0.5, 1.0, 3.0]))
def test_smooth_l1_loss_gradient_and_forward(xt, reduction, beta):
    x, t = xt
    st_ag.assume_away_from(np.abs(x - t), (beta,))
    gradcheck(lambda a, b: ops.smooth_l1_loss(a, b, reduction=reduction, beta=beta), [x, t])

    def reference(a, b, reduction, beta):
        d = np.abs(a - b)
        if beta == 0:
            return reduce(d, reduction)
        return reduce(np.where(d < beta, 0.5 * d**2 / beta, d - 0.5 * beta), reduction)

    check_forward(ops.smooth_l1_loss, reference, x, t, reduction=reduction, beta=beta,
                  rtol=1e-5, atol=1e-6)


def test_huber_and_smooth_l1_values():
    x, t = Tensor(np.array([0.5, 3.0, -2.0])), np.zeros(3)
    np.testing.assert_allclose(ops.huber_loss(x, t, reduction="none", delta=2.0).data,
                               [0.125, 4.0, 2.0])
    np.testing.assert_allclose(ops.smooth_l1_loss(x, t, reduction="none", beta=2.0).data,
                               [0.0625, 2.0, 1.0])
    # gradient: clip(d, -delta, delta), and clip(d / beta, -1, 1)
    x = Tensor(np.array([0.5, 3.0, -2.5]), requires_grad=True)
    (g,) = grad(ops.huber_loss(x, t, reduction="sum", delta=2.0), [x])
    np.testing.assert_allclose(g, [0.5, 2.0, -2.0])
    (g,) = grad(ops.smooth_l1_loss(x, t, reduction="sum", beta=2.0), [x])
    np.testing.assert_allclose(g, [0.25, 1.0, -1.0])


# --- binary_cross_entropy ---------------------------------------------------------------
@gradchecks("binary_cross_entropy")
@given(pairs(low=0.05, high=0.95, target_low=0.0, target_high=1.0), reductions, st.booleans())
def test_bce_gradient_and_forward(pt, reduction, weighted):
    p, t = pt
    weight = np.linspace(0.5, 2.0, p.shape[-1]) if weighted and p.ndim else None

    def loss(a, b):
        return ops.binary_cross_entropy(a, b, reduction=reduction, weight=weight)

    gradcheck(loss, [p, t])
    gradgradcheck(loss, [p, t])
    check_forward(lambda a, b: ops.binary_cross_entropy(a, b, reduction, weight=weight),
                  lambda a, b: bce_reference(a, b, reduction, weight), p, t, rtol=1e-5,
                  atol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bce_clamps_the_logs_like_pytorch(dtype):
    p = Tensor(np.array([0.0, 1.0, 0.0, 1.0], dtype=dtype), requires_grad=True)
    t = Tensor(np.array([1.0, 0.0, 0.0, 1.0], dtype=dtype), requires_grad=True)
    with np.errstate(all="raise"):
        loss = ops.binary_cross_entropy(p, t, reduction="none")
        gp, gt = grad(loss.sum(), [p, t])
    np.testing.assert_allclose(loss.data, [100, 100, 0, 0])
    np.testing.assert_allclose(gp, [-1e12, 1e12, 0, 0], rtol=1e-6)  # (p - t) / 1e-12
    np.testing.assert_allclose(gt, [100, -100, 100, -100])
    assert loss.dtype == gp.dtype == dtype


# --- kl_div -----------------------------------------------------------------------------
kl_reductions = st.sampled_from(["mean", "sum", "none", "batchmean"])


@gradchecks("kl_div")
@given(pairs(target_low=0.05, target_high=1.0), kl_reductions, st.booleans())
def test_kl_div_gradient_and_forward(xt, reduction, log_target):
    x, t = xt
    if log_target:
        t = np.log(t)

    def loss(a, b):
        return ops.kl_div(a, b, reduction=reduction, log_target=log_target)

    gradcheck(loss, [x, t])
    gradgradcheck(loss, [x, t])
    check_forward(ops.kl_div, kl_reference, x, t, reduction=reduction, log_target=log_target,
                  rtol=1e-5, atol=1e-6)


def test_kl_div_zero_targets_and_batchmean():
    x = Tensor(np.log(np.array([[0.5, 0.5], [0.25, 0.75]])), requires_grad=True)
    t = np.array([[1.0, 0.0], [0.25, 0.75]])
    loss = ops.kl_div(x, t, reduction="batchmean")
    np.testing.assert_allclose(loss.data, np.log(2) / 2)  # KL of row 0 is log 2, row 1 is 0
    loss.backward()
    np.testing.assert_allclose(x.grad, -t / 2)
    with np.errstate(divide="ignore"):
        log_t = Tensor(np.log(t), requires_grad=True)
    loss = ops.kl_div(x, log_t, reduction="batchmean", log_target=True)
    np.testing.assert_allclose(loss.data, np.log(2) / 2)  # 0 where t = 0, not NaN
    (gt,) = grad(loss, [log_t])
    np.testing.assert_allclose(gt, [[(1 + np.log(2)) / 2, 0], [0.125, 0.375]])
    np.testing.assert_allclose(ops.kl_div(Tensor(np.float64(-1.0)), np.float64(0.5),
                                          reduction="batchmean").data, 0.5 * (np.log(0.5) + 1))


# --- shared behaviour -------------------------------------------------------------------
LOSSES = [
    ("l1_loss", ops.l1_loss, "pred"), ("huber_loss", ops.huber_loss, "pred"),
    ("smooth_l1_loss", ops.smooth_l1_loss, "pred"),
    ("binary_cross_entropy", ops.binary_cross_entropy, "input"),
    ("kl_div", ops.kl_div, "input"),
]


@pytest.mark.parametrize("name, op, what", LOSSES)
def test_float32_stays_float32(name, op, what):
    x = Tensor(np.full((2, 3), 0.25, dtype=np.float32), requires_grad=True)
    loss = op(x, np.full((2, 3), 0.5, dtype=np.float32))
    (gx,) = grad(loss, [x])
    assert loss.dtype == gx.dtype == np.float32 and loss.shape == ()


@pytest.mark.parametrize("name, op, what", LOSSES)
def test_shape_mismatch_and_bad_reduction(name, op, what):
    name = "huber_loss" if name == "smooth_l1_loss" else name
    message = f"{name}: {what} of shape (3,) and target of shape (3, 1) differ"
    with pytest.raises(ValueError, match=re.escape(message)):
        op(Tensor(np.full(3, 0.5)), np.full((3, 1), 0.5))
    with pytest.raises(ValueError, match=f"{name}: reduction must be 'mean', 'sum'"):
        op(Tensor(np.full(3, 0.5)), np.full(3, 0.5), reduction="avg")


def test_option_errors():
    x, t = Tensor(np.full(3, 0.5)), np.full(3, 0.5)
    cases = [
        (r"huber_loss: delta must be a positive number, got 0", lambda: ops.huber_loss(
            x, t, delta=0)),
        (r"smooth_l1_loss: beta must be a non-negative number, got -1", lambda: ops.smooth_l1_loss(
            x, t, beta=-1)),
        (r"binary_cross_entropy: input must be probabilities in \[0, 1\], got values from 0.5 to "
         r"1.5", lambda: ops.binary_cross_entropy(Tensor(np.array([0.5, 1.5])), np.ones(2))),
        (r"binary_cross_entropy: .* and NaN", lambda: ops.binary_cross_entropy(
            Tensor(np.array([0.5, np.nan])), np.ones(2))),
        (r"binary_cross_entropy: weight of shape \(2,\) does not broadcast to the input's shape "
         r"\(3,\)", lambda: ops.binary_cross_entropy(x, t, weight=np.ones(2))),
        (r"kl_div: reduction must be 'mean', 'sum', 'none' or 'batchmean', got 'avg'",
         lambda: ops.kl_div(x, t, reduction="avg")),
    ]
    for message, fn in cases:
        with pytest.raises(ValueError, match=message):
            fn()
