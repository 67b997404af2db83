"""Hypothesis strategies for gradient tests of ops (the library's and users' own).

>>> from hypothesis import given
>>> from autograd.testing import strategies as st_ag
>>> @given(st_ag.arrays(st_ag.shapes()))
... def test_tanh(x): gradcheck(ops.tanh, [x])
"""

import numpy as np
from hypothesis import assume, strategies as st
from hypothesis.extra import numpy as hnp

__all__ = [
    "shapes", "arrays", "broadcastable_shapes", "axes", "away_from", "distinct_values",
    "assume_away_from", "float_dtypes",
]

float_dtypes = st.sampled_from([np.float32, np.float64])


def shapes(min_dims=0, max_dims=3, min_side=1, max_side=4):
    """Array shapes, 0-d included by default."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=max_side)


def arrays(shape, dtype=np.float64, low=-3.0, high=3.0):
    """Float arrays of ``shape`` (a shape or a strategy) with finite values in [low, high]."""
    elements = st.floats(low, high, allow_nan=False, allow_infinity=False, width=64)
    return hnp.arrays(dtype, shape, elements=elements)


def broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=4):
    """Tuples of shapes that broadcast together, numpy style."""
    return hnp.mutually_broadcastable_shapes(
        num_shapes=num_shapes, min_dims=min_dims, max_dims=max_dims, max_side=max_side
    ).map(lambda s: s.input_shapes)


@st.composite
def axes(draw, ndim, allow_none=True, allow_tuple=True):
    """A valid ``axis`` argument for an array of ``ndim`` dims: None, an int (maybe
    negative) or a tuple of distinct ints."""
    choices = ["none"] if allow_none else []
    if ndim > 0:
        choices.append("int")
        if allow_tuple:
            choices.append("tuple")
    if not choices:
        return None
    kind = draw(st.sampled_from(choices))
    if kind == "none":
        return None
    if kind == "int":
        return draw(st.integers(-ndim, ndim - 1))
    picked = draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True))
    return tuple(picked)


def away_from(x, points=(0.0,), margin=1e-3):
    """True when every element of x is at least ``margin`` from every kink in ``points``."""
    x = np.asarray(x)
    return all(bool(np.all(np.abs(x - p) > margin)) for p in points)


def assume_away_from(x, points=(0.0,), margin=1e-3):
    """``hypothesis.assume`` that x stays clear of the kinks (relu at 0, clip bounds...)."""
    assume(away_from(x, points, margin))


def distinct_values(x, axis=None, margin=1e-3):
    """True when no two values compete for a max/min (no near-ties) along ``axis``."""
    x = np.asarray(x, dtype=np.float64)
    if x.size < 2:
        return True
    moved = np.sort(x.reshape(-1) if axis is None else np.moveaxis(x, axis, -1), axis=-1)
    return bool(np.all(np.diff(moved, axis=-1) > margin))
