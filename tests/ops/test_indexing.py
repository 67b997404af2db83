"""x[index] and its adjoint scatter_add: basic, integer-array and boolean indexing."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import ops
from autograd import Tensor
from autograd.testing import gradcheck, gradgradcheck
from autograd.testing.strategies import arrays, shapes
from ops.indexing import getitem, scatter_add
from tests.helpers import check_forward, gradchecks


def _rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


@st.composite
def indexed_arrays(draw):
    """(x, index): basic (slices with steps, negative ints, None, Ellipsis), integer-array
    (repeats and negatives included) or boolean, each maybe given as Tensors."""
    kind = draw(st.sampled_from(["basic", "integer", "boolean"]))
    x = draw(arrays(shapes(min_dims=0 if kind == "basic" else 1)))
    if kind == "basic":
        return x, draw(hnp.basic_indices(x.shape, allow_newaxis=True, allow_ellipsis=True))
    if kind == "integer":
        index = draw(hnp.integer_array_indices(x.shape, result_shape=shapes(max_dims=2)))
        if draw(st.booleans()):
            index = tuple(Tensor(i) for i in index)
        return x, index if len(index) > 1 or draw(st.booleans()) else index[0]
    k = draw(st.integers(1, x.ndim))
    mask = draw(hnp.arrays(bool, x.shape[:k]))
    mask = Tensor(mask) if draw(st.booleans()) else mask
    return x, draw(st.sampled_from([mask, (mask, Ellipsis), (mask,)]))


def _plain(index):
    """The index numpy itself would take (Tensors replaced by their arrays)."""
    if isinstance(index, tuple):
        return tuple(i.data if isinstance(i, Tensor) else i for i in index)
    return index.data if isinstance(index, Tensor) else index


# --- gradient property tests ----------------------------------------------------------------
@gradchecks("getitem")
@given(indexed_arrays())
def test_getitem_gradient(case):
    x, index = case
    gradcheck(lambda t: t[index], [x])


@gradchecks("scatter_add")
@given(indexed_arrays(), st.data())
def test_scatter_add_gradient(case, data):
    x, index = case
    index = _plain(index)
    g = data.draw(arrays(x[index].shape))
    gradcheck(lambda t: scatter_add(t, x.shape, index), [g])


@given(indexed_arrays())
def test_getitem_forward_and_gradient_match_numpy(case):
    x, index = case
    t = Tensor(x, requires_grad=True)
    out = t[index]
    np.testing.assert_array_equal(out.data, x[_plain(index)])
    g = np.random.default_rng(0).standard_normal(out.shape)
    out.backward(g)
    expected = np.zeros_like(x)
    np.add.at(expected, _plain(index), g)  # every use of an element adds its g
    np.testing.assert_allclose(t.grad, expected, rtol=1e-12, atol=1e-12)


# --- deterministic cases ------------------------------------------------------------------------
def _grad(x, index):
    t = Tensor(np.asarray(x, dtype=np.float64), requires_grad=True)
    t[index].sum().backward()
    return t.grad


def test_repeated_integer_indices_accumulate():
    np.testing.assert_array_equal(_grad(np.zeros(3), [0, 0, 2, 0]), [3, 0, 1])
    np.testing.assert_array_equal(_grad(np.zeros(3), Tensor(np.array([2, -1, 0]))), [1, 0, 2])
    np.testing.assert_array_equal(_grad(np.zeros((2, 3)), ([0, 0, 1], [1, 1, -1])),
                                  [[0, 2, 0], [0, 0, 1]])
    np.testing.assert_array_equal(_grad(np.zeros((2, 3)), (slice(None), [2, 2])),
                                  [[0, 0, 2], [0, 0, 2]])
    np.testing.assert_array_equal(_grad(np.zeros((2, 3)), [[1, 1], [1, 0]]),
                                  [[1, 1, 1], [3, 3, 3]])


def test_negative_indices_steps_none_and_ellipsis():
    x = np.zeros((3, 4))
    np.testing.assert_array_equal(_grad(x, -1), [[0] * 4, [0] * 4, [1] * 4])
    np.testing.assert_array_equal(_grad(x, (slice(None, None, -2), slice(1, None, 2))),
                                  [[0, 1, 0, 1], [0, 0, 0, 0], [0, 1, 0, 1]])
    np.testing.assert_array_equal(_grad(x, (None, Ellipsis, -3)), [[0, 1, 0, 0]] * 3)
    np.testing.assert_array_equal(_grad(x, (Ellipsis, None, slice(-1, -3, -1))),
                                  [[0, 0, 1, 1]] * 3)


def test_boolean_masks():
    x = np.array([[1.0, -2.0, 3.0], [-4.0, 5.0, -6.0]])
    t = Tensor(x, requires_grad=True)
    (t[t > 0] * 2).sum().backward()  # a comparison gives a boolean mask, no gradient
    np.testing.assert_array_equal(t.grad, 2 * (x > 0))
    np.testing.assert_array_equal(_grad(x, Tensor(np.array([True, False]))), [[1] * 3, [0] * 3])
    np.testing.assert_array_equal(_grad(x, (Ellipsis, [True, False, True])),
                                  [[1, 0, 1], [1, 0, 1]])
    np.testing.assert_array_equal(_grad(x, np.zeros((2, 3), dtype=bool)), np.zeros((2, 3)))


@pytest.mark.parametrize("index", [
    1, -1, (slice(None), -2), (slice(None, None, -1), slice(0, 3, 2)), (None, Ellipsis, 0),
    [2, 0, 0], (slice(1, None), [0, -1, 0]), ([[0], [1]], [1, 2]), np.array([True, False, True]),
    (Ellipsis, np.array([True, False, True, True])), (0, None, [1, 1]),
])
def test_forward_matches_numpy(index):
    check_forward(lambda t: t[index], lambda a: a[index], _rand(3, 4))
    check_forward(lambda t: getitem(t, index), lambda a: a[index], _rand(3, 4))


def test_getitem_does_not_mutate_and_gradient_does_not_alias():
    x = _rand(3, 4)
    gradcheck(lambda t: t[1:, ::-1], [x])  # gradcheck checks mutation and aliasing
    gradcheck(lambda t: t[[0, 0, 2]], [x])


# --- second order -----------------------------------------------------------------------------
@pytest.mark.parametrize("index", [
    (slice(None, None, -1), 1), [0, 0, 2], (Ellipsis, [1, 1]), np.array([True, False, True]),
    (None, slice(1, 3), -1),
])
def test_second_order(index):
    def squared(t):
        y = t[index]
        return y * y
    gradgradcheck(squared, [_rand(3, 2)])

    def scattered(g):
        y = scatter_add(g, (3, 2), index)
        return y * y
    gradgradcheck(scattered, [_rand(*np.empty((3, 2))[index].shape)])


# --- errors -----------------------------------------------------------------------------------
def test_errors_name_the_op_and_shape():
    x = Tensor(np.ones((2, 3)))
    cases = [
        (IndexError, r"getitem: index 5 is out of bounds .* \(array of shape \(2, 3\), index 5\)",
         lambda: x[5]),
        (IndexError, r"getitem: index -3 is out of bounds", lambda: x[[0, -3]]),
        (IndexError, r"getitem: too many indices .* \(array of shape \(2, 3\)",
         lambda: x[0, 0, 0]),
        (IndexError, r"getitem: boolean index did not match .* \(array of shape \(2, 3\)",
         lambda: x[np.array([True, False, True])]),
        (IndexError, r"getitem: arrays used as indices must be of integer",
         lambda: x[Tensor(np.array([0.0, 1.0]))]),
        (IndexError, r"getitem: only integers, slices", lambda: x[1.5]),
        (ValueError, (r"scatter_add: cannot add values of shape \(3,\) at index \[0, 1\] of an "
                     r"array of shape \(4,\)"), lambda: scatter_add(np.ones(3), (4,), [0, 1])),
        (IndexError, r"scatter_add: .*\(index 7 is out of bounds",
         lambda: scatter_add(np.ones(2), (4,), [7, 1])),
    ]
    for error, message, call in cases:
        with pytest.raises(error, match=message):
            call()


# --- take_along_axis, gather, one_hot -------------------------------------------------------
@st.composite
def along_axis_cases(draw):
    """(x, indices, axis): indices of x's rank that broadcast against x off the axis (size
    1 on either side), repeats and negative indices included; or axis None with 1-D indices."""
    x = draw(arrays(shapes(min_dims=1)))
    if draw(st.integers(0, 4)) == 0:
        n = x.size
        indices = draw(hnp.arrays(np.int64, st.integers(0, 5), elements=st.integers(-n, n - 1)))
        return x, indices, None
    axis = draw(st.integers(-x.ndim, x.ndim - 1))
    n = x.shape[axis]
    shape = [draw(st.sampled_from([1, s])) for s in x.shape]
    shape[axis % x.ndim] = draw(st.integers(0, 5))
    if draw(st.booleans()):  # x itself of size 1 where indices are longer
        for d in range(x.ndim):
            if d != axis % x.ndim and x.shape[d] == 1:
                shape[d] = draw(st.integers(1, 3))
    indices = draw(hnp.arrays(np.int64, tuple(shape), elements=st.integers(-n, n - 1)))
    return x, indices, axis


@gradchecks("take_along_axis")
@given(along_axis_cases())
def test_take_along_axis_gradient(case):
    x, indices, axis = case
    gradcheck(lambda t: ops.take_along_axis(t, indices, axis), [x])
    gradgradcheck(lambda t: ops.take_along_axis(t * t, indices, axis), [x])


@given(along_axis_cases())
def test_take_along_axis_forward_and_gradient_match_numpy(case):
    x, indices, axis = case
    check_forward(lambda t: ops.take_along_axis(t, indices, axis),
                  lambda a: np.take_along_axis(a, indices, axis), x)
    t = Tensor(x, requires_grad=True)
    out = np.take_along_axis(t, Tensor(indices), axis=axis)  # numpy's call dispatches
    g = np.random.default_rng(0).standard_normal(out.shape)
    out.backward(g)
    # the adjoint, one element at a time: every picked place adds its g
    flat = x.reshape(-1) if axis is None else x
    ax = 0 if axis is None else axis % x.ndim
    picked = np.broadcast_to(indices, out.shape)
    expected = np.zeros(flat.shape)
    for pos in np.ndindex(*out.shape):
        source = [p if n > 1 else 0 for p, n in zip(pos, flat.shape)]
        source[ax] = picked[pos]
        expected[tuple(source)] += g[pos]
    np.testing.assert_allclose(t.grad, expected.reshape(x.shape), rtol=1e-12, atol=1e-12)


def naive_gather(x, dim, index):
    """PyTorch's definition, one element at a time."""
    out = np.empty(index.shape, dtype=x.dtype)
    for pos in np.ndindex(*index.shape):
        source = list(pos)
        source[dim] = index[pos]
        out[pos] = x[tuple(source)]
    return out


