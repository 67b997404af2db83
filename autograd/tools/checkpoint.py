"""``checkpoint(fn, *args)``: keep only ``fn``'s inputs and output, and run ``fn`` again in
backward to get its gradients, trading compute for memory (activation checkpointing)."""

import numpy as np

from autograd.core.backward import run_backward
from autograd.core.grad_mode import enable_grad, no_grad
from autograd.core.registry import defop
from autograd.core.tensor import Tensor


def checkpoint_forward(*inputs, fn):
    """Run fn without recording: none of its intermediates are kept."""
    with no_grad():
        out = fn(*(Tensor(x) if isinstance(x, np.ndarray) else x for x in inputs))
    if not isinstance(out, Tensor):
        raise TypeError(f"checkpoint: fn must return one Tensor, got {type(out).__name__}")
    return out.data, None


def checkpoint_vjp(g, ctx):
    """Recompute fn with recording on fresh leaves, and backpropagate g through it. The
    parameters fn uses (closed over, not passed) get their gradient in .grad directly."""
    leaves = [Tensor(x, requires_grad=need) if isinstance(x, np.ndarray) else x
              for x, need in zip(ctx.inputs, ctx.needs)]
    with enable_grad():
        out = ctx.params["fn"](*leaves)
    if out.requires_grad:
        run_backward([out], [g])
    return tuple(leaf.grad if need else None for leaf, need in zip(leaves, ctx.needs))


_checkpoint = defop(
    "checkpoint", checkpoint_forward, checkpoint_vjp, twice=False,
    doc="fn(*inputs), recomputed in backward.  VJP: the VJP of the recomputed fn",
)


def checkpoint(fn, *args):
    """``fn(*args)`` without keeping its intermediates for backward.

    ``fn`` must be deterministic (the same result when run again: no dropout drawing fresh
    random numbers). Parameters that ``fn`` uses receive their gradient in ``.grad`` when
    backward runs (use ``backward()``, not ``ag.grad``, with checkpointed parameters), and
    the gradient through a checkpoint cannot be differentiated again.

    >>> h = ag.checkpoint(block, h)      # block's activations are recomputed in backward
    """
    return _checkpoint(*args, fn=fn)
