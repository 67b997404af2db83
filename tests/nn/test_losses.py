"""Loss modules: forward against numpy references, gradients (float64 gradcheck), PyTorch
agreement with its options, errors."""

import re

import numpy as np
import pytest

from autograd import Tensor, nn
from autograd.testing import gradcheck, gradgradcheck

rng = np.random.default_rng(0)


# --- numpy references (float64) ---------------------------------------------------------
def _log_softmax(x, axis):
    s = x - x.max(axis=axis, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=axis, keepdims=True))


def nll_reference(lp, labels, axis, weight=None, ignore_index=-100, reduction="mean",
                  smoothing=0.0):
    """PyTorch's documented formula, one sample at a time."""
    lp = np.moveaxis(lp, axis, -1)  # (..., C)
    classes = lp.shape[-1]
    w = np.ones(classes) if weight is None else weight
    losses, weights = np.zeros(labels.shape), np.zeros(labels.shape)
    for i in np.ndindex(labels.shape):
        y = labels[i]
        if y == ignore_index:
            continue
        weights[i] = w[y]
        losses[i] = -(1 - smoothing) * w[y] * lp[i][y] - smoothing / classes * (w * lp[i]).sum()
    if reduction == "none":
        return losses
    return losses.sum() / weights.sum() if reduction == "mean" else losses.sum()


def soft_ce_reference(x, t, axis, weight=None, reduction="mean", smoothing=0.0):
    classes = x.shape[axis]
    t = t * (1 - smoothing) + smoothing / classes
    w = np.ones(classes) if weight is None else weight
    w = w.reshape((classes,) + (1,) * (x.ndim - axis - 1))
    losses = -(_log_softmax(x, axis) * t * w).sum(axis=axis)
    return {"none": losses, "sum": losses.sum(), "mean": losses.mean()}[reduction]


def elementwise_reference(kind, x, t, reduction="mean", beta=1.0, weight=None,
                          pos_weight=None):
    d = x - t
    if kind == "mse":
        losses = d * d
    elif kind == "l1":
        losses = np.abs(d)
    elif kind == "smooth_l1":
        losses = np.where(np.abs(d) < beta, 0.5 * d * d / beta, np.abs(d) - 0.5 * beta)
    elif kind == "huber":
        losses = np.where(np.abs(d) < beta, 0.5 * d * d, beta * (np.abs(d) - 0.5 * beta))
    else:  # bce with logits
        p = 1 if pos_weight is None else pos_weight
        log_sig = -np.logaddexp(0, -x)
        log_one_minus = -np.logaddexp(0, x)
        losses = -(p * t * log_sig + (1 - t) * log_one_minus)
        if weight is not None:
            losses = losses * weight
    return {"none": losses, "sum": losses.sum(), "mean": losses.mean()}[reduction]


def _labels(shape, classes, ignore=()):
    labels = rng.integers(0, classes, size=shape)
    for i in ignore:
        labels.flat[i] = -100
    return labels


REDUCTIONS = ["mean", "sum", "none"]
TOL = {np.float32: dict(rtol=1e-5, atol=1e-6), np.float64: dict(rtol=1e-12, atol=1e-12)}


# --- class losses -----------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", [
    {}, {"weight": np.array([0.5, 2.0, 1.0, 3.0])}, {"ignore": (1, 4)},
    {"label_smoothing": 0.2}, {"weight": np.array([0.5, 2.0, 1.0, 3.0]), "ignore": (0,),
                               "label_smoothing": 0.1},
], ids=["plain", "weight", "ignore", "smoothing", "all"])
@pytest.mark.parametrize("shape", [(5, 4), (3, 4, 2), (4,)], ids=["NC", "NCd", "C"])
def test_cross_entropy_and_nll_forward(shape, options, reduction, dtype):
    axis = 1 if len(shape) >= 2 else 0
    ignore = options.get("ignore", ())
    labels_shape = shape[:axis] + shape[axis + 1:]
    if not labels_shape:
        ignore = ()
    labels = _labels(labels_shape, 4, ignore)
    weight = options.get("weight")
    smoothing = options.get("label_smoothing", 0.0)
    x = rng.standard_normal(shape).astype(dtype)
    ce = nn.CrossEntropyLoss(weight, reduction=reduction, label_smoothing=smoothing)
    out = ce(Tensor(x), labels)
    lp = _log_softmax(x.astype(np.float64), axis)
    expected = nll_reference(lp, labels, axis, weight, reduction=reduction, smoothing=smoothing)
    assert out.dtype == dtype and out.shape == np.shape(expected)
    np.testing.assert_allclose(out.data, expected, **TOL[dtype])
    if not smoothing:
        nll = nn.NLLLoss(weight, reduction=reduction)
        out = nll(Tensor(lp.astype(dtype)), labels)
        assert out.dtype == dtype
        np.testing.assert_allclose(out.data, expected, **TOL[dtype])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", [{}, {"weight": np.array([0.5, 2.0, 1.0])},
                                     {"label_smoothing": 0.3}])
