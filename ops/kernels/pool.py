"""Pooling kernels on stacks of planes: x (P, H, W) with P = N * C.

Each kernel is a function of one plane (``_*_plane``, given the whole stack and the plane's
index: slicing the plane out as a view first made the loops several times slower), looped
over a range of planes (``_*_planes``); the public drivers hand that loop to
ops/kernels/policy.py, which runs it on this thread or splits the planes over several.
Each plane is read and written by one thread only, so the backward scatters (``+=`` into
overlapping windows) cannot race.

Padding is virtual: a window is clipped to the plane, which for max pooling is the same as
padding with -inf. The geometry is checked by the callers (ops/pool.py); the kernels assume
every window holds at least one element of the plane (padding <= kernel // 2, as in
PyTorch).

Indices are cast to unsigned (``_u``) where they are known to be in range: numba then skips
its negative-index wraparound check, which slows these loops.

Every driver takes ``parallel``: True or False forces a run on several threads or on this
one, None (default) leaves it to the policy (several for large stacks).
"""

import numpy as np

from ops.kernels import policy
from ops.kernels.config import njit

_u = np.uint64


def out_size(size, k, s, p):
    """Output length of a pooling window k, stride s, padding p over ``size`` elements."""
    return (size + 2 * p - k) // s + 1


# --- max pooling ----------------------------------------------------------------------
@njit
def _max_plane(x, p, kh, kw, sh, sw, ph, pw, out, argmax):
    height, width = x.shape[1], x.shape[2]
    for i in range(out.shape[1]):
        h0 = i * sh - ph
        hs, he = max(h0, 0), min(h0 + kh, height)
        for j in range(out.shape[2]):
            w0 = j * sw - pw
            ws, we = max(w0, 0), min(w0 + kw, width)
            best = x[p, _u(hs), _u(ws)]
            at = hs * width + ws
            for a in range(hs, he):
                for b in range(ws, we):
                    v = x[p, _u(a), _u(b)]
                    if v > best or np.isnan(v):
                        best = v
                        at = a * width + b
            out[p, i, j] = best
            argmax[p, i, j] = at


@njit
def _max_plane_2x2(x, p, out, argmax):
    """``_max_plane`` for the common 2x2 window, stride 2, no padding: the same comparisons
    in the same order (so the same ties and NaNs), without per-window bounds."""
    width = x.shape[2]
    for i in range(out.shape[1]):
        a = _u(2 * i)
        for j in range(out.shape[2]):
            b = _u(2 * j)
            best = x[p, a, b]
            at = a * width + b
            v = x[p, a, b + 1]
            if v > best or np.isnan(v):
                best = v
                at = a * width + b + 1
            v = x[p, a + 1, b]
            if v > best or np.isnan(v):
                best = v
                at = (a + 1) * width + b
            v = x[p, a + 1, b + 1]
            if v > best or np.isnan(v):
                best = v
                at = (a + 1) * width + b + 1
            out[p, i, j] = best
            argmax[p, i, j] = at


@njit
def _max_any_plane(x, p, kh, kw, sh, sw, ph, pw, out, argmax):
    if kh == 2 and kw == 2 and sh == 2 and sw == 2 and ph == 0 and pw == 0:
        _max_plane_2x2(x, p, out, argmax)
    else:
        _max_plane(x, p, kh, kw, sh, sw, ph, pw, out, argmax)


@njit
def _max_planes(start, stop, x, kh, kw, sh, sw, ph, pw, out, argmax):
    for p in range(start, stop):
        _max_any_plane(x, p, kh, kw, sh, sw, ph, pw, out, argmax)


def max_pool2d_forward(x, kh, kw, sh, sw, ph, pw, out, argmax, parallel=None):
    """Max over each window.

    x (P, H, W) -> out (P, OH, OW) and argmax (P, OH, OW): the flat index ``h * W + w`` of
    each window's max in its plane. The first max wins a tie; a NaN wins over numbers (and
    the last NaN over other NaNs), as in PyTorch, so NaNs propagate.
    """
    policy.run(_max_planes, x.shape[0], (x, kh, kw, sh, sw, ph, pw, out, argmax),
               family="pool", work=x.size, parallel=parallel)


