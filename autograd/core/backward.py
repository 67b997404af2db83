"""The backward pass: a loop over the graph in reverse topological order.

Never recursion (a chain of a million ops must work), a deterministic order, and every
node's gradient summed over all its uses before its VJP runs. Broadcast reduction, dtype
and shape checks happen here once for every op, so VJPs never deal with them.
"""

import heapq

import numpy as np

from autograd.core.registry import Node
from autograd.core.grad_mode import enable_grad, no_grad
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


def _graph_context(node):
    """A view of ``node`` whose inputs and output are Tensors, for a differentiable VJP."""
    if not node.op.twice:
        raise RuntimeError(
            f"{node.op.name}: its gradient is not differentiable (create_graph=True is not "
            "supported through this op)"
        )
    ctx = Node.__new__(Node)
    ctx.op, ctx.parents, ctx.saved, ctx.params = node.op, node.parents, node.saved, node.params
    ctx.needs = node.needs
    ctx.inputs = tuple(node.parents)
    ctx.out = Tensor._make(node.out, node, True, node.out_version[0])
    return ctx


def run_backward(roots, seeds, retain_graph=False, create_graph=False, targets=None):
    """Propagate ``seeds`` (one per root Tensor) back through the graph.

    Nodes run newest first (a max-heap on their creation number): every consumer of a
    node's output is newer than the node, so its gradient is complete when it runs, with
    no separate topological sort and no recursion.

    With ``targets`` (Tensors) the gradients with respect to them are returned in a list
    and no ``.grad`` is touched; otherwise leaf gradients accumulate into ``.grad``.
    """
    node_grads = {}  # node -> gradient of its output, summed over its uses so far
    leaf_grads = {}  # id(leaf) -> gradient, summed over its uses
    leaves = {}
    heap = []
    for t, g in zip(roots, seeds):
        node = t._node
        if node is None:
            leaves[id(t)] = t
            leaf_grads[id(t)] = g if id(t) not in leaf_grads else leaf_grads[id(t)] + g
        elif node in node_grads:
            node_grads[node] = node_grads[node] + g
        else:
            node_grads[node] = g
            heapq.heappush(heap, (-node.seq, node))

    wanted = {}
    if targets is not None:
        for t in targets:
            wanted[t._node if t._node is not None else id(t)] = None

    with enable_grad() if create_graph else no_grad():
        while heap:
            node = heapq.heappop(heap)[1]
            g = node_grads.pop(node)
            if node.freed:
                raise RuntimeError(
                    f"{node.op.name}: trying to backward through the graph a second time; its "
                    "saved values were freed. Pass retain_graph=True to the first backward call"
                )
            node.check_versions()
            if node.hooks is not None:
                for hook in node.hooks:
                    result = hook(g)
                    if result is not None:
                        g = result
            if node.retained is not None:
                t = node.retained()
                if t is not None:
                    t.grad = g.copy() if t.grad is None else t.grad + g
            if wanted and node in wanted:
                wanted[node] = g
            if create_graph:
                grads = node.op.vjp(g if isinstance(g, Tensor) else Tensor(g),
                                    _graph_context(node))
            else:
                grads = node.op.vjp(g, node)
            parents = node.parents
            if len(grads) != len(parents):
                raise RuntimeError(f"{node.op.name}: its VJP returned {len(grads)} gradients "
                                   f"for {len(parents)} inputs")
            needs = node.needs
            for i, gp in enumerate(grads):
                if gp is None or not needs[i]:
                    continue
                p = parents[i]
                data = p.data
                if gp.shape != data.shape:
                    gp = _fit_shape(node, i, gp, data.shape)
                if gp.dtype != data.dtype:
                    gp = gp.astype(data.dtype)
                parent_node = p._node
                if parent_node is None:
                    key = id(p)
                    if key in leaf_grads:
                        leaf_grads[key] = leaf_grads[key] + gp
                    else:
                        leaves[key] = p
                        leaf_grads[key] = gp
                elif parent_node in node_grads:
                    node_grads[parent_node] = node_grads[parent_node] + gp
                else:
                    node_grads[parent_node] = gp
                    heapq.heappush(heap, (-parent_node.seq, parent_node))
            if not retain_graph:
                node.release()

    handed = {id(g) for g in seeds}  # arrays someone else holds: never give them to a leaf
    for key, t in leaves.items():
        g = leaf_grads[key]
        for hook in t._hooks or ():
            result = hook(g)
            if result is not None:
                g = result
        if targets is not None:
            if key in wanted:
                wanted[key] = g
            continue
        if isinstance(g, Tensor):
            t.grad = g if t.grad is None else t.grad + g
        elif t.grad is None:
            # .grad must own its memory (optimizers and clipping change it in place): copy
            # a view, or an array that a seed, another leaf or a hook may also hold.
            if g.base is not None or not g.flags.writeable or id(g) in handed or t._hooks:
                g = g.copy()
            handed.add(id(g))
            t.grad = g
        else:
            t.grad = t.grad + g
    if targets is not None:
        return [wanted[t._node if t._node is not None else id(t)] for t in targets]
    return None


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


Tensor.backward = backward  # the data model knows nothing of backward; it is installed here