def test_cross_entropy_probability_targets(options, reduction, dtype):
    x = rng.standard_normal((4, 3, 2)).astype(dtype)
    t = rng.random((4, 3, 2))
    t = (t / t.sum(axis=1, keepdims=True)).astype(dtype)
    ce = nn.CrossEntropyLoss(options.get("weight"), reduction=reduction,
                             label_smoothing=options.get("label_smoothing", 0.0))
    out = ce(Tensor(x), Tensor(t))
    expected = soft_ce_reference(x.astype(np.float64), t.astype(np.float64), 1,
                                 options.get("weight"), reduction,
                                 options.get("label_smoothing", 0.0))
    assert out.dtype == dtype
    np.testing.assert_allclose(out.data, expected, **TOL[dtype])


@pytest.mark.parametrize("make", [
    lambda: nn.CrossEntropyLoss(),
    lambda: nn.CrossEntropyLoss(np.array([0.5, 2.0, 1.0]), ignore_index=1),
    lambda: nn.CrossEntropyLoss(np.array([0.5, 2.0, 1.0]), label_smoothing=0.2,
                                reduction="sum"),
    lambda: nn.NLLLoss(np.array([0.5, 2.0, 1.0]), reduction="none"),
], ids=["plain", "weight_ignore", "weight_smoothing", "nll"])
def test_class_loss_gradients(make):
    x = rng.standard_normal((4, 3, 2))
    labels = _labels((4, 2), 3)
    gradcheck(lambda t: make()(t, labels), [x])


@pytest.mark.parametrize("options", [{"weight": np.array([0.5, 2.0, 1.0])},
                                     {"label_smoothing": 0.3}])
def test_probability_target_gradients(options):
    x, t = rng.standard_normal((3, 3)), rng.random((3, 3))
    ce = nn.CrossEntropyLoss(options.get("weight"),
                             label_smoothing=options.get("label_smoothing", 0.0))
    gradcheck(ce, [x, t])


def test_class_loss_second_derivatives():
    ce = nn.CrossEntropyLoss(np.array([0.5, 2.0, 1.0]), label_smoothing=0.2)
    gradgradcheck(lambda x: ce(x, np.array([0, 2, -100, 1])), [rng.standard_normal((4, 3))])
    soft = nn.CrossEntropyLoss(np.array([0.5, 2.0, 1.0]), label_smoothing=0.2)
    gradgradcheck(soft, [rng.standard_normal((2, 3)), rng.random((2, 3))])


def test_every_label_ignored_gives_nan_as_pytorch():
    out = nn.CrossEntropyLoss()(Tensor(np.zeros((2, 3))), np.array([-100, -100]))
    assert np.isnan(out.item())
    out = nn.CrossEntropyLoss(reduction="sum")(Tensor(np.zeros((2, 3))), np.array([-100, -100]))
    assert out.item() == 0


# --- elementwise losses -----------------------------------------------------------------
ELEMENTWISE = {
    "mse": lambda r: nn.MSELoss(reduction=r),
    "l1": lambda r: nn.L1Loss(reduction=r),
    "smooth_l1": lambda r: nn.SmoothL1Loss(reduction=r, beta=0.5),
    "huber": lambda r: nn.HuberLoss(reduction=r, delta=0.5),
    "bce": lambda r: nn.BCEWithLogitsLoss(reduction=r),
}


