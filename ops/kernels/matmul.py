"""Matrix products: BLAS where BLAS wins, a numba kernel where it does not.

Measured on the 2-core AVX2 machine (``python -m benchmarks.kernels`` and the sweep in
benchmarks/README.md):

- square GEMM, n = 256 .. 2048: OpenBLAS (numpy's ``matmul``) reaches 40-120 GFLOP/s;
  numba loop nests without hand-made register blocking stay far below, so every plain 2-D
  product goes to BLAS (our matmul is BLAS plus a few microseconds of dispatch).
- a batch of matrices times one matrix, ``(..., n, k) @ (k, m)`` (a linear layer over a
  batch of sequences or images): numpy runs one small GEMM per matrix; folding the batch
  into the rows makes it one ``(B n, k) @ (k, m)`` GEMM that BLAS threads well, about 2x
  faster with 2 threads for (64, 128, 256) @ (256, 512).
- a batch of small matrices times a batch, ``(B, n, k) @ (B, k, m)``: numpy loops over the
  batch calling BLAS on one thread. The numba kernel below, on one thread, runs at
  ``PER_THREAD_SPEED`` of that (0.85 for sides <= 8, falling to 0.3 at 64: the inner loop is
  bound by loads and stores of the output rows, while BLAS keeps its tile in registers), so
  it pays only when the threads make up for it: ``threads * speed >= MIN_GAIN``. On the
  2-core machine that means sides <= 8 only; 512 x (32x32 @ 32x32) stays with BLAS.

``matmul`` picks among the three; ``batched_matmul`` / ``batched_matmul_serial`` are the
raw kernels.
"""

import numba
import numpy as np
from numba import prange

from ops.kernels.config import njit, serial_and_parallel

# One thread of the numba kernel relative to numpy's batched loop (OpenBLAS on one thread),
# by the largest side of the matrices (measured, float32, batch 512).
PER_THREAD_SPEED = ((8, 0.85), (16, 0.45), (32, 0.35), (64, 0.3))
# The numba kernel runs when its threads make it this much faster than numpy...
MIN_GAIN = 1.25
# ...and the product has this many flops (waking the thread pool costs ~20 us).
MIN_FLOP = 1e6


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


def _batched_matmul(a, b, out):
    """out (B, n, m) = a (B, n, k) @ b (B, k, m), parallel over the batch (each thread owns
    whole output matrices). C-contiguous operands of one float dtype."""
    for p in prange(a.shape[0]):
        _gemm_small(a[p], b[p], out[p])


batched_matmul_serial, batched_matmul = serial_and_parallel(_batched_matmul)


def use_numba_batched(a, b):
    """True when the numba kernel beats numpy for a (B, n, k) @ b (B, k, m)."""
    if a.ndim != 3 or b.ndim != 3 or a.shape[0] != b.shape[0]:
        return False
    if a.dtype != b.dtype or a.dtype not in (np.float32, np.float64):
        return False
    if not (a.flags.c_contiguous and b.flags.c_contiguous):
        return False  # BLAS takes transposed views as they are; we would copy
    side = max(a.shape[1], a.shape[2], b.shape[2])
    speed = next((v for limit, v in PER_THREAD_SPEED if side <= limit), 0.0)
    threads = numba.get_num_threads()
    flop = 2.0 * a.shape[0] * a.shape[1] * a.shape[2] * b.shape[2]
    return threads * speed >= MIN_GAIN and flop >= MIN_FLOP and a.shape[0] >= threads


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
        if use_numba_batched(a3, b3):
            out = np.empty((a3.shape[0], a3.shape[1], b3.shape[2]), dtype=a.dtype)
            batched_matmul(a3, b3, out)
            return out.reshape(batch + out.shape[1:])  # (B, n, m) -> (..., n, m)
    return np.matmul(a, b)
