"""autograd.grad, create_graph and higher-order derivatives."""

import numpy as np
import pytest

import autograd as ag
import ops
from autograd import Tensor


def test_grad_returns_without_touching_dot_grad():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    (gx,) = ag.grad((x**3).sum(), [x])
    np.testing.assert_allclose(gx, 3 * x.data**2)
    assert x.grad is None and isinstance(gx, np.ndarray)


def test_grad_with_respect_to_intermediate():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    h = x * 3
    (gh,) = ag.grad((h * h).sum(), [h])
    np.testing.assert_allclose(gh, 2 * h.data)


def test_second_derivative():
    x = Tensor(np.array([0.3, -1.2]), requires_grad=True)
    (gx,) = ag.grad(ops.sin(x).sum(), [x], create_graph=True)
    assert isinstance(gx, Tensor) and gx.requires_grad
    (ggx,) = ag.grad(gx.sum(), [x])
    np.testing.assert_allclose(ggx, -np.sin(x.data))


def test_hessian_vector_product():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 3))
    a = a + a.T
    x = Tensor(rng.standard_normal(3), requires_grad=True)
    v = rng.standard_normal(3)
    f = 0.5 * (x * Tensor(a @ x.data * 0) + x * (Tensor(a) @ x)).sum()  # 0.5 x^T A x
    (g,) = ag.grad(f, [x], create_graph=True)
    (hv,) = ag.grad((g * Tensor(v)).sum(), [x])
    np.testing.assert_allclose(hv, a @ v, rtol=1e-10)


def test_backward_create_graph_makes_grad_a_tensor():
    x = Tensor(np.array([2.0]), requires_grad=True)
    (x**3).sum().backward(create_graph=True)
    assert isinstance(x.grad, Tensor)
    penalty = (x.grad**2).sum()  # gradient penalty: d/dx (3x^2)^2 = 36 x^3
    g = x.grad
    x.grad = None
    penalty.backward()
    np.testing.assert_allclose(x.grad.data if isinstance(x.grad, Tensor) else x.grad, [288.0])
    assert g is not None


def test_unused_input():
    x = Tensor(np.ones(2), requires_grad=True)
    y = Tensor(np.ones(2), requires_grad=True)
    with pytest.raises(RuntimeError, match="not used.*allow_unused=True"):
        ag.grad((x * 2).sum(), [x, y])
    gx, gy = ag.grad((x * 2).sum(), [x, y], allow_unused=True)
    assert gy is None


def test_grad_outputs_for_non_scalar():
    x = Tensor(np.ones(3), requires_grad=True)
    (gx,) = ag.grad(x * 2, [x], grad_outputs=np.arange(3.0))
    np.testing.assert_allclose(gx, 2 * np.arange(3.0))


def test_op_without_double_backward_names_itself():
    def fwd(x):
        return x * 2, None

    def vjp(g, ctx):
        return (g * 2,)

    op = ag.defop("test_once_only", fwd, vjp, twice=False)
    x = Tensor(np.ones(2), requires_grad=True)
    with pytest.raises(RuntimeError, match="test_once_only: its gradient is not differentiable"):
        ag.grad(op(x).sum(), [x], create_graph=True)
    (gx,) = ag.grad(op(x).sum(), [x])
    np.testing.assert_allclose(gx, [2.0, 2.0])
