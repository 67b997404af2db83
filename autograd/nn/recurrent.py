"""Recurrent layers: RNN, LSTM, GRU (multi-layer, bidirectional, batch_first, initial
state) and the one-step cells RNNCell, LSTMCell, GRUCell.

Conventions follow PyTorch: gate order (i, f, g, o) for LSTM and (r, z, n) for GRU; the
input is (T, N, input_size), or (N, T, input_size) with ``batch_first``, or (T, input_size)
unbatched; ``forward`` returns ``output`` (every step of the last layer, the forward and
backward directions side by side when ``bidirectional``) and ``h_n`` (the last step of
every layer and direction, (num_layers * directions, N, H)), and for LSTM ``(h_n, c_n)``.

One difference: weights are stored ``(in, gates * hidden)`` as ``Linear`` stores them (for
``x @ w``), the transpose of PyTorch's ``weight_ih_l0`` / ``weight_hh_l0``.

Each layer and direction costs one matmul for the input projection of every step at once
plus one fused op (``ops.recurrent``) that runs the time loop, forward and backward. A
cell is the same op over a single step, so the gate math exists once, in ``ops.recurrent``.
Second derivatives through these ops raise an error naming the op.
"""

import math

import numpy as np

import ops
from autograd.nn import init
from autograd.nn.layers import empty_param, shape_of, size_arg
from autograd.nn.module import Module
from ops.recurrent import gru_sequence, lstm_sequence, rnn_sequence

__all__ = ["GRU", "GRUCell", "LSTM", "LSTMCell", "RNN", "RNNCell"]


# --- one layer and direction over time: the only place each kind meets its op ---------
def _rnn_run(xp, states, w_hh, b_hh, nonlinearity="tanh"):
    """xp (T, N, H), states (h0,) -> (every h_t (T, N, H), (h_T,))."""
    hseq = rnn_sequence(xp, states[0], w_hh, b_hh, nonlinearity=nonlinearity)
    return hseq, (hseq[-1],)


def _gru_run(xp, states, w_hh, b_hh):
    """xp (T, N, 3H), states (h0,) -> (every h_t (T, N, H), (h_T,))."""
    hseq = gru_sequence(xp, states[0], w_hh, b_hh)
    return hseq, (hseq[-1],)


def _lstm_run(xp, states, w_hh, b_hh):
    """xp (T, N, 4H), states (h0, c0) -> (every h_t (T, N, H), (h_T, c_T))."""
    seq = lstm_sequence(xp, states[0], states[1], w_hh, b_hh)  # (2, T, N, H): h and c
    return seq[0], (seq[0, -1], seq[1, -1])


def _project(x, w_ih, b_ih):
    """x (T, N, I) @ w_ih (I, G*H) + b_ih -> (T, N, G*H): every step's input at once."""
    return ops.linear(x, w_ih, b_ih)


def _stack(tensors):
    """(N, H) each -> (len, N, H)."""
    if len(tensors) == 1:
        return ops.reshape(tensors[0], (1,) + tuple(tensors[0].shape))
    return ops.stack(tensors, axis=0)


def _reset_uniform(module):
    """Every weight and bias U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), as PyTorch."""
    bound = 1 / math.sqrt(module.hidden_size)
    for p in module.parameters():
        init.uniform_(p, -bound, bound)


def _check_sizes(name, input_size, hidden_size, num_layers=None):
    """The sizes as ints (a fraction is refused, not truncated), each at least 1."""
    input_size = size_arg(name, "input_size", input_size)
    hidden_size = size_arg(name, "hidden_size", hidden_size)
    layers = 1 if num_layers is None else size_arg(name, "num_layers", num_layers)
    if min(input_size, hidden_size, layers) < 1:
        sizes = f"input_size {input_size}, hidden_size {hidden_size}"
        sizes += "" if num_layers is None else f" and num_layers {num_layers}"
        raise ValueError(f"{name}: {sizes} must be positive")
    return input_size, hidden_size, layers


def _state_list(name, hx, state_names):
    """``hx`` as a list with one entry per state (None when not given)."""
    if len(state_names) == 1:
        return [hx]
    if hx is None:
        return [None] * len(state_names)
    if not isinstance(hx, (tuple, list)) or len(hx) != len(state_names):
        raise ValueError(f"{name}: hx must be a pair ({', '.join(state_names)})")
    return list(hx)


