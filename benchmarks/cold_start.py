"""Cold start: what numba's compiling costs the first CNN training step, with an empty cache.

    python -m benchmarks.cold_start
    python -m benchmarks.cold_start --train      # also the training command, cold and warm

Every run is a fresh process with a fresh, empty ``NUMBA_CACHE_DIR`` (the rest of the
environment is this process's), so nothing compiled before counts:

1. cold: import, then the first training step of the training command's CNN (batch 64 of
   28x28 images, cross-entropy, backward, Adam), a second step, and the first evaluation
   batch (1000 images, no_grad: the training command's test pass);
2. warm: the same in a second process on the cache the first one filled;
3. after ``python -m autograd.warm --dtypes float32`` on another empty cache: the same.

Each phase reports wall seconds, CPU seconds (all threads) and the CPU seconds spent in
numba's compiler (timed by a listener on numba's "numba:compile" events): compiling is
serial, so on a busy machine CPU seconds say more than wall time. ``--train`` also times ``python -m autograd.train --model cnn --limit 2000
--epochs 1`` on random IDX files (the command reads only what it needs), cold and warm.
"""

import argparse
import gzip
import json
import os
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROBE = r"""
import json, time
from numba.core import event

class CompileClock(event.Listener):
    # CPU seconds spent inside numba's outermost compiles (nested ones are part of them)
    depth, start, seconds = 0, 0.0, 0.0
    def on_start(self, ev):
        if self.depth == 0:
            self.start = time.process_time()
        self.depth += 1
    def on_end(self, ev):
        self.depth -= 1
        if self.depth == 0:
            self.seconds += time.process_time() - self.start

clock = CompileClock()
event.register("numba:compile", clock)
wall, cpu, compiling = time.perf_counter(), time.process_time(), 0.0
phases = {}
def mark(name):
    global wall, cpu, compiling
    phases[name] = [time.perf_counter() - wall, time.process_time() - cpu,
                    clock.seconds - compiling]
    wall, cpu, compiling = time.perf_counter(), time.process_time(), clock.seconds

import numpy as np
import optim
from autograd import Tensor, no_grad
from autograd.models import CNN
from autograd.training import make_train_step
mark("import")
rng = np.random.default_rng(0)
x = rng.random((64, 1, 28, 28), dtype=np.float32)
y = rng.integers(0, 10, 64)
model = CNN()
train_step = make_train_step(model, optim.Adam(model.parameters(), lr=1e-3))
def step():
    train_step(Tensor(x), y)
step()
mark("first training step")
step()
mark("second training step")
with no_grad():
    model(Tensor(rng.random((1000, 1, 28, 28), dtype=np.float32)))
mark("first evaluation batch (1000)")
print(json.dumps(phases))
"""


def _run(cmd, cache, cwd=ROOT):
    env = dict(os.environ, NUMBA_CACHE_DIR=cache)
    wall, start = time.perf_counter(), os.times()
    done = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
    end = os.times()
    if done.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{done.stderr}")
    cpu = (end.children_user - start.children_user) + (end.children_system - start.children_system)
    return done.stdout, time.perf_counter() - wall, cpu


def probe(cache):
    out, _, _ = _run([sys.executable, "-c", PROBE], cache)
    return json.loads(out.strip().splitlines()[-1])


def write_idx(directory, n=2000, seed=0):
    """Random Fashion-MNIST-shaped IDX files (n images per split)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    for split in ("train", "t10k"):
        for kind, array in (("images-idx3", rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)),
                            ("labels-idx1", rng.integers(0, 10, n, dtype=np.uint8))):
            header = struct.pack(">BBBB", 0, 0, 8, array.ndim)
            header += struct.pack(">" + "I" * array.ndim, *array.shape)
            with gzip.open(Path(directory) / f"{split}-{kind}-ubyte.gz", "wb") as f:
                f.write(header + array.tobytes())


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m benchmarks.cold_start",
                                description=__doc__.splitlines()[0])
    p.add_argument("--train", action="store_true", help="also time the training command")
    args = p.parse_args(argv)
    load_before = os.getloadavg()[0]
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        cold, warmed = Path(tmp, "cold"), Path(tmp, "warmed")
        results["cold"] = probe(str(cold))
        results["warm (second process)"] = probe(str(cold))
        _, wall, cpu = _run([sys.executable, "-m", "autograd.warm", "--dtypes", "float32"],
                            str(warmed))
        results["after python -m autograd.warm"] = probe(str(warmed))
        train = {}
        if args.train:
            data, runs = Path(tmp, "data"), Path(tmp, "runs")
            data.mkdir()
            write_idx(data)
            cmd = [sys.executable, "-m", "autograd.train", "--model", "cnn", "--limit", "2000",
                   "--epochs", "1", "--data-dir", str(data), "--out", str(runs),
                   "--no-progress"]
            trained = Path(tmp, "train-cache")
            for name in ("cold", "warm"):
                _, t_wall, t_cpu = _run(cmd, str(trained))
                train[name] = [t_wall, t_cpu]
    load_after = os.getloadavg()[0]

    print(f"Cold start, each column a fresh process with its own NUMBA_CACHE_DIR; seconds as "
          f"wall / CPU (all threads) / CPU in numba's compiler; load average "
          f"{load_before:.2f} before, {load_after:.2f} after on {os.cpu_count()} cores.\n")
    phases = list(results["cold"])
    print("| phase | " + " | ".join(results) + " |")
    print("|---|" + "---:|" * len(results))
    for phase in phases:
        cells = [f"{r[phase][0]:.2f} / {r[phase][1]:.2f} / {r[phase][2]:.2f}"
                 for r in results.values()]
        print(f"| {phase} | " + " | ".join(cells) + " |")
    print(f"\npython -m autograd.warm --dtypes float32 on an empty cache: {wall:.1f} s wall, "
          f"{cpu:.1f} s CPU")
    for name, (t_wall, t_cpu) in train.items():
        print(f"python -m autograd.train --model cnn --limit 2000 --epochs 1, {name}: "
              f"{t_wall:.1f} s wall, {t_cpu:.1f} s CPU")
    return 0


if __name__ == "__main__":
    sys.exit(main())
