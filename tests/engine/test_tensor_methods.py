"""Tensor's method forms of ops, numpy's and PyTorch's spellings: each against numpy (or
PyTorch's documented meaning), gradients where they are differentiable, and the places
where the two conventions disagree."""

import pickle

import numpy as np
import pytest

import ops
from autograd import Tensor, grad
from autograd.testing import gradcheck


def _rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


# --- regressions --------------------------------------------------------------------------
def test_two_argument_transpose_swaps_the_axes_as_pytorch():
    # numpy read transpose(0, 1) as the identity permutation of a 2-D tensor
    x = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    np.testing.assert_array_equal(x.transpose(0, 1).data, x.data.T)
    np.testing.assert_array_equal(x.transpose(1, 0).data, x.data.T)
    y = Tensor(_rand(2, 3, 4))
    assert y.transpose(0, 2).shape == (4, 3, 2) and y.transpose(-1, 1).shape == (2, 4, 3)
    # one tuple argument, or none, keeps numpy's permutation meaning
    assert y.transpose((1, 0, 2)).shape == (3, 2, 4) and y.transpose().shape == (4, 3, 2)
    assert y.transpose(1, 0, 2).shape == (3, 2, 4)
    np.testing.assert_array_equal(x.transpose((0, 1)).data, x.data)
    gradcheck(lambda t: t.transpose(0, 1) * np.arange(6.0).reshape(3, 2), [x.data])


def test_clip_and_broadcast_to_methods_use_the_tensor():
    # both were ops installed as plain attributes: x.clip(0, 2) returned clip(0, 2) = 2
    x = Tensor(np.array([-1.0, 0.5, 3.0]), requires_grad=True)
    np.testing.assert_array_equal(x.clip(0, 2).data, [0, 0.5, 2])
    np.testing.assert_array_equal(x.clip(max=1).data, [-1, 0.5, 1])
    assert x.broadcast_to((2, 3)).shape == (2, 3)
    (g,) = grad(x.broadcast_to((2, 3)).sum() + x.clip(0, 2).sum(), [x])
    np.testing.assert_array_equal(g, [2, 3, 2])


# --- size, numel, dim, tolist ------------------------------------------------------------
def test_size_is_numpys_int_and_pytorchs_method():
    x = Tensor(np.zeros((2, 3, 4), dtype=np.float32))
    assert x.size == 24 and isinstance(x.size, int) and x.size + 1 == 25
    assert x.size() == (2, 3, 4) and x.size(0) == 2 and x.size(-1) == 4
    assert x.numel() == 24 and x.dim() == 3 and x.ndim == 3
    assert list(range(x.size))[-1] == 23 and np.zeros(x.size).shape == (24,)
    # numpy treats the number as the plain Python int it is: float32 stays float32
    assert (x.data / x.size).dtype == np.float32 and (x / x.size).dtype == np.float32
    assert (np.float32(1.0) * x.size).dtype == np.float32
    assert type(pickle.loads(pickle.dumps(x.size))) is int
    with pytest.raises(IndexError, match=r"size: dim 3 is out of range for a tensor of shape "
                                         r"\(2, 3, 4\)"):
        x.size(3)
    assert Tensor(np.float64(1.0)).size() == ()


def test_tolist_item_and_copies():
    x = Tensor(np.array([[1.0, 2.0]]), requires_grad=True)
    assert x.tolist() == [[1.0, 2.0]]
    y = x.clone()
    assert y is not x and not np.shares_memory(y.data, x.data) and y.requires_grad
    (g,) = grad((y * 3).sum(), [x])  # a clone stays in the graph
    np.testing.assert_array_equal(g, [[3, 3]])
    assert x.contiguous() is x and x.cpu() is x


# --- dtypes -------------------------------------------------------------------------------
def test_to_float_double_and_integer_casts():
    x = Tensor(np.array([1.5, -2.5]), requires_grad=True)
    assert x.float().dtype == np.float32 and x.double() is x and x.half().dtype == np.float16
    assert x.long().dtype == np.int64 and x.long().tolist() == [1, -2]
    assert x.int().dtype == np.int32 and x.bool().dtype == bool
    assert x.to(np.float32).dtype == np.float32 and x.to("float32").dtype == np.float32
    assert x.to("cpu") is x and x.to(np.float64) is x and x.to(np.float64, copy=True) is not x
    assert x.to(Tensor(np.zeros(1, dtype=np.float32))).dtype == np.float32
    assert x.type_as(Tensor(np.zeros(1, dtype=np.float32))).dtype == np.float32
    f = x.float()
    assert f.requires_grad and not x.long().requires_grad
    (g,) = grad((f * 2).sum(), [x])
    assert g.dtype == np.float64 and g.tolist() == [2, 2]
    with pytest.raises(RuntimeError, match="to: only the CPU is supported, got device 'cuda'"):
        x.to("cuda")
    with pytest.raises(TypeError, match="to: expected a dtype, a tensor or 'cpu'"):
        x.to(object())


