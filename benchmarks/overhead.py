"""Per-op overhead of the engine: a chain of 100 small elementwise ops, forward + backward.

    python -m benchmarks.overhead
    python -m benchmarks.overhead --rounds 5

16-element float64 arrays, so the time is the engine's bookkeeping, not arithmetic. The
same chain runs in plain numpy (forward only: the floor), in jitgrad with gradients and
under ``no_grad``, eager and compiled with ``autograd.jit``, and in PyTorch CPU when it is
installed. Each framework runs in a fresh
process of its own with the same environment and its own defaults (nothing is tuned),
``--rounds`` times in turn; the table gives the median microseconds per op over all rounds,
the quartiles, and the ratios of the medians.
"""

import argparse
import json
import sys
import time

from benchmarks.common import (ROOT, machine, machine_line, run_worker, seen, spread,
                               worker_environment)

N_OPS = 100  # 25 rounds of (mul, add, tanh, sin)
SIZE = 16
RESULTS = ROOT / "benchmarks" / "results" / "overhead.json"


def chain(x, w, b, tanh, sin):
    for _ in range(N_OPS // 4):
        x = sin(tanh(x * w + b))
    return x


def us_per_op(fn, repeats=7, inner=20):
    """Microseconds per op of ``repeats`` timings of ``inner`` calls each."""
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(inner):
            fn()
        times.append((time.perf_counter() - start) / inner / N_OPS * 1e6)
    return times


def worker(framework):
    import numpy as np

    rng = np.random.default_rng(0)
    x0, w0, b0 = (rng.standard_normal(SIZE) * 0.5 for _ in range(3))
    results = {}
    if framework == "numpy":
        results["numpy forward (floor)"] = us_per_op(lambda: chain(x0, w0, b0, np.tanh, np.sin))
    elif framework == "ours":
        import ops
        from autograd import Tensor, no_grad

        x, w, b = (Tensor(a.copy(), requires_grad=True) for a in (x0, w0, b0))

        def ours_backward():
            x.grad = w.grad = b.grad = None
            chain(x, w, b, ops.tanh, ops.sin).sum().backward()

        def ours_no_grad():
            with no_grad():
                chain(x, w, b, ops.tanh, ops.sin)

        results["jitgrad forward+backward"] = us_per_op(ours_backward)
        results["jitgrad no_grad forward"] = us_per_op(ours_no_grad)
        # The same two through autograd.jit: us_per_op's warm-up call and the first timed
        # call are the two traced ones (a 100-op chain fuses into one loop each way).
        import autograd as ag
        compiled_backward, compiled_no_grad = ag.jit(ours_backward), ag.jit(ours_no_grad)
        compiled_backward(), compiled_no_grad()
        results["jitgrad autograd.jit forward+backward"] = us_per_op(compiled_backward)
        results["jitgrad autograd.jit no_grad forward"] = us_per_op(compiled_no_grad)
    else:
        import torch

        tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x0, w0, b0))

        def torch_backward():
            tx.grad = tw.grad = tb.grad = None
            chain(tx, tw, tb, torch.tanh, torch.sin).sum().backward()

        def torch_no_grad():
            with torch.no_grad():
                chain(tx, tw, tb, torch.tanh, torch.sin)

        results["torch forward+backward"] = us_per_op(torch_backward)
        results["torch no_grad forward"] = us_per_op(torch_no_grad)
    return {"us_per_op": results, "seen": seen()}


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m benchmarks.overhead",
                                description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=3, help="fresh processes per framework")
    p.add_argument("--worker", choices=["numpy", "ours", "torch"], help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker)))
        return 0

    import importlib.util

    frameworks = ["numpy", "ours"] + (["torch"] if importlib.util.find_spec("torch") else [])
    env = worker_environment()
    times, seen_by = {}, {}
    for _ in range(args.rounds):
        for fw in frameworks:
            result = run_worker(["benchmarks.overhead", "--worker", fw], env)
            seen_by.setdefault(fw, result["seen"])
            for name, t in result["us_per_op"].items():
                times.setdefault(name, []).extend(t)
    stats = {name: spread(t) for name, t in times.items()}
    floor = stats["numpy forward (floor)"]["median"]
    torch_fb = stats.get("torch forward+backward", {}).get("median")
    print(f"## Per-op overhead: chain of {N_OPS} elementwise ops on {SIZE}-element float64\n")
    print(f"{machine_line(machine())}; each framework in its own fresh process, "
          f"{args.rounds} round(s); median (quartiles).\n")
    print("| run | us per op | vs numpy forward | vs torch fwd+bwd |")
    print("|---|---:|---:|---:|")
    for name, s in stats.items():
        vs_torch = f"{s['median'] / torch_fb:.2f}x" if torch_fb else "n/a"
        print(f"| {name} | {s['median']:.2f} ({s['q1']:.2f}-{s['q3']:.2f}) | "
              f"{s['median'] / floor:.2f}x | {vs_torch} |")
    for fw, s in seen_by.items():
        print(f"\n{fw} saw: {json.dumps(s)}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"us_per_op": stats, "n_ops": N_OPS, "size": SIZE,
                                   "machine": machine(), "seen": seen_by}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
