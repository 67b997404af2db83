"""Matrix products: ``matmul`` with numpy ``@`` semantics, and ``einsum``."""

import functools
import string

import numpy as np

from autograd.core.registry import call, defop
from ops.kernels.matmul import matmul as kernel_matmul

__all__ = ["matmul", "einsum"]


def mT(x):
    """Swap the last two axes of an ndarray or a Tensor (a view; BLAS reads it transposed).
    ``transpose`` rather than ``swapaxes`` so the Tensor path needs only the transpose op."""
    axes = list(range(x.ndim))
    axes[-2], axes[-1] = axes[-1], axes[-2]
    return x.transpose(axes)


# --- matmul ---------------------------------------------------------------------------
def matmul_forward(a, b):
    sa, sb = np.shape(a), np.shape(b)
    if len(sa) == 0 or len(sb) == 0:
        raise ValueError(
            f"matmul: both operands need at least 1 dimension, got shapes {sa} and {sb}"
        )
    if sa[-1] != sb[-2 if len(sb) > 1 else 0]:
        raise ValueError(f"matmul: shapes {sa} and {sb} are not aligned")
    try:
        return kernel_matmul(a, b), None
    except ValueError:
        raise ValueError(
            f"matmul: shapes {sa} and {sb} are not aligned (batch dimensions {sa[:-2]} and "
            f"{sb[:-2]} cannot be broadcast together)"
        ) from None


def matmul_vjp(g, ctx):
    """a (..., n, k) @ b (..., k, m) -> g (..., n, m); 1-D operands get a unit axis.
    Batch dims a and b broadcast over come back full size: the engine sums them."""
    # A list or Python scalar operand becomes an array; arrays and Tensors pass as they are.
    a, b = (x if hasattr(x, "ndim") else np.asarray(x) for x in ctx.inputs)
    ga = gb = None
    if a.ndim == 1 and b.ndim == 1:  # dot product: g is a scalar
        return (g * b if ctx.needs[0] else None), (g * a if ctx.needs[1] else None)
    if a.ndim == 1:  # a (k,), b (..., k, m), g (..., m)
        g_row = g.reshape(g.shape[:-1] + (1, g.shape[-1]))  # (..., m) -> (..., 1, m)
        if ctx.needs[0]:
            ga = (g_row @ mT(b)).reshape(g.shape[:-1] + (a.shape[0],))  # (..., k)
        if ctx.needs[1]:
            gb = a.reshape(-1, 1) * g_row  # (k, 1) * (..., 1, m) -> (..., k, m)
        return ga, gb
    if b.ndim == 1:  # a (..., n, k), b (k,), g (..., n)
        g_col = g.reshape(g.shape + (1,))  # (..., n) -> (..., n, 1)
        if ctx.needs[0]:
            ga = g_col * b  # (..., n, 1) * (k,) -> (..., n, k)
        if ctx.needs[1]:
            gb = (mT(a) @ g_col).reshape(g.shape[:-1] + (b.shape[0],))  # (..., k)
        return ga, gb
    if ctx.needs[0]:
        ga = g @ mT(b)  # (..., n, m) @ (..., m, k) -> (..., n, k)
    if ctx.needs[1]:
        if b.ndim == 2 and a.ndim > 2:
            # one GEMM over the folded batch instead of a batch of GEMMs summed afterwards
            k, m = b.shape
            rows = a.size // k if k else int(np.prod(a.shape[:-1]))  # not -1: k or m may be 0
            gb = mT(a.reshape(rows, k)) @ g.reshape(rows, m)  # (k, B*n) @ (B*n, m) -> (k, m)
        else:
            gb = mT(a) @ g  # (..., k, n) @ (..., n, m) -> (..., k, m)
    return ga, gb


matmul = defop("matmul", matmul_forward, matmul_vjp,
               doc="a @ b with numpy semantics: 1-D operands are vectors, and the batch "
                   "dimensions of N-D operands broadcast.  VJP: (g @ b^T, a^T @ g)")


# --- einsum ---------------------------------------------------------------------------
_LETTERS = string.ascii_letters


@functools.lru_cache(maxsize=512)
def _parse(subscripts, ndims):
    """Explicit, ellipsis-free form of ``subscripts`` for operands of ``ndims`` dims:
    ``(terms, out)`` with one letter string per operand. '...' becomes unused letters,
    right-aligned like numpy broadcasting; implicit mode follows numpy (sorted letters
    that occur once)."""
    spec = subscripts.replace(" ", "")
    if spec.count("->") > 1:
        raise ValueError(f"einsum: subscripts {subscripts!r} contain more than one '->'")
    lhs, arrow, out = spec.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(ndims):
        raise ValueError(
            f"einsum: subscripts {subscripts!r} name {len(terms)} operands but "
            f"{len(ndims)} were given"
        )
    for term in terms + [out]:
        bad = set(term.replace("...", "")) - set(_LETTERS)
        if bad or term.count("...") > 1:
            raise ValueError(
                f"einsum: invalid subscripts {subscripts!r} (only letters and one '...' "
                "per term are allowed)"
            )
    free = [c for c in _LETTERS if c not in spec]
    widths = []
    for i, (term, nd) in enumerate(zip(terms, ndims)):
        named = len(term.replace("...", ""))
        width = nd - named if "..." in term else 0
        if width < 0 or ("..." not in term and named != nd):
            raise ValueError(
                f"einsum: operand {i} has {nd} dims but subscripts {term!r} name {named}"
            )
        widths.append(width)
    ell = "".join(free[: max(widths, default=0)])
    if len(ell) < max(widths, default=0):
        raise ValueError(f"einsum: {subscripts!r} needs more than 52 distinct indices")
    terms = tuple(t.replace("...", ell[len(ell) - w:]) for t, w in zip(terms, widths))
    if not arrow:
        counts = "".join(terms)
        out = ell + "".join(sorted(c for c in set(counts) - set(ell) if counts.count(c) == 1))
    elif "..." in out:
        out = out.replace("...", ell)
    elif ell:
        raise ValueError(
            f"einsum: {subscripts!r}: the output needs '...' when '...' covers dimensions"
        )
    for c in out:
        if out.count(c) > 1 or not any(c in t for t in terms):
            raise ValueError(
                f"einsum: output index {c!r} in {subscripts!r} is repeated or not in any operand"
            )
    return terms, out