# --- shape methods ------------------------------------------------------------------------
def test_view_unsqueeze_permute_flatten_expand():
    data = _rand(2, 3, 4)
    x = Tensor(data, requires_grad=True)
    assert x.view(6, 4).shape == (6, 4) and x.view((4, -1)).shape == (4, 6)
    assert x.view_as(Tensor(np.zeros((24,)))).shape == (24,)
    assert x.reshape_as(Tensor(np.zeros((4, 6)))).shape == (4, 6)
    assert x.unsqueeze(0).shape == (1, 2, 3, 4) and x.unsqueeze(-1).shape == (2, 3, 4, 1)
    np.testing.assert_array_equal(x.permute(2, 0, 1).data, data.transpose(2, 0, 1))
    np.testing.assert_array_equal(x.permute((2, 0, 1)).data, data.transpose(2, 0, 1))
    assert x.flatten().shape == (24,) and x.flatten(1).shape == (2, 12)
    assert x.flatten(0, 1).shape == (6, 4) and x.flatten("C").shape == (24,)
    assert Tensor(np.float64(1.0)).flatten().shape == (1,)
    one = Tensor(_rand(1, 3))
    assert one.expand(4, 3).shape == (4, 3) and one.expand(2, -1, -1).shape == (2, 1, 3)
    assert one.expand_as(Tensor(np.zeros((5, 3)))).shape == (5, 3)
    gradcheck(lambda t: t.permute(1, 2, 0).flatten(1).unsqueeze(0).view(-1), [data])
    with pytest.raises(TypeError, match="view: reinterpreting the bytes as dtype"):
        x.view(np.float32)
    with pytest.raises(ValueError, match="flatten: start_dim 2 comes after end_dim 1"):
        x.flatten(2, 1)


def test_squeeze_numpy_and_pytorch_meanings():
    x = Tensor(np.zeros((1, 3, 1)))
    assert x.squeeze().shape == (3,) and x.squeeze(0).shape == (3, 1)
    assert x.squeeze(dim=1).shape == (1, 3, 1)   # PyTorch: not of length 1, left alone
    assert x.squeeze(dim=(0, 1)).shape == (3, 1)
    with pytest.raises(ValueError, match="squeeze: cannot remove axis 1 of length 3"):
        x.squeeze(1)                              # numpy: an error


def test_t_mT_T():
    m = Tensor(_rand(2, 3))
    np.testing.assert_array_equal(m.t().data, m.data.T)
    v = Tensor(_rand(3))
    assert v.t() is v
    b = Tensor(_rand(4, 2, 3))
    np.testing.assert_array_equal(b.mT.data, np.swapaxes(b.data, -1, -2))
    assert b.T.shape == (3, 2, 4)
    with pytest.raises(ValueError, match=r"t: expects a tensor of at most 2 dims, got shape "
                                         r"\(4, 2, 3\)"):
        b.t()
    with pytest.raises(ValueError, match="mT: needs at least 2 dims"):
        v.mT  # noqa: B018


def test_chunk_unbind_flip_tril_triu():
    data = _rand(5, 3)
    x = Tensor(data, requires_grad=True)
    assert [c.shape for c in x.chunk(2)] == [(3, 3), (2, 3)]
    assert [c.shape for c in x.chunk(3, dim=1)] == [(5, 1)] * 3
    rows = x.unbind()
    assert len(rows) == 5 and rows[2].shape == (3,)
    np.testing.assert_array_equal(x.unbind(1)[0].data, data[:, 0])
    np.testing.assert_array_equal(x.flip(0).data, data[::-1])
    np.testing.assert_array_equal(x.flip(0, 1).data, data[::-1, ::-1])
    np.testing.assert_array_equal(x.tril(-1).data, np.tril(data, -1))
    np.testing.assert_array_equal(x.triu(diagonal=1).data, np.triu(data, 1))
    gradcheck(lambda t: sum(c.sum() * (i + 1) for i, c in enumerate(t.chunk(2))), [data])


# --- reductions ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["sum", "mean", "prod", "logsumexp"])
def test_reductions_take_dim_and_keepdim(name):
    data = _rand(2, 3, 4)
    x = Tensor(data)
    method = getattr(x, name)
    np.testing.assert_allclose(method(dim=1, keepdim=True).data,
                               method(axis=1, keepdims=True).data)
    np.testing.assert_allclose(method(1).data, method(axis=1).data)
    np.testing.assert_allclose(method(dim=(0, 2)).data, method(axis=(0, 2)).data)
    if name != "logsumexp":
        np.testing.assert_allclose(method(axis=1).data, getattr(np, name)(data, axis=1))