@njit
def _scatter_plane(g, argmax, p, gx):
    for k in range(gx.shape[1]):
        gx[p, k] = 0
    for k in range(g.shape[1]):
        gx[p, _u(argmax[p, k])] += g[p, k]


@njit
def _scatter_planes(start, stop, g, argmax, gx):
    for p in range(start, stop):
        _scatter_plane(g, argmax, p, gx)


def max_pool2d_backward(g, argmax, gx, parallel=None):
    """Scatter the gradient to the recorded maxima.

    g (P, Q), argmax (P, Q) flat indices into a plane of M = H * W elements -> gx (P, M):
    zeros with ``g[p, q]`` added at ``argmax[p, q]`` (added: overlapping windows can share
    a max).
    """
    policy.run(_scatter_planes, g.shape[0], (g, argmax, gx),
               family="pool", work=gx.size, parallel=parallel)


@njit
def max_pool2d_gather(h, argmax, out):
    """The adjoint of ``max_pool2d_backward``: h (P, M), argmax (P, Q) -> out (P, Q) with
    ``out[p, q] = h[p, argmax[p, q]]``. Serial: it only runs in double backward."""
    for p in range(argmax.shape[0]):
        for k in range(argmax.shape[1]):
            out[p, k] = h[p, _u(argmax[p, k])]


# --- average pooling ------------------------------------------------------------------
@njit
def _avg_plane(x, p, kh, kw, sh, sw, ph, pw, count_include_pad, out):
    height, width = x.shape[1], x.shape[2]
    for i in range(out.shape[1]):
        h0 = i * sh - ph
        hs, he = max(h0, 0), min(h0 + kh, height)
        for j in range(out.shape[2]):
            w0 = j * sw - pw
            ws, we = max(w0, 0), min(w0 + kw, width)
            total = 0.0  # float64 sums: float32 windows lose nothing
            for a in range(hs, he):
                for b in range(ws, we):
                    total += x[p, _u(a), _u(b)]
            count = kh * kw if count_include_pad else (he - hs) * (we - ws)
            out[p, i, j] = total / count


@njit
def _avg_planes(start, stop, x, kh, kw, sh, sw, ph, pw, count_include_pad, out):
    for p in range(start, stop):
        _avg_plane(x, p, kh, kw, sh, sw, ph, pw, count_include_pad, out)


def avg_pool2d_forward(x, kh, kw, sh, sw, ph, pw, count_include_pad, out, parallel=None):
    """Mean over each window.

    x (P, H, W) -> out (P, OH, OW). The divisor is kh * kw with ``count_include_pad`` (the
    padding counts as zeros), else the number of elements of the plane in the window.
    """
    policy.run(_avg_planes, x.shape[0], (x, kh, kw, sh, sw, ph, pw, count_include_pad, out),
               family="pool", work=x.size, parallel=parallel)


@njit
def _spread_plane(g, p, kh, kw, sh, sw, ph, pw, count_include_pad, gx):
    height, width = gx.shape[1], gx.shape[2]
    for a in range(height):
        for b in range(width):
            gx[p, a, b] = 0
    for i in range(g.shape[1]):
        h0 = i * sh - ph
        hs, he = max(h0, 0), min(h0 + kh, height)
        for j in range(g.shape[2]):
            w0 = j * sw - pw
            ws, we = max(w0, 0), min(w0 + kw, width)
            count = kh * kw if count_include_pad else (he - hs) * (we - ws)
            share = g[p, i, j] / count
            for a in range(hs, he):
                for b in range(ws, we):
                    gx[p, _u(a), _u(b)] += share


@njit
def _spread_planes(start, stop, g, kh, kw, sh, sw, ph, pw, count_include_pad, gx):
    for p in range(start, stop):
        _spread_plane(g, p, kh, kw, sh, sw, ph, pw, count_include_pad, gx)


def avg_pool2d_backward(g, kh, kw, sh, sw, ph, pw, count_include_pad, gx, parallel=None):
    """The adjoint of ``avg_pool2d_forward``: g (P, OH, OW) -> gx (P, H, W), zeros with
    ``g / count`` added to every element of each window."""
    policy.run(_spread_planes, g.shape[0], (g, kh, kw, sh, sw, ph, pw, count_include_pad, gx),
               family="pool", work=gx.size, parallel=parallel)
