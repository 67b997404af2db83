"""im2col / col2im: unfold the sliding windows of a convolution into columns, and fold back.

Columns are laid out channel-major, batch inside::

    x (N, C, H, W)  <->  cols (C, kh, kw, N, oh, ow)

so that, for groups G with C = G * Cg, ``cols.reshape(G, Cg * kh * kw, N * oh * ow)`` is one
contiguous matrix per group and a convolution is one large BLAS GEMM per group.

Both kernels loop over the kernel offsets (p, q) and copy whole rows of the output for each,
Chainer-style. Their work items, which ops/kernels/policy.py may split over threads, are the
(channel, sample) pairs: each pair reads one plane ``x[n, c]`` and writes only its own rows
of ``cols`` (im2col), or writes only the plane ``x[n, c]`` (col2im). col2im's ``+=`` over
overlapping windows therefore never races: the kernel offsets that overlap are looped
serially inside one pair.
"""

import numpy as np

from ops.kernels import policy, workspace
from ops.kernels.config import njit

__all__ = ["col2im", "conv_out_size", "im2col"]


_u = np.uint64  # see _im2col_kernel


@njit
def _valid_range(offset, size, stride, n_out):
    """Output indices i in [lo, hi), within [0, n_out), whose input index
    ``i * stride + offset`` is in [0, size)."""
    lo = 0 if offset >= 0 else (-offset + stride - 1) // stride
    hi = (size - 1 - offset) // stride + 1 if size - 1 - offset >= 0 else 0
    lo = min(lo, n_out)
    return lo, max(lo, min(hi, n_out))


@njit
def _im2col_kernel(start, stop, x, cols, sh, sw, ph, pw, dh, dw):
    """x (N, C, H, W) -> cols (C, kh, kw, N, oh, ow), padding read as zeros, for the
    (channel, sample) pairs t = c * N + n in [start, stop).

    ``cols[c, p, q, n, i, j] = x[n, c, i*sh + p*dh - ph, j*sw + q*dw - pw]`` (0 outside).
    Every element of ``cols`` is written, so it may come uninitialised.
    """
    # The innermost index is cast to unsigned (_u): a signed one gets numba's negative-index
    # wraparound test on every element, which stops LLVM from vectorising the copy.
    n_batch, height, width = x.shape[0], x.shape[2], x.shape[3]
    kh, kw, oh, ow = cols.shape[1], cols.shape[2], cols.shape[4], cols.shape[5]
    for t in range(start, stop):
        c = t // n_batch
        n = t - c * n_batch
        for p in range(kh):
            r_off = p * dh - ph
            i0, i1 = _valid_range(r_off, height, sh, oh)
            for q in range(kw):
                s_off = q * dw - pw
                j0, j1 = _valid_range(s_off, width, sw, ow)
                for i in range(oh):
                    if i < i0 or i >= i1:
                        for j in range(ow):
                            cols[c, p, q, n, i, _u(j)] = 0
                        continue
                    r = i * sh + r_off
                    for j in range(j0):
                        cols[c, p, q, n, i, _u(j)] = 0
                    if sw == 1:  # contiguous rows: a plain copy LLVM vectorises
                        for j in range(j0, j1):
                            cols[c, p, q, n, i, _u(j)] = x[n, c, r, _u(j + s_off)]
                    else:
                        for j in range(j0, j1):
                            cols[c, p, q, n, i, _u(j)] = x[n, c, r, _u(j * sw + s_off)]
                    for j in range(j1, ow):
                        cols[c, p, q, n, i, _u(j)] = 0


@njit
def _col2im_kernel(start, stop, cols, x, sh, sw, ph, pw, dh, dw):
    """cols (C, kh, kw, N, oh, ow) -> x (N, C, H, W), the adjoint of im2col, for the
    (channel, sample) pairs t = c * N + n in [start, stop).

    Each column element is added to the input element its window reads; elements read by
    several windows get the sum, entries that fall in the padding are dropped. ``x`` may
    come uninitialised: each plane is zeroed by the one thread that owns it.
    """
    n_batch, height, width = x.shape[0], x.shape[2], x.shape[3]
    kh, kw, oh, ow = cols.shape[1], cols.shape[2], cols.shape[4], cols.shape[5]
    for t in range(start, stop):
        c = t // n_batch
        n = t - c * n_batch
        for r in range(height):
            for s in range(width):
                x[n, c, r, _u(s)] = 0
        for p in range(kh):  # serial over the overlapping offsets: no race on x[n, c]
            r_off = p * dh - ph
            i0, i1 = _valid_range(r_off, height, sh, oh)
            for q in range(kw):
                s_off = q * dw - pw
                j0, j1 = _valid_range(s_off, width, sw, ow)
                for i in range(i0, i1):
                    r = i * sh + r_off
                    if sw == 1:
                        for j in range(j0, j1):
                            x[n, c, r, _u(j + s_off)] += cols[c, p, q, n, i, _u(j)]
                    else:
                        for j in range(j0, j1):
                            x[n, c, r, _u(j * sw + s_off)] += cols[c, p, q, n, i, _u(j)]


