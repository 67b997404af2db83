"""RNNCell, LSTMCell, GRUCell: one step against numpy, equal to a step of the sequence
layers, gradients, PyTorch agreement, errors."""

import re

import numpy as np
import pytest

from autograd import Tensor, nn
from tests.nn.common import layer_gradcheck, torch_state
from tests.ops.test_recurrent import gru_reference, lstm_reference, rnn_reference

rng = np.random.default_rng(0)

CELLS = {
    "rnn_tanh": lambda **kw: nn.RNNCell(3, 4, **kw),
    "rnn_relu": lambda **kw: nn.RNNCell(3, 4, nonlinearity="relu", **kw),
    "lstm": lambda **kw: nn.LSTMCell(3, 4, **kw),
    "gru": lambda **kw: nn.GRUCell(3, 4, **kw),
}


def cell_reference(cell, x, h, c=None):
    """One step in float64 numpy: x (N, I), h (N, H) -> h' (and c' for LSTMCell)."""
    w_ih, w_hh = cell.weight_ih.data.astype(np.float64), cell.weight_hh.data.astype(np.float64)
    b_ih = 0 if cell.bias_ih is None else cell.bias_ih.data.astype(np.float64)
    b_hh = None if cell.bias_hh is None else cell.bias_hh.data.astype(np.float64)
    xp = (x @ w_ih + b_ih)[None]  # (1, N, G*H)
    if isinstance(cell, nn.LSTMCell):
        hs, cs = lstm_reference(xp, h, c, w_hh, b_hh)
        return hs[0], cs[0]
    if isinstance(cell, nn.GRUCell):
        return gru_reference(xp, h, w_hh, b_hh)[0]
    return rnn_reference(xp, h, w_hh, b_hh, cell.nonlinearity)[0]


