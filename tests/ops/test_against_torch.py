"""Optional: values and float64 gradients against PyTorch for the ops PyTorch also has
(skipped when torch is not installed)."""

import numpy as np
import pytest

import ops
from autograd import Tensor, grad
from ops.sorting import max_along, min_along

torch = pytest.importorskip("torch")
F = torch.nn.functional

RNG = np.random.default_rng(11)


def _randn(*shape):
    return RNG.standard_normal(shape)


def _probs(*shape, low=0.05, high=0.95):
    return RNG.uniform(low, high, shape)


def compare(ours, theirs, inputs, constants=(), rtol=1e-10, atol=1e-12):
    """ours(*Tensors, *constants) and theirs(*torch tensors, *constants): the same value and,
    for a random upstream gradient, the same float64 gradient of every float input."""
    mine = [Tensor(x.copy(), requires_grad=True) for x in inputs]
    refs = [torch.tensor(x.copy(), requires_grad=True) for x in inputs]
    out = ours(*mine, *constants)
    expected = theirs(*refs, *[torch.as_tensor(c) if isinstance(c, np.ndarray) else c
                               for c in constants])
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=rtol, atol=atol)
    g = RNG.standard_normal(out.shape)
    got = grad(out, mine, g)
    want = torch.autograd.grad(expected, refs, torch.tensor(g))
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b.numpy(), rtol=rtol, atol=atol)


# --- elementwise ------------------------------------------------------------------------
@pytest.mark.parametrize("name, ours, theirs, x", [
    ("log1p", ops.log1p, torch.log1p, _probs(3, 4)),
    ("expm1", ops.expm1, torch.expm1, _randn(3, 4)),
    ("square", ops.square, torch.square, _randn(3, 4)),
    ("silu", ops.silu, F.silu, 3 * _randn(3, 4)),
])
def test_unary(name, ours, theirs, x):
    compare(ours, theirs, [x])


def test_logaddexp():
    compare(ops.logaddexp, torch.logaddexp, [_randn(3, 4), 10 * _randn(4)])


# --- reductions, scans, ordering --------------------------------------------------------
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cumsum(dim):
    compare(lambda x: ops.cumsum(x, dim=dim), lambda x: torch.cumsum(x, dim), [_randn(3, 4)])


@pytest.mark.parametrize("zeros", [0, 1, 2])
@pytest.mark.parametrize("dim", [None, 1])
def test_prod_with_zeros(zeros, dim):
    x = _randn(3, 4)
    x[:, :zeros] = 0.0
    x[0, 3] = 0.0 if zeros else x[0, 3]  # a row with one more zero than the others
    if dim is None:
        compare(ops.prod, torch.prod, [x])
    else:
        compare(lambda t: ops.prod(t, dim=dim), lambda t: torch.prod(t, dim), [x])


def test_gather_and_take_along_axis():
    x = _randn(3, 5)
    index = np.array([[0, 4, 4], [1, 1, 0]])
    compare(lambda t, i: ops.gather(t, 1, i), lambda t, i: torch.gather(t, 1, i), [x],
            [index])
    compare(lambda t, i: ops.take_along_axis(t, i, 0), lambda t, i: torch.take_along_dim(t, i, 0),
            [x], [np.array([[2, 0, 1, 1, 2]])])


@pytest.mark.parametrize("descending", [False, True])
def test_sort(descending):
    x = _randn(3, 5)
    compare(lambda t: ops.sort(t, 1, descending=descending).values,
            lambda t: torch.sort(t, 1, descending=descending).values, [x])
    assert ops.sort(Tensor(x), 1, descending=descending).indices.tolist() == \
        torch.sort(torch.tensor(x), 1, descending=descending).indices.tolist()