def conv_out_size(size, k, s, p, d):
    """Output length of a convolution over ``size`` elements: kernel k, stride s, padding p,
    dilation d."""
    return (size + 2 * p - d * (k - 1) - 1) // s + 1


def _geometry(name, stride, padding, dilation):
    for what, v, least in (
        ("stride", stride, 1),
        ("padding", padding, 0),
        ("dilation", dilation, 1),
    ):
        if len(v) != 2 or any(int(e) != e or e < least for e in v):
            raise ValueError(f"{name}: {what} must be 2 integers >= {least}, got {v}")


def _float_contiguous(a, name, what):
    a = np.asarray(a)
    if a.dtype not in (np.float32, np.float64):
        raise TypeError(f"{name}: {what} must be float32 or float64, got {a.dtype}")
    return np.ascontiguousarray(a)


def im2col(x, kernel_size, stride=(1, 1), padding=(0, 0), dilation=(1, 1), parallel=None,
           out=None):
    """Unfold the sliding windows of ``x``.

    Parameters
    ----------
    x : ndarray (N, C, H, W), float32 or float64 (any strides)
    kernel_size, stride, padding, dilation : pairs of ints
    parallel : True or False to run on several threads or on this one; None (default)
        leaves it to ops/kernels/policy.py (several for large inputs).
    out : optional C-contiguous ndarray (C, kh, kw, N, oh, ow) of x's dtype to write into.

    Returns
    -------
    cols : ndarray (C, kh, kw, N, oh, ow), x's dtype, with
        ``oh = conv_out_size(H, kh, sh, ph, dh)`` (likewise ow).

    >>> im2col(np.arange(16.0).reshape(1, 1, 4, 4), (3, 3)).shape
    (1, 3, 3, 1, 2, 2)
    """
    x = _float_contiguous(x, "im2col", "x")
    if x.ndim != 4:
        raise ValueError(f"im2col: x must be (N, C, H, W), got shape {x.shape}")
    _geometry("im2col", stride, padding, dilation)
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel_size, stride, padding, dilation
    n, c, h, w = x.shape
    oh, ow = conv_out_size(h, kh, sh, ph, dh), conv_out_size(w, kw, sw, pw, dw)
    if oh < 1 or ow < 1 or kh < 1 or kw < 1:
        raise ValueError(
            f"im2col: kernel {(kh, kw)} with dilation {(dh, dw)} does not fit the input "
            f"{(h, w)} padded by {(ph, pw)}"
        )
    shape = (c, kh, kw, n, oh, ow)
    cols = workspace.empty(shape, x.dtype) if out is None else out
    if cols.shape != shape or cols.dtype != x.dtype or not cols.flags.c_contiguous:
        raise ValueError(f"im2col: out must be a C-contiguous {x.dtype} array of shape "
                         f"{shape}, got {cols.dtype} {cols.shape}")
    policy.run(_im2col_kernel, c * n, (x, cols, sh, sw, ph, pw, dh, dw),
               family="im2col", work=cols.size, parallel=parallel)
    return cols


def col2im(
    cols, input_size, stride=(1, 1), padding=(0, 0), dilation=(1, 1), parallel=None, out=None
):
    """Fold columns back onto the input, summing where windows overlap (im2col's adjoint).

    Parameters
    ----------
    cols : ndarray (C, kh, kw, N, oh, ow), float32 or float64 (any strides)
    input_size : (H, W) of the input the windows slid over; ``oh`` must equal
        ``conv_out_size(H, kh, sh, ph, dh)`` (likewise ``ow``).
    stride, padding, dilation : pairs of ints
    parallel : as for im2col
    out : optional C-contiguous ndarray (N, C, H, W) of cols' dtype to write into.

    Returns
    -------
    x : ndarray (N, C, H, W), cols' dtype.
    """
    cols = _float_contiguous(cols, "col2im", "cols")
    if cols.ndim != 6:
        raise ValueError(f"col2im: cols must be (C, kh, kw, N, oh, ow), got shape {cols.shape}")
    _geometry("col2im", stride, padding, dilation)
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    c, kh, kw, n, oh, ow = cols.shape
    h, w = input_size
    expected = (conv_out_size(h, kh, sh, ph, dh), conv_out_size(w, kw, sw, pw, dw))
    if expected != (oh, ow):
        raise ValueError(
            f"col2im: cols of shape {cols.shape} do not match input size {(h, w)} (a kernel "
            f"{(kh, kw)} there gives {expected} windows, not {(oh, ow)})"
        )
    x = workspace.empty((n, c, h, w), cols.dtype) if out is None else out
    if x.shape != (n, c, h, w) or x.dtype != cols.dtype or not x.flags.c_contiguous:
        raise ValueError(
            f"col2im: out must be a C-contiguous {cols.dtype} array of shape "
            f"{(n, c, h, w)}, got {x.dtype} {x.shape}"
        )
    policy.run(_col2im_kernel, c * n, (cols, x, sh, sw, ph, pw, dh, dw),
               family="col2im", work=cols.size, parallel=parallel)
    return x
