"""Per-op overhead of the engine: a chain of 100 small elementwise ops, forward + backward.

    python -m benchmarks.overhead

16-element float64 arrays, so the time is the engine's bookkeeping, not arithmetic. The
same chain runs in plain numpy (forward only: the floor), under ``no_grad``, and in PyTorch
CPU when it is installed, all in one run; the table gives microseconds per op and ratios.
"""

import json
import os
import time

import numpy as np

import ops
from autograd import Tensor, no_grad

N_OPS = 100  # 25 rounds of (mul, add, tanh, sin)
SIZE = 16


def chain(x, w, b, tanh, sin):
    for _ in range(N_OPS // 4):
        x = sin(tanh(x * w + b))
    return x


def median_us_per_op(fn, repeats=7, inner=20):
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(inner):
            fn()
        times.append((time.perf_counter() - start) / inner)
    return float(np.median(times)) / N_OPS * 1e6


def measure():
    rng = np.random.default_rng(0)
    x0, w0, b0 = (rng.standard_normal(SIZE) * 0.5 for _ in range(3))
    results = {}

    results["numpy forward (floor)"] = median_us_per_op(
        lambda: chain(x0, w0, b0, np.tanh, np.sin))

    x, w, b = (Tensor(a.copy(), requires_grad=True) for a in (x0, w0, b0))

    def ours_backward():
        x.grad = w.grad = b.grad = None
        chain(x, w, b, ops.tanh, ops.sin).sum().backward()

    def ours_no_grad():
        with no_grad():
            chain(x, w, b, ops.tanh, ops.sin)

    results["jitgrad forward+backward"] = median_us_per_op(ours_backward)
    results["jitgrad no_grad forward"] = median_us_per_op(ours_no_grad)

    try:
        import torch
    except ImportError:
        torch = None
    if torch is not None:
        torch.set_num_threads(1)
        tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x0, w0, b0))

        def torch_backward():
            tx.grad = tw.grad = tb.grad = None
            chain(tx, tw, tb, torch.tanh, torch.sin).sum().backward()

        def torch_no_grad():
            with torch.no_grad():
                chain(tx, tw, tb, torch.tanh, torch.sin)

        results["torch forward+backward"] = median_us_per_op(torch_backward)
        results["torch no_grad forward"] = median_us_per_op(torch_no_grad)
    return results


def main():
    results = measure()
    floor = results["numpy forward (floor)"]
    torch_fb = results.get("torch forward+backward")
    print(f"## Per-op overhead: chain of {N_OPS} elementwise ops on {SIZE}-element float64\n")
    print("| run | us per op | vs numpy forward | vs torch fwd+bwd |")
    print("|---|---:|---:|---:|")
    for name, us in results.items():
        vs_torch = f"{us / torch_fb:.2f}x" if torch_fb else "n/a"
        print(f"| {name} | {us:.2f} | {us / floor:.2f}x | {vs_torch} |")
    os.makedirs("benchmarks/results", exist_ok=True)
    with open("benchmarks/results/overhead.json", "w") as f:
        json.dump({"us_per_op": results, "n_ops": N_OPS, "size": SIZE}, f, indent=2)


if __name__ == "__main__":
    main()
