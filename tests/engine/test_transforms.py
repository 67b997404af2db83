"""vjp, jvp, jacobian, hessian and hvp against finite differences, each other, and
torch.func where PyTorch is installed."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import autograd as ag
import ops
from autograd.testing import GradcheckError, gradcheck
from autograd.testing import strategies as st_ag


def _f(x, y):
    """A smooth map R^n x R^n -> R^2n exercising several ops."""
    return ops.concatenate([ops.tanh(x) * y + x ** 2, ops.exp(y * 0.3) - ops.sin(x)])


def _numeric_jacobian(f, x, eps=1e-6):
    cols = []
    for k in range(x.size):
        dx = np.zeros(x.size)
        dx[k] = eps
        up = f(x + dx.reshape(x.shape))
        down = f(x - dx.reshape(x.shape))
        cols.append(((up - down) / (2 * eps)).reshape(-1))
    return np.stack(cols, axis=-1)


def _values(f):
    return lambda x: f(ag.Tensor(x)).data


@given(st_ag.arrays(st.integers(1, 4)), st.integers(0, 2**16))
def test_jvp_matches_finite_differences(x, seed):
    y = np.random.default_rng(seed).standard_normal(x.shape)
    t = np.random.default_rng(seed + 1).standard_normal(x.shape)
    out, jt = ag.jvp(lambda a: _f(a, ag.Tensor(y)), (x,), (t,))
    numeric = _numeric_jacobian(_values(lambda a: _f(a, ag.Tensor(y))), x) @ t
    np.testing.assert_allclose(jt, numeric, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(out, _f(ag.Tensor(x), ag.Tensor(y)).data)


@given(st_ag.arrays(st.integers(1, 4)), st.integers(0, 2**16))
def test_forward_and_reverse_jacobians_agree_with_finite_differences(x, seed):
    y = np.random.default_rng(seed).standard_normal(x.shape)
    jf = ag.jacobian(_f, (x, y), mode="forward")
    jr = ag.jacobian(_f, (x, y), mode="reverse")
    for i in range(2):  # one output, two inputs: one block per input
        np.testing.assert_allclose(jf[i], jr[i], rtol=1e-10, atol=1e-12)
    numeric = _numeric_jacobian(_values(lambda a: _f(a, ag.Tensor(y))), x)
    np.testing.assert_allclose(jr[0], numeric, rtol=1e-5, atol=1e-7)


def test_jacobian_shape_and_auto_mode():
    x = np.arange(6.0).reshape(2, 3)
    j = ag.jacobian(lambda a: a.sum(axis=0) * 2, x)        # out (3,), in (2, 3)
    assert j.shape == (3, 2, 3)
    expected = np.zeros((3, 2, 3))
    for c in range(3):
        expected[c, :, c] = 2
    np.testing.assert_array_equal(j, expected)


def _rosenbrock(x):
    return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()


@given(st_ag.arrays(st.integers(2, 5), low=-1.5, high=1.5), st.integers(0, 2**16))
@settings(max_examples=20)
def test_hessian_and_hvp_match_finite_differences_of_the_gradient(x, seed):
    gradient = lambda a: ag.vjp(_rosenbrock, (a,))[1][0]  # noqa: E731
    numeric = _numeric_jacobian(gradient, x)
    h = ag.hessian(_rosenbrock, x)
    np.testing.assert_allclose(h, numeric, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(h, h.T, rtol=1e-12, atol=1e-9)
    v = np.random.default_rng(seed).standard_normal(x.shape)
    value, hv = ag.hvp(_rosenbrock, x, v)
    np.testing.assert_allclose(hv, h @ v, rtol=1e-9, atol=1e-9)
    assert np.isclose(value, _rosenbrock(ag.Tensor(x)).item())


def test_vjp_with_several_outputs_and_unused_inputs():
    x, z = np.array([1.0, 2.0]), np.array([5.0])
    outs, (gx, gz) = ag.vjp(lambda a, b: (a * 2, a.sum()), (x, z), (np.ones(2), np.array(3.0)))
    np.testing.assert_allclose(outs[0], [2.0, 4.0])
    np.testing.assert_allclose(gx, [5.0, 5.0])
    np.testing.assert_array_equal(gz, [0.0])


def test_errors_name_the_transform():
    with pytest.raises(ValueError, match="jvp: tangents 0 has shape"):
        ag.jvp(ops.exp, (np.ones(3),), (np.ones(2),))
    with pytest.raises(TypeError, match="jacobian: primal 0 must be floating point"):
        ag.jacobian(ops.exp, np.arange(3))
    with pytest.raises(ValueError, match="hvp: f must return a scalar"):
        ag.hvp(ops.exp, np.ones(3), np.ones(3))


def test_jvp_through_a_recurrent_sequence_says_why_not():
    xp, h0 = np.ones((2, 1, 3)), np.zeros((1, 3))
    w = np.eye(3) * 0.5
    with pytest.raises(RuntimeError, match="rnn_sequence: its gradient is not differentiable"):
        ag.jvp(lambda a: ops.rnn_sequence(a, h0, w), (xp,), (np.ones_like(xp),))


def test_gradcheck_catches_a_wrong_gradient_of_the_gradient():
    """A VJP right on arrays but wrong when differentiated (its graph_vjp forgets a factor)
    passes the first-order check and fails the forward-mode identity."""
    def cube_forward(x):
        return x ** 3, None

    def cube_vjp(g, ctx):
        return (3 * g * ctx.inputs[0] ** 2,)

    def wrong_graph_vjp(g, ctx):
        return (2 * g * ctx.inputs[0] ** 2,)

    cube = ag.defop("test_cube_wrong_graph", cube_forward, cube_vjp,
                    graph_vjp=wrong_graph_vjp, doc="x**3.  VJP: 3 g x**2")
    x = np.array([0.5, -1.0, 2.0])
    assert gradcheck(cube, [x], check_jvp=False)
    with pytest.raises(GradcheckError, match="forward mode disagrees with reverse mode"):
        gradcheck(cube, [x])


def test_agreement_with_torch_func():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x, y, t = rng.standard_normal(4), rng.standard_normal(4), rng.standard_normal(4)

    def torch_f(a, b):
        return torch.cat([torch.tanh(a) * b + a ** 2, torch.exp(b * 0.3) - torch.sin(a)])

    xt, yt, tt = (torch.tensor(v) for v in (x, y, t))
    _, jt_torch = torch.func.jvp(lambda a: torch_f(a, yt), (xt,), (tt,))
    _, jt = ag.jvp(lambda a: _f(a, ag.Tensor(y)), (x,), (t,))
    np.testing.assert_allclose(jt, jt_torch.numpy(), rtol=1e-12, atol=1e-12)
    j_torch = torch.func.jacrev(torch_f, argnums=(0, 1))(xt, yt)
    j = ag.jacobian(_f, (x, y))
    for i in range(2):
        np.testing.assert_allclose(j[i], j_torch[i].numpy(), rtol=1e-12, atol=1e-12)
    rosen_t = lambda a: (100 * (a[1:] - a[:-1] ** 2) ** 2 + (1 - a[:-1]) ** 2).sum()  # noqa
    h_torch = torch.func.hessian(rosen_t)(xt)
    np.testing.assert_allclose(ag.hessian(_rosenbrock, x), h_torch.numpy(), rtol=1e-10)
