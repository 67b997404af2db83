"""Shape ops: gradients (hypothesis, float64), forward against numpy, second order, errors."""

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from autograd import Tensor
from autograd.testing import gradcheck, gradgradcheck
from autograd.testing.strategies import arrays, shapes
from ops import shape as S
from tests.helpers import check_forward, gradchecks


def _square(fn):
    """fn followed by a square, so the second-order test also runs through fn's VJP graph."""
    def squared(*xs):
        y = fn(*xs)
        return y * y
    return squared


def _rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


@st.composite
def array_and_axis(draw, min_dims=1, extra=0):
    """x with an axis drawn from [-(ndim + extra), ndim + extra)."""
    x = draw(arrays(shapes(min_dims=min_dims)))
    return x, draw(st.integers(-(x.ndim + extra), x.ndim + extra - 1))


# --- reshape, transpose, swapaxes, broadcast_to ------------------------------------------
@gradchecks("reshape")
@given(data=st.data())
def test_reshape_gradient(data):
    x = data.draw(arrays(shapes()))
    new = data.draw(st.sampled_from([(x.size,), (-1,), x.shape[::-1], (1,) + x.shape,
                                     (x.size, 1), (-1, 1, 1)]))
    gradcheck(lambda t: S.reshape(t, new), [x])
    gradcheck(lambda t: t.reshape(*new) if new else t.reshape(()), [x])


@gradchecks("transpose")
@given(data=st.data())
def test_transpose_and_swapaxes_gradient(data):
    x = data.draw(arrays(shapes()))
    perm = data.draw(st.permutations(range(x.ndim)))
    # Some axes negative: the VJP must invert the permutation all the same.
    signs = data.draw(st.lists(st.booleans(), min_size=x.ndim, max_size=x.ndim))
    perm = [p - x.ndim if s else p for p, s in zip(perm, signs)]
    gradcheck(lambda t: S.transpose(t, perm), [x])
    gradcheck(lambda t: S.transpose(t), [x])
    if x.ndim:
        a, b = (data.draw(st.integers(-x.ndim, x.ndim - 1)) for _ in range(2))
        gradcheck(lambda t: S.swapaxes(t, a, b), [x])


@gradchecks("broadcast_to")
@given(data=st.data())
def test_broadcast_to_gradient(data):
    x = data.draw(arrays(shapes(max_side=2)))
    lead = data.draw(shapes(max_dims=2, max_side=3))
    target = lead + tuple(data.draw(st.integers(1, 3)) if n == 1 else n for n in x.shape)
    gradcheck(lambda t: S.broadcast_to(t, target), [x])


# --- squeeze, expand_dims, flatten -----------------------------------------------------------
@gradchecks("reshape")
@given(data=st.data())
def test_squeeze_expand_dims_flatten_gradient(data):
    x = data.draw(arrays(shapes(max_side=2)))
    ones = [i for i, n in enumerate(x.shape) if n == 1]
    axis = data.draw(st.one_of(st.none(), st.lists(st.sampled_from(ones), unique=True).map(tuple))
                     if ones else st.none())
    gradcheck(lambda t: S.squeeze(t, axis), [x])
    new = data.draw(st.integers(-(x.ndim + 1), x.ndim))
    gradcheck(lambda t: S.expand_dims(t, new), [x])
    gradcheck(lambda t: S.expand_dims(t, (0, new % (x.ndim + 2) if new != 0 else -1)), [x])
    gradcheck(S.flatten, [x])


# --- concatenate, stack, split -------------------------------------------------------------
@gradchecks("concatenate")
@given(data=st.data())
def test_concatenate_gradient(data):
    base = data.draw(shapes(min_dims=1))
    axis = data.draw(st.integers(-len(base), len(base) - 1))
    sizes = data.draw(st.lists(st.integers(0, 3), min_size=1, max_size=3))
    xs = []
    for n in sizes:  # inputs differ only along axis (an empty part included)
        shape = list(base)
        shape[axis] = n
        xs.append(data.draw(arrays(tuple(shape))))
    gradcheck(lambda *ts: S.concatenate(ts, axis=axis), xs)
    gradcheck(lambda *ts: S.concatenate(ts, axis=None), xs)


@gradchecks("stack")
@given(data=st.data())
def test_stack_gradient(data):
    shape = data.draw(shapes())
    xs = data.draw(st.lists(arrays(shape), min_size=1, max_size=3))
    axis = data.draw(st.integers(-(len(shape) + 1), len(shape)))
    gradcheck(lambda *ts: S.stack(ts, axis=axis), xs)


