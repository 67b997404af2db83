"""scaled_dot_product_attention: gradients (first and second order), forward, masks, errors."""

import re

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
def attention_case(draw):
    """q (..., L, E), k (..., S, E), v (..., S, Ev) — k and v maybe shared over the first
    batch axis — and a mask: None, boolean, float (with some -inf), or causal."""
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
    return q, k, v, mask, kind == "causal"


def sdpa_reference(q, k, v, mask=None, is_causal=False):
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
    return p @ v


def _attention(mask, is_causal):
    return lambda q, k, v: ops.scaled_dot_product_attention(q, k, v, mask=mask,
                                                            is_causal=is_causal)


@gradchecks("scaled_dot_product_attention")
@given(attention_case())
def test_attention_gradient(case):
    q, k, v, mask, causal = case
    gradcheck(_attention(mask, causal), [q, k, v])


@settings(max_examples=10)
@given(attention_case())
def test_attention_second_order(case):
    q, k, v, mask, causal = case
    gradgradcheck(_attention(mask, causal), [q, k, v], atol=1e-5)


@given(attention_case())
def test_attention_forward_matches_numpy(case):
    q, k, v, mask, causal = case
    check_forward(_attention(mask, causal), lambda a, b, c: sdpa_reference(a, b, c, mask, causal),
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
