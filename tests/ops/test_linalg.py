"""matmul and einsum: gradients over drawn shapes, forward against numpy, errors."""

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ops
from autograd import Tensor, grad
from autograd.testing import gradcheck, gradgradcheck
from autograd.testing import strategies as st_ag
from tests.helpers import check_forward, gradchecks


# --- matmul -----------------------------------------------------------------------------
@st.composite
def matmul_shapes(draw):
    """Shapes (a, b) covering 1-D operands, plain matrices and broadcast batch dims."""
    batch_a, batch_b = draw(st_ag.broadcastable_shapes(2, min_dims=0, max_dims=2, max_side=3))
    n, k, m = (draw(st.integers(1, 3)) for _ in range(3))
    shape_a = (k,) if draw(st.booleans()) else batch_a + (n, k)
    shape_b = (k,) if draw(st.booleans()) else batch_b + (k, m)
    return shape_a, shape_b


@st.composite
def matmul_operands(draw):
    shape_a, shape_b = draw(matmul_shapes())
    return draw(st_ag.arrays(shape_a)), draw(st_ag.arrays(shape_b))


@gradchecks("matmul")
@given(matmul_operands())
def test_matmul_gradient(operands):
    gradcheck(ops.matmul, list(operands))


@given(matmul_operands())
def test_matmul_forward(operands):
    check_forward(ops.matmul, np.matmul, *operands, rtol=1e-5, atol=1e-5)


@settings(max_examples=10)
@given(matmul_operands())
def test_matmul_second_order(operands):
    gradgradcheck(lambda a, b: ops.matmul(a, b) * ops.matmul(a, b), list(operands))


def test_matmul_operator_and_numpy_dispatch():
    a, b = np.arange(6.0).reshape(2, 3), np.arange(12.0).reshape(3, 4)
    ta, tb = Tensor(a, requires_grad=True), Tensor(b)
    for out in (ta @ tb, np.matmul(ta, tb), ta @ b, a @ tb):
        assert isinstance(out, Tensor)
        np.testing.assert_array_equal(out.data, a @ b)
    (ta @ tb).sum().backward()
    np.testing.assert_array_equal(ta.grad, np.ones((2, 4)) @ b.T)


def test_matmul_only_needed_gradients_and_dtype():
    a = Tensor(np.ones((2, 3), dtype=np.float32), requires_grad=True)
    b = Tensor(np.ones((3, 4), dtype=np.float32))
    out = a @ b
    assert out.dtype == np.float32
    out.sum().backward()
    assert a.grad.dtype == np.float32 and b.grad is None


@pytest.mark.parametrize("shape_a, shape_b, message", [
    ((2, 3), (4, 5), "matmul: shapes (2, 3) and (4, 5) are not aligned"),
    ((3,), (4,), "matmul: shapes (3,) and (4,) are not aligned"),
    ((2, 2, 3), (3, 3, 4), "matmul: shapes (2, 2, 3) and (3, 3, 4) are not aligned"),
    ((), (3,), "matmul: both operands need at least 1 dimension, got shapes () and (3,)"),
])
def test_matmul_errors(shape_a, shape_b, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        ops.matmul(Tensor(np.ones(shape_a)), Tensor(np.ones(shape_b)))


# --- einsum -----------------------------------------------------------------------------
@st.composite
def einsum_cases(draw):
    """(subscripts, shapes): 1-3 operands over indices i, j, k, l with repeats (diagonals,
    traces), size-1 broadcasting, implicit or explicit output, and maybe '...'."""
    sizes = {c: draw(st.integers(1, 3)) for c in "ijkl"}
    n_ops = draw(st.integers(1, 3))
    terms = [draw(st.lists(st.sampled_from("ijkl"), max_size=3)) for _ in range(n_ops)]
    shapes = []
    for term in terms:
        own = {c: draw(st.sampled_from([sizes[c], sizes[c], 1])) for c in set(term)}
        shapes.append(tuple(own[c] for c in term))
    used = sorted(set("".join("".join(t) for t in terms)))
    ellipsis = draw(st.booleans())
    if ellipsis:
        batches = draw(st_ag.broadcastable_shapes(n_ops, min_dims=0, max_dims=2, max_side=2))
        shapes = [b + s for b, s in zip(batches, shapes)]
    lhs = ",".join(("..." if ellipsis else "") + "".join(t) for t in terms)
    if draw(st.booleans()):
        return lhs, shapes
    out = draw(st.permutations(used)) if used else []
    out = "".join(out[: draw(st.integers(0, len(out)))])
    return f"{lhs}->{'...' if ellipsis else ''}{out}", shapes


@st.composite
def einsum_operands(draw):
    subscripts, shapes = draw(einsum_cases())
    return subscripts, [draw(st_ag.arrays(s)) for s in shapes]


@gradchecks("einsum")
@given(einsum_operands())
def test_einsum_gradient(case):
    subscripts, arrays = case
    gradcheck(lambda *xs: ops.einsum(subscripts, *xs), arrays)


@given(einsum_operands())
def test_einsum_forward(case):
    subscripts, arrays = case
    check_forward(ops.einsum, np.einsum, subscripts, *arrays, rtol=1e-5, atol=1e-5)


@settings(max_examples=10)
@given(einsum_operands())
def test_einsum_second_order(case):
    subscripts, arrays = case

    def squared(*xs):
        out = ops.einsum(subscripts, *xs)
        return out * out

    gradgradcheck(squared, arrays)


@pytest.mark.parametrize("subscripts, shapes", [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("...ij,...jk->...ik", [(2, 1, 2, 3), (4, 3, 2)]),  # batched matmul, broadcast batch
    ("bii->b", [(2, 3, 3)]),  # batched trace
    ("ii->i", [(3, 3)]),  # diagonal
    ("iij,j", [(2, 2, 3), (3,)]),  # implicit output, repeated index
    ("ij,jk", [(2, 3), (1, 4)]),  # size-1 index broadcasts
    (",i->i", [(), (3,)]),
])
def test_einsum_examples(subscripts, shapes):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s) for s in shapes]
    check_forward(ops.einsum, np.einsum, subscripts, *arrays)
    gradcheck(lambda *xs: ops.einsum(subscripts, *xs), arrays)