@st.composite
def gather_cases(draw):
    x = draw(arrays(shapes(min_dims=1)))
    dim = draw(st.integers(-x.ndim, x.ndim - 1))
    shape = tuple(draw(st.integers(1, 4)) if d == dim % x.ndim else draw(st.integers(1, n))
                  for d, n in enumerate(x.shape))
    elements = st.integers(0, x.shape[dim] - 1)
    return x, dim, draw(hnp.arrays(np.int64, shape, elements=elements))


@given(gather_cases())
def test_gather_matches_pytorch_definition(case):
    x, dim, index = case
    check_forward(lambda t: ops.gather(t, dim, index),
                  lambda a: naive_gather(a, dim % a.ndim, index), x)
    gradcheck(lambda t: ops.gather(t, dim, index), [x])  # through take_along_axis
    np.testing.assert_array_equal(Tensor(x).gather(dim, Tensor(index)).data,
                                  naive_gather(x, dim % x.ndim, index))


def test_gather_repeated_indices_accumulate():
    x = Tensor(np.array([[1.0, 2.0], [3.0, 4.0]]), requires_grad=True)
    out = ops.gather(x, 1, np.array([[0, 0], [1, 0]]))
    np.testing.assert_array_equal(out.data, [[1, 1], [4, 3]])
    out.sum().backward()
    np.testing.assert_array_equal(x.grad, [[2, 0], [1, 1]])
    np.testing.assert_array_equal(ops.gather(np.float64(5.0), 0, np.array(0)).data, 5.0)


