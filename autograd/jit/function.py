"""``autograd.jit``: a Python step function compiled into a replayable program per signature.

A signature is what the step's code could branch on without reading a tensor's values:
the structure of the arguments, each tensor's shape, dtype and ``requires_grad``, the other
arguments' values, and the grad mode. The first two calls with a new signature run
eagerly and are traced; if their tapes agree, the third and later calls replay the program
(``plan.Program``) as long as its guards hold: the tensors it reads from outside (the
parameters) keep their shapes, dtypes and ``requires_grad``, and every module it called is
in the same train/eval mode. A failed guard traces again.
"""

import functools

import numpy as np

from autograd.core.grad_mode import is_grad_enabled
from autograd.core.tensor import Tensor
from autograd.jit import trace as tracing
from autograd.jit.plan import Program, check_same
from autograd.jit.rewrite import rewrite
from autograd.jit.trace import Tracer, TraceError

_MAX_PROGRAMS = 8  # per signature: a step flipping among more configurations stays eager


def _flatten(tree, leaves):
    """The Tensors, arrays and other values of nested tuples, lists and dicts, in order, and
    the structure to rebuild them."""
    if type(tree) in (tuple, list):  # exactly: a namedtuple is rebuilt differently
        return (type(tree), tuple(_flatten(x, leaves) for x in tree))
    if type(tree) is dict:
        return (dict, tuple((k, _flatten(v, leaves)) for k, v in tree.items()))
    leaves.append(tree)
    return None


def _unflatten(structure, leaves):
    if structure is None:
        return next(leaves)
    kind, items = structure
    if kind is dict:
        return {k: _unflatten(v, leaves) for k, v in items}
    return kind(_unflatten(x, leaves) for x in items)


def _leaf_key(x):
    if isinstance(x, Tensor):
        return ("T", x.data.shape, x.data.dtype.str, x.requires_grad)
    if isinstance(x, np.ndarray):
        return ("A", x.shape, x.dtype.str)
    if isinstance(x, (int, float, str, bool, type(None))):
        return ("V", type(x), x)
    return ("O", id(x))  # a model or an optimizer passed in: the same object, the same step


def _structure_key(structure):
    """A hashable form of the structure (dict keys included)."""
    if structure is None:
        return None
    kind, items = structure
    if kind is dict:
        return (dict, tuple((k, _structure_key(v)) for k, v in items))
    return (kind, tuple(_structure_key(x) for x in items))


class _Compiled:
    """One program and what must hold for it to replay."""

    __slots__ = ("program", "modules", "out_structure")

    def __init__(self, program, modules, out_structure):
        self.program, self.modules, self.out_structure = program, modules, out_structure

    def guards_hold(self):
        for module, training in self.modules:
            if module.training != training:
                return False
        return self.program.guards_hold()


class _Trace:
    __slots__ = ("events", "outputs", "out_structure", "modules")

    def __init__(self, tracer, out_leaves, out_structure):
        self.events = tracer.events
        self.outputs = [tracer.source(x) for x in out_leaves]
        self.out_structure = out_structure
        self.modules = tuple(tracer.modules.values())

    def same_modes(self, other):
        return ([(id(m), t) for m, t in self.modules]
                == [(id(m), t) for m, t in other.modules])


class jit:
    """Compile a training (or inference) step: trace it and replay it without Tensors.

    The step may run ops and modules, ``loss.backward()``, and host calls (the optimizer's
    ``step`` and ``zero_grad``, gradient clipping): everything an eager step does. It
    returns Tensors (or nested tuples, lists and dicts of them); a compiled call returns
    them without a graph.

    >>> @ag.jit
    ... def train_step(x, y):
    ...     opt.zero_grad()
    ...     loss = ops.cross_entropy(model(x), y)
    ...     loss.backward()
    ...     opt.step()
    ...     return loss
    >>> for x, y in batches:
    ...     loss = train_step(x, y)         # calls 1 and 2 run eagerly and trace, then replay

    Not allowed inside the step, each refused with an error naming it: reading a tensor's
    value in Python (``.item()``, ``if t > 0:``), writing into a tensor, ``autograd.grad``,
    ``create_graph=True``, gradient hooks, and anything that makes two calls with the same
    signature run different ops or parameters (random numbers drawn in Python, a learning
    rate read into a forward op as a number). Python code that updates state outside the
    graph must be marked with ``autograd.jit.host_call`` to run at every replay.
    """

    def __init__(self, fn):
        self.fn = fn
        self.traces = 0          # eager, traced calls so far
        self._pending = {}       # signature -> the first _Trace
        self._compiled = {}      # signature -> [_Compiled]
        functools.update_wrapper(self, fn)

    def __get__(self, obj, objtype=None):  # a compiled method: bind like a function
        return self if obj is None else functools.partial(self.__call__, obj)

    def __call__(self, *args, **kwargs):
        if tracing.ACTIVE is not None:  # inside another compiled step's trace: be traced too
            return self.fn(*args, **kwargs)
        leaves = []
        structure = _flatten((args, kwargs), leaves)
        key = (_structure_key(structure), tuple(_leaf_key(x) for x in leaves),
               is_grad_enabled())
        for compiled in self._compiled.get(key, ()):
            if compiled.guards_hold():
                outs = compiled.program.run(leaves)
                return _unflatten(compiled.out_structure, iter(
                    Tensor._make(x, None, False) if isinstance(x, np.ndarray) else x
                    for x in outs))
        return self._trace(key, leaves, args, kwargs)

    def _trace(self, key, leaves, args, kwargs):
        with Tracer(leaves) as tracer:
            result = self.fn(*args, **kwargs)
            out_leaves = []
            out_structure = _flatten(result, out_leaves)
            trace = _Trace(tracer, out_leaves, out_structure)
        self.traces += 1
        first = self._pending.pop(key, None)
        if first is None or not first.same_modes(trace):
            self._pending[key] = trace
            return result
        check_same(first.events, trace.events, first.outputs, trace.outputs)
        program = Program(rewrite(trace.events, trace.outputs), len(leaves), trace.outputs,
                          leaves)
        programs = self._compiled.setdefault(key, [])
        if len(programs) >= _MAX_PROGRAMS:
            raise TraceError(f"autograd.jit: {self.fn.__qualname__} was traced in more than "
                             f"{_MAX_PROGRAMS} configurations for one signature (train/eval "
                             "modes or parameter shapes keep changing)")
        programs.append(_Compiled(program, trace.modules, out_structure))
        return result

    def __repr__(self):
        n = sum(len(v) for v in self._compiled.values())
        return f"<autograd.jit of {self.fn.__qualname__}: {n} programs, {self.traces} traces>"
