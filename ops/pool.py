"""Pooling over NCHW images: max, average, adaptive average and global average pooling.

The numba kernels (ops/kernels/pool.py) work on a stack of planes (N * C, H, W), one thread
per plane. Each pooling op's backward is itself a registered op, and the two form an adjoint
pair (max: scatter <-> gather at the recorded argmax; avg: spread <-> average), so
``create_graph=True`` works through pooling to any order. Adaptive and global average
pooling are compositions of registered ops.
"""

from typing import NamedTuple

import numpy as np

from autograd.core.registry import call, defop
from autograd.core.tensor import Tensor
from ops.conv_geometry import integer, pair, real_dtype
from ops.kernels import pool as kernels
from ops.kernels import workspace
from ops.linalg import matmul
from ops.reductions import mean

__all__ = ["adaptive_avg_pool2d", "avg_pool2d", "global_avg_pool2d", "max_pool2d"]


class PoolGeometry(NamedTuple):
    kernel: tuple
    stride: tuple
    padding: tuple
    out_size: tuple


def pool_geometry(name, shape, kernel_size, stride, padding):
    """The checked ``PoolGeometry`` of pooling an input of ``shape`` (N, C, H, W).

    Raises TypeError or ValueError naming ``name``, the argument and the shapes when the
    geometry is impossible.
    """
    shape = tuple(shape)
    if len(shape) != 4:
        raise ValueError(f"{name}: expected x of shape (N, C, H, W), got shape {shape}")
    k = pair(kernel_size, "kernel_size", name, 1)
    s = k if stride is None else pair(stride, "stride", name, 1)
    p = pair(padding, "padding", name, 0)
    if p[0] > k[0] // 2 or p[1] > k[1] // 2:
        raise ValueError(f"{name}: padding {p} must be at most half the kernel size {k}")
    h, w = shape[2], shape[3]
    padded = (h + 2 * p[0], w + 2 * p[1])
    if h < 1 or w < 1 or padded[0] < k[0] or padded[1] < k[1]:
        raise ValueError(
            f"{name}: kernel {k} is larger than the padded input {padded} (x of shape "
            f"{shape}, padding {p})"
        )
    out_size = (kernels.out_size(h, k[0], s[0], p[0]), kernels.out_size(w, k[1], s[1], p[1]))
    return PoolGeometry(k, s, p, out_size)


def _planes(name, x):
    """x (N, C, H, W) -> contiguous (N * C, H, W) of float32 or float64, the kernels'
    layout (other real dtypes are computed in float64)."""
    n, c, h, w = x.shape
    x = np.ascontiguousarray(x, dtype=real_dtype(name, x))
    return x.reshape(n * c, h, w)  # (N, C, H, W) -> (N*C, H, W)


# --- max pooling ----------------------------------------------------------------------
def max_pool2d_forward(x, /, kernel_size, stride=None, padding=0):
    """2-D max pooling over x (N, C, H, W) -> (N, C, OH, OW).

    ``OH = (H + 2 * padding - kernel) // stride + 1`` (likewise OW); ``kernel_size``,
    ``stride`` (default: the kernel size) and ``padding`` are ints or (h, w) pairs, and the
    padding, at most half the kernel, never wins a max. Integer and bool images are pooled
    in float64.

    VJP: g added at the first max of each window (its argmax).

    >>> x = Tensor(np.arange(16.0).reshape(1, 1, 4, 4), requires_grad=True)
    >>> ops.max_pool2d(x, 2).data[0, 0]
    array([[ 5.,  7.],
           [13., 15.]])
    """
    x = np.asarray(x)
    (kh, kw), (sh, sw), (ph, pw), (oh, ow) = pool_geometry(
        "max_pool2d", x.shape, kernel_size, stride, padding)
    n, c, h, w = x.shape
    planes = _planes("max_pool2d", x)
    out = workspace.empty((n * c, oh, ow), planes.dtype)
    index_dtype = np.int32 if h * w < 2**31 else np.int64  # int32 halves argmax's traffic
    argmax = workspace.empty((n * c, oh, ow), index_dtype)
    kernels.max_pool2d_forward(planes, kh, kw, sh, sw, ph, pw, out, argmax)
    return out.reshape(n, c, oh, ow), argmax  # (N*C, OH, OW) -> (N, C, OH, OW)


def max_pool2d_vjp(g, ctx):
    """g (N, C, OH, OW) -> gx (N, C, H, W): g scattered to the argmax of each window."""
    return (call(_max_pool2d_backward, g, argmax=ctx.saved, shape=ctx.inputs[0].shape),)


