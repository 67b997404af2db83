"""Compare VJPs with central differences in float64."""

import numpy as np

from autograd.core.backward import grad
from autograd.core.grad_mode import enable_grad, no_grad
from autograd.core.tensor import Tensor
from autograd.core.transforms import jvp


class GradcheckError(AssertionError):
    """An analytic gradient disagrees with the numerical one."""


def _as_inputs(inputs):
    """Fresh contiguous copies: perturbing one element must reach exactly one input, even
    when the caller passes a transposed view or the same array twice."""
    tensors = []
    for i, x in enumerate(inputs):
        data = np.array(x.data if isinstance(x, Tensor) else x, copy=True, order="C")
        wants = x.requires_grad if isinstance(x, Tensor) else data.dtype.kind == "f"
        if wants and data.dtype != np.float64:
            raise TypeError(f"gradcheck: input {i} has dtype {data.dtype}; check in float64")
        tensors.append(Tensor(data, requires_grad=wants))
    return tensors


def _scalar_loss(fn, tensors, directions):
    """sum_k <direction_k, fn(...)_k>, in float64, without recording."""
    with no_grad():
        out = fn(*tensors)
    outs = out if isinstance(out, (tuple, list)) else [out]
    return sum(float(np.sum(d * np.asarray(o.data, dtype=np.float64)))
               for d, o in zip(directions, outs))


def gradcheck(fn, inputs, eps=1e-6, atol=1e-6, rtol=1e-4, seed=0, raise_exception=True,
              check_jvp=True):
    """Check the gradients of ``fn`` at ``inputs`` against central differences.

    ``fn`` takes Tensors and returns a Tensor (or a tuple of them). A random upstream
    gradient ``v`` is drawn; the VJP ``v^T J`` of every float input that requires grad is
    compared element by element with ``(L(x + eps e_i) - L(x - eps e_i)) / 2 eps`` where
    ``L = <v, fn(x)>``. Also checks that no input is modified and that no returned
    gradient aliases an input or ``v``. With ``check_jvp``, the forward-mode derivative
    along a random tangent ``t`` is checked too, by ``<v, J t> = <J^T v, t>``, wherever
    the gradient is differentiable (the JVP is derived from the VJP's graph).

    Returns True, or raises GradcheckError naming the input and element that disagree.
    """
    rng = np.random.default_rng(seed)
    tensors = _as_inputs(inputs)
    wanted = [t for t in tensors if t.requires_grad]
    if not wanted:
        raise ValueError("gradcheck: no input requires grad")
    before = [t.data.copy() for t in tensors]

    out = fn(*tensors)
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    directions = [rng.standard_normal(o.shape) for o in outs]
    seeds = [d.astype(o.dtype) for d, o in zip(directions, outs)]
    diff_outs = [(o, s) for o, s in zip(outs, seeds) if o.requires_grad]
    if not diff_outs:
        raise GradcheckError("gradcheck: the output does not depend on any input")
    analytic = grad([o for o, _ in diff_outs], wanted, [s for _, s in diff_outs],
                    allow_unused=True)

    for i, (t, b) in enumerate(zip(tensors, before)):
        if not np.array_equal(t.data, b, equal_nan=True):
            raise GradcheckError(f"gradcheck: input {i} was modified by the forward/backward")

    indices = [i for i, t in enumerate(tensors) if t.requires_grad]
    for index, t, ga in zip(indices, wanted, analytic):
        ga = np.zeros(t.shape) if ga is None else ga
        if ga.shape != t.shape:
            raise GradcheckError(
                f"gradcheck: input {index}: gradient shape {ga.shape} != {t.shape}"
            )
        if any(np.shares_memory(ga, s) for s in seeds) or any(
            np.shares_memory(ga, u.data) for u in tensors
        ):
            raise GradcheckError(f"gradcheck: the gradient of input {index} aliases an array")
        numeric = np.zeros(t.shape)
        flat = t.data.reshape(-1)
        for j in range(flat.size):
            orig = flat[j]
            flat[j] = orig + eps
            up = _scalar_loss(fn, tensors, directions)
            flat[j] = orig - eps
            down = _scalar_loss(fn, tensors, directions)
            flat[j] = orig
            numeric.reshape(-1)[j] = (up - down) / (2 * eps)
        bad = ~np.isclose(ga, numeric, atol=atol, rtol=rtol)
        if bad.any():
            where = tuple(int(w) for w in np.unravel_index(np.argmax(bad), bad.shape))
            message = (
                f"gradcheck: input {index} (shape {t.shape}) element {where}: analytic "
                f"{ga[where]!r} vs numerical {numeric[where]!r} "
                f"({int(bad.sum())} of {bad.size} elements disagree)"
            )
            if raise_exception:
                raise GradcheckError(message)
            return False
    if check_jvp:
        message = _check_jvp(fn, tensors, wanted, seeds, analytic, rng, atol, rtol)
        if message is not None:
            if raise_exception:
                raise GradcheckError(message)
            return False
    return True


def _check_jvp(fn, tensors, wanted, seeds, analytic, rng, atol, rtol):
    """<v, J t> from ``jvp`` against <J^T v, t> from the checked VJP; None when they agree
    or when the graph has an op whose gradient is not differentiable (no JVP)."""
    positions = [i for i, t in enumerate(tensors) if t.requires_grad]
    tangents = [rng.standard_normal(t.shape) for t in wanted]

    def on_wanted(*ws):
        full = list(tensors)
        for i, w in zip(positions, ws):
            full[i] = w
        return fn(*full)

    try:
        _, jv = jvp(on_wanted, tuple(t.data for t in wanted), tuple(tangents))
    except RuntimeError as e:
        if "not differentiable" in str(e):
            return None
        raise
    jv = jv if isinstance(jv, tuple) else (jv,)
    forward = sum(float(np.sum(s * j)) for s, j in zip(seeds, jv))
    reverse = sum(float(np.sum(g * t)) for g, t in zip(analytic, tangents) if g is not None)
    if not np.isclose(forward, reverse, atol=atol, rtol=rtol):
        return (f"gradcheck: forward mode disagrees with reverse mode: <v, J t> = {forward!r} "
                f"but <J^T v, t> = {reverse!r}")
    return None


def gradgradcheck(fn, inputs, seed=1, **kwargs):
    """Check second derivatives: gradcheck of ``(x, v) -> grad(<v, fn(x)>, x,
    create_graph=True)``. The upstream gradient ``v`` is an input too (as in PyTorch), so a
    first gradient that is linear in ``v`` alone (relu, abs) is still checked."""
    tensors = _as_inputs(inputs)
    with no_grad():
        out = fn(*tensors)
    v = np.random.default_rng(seed).standard_normal(out.shape)
    wanted_at = [i for i, t in enumerate(tensors) if t.requires_grad]

    def first_grads(*xs_and_v):
        *xs, v_t = xs_and_v
        with enable_grad():  # the numerical pass runs under no_grad; this needs a graph
            gs = grad(fn(*xs), [xs[i] for i in wanted_at], v_t, create_graph=True,
                      allow_unused=True)
        return tuple(g for g in gs if g is not None and g.requires_grad)

    return gradcheck(first_grads, tensors + [Tensor(v, requires_grad=True)], seed=seed,
                     **kwargs)
