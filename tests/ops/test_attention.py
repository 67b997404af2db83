"""scaled_dot_product_attention: gradients (first and second order), forward, masks, errors."""

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd as ag
import ops
from autograd import Tensor, grad
from autograd.testing import gradcheck, gradgradcheck
from autograd.testing import strategies as st_ag
from ops.attention import attention_dropout_mask
from tests.helpers import check_forward, gradchecks


@st.composite
def attention_case(draw):
    """q (..., L, E), k (..., S, E), v (..., S, Ev) — k and v maybe shared over the first
    batch axis — a mask: None, boolean, float (with some -inf), or causal, and a dropout
    mask over the scores (0 or 1 / (1 - p)) or None."""
    batch = tuple(draw(st.lists(st.integers(1, 2), max_size=2)))
    L, S, E, Ev = (draw(st.integers(1, 3)) for _ in range(4))
    kv_batch = batch[1:] if batch and draw(st.booleans()) else batch  # broadcast k, v
    q = draw(st_ag.arrays(batch + (L, E)))
    k = draw(st_ag.arrays(kv_batch + (S, E)))
    v = draw(st_ag.arrays(kv_batch + (S, Ev)))
    kind = draw(st.sampled_from(["none", "bool", "float", "causal"]))
    mask = None
    if kind == "bool":
        mask = draw(st_ag.arrays((L, S)).map(lambda a: a > -1))
    elif kind == "float":
        mask = draw(st_ag.arrays((L, S)))
        mask = np.where(mask > 2, -np.inf, mask)
    dropout_mask = None
    if draw(st.booleans()):
        scores = batch + (L, S)
        keep = draw(st_ag.arrays(scores)) > -1
        dropout_mask = keep / 0.75  # p = 0.25
    return q, k, v, mask, kind == "causal", dropout_mask


def sdpa_reference(q, k, v, mask=None, is_causal=False, dropout_mask=None):
    """The obvious formula in float64; rows that may attend to nothing give 0."""
    q, k, v = (a.astype(np.float64) for a in (q, k, v))
    s = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    keep = np.ones(s.shape, dtype=bool)
    if mask is not None and mask.dtype == bool:
        keep &= mask
    elif mask is not None:
        keep &= mask > -np.inf
        s = s + np.where(mask > -np.inf, mask, 0)
    if is_causal:
        keep &= np.tril(np.ones(s.shape[-2:], dtype=bool))
    e = np.where(keep, np.exp(np.where(keep, s, 0)), 0)
    total = e.sum(axis=-1, keepdims=True)
    p = np.divide(e, total, out=np.zeros_like(e), where=total > 0)
    return (p if dropout_mask is None else p * dropout_mask) @ v


def _attention(mask, is_causal, dropout_mask=None):
    return lambda q, k, v: ops.scaled_dot_product_attention(q, k, v, mask=mask,
                                                            is_causal=is_causal,
                                                            dropout_mask=dropout_mask)


@gradchecks("scaled_dot_product_attention")
@given(attention_case())
def test_attention_gradient(case):
    q, k, v, mask, causal, dropout_mask = case
    gradcheck(_attention(mask, causal, dropout_mask), [q, k, v])


@settings(max_examples=10)
@given(attention_case())
def test_attention_second_order(case):
    q, k, v, mask, causal, dropout_mask = case
    gradgradcheck(_attention(mask, causal, dropout_mask), [q, k, v], atol=1e-5)


@given(attention_case())
def test_attention_forward_matches_numpy(case):
    q, k, v, mask, causal, dropout_mask = case
    check_forward(_attention(mask, causal, dropout_mask),
                  lambda a, b, c: sdpa_reference(a, b, c, mask, causal, dropout_mask),
                  q, k, v, rtol=1e-5, atol=1e-5)