max_pool2d = defop("max_pool2d", max_pool2d_forward, max_pool2d_vjp)


def max_pool2d_backward_forward(g, /, argmax, shape):
    n, c, h, w = shape
    planes, q = n * c, argmax.shape[1] * argmax.shape[2]
    g = np.ascontiguousarray(g).reshape(planes, q)  # (N, C, OH, OW) -> (N*C, OH*OW)
    gx = workspace.empty((planes, h * w), g.dtype)
    kernels.max_pool2d_backward(g, argmax.reshape(planes, q), gx)
    return gx.reshape(shape), None  # (N*C, H*W) -> (N, C, H, W)


def max_pool2d_backward_vjp(gg, ctx):
    """gg (N, C, H, W) -> (N, C, OH, OW): gg gathered at the argmax (the scatter's adjoint)."""
    return (call(_max_pool2d_gather, gg, argmax=ctx.params["argmax"]),)


_max_pool2d_backward = defop(
    "max_pool2d_backward", max_pool2d_backward_forward, max_pool2d_backward_vjp,
    doc="zeros(shape) with g added at argmax.  VJP: gg gathered at argmax")


def max_pool2d_gather_forward(h, /, argmax):
    n, c, height, width = h.shape
    planes, q = n * c, argmax.shape[1] * argmax.shape[2]
    h = np.ascontiguousarray(h).reshape(planes, height * width)  # (N, C, H, W) -> (N*C, H*W)
    out = np.empty(argmax.shape, dtype=h.dtype)
    kernels.max_pool2d_gather(h, argmax.reshape(planes, q), out.reshape(planes, q))
    return out.reshape(n, c, *argmax.shape[1:]), None  # (N*C, OH, OW) -> (N, C, OH, OW)


def max_pool2d_gather_vjp(g, ctx):
    """g (N, C, OH, OW) -> (N, C, H, W): g scattered to argmax (the gather's adjoint)."""
    h = ctx.inputs[0]
    return (call(_max_pool2d_backward, g, argmax=ctx.params["argmax"], shape=h.shape),)


_max_pool2d_gather = defop(
    "max_pool2d_gather", max_pool2d_gather_forward, max_pool2d_gather_vjp,
    doc="h gathered at argmax.  VJP: g added into zeros at argmax")


# --- average pooling ------------------------------------------------------------------
def avg_pool2d_forward(x, /, kernel_size, stride=None, padding=0, count_include_pad=True):
    """2-D average pooling over x (N, C, H, W) -> (N, C, OH, OW).

    Geometry as in ``max_pool2d``. With ``count_include_pad`` (the default, as in PyTorch)
    the padding counts as zeros and every window divides by kh * kw; without it, by the
    number of input elements in the window.

    VJP: g / count added to every element of its window.

    >>> ops.avg_pool2d(Tensor(np.arange(16.0).reshape(1, 1, 4, 4)), 2).data[0, 0]
    array([[ 2.5,  4.5],
           [10.5, 12.5]])
    """
    x = np.asarray(x)
    geometry = pool_geometry("avg_pool2d", x.shape, kernel_size, stride, padding)
    (kh, kw), (sh, sw), (ph, pw), (oh, ow) = geometry
    n, c = x.shape[:2]
    planes = _planes("avg_pool2d", x)
    out = workspace.empty((n * c, oh, ow), planes.dtype)
    kernels.avg_pool2d_forward(planes, kh, kw, sh, sw, ph, pw, bool(count_include_pad), out)
    # (N*C, OH, OW) -> (N, C, OH, OW)
    return out.reshape(n, c, oh, ow), (geometry, bool(count_include_pad))


def avg_pool2d_vjp(g, ctx):
    """g (N, C, OH, OW) -> gx (N, C, H, W): g / count spread over each window."""
    (k, s, p, _), count_include_pad = ctx.saved
    return (call(_avg_pool2d_backward, g, shape=ctx.inputs[0].shape, kernel_size=k, stride=s,
                 padding=p, count_include_pad=count_include_pad),)


avg_pool2d = defop("avg_pool2d", avg_pool2d_forward, avg_pool2d_vjp)


