"""Convolutions: ``conv2d``, ``conv1d`` and ``conv_transpose2d`` (PyTorch semantics, NCHW).

Three registered ops, each bilinear, close under differentiation, so gradients of any order
flow through convolutions (``create_graph=True``)::

    conv2d(x, w)               x (N, C, H, W), w (O, C/G, kh, kw)  -> y (N, O, oh, ow)
    conv_transpose2d(y, w)     conv2d's adjoint in x                -> x (N, C, H, W)
    conv2d_weight_grad(x, y)   conv2d's adjoint in w                -> w (O, C/G, kh, kw)

With A, B, C for them (same geometry), the VJPs for an upstream gradient g are

    A(x, w):  gx = B(g, w)   gw = C(x, g)
    B(y, w):  gy = A(g, w)   gw = C(g, y)
    C(x, y):  gx = B(y, g)   gy = A(x, g)

Two algorithms run them:

- Winograd F(2x2, 3x3) (ops/kernels/winograd.py) for 3x3, stride-1, undilated, ungrouped
  convolutions whose im2col columns would be large (``_use_winograd`` says when, and why):
  16 BLAS GEMMs between tile transforms, 2.25x fewer multiplications than im2col. conv2d
  keeps its input tiles (4x the size of x), and the weight gradient reuses them. Measured
  against im2col, interleaved, on 2 cores (forward / forward+backward, N=64): 32->64 at
  28x28 18.6 -> 15.2 / 52.0 -> 43.8 ms, 64->64 at 14x14 10.0 -> 7.3 / 27.5 -> 20.5 ms.
- im2col/col2im (numba, ops/kernels/im2col.py) around one BLAS GEMM per group over the whole
  batch for everything else; conv2d keeps its columns for the weight gradient. Only when
  the columns (kh * kw times the size of x) would pass ``CHUNK_BYTES`` does an op unfold a
  chunk of the batch at a time (and conv2d saves nothing; backward unfolds x again).

Large arrays come from ops/kernels/workspace.py, which reuses freed blocks: writing fresh
pages from two threads was up to 30x slower than reusing memory.

Measured choices (main benchmark shape, 2 cores): im2col and col2im pick the parallel build
by size. With numba's OpenMP workers spinning while idle, they and OpenBLAS's workers fought
between a parallel region and the GEMM (forward+backward 80-130 ms parallel vs 55-85 ms
serial); with OMP_WAIT_POLICY=PASSIVE (ops/kernels/config.py) the parallel build wins:
59-65 ms vs 76-96 ms serial, measured back to back.
Small, cache-sized chunks are ~20% faster on one thread, but every chunk is another BLAS
call waiting for both of its threads; on a loaded machine that made the shape 2-20x slower.
A few large calls are robust.
"""

import numpy as np

from autograd.core.registry import call, defop
from ops.conv_geometry import check_conv, output_size, pair, parse_geometry, real_dtype
from ops.kernels import winograd, workspace
from ops.kernels.im2col import col2im, im2col
from ops.shape import reshape

__all__ = ["conv1d", "conv2d", "conv_transpose2d"]

# At most this many bytes of columns exist at once (see the module docstring).
CHUNK_BYTES = 128 * 2**20
# im2col/col2im build: False serial (see the module docstring), True parallel, None by size.
PARALLEL_KERNELS = None
# Winograd for 3x3, stride 1, undilated, ungrouped convolutions with at least this many
# channels in and out and this many bytes of im2col columns (see _use_winograd); False
# turns it off.
WINOGRAD = True
WINOGRAD_MIN_CHANNELS = 8
WINOGRAD_MIN_COLUMN_BYTES = 16 * 2**20


