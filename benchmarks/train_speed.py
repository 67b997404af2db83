"""Training speed: seconds per epoch, jitgrad against the same model in PyTorch CPU.

    python -m benchmarks.train_speed                      # both models, full epochs
    python -m benchmarks.train_speed --models mlp --batches 100   # 100 batches, extrapolated

Models (Fashion-MNIST 28x28 inputs, 10 classes, Adam lr 1e-3, no schedule):

- ``mlp``: 784-512-10 (Linear, ReLU, Linear), batch 128;
- ``cnn``: conv 1->32 3x3 pad 1, ReLU, max-pool 2, conv 32->64 3x3 pad 1, ReLU, max-pool 2,
  fc 3136->128, ReLU, fc 128->10; batch 64;
- ``gru``: the training command's GRU classifier: a GRU (28 -> 128) reading the image's 28
  rows, a linear head on the last hidden state; batch 64.

jitgrad runs twice, each in its own process: eager, and the same step compiled with
``autograd.jit`` (the two traced calls fall in the warm-up).

Fairness: both frameworks start from the same initial weights (drawn here with numpy, copied
into each model) and see the same batches in the same order (one seeded permutation of the
Fashion-MNIST training set; random images of the same shape if the dataset is not found, said
so in the output). Both get the same environment, this process's own, and keep their own
thread defaults; ``--threads N`` sets ``OMP/OPENBLAS/MKL/NUMBA_NUM_THREADS`` for both alike
(printed), and nothing else is tuned. Each worker reports what it saw (thread variables and
counts, OpenMP runtimes, threadpoolctl's pools when it is installed).

Method: every (framework, model) pair runs in its own fresh process. It first trains 20
warm-up batches on a throwaway copy of the model (numba compilation, allocator warm-up),
then builds the model from the shared initial weights and times one epoch (or ``--batches``
N batches, extrapolated to the epoch's batch count; the table says which) with
``time.perf_counter`` (and its CPU time, all threads, with ``time.process_time``: on a busy
machine the wall time also counts waiting for a core); the data is already in memory as
float32. Memory: just before the timed training the worker reads its resident set size
(VmRSS, with imports, the 60000-image dataset, the model and the warm-up done) and resets
the kernel's peak mark (``/proc/self/clear_refs``); after training it reads the peak
(VmHWM). The table shows that peak RSS of the whole process and, in parentheses, how far
training raised it above the RSS before training. The first batch losses of the two
frameworks are compared as a check that the models really are the same. With ``--repeat R``
each pair runs R times (fresh processes, the frameworks in turn) and the table shows the
median run and the range.

Writes a Markdown table to stdout and the full results to
``benchmarks/results/train_speed.json``.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import machine, machine_line, seen, thread_variables, worker_environment
from benchmarks.train_workloads import MODELS, load_shared, memory_mb, prepare, reset_peak
from benchmarks.train_workloads import run_ours, run_torch

RESULTS = Path(__file__).resolve().parent / "results"


def worker(framework, model, n_batches, shared):
    import numpy as np

    x, y, batches, weights = load_shared(model, shared, np)
    timed = batches if n_batches is None else batches[:n_batches]
    if framework in ("ours", "ours-jit"):
        train, m = run_ours(model, x, y, batches, weights, compiled=framework == "ours-jit")
    else:
        train, m = run_torch(model, x, y, batches, weights)
    rss_before, _ = memory_mb()
    peak_was_reset = reset_peak()
    start, cpu_start = time.perf_counter(), time.process_time()
    losses = train(m, timed)
    seconds = time.perf_counter() - start
    cpu_seconds = time.process_time() - cpu_start
    _, peak = memory_mb()
    return {
        "framework": framework,
        "model": model,
        "batches_timed": len(timed),
        "batches_per_epoch": len(batches),
        "seconds_timed": seconds,
        "seconds_per_epoch": seconds * len(batches) / len(timed),
        "cpu_seconds_per_epoch": cpu_seconds * len(batches) / len(timed),
        "extrapolated": len(timed) != len(batches),
        "first_losses": losses[:5],
        "last_loss": losses[-1],
        "mean_loss": float(np.mean(losses)),
        "rss_before_training_mb": rss_before,
        "peak_rss_mb": peak,
        "train_peak_mb": peak - rss_before,
        "peak_was_reset": peak_was_reset,
        "seen": seen(),
    }


# --- the driver -----------------------------------------------------------------------------


def spawn(framework, model, n_batches, env, shared):
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        out = f.name
    cmd = [
        sys.executable,
        "-m",
        "benchmarks.train_speed",
        "--worker",
        framework,
        "--models",
        model,
        "--worker-out",
        out,
        "--shared",
        shared,
    ]
    if n_batches is not None:
        cmd += ["--batches", str(n_batches)]
    try:
        subprocess.run(cmd, env=env, check=True, cwd=Path(__file__).resolve().parent.parent)
        return json.loads(Path(out).read_text())
    except subprocess.CalledProcessError as e:
        return {"framework": framework, "model": model, "error": f"worker failed ({e.returncode})"}
    finally:
        os.remove(out)


def median_run(runs):
    """The run with the median seconds per epoch (the lower middle one of an even count),
    with every run's seconds per epoch added as ``all_seconds_per_epoch``."""
    timed = sorted((r for r in runs if "seconds_per_epoch" in r),
                   key=lambda r: r["seconds_per_epoch"])
    if not timed:
        return runs[0]
    chosen = dict(timed[(len(timed) - 1) // 2])
    chosen["all_seconds_per_epoch"] = [r["seconds_per_epoch"] for r in timed]
    return chosen


def torch_available():
    try:
        import importlib.util

        return importlib.util.find_spec("torch") is not None
    except ImportError:
        return False


def _row(model, ours, ref, label=""):
    def ok(r):
        return r is not None and "seconds_per_epoch" in r

    def secs(r, key):
        if not ok(r):
            return (r or {}).get("error", "n/a")
        runs = r.get("all_seconds_per_epoch", [])
        if key == "seconds_per_epoch" and len(runs) > 1:
            return f"{r[key]:.2f} ({min(runs):.2f}-{max(runs):.2f})"
        return f"{r[key]:.2f}"

    def mem(r):
        return f"{r['peak_rss_mb']:.0f} (+{r['train_peak_mb']:.0f})" if ok(r) else "n/a"

    target = MODELS[model]["target_ratio"]
    if ok(ours) and ok(ref):
        ratio = ours["seconds_per_epoch"] / ref["seconds_per_epoch"]
        cpu_ratio = ours["cpu_seconds_per_epoch"] / ref["cpu_seconds_per_epoch"]
        verdict = f"{ratio:.2f}x {'ok' if ratio <= target else 'SLOW'}"
        cpu_verdict = f"{cpu_ratio:.2f}x"
    else:
        verdict = cpu_verdict = "n/a"
    r = ours if ok(ours) else ref
    timed = "n/a"
    if ok(r):
        timed = f"{r['batches_timed']}/{r['batches_per_epoch']} batches" + (
            " (extrapolated)" if r["extrapolated"] else " (full epoch)"
        )
    cells = [
        MODELS[model]["title"] + label,
        secs(ours, "seconds_per_epoch"),
        secs(ref, "seconds_per_epoch"),
        verdict,
        f"<= {target}x",
        secs(ours, "cpu_seconds_per_epoch"),
        secs(ref, "cpu_seconds_per_epoch"),
        cpu_verdict,
        mem(ours),
        mem(ref),
        timed,
    ]
    return "| " + " | ".join(cells) + " |"


def table(results, extra, source):
    header = [
        "model",
        "ours s/epoch",
        "PyTorch s/epoch",
        "ratio",
        "target",
        "ours CPU s/epoch",
        "PyTorch CPU s/epoch",
        "CPU ratio",
        "ours peak RSS MB (train +)",
        "PyTorch peak RSS MB (train +)",
        "timed",
    ]
    lines = [
        (
            f"Training speed on {machine_line(machine())}: wall-clock seconds per epoch (lower "
            f"is better; the median run, and the range when there are several); CPU s = "
            f"process CPU time, all threads. Variables set for both frameworks: "
            f"{extra or 'none (each its own thread defaults)'}."
        ),
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    for model, pair in results.items():
        for framework in [f for f in pair if f != "torch"]:
            lines.append(_row(model, pair.get(framework), pair.get("torch"),
                              "" if framework == "ours" else " (autograd.jit)"))
    lines.append("")
    for model, pair in results.items():
        ours, ref = pair.get("ours"), pair.get("torch")
        if ours and ref and "first_losses" in ours and "first_losses" in ref:
            lines.append(
                f"{model}: first batch losses ours {[round(v, 5) for v in ours['first_losses'][:3]]}"
                f" vs PyTorch {[round(v, 5) for v in ref['first_losses'][:3]]}; mean loss over "
                f"the timed batches {ours['mean_loss']:.4f} vs {ref['mean_loss']:.4f}"
            )
    for model, pair in results.items():
        for framework, r in pair.items():
            if r and "seen" in r:
                lines.append(f"{model}, {framework} saw: {json.dumps(r['seen'])}")
    lines.append(f"data: {source}")
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.train_speed", description=__doc__.split("\n\n")[0]
    )
    p.add_argument("--models", default="mlp,cnn,gru", help="comma-separated: mlp,cnn,gru")
    p.add_argument(
        "--batches",
        type=int,
        default=None,
        help="time only the first N batches and extrapolate to an epoch",
    )
    p.add_argument("--threads", type=int, default=None,
                   help="threads for both frameworks alike (default: each one's own)")
    p.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="run each (framework, model) R times, each in a fresh process, and "
        "report the median and the range (all times go to the JSON)",
    )
    p.add_argument("--frameworks", default="ours,ours-jit,torch",
                   help="comma-separated: ours (eager), ours-jit (autograd.jit), torch")
    p.add_argument("--worker", choices=["ours", "ours-jit", "torch"], help=argparse.SUPPRESS)
    p.add_argument("--worker-out", help=argparse.SUPPRESS)
    p.add_argument("--shared", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    models = [m for m in args.models.split(",") if m]
    for m in models:
        if m not in MODELS:
            p.error(f"unknown model {m!r}; expected some of {sorted(MODELS)}")

    if args.worker:
        result = worker(args.worker, models[0], args.batches, args.shared)
        Path(args.worker_out).write_text(json.dumps(result))
        return 0

    frameworks = [f for f in args.frameworks.split(",") if f]
    if "torch" in frameworks and not torch_available():
        print("PyTorch is not installed: timing jitgrad only (pip install '.[bench]')")
        frameworks.remove("torch")
    extra = thread_variables(args.threads)
    env = worker_environment(extra)
    load_before = os.getloadavg()
    results = {}
    sources = set()
    with tempfile.TemporaryDirectory() as tmp:
        for model in models:
            shared = str(Path(tmp) / f"{model}.npz")
            sources.add(prepare(model, shared))
            runs = {framework: [] for framework in frameworks}
            for r in range(args.repeat):  # the frameworks in turn: load bursts hit both
                for framework in frameworks:
                    print(f"timing {framework} {model} ({r + 1}/{args.repeat}) ...",
                          file=sys.stderr, flush=True)
                    runs[framework].append(spawn(framework, model, args.batches, env, shared))
            results[model] = {framework: median_run(group) for framework, group in runs.items()}
    source = ", ".join(sorted(sources))
    print(table(results, extra, source))
    print(
        f"load average (1, 5, 15 min) before: {load_before[0]:.2f} {load_before[1]:.2f} "
        f"{load_before[2]:.2f}, after: "
        + " ".join(f"{v:.2f}" for v in os.getloadavg())
        + f" on {os.cpu_count()} cores (other processes on the machine skew the times)"
    )
    path = RESULTS / "train_speed.json"
    RESULTS.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(
            {
                "date": time.strftime("%Y-%m-%d %H:%M:%S"),
                "extra_environment": extra,
                "load_average_before": load_before,
                "load_average_after": os.getloadavg(),
                "machine": dict(machine(), platform=platform.platform()),
                "method": __doc__.split("Method: ")[1].split("\n\n")[0].replace("\n", " "),
                "data": source,
                "results": results,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
