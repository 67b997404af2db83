"""One CNN training step, with and without ``import torch`` first, each in a fresh process.

    python -m benchmarks.cnn_step                    # ours alone vs torch imported first
    python -m benchmarks.cnn_step --runs 5 --steps 40
    python -m benchmarks.cnn_step --env OMP_WAIT_POLICY=PASSIVE   # a variable, for both

The step is the training command's CNN (``autograd.models.CNN``: conv 1->32, pool, conv
32->64, pool, fc 3136->128->10), batch 64 of random 28x28 images, cross-entropy, backward
and an Adam update. Each configuration runs in ``--runs`` fresh processes, interleaved
(alone, torch first, alone, ...), so a burst of load from elsewhere hits both alike. A
worker makes ``--warmup`` untimed steps (numba's cache, allocator, thread pools), then
times ``--steps`` steps one by one; it reports the median step and the spread, the CPU
time per step of all its threads (on a shared machine a steadier measure than wall time,
and one that counts threads spinning while they wait), and what it saw: the environment's
thread variables, our kernels' thread count, numba's threading layer (if any kernel
started one), the OpenMP runtimes mapped into the process and, when threadpoolctl is
installed, every thread pool with its BLAS core type.

Every worker gets the same environment: this process's own, plus the ``--env`` variables
(printed), to both configurations alike. "torch first" only imports torch before numpy and
jitgrad (as a user's script that imports both may); it runs no torch op.
"""

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

from benchmarks.common import machine, machine_line, run_worker, seen, spread, worker_environment

CONFIGS = {"alone": False, "torch first": True}


def worker(torch_first, warmup, steps):
    if torch_first:
        import torch  # noqa: F401  (only imported: what a user's script may do first)
    import numpy as np

    import optim
    from autograd import Tensor
    from autograd.models import CNN
    from autograd.training import make_train_step

    rng = np.random.default_rng(0)
    x = rng.random((64, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, 64)
    model = CNN()
    train_step = make_train_step(model, optim.Adam(model.parameters(), lr=1e-3))

    def step():
        train_step(Tensor(x), y)

    for _ in range(warmup):
        step()
    times = []
    cpu_start, wall_start = time.process_time(), time.perf_counter()
    for _ in range(steps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    # CPU seconds of all threads: they count work, and also threads spinning while they wait
    # for work, but not the time other processes held the cores. On a shared machine they
    # compare configurations better than wall time does.
    cpu = time.process_time() - cpu_start
    cpu_per_wall = cpu / (time.perf_counter() - wall_start)
    return {"step_seconds": times, "cpu_per_wall": cpu_per_wall, "cpu_per_step": cpu / steps,
            "torch_imported": "torch" in sys.modules, "seen": seen()}


def spawn(torch_first, args, env):
    cmd = ["benchmarks.cnn_step", "--worker", "--warmup", str(args.warmup),
           "--steps", str(args.steps)]
    return run_worker(cmd + (["--torch-first"] if torch_first else []), env)


def torch_installed():
    import importlib.util

    return importlib.util.find_spec("torch") is not None


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m benchmarks.cnn_step",
                                description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=3, help="fresh processes per configuration")
    p.add_argument("--warmup", type=int, default=10, help="untimed steps per process")
    p.add_argument("--steps", type=int, default=30, help="timed steps per process")
    p.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                   help="set in every worker's environment alike (repeatable)")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--torch-first", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--json", help="also write the full results here")
    args = p.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.torch_first, args.warmup, args.steps)))
        return 0

    extra = dict(item.split("=", 1) for item in args.env)
    env = worker_environment(extra)
    configs = dict(CONFIGS)
    if not torch_installed():
        print("torch is not installed: timing ours alone")
        del configs["torch first"]
    load_before = os.getloadavg()
    runs = {name: [] for name in configs}
    for r in range(args.runs):
        for name, torch_first in configs.items():
            print(f"{name} ({r + 1}/{args.runs}) ...", file=sys.stderr, flush=True)
            runs[name].append(spawn(torch_first, args, env))
    load_after = os.getloadavg()

    print(f"CNN training step, batch 64, on {machine_line(machine())}: median of "
          f"{args.steps} steps per process after {args.warmup} warm-up steps, {args.runs} fresh "
          f"processes per configuration, interleaved; load average {load_before[0]:.2f} "
          f"before, {load_after[0]:.2f} after; variables set for every worker: "
          f"{extra or 'none'}.\n")
    print("| configuration | all steps: median (q1-q3), ms | median of process medians, ms | "
          "process medians, ms | CPU ms per step | CPU s per wall s |")
    print("|---|---:|---:|---|---:|---:|")
    medians = {}
    for name, group in runs.items():
        per = [spread(run["step_seconds"]) for run in group]
        steps = spread([t for run in group for t in run["step_seconds"]])
        medians[name] = steps["median"]
        cpu = statistics.median(run["cpu_per_wall"] for run in group)
        cpu_step = statistics.median(run["cpu_per_step"] for run in group)
        process_medians = ", ".join(f"{s['median'] * 1e3:.1f}" for s in per)
        of_medians = statistics.median(s["median"] for s in per)
        print(f"| {name} | {steps['median'] * 1e3:.1f} ({steps['q1'] * 1e3:.1f}-"
              f"{steps['q3'] * 1e3:.1f}) | {of_medians * 1e3:.1f} | {process_medians} | "
              f"{cpu_step * 1e3:.1f} | {cpu:.2f} |")
    if len(medians) == 2:
        print(f"\ntorch first / alone, medians of all steps: "
              f"{medians['torch first'] / medians['alone']:.2f}x")
    for name, group in runs.items():
        print(f"\n{name}, what the first worker saw: {json.dumps(group[0]['seen'])}")
    if args.json:
        Path(args.json).write_text(json.dumps(
            {"args": vars(args), "load_before": load_before, "load_after": load_after,
             "runs": runs}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