# --- array helpers (ndarrays only) ----------------------------------------------------
def _chunks(n, bytes_per_sample):
    """[(n0, n1), ...] covering range(n), each about CHUNK_BYTES of columns."""
    step = max(1, CHUNK_BYTES // max(1, bytes_per_sample))
    return [(n0, min(n, n0 + step)) for n0 in range(0, n, step)]


def _gemm(a, b, out=None):
    """a (G, m, k) @ b (G, k, n) -> (G, m, n), one BLAS call per group (numpy's stacked
    matmul skips BLAS when an operand is a transposed view)."""
    if out is None:
        out = workspace.empty((a.shape[0], a.shape[1], b.shape[2]), a.dtype)
    for i in range(a.shape[0]):
        np.matmul(a[i], b[i], out=out[i])
    return out


def _gemm_nt(a, b):
    """a (G, m, k) @ b (G, n, k)^T -> (G, m, n) for long k, both C-contiguous.

    Computed as (b @ a^T)^T: with 2 threads OpenBLAS splits that orientation well, while
    ``a @ b^T`` (k = 50176, m = 64, n = 288, the weight gradient of the benchmark conv) ran
    up to 4x slower than on one thread on a loaded machine (measured).
    """
    return _gemm(b, a.transpose(0, 2, 1)).transpose(0, 2, 1)


def _channels_first(y, groups):
    """(N, O, oh, ow) -> (G, O/G, N*oh*ow), a contiguous copy."""
    n, o, oh, ow = y.shape
    out = workspace.empty((o, n, oh, ow), y.dtype)
    np.copyto(out, y.transpose(1, 0, 2, 3))  # (N, O, oh, ow) -> (O, N, oh, ow)
    return out.reshape(groups, o // groups, n * oh * ow)


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


def _crop(t, like):
    """A gradient for ``like`` from one over its zero extension (see _extend)."""
    h, w = like.shape[2:]
    return t if tuple(t.shape[2:]) == (h, w) else t[:, :, :h, :w]


def _unfold(x, kernel, stride, padding, dilation, groups):
    """x (N, C, H, W) -> (G, C/G*kh*kw, N*oh*ow)."""
    cols = im2col(x, kernel, stride, padding, dilation, PARALLEL_KERNELS)
    # (C, kh, kw, N, oh, ow) -> (G, C/G*kh*kw, N*oh*ow)
    return cols.reshape(groups, -1, cols.shape[3] * cols.shape[4] * cols.shape[5])


def _use_winograd(w_shape, n, out_size, stride, dilation, groups, itemsize):
    """Whether Winograd F(2x2, 3x3) (ops/kernels/winograd.py) runs the convolution of a
    batch of n with w (O, C, kh, kw) giving out_size (oh, ow) (or its adjoints).

    It needs a 3x3 kernel, stride 1, no dilation and one group. It pays when im2col's
    columns (C*9 x N*oh*ow) are too big for the cache and im2col streams them from memory
    (measured on 2 cores, 32 MB L3, N=64, forward+backward: 32->64 at 28x28, 58 MB of
    columns, 16% faster; 64->64 at 14x14, 29 MB, 25% faster; 32->64 at 14x14, 14 MB, the
    same alone and ~10% slower inside the CNN's training step), and not with a channel or
    two (the first layer of a CNN was 7x slower). Its tiles take 4x the input and 4x the
    output; past 4 * CHUNK_BYTES, im2col's chunks bound the memory instead.
    """
    if not (WINOGRAD and tuple(w_shape[2:]) == (3, 3) and stride == (1, 1)
            and dilation == (1, 1) and groups == 1
            and min(w_shape[:2]) >= WINOGRAD_MIN_CHANNELS):
        return False
    positions = n * out_size[0] * out_size[1]
    column_bytes = w_shape[1] * 9 * positions * itemsize
    tile_bytes = 4 * (w_shape[0] + w_shape[1]) * itemsize * n * (
        (out_size[0] + 1) * (out_size[1] + 1))  # tiles cover the output rounded up to even
    return WINOGRAD_MIN_COLUMN_BYTES <= column_bytes and tile_bytes <= 4 * CHUNK_BYTES


def _winograd_conv(x, u, padding, out_shape):
    """x (N, C, H, W), u (16, O, C) = winograd.filter_tiles(w) -> (y (N, O, oh, ow), V)."""
    tiles = winograd.tile_counts(*out_shape[2:])
    v = winograd.input_tiles(x, padding, tiles)  # (16, C, T)
    m = _gemm(u, v)  # (16, O, C) @ (16, C, T) -> (16, O, T)
    return winograd.output_tiles(m, out_shape), v


# --- conv2d ---------------------------------------------------------------------------
def conv2d_forward(x, w, b=None, /, *, stride, padding, dilation, groups):
    """x (N, C, H, W), w (O, C/G, kh, kw), b (O,) or None -> out (N, O, oh, ow).

    saved: what conv2d_weight_grad can reuse, as its keyword arguments: Winograd's input
    tiles ``{"tiles": V}``, or x's columns ``{"cols": (G, C/G*kh*kw, N*oh*ow)}`` when the
    batch was unfolded in one chunk, else ``{}``.
    """
    b_shape = None if b is None else b.shape
    check_conv("conv2d", x.shape, w.shape, b_shape, stride, padding, dilation, groups)
    dtype = real_dtype("conv2d", x, w, b)
    x, w = x.astype(dtype, copy=False), w.astype(dtype, copy=False)
    n, o, kernel = x.shape[0], w.shape[0], w.shape[2:]
    oh, ow = output_size(x.shape[2:], kernel, stride, padding, dilation)
    w3 = _weight_matrix(w, groups)  # (G, O/G, C/G*kh*kw)
    bias = None if b is None else b.astype(dtype, copy=False).reshape(o, 1, 1)
    if _use_winograd(w.shape, n, (oh, ow), stride, dilation, groups, dtype.itemsize):
        out, tiles = _winograd_conv(x, winograd.filter_tiles(w), padding, (n, o, oh, ow))
        if bias is not None:
            out += bias
        return out, {"tiles": tiles}
    out = workspace.empty((n, o, oh, ow), dtype)
    chunks = _chunks(n, w3.shape[2] * groups * oh * ow * dtype.itemsize)
    for n0, n1 in chunks:
        cols = _unfold(x[n0:n1], kernel, stride, padding, dilation, groups)
        prod = _gemm(w3, cols)  # (G, O/G, C/G*kh*kw) @ (G, C/G*kh*kw, nb*oh*ow)
        prod = prod.reshape(o, n1 - n0, oh, ow).transpose(1, 0, 2, 3)  # -> (nb, O, oh, ow)
        if bias is None:
            out[n0:n1] = prod
        else:
            np.add(prod, bias, out=out[n0:n1])
    return out, ({"cols": cols} if len(chunks) == 1 else {})


def conv2d_vjp(g, ctx):
    """g (N, O, oh, ow) -> gx (N, C, H, W) = B(g, w), gw (O, C/G, kh, kw) = C(x, g),
    gb (O,) = g summed over N, oh, ow."""
    x, w = ctx.inputs[0], ctx.inputs[1]
    geometry = ctx.params
    gx = gw = gb = None
    if ctx.needs[0]:
        gx = call(_conv_transpose2d, g, w, None, out_size=tuple(x.shape[2:]), **geometry)
    if ctx.needs[1]:
        gw = call(
            conv2d_weight_grad, x, g, kernel_size=tuple(w.shape[2:]), **ctx.saved, **geometry
        )
    if ctx.needs[2]:
        gb = g.sum(axis=(0, 2, 3))
    return gx, gw, gb


_conv2d = defop(
    "conv2d", conv2d_forward, conv2d_vjp,
    doc="Cross-correlation of x with w, plus b.  VJP: (conv_transpose2d(g, w), "
    "conv2d_weight_grad(x, g), g summed over N, oh, ow)",
)


# --- its adjoints -----------------------------------------------------------------------
def conv_transpose2d_forward(y, w, b=None, /, *, out_size, stride, padding, dilation, groups):
    """y (N, O, oh, ow), w (O, C/G, kh, kw), b (C,) or None -> out (N, C, H, W) with
    (H, W) = out_size: the adjoint of conv2d(., w) in its input, plus b."""
    if y.ndim != 4 or w.ndim != 4:
        raise ValueError(
            f"conv_transpose2d: expected x (N, C_in, H, W) and w (C_in, "
            f"C_out // groups, kh, kw), got x {y.shape} and w {w.shape}"
        )
    n, o, c = y.shape[0], w.shape[0], w.shape[1] * groups
    x_shape = (n, c) + tuple(out_size)
    check_conv("conv_transpose2d", x_shape, w.shape, None, stride, padding, dilation, groups)
    full = output_size(out_size, w.shape[2:], stride, padding, dilation)
    if y.shape[:2] != (n, o) or y.shape[2] > full[0] or y.shape[3] > full[1]:
        raise ValueError(
            f"conv_transpose2d: x {y.shape} does not fit w {w.shape} and output "
            f"size {tuple(out_size)}; expected x {(n, o) + full} (stride {stride}, "
            f"padding {padding}, dilation {dilation}, groups {groups})"
        )
    if b is not None and b.shape != (c,):
        raise ValueError(
            f"conv_transpose2d: bias shape {b.shape} does not match the {c} "
            f"output channels of w {w.shape} (groups={groups})"
        )
    dtype = real_dtype("conv_transpose2d", y, w, b)
    y, w = _extend(y.astype(dtype, copy=False), full), w.astype(dtype, copy=False)
    if max(padding) <= 2 and _use_winograd(w.shape, n, full, stride, dilation, groups,
                                           dtype.itemsize):
        # Stride 1: the adjoint is a convolution of y with w turned 180 degrees, its in and
        # out channels swapped, (O, C, kh, kw) -> (C, O, kh, kw), and padding 2 - p.
        w_turned = w.transpose(1, 0, 2, 3)[:, :, ::-1, ::-1]
        pad = (2 - padding[0], 2 - padding[1])
        out, _ = _winograd_conv(y, winograd.filter_tiles(w_turned), pad, (n, c) + tuple(out_size))
        if b is not None:
            out += b.astype(dtype, copy=False).reshape(c, 1, 1)
        return out, None
    # (G, O/G, C/G*kh*kw) -> (G, C/G*kh*kw, O/G), a small copy BLAS reads row by row
    wt = np.ascontiguousarray(_weight_matrix(w, groups).transpose(0, 2, 1))
    out = workspace.empty((n, c) + tuple(out_size), dtype)
    for n0, n1 in _chunks(n, wt.shape[1] * groups * full[0] * full[1] * dtype.itemsize):
        cols = _gemm(wt, _channels_first(y[n0:n1], groups))  # (G, C/G*kh*kw, nb*oh*ow)
        cols = cols.reshape((c,) + w.shape[2:] + (n1 - n0,) + full)  # (C, kh, kw, nb, oh, ow)
        col2im(cols, out_size, stride, padding, dilation, PARALLEL_KERNELS, out=out[n0:n1])
    if b is not None:
        out += b.astype(dtype, copy=False).reshape(c, 1, 1)
    return out, None


def conv_transpose2d_vjp(g, ctx):
    """g (N, C, H, W) -> gy (N, O, oh, ow) = A(g, w), gw (O, C/G, kh, kw) = C(g, y),
    gb (C,) = g summed over N, H, W."""
    y, w = ctx.inputs[0], ctx.inputs[1]
    geometry = {k: v for k, v in ctx.params.items() if k != "out_size"}
    gy = gw = gb = None
    if ctx.needs[0]:
        gy = _crop(call(_conv2d, g, w, None, **geometry), y)
    if ctx.needs[1]:
        gw = call(conv2d_weight_grad, g, y, kernel_size=tuple(w.shape[2:]), **geometry)
    if ctx.needs[2]:
        gb = g.sum(axis=(0, 2, 3))
    return gy, gw, gb


_conv_transpose2d = defop(
    "conv_transpose2d", conv_transpose2d_forward, conv_transpose2d_vjp,
    doc="Adjoint of conv2d in x, plus b.  VJP: (conv2d(g, w), conv2d_weight_grad(g, y), "
    "g summed over N, H, W)",
)


def conv2d_weight_grad_forward(x, y, *, kernel_size, stride, padding, dilation, groups,
                               cols=None, tiles=None):
    """x (N, C, H, W), y (N, O, oh, ow) -> gw (O, C/G, kh, kw): the adjoint of conv2d(x, .)
    in its weight, ``gw = sum over n, i, j of y[n, :, i, j] (x) window of x at (i, j)``.

    cols: x's columns (G, C/G*kh*kw, N*oh*ow) if conv2d saved them, else None.
    tiles: x's Winograd input tiles (16, C, T) if conv2d saved them, else None.
    """
    if x.ndim != 4 or y.ndim != 4:
        raise ValueError(
            f"conv2d_weight_grad: expected x (N, C, H, W) and y (N, O, oh, ow), "
            f"got x {x.shape} and y {y.shape}"
        )
    w_shape = (y.shape[1], x.shape[1] // groups) + tuple(kernel_size)
    check_conv("conv2d_weight_grad", x.shape, w_shape, None, stride, padding, dilation, groups)
    full = output_size(x.shape[2:], kernel_size, stride, padding, dilation)
    if y.shape[:2] != (x.shape[0], w_shape[0]) or y.shape[2] > full[0] or y.shape[3] > full[1]:
        raise ValueError(
            f"conv2d_weight_grad: y {y.shape} is not the output shape "
            f"{(x.shape[0], w_shape[0]) + full} of x {x.shape} and a kernel "
            f"{tuple(kernel_size)} (stride {stride}, padding {padding}, dilation "
            f"{dilation})"
        )
    dtype = real_dtype("conv2d_weight_grad", x, y)
    x, y = x.astype(dtype, copy=False), _extend(y.astype(dtype, copy=False), full)
    if _use_winograd(w_shape, x.shape[0], full, stride, dilation, groups, dtype.itemsize):
        if tiles is None or tiles.dtype != dtype:
            tiles = winograd.input_tiles(x, padding, winograd.tile_counts(*full))
        # (16, O, T) @ (16, T, C): the tile sums of (G2 g G2^T) * V, one GEMM per position
        products = _gemm_nt(winograd.grad_tiles(y), tiles)
        return winograd.weight_from_tiles(products), None  # (16, O, C) -> (O, C, 3, 3)
    if cols is not None and cols.dtype == dtype:  # (G, O/G, N*oh*ow) @ (G, N*oh*ow, C/G*kh*kw)
        gw = _gemm_nt(_channels_first(y, groups), cols)
        return gw.reshape(w_shape), None  # (G, O/G, C/G*kh*kw) -> (O, C/G, kh, kw)
    k = w_shape[1] * kernel_size[0] * kernel_size[1]
    gw = np.zeros((groups, w_shape[0] // groups, k), dtype=dtype)  # (G, O/G, C/G*kh*kw)
    for n0, n1 in _chunks(x.shape[0], k * groups * full[0] * full[1] * dtype.itemsize):
        cols = _unfold(x[n0:n1], kernel_size, stride, padding, dilation, groups)
        y2 = _channels_first(y[n0:n1], groups)  # (G, O/G, nb*oh*ow)
        gw += _gemm_nt(y2, cols)  # @ (G, nb*oh*ow, C/G*kh*kw)
    return gw.reshape(w_shape), None  # (G, O/G, C/G*kh*kw) -> (O, C/G, kh, kw)


def conv2d_weight_grad_vjp(g, ctx):
    """g (O, C/G, kh, kw) -> gx (N, C, H, W) = B(y, g), gy (N, O, oh, ow) = A(x, g)."""
    x, y = ctx.inputs
    geometry = {k: v for k, v in ctx.params.items()
                if k not in ("kernel_size", "cols", "tiles")}
    gx = gy = None
    if ctx.needs[0]:
        gx = call(_conv_transpose2d, y, g, None, out_size=tuple(x.shape[2:]), **geometry)
    if ctx.needs[1]:
        gy = _crop(call(_conv2d, x, g, None, **geometry), y)
    return gx, gy


conv2d_weight_grad = defop(
    "conv2d_weight_grad", conv2d_weight_grad_forward, conv2d_weight_grad_vjp,
    doc="gw of conv2d from x and y.  VJP: (conv_transpose2d(y, g), conv2d(x, g))",
)


# --- public functions -------------------------------------------------------------------
def conv2d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution (cross-correlation, as in PyTorch) over NCHW images.

    Parameters
    ----------
    x : Tensor (N, C_in, H, W)
    w : Tensor (C_out, C_in // groups, kh, kw)
    b : Tensor (C_out,) or None
    stride, padding, dilation : int or pair of ints
    groups : int; C_in and C_out divisible by it (groups == C_in: depthwise)

    Returns
    -------
    Tensor (N, C_out, oh, ow), ``oh = (H + 2 ph - dh (kh - 1) - 1) // sh + 1``.

    >>> x = Tensor(np.random.randn(8, 3, 28, 28), requires_grad=True)
    >>> w = Tensor(np.random.randn(16, 3, 3, 3) * 0.1, requires_grad=True)
    >>> conv2d(x, w, padding=1).shape
    (8, 16, 28, 28)
    """
    return _conv2d(x, w, b, **parse_geometry("conv2d", stride, padding, dilation, groups))


def conv1d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution: x (N, C_in, L), w (C_out, C_in // groups, k) -> (N, C_out, L_out).

    Runs as conv2d over (N, C_in, 1, L); stride, padding and dilation are ints (or 1-tuples).

    >>> conv1d(Tensor(np.ones((2, 4, 10))), Tensor(np.ones((6, 4, 3)))).shape
    (2, 6, 8)
    """
    xs, ws = x.shape, w.shape
    real_dtype("conv1d", x, w, b)
    if len(xs) != 3 or len(ws) != 3:
        raise ValueError(
            f"conv1d: expected x (N, C, L) and w (C_out, C_in // groups, k), "
            f"got x {tuple(xs)} and w {tuple(ws)}"
        )
    stride, padding, dilation = (
        v[0] if isinstance(v, (tuple, list)) and len(v) == 1 else v
        for v in (stride, padding, dilation)
    )
    geometry = {"stride": (1, stride), "padding": (0, padding), "dilation": (1, dilation)}
    x4 = reshape(x, (xs[0], xs[1], 1, xs[2]))  # (N, C, L) -> (N, C, 1, L)
    w4 = reshape(w, (ws[0], ws[1], 1, ws[2]))  # (C_out, C_in/G, k) -> (C_out, C_in/G, 1, k)
    out = conv2d(x4, w4, b, groups=groups, **geometry)  # (N, C_out, 1, L_out)
    return reshape(out, (out.shape[0], out.shape[1], out.shape[3]))  # -> (N, C_out, L_out)


def conv_transpose2d(x, w, b=None, stride=1, padding=0, output_padding=0, dilation=1, groups=1):
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

    >>> x = Tensor(np.random.randn(2, 16, 7, 7))
    >>> conv_transpose2d(x, Tensor(np.random.randn(16, 8, 4, 4)), stride=2, padding=1).shape
    (2, 8, 14, 14)
    """
    geometry = parse_geometry("conv_transpose2d", stride, padding, dilation, groups)
    extra = pair(output_padding, "output_padding", "conv_transpose2d", 0)
    s, p, d = geometry["stride"], geometry["padding"], geometry["dilation"]
    if any(extra[i] >= max(s[i], d[i]) for i in range(2)):
        raise ValueError(
            f"conv_transpose2d: output_padding {extra} must be smaller than "
            f"stride {s} or dilation {d}"
        )
    xs, ws = tuple(x.shape), tuple(w.shape)
    if len(xs) != 4 or len(ws) != 4:
        raise ValueError(
            f"conv_transpose2d: expected x (N, C_in, H, W) and w (C_in, "
            f"C_out // groups, kh, kw), got x {xs} and w {ws}"
        )
    if xs[1] != ws[0] or xs[1] % groups:
        raise ValueError(
            f"conv_transpose2d: x {xs} has {xs[1]} channels; w {ws} expects "
            f"{ws[0]}, divisible by groups={groups}"
        )
    out_size = tuple(
        (xs[2 + i] - 1) * s[i] - 2 * p[i] + d[i] * (ws[2 + i] - 1) + extra[i] + 1 for i in range(2)
    )
    if min(out_size) < 1:
        raise ValueError(
            f"conv_transpose2d: x {xs} and w {ws} give an empty output "
            f"{out_size} (stride {s}, padding {p}, dilation {d})"
        )
    return _conv_transpose2d(x, w, b, out_size=out_size, **geometry)
