"""layer_gradcheck itself: it must check the gradients of a layer's parameters, not only of
its inputs."""

import numpy as np
import pytest

from autograd import nn
from autograd.testing.gradcheck import GradcheckError
from tests.nn.common import layer_gradcheck, layer_gradgradcheck


class _ScaleWithWrongGradient(nn.Module):
    """x * w, whose w gets gradient 0 through detach (the true gradient is x)."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(np.ones(3), dtype=np.float64)

    def forward(self, x):
        return x * self.w.detach() + self.w * 0


class _Shared(nn.Module):
    """One Parameter used by two sub-modules: x @ w @ w."""

    def __init__(self):
        super().__init__()
        self.a = nn.Linear(3, 3, bias=False, dtype=np.float64)
        self.b = nn.Linear(3, 3, bias=False, dtype=np.float64)
        self.b.weight = self.a.weight

    def forward(self, x):
        return self.b(self.a(x))


def test_a_wrong_parameter_gradient_is_caught():
    with pytest.raises(GradcheckError, match="input 1"):
        layer_gradcheck(_ScaleWithWrongGradient(), np.random.default_rng(0).random((2, 3)))


def test_shared_parameters_and_the_layer_is_left_as_it_was():
    layer = _Shared()
    before = layer.a.weight
    values = before.data.copy()
    assert layer_gradcheck(layer, np.random.default_rng(1).random((2, 3)))
    assert layer.a.weight is before and layer.b.weight is before
    np.testing.assert_array_equal(before.data, values)
    assert before.grad is None


class _Square(nn.Module):
    """x * w * w, whose w gradient 2 x w through detach loses its own w dependence."""

    def __init__(self, wrong):
        super().__init__()
        self.w = nn.Parameter(np.full(3, 1.5), dtype=np.float64)
        self.wrong = wrong

    def forward(self, x):
        w2 = self.w * self.w.detach() * 2 - self.w.detach() ** 2 if self.wrong else self.w * self.w
        return x * w2


def test_second_derivatives_of_parameters_are_checked():
    x = np.random.default_rng(2).random((2, 3))
    assert layer_gradgradcheck(_Square(wrong=False), x)
    with pytest.raises(GradcheckError):
        layer_gradgradcheck(_Square(wrong=True), x)
