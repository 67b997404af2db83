"""Kernel policy, in one place: how many threads a kernel runs on, which algorithm a
convolution takes, and how much memory it unfolds at once.

Threads
-------
Every numba kernel is one serial function over a range of independent work items (planes,
(channel, sample) pairs, matrices of a batch) that releases the GIL (``nogil``). ``run``
calls it on the calling thread for small inputs, and for large ones splits the range into
chunks that the calling thread and a few helper threads take in turn. This replaces numba's
``parallel=True`` (an OpenMP team) for three reasons:

- OpenMP's idle workers spin, and took the cores from OpenBLAS's threads, which run the GEMM
  right after an im2col. The old cure, ``OMP_WAIT_POLICY=PASSIVE`` in ``os.environ``, was a
  process-wide setting made behind the user's back.
- That cure did nothing once PyTorch was imported first: numba's OpenMP pool then binds to
  the libgomp PyTorch loaded (``RTLD_GLOBAL``), which had already read its wait policy, so
  ``import torch`` made the CNN's training step several times slower.
- numba compiles each ``parallel=True`` kernel in seconds (the parfor lowering), and a serial
  twin was compiled beside each one for small inputs.

Helper threads wait on a queue (blocked, not spinning), and the calling thread takes chunks
too, so a call never waits for a helper that has not woken: if the caller finishes every
chunk first, the helpers find nothing left to do.

``set_num_threads(n)`` sets the threads our kernels use (default: numba's thread count,
``NUMBA_NUM_THREADS`` or the CPUs this process may run on). It touches nothing else: BLAS's
threads (numpy's GEMMs) stay numpy's, set by the user as for any numpy program.

The figures behind the thresholds are in benchmarks/README.md.
"""

import os
import queue
import threading

import numba
import numpy as np

__all__ = ["batch_chunks", "get_num_threads", "run", "set_num_threads", "use_numba_batched",
           "use_winograd", "gemm_per_sample"]

# --- threads --------------------------------------------------------------------------
# Below this much work (elements, or flops for matmul) a call runs on the calling thread
# only: waking a helper costs more than it saves.
MIN_PARALLEL_WORK = {
    "im2col": 1 << 16,  # column elements
    "col2im": 1 << 16,  # column elements
    "pool": 1 << 15,  # elements of the input (or of its gradient)
    "winograd": 1 << 16,  # tile elements
    "batched_matmul": 1 << 20,  # flops
    # elements (relu and its gradient, ops/kernels/activation.py): memory-bound loops that
    # a second thread did not speed up at the CNN's sizes (up to 1.6M elements) on 2 cores
    "elementwise": 1 << 22,
    "layout": 1 << 18,  # elements (ops/kernels/layout.py)
}
# Chunks per thread: more than one, so that a thread the OS has descheduled on a busy
# machine leaves its share to the others instead of holding up the call.
CHUNKS_PER_THREAD = 4

# None: by size (MIN_PARALLEL_WORK); True or False: every call parallel or serial.
PARALLEL = None

_threads = None  # None: numba's thread count


def get_num_threads():
    """The number of threads the kernels may use."""
    return numba.config.NUMBA_NUM_THREADS if _threads is None else _threads


def set_num_threads(n):
    """Let the kernels use ``n`` threads (1: the calling thread only); None restores the
    default (numba's thread count). BLAS's threads are not affected.

    >>> import ops.kernels
    >>> ops.kernels.set_num_threads(1)
    """
    global _threads
    if n is not None and (isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1):
        raise ValueError(f"set_num_threads: expected a positive int or None, got {n!r}")
    _threads = None if n is None else int(n)


def threads_for(family, work, parallel=None):
    """Threads for one call of a ``family`` kernel with ``work`` to do; ``parallel`` True or
    False forces the parallel or serial run, None leaves it to PARALLEL and the size."""
    if parallel is None:
        parallel = PARALLEL
    if parallel is None:
        parallel = work >= MIN_PARALLEL_WORK[family]
    return get_num_threads() if parallel else 1


class _Job:
    """One call of a kernel over chunks of its range, taken in turn by whoever asks."""

    def __init__(self, kernel, args, bounds):
        self.kernel, self.args, self.bounds = kernel, args, bounds
        self.next = 0
        self.unfinished = len(bounds)
        self.error = None
        self.lock = threading.Lock()
        self.done = threading.Event()

    def work(self):
        while True:
            with self.lock:
                if self.next == len(self.bounds):
                    return
                start, stop = self.bounds[self.next]
                self.next += 1
                kernel, args = self.kernel, self.args
            try:
                kernel(start, stop, *args)
            except BaseException as e:  # re-raised on the calling thread
                self.error = e
            with self.lock:
                self.unfinished -= 1
                if not self.unfinished:
                    self.done.set()


class _Helpers:
    """Daemon threads that take jobs from a queue; started when first needed."""

    def __init__(self):
        self.jobs = queue.SimpleQueue()
        self.count = 0
        self.lock = threading.Lock()

    def offer(self, job, n):
        with self.lock:
            while self.count < n:
                threading.Thread(target=self._serve, name="jitgrad-kernel", daemon=True).start()
                self.count += 1
        for _ in range(n):
            self.jobs.put(job)

    def _serve(self):
        while True:
            job = self.jobs.get()
            job.work()
            del job  # a finished job keeps no array alive (workspace.py counts references)


_helpers = _Helpers()


def _forget_helpers():
    """In a forked child the helper threads do not exist: start afresh."""
    global _helpers
    _helpers = _Helpers()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_helpers)


