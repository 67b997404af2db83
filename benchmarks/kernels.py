"""Kernel benchmarks: matmul, conv2d and max-pool, jitgrad vs numpy vs PyTorch CPU.

    python -m benchmarks.kernels                 # all cores, 15 runs per case
    python -m benchmarks.kernels --threads 1 --repeats 31 --no-compile

Prints Markdown tables on stdout and writes benchmarks/results/kernels.json.

Method: one process; every implementation of a case is warmed up (numba compilation, BLAS
and allocator warm-up), then the implementations run interleaved, ``--repeats`` rounds of
one untimed and one timed call each (see ``timed_interleaved``), so a burst of load from
elsewhere hits them alike; the tables give the median of each and the ratios of those
medians, all measured in this run. Threads: before
numpy is imported, OMP/OPENBLAS/MKL/NUMBA_NUM_THREADS are set to ``--threads`` (default:
all cores), and PyTorch gets ``torch.set_num_threads`` with the same number; OpenBLAS's
idle threads are told not to spin (``OPENBLAS_THREAD_TIMEOUT``), or they slow whatever
runs after a GEMM, which here is another framework. The load
average before and after is stated: on a shared machine, rerun when it is high.

"ours" is ``ops.kernels.matmul.matmul`` for matmul (it dispatches between BLAS and numba),
and the autograd ops ``ops.conv2d`` / ``ops.max_pool2d`` on Tensors with ``.backward(g)``
for conv and pooling (graph bookkeeping included). "numpy" is plain numpy: ``np.matmul``;
for conv an im2col with ``sliding_window_view`` + ``tensordot`` and a col2im that adds the
kernel offsets one at a time; for max-pool a reshape + ``max`` and a mask. PyTorch is
optional (``pip install -e .[bench]``); without it those columns say n/a.

Memory: a fresh array's first write page-faults, and on this machine faulting fresh
(transparent huge) pages from two threads made a kernel 3-30x slower than the same kernel
on reused memory; which allocations get fresh pages depends on what ran before (glibc
returns freed memory to the OS by size and by history), so PyTorch's conv forward measured
anywhere from 6 to 27 ms in one sitting. To time the kernels rather than the OS, the
benchmark asks glibc to keep freed memory for reuse (``mallopt``: no trimming, heap
allocations up to 32 MB), which applies to numpy, PyTorch and jitgrad alike; jitgrad's own
larger arrays come from its pool (ops/kernels/workspace.py). ``--os-allocator`` skips that.

Compile times (unless ``--no-compile``): two fresh processes share an empty
``NUMBA_CACHE_DIR``; the first call of each kernel in the first process is the cold compile
(and writes the cache), in the second the warm first call (the cache loaded, ``cache=True``).
"""

import os
import sys


def _threads_from_argv(argv):
    for i, arg in enumerate(argv):
        if arg == "--threads" and i + 1 < len(argv):
            return int(argv[i + 1])
        if arg.startswith("--threads="):
            return int(arg.split("=", 1)[1])
    return os.cpu_count()


THREADS = _threads_from_argv(sys.argv)
if "numpy" not in sys.modules:  # BLAS reads these once, when numpy loads it
    for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                 "NUMBA_NUM_THREADS"):
        os.environ[_var] = str(THREADS)
    # OpenBLAS's idle threads spin for 2^28 cycles (~0.1 s) after each GEMM, on the cores the
    # next implementation needs: PyTorch's conv forward+backward measured 36 ms right after
    # jitgrad's, 18-22 ms alone. 2^4 cycles lets them sleep at once (see "Threads" above).
    os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")

import argparse  # noqa: E402
import ctypes  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import numba  # noqa: E402
import numpy as np  # noqa: E402
from numpy.lib.stride_tricks import sliding_window_view  # noqa: E402

import ops  # noqa: E402
from autograd import Tensor  # noqa: E402
from ops.kernels import matmul as mm  # noqa: E402

RESULTS = os.path.join(os.path.dirname(__file__), "results", "kernels.json")


