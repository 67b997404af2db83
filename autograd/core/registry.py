"""The op registry and the graph node.

An op is two module-level functions side by side, registered together::

    def exp_forward(x):
        out = np.exp(x)
        return out, None                   # (result, extra residuals for backward)

    def exp_vjp(g, ctx):
        return (g * ctx.out,)              # one gradient per input, None where not needed

    exp = defop("exp", exp_forward, exp_vjp, doc="e**x.  VJP: g out")

The forward's signature is the op's signature. Its inputs (Tensors, arrays or scalars; the
forward sees arrays) are its positional-only parameters, or, when it has none, those without
a default; the rest are its parameters (axis, stride, ...), passed by keyword or by position
after the inputs, handed to the forward unchanged and kept in ``ctx.params``. The result of ``defop`` is the
public op: no wrapper is needed to rename arguments.

The VJP contract. ``vjp(g, ctx)`` receives the upstream gradient ``g`` (shape of ``out``) and
``ctx`` with ``inputs``, ``out``, ``saved``, ``params`` and ``needs`` (which inputs want a
gradient). It returns one gradient per input; a gradient may keep broadcast axes, because
the engine sums it back to its input's shape, casts it to its dtype and checks its shape.

A VJP is written against numpy's array interface: operators, ufuncs, the numpy functions
the op library dispatches, and ``call(op, ...)`` for registered ops. In ``backward`` it runs
on ndarrays. Under ``create_graph=True`` the engine runs the same function on Tensors, which
implement that interface by dispatching back into the op library, so the gradient is itself
differentiable; the inputs that need no gradient are still given as arrays. An op whose
gradient needs more than that interface (in-place writes, a kernel) registers a separate
``graph_vjp`` written on Tensors, or ``twice=False`` to refuse double backward by name.
"""

import inspect
import itertools
import time
import types

import numpy as np

from autograd.core.grad_mode import is_grad_enabled
from autograd.core.tensor import Tensor

REGISTRY: dict = {}
_next_seq = itertools.count().__next__


class Op:
    """A registered op: call it with Tensors, arrays or scalars to get a Tensor."""

    __slots__ = ("name", "forward", "vjp", "graph_vjp", "twice", "view", "doc", "signature",
                 "n_inputs", "input_names", "param_names", "scalar")

    def __init__(self, name, forward, vjp, graph_vjp=None, twice=True, view=False, doc=None,
                 scalar=None):
        self.name = name
        self.scalar = scalar
        self.forward = forward
        self.vjp = vjp
        self.graph_vjp = graph_vjp
        self.twice = twice
        self.view = view
        self.doc = doc or forward.__doc__
        signature = inspect.signature(forward)
        self.n_inputs, self.input_names = _input_names(signature)
        # Callers may name inputs by keyword too (ops.clip(x, hi=1)), even where the forward
        # marks them positional-only.
        self.signature = signature.replace(parameters=[
            p.replace(kind=p.POSITIONAL_OR_KEYWORD) if p.kind is p.POSITIONAL_ONLY else p
            for p in signature.parameters.values()])
        self.param_names = tuple(
            p.name for p in self.signature.parameters.values()
            if p.name not in self.input_names and p.kind is p.POSITIONAL_OR_KEYWORD)

    def __call__(self, *args, **params):
        """Run the forward on the inputs' arrays; record a Node when grad mode is on and an
        input wants a gradient. (The hot path of the whole library: kept flat on purpose.)"""
        n = self.n_inputs
        if n is not None and (len(args) != n or (params and not self.input_names.isdisjoint(
                params))):
            args, params = self._bind(args, params)
        inputs = []
        record = False
        for a in args:
            if isinstance(a, Tensor):
                inputs.append(a.data)
                if a.requires_grad:
                    record = True
            else:
                inputs.append(_operand(self.name, a))
        result = self.forward(*inputs, **params)
        if result.__class__ is not tuple or len(result) != 2:
            raise TypeError(f"{self.name}: its forward must return a pair (out, saved), got "
                            f"{type(result).__name__}")
        out, saved = result
        if out.__class__ is not np.ndarray:
            out = np.asarray(out)
        # A view shares its base's version counter whether or not it is recorded, so a
        # change through it is seen by every node that saved the base.
        version = args[0]._version if self.view and isinstance(args[0], Tensor) else None
        if not (record and is_grad_enabled() and self.vjp is not None
                and out.dtype.kind == "f"):
            return Tensor._make(out, None, False, version)
        needs = []
        versions = []
        for a in args:
            if isinstance(a, Tensor):
                needs.append(a.requires_grad)
                versions.append(a._version[0])
            else:
                needs.append(False)
                versions.append(0)
        if version is None:
            version = [0]
        # Tuples of arrays and ints drop out of the cyclic GC's tracking: deep graphs stay
        # cheaper to collect.
        node = Node(self, args, tuple(inputs), out, saved, params, tuple(needs),
                    tuple(versions), (version, version[0]))
        return Tensor._make(out, node, True, version)

    def _bind(self, args, params):
        """Split a call into inputs and parameters by the forward's signature."""
        n, extra = self.n_inputs, args[self.n_inputs:]
        if (len(args) > n and len(extra) <= len(self.param_names)
                and self.input_names.isdisjoint(params)):
            # The common case, ops.sum(x, 1): parameters given by position after the inputs.
            params = dict(params)
            for name, value in zip(self.param_names, extra):
                if name in params:
                    raise TypeError(f"{self.name}: got multiple values for argument {name!r}")
                params[name] = value
            return args[:n], params
        try:
            bound = self.signature.bind(*args, **params)
        except TypeError as e:
            raise TypeError(f"{self.name}: {e}") from None
        bound.apply_defaults()
        inputs, rest = [], {}
        for name, value in bound.arguments.items():
            if name in self.input_names:
                inputs.append(value)
            elif self.signature.parameters[name].kind is inspect.Parameter.VAR_KEYWORD:
                rest.update(value)
            else:
                rest[name] = value
        return inputs, rest

    @property
    def __name__(self):
        return self.name

    def __get__(self, obj, objtype=None):
        """Bind like a function, so an op can be installed as a Tensor method."""
        return self if obj is None else types.MethodType(self, obj)

    def __repr__(self):
        return f"<op {self.name}>"


