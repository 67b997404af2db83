"""numpy's other products on Tensors: ``dot``, ``inner``, ``outer``, ``vdot``, ``tensordot``.

Each is written with registered ops (``matmul``, ``einsum``, ``mul`` and reshapes), so it
needs no VJP of its own and ``np.dot(a, b)`` inside a user's VJP stays differentiable under
``create_graph=True``. Shapes are checked here first, so errors name the numpy function.
"""

import string

import numpy as np

from autograd.core.tensor import Tensor
from ops.linalg import einsum, matmul

__all__ = ["dot", "inner", "outer", "vdot", "tensordot"]


def _operand(x):
    """Tensors stay; anything else becomes an ndarray."""
    return x if isinstance(x, Tensor) else np.asarray(x)


def _letters(n, skip=""):
    return "".join(c for c in string.ascii_letters if c not in skip)[:n]


def dot(a, b):
    """numpy's dot: a product of scalars, the matrix product for b of up to 2 dims, and
    for b of more dims the sum over a's last axis and b's second to last.

    >>> dot(Tensor(np.ones((2, 3))), Tensor(np.ones((4, 3, 5)))).shape
    (2, 4, 5)
    """
    a, b = _operand(a), _operand(b)
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    k = b.shape[-2] if b.ndim > 1 else b.shape[0]
    if a.shape[-1] != k:
        raise ValueError(f"dot: shapes {a.shape} and {b.shape} are not aligned: {a.shape[-1]} "
                         f"(dim {a.ndim - 1}) != {k} (dim {max(b.ndim - 2, 0)})")
    if b.ndim <= 2:
        return matmul(a, b)
    # a (A..., k), b (B..., k, m) -> (A..., B..., m)
    names = _letters(a.ndim + b.ndim - 1)
    sa, sb, m = names[:a.ndim - 1], names[a.ndim - 1:a.ndim + b.ndim - 3], names[-1]
    k_name = _letters(1, skip=names)
    return einsum(f"{sa}{k_name},{sb}{k_name}{m}->{sa}{sb}{m}", a, b)


def inner(a, b):
    """numpy's inner: the sum over the last axes of both, ``out[i.., j..] = sum_k
    a[i.., k] b[j.., k]``; a plain product when either is a scalar.

    >>> inner(Tensor(np.ones((2, 3))), Tensor(np.ones((4, 3)))).shape
    (2, 4)
    """
    a, b = _operand(a), _operand(b)
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    if a.shape[-1] != b.shape[-1]:
        raise ValueError(f"inner: shapes {a.shape} and {b.shape} don't match in their last "
                         f"dimensions ({a.shape[-1]} != {b.shape[-1]})")
    if a.ndim == 1 and b.ndim == 1:
        return matmul(a, b)
    k = a.shape[-1]
    # (A..., k) -> (A, k) and (B..., k) -> (B, k); (A, k) @ (k, B) -> (A, B) -> (A..., B...)
    rows, cols = a.reshape(-1, k), b.reshape(-1, k)
    return matmul(rows, cols.T).reshape(a.shape[:-1] + b.shape[:-1])


def outer(a, b):
    """numpy's outer: both flattened, ``out[i, j] = a[i] b[j]``."""
    a, b = _operand(a), _operand(b)
    # (n,) -> (n, 1) times (m,) -> (1, m): broadcast to (n, m)
    return a.reshape(-1, 1) * b.reshape(1, -1)


def vdot(a, b):
    """numpy's vdot for real arrays: the dot product of the flattened a and b."""
    a, b = _operand(a), _operand(b)
    if a.size != b.size:
        raise ValueError(f"vdot: arrays of shapes {a.shape} and {b.shape} have different "
                         f"sizes ({a.size} != {b.size})")
    return matmul(a.reshape(-1), b.reshape(-1))


def tensordot(a, b, axes=2):
    """numpy's tensordot: sum over the last ``axes`` axes of a and the first of b, or over
    the axes paired by ``axes=(a_axes, b_axes)``; the free axes of a, then of b, remain."""
    a, b = _operand(a), _operand(b)
    if isinstance(axes, (int, np.integer)) and not isinstance(axes, bool):
        n = int(axes)
        if not 0 <= n <= min(a.ndim, b.ndim):
            raise ValueError(f"tensordot: cannot sum over {n} axes of arrays of shapes "
                             f"{a.shape} and {b.shape}")
        pairs = (list(range(a.ndim - n, a.ndim)), list(range(n)))
    else:
        try:
            a_axes, b_axes = axes
        except (TypeError, ValueError):
            raise TypeError(f"tensordot: axes must be an int or a pair of axis lists, got "
                            f"{axes!r}") from None
        a_axes = [a_axes] if isinstance(a_axes, (int, np.integer)) else list(a_axes)
        b_axes = [b_axes] if isinstance(b_axes, (int, np.integer)) else list(b_axes)
        pairs = (a_axes, b_axes)
    a_axes, b_axes = pairs
    if len(a_axes) != len(b_axes):
        raise ValueError(f"tensordot: {len(a_axes)} axes of a paired with {len(b_axes)} of b")
    try:
        a_axes = [range(a.ndim)[i] for i in a_axes]
        b_axes = [range(b.ndim)[i] for i in b_axes]
    except IndexError:
        raise ValueError(f"tensordot: axes {axes!r} are out of bounds for shapes {a.shape} "
                         f"and {b.shape}") from None
    for i, j in zip(a_axes, b_axes):
        if a.shape[i] != b.shape[j]:
            raise ValueError(f"tensordot: axis {i} of a (shape {a.shape}) and axis {j} of b "
                             f"(shape {b.shape}) differ in length")
    names = _letters(a.ndim + b.ndim)
    ta, tb = list(names[:a.ndim]), list(names[a.ndim:])
    for i, j in zip(a_axes, b_axes):
        tb[j] = ta[i]  # a summed pair shares one letter
    out = [c for i, c in enumerate(ta) if i not in a_axes]
    out += [c for j, c in enumerate(tb) if j not in b_axes]
    return einsum(f"{''.join(ta)},{''.join(tb)}->{''.join(out)}", a, b)


FUNCTIONS = {"dot": dot, "inner": inner, "outer": outer, "vdot": vdot, "tensordot": tensordot}