# PyTorch's CPU libraries each choose their instruction set when they load; these cap all
# three at AVX2 (--torch-avx2), the set numpy's BLAS is pinned to on the development machine.
TORCH_AVX2_ENV = {"ONEDNN_MAX_CPU_ISA": "AVX2", "ATEN_CPU_CAPABILITY": "avx2",
                  "MKL_ENABLE_INSTRUCTIONS": "AVX2"}


def _torch(avx2=False):
    if avx2:
        os.environ.update(TORCH_AVX2_ENV)
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(THREADS)
    return torch


def timed_interleaved(impls, repeats, warmup=2):
    """{name: median seconds} of ``repeats`` rounds; in each round every impl makes one
    untimed call, then one timed call.

    The untimed call matters: numba, OpenBLAS and PyTorch each keep their own thread pool,
    whose threads spin for a while after a parallel region; the first call after switching
    libraries competes with the previous library's spinning threads (measured: up to 20x
    slower), which is a cost of the switch, not of the kernel.
    """
    for fn in impls.values():
        for _ in range(warmup):
            fn()
    times = {name: [] for name in impls}
    for _ in range(repeats):
        for name, fn in impls.items():
            fn()
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: float(np.median(t)) for name, t in times.items()}


# --- matmul ---------------------------------------------------------------------------
def matmul_cases(torch, repeats):
    rng = np.random.default_rng(0)
    shapes = [("n=256", (256, 256), (256, 256)), ("n=1024", (1024, 1024), (1024, 1024)),
              ("n=2048", (2048, 2048), (2048, 2048)),
              ("batched 512 x (32x32 @ 32x32)", (512, 32, 32), (512, 32, 32)),
              ("batched 4096 x (8x8 @ 8x8)", (4096, 8, 8), (4096, 8, 8)),
              ("batch @ matrix (64, 128, 256) @ (256, 512)", (64, 128, 256), (256, 512))]
    rows = []
    for name, sa, sb in shapes:
        a = rng.standard_normal(sa, dtype=np.float32)
        b = rng.standard_normal(sb, dtype=np.float32)
        flop = 2.0 * np.prod(np.broadcast_shapes(sa[:-2], sb[:-2])) * sa[-2] * sa[-1] * sb[-1]
        impls = {"ours": lambda: mm.matmul(a, b), "numpy": lambda: np.matmul(a, b)}
        if len(sa) == 3 and len(sb) == 3:
            out = np.empty(sa[:-1] + sb[-1:], dtype=np.float32)
            impls["numba kernel"] = lambda: mm.batched_matmul(a, b, out)
            impls["numba kernel, 1 thread"] = lambda: mm.batched_matmul_serial(a, b, out)
        if torch is not None:
            ta, tb = torch.from_numpy(a), torch.from_numpy(b)
            impls["torch"] = lambda: torch.matmul(ta, tb)
        np.testing.assert_allclose(mm.matmul(a, b), np.matmul(a, b), rtol=2e-3, atol=2e-3)
        seconds = timed_interleaved(impls, repeats)
        rows.append({"case": f"matmul float32 {name}", "unit": "GFLOP/s", "flop": flop,
                     "seconds": seconds,
                     "gflops": {k: flop / s / 1e9 for k, s in seconds.items()}})
    return rows


# --- conv2d ---------------------------------------------------------------------------
def numpy_conv2d(x, w, b, stride, padding, dilation):
    """Plain-numpy im2col conv: x (N, C, H, W), w (O, C, kh, kw) -> (y, windows)."""
    o, c, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    span_h, span_w = dilation * (kh - 1) + 1, dilation * (kw - 1) + 1
    # (N, C, Hp, Wp) -> (N, C, OH, OW, kh, kw), a strided view
    windows = sliding_window_view(xp, (span_h, span_w), axis=(2, 3))[
        :, :, ::stride, ::stride, ::dilation, ::dilation]
    y = np.tensordot(windows, w, axes=([1, 4, 5], [1, 2, 3]))  # (N, OH, OW, O)
    y = y.transpose(0, 3, 1, 2) + b[:, None, None]  # -> (N, O, OH, OW)
    return y, windows


