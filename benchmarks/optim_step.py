"""The optimizer's step alone: the fused kernels against the numpy path, and PyTorch's.

    python -m benchmarks.optim_step                  # MLP and CNN parameters, Adam and SGD
    python -m benchmarks.optim_step --steps 400 --rounds 3

The parameters are those of the MLP 784-512-10 (``autograd.models.MLP(hidden=(512,))``,
407k float32 values in 4 arrays) and of the training command's CNN (``autograd.models.CNN``,
422k in 8 arrays), plus 10 one-element parameters that show the step's Python overhead per
parameter. Gradients are fixed random arrays; nothing else runs between steps.

- **jitgrad** (one fresh process per round): two optimizers over two copies of the
  parameters, one on the numpy path (``use_fused_kernels = False``) and one fused, stepped
  in turn (old, new, old, ...) so that outside load hits both alike; each step is timed on
  its own. Medians and quartiles of all steps; CPU time per step of the process.
- **torch** (fresh processes, after jitgrad's): ``torch.optim.Adam`` and
  ``SGD(momentum=0.9)`` with their defaults (on the CPU, the per-parameter loop: ``foreach``
  defaults to off there) over float32 tensors of the same shapes, with PyTorch's default
  threads and, in another process, ``torch.set_num_threads(1)`` (our kernels are serial; on
  a shared 2-core machine PyTorch's second thread often waits for a core).
- **compile**: for each optimizer, a fresh process with an empty ``NUMBA_CACHE_DIR`` times
  its first two steps (compiling its kernel for float32) and its third; a second process
  with the cache the first left times its first two steps again (loading the kernel).
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time

from benchmarks.common import (ROOT, machine, machine_line, run_worker, seen, spread,
                               worker_environment)

MODELS = ("MLP 784-512-10", "CNN", "10 x 1 element")
OPTIMIZERS = {"Adam": {"lr": 1e-3}, "SGD momentum": {"lr": 0.01, "momentum": 0.9}}


def shapes(model):
    from autograd.models import CNN, MLP

    if model == "10 x 1 element":
        return [(1,)] * 10
    net = MLP(hidden=(512,)) if model.startswith("MLP") else CNN()
    return [p.shape for p in net.parameters()]


def arrays(model):
    import numpy as np

    rng = np.random.default_rng(0)
    return [(rng.standard_normal(s).astype(np.float32),
             rng.standard_normal(s).astype(np.float32)) for s in shapes(model)]


def make_optimizer(lib, name, params):
    kwargs = OPTIMIZERS[name]
    return (lib.Adam if name == "Adam" else lib.SGD)(params, **kwargs)


def time_steps(steps_by_label, steps):
    """Each label's step, in turn, ``steps`` times: wall time of every step (us), CPU time
    of the process per step (us)."""
    walls = {label: [] for label in steps_by_label}
    cpu = dict.fromkeys(steps_by_label, 0.0)
    for _ in range(steps):
        for label, step in steps_by_label.items():
            c0, t0 = time.process_time(), time.perf_counter()
            step()
            t1, c1 = time.perf_counter(), time.process_time()
            walls[label].append((t1 - t0) * 1e6)
            cpu[label] += (c1 - c0) * 1e6
    return {label: {"wall_us": walls[label], "cpu_us": cpu[label] / steps} for label in walls}


def worker_jitgrad(steps):
    import optim
    from autograd import Tensor

    out = {}
    for model in MODELS:
        for name in OPTIMIZERS:
            steppers = {}
            for label, fused in (("numpy", False), ("fused", True)):
                params = []
                for data, grad in arrays(model):
                    p = Tensor(data.copy(), requires_grad=True)
                    p.grad = grad
                    params.append(p)
                opt = make_optimizer(optim, name, params)
                opt.use_fused_kernels = fused
                for _ in range(20):  # compiled or loaded, state created, caches warm
                    opt.step()
                steppers[label] = opt.step
            out[f"{model} | {name}"] = time_steps(steppers, steps)
    return {"results": out, "seen": seen()}


def worker_torch(steps, threads):
    import torch

    if threads:
        torch.set_num_threads(threads)  # this worker process only
    out = {}
    for model in MODELS:
        for name in OPTIMIZERS:
            params = []
            for data, grad in arrays(model):
                p = torch.tensor(data, requires_grad=True)
                p.grad = torch.from_numpy(grad)
                params.append(p)
            opt = make_optimizer(torch.optim, name, params)
            for _ in range(20):
                opt.step()
            label = f"torch {threads} thread" if threads else "torch"
            out[f"{model} | {name}"] = time_steps({label: opt.step}, steps)
    return {"results": out, "seen": seen()}


COMPILED = {"Adam": {}, "SGD momentum": {"lr": 0.01, "momentum": 0.9},
            "RMSprop": {}, "Adagrad": {}}


def worker_compile(name):
    """The first two steps of optimizer ``name`` over a float32 parameter (which compile
    its kernel, or load it from numba's cache: SGD's momentum kernel runs from the second
    step), then the third."""
    import numpy as np

    import optim
    from autograd import Tensor

    p = Tensor(np.ones(3, np.float32), requires_grad=True)
    p.grad = np.ones(3, np.float32)
    opt = getattr(optim, name.split()[0])([p], **COMPILED[name])
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        opt.step()
        times.append(time.perf_counter() - t0)
    return {"first_steps_s": times[0] + times[1], "third_step_s": times[2]}


def summary(values):
    s = spread(values)
    return f"{s['median']:.0f} ({s['q1']:.0f}-{s['q3']:.0f})"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=300, help="timed steps per round")
    parser.add_argument("--rounds", type=int, default=3, help="fresh workers per framework")
    parser.add_argument("--worker", choices=["jitgrad", "torch", "compile"], help="internal")
    parser.add_argument("--torch-threads", type=int, default=0, help="internal")
    parser.add_argument("--optimizer", help="internal (compile worker)")
    args = parser.parse_args()
    if args.worker:
        got = (worker_compile(args.optimizer) if args.worker == "compile" else
               worker_jitgrad(args.steps) if args.worker == "jitgrad" else
               worker_torch(args.steps, args.torch_threads))
        print(json.dumps(got))
        return

    env = worker_environment()
    load_before = os.getloadavg()
    merged = {}  # "model | optimizer" -> label -> {"wall_us": [...], "cpu_us": [...]}
    workers = [["--worker", "jitgrad"], ["--worker", "torch"],
               ["--worker", "torch", "--torch-threads", "1"]]
    for _ in range(args.rounds):
        for worker in workers:
            try:
                got = run_worker(["benchmarks.optim_step", *worker, "--steps", str(args.steps)],
                                 env)
            except RuntimeError as error:
                if "torch" not in worker:
                    raise
                print(f"torch worker failed, skipped: {str(error)[-300:]}", file=sys.stderr)
                continue
            for case, labels in got["results"].items():
                for label, r in labels.items():
                    entry = merged.setdefault(case, {}).setdefault(label,
                                                                   {"wall_us": [], "cpu_us": []})
                    entry["wall_us"] += r["wall_us"]
                    entry["cpu_us"].append(r["cpu_us"])
    compiled = {}
    for name in COMPILED:
        with tempfile.TemporaryDirectory() as cache:
            cache_env = worker_environment({"NUMBA_CACHE_DIR": cache})
            compiled[name] = [run_worker(["benchmarks.optim_step", "--worker", "compile",
                                          "--optimizer", name], cache_env) for _ in range(2)]
    load_after = os.getloadavg()

    print(f"# Optimizer step, {machine_line(machine())}; load average "
          f"{load_before[0]:.2f} before, {load_after[0]:.2f} after")
    print(f"{args.rounds} rounds x {args.steps} steps; microseconds per step: median "
          "(quartiles) of wall time, and process CPU time per step (median over rounds)\n")
    columns = ("numpy", "fused", "torch", "torch 1 thread")
    print("| parameters | optimizer | numpy path | fused | numpy / fused | torch.optim | "
          "torch.optim, 1 thread |")
    print("|---|---|---|---|---|---|---|")
    for case, labels in merged.items():
        model, name = case.split(" | ")
        cells = []
        for label in columns:
            r = labels.get(label)
            cells.append("n/a" if r is None else
                         f"{summary(r['wall_us'])}, CPU {statistics.median(r['cpu_us']):.0f}")
        ratio = (statistics.median(labels["numpy"]["wall_us"])
                 / statistics.median(labels["fused"]["wall_us"]))
        print(f"| {model} | {name} | {cells[0]} | {cells[1]} | {ratio:.2f} | {cells[2]} | "
              f"{cells[3]} |")
    print("\nFirst two steps of a fresh process over a float32 parameter, with an empty numba "
          "cache (compiling the optimizer's kernel) and then with the cache it left; then the "
          "third step:")
    for name, (cold, warm) in compiled.items():
        print(f"- {name}: {cold['first_steps_s']:.2f} s empty cache, "
              f"{warm['first_steps_s'] * 1e3:.1f} ms cached; then "
              f"{cold['third_step_s'] * 1e6:.0f} us")
    os.makedirs(os.path.join(ROOT, "benchmarks", "results"), exist_ok=True)
    with open(os.path.join(ROOT, "benchmarks", "results", "optim_step.json"), "w") as f:
        json.dump({"machine": machine(), "load": [load_before, load_after],
                   "steps": merged, "compile": compiled}, f)


if __name__ == "__main__":
    main()
