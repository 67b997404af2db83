"""Recurrent layers over a whole sequence, each one op: the time loop runs inside forward
and VJP (as cuDNN does), so a 28-step GRU is one graph node instead of hundreds. Forward
steps are numpy (BLAS products, SIMD tanh); backward steps fuse the gate derivatives in a
numba kernel (ops/kernels/recurrent.py).

Inputs are time-major. ``xp`` (T, N, G*H) is the input projection ``x_t @ w_ih + b_ih`` for
every step at once (one big matmul outside the op); the op adds ``h_{t-1} @ w_hh + b_hh``.
Gate layout follows PyTorch: RNN one block, LSTM (i, f, g, o), GRU (r, z, n), each H wide.
The VJPs loop over time on ndarrays, so these ops are registered ``twice=False``.
"""

import numpy as np

from autograd.core.registry import defop
from ops.kernels import recurrent as kernels

__all__ = ["gru_sequence", "lstm_sequence", "rnn_sequence"]


def _sigmoid_(a):
    """a <- sigmoid(a) in place, in the tanh form that never overflows (1 / (1 + exp(-a))
    warns for a < -88 in float32); numpy's SIMD tanh beats a scalar loop here."""
    a *= 0.5
    np.tanh(a, out=a)
    a += 1
    a *= 0.5
    return a


def _common_dtype(*arrays):
    """The arrays (None stays None) in their common dtype, so each kernel compiles once
    per dtype."""
    dtype = np.result_type(*(a for a in arrays if a is not None))
    return [None if a is None else np.asarray(a, dtype=dtype) for a in arrays]


def _check(name, xp, hs, w_hh, b_hh, gates):
    if xp.ndim != 3:
        raise ValueError(f"{name}: expected xp of shape (T, N, {gates}*H), got {xp.shape}")
    t, n, gh = xp.shape
    h = w_hh.shape[0] if w_hh.ndim == 2 else -1
    if w_hh.shape != (h, gates * h) or gh != gates * h:
        raise ValueError(
            f"{name}: w_hh of shape {w_hh.shape} and xp of shape {xp.shape} do not fit "
            f"(H, {gates}*H) and (T, N, {gates}*H)"
        )
    for label, s in hs:
        if s.shape != (n, h):
            raise ValueError(f"{name}: {label} of shape {s.shape}, expected ({n}, {h})")
    if b_hh is not None and b_hh.shape != (gates * h,):
        raise ValueError(f"{name}: b_hh of shape {b_hh.shape}, expected ({gates * h},)")
    return t, n, h


def _weight_grads(ctx, h_prev_all, dgh_all):
    """sum_t h_{t-1}^T dgh_t and sum_t dgh_t, as one big matmul each."""
    gw = gb = None
    if ctx.needs[-2]:
        gw = h_prev_all.reshape(-1, h_prev_all.shape[-1]).T @ dgh_all.reshape(
            -1, dgh_all.shape[-1])  # (H, T*N) @ (T*N, G*H)
    if ctx.needs[-1]:
        gb = dgh_all.sum(axis=(0, 1))
    return gw, gb


def _h_prev_all(h0, hseq):
    """(N, H), (T, N, H) -> h_{t-1} for every t: (T, N, H). (For T = 0 the slice keeps
    h0 out: nothing was computed from it.)"""
    return np.concatenate([h0[None], hseq[:-1]], axis=0)[: len(hseq)]


# --- Elman RNN ------------------------------------------------------------------------
def rnn_sequence_forward(xp, h0, w_hh, b_hh=None, /, nonlinearity="tanh"):
    """Elman RNN over a sequence: h_t = act(xp_t + h_{t-1} @ w_hh + b_hh), act tanh or relu.

    xp (T, N, H) the input projection, h0 (N, H), w_hh (H, H), b_hh (H,) -> (T, N, H),
    every h_t.
    VJP backward in time: ``da_t = (g_t + da_{t+1} w_hh^T) act'(a_t)``, ``gxp_t = da_t``,
    ``gw_hh = sum_t h_{t-1}^T da_t``, ``gb_hh = sum_t da_t``.
    """
    t_len, _, _ = _check("rnn_sequence", xp, [("h0", h0)], w_hh, b_hh, 1)
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"rnn_sequence: nonlinearity must be 'tanh' or 'relu', got "
                         f"{nonlinearity!r}")
    xp, h0, w_hh, b_hh = _common_dtype(xp, h0, w_hh, b_hh)
    out = np.empty(xp.shape, dtype=xp.dtype)
    h = h0
    for t in range(t_len):
        a = xp[t] + h @ w_hh
        if b_hh is not None:
            a += b_hh
        h = np.tanh(a, out=out[t]) if nonlinearity == "tanh" else np.maximum(a, 0, out=out[t])
    return out, None


