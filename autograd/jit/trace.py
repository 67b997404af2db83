"""Recording one eager run of a step: every op call, backward call and host call, in order.

While a ``Tracer`` is active the step runs eagerly as usual (its results are the real
ones) and, beside it, the tracer writes a tape of events:

- ``OpEvent``: an op, where each input came from (a ``Source``), its params, its output's
  shape and dtype, and which inputs the recorded node wanted gradients for;
- ``BackwardEvent``: ``loss.backward()``: the root's source and the seed;
- ``HostEvent``: a call of a function marked ``@host_call`` (the optimizer's ``step`` and
  ``zero_grad``, gradient clipping, a scheduler's ``step``): Python code that updates state
  outside the graph and must run again at every replay.

Reading a tensor's value in Python (``.item()``, ``float()``, ``bool()``) and writing into a
tensor in place would make the replay silently differ from eager, so they raise here.
"""

import functools
import sys
import types

import numpy as np

from autograd.core import backward as backward_module
from autograd.core.registry import Op
from autograd.core.tensor import Tensor

ACTIVE = None  # the running Tracer, if any


class TraceError(RuntimeError):
    """A step that ``autograd.jit`` cannot compile faithfully; the message says why."""


class Source:
    """Where a value comes from: ``kind`` is 'arg' (flattened argument ``index``), 'tmp'
    (the output of op event ``index``), 'cap' (a Tensor from outside the step: ``value``),
    or 'const' (``value``, a number, array or None)."""

    __slots__ = ("kind", "index", "value")

    def __init__(self, kind, index=None, value=None):
        self.kind, self.index, self.value = kind, index, value

    def __repr__(self):
        if self.kind in ("arg", "tmp"):
            return f"{self.kind}[{self.index}]"
        return f"{self.kind}({type(self.value).__name__})"


class OpEvent:
    """(The output itself is not kept: a tape outlives its trace, the activations must not.)"""

    __slots__ = ("op", "sources", "params", "param_sources", "shape", "dtype", "recorded",
                 "needs", "where")

    def __init__(self, op, sources, params, param_sources, out, recorded, needs, where):
        self.op, self.sources, self.params = op, sources, params
        # Array params that are arguments or op outputs (embedding's indices, an index
        # array): key (name, or (name, position) inside a tuple) -> Source, read at replay.
        self.param_sources = param_sources
        self.shape, self.dtype = out.shape, out.dtype
        self.recorded, self.needs, self.where = recorded, needs, where


class BackwardEvent:
    __slots__ = ("root", "seed", "retain", "where")

    def __init__(self, root, seed, retain, where):
        self.root, self.seed, self.retain, self.where = root, seed, retain, where


class HostEvent:
    __slots__ = ("fn", "args", "kwargs", "where")

    def __init__(self, fn, args, kwargs, where):
        self.fn, self.args, self.kwargs, self.where = fn, args, kwargs, where


def _where():
    """The innermost line of user code on the stack, for error messages."""
    frame = sys._getframe(2)
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if module.split(".")[0] not in ("autograd", "ops", "optim", "numpy"):
            return f"{frame.f_code.co_filename}:{frame.f_lineno}"
        frame = frame.f_back
    return "(library code)"


