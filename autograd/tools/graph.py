"""``to_dot(tensor)``: the graph that produced a tensor, in Graphviz's DOT language.

>>> dot = ag.to_dot(loss, params=model.named_parameters())
>>> ag.render_dot(dot, "graph.svg")      # needs Graphviz's ``dot`` program
"""

import shutil
import subprocess

from autograd.core.tensor import Tensor


def _shape(t):
    return "x".join(str(n) for n in t.shape) or "scalar"


def to_dot(tensor, params=None, path=None):
    """DOT text of the graph behind ``tensor``: one box per op (name, output shape and
    dtype), one ellipse per leaf that requires grad (named from ``params``, e.g.
    ``model.named_parameters()``, else by shape), edges from inputs to the ops using them.
    Written to ``path`` when given; returned either way."""
    names = {id(p): name for name, p in (params or ())}
    lines = ["digraph autograd {", '  rankdir="BT";', '  node [fontname="Helvetica"];']
    ids = {}

    def ident(obj):
        if id(obj) not in ids:
            ids[id(obj)] = f"n{len(ids)}"
        return ids[id(obj)]

    if tensor._node is None:
        raise ValueError(f"to_dot: the tensor of shape {tensor.shape} has no graph (a leaf, or "
                         "made without recording)")
    root = tensor._node
    lines.append(f'  {ident(root)} [shape=box, style="filled", fillcolor="#cfe2f3", '
                 f'label="{root.op.name}\\n{_shape(tensor)} {tensor.dtype}"];')
    seen, stack = {id(root)}, [root]
    while stack:
        node = stack.pop()
        if node.freed:
            raise ValueError("to_dot: the graph was freed by backward; draw it before, or "
                             "pass retain_graph=True")
        for p, need in zip(node.parents, node.needs):
            if not (isinstance(p, Tensor) and need):
                continue  # constants and tensors that need no gradient are left out
            source = p._node if p._node is not None else p
            if id(source) not in seen:
                seen.add(id(source))
                if p._node is None:
                    label = names.get(id(p), "leaf")
                    lines.append(f'  {ident(p)} [shape=ellipse, style="filled", '
                                 f'fillcolor="#d9ead3", label="{label}\\n{_shape(p)} '
                                 f'{p.dtype}"];')
                else:
                    lines.append(f'  {ident(source)} [shape=box, label="{source.op.name}'
                                 f'\\n{_shape(p)} {p.dtype}"];')
                    stack.append(source)
            lines.append(f"  {ident(source)} -> {ident(node)};")
    lines.append("}")
    dot = "\n".join(lines) + "\n"
    if path is not None:
        with open(path, "w") as f:
            f.write(dot)
    return dot


def render_dot(dot, path):
    """Render DOT text to ``path`` (its suffix gives the format: .svg, .png, .pdf) with
    Graphviz's ``dot`` program; a clear error when it is not installed."""
    program = shutil.which("dot")
    if program is None:
        raise RuntimeError("render_dot: Graphviz's 'dot' program is not installed "
                           "(e.g. apt-get install graphviz); the DOT text can still be saved")
    fmt = str(path).rsplit(".", 1)[-1]
    subprocess.run([program, f"-T{fmt}", "-o", str(path)], input=dot, text=True, check=True)
    return path
