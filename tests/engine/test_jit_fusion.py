"""The scalar formulas that fusion is built from, and fused chains against eager."""

import math
import weakref

import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st

import autograd as ag
import ops
from autograd import REGISTRY, Tensor
from autograd.jit import fusion

FORMULA_OPS = sorted(name for name, op in REGISTRY.items() if op.scalar is not None)


def _inputs(op):
    return [n for n in op.signature.parameters if n in op.input_names]


def _eval(formula, names):
    return eval(formula, {"__builtins__": {}, **fusion._FUNCTIONS}, names)


def test_the_elementwise_ops_declare_formulas():
    assert {"add", "sub", "mul", "div", "neg", "exp", "log", "tanh", "sigmoid", "relu",
            "sin", "cos", "sqrt", "square", "leaky_relu"} <= set(FORMULA_OPS)


@pytest.mark.parametrize("name", FORMULA_OPS)
def test_each_formula_agrees_with_its_op(name):
    """The formula, evaluated element by element in Python, gives the op's forward and the
    op's VJP (float64) at random points away from kinks."""
    op = REGISTRY[name]
    rng = np.random.default_rng(0)
    names = _inputs(op)
    xs = [rng.uniform(0.2, 2.0, 12) * rng.choice([-1, 1], 12) for _ in names]
    if name in ("log", "sqrt"):
        xs = [np.abs(x) for x in xs]
    g = rng.standard_normal(12)
    tensors = [Tensor(x, requires_grad=True) for x in xs]
    out = op(*tensors)
    out.backward(g)
    forward, vjps = op.scalar
    params = {p: op.signature.parameters[p].default for p in op.param_names}
    for i in range(12):
        env = {n: float(x[i]) for n, x in zip(names, xs)} | params
        value = _eval(forward, env)
        assert math.isclose(value, out.data[i], rel_tol=1e-12, abs_tol=1e-14), (name, i)
        env |= {"out": float(out.data[i]), "g": float(g[i])}
        for formula, t in zip(vjps, tensors):
            assert math.isclose(_eval(formula, env), t.grad[i], rel_tol=1e-12,
                                abs_tol=1e-14), (name, formula, i)


UNARY = ["tanh", "sigmoid", "sin", "cos", "exp", "neg", "relu", "square"]


@settings(max_examples=10, deadline=None)  # each example compiles its own loops
@given(steps=st.lists(st.tuples(st.sampled_from(UNARY + ["add", "mul", "sub", "div", "rsub"]),
                                st.floats(-2, 2)), min_size=2, max_size=10),
       dtype=st.sampled_from([np.float64, np.float32]), seed=st.integers(0, 2**16))
def test_fused_chains_match_eager(steps, dtype, seed):
    rng = np.random.default_rng(seed)
    x0, w0 = rng.uniform(-1, 1, (2, 3, 5)).astype(dtype)
    # relu's kink at 0: keep every value that reaches it away from 0 is hard to promise
    # through a chain, so its gradient is compared where the eager gradient is defined.
    x, w = Tensor(x0.copy(), requires_grad=True), Tensor(w0.copy(), requires_grad=True)

    def chain(x, w):
        y = x
        for name, c in steps:
            if name in UNARY:
                y = getattr(ops, name)(ops.clip(y, -3, 3) if name == "exp" else y)
            elif name == "rsub":
                y = c - y
            elif name == "div":
                y = y / (w * w + 1)
            else:
                y = {"add": lambda: y + w * c, "mul": lambda: y * w,
                     "sub": lambda: y - c}[name]()
        return y

    @ag.jit
    def step(x, w):
        y = chain(x, w)
        (y * y).sum().backward()
        return y

    for _ in range(3):
        x.grad = w.grad = None
        got = step(x, w)
    got_x, got_w = x.grad, w.grad
    x.grad = w.grad = None
    want = chain(x, w)
    (want * want).sum().backward()
    assume(np.all(np.isfinite(want.data)) and np.abs(want.data).max() < 1e6)
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(got.data, want.data, **tol)
    np.testing.assert_allclose(got_x, x.grad, **tol)
    if w.grad is None:  # a chain of unary ops only: w is not used
        assert got_w is None
    else:
        np.testing.assert_allclose(got_w, w.grad, **tol)


def test_a_chain_is_one_fused_loop_and_intermediates_are_not_written():
    x = Tensor(np.linspace(-1, 1, 8), requires_grad=True)

    @ag.jit
    def step(x):
        y = ops.sin(ops.tanh(x * 2.0 + 1.0))
        y.sum().backward()
        return y

    for _ in range(3):
        x.grad = None
        step(x)
    (program,) = [c.program for cs in step._compiled.values() for c in cs]
    groups = {id(g): g for g in program.group_of.values()}
    assert len(groups) == 1
    (group,) = groups.values()
    assert len(group.members) == 4 and group.writes == [group.members[-1]]
    np.testing.assert_allclose(x.grad, np.cos(np.tanh(2 * x.data + 1)) * 2 *
                               (1 - np.tanh(2 * x.data + 1) ** 2), rtol=1e-12)


def test_fused_outputs_reuse_their_memory_only_when_nothing_holds_it():
    x = Tensor(np.linspace(-1, 1, 8), requires_grad=True)

    @ag.jit
    def step(x):
        y = ops.tanh(x * 2.0) * 3.0  # fused; its output is read by sum, then dropped
        z = ops.sin(y.sum() + x * 0.5) + 1.0  # fused again; returned
        z.sum().backward()
        return z

    outs = []
    for _ in range(4):
        x.grad = None
        outs.append(step(x))
    # Every returned tensor keeps its own memory, and the values stay right.
    assert len({id(o.data.base if o.data.base is not None else o.data) for o in outs}) == 4
    for o in outs:
        np.testing.assert_allclose(
            o.data, np.sin(3 * np.tanh(2 * x.data).sum() + 0.5 * x.data) + 1, rtol=1e-12)
    (program,) = [c.program for cs in step._compiled.values() for c in cs]
    inner = {id(g): g for g in program.group_of.values()}
    first = min(inner.values(), key=lambda g: g.members[0])
    held = weakref.ref(first._buffers[("out", first.writes[0])])  # a weak reference: not a holder
    step(x)  # nothing else holds the first group's output: the same array is written again
    assert first._buffers[("out", first.writes[0])] is held()