@pytest.mark.parametrize("largest", [True, False])
def test_topk(largest):
    x = _randn(4, 6)
    compare(lambda t: ops.topk(t, 3, 1, largest=largest).values,
            lambda t: torch.topk(t, 3, 1, largest=largest).values, [x])
    assert ops.topk(Tensor(x), 3, 1, largest=largest).indices.tolist() == \
        torch.topk(torch.tensor(x), 3, 1, largest=largest).indices.tolist()


@pytest.mark.parametrize("keepdim", [False, True])
def test_max_min_along_a_dim(keepdim):
    x = _randn(3, 4)
    compare(lambda t: max_along(t, 1, keepdim).values,
            lambda t: torch.max(t, 1, keepdim).values, [x])
    compare(lambda t: min_along(t, 0, keepdim).values,
            lambda t: torch.min(t, 0, keepdim).values, [x])
    t = Tensor(x)
    assert t.max(dim=1).indices.tolist() == torch.tensor(x).max(dim=1).indices.tolist()


@pytest.mark.parametrize("diagonal", [-1, 0, 2])
def test_tril_triu(diagonal):
    x = _randn(2, 3, 4)
    compare(lambda t: ops.tril(t, diagonal), lambda t: torch.tril(t, diagonal), [x])
    compare(lambda t: ops.triu(t, diagonal), lambda t: torch.triu(t, diagonal), [x])


# --- losses -----------------------------------------------------------------------------
REDUCTIONS = ["mean", "sum", "none"]


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_l1_huber_smooth_l1(reduction):
    x, t = 2 * _randn(4, 5), 2 * _randn(4, 5)
    compare(lambda a, b: ops.l1_loss(a, b, reduction),
            lambda a, b: F.l1_loss(a, b, reduction=reduction), [x, t])
    for delta in (0.5, 1.0, 2.0):
        compare(lambda a, b: ops.huber_loss(a, b, reduction, delta),
                lambda a, b: F.huber_loss(a, b, reduction=reduction, delta=delta), [x, t])
    for beta in (0.0, 0.5, 1.0, 2.0):
        compare(lambda a, b: ops.smooth_l1_loss(a, b, reduction, beta),
                lambda a, b: F.smooth_l1_loss(a, b, reduction=reduction, beta=beta), [x, t])


@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides")  # PyTorch's own advice
@pytest.mark.parametrize("reduction", REDUCTIONS + ["batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div(reduction, log_target):
    x = np.log(_probs(4, 5))
    t = _probs(4, 5)
    t = np.log(t) if log_target else t
    compare(lambda a, b: ops.kl_div(a, b, reduction, log_target),
            lambda a, b: F.kl_div(a, b, reduction=reduction, log_target=log_target), [x, t])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_binary_cross_entropy(reduction, weighted):
    p, t = _probs(4, 5), _probs(4, 5, low=0.0, high=1.0)
    weight = _probs(5) if weighted else None
    compare(lambda a, b: ops.binary_cross_entropy(a, b, reduction, weight=weight),
            lambda a, b: F.binary_cross_entropy(
                a, b, reduction=reduction,
                weight=None if weight is None else torch.tensor(weight)), [p, t])


def test_binary_cross_entropy_at_zero_and_one():
    # the loss's clamped logs and the input gradient's 1e-12 floor, as PyTorch (whose floor
    # is the float32 nearest 1e-12: hence rtol 1e-8)
    p = np.array([0.0, 1.0, 0.0, 1.0, 1e-20])
    t = np.array([1.0, 0.0, 0.0, 1.0, 0.5])
    compare(lambda a: ops.binary_cross_entropy(a, t, "sum"),
            lambda a: F.binary_cross_entropy(a, torch.tensor(t), reduction="sum"), [p],
            rtol=1e-8)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("ignore_index", [-100, 2])
def test_cross_entropy_with_labels(reduction, weighted, smoothing, ignore_index):
    logits = 3 * _randn(6, 4, 2)  # (N, C, d): classes along axis 1, as PyTorch
    labels = np.array([[0, 3], [2, 2], [-100, 1], [3, -100], [1, 0], [2, 3]])
    labels[labels == -100] = ignore_index  # with ignore_index 2, the 2s are ignored too
    weight = _probs(4) if weighted else None
    compare(lambda x, y: ops.cross_entropy(x, y, 1, reduction, weight=weight,
                                           ignore_index=ignore_index,
                                           label_smoothing=smoothing),
            lambda x, y: F.cross_entropy(
                x, y, None if weight is None else torch.tensor(weight), reduction=reduction,
                ignore_index=ignore_index, label_smoothing=smoothing), [logits], [labels])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.3])
