"""im2col / col2im: unfold the sliding windows of a convolution into columns, and fold back.

Columns are laid out channel-major, batch inside::

    x (N, C, H, W)  <->  cols (C, kh, kw, N, oh, ow)

so that, for groups G with C = G * Cg, ``cols.reshape(G, Cg * kh * kw, N * oh * ow)`` is one
contiguous matrix per group and a convolution is one large BLAS GEMM per group.

Both kernels loop over the kernel offsets (p, q) and copy whole rows of the output for each,
Chainer-style. The parallel loop runs over (channel, sample) pairs: each pair reads one plane
``x[n, c]`` and writes only its own rows of ``cols`` (im2col), or writes only the plane
``x[n, c]`` (col2im). col2im's ``+=`` over overlapping windows therefore never races: the
kernel offsets that overlap are looped serially inside one pair.

Serial and parallel versions are compiled from the same source (``_IM2COL``, ``_COL2IM``:
(serial, parallel) pairs), so tests can check that they agree.
"""

import numpy as np
from numba import prange

from ops.kernels import workspace
from ops.kernels.config import njit, serial_and_parallel

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


def _im2col_kernel(x, cols, sh, sw, ph, pw, dh, dw):
    """x (N, C, H, W) -> cols (C, kh, kw, N, oh, ow), padding read as zeros.

    ``cols[c, p, q, n, i, j] = x[n, c, i*sh + p*dh - ph, j*sw + q*dw - pw]`` (0 outside).
    Every element of ``cols`` is written, so it may come uninitialised.
    """
    # The innermost index is cast to unsigned (_u): a signed one gets numba's negative-index
    # wraparound test on every element, which stops LLVM from vectorising the copy (measured
    # 4x slower).
    n_batch, n_chan, height, width = x.shape
    kh, kw, oh, ow = cols.shape[1], cols.shape[2], cols.shape[4], cols.shape[5]
    for t in prange(n_chan * n_batch):
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


def _col2im_kernel(cols, x, sh, sw, ph, pw, dh, dw):
    """cols (C, kh, kw, N, oh, ow) -> x (N, C, H, W), the adjoint of im2col.

    Each column element is added to the input element its window reads; elements read by
    several windows get the sum, entries that fall in the padding are dropped. ``x`` may
    come uninitialised: each plane is zeroed by the one thread that owns it.
    """
    n_batch, n_chan, height, width = x.shape
    kh, kw, oh, ow = cols.shape[1], cols.shape[2], cols.shape[4], cols.shape[5]
    for t in prange(n_chan * n_batch):
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


_IM2COL = serial_and_parallel(_im2col_kernel)
_COL2IM = serial_and_parallel(_col2im_kernel)

# Below this many column elements a parallel launch costs more than it saves (~0.1 ms to
# wake the threads against ~1 ns per element).
PARALLEL_MIN_SIZE = 2**16


def _build(kernels, size, parallel):
    """The serial or parallel build: ``parallel`` True/False forces it, None picks by size."""
    if parallel is None:
        parallel = size >= PARALLEL_MIN_SIZE
    return kernels[1 if parallel else 0]


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


def im2col(x, kernel_size, stride=(1, 1), padding=(0, 0), dilation=(1, 1), parallel=None):
    """Unfold the sliding windows of ``x``.

    Parameters
    ----------
    x : ndarray (N, C, H, W), float32 or float64 (any strides)
    kernel_size, stride, padding, dilation : pairs of ints
    parallel : True or False for the parallel or serial build; None (default) picks
        parallel for large inputs.

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
    cols = workspace.empty((c, kh, kw, n, oh, ow), x.dtype)
    _build(_IM2COL, cols.size, parallel)(x, cols, sh, sw, ph, pw, dh, dw)
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
    _build(_COL2IM, cols.size, parallel)(cols, x, sh, sw, ph, pw, dh, dw)
    return x
