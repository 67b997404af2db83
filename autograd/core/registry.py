"""The op registry and the graph node.

An op is two module-level functions side by side::

    def exp_forward(x):
        out = np.exp(x)
        return out, None                   # (result, extra residuals for backward)

    def exp_vjp(g, ctx):
        return (g * ctx.out,)              # one gradient per input, None where not needed

    exp = defop("exp", exp_forward, exp_vjp)

``forward`` sees plain ndarrays (and any non-Tensor arguments unchanged). ``vjp`` gets the
upstream gradient ``g`` (shape of ``out``) and ``ctx`` with ``inputs``, ``out``, ``saved``,
``params`` (keyword arguments of the call) and ``needs`` (which inputs want a gradient). It
returns one gradient per positional input, in the input's own shape *before broadcasting*
does not matter: the engine reduces broadcast gradients back to each input's shape.

VJPs are written with numpy operators and ufuncs. Normally they run on ndarrays; under
``create_graph=True`` the engine hands them Tensors instead (``g``, ``ctx.inputs``,
``ctx.out``) and numpy dispatches every ufunc back into the op library, so the gradient is
itself differentiable. An op whose VJP cannot run on Tensors is registered ``twice=False``.
"""

import itertools

import numpy as np

from autograd.core.grad_mode import is_grad_enabled
from autograd.core.tensor import Tensor

REGISTRY: dict = {}
_next_seq = itertools.count().__next__


class Op:
    """A registered op: call it with Tensors, arrays or scalars to get a Tensor."""

    __slots__ = ("name", "forward", "vjp", "twice", "view", "doc")

    def __init__(self, name, forward, vjp, twice=True, view=False, doc=None):
        self.name = name
        self.forward = forward
        self.vjp = vjp
        self.twice = twice
        self.view = view
        self.doc = doc or forward.__doc__

    def __call__(self, *args, **params):
        """Run the forward on the inputs' arrays; record a Node when grad mode is on and an
        input wants a gradient. (The hot path of the whole library: kept flat on purpose.)"""
        inputs = []
        record = False
        for a in args:
            if isinstance(a, Tensor):
                inputs.append(a.data)
                if a.requires_grad:
                    record = True
            else:
                inputs.append(a)
        out, saved = self.forward(*inputs, **params)
        if out.__class__ is not np.ndarray:
            out = np.asarray(out)
        if not (record and is_grad_enabled() and self.vjp is not None
                and out.dtype.kind in "fc"):
            return Tensor._make(out, None, False)
        needs = []
        versions = []
        for a in args:
            if isinstance(a, Tensor):
                needs.append(a.requires_grad)
                versions.append(a._version[0])
            else:
                needs.append(False)
                versions.append(0)
        version = args[0]._version if self.view and isinstance(args[0], Tensor) else [0]
        # Tuples of arrays and ints drop out of the cyclic GC's tracking: deep graphs stay
        # cheaper to collect.
        node = Node(self, args, tuple(inputs), out, saved, params, tuple(needs),
                    tuple(versions), (version, version[0]))
        return Tensor._make(out, node, True, version)

    def __repr__(self):
        return f"<op {self.name}>"


def defop(name, forward, vjp, *, twice=True, view=False, doc=None):
    """Register an op and return it (callable on Tensors).

    Parameters
    ----------
    name : str
        Unique name, used in error messages and in the registry.
    forward : callable
        ``forward(*arrays, **params) -> (out, saved)`` on ndarrays.
    vjp : callable or None
        ``vjp(g, ctx) -> tuple`` with one gradient per positional input (None where the
        input needs none). ``None`` marks the op as not differentiable.
    twice : bool
        False when the VJP only runs on ndarrays; ``create_graph=True`` through it then
        raises an error naming the op.
    view : bool
        True when ``out`` may share memory with the first input, so both share a version
        counter and in-place changes to either are caught.
    """
    if name in REGISTRY:
        raise ValueError(f"defop: an op named {name!r} is already registered")
    op = Op(name, forward, vjp, twice, view, doc)
    REGISTRY[name] = op
    return op


class Node:
    """One recorded op application: what backward needs to run its VJP."""

    __slots__ = (
        "op", "parents", "inputs", "out", "saved", "params", "needs", "versions",
        "out_version", "hooks", "retained", "freed", "seq", "__weakref__",
    )

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
