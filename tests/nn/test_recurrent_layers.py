"""RNN, LSTM, GRU: multi-layer forward against step-by-step numpy, layouts, initial states,
gradients, errors."""

import re

import numpy as np
import pytest

from autograd import Tensor, nn
from tests.nn.common import layer_gradcheck, torch_state
from tests.ops.test_recurrent import gru_reference, lstm_reference, rnn_reference

rng = np.random.default_rng(0)


def _direction_reference(module, x, suffix, h0, c0, reverse):
    """One layer and direction of ``module`` over time-major x (T, N, in), float64 numpy ->
    (every h_t (T, N, H), h_T, c_T or None)."""
    p = {name: getattr(module, f"{name}{suffix}") for name in
         ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
    p = {name: None if v is None else v.data.astype(np.float64) for name, v in p.items()}
    x = x[::-1] if reverse else x
    xp = x @ p["weight_ih"] + (0 if p["bias_ih"] is None else p["bias_ih"])
    c_last = None
    if isinstance(module, nn.LSTM):
        hs, cs = lstm_reference(xp, h0, c0, p["weight_hh"], p["bias_hh"])
        c_last = cs[-1]
    elif isinstance(module, nn.GRU):
        hs = gru_reference(xp, h0, p["weight_hh"], p["bias_hh"])
    else:
        hs = rnn_reference(xp, h0, p["weight_hh"], p["bias_hh"], module.nonlinearity)
    return (hs[::-1] if reverse else hs), hs[-1], c_last


def stack_reference(module, x, h0, c0=None):
    """Time-major x (T, N, I) through every layer and direction of ``module`` in float64
    numpy -> (output (T, N, D*H), h_n (L*D, N, H), c_n or None)."""
    d_count = 2 if module.bidirectional else 1
    outs_h, outs_c = [], []
    for k in range(module.num_layers):
        outputs = []
        for d, suffix in enumerate([f"_l{k}", f"_l{k}_reverse"][:d_count]):
            i = k * d_count + d
            hs, h_last, c_last = _direction_reference(
                module, x, suffix, h0[i], None if c0 is None else c0[i], reverse=d == 1)
            outputs.append(hs)
            outs_h.append(h_last)
            outs_c.append(c_last)
        x = np.concatenate(outputs, axis=-1)
    c_n = np.stack(outs_c) if isinstance(module, nn.LSTM) else None
    return x, np.stack(outs_h), c_n


LAYERS = [
    lambda **kw: nn.RNN(3, 4, **kw),
    lambda **kw: nn.RNN(3, 4, nonlinearity="relu", **kw),
    lambda **kw: nn.LSTM(3, 4, **kw),
    lambda **kw: nn.GRU(3, 4, **kw),
]
IDS = ["rnn_tanh", "rnn_relu", "lstm", "gru"]


def _call(module, x, h0, c0):
    """module(x, state) -> (output, h_n, c_n or None)."""
    if isinstance(module, nn.LSTM):
        out, (h_n, c_n) = module(x, None if h0 is None else (h0, c0))
        return out, h_n, c_n
    out, h_n = module(x, h0)
    return out, h_n, None


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("make", LAYERS, ids=IDS)
def test_forward_matches_numpy(make, batch_first, dtype):
    module = make(num_layers=2, batch_first=batch_first, dtype=dtype)
    T, N = 5, 2
    x = rng.standard_normal((T, N, 3))
    h0, c0 = rng.standard_normal((2, N, 4)), rng.standard_normal((2, N, 4))
    given = np.swapaxes(x, 0, 1) if batch_first else x
    out, h_n, c_n = _call(module, Tensor(given.astype(dtype)), Tensor(h0.astype(dtype)),
                          Tensor(c0.astype(dtype)))
    ref_out, ref_h, ref_c = stack_reference(module, x.astype(dtype).astype(np.float64),
                                            h0.astype(dtype), c0.astype(dtype))
    if batch_first:
        ref_out = np.swapaxes(ref_out, 0, 1)
    tol = {"rtol": 1e-5, "atol": 1e-5} if dtype == np.float32 else {"rtol": 1e-12, "atol": 1e-12}
    assert out.dtype == dtype and out.shape == ref_out.shape and h_n.shape == (2, N, 4)
    np.testing.assert_allclose(out.data, ref_out, **tol)
    np.testing.assert_allclose(h_n.data, ref_h, **tol)
    if c_n is not None:
        np.testing.assert_allclose(c_n.data, ref_c, **tol)


@pytest.mark.parametrize("make", LAYERS, ids=IDS)
def test_zero_initial_state_and_unbatched_input(make):
    module = make(dtype=np.float64)
    x = rng.standard_normal((4, 3))  # (T, input_size)
    out, h_n, c_n = _call(module, Tensor(x), None, None)
    assert out.shape == (4, 4) and h_n.shape == (1, 4)
    ref_out, ref_h, _ = stack_reference(module, x[:, None], np.zeros((1, 1, 4)),
                                            np.zeros((1, 1, 4)))
    np.testing.assert_allclose(out.data, ref_out[:, 0], atol=1e-12)
    np.testing.assert_allclose(h_n.data, ref_h[:, 0], atol=1e-12)
    np.testing.assert_allclose(out.data[-1], h_n.data[-1])  # the last layer's last step
    if c_n is not None:
        assert c_n.shape == (1, 4)


@pytest.mark.parametrize("make", LAYERS, ids=IDS)
def test_gradients(make):
    module = make(num_layers=2, batch_first=True, dtype=np.float64)
    x = rng.standard_normal((2, 3, 3))
    h0 = rng.standard_normal((2, 2, 4))
    if isinstance(module, nn.LSTM):
        c0 = rng.standard_normal((2, 2, 4))
        layer_gradcheck(module, x, h0, c0, call=lambda m, xt, h, c: m(xt, (h, c)),
                        output=lambda o: (o[0], o[1][0], o[1][1]))
    else:
        layer_gradcheck(module, x, h0)


def test_gradients_without_bias_and_with_state_tensors_only():
    gru = nn.GRU(2, 3, bias=False, dtype=np.float64)
    assert [n for n, _ in gru.named_parameters()] == ["weight_ih_l0", "weight_hh_l0"]
    layer_gradcheck(gru, rng.standard_normal((3, 2, 2)), output=lambda o: o[1])


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_matches_torch(kind):
    torch = pytest.importorskip("torch")
    t = getattr(torch.nn, kind)(3, 4, num_layers=2, batch_first=True).double()
    module = getattr(nn, kind)(3, 4, num_layers=2, batch_first=True, dtype=np.float64)
    module.load_state_dict(torch_state(t))
    x = rng.standard_normal((2, 5, 3))
    h0, c0 = rng.standard_normal((2, 2, 4)), rng.standard_normal((2, 2, 4))
    if kind == "LSTM":
        out, (h_n, c_n) = module(Tensor(x), (Tensor(h0), Tensor(c0)))
        t_out, (t_h, t_c) = t(torch.tensor(x), (torch.tensor(h0), torch.tensor(c0)))
        np.testing.assert_allclose(c_n.data, t_c.detach().numpy(), atol=1e-12)
    else:
        out, h_n = module(Tensor(x), Tensor(h0))
        t_out, t_h = t(torch.tensor(x), torch.tensor(h0))
    np.testing.assert_allclose(out.data, t_out.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(h_n.data, t_h.detach().numpy(), atol=1e-12)


def test_parameter_layout_init_and_repr():
    gru = nn.GRU(3, 4, num_layers=2)
    shapes = {n: p.shape for n, p in gru.named_parameters()}
    assert shapes == {"weight_ih_l0": (3, 12), "weight_hh_l0": (4, 12), "bias_ih_l0": (12,),
                      "bias_hh_l0": (12,), "weight_ih_l1": (4, 12), "weight_hh_l1": (4, 12),
                      "bias_ih_l1": (12,), "bias_hh_l1": (12,)}
    assert all(np.abs(p.data).max() <= 0.5 and p.dtype == np.float32 for p in gru.parameters())
    assert nn.LSTM(3, 5).weight_hh_l0.shape == (5, 20)
    assert repr(gru) == "GRU(3, 4, num_layers=2)"
    assert repr(nn.RNN(2, 3, nonlinearity="relu", batch_first=True, bias=False)) == (
        "RNN(2, 3, bias=False, batch_first=True, nonlinearity='relu')")


def test_dropout_between_layers_only_in_training():
    gru = nn.GRU(3, 4, num_layers=2, dropout=0.5, dtype=np.float64)
    x = Tensor(rng.standard_normal((3, 2, 3)))
    nn.init.seed(0)
    first, _ = gru(x)
    nn.init.seed(0)
    np.testing.assert_array_equal(gru(x)[0].data, first.data)  # reproducible under a seed
    gru.eval()
    plain, _ = gru(x)
    ref, _, _ = stack_reference(gru, x.data, np.zeros((2, 2, 4)))
    np.testing.assert_allclose(plain.data, ref, atol=1e-12)
    assert not np.allclose(first.data, plain.data)


def test_bad_input_names_layer_and_shapes():
    gru = nn.GRU(3, 4, batch_first=True)
    with pytest.raises(ValueError, match=re.escape("GRU(input_size=3): expected input of shape "
                                                   "(N, T, 3) or (T, 3), got shape (2, 5, 4)")):
        gru(Tensor(np.zeros((2, 5, 4), dtype=np.float32)))
    with pytest.raises(ValueError, match=re.escape("got shape (5,)")):
        gru(Tensor(np.zeros(5, dtype=np.float32)))
    with pytest.raises(ValueError, match=re.escape("GRU: expected hx of shape (1, 2, 4), got "
                                                   "shape (2, 4)")):
        gru(Tensor(np.zeros((2, 5, 3), dtype=np.float32)), Tensor(np.zeros((2, 4))))
    lstm = nn.LSTM(3, 4)
    with pytest.raises(ValueError, match=re.escape("LSTM: expected c0 of shape (1, 2, 4)")):
        lstm(np.zeros((5, 2, 3), np.float32), (np.zeros((1, 2, 4)), np.zeros((1, 3, 4))))
    with pytest.raises(ValueError, match=re.escape("LSTM: hx must be a pair (h0, c0)")):
        lstm(np.zeros((5, 2, 3), np.float32), np.zeros((1, 2, 4)))
    with pytest.raises(ValueError, match="RNN: nonlinearity must be 'tanh' or 'relu'"):
        nn.RNN(3, 4, nonlinearity="gelu")
    with pytest.raises(ValueError, match="GRU: input_size 3, hidden_size 0 and num_layers 1"):
        nn.GRU(3, 0)


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("batch_first, shape", [(False, (0, 2, 3)), (True, (2, 0, 3)),
                                                (False, (0, 3))])
def test_empty_sequence_names_layer_and_shape(kind, batch_first, shape):
    module = getattr(nn, kind)(3, 4, batch_first=batch_first)
    message = f"{kind}: expected a sequence of at least one step, got input of shape {shape}"
    with pytest.raises(ValueError, match=re.escape(message)):
        module(Tensor(np.zeros(shape, dtype=np.float32)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("make", LAYERS, ids=IDS)
def test_bidirectional_forward_matches_numpy(make, batch_first, dtype):
    module = make(num_layers=2, batch_first=batch_first, bidirectional=True, dtype=dtype)
    T, N = 4, 2
    x = rng.standard_normal((T, N, 3))
    h0, c0 = rng.standard_normal((4, N, 4)), rng.standard_normal((4, N, 4))
    given = np.swapaxes(x, 0, 1) if batch_first else x
    out, h_n, c_n = _call(module, Tensor(given.astype(dtype)), Tensor(h0.astype(dtype)),
                          Tensor(c0.astype(dtype)))
    ref_out, ref_h, ref_c = stack_reference(module, x.astype(dtype).astype(np.float64),
                                            h0.astype(dtype), c0.astype(dtype))
    if batch_first:
        ref_out = np.swapaxes(ref_out, 0, 1)
    tol = {"rtol": 1e-5, "atol": 1e-5} if dtype == np.float32 else {"rtol": 1e-12, "atol": 1e-12}
    assert out.dtype == dtype and out.shape == ref_out.shape and h_n.shape == (4, N, 4)
    assert out.shape[-1] == 8
    np.testing.assert_allclose(out.data, ref_out, **tol)
    np.testing.assert_allclose(h_n.data, ref_h, **tol)
    if c_n is not None:
        np.testing.assert_allclose(c_n.data, ref_c, **tol)


@pytest.mark.parametrize("make", LAYERS, ids=IDS)
def test_bidirectional_unbatched_and_layout(make):
    module = make(bidirectional=True, dtype=np.float64)
    x = rng.standard_normal((3, 3))  # (T, input_size)
    out, h_n, c_n = _call(module, Tensor(x), None, None)
    assert out.shape == (3, 8) and h_n.shape == (2, 4)
    ref_out, ref_h, _ = stack_reference(module, x[:, None], np.zeros((2, 1, 4)),
                                        np.zeros((2, 1, 4)))
    np.testing.assert_allclose(out.data, ref_out[:, 0], atol=1e-12)
    np.testing.assert_allclose(h_n.data, ref_h[:, 0], atol=1e-12)
    # PyTorch's layout: the forward direction ends at the last step, the backward at step 0
    np.testing.assert_allclose(out.data[-1, :4], h_n.data[0])
    np.testing.assert_allclose(out.data[0, 4:], h_n.data[1])


@pytest.mark.parametrize("make", LAYERS, ids=IDS)
def test_bidirectional_gradients(make):
    module = make(num_layers=2, bidirectional=True, dtype=np.float64)
    x = rng.standard_normal((3, 2, 3))
    h0 = rng.standard_normal((4, 2, 4))
    if isinstance(module, nn.LSTM):
        c0 = rng.standard_normal((4, 2, 4))
        layer_gradcheck(module, x, h0, c0, call=lambda m, xt, h, c: m(xt, (h, c)),
                        output=lambda o: (o[0], o[1][0], o[1][1]))
    else:
        layer_gradcheck(module, x, h0, output=lambda o: (o[0], o[1]))


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_bidirectional_matches_torch(kind):
    torch = pytest.importorskip("torch")
    t = getattr(torch.nn, kind)(3, 4, num_layers=2, batch_first=True,
                                bidirectional=True).double()
    module = getattr(nn, kind)(3, 4, num_layers=2, batch_first=True, bidirectional=True,
                               dtype=np.float64)
    module.load_state_dict(torch_state(t))
    x = rng.standard_normal((2, 5, 3))
    states = [rng.standard_normal((4, 2, 4)) for _ in range(2 if kind == "LSTM" else 1)]
    xt = torch.tensor(x, requires_grad=True)
    ts = [torch.tensor(s, requires_grad=True) for s in states]
    xa = Tensor(x, requires_grad=True)
    sa = [Tensor(s, requires_grad=True) for s in states]
    if kind == "LSTM":
        out, (h_n, c_n) = module(xa, tuple(sa))
        t_out, (t_h, t_c) = t(xt, tuple(ts))
        outs, t_outs = [out, h_n, c_n], [t_out, t_h, t_c]
    else:
        out, h_n = module(xa, sa[0])
        t_out, t_h = t(xt, ts[0])
        outs, t_outs = [out, h_n], [t_out, t_h]
    gs = [rng.standard_normal(o.shape) for o in outs]
    for o, t_o, g in zip(outs, t_outs, gs):
        np.testing.assert_allclose(o.data, t_o.detach().numpy(), atol=1e-12)
    sum((o * g).sum() for o, g in zip(outs, gs)).backward()
    sum((t_o * torch.tensor(g)).sum() for t_o, g in zip(t_outs, gs)).backward()
    np.testing.assert_allclose(xa.grad, xt.grad.numpy(), atol=1e-10)
    for s, t_s in zip(sa, ts):
        np.testing.assert_allclose(s.grad, t_s.grad.numpy(), atol=1e-10)
    t_params = dict(t.named_parameters())
    for name, p in module.named_parameters():
        expected = t_params[name].grad.numpy()
        np.testing.assert_allclose(p.grad, expected.T if p.ndim == 2 else expected, atol=1e-10)


def test_bidirectional_parameters_state_shape_and_repr():
    lstm = nn.LSTM(3, 4, num_layers=2, bidirectional=True)
    shapes = {n: p.shape for n, p in lstm.named_parameters()}
    assert shapes["weight_ih_l0_reverse"] == (3, 16) and shapes["weight_ih_l1"] == (8, 16)
    assert shapes["weight_hh_l1_reverse"] == (4, 16) and len(shapes) == 16
    assert repr(lstm) == "LSTM(3, 4, num_layers=2, bidirectional=True)"
    with pytest.raises(ValueError, match=re.escape("LSTM: expected h0 of shape (4, 2, 4), got "
                                                   "shape (2, 2, 4)")):
        lstm(np.zeros((5, 2, 3), np.float32), (np.zeros((2, 2, 4)), np.zeros((4, 2, 4))))
