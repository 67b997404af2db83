"""MultiheadAttention: forward against numpy, masks, weights, gradients, errors."""

import re

import numpy as np
import pytest

import autograd as ag
from autograd import Tensor, nn
from ops.attention import attention_dropout_mask
from tests.nn.common import layer_gradcheck, torch_state

rng = np.random.default_rng(0)


def mha_reference(mha, q, k, v, blocked=None, additive=None, dropout_mask=None):
    """Batch-first float64 numpy; ``blocked`` (broadcasting to (N, h, L, S)) True = may not
    attend, ``additive`` added to the scores, ``dropout_mask`` multiplies the weights."""
    e, h = mha.embed_dim, mha.num_heads
    d = e // h
    if mha.packed:
        w = mha.in_proj_weight.data
        ws = w[:, :e], w[:, e:2 * e], w[:, 2 * e:]
    else:
        ws = mha.q_proj_weight.data, mha.k_proj_weight.data, mha.v_proj_weight.data
    b = np.zeros(3 * e) if mha.in_proj_bias is None else mha.in_proj_bias.data
    bs = b[:e], b[e:2 * e], b[2 * e:]

    def heads(x, w, bias):  # (N, len, in) -> (N, h, len, d)
        y = x @ w + bias
        return y.reshape(x.shape[0], x.shape[1], h, d).transpose(0, 2, 1, 3)

    qh, kh, vh = (heads(x, w, bias) for x, w, bias in zip((q, k, v), ws, bs))
    s = qh @ kh.transpose(0, 1, 3, 2) / np.sqrt(d)
    if additive is not None:
        s = s + additive
    if blocked is not None:
        s = np.where(blocked, -np.inf, s)
    p = np.exp(s - s.max(axis=-1, keepdims=True))
    p /= p.sum(axis=-1, keepdims=True)
    if dropout_mask is not None:
        p = p * dropout_mask
    out = (p @ vh).transpose(0, 2, 1, 3).reshape(q.shape[0], q.shape[1], e)
    out = out @ mha.out_proj.weight.data
    if mha.out_proj.bias is not None:
        out = out + mha.out_proj.bias.data
    return out, p


def _randomise(mha):
    for p in mha.parameters():
        p.data[...] = rng.standard_normal(p.shape) * 0.5


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("batch_first", [True, False])
def test_forward_matches_numpy(batch_first, dtype):
    mha = nn.MultiheadAttention(8, 2, batch_first=batch_first, dtype=dtype)
    _randomise(mha)
    q, k, v = rng.standard_normal((2, 3, 8)), rng.standard_normal((2, 5, 8)), \
        rng.standard_normal((2, 5, 8))
    args = (q, k, v) if batch_first else tuple(np.swapaxes(a, 0, 1) for a in (q, k, v))
    out, weights = mha(*(Tensor(a.astype(dtype)) for a in args), need_weights=True)
    ref, p = mha_reference(mha, *(a.astype(dtype).astype(np.float64) for a in (q, k, v)))
    if not batch_first:
        ref = np.swapaxes(ref, 0, 1)
    tol = {"rtol": 1e-4, "atol": 1e-5} if dtype == np.float32 else {"rtol": 1e-12, "atol": 1e-12}
    assert out.dtype == dtype and out.shape == ref.shape
    np.testing.assert_allclose(out.data, ref, **tol)
    np.testing.assert_allclose(weights, p.mean(axis=1), **tol)


def test_masks():
    mha = nn.MultiheadAttention(4, 2, batch_first=True, dtype=np.float64)
    _randomise(mha)
    x = rng.standard_normal((2, 4, 4))
    padding = np.array([[False, False, False, True], [False, False, True, True]])
    causal = np.triu(np.ones((4, 4), bool), 1)
    out, w = mha(Tensor(x), Tensor(x), Tensor(x), key_padding_mask=padding, is_causal=True,
                 need_weights=True, average_attn_weights=False)
    blocked = padding[:, None, None, :] | causal
    ref, p = mha_reference(mha, x, x, x, blocked=blocked)
    np.testing.assert_allclose(out.data, ref, atol=1e-12)
    np.testing.assert_allclose(w, p, atol=1e-12)
    assert w.shape == (2, 2, 4, 4) and np.all(w[np.broadcast_to(blocked, w.shape)] == 0)
    # The same through attn_mask (boolean, and float -inf), and per-head float masks.
    same, _ = mha(Tensor(x), Tensor(x), Tensor(x), key_padding_mask=padding, attn_mask=causal)
    np.testing.assert_allclose(same.data, ref, atol=1e-12)
    float_causal = np.where(causal, -np.inf, 0.0)
    same, _ = mha(Tensor(x), Tensor(x), Tensor(x), key_padding_mask=padding,
                  attn_mask=float_causal)
    np.testing.assert_allclose(same.data, ref, atol=1e-12)
    bias = rng.standard_normal((2 * 2, 4, 4))
    out, _ = mha(Tensor(x), Tensor(x), Tensor(x), attn_mask=bias)
    ref, _ = mha_reference(mha, x, x, x, additive=bias.reshape(2, 2, 4, 4))
    np.testing.assert_allclose(out.data, ref, atol=1e-12)


