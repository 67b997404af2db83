"""Misuse that once gave a silently wrong answer or a raw crash: each now raises a clear
error or gives the right result."""

import numpy as np
import pytest

import autograd as ag
import ops
from autograd import Tensor, no_grad
from autograd.testing import gradcheck


# --- a change made through a view is seen by the graph --------------------------------
def _saved_then(change):
    """w * a saves a; change(a) then alters a through a view; backward must refuse."""
    a = Tensor(np.array([1.0, 2.0, 3.0]))
    w = Tensor(np.array([1.0, 1.0, 1.0]), requires_grad=True)
    y = (w * a).sum()
    change(a)
    with pytest.raises(RuntimeError, match="modified in place"):
        y.backward()


def _add_through_slice(a):
    v = a[:2]
    v += 10


def _set_through_reshape(a):
    a.reshape(3)[0] = 100


def _scale_through_transpose(a):
    t = a.T
    t *= 3


def _view_taken_under_no_grad(a):
    with no_grad():
        v = a[1:]
    v[0] = 5


@pytest.mark.parametrize("change", [_add_through_slice, _set_through_reshape,
                                    _scale_through_transpose, _view_taken_under_no_grad])
def test_a_change_through_a_view_is_caught(change):
    _saved_then(change)


def test_views_share_data_and_version_with_their_base():
    a = Tensor(np.arange(4.0))
    v = a.reshape(2, 2)
    v[0, 0] = 7
    assert a.data[0] == 7 and a._version is v._version and a._version[0] == 1


# --- in-place arithmetic on tensors that require grad ---------------------------------
@pytest.mark.parametrize("update", ["+=", "-=", "*=", "/="])
def test_in_place_arithmetic_on_a_computed_tensor_rebinds_out_of_place(update):
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = x * 3
    namespace = {"y": y}
    exec(f"y {update} 2", namespace)
    expected = {"+=": (x.data * 3 + 2, 3), "-=": (x.data * 3 - 2, 3),
                "*=": (x.data * 6, 6), "/=": (x.data * 1.5, 1.5)}[update]
    np.testing.assert_allclose(namespace["y"].data, expected[0])
    namespace["y"].sum().backward()
    np.testing.assert_allclose(x.grad, [expected[1]] * 2)


@pytest.mark.parametrize("update", ["+=", "-=", "*=", "/="])
def test_in_place_arithmetic_on_a_parameter_in_grad_mode_is_refused(update):
    p = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    p.grad = np.ones(2)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        exec(f"p {update} -0.1 * p.grad", {"p": p})
    with no_grad():
        exec(f"p {update} 2.0", {"p": p})  # the optimizer's way: allowed, in place
    assert p.is_leaf and p.requires_grad


# --- dtypes ----------------------------------------------------------------------------
@pytest.mark.parametrize("data", [np.array(["a"]), np.array([object()], dtype=object),
                                  np.array([1 + 2j]), np.complex64(1)])
def test_tensors_refuse_non_real_dtypes(data):
    with pytest.raises(TypeError, match="not supported"):
        Tensor(data)


@pytest.mark.parametrize("op, args", [
    (ops.exp, [np.array([1 + 1j])]),
    (ops.add, [np.array(["a"]), np.ones(1)]),
    (ops.cross_entropy, [np.array([[1 + 1j, 0j]]), np.array([0])]),
    (ops.matmul, [np.ones((2, 2)), np.array([[object()] * 2] * 2, dtype=object)]),
    (ops.matmul, ["ab", np.ones(2)]),
    (ops.relu, [["a", "b"]]),
    (ops.exp, [b"x"]),
    (ops.softmax, [np.array(["a", "b"])]),
    (ops.sum, ["abc"]),
])
def test_ops_refuse_non_real_arrays_naming_themselves(op, args):
    with pytest.raises(TypeError, match="not supported"):
        op(*args)


@pytest.mark.parametrize("scalar", [np.sqrt(64), np.float64(2.0), np.int64(3), 2.0, 3])
def test_scalars_do_not_promote_a_float32_tensor(scalar):
    q = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    for out in (q / scalar, q * scalar, q + scalar, scalar - q, q ** scalar,
                ops.maximum(q, scalar)):
        assert out.dtype == np.float32
    (q / scalar).sum().backward()
    assert q.grad.dtype == np.float32


