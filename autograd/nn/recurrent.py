"""Recurrent layers: RNN, LSTM, GRU (multi-layer, batch_first, initial state).

Conventions follow PyTorch: gate order (i, f, g, o) for LSTM and (r, z, n) for GRU; the
input is (T, N, input_size), or (N, T, input_size) with ``batch_first``, or (T, input_size)
unbatched; ``forward`` returns ``output`` (every step of the last layer) and ``h_n`` (the
last step of every layer, (num_layers, N, H)), and for LSTM ``(h_n, c_n)``.

One difference: weights are stored ``(in, gates * hidden)`` as ``Linear`` stores them (for
``x @ w``), the transpose of PyTorch's ``weight_ih_l0`` / ``weight_hh_l0``.

Each layer costs one matmul for the input projection of every step at once plus one fused
op (``ops.recurrent``) that runs the time loop, forward and backward.
"""

import math

import numpy as np

import ops
from autograd.nn import init
from autograd.nn.layers import empty_param, shape_of
from autograd.nn.module import Module
from ops.recurrent import gru_sequence, lstm_sequence, rnn_sequence

__all__ = ["GRU", "LSTM", "RNN"]


def _stack(tensors):
    """(N, H) each -> (len, N, H)."""
    if len(tensors) == 1:
        return ops.reshape(tensors[0], (1,) + tuple(tensors[0].shape))
    return ops.stack(tensors, axis=0)


class _RNNBase(Module):
    gates = 1

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, dtype=None):
        super().__init__()
        if num_layers < 1 or hidden_size < 1 or input_size < 1:
            raise ValueError(
                f"{type(self).__name__}: input_size {input_size}, hidden_size {hidden_size} "
                f"and num_layers {num_layers} must be positive"
            )
        if not 0 <= dropout < 1:
            raise ValueError(f"{type(self).__name__}: dropout must be in [0, 1), got {dropout}")
        self.input_size, self.hidden_size = int(input_size), int(hidden_size)
        self.num_layers, self.bias, self.batch_first = int(num_layers), bias, batch_first
        self.dropout = float(dropout)
        gh = self.gates * self.hidden_size
        for k in range(self.num_layers):
            size_in = self.input_size if k == 0 else self.hidden_size
            setattr(self, f"weight_ih_l{k}", empty_param((size_in, gh), dtype))
            setattr(self, f"weight_hh_l{k}", empty_param((self.hidden_size, gh), dtype))
            self.register_parameter(f"bias_ih_l{k}", empty_param(gh, dtype) if bias else None)
            self.register_parameter(f"bias_hh_l{k}", empty_param(gh, dtype) if bias else None)
        self.reset_parameters()

    def reset_parameters(self):
        """Every weight and bias U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), as PyTorch."""
        bound = 1 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -bound, bound)

    def _layer_params(self, k):
        return (getattr(self, f"weight_ih_l{k}"), getattr(self, f"bias_ih_l{k}"),
                getattr(self, f"weight_hh_l{k}"), getattr(self, f"bias_hh_l{k}"))

    def _prepare(self, x):
        """x -> (time-major (T, N, I) input, batched?)."""
        shape = shape_of(x)
        if len(shape) not in (2, 3) or shape[-1] != self.input_size:
            layout = "(N, T, {0})" if self.batch_first else "(T, N, {0})"
            raise ValueError(
                f"{type(self).__name__}(input_size={self.input_size}): expected input of shape "
                f"{layout.format(self.input_size)} or (T, {self.input_size}), got shape {shape}"
            )
        steps = shape[1] if self.batch_first and len(shape) == 3 else shape[0]
        if steps == 0:  # the last step's state would not exist
            raise ValueError(
                f"{type(self).__name__}: expected a sequence of at least one step, got input "
                f"of shape {shape}"
            )
        if len(shape) == 2:
            return ops.reshape(x, (shape[0], 1, shape[1])), False
        if self.batch_first:
            return ops.transpose(x, (1, 0, 2)), True
        return x, True

    def _initial(self, state, n, batched, what):
        """The initial state as (num_layers, N, H): zeros when None, else checked."""
        shape = (self.num_layers, n, self.hidden_size)
        if state is None:
            return np.zeros(shape, dtype=self.weight_hh_l0.dtype)
        want = shape if batched else (self.num_layers, self.hidden_size)
        if shape_of(state) != want:
            raise ValueError(
                f"{type(self).__name__}: expected {what} of shape {want}, got shape "
                f"{shape_of(state)}"
            )
        return state if batched else ops.reshape(state, shape)

    def _finish(self, output, states, batched):
        """Time-major output and per-layer (N, H) states -> the user's layout."""
        if not batched:
            t = output.shape[0]
            return (ops.reshape(output, (t, self.hidden_size)),
                    [ops.reshape(_stack(s), (self.num_layers, self.hidden_size))
                     for s in states])
        if self.batch_first:
            output = ops.transpose(output, (1, 0, 2))
        return output, [_stack(s) for s in states]

    def _run_one_state(self, x, hx, sequence):
        """forward of RNN and GRU, whose only state is h: ``sequence(x_proj (T, N, G*H),
        h0 (N, H), w_hh, b_hh) -> (T, N, H)`` runs one layer."""
        x, batched = self._prepare(x)
        h0 = self._initial(hx, x.shape[1], batched, "hx")
        finals = []
        for k in range(self.num_layers):
            w_ih, b_ih, w_hh, b_hh = self._layer_params(k)
            x = sequence(_project(self._between_layers(x, k), w_ih, b_ih), h0[k], w_hh, b_hh)
            finals.append(x[-1])
        output, (h_n,) = self._finish(x, [finals], batched)
        return output, h_n

    def _between_layers(self, x, k):
        if self.dropout and self.training and k < self.num_layers - 1:
            return ops.dropout(x, self.dropout, training=True, rng=init.get_rng())
        return x

    def forward(self, x, hx=None):
        raise NotImplementedError

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
        return s