def test_one_hot():
    out = ops.one_hot(np.array([[0, 2], [1, 1]]), 3)
    assert out.dtype == np.int64 and out.shape == (2, 2, 3) and not out.requires_grad
    np.testing.assert_array_equal(out.data, np.eye(3, dtype=int)[[[0, 2], [1, 1]]])
    np.testing.assert_array_equal(ops.one_hot(Tensor(np.array([1, 3]))).data,
                                  [[0, 1, 0, 0], [0, 0, 0, 1]])
    assert ops.one_hot(np.array([0]), 2, dtype=np.float32).dtype == np.float32


def test_take_along_axis_gather_one_hot_errors():
    x = Tensor(np.ones((2, 3)))
    cases = [
        (TypeError, "take_along_axis: indices must be integers, got dtype float64",
         lambda: ops.take_along_axis(x, np.zeros((2, 1)), 1)),
        (ValueError, r"take_along_axis: indices of shape \(2,\) and array of shape \(2, 3\) "
                     "must have the same number of dimensions",
         lambda: ops.take_along_axis(x, np.zeros(2, dtype=int), 1)),
        (ValueError, r"take_along_axis: indices of shape \(3, 1\) don't broadcast against the "
                     r"array of shape \(2, 3\) along axis 0",
         lambda: ops.take_along_axis(x, np.zeros((3, 1), dtype=int), 1)),
        (IndexError, r"take_along_axis: index 3 is out of range for axis 1 of length 3 .* "
                     r"\(valid indices are -3\.\.2\)",
         lambda: ops.take_along_axis(x, np.array([[3], [0]]), 1)),
        (ValueError, r"take_along_axis: axis 2 is out of bounds",
         lambda: ops.take_along_axis(x, np.zeros((2, 1), dtype=int), 2)),
        (ValueError, r"gather: index of shape \(3, 1\) is longer than the input of shape "
                     r"\(2, 3\) along dim 0",
         lambda: ops.gather(x, 1, np.zeros((3, 1), dtype=int))),
        (ValueError, r"gather: index -1 is out of range for dim 1 .* \(valid indices are 0\.\.2\)",
         lambda: ops.gather(x, 1, np.array([[-1], [0]]))),
        (ValueError, r"gather: index of shape \(2,\) and input of shape \(2, 3\) must have",
         lambda: ops.gather(x, 1, np.array([0, 1]))),
        (ValueError, r"one_hot: index 3 is out of range for 3 classes",
         lambda: ops.one_hot(np.array([0, 3]), 3)),
        (ValueError, r"one_hot: index -1 is out of range",
         lambda: ops.one_hot(np.array([-1]))),
        (TypeError, r"one_hot: indices must be integers",
         lambda: ops.one_hot(np.array([0.0]), 2)),
    ]
    for error, message, fn in cases:
        with pytest.raises(error, match=message):
            fn()
