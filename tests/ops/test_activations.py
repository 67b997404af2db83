"""Activations: gradients (float64, hypothesis), forward vs numpy (float32 and float64),
second order, and their behaviour at extreme inputs."""

import numpy as np
import pytest

import ops
from autograd import Tensor
from autograd.testing import gradcheck
from tests.helpers import check_unary, gradchecks
from tests.ops.test_elementwise import _gelu, _sigmoid, single

# name -> (op, numpy reference, strategy, kinks to stay away from)
ACTIVATIONS = {
    "sigmoid": (ops.sigmoid, _sigmoid, single(), ()),
    "relu": (ops.relu, lambda x: np.maximum(x, 0), single(), (0.0,)),
    "leaky_relu": (ops.leaky_relu, lambda x: np.where(x > 0, x, 0.01 * x), single(), (0.0,)),
    "elu": (ops.elu, lambda x: np.where(x > 0, x, np.expm1(x)), single(), (0.0,)),
    "gelu": (ops.gelu, _gelu, single(), ()),
    "softplus": (ops.softplus, lambda x: np.log1p(np.exp(x)), single(), ()),
    "silu": (ops.silu, lambda x: x * _sigmoid(x), single(), ()),
}

gradchecks(*ACTIVATIONS)  # the two parametrized tests below cover these


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_gradients(name):
    op, reference, strategy, kinks = ACTIVATIONS[name]
    check_unary(op, reference, strategy, kinks)[0]()


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_forward_matches_numpy(name):
    op, reference, strategy, kinks = ACTIVATIONS[name]
    check_unary(op, reference, strategy, kinks)[1]()


def test_softplus_values_at_extremes():
    y = ops.softplus(Tensor(np.array([-1e4, 1e4])))
    np.testing.assert_allclose(y.data, [0.0, 1e4])


def test_gelu_tanh_approximation():
    x = np.linspace(-3, 3, 7)
    expected = 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))
    np.testing.assert_allclose(ops.gelu(Tensor(x), approximate="tanh").data, expected)
    assert gradcheck(lambda t: ops.gelu(t, approximate="tanh"), [x])
    with pytest.raises(ValueError, match="gelu: approximate must be"):
        ops.gelu(Tensor(x), approximate="erf")
