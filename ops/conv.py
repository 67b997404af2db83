"""Convolutions: ``conv2d``, ``conv1d`` and ``conv_transpose2d`` (PyTorch semantics, NCHW).

Three registered ops carry the 2-D convolution, each bilinear, closed under
differentiation, so gradients of any order flow through convolutions (``create_graph``)::

    conv2d(x, w)               x (N, C, H, W), w (O, C/G, kh, kw)  -> y (N, O, oh, ow)
    conv_transpose2d(y, w)     conv2d's adjoint in x                -> x (N, C, H, W)
    conv2d_weight_grad(x, y)   conv2d's adjoint in w                -> w (O, C/G, kh, kw)

With A, B, C for them (same geometry), the VJPs for an upstream gradient g are

    A(x, w):  gx = B(g, w)   gw = C(x, g)
    B(y, w):  gy = A(g, w)   gw = C(g, y)
    C(x, y):  gx = B(y, g)   gy = A(x, g)

``conv1d`` is conv2d over a height of 1, registered as its own op so that its checks and
errors speak of (N, C, L). ``padding='same'`` with an even kernel pads the larger half on
both sides and drops the first output row or column (ops/conv_geometry.py); the VJPs put
that row of g back as zeros. Each op parses and checks its arguments once, into a
``ConvGeometry`` it saves for its VJP.

Two algorithms run them:

- Winograd F(2x2, 3x3) (ops/kernels/winograd.py) for 3x3, stride-1, undilated, ungrouped
  convolutions whose im2col columns would be large (``policy.use_winograd`` says when):
  16 BLAS GEMMs between tile transforms, 2.25x fewer multiplications than im2col. conv2d
  keeps its input tiles (4x the size of x), and the weight gradient reuses them.
- im2col/col2im (numba, ops/kernels/im2col.py) around BLAS GEMMs for everything else;
  conv2d keeps its columns for the weight gradient. Only when the columns (kh * kw times
  the size of x) would pass ``policy.CHUNK_BYTES`` does an op unfold a chunk of the batch
  at a time (and conv2d saves nothing; backward unfolds x again): a few large BLAS calls
  hold up on a loaded machine where many small ones did not.

The columns are (C*kh*kw, N, oh*ow) and the images NCHW, so a GEMM over the whole batch
has a channel-first operand or result, (O, N, oh*ow), that needs a transposing copy. Where
each sample's GEMM is small enough for OpenBLAS to run it on the calling thread
(``policy.gemm_per_sample``: the CNN's first layer) the GEMMs run one per sample instead,
reading and writing NCHW in place: the forward writes each sample's output block, with the
bias as one more weight column against a row of ones; the input gradient reads g as it is;
the weight gradient sums per-sample products. Larger GEMMs stay whole-batch: the forward
turns its result NCHW in a row-copy kernel that adds the bias (ops/kernels/layout.py), and
conv2d's VJP copies g channel-first once for both gradients.

Large arrays come from ops/kernels/workspace.py, which reuses freed blocks instead of
writing fresh pages. Thresholds, chunk sizes and the kernels' threads are
ops/kernels/policy.py's; benchmarks/README.md has the measurements behind these choices.
"""

import contextlib
import threading

import numpy as np

from autograd.core.registry import call, defop
from ops.conv_geometry import conv_geometry, integer, pair, real_arrays, transpose_geometry
from ops.kernels import layout, policy, winograd, workspace
from ops.kernels.im2col import col2im, conv_out_size, im2col
from ops.kernels.matmul import stacked_gemm, stacked_gemm_nt

__all__ = ["conv1d", "conv2d", "conv_transpose2d"]


# --- array helpers (ndarrays only) ----------------------------------------------------
# conv2d's VJP hands g to conv_transpose2d and to conv2d_weight_grad, and each may copy it
# channel-first. Inside _sharing_channels_first the first copy is kept here (per thread)
# and the second call gets it: the same memory, shape and strides, unchanged in between.
_shared = threading.local()


