"""The matmul kernel and dispatcher against np.matmul."""

import numpy as np
import pytest
from hypothesis import given, strategies as st

from ops.kernels import matmul as mm
from ops.kernels import policy

sides = st.integers(1, 7)


@given(st.integers(1, 5), sides, sides, sides, st.sampled_from([np.float32, np.float64]),
       st.integers(0, 2**32 - 1))
def test_batched_kernels_match_numpy(batch, n, k, m, dtype, seed):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((batch, n, k)).astype(dtype)
    b = rng.standard_normal((batch, k, m)).astype(dtype)
    expected = np.matmul(a.astype(np.float64), b.astype(np.float64))
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)
    results = []
    for parallel in (True, False):
        out = np.full((batch, n, m), np.nan, dtype=dtype)  # every element must be written
        mm.batched_matmul(a, b, out, parallel=parallel)
        np.testing.assert_allclose(out, expected, **tol)
        results.append(out)
    np.testing.assert_array_equal(*results)  # threaded and serial: the same bits


shapes = st.sampled_from([
    ((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)),
    ((5, 2, 3), (3, 4)), ((2, 5, 2, 3), (3, 4)),  # batch @ matrix: folded into one GEMM
    ((40, 4, 5), (40, 5, 3)), ((2, 20, 4, 5), (2, 20, 5, 3)),  # batched: numba or BLAS
    ((1, 4, 5), (6, 5, 3)), ((4, 5), (6, 5, 3)), ((6, 1, 4, 5), (3, 5, 2)),  # broadcast
    ((0, 4, 5), (5, 3)), ((3, 0, 5), (3, 5, 2)),  # empty
])


@given(shapes, st.sampled_from([np.float32, np.float64]), st.integers(0, 2**32 - 1))
def test_matmul_matches_np_matmul(shape_pair, dtype, seed):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape_pair[0]).astype(dtype)
    b = rng.standard_normal(shape_pair[1]).astype(dtype)
    out = mm.matmul(a, b)
    expected = np.matmul(a, b)
    assert out.shape == expected.shape and out.dtype == expected.dtype
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(out, expected, rtol=tol, atol=tol)


def test_matmul_takes_non_contiguous_operands():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((40, 6, 5)).astype(np.float32)
    b = rng.standard_normal((40, 6, 5)).astype(np.float32)
    bt = b.transpose(0, 2, 1)  # (40, 5, 6), a strided view
    np.testing.assert_allclose(mm.matmul(a, bt), np.matmul(a, bt), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(mm.matmul(a[:, ::2], b[0].T), np.matmul(a[:, ::2], b[0].T),
                               rtol=1e-5, atol=1e-5)


def test_dispatch_rule(monkeypatch):
    tiny = np.ones((4096, 8, 8), np.float32)  # 4 MFLOP of 8x8 products
    small = np.ones((512, 32, 32), np.float32)
    for threads, tiny_numba, small_numba in [(1, False, False), (2, True, False),
                                              (4, True, True)]:
        monkeypatch.setattr(policy, "_threads", threads)
        assert policy.use_numba_batched(tiny, tiny) == tiny_numba
        assert policy.use_numba_batched(small, small) == small_numba
    assert not policy.use_numba_batched(tiny[:8], tiny[:8])  # too little work for the pool
    big = np.ones((64, 128, 128), np.float32)
    assert not policy.use_numba_batched(big, big)  # large matrices: BLAS
    assert not policy.use_numba_batched(tiny, tiny.astype(np.float64))  # mixed dtypes: numpy
    assert not policy.use_numba_batched(tiny, tiny.transpose(0, 2, 1))  # strided: BLAS as is


def test_mismatched_shapes_raise_numpys_error():
    with pytest.raises(ValueError):
        mm.matmul(np.ones((4, 2, 3)), np.ones((4, 2)))
    with pytest.raises(ValueError):
        mm.matmul(np.ones((4, 2, 3)), np.ones((5, 3, 2)))
