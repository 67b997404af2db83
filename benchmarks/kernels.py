"""Kernel benchmarks: matmul, conv2d and max-pool, jitgrad vs numpy vs PyTorch CPU.

    python -m benchmarks.kernels                     # each library's own thread defaults
    python -m benchmarks.kernels --threads 1         # 1 thread for every library, printed
    python -m benchmarks.kernels --only conv --rounds 5 --repeats 21 --no-compile

Prints Markdown tables on stdout and writes benchmarks/results/kernels.json.

Method (benchmarks/README.md): each framework runs in a fresh process of its own (a worker:
``--worker ours|numpy|torch``), with the same environment: this process's, plus only what
the command line asks for (``--threads N`` sets OMP/OPENBLAS/MKL/NUMBA_NUM_THREADS for every
worker alike; ``--torch-avx2`` the variables that cap PyTorch's libraries at AVX2, also for
every worker); both are printed. Nothing else is tuned: no ``torch.set_num_threads``, no
allocator or BLAS settings. A worker warms each case up (numba's cache, allocator, thread
pools), then times ``--repeats`` calls; the driver runs ``--rounds`` rounds of fresh workers,
one per framework in turn, so that a burst of load from elsewhere spreads over all of them,
and reports the median of all timed calls of each framework, the quartiles, and the ratios
of the medians. Each worker reports what it saw (thread variables and counts, OpenMP
runtimes, threadpoolctl's pools with the BLAS core type when it is installed).

"ours" is ``ops.kernels.matmul.matmul`` for matmul (it dispatches between BLAS and numba),
and the autograd ops ``ops.conv2d`` / ``ops.max_pool2d`` on Tensors with ``.backward(g)``
for conv and pooling (graph bookkeeping included). "numpy" is plain numpy: ``np.matmul``;
for conv an im2col with ``sliding_window_view`` + ``tensordot`` and a col2im that adds the
kernel offsets one at a time; for max-pool a reshape + ``max`` and a mask. PyTorch is
optional (``pip install -e .[bench]``); without it those columns say n/a.

Compile times (unless ``--no-compile``): two fresh processes share an empty
``NUMBA_CACHE_DIR``; the first call of each kernel in the first process is the cold compile
(and writes the cache), in the second the warm first call (the cache loaded, ``cache=True``).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import types

from benchmarks.common import (ROOT, machine, machine_line, run_worker, seen, spread,
                               thread_variables, worker_environment)

RESULTS = ROOT / "benchmarks" / "results" / "kernels.json"
FRAMEWORKS = ("ours", "numpy", "torch")

# --torch-avx2: PyTorch's CPU libraries each choose their instruction set when they load;
# these cap all three at AVX2, the set numpy's BLAS is pinned to where OPENBLAS_CORETYPE is
# Haswell. Set for every worker (numpy and numba ignore them) and printed.
TORCH_AVX2_ENV = {"ONEDNN_MAX_CPU_ISA": "AVX2", "ATEN_CPU_CAPABILITY": "avx2",
                  "MKL_ENABLE_INSTRUCTIONS": "AVX2"}


def timed(fn, repeats, warmup=2):
    """Seconds of ``repeats`` calls of fn after ``warmup`` untimed ones."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


# --- cases: for one framework, {case name: (unit, flop or None, {impl: fn})} -------------
MATMUL_SHAPES = [("n=256", (256, 256), (256, 256)), ("n=1024", (1024, 1024), (1024, 1024)),
                 ("n=2048", (2048, 2048), (2048, 2048)),
                 ("batched 512 x (32x32 @ 32x32)", (512, 32, 32), (512, 32, 32)),
                 ("batched 4096 x (8x8 @ 8x8)", (4096, 8, 8), (4096, 8, 8)),
                 ("batch @ matrix (64, 128, 256) @ (256, 512)", (64, 128, 256), (256, 512))]