class _RNNBase(Module):
    """Shared by RNN, LSTM, GRU: parameters, layouts, states, the layer and direction loop.
    Subclasses set ``gates``, ``state_names`` and ``_run(xp, states, w_hh, b_hh)``."""

    gates = 1
    state_names = ("hx",)

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, dtype=None):
        super().__init__()
        self.input_size, self.hidden_size, self.num_layers = _check_sizes(
            type(self).__name__, input_size, hidden_size, num_layers)
        if not 0 <= dropout < 1:
            raise ValueError(f"{type(self).__name__}: dropout must be in [0, 1), got {dropout}")
        self.bias, self.batch_first = bias, batch_first
        self.dropout, self.bidirectional = float(dropout), bool(bidirectional)
        self.directions = 2 if self.bidirectional else 1
        gh = self.gates * self.hidden_size
        for k in range(self.num_layers):
            size_in = self.input_size if k == 0 else self.hidden_size * self.directions
            for suffix in self._suffixes(k):
                setattr(self, f"weight_ih{suffix}", empty_param((size_in, gh), dtype))
                setattr(self, f"weight_hh{suffix}", empty_param((self.hidden_size, gh), dtype))
                self.register_parameter(f"bias_ih{suffix}",
                                        empty_param(gh, dtype) if bias else None)
                self.register_parameter(f"bias_hh{suffix}",
                                        empty_param(gh, dtype) if bias else None)
        self.reset_parameters()

    def reset_parameters(self):
        """Every weight and bias U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), as PyTorch."""
        _reset_uniform(self)

    def _suffixes(self, k):
        """PyTorch's parameter names: ``_l{k}`` forward, ``_l{k}_reverse`` backward."""
        return [f"_l{k}", f"_l{k}_reverse"][: self.directions]

    def _params(self, suffix):
        return tuple(getattr(self, f"{name}{suffix}")
                     for name in ("weight_ih", "bias_ih", "weight_hh", "bias_hh"))

    def _run(self, xp, states, w_hh, b_hh):
        raise NotImplementedError

    def _prepare(self, x):
        """x -> (time-major (T, N, I) input, batched?)."""
        shape = shape_of(x)
        name = type(self).__name__
        if len(shape) not in (2, 3) or shape[-1] != self.input_size:
            layout = "(N, T, {0})" if self.batch_first else "(T, N, {0})"
            raise ValueError(
                f"{name}(input_size={self.input_size}): expected input of shape "
                f"{layout.format(self.input_size)} or (T, {self.input_size}), got shape {shape}"
            )
        steps = shape[1] if self.batch_first and len(shape) == 3 else shape[0]
        if steps == 0:  # the last step's state would not exist
            raise ValueError(
                f"{name}: expected a sequence of at least one step, got input of shape {shape}"
            )
        if len(shape) == 2:
            return ops.reshape(x, (shape[0], 1, shape[1])), False
        if self.batch_first:
            return ops.transpose(x, (1, 0, 2)), True
        return x, True

    def _initial(self, state, n, batched, what):
        """The initial state as (num_layers * directions, N, H): zeros when None, else
        checked."""
        shape = (self.num_layers * self.directions, n, self.hidden_size)
        if state is None:
            return np.zeros(shape, dtype=self.weight_hh_l0.dtype)
        want = shape if batched else (shape[0], self.hidden_size)
        if shape_of(state) != want:
            raise ValueError(
                f"{type(self).__name__}: expected {what} of shape {want}, got shape "
                f"{shape_of(state)}"
            )
        return state if batched else ops.reshape(state, shape)

    def _between_layers(self, x, k):
        if self.dropout and self.training and k < self.num_layers - 1:
            return ops.dropout(x, self.dropout, training=True, rng=init.get_rng())
        return x

    def _layer(self, x, k, initial):
        """Layer ``k`` over x (T, N, in), both directions -> ((T, N, D*H), finals): one list
        per state of the D final (N, H) states, forward first."""
        outputs, finals = [], [[] for _ in self.state_names]
        for d, suffix in enumerate(self._suffixes(k)):
            w_ih, b_ih, w_hh, b_hh = self._params(suffix)
            xp = _project(x, w_ih, b_ih)
            if d:  # the backward direction runs over reversed time; its output is flipped
                xp = ops.flip(xp, axis=0)  # back so step t sits with the forward's step t
            states = [s[k * self.directions + d] for s in initial]
            hseq, last = self._run(xp, states, w_hh, b_hh)
            outputs.append(ops.flip(hseq, axis=0) if d else hseq)
            for f, s in zip(finals, last):
                f.append(s)
        out = outputs[0] if len(outputs) == 1 else ops.concatenate(outputs, axis=-1)
        return out, finals

    def forward(self, x, hx=None):
        """x -> (output, h_n), or for LSTM (output, (h_n, c_n)); ``hx`` the initial state
        (num_layers * directions, N, H) (for LSTM the pair (h0, c0)), zeros when None."""
        name = type(self).__name__
        given = _state_list(name, hx, self.state_names)
        x, batched = self._prepare(x)
        initial = [self._initial(s, x.shape[1], batched, what)
                   for s, what in zip(given, self.state_names)]
        finals = [[] for _ in self.state_names]
        for k in range(self.num_layers):
            x, layer_finals = self._layer(self._between_layers(x, k), k, initial)
            for f, lf in zip(finals, layer_finals):
                f.extend(lf)
        states = [_stack(f) for f in finals]  # (num_layers * D, N, H) each
        if not batched:
            x = ops.reshape(x, (x.shape[0], x.shape[2]))
            states = [ops.reshape(s, (s.shape[0], self.hidden_size)) for s in states]
        elif self.batch_first:
            x = ops.transpose(x, (1, 0, 2))
        return x, (states[0] if len(states) == 1 else tuple(states))

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        return s


