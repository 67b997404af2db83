"""cumsum: gradients (hypothesis, float64), forward against numpy, second order, errors."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import autograd as ag
import ops
from autograd import Tensor
from autograd.testing import gradcheck, gradgradcheck
from autograd.testing.strategies import arrays, shapes
from tests.helpers import check_forward, gradchecks


@st.composite
def cumsum_cases(draw):
    """(x, axis): axis None (flattened) or any valid int, negative included."""
    x = draw(arrays(shapes()))
    if x.ndim == 0 or draw(st.booleans()):
        return x, None
    return x, draw(st.integers(-x.ndim, x.ndim - 1))


@gradchecks("cumsum")
@given(cumsum_cases())
def test_cumsum_gradient(case):
    x, axis = case
    gradcheck(lambda t: ops.cumsum(t, axis), [x])
    # linear, so square first: the second-order check then runs through cumsum's VJP graph
    gradgradcheck(lambda t: ops.cumsum(t * t, axis), [x])


@given(cumsum_cases())
def test_cumsum_forward(case):
    x, axis = case
    check_forward(ops.cumsum, np.cumsum, x, axis=axis, rtol=1e-5, atol=1e-5)


def test_cumsum_spellings_and_dispatch():
    x = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    expected = np.cumsum(x.data, axis=1)
    for out in (ops.cumsum(x, 1), ops.cumsum(x, dim=1), x.cumsum(1), x.cumsum(dim=1),
                np.cumsum(x, axis=1)):
        assert isinstance(out, Tensor) and out.requires_grad
        np.testing.assert_array_equal(out.data, expected)
    np.testing.assert_array_equal(x.cumsum().data, np.cumsum(x.data))
    (g,) = ag.grad(ops.cumsum(x, 1).sum(), [x])
    np.testing.assert_array_equal(g, [[3, 2, 1], [3, 2, 1]])  # element i feeds n - i outputs


def test_cumsum_of_integers_has_no_gradient():
    out = ops.cumsum(Tensor(np.arange(4)), 0)
    assert out.dtype == np.int64 and not out.requires_grad
    np.testing.assert_array_equal(out.data, [0, 1, 3, 6])


def test_cumsum_errors():
    with pytest.raises(ValueError, match=r"cumsum: axis 2 is out of bounds .* shape \(2, 3\)"):
        ops.cumsum(Tensor(np.ones((2, 3))), 2)
    with pytest.raises(TypeError, match="cumsum: give axis= or dim=, not both"):
        ops.cumsum(Tensor(np.ones(3)), 0, dim=0)
    with pytest.raises(ValueError, match="cumsum: a 0-d array has no axis"):
        ops.cumsum(Tensor(np.float64(1.0)), 0)