def matmul_cases(framework, np, lib):
    """``lib``: for ours a namespace of ops, Tensor and mm (ops.kernels.matmul); for torch
    the torch module; for numpy None (as in the other groups)."""
    rng = np.random.default_rng(0)
    cases = {}
    for name, sa, sb in MATMUL_SHAPES:
        a = rng.standard_normal(sa, dtype=np.float32)
        b = rng.standard_normal(sb, dtype=np.float32)
        flop = 2.0 * np.prod(np.broadcast_shapes(sa[:-2], sb[:-2])) * sa[-2] * sa[-1] * sb[-1]
        impls = {}
        if framework == "ours":
            mm = lib.mm
            np.testing.assert_allclose(mm.matmul(a, b), np.matmul(a, b), rtol=2e-3, atol=2e-3)
            impls["ours"] = lambda a=a, b=b: mm.matmul(a, b)
            if len(sa) == 3 and len(sb) == 3:
                out = np.empty(sa[:-1] + sb[-1:], dtype=np.float32)
                impls["numba kernel"] = lambda a=a, b=b, o=out: mm.batched_matmul(
                    a, b, o, parallel=True)
                impls["numba kernel, 1 thread"] = lambda a=a, b=b, o=out: mm.batched_matmul(
                    a, b, o, parallel=False)
        elif framework == "numpy":
            impls["numpy"] = lambda a=a, b=b: np.matmul(a, b)
        else:
            ta, tb = lib.from_numpy(a), lib.from_numpy(b)
            impls["torch"] = lambda ta=ta, tb=tb: lib.matmul(ta, tb)
        cases[f"matmul float32 {name}"] = ("GFLOP/s", float(flop), impls)
    return cases


def numpy_conv2d(np, x, w, b, stride, padding, dilation):
    """Plain-numpy im2col conv: x (N, C, H, W), w (O, C, kh, kw) -> (y, windows)."""
    from numpy.lib.stride_tricks import sliding_window_view

    o, c, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    span_h, span_w = dilation * (kh - 1) + 1, dilation * (kw - 1) + 1
    # (N, C, Hp, Wp) -> (N, C, OH, OW, kh, kw), a strided view
    windows = sliding_window_view(xp, (span_h, span_w), axis=(2, 3))[
        :, :, ::stride, ::stride, ::dilation, ::dilation]
    y = np.tensordot(windows, w, axes=([1, 4, 5], [1, 2, 3]))  # (N, OH, OW, O)
    y = y.transpose(0, 3, 1, 2) + b[:, None, None]  # -> (N, O, OH, OW)
    return y, windows


def numpy_conv2d_backward(np, g, x, w, windows, stride, padding, dilation):
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


CONV_CASES = [("N=64, C 32->64, 28x28, 3x3, pad 1", 64, 32, 64, 28, 1, 1, 1),
              ("first layer N=64, C 1->32, 28x28, 3x3, pad 1", 64, 1, 32, 28, 1, 1, 1),
              ("N=64, C 32->64, 28x28, 3x3, stride 2, pad 2, dilation 2", 64, 32, 64, 28, 2, 2,
               2)]


def conv_cases(framework, np, lib):
    rng = np.random.default_rng(1)
    cases = {}
    for name, n, c, o, size, stride, padding, dilation in CONV_CASES:
        x = rng.standard_normal((n, c, size, size), dtype=np.float32)
        w = rng.standard_normal((o, c, 3, 3), dtype=np.float32) / np.float32(np.sqrt(9 * c))
        b = rng.standard_normal(o, dtype=np.float32)
        y_ref, _ = numpy_conv2d(np, x, w, b, stride, padding, dilation)
        g = rng.standard_normal(y_ref.shape, dtype=np.float32)
        geo = dict(stride=stride, padding=padding, dilation=dilation)
        if framework == "ours":
            ops, Tensor = lib.ops, lib.Tensor
            np.testing.assert_allclose(ops.conv2d(x, w, b, **geo).data, y_ref, rtol=1e-3,
                                       atol=1e-3)
            tx, tw, tb = (Tensor(a, requires_grad=True) for a in (x, w, b))

            def fwd(x=x, w=w, b=b, geo=geo):
                ops.conv2d(Tensor(x), Tensor(w), Tensor(b), **geo)

            def fwd_bwd(tx=tx, tw=tw, tb=tb, g=g, geo=geo):
                tx.grad = tw.grad = tb.grad = None
                ops.conv2d(tx, tw, tb, **geo).backward(g)
        elif framework == "numpy":
            def fwd(x=x, w=w, b=b, s=stride, p=padding, d=dilation):
                numpy_conv2d(np, x, w, b, s, p, d)

            def fwd_bwd(x=x, w=w, b=b, g=g, s=stride, p=padding, d=dilation):
                _, windows = numpy_conv2d(np, x, w, b, s, p, d)
                numpy_conv2d_backward(np, g, x, w, windows, s, p, d)
        else:
            torch, F = lib, lib.nn.functional
            px, pw, pb = (torch.from_numpy(a.copy()).requires_grad_() for a in (x, w, b))
            pg = torch.from_numpy(g)

            def fwd(px=px, pw=pw, pb=pb, geo=geo):
                with torch.no_grad():
                    F.conv2d(px, pw, pb, **geo)

            def fwd_bwd(px=px, pw=pw, pb=pb, pg=pg, geo=geo):
                px.grad = pw.grad = pb.grad = None
                F.conv2d(px, pw, pb, **geo).backward(pg)
        cases[f"conv2d float32 {name}, forward"] = ("ms", None, {framework: fwd})
        cases[f"conv2d float32 {name}, forward+backward"] = ("ms", None, {framework: fwd_bwd})
    return cases