def test_max_min_values_or_values_and_indices():
    data = np.array([[1.0, 5.0, 5.0], [4.0, 0.0, 2.0]])
    x = Tensor(data, requires_grad=True)
    np.testing.assert_array_equal(x.max(axis=1).data, [5, 4])   # numpy: values
    np.testing.assert_array_equal(x.max(1).data, [5, 4])
    assert x.max().item() == 5 and x.min(keepdim=True).shape == (1, 1)
    values, indices = x.max(dim=1)                               # PyTorch: values, indices
    assert values.tolist() == [5, 4] and indices.tolist() == [1, 0]
    out = x.min(dim=0, keepdim=True)
    assert out.values.tolist() == [[1, 0, 2]] and out.indices.tolist() == [[0, 1, 1]]
    assert x.amax(dim=1).tolist() == [5, 4] and x.amin().item() == 0
    # max with dim= gives its gradient to the element at the index, as PyTorch
    (g,) = grad(x.max(dim=1).values.sum(), [x])
    np.testing.assert_array_equal(g, [[0, 1, 0], [1, 0, 0]])
    (g,) = grad(x.max(axis=1).sum(), [x])                        # ties share, as ops.max
    np.testing.assert_array_equal(g, [[0, 0.5, 0.5], [1, 0, 0]])
    with pytest.raises(TypeError, match="max: give axis=/keepdims= .* or dim=/keepdim="):
        x.max(axis=0, dim=1)


def test_var_std_defaults_follow_the_spelling():
    data = _rand(3, 5)
    x = Tensor(data)
    np.testing.assert_allclose(x.var(axis=1).data, np.var(data, axis=1))           # ddof 0
    np.testing.assert_allclose(x.var(dim=1).data, np.var(data, axis=1, ddof=1))    # unbiased
    np.testing.assert_allclose(x.std(dim=1, unbiased=False).data, np.std(data, axis=1))
    np.testing.assert_allclose(x.std(unbiased=True).data, np.std(data, ddof=1))
    np.testing.assert_allclose(x.var(dim=0, correction=0, keepdim=True).data,
                               np.var(data, axis=0, keepdims=True))
    np.testing.assert_allclose(x.var().data, np.var(data))
    with pytest.raises(TypeError, match="var: give one of ddof=, unbiased= or correction="):
        x.var(ddof=1, unbiased=True)


def test_ordering_methods():
    data = np.array([[3.0, 1.0, 2.0], [0.0, 5.0, 4.0]])
    x = Tensor(data, requires_grad=True)
    values, indices = x.sort()
    np.testing.assert_array_equal(values.data, np.sort(data))
    assert x.sort(dim=0, descending=True).indices.tolist() == [[0, 1, 1], [1, 0, 0]]
    assert x.argsort(descending=True).tolist() == [[0, 2, 1], [1, 2, 0]]
    assert x.topk(2).values.tolist() == [[3, 2], [5, 4]]
    assert x.topk(1, dim=0, largest=False).indices.tolist() == [[1, 0, 0]]
    assert x.argmax().item() == 4 and x.argmax(dim=1).tolist() == [0, 1]
    assert x.argmin(axis=0, keepdims=True).tolist() == [[1, 0, 0]]
    assert x.cumsum(dim=1).tolist() == [[3, 4, 6], [0, 5, 9]]
    assert x.gather(1, np.array([[2], [0]])).tolist() == [[2], [0]]
    assert x.norm().item() == pytest.approx(np.sqrt(55)) and x.norm(2, dim=1).shape == (2,)
    with pytest.raises(ValueError, match="norm: only the 2-norm"):
        x.norm(1)


# --- values -------------------------------------------------------------------------------
def test_clamp_masked_fill_where_and_unary_methods():
    data = np.array([[-2.0, 0.5], [1.5, 3.0]])
    x = Tensor(data, requires_grad=True)
    np.testing.assert_array_equal(x.clamp(min=0).data, np.clip(data, 0, None))
    np.testing.assert_array_equal(x.clamp(-1, 1).data, np.clip(data, -1, 1))
    mask = data > 1
    filled = x.masked_fill(mask, 0.0)
    np.testing.assert_array_equal(filled.data, np.where(mask, 0, data))
    (g,) = grad(filled.sum(), [x])
    np.testing.assert_array_equal(g, ~mask)
    assert x.masked_fill(Tensor(np.array([True, False])), -1.0).tolist() == [[-1, 0.5], [-1, 3]]
    assert x.float().masked_fill(mask, 7).dtype == np.float32
    np.testing.assert_array_equal(x.where(mask, 0.0).data, np.where(mask, data, 0))
    for name in ("square", "log1p", "expm1", "silu", "sin", "cos", "neg", "exp", "tanh"):
        out = getattr(x.abs(), name)()
        assert out.requires_grad and out.shape == (2, 2)
    np.testing.assert_allclose(x.pow(2).data, data**2)
    with pytest.raises(TypeError, match="masked_fill: mask must be boolean, got dtype int64"):
        x.masked_fill(np.ones((2, 2), dtype=int), 0)
    with pytest.raises(ValueError, match=r"masked_fill: mask of shape \(3,\) does not broadcast "
                                         r"to the tensor's shape \(2, 2\)"):
        x.masked_fill(np.ones(3, dtype=bool), 0)


def test_softmax_methods_take_dim():
    x = Tensor(_rand(2, 3))
    np.testing.assert_allclose(x.softmax(dim=0).data, ops.softmax(x, axis=0).data)
    np.testing.assert_allclose(x.log_softmax(0).data, ops.log_softmax(x, axis=0).data)