def test_fully_masked_rows_give_zero_not_nan():
    rng = np.random.default_rng(0)
    q, k, v = (Tensor(rng.standard_normal((2, 3, 4)), requires_grad=True) for _ in range(3))
    mask = np.array([[True, False, True], [False, False, False], [True, True, True]])
    out = ops.scaled_dot_product_attention(q, k, v, mask=mask)
    gs = grad((out * out).sum(), [q, k, v])
    assert np.isfinite(out.data).all() and all(np.isfinite(g).all() for g in gs)
    np.testing.assert_array_equal(out.data[:, 1], 0)
    np.testing.assert_array_equal(gs[0][:, 1], 0)


def test_causal_and_bool_mask_agree():
    rng = np.random.default_rng(1)
    q, k, v = (Tensor(rng.standard_normal((2, 4, 3))) for _ in range(3))
    causal = ops.scaled_dot_product_attention(q, k, v, is_causal=True)
    masked = ops.scaled_dot_product_attention(q, k, v, mask=np.tril(np.ones((4, 4), bool)))
    np.testing.assert_allclose(causal.data, masked.data)
    np.testing.assert_allclose(causal.data[:, 0], v.data[:, 0])  # the first query sees key 0


def test_large_scores_stay_finite_and_custom_scale():
    q = Tensor(np.full((1, 2, 2), 1e3, dtype=np.float32))
    k = Tensor(np.array([[[1e3, 1e3], [-1e3, -1e3]]], dtype=np.float32))
    v = Tensor(np.array([[[1.0], [2.0]]], dtype=np.float32))
    out = ops.scaled_dot_product_attention(q, k, v)
    np.testing.assert_allclose(out.data, [[[1.0], [1.0]]])
    zero_scale = ops.scaled_dot_product_attention(q, k, v, scale=0.0)
    np.testing.assert_allclose(zero_scale.data, [[[1.5], [1.5]]])


def test_attention_errors_name_the_shapes():
    q, k, v = Tensor(np.zeros((2, 3, 4))), Tensor(np.zeros((2, 5, 4))), Tensor(np.zeros((2, 5, 6)))
    with pytest.raises(ValueError, match=r"scaled_dot_product_attention: shapes q \(2, 3, 4\), "
                                         r"k \(2, 5, 3\)"):
        ops.scaled_dot_product_attention(q, Tensor(np.zeros((2, 5, 3))), v)
    with pytest.raises(ValueError, match=r"mask of shape \(3, 4\) does not broadcast to the "
                                         r"attention scores \(2, 3, 5\)"):
        ops.scaled_dot_product_attention(q, k, v, mask=np.ones((3, 4), bool))
    with pytest.raises(ValueError, match="need at least 2 dims"):
        ops.scaled_dot_product_attention(Tensor(np.zeros(4)), k, v)
    with pytest.raises(TypeError, match="mask must be boolean or float"):
        ops.scaled_dot_product_attention(q, k, v, mask=np.array([["a"]]))


def test_zero_keys_names_the_op_and_shapes():
    q, k, v = Tensor(np.zeros((2, 3, 4))), Tensor(np.zeros((2, 0, 4))), Tensor(np.zeros((2, 0, 5)))
    with pytest.raises(ValueError, match=re.escape(
            "scaled_dot_product_attention: no keys to attend to (S = 0): q (2, 3, 4), "
            "k (2, 0, 4), v (2, 0, 5)")):
        ops.scaled_dot_product_attention(q, k, v)