def _pair(kind, shape=(3, 4), beta=0.5):
    """Input and target with every |input - target| clear of the kinks at 0 and beta."""
    x = rng.standard_normal(shape)
    if kind == "bce":
        return x, rng.random(shape)
    d = rng.uniform(0.05, 2, shape) * rng.choice([-1, 1], shape)
    d = np.where(np.abs(np.abs(d) - beta) < 0.05, d * 1.5, d)
    return x, x - d


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("kind", ELEMENTWISE)
def test_elementwise_forward(kind, reduction, dtype):
    x, t = (a.astype(dtype) for a in _pair(kind))
    out = ELEMENTWISE[kind](reduction)(Tensor(x), Tensor(t))
    expected = elementwise_reference(kind, x.astype(np.float64), t.astype(np.float64),
                                     reduction, beta=0.5)
    assert out.dtype == dtype and out.shape == np.shape(expected)
    np.testing.assert_allclose(out.data, expected, **TOL[dtype])


@pytest.mark.parametrize("kind", ELEMENTWISE)
def test_elementwise_gradients(kind):
    gradcheck(ELEMENTWISE[kind]("mean"), list(_pair(kind)))


@pytest.mark.parametrize("kind", ["smooth_l1", "huber", "bce"])
def test_elementwise_second_derivatives(kind):
    gradgradcheck(ELEMENTWISE[kind]("sum"), list(_pair(kind)))
    if kind == "bce":
        weighted = nn.BCEWithLogitsLoss(np.array([1.0, 2.0, 3.0, 0.5]),
                                        pos_weight=np.array([2.0, 0.5, 1.0, 3.0]))
        gradgradcheck(weighted, list(_pair(kind)))


def test_smooth_l1_with_beta_zero_is_l1_and_huber_is_delta_times_smooth_l1():
    x, t = _pair("l1")
    np.testing.assert_allclose(nn.SmoothL1Loss(beta=0.0)(Tensor(x), t).data,
                               nn.L1Loss()(Tensor(x), t).data)
    np.testing.assert_allclose(nn.HuberLoss(delta=2.0)(Tensor(x), t).data,
                               2.0 * nn.SmoothL1Loss(beta=2.0)(Tensor(x), t).data)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_with_weight_and_pos_weight(reduction):
    x, t = rng.standard_normal((4, 3)) * 3, rng.random((4, 3))
    weight, pos_weight = rng.random(3) + 0.5, np.array([0.5, 2.0, 4.0])
    for options in ({"weight": weight}, {"pos_weight": pos_weight},
                    {"weight": weight, "pos_weight": pos_weight}):
        loss = nn.BCEWithLogitsLoss(reduction=reduction, **options)
        for dtype in (np.float32, np.float64):
            out = loss(Tensor(x.astype(dtype)), Tensor(t.astype(dtype)))
            expected = elementwise_reference("bce", x.astype(dtype).astype(np.float64),
                                             t.astype(dtype).astype(np.float64), reduction,
                                             **options)
            assert out.dtype == dtype
            np.testing.assert_allclose(out.data, expected, **TOL[dtype])
        gradcheck(loss, [x, t])
    big = nn.BCEWithLogitsLoss(pos_weight=pos_weight)(Tensor(np.full((1, 3), 800.0)),
                                                     np.zeros((1, 3)))
    assert np.isfinite(big.item())  # no overflow for large logits


# --- BCELoss and KLDivLoss --------------------------------------------------------------
def bce_reference(p, t, reduction="mean", weight=None):
    """PyTorch's formula, each log clamped at -100."""
    with np.errstate(divide="ignore"):
        losses = -(t * np.maximum(np.log(p), -100) + (1 - t) * np.maximum(np.log1p(-p), -100))
    losses = losses if weight is None else losses * weight
    return {"none": losses, "sum": losses.sum(), "mean": losses.mean()}[reduction]


def kl_div_reference(x, t, reduction="mean", log_target=False):
    p, log_t = (np.exp(t), t) if log_target else (t, np.log(t))
    losses = p * (log_t - x)
    return {"none": losses, "sum": losses.sum(), "mean": losses.mean(),
            "batchmean": losses.sum() / x.shape[0]}[reduction]


