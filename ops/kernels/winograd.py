"""Winograd F(2x2, 3x3): 3x3 stride-1 convolutions with 2.25x fewer multiplications.

A 3x3 cross-correlation giving a 2x2 output tile reads a 4x4 input tile d. Winograd's
minimal filtering (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks",
2015) computes it as ``AT ((G w G^T) * (BT d BT^T)) AT^T`` (``*`` elementwise, 4x4): 16
products instead of 36. Summed over input channels, that is 16 GEMMs, one per position of
the 4x4 tile (T = N * tiles per image)::

    V (16, C, T) = BT d BT^T         input_tiles
    U (16, O, C) = G w G^T           filter_tiles
    M (16, O, T) = U @ V             16 BLAS calls
    y (N, O, oh, ow) = AT M AT^T     output_tiles

The weight gradient is the same algorithm with the roles of w and the output gradient g
swapped: a correlation of x with a 2x2 tile of g giving a 3x3 result, F(3x3, 2x2). With the
same interpolation points (0, 1, -1, inf) its input transform is the same BT over the same
4x4 tiles of x, so the forward's V serves the weight gradient too::

    gw (O, C, 3, 3) = AT3 (sum over tiles of (G2 g G2^T) * V) AT3^T     (16 GEMMs, O x T @ T x C)

The matrices come from Toom-Cook at those points; BT keeps Lavin's rows of 0 and +-1 and G,
AT, G2 carry the matching scales. tests/kernels/test_winograd.py checks the identities in
float64. ``conv`` and ``weight_grad`` run the whole algorithm, GEMMs included;
ops/kernels/policy.py (``use_winograd``) says when it runs, and benchmarks/README.md what
F(2x2, 3x3) gains and why not F(4x4, 3x3).

The tile kernels spell the sparse matrices out as adds (loops of general matrix products
were slower) and work plane by plane, a (channel, sample) plane per work item, which
policy.py may split over threads.
"""

import numpy as np

from ops.kernels import policy, workspace
from ops.kernels.config import njit
from ops.kernels.matmul import stacked_gemm, stacked_gemm_nt

__all__ = ["conv", "filter_tiles", "grad_tiles", "input_tiles", "output_tiles", "tile_counts",
           "weight_from_tiles", "weight_grad"]

BT = np.array([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]], dtype=np.float64)
G = np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]])
AT = np.array([[1, 1, 1, 0], [0, 1, -1, -1]], dtype=np.float64)
G2 = np.array([[1, 0], [0.5, 0.5], [0.5, -0.5], [0, -1]])
AT3 = np.array([[1, 1, 1, 0], [0, 1, -1, 0], [0, 1, 1, 1]], dtype=np.float64)

_u = np.uint64  # unsigned innermost indices, as in im2col.py: they let LLVM vectorise
# 0.5 as float32: a float64 literal times a float32 is float64 in numba, which costs a
# conversion per element; 0.5 is exact in either dtype.
_HALF = np.float32(0.5)


def tile_counts(out_h, out_w):
    """(rows, cols) of 2x2 tiles covering an (out_h, out_w) output."""
    return (out_h + 1) // 2, (out_w + 1) // 2


@njit
def _bt(d0, d1, d2, d3):
    """BT @ (d0, d1, d2, d3)."""
    return d0 - d2, d1 + d2, d2 - d1, d1 - d3


@njit
def _input_plane(x, v, n, c, ph, pw, th, tw):
    """The tiles of the plane x[n, c] (see _input_tiles)."""
    height, width = x.shape[2], x.shape[3]
    hp, wp = 2 * th + 2, 2 * tw + 2  # the zero-padded plane all tiles read
    plane = np.zeros((hp, wp), x.dtype)
    for r in range(max(0, min(height, hp - ph))):
        for s in range(max(0, min(width, wp - pw))):
            plane[r + ph, _u(s + pw)] = x[n, c, r, _u(s)]
    e = np.empty((4, wp), x.dtype)  # BT applied down the columns of one tile row
    for i in range(th):
        r = 2 * i
        for s in range(wp):
            e[0, _u(s)], e[1, _u(s)], e[2, _u(s)], e[3, _u(s)] = _bt(
                plane[r, _u(s)], plane[r + 1, _u(s)], plane[r + 2, _u(s)], plane[r + 3, _u(s)])
        t0 = (n * th + i) * tw
        for a in range(4):  # then along the rows: (BT d) BT^T
            for j in range(tw):
                k, s = _u(t0 + j), _u(2 * j)
                v[a, 0, c, k], v[a, 1, c, k], v[a, 2, c, k], v[a, 3, c, k] = _bt(
                    e[a, s], e[a, s + 1], e[a, s + 2], e[a, s + 3])


