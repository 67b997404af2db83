"""Data-parallel training speed: the CNN on 1 process x 2 threads against 2 MPI ranks x 1 thread.

    python -m benchmarks.distributed                     # 60 timed steps, 3 runs per setup
    python -m benchmarks.distributed --steps 200 --repeat 5

Needs the ``dist`` extra (mpi4py and an ``mpiexec``). The model is the training command's
``cnn`` (2 x (conv 3x3, ReLU, max-pool 2), fc 3136-128-10, 421,642 parameters, no dropout),
trained with Adam (lr 1e-3) on a global batch of ``--batch`` images per step (default 64, the
command's default): one process takes all of them, each of 2 ranks half of them (the same
images: both draw them through ``DistributedBatchIterator`` with one seed). The setups:

- ``1 process x 1 thread`` and ``1 process x 2 threads``: plain training;
- ``2 ranks x 1 thread``: ``DistributedDataParallel`` with its default buckets (25 MB: all
  the CNN's 1.7 MB of gradients in one, reduced when backward ends);
- ``2 ranks x 1 thread, 1 MB buckets``: the classifier's weights (1.6 MB) in one bucket,
  whose allreduce starts before backward computes the convolutions' gradients, the
  convolutions in another.

Threads: every worker gets this process's environment plus ``OMP/OPENBLAS/MKL/
NUMBA_NUM_THREADS`` set to its setup's thread count (``benchmarks.common.thread_variables``),
and reports the thread pools it saw. Images: synthetic random ones (8192, reused; speed does
not depend on the pixels).

Method: every run is a fresh process (or ``mpiexec -n 2`` job) that trains ``--warmup``
untimed steps (numba compilation, allocator warm-up), then times ``--steps`` steps with
``time.perf_counter``. For the ranks, the step time is the slower rank's, and two more
figures come from rank 0: the time backward spent blocked waiting for the allreduces per
step (``DistributedDataParallel.wait_seconds``, the communication that backward did not
hide), and the time of one allreduce of all 421,642 gradients (1.7 MB float32) on its own,
the median of 30. Runs of the setups are interleaved, ``--repeat`` rounds; the table gives
medians. Seconds per epoch are extrapolated to Fashion-MNIST's 60000 images.

Writes a Markdown table to stdout and the results to ``benchmarks/results/distributed.json``.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from benchmarks.common import (
    ROOT,
    machine,
    machine_line,
    seen,
    spread,
    thread_variables,
    worker_environment,
)

RESULTS = ROOT / "benchmarks" / "results"
EPOCH_IMAGES = 60000
POOL = 8192  # synthetic images the batches are drawn from
SEED = 0

# name -> (ranks, threads per process, bucket_cap_mb or None for plain training)
SETUPS = {
    "1 process x 1 thread": (1, 1, None),
    "1 process x 2 threads": (1, 2, None),
    "2 ranks x 1 thread": (2, 1, 25.0),
    "2 ranks x 1 thread, 1 MB buckets": (2, 1, 1.0),
}


# --- the worker: one process, or one rank of a job -------------------------------------------


def worker(args):
    import numpy as np

    import ops
    import optim
    from autograd import Tensor, nn
    from autograd import distributed as dist
    from autograd.models import CNN

    ranks, _, bucket_cap_mb = SETUPS[args.worker]
    group = None
    if ranks > 1:
        group = dist.init(timeout=600)
        if group.size != ranks:
            raise SystemExit(f"{args.worker}: run under mpiexec -n {ranks}, got {group.size}")
    rank, size = (group.rank, group.size) if group else (0, 1)

    rng = np.random.default_rng(SEED)
    x = rng.random((POOL, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, POOL)
    nn.init.seed(SEED)
    model = CNN()
    if group is not None:
        model = dist.DistributedDataParallel(model, bucket_cap_mb=bucket_cap_mb, group=group)
    batches = dist.DistributedBatchIterator(x, y, batch_size=args.batch // size, seed=SEED,
                                       num_replicas=size, rank=rank)
    opt = optim.Adam(model.parameters(), lr=1e-3)

    def steps(n):
        done = 0
        while done < n:
            for xb, yb in batches:
                loss = ops.cross_entropy(model(Tensor(xb)), yb)
                opt.zero_grad()
                loss.backward()
                opt.step()
                done += 1
                if done == n:
                    return float(loss.item())

    steps(args.warmup)
    waited = model.wait_seconds if group else 0.0
    start, cpu = time.perf_counter(), time.process_time()
    last_loss = steps(args.steps)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
    result = {"setup": args.worker, "seconds_per_step": seconds / args.steps,
              "cpu_seconds_per_step": cpu_seconds / args.steps, "last_loss": last_loss,
              "seen": seen()}
    if group is not None:
        result["wait_per_step"] = (model.wait_seconds - waited) / args.steps
        result["allreduce_seconds"] = time_allreduce(group, model, np)
        everyone = group.allgather_json(result, "gathering the timings")
        if rank != 0:
            return
        result = dict(everyone[0], seconds_per_step=max(r["seconds_per_step"] for r in everyone),
                      per_rank_seconds_per_step=[r["seconds_per_step"] for r in everyone])
    with open(args.worker_out, "w") as f:
        json.dump(result, f)


def time_allreduce(group, model, np, repeats=30):
    """Median seconds of one allreduce of every gradient (one flat float32 array)."""
    flat = np.ones(sum(p.size for p in model.parameters()), np.float32)
    times = []
    for _ in range(repeats + 3):
        group.wait([group.comm.Ibarrier()], "barrier")
        start = time.perf_counter()
        group.wait([group.allreduce_sum_(flat)], "timing an allreduce")
        times.append(time.perf_counter() - start)
    return statistics.median(times[3:])


# --- the driver ------------------------------------------------------------------------------


def spawn(setup, args):
    ranks, threads, _ = SETUPS[setup]
    env = worker_environment(thread_variables(threads))
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        out = f.name
    cmd = [sys.executable, "-m", "benchmarks.distributed", "--worker", setup,
           "--worker-out", str(out), "--steps", str(args.steps), "--warmup", str(args.warmup),
           "--batch", str(args.batch)]
    if ranks > 1:
        cmd = ["mpiexec", "-n", str(ranks), *cmd]
    try:
        subprocess.run(cmd, env=env, check=True, cwd=ROOT, timeout=3600)
        with open(out) as f:
            return json.load(f)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as e:
        return {"setup": setup, "error": f"worker failed: {e}"}
    finally:
        os.unlink(out)


def summarize(runs):
    ok = [r for r in runs if "error" not in r]
    if not ok:
        return {"error": runs[-1]["error"]}
    out = {"runs": len(ok)}
    for key in ("seconds_per_step", "cpu_seconds_per_step", "wait_per_step",
                "allreduce_seconds"):
        if key in ok[0]:
            out[key] = statistics.median(r[key] for r in ok)
    out["seconds_per_step_spread"] = spread([r["seconds_per_step"] for r in ok])
    return out


def table(summary, meta):
    steps_per_epoch = -(-EPOCH_IMAGES // meta["batch"])
    base = summary["1 process x 2 threads"].get("seconds_per_step")
    lines = [
        (f"CNN, Adam, global batch {meta['batch']}; {machine_line(meta['machine'])}; median of "
         f"{meta['repeat']} runs of {meta['steps']} timed steps (range in parentheses); load "
         f"average {meta['load_before']:.1f} before, {meta['load_after']:.1f} after."),
        "",
        ("| setup | s/step | s/epoch (60000 images) | speed vs 1 process x 2 threads | "
         "allreduce wait/step | one allreduce of 1.7 MB |"),
        "|---|---:|---:|---:|---:|---:|",
    ]
    for setup, s in summary.items():
        if "error" in s:
            lines.append(f"| {setup} | {s['error']} | | | | |")
            continue
        per_step, sp = s["seconds_per_step"], s["seconds_per_step_spread"]
        wait = f"{s['wait_per_step'] * 1e3:.2f} ms" if "wait_per_step" in s else ""
        alone = f"{s['allreduce_seconds'] * 1e3:.2f} ms" if "allreduce_seconds" in s else ""
        lines.append(f"| {setup} | {per_step:.4f} ({sp['min']:.4f}-{sp['max']:.4f}) | "
                     f"{per_step * steps_per_epoch:.1f} | {base / per_step:.2f}x | {wait} | "
                     f"{alone} |")
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=60, help="timed steps per run")
    p.add_argument("--warmup", type=int, default=10, help="untimed steps before timing")
    p.add_argument("--batch", type=int, default=64, help="images per step, all ranks together")
    p.add_argument("--repeat", type=int, default=3, help="runs per setup (fresh processes)")
    p.add_argument("--setups", nargs="+", choices=sorted(SETUPS), default=list(SETUPS))
    p.add_argument("--worker", choices=sorted(SETUPS), help=argparse.SUPPRESS)
    p.add_argument("--worker-out", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.steps < 1 or args.warmup < 0 or args.repeat < 1 or args.batch < 2 \
            or args.batch % 2:
        p.error("--steps and --repeat must be >= 1, --warmup >= 0, --batch even and >= 2")
    if args.worker:
        return worker(args)
    if shutil.which("mpiexec") is None:
        p.error("no mpiexec on PATH: pip install -e '.[dist]'")
    if "1 process x 2 threads" not in args.setups:
        args.setups.append("1 process x 2 threads")  # the reference of the speed column

    load_before = os.getloadavg()[0]
    runs = {setup: [] for setup in args.setups}
    for round_ in range(args.repeat):  # interleaved: outside load hits every setup alike
        for setup in args.setups:
            result = spawn(setup, args)
            print(f"round {round_ + 1}/{args.repeat}: {setup}: "
                  + (result["error"] if "error" in result
                     else f"{result['seconds_per_step']:.4f} s/step"), file=sys.stderr)
            runs[setup].append(result)
    meta = {"date": time.strftime("%Y-%m-%d %H:%M:%S"), "machine": machine(),
            "steps": args.steps, "warmup": args.warmup, "batch": args.batch,
            "repeat": args.repeat, "load_before": load_before,
            "load_after": os.getloadavg()[0]}
    summary = {setup: summarize(r) for setup, r in runs.items()}
    print(table(summary, meta))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "distributed.json").write_text(
        json.dumps({"meta": meta, "summary": summary, "runs": runs}, indent=2) + "\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
