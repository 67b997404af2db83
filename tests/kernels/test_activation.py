"""ReLU kernels against a direct loop (NaN, infinities and signed zeros included), threaded
against serial, and the relu op's fast path against its numpy path."""

import numpy as np
import pytest
from hypothesis import given, strategies as st

import ops
from autograd import Tensor
from ops.kernels import activation as K

SPECIAL = [0.0, -0.0, 1.5, -2.0, np.nan, np.inf, -np.inf]


def _naive_relu(x):
    """max(x, 0) element by element, NaN kept, as np.maximum(x, 0)."""
    return np.array([v if v > 0 or v != v else 0.0 for v in x.tolist()], dtype=x.dtype)


def _naive_relu_grad(g, x):
    """g * [x > 0] element by element (a NaN or infinite g times 0 is NaN)."""
    with np.errstate(invalid="ignore"):
        return np.array([gi * (1.0 if xi > 0 else 0.0) for gi, xi in zip(g.tolist(), x.tolist())],
                        dtype=g.dtype)


@given(st.lists(st.sampled_from(SPECIAL) | st.floats(-5, 5), max_size=70),
       st.lists(st.sampled_from(SPECIAL) | st.floats(-5, 5), max_size=70),
       st.sampled_from([np.float32, np.float64]))
def test_relu_kernels_match_naive(xs, gs, dtype):
    n = min(len(xs), len(gs))
    x, g = np.array(xs[:n], dtype=dtype), np.array(gs[:n], dtype=dtype)
    for parallel in (False, True):
        out = K.relu(x, np.full_like(x, 7.0), parallel=parallel)
        np.testing.assert_array_equal(out, _naive_relu(x))
        assert not np.signbit(out[out == 0]).any()  # -0.0 -> +0.0, as np.maximum
        gx = K.relu_grad(g, x, np.full_like(g, 7.0), parallel=parallel)
        np.testing.assert_array_equal(gx, _naive_relu_grad(g, x))


def test_threaded_covers_every_element():
    rng = np.random.default_rng(0)
    x, g = rng.standard_normal(100_003), rng.standard_normal(100_003)
    np.testing.assert_array_equal(K.relu(x, np.empty_like(x), parallel=True), np.maximum(x, 0))
    np.testing.assert_array_equal(K.relu_grad(g, x, np.empty_like(g), parallel=True),
                                  g * (x > 0))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_op_fast_path_matches_numpy_path(dtype):
    # C-contiguous floats take the kernels; a transposed view, an int array and a float16
    # one take numpy; both give numpy's values and dtype
    rng = np.random.default_rng(1)
    data = rng.standard_normal((3, 4, 5)).astype(dtype)
    for x in (data, data.transpose(2, 0, 1), (data * 3).astype(np.int64),
              data.astype(np.float16)):
        t = Tensor(x, requires_grad=x.dtype.kind == "f")
        out = ops.relu(t)
        np.testing.assert_array_equal(out.data, np.maximum(x, 0))
        assert out.dtype == np.maximum(x, 0).dtype
        if t.requires_grad:
            g = rng.standard_normal(x.shape).astype(x.dtype)
            out.backward(g)
            np.testing.assert_array_equal(t.grad, g * (x > 0))


def test_takes():
    a = np.zeros((2, 3), np.float32)
    assert K.takes(a) and K.takes(a, np.ones((2, 3), np.float32))
    assert not K.takes(a, np.ones((2, 3)))  # dtypes differ
    assert not K.takes(a, np.ones((3, 2), np.float32))  # shapes differ
    assert not K.takes(a.T)  # not C-contiguous
    assert not K.takes(np.zeros(3, np.int32))
    assert not K.takes(Tensor(a))