class Tracer:
    """Context manager: run the step eagerly and record its tape.

    ``leaves`` are the flattened arguments (Tensors, arrays or other values)."""

    def __init__(self, leaves):
        self.events = []
        self.n_ops = 0             # op events so far: a 'tmp' source's index counts ops only
        self.modules = {}          # id(module) -> (module, its training flag when called)
        self.sources = {}          # id(array) -> Source, for arguments and op outputs
        self.keep = []             # every array with an id in ``sources``: ids stay unique
        self.depth = 0             # > 0 inside an op's forward or a host call: not recorded
        for i, leaf in enumerate(leaves):
            data = leaf.data if isinstance(leaf, Tensor) else leaf
            if isinstance(data, np.ndarray):
                self.sources[id(data)] = Source("arg", i)
                self.keep.append(data)

    # --- what the patched entry points call ---------------------------------------------
    def source(self, a):
        """Where the value ``a`` (Tensor, array or anything else) comes from."""
        data = a.data if isinstance(a, Tensor) else a
        if isinstance(data, np.ndarray):
            known = self.sources.get(id(data))
            if known is not None:
                return known
        if isinstance(a, Tensor):
            return Source("cap", value=a)
        return Source("const", value=a)

    def record_op(self, op, args, params, out):
        sources = tuple(self.source(a) for a in args)
        node = out._node
        recorded = node is not None
        needs = node.needs if recorded else (False,) * len(args)
        if recorded and (node.hooks is not None or node.retained is not None):
            raise TraceError(f"autograd.jit: a hook or retain_grad on the output of "
                             f"{op.name} (at {_where()}) cannot be replayed")
        self.sources[id(out.data)] = Source("tmp", self.n_ops)
        self.n_ops += 1
        self.keep.append(out.data)
        param_sources = {}
        for name, value in params.items():
            items = enumerate(value) if isinstance(value, (tuple, list)) else [(None, value)]
            for i, item in items:
                src = self.source(item) if isinstance(item, (Tensor, np.ndarray)) else None
                if src is not None and src.kind in ("arg", "tmp"):
                    param_sources[name if i is None else (name, i)] = src
        self.events.append(OpEvent(op, sources, dict(params), param_sources, out, recorded,
                                   needs, _where()))

    def record_backward(self, roots, seeds, retain_graph, create_graph, targets):
        if targets is not None:
            raise TraceError("autograd.jit: autograd.grad inside a compiled step is not "
                             f"supported (at {_where()}); call loss.backward() instead")
        if create_graph:
            raise TraceError("autograd.jit: backward(create_graph=True) inside a compiled "
                             f"step is not supported (at {_where()})")
        for root, seed in zip(roots, seeds):
            src = self.source(root)
            if src.kind != "tmp":
                raise TraceError(f"autograd.jit: backward from a tensor of shape {root.shape} "
                                 f"that no op of the step computed (at {_where()})")
            self.events.append(BackwardEvent(src, self.source(seed), retain_graph, _where()))

    def record_host(self, fn, args, kwargs):
        self.events.append(HostEvent(fn, args, kwargs, _where()))

    def note_module(self, module):
        self.modules[id(module)] = (module, module.training)

    # --- activation: patch the entry points, restore them on exit ----------------------
    def __enter__(self):
        global ACTIVE
        if ACTIVE is not None:
            raise TraceError("autograd.jit: a compiled step was called while another one "
                             "was being traced; nested compiled steps are not supported")
        ACTIVE = self
        self._saved = {name: getattr(Tensor, name) for name in _REFUSED}
        for name, what in _REFUSED.items():
            setattr(Tensor, name, _refuse(what, self._saved[name]))
        for name in _COMPARISONS:
            self._saved[name] = getattr(Tensor, name)
            setattr(Tensor, name, _watched_comparison(self._saved[name]))
        self._saved["grad"] = Tensor.__dict__["grad"]
        Tensor.grad = _watched_grad(self._saved["grad"])
        self._saved_call = Op.__call__
        self._saved_run = backward_module.run_backward
        Op.__call__ = _traced_call
        backward_module.run_backward = _traced_run_backward
        return self

    def __exit__(self, *exc):
        global ACTIVE
        ACTIVE = None
        Op.__call__ = self._saved_call
        backward_module.run_backward = self._saved_run
        for name, method in self._saved.items():
            setattr(Tensor, name, method)
        return False


# Reading a value into Python would bake the first call's value into the replay; writing
# in place would not be replayed at all.
_REFUSED = {
    "item": "reads a tensor's value with .item()",
    "__bool__": "uses a tensor's value as a Python bool (if/while on a tensor)",
    "__float__": "reads a tensor's value with float()",
    "__int__": "reads a tensor's value with int()",
    "tolist": "reads a tensor's values with .tolist()",
    "__setitem__": "writes into a tensor in place (t[...] = ...)",
}


# A comparison of tensors gives a plain boolean array (no gradient); inside a step it is
# marked, so that branching on it raises as branching on a tensor does.
_COMPARISONS = ("__gt__", "__ge__", "__lt__", "__le__", "__eq__", "__ne__")


