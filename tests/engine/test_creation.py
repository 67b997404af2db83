"""ag.zeros/ones/full/arange/rand/randn and their *_like forms (PyTorch's dtype rules),
ag.manual_seed (reproducible rand/randn, ops.dropout and autograd.nn.init draws), and
numpy's own *_like on a Tensor giving plain arrays."""

import numpy as np
import pytest

import autograd as ag
import ops
from autograd import Tensor, nn


@pytest.fixture(autouse=True)
def _fresh_default_dtype():
    yield
    ag.set_default_dtype(np.float32)


@pytest.mark.parametrize("make, value", [(ag.zeros, 0), (ag.ones, 1)])
def test_zeros_ones(make, value):
    for out in (make(2, 3), make((2, 3)), make([2, 3])):
        assert isinstance(out, Tensor) and out.shape == (2, 3) and out.dtype == np.float32
        assert (out.data == value).all() and not out.requires_grad
    assert make(()).shape == () and make(0).shape == (0,)
    assert make(2, dtype=np.float64).dtype == np.float64
    assert make(2, dtype=np.int32).dtype == np.int32
    out = make(3, requires_grad=True)
    assert out.requires_grad and out.is_leaf
    ag.set_default_dtype(np.float64)
    assert make(2).dtype == np.float64


def test_full_follows_the_fill_value_like_pytorch():
    assert ag.full((2,), 1.5).dtype == np.float32
    assert ag.full((2,), 3).dtype == np.int64 and ag.full((2,), 3).data.tolist() == [3, 3]
    assert ag.full((2,), True).dtype == bool
    assert ag.full(3, np.float64(2.0)).dtype == np.float64
    assert ag.full((2, 2), 7, dtype=np.float32).data.tolist() == [[7, 7], [7, 7]]
    assert ag.full((1,), Tensor(np.float64(2.5))).data.tolist() == [2.5]


def test_arange_follows_pytorch():
    assert ag.arange(4).data.tolist() == [0, 1, 2, 3] and ag.arange(4).dtype == np.int64
    assert ag.arange(1, 7, 2).data.tolist() == [1, 3, 5]
    out = ag.arange(0, 1, 0.25)
    assert out.dtype == np.float32 and out.data.tolist() == [0, 0.25, 0.5, 0.75]
    assert ag.arange(3, dtype=np.float64, requires_grad=True).requires_grad
    with pytest.raises(ValueError, match="arange: step must be nonzero"):
        ag.arange(0, 3, 0)
    with pytest.raises(TypeError, match="arange: start, end and step must be numbers"):
        ag.arange("3")


def test_like_forms_keep_shape_and_dtype():
    x = Tensor(np.ones((2, 3), dtype=np.float64), requires_grad=True)
    for out in (ag.zeros_like(x), ag.ones_like(x), ag.full_like(x, 4.0), ag.rand_like(x),
                ag.randn_like(x)):
        assert out.shape == (2, 3) and out.dtype == np.float64 and not out.requires_grad
    assert ag.zeros_like(x, dtype=np.float32).dtype == np.float32
    assert ag.ones_like(np.arange(3)).dtype == np.int64
    assert ag.full_like(x, 4.0).data.max() == 4
    assert ag.zeros_like(x, requires_grad=True).requires_grad


def test_rand_randn_draw_in_the_dtype():
    r = ag.rand(1000)
    assert r.dtype == np.float32 and 0 <= r.data.min() and r.data.max() < 1
    n = ag.randn(2, 500, dtype=np.float64)
    assert n.dtype == np.float64 and n.shape == (2, 500) and abs(n.data.mean()) < 0.2
    assert ag.randn(3, dtype=np.float16).dtype == np.float16
    own = ag.randn(3, rng=np.random.default_rng(5)).data
    np.testing.assert_array_equal(own, np.random.default_rng(5).standard_normal(
        3, dtype=np.float32))


def test_manual_seed_makes_every_default_draw_reproducible():
    def draws():
        ag.manual_seed(123)
        layer = nn.Linear(4, 3)
        return (ag.randn(5).data, ag.rand(2, 2).data,
                ops.dropout(Tensor(np.ones(50)), 0.5).data, layer.weight.data.copy(),
                nn.Dropout(0.5)(Tensor(np.ones(50))).data)

    first, second = draws(), draws()
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    ag.manual_seed(124)
    assert not np.array_equal(ag.randn(5).data, first[0])


def test_manual_seed_leaves_numpys_global_state_alone():
    np.random.seed(7)
    expected = np.random.rand(3)
    np.random.seed(7)
    ag.manual_seed(0)
    np.testing.assert_array_equal(np.random.rand(3), expected)


def test_numpy_like_functions_give_plain_arrays():
    x = Tensor(np.ones((2, 3), dtype=np.float32), requires_grad=True)
    for out in (np.zeros_like(x), np.ones_like(x), np.full_like(x, 7), np.empty_like(x)):
        assert type(out) is np.ndarray and out.shape == (2, 3) and out.dtype == np.float32
    assert np.full_like(x, 7)[0, 0] == 7 and np.zeros_like(x, dtype=int).dtype.kind == "i"


def test_creation_errors():
    cases = [
        (TypeError, "zeros: size must be ints or one sequence of ints", lambda: ag.zeros(2.5)),
        (ValueError, r"ones: negative dimension in size \(2, -1\)", lambda: ag.ones(2, -1)),
        (TypeError, "randn: random values need a floating dtype, got int64",
         lambda: ag.randn(2, dtype=np.int64)),
        (TypeError, "rand: rng must be a numpy.random.Generator",
         lambda: ag.rand(2, rng=np.random.RandomState(0))),
        (TypeError, "zeros: only floating point tensors can require grad, got dtype int64",
         lambda: ag.zeros(2, dtype=np.int64, requires_grad=True)),
        (TypeError, "manual_seed: seed must be an int", lambda: ag.manual_seed("a")),
    ]
    for error, message, fn in cases:
        with pytest.raises(error, match=message):
            fn()