def test_cross_entropy_with_probabilities(reduction, weighted, smoothing):
    logits, target = 3 * _randn(5, 4), _probs(5, 4)
    target /= target.sum(1, keepdims=True)
    weight = _probs(4) if weighted else None
    compare(lambda x, t: ops.cross_entropy(x, t, 1, reduction, weight=weight,
                                           label_smoothing=smoothing),
            lambda x, t: F.cross_entropy(
                x, t, None if weight is None else torch.tensor(weight), reduction=reduction,
                label_smoothing=smoothing), [logits, target])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_nll_loss(reduction, weighted):
    log_probs = np.log(_probs(5, 3))
    labels = np.array([0, 2, -100, 1, 2])
    weight = _probs(3) if weighted else None
    compare(lambda x, y: ops.nll_loss(x, y, 1, reduction, weight=weight),
            lambda x, y: F.nll_loss(x, y, None if weight is None else torch.tensor(weight),
                                    reduction=reduction), [log_probs], [labels])


# --- products, one_hot, and the Tensor methods that take PyTorch's meaning -------------
def test_products():
    a, b = _randn(2, 3), _randn(4, 3)
    compare(np.inner, torch.inner, [a, b])
    compare(np.outer, torch.outer, [_randn(3), _randn(4)])
    compare(lambda x, y: np.tensordot(x, y, ([1], [1])),
            lambda x, y: torch.tensordot(x, y, ([1], [1])), [a, b])
    compare(np.dot, torch.dot, [_randn(5), _randn(5)])


def test_one_hot():
    labels = np.array([[0, 3], [2, 2]])
    assert ops.one_hot(labels, 5).tolist() == F.one_hot(torch.tensor(labels), 5).tolist()
    assert ops.one_hot(labels).tolist() == F.one_hot(torch.tensor(labels)).tolist()


def test_methods_with_pytorchs_meaning():
    x = _randn(3, 1, 4)
    ours, theirs = Tensor(x), torch.tensor(x)
    for dim in (0, 2, (0, 2)):
        np.testing.assert_allclose(ours.var(dim=dim).data, theirs.var(dim=dim).numpy())
        np.testing.assert_allclose(ours.std(dim=dim, keepdim=True).data,
                                   theirs.std(dim=dim, keepdim=True).numpy())
    assert ours.transpose(0, 2).shape == tuple(theirs.transpose(0, 2).shape)
    assert ours.flatten(1).shape == tuple(theirs.flatten(1).shape)
    assert ours.squeeze(dim=0).shape == tuple(theirs.squeeze(dim=0).shape)
    assert ours.expand(2, 3, 5, 4).shape == tuple(theirs.expand(2, 3, 5, 4).shape)
    assert ours.size() == tuple(theirs.size()) and ours.size(-1) == theirs.size(-1)
    for n, chunks in ((7, 3), (6, 4), (2, 5)):
        y = _randn(n)
        assert [c.shape for c in Tensor(y).chunk(chunks)] == \
            [tuple(c.shape) for c in torch.tensor(y).chunk(chunks)]
    m = _randn(3, 4)
    mask = m > 0
    compare(lambda t: t.masked_fill(mask, 0.5),
            lambda t: t.masked_fill(torch.tensor(mask), 0.5), [m])
    compare(lambda t: t.clamp(-0.5, 0.5), lambda t: t.clamp(-0.5, 0.5), [m])
