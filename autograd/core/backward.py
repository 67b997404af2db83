"""The backward pass: a loop over the graph in reverse topological order.

Never recursion (a chain of a million ops must work), a deterministic order, and every
node's gradient summed over all its uses before its VJP runs. Broadcast reduction, dtype
and shape checks happen here once for every op, so VJPs never deal with them.
"""

import heapq
import time
import weakref

import numpy as np

from autograd.core.grad_mode import enable_grad, no_grad
from autograd.core.registry import OBSERVERS
from autograd.core.tensor import Tensor


def unbroadcast(g, shape):
    """Sum ``g`` over the axes numpy broadcasting added or stretched to reach ``shape``."""
    if g.shape == shape:
        return g
    extra = g.ndim - len(shape)
    if extra < 0:
        return g  # reported as a shape mismatch by the caller
    axes = tuple(range(extra)) + tuple(
        extra + i for i, n in enumerate(shape) if n == 1 and g.shape[extra + i] != 1
    )
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return g.reshape(shape) if extra else g


class GraphContext:
    """What a VJP sees under ``create_graph=True``: the node's context with Tensors for the
    inputs that want a gradient and for ``out``, so the VJP's arithmetic is recorded. Inputs
    that want none stay arrays: to the new graph they are constants."""

    __slots__ = ("inputs", "out", "saved", "params", "needs")

    def __init__(self, node):
        if not node.op.twice:
            raise RuntimeError(
                f"{node.op.name}: its gradient is not differentiable (create_graph=True is "
                "not supported through this op)"
            )
        self.inputs = tuple(p if need else a
                            for p, a, need in zip(node.parents, node.inputs, node.needs))
        self.out = Tensor._make(node.out, node, True, node.out_version[0])
        self.saved, self.params, self.needs = node.saved, node.params, node.needs


class _Accumulator:
    """Gradients summed per node (and per leaf) over all uses, and the nodes still to run,
    newest first: every consumer of a node's output is newer than the node, so its gradient
    is complete when it is popped. No topological sort, no recursion."""

    def __init__(self):
        self.node_grads = {}   # node -> gradient of its output so far
        self.leaf_grads = {}   # id(leaf) -> gradient so far
        self.leaves = {}       # id(leaf) -> leaf
        self.heap = []

    def add(self, t, g):
        node = t._node
        if node is None:
            key = id(t)
            if key in self.leaf_grads:
                self.leaf_grads[key] = self.leaf_grads[key] + g
            else:
                self.leaves[key] = t
                self.leaf_grads[key] = g
        elif node in self.node_grads:
            self.node_grads[node] = self.node_grads[node] + g
        else:
            self.node_grads[node] = g
            heapq.heappush(self.heap, (-node.seq, node))

    def pop(self):
        node = heapq.heappop(self.heap)[1]
        return node, self.node_grads.pop(node)


def run_hooks(hooks, g, shape, what):
    """Apply gradient hooks in order; a non-None result replaces the gradient and must be an
    array or Tensor of the same shape."""
    for hook in hooks:
        result = hook(g)
        if result is None:
            continue
        if not isinstance(result, (np.ndarray, Tensor)) or result.shape != tuple(shape):
            got = (f"shape {result.shape}" if isinstance(result, (np.ndarray, Tensor))
                   else type(result).__name__)
            raise RuntimeError(
                f"{what}: hook {getattr(hook, '__name__', hook)!r} returned {got}; a hook "
                f"must return None or a gradient of shape {tuple(shape)}"
            )
        g = result if result.dtype == g.dtype else result.astype(g.dtype)
    return g


def _run_vjp(node, g, create_graph):
    if node.freed:
        raise RuntimeError(
            f"{node.op.name}: trying to backward through the graph a second time; its saved "
            "values were freed. Pass retain_graph=True to the first backward call"
        )
    node.check_versions()
    start = time.perf_counter() if OBSERVERS else 0.0
    if create_graph:
        vjp = node.op.graph_vjp or node.op.vjp
        grads = vjp(g if isinstance(g, Tensor) else Tensor(g), GraphContext(node))
    else:
        grads = node.op.vjp(g, node)
    if len(grads) != len(node.parents):
        raise RuntimeError(f"{node.op.name}: its VJP returned {len(grads)} gradients for "
                           f"{len(node.parents)} inputs")
    if OBSERVERS:
        end = time.perf_counter()
        for observer in tuple(OBSERVERS):
            observer.backward(node, grads, start, end)
    return grads