@gradchecks("getitem")
@given(array_and_axis(), st.data())
def test_split_gradient(case, data):
    x, axis = case
    n = x.shape[axis]
    parts = data.draw(st.one_of(
        st.sampled_from([k for k in range(1, n + 1) if n % k == 0]),
        st.lists(st.integers(-n - 1, n + 1), max_size=3),  # unsorted and out of range too
    ))
    gradcheck(lambda t: tuple(S.split(t, parts, axis=axis)), [x])


# --- pad, flip, repeat, tile ---------------------------------------------------------------
@gradchecks("pad", "getitem")
@given(data=st.data())
def test_pad_gradient(data):
    x = data.draw(arrays(shapes(max_side=3)))
    widths = data.draw(st.one_of(
        st.integers(0, 2), st.tuples(st.integers(0, 2), st.integers(0, 2)),
        st.tuples(*[st.tuples(st.integers(0, 2), st.integers(0, 2))] * x.ndim),
    ))
    mode = data.draw(st.sampled_from(["constant", "edge", "reflect", "symmetric", "wrap"]))
    gradcheck(lambda t: S.pad(t, widths, mode=mode, constant_values=1.5), [x])


@gradchecks("getitem")
@given(data=st.data())
def test_flip_gradient(data):
    x = data.draw(arrays(shapes()))
    axis = data.draw(st.one_of(st.none(), st.integers(-x.ndim, x.ndim - 1) if x.ndim else
                               st.none(), st.lists(st.integers(0, max(x.ndim - 1, 0)),
                                                   unique=True, max_size=x.ndim).map(tuple)))
    gradcheck(lambda t: S.flip(t, axis), [x])


@gradchecks("reshape", "broadcast_to", "getitem")
@given(data=st.data())
def test_repeat_gradient(data):
    x = data.draw(arrays(shapes()))
    axis = data.draw(st.none() if x.ndim == 0 else st.one_of(st.none(),
                                                             st.integers(-x.ndim, x.ndim - 1)))
    n = x.size if axis is None else x.shape[axis]
    repeats = data.draw(st.one_of(st.integers(0, 3),
                                  st.lists(st.integers(0, 3), min_size=n, max_size=n)))
    gradcheck(lambda t: S.repeat(t, repeats, axis=axis), [x])


@gradchecks("reshape", "broadcast_to")
@given(arrays(shapes(max_side=3)), st.lists(st.integers(0, 3), max_size=4))
def test_tile_gradient(x, reps):
    assume(np.prod(reps, dtype=int) * x.size <= 64)
    gradcheck(lambda t: S.tile(t, tuple(reps)), [x])
    if reps:
        gradcheck(lambda t: S.tile(t, reps[0]), [x])


# --- forward against numpy, float32 and float64 ----------------------------------------------
@pytest.mark.parametrize("op, reference, shape, kwargs", [
    (S.reshape, np.reshape, (2, 3, 2), {"shape": (3, -1)}),
    (S.transpose, np.transpose, (2, 3, 4), {"axes": (-1, 0, 1)}),
    (S.transpose, np.transpose, (2, 3, 4), {"axes": None}),
    (S.swapaxes, np.swapaxes, (2, 3, 4), {"axis1": 0, "axis2": -1}),
    (S.broadcast_to, np.broadcast_to, (3, 1), {"shape": (2, 3, 4)}),
    (S.squeeze, np.squeeze, (1, 3, 1), {"axis": None}),
    (S.squeeze, np.squeeze, (1, 3, 1), {"axis": -1}),
    (S.expand_dims, np.expand_dims, (2, 3), {"axis": (0, -1)}),
    (S.flip, np.flip, (2, 3, 4), {"axis": None}),
    (S.flip, np.flip, (2, 3, 4), {"axis": (0, 2)}),
    (S.repeat, np.repeat, (2, 3), {"repeats": 2, "axis": None}),
    (S.repeat, np.repeat, (2, 3), {"repeats": [1, 0, 3], "axis": -1}),
    (S.tile, np.tile, (2, 3), {"reps": (2, 1, 2)}),
    (S.tile, np.tile, (2, 3), {"reps": 3}),
    (S.pad, np.pad, (2, 3), {"pad_width": ((1, 0), (2, 1)), "constant_values": -2.0}),
    (S.pad, np.pad, (), {"pad_width": 1}),
])
def test_forward_matches_numpy(op, reference, shape, kwargs):
    if op is S.swapaxes:
        op = lambda t, axis1, axis2: S.swapaxes(t, axis1, axis2)
    check_forward(op, reference, _rand(*shape), **kwargs)


