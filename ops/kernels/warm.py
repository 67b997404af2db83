"""Compile every kernel into numba's cache once, so that later processes load it instead:

    python -m ops.kernels.warm                    # float32 and float64
    python -m ops.kernels.warm --dtypes float32

Run it once after installing jitgrad (and after upgrading numba or editing a kernel). Without
it nothing breaks: each kernel compiles on its first call, for the dtypes it is called with,
and is cached then (a few seconds on the first training step). numba keeps the cache in
``__pycache__`` beside the kernels' sources, or where ``NUMBA_CACHE_DIR`` points; a process
that sets another ``NUMBA_CACHE_DIR`` has a cache of its own to warm.

The kernels are reached through the public ops on tiny inputs, so that they compile for
exactly the argument types the ops pass them.

The optimizers' fused updates sit a layer above the op library: ``python -m autograd.warm``
compiles these kernels and those.
"""

import argparse
import sys
import time

import numpy as np

__all__ = ["warm"]

DTYPES = ("float32", "float64")


def _conv(ag, ops, dtype):
    """im2col and col2im: conv2d forward and backward, conv_transpose2d forward; and the
    copy of a whole-batch GEMM's result to NCHW, with the per-sample GEMMs turned off so
    that a tiny conv2d takes that path."""
    from ops.kernels import policy

    rng = np.random.default_rng(0)
    x = ag.Tensor(rng.standard_normal((2, 3, 6, 6)).astype(dtype), requires_grad=True)
    w = ag.Tensor(rng.standard_normal((4, 3, 3, 3)).astype(dtype), requires_grad=True)
    ops.conv2d(x, w, stride=2, padding=1).sum().backward()
    ops.conv_transpose2d(x, w.data.transpose(1, 0, 2, 3), stride=2)
    saved = policy.PER_SAMPLE_GEMM_MAX_MNK
    policy.PER_SAMPLE_GEMM_MAX_MNK = 0
    try:
        ops.conv2d(x, w, padding=1)
    finally:
        policy.PER_SAMPLE_GEMM_MAX_MNK = saved


def _winograd(ag, ops, dtype):
    """Winograd's tile kernels: a 3x3 stride-1 conv2d forward and backward, with the
    policy's size limits lowered so that a tiny one takes that path."""
    from ops.kernels import policy

    saved = policy.WINOGRAD, policy.WINOGRAD_MIN_CHANNELS, policy.WINOGRAD_MIN_COLUMN_BYTES
    policy.WINOGRAD, policy.WINOGRAD_MIN_CHANNELS, policy.WINOGRAD_MIN_COLUMN_BYTES = True, 1, 0
    try:
        rng = np.random.default_rng(1)
        x = ag.Tensor(rng.standard_normal((2, 3, 5, 5)).astype(dtype), requires_grad=True)
        w = ag.Tensor(rng.standard_normal((4, 3, 3, 3)).astype(dtype), requires_grad=True)
        ops.conv2d(x, w, padding=1).sum().backward()
    finally:
        policy.WINOGRAD, policy.WINOGRAD_MIN_CHANNELS, policy.WINOGRAD_MIN_COLUMN_BYTES = saved


def _pool(ag, ops, dtype):
    """max and average pooling forward and backward, and max pooling's double backward."""
    x = ag.Tensor(np.random.default_rng(2).standard_normal((2, 3, 6, 6)).astype(dtype),
                  requires_grad=True)
    (gx,) = ag.grad((ops.max_pool2d(x, 2) ** 2).sum(), [x], create_graph=True)
    ag.grad(gx.sum(), [x])  # through the scatter's VJP, the gather
    ops.avg_pool2d(x, 3, stride=2, padding=1).sum().backward()


def _activation(ag, ops, dtype):
    """relu forward and backward."""
    x = ag.Tensor(np.linspace(-1, 1, 6, dtype=dtype), requires_grad=True)
    ops.relu(x).backward(np.ones(6, dtype))  # a contiguous g (sum's is a broadcast view)


def _matmul(ag, ops, dtype):
    """the kernel for batches of small matrices (BLAS runs the rest)."""
    from ops.kernels.matmul import batched_matmul

    a = np.ones((4, 3, 3), dtype)
    batched_matmul(a, a, np.empty_like(a), parallel=False)


def _recurrent(ag, ops, dtype):
    """the GRU and LSTM backward steps."""
    rng = np.random.default_rng(3)

    def t(*shape):
        return ag.Tensor(rng.standard_normal(shape).astype(dtype), requires_grad=True)

    ops.gru_sequence(t(2, 3, 6), t(3, 2), t(2, 6), t(6)).sum().backward()
    ops.lstm_sequence(t(2, 3, 8), t(3, 2), t(3, 2), t(2, 8), t(8)).sum().backward()


FAMILIES = {"conv (im2col, col2im)": _conv, "conv (Winograd tiles)": _winograd,
            "pooling": _pool, "relu": _activation, "batched matmul": _matmul,
            "GRU/LSTM steps": _recurrent}


def warm(dtypes=DTYPES, log=None):
    """Compile (or load from the cache) every kernel for each of ``dtypes``; returns
    {(family, dtype): seconds}. ``log``: a function given one line per family, or None."""
    import autograd.core as ag  # the engine: Tensor and grad
    import ops

    seconds = {}
    for dtype in dtypes:
        for family, run in FAMILIES.items():
            start = time.perf_counter()
            run(ag, ops, np.dtype(dtype))
            seconds[family, dtype] = time.perf_counter() - start
            if log is not None:
                log(f"{family:24s} {dtype:8s} {seconds[family, dtype]:6.2f} s")
    return seconds


def main(argv=None, prog="python -m ops.kernels.warm", warm=warm):
    """The command line of a warm function (this module's, or ``autograd.warm``'s)."""
    p = argparse.ArgumentParser(prog=prog, description=__doc__.splitlines()[0])
    p.add_argument("--dtypes", default=",".join(DTYPES),
                   help="comma-separated dtypes to compile for (default: %(default)s)")
    args = p.parse_args(argv)
    dtypes = [d for d in args.dtypes.split(",") if d]
    for d in dtypes:
        if d not in DTYPES:
            p.error(f"unknown dtype {d!r}; expected some of {', '.join(DTYPES)}")
    import numba

    cache = numba.config.CACHE_DIR or "__pycache__ beside each kernel module"
    print(f"compiling jitgrad's kernels into numba's cache ({cache}):", flush=True)
    seconds = warm(dtypes, log=lambda line: print("  " + line, flush=True))
    print(f"done in {sum(seconds.values()):.1f} s; later processes load the kernels from the "
          "cache")
    return 0


if __name__ == "__main__":
    sys.exit(main())