def test_gradients():
    mha = nn.MultiheadAttention(4, 2, batch_first=True, dtype=np.float64)
    _randomise(mha)
    q, kv = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 4, 4))
    padding = np.array([[False, False, False, True], [False, False, False, False]])
    layer_gradcheck(mha, q, kv, kv, call=lambda m, a, b, c: m(a, b, c, key_padding_mask=padding,
                                                              is_causal=True),
                    output=lambda o: o[0])


def test_kdim_vdim_and_no_bias():
    mha = nn.MultiheadAttention(4, 1, bias=False, kdim=3, vdim=5, dtype=np.float64)
    assert [n for n, _ in mha.named_parameters()] == ["q_proj_weight", "k_proj_weight",
                                                      "v_proj_weight", "out_proj.weight"]
    _randomise(mha)
    q, k, v = rng.standard_normal((2, 1, 4)), rng.standard_normal((3, 1, 3)), \
        rng.standard_normal((3, 1, 5))
    out, _ = mha(Tensor(q), Tensor(k), Tensor(v))
    ref, _ = mha_reference(mha, *(np.swapaxes(a, 0, 1) for a in (q, k, v)))
    np.testing.assert_allclose(out.data, np.swapaxes(ref, 0, 1), atol=1e-12)
    layer_gradcheck(mha, q, k, v, output=lambda o: o[0])
    assert repr(mha) == ("MultiheadAttention(\n  embed_dim=4, num_heads=1, kdim=3, vdim=5, "
                         "bias=False\n  (out_proj): Linear(in_features=4, out_features=4, "
                         "bias=False)\n)")


def test_matches_torch():
    torch = pytest.importorskip("torch")
    t = torch.nn.MultiheadAttention(8, 2, batch_first=True).double()
    mha = nn.MultiheadAttention(8, 2, batch_first=True, dtype=np.float64)
    mha.load_state_dict(torch_state(t))
    q, k = rng.standard_normal((2, 5, 8)), rng.standard_normal((2, 6, 8))
    padding = np.zeros((2, 6), bool)
    padding[0, 4:] = True
    mask = np.triu(np.ones((5, 6), bool), 1)
    out, w = mha(Tensor(q), Tensor(k), Tensor(k), key_padding_mask=padding, attn_mask=mask,
                 need_weights=True)
    t_out, t_w = t(*(torch.tensor(a) for a in (q, k, k)), key_padding_mask=torch.tensor(padding),
                   attn_mask=torch.tensor(mask))
    np.testing.assert_allclose(out.data, t_out.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(w, t_w.detach().numpy(), atol=1e-12)


def test_init():
    mha = nn.MultiheadAttention(16, 4)
    bound = np.sqrt(6 / (16 + 48))
    assert mha.in_proj_weight.shape == (16, 48) and np.abs(mha.in_proj_weight.data).max() <= bound
    assert not mha.in_proj_bias.data.any() and not mha.out_proj.bias.data.any()


def test_bad_input_names_layer_and_shapes():
    mha = nn.MultiheadAttention(8, 2, batch_first=True)
    x = Tensor(np.zeros((2, 3, 8), dtype=np.float32))
    message = ("MultiheadAttention(\n  embed_dim=8, num_heads=2, batch_first=True\n  (out_proj): "
               "Linear(in_features=8, out_features=8, bias=True)\n): expected query, key, value "
               "of shapes (N, L, 8), (N, S, 8), (N, S, 8), got (2, 3, 8), (2, 3, 6), (2, 3, 8)")
    with pytest.raises(ValueError, match=re.escape(message)):
        mha(x, Tensor(np.zeros((2, 3, 6), dtype=np.float32)), x)
    with pytest.raises(ValueError, match=re.escape("got (3, 8), (3, 8), (3, 8)")):
        mha(x[0], x[0], x[0])
    with pytest.raises(ValueError, match=re.escape("key_padding_mask of shape (3,), expected "
                                                   "(2, 3)")):
        mha(x, x, x, key_padding_mask=np.zeros(3, bool))
    with pytest.raises(ValueError, match=re.escape("attn_mask of shape (2, 2), expected (3, 3) or "
                                                   "(4, 3, 3)")):
        mha(x, x, x, attn_mask=np.zeros((2, 2), bool))
    with pytest.raises(ValueError, match="MultiheadAttention: embed_dim 6 must be a positive "
                                         "multiple of num_heads 4"):
        nn.MultiheadAttention(6, 4)


def test_dropout_on_the_attention_weights_in_training_only():
    mha = nn.MultiheadAttention(4, 2, dropout=0.5, batch_first=True, dtype=np.float64)
    _randomise(mha)
    q, kv = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 5, 4))
    nn.init.seed(3)
    out, w = mha(Tensor(q), Tensor(kv), Tensor(kv), need_weights=True,
                 average_attn_weights=False)
    mask = attention_dropout_mask((2, 2, 3, 5), 0.5, np.float64, np.random.default_rng(3))
    ref, p = mha_reference(mha, q, kv, kv, dropout_mask=mask)
    np.testing.assert_allclose(out.data, ref, atol=1e-12)
    np.testing.assert_allclose(w, p, atol=1e-12)  # the weights applied, dropout included
    assert (w == 0).sum() == (mask == 0).sum()
    nn.init.seed(3)
    again, _ = mha(Tensor(q), Tensor(kv), Tensor(kv))
    np.testing.assert_array_equal(again.data, out.data)  # reproducible under a seed
    mha.eval()
    plain, w = mha(Tensor(q), Tensor(kv), Tensor(kv), need_weights=True)
    ref, p = mha_reference(mha, q, kv, kv)
    np.testing.assert_allclose(plain.data, ref, atol=1e-12)
    np.testing.assert_allclose(w, p.mean(axis=1), atol=1e-12)
    assert "dropout=0.5" in repr(mha)


