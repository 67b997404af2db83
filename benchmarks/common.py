"""What every benchmark shares: the machine, the clean environment of its workers, what a
worker saw, and the summary of a list of timings.

The rules (benchmarks/README.md, "Method"): each framework runs in a fresh process of its
own, with the same environment, the parent's as it is plus only the variables the user asked
for on the command line (``--threads``), applied to every framework alike and printed; no
framework's defaults are tuned; each worker reports the thread pools it saw.
"""

import json
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
THREAD_VARS = ("OMP_", "GOMP_", "KMP_", "OPENBLAS_", "MKL_", "NUMBA_", "GOTO", "BLIS_",
               "ONEDNN_", "ATEN_")


def thread_variables(threads):
    """The variables ``--threads N`` sets, for every framework alike; {} for None (each
    library keeps its default: all cores for numpy's BLAS, numba and PyTorch)."""
    if threads is None:
        return {}
    return {var: str(threads) for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                          "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")}


def worker_environment(extra=None):
    """This process's environment plus ``extra``: what every worker gets."""
    env = dict(os.environ)
    env.update(extra or {})
    return env


def run_worker(args, env, timeout=3600):
    """Run ``python -m <args...>`` in ROOT with ``env``; its last stdout line is JSON."""
    done = subprocess.run([sys.executable, "-m", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)
    if done.returncode:
        raise RuntimeError(f"worker {' '.join(args)} failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def machine():
    """CPU model, instruction sets and the BLAS-related variables of the environment."""
    model, flags = platform.processor() or platform.machine(), set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() == "model name":
                    model = value.strip()
                elif key.strip() == "flags":
                    flags = set(value.split())
    except OSError:
        pass
    return {
        "cpu": model,
        "cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
        else os.cpu_count(),
        "avx2": "avx2" in flags,
        "avx512f": "avx512f" in flags,
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"),
        "python": platform.python_version(),
    }


def machine_line(m):
    isa = "AVX-512" if m["avx512f"] else "AVX2" if m["avx2"] else "no AVX2"
    return (f"{m['cpu']}, {m['cores']} cores, {isa}; OPENBLAS_CORETYPE="
            f"{m['OPENBLAS_CORETYPE'] or '(not set)'}")


def openmp_runtimes():
    """Paths of the OpenMP runtimes (libgomp, libiomp, libomp) mapped into this process."""
    found = set()
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                path = line.split()[-1]
                if any(name in path for name in ("libgomp", "libiomp", "libomp")):
                    found.add(path)
    except OSError:
        pass
    return sorted(found)


def seen():
    """What this worker process saw: thread variables, thread counts, OpenMP runtimes and,
    when threadpoolctl is installed, every native thread pool with its BLAS core type."""
    out = {"environment": {k: v for k, v in sorted(os.environ.items())
                           if k.startswith(THREAD_VARS)}}
    if "ops" in sys.modules:
        from ops.kernels import policy

        out["jitgrad_kernel_threads"] = policy.get_num_threads()
    if "numba" in sys.modules:
        import numba

        try:
            out["numba_threading_layer"] = numba.threading_layer()
        except ValueError:
            out["numba_threading_layer"] = "not started"
    if "torch" in sys.modules:
        import torch

        out["torch_threads"] = torch.get_num_threads()
        out["torch_interop_threads"] = torch.get_num_interop_threads()
    out["openmp_runtimes"] = openmp_runtimes()
    try:
        import threadpoolctl
    except ImportError:
        out["thread_pools"] = "threadpoolctl not installed"
    else:
        keys = ("user_api", "internal_api", "num_threads", "version", "threading_layer",
                "architecture")
        out["thread_pools"] = [{k: info.get(k) for k in keys if k in info}
                               for info in threadpoolctl.threadpool_info()]
    return out


def spread(values):
    """Median, quartiles and extremes of a list of timings."""
    v = sorted(values)
    # "inclusive": quartiles within the data, however few the timings
    q = statistics.quantiles(v, n=4, method="inclusive") if len(v) > 1 else [v[0]] * 3
    return {"median": statistics.median(v), "q1": q[0], "q3": q[2], "min": v[0], "max": v[-1],
            "n": len(v)}
