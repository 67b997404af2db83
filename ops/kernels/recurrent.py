"""Backward gate kernels for one time step of the GRU and the LSTM (ops/recurrent.py).

The matrix products stay in numpy (BLAS); these fuse the dozen elementwise passes of a
step's gate derivatives into one pass over the (N, H) batch. No transcendentals here (the
forward saved the activated gates): the forward steps stay in numpy, whose SIMD tanh is
several times faster than a scalar loop. Serial: at these sizes waking a thread pool costs
more than the loop. The ops are checked against step-by-step numpy references
(tests/ops/test_recurrent.py).
"""

from ops.kernels.config import njit


@njit
def gru_backward_step(dh, rzn, ghn, h_prev, dxp, dgh):
    """dh (N, H) the gradient of h_t; rzn (N, 3H), ghn, h_prev (N, H) from the forward ->
    dxp, dgh (N, 3H) the gradients of the input and hidden pre-activations. ``dh`` is
    overwritten with its direct share of dh_{t-1}, ``dh z`` (the caller adds dgh w_hh^T)."""
    n_rows, hd = dh.shape
    for i in range(n_rows):
        for j in range(hd):
            r, z, n = rzn[i, j], rzn[i, hd + j], rzn[i, 2 * hd + j]
            d = dh[i, j]
            dn = d * (1 - z) * (1 - n * n)  # through tanh
            dr = dn * ghn[i, j] * r * (1 - r)
            dz = d * (h_prev[i, j] - n) * z * (1 - z)
            dxp[i, j] = dr
            dxp[i, hd + j] = dz
            dxp[i, 2 * hd + j] = dn
            dgh[i, j] = dr
            dgh[i, hd + j] = dz
            dgh[i, 2 * hd + j] = dn * r
            dh[i, j] = d * z


@njit
def lstm_backward_step(dh, dc, gates, tanh_c, c_prev, dgates):
    """dh, dc (N, H) the gradients of h_t and c_t (dc without the path through h_t) ->
    dgates (N, 4H) of the pre-activations; ``dc`` is overwritten with dc_{t-1} = dc f."""
    n_rows, hd = dh.shape
    for i in range(n_rows):
        for j in range(hd):
            ig, fg = gates[i, j], gates[i, hd + j]
            gg, og = gates[i, 2 * hd + j], gates[i, 3 * hd + j]
            tc = tanh_c[i, j]
            d = dc[i, j] + dh[i, j] * og * (1 - tc * tc)
            dgates[i, j] = d * gg * ig * (1 - ig)
            dgates[i, hd + j] = d * c_prev[i, j] * fg * (1 - fg)
            dgates[i, 2 * hd + j] = d * ig * (1 - gg * gg)
            dgates[i, 3 * hd + j] = dh[i, j] * tc * og * (1 - og)
            dc[i, j] = d * fg