def test_dropout_p_draws_a_mask_from_rng():
    rng = np.random.default_rng(3)
    q, k, v = (Tensor(rng.standard_normal(s)) for s in ((2, 3, 4), (2, 5, 4), (2, 5, 2)))
    out = ops.scaled_dot_product_attention(q, k, v, dropout_p=0.4,
                                           rng=np.random.default_rng(7))
    mask = attention_dropout_mask((2, 3, 5), 0.4, np.float64, np.random.default_rng(7))
    assert set(np.unique(mask)) == {0.0, 1 / 0.6}
    np.testing.assert_allclose(out.data, sdpa_reference(q.data, k.data, v.data,
                                                        dropout_mask=mask), atol=1e-12)
    same = ops.scaled_dot_product_attention(q, k, v, dropout_mask=mask)
    np.testing.assert_array_equal(same.data, out.data)
    plain = ops.scaled_dot_product_attention(q, k, v, dropout_p=0.0)
    np.testing.assert_allclose(plain.data, sdpa_reference(q.data, k.data, v.data), atol=1e-12)
    f32 = ops.scaled_dot_product_attention(*(Tensor(t.data.astype(np.float32)) for t in (q, k, v)),
                                           dropout_p=0.5, rng=np.random.default_rng(0))
    assert f32.dtype == np.float32


def test_dropout_p_without_rng_follows_manual_seed():
    """Without an rng the mask comes from the library's default generator, as ops.dropout's:
    ag.manual_seed makes it reproducible (a fresh unseeded generator did not)."""
    rng = np.random.default_rng(5)
    q, k, v = (Tensor(rng.standard_normal(s)) for s in ((2, 3, 4), (2, 6, 4), (2, 6, 2)))
    ag.manual_seed(11)
    first = ops.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    ag.manual_seed(11)
    again = ops.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    np.testing.assert_array_equal(again.data, first.data)
    mask = attention_dropout_mask((2, 3, 6), 0.5, np.float64, np.random.default_rng(11))
    np.testing.assert_allclose(first.data, sdpa_reference(q.data, k.data, v.data,
                                                          dropout_mask=mask), atol=1e-12)


def test_dropout_keeps_the_expected_output():
    """Averaged over many masks, dropout leaves the output unchanged (inverted dropout)."""
    rng = np.random.default_rng(4)
    q, k, v = (rng.standard_normal(s) for s in ((1, 2, 3), (1, 4, 3), (1, 4, 2)))
    q, k, v = (a.repeat(4000, axis=0) for a in (q, k, v))
    out = ops.scaled_dot_product_attention(q, k, v, dropout_p=0.3, rng=rng)
    np.testing.assert_allclose(out.data.mean(axis=0), sdpa_reference(q, k, v)[0], atol=0.05)


def test_dropout_errors():
    q = Tensor(np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match=r"dropout_p must be a probability in \[0, 1\), got 1"):
        ops.scaled_dot_product_attention(q, q, q, dropout_p=1)
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator, got int"):
        ops.scaled_dot_product_attention(q, q, q, dropout_p=0.5, rng=3)
    with pytest.raises(ValueError, match="give dropout_p or dropout_mask, not both"):
        ops.scaled_dot_product_attention(q, q, q, dropout_p=0.5, dropout_mask=np.ones((3, 3)))
    with pytest.raises(ValueError, match=re.escape(
            "dropout_mask of shape (2, 2) does not broadcast to the attention scores (2, 3, 3)")):
        ops.scaled_dot_product_attention(q, q, q, dropout_mask=np.ones((2, 2)))


def test_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    q, k, v = (rng.standard_normal(s) for s in ((2, 2, 3, 4), (2, 2, 5, 4), (2, 2, 5, 3)))
    mask = rng.random((3, 5)) > 0.3
    mask[:, 0] = True  # every query sees a key (PyTorch gives NaN otherwise)
    g = rng.standard_normal((2, 2, 3, 3))
    ts = [torch.tensor(a, requires_grad=True) for a in (q, k, v)]
    t_out = torch.nn.functional.scaled_dot_product_attention(*ts, attn_mask=torch.tensor(mask))
    t_out.backward(torch.tensor(g))
    xs = [Tensor(a, requires_grad=True) for a in (q, k, v)]
    out = ops.scaled_dot_product_attention(*xs, mask=mask)
    out.backward(g)
    np.testing.assert_allclose(out.data, t_out.detach().numpy(), atol=1e-12)
    for x, t in zip(xs, ts):
        np.testing.assert_allclose(x.grad, t.grad.numpy(), atol=1e-12)
