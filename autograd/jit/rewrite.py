"""Rewrites of a tape that an eager step cannot make, because only the whole step shows
that an intermediate has no other use.

- ``relu`` then ``max_pool2d`` becomes ``max_pool2d`` then ``relu``: max(relu(x)) =
  relu(max(x)) for every window, so relu runs on a quarter of the values (2x2 pooling),
  forward and backward. The gradients are the same too: where the window's maximum is
  positive both orders send g to its first position, and where it is not, relu's gradient
  is 0 for the whole window either way.
"""

import types

from autograd.jit.trace import BackwardEvent, OpEvent, Source

# Ops that commute with max pooling: monotone, with the gradient argument above.
COMMUTE_WITH_MAX_POOL = {"relu"}


def _uses(events, outputs):
    """op index -> how many times its output is read (inputs, params, roots, outputs)."""
    uses = {}
    for e in events:
        sources = []
        if isinstance(e, OpEvent):
            sources = list(e.sources) + list(e.param_sources.values())
        elif isinstance(e, BackwardEvent):
            sources = [e.root, e.seed]
        for s in sources:
            if s.kind == "tmp":
                uses[s.index] = uses.get(s.index, 0) + 1
    for s in outputs:
        if s.kind == "tmp":
            uses[s.index] = uses.get(s.index, 0) + 1
    return uses


def _event(op_of, sources, shape_of, recorded, needs):
    """``op_of``'s op and params on ``sources``, with ``shape_of``'s output shape."""
    out = types.SimpleNamespace(shape=shape_of.shape, dtype=shape_of.dtype)
    return OpEvent(op_of.op, sources, op_of.params, {}, out, recorded, needs, op_of.where)


def rewrite(events, outputs):
    """A new event list with the rewrites above applied (the tape itself is left alone)."""
    events = list(events)
    uses = _uses(events, outputs)
    k = -1
    previous = None  # (position in events, op index) of the last op event, if adjacent
    for i, e in enumerate(events):
        if not isinstance(e, OpEvent):
            previous = None
            continue
        k += 1
        if previous is not None:
            j, _ = previous
            a, b = events[j], e
            if (a.op.name in COMMUTE_WITH_MAX_POOL and b.op.name == "max_pool2d"
                    and b.sources[0].kind == "tmp" and b.sources[0].index == k - 1
                    and uses.get(k - 1) == 1 and not a.param_sources
                    and not b.param_sources):
                events[j] = _event(b, (a.sources[0],), b, a.recorded, a.needs)  # pool x
                events[i] = _event(a, (Source("tmp", k - 1),), b, b.recorded, b.needs)  # relu
        previous = (i, k)
    return events