@pytest.mark.parametrize("mode", ["edge", "reflect", "symmetric", "wrap"])
def test_pad_modes_match_numpy(mode):
    check_forward(S.pad, np.pad, _rand(3, 2), pad_width=((4, 2), (1, 3)), mode=mode)


def test_joins_and_split_match_numpy():
    a, b = _rand(2, 3), _rand(4, 3, seed=1)
    check_forward(lambda x, y: S.concatenate([x, y], axis=-2),
                  lambda x, y: np.concatenate([x, y], axis=-2), a, b)
    check_forward(lambda x, y: S.concatenate((x, y), axis=None),
                  lambda x, y: np.concatenate((x, y), axis=None), a, b)
    check_forward(lambda x, y: S.stack([x, y, x], axis=1),
                  lambda x, y: np.stack([x, y, x], axis=1), a, a)
    for parts, axis in [(2, 0), ([1, 3], 0), ([-1, 1, 9], 1), (3, -1)]:
        pieces, expected = S.split(Tensor(b), parts, axis=axis), np.split(b, parts, axis=axis)
        assert len(pieces) == len(expected)
        for p, e in zip(pieces, expected):
            np.testing.assert_array_equal(p.data, e)


def test_numpy_functions_and_methods_dispatch_to_the_ops():
    x = Tensor(_rand(2, 1, 3), requires_grad=True)
    outs = [
        (np.swapaxes(x, 0, 2), np.swapaxes(x.data, 0, 2)), (x.swapaxes(0, 2), None),
        (np.squeeze(x), np.squeeze(x.data)), (x.squeeze(1), None),
        (np.expand_dims(x, 1), np.expand_dims(x.data, 1)), (x.expand_dims(1), None),
        (x.flatten(), x.data.flatten()), (np.ravel(x), None),
        (np.concatenate([x, x], axis=2), np.concatenate([x.data, x.data], axis=2)),
        (np.stack([x, x]), np.stack([x.data, x.data])), (np.pad(x, 1), np.pad(x.data, 1)),
        (np.flip(x, 2), np.flip(x.data, 2)), (np.repeat(x, 2), np.repeat(x.data, 2)),
        (np.tile(x, 2), np.tile(x.data, 2)), (np.transpose(x), x.data.T), (x.T, x.data.T),
        (np.reshape(x, (3, 2)), x.data.reshape(3, 2)),
    ]
    for out, expected in outs:
        assert isinstance(out, Tensor) and out.requires_grad
        if expected is not None:
            np.testing.assert_array_equal(out.data, expected)
    pieces = np.split(x, 3, axis=2)
    assert all(isinstance(p, Tensor) and p.shape == (2, 1, 1) for p in pieces)


def test_views_share_memory_like_numpy():
    x = Tensor(_rand(2, 1, 3), requires_grad=True)
    for view in [S.swapaxes(x, 0, 2), S.squeeze(x), S.expand_dims(x, 0), S.flatten(x),
                 S.flip(x, 0), S.transpose(x)]:
        assert np.shares_memory(view.data, x.data)


# --- second order ------------------------------------------------------------------------------
SECOND_ORDER = {
    "reshape": lambda t: S.reshape(t, (3, -1)),
    "transpose": lambda t: S.transpose(t, (1, -1, 0)),
    "swapaxes": lambda t: S.swapaxes(t, 0, -1),
    "broadcast_to": lambda t: S.broadcast_to(t[:, :1], (2, 2, 3, 2)),
    "squeeze": lambda t: S.squeeze(t[:1], 0),
    "expand_dims": lambda t: S.expand_dims(t, (0, 2)),
    "flatten": S.flatten,
    "concatenate": lambda t: S.concatenate([t, t[:, :1] * 2], axis=1),
    "stack": lambda t: S.stack([t, t * 3], axis=-1),
    "split": lambda t: S.concatenate([p * p for p in S.split(t, [1, 2], axis=1)], axis=1),
    "pad": lambda t: S.pad(t, ((0, 1), (2, 0), (1, 1)), constant_values=2.0),
    "pad_reflect": lambda t: S.pad(t, ((0, 1), (2, 0), (1, 1)), mode="reflect"),
    "flip": lambda t: S.flip(t, (0, 2)),
    "repeat": lambda t: S.repeat(t, 2, axis=1),
    "repeat_counts": lambda t: S.repeat(t, [2, 0, 1], axis=1),
    "tile": lambda t: S.tile(t, (2, 1, 1, 2)),
}


