"""Matrix products: ``matmul`` with numpy ``@`` semantics, and ``einsum``."""

import numpy as np

from autograd.function import defop

__all__ = ["matmul"]


def matmul_forward(a, b):
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        raise ValueError(
            f"matmul: both operands need at least 1 dimension, got shapes {np.shape(a)} and "
            f"{np.shape(b)}"
        )
    try:
        return np.matmul(a, b), None
    except ValueError:
        raise ValueError(
            f"matmul: shapes {np.shape(a)} and {np.shape(b)} are not aligned"
        ) from None


def matmul_vjp(g, ctx):
    """a (..., n, k) @ b (..., k, m) -> g (..., n, m); 1-D operands get a unit axis."""
    a, b = ctx.inputs
    ga = gb = None
    if a.ndim == 1 and b.ndim == 1:  # dot product: g is a scalar
        return (g * b if ctx.needs[0] else None), (g * a if ctx.needs[1] else None)
    if a.ndim == 1:  # a (k,), b (..., k, m), g (..., m)
        g_row = g[..., None, :]  # (..., 1, m)
        if ctx.needs[0]:
            ga = (g_row @ b.swapaxes(-1, -2))[..., 0, :]  # (..., k)
        if ctx.needs[1]:
            gb = a[:, None] * g_row  # (k, 1) * (..., 1, m) -> (..., k, m)
        return ga, gb
    if b.ndim == 1:  # a (..., n, k), b (k,), g (..., n)
        g_col = g[..., :, None]  # (..., n, 1)
        if ctx.needs[0]:
            ga = g_col * b  # (..., n, 1) * (k,) -> (..., n, k)
        if ctx.needs[1]:
            gb = (a.swapaxes(-1, -2) @ g_col)[..., 0]  # (..., k)
        return ga, gb
    if ctx.needs[0]:
        ga = g @ b.swapaxes(-1, -2)  # (..., n, m) @ (..., m, k) -> (..., n, k)
    if ctx.needs[1]:
        gb = a.swapaxes(-1, -2) @ g  # (..., k, n) @ (..., n, m) -> (..., k, m)
    return ga, gb


matmul = defop("matmul", matmul_forward, matmul_vjp,
               doc="a @ b (numpy semantics).  VJP: (g @ b^T, a^T @ g)")

UFUNCS = {"matmul": matmul}
FUNCTIONS = {"matmul": matmul}