def run(kernel, n_items, args, *, family, work, parallel=None):
    """``kernel(start, stop, *args)`` over ``range(n_items)``, on this thread or split over
    several (see the module docstring). The kernel must treat the items of its range
    independently (no two items write the same memory) and release the GIL."""
    threads = min(threads_for(family, work, parallel), n_items)
    if threads <= 1:
        kernel(0, n_items, *args)
        return
    n_chunks = min(n_items, threads * CHUNKS_PER_THREAD)
    edges = [n_items * i // n_chunks for i in range(n_chunks + 1)]
    job = _Job(kernel, args, list(zip(edges[:-1], edges[1:])))
    _helpers.offer(job, threads - 1)
    job.work()
    job.done.wait()
    job.kernel = job.args = None
    if job.error is not None:
        raise job.error


# --- convolution: algorithm and memory ---------------------------------------------------
# At most this many bytes of im2col columns exist at once: past it, a convolution unfolds a
# chunk of the batch at a time (and conv2d saves no columns for its weight gradient).
CHUNK_BYTES = 128 * 2**20
# Winograd F(2x2, 3x3) for 3x3, stride 1, undilated, ungrouped convolutions with at least
# this many channels in and out and this many bytes of im2col columns; False turns it off.
WINOGRAD = True
WINOGRAD_MIN_CHANNELS = 8
WINOGRAD_MIN_COLUMN_BYTES = 16 * 2**20


def batch_chunks(n, bytes_per_sample):
    """[(n0, n1), ...] covering range(n), each about CHUNK_BYTES of columns."""
    step = max(1, CHUNK_BYTES // max(1, bytes_per_sample))
    return [(n0, min(n, n0 + step)) for n0 in range(0, n, step)]


def use_winograd(w_shape, n, out_size, stride, dilation, groups, itemsize):
    """Whether Winograd F(2x2, 3x3) (winograd.py) runs the convolution of a batch of n with
    w (O, C, kh, kw) giving out_size (oh, ow) (or its adjoints).

    It needs a 3x3 kernel, stride 1, no dilation and one group. It pays when im2col's
    columns (C*9 x N*oh*ow) outgrow the cache, so that im2col streams them from memory, and
    not with a channel or two. Its tiles take 4x the input and 4x the output; past
    4 * CHUNK_BYTES, im2col's chunks bound the memory instead.
    """
    if not (WINOGRAD and tuple(w_shape[2:]) == (3, 3) and tuple(stride) == (1, 1)
            and tuple(dilation) == (1, 1) and groups == 1
            and min(w_shape[:2]) >= WINOGRAD_MIN_CHANNELS):
        return False
    positions = n * out_size[0] * out_size[1]
    column_bytes = w_shape[1] * 9 * positions * itemsize
    tile_bytes = 4 * (w_shape[0] + w_shape[1]) * itemsize * n * (
        (out_size[0] + 1) * (out_size[1] + 1))  # tiles cover the output rounded up to even
    return WINOGRAD_MIN_COLUMN_BYTES <= column_bytes and tile_bytes <= 4 * CHUNK_BYTES


# --- matmul: BLAS or the numba kernel for batches of small matrices ---------------------
# One thread of the numba kernel relative to numpy's batched loop (OpenBLAS on one thread),
# by the largest side of the matrices (float32, batch 512).
PER_THREAD_SPEED = ((8, 0.85), (16, 0.45), (32, 0.35), (64, 0.3))
# The numba kernel runs when its threads make it this much faster than numpy.
MIN_GAIN = 1.25


def use_numba_batched(a, b):
    """True when the numba kernel beats numpy for a (B, n, k) @ b (B, k, m): numpy loops
    over the batch calling BLAS on one thread, and the kernel, slower per thread, pays only
    when enough threads make up for it (``threads * speed >= MIN_GAIN``)."""
    if a.ndim != 3 or b.ndim != 3 or a.shape[0] != b.shape[0]:
        return False
    if a.dtype != b.dtype or a.dtype not in (np.float32, np.float64):
        return False
    if not (a.flags.c_contiguous and b.flags.c_contiguous):
        return False  # BLAS takes transposed views as they are; we would copy
    side = max(a.shape[1], a.shape[2], b.shape[2])
    speed = next((v for limit, v in PER_THREAD_SPEED if side <= limit), 0.0)
    threads = get_num_threads()
    flop = 2.0 * a.shape[0] * a.shape[1] * a.shape[2] * b.shape[2]
    return (threads * speed >= MIN_GAIN and flop >= MIN_PARALLEL_WORK["batched_matmul"]
            and a.shape[0] >= threads)


# --- convolution GEMMs: one per sample, or one over the batch ---------------------------
# A convolution's GEMMs can run one per sample, (O, K) @ (K, oh*ow), which reads and writes
# NCHW as it is, or one over the whole batch, (O, K) @ (K, N*oh*ow), whose channel-first
# operand or result needs a transposing copy. OpenBLAS runs a GEMM with m*n*k at most this
# many on the calling thread alone; larger ones wake its threads, and then N small calls
# mean N waits for the slowest thread, which fell apart on the loaded 2-core machine (AMD
# EPYC, AVX-512, OPENBLAS_CORETYPE unset; the forward GEMM of conv 32->64 at 14x14, batch
# 64, 2 threads, load average 3-4: median 44 ms per sample against 18 ms over the batch with
# the copy, though 5.1 against 6.7 ms at the quietest tenth). At or below it the
# per-sample calls were as fast or faster everywhere measured (conv 1->32 at 28x28: 1.2
# against 2.3 ms forward GEMM, 0.5 against 2.8 ms weight-gradient GEMM), the copy saved.
PER_SAMPLE_GEMM_MAX_MNK = 1 << 18


def gemm_per_sample(m, k, positions):
    """Whether a convolution's GEMMs, (m, k) @ (k, positions) for each sample or its
    transpose for the weight gradient, run one per sample (see above)."""
    return m * k * positions <= PER_SAMPLE_GEMM_MAX_MNK