def _project(x, w_ih, b_ih):
    """x (T, N, I) @ w_ih (I, G*H) + b_ih -> (T, N, G*H): every step's input at once."""
    return ops.linear(x, w_ih, b_ih)


class RNN(_RNNBase):
    """Elman RNN: ``h_t = tanh(x_t w_ih + b_ih + h_{t-1} w_hh + b_hh)`` (or relu).

    >>> rnn = nn.RNN(28, 64, num_layers=2, batch_first=True)
    >>> output, h_n = rnn(x)          # x (N, T, 28) -> (N, T, 64), (2, N, 64)
    """

    gates = 1

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, dropout=0.0, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, x, hx=None):
        """x -> (output, h_n); ``hx`` (num_layers, N, H) the initial state (zeros if None)."""
        return self._run_one_state(
            x, hx, lambda xp, h0, w_hh, b_hh: rnn_sequence(
                xp, h0, w_hh, b_hh, nonlinearity=self.nonlinearity))

    def extra_repr(self):
        s = super().extra_repr()
        return s if self.nonlinearity == "tanh" else s + f", nonlinearity={self.nonlinearity!r}"


class LSTM(_RNNBase):
    """LSTM with gates (i, f, g, o): ``c_t = f c_{t-1} + i g``, ``h_t = o tanh(c_t)``.

    >>> lstm = nn.LSTM(28, 64)
    >>> output, (h_n, c_n) = lstm(x, (h0, c0))     # x (T, N, 28)
    """

    gates = 4

    def forward(self, x, hx=None):
        """x -> (output, (h_n, c_n)); ``hx = (h0, c0)``, each (num_layers, N, H)."""
        x, batched = self._prepare(x)
        if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise ValueError("LSTM: hx must be a pair (h0, c0)")
        h0 = self._initial(None if hx is None else hx[0], x.shape[1], batched, "h0")
        c0 = self._initial(None if hx is None else hx[1], x.shape[1], batched, "c0")
        h_finals, c_finals = [], []
        for k in range(self.num_layers):
            w_ih, b_ih, w_hh, b_hh = self._layer_params(k)
            seq = lstm_sequence(_project(self._between_layers(x, k), w_ih, b_ih), h0[k], c0[k],
                                w_hh, b_hh)  # (2, T, N, H): every h_t and c_t
            x = seq[0]
            h_finals.append(seq[0, -1])
            c_finals.append(seq[1, -1])
        output, (h_n, c_n) = self._finish(x, [h_finals, c_finals], batched)
        return output, (h_n, c_n)


class GRU(_RNNBase):
    """GRU with gates (r, z, n): ``n = tanh(x w_in + b_in + r (h w_hn + b_hn))``,
    ``h_t = (1 - z) n + z h_{t-1}``.

    >>> gru = nn.GRU(28, 128, batch_first=True)
    >>> output, h_n = gru(images.reshape(-1, 28, 28))    # rows as 28 steps
    """

    gates = 3

    def forward(self, x, hx=None):
        """x -> (output, h_n); ``hx`` (num_layers, N, H) the initial state (zeros if None)."""
        return self._run_one_state(x, hx, gru_sequence)
