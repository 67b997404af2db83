"""rnn_sequence, lstm_sequence, gru_sequence: gradients, forward against step-by-step
references, first-order-only VJPs, errors."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograd import Tensor, grad
from autograd.testing import gradcheck
from autograd.testing import strategies as st_ag
from ops.recurrent import gru_sequence, lstm_sequence, rnn_sequence
from tests.helpers import check_forward, gradchecks


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def rnn_reference(xp, h0, w, b=None, nonlinearity="tanh"):
    act = np.tanh if nonlinearity == "tanh" else (lambda a: np.maximum(a, 0))
    h, out = h0, []
    for x in xp:
        h = act(x + h @ w + (0 if b is None else b))
        out.append(h)
    return np.stack(out)


def relu_preactivations(xp, h0, w, b=None):
    h, pre = h0, []
    for x in xp:
        pre.append(x + h @ w + (0 if b is None else b))
        h = np.maximum(pre[-1], 0)
    return np.stack(pre)


def lstm_reference(xp, h0, c0, w, b=None):
    h, c, hs, cs = h0, c0, [], []
    for x in xp:
        i, f, g, o = np.split(x + h @ w + (0 if b is None else b), 4, axis=-1)
        c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
        h = sigmoid(o) * np.tanh(c)
        hs.append(h)
        cs.append(c)
    return np.stack([np.stack(hs), np.stack(cs)])


def gru_reference(xp, h0, w, b=None):
    h, out = h0, []
    for x in xp:
        gh = h @ w + (0 if b is None else b)
        xr, xz, xn = np.split(x, 3, axis=-1)
        hr, hz, hn = np.split(gh, 3, axis=-1)
        r, z = sigmoid(xr + hr), sigmoid(xz + hz)
        n = np.tanh(xn + r * hn)
        h = (1 - z) * n + z * h
        out.append(h)
    return np.stack(out)


@st.composite
def sequence_case(draw, gates, states=1):
    """xp (T, N, gates*H), the initial states (N, H), w_hh (H, gates*H), b_hh or None."""
    t, n, h = draw(st.integers(1, 4)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    xp = draw(st_ag.arrays((t, n, gates * h), low=-2, high=2))
    initial = [draw(st_ag.arrays((n, h), low=-1, high=1)) for _ in range(states)]
    w = draw(st_ag.arrays((h, gates * h), low=-1, high=1))
    b = draw(st_ag.arrays((gates * h,), low=-1, high=1)) if draw(st.booleans()) else None
    return [xp, *initial, w] + ([b] if b is not None else [])


@gradchecks("rnn_sequence")
@given(sequence_case(1), st.sampled_from(["tanh", "relu"]))
def test_rnn_sequence_gradient(args, nonlinearity):
    if nonlinearity == "relu":
        st_ag.assume_away_from(relu_preactivations(*args))  # clear of relu's kink
    gradcheck(lambda *ts: rnn_sequence(*ts, nonlinearity=nonlinearity), args)


@gradchecks("lstm_sequence")
@given(sequence_case(4, states=2))
def test_lstm_sequence_gradient(args):
    gradcheck(lstm_sequence, args)


@gradchecks("gru_sequence")
@given(sequence_case(3))
def test_gru_sequence_gradient(args):
    gradcheck(gru_sequence, args)


@given(sequence_case(1), st.sampled_from(["tanh", "relu"]))
def test_rnn_sequence_forward(args, nonlinearity):
    check_forward(lambda *ts: rnn_sequence(*ts, nonlinearity=nonlinearity),
                  lambda *a: rnn_reference(*a, nonlinearity=nonlinearity), *args,
                  rtol=1e-5, atol=1e-5)


@given(sequence_case(4, states=2))
def test_lstm_sequence_forward(args):
    check_forward(lstm_sequence, lstm_reference, *args, rtol=1e-5, atol=1e-5)


@given(sequence_case(3))
def test_gru_sequence_forward(args):
    check_forward(gru_sequence, gru_reference, *args, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name, op, gates, states", [
    ("rnn_sequence", rnn_sequence, 1, 1), ("lstm_sequence", lstm_sequence, 4, 2),
    ("gru_sequence", gru_sequence, 3, 1),
])
def test_create_graph_raises_naming_the_op(name, op, gates, states):
    rng = np.random.default_rng(0)
    xp = Tensor(rng.standard_normal((2, 1, gates * 2)), requires_grad=True)
    initial = [Tensor(rng.standard_normal((1, 2))) for _ in range(states)]
    w = Tensor(rng.standard_normal((2, gates * 2)))
    out = op(xp, *initial, w)
    with pytest.raises(RuntimeError, match=f"{name}: its gradient is not differentiable"):
        grad(out.sum(), [xp], create_graph=True)


def test_recurrent_errors_name_the_shapes():
    xp, h0 = np.zeros((2, 3, 6)), np.zeros((3, 2))
    with pytest.raises(ValueError, match=r"gru_sequence: w_hh of shape \(2, 4\) and xp of shape "
                                         r"\(2, 3, 6\) do not fit"):
        gru_sequence(xp, h0, np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"gru_sequence: h0 of shape \(2, 2\), expected \(3, 2\)"):
        gru_sequence(xp, np.zeros((2, 2)), np.zeros((2, 6)))
    with pytest.raises(ValueError, match=r"lstm_sequence: expected xp of shape \(T, N, 4\*H\)"):
        lstm_sequence(np.zeros((3, 8)), h0, h0, np.zeros((2, 8)))
    with pytest.raises(ValueError, match=r"rnn_sequence: b_hh of shape \(3,\), expected \(2,\)"):
        rnn_sequence(np.zeros((2, 3, 2)), h0, np.zeros((2, 2)), np.zeros(3))
    with pytest.raises(ValueError, match="rnn_sequence: nonlinearity must be 'tanh' or 'relu'"):
        rnn_sequence(np.zeros((2, 3, 2)), h0, np.zeros((2, 2)), nonlinearity="gelu")


@pytest.mark.parametrize("op, gates, states", [
    (rnn_sequence, 1, 1), (lstm_sequence, 4, 2), (gru_sequence, 3, 1),
])
def test_empty_sequence_gives_empty_output_and_zero_gradients(op, gates, states):
    xp = Tensor(np.zeros((0, 2, gates * 3)), requires_grad=True)
    initial = [Tensor(np.ones((2, 3)), requires_grad=True) for _ in range(states)]
    w, b = (Tensor(np.ones(s), requires_grad=True) for s in ((3, gates * 3), (gates * 3,)))
    out = op(xp, *initial, w, b)
    assert out.shape == ((2, 0, 2, 3) if states == 2 else (0, 2, 3))
    out.sum().backward()
    for t in [xp, *initial, w, b]:
        assert t.grad.shape == t.shape and not t.grad.any()