@pytest.mark.parametrize("name", list(SECOND_ORDER))
def test_second_order(name):
    gradgradcheck(_square(SECOND_ORDER[name]), [_rand(2, 3, 2)])


def test_second_order_with_several_inputs():
    a, b = _rand(2, 3), _rand(2, 3, seed=1)
    gradgradcheck(_square(lambda x, y: S.concatenate([x, y], axis=0)), [a, b])
    gradgradcheck(_square(lambda x, y: S.stack([x, y], axis=1)), [a, b])


# --- errors ------------------------------------------------------------------------------------
def test_shape_errors():
    x = Tensor(np.ones((2, 3)))
    cases = [
        (ValueError, (r"reshape: cannot reshape array of shape \(2, 3\) \(size 6\) into shape "
                     r"\(4, 2\)"), lambda: S.reshape(x, (4, 2))),
        (ValueError, r"transpose: axes \(0, 0\) don't match an array of shape \(2, 3\)",
         lambda: S.transpose(x, (0, 0))),
        (ValueError, r"transpose: axes \(0, 2\) don't match", lambda: S.transpose(x, (0, 2))),
        (TypeError, r"transpose: axes must be integers", lambda: S.transpose(x, (0.0, 1))),
        (ValueError, r"swapaxes: axis 2 is out of bounds for an array of shape \(2, 3\)",
         lambda: S.swapaxes(x, 0, 2)),
        (TypeError, r"swapaxes: axis must be an integer, got '1'", lambda: S.swapaxes(x, 0, "1")),
        (ValueError, r"broadcast_to: cannot broadcast shape \(2, 3\) to \(3, 3\)",
         lambda: S.broadcast_to(x, (3, 3))),
        (ValueError, (r"squeeze: cannot remove axis 1 of length 3 from an array of shape "
                     r"\(2, 3\)"), lambda: S.squeeze(x, 1)),
        (ValueError, r"squeeze: axis -3 is out of bounds", lambda: S.squeeze(x, -3)),
        (TypeError, r"squeeze: axis must be an int or a tuple", lambda: S.squeeze(x, 1.0)),
        (ValueError, r"expand_dims: axis 3 is out of bounds", lambda: S.expand_dims(x, 3)),
        (ValueError, r"expand_dims: repeated axis", lambda: S.expand_dims(x, (0, -4))),
        (ValueError, r"flip: axis 2 is out of bounds", lambda: S.flip(x, 2)),
    ]
    for error, message, call in cases:
        with pytest.raises(error, match=message):
            call()


def test_join_and_split_errors():
    a, b = Tensor(np.ones((2, 3))), Tensor(np.ones((4, 5)))
    cases = [
        (ValueError, r"concatenate: shapes \(2, 3\) and \(4, 5\) don't match along axis 1",
         lambda: S.concatenate([a, b])),
        (ValueError, (r"concatenate: shapes \(2, 3\) and \(3,\) have different numbers of "
                     r"dimensions"), lambda: S.concatenate([a, np.ones(3)])),
        (ValueError, r"concatenate: zero-dimensional", lambda: S.concatenate([1.0, 2.0])),
        (ValueError, r"concatenate: axis 2 is out of bounds .* shape \(2, 3\)",
         lambda: S.concatenate([a, a], axis=2)),
        (ValueError, r"concatenate: need at least one tensor", lambda: S.concatenate([])),
        (TypeError, r"concatenate: expected a sequence of tensors, got float",
         lambda: S.concatenate(1.0)),
        (ValueError, r"stack: input 1 has shape \(4, 5\) but input 0 has shape \(2, 3\)",
         lambda: S.stack([a, b])),
        (ValueError, r"stack: axis -4 is out of bounds", lambda: S.stack([a, a], axis=-4)),
        (ValueError, r"stack: need at least one tensor", lambda: S.stack([])),
        (ValueError, (r"split: axis 1 of length 5 \(array of shape \(4, 5\)\) does not split "
                     r"into 2 equal sections"), lambda: S.split(b, 2, axis=1)),
        (ValueError, r"split: .* does not split into 0 equal sections", lambda: S.split(b, 0)),
        (TypeError, r"split: indices_or_sections must be an int or a 1-D sequence of ints",
         lambda: S.split(b, [1.5])),
        (ValueError, r"split: a 0-d array cannot be split", lambda: S.split(Tensor(1.0), 1)),
        (ValueError, r"split: axis 2 is out of bounds", lambda: S.split(b, 1, axis=2)),
    ]
    for error, message, call in cases:
        with pytest.raises(error, match=message):
            call()