@pytest.mark.parametrize("subscripts", ["ij->ji", "ii->i", "ij->ij"])
def test_einsum_result_never_aliases_an_operand(subscripts):
    x = np.arange(9.0).reshape(3, 3)
    assert not np.shares_memory(ops.einsum(subscripts, Tensor(x)).data, x)


def test_einsum_numpy_dispatch_and_optimize_keyword():
    a, b = Tensor(np.ones((2, 3)), requires_grad=True), Tensor(np.ones((3, 4)))
    out = np.einsum("ij,jk->ik", a, b, optimize=True)
    assert isinstance(out, Tensor) and out.shape == (2, 4)
    (ga,) = grad(out.sum(), [a])
    np.testing.assert_array_equal(ga, np.full((2, 3), 4.0))


@pytest.mark.parametrize("subscripts, shapes, error, message", [
    ("ij,jk->ik", [(2, 3)], ValueError, "name 2 operands but 1 were given"),
    ("ijk->i", [(2, 3)], ValueError, "operand 0 has 2 dims but subscripts 'ijk' name 3"),
    ("ij,jk->ik", [(2, 3), (4, 5)], ValueError, "index 'j' in 'ij,jk->ik' has sizes 3 and 4"),
    ("ii->i", [(2, 3)], ValueError, "repeats index 'i' in 'ii->i' with different sizes"),
    ("i1->i", [(2, 3)], ValueError, "invalid subscripts"),
    ("ij->ik", [(2, 3)], ValueError, "output index 'k'"),
    ("ij->ii", [(2, 2)], ValueError, "output index 'i'"),
    ("...i->i", [(2, 3)], ValueError, "the output needs '...'"),
    ("i->i->i", [(2,)], ValueError, "more than one '->'"),
])
def test_einsum_errors(subscripts, shapes, error, message):
    with pytest.raises(error, match=re.escape("einsum: ")) as info:
        ops.einsum(subscripts, *[Tensor(np.ones(s)) for s in shapes])
    assert message in str(info.value)


def test_einsum_interleaved_form_is_a_clear_type_error():
    with pytest.raises(TypeError, match="einsum: only the subscripts-string form"):
        ops.einsum(Tensor(np.ones(3)), [0], [0])


@pytest.mark.parametrize("k, m", [(0, 3), (3, 0), (0, 0)])
def test_matmul_backward_with_an_empty_inner_or_outer_dimension(k, m):
    a = Tensor(np.ones((2, 4, k)), requires_grad=True)
    b = Tensor(np.ones((k, m)), requires_grad=True)
    (a @ b).sum().backward()
    assert a.grad.shape == (2, 4, k) and b.grad.shape == (k, m)
    assert not a.grad.any() and not b.grad.any()
