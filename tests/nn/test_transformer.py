"""TransformerEncoderLayer and TransformerEncoder: forward against numpy, dropout, gradients,
PyTorch agreement, errors."""

import math
import re

import numpy as np
import pytest

import ops
from autograd import Tensor, nn
from tests.nn.common import layer_gradcheck, layer_gradgradcheck, torch_state
from tests.nn.test_attention_layer import mha_reference

rng = np.random.default_rng(0)


def _randomise(module):
    for p in module.parameters():
        p.data[...] = rng.standard_normal(p.shape) * 0.5


def _layer_norm(x, norm):
    x = (x - x.mean(axis=-1, keepdims=True)) / np.sqrt(x.var(axis=-1, keepdims=True) + norm.eps)
    return x * norm.weight.data + (0 if norm.bias is None else norm.bias.data)


def _linear(x, fc):
    return x @ fc.weight.data + (0 if fc.bias is None else fc.bias.data)


def encoder_layer_reference(layer, x, activation=lambda a: np.maximum(a, 0), **masks):
    """Batch-first float64 numpy, no dropout."""
    def attention(a):
        return mha_reference(layer.self_attn, a, a, a, **masks)[0]

    def feedforward(a):
        return _linear(activation(_linear(a, layer.linear1)), layer.linear2)

    if layer.norm_first:
        x = x + attention(_layer_norm(x, layer.norm1))
        return x + feedforward(_layer_norm(x, layer.norm2))
    x = _layer_norm(x + attention(x), layer.norm1)
    return _layer_norm(x + feedforward(x), layer.norm2)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("batch_first", [True, False])
@pytest.mark.parametrize("norm_first", [False, True])
def test_forward_matches_numpy(norm_first, batch_first, dtype):
    layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=12, norm_first=norm_first,
                                       batch_first=batch_first, dtype=dtype).eval()
    _randomise(layer)
    x = rng.standard_normal((2, 5, 8))
    padding = np.zeros((2, 5), bool)
    padding[1, 3:] = True
    causal = np.triu(np.ones((5, 5), bool), 1)
    given = x if batch_first else np.swapaxes(x, 0, 1)
    out = layer(Tensor(given.astype(dtype)), src_mask=causal, src_key_padding_mask=padding)
    ref = encoder_layer_reference(layer, x.astype(dtype).astype(np.float64),
                                  blocked=causal | padding[:, None, None, :])
    if not batch_first:
        ref = np.swapaxes(ref, 0, 1)
    tol = {"rtol": 1e-4, "atol": 1e-5} if dtype == np.float32 else {"rtol": 1e-11, "atol": 1e-12}
    assert out.dtype == dtype and out.shape == ref.shape
    np.testing.assert_allclose(out.data, ref, **tol)
    same = layer(Tensor(given.astype(dtype)), src_key_padding_mask=padding, is_causal=True)
    np.testing.assert_allclose(same.data, out.data, **tol)


def test_unbatched_input_and_gelu_activation():
    layer = nn.TransformerEncoderLayer(4, 2, dim_feedforward=6, activation="gelu",
                                       dtype=np.float64).eval()
    _randomise(layer)
    x = rng.standard_normal((3, 4))  # (L, E)
    out = layer(Tensor(x))
    batched = layer(Tensor(x[:, None]))
    assert out.shape == (3, 4)
    np.testing.assert_allclose(out.data, batched.data[:, 0], atol=1e-12)
    erf = np.vectorize(math.erf)
    ref = encoder_layer_reference(layer, x[None], lambda a: a * (1 + erf(a / np.sqrt(2))) / 2)
    np.testing.assert_allclose(out.data, ref[0], atol=1e-12)
    padded = layer(Tensor(x), src_key_padding_mask=np.array([False, False, True]))
    ref = layer(Tensor(x[:, None]), src_key_padding_mask=np.array([[False, False, True]]))
    np.testing.assert_allclose(padded.data, ref.data[:, 0], atol=1e-12)


def test_dropout_in_training_only():
    layer = nn.TransformerEncoderLayer(4, 2, dim_feedforward=6, dropout=0.5,
                                       batch_first=True, dtype=np.float64)
    _randomise(layer)
    x = Tensor(rng.standard_normal((2, 3, 4)))
    nn.init.seed(1)
    first = layer(x)
    nn.init.seed(1)
    np.testing.assert_array_equal(layer(x).data, first.data)  # reproducible under a seed
    layer.eval()
    plain = layer(x)
    np.testing.assert_allclose(plain.data, encoder_layer_reference(layer, x.data), atol=1e-12)
    assert not np.allclose(first.data, plain.data)


@pytest.mark.parametrize("norm_first", [False, True])
def test_gradients(norm_first):
    layer = nn.TransformerEncoderLayer(4, 2, dim_feedforward=6, dropout=0.0,
                                       norm_first=norm_first, batch_first=True,
                                       dtype=np.float64)
    _randomise(layer)
    x = rng.standard_normal((2, 3, 4))
    layer_gradcheck(layer, x, call=lambda m, a: m(a, is_causal=True))


def test_gradients_through_dropout():
    layer = nn.TransformerEncoderLayer(4, 2, dim_feedforward=6, dropout=0.3,
                                       batch_first=True, dtype=np.float64)
    _randomise(layer)

    def call(m, a):
        nn.init.seed(2)  # the same dropout masks at every evaluation
        return m(a)

    layer_gradcheck(layer, rng.standard_normal((2, 3, 4)), call=call)