class RNN(_RNNBase):
    """Elman RNN: ``h_t = tanh(x_t w_ih + b_ih + h_{t-1} w_hh + b_hh)`` (or relu).

    >>> rnn = nn.RNN(28, 64, num_layers=2, batch_first=True)
    >>> output, h_n = rnn(x)          # x (N, T, 28) -> (N, T, 64), (2, N, 64)
    """

    gates = 1

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, dtype)
        self.nonlinearity = nonlinearity

    def _run(self, xp, states, w_hh, b_hh):
        return _rnn_run(xp, states, w_hh, b_hh, self.nonlinearity)

    def extra_repr(self):
        s = super().extra_repr()
        return s if self.nonlinearity == "tanh" else s + f", nonlinearity={self.nonlinearity!r}"


class LSTM(_RNNBase):
    """LSTM with gates (i, f, g, o): ``c_t = f c_{t-1} + i g``, ``h_t = o tanh(c_t)``.

    >>> lstm = nn.LSTM(28, 64, bidirectional=True)
    >>> output, (h_n, c_n) = lstm(x, (h0, c0))     # x (T, N, 28) -> (T, N, 128)
    """

    gates = 4
    state_names = ("h0", "c0")

    def _run(self, xp, states, w_hh, b_hh):
        return _lstm_run(xp, states, w_hh, b_hh)


class GRU(_RNNBase):
    """GRU with gates (r, z, n): ``n = tanh(x w_in + b_in + r (h w_hn + b_hn))``,
    ``h_t = (1 - z) n + z h_{t-1}``.

    >>> gru = nn.GRU(28, 128, batch_first=True)
    >>> output, h_n = gru(images.reshape(-1, 28, 28))    # rows as 28 steps
    """

    gates = 3

    def _run(self, xp, states, w_hh, b_hh):
        return _gru_run(xp, states, w_hh, b_hh)


