"""Bad arguments give errors naming the optimizer and the value."""

import numpy as np
import pytest

import optim
from autograd import Tensor


def params():
    return [Tensor(np.zeros(2), requires_grad=True)]


@pytest.mark.parametrize("build, match", [
    (lambda p: optim.SGD(p, lr=-0.1), r"SGD: lr must be >= 0, got -0.1"),
    (lambda p: optim.SGD(p, lr=0.1, momentum=-1), r"SGD: momentum must be >= 0, got -1"),
    (lambda p: optim.SGD(p, lr=0.1, weight_decay=-1), r"SGD: weight_decay must be >= 0"),
    (lambda p: optim.SGD(p, lr=0.1, nesterov=True), r"SGD: nesterov=True needs momentum > 0"),
    (lambda p: optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.1, nesterov=True),
     r"SGD: nesterov=True needs .*dampening=0.1"),
    (lambda p: optim.Momentum(p, lr=0.1, momentum=1.0), r"Momentum: momentum must be in \[0, 1\)"),
    (lambda p: optim.Momentum(p, lr=-1), r"Momentum: lr must be >= 0, got -1"),
    (lambda p: optim.Adam(p, lr=-1e-3), r"Adam: lr must be >= 0, got -0.001"),
    (lambda p: optim.Adam(p, betas=(1.0, 0.999)), r"Adam: betas\[0\] must be in \[0, 1\), got 1"),
    (lambda p: optim.Adam(p, betas=(0.9, -0.1)), r"Adam: betas\[1\] must be in \[0, 1\)"),
    (lambda p: optim.Adam(p, eps=-1e-8), r"Adam: eps must be >= 0"),
    (lambda p: optim.Adam(p, weight_decay=-1), r"Adam: weight_decay must be >= 0"),
    (lambda p: optim.AdamW(p, betas=(0.9, 1.5)), r"AdamW: betas\[1\] must be in \[0, 1\), got 1.5"),
    (lambda p: optim.RMSprop(p, lr=-1), r"RMSprop: lr must be >= 0"),
    (lambda p: optim.RMSprop(p, alpha=1.5), r"RMSprop: alpha must be in \[0, 1\], got 1.5"),
    (lambda p: optim.RMSprop(p, momentum=-0.5), r"RMSprop: momentum must be >= 0"),
    (lambda p: optim.RMSprop(p, eps=-1), r"RMSprop: eps must be >= 0"),
    (lambda p: optim.Adagrad(p, lr=-1), r"Adagrad: lr must be >= 0"),
    (lambda p: optim.Adagrad(p, lr_decay=-1), r"Adagrad: lr_decay must be >= 0"),
    (lambda p: optim.Adagrad(p, initial_accumulator_value=-1),
     r"Adagrad: initial_accumulator_value must be >= 0"),
    (lambda p: optim.SGD([{"params": p, "lr": -2}], lr=0.1), r"SGD: lr must be >= 0, got -2"),
])
def test_bad_options(build, match):
    with pytest.raises(ValueError, match=match):
        build(params())


def test_bad_option_types():
    with pytest.raises(TypeError, match="Adam: betas must be a pair of numbers"):
        optim.Adam(params(), betas=0.9)
    with pytest.raises(TypeError, match="SGD: lr must be a number, got str"):
        optim.SGD(params(), lr="0.1")


def test_empty_parameter_list():
    with pytest.raises(ValueError, match="Adam: got an empty parameter list"):
        optim.Adam([])
    with pytest.raises(ValueError, match="SGD: got an empty parameter list"):
        optim.SGD(iter([]), lr=0.1)


def test_non_leaf_params():
    x = params()[0]
    with pytest.raises(ValueError, match="Adam: parameter 0 .* is not a leaf"):
        optim.Adam([x * 2])


def test_duplicate_params():
    p = params()
    with pytest.raises(ValueError, match="SGD: parameter 0 .* appears more than once"):
        optim.SGD([{"params": p}, {"params": p}], lr=0.1)


@pytest.mark.parametrize("bad, match", [
    (lambda: params()[0], "Adam: params must be an iterable .* got a single Tensor"),
    (lambda: 3.0, "Adam: params must be an iterable of Tensors or of dicts, got float"),
    (lambda: [np.zeros(2)], "Adam: parameter 0 is a ndarray, not a Tensor"),
    (lambda: [("w", params()[0])], "Adam: parameter 0 is a tuple.*named_parameters"),
    (lambda: [params()[0], {"params": params()}], "Adam: params mixes Tensors and"),
    (lambda: [{"lr": 0.1}], "Adam: a parameter group must be a dict with a 'params' entry"),
])
def test_bad_params(bad, match):
    with pytest.raises(TypeError, match=match):
        optim.Adam(bad())