def test_dropout_is_reproducible_under_manual_seed():
    mha = nn.MultiheadAttention(4, 2, dropout=0.5, batch_first=True, dtype=np.float64)
    q, kv = Tensor(rng.standard_normal((2, 3, 4))), Tensor(rng.standard_normal((2, 5, 4)))
    ag.manual_seed(21)
    first, w = mha(q, kv, kv, need_weights=True, average_attn_weights=False)
    ag.manual_seed(21)
    again, w_again = mha(q, kv, kv, need_weights=True, average_attn_weights=False)
    np.testing.assert_array_equal(again.data, first.data)
    np.testing.assert_array_equal(w_again, w)
    assert (w == 0).any()  # dropout did act
    ag.manual_seed(22)
    _, w_other = mha(q, kv, kv, need_weights=True, average_attn_weights=False)
    assert not np.array_equal(w_other, w)


def test_dropout_gradients():
    mha = nn.MultiheadAttention(4, 2, dropout=0.3, batch_first=True, dtype=np.float64)
    _randomise(mha)
    q, kv = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 4, 4))

    def call(m, a, b, c):
        nn.init.seed(5)  # the same dropout mask at every evaluation
        return m(a, b, c)[0]

    layer_gradcheck(mha, q, kv, kv, call=call)


def test_dropout_matches_torch_in_eval():
    torch = pytest.importorskip("torch")
    t = torch.nn.MultiheadAttention(8, 2, dropout=0.4, batch_first=True).double().eval()
    mha = nn.MultiheadAttention(8, 2, dropout=0.4, batch_first=True, dtype=np.float64).eval()
    mha.load_state_dict(torch_state(t))
    q, k = rng.standard_normal((2, 5, 8)), rng.standard_normal((2, 6, 8))
    out, w = mha(Tensor(q), Tensor(k), Tensor(k), need_weights=True)
    t_out, t_w = t(*(torch.tensor(a) for a in (q, k, k)))
    np.testing.assert_allclose(out.data, t_out.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(w, t_w.detach().numpy(), atol=1e-12)


def test_zero_keys_is_a_clear_error():
    mha = nn.MultiheadAttention(4, 2, batch_first=True)
    x = Tensor(np.zeros((2, 3, 4), dtype=np.float32))
    empty = Tensor(np.zeros((2, 0, 4), dtype=np.float32))
    with pytest.raises(ValueError, match=re.escape("scaled_dot_product_attention: no keys to "
                                                   "attend to (S = 0)")):
        mha(x, empty, empty)


def test_bad_dropout():
    with pytest.raises(ValueError, match="MultiheadAttention: dropout must be in \\[0, 1\\), "
                                         "got 1.0"):
        nn.MultiheadAttention(4, 2, dropout=1.0)


@pytest.mark.parametrize("kwargs, message", [
    ({"embed_dim": 8.0, "num_heads": 2}, "MultiheadAttention: embed_dim must be an integer, got "
                                         "float 8.0"),
    ({"embed_dim": 8, "num_heads": 2, "kdim": 3.5}, "MultiheadAttention: kdim must be an "
                                                    "integer, got float 3.5"),
])
def test_fractional_sizes_are_refused_not_truncated(kwargs, message):
    with pytest.raises(TypeError, match=re.escape(message)):
        nn.MultiheadAttention(**kwargs)