def test_second_derivatives():
    layer = nn.TransformerEncoderLayer(4, 2, dim_feedforward=4, dropout=0.2, activation="gelu",
                                       batch_first=True, dtype=np.float64)
    _randomise(layer)

    def call(m, a):
        nn.init.seed(0)  # the same dropout masks at every evaluation
        return m(a, is_causal=True)

    layer_gradgradcheck(layer, rng.standard_normal((2, 3, 4)), call=call, atol=1e-5)


def _torch_layer(torch, norm_first, activation="relu"):
    t = torch.nn.TransformerEncoderLayer(8, 2, dim_feedforward=12, dropout=0.1,
                                         activation=activation, batch_first=True,
                                         norm_first=norm_first).double().eval()
    with torch.no_grad():
        for p in t.parameters():
            p.copy_(torch.tensor(rng.standard_normal(tuple(p.shape)) * 0.5))
    return t


@pytest.mark.parametrize("norm_first, activation", [(False, "relu"), (True, "gelu"),
                                                    (False, "silu")])
def test_matches_torch(norm_first, activation):
    torch = pytest.importorskip("torch")
    t_activation = torch.nn.functional.silu if activation == "silu" else activation
    t = _torch_layer(torch, norm_first, t_activation)
    ours = (lambda a: ops.sigmoid(a) * a) if activation == "silu" else activation
    layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=12, dropout=0.1,
                                       activation=ours, batch_first=True,
                                       norm_first=norm_first, dtype=np.float64).eval()
    layer.load_state_dict(torch_state(t))
    x = rng.standard_normal((2, 5, 8))
    padding = np.zeros((2, 5), bool)
    padding[0, 4:] = True
    mask = np.triu(np.ones((5, 5), bool), 1)
    g = rng.standard_normal(x.shape)
    xt = torch.tensor(x, requires_grad=True)
    t_out = t(xt, src_mask=torch.tensor(mask), src_key_padding_mask=torch.tensor(padding))
    t_out.backward(torch.tensor(g))
    xa = Tensor(x, requires_grad=True)
    out = layer(xa, src_mask=mask, src_key_padding_mask=padding)
    out.backward(g)
    np.testing.assert_allclose(out.data, t_out.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(xa.grad, xt.grad.numpy(), atol=1e-10)
    t_params = dict(t.named_parameters())
    for name, p in layer.named_parameters():
        expected = t_params[name].grad.numpy()
        np.testing.assert_allclose(p.grad, expected.T if p.ndim == 2 else expected, atol=1e-10)


def test_encoder_stack_matches_torch():
    torch = pytest.importorskip("torch")
    t_layer = _torch_layer(torch, norm_first=True)
    t = torch.nn.TransformerEncoder(t_layer, 2, norm=torch.nn.LayerNorm(8),
                                    enable_nested_tensor=False).double().eval()
    with torch.no_grad():
        for p in t.layers[1].parameters():  # the copies start equal: make them differ
            p.add_(torch.tensor(rng.standard_normal(tuple(p.shape)) * 0.1))
    layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=12, batch_first=True,
                                       norm_first=True, dtype=np.float64)
    encoder = nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(8, dtype=np.float64)).eval()
    encoder.load_state_dict(torch_state(t))
    x = rng.standard_normal((2, 4, 8))
    out = encoder(Tensor(x), is_causal=True)
    t_out = t(torch.tensor(x), mask=torch.nn.Transformer.generate_square_subsequent_mask(4,
              dtype=torch.float64), is_causal=True)
    np.testing.assert_allclose(out.data, t_out.detach().numpy(), atol=1e-12)


def test_encoder_copies_are_independent():
    layer = nn.TransformerEncoderLayer(4, 2, dim_feedforward=6, batch_first=True)
    encoder = nn.TransformerEncoder(layer, 3)
    names = [n for n, _ in encoder.named_parameters()]
    assert len(names) == 3 * len(list(layer.parameters()))
    assert names[0] == "layers.0.self_attn.in_proj_weight"
    first, second = encoder.layers[0].linear1.weight, encoder.layers[1].linear1.weight
    assert first is not second and not np.shares_memory(first.data, second.data)
    x = Tensor(rng.standard_normal((2, 3, 4)).astype(np.float32))
    encoder.eval()
    expected = x
    for sub in encoder.layers:
        expected = sub(expected)
    np.testing.assert_allclose(encoder(x).data, expected.data)


def test_errors_name_the_layer_and_shapes():
    with pytest.raises(ValueError, match="TransformerEncoderLayer: activation must be 'relu', "
                                         "'gelu' or a callable, got 'tanh'"):
        nn.TransformerEncoderLayer(4, 2, activation="tanh")
    with pytest.raises(TypeError, match="activation must be 'relu', 'gelu' or a callable, got "
                                        "int"):
        nn.TransformerEncoderLayer(4, 2, activation=3)
    with pytest.raises(ValueError, match="MultiheadAttention: embed_dim 6 must be a positive "
                                         "multiple of num_heads 4"):
        nn.TransformerEncoderLayer(6, 4)
    layer = nn.TransformerEncoderLayer(4, 2, batch_first=True)
    with pytest.raises(ValueError, match=re.escape(
            "TransformerEncoderLayer(d_model=4): expected input of shape (N, L, 4) or (L, 4), "
            "got shape (2, 3, 5)")):
        layer(Tensor(np.zeros((2, 3, 5), dtype=np.float32)))
    with pytest.raises(ValueError, match="TransformerEncoder: num_layers must be positive"):
        nn.TransformerEncoder(layer, 0)