# --- cells: one step --------------------------------------------------------------------
class _CellBase(Module):
    """Shared by RNNCell, LSTMCell, GRUCell: one step of the matching sequence op.
    Subclasses set ``gates``, ``state_names`` and ``_run``."""

    gates = 1
    state_names = ("hx",)

    def __init__(self, input_size, hidden_size, bias=True, dtype=None):
        super().__init__()
        self.input_size, self.hidden_size, _ = _check_sizes(type(self).__name__, input_size,
                                                            hidden_size)
        self.bias = bias
        gh = self.gates * self.hidden_size
        self.weight_ih = empty_param((self.input_size, gh), dtype)
        self.weight_hh = empty_param((self.hidden_size, gh), dtype)
        self.register_parameter("bias_ih", empty_param(gh, dtype) if bias else None)
        self.register_parameter("bias_hh", empty_param(gh, dtype) if bias else None)
        self.reset_parameters()

    def reset_parameters(self):
        """Every weight and bias U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), as PyTorch."""
        _reset_uniform(self)

    def _run(self, xp, states, w_hh, b_hh):
        raise NotImplementedError

    def _initial(self, state, n, batched, what):
        """The state as (N, H): zeros when None, else checked."""
        want = (n, self.hidden_size) if batched else (self.hidden_size,)
        if state is None:
            return np.zeros((n, self.hidden_size), dtype=self.weight_hh.dtype)
        if shape_of(state) != want:
            raise ValueError(
                f"{type(self).__name__}: expected {what} of shape {want}, got shape "
                f"{shape_of(state)}"
            )
        return state if batched else ops.reshape(state, (1, self.hidden_size))

    def forward(self, x, hx=None):
        """x (N, input_size) or (input_size,) -> the next state (N, H) or (H,); for
        LSTMCell the pair (h', c'). ``hx`` the state (for LSTMCell the pair (h, c)), zeros
        when None."""
        name = type(self).__name__
        given = _state_list(name, hx, self.state_names)
        shape = shape_of(x)
        if len(shape) not in (1, 2) or shape[-1] != self.input_size:
            raise ValueError(
                f"{name}(input_size={self.input_size}): expected input of shape "
                f"(N, {self.input_size}) or ({self.input_size},), got shape {shape}"
            )
        batched = len(shape) == 2
        n = shape[0] if batched else 1
        states = [self._initial(s, n, batched, what) for s, what in zip(given, self.state_names)]
        x = x if batched else ops.reshape(x, (1, self.input_size))
        # (N, I) @ (I, G*H) -> (N, G*H) -> (1, N, G*H): a sequence of one step
        xp = ops.reshape(_project(x, self.weight_ih, self.bias_ih),
                         (1, n, self.gates * self.hidden_size))
        _, last = self._run(xp, states, self.weight_hh, self.bias_hh)
        if not batched:
            last = [ops.reshape(s, (self.hidden_size,)) for s in last]
        return last[0] if len(last) == 1 else tuple(last)

    def extra_repr(self):
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")


class RNNCell(_CellBase):
    """One step of ``RNN``: ``h' = tanh(x w_ih + b_ih + h w_hh + b_hh)`` (or relu).

    >>> cell = nn.RNNCell(10, 20)
    >>> h = cell(x, h)                   # x (N, 10), h (N, 20) -> (N, 20)
    """

    gates = 1

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(
                f"RNNCell: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        super().__init__(input_size, hidden_size, bias, dtype)
        self.nonlinearity = nonlinearity

    def _run(self, xp, states, w_hh, b_hh):
        return _rnn_run(xp, states, w_hh, b_hh, self.nonlinearity)

    def extra_repr(self):
        s = super().extra_repr()
        return s if self.nonlinearity == "tanh" else s + f", nonlinearity={self.nonlinearity!r}"


class LSTMCell(_CellBase):
    """One step of ``LSTM`` (gates i, f, g, o): ``(h, c) -> (h', c')``.

    >>> cell = nn.LSTMCell(10, 20)
    >>> h, c = cell(x, (h, c))           # x (N, 10), h and c (N, 20)
    """

    gates = 4
    state_names = ("h0", "c0")

    def _run(self, xp, states, w_hh, b_hh):
        return _lstm_run(xp, states, w_hh, b_hh)


class GRUCell(_CellBase):
    """One step of ``GRU`` (gates r, z, n): ``h' = (1 - z) n + z h``.

    >>> cell = nn.GRUCell(10, 20)
    >>> h = cell(x, h)                   # x (N, 10), h (N, 20) -> (N, 20)
    """

    gates = 3

    def _run(self, xp, states, w_hh, b_hh):
        return _gru_run(xp, states, w_hh, b_hh)