class _Comparison(np.ndarray):
    def __bool__(self):
        if ACTIVE is None or ACTIVE.depth:
            return bool(np.asarray(self))
        raise TraceError(
            "autograd.jit: the step uses a comparison of tensors as a Python bool (an if or "
            f"while on tensor values, at {_where()}); a compiled step replays the ops and "
            "cannot see Python decisions. Use ops (ops.where, masks) instead")

    def item(self, *args):
        return bool(self) and np.asarray(self).item(*args)


def _watched_comparison(original):
    def compare(self, other):
        out = original(self, other)
        if isinstance(out, (np.ndarray, np.bool_)):  # a 0-d result comes as a numpy bool
            return np.asarray(out).view(_Comparison)
        return out
    return compare


def _refuse(what, original):
    def refused(self, *args, **kwargs):
        if ACTIVE is None or ACTIVE.depth:  # library code inside an op or a host call
            return original(self, *args, **kwargs)
        raise TraceError(
            f"autograd.jit: the step {what} (tensor of shape {self.shape}, at {_where()}); "
            "a compiled step replays the ops and cannot see Python decisions or writes. "
            "Return the tensor from the step and read it outside, or use ops")
    return refused


def _traced_call(op, *args, **params):
    tracer = ACTIVE
    plain = tracer._saved_call
    if tracer.depth:
        return plain(op, *args, **params)
    n = op.n_inputs
    if n is not None and (len(args) != n or (params and not op.input_names.isdisjoint(params))):
        args, params = op._bind(args, params)
    tracer.depth += 1
    try:
        out = plain(op, *args, **params)
    finally:
        tracer.depth -= 1
    tracer.record_op(op, args, params, out)
    return out


def _traced_run_backward(roots, seeds, retain_graph=False, create_graph=False, targets=None):
    tracer = ACTIVE
    if tracer.depth:
        return tracer._saved_run(roots, seeds, retain_graph, create_graph, targets)
    tracer.record_backward(roots, seeds, retain_graph, create_graph, targets)
    tracer.depth += 1  # hooks and .grad writes inside backward belong to backward
    try:
        return tracer._saved_run(roots, seeds, retain_graph, create_graph, targets)
    finally:
        tracer.depth -= 1


def _clear_grad(t):
    t.grad = None


def _watched_grad(slot):
    """``.grad`` while tracing: ``t.grad = None`` in the step is recorded as a host call
    (replayed every call); any other write is refused."""
    version = Tensor.__dict__["_version"]

    def set_grad(t, value):
        tracer = ACTIVE
        try:
            version.__get__(t)
        except AttributeError:  # a Tensor being built (its __init__ sets grad first)
            return slot.__set__(t, value)
        if tracer is not None and not tracer.depth:
            if value is not None:
                raise TraceError(f"autograd.jit: the step assigns .grad of a tensor of shape "
                                 f"{t.shape} (at {_where()}); only t.grad = None is replayed")
            tracer.record_host(_clear_grad, (t,), {})
        slot.__set__(t, value)
    return property(slot.__get__, set_grad)


def host_call(fn):
    """Mark ``fn`` as host code: inside a compiled step it is not traced into ops but
    called again, with the same arguments, at every replay. The optimizers' ``step`` and
    ``zero_grad``, gradient clipping and the schedulers' ``step`` are marked; mark your own
    functions that update state outside the graph (from ``.grad`` or ``.data``)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        tracer = ACTIVE
        if tracer is None or tracer.depth:
            return fn(*args, **kwargs)
        # An iterator (model.parameters()) is spent by the first call: keep its items.
        args = tuple(list(a) if isinstance(a, (types.GeneratorType, map, filter)) else a
                     for a in args)
        for a in list(args) + list(kwargs.values()):
            if isinstance(a, Tensor) and tracer.source(a).kind == "tmp":
                raise TraceError(
                    f"autograd.jit: {fn.__qualname__} is given a tensor computed in the step "
                    f"(shape {a.shape}, at {_where()}); a host call is replayed with the "
                    "arguments of the first call")
        tracer.record_host(fn, args, kwargs)
        tracer.depth += 1
        try:
            return fn(*args, **kwargs)
        finally:
            tracer.depth -= 1

    wrapper.__wrapped_host__ = fn
    return wrapper
