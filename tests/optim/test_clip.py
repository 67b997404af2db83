"""clip_grad_norm_ and clip_grad_value_: in place, joint norm, None grads skipped."""

import math

import numpy as np
import pytest

import optim
from autograd import Tensor


def param(grad, dtype=np.float64):
    p = Tensor(np.zeros(np.shape(grad), dtype), requires_grad=True)
    p.grad = None if grad is None else np.array(grad, dtype=dtype)
    return p


def test_norm_is_joint_over_all_params_and_clipped_in_place():
    a, b, c = param([3.0, 0.0]), param([[4.0]]), param(None)
    ga = a.grad
    total = optim.clip_grad_norm_([a, b, c], max_norm=1.0)
    assert total == 5.0  # sqrt(9 + 16)
    coef = 1.0 / (5.0 + 1e-6)
    assert a.grad is ga
    np.testing.assert_allclose(a.grad, [3 * coef, 0.0], rtol=1e-15)
    np.testing.assert_allclose(b.grad, [[4 * coef]], rtol=1e-15)
    assert c.grad is None


def test_small_norm_is_left_alone():
    a = param([1.0, 2.0])
    b = param([2.0])
    assert optim.clip_grad_norm_(iter([a, b]), max_norm=10.0) == 3.0
    np.testing.assert_array_equal(a.grad, [1.0, 2.0])


def test_other_norms():
    grads = ([3.0, -4.0], [1.0])
    assert optim.clip_grad_norm_([param(g) for g in grads], 100.0, norm_type=math.inf) == 4.0
    assert optim.clip_grad_norm_([param(g) for g in grads], 100.0, norm_type=1) == 8.0
    got = optim.clip_grad_norm_([param(g) for g in grads], 100.0, norm_type=3)
    assert got == pytest.approx((27 + 64 + 1) ** (1 / 3), rel=1e-12)


def test_single_tensor_float32_and_no_grads():
    p = param([30.0, 40.0], dtype=np.float32)
    assert optim.clip_grad_norm_(p, max_norm=5.0) == pytest.approx(50.0)
    assert p.grad.dtype == np.float32
    np.testing.assert_allclose(p.grad, [3.0, 4.0], rtol=1e-6)
    assert optim.clip_grad_norm_([param(None)], 1.0) == 0.0


def test_nonfinite_norm():
    with pytest.raises(RuntimeError, match="clip_grad_norm_: .* is inf"):
        optim.clip_grad_norm_([param([np.inf, 1.0])], 1.0, error_if_nonfinite=True)
    p = param([np.nan, 1.0])
    assert math.isnan(optim.clip_grad_norm_([p], 1.0))
    assert np.isnan(p.grad).all()


def test_clip_value_in_place():
    a, b = param([-3.0, 0.5, 2.0]), param(None)
    ga = a.grad
    optim.clip_grad_value_([a, b], 1.0)
    assert a.grad is ga
    np.testing.assert_array_equal(a.grad, [-1.0, 0.5, 1.0])
    p = param([[-2.0, 0.1]], dtype=np.float32)
    optim.clip_grad_value_(p, 0.5)
    assert p.grad.dtype == np.float32
    np.testing.assert_allclose(p.grad, [[-0.5, 0.1]])


@pytest.mark.parametrize("call, match", [
    (lambda p: optim.clip_grad_norm_(p, -1.0), "clip_grad_norm_: max_norm must be .*-1.0"),
    (lambda p: optim.clip_grad_norm_(p, 1.0, norm_type=0), "norm_type must be > 0 or inf"),
    (lambda p: optim.clip_grad_value_(p, -0.5), "clip_grad_value_: value must be .*-0.5"),
])
def test_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call([param([1.0])])


def test_not_tensors():
    with pytest.raises(TypeError, match="clip_grad_norm_: parameter 0 is a ndarray"):
        optim.clip_grad_norm_([np.ones(2)], 1.0)
