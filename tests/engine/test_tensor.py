"""Tensor construction, dtypes, attributes, in-place safety and errors."""

import numpy as np
import pytest

import autograd as ag
import ops
from autograd import Tensor, no_grad


def test_ndarray_keeps_its_dtype_lists_become_float32():
    assert Tensor(np.zeros(3)).dtype == np.float64
    assert Tensor(np.zeros(3, dtype=np.float32)).dtype == np.float32
    assert ag.tensor([1.0, 2.0]).dtype == np.float32
    assert ag.tensor(1.5).dtype == np.float32
    assert ag.tensor([1, 2]).dtype.kind == "i"
    assert Tensor([1.0], dtype=np.float64).dtype == np.float64


def test_set_default_dtype():
    try:
        ag.set_default_dtype(np.float64)
        assert ag.tensor([1.0]).dtype == np.float64
    finally:
        ag.set_default_dtype(np.float32)
    with pytest.raises(TypeError, match="set_default_dtype: expected a floating dtype"):
        ag.set_default_dtype(np.int32)


def test_attributes():
    x = Tensor(np.zeros((2, 3)), requires_grad=True)
    assert x.shape == (2, 3) and x.ndim == 2 and x.size == 6 and x.is_leaf
    assert x.T.shape == (3, 2) and not (x * 1).is_leaf
    assert x.numpy() is x.data and Tensor(np.array(2.5)).item() == 2.5
    assert "requires_grad=True" in repr(x)


def test_integer_and_bool_tensors_cannot_require_grad():
    with pytest.raises(TypeError, match="only floating point tensors can require grad.*int64"):
        Tensor(np.arange(3), requires_grad=True)
    with pytest.raises(TypeError, match="bool"):
        Tensor(np.ones(3, dtype=bool), requires_grad=True)


def test_non_array_data_is_refused():
    with pytest.raises(TypeError, match="Tensor: data must be"):
        Tensor("abc")
    with pytest.raises(TypeError, match="Tensor: data must be"):
        Tensor({"a": 1})
    with pytest.raises(TypeError, match="Tensor: cannot make a tensor"):
        Tensor(["a", "b"])


def test_comparisons_return_bool_arrays():
    x = Tensor(np.array([1.0, -1.0]), requires_grad=True)
    assert isinstance(x > 0, np.ndarray) and (x > 0).tolist() == [True, False]
    assert (x == Tensor(np.array([1.0, 0.0]))).tolist() == [True, False]


def test_integer_ops_record_nothing():
    i = Tensor(np.arange(3))
    assert not (i + 1).requires_grad


def test_inplace_on_leaf_that_requires_grad_is_refused_in_grad_mode():
    x = Tensor(np.ones(3), requires_grad=True)
    with pytest.raises(RuntimeError, match="setitem: in-place change.*requires grad"):
        x[0] = 5.0
    with no_grad():
        x[0] = 5.0  # optimizers update weights like this
        x -= 1.0
    assert x.data.tolist() == [4.0, 0.0, 0.0] and x.is_leaf


def test_augmented_assignment_with_grad_stays_out_of_place():
    x = Tensor(np.ones(3), requires_grad=True)
    y = x * 2
    before = y
    y += 1  # rebinds y to a new node; the saved output of mul is untouched
    assert y is not before
    y.sum().backward()
    np.testing.assert_allclose(x.grad, 2 * np.ones(3))


def test_inplace_change_of_a_saved_input_is_detected_at_backward():
    w = Tensor(np.ones(3), requires_grad=True)
    c = Tensor(np.arange(3.0))  # does not require grad: in-place allowed, but it was saved
    y = (w * c).sum()
    c += 1.0
    with pytest.raises(RuntimeError, match="mul: input 1 of shape \\(3,\\) was modified in place"):
        y.backward()


def test_inplace_change_of_a_saved_output_is_detected():
    x = Tensor(np.ones(3), requires_grad=True)
    y = ops.exp(x)
    with no_grad():
        y += 1.0
    with pytest.raises(RuntimeError, match="exp: its output of shape \\(3,\\) was modified"):
        y.backward(np.ones(3))


def test_inplace_change_through_a_view_is_detected():
    x = Tensor(np.ones(4), requires_grad=True)
    base = x * 1.0
    view = base.reshape(2, 2)
    loss = (ops.exp(view)).sum()
    with no_grad():
        base += 1.0  # shares memory (and version counter) with view
    with pytest.raises(RuntimeError, match="modified in place"):
        loss.backward()


def test_setitem_with_tensor_index_and_value():
    x = Tensor(np.zeros(4))
    x[Tensor(np.array([1, 3]))] = Tensor(np.array([5.0, 6.0]))
    assert x.data.tolist() == [0.0, 5.0, 0.0, 6.0]
    v = Tensor(np.ones(1), requires_grad=True)
    with pytest.raises(RuntimeError, match="setitem"):
        x[0] = v
