"""Functional transforms: ``vjp``, ``jvp``, ``jacobian``, ``hessian`` and ``hvp``.

Forward mode is derived from reverse mode. A VJP is linear in its cotangent ``u``, so
``J v`` is the VJP of the map ``u -> J^T u``: build ``J^T u`` with ``create_graph=True`` for
a symbolic ``u`` and differentiate it with respect to ``u`` along ``v`` (the "double VJP"
transpose). Every op whose gradient is differentiable therefore has a JVP with no rule of
its own, checked against its VJP by ``<u, J v> = <J^T u, v>`` in the registry test. It costs
about two backward passes; ops registered ``twice=False`` (the fused recurrent sequences)
have none and say so.

Functions take and return arrays (or Tensors): ``f`` maps Tensors to a Tensor (or a tuple
of them), ``primals`` is one array or a tuple of arrays, as in ``torch.autograd.functional``.
"""

import numpy as np

from autograd.core.backward import grad
from autograd.core.grad_mode import enable_grad
from autograd.core.tensor import Tensor

__all__ = ["vjp", "jvp", "jacobian", "hessian", "hvp"]


def _as_tuple(xs):
    return (tuple(xs), True) if isinstance(xs, (tuple, list)) else ((xs,), False)


def _leaves(primals, what):
    """Fresh leaves that require grad, one per primal (a copy of a Tensor's data)."""
    leaves = []
    for i, p in enumerate(primals):
        data = np.array(p.data if isinstance(p, Tensor) else p)
        if data.dtype.kind != "f":
            raise TypeError(f"{what}: primal {i} must be floating point, got dtype {data.dtype}")
        leaves.append(Tensor(data, requires_grad=True))
    return tuple(leaves)


def _call(f, leaves, what):
    with enable_grad():
        out = f(*leaves)
    outs, many = _as_tuple(out)
    for i, o in enumerate(outs):
        if not isinstance(o, Tensor):
            raise TypeError(f"{what}: f must return Tensors, output {i} is {type(o).__name__}")
    return outs, many


def _matching(vectors, like, what, name):
    vectors, _ = _as_tuple(vectors)
    if len(vectors) != len(like):
        raise ValueError(f"{what}: {len(vectors)} {name} for {len(like)} values")
    out = []
    for i, (v, t) in enumerate(zip(vectors, like)):
        v = np.asarray(v.data if isinstance(v, Tensor) else v, dtype=t.dtype)
        if v.shape != t.shape:
            raise ValueError(f"{what}: {name} {i} has shape {v.shape}, expected {t.shape}")
        out.append(v)
    return out


def _values(ts):
    return tuple(t.data for t in ts)


def _zeros_where_unused(grads, like):
    return tuple(np.zeros(t.shape, t.dtype) if g is None else
                 (g.data if isinstance(g, Tensor) else g) for g, t in zip(grads, like))


def vjp(f, primals, cotangents=None):
    """``(f(primals), J^T cotangents)``: one reverse pass.

    >>> out, (gx,) = ag.vjp(lambda x: x * x, (np.array([1.0, 2.0]),), np.ones(2))
    >>> gx
    array([2., 4.])
    """
    primals, many_in = _as_tuple(primals)
    leaves = _leaves(primals, "vjp")
    outs, many_out = _call(f, leaves, "vjp")
    if cotangents is None:
        if any(o.size != 1 for o in outs):
            raise ValueError("vjp: cotangents are needed for outputs that are not scalars")
        cotangents = tuple(np.ones(o.shape, o.dtype) for o in outs)
    cotangents = _matching(cotangents, outs, "vjp", "cotangents")
    grads = grad(list(outs), list(leaves), grad_outputs=cotangents, allow_unused=True)
    grads = _zeros_where_unused(grads, leaves)
    values = _values(outs)
    return (values if many_out else values[0]), (grads if many_in else grads[0])


def jvp(f, primals, tangents):
    """``(f(primals), J tangents)``, forward mode derived from the VJPs (see the module).

    >>> out, t = ag.jvp(ops.sin, (np.array([0.0, 1.0]),), (np.ones(2),))
    >>> t                                    # cos(x)
    array([1.        , 0.54030231])
    """
    primals, many_in = _as_tuple(primals)
    leaves = _leaves(primals, "jvp")
    tangents = _matching(tangents, leaves, "jvp", "tangents")
    outs, many_out = _call(f, leaves, "jvp")
    # u: a symbolic cotangent; its value is irrelevant, J^T u is linear in it.
    us = [Tensor(np.zeros(o.shape, o.dtype), requires_grad=True) for o in outs]
    gts = grad(list(outs), list(leaves), grad_outputs=us, create_graph=True,
               allow_unused=True)
    used = [(g, v) for g, v in zip(gts, tangents) if g is not None and g.requires_grad]
    if used:
        jv = grad([g for g, _ in used], us, grad_outputs=[v for _, v in used],
                  allow_unused=True)
    else:
        jv = (None,) * len(us)
    jv = _zeros_where_unused(jv, outs)
    values = _values(outs)
    return (values if many_out else values[0]), (jv if many_out else jv[0])