def _operand(name, a):
    """A non-Tensor input as the forward should see it. A numpy scalar becomes a Python
    scalar, which numpy treats as weakly typed: ``x / np.sqrt(64)`` keeps a float32 x
    float32 (PyTorch's rule), where the float64 scalar would promote it. Arrays of strings,
    objects or complex numbers are refused: the VJPs are written for real numbers."""
    if isinstance(a, np.generic):
        if a.dtype.kind not in "biuf":
            raise TypeError(f"{name}: a scalar of dtype {a.dtype} is not supported")
        return a.item()
    if isinstance(a, np.ndarray) and a.dtype.kind not in "biuf":
        raise TypeError(f"{name}: an array of dtype {a.dtype} (shape {a.shape}) is not "
                        "supported; only booleans, integers and real floats are")
    if isinstance(a, (str, bytes, complex)):
        raise TypeError(f"{name}: an input of type {type(a).__name__} ({a!r:.40}) is not "
                        "supported; only numbers and arrays of them are")
    if isinstance(a, (list, tuple)):
        kind = np.asarray(a).dtype
        if kind.kind not in "biuf":
            raise TypeError(f"{name}: a {type(a).__name__} of {kind} values is not supported; "
                            "only numbers and arrays of them are")
    return a


def _input_names(signature):
    """How many inputs an op takes, and their names: the forward's positional-only
    parameters when it has any (``def pad_forward(x, /, width, mode="constant")``), else
    those without a default. ``None`` for a variadic forward: every positional is an input."""
    params = list(signature.parameters.values())
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return None, frozenset()
    names = [p.name for p in params if p.kind is p.POSITIONAL_ONLY]
    if not names:
        names = [p.name for p in params
                 if p.default is p.empty and p.kind is p.POSITIONAL_OR_KEYWORD]
    return len(names), frozenset(names)