def _step(cell, x, h, c):
    """cell(x, state) -> [h'] or [h', c']."""
    if isinstance(cell, nn.LSTMCell):
        return list(cell(x, None if h is None else (h, c)))
    return [cell(x, h)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", CELLS)
def test_forward_matches_numpy(name, dtype):
    cell = CELLS[name](dtype=dtype)
    x, h, c = (rng.standard_normal(s).astype(dtype) for s in ((2, 3), (2, 4), (2, 4)))
    outs = _step(cell, Tensor(x), Tensor(h), Tensor(c))
    refs = cell_reference(cell, x.astype(np.float64), h, c)
    refs = list(refs) if isinstance(refs, tuple) else [refs]
    tol = {"rtol": 1e-5, "atol": 1e-6} if dtype == np.float32 else {"rtol": 1e-12, "atol": 1e-12}
    for out, ref in zip(outs, refs):
        assert out.dtype == dtype and out.shape == (2, 4)
        np.testing.assert_allclose(out.data, ref, **tol)


@pytest.mark.parametrize("name", CELLS)
def test_zero_state_and_unbatched_input(name):
    cell = CELLS[name](dtype=np.float64)
    x = rng.standard_normal(3)
    outs = _step(cell, Tensor(x), None, None)
    refs = cell_reference(cell, x[None], np.zeros((1, 4)), np.zeros((1, 4)))
    refs = list(refs) if isinstance(refs, tuple) else [refs]
    for out, ref in zip(outs, refs):
        assert out.shape == (4,)
        np.testing.assert_allclose(out.data, ref[0], atol=1e-12)
    h = rng.standard_normal(4)
    outs = _step(cell, Tensor(x), Tensor(h), Tensor(h))
    refs = cell_reference(cell, x[None], h[None], h[None])
    refs = list(refs) if isinstance(refs, tuple) else [refs]
    np.testing.assert_allclose(outs[0].data, refs[0][0], atol=1e-12)


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_cell_over_time_equals_the_sequence_layer(kind):
    layer = getattr(nn, kind)(3, 4, dtype=np.float64)
    cell = getattr(nn, kind + "Cell")(3, 4, dtype=np.float64)
    cell.load_state_dict({name[: -len("_l0")]: p.data for name, p in layer.named_parameters()})
    x = rng.standard_normal((5, 2, 3))
    out, state = layer(Tensor(x))
    h = c = None
    for t in range(5):
        h, *rest = _step(cell, Tensor(x[t]), h, c)
        c = rest[0] if rest else None
        np.testing.assert_allclose(h.data, out.data[t], atol=1e-12)
    if kind == "LSTM":
        np.testing.assert_allclose(c.data, state[1].data[0], atol=1e-12)


@pytest.mark.parametrize("name", CELLS)
def test_gradients(name):
    cell = CELLS[name](dtype=np.float64)
    x, h, c = (rng.standard_normal(s) for s in ((2, 3), (2, 4), (2, 4)))
    if name == "rnn_relu":  # keep the pre-activations clear of relu's kink
        cell.bias_hh.data[...] = 0.5 + np.abs(rng.standard_normal(4))
        x, h = np.abs(x), np.abs(h)
        for p in (cell.weight_ih, cell.weight_hh):
            p.data[...] = np.abs(p.data)
    if name == "lstm":
        layer_gradcheck(cell, x, h, c, call=lambda m, xt, ht, ct: m(xt, (ht, ct)))
    else:
        layer_gradcheck(cell, x, h)


@pytest.mark.parametrize("kind", ["RNNCell", "LSTMCell", "GRUCell"])
def test_matches_torch(kind):
    torch = pytest.importorskip("torch")
    t = getattr(torch.nn, kind)(3, 4).double()
    cell = getattr(nn, kind)(3, 4, dtype=np.float64)
    cell.load_state_dict(torch_state(t))
    x, h, c = (rng.standard_normal(s) for s in ((2, 3), (2, 4), (2, 4)))
    xt, ht, ct = (torch.tensor(a, requires_grad=True) for a in (x, h, c))
    xa, ha, ca = (Tensor(a, requires_grad=True) for a in (x, h, c))
    if kind == "LSTMCell":
        outs, t_outs = list(cell(xa, (ha, ca))), list(t(xt, (ht, ct)))
    else:
        outs, t_outs = [cell(xa, ha)], [t(xt, ht)]
    gs = [rng.standard_normal(o.shape) for o in outs]
    for o, t_o in zip(outs, t_outs):
        np.testing.assert_allclose(o.data, t_o.detach().numpy(), atol=1e-12)
    sum((o * g).sum() for o, g in zip(outs, gs)).backward()
    sum((t_o * torch.tensor(g)).sum() for t_o, g in zip(t_outs, gs)).backward()
    np.testing.assert_allclose(xa.grad, xt.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(ha.grad, ht.grad.numpy(), atol=1e-12)
    t_params = dict(t.named_parameters())
    for name, p in cell.named_parameters():
        expected = t_params[name].grad.numpy()
        np.testing.assert_allclose(p.grad, expected.T if p.ndim == 2 else expected, atol=1e-12)


def test_parameters_init_and_repr():
    cell = nn.LSTMCell(3, 5)
    shapes = {n: p.shape for n, p in cell.named_parameters()}
    assert shapes == {"weight_ih": (3, 20), "weight_hh": (5, 20), "bias_ih": (20,),
                      "bias_hh": (20,)}
    bound = 1 / np.sqrt(5)
    assert all(np.abs(p.data).max() <= bound and p.dtype == np.float32 for p in cell.parameters())
    assert [n for n, _ in nn.GRUCell(2, 3, bias=False).named_parameters()] == ["weight_ih",
                                                                                "weight_hh"]
    assert repr(nn.GRUCell(2, 3, bias=False)) == "GRUCell(2, 3, bias=False)"
    assert repr(nn.RNNCell(2, 3, nonlinearity="relu")) == "RNNCell(2, 3, nonlinearity='relu')"


def test_bad_input_names_cell_and_shapes():
    gru = nn.GRUCell(3, 4)
    with pytest.raises(ValueError, match=re.escape("GRUCell(input_size=3): expected input of "
                                                   "shape (N, 3) or (3,), got shape (2, 5)")):
        gru(Tensor(np.zeros((2, 5), dtype=np.float32)))
    with pytest.raises(ValueError, match=re.escape("got shape (1, 2, 3)")):
        gru(Tensor(np.zeros((1, 2, 3), dtype=np.float32)))
    with pytest.raises(ValueError, match=re.escape("GRUCell: expected hx of shape (2, 4), got "
                                                   "shape (1, 2, 4)")):
        gru(np.zeros((2, 3), np.float32), np.zeros((1, 2, 4), np.float32))
    lstm = nn.LSTMCell(3, 4)
    with pytest.raises(ValueError, match=re.escape("LSTMCell: expected c0 of shape (4,), got "
                                                   "shape (1, 4)")):
        lstm(np.zeros(3, np.float32), (np.zeros(4), np.zeros((1, 4))))
    with pytest.raises(ValueError, match=re.escape("LSTMCell: hx must be a pair (h0, c0)")):
        lstm(np.zeros((2, 3), np.float32), np.zeros((2, 4)))
    with pytest.raises(ValueError, match="RNNCell: nonlinearity must be 'tanh' or 'relu'"):
        nn.RNNCell(3, 4, nonlinearity="gelu")
    with pytest.raises(ValueError, match="LSTMCell: input_size 0, hidden_size 4 must be "
                                         "positive"):
        nn.LSTMCell(0, 4)


@pytest.mark.parametrize("make, message", [
    (lambda: nn.GRU(2.5, 3), "GRU: input_size must be an integer, got float 2.5"),
    (lambda: nn.LSTM(2, 3, num_layers=1.5), "LSTM: num_layers must be an integer, got float 1.5"),
    (lambda: nn.GRUCell(2, 3.0), "GRUCell: hidden_size must be an integer, got float 3.0"),
])
def test_fractional_sizes_are_refused_not_truncated(make, message):
    with pytest.raises(TypeError, match=re.escape(message)):
        make()