# --- gradient hooks ----------------------------------------------------------------------
@pytest.mark.parametrize("leaf", [True, False])
@pytest.mark.parametrize("bad, message", [
    (lambda g: np.ones((5,)), r"returned shape \(5,\)"),
    (lambda g: 1.0, "returned float"),
])
def test_a_hook_returning_a_wrong_gradient_is_named(leaf, bad, message):
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    target = x if leaf else x * 2
    target.register_hook(bad)
    with pytest.raises(RuntimeError, match=message):
        (target * 3).sum().backward()


def test_a_hook_returning_a_gradient_replaces_it():
    x = Tensor(np.ones(3), requires_grad=True)
    x.register_hook(lambda g: g * 10)
    (x * 2).sum().backward()
    np.testing.assert_allclose(x.grad, [20.0] * 3)


# --- clip bounds and NaN in maximum/minimum -----------------------------------------------
def test_clip_with_broadcasting_array_bounds_and_their_gradients():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 4))
    lo = rng.normal(size=(4,)) * 0.3 - 0.5
    hi = rng.normal(size=(2, 3, 1)) * 0.3 + 0.5
    np.testing.assert_allclose(ops.clip(Tensor(x), lo, hi).data, np.clip(x, lo, hi))
    assert gradcheck(lambda x, lo, hi: ops.clip(x, lo, hi), [x, lo, hi])


def test_clip_gives_tensor_bounds_their_gradient():
    x = Tensor(np.array([-2.0, 0.0, 2.0]), requires_grad=True)
    lo = Tensor(np.array(-1.0), requires_grad=True)
    hi = Tensor(np.array(1.0), requires_grad=True)
    ops.clip(x, lo, hi).sum().backward()
    assert list(x.grad) == [0.0, 1.0, 0.0] and lo.grad == 1.0 and hi.grad == 1.0


def test_clip_with_lo_above_hi_gives_hi_and_its_gradient():
    x = Tensor(np.array([0.0, 5.0]), requires_grad=True)
    hi = Tensor(np.array(1.0), requires_grad=True)
    out = ops.clip(x, 2.0, hi)
    out.sum().backward()
    assert list(out.data) == list(np.clip([0.0, 5.0], 2.0, 1.0)) == [1.0, 1.0]
    assert list(x.grad) == [0.0, 0.0] and hi.grad == 2.0


@pytest.mark.parametrize("op", [ops.maximum, ops.minimum])
def test_maximum_and_minimum_send_the_gradient_to_a_nan(op):
    a = Tensor(np.array([np.nan, 1.0, 2.0, np.nan]), requires_grad=True)
    b = Tensor(np.array([0.0, np.nan, 2.0, np.nan]), requires_grad=True)
    op(a, b).sum().backward()
    assert list(a.grad) == [1.0, 0.0, 0.5, 0.5]
    assert list(b.grad) == [0.0, 1.0, 0.5, 0.5]


# --- the custom op contract and numpy functions on Tensors ----------------------------------
def test_a_forward_that_forgets_the_pair_is_named():
    forgetful = ag.defop("test_forgetful", lambda x: (x * 2), lambda g, ctx: (g * 2,),
                         doc="2 x.  VJP: 2 g")
    with pytest.raises(TypeError, match="test_forgetful: its forward must return a pair"):
        forgetful(Tensor(np.ones((2, 3))))  # two rows: once silently unpacked as (out, saved)


def test_numpy_functions_without_a_gradient_run_on_the_data():
    x = Tensor(np.array([[3.0, 1.0], [2.0, 5.0]]), requires_grad=True)
    assert np.argmax(x) == 3 and np.shape(x) == (2, 2) and np.ndim(x) == 2
    assert np.allclose(x, x.data) and np.count_nonzero(x) == 4


def test_an_undispatched_numpy_function_names_itself():
    x = Tensor(np.ones(3), requires_grad=True)
    with pytest.raises(TypeError, match="numpy.kron is not supported on Tensors"):
        np.kron(x, x)
