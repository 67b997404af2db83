"""cross_entropy and nll_loss with PyTorch's options (class ``weight``, ``ignore_index``,
``label_smoothing``): gradients over drawn cases (float64, hypothesis), forward against a
numpy transcription of PyTorch's definition, second order, edge cases and errors."""

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

IGNORE = -100


def log_softmax(x, axis):
    x = x.astype(np.float64)
    return x - np.log(np.exp(x).sum(axis=axis, keepdims=True))


def reduce(loss, reduction, divisor=None):
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.mean() if divisor is None else loss.sum() / divisor


def cross_entropy_reference(logits, target, axis=-1, reduction="mean", weight=None,
                            ignore_index=IGNORE, label_smoothing=0.0):
    """PyTorch's definition, written out with the classes moved to the last axis."""
    lp = np.moveaxis(log_softmax(logits, axis), axis, -1)  # (..., C)
    classes = lp.shape[-1]
    w = np.ones(classes) if weight is None else weight
    eps = label_smoothing
    if target.dtype.kind == "f":
        t = np.moveaxis(target, axis, -1)
        loss = -(w * ((1 - eps) * t + eps / classes) * lp).sum(-1)
        return reduce(loss, reduction)
    valid = target != ignore_index
    y = np.where(valid, target, 0)
    nll = -w[y] * np.take_along_axis(lp, y[..., None], -1)[..., 0] * valid
    smooth = -(w * lp).sum(-1) * valid
    loss = (1 - eps) * nll + eps / classes * smooth
    return reduce(loss, reduction, (w[y] * valid).sum())


def nll_loss_reference(log_probs, target, axis=-1, reduction="mean", weight=None,
                       ignore_index=IGNORE):
    lp = np.moveaxis(log_probs, axis, -1)
    w = np.ones(lp.shape[-1]) if weight is None else weight
    valid = target != ignore_index
    y = np.where(valid, target, 0)
    loss = -w[y] * np.take_along_axis(lp, y[..., None], -1)[..., 0] * valid
    return reduce(loss, reduction, (w[y] * valid).sum())


@st.composite
def cases(draw, probabilities=None, smoothing=True):
    """(logits, target, axis, options): labels (some ignored) or probabilities, with or
    without class weights and label smoothing."""
    logits = draw(st_ag.arrays(st_ag.shapes(min_dims=1, max_dims=3)))
    axis = draw(st.integers(-logits.ndim, logits.ndim - 1))
    classes = logits.shape[axis]
    options = {"reduction": draw(st.sampled_from(["mean", "sum", "none"]))}
    if draw(st.booleans()):
        options["weight"] = draw(st_ag.arrays((classes,), low=0.1, high=2.0))
    if smoothing and draw(st.booleans()):
        options["label_smoothing"] = draw(st.sampled_from([0.1, 0.5, 1.0]))
    if probabilities is None:
        probabilities = draw(st.booleans())
    if probabilities:
        return logits, draw(st_ag.arrays(logits.shape, low=0.0, high=1.0)), axis, options
    ignore_index = draw(st.sampled_from([IGNORE, 0, classes - 1]))
    options["ignore_index"] = ignore_index
    shape = logits.shape[:axis % logits.ndim] + logits.shape[axis % logits.ndim + 1:]
    labels = draw(hnp.arrays(np.int64, shape, elements=st.integers(0, classes - 1)))
    ignored = draw(hnp.arrays(bool, shape))
    target = np.where(ignored, ignore_index, labels)
    if options["reduction"] == "mean" and not (target != ignore_index).any():
        options["reduction"] = "sum"  # every sample ignored: the mean is 0 / 0 (tested apart)
    return logits, target, axis, options


# --- cross_entropy ----------------------------------------------------------------------
@gradchecks("cross_entropy")
@given(cases())
def test_cross_entropy_options_gradient(case):
    logits, target, axis, options = case
    inputs = [logits, target] if target.dtype.kind == "f" else [logits]

    def loss(x, t=target):
        return ops.cross_entropy(x, t, axis=axis, **options)

    gradcheck(loss, inputs)


@given(cases())
def test_cross_entropy_options_forward(case):
    logits, target, axis, options = case
    check_forward(ops.cross_entropy, cross_entropy_reference, logits, target, axis=axis,
                  rtol=1e-5, atol=1e-5, **options)


@settings(max_examples=10)
@given(cases())
def test_cross_entropy_options_second_order(case):
    logits, target, axis, options = case
    inputs = [logits, target] if target.dtype.kind == "f" else [logits]
    gradgradcheck(lambda x, t=target: ops.cross_entropy(x, t, axis=axis, **options), inputs)