def _probabilities(shape):
    """Probabilities clear of 0 and 1, where the clamped logs have kinks."""
    return rng.uniform(0.05, 0.95, shape)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weight", [None, np.array([0.5, 2.0, 1.0, 3.0])], ids=["", "weight"])
def test_bce_loss_forward(weight, reduction, dtype):
    p, t = _probabilities((3, 4)), rng.random((3, 4))
    p[0, :2] = 0.0, 1.0  # clamped logs: a finite loss, as PyTorch's
    p, t = p.astype(dtype), t.astype(dtype)
    out = nn.BCELoss(weight, reduction=reduction)(Tensor(p), Tensor(t))
    expected = bce_reference(p.astype(np.float64), t.astype(np.float64), reduction, weight)
    assert out.dtype == dtype and out.shape == np.shape(expected)
    assert np.isfinite(out.data).all()
    np.testing.assert_allclose(out.data, expected, **TOL[dtype])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", REDUCTIONS + ["batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_loss_forward(log_target, reduction, dtype):
    x = _log_softmax(rng.standard_normal((4, 3)), 1).astype(dtype)
    t = _probabilities((4, 3))
    t = (np.log(t) if log_target else t).astype(dtype)
    out = nn.KLDivLoss(reduction=reduction, log_target=log_target)(Tensor(x), Tensor(t))
    expected = kl_div_reference(x.astype(np.float64), t.astype(np.float64), reduction,
                                log_target)
    assert out.dtype == dtype and out.shape == np.shape(expected)
    np.testing.assert_allclose(out.data, expected, **TOL[dtype])


def test_bce_and_kl_div_loss_gradients():
    p, t = _probabilities((3, 4)), rng.random((3, 4))
    gradcheck(nn.BCELoss(np.array([0.5, 2.0, 1.0, 3.0])), [p, t])
    gradcheck(nn.BCELoss(reduction="none"), [p, t])
    x, q = rng.standard_normal((3, 4)), _probabilities((3, 4))
    gradcheck(nn.KLDivLoss(reduction="batchmean"), [x, q])
    gradcheck(nn.KLDivLoss(reduction="sum", log_target=True), [x, np.log(q)])


def test_bce_loss_refuses_what_is_not_a_probability():
    with pytest.raises(ValueError, match=re.escape(
            "BCELoss: input must be probabilities in [0, 1], got values from -0.5 to 0.5")):
        nn.BCELoss()(Tensor(np.array([-0.5, 0.5])), np.array([0.0, 1.0]))


# --- PyTorch agreement ------------------------------------------------------------------
def _torch_cases(torch):
    """(our loss, torch loss, input, target): every option against PyTorch."""
    w3 = np.array([0.5, 2.0, 1.5])
    x = rng.standard_normal((5, 3))
    x3 = rng.standard_normal((2, 3, 4))
    labels = _labels((5,), 3, ignore=(2,))
    present = np.where(labels == -100, 1, labels)  # every label a class, 1 among them
    labels3 = _labels((2, 4), 3, ignore=(1,))
    probs = rng.random((5, 3))
    tw = torch.tensor(w3)
    cases = []
    for r in REDUCTIONS:
        cases += [
            (nn.CrossEntropyLoss(reduction=r), torch.nn.CrossEntropyLoss(reduction=r), x,
             present),
            (nn.CrossEntropyLoss(w3, ignore_index=-100, reduction=r, label_smoothing=0.15),
             torch.nn.CrossEntropyLoss(tw, reduction=r, label_smoothing=0.15), x3, labels3),
            (nn.CrossEntropyLoss(w3, ignore_index=1, reduction=r),
             torch.nn.CrossEntropyLoss(tw, ignore_index=1, reduction=r), x, present),
            (nn.CrossEntropyLoss(w3, reduction=r, label_smoothing=0.2),
             torch.nn.CrossEntropyLoss(tw, reduction=r, label_smoothing=0.2), x, probs),
            (nn.CrossEntropyLoss(reduction=r), torch.nn.CrossEntropyLoss(reduction=r),
             x[0], np.array(2)),
            (nn.NLLLoss(w3, reduction=r), torch.nn.NLLLoss(tw, reduction=r), x, labels),
            (nn.MSELoss(reduction=r), torch.nn.MSELoss(reduction=r), x, probs),
            (nn.L1Loss(reduction=r), torch.nn.L1Loss(reduction=r), x, probs),
            (nn.SmoothL1Loss(reduction=r, beta=0.7), torch.nn.SmoothL1Loss(reduction=r,
                                                                           beta=0.7), x, probs),
            (nn.HuberLoss(reduction=r, delta=0.7), torch.nn.HuberLoss(reduction=r, delta=0.7),
             x, probs),
            (nn.BCEWithLogitsLoss(w3, reduction=r, pos_weight=w3[::-1].copy()),
             torch.nn.BCEWithLogitsLoss(tw, reduction=r, pos_weight=torch.tensor(w3[::-1].copy())),
             x, probs),
            (nn.BCELoss(w3, reduction=r), torch.nn.BCELoss(tw, reduction=r), probs,
             rng.random((5, 3))),
        ]
    log_probs = _log_softmax(x, 1)
    for r in ("batchmean", "sum", "none"):  # PyTorch warns on 'mean' (tested against numpy)
        cases += [
            (nn.KLDivLoss(reduction=r), torch.nn.KLDivLoss(reduction=r), log_probs, probs),
            (nn.KLDivLoss(reduction=r, log_target=True),
             torch.nn.KLDivLoss(reduction=r, log_target=True), log_probs, np.log(probs)),
        ]
    return cases