def numpy_conv2d_backward(g, x, w, windows, stride, padding, dilation):
    """g (N, O, OH, OW) -> (gx, gw, gb); col2im adds one kernel offset at a time."""
    n, c, h, wd = x.shape
    kh, kw = w.shape[2:]
    oh, ow = g.shape[2:]
    gw = np.tensordot(g, windows, axes=([0, 2, 3], [0, 2, 3]))  # (O, C, kh, kw)
    gb = g.sum(axis=(0, 2, 3))
    cols = np.tensordot(w, g, axes=([0], [1]))  # (C, kh, kw, N, OH, OW)
    gxp = np.zeros((c, n, h + 2 * padding, wd + 2 * padding), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            r0, c0 = i * dilation, j * dilation
            gxp[:, :, r0:r0 + stride * oh:stride, c0:c0 + stride * ow:stride] += cols[:, i, j]
    gx = gxp[:, :, padding:padding + h, padding:padding + wd].transpose(1, 0, 2, 3)
    return gx, gw, gb


def conv_cases(torch, repeats):
    rng = np.random.default_rng(1)
    cases = [("N=64, C 32->64, 28x28, 3x3, pad 1", 64, 32, 64, 28, 1, 1, 1),
             ("first layer N=64, C 1->32, 28x28, 3x3, pad 1", 64, 1, 32, 28, 1, 1, 1),
             ("N=64, C 32->64, 28x28, 3x3, stride 2, pad 2, dilation 2", 64, 32, 64, 28, 2, 2, 2)]
    rows = []
    for name, n, c, o, size, stride, padding, dilation in cases:
        x = rng.standard_normal((n, c, size, size), dtype=np.float32)
        w = rng.standard_normal((o, c, 3, 3), dtype=np.float32) / np.float32(np.sqrt(9 * c))
        b = rng.standard_normal(o, dtype=np.float32)
        y_ref, _ = numpy_conv2d(x, w, b, stride, padding, dilation)
        g = rng.standard_normal(y_ref.shape, dtype=np.float32)
        geo = dict(stride=stride, padding=padding, dilation=dilation)
        tx, tw, tb = (Tensor(a, requires_grad=True) for a in (x, w, b))

        def ours_fwd():
            ops.conv2d(Tensor(x), Tensor(w), Tensor(b), **geo)

        def ours_fwd_bwd():
            tx.grad = tw.grad = tb.grad = None
            ops.conv2d(tx, tw, tb, **geo).backward(g)

        def numpy_fwd():
            numpy_conv2d(x, w, b, stride, padding, dilation)

        def numpy_fwd_bwd():
            y, windows = numpy_conv2d(x, w, b, stride, padding, dilation)
            numpy_conv2d_backward(g, x, w, windows, stride, padding, dilation)

        fwd = {"ours": ours_fwd, "numpy": numpy_fwd}
        fwd_bwd = {"ours": ours_fwd_bwd, "numpy": numpy_fwd_bwd}
        np.testing.assert_allclose(ops.conv2d(x, w, b, **geo).data, y_ref, rtol=1e-3, atol=1e-3)
        if torch is not None:
            F = torch.nn.functional
            px, pw, pb = (torch.from_numpy(a.copy()).requires_grad_() for a in (x, w, b))
            pg = torch.from_numpy(g)

            def torch_fwd():
                with torch.no_grad():
                    F.conv2d(px, pw, pb, **geo)

            def torch_fwd_bwd():
                px.grad = pw.grad = pb.grad = None
                F.conv2d(px, pw, pb, **geo).backward(pg)

            fwd["torch"], fwd_bwd["torch"] = torch_fwd, torch_fwd_bwd
        rows.append({"case": f"conv2d float32 {name}, forward", "unit": "ms",
                     "seconds": timed_interleaved(fwd, repeats)})
        rows.append({"case": f"conv2d float32 {name}, forward+backward", "unit": "ms",
                     "seconds": timed_interleaved(fwd_bwd, repeats)})
    return rows


# --- max-pool -------------------------------------------------------------------------
def pool_cases(torch, repeats):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((64, 32, 28, 28), dtype=np.float32)
    g = rng.standard_normal((64, 32, 14, 14), dtype=np.float32)
    tx = Tensor(x, requires_grad=True)

    def ours_fwd():
        ops.max_pool2d(x, 2)

    def ours_fwd_bwd():
        tx.grad = None
        ops.max_pool2d(tx, 2).backward(g)

    def numpy_fwd():
        x.reshape(64, 32, 14, 2, 14, 2).max(axis=(3, 5))

    def numpy_fwd_bwd():
        blocks = x.reshape(64, 32, 14, 2, 14, 2)  # (N, C, H, W) -> (N, C, OH, 2, OW, 2)
        out = blocks.max(axis=(3, 5), keepdims=True)
        (blocks == out) * g[:, :, :, None, :, None]  # ties share: a baseline, not exact

    fwd = {"ours": ours_fwd, "numpy": numpy_fwd}
    fwd_bwd = {"ours": ours_fwd_bwd, "numpy": numpy_fwd_bwd}
    if torch is not None:
        px, pg = torch.from_numpy(x.copy()).requires_grad_(), torch.from_numpy(g)

        def torch_fwd():
            with torch.no_grad():
                torch.nn.functional.max_pool2d(px, 2)

        def torch_fwd_bwd():
            px.grad = None
            torch.nn.functional.max_pool2d(px, 2).backward(pg)

        fwd["torch"], fwd_bwd["torch"] = torch_fwd, torch_fwd_bwd
    case = "max_pool2d 2x2 float32 (64, 32, 28, 28)"
    return [{"case": f"{case}, forward", "unit": "ms", "seconds": timed_interleaved(fwd, repeats)},
            {"case": f"{case}, forward+backward", "unit": "ms",
             "seconds": timed_interleaved(fwd_bwd, repeats)}]


# --- compile times --------------------------------------------------------------------
PROBE = r"""
import json, time
import numpy as np
start = time.perf_counter()
import ops
from autograd import Tensor
from ops.kernels import matmul as mm
first = {"import ops": time.perf_counter() - start}

def timed(name, fn):
    start = time.perf_counter()
    fn()
    first[name] = time.perf_counter() - start

rng = np.random.default_rng(0)
x = Tensor(rng.standard_normal((4, 8, 32, 32), dtype=np.float32), requires_grad=True)
w = Tensor(rng.standard_normal((8, 8, 3, 3), dtype=np.float32), requires_grad=True)
a = rng.standard_normal((64, 16, 16), dtype=np.float32)
timed("max_pool2d fwd+bwd", lambda: ops.max_pool2d(x, 2).sum().backward())
timed("avg_pool2d fwd+bwd", lambda: ops.avg_pool2d(x, 2).sum().backward())
timed("conv2d fwd+bwd", lambda: ops.conv2d(x, w, padding=1).sum().backward())
timed("batched matmul", lambda: mm.batched_matmul(a, a, np.empty_like(a)))
print(json.dumps(first))
"""


def compile_times():
    """Seconds of the first call of each kernel family: cold (compiling) and warm (cache)."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache, PYTHONPATH=root)
        runs = []
        for _ in ("cold", "warm"):
            done = subprocess.run([sys.executable, "-c", PROBE], env=env, cwd=root,
                                  capture_output=True, text=True, check=True)
            runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return {name: {"cold": runs[0][name], "warm": runs[1][name]} for name in runs[0]}


# --- allocator ------------------------------------------------------------------------
def keep_freed_memory():
    """Make glibc's malloc keep freed memory for reuse (see the module docstring); True if
    it did, False where there is no glibc."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3  # from glibc's malloc.h
    trimmed = libc.mallopt(m_trim_threshold, 2**30)
    mapped = libc.mallopt(m_mmap_threshold, 32 * 2**20)  # glibc's largest allowed value
    return bool(trimmed and mapped)


# --- report ---------------------------------------------------------------------------
def _fmt(row, impl):
    seconds = row["seconds"].get(impl)
    if seconds is None:
        return "n/a"
    if row["unit"] == "GFLOP/s":
        return f"{row['gflops'][impl]:.1f}"
    return f"{seconds * 1e3:.2f}"


def ratios(row):
    """ours / other as time ratios (lower is better for ours), same run."""
    ours = row["seconds"]["ours"]
    return {f"ours/{k}": ours / s for k, s in row["seconds"].items() if k != "ours"}


def markdown(rows, meta, compile_rows):
    lines = [
        f"Kernel benchmarks: {meta['threads']} thread(s) for numba, BLAS and PyTorch; median "
        f"of {meta['repeats']} interleaved runs; load average {meta['load_before']:.1f} "
        f"before, {meta['load_after']:.1f} after; torch {meta['torch'] or 'not installed'}"
        f"{' capped at AVX2' if meta['torch_avx2'] else ''}; "
        f"freed memory {'kept for reuse' if meta['keep_freed_memory'] else 'returned to the OS'}.",
        "",
        "| case | unit | ours | numpy | PyTorch | ours vs numpy | ours vs PyTorch | other |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        r = ratios(row)
        speed = row["unit"] == "GFLOP/s"  # speed ratios for GFLOP/s, time ratios for ms

        def rel(key):
            if key not in r:
                return "n/a"
            return f"{1 / r[key]:.2f}x speed" if speed else f"{r[key]:.2f}x time"

        others = ", ".join(f"{k}: {_fmt(row, k)}" for k in row["seconds"]
                           if k not in ("ours", "numpy", "torch"))
        lines.append(f"| {row['case']} | {row['unit']} | {_fmt(row, 'ours')} | "
                     f"{_fmt(row, 'numpy')} | {_fmt(row, 'torch')} | {rel('ours/numpy')} | "
                     f"{rel('ours/torch')} | {others} |")
    if compile_rows:
        lines += ["", "| first call (numba cache=True) | cold: compiling, s | warm: cached, s |",
                  "|---|---:|---:|"]
        lines += [f"| {k} | {v['cold']:.2f} | {v['warm']:.3f} |" for k, v in compile_rows.items()]
    return "\n".join(lines)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=os.cpu_count(),
                   help="threads for numba, BLAS and PyTorch (default: all cores)")
    p.add_argument("--repeats", type=int, default=15, help="timed runs per implementation")
    p.add_argument("--no-compile", action="store_true", help="skip the compile-time probe")
    p.add_argument("--torch-avx2", action="store_true",
                   help="cap PyTorch's oneDNN, ATen and MKL at AVX2 instructions")
    p.add_argument("--os-allocator", action="store_true",
                   help="leave glibc's malloc settings alone (see the module docstring)")
    p.add_argument("--only", choices=["matmul", "conv", "pool"], action="append",
                   help="run only these groups (repeatable)")
    args = p.parse_args()
    kept = False if args.os_allocator else keep_freed_memory()
    numba.set_num_threads(THREADS)
    torch = _torch(avx2=args.torch_avx2)
    load_before = os.getloadavg()[0]
    groups = {"matmul": matmul_cases, "conv": conv_cases, "pool": pool_cases}
    rows = []
    for name, cases in groups.items():
        if args.only is None or name in args.only:
            rows += cases(torch, args.repeats)
    compile_rows = None if args.no_compile else compile_times()
    meta = {"date": time.strftime("%Y-%m-%d %H:%M:%S"), "threads": THREADS,
            "repeats": args.repeats, "load_before": load_before, "keep_freed_memory": kept,
            "load_after": os.getloadavg()[0], "machine": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(), "numba": numba.__version__,
            "numba_threading_layer": numba.threading_layer(), "numpy": np.__version__,
            "torch": torch.__version__ if torch is not None else None,
            "torch_avx2": args.torch_avx2}
    print(markdown(rows, meta, compile_rows))
    for row in rows:
        row["ratios"] = ratios(row)
    os.makedirs(os.path.dirname(RESULTS), exist_ok=True)
    with open(RESULTS, "w") as f:
        json.dump({"meta": meta, "rows": rows, "compile_seconds": compile_rows}, f, indent=2)
    print(f"\nwrote {os.path.relpath(RESULTS)}")


if __name__ == "__main__":
    main()
