"""Initialisation: fans, gains, bounds and spreads of Kaiming and Xavier, reproducibility."""

import math

import numpy as np
import pytest

from autograd import nn
from autograd.nn import init


def test_fans_follow_layer_layouts():
    assert init.fans((784, 128)) == (784, 128)  # Linear (in, out)
    assert init.fans((32, 16, 3, 3)) == (16 * 9, 32 * 9)  # Conv2d (out, in, kh, kw)
    with pytest.raises(ValueError, match=r"init: fan in and fan out need a weight of >= 2 dims"):
        init.fans((5,))


def test_gains():
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    assert init.calculate_gain("linear") == 1
    with pytest.raises(ValueError, match="calculate_gain: unsupported nonlinearity 'swish'"):
        init.calculate_gain("swish")


def _param(shape):
    return nn.Parameter(np.zeros(shape), dtype=np.float64)


@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
def test_kaiming(mode):
    shape = (400, 300)
    fan = 400 if mode == "fan_in" else 300
    std = math.sqrt(2) / math.sqrt(fan)
    w = init.kaiming_uniform_(_param(shape), mode=mode, nonlinearity="relu")
    assert np.abs(w.data).max() <= math.sqrt(3) * std
    assert w.data.std() == pytest.approx(std, rel=0.02)
    w = init.kaiming_normal_(_param(shape), mode=mode, nonlinearity="relu")
    assert w.data.std() == pytest.approx(std, rel=0.02) and abs(w.data.mean()) < 0.01 * std * 10
    with pytest.raises(ValueError, match="init: mode must be 'fan_in' or 'fan_out'"):
        init.kaiming_uniform_(_param(shape), mode="fan")


def test_xavier():
    shape = (64, 32, 3, 3)  # a conv weight: fan_in 288, fan_out 576
    std = math.sqrt(2 / (288 + 576))
    w = init.xavier_uniform_(_param(shape), gain=2.0)
    assert np.abs(w.data).max() <= 2.0 * math.sqrt(3) * std
    assert w.data.std() == pytest.approx(2.0 * std, rel=0.02)
    w = init.xavier_normal_(_param(shape))
    assert w.data.std() == pytest.approx(std, rel=0.02)


def test_constant_fills_and_version():
    w = _param((2, 3))
    version = w._version[0]
    assert init.ones_(w) is w and np.all(w.data == 1) and w._version[0] > version
    assert np.all(init.zeros_(w).data == 0) and np.all(init.constant_(w, 3.5).data == 3.5)
    assert np.all(init.constant_(np.zeros(3), 2.0) == 2)  # ndarrays work too


def test_seed_and_rng_make_runs_reproducible():
    init.seed(123)
    a = nn.Sequential(nn.Linear(5, 4), nn.Conv2d(1, 2, 3)).state_dict()
    init.seed(123)
    b = nn.Sequential(nn.Linear(5, 4), nn.Conv2d(1, 2, 3)).state_dict()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])
    w1 = init.normal_(_param(4), rng=np.random.default_rng(7))
    w2 = init.normal_(_param(4), rng=np.random.default_rng(7))
    np.testing.assert_array_equal(w1.data, w2.data)
    with pytest.raises(TypeError, match="init: rng must be a numpy.random.Generator"):
        init.uniform_(_param(3), rng=7)


@pytest.mark.parametrize("fill", [init.kaiming_uniform_, init.kaiming_normal_,
                                  init.xavier_uniform_, init.xavier_normal_])
def test_zero_element_weights_are_left_alone_as_in_pytorch(fill):
    """A (0, 4) weight has no fan in: a no-op with PyTorch's warning, not ZeroDivisionError."""
    w = _param((0, 4))
    with pytest.warns(UserWarning, match="init: initializing a zero-element tensor is a no-op"):
        assert fill(w) is w