def _channels_first(y, groups):
    """(N, O, oh, ow) -> (G, O/G, N*oh*ow), a contiguous copy."""
    key = (y.__array_interface__["data"][0], y.shape, y.strides, y.dtype, groups)
    memo = getattr(_shared, "memo", None)
    if memo is not None and memo[0] == key:
        return memo[1]
    n, o, oh, ow = y.shape
    out = workspace.empty((o, n, oh, ow), y.dtype)
    np.copyto(out, y.transpose(1, 0, 2, 3))  # (N, O, oh, ow) -> (O, N, oh, ow)
    out = out.reshape(groups, o // groups, n * oh * ow)
    if memo is not None:
        _shared.memo = (key, out)
    return out


@contextlib.contextmanager
def _sharing_channels_first():
    """Within the block, _channels_first copies an array once (see _shared)."""
    _shared.memo = (None, None)
    try:
        yield
    finally:
        _shared.memo = None


def _weight_matrix(w, groups):
    """(O, C/G, kh, kw) -> (G, O/G, C/G*kh*kw)."""
    return w.reshape(groups, w.shape[0] // groups, w.shape[1] * w.shape[2] * w.shape[3])


def _extend(y, size):
    """(N, O, h, w) -> (N, O, *size) with zeros after the end: conv_transpose2d's output
    padding can leave x with fewer positions than a conv over its output has windows."""
    if tuple(y.shape[2:]) == tuple(size):
        return y
    out = np.zeros(y.shape[:2] + tuple(size), dtype=y.dtype)
    out[:, :, : y.shape[2], : y.shape[3]] = y
    return out


def _unfold(x, kernel, stride, padding, dilation, groups, ones_row=False):
    """x (N, C, H, W) -> (G, C/G*kh*kw, N*oh*ow), or with ``ones_row`` (one group) (1,
    C*kh*kw + 1, N*oh*ow) whose last row is ones, so that a GEMM with the bias as one more
    column of the weights adds it."""
    if not ones_row:
        cols = im2col(x, kernel, stride, padding, dilation)
        # (C, kh, kw, N, oh, ow) -> (G, C/G*kh*kw, N*oh*ow)
        return cols.reshape(groups, -1, cols.shape[3] * cols.shape[4] * cols.shape[5])
    n, c = x.shape[:2]
    oh, ow = (conv_out_size(x.shape[2 + i], kernel[i], stride[i], padding[i], dilation[i])
              for i in range(2))
    k, positions = c * kernel[0] * kernel[1], n * oh * ow
    block = workspace.empty((k + 1, positions), x.dtype)
    # rows 0..K-1: (K, N*oh*ow) -> (C, kh, kw, N, oh, ow), a view
    im2col(x, kernel, stride, padding, dilation, out=block[:k].reshape(
        (c,) + tuple(kernel) + (n, oh, ow)))
    block[k] = 1
    return block.reshape(1, k + 1, positions)


def _drop_start(out, crop):
    """out (N, O, oh, ow) without its first crop[0] rows and crop[1] columns ('same'
    padding with an even kernel), contiguous."""
    if crop == (0, 0):
        return out
    return np.ascontiguousarray(out[:, :, crop[0]:, crop[1]:])


def _convolve(x, w, b, geometry):
    """x (N, C, H, W), w (O, C/G, kh, kw), b (O,) or None, all of one float dtype ->
    (out (N, O, oh, ow), unfolded), (oh, ow) = geometry.out_size (before any crop).

    unfolded: what conv2d_weight_grad can reuse, Winograd's input tiles (16, C, T), or x's
    columns (G, C/G*kh*kw, N*oh*ow) when the batch was unfolded in one chunk, else None.
    """
    stride, padding, dilation, groups = (geometry.stride, geometry.padding,
                                         geometry.dilation, geometry.groups)
    n, o, dtype = x.shape[0], w.shape[0], x.dtype
    oh, ow = geometry.out_size
    bias = None if b is None else b.reshape(o, 1, 1)
    if policy.use_winograd(w.shape, n, (oh, ow), stride, dilation, groups, dtype.itemsize):
        out, tiles = winograd.conv(x, winograd.filter_tiles(w), padding, (n, o, oh, ow))
        if bias is not None:
            out += bias
        return out, tiles
    w3 = _weight_matrix(w, groups)  # (G, O/G, C/G*kh*kw)
    k, positions = w3.shape[2], oh * ow
    out = workspace.empty((n, o, oh, ow), dtype)
    out4 = out.reshape(n, groups, o // groups, positions)  # (N, O, oh, ow) -> (N, G, O/G, oh*ow)
    per_sample = policy.gemm_per_sample(o // groups, k, positions)
    # Per sample with one group, the bias rides in the GEMM, as a last column of the
    # weights against a row of ones in the columns, instead of a pass over the output.
    ones_row = per_sample and groups == 1 and b is not None
    if ones_row:
        w3 = np.concatenate([w3, b.reshape(1, o, 1)], axis=2)  # -> (1, O, K + 1)
    rows = w3.shape[2]  # K, or K + 1 with the row of ones
    chunks = policy.batch_chunks(n, k * groups * positions * dtype.itemsize)
    cols = None
    for n0, n1 in chunks:
        cols = _unfold(x[n0:n1], geometry.kernel, stride, padding, dilation, groups, ones_row)
        if per_sample:
            # (G, rows, nb*oh*ow) -> (G, rows, nb, oh*ow)
            cols4 = cols.reshape(groups, rows, n1 - n0, positions)
            for gi in range(groups):
                # (O/G, rows) @ (nb, rows, oh*ow) -> (nb, O/G, oh*ow): one BLAS call per
                # sample, each reading its strided block of the columns and writing its own
                # NCHW block, so the output needs no transposing copy.
                np.matmul(w3[gi], cols4[gi].transpose(1, 0, 2), out=out4[n0:n1, gi])
        else:
            prod = stacked_gemm(w3, cols)  # (G, O/G, K) @ (G, K, nb*oh*ow) -> (G, O/G, nb*oh*ow)
            # (O, nb, oh*ow) -> (nb, O, oh*ow), the bias added on the way
            layout.nchw_from_channels_first(prod.reshape(o, n1 - n0, positions), b,
                                            out[n0:n1].reshape(n1 - n0, o, positions))
    if per_sample and bias is not None and not ones_row:
        out += bias
    if len(chunks) != 1:
        return out, None
    return out, cols[:, :k]  # x's columns (G, K, N*oh*ow), without any row of ones


def _conv_vjp(g, x, w, geometry, unfolded, needs):
    """conv2d's VJP, shared with conv1d: g (N, O, oh - crop, ow - crop) -> gx (N, C, H, W)
    = B(g, w), gw (O, C/G, kh, kw) = C(x, g), gb (O,) = g summed over N, oh, ow.

    Arrays in backward, Tensors under create_graph (np.pad dispatches to ops.pad).
    """
    if geometry.crop != (0, 0):  # the rows and columns the forward dropped get no gradient
        ch, cw = geometry.crop
        g = np.pad(g, ((0, 0), (0, 0), (ch, 0), (cw, 0)))  # -> (N, O, oh, ow)
    gx = gw = gb = None
    with _sharing_channels_first():
        if needs[0]:
            gx = call(conv_transpose2d, g, w, None, **geometry.params,
                      output_padding=geometry.output_padding(x.shape[2:]))
        if needs[1]:
            gw = call(conv2d_weight_grad, x, g, kernel_size=geometry.kernel,
                      **geometry.params, unfolded=unfolded)
    if needs[2]:
        # over the batch first: adding whole planes is 1.5-2x faster than numpy's reduction
        # over axes (0, 2, 3) at once
        gb = g.sum(axis=0).sum(axis=(1, 2))  # (N, O, oh, ow) -> (O, oh, ow) -> (O,)
    return gx, gw, gb


# --- conv2d and conv1d ------------------------------------------------------------------
def conv2d_forward(x, w, b=None, /, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution (cross-correlation, as in PyTorch) over NCHW images.

    Parameters
    ----------
    x : Tensor (N, C_in, H, W)
    w : Tensor (C_out, C_in // groups, kh, kw)
    b : Tensor (C_out,) or None
    stride, dilation : int or pair of ints
    padding : int, pair of ints, ``'valid'`` (0) or ``'same'`` (output (H, W), stride 1;
        with an even kernel the extra row and column of padding go at the end, as PyTorch)
    groups : int; C_in and C_out divisible by it (groups == C_in: depthwise)

    Returns
    -------
    Tensor (N, C_out, oh, ow), ``oh = (H + 2 ph - dh (kh - 1) - 1) // sh + 1``.

    VJP: gx = conv_transpose2d(g, w), gw = conv2d_weight_grad(x, g), gb = g summed over
    N, oh, ow.

    >>> x = Tensor(np.random.randn(8, 3, 28, 28), requires_grad=True)
    >>> w = Tensor(np.random.randn(16, 3, 3, 3) * 0.1, requires_grad=True)
    >>> ops.conv2d(x, w, padding=1).shape
    (8, 16, 28, 28)
    """
    x, w, b = real_arrays("conv2d", x, w, b)
    geometry = conv_geometry("conv2d", 2, x.shape, w.shape, None if b is None else b.shape,
                             stride, padding, dilation, groups)
    out, unfolded = _convolve(x, w, b, geometry)
    return _drop_start(out, geometry.crop), (geometry, unfolded)


def conv2d_vjp(g, ctx):
    """g (N, O, oh, ow) -> (gx, gw, gb), see _conv_vjp."""
    geometry, unfolded = ctx.saved
    return _conv_vjp(g, ctx.inputs[0], ctx.inputs[1], geometry, unfolded, ctx.needs)


conv2d = defop("conv2d", conv2d_forward, conv2d_vjp)


def conv1d_forward(x, w, b=None, /, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution (cross-correlation, as in PyTorch) over (N, C, L) sequences.

    Parameters
    ----------
    x : Tensor (N, C_in, L)
    w : Tensor (C_out, C_in // groups, k)
    b : Tensor (C_out,) or None
    stride, dilation : int or 1-tuple
    padding : int, 1-tuple, ``'valid'`` or ``'same'`` (as in ``conv2d``)
    groups : int

    Returns
    -------
    Tensor (N, C_out, L_out), ``L_out = (L + 2 p - d (k - 1) - 1) // s + 1``: conv2d over
    a height of 1.

    VJP: conv2d's, over a height of 1.

    >>> ops.conv1d(Tensor(np.ones((2, 4, 10))), Tensor(np.ones((6, 4, 3)))).shape
    (2, 6, 8)
    """
    x, w, b = real_arrays("conv1d", x, w, b)
    geometry = conv_geometry("conv1d", 1, x.shape, w.shape, None if b is None else b.shape,
                             stride, padding, dilation, groups)
    # (N, C, L) -> (N, C, 1, L) and (O, C/G, k) -> (O, C/G, 1, k), views
    out, unfolded = _convolve(x[:, :, None], w[:, :, None], b, geometry)
    out = _drop_start(out, geometry.crop)
    return out[:, :, 0], (geometry, unfolded)  # (N, O, 1, L_out) -> (N, O, L_out)


def conv1d_vjp(g, ctx):
    """g (N, O, L_out) -> conv2d's VJP over a height of 1 -> gx (N, C, L), gw (O, C/G, k),
    gb (O,)."""
    x, w, _ = ctx.inputs
    geometry, unfolded = ctx.saved
    # (N, O, L_out) -> (N, O, 1, L_out), (N, C, L) -> (N, C, 1, L), (O, C/G, k) -> (O, C/G, 1, k)
    gx, gw, gb = _conv_vjp(np.expand_dims(g, 2), np.expand_dims(x, 2), np.expand_dims(w, 2),
                           geometry, unfolded, ctx.needs)
    # (N, C, 1, L) -> (N, C, L), (O, C/G, 1, k) -> (O, C/G, k)
    return (None if gx is None else np.squeeze(gx, 2),
            None if gw is None else np.squeeze(gw, 2), gb)


conv1d = defop("conv1d", conv1d_forward, conv1d_vjp)


# --- conv_transpose2d: the adjoint in x -----------------------------------------------
def conv_transpose2d_forward(x, w, b=None, /, stride=1, padding=0, output_padding=0,
                             dilation=1, groups=1):
    """Transposed 2-D convolution (the gradient of conv2d in its input), PyTorch semantics.

    Parameters
    ----------
    x : Tensor (N, C_in, H, W)
    w : Tensor (C_in, C_out // groups, kh, kw)
    b : Tensor (C_out,) or None
    stride, padding, output_padding, dilation : int or pair of ints; output_padding must be
        smaller than stride or dilation
    groups : int

    Returns
    -------
    Tensor (N, C_out, H_out, W_out), ``H_out = (H - 1) sh - 2 ph + dh (kh - 1) + oph + 1``.

    VJP: gx = conv2d(g, w), gw = conv2d_weight_grad(g, x), gb = g summed over N, H_out,
    W_out.

    >>> x = Tensor(np.random.randn(2, 16, 7, 7))
    >>> w = Tensor(np.random.randn(16, 8, 4, 4))
    >>> ops.conv_transpose2d(x, w, stride=2, padding=1).shape
    (2, 8, 14, 14)
    """
    x, w, b = real_arrays("conv_transpose2d", x, w, b)
    geometry, out_size = transpose_geometry(
        "conv_transpose2d", x.shape, w.shape, None if b is None else b.shape, stride, padding,
        output_padding, dilation, groups)
    return _transpose_convolve(x, w, b, geometry, out_size), geometry


def _transpose_convolve(y, w, b, geometry, out_size):
    """y (N, O, h, w), w (O, C/G, kh, kw), b (C,) or None, of one float dtype -> out
    (N, C, *out_size): the adjoint of the convolution ``geometry`` in its input, plus b.
    y may have fewer rows or columns than that convolution's windows (output_padding at
    or past the stride); the missing ones count as zeros."""
    stride, padding, dilation, groups = (geometry.stride, geometry.padding,
                                         geometry.dilation, geometry.groups)
    n, c, dtype, full = y.shape[0], w.shape[1] * groups, y.dtype, geometry.out_size
    y = _extend(y, full)
    if max(padding) <= 2 and policy.use_winograd(w.shape, n, full, stride, dilation, groups,
                                                 dtype.itemsize):
        # Stride 1: the adjoint is a convolution of y with w turned 180 degrees, its in and
        # out channels swapped, (O, C, kh, kw) -> (C, O, kh, kw), and padding 2 - p.
        w_turned = w.transpose(1, 0, 2, 3)[:, :, ::-1, ::-1]
        pad = (2 - padding[0], 2 - padding[1])
        out, _ = winograd.conv(y, winograd.filter_tiles(w_turned), pad, (n, c) + out_size)
    else:
        # (G, O/G, C/G*kh*kw) -> (G, C/G*kh*kw, O/G), a small copy BLAS reads row by row
        wt = np.ascontiguousarray(_weight_matrix(w, groups).transpose(0, 2, 1))
        k, positions = wt.shape[1], full[0] * full[1]
        per_sample = policy.gemm_per_sample(k, wt.shape[2], positions)
        out = workspace.empty((n, c) + out_size, dtype)
        for n0, n1 in policy.batch_chunks(n, k * groups * positions * dtype.itemsize):
            if per_sample:
                cols = workspace.empty((c,) + w.shape[2:] + (n1 - n0,) + full, dtype)
                # (C, kh, kw, nb, oh, ow) -> (G, K, nb, oh*ow)
                cols4 = cols.reshape(groups, k, n1 - n0, positions)
                # (nb, O, oh, ow) -> (nb, G, O/G, oh*ow)
                y4 = y[n0:n1].reshape(n1 - n0, groups, wt.shape[2], positions)
                for gi in range(groups):
                    # (K, O/G) @ (nb, O/G, oh*ow) -> (nb, K, oh*ow), one BLAS call per
                    # sample reading y as it is and writing a strided block of the columns
                    np.matmul(wt[gi], y4[:, gi], out=cols4[gi].transpose(1, 0, 2))
            else:
                # (G, K, O/G) @ (G, O/G, nb*oh*ow) -> (G, K, nb*oh*ow)
                cols = stacked_gemm(wt, _channels_first(y[n0:n1], groups))
                # (G, K, nb*oh*ow) -> (C, kh, kw, nb, oh, ow)
                cols = cols.reshape((c,) + w.shape[2:] + (n1 - n0,) + full)
            col2im(cols, out_size, stride, padding, dilation, out=out[n0:n1])
    if b is not None:
        out += b.reshape(c, 1, 1)
    return out


def conv_transpose2d_vjp(g, ctx):
    """g (N, C_out, H_out, W_out) -> gx (N, C_in, H, W) = A(g, w), gw (C_in, C_out/G, kh,
    kw) = C(g, x), gb (C_out,) = g summed over N, H_out, W_out."""
    x, w, _ = ctx.inputs
    geometry = ctx.saved
    (h, wd), full = x.shape[2:], geometry.out_size
    gx = gw = gb = None
    if ctx.needs[0]:
        gx = call(conv2d, g, w, None, **geometry.params)  # (N, C_in, *full)
        if full != (h, wd):  # windows past x's end (see _transpose_convolve) have no input
            gx = gx[:, :, :h, :wd]
    if ctx.needs[1]:
        if full != (h, wd):  # (N, C_in, H, W) -> (N, C_in, *full), zeros after the end
            x = np.pad(x, ((0, 0), (0, 0), (0, full[0] - h), (0, full[1] - wd)))
        gw = call(conv2d_weight_grad, g, x, kernel_size=geometry.kernel, **geometry.params)
    if ctx.needs[2]:
        gb = g.sum(axis=(0, 2, 3))
    return gx, gw, gb


conv_transpose2d = defop("conv_transpose2d", conv_transpose2d_forward, conv_transpose2d_vjp)


# --- conv2d_weight_grad: the adjoint in w ---------------------------------------------
def _reusable(unfolded, shape, dtype):
    """Whether conv2d's saved unfolding of x fits this call (same path, dtype and shape)."""
    return unfolded is not None and unfolded.dtype == dtype and unfolded.shape == shape


def conv2d_weight_grad_forward(x, y, /, kernel_size, stride=1, padding=0, dilation=1,
                               groups=1, unfolded=None):
    """x (N, C, H, W), y (N, O, oh, ow) -> gw (O, C/G, kh, kw): the adjoint of conv2d(x, .)
    in its weight, ``gw = sum over n, i, j of y[n, :, i, j] (x) window of x at (i, j)``.

    unfolded: x unfolded as conv2d's forward left it, reused when it fits: Winograd's input
    tiles (16, C, T) or x's columns (G, C/G*kh*kw, N*oh*ow); None unfolds x here.
    """
    name = "conv2d_weight_grad"
    x, y = real_arrays(name, x, y)
    if x.ndim != 4 or y.ndim != 4:
        raise ValueError(f"{name}: expected x (N, C, H, W) and y (N, O, oh, ow), got x "
                         f"{x.shape} and y {y.shape}")
    groups = integer(groups, "groups", name, 1)
    w_shape = (y.shape[1], x.shape[1] // groups) + pair(kernel_size, "kernel_size", name, 1)
    geometry = conv_geometry(name, 2, x.shape, w_shape, None, stride, padding, dilation,
                             groups)
    stride, padding, dilation = geometry.stride, geometry.padding, geometry.dilation
    if y.shape != (x.shape[0], w_shape[0]) + geometry.out_size:
        raise ValueError(
            f"{name}: y {y.shape} is not the output shape "
            f"{(x.shape[0], w_shape[0]) + geometry.out_size} of x {x.shape} and a kernel "
            f"{geometry.kernel} (stride {stride}, padding {padding}, dilation {dilation})")
    n, dtype, full = x.shape[0], x.dtype, geometry.out_size
    if policy.use_winograd(w_shape, n, full, stride, dilation, groups, dtype.itemsize):
        th, tw = winograd.tile_counts(*full)
        tiles = (unfolded if _reusable(unfolded, (16, x.shape[1], n * th * tw), dtype)
                 else winograd.input_tiles(x, padding, (th, tw)))
        return winograd.weight_grad(y, tiles), geometry
    k, positions = w_shape[1] * geometry.kernel[0] * geometry.kernel[1], full[0] * full[1]
    if _reusable(unfolded, (groups, k, n * positions), dtype):
        gw = _weight_product(y, unfolded, groups)
        return gw.reshape(w_shape), geometry  # (G, O/G, C/G*kh*kw) -> (O, C/G, kh, kw)
    gw = np.zeros((groups, w_shape[0] // groups, k), dtype=dtype)  # (G, O/G, C/G*kh*kw)
    for n0, n1 in policy.batch_chunks(n, k * groups * positions * dtype.itemsize):
        cols = _unfold(x[n0:n1], geometry.kernel, stride, padding, dilation, groups)
        gw += _weight_product(y[n0:n1], cols, groups)
    return gw.reshape(w_shape), geometry  # (G, O/G, C/G*kh*kw) -> (O, C/G, kh, kw)


def _weight_product(y, cols, groups):
    """y (nb, O, oh, ow), x's columns cols (G, K, nb*oh*ow) -> (G, O/G, K), K = C/G*kh*kw:
    the sum over samples and positions of y times the columns.

    The sum runs over (sample, position), which is one index of the columns but two of y
    (NCHW). Small per-sample products (O/G, oh*ow) @ (oh*ow, K), summed over the batch, read
    y as it is; larger ones make one GEMM over a channel-first copy of y
    (policy.gemm_per_sample).
    """
    nb, o, oh, ow = y.shape
    k = cols.shape[1]
    if not policy.gemm_per_sample(o // groups, k, oh * ow):
        # (G, O/G, nb*oh*ow) @ (G, nb*oh*ow, K)
        return stacked_gemm_nt(_channels_first(y, groups), cols)
    y4 = y.reshape(nb, groups, o // groups, oh * ow)  # (nb, O, oh, ow) -> (nb, G, O/G, oh*ow)
    cols4 = cols.reshape(groups, k, nb, oh * ow)  # (G, K, nb*oh*ow) -> (G, K, nb, oh*ow)
    gw = np.empty((groups, o // groups, k), y.dtype)
    for gi in range(groups):
        # (nb, O/G, oh*ow) @ (nb, oh*ow, K) -> (nb, O/G, K), summed over nb
        np.sum(np.matmul(y4[:, gi], cols4[gi].transpose(1, 2, 0)), axis=0, out=gw[gi])
    return gw


def conv2d_weight_grad_vjp(g, ctx):
    """g (O, C/G, kh, kw) -> gx (N, C, H, W) = B(y, g), gy (N, O, oh, ow) = A(x, g)."""
    x, y = ctx.inputs
    geometry = ctx.saved
    gx = gy = None
    if ctx.needs[0]:
        gx = call(conv_transpose2d, y, g, None, **geometry.params,
                  output_padding=geometry.output_padding(x.shape[2:]))
    if ctx.needs[1]:
        gy = call(conv2d, x, g, None, **geometry.params)
    return gx, gy


conv2d_weight_grad = defop(
    "conv2d_weight_grad", conv2d_weight_grad_forward, conv2d_weight_grad_vjp,
    doc="gw of conv2d from x and y.  VJP: (conv_transpose2d(y, g), conv2d(x, g))",
)