@njit
def _input_tiles(start, stop, x, v, ph, pw, th, tw):
    """x (N, C, H, W) -> v (4, 4, C, N*th*tw): ``v[:, :, c, (n*th + i)*tw + j] = BT d BT^T``
    for the 4x4 patch d of x[n, c] at (2i - ph, 2j - pw), zeros outside x, for the planes
    t = c * N + n in [start, stop)."""
    n_batch = x.shape[0]
    for t in range(start, stop):
        _input_plane(x, v, t % n_batch, t // n_batch, ph, pw, th, tw)


@njit
def _g2(g0, g1):
    """G2 @ (g0, g1)."""
    return g0, _HALF * (g0 + g1), _HALF * (g0 - g1), -g1


@njit
def _grad_plane(g, u, n, o, th, tw):
    """The tiles of the plane g[n, o] (see _grad_tiles)."""
    oh, ow = g.shape[2], g.shape[3]
    plane = np.zeros((2 * th, 2 * tw), g.dtype)
    for r in range(oh):
        for s in range(ow):
            plane[r, _u(s)] = g[n, o, r, _u(s)]
    e = np.empty((4, 2 * tw), g.dtype)  # G2 applied down the columns of one tile row
    for i in range(th):
        for s in range(2 * tw):
            e[0, _u(s)], e[1, _u(s)], e[2, _u(s)], e[3, _u(s)] = _g2(
                plane[2 * i, _u(s)], plane[2 * i + 1, _u(s)])
        t0 = (n * th + i) * tw
        for a in range(4):
            for j in range(tw):
                k, s = _u(t0 + j), _u(2 * j)
                u[a, 0, o, k], u[a, 1, o, k], u[a, 2, o, k], u[a, 3, o, k] = _g2(
                    e[a, s], e[a, s + 1])


@njit
def _grad_tiles(start, stop, g, u, th, tw):
    """g (N, O, oh, ow) -> u (4, 4, O, N*th*tw): ``G2 t G2^T`` for each 2x2 tile t of g[n, o]
    (zeros past its edges), for the planes t = o * N + n in [start, stop)."""
    n_batch = g.shape[0]
    for t in range(start, stop):
        _grad_plane(g, u, t % n_batch, t // n_batch, th, tw)


@njit
def _at(m0, m1, m2, m3):
    """AT @ (m0, m1, m2, m3)."""
    return m0 + m1 + m2, m1 - m2 - m3


@njit
def _output_plane(m, y, n, o, th, tw):
    """The plane y[n, o] from its tiles (see _output_tiles)."""
    oh, ow = y.shape[2], y.shape[3]
    e = np.empty((2, 4, tw), y.dtype)  # AT applied to the first axis, one tile row
    for i in range(th):
        t0 = (n * th + i) * tw
        for b in range(4):
            for j in range(tw):
                k = _u(t0 + j)
                e[0, b, _u(j)], e[1, b, _u(j)] = _at(
                    m[0, b, o, k], m[1, b, o, k], m[2, b, o, k], m[3, b, o, k])
        for a in range(min(2, oh - 2 * i)):  # then (AT m) AT^T along the second
            r = 2 * i + a
            for j in range(ow // 2):
                y[n, o, r, _u(2 * j)], y[n, o, r, _u(2 * j + 1)] = _at(
                    e[a, 0, _u(j)], e[a, 1, _u(j)], e[a, 2, _u(j)], e[a, 3, _u(j)])
            if ow % 2:  # an odd width keeps only the first column of the last tile
                j = tw - 1
                y[n, o, r, ow - 1] = _at(e[a, 0, j], e[a, 1, j], e[a, 2, j], e[a, 3, j])[0]


@njit
def _output_tiles(start, stop, m, y, th, tw):
    """m (4, 4, O, N*th*tw) -> y (N, O, oh, ow): the 2x2 block of y[n, o] at (2i, 2j) is
    ``AT m[:, :, o, (n*th + i)*tw + j] AT^T``, cropped at y's edges, for the planes
    t = o * N + n in [start, stop)."""
    n_batch = y.shape[0]
    for t in range(start, stop):
        _output_plane(m, y, t % n_batch, t // n_batch, th, tw)


def input_tiles(x, padding, tiles, parallel=None):
    """x (N, C, H, W) -> V (16, C, N*th*tw) for tiles = (th, tw) and padding (ph, pw).
    ``parallel``: True/False forces a run on several threads or on this one, None leaves it
    to the policy."""
    th, tw = tiles
    n, c = x.shape[:2]
    v = workspace.empty((4, 4, c, n * th * tw), x.dtype)
    policy.run(_input_tiles, c * n, (np.ascontiguousarray(x), v, padding[0], padding[1], th, tw),
               family="winograd", work=v.size, parallel=parallel)
    return v.reshape(16, c, n * th * tw)  # (4, 4, C, T) -> (16, C, T)


def grad_tiles(g, parallel=None):
    """g (N, O, oh, ow) -> (16, O, N*th*tw): G2 t G2^T for each 2x2 tile t of g."""
    th, tw = tile_counts(*g.shape[2:])
    n, o = g.shape[:2]
    u = workspace.empty((4, 4, o, n * th * tw), g.dtype)
    policy.run(_grad_tiles, o * n, (np.ascontiguousarray(g), u, th, tw),
               family="winograd", work=u.size, parallel=parallel)
    return u.reshape(16, o, n * th * tw)  # (4, 4, O, T) -> (16, O, T)


def output_tiles(m, out_shape, parallel=None):
    """M (16, O, N*th*tw) -> y of out_shape (N, O, oh, ow)."""
    th, tw = tile_counts(*out_shape[2:])
    n, o = out_shape[:2]
    y = workspace.empty(out_shape, m.dtype)
    m4 = m.reshape(4, 4, *m.shape[1:])  # (16, O, T) -> (4, 4, O, T)
    policy.run(_output_tiles, o * n, (m4, y, th, tw),
               family="winograd", work=m.size, parallel=parallel)
    return y


def filter_tiles(w):
    """w (O, C, 3, 3) -> U (16, O, C) = G w G^T, in float64 then w's dtype."""
    u = np.einsum("ak,ockl,bl->aboc", G, w.astype(np.float64), G, optimize=True)
    return u.reshape(16, *w.shape[:2]).astype(w.dtype)  # (4, 4, O, C) -> (16, O, C)


def weight_from_tiles(products):
    """(16, O, C), the tile sums of (G2 g G2^T) * V -> gw (O, C, 3, 3) = AT3 . AT3^T."""
    p = products.astype(np.float64).reshape(4, 4, *products.shape[1:])  # -> (4, 4, O, C)
    return np.einsum("pa,aboc,qb->ocpq", AT3, p, AT3, optimize=True).astype(products.dtype)


def conv(x, u, padding, out_shape):
    """x (N, C, H, W), u (16, O, C) = filter_tiles(w) -> (y (N, O, oh, ow), V), the
    convolution of x with w and the input tiles V (16, C, T), which ``weight_grad`` reuses."""
    tiles = tile_counts(*out_shape[2:])
    v = input_tiles(x, padding, tiles)  # (16, C, T)
    m = stacked_gemm(u, v)  # (16, O, C) @ (16, C, T) -> (16, O, T)
    return output_tiles(m, out_shape), v


def weight_grad(g, v):
    """g (N, O, oh, ow), the input tiles v (16, C, T) of x -> gw (O, C, 3, 3), the gradient
    of conv(x, w) in w for the upstream gradient g."""
    # (16, O, T) @ (16, T, C): the tile sums of (G2 g G2^T) * V, one GEMM per position
    products = stacked_gemm_nt(grad_tiles(g), v)
    return weight_from_tiles(products)  # (16, O, C) -> (O, C, 3, 3)
