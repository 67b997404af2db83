"""Matrix products: BLAS where BLAS wins, a numba kernel where it does not.

- Every plain 2-D product goes to BLAS (numpy's ``matmul``): numba loop nests without
  hand-made register blocking stay far below OpenBLAS.
- A batch of matrices times one matrix, ``(..., n, k) @ (k, m)`` (a linear layer over a
  batch of sequences or images): numpy runs one small GEMM per matrix; folding the batch
  into the rows makes it one ``(B n, k) @ (k, m)`` GEMM that BLAS threads well.
- A batch of small matrices times a batch, ``(B, n, k) @ (B, k, m)``: numpy loops over the
  batch calling BLAS on one thread. The numba kernel below is slower than that per thread
  (its inner loop is bound by loads and stores of the output rows, while BLAS keeps its
  tile in registers), so it runs only where its threads make up for it
  (``policy.use_numba_batched``).
- Stacked GEMMs for the convolutions (``stacked_gemm``, ``stacked_gemm_nt``): one BLAS call
  per matrix of the stack.

``matmul`` picks among the first three; ``batched_matmul`` is the raw kernel. The figures
behind these rules are in benchmarks/README.md.
"""

import numpy as np

from ops.kernels import policy, workspace
from ops.kernels.config import njit

__all__ = ["batched_matmul", "matmul", "stacked_gemm", "stacked_gemm_nt"]


@njit
def _gemm_small(a, b, out):
    """out (n, m) = a (n, k) @ b (k, m), four rows at a time: each row of b is loaded once
    for four rows of out, and the inner loop over m vectorizes."""
    n, k = a.shape
    m = b.shape[1]
    out[:] = 0
    i = 0
    while i + 4 <= n:
        o0, o1, o2, o3 = out[i], out[i + 1], out[i + 2], out[i + 3]
        for kk in range(k):
            a0, a1, a2, a3 = a[i, kk], a[i + 1, kk], a[i + 2, kk], a[i + 3, kk]
            row = b[kk]
            for j in range(m):
                bj = row[j]
                o0[j] += a0 * bj
                o1[j] += a1 * bj
                o2[j] += a2 * bj
                o3[j] += a3 * bj
        i += 4
    for r in range(i, n):
        o = out[r]
        for kk in range(k):
            ar = a[r, kk]
            row = b[kk]
            for j in range(m):
                o[j] += ar * row[j]


@njit
def _batched_matmul_kernel(start, stop, a, b, out):
    for p in range(start, stop):
        _gemm_small(a[p], b[p], out[p])


def batched_matmul(a, b, out, parallel=None):
    """out (B, n, m) = a (B, n, k) @ b (B, k, m), the matrices of the batch split over
    threads by ops/kernels/policy.py (``parallel`` True/False forces it). C-contiguous
    operands of one float dtype."""
    flop = 2.0 * a.shape[0] * a.shape[1] * a.shape[2] * b.shape[2]
    policy.run(_batched_matmul_kernel, a.shape[0], (a, b, out),
               family="batched_matmul", work=flop, parallel=parallel)


def stacked_gemm(a, b, out=None):
    """a (G, m, k) @ b (G, k, n) -> (G, m, n), one BLAS call per matrix (numpy's stacked
    matmul skips BLAS when an operand is a transposed view)."""
    if out is None:
        out = workspace.empty((a.shape[0], a.shape[1], b.shape[2]), a.dtype)
    for i in range(a.shape[0]):
        np.matmul(a[i], b[i], out=out[i])
    return out


def stacked_gemm_nt(a, b):
    """a (G, m, k) @ b (G, n, k)^T -> (G, m, n) for long k, both C-contiguous.

    Computed as (b @ a^T)^T: OpenBLAS splits that orientation well over its threads, and
    ``a @ b^T`` badly (benchmarks/README.md).
    """
    return stacked_gemm(b, a.transpose(0, 2, 1)).transpose(0, 2, 1)


def matmul(a, b):
    """``a @ b`` with numpy semantics (broadcast batch dims, 1-D operands), dispatched to
    the fastest kernel measured for the shapes (see the module docstring).

    >>> matmul(np.ones((512, 32, 32), np.float32), np.ones((32, 8), np.float32)).shape
    (512, 32, 8)
    """
    a, b = np.asarray(a), np.asarray(b)
    if a.ndim >= 3 and b.ndim == 2 and a.shape[-1] == b.shape[0] and a.size:
        folded = a.reshape(-1, a.shape[-1])  # (..., n, k) -> (B*n, k); a copy only if a is strided
        return np.matmul(folded, b).reshape(a.shape[:-1] + (b.shape[1],))  # -> (..., n, m)
    if a.ndim >= 3 and a.ndim == b.ndim and a.shape[:-2] == b.shape[:-2] \
            and a.shape[-1] == b.shape[-2]:
        batch = a.shape[:-2]
        count = int(np.prod(batch))
        a3 = a.reshape((count,) + a.shape[-2:])  # (..., n, k) -> (B, n, k)
        b3 = b.reshape((count,) + b.shape[-2:])  # (..., k, m) -> (B, k, m)
        if policy.use_numba_batched(a3, b3):
            out = np.empty((a3.shape[0], a3.shape[1], b3.shape[2]), dtype=a.dtype)
            batched_matmul(a3, b3, out)
            return out.reshape(batch + out.shape[1:])  # (B, n, m) -> (..., n, m)
    return np.matmul(a, b)