def rnn_sequence_vjp(g, ctx):
    """g (T, N, H) -> gxp (T, N, H), gh0 (N, H), gw_hh (H, H), gb_hh (H,)."""
    _, h0, w_hh, _ = ctx.inputs
    hseq = ctx.out
    tanh = ctx.params.get("nonlinearity", "tanh") == "tanh"
    da_all = np.empty_like(hseq)
    dh = np.zeros_like(h0, dtype=hseq.dtype)
    for t in range(len(hseq) - 1, -1, -1):
        dh = dh + g[t]
        da = dh * (1 - hseq[t] * hseq[t]) if tanh else dh * (hseq[t] > 0)
        da_all[t] = da
        dh = da @ w_hh.T
    gw, gb = _weight_grads(ctx, _h_prev_all(h0, hseq), da_all)
    return da_all, dh, gw, gb


rnn_sequence = defop(
    "rnn_sequence", rnn_sequence_forward, rnn_sequence_vjp, twice=False,
    doc="h_t = act(xp_t + h_{t-1} w_hh + b_hh).  VJP (backward in time): "
        "da_t = (g_t + da_{t+1} w_hh^T) act'(a_t); gxp_t = da_t, gw_hh = sum h_{t-1}^T da_t",
)


# --- LSTM -----------------------------------------------------------------------------
def lstm_sequence_forward(xp, h0, c0, w_hh, b_hh=None, /):
    """LSTM over a sequence with PyTorch's gate order (i, f, g, o).

    xp (T, N, 4H) the input projection, h0 and c0 (N, H), w_hh (H, 4H), b_hh (4H,) ->
    (2, T, N, H): ``out[0]`` every h_t, ``out[1]`` every c_t. ``c_t = f c_{t-1} + i g``,
    ``h_t = o tanh(c_t)``.
    VJP backward in time: ``dc_t = dc_{t+1} f_{t+1} + gc_t + dh_t o (1 - tanh(c_t)^2)``,
    ``di = dc g``, ``df = dc c_{t-1}``, ``dg = dc i``, ``do = dh tanh(c_t)`` times each
    activation's derivative; ``dh_{t-1} = dgates w_hh^T``.
    """
    t_len, n, hd = _check("lstm_sequence", xp, [("h0", h0), ("c0", c0)], w_hh, b_hh, 4)
    xp, h0, c0, w_hh, b_hh = _common_dtype(xp, h0, c0, w_hh, b_hh)
    out = np.empty((2, t_len, n, hd), dtype=xp.dtype)
    gates = np.empty((t_len, n, 4 * hd), dtype=xp.dtype)  # activated i, f, g, o
    tanh_c = np.empty((t_len, n, hd), dtype=xp.dtype)
    h, c = h0, c0
    for t in range(t_len):
        a = np.matmul(h, w_hh, out=gates[t])
        a += xp[t]
        if b_hh is not None:
            a += b_hh
        _sigmoid_(a[:, : 2 * hd])
        np.tanh(a[:, 2 * hd: 3 * hd], out=a[:, 2 * hd: 3 * hd])
        _sigmoid_(a[:, 3 * hd:])
        i, f, gg, o = a[:, :hd], a[:, hd: 2 * hd], a[:, 2 * hd: 3 * hd], a[:, 3 * hd:]
        c = np.multiply(f, c, out=out[1, t])
        c += i * gg
        np.tanh(c, out=tanh_c[t])
        h = np.multiply(o, tanh_c[t], out=out[0, t])
    return out, (gates, tanh_c)


def lstm_sequence_vjp(g, ctx):
    """g (2, T, N, H) -> gxp (T, N, 4H), gh0, gc0 (N, H), gw_hh (H, 4H), gb_hh (4H,)."""
    _, h0, c0, w_hh, _ = ctx.inputs
    gates, tanh_c = ctx.saved
    hseq, cseq = ctx.out[0], ctx.out[1]
    w_t = np.ascontiguousarray(w_hh.T, dtype=gates.dtype)
    dgates = np.empty_like(gates)
    dh = np.zeros(hseq.shape[1:], dtype=gates.dtype)
    dc = np.zeros(hseq.shape[1:], dtype=gates.dtype)
    for t in range(len(gates) - 1, -1, -1):
        c_prev = cseq[t - 1] if t > 0 else c0.astype(gates.dtype, copy=False)
        dh = dh + g[0, t]
        dc = dc + g[1, t]
        kernels.lstm_backward_step(dh, dc, gates[t], tanh_c[t], c_prev, dgates[t])
        dh = dgates[t] @ w_t
    gw, gb = _weight_grads(ctx, _h_prev_all(h0, hseq), dgates)
    return dgates, dh, dc, gw, gb


