"""sort, argsort, topk, argmax/argmin and max/min along a dim: values' gradients (through
take_along_axis), forward against numpy, deterministic ties, NaN, errors."""

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import ops
from autograd import Tensor, grad
from autograd.testing import gradcheck, gradgradcheck
from autograd.testing.strategies import arrays, distinct_values, shapes
from ops.sorting import max_along, min_along
from tests.helpers import check_forward


@st.composite
def ordered_cases(draw):
    """(x, axis) with x of at least 1 dim and no near-ties along axis."""
    x = draw(arrays(shapes(min_dims=1)))
    axis = draw(st.integers(-x.ndim, x.ndim - 1))
    assume(distinct_values(x, axis=axis))
    return x, axis


# --- gradients ---------------------------------------------------------------------------
@given(ordered_cases(), st.booleans())
def test_sort_values_gradient(case, descending):
    x, axis = case
    gradcheck(lambda t: ops.sort(t, axis, descending=descending).values, [x])
    gradgradcheck(lambda t: ops.sort(t * t, axis, descending=descending).values, [x])


@given(ordered_cases(), st.data())
def test_topk_values_gradient(case, data):
    x, axis = case
    k = data.draw(st.integers(1, x.shape[axis]))
    largest = data.draw(st.booleans())
    gradcheck(lambda t: ops.topk(t, k, axis, largest=largest).values, [x])


@given(ordered_cases(), st.booleans())
def test_max_min_along_values_gradient(case, keepdim):
    x, axis = case
    gradcheck(lambda t: max_along(t, axis, keepdim).values, [x])
    gradcheck(lambda t: min_along(t, axis, keepdim).values, [x])


# --- forward against numpy --------------------------------------------------------------
@given(ordered_cases())
def test_sort_forward_matches_numpy(case):
    x, axis = case
    check_forward(lambda t: ops.sort(t, axis).values, lambda a: np.sort(a, axis), x)
    check_forward(lambda t: ops.sort(t, axis, descending=True).values,
                  lambda a: np.flip(np.sort(a, axis), axis), x)
    np.testing.assert_array_equal(ops.sort(Tensor(x), axis).indices.data,
                                  np.argsort(x, axis, kind="stable"))
    np.testing.assert_array_equal(ops.argsort(Tensor(x), axis).data,
                                  np.argsort(x, axis, kind="stable"))


@given(ordered_cases(), st.data())
def test_topk_forward_matches_numpy(case, data):
    x, axis = case
    k = data.draw(st.integers(0, x.shape[axis]))
    top = np.take(np.argsort(-x, axis, kind="stable"), np.arange(k), axis)
    bottom = np.take(np.argsort(x, axis, kind="stable"), np.arange(k), axis)
    for largest, order in ((True, top), (False, bottom)):
        out = ops.topk(Tensor(x), k, axis, largest=largest)
        np.testing.assert_array_equal(out.indices.data, order)
        check_forward(lambda t: ops.topk(t, k, axis, largest=largest).values,
                      lambda a: np.take_along_axis(a, order, axis), x)


@given(arrays(shapes(min_dims=1)), st.data(), st.booleans())
def test_argmax_argmin_match_numpy(x, data, keepdims):
    axis = data.draw(st.none() | st.integers(-x.ndim, x.ndim - 1))
    for fn, reference in ((ops.argmax, np.argmax), (ops.argmin, np.argmin)):
        out = fn(Tensor(x), axis, keepdims)
        assert isinstance(out, Tensor) and not out.requires_grad
        np.testing.assert_array_equal(out.data, reference(x, axis=axis, keepdims=keepdims))
        np.testing.assert_array_equal(fn(Tensor(x), dim=axis, keepdim=keepdims).data, out.data)


# --- ties and NaN -----------------------------------------------------------------------
def test_ties_keep_index_order_in_both_directions():
    x = Tensor(np.array([1.0, 3.0, 3.0, 2.0, 1.0]), requires_grad=True)
    assert ops.sort(x).indices.tolist() == [0, 4, 3, 1, 2]
    assert ops.sort(x, descending=True).indices.tolist() == [1, 2, 3, 0, 4]
    assert ops.topk(x, 2).indices.tolist() == [1, 2]
    assert ops.topk(x, 1, largest=False).indices.tolist() == [0]
    values = ops.topk(x, 1).values  # the tie's gradient goes to the element returned
    values.sum().backward()
    assert x.grad.tolist() == [0, 1, 0, 0, 0]


def test_max_min_along_ties_take_the_first_index():
    x = Tensor(np.array([[1.0, 5.0, 5.0], [0.0, 0.0, 2.0]]), requires_grad=True)
    values, indices = max_along(x, 1)
    assert indices.tolist() == [1, 2] and values.tolist() == [5, 2]
    values.sum().backward()
    assert x.grad.tolist() == [[0, 1, 0], [0, 0, 1]]
    values, indices = min_along(x, 1, keepdim=True)
    assert indices.tolist() == [[0], [0]] and values.shape == (2, 1)


def test_nan_counts_as_the_largest():
    x = Tensor(np.array([2.0, np.nan, 1.0, np.nan]))
    assert ops.sort(x).indices.tolist() == [2, 0, 1, 3]
    assert ops.sort(x, descending=True).indices.tolist() == [1, 3, 0, 2]
    assert ops.topk(x, 3).indices.tolist() == [1, 3, 0]
    assert max_along(x, 0).indices.item() == 1


def test_sort_on_integers_and_descending_unsigned():
    x = np.array([3, 0, 255, 7], dtype=np.uint8)
    assert ops.sort(Tensor(x), descending=True).values.tolist() == [255, 7, 3, 0]
    assert ops.sort(x).values.tolist() == [0, 3, 7, 255]


def test_numpy_sort_on_a_tensor_gives_differentiable_values():
    x = Tensor(np.array([[3.0, 1.0], [0.0, 2.0]]), requires_grad=True)
    out = np.sort(x, axis=0)
    assert isinstance(out, Tensor) and out.requires_grad
    np.testing.assert_array_equal(out.data, [[0, 1], [3, 2]])
    np.testing.assert_array_equal(np.sort(x, axis=None).data, [0, 1, 2, 3])
    (g,) = grad((out * np.array([[1.0, 2.0], [3.0, 4.0]])).sum(), [x])
    np.testing.assert_array_equal(g, [[3, 2], [1, 4]])


# --- errors -----------------------------------------------------------------------------
def test_errors():
    x = Tensor(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"topk: k must be an integer in 0\.\.3 .* got 4"):
        ops.topk(x, 4)
    with pytest.raises(ValueError, match=r"topk: k must be"):
        ops.topk(x, 1.5)
    with pytest.raises(ValueError, match=r"sort: axis 2 is out of bounds .* shape \(2, 3\)"):
        ops.sort(x, 2)
    with pytest.raises(ValueError, match="sort: a 0-d array has nothing to order"):
        ops.sort(Tensor(np.float64(1.0)))
    with pytest.raises(TypeError, match="sort: give axis= or dim=, not both"):
        ops.sort(x, 0, dim=1)
    with pytest.raises(ValueError, match=r"argmax: an empty array \(shape \(0,\)\) has no max"):
        ops.argmax(Tensor(np.ones(0)))
    with pytest.raises(ValueError, match=r"max: cannot reduce over dim 1 of length 0"):
        max_along(Tensor(np.ones((2, 0))), 1)
    with pytest.raises(TypeError, match="argmin: axis must be an integer"):
        ops.argmin(x, axis=(0, 1))