def pool_cases(framework, np, lib):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((64, 32, 28, 28), dtype=np.float32)
    g = rng.standard_normal((64, 32, 14, 14), dtype=np.float32)
    if framework == "ours":
        ops, tx = lib.ops, lib.Tensor(x, requires_grad=True)

        def fwd():
            ops.max_pool2d(x, 2)

        def fwd_bwd():
            tx.grad = None
            ops.max_pool2d(tx, 2).backward(g)
    elif framework == "numpy":
        def fwd():
            x.reshape(64, 32, 14, 2, 14, 2).max(axis=(3, 5))

        def fwd_bwd():
            blocks = x.reshape(64, 32, 14, 2, 14, 2)  # (N, C, H, W) -> (N, C, OH, 2, OW, 2)
            out = blocks.max(axis=(3, 5), keepdims=True)
            (blocks == out) * g[:, :, :, None, :, None]  # ties share: a baseline, not exact
    else:
        torch = lib
        px, pg = torch.from_numpy(x.copy()).requires_grad_(), torch.from_numpy(g)

        def fwd():
            with torch.no_grad():
                torch.nn.functional.max_pool2d(px, 2)

        def fwd_bwd():
            px.grad = None
            torch.nn.functional.max_pool2d(px, 2).backward(pg)
    case = "max_pool2d 2x2 float32 (64, 32, 28, 28)"
    return {f"{case}, forward": ("ms", None, {framework: fwd}),
            f"{case}, forward+backward": ("ms", None, {framework: fwd_bwd})}


GROUPS = {"matmul": matmul_cases, "conv": conv_cases, "pool": pool_cases}


def worker(framework, groups, repeats):
    """Time every case of ``groups`` for one framework, in this (fresh) process."""
    import numpy as np

    if framework == "ours":
        import ops
        from autograd import Tensor
        from ops.kernels import matmul

        lib = types.SimpleNamespace(ops=ops, Tensor=Tensor, mm=matmul)
    elif framework == "torch":
        import torch

        lib = torch
    else:
        lib = None
    rows = {}
    for group in groups:
        for case, (unit, flop, impls) in GROUPS[group](framework, np, lib).items():
            rows[case] = {"unit": unit, "flop": flop,
                          "seconds": {impl: timed(fn, repeats) for impl, fn in impls.items()}}
    return {"framework": framework, "rows": rows, "seen": seen()}


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


def compile_times(env):
    """Seconds of the first call of each kernel family: cold (compiling) and warm (cache)."""
    with tempfile.TemporaryDirectory() as cache:
        runs = []
        for _ in ("cold", "warm"):
            done = subprocess.run([sys.executable, "-c", PROBE],
                                  env=dict(env, NUMBA_CACHE_DIR=cache), cwd=ROOT,
                                  capture_output=True, text=True, check=True)
            runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return {name: {"cold": runs[0][name], "warm": runs[1][name]} for name in runs[0]}


# --- report ---------------------------------------------------------------------------
def merge(worker_results):
    """{case: {"unit", "flop", "seconds": {impl: [all timed calls, all rounds]}}}."""
    rows = {}
    for result in worker_results:
        for case, row in result["rows"].items():
            merged = rows.setdefault(case, {"unit": row["unit"], "flop": row["flop"],
                                            "seconds": {}})
            for impl, times in row["seconds"].items():
                merged["seconds"].setdefault(impl, []).extend(times)
    for row in rows.values():
        row["spread"] = {impl: spread(t) for impl, t in row["seconds"].items()}
    return rows


def _cell(row, impl):
    s = row["spread"].get(impl)
    if s is None:
        return "n/a"
    if row["unit"] == "GFLOP/s":  # the median time's speed; the quartiles of time, as speeds
        f = row["flop"] / 1e9
        return f"{f / s['median']:.1f} ({f / s['q3']:.0f}-{f / s['q1']:.0f})"
    return f"{s['median'] * 1e3:.2f} ({s['q1'] * 1e3:.2f}-{s['q3'] * 1e3:.2f})"