def jacobian(f, primals, mode="auto"):
    """The Jacobian of ``f`` at ``primals``, a block of shape ``out.shape + in.shape`` per
    (output, input) pair: one array for one output and one input; a tuple over the inputs
    when there are several; a tuple over the outputs (of those) when ``f`` returns a tuple.

    ``mode`` is 'reverse' (one VJP per output element), 'forward' (one JVP per input
    element) or 'auto': whichever needs fewer passes.
    """
    primals, many_in = _as_tuple(primals)
    leaves = _leaves(primals, "jacobian")
    outs, many_out = _call(f, leaves, "jacobian")
    n_out = sum(o.size for o in outs)
    n_in = sum(x.size for x in leaves)
    if mode not in ("auto", "forward", "reverse"):
        raise ValueError(f"jacobian: mode must be 'auto', 'forward' or 'reverse', got {mode!r}")
    if mode == "auto":
        mode = "reverse" if n_out <= n_in else "forward"
    blocks = [[np.zeros(o.shape + x.shape, np.result_type(o.dtype, x.dtype)) for x in leaves]
              for o in outs]
    if mode == "reverse":
        for i, o in enumerate(outs):
            for k in range(o.size):
                seed = np.zeros(o.size, o.dtype)
                seed[k] = 1
                cot = [seed.reshape(o.shape) if j == i else np.zeros(q.shape, q.dtype)
                       for j, q in enumerate(outs)]
                grads = grad(list(outs), list(leaves), grad_outputs=cot, retain_graph=True,
                             allow_unused=True)
                for j, gj in enumerate(_zeros_where_unused(grads, leaves)):
                    blocks[i][j].reshape(o.size, -1)[k] = gj.reshape(-1)
    else:
        for j, x in enumerate(leaves):
            for k in range(x.size):
                tangent = [np.zeros(q.shape, q.dtype) for q in leaves]
                tangent[j].reshape(-1)[k] = 1
                _, jv = jvp(f, tuple(q.data for q in leaves), tuple(tangent))
                jv, _ = _as_tuple(jv)
                for i, o in enumerate(outs):
                    blocks[i][j].reshape(o.size, -1)[:, k] = np.reshape(jv[i], -1)
    rows = [tuple(row) if many_in else row[0] for row in blocks]
    return tuple(rows) if many_out else rows[0]


def _gradient_of(f, what):
    def gradient(*xs):
        out = f(*xs)
        if not isinstance(out, Tensor) or out.size != 1:
            raise ValueError(f"{what}: f must return a scalar Tensor")
        gs = grad(out, list(xs), create_graph=True, allow_unused=True)
        return tuple(g if g is not None else Tensor(np.zeros(x.shape, x.dtype))
                     for g, x in zip(gs, xs))
    return gradient


def hessian(f, primals):
    """The Hessian of scalar ``f``: the Jacobian of its gradient (reverse over reverse, one
    pass per input element); shape ``in.shape + in.shape`` for one input."""
    primals, many_in = _as_tuple(primals)
    h = jacobian(_gradient_of(f, "hessian"), primals, mode="reverse")
    return h if many_in else h[0][0]


def hvp(f, primals, v):
    """``(f(primals), H v)`` for scalar ``f``, without forming H. H is symmetric, so H v is
    the gradient of ``<grad f, v>``: reverse over reverse, two passes (forward over reverse
    would add a third here, since forward mode is itself derived from reverse)."""
    primals, many_in = _as_tuple(primals)
    leaves = _leaves(primals, "hvp")
    v = _matching(v, leaves, "hvp", "vectors")
    with enable_grad():
        out = f(*leaves)
    if not isinstance(out, Tensor) or out.size != 1:
        raise ValueError("hvp: f must return a scalar Tensor")
    gs = grad(out, list(leaves), create_graph=True, allow_unused=True)
    used = [(g, vi) for g, vi in zip(gs, v) if g is not None and g.requires_grad]
    hv = (grad([g for g, _ in used], list(leaves), grad_outputs=[vi for _, vi in used],
               allow_unused=True) if used else (None,) * len(leaves))
    hv = _zeros_where_unused(hv, leaves)
    return out.data, (hv if many_in else hv[0])