def _fit(node, i, gp):
    """The gradient for input ``i`` in that input's shape and dtype."""
    data = node.parents[i].data
    if gp.shape != data.shape:
        gp = _fit_shape(node, i, gp, data.shape)
    if gp.dtype != data.dtype:
        gp = gp.astype(data.dtype)
    return gp


def run_backward(roots, seeds, retain_graph=False, create_graph=False, targets=None):
    """Propagate ``seeds`` (one per root Tensor) back through the graph.

    With ``targets`` (Tensors) the gradients with respect to them are returned in a list
    and no ``.grad`` is touched; otherwise leaf gradients accumulate into ``.grad``.
    """
    acc = _Accumulator()
    for t, g in zip(roots, seeds):
        acc.add(t, g)
    wanted = {} if targets is None else {_key(t): None for t in targets}
    handed = {id(g) for g in seeds}  # arrays someone else holds: never give them to a leaf
    early = _EarlyLeaves(roots) if POST_ACCUMULATE_HOOKS and targets is None else None

    with enable_grad() if create_graph else no_grad():
        while acc.heap:
            node, g = acc.pop()
            if node.hooks is not None:
                g = run_hooks(node.hooks, g, node.out.shape, node.op.name)
            if node.retained is not None:
                _retain(node.retained(), g)
            if node in wanted:
                wanted[node] = g
            grads = _run_vjp(node, g, create_graph)
            for i, gp in enumerate(grads):
                if gp is not None and node.needs[i]:
                    acc.add(node.parents[i], _fit(node, i, gp))
            if early is not None:
                early.consumer_done(node, acc, handed)
            if not retain_graph:
                node.release()

    if targets is not None:
        for key, t in acc.leaves.items():
            if key in wanted:
                wanted[key] = run_hooks(t._hooks or (), acc.leaf_grads[key], t.shape, "leaf")
        return [wanted[_key(t)] for t in targets]
    for key, t in acc.leaves.items():
        if early is None or key not in early.delivered:
            _deliver(t, acc.leaf_grads[key], handed)
    return None


def _key(t):
    return t._node if t._node is not None else id(t)


def _retain(t, g):
    if t is not None:
        t.grad = g.copy() if t.grad is None else t.grad + g


def _deliver(t, g, handed):
    """Accumulate a leaf's gradient into its ``.grad``, after its hooks; then its
    post-accumulate hooks."""
    g = run_hooks(t._hooks or (), g, t.shape, "leaf")
    if isinstance(g, Tensor):
        t.grad = g if t.grad is None else t.grad + g
    elif t.grad is None:
        # .grad must own its memory (optimizers and clipping change it in place): copy a
        # view, or an array that a seed, another leaf or a hook may also hold.
        if g.base is not None or not g.flags.writeable or id(g) in handed or t._hooks:
            g = g.copy()
        handed.add(id(g))
        t.grad = g
    else:
        t.grad = t.grad + g
    for hook in getattr(t, "_post_hooks", None) or ():
        hook(t)


# id -> weak reference of every live leaf with post-accumulate hooks (Tensor's __eq__ is
# elementwise, so the leaves themselves cannot be keys of a weak dictionary).
POST_ACCUMULATE_HOOKS = {}


def register_post_accumulate_grad_hook(t, fn):
    """Call ``fn(t)`` during backward as soon as leaf ``t``'s ``.grad`` is accumulated (its
    last consumer has run), as PyTorch's hook of that name: data-parallel training starts
    reducing a gradient while backward goes on. Installed as a Tensor method."""
    if t._node is not None or not t.requires_grad:
        raise RuntimeError("register_post_accumulate_grad_hook: only a leaf tensor that "
                           f"requires grad has one (got shape {t.shape})")
    if getattr(t, "_post_hooks", None) is None:
        t._post_hooks = []
        POST_ACCUMULATE_HOOKS[id(t)] = weakref.ref(t)
        weakref.finalize(t, POST_ACCUMULATE_HOOKS.pop, id(t), None)
    t._post_hooks.append(fn)
    return fn