def ratios(row):
    """ours / other, medians of time (lower is better for ours)."""
    med = {impl: s["median"] for impl, s in row["spread"].items()}
    return {f"ours/{k}": med["ours"] / v for k, v in med.items() if k != "ours"} \
        if "ours" in med else {}


def markdown(rows, meta, compile_rows):
    lines = [
        f"Kernel benchmarks on {machine_line(meta['machine'])}. Each framework in its own "
        f"fresh process, {meta['rounds']} round(s) x {meta['repeats']} timed calls; variables "
        f"set for every worker: {meta['extra_environment'] or 'none'}; load average "
        f"{meta['load_before']:.1f} before, {meta['load_after']:.1f} after; torch "
        f"{meta['torch'] or 'not installed'}. Cells: median (quartiles).",
        "",
        "| case | unit | ours | numpy | PyTorch | ours vs numpy | ours vs PyTorch | other |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for case, row in rows.items():
        r = ratios(row)
        speed = row["unit"] == "GFLOP/s"

        def rel(key):
            if key not in r:
                return "n/a"
            return f"{1 / r[key]:.2f}x speed" if speed else f"{r[key]:.2f}x time"

        others = ", ".join(f"{k}: {_cell(row, k)}" for k in row["spread"]
                           if k not in FRAMEWORKS)
        lines.append(f"| {case} | {row['unit']} | {_cell(row, 'ours')} | "
                     f"{_cell(row, 'numpy')} | {_cell(row, 'torch')} | {rel('ours/numpy')} | "
                     f"{rel('ours/torch')} | {others} |")
    lines += ["", "What each worker saw (first round):"]
    lines += [f"- {fw}: {json.dumps(s)}" for fw, s in meta["seen"].items()]
    if compile_rows:
        lines += ["", "| first call (numba cache=True) | cold: compiling, s | warm: cached, s |",
                  "|---|---:|---:|"]
        lines += [f"| {k} | {v['cold']:.2f} | {v['warm']:.3f} |" for k, v in compile_rows.items()]
    return "\n".join(lines)


def torch_installed():
    import importlib.util

    return importlib.util.find_spec("torch") is not None


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m benchmarks.kernels",
                                description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=None,
                   help="threads for every library alike (default: each library's own)")
    p.add_argument("--repeats", type=int, default=15, help="timed calls per case and worker")
    p.add_argument("--rounds", type=int, default=3,
                   help="fresh worker processes per framework, taken in turn")
    p.add_argument("--no-compile", action="store_true", help="skip the compile-time probe")
    p.add_argument("--torch-avx2", action="store_true",
                   help="cap PyTorch's oneDNN, ATen and MKL at AVX2 instructions")
    p.add_argument("--only", choices=sorted(GROUPS), action="append",
                   help="run only these groups (repeatable)")
    p.add_argument("--worker", choices=FRAMEWORKS, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    groups = args.only or list(GROUPS)
    if args.worker:
        print(json.dumps(worker(args.worker, groups, args.repeats)))
        return 0

    extra = thread_variables(args.threads)
    if args.torch_avx2:
        extra.update(TORCH_AVX2_ENV)
    env = worker_environment(extra)
    frameworks = [f for f in FRAMEWORKS if f != "torch" or torch_installed()]
    load_before = os.getloadavg()[0]
    results, seen_by = [], {}
    for r in range(args.rounds):
        for fw in frameworks:
            print(f"{fw} ({r + 1}/{args.rounds}) ...", file=sys.stderr, flush=True)
            cmd = ["benchmarks.kernels", "--worker", fw, "--repeats", str(args.repeats)]
            for g in groups:
                cmd += ["--only", g]
            result = run_worker(cmd, env)
            results.append(result)
            seen_by.setdefault(fw, result["seen"])
    rows = merge(results)
    compile_rows = None if args.no_compile else compile_times(env)
    meta = {"date": time.strftime("%Y-%m-%d %H:%M:%S"), "machine": machine(),
            "rounds": args.rounds, "repeats": args.repeats, "extra_environment": extra,
            "load_before": load_before, "load_after": os.getloadavg()[0], "seen": seen_by,
            "torch": None}
    if "torch" in frameworks:
        meta["torch"] = subprocess.run(
            [sys.executable, "-c", "import torch; print(torch.__version__)"], env=env,
            capture_output=True, text=True).stdout.strip()
    print(markdown(rows, meta, compile_rows))
    for row in rows.values():
        row["ratios"] = ratios(row)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"meta": meta, "rows": rows, "compile_seconds": compile_rows},
                                  indent=1))
    print(f"\nwrote {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
