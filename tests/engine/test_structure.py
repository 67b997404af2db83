"""The layers import one way: engine (autograd.core) <- ops <- optim <- nn <- train.

A static check over every module's imports (no cycles, no upward imports), and a dynamic
one: the engine runs, with an op of its own, while the op library cannot be imported.
"""

import ast
import pathlib
import subprocess
import sys
import textwrap

ROOT = pathlib.Path(__file__).resolve().parents[2]
PACKAGES = ("autograd", "ops", "optim")


def _module_name(path):
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules():
    return {_module_name(p): p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")}


def _imports(path, modules):
    """The project modules ``path`` imports (``from a.b import c`` names a.b.c when c is a
    module). Python also runs a module's parent packages first; those implicit imports
    carry no names and are not edges here."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in modules
                     else node.module for a in node.names]
        else:
            continue
        found.update(n for n in names if n in modules)
    return found


def _graph():
    modules = _modules()
    return {name: _imports(path, modules) for name, path in modules.items()}


def test_the_import_graph_has_no_cycle():
    graph = _graph()
    state = {}

    def visit(start):  # iterative depth-first search; a grey node met again is a cycle
        stack = [(start, iter(sorted(graph[start])))]
        state[start] = "grey"
        path = [start]
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = "black"
                stack.pop()
                path.pop()
            elif state.get(child) == "grey":
                cycle = path[path.index(child):] + [child]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            elif child not in state:
                state[child] = "grey"
                stack.append((child, iter(sorted(graph[child]))))
                path.append(child)

    for name in sorted(graph):
        if name not in state:
            visit(name)


def _layer(module):
    if module.startswith(("autograd.core", "autograd.testing", "autograd.tools",
                          "autograd.jit")):
        return 0
    if module.startswith("ops"):
        return 1
    if module.startswith("optim"):
        return 2
    return 3  # autograd.nn, the training command, data, models, and the package front door


def test_no_module_imports_a_layer_above_its_own():
    upward = sorted(f"{m} imports {i}" for m, deps in _graph().items() for i in deps
                    if _layer(i) > _layer(m))
    assert not upward, upward


def test_the_engine_runs_with_the_op_library_blocked():
    script = textwrap.dedent(f"""
        import sys, types
        import numpy as np
        sys.modules["ops"] = None      # importing ops now raises ImportError
        sys.modules["optim"] = None
        # The engine's package without the front door (autograd/__init__.py imports ops).
        package = types.ModuleType("autograd")
        package.__path__ = [{str(ROOT / "autograd")!r}]
        sys.modules["autograd"] = package
        from autograd.core import Tensor, defop

        def square_forward(x):
            return x * x, None

        def square_vjp(g, ctx):
            return (2 * g * ctx.inputs[0],)

        square = defop("square_standalone", square_forward, square_vjp, doc="VJP: 2 g x")
        x = Tensor(np.array([1.0, -3.0]), requires_grad=True)
        square(x).backward(np.ones(2))
        assert list(x.grad) == [2.0, -6.0], x.grad
        print("ok")
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_gradcheck_imports_without_hypothesis():
    script = textwrap.dedent("""
        import sys
        sys.modules["hypothesis"] = None
        import numpy as np, ops
        from autograd.testing import gradcheck
        assert gradcheck(ops.tanh, [np.linspace(-1, 1, 5)])
        try:
            from autograd.testing import strategies
        except ImportError:
            print("ok")
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
