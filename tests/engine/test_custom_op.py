"""Users register their own ops with the same mechanism as the library and check them."""

import numpy as np
import pytest
from hypothesis import given

import autograd as ag
from autograd import Tensor
from autograd.testing import GradcheckError, gradcheck, gradgradcheck
from autograd.testing import strategies as st_ag


def cube_forward(x):
    return x**3, None


def cube_vjp(g, ctx):
    (x,) = ctx.inputs
    return (3 * g * x * x,)


cube = ag.defop("test_cube", cube_forward, cube_vjp, doc="x**3.  VJP: 3 g x**2")


def wrong_vjp(g, ctx):
    (x,) = ctx.inputs
    return (2 * g * x * x,)


wrong_cube = ag.defop("test_wrong_cube", cube_forward, wrong_vjp)


@given(st_ag.arrays(st_ag.shapes()))
def test_user_op_passes_gradcheck(x):
    assert gradcheck(cube, [x])
    assert gradgradcheck(cube, [x])


def test_gradcheck_names_the_disagreeing_input_and_element():
    with pytest.raises(GradcheckError, match=r"input 0 \(shape \(2, 2\)\) element \(0, 0\)"):
        gradcheck(wrong_cube, [np.ones((2, 2))])


def test_duplicate_name_is_refused():
    with pytest.raises(ValueError, match="already registered"):
        ag.defop("test_cube", cube_forward, cube_vjp)


def test_vjp_returning_wrong_shape_is_reported():
    bad = ag.defop("test_bad_shape", lambda x: (x * 2, None), lambda g, ctx: (np.ones(7),))
    x = Tensor(np.ones(3), requires_grad=True)
    with pytest.raises(RuntimeError, match="test_bad_shape: its VJP returned a gradient of shape"):
        bad(x).sum().backward()


def test_gradcheck_refuses_float32():
    with pytest.raises(TypeError, match="float64"):
        gradcheck(cube, [Tensor(np.ones(2, dtype=np.float32), requires_grad=True)])