def test_pad_repeat_tile_errors():
    x = Tensor(np.ones((2, 3)))
    cases = [
        (ValueError, r"pad: pad_width \(1, 2, 3\) does not fit an array of shape \(2, 3\)",
         lambda: S.pad(x, (1, 2, 3))),
        (ValueError, r"pad: pad widths must be non-negative, got -1", lambda: S.pad(x, -1)),
        (TypeError, r"pad: pad_width must be integers, got 1.5", lambda: S.pad(x, 1.5)),
        (ValueError, r"pad: mode 'mean' is not supported", lambda: S.pad(x, 1, mode="mean")),
        (ValueError, (r"pad: cannot pad empty axis 0 of an array of shape \(0, 3\) in mode "
                     r"'edge'"), lambda: S.pad(np.ones((0, 3)), 1, mode="edge")),
        (ValueError, r"repeat: repeats must be non-negative, got -1", lambda: S.repeat(x, -1)),
        (ValueError, (r"repeat: 2 repeats don't match axis 1 of length 3 \(array of shape "
                     r"\(2, 3\)\)"), lambda: S.repeat(x, [1, 2], axis=1)),
        (TypeError, r"repeat: repeats must be an int", lambda: S.repeat(x, 1.5)),
        (ValueError, r"repeat: axis 2 is out of bounds", lambda: S.repeat(x, 2, axis=2)),
        (ValueError, r"tile: reps must be non-negative, got \(2, -1\)",
         lambda: S.tile(x, (2, -1))),
        (TypeError, r"tile: reps must be integers", lambda: S.tile(x, (2.0,))),
    ]
    for error, message, call in cases:
        with pytest.raises(error, match=message):
            call()


# --- tril, triu, chunk --------------------------------------------------------------------
@gradchecks("tril", "triu")
@given(arrays(shapes(min_dims=1)), st.integers(-4, 4), st.sampled_from(["tril", "triu"]))
def test_triangle_gradient_and_forward(x, k, name):
    op, reference = getattr(S, name), getattr(np, name)
    gradcheck(lambda t: op(t, k), [x])  # a 1-D x is a row repeated: its gradient sums them
    gradgradcheck(lambda t: op(t * t, k=k), [x])
    check_forward(op, reference, x, k=k)


def test_triangles_dispatch_and_errors():
    x = Tensor(np.arange(1.0, 10.0).reshape(3, 3), requires_grad=True)
    out = np.tril(x, -1) + np.triu(x, 1)
    assert isinstance(out, Tensor) and out.requires_grad
    out.sum().backward()
    np.testing.assert_array_equal(x.grad, 1 - np.eye(3))
    with pytest.raises(ValueError, match="tril: expected an array of at least 1 dim"):
        S.tril(Tensor(np.float64(1.0)))
    with pytest.raises(TypeError, match="triu: k must be an integer, got 0.5"):
        S.triu(x, 0.5)


@pytest.mark.parametrize("n, chunks, sizes", [
    (6, 3, [2, 2, 2]), (5, 2, [3, 2]), (5, 4, [2, 2, 1]), (6, 4, [2, 2, 2]), (2, 5, [1, 1]),
    (0, 2, [0]),
])
def test_chunk_follows_pytorch(n, chunks, sizes):
    x = Tensor(_rand(2, n), requires_grad=True)
    parts = S.chunk(x, chunks, axis=1)
    assert [p.shape[1] for p in parts] == sizes
    np.testing.assert_array_equal(S.concatenate(parts, axis=1).data, x.data)
    if n:
        gradcheck(lambda t: S.concatenate([p * (i + 1) for i, p in enumerate(
            S.chunk(t, chunks, axis=1))], axis=1), [x.data])
    with pytest.raises(ValueError, match="chunk: chunks must be a positive integer, got 0"):
        S.chunk(x, 0)