def test_matches_torch():
    torch = pytest.importorskip("torch")
    for ours, theirs, x, target in _torch_cases(torch):
        xa = Tensor(x, requires_grad=True)
        xt = torch.tensor(x, requires_grad=True)
        soft = target.dtype.kind == "f"
        ta = Tensor(target, requires_grad=True) if soft else target
        tt = torch.tensor(target, requires_grad=soft)
        out, t_out = ours(xa, ta), theirs(xt, tt)
        g = rng.standard_normal(out.shape)
        out.backward(g)
        t_out.backward(torch.tensor(g))
        label = f"{ours!r} on {x.shape}"
        np.testing.assert_allclose(out.data, t_out.detach().numpy(), rtol=1e-12, atol=1e-14,
                                   err_msg=label)
        np.testing.assert_allclose(xa.grad, xt.grad.numpy(), rtol=1e-10, atol=1e-14,
                                   err_msg=label)
        if soft:
            np.testing.assert_allclose(ta.grad, tt.grad.numpy(), rtol=1e-10, atol=1e-14,
                                       err_msg=label)


# --- options, repr, errors ----------------------------------------------------------------
def test_weights_are_buffers_and_repr():
    ce = nn.CrossEntropyLoss(np.array([1.0, 2.0]), label_smoothing=0.1, reduction="sum")
    assert list(ce.parameters()) == [] and set(ce.state_dict()) == {"weight"}
    assert repr(ce) == "CrossEntropyLoss(reduction='sum', label_smoothing=0.1)"
    assert repr(nn.MSELoss()) == "MSELoss()"
    assert repr(nn.HuberLoss(delta=2.0)) == "HuberLoss(delta=2.0)"
    assert set(nn.BCEWithLogitsLoss(pos_weight=np.ones(3)).state_dict()) == {"pos_weight"}


def test_new_losses_repr_and_buffers():
    assert repr(nn.KLDivLoss(reduction="batchmean", log_target=True)) == \
        "KLDivLoss(reduction='batchmean', log_target=True)"
    assert repr(nn.KLDivLoss(log_target=True)) == "KLDivLoss(log_target=True)"
    assert repr(nn.BCELoss(reduction="sum")) == "BCELoss(reduction='sum')"
    bce = nn.BCELoss(np.array([1, 2]))
    assert list(bce.parameters()) == [] and set(bce.state_dict()) == {"weight"}
    assert bce.weight.dtype == np.float64