class _EarlyLeaves:
    """The leaves with post-accumulate hooks that this backward reaches, and how many of
    their consumer nodes are still to run. Counting needs one walk over the graph first,
    so it happens only while some leaf has such a hook."""

    def __init__(self, roots):
        self.remaining = {}  # id(leaf) -> consumer edges not yet run
        self.delivered = set()
        seen = set()
        stack = [t._node for t in roots if t._node is not None]
        while stack:
            node = stack.pop()
            if node in seen:
                continue
            seen.add(node)
            for p, need in zip(node.parents, node.needs):
                if not need:
                    continue
                if p._node is not None:
                    stack.append(p._node)
                elif id(p) in POST_ACCUMULATE_HOOKS:
                    self.remaining[id(p)] = self.remaining.get(id(p), 0) + 1

    def consumer_done(self, node, acc, handed):
        for p, need in zip(node.parents, node.needs):
            key = id(p)
            if need and key in self.remaining:
                self.remaining[key] -= 1
                if self.remaining[key] == 0 and key in acc.leaf_grads:
                    self.delivered.add(key)
                    _deliver(p, acc.leaf_grads[key], handed)


def _fit_shape(node, i, gp, shape):
    """Reduce a broadcast gradient to its input's shape, or report the VJP's mistake."""
    if not isinstance(gp, (np.ndarray, Tensor)):
        gp = np.asarray(gp)
    gp = unbroadcast(gp, shape)
    if gp.shape != shape:
        raise RuntimeError(
            f"{node.op.name}: its VJP returned a gradient of shape {gp.shape} for input {i} "
            f"of shape {shape}"
        )
    return gp


def _as_seed(t, g, what):
    if g is None:
        if t.size != 1:
            raise RuntimeError(
                f"{what}: grad can be implicitly created only for a scalar output, got shape "
                f"{t.shape}; pass grad= (or grad_outputs=) of that shape"
            )
        return np.ones(t.shape, dtype=t.dtype)
    if isinstance(g, Tensor):
        g = g if g.requires_grad else g.data
    else:
        g = np.asarray(g, dtype=t.dtype)
    if g.shape != t.shape:
        raise RuntimeError(f"{what}: grad of shape {g.shape} does not match output {t.shape}")
    return g


def backward(tensor, grad=None, retain_graph=False, create_graph=False):
    """Accumulate d(tensor)/d(leaf) into every leaf's ``.grad`` (installed as
    ``Tensor.backward``)."""
    if not tensor.requires_grad:
        raise RuntimeError(
            f"backward: tensor of shape {tensor.shape} does not require grad and has no graph"
        )
    seed = _as_seed(tensor, grad, "backward")
    run_backward([tensor], [seed], retain_graph or create_graph, create_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph=False, create_graph=False,
         allow_unused=False):
    """Gradients of ``outputs`` with respect to ``inputs``, without touching ``.grad``.

    >>> (gx,) = ag.grad((x ** 3).sum(), [x], create_graph=True)   # 3 x**2, differentiable
    """
    single = isinstance(inputs, Tensor)
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    inputs = [inputs] if single else list(inputs)
    if grad_outputs is None or isinstance(grad_outputs, (Tensor, np.ndarray)):
        grad_outputs = [grad_outputs] * len(outputs)
    for t in outputs:
        if not t.requires_grad:
            raise RuntimeError(f"grad: an output of shape {t.shape} does not require grad")
    for t in inputs:
        if not t.requires_grad:
            raise RuntimeError(f"grad: an input of shape {t.shape} does not require grad")
    seeds = [_as_seed(t, g, "grad") for t, g in zip(outputs, grad_outputs)]
    result = run_backward(outputs, seeds, retain_graph or create_graph, create_graph, inputs)
    out = []
    for t, g in zip(inputs, result):
        if g is None and not allow_unused:
            raise RuntimeError(
                f"grad: an input of shape {t.shape} was not used to compute the outputs; "
                "pass allow_unused=True to get None for it"
            )
        if g is not None and not create_graph:
            g = np.array(g.data if isinstance(g, Tensor) else g, dtype=t.dtype)
        elif g is not None and not isinstance(g, Tensor):
            g = Tensor(g)
        out.append(g)
    return tuple(out)


# The data model knows nothing of backward: its methods for it are installed here.
Tensor.backward = backward
Tensor.register_post_accumulate_grad_hook = register_post_accumulate_grad_hook
