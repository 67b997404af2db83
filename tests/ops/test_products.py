"""np.dot, np.inner, np.outer, np.vdot and np.tensordot on Tensors (written with matmul,
einsum and mul): forward against numpy, gradients, use inside a VJP under create_graph,
errors."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import autograd as ag
import ops
from autograd import Tensor
from autograd.testing import gradcheck, gradgradcheck
from autograd.testing.strategies import arrays, shapes
from tests.helpers import check_forward


@st.composite
def dot_operands(draw):
    """a and b that numpy's dot accepts: scalars, vectors, matrices and stacks."""
    k = draw(st.integers(1, 3))
    a_shape = draw(st.sampled_from([(), (k,), (2, k), (2, 1, k)]))
    b_shape = draw(st.sampled_from([(), (k,), (k, 2), (3, k, 2), (1, 2, k, 3)]))
    return draw(arrays(a_shape)), draw(arrays(b_shape))


@st.composite
def inner_operands(draw):
    k = draw(st.integers(1, 3))
    a_shape = draw(st.sampled_from([(), (k,), (2, k), (2, 1, k)]))
    b_shape = draw(st.sampled_from([(), (k,), (3, k), (1, 2, k)]))
    return draw(arrays(a_shape)), draw(arrays(b_shape))


@given(dot_operands())
def test_dot_matches_numpy(ab):
    a, b = ab
    check_forward(lambda x, y: np.dot(x, y), np.dot, a, b, rtol=1e-5, atol=1e-6)
    gradcheck(np.dot, [a, b])
    gradgradcheck(lambda x, y: np.dot(x * x, y), [a, b])


@given(inner_operands())
def test_inner_matches_numpy(ab):
    a, b = ab
    check_forward(lambda x, y: np.inner(x, y), np.inner, a, b, rtol=1e-5, atol=1e-6)
    gradcheck(np.inner, [a, b])


@given(arrays(shapes(max_dims=2)), arrays(shapes(max_dims=2)))
def test_outer_and_vdot_match_numpy(a, b):
    check_forward(lambda x, y: np.outer(x, y), np.outer, a, b)
    gradcheck(np.outer, [a, b])
    if a.size == b.size:
        check_forward(lambda x, y: np.vdot(x, y), np.vdot, a, b, rtol=1e-5, atol=1e-6)
        gradcheck(np.vdot, [a, b])


@pytest.mark.parametrize("a_shape, b_shape, axes", [
    ((2, 3, 4), (3, 4, 5), 2), ((2, 3), (3, 2), 1), ((2, 3), (4,), 0),
    ((2, 3, 4), (4, 2, 3), ([1, 2], [2, 0])), ((3, 2), (3, 4), (0, 0)),
    ((2, 3, 4), (4, 3), ([-1, -2], [0, 1])),
])
def test_tensordot_matches_numpy(a_shape, b_shape, axes):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(a_shape), rng.standard_normal(b_shape)
    check_forward(lambda x, y, axes: np.tensordot(x, y, axes), np.tensordot, a, b, axes=axes,
                  rtol=1e-5, atol=1e-6)
    gradcheck(lambda x, y: np.tensordot(x, y, axes), [a, b])


def test_a_user_vjp_with_np_dot_stays_differentiable():
    # A custom op whose VJP uses np.dot: under create_graph it runs on Tensors.
    def forward(x, w):
        return np.dot(x, w), None

    def vjp(g, ctx):
        x, w = ctx.inputs
        return np.dot(g, w.T), np.outer(x, g)

    op = ag.defop("test_dot_vector_matrix", forward, vjp, doc="x @ w.  VJP: (g w^T, x g^T)")
    x, w = np.random.default_rng(1).standard_normal(3), np.random.default_rng(2).standard_normal(
        (3, 2))
    gradcheck(op, [x, w])
    gradgradcheck(lambda a, b: op(a * a, b), [x, w])


def test_product_errors_name_the_function():
    a, b = Tensor(np.ones((2, 3))), Tensor(np.ones((4, 5)))
    with pytest.raises(ValueError, match=r"dot: shapes \(2, 3\) and \(4, 5\) are not aligned"):
        np.dot(a, b)
    with pytest.raises(ValueError, match=r"inner: shapes \(2, 3\) and \(4, 5\) don't match"):
        np.inner(a, b)
    with pytest.raises(ValueError, match=r"vdot: arrays of shapes \(2, 3\) and \(4, 5\) have "
                                         "different sizes"):
        np.vdot(a, b)
    with pytest.raises(ValueError, match=r"tensordot: axis 1 of a \(shape \(2, 3\)\) and axis 0"):
        np.tensordot(a, b, axes=([1], [0]))
    with pytest.raises(ValueError, match=r"tensordot: cannot sum over 3 axes"):
        ops.tensordot(a, b, 3)