def defop(name, forward, vjp, *, graph_vjp=None, twice=True, view=False, doc=None,
          scalar=None):
    """Register an op and return it (callable on Tensors).

    Parameters
    ----------
    name : str
        Unique name, used in error messages and in the registry.
    forward : callable
        ``forward(*inputs, **params) -> (out, saved)`` on ndarrays. Its positional-only
        parameters, or if it has none its parameters without a default, are the op's
        inputs; the others are the op's parameters.
    vjp : callable or None
        ``vjp(g, ctx) -> tuple`` with one gradient per input (None where the input needs
        none). ``None`` marks the op as not differentiable.
    graph_vjp : callable, optional
        The VJP to run on Tensors under ``create_graph=True``, for an op whose ``vjp`` needs
        more than numpy's array interface.
    twice : bool
        False when the gradient cannot be differentiated; ``create_graph=True`` through the
        op then raises an error naming it.
    view : bool
        True when ``out`` may share memory with the first input, so both share a version
        counter and in-place changes to either are caught.
    scalar : (str, tuple of str), optional
        For an elementwise op, its forward and its VJP (one per input) as Python expressions
        on one element: the inputs and params by name, ``out`` and ``g``, the functions of
        ``math`` and ``a if c else b``. ``autograd.jit`` fuses chains of such ops into one
        generated loop; a registry test checks each formula against the op.
        ``scalar=("tanh(x)", ("g * (1 - out * out)",))``
    """
    if name in REGISTRY:
        raise ValueError(f"defop: an op named {name!r} is already registered")
    if scalar is not None and (len(scalar) != 2 or not isinstance(scalar[0], str)
                               or not isinstance(scalar[1], tuple)):
        raise TypeError(f"defop: {name}'s scalar must be (forward, (vjp per input, ...))")
    op = Op(name, forward, vjp, graph_vjp, twice, view, doc, scalar)
    REGISTRY[name] = op
    return op


class Node:
    """One recorded op application: what backward needs to run its VJP."""

    __slots__ = (
        "op", "parents", "inputs", "out", "saved", "params", "needs", "versions",
        "out_version", "hooks", "retained", "freed", "seq", "trace", "__weakref__",
    )  # trace (where the op was called) is set only while an observer asks for it

    def __init__(self, op, parents, inputs, out, saved, params, needs, versions, out_version):
        self.op = op
        self.parents = parents
        self.inputs = inputs
        self.out = out
        self.saved = saved
        self.params = params
        self.needs = needs
        self.versions = versions
        self.out_version = out_version
        self.hooks = None
        self.retained = None
        self.freed = False
        self.seq = _next_seq()  # creation order: every node is newer than its inputs' nodes

    def check_versions(self):
        versions = self.versions
        for i, p in enumerate(self.parents):
            if isinstance(p, Tensor) and p._version[0] != versions[i]:
                raise RuntimeError(
                    f"{self.op.name}: input {i} of shape {p.shape} was modified in place after "
                    f"it was saved for backward (version {versions[i]} -> {p._version[0]}); "
                    "compute a new tensor instead of changing it in place"
                )
        if self.out_version[1] != self.out_version[0][0]:
            raise RuntimeError(
                f"{self.op.name}: its output of shape {self.out.shape} was modified in place "
                "after it was saved for backward; compute a new tensor instead"
            )

    def release(self):
        """Drop everything backward needed, so the graph's memory goes now."""
        self.parents = self.inputs = ()
        self.out = self.saved = self.params = None
        self.freed = True


def call(op, *args, **params):
    """Run ``op`` from inside a VJP: recorded when an argument is a Tensor (create_graph),
    a plain forward on ndarrays otherwise."""
    if any(isinstance(a, Tensor) for a in args):
        return op(*args, **params)
    return op.forward(*args, **params)[0]


# --- observers: the profiler and anomaly detection -------------------------------------
# Objects with ``forward(op, args, out, start, end)`` and ``backward(node, grads, start,
# end)`` methods. While one is active, Op.__call__ is swapped for a timed version, so the
# plain call path costs nothing extra when nobody observes.
OBSERVERS: list = []
_plain_call = Op.__call__


def _observed_call(self, *args, **params):
    start = time.perf_counter()
    out = _plain_call(self, *args, **params)
    end = time.perf_counter()
    for observer in tuple(OBSERVERS):
        observer.forward(self, args, out, start, end)
    return out


class Observer:
    """Base of the observing context managers: active inside its ``with`` block."""

    def __enter__(self):
        OBSERVERS.append(self)
        Op.__call__ = _observed_call
        return self

    def __exit__(self, *exc):
        OBSERVERS.remove(self)
        if not OBSERVERS:
            Op.__call__ = _plain_call
        return False

    def forward(self, op, args, out, start, end):
        """Called after each op call, with the op's start and end times."""

    def backward(self, node, grads, start, end):
        """Called after each VJP, with the gradients it returned."""