def _check_sizes(terms, shapes, subscripts):
    """Every index has one size; across operands sizes broadcast (1 stretches to n)."""
    sizes = {}
    for i, (term, shape) in enumerate(zip(terms, shapes)):
        own = {}
        for c, n in zip(term, shape):
            if own.setdefault(c, n) != n:
                raise ValueError(
                    f"einsum: operand {i} of shape {shape} repeats index {c!r} in {subscripts!r} "
                    f"with different sizes ({own[c]} != {n})"
                )
        for c, n in own.items():
            m = sizes.get(c, n)
            if m != n and 1 not in (m, n):
                raise ValueError(
                    f"einsum: index {c!r} in {subscripts!r} has sizes {m} and {n} in operands "
                    f"of shapes {tuple(shapes)}"
                )
            sizes[c] = n if m == 1 else m


def einsum_forward(*operands, subscripts):
    if not isinstance(subscripts, str):
        raise TypeError(
            "einsum: only the subscripts-string form einsum('ij,jk->ik', a, b) is supported, "
            f"got {type(subscripts).__name__} as the first argument"
        )
    shapes = tuple(np.shape(x) for x in operands)
    terms, out = _parse(subscripts, tuple(len(s) for s in shapes))
    _check_sizes(terms, shapes, subscripts)
    # optimize lets numpy hand pairwise contractions to BLAS (tensordot); pointless for one.
    result = np.einsum(f"{','.join(terms)}->{out}", *operands, optimize=len(operands) > 1)
    # numpy answers 'ij->ji' or 'ii->i' with a view of the operand: copy, so an in-place
    # change to the result can't reach the input behind the engine's back.
    if any(np.may_share_memory(result, x) for x in operands):
        result = result.copy()
    return result, (terms, out, shapes)


def einsum_vjp(g, ctx):
    """g has the output's indices; operand i's gradient is einsum(g, other operands -> its
    indices). An index repeated in operand i (a diagonal, a trace) gets a fresh letter tied
    to the first by an identity matrix. An index that no other carrier has at operand i's
    size (summed away by operand i alone, or size 1 elsewhere) gets a ones vector, so g is
    broadcast along it."""
    terms, out, shapes = ctx.saved
    operands = ctx.inputs
    used = set("".join(terms))
    dtype = g.dtype
    grads = []
    for i, term in enumerate(terms):
        if not ctx.needs[i]:
            grads.append(None)
            continue
        fresh = iter(c for c in _LETTERS if c not in used)
        others = [j for j in range(len(terms)) if j != i]
        subs = [out] + [terms[j] for j in others]
        args = [g] + [operands[j] for j in others]
        carried = {c: n for c, n in zip(out, g.shape)}
        for j in others:
            for c, n in zip(terms[j], shapes[j]):
                carried[c] = max(n, carried.get(c, n))
        target = ""
        for c, n in zip(term, shapes[i]):
            if c in target:  # repeated index: a fresh letter, tied by eye(n)
                new = next(fresh, None)
                if new is None:
                    raise ValueError(f"einsum: too many repeated indices in {term!r}")
                subs.append(c + new)
                args.append(np.eye(n, dtype=dtype))
                target += new
                continue
            if carried.get(c, 0) < n:
                subs.append(c)
                args.append(np.ones(n, dtype=dtype))
            target += c
        grads.append(call(_einsum, *args, subscripts=f"{','.join(subs)}->{target}"))
    return tuple(grads)


_einsum = defop("einsum", einsum_forward, einsum_vjp,
                doc="Einstein summation.  VJP: operand i gets einsum(g, the others -> its indices)")


def einsum(subscripts, *operands, optimize=None):
    """Einstein summation over Tensors, with numpy's subscripts: explicit ('ij,jk->ik') or
    implicit ('ij,jk'), ``...`` for broadcast dimensions, repeated indices for diagonals
    and traces ('ii->i', 'ii').  ``optimize`` is accepted for numpy compatibility; the
    contraction order is always optimized.

    >>> a, b = Tensor(np.ones((2, 3)), requires_grad=True), Tensor(np.ones((3, 4)))
    >>> einsum("ij,jk->ik", a, b).shape
    (2, 4)
    >>> einsum("bii->b", Tensor(np.ones((5, 3, 3)))).data       # batched trace
    array([3., 3., 3., 3., 3.])
    """
    return _einsum(*operands, subscripts=subscripts)  # operands are the op's inputs


UFUNCS = {"matmul": matmul}
FUNCTIONS = {"matmul": matmul, "einsum": einsum}