def test_options_are_checked_by_the_op_where_the_loss_is_built():
    """The op's own checks, run when the loss is built, under the module's name."""
    with pytest.raises(TypeError, match="CrossEntropyLoss: ignore_index must be an int, got "
                                        "1.5"):
        nn.CrossEntropyLoss(ignore_index=1.5)
    with pytest.raises(TypeError, match="NLLLoss: ignore_index must be an int"):
        nn.NLLLoss(ignore_index="0")
    with pytest.raises(ValueError, match="NLLLoss: reduction must be 'mean', 'sum' or 'none', "
                                         "got 'batchmean'"):
        nn.NLLLoss(reduction="batchmean")
    with pytest.raises(ValueError, match="KLDivLoss: reduction must be 'mean', 'sum', 'none' "
                                         "or 'batchmean', got 'avg'"):
        nn.KLDivLoss(reduction="avg")
    with pytest.raises(ValueError, match="SmoothL1Loss: beta must be a non-negative number, "
                                         "got nan"):
        nn.SmoothL1Loss(beta=float("nan"))


def test_errors_name_the_loss_and_shapes():
    x = Tensor(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="MSELoss: reduction must be 'mean', 'sum' or 'none', "
                                         "got 'avg'"):
        nn.MSELoss(reduction="avg")
    with pytest.raises(TypeError):
        nn.MSELoss("sum")  # keyword-only, as PyTorch's positional slots mean something else
    with pytest.raises(ValueError, match=re.escape(
            "CrossEntropyLoss: class labels of shape (3,) don't match input of shape (2, 3): "
            "expected labels of shape (2,)")):
        nn.CrossEntropyLoss()(x, np.array([0, 1, 2]))
    with pytest.raises(ValueError, match=re.escape(
            "CrossEntropyLoss: class label 3 is out of range for input of shape (2, 3) "
            "(3 classes along axis 1)")):
        nn.CrossEntropyLoss()(x, np.array([0, 3]))
    with pytest.raises(ValueError, match=re.escape(
            "NLLLoss: class label -1 is out of range")):
        nn.NLLLoss()(x, np.array([0, -1]))
    with pytest.raises(ValueError, match=re.escape(
            "CrossEntropyLoss: weight of shape (2,) does not match the 3 classes; expected "
            "(3,)")):
        nn.CrossEntropyLoss(np.ones(2), ignore_index=0)(x, np.array([0, 1]))
    with pytest.raises(ValueError, match=re.escape(
            "CrossEntropyLoss: probability target of shape (2, 2) must have the input's shape "
            "(2, 3)")):
        nn.CrossEntropyLoss()(x, np.zeros((2, 2)))
    with pytest.raises(TypeError, match="CrossEntropyLoss: target must be integer class labels"):
        nn.CrossEntropyLoss()(x, np.array([True, False]))
    with pytest.raises(ValueError, match="CrossEntropyLoss: expected input of shape"):
        nn.CrossEntropyLoss()(Tensor(np.float64(1.0)), np.array(0))
    with pytest.raises(ValueError, match=re.escape("label_smoothing must be in [0, 1], got 1.5")):
        nn.CrossEntropyLoss(label_smoothing=1.5)
    with pytest.raises(ValueError, match=re.escape(
            "L1Loss: input of shape (2, 3) and target of shape (3,) differ")):
        nn.L1Loss()(x, np.zeros(3))
    with pytest.raises(ValueError, match="SmoothL1Loss: beta must be non-negative, got -1"):
        nn.SmoothL1Loss(beta=-1)
    with pytest.raises(ValueError, match="HuberLoss: delta must be positive, got 0"):
        nn.HuberLoss(delta=0)
    with pytest.raises(ValueError, match=re.escape(
            "BCEWithLogitsLoss: pos_weight of shape (2,) does not broadcast to the input's "
            "shape (2, 3)")):
        nn.BCEWithLogitsLoss(pos_weight=np.ones(2))(x, np.zeros((2, 3)))
    with pytest.raises(ValueError, match=re.escape(
            "BCELoss: weight of shape (2,) does not broadcast to the input's shape (2, 3)")):
        nn.BCELoss(np.ones(2))(x, np.zeros((2, 3)))
    with pytest.raises(ValueError, match=re.escape(
            "KLDivLoss: input of shape (2, 3) and target of shape (2, 1) differ")):
        nn.KLDivLoss()(x, np.ones((2, 1)))
    with pytest.raises(TypeError, match="NLLLoss: target must be integer class labels"):
        nn.NLLLoss()(x, np.array([0.0, 1.0]))
    with pytest.raises(TypeError, match="CrossEntropyLoss: weight must be numbers"):
        nn.CrossEntropyLoss(np.array(["a", "b", "c"]))