lstm_sequence = defop(
    "lstm_sequence", lstm_sequence_forward, lstm_sequence_vjp, twice=False,
    doc="LSTM over time (gates i, f, g, o); out[0] = h_t, out[1] = c_t.  VJP backward in "
        "time: dc_t = dc_{t+1} f_{t+1} + g^c_t + dh_t o tanh'(c_t), gate grads times "
        "activation derivatives, dh_{t-1} = dgates w_hh^T",
)


# --- GRU ------------------------------------------------------------------------------
def gru_sequence_forward(xp, h0, w_hh, b_hh=None, /):
    """GRU over a sequence with PyTorch's gate order (r, z, n).

    xp (T, N, 3H) the input projection (with b_ih), h0 (N, H), w_hh (H, 3H), b_hh (3H,) ->
    (T, N, H).
    ``r = sigmoid(xr + h wr + br)``, ``z = sigmoid(xz + h wz + bz)``,
    ``n = tanh(xn + r (h wn + bn))``, ``h_t = (1 - z) n + z h_{t-1}``.
    VJP backward in time: ``dn = dh (1 - z)``, ``dz = dh (h_{t-1} - n)``,
    ``dr = dn (1 - n^2) (h wn + bn)``, ``dh_{t-1} = dh z + dgh w_hh^T``.
    """
    t_len, n, hd = _check("gru_sequence", xp, [("h0", h0)], w_hh, b_hh, 3)
    xp, h0, w_hh, b_hh = _common_dtype(xp, h0, w_hh, b_hh)
    out = np.empty((t_len, n, hd), dtype=xp.dtype)
    rzn = np.empty((t_len, n, 3 * hd), dtype=xp.dtype)  # activated r, z, n
    ghn = np.empty((t_len, n, hd), dtype=xp.dtype)  # h_{t-1} @ w_hn + b_hn, r multiplies it
    h = h0
    for t in range(t_len):
        gh = h @ w_hh
        if b_hh is not None:
            gh += b_hh
        act = rzn[t]
        np.add(xp[t, :, : 2 * hd], gh[:, : 2 * hd], out=act[:, : 2 * hd])
        _sigmoid_(act[:, : 2 * hd])
        r, z, nn = act[:, :hd], act[:, hd: 2 * hd], act[:, 2 * hd:]
        ghn[t] = gh[:, 2 * hd:]
        np.multiply(r, ghn[t], out=nn)
        nn += xp[t, :, 2 * hd:]
        np.tanh(nn, out=nn)
        h = np.subtract(h, nn, out=out[t])
        h *= z
        h += nn  # (1 - z) n + z h_{t-1}
    return out, (rzn, ghn)


def gru_sequence_vjp(g, ctx):
    """g (T, N, H) -> gxp (T, N, 3H), gh0 (N, H), gw_hh (H, 3H), gb_hh (3H,)."""
    _, h0, w_hh, _ = ctx.inputs
    rzn, ghn = ctx.saved
    hseq = ctx.out
    w_t = np.ascontiguousarray(w_hh.T, dtype=rzn.dtype)
    dxp = np.empty_like(rzn)
    dgh = np.empty_like(rzn)
    dh = np.zeros(hseq.shape[1:], dtype=rzn.dtype)
    for t in range(len(rzn) - 1, -1, -1):
        h_prev = hseq[t - 1] if t > 0 else h0.astype(rzn.dtype, copy=False)
        dh = dh + g[t]
        kernels.gru_backward_step(dh, rzn[t], ghn[t], h_prev, dxp[t], dgh[t])  # dh -> dh z
        dh += dgh[t] @ w_t
    gw, gb = _weight_grads(ctx, _h_prev_all(h0, hseq), dgh)
    return dxp, dh, gw, gb


gru_sequence = defop(
    "gru_sequence", gru_sequence_forward, gru_sequence_vjp, twice=False,
    doc="GRU over time (gates r, z, n), h_t = (1 - z) n + z h_{t-1}.  VJP backward in time: "
        "dn = dh (1 - z), dz = dh (h_{t-1} - n), dr = dn' ghn, dh_{t-1} = dh z + dgh w_hh^T",
)

