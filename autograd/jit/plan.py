"""From two recorded tapes of a step to a flat program that replays it on arrays.

``check_same`` compares the tapes of two eager runs with the same signature: a difference
(another op, another parameter, a tensor built in Python with other values) means the step
depends on something a replay cannot see, and it is reported with the op and the line.
``Program`` then turns the tape into a list of steps:

- an op step calls the op's forward on arrays, and keeps the VJP's context only when a
  later backward reaches the op;
- a backward step runs the VJPs of the ops it reaches, newest first (the eager engine's
  order, so the sums come out bit for bit the same), sums each gradient over its uses
  and hands the leaves' gradients to ``.grad`` as eager backward does;
- a host step calls the recorded function again (the optimizer's update, zero_grad).

Each intermediate array is dropped after its last use (liveness from the tape), and each
VJP context after its backward, so a replay holds no more memory than eager.
"""

import numpy as np

from autograd.core import backward as backward_module
from autograd.core.registry import _operand
from autograd.core.tensor import Tensor
from autograd.jit import fusion
from autograd.jit.trace import BackwardEvent, HostEvent, OpEvent, Source, TraceError


# --- comparing two tapes ----------------------------------------------------------------
def _same_value(a, b):
    """Whether a parameter, constant or host argument is the same in two runs: the same
    object, or equal numbers, strings, arrays and containers of them."""
    if a is b:
        return True
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        return (isinstance(a, Tensor) and isinstance(b, Tensor) and not a.requires_grad
                and not b.requires_grad and _same_value(a.data, b.data))
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)
                and a.shape == b.shape and a.dtype == b.dtype
                and np.array_equal(a, b, equal_nan=a.dtype.kind == "f"))
    if isinstance(a, (tuple, list)) and type(a) is type(b):
        return len(a) == len(b) and all(_same_value(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same_value(a[k], b[k]) for k in a)
    if isinstance(a, (int, float, str, bytes, bool, np.generic, type(None), slice)):
        return type(a) is type(b) and (a == b or (a != a and b != b))
    return False  # other objects (generators of random numbers, functions): by identity


def _describe(value):
    if isinstance(value, Tensor):
        return f"a tensor of shape {value.shape}"
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    return f"{type(value).__name__} {value!r:.60}"


def _same_source(a, b):
    if a.kind != b.kind:
        return False
    if a.kind in ("arg", "tmp"):
        return a.index == b.index
    return _same_value(a.value, b.value)


def check_same(first, second, outputs_first, outputs_second):
    """Raise TraceError at the first difference between two tapes of one signature."""
    def differ(i, event, what):
        raise TraceError(
            f"autograd.jit: two calls with the same argument shapes ran different steps: "
            f"at event {i} ({_name(event)}, at {event.where}) {what}. A compiled step must run "
            "the same ops with the same parameters every call: pass values that change "
            "(learning rates, masks, tensors made in Python) as arguments, or compute them "
            "with ops")

    for i, (a, b) in enumerate(zip(first, second)):
        if type(a) is not type(b) or _name(a) != _name(b):
            differ(i, b, f"the first call ran {_name(a)}")
        if isinstance(a, OpEvent):
            for j, (sa, sb) in enumerate(zip(a.sources, b.sources)):
                if not _same_source(sa, sb):
                    second = (f"{_source_text(sb)} in the second" if sa.kind != sb.kind
                              or sa.kind in ("arg", "tmp") or not isinstance(
                                  sb.value, (Tensor, np.ndarray))
                              else "other values in the second")
                    differ(i, b, f"input {j} was {_source_text(sa)} in the first call and "
                                 f"{second}")
            if a.param_sources.keys() != b.param_sources.keys() or not all(
                    _same_source(a.param_sources[k], b.param_sources[k])
                    for k in a.param_sources):
                differ(i, b, "an array parameter came from another argument or op")
            bound = {k if isinstance(k, str) else k[0] for k in b.param_sources}
            for key in (a.params.keys() | b.params.keys()) - bound:
                if not _same_value(a.params.get(key), b.params.get(key)):
                    differ(i, b, f"parameter {key!r} changed from "
                                 f"{_describe(a.params.get(key))} to "
                                 f"{_describe(b.params.get(key))}")
            if (a.shape, a.dtype, a.needs) != (b.shape, b.dtype, b.needs):
                differ(i, b, "the output's shape or dtype, or which inputs need a gradient, "
                             "changed")
        elif isinstance(a, BackwardEvent):
            if not (_same_source(a.root, b.root) and _same_source(a.seed, b.seed)):
                differ(i, b, "backward started from another tensor or seed")
        elif not (_same_value(a.args, b.args) and _same_value(a.kwargs, b.kwargs)):
            differ(i, b, "the host call's arguments changed")
    if len(first) != len(second):
        longer = first if len(first) > len(second) else second
        event = longer[min(len(first), len(second))]
        differ(min(len(first), len(second)), event,
               f"one call ran {len(first)} events and the other {len(second)}")
    for j, (sa, sb) in enumerate(zip(outputs_first, outputs_second)):
        if not _same_source(sa, sb):
            raise TraceError(f"autograd.jit: output {j} of the step was {_source_text(sa)} in "
                             f"the first call and {_source_text(sb)} in the second")


def _name(event):
    if isinstance(event, OpEvent):
        return event.op.name
    if isinstance(event, BackwardEvent):
        return "backward"
    return f"host call {getattr(event.fn, '__qualname__', event.fn)}"


def _source_text(s):
    if s.kind == "arg":
        return f"argument {s.index}"
    if s.kind == "tmp":
        return f"the output of op {s.index}"
    if s.kind == "cap":
        return f"{_describe(s.value)} from outside the step"
    return f"the constant {_describe(s.value)}"


def _bind_params(params, param_getters, vals):
    """The op's params with its array params read from this replay's slots."""
    params = dict(params)
    for key, (_, slot) in param_getters:
        if isinstance(key, str):
            params[key] = vals[slot]
        else:
            name, i = key
            items = list(params[name])
            items[i] = vals[slot]
            params[name] = type(params[name])(items)
    return params


def _reach(ops, root):
    """The recorded ops a backward from op ``root`` runs through."""
    seen, stack = set(), [root]
    while stack:
        k = stack.pop()
        if k in seen or not ops[k].recorded:
            continue
        seen.add(k)
        stack.extend(s.index for s, need in zip(ops[k].sources, ops[k].needs)
                     if need and s.kind == "tmp")
    return seen


def _check_no_hooks(targets, leaves):
    for t in targets:
        if t and t[0] == "arg":
            t = ("leaf", leaves[t[1]])
        if t and t[0] == "leaf" and (t[1]._hooks or getattr(t[1], "_post_hooks", None)):
            raise TraceError(
                f"autograd.jit: a tensor of shape {t[1].shape} has gradient hooks "
                "(register_hook, post-accumulate hooks, DistributedDataParallel); a compiled "
                "step does not run them")


# --- the program --------------------------------------------------------------------------
class _Context:
    """What a VJP reads: the same fields as a recorded node."""

    __slots__ = ("inputs", "out", "saved", "params", "needs")

    def __init__(self, inputs, out, saved, params, needs):
        self.inputs, self.out, self.saved, self.params, self.needs = (
            inputs, out, saved, params, needs)


def _getter(source, n_leaves):
    """How a replay reads a source: ("slot", i) from its slots (arguments and op outputs),
    ("cap", tensor) a tensor from outside, read at use, or ("const", value)."""
    if source.kind == "arg":
        return ("slot", source.index)
    if source.kind == "tmp":
        return ("slot", n_leaves + source.index)
    if source.kind == "cap":
        return ("cap", source.value)
    return ("const", source.value)


class Program:
    """The replayable form of a tape (see the module docstring)."""

    def __init__(self, events, n_leaves, output_sources, leaves, fuse=True):
        self.n_leaves = n_leaves
        self.n_slots = n_leaves + sum(isinstance(e, OpEvent) for e in events)
        op_index = [i for i, e in enumerate(events) if isinstance(e, OpEvent)]
        self.ops = [events[i] for i in op_index]
        self.outputs = [_getter(s, n_leaves) for s in output_sources]
        self.captured = {}  # id -> (tensor, shape, dtype, requires_grad): checked per call
        for e in self.ops:
            for s in e.sources:
                if s.kind == "cap":
                    t = s.value
                    self.captured[id(t)] = (t, t.shape, t.dtype, t.requires_grad)
                    if t.requires_grad and t._node is not None:
                        raise TraceError(
                            f"autograd.jit: {e.op.name} (at {e.where}) uses a tensor of shape "
                            f"{t.shape} computed outside the step with a graph; backward "
                            "through it is not replayed. Detach it or pass it as an argument")
        keep_ctx = self._reached(events)
        last_use = self._last_uses(events)
        self.group_of = self._fuse(events, keep_ctx, leaves, output_sources) if fuse else {}
        self.steps = []
        k = 0
        for i, e in enumerate(events):
            group = self.group_of.get(k) if isinstance(e, OpEvent) else None
            if group is not None:
                if k == group.members[0]:
                    getters = tuple(_getter(s, n_leaves) for s in group.inputs)
                    self.steps.append(("fused", group, getters, k in keep_ctx))
                k += 1
            elif isinstance(e, OpEvent):
                getters = tuple(_getter(s, n_leaves) for s in e.sources)
                getters = tuple(("const", _operand(e.op.name, g[1])) if g[0] == "const"
                                else g for g in getters)
                param_getters = tuple((key, _getter(src, n_leaves))
                                      for key, src in e.param_sources.items())
                self.steps.append(("op", n_leaves + k, e.op, getters, e.params, e.needs,
                                   k in keep_ctx, param_getters))
                k += 1
            elif isinstance(e, BackwardEvent):
                self.steps.append(("backward",) + self._backward_plan(events, i, e, leaves))
            else:
                self.steps.append(("host", e.fn, e.args, e.kwargs))
            free = [s for s, last in last_use.items() if last == i and self._assigned(s)]
            if free:
                if self.steps and self.steps[-1][0] == "free":  # one step for a fused run
                    free = list(self.steps.pop()[1]) + free
                self.steps.append(("free", tuple(free)))

    def _assigned(self, slot):
        """Whether a replay writes ``slot``: not the outputs a fused group keeps inside."""
        k = slot - self.n_leaves
        group = self.group_of.get(k)
        return group is None or k in group.writes

    def _fuse(self, events, reached, leaves, output_sources):
        """op index -> its fusion.Group, for the chains of elementwise ops worth fusing."""
        ops, n = self.ops, self.n_leaves

        def shape_of(s):
            if s.kind == "tmp":
                return ops[s.index].shape, ops[s.index].dtype
            value = leaves[s.index] if s.kind == "arg" else s.value
            if isinstance(value, (Tensor, np.ndarray)):
                return value.shape, value.dtype
            return None

        breaks, k = set(), -1
        for e in events:
            if isinstance(e, OpEvent):
                k += 1
            else:
                breaks.add(k)
        read_outside, grad_in = {}, {}
        for k, e in enumerate(ops):
            for s, need in zip(e.sources, e.needs):
                if s.kind == "tmp":
                    read_outside.setdefault(s.index, set()).add(k)
                    if need and k in reached:
                        grad_in.setdefault(s.index, set()).add(k)
        roots = {e.root.index for e in events if isinstance(e, BackwardEvent)}
        outputs = {s.index for s in output_sources if s.kind == "tmp"}
        group_of = {}
        for members in fusion.find_groups(ops, shape_of, breaks):
            inside = set(members)
            if len({k in reached for k in members}) != 1:
                continue  # part of the chain is differentiated, part not: leave it eager
            outside = {k for k in members
                       if k in outputs or k in roots or read_outside.get(k, set()) - inside}
            grads = {k for k in members if k in roots or grad_in.get(k, set()) - inside}
            try:
                group = fusion.Group(members, ops, outside, grads).build()
            except Exception:  # a formula numba cannot compile: the ops run unfused
                continue
            group.targets = tuple(
                ("tmp", s.index) if s.kind == "tmp" else ("arg", s.index) if s.kind == "arg"
                else ("leaf", s.value) if s.kind == "cap" else None for s in group.inputs)
            for k in members:
                group_of[k] = group
        return group_of

    def _reached(self, events):
        """Indices (among ops) of the ops some backward reaches: only they keep a context."""
        reached = set()
        for e in events:
            if isinstance(e, BackwardEvent):
                reached |= _reach(self.ops, e.root.index)
        return reached

    def _last_uses(self, events):
        """slot -> index of the last event that reads it (outputs are never freed)."""
        last = {}
        k = 0
        for i, e in enumerate(events):
            if isinstance(e, OpEvent):
                for s in list(e.sources) + list(e.param_sources.values()):
                    g = _getter(s, self.n_leaves)
                    if g[0] == "slot" and g[1] >= self.n_leaves:
                        last[g[1]] = i
                last.setdefault(self.n_leaves + k, i)
                k += 1
            elif isinstance(e, BackwardEvent):
                last[self.n_leaves + e.root.index] = i
        for g in self.outputs:
            if g[0] == "slot":
                last.pop(g[1], None)
        return last

    def _backward_plan(self, events, i, event, leaves):
        """The VJPs a backward runs, newest first, and where each gradient goes."""
        ops, n = self.ops, self.n_leaves
        order = []
        for k in sorted(_reach(ops, event.root.index), reverse=True):
            group = self.group_of.get(k)
            if group is not None:
                if k == group.members[-1]:
                    _check_no_hooks(group.targets, leaves)
                    order.append((k, group.targets, group))
                continue
            e = ops[k]
            targets = []
            for j, (s, need) in enumerate(zip(e.sources, e.needs)):
                if not need:
                    targets.append(None)
                elif s.kind == "tmp":
                    targets.append(("tmp", s.index))
                elif s.kind == "arg":
                    targets.append(("arg", s.index))
                else:
                    targets.append(("leaf", s.value))
            _check_no_hooks(targets, leaves)
            order.append((k, tuple(targets), None))
        seed = _getter(event.seed, n)
        return event.root.index, seed, tuple(order), event.retain

    # --- running it ---------------------------------------------------------------------
    # --- running it ---------------------------------------------------------------------
    def guards_hold(self):
        for t, shape, dtype, requires_grad in self.captured.values():
            data = t.data
            if data.shape != shape or data.dtype != dtype or t.requires_grad != requires_grad:
                return False
            if requires_grad and (t._hooks or getattr(t, "_post_hooks", None)):
                raise TraceError(f"autograd.jit: a tensor of shape {t.shape} the compiled "
                                 "step reads got gradient hooks after it was compiled; a "
                                 "compiled step does not run them")
        return True

    def run(self, leaves):
        vals = [None] * self.n_slots
        for i, leaf in enumerate(leaves):
            if isinstance(leaf, Tensor):
                if leaf._node is not None and leaf.requires_grad:
                    raise TraceError(f"autograd.jit: argument {i} (shape {leaf.shape}) "
                                     "carries a graph from outside the step; detach it first")
                vals[i] = leaf.data
            else:
                vals[i] = leaf
        ctxs = {}
        for step in self.steps:
            kind = step[0]
            if kind == "op":
                _, slot, op, getters, params, needs, keep, param_getters = step
                inputs = tuple(vals[g[1]] if g[0] == "slot" else
                               (g[1].data if g[0] == "cap" else g[1]) for g in getters)
                if param_getters:
                    params = _bind_params(params, param_getters, vals)
                out, saved = op.forward(*inputs, **params)
                if out.__class__ is not np.ndarray:
                    out = np.asarray(out)
                vals[slot] = out
                if keep:
                    ctxs[slot - self.n_leaves] = _Context(inputs, out, saved, params, needs)
            elif kind == "fused":
                _, group, getters, keep = step
                inputs = [vals[g[1]] if g[0] == "slot" else
                          (g[1].data if g[0] == "cap" else g[1]) for g in getters]
                outs, flat = group.forward(inputs)
                for k, out in outs.items():
                    vals[self.n_leaves + k] = out
                if keep:
                    ctxs[group.members[-1]] = (flat, inputs)
            elif kind == "backward":
                self._backward(step, vals, ctxs, leaves)
            elif kind == "host":
                step[1](*step[2], **step[3])
            else:
                for s in step[1]:
                    vals[s] = None
        return [vals[g[1]] if g[0] == "slot" else (g[1].data if g[0] == "cap" else g[1])
                for g in self.outputs]

    @staticmethod
    def _route(items, inputs, grads, leaf_grads, leaves, args):
        """Sum each (input j, target, gradient) into its op's or leaf's gradient, fitted to
        the input's shape and dtype as the eager engine does."""
        for j, target, gp in items:
            if target is None or gp is None:
                continue
            data = inputs[j]
            if gp.shape != data.shape:
                gp = backward_module.unbroadcast(np.asarray(gp), data.shape)
            if gp.dtype != data.dtype:
                gp = gp.astype(data.dtype)
            where, key = target
            if where == "tmp":
                grads[key] = gp if key not in grads else grads[key] + gp
                continue
            if where == "arg":
                key = args[key]
            i = id(key)
            if i in leaf_grads:
                leaf_grads[i] = leaf_grads[i] + gp
            else:
                leaves[i] = key
                leaf_grads[i] = gp

    def _backward(self, step, vals, ctxs, args):
        _, root, seed_getter, order, retain = step
        seed = vals[seed_getter[1]] if seed_getter[0] == "slot" else seed_getter[1]
        grads = {root: seed}
        leaf_grads = {}
        leaves = {}
        handed = {id(seed)}
        for k, targets, group in order:
            if group is not None:
                incoming = {m: grads.pop(m) for m in group.grad_in if m in grads}
                if not incoming:
                    continue
                flat, inputs = ctxs[k] if retain else ctxs.pop(k)
                result = group.backward(flat, incoming)
                self._route(((j, targets[j], result[j]) for j in result), inputs, grads,
                            leaf_grads, leaves, args)
                continue
            g = grads.pop(k, None)
            if g is None:
                continue
            ctx = ctxs[k] if retain else ctxs.pop(k)
            result = self.ops[k].op.vjp(g, ctx)
            self._route(((j, target, result[j]) for j, target in enumerate(targets)),
                        ctx.inputs, grads, leaf_grads, leaves, args)
        for i, t in leaves.items():
            backward_module._deliver(t, leaf_grads[i], handed)