# --- nll_loss ---------------------------------------------------------------------------
@gradchecks("nll_loss")
@given(cases(probabilities=False, smoothing=False))
def test_nll_loss_options_gradient_and_forward(case):
    log_probs, target, axis, options = case
    gradcheck(lambda x: ops.nll_loss(x, target, axis=axis, **options), [log_probs])
    gradgradcheck(lambda x: ops.nll_loss(x * x, target, axis=axis, **options), [log_probs])
    check_forward(ops.nll_loss, nll_loss_reference, log_probs, target, axis=axis, **options)


def test_nll_of_log_softmax_matches_cross_entropy_with_options():
    rng = np.random.default_rng(0)
    logits = Tensor(rng.standard_normal((5, 4)), requires_grad=True)
    labels = np.array([0, 3, IGNORE, 1, 3])
    weight = np.array([1.0, 2.0, 0.5, 3.0])
    ce = ops.cross_entropy(logits, labels, weight=weight)
    nll = ops.nll_loss(ops.log_softmax(logits), labels, weight=weight)
    np.testing.assert_allclose(ce.data, nll.data, rtol=1e-12)
    np.testing.assert_allclose(grad(ce, [logits])[0], grad(nll, [logits])[0], rtol=1e-10)


# --- edges ------------------------------------------------------------------------------
def test_ignored_samples_contribute_nothing_and_are_not_counted():
    logits = Tensor(np.array([[2.0, 0.0], [0.0, 0.0], [1.0, 3.0]]), requires_grad=True)
    labels = np.array([0, IGNORE, 1])
    loss = ops.cross_entropy(logits, labels)
    kept = ops.cross_entropy(logits[[0, 2]], labels[[0, 2]])
    np.testing.assert_allclose(loss.data, kept.data, rtol=1e-12)  # mean over 2, not 3
    loss.backward()
    assert logits.grad[1].tolist() == [0, 0]
    per_sample = ops.cross_entropy(logits, labels, reduction="none")
    assert per_sample.data[1] == 0


def test_every_sample_ignored():
    logits = Tensor(np.zeros((2, 3)), requires_grad=True)
    labels = np.array([IGNORE, IGNORE])
    assert np.isnan(ops.cross_entropy(logits, labels).item())  # 0 / 0, as PyTorch
    assert np.isnan(ops.nll_loss(logits, labels).item())
    assert ops.cross_entropy(logits, labels, reduction="sum").item() == 0
    (g,) = grad(ops.cross_entropy(logits, labels, reduction="sum", label_smoothing=0.2),
                [logits])
    assert not g.any()


def test_weighted_mean_divides_by_the_weights_of_the_labels():
    logits = Tensor(np.array([[0.0, 0.0], [0.0, 0.0]]))
    weight = np.array([1.0, 3.0])
    # both losses log 2; weights 1 and 3: (1 log 2 + 3 log 2) / (1 + 3) = log 2
    np.testing.assert_allclose(ops.cross_entropy(logits, np.array([0, 1]), weight=weight).data,
                               np.log(2))
    np.testing.assert_allclose(
        ops.cross_entropy(logits, np.array([0, 1]), weight=weight, reduction="sum").data,
        4 * np.log(2))


def test_label_smoothing_one_is_the_uniform_target():
    logits = Tensor(np.random.default_rng(1).standard_normal((3, 4)))
    smoothed = ops.cross_entropy(logits, np.array([0, 1, 2]), label_smoothing=1.0)
    uniform = ops.cross_entropy(logits, np.full((3, 4), 0.25))
    np.testing.assert_allclose(smoothed.data, uniform.data, rtol=1e-12)


def test_float32_with_options_stays_float32():
    x = Tensor(np.zeros((4, 3), dtype=np.float32), requires_grad=True)
    labels = np.array([0, 1, IGNORE, 0])
    for loss in (ops.cross_entropy(x, labels, weight=np.ones(3), label_smoothing=0.1),
                 ops.nll_loss(x, labels, weight=np.ones(3)),
                 ops.cross_entropy(x, np.full((4, 3), 1 / 3, dtype=np.float32),
                                   weight=np.ones(3), label_smoothing=0.1)):
        (gx,) = grad(loss, [x])
        assert loss.dtype == gx.dtype == np.float32


@pytest.mark.parametrize("op", [ops.cross_entropy, ops.nll_loss])
def test_option_errors(op):
    name = op.__name__
    x = Tensor(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=rf"{name}: weight of shape \(2,\) does not match the "
                                         r"3 classes; expected \(3,\)"):
        op(x, np.array([0, 1]), weight=np.ones(2))
    with pytest.raises(TypeError, match=f"{name}: ignore_index must be an int, got 1.5"):
        op(x, np.array([0, 1]), ignore_index=1.5)
    with pytest.raises(IndexError, match=f"{name}: class label 3 is out of range"):
        op(x, np.array([3, IGNORE]))  # an ignored label may be anything, the rest not
    if op is ops.cross_entropy:
        with pytest.raises(ValueError, match=r"cross_entropy: label_smoothing must be in "
                                             r"\[0, 1\], got 1.5"):
            op(x, np.array([0, 1]), label_smoothing=1.5)