def avg_pool2d_backward_forward(g, /, shape, kernel_size, stride, padding, count_include_pad):
    (kh, kw), (sh, sw), (ph, pw), _ = pool_geometry(
        "avg_pool2d", shape, kernel_size, stride, padding)
    n, c, h, w = shape
    g = _planes("avg_pool2d", g)  # (N, C, OH, OW) -> (N*C, OH, OW)
    gx = workspace.empty((n * c, h, w), g.dtype)
    kernels.avg_pool2d_backward(g, kh, kw, sh, sw, ph, pw, bool(count_include_pad), gx)
    return gx.reshape(shape), None  # (N*C, H, W) -> (N, C, H, W)


def avg_pool2d_backward_vjp(gg, ctx):
    """gg (N, C, H, W) -> (N, C, OH, OW): avg_pool2d of gg (the spread's adjoint)."""
    p = ctx.params
    return (call(avg_pool2d, gg, kernel_size=p["kernel_size"], stride=p["stride"],
                 padding=p["padding"], count_include_pad=p["count_include_pad"]),)


_avg_pool2d_backward = defop(
    "avg_pool2d_backward", avg_pool2d_backward_forward, avg_pool2d_backward_vjp,
    doc="g / count spread over the windows.  VJP: avg_pool2d(gg)")


# --- adaptive and global average pooling ------------------------------------------------
def _checked_image(name, x):
    """x as a Tensor or ndarray of real numbers of shape (N, C, H, W) with H, W >= 1."""
    if not isinstance(x, Tensor):
        x = np.asarray(x)
    real_dtype(name, x)
    if x.ndim != 4 or x.shape[2] < 1 or x.shape[3] < 1:
        raise ValueError(
            f"{name}: expected x of shape (N, C, H, W) with H, W >= 1, got {tuple(x.shape)}"
        )
    return x


def _window_means(size, out, dtype):
    """(out, size) matrix whose row i averages PyTorch's adaptive window i of ``size``
    elements: floor(i size / out) .. ceil((i + 1) size / out) - 1."""
    i = np.arange(out)
    starts, ends = (i * size) // out, -((-(i + 1) * size) // out)
    inside = (np.arange(size) >= starts[:, None]) & (np.arange(size) < ends[:, None])
    return (inside / (ends - starts)[:, None]).astype(dtype)


def adaptive_output_size(output_size, name):
    """output_size as a pair of ints >= 1 or None (None: keep that input size)."""
    sizes = output_size if isinstance(output_size, (tuple, list)) else (output_size,) * 2
    if len(sizes) != 2:
        raise ValueError(f"{name}: output_size must be an int or a pair, got {output_size!r}")
    return tuple(None if v is None else integer(v, "output_size", name, 1) for v in sizes)


def adaptive_avg_pool2d(x, output_size):
    """Average pooling of x (N, C, H, W) to (N, C, *output_size), as PyTorch's.

    Output row i averages input rows ``floor(i H / oh)`` to ``ceil((i + 1) H / oh) - 1``
    (likewise columns), so windows may differ in size by one and overlap. ``output_size``
    is an int or a pair, whose entries may be None to keep that input size. Where the output
    divides the input this is ``avg_pool2d`` with kernel and stride H / oh; otherwise two
    averaging matrices, ``A_h @ x @ A_w^T``. Differentiable to any order.

    >>> ops.adaptive_avg_pool2d(Tensor(np.ones((2, 3, 7, 5))), (3, 1)).shape
    (2, 3, 3, 1)
    """
    name = "adaptive_avg_pool2d"
    x = _checked_image(name, x)
    h, w = x.shape[2:]
    oh, ow = (size if value is None else value
              for value, size in zip(adaptive_output_size(output_size, name), (h, w)))
    if h % oh == 0 and w % ow == 0:
        return avg_pool2d(x, (h // oh, w // ow))
    dtype = real_dtype(name, x)
    # (oh, H) @ (N, C, H, W) -> (N, C, oh, W), then @ (W, ow) -> (N, C, oh, ow)
    return matmul(matmul(_window_means(h, oh, dtype), x), _window_means(w, ow, dtype).T)


def global_avg_pool2d(x, keepdims=False):
    """Mean over the spatial dims: x (N, C, H, W) -> (N, C), or (N, C, 1, 1) with keepdims
    (PyTorch's ``adaptive_avg_pool2d(x, 1)``).  VJP: g / (H W) broadcast over each plane

    >>> ops.global_avg_pool2d(Tensor(np.ones((2, 3, 4, 4)))).shape
    (2, 3)
    """
    return mean(_checked_image("global_avg_pool2d", x), (2, 3), keepdims)
