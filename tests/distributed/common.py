"""Helpers for the distributed tests: a stand-in process group for one process, and the
mpiexec runner that skips when MPI is absent."""

import gzip
import importlib.util
import os
import shutil
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from autograd import nn

ROOT = Path(__file__).resolve().parents[2]


class LoopbackGroup:
    """A ProcessGroup stand-in in one process: ``size`` ranks that all hold this process's
    values (a sum is ``size`` times the value, so an average is the value itself). Records
    each allreduce's buffer size in ``launched``; ``others`` replaces the other ranks' answer
    to ``allgather_json`` (to fake a mismatching rank)."""

    def __init__(self, size=2, others=None, rank=0):
        self.rank, self.size, self.timeout = rank, size, 1.0
        self.others = others
        self.launched = []
        self.broadcasts = []

    def broadcast_(self, arrays, what):
        self.broadcasts.append(what)

    def allgather_json(self, obj, what):
        return [obj] + (self.others if self.others is not None else [obj] * (self.size - 1))

    def allreduce_sum_(self, array):  # done at once: its "request" is None
        array *= self.size
        self.launched.append(array.size)

    def wait(self, requests, what):
        pass


def mpi_missing():
    """Why MPI tests cannot run here, or None. With JITGRAD_REQUIRE_MPI=1 (CI) a missing MPI
    is an error, not a reason to skip."""
    reason = None
    if importlib.util.find_spec("mpi4py") is None:
        reason = "mpi4py is not installed (pip install -e '.[dist]')"
    elif shutil.which("mpiexec") is None:
        reason = "no mpiexec on PATH (pip install mpich)"
    if reason and os.environ.get("JITGRAD_REQUIRE_MPI") == "1":
        raise RuntimeError(f"JITGRAD_REQUIRE_MPI=1 but {reason}")
    return reason


def is_hydra():
    """Whether mpiexec is MPICH's hydra (which has -disable-auto-cleanup)."""
    done = subprocess.run(["mpiexec", "--version"], capture_output=True, text=True, check=False)
    return "HYDRA" in done.stdout.upper()


def run_mpi(args, n=2, timeout=240, mpiexec_options=(), cwd=ROOT, extra_env=None):
    """Run ``python args...`` on ``n`` ranks; returns (CompletedProcess, seconds). The
    checkout's own code comes first on the path of every rank."""
    reason = mpi_missing()
    if reason:
        pytest.skip(reason)
    env = dict(os.environ, **(extra_env or {}))
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    # One thread per rank: two ranks of two threads each would fight over two cores.
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                "NUMBA_NUM_THREADS"):
        env[var] = "1"
    cmd = ["mpiexec", *mpiexec_options, "-n", str(n), sys.executable, *map(str, args)]
    start = time.monotonic()
    # A session of its own, so that a hang can be ended with every process it started.
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=cwd, env=env, start_new_session=True)
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        stdout, stderr = proc.communicate()
        raise AssertionError(f"{' '.join(cmd)} still running after {timeout} s (a hang):\n"
                             f"{stdout}\n{stderr}") from None
    done = subprocess.CompletedProcess(cmd, proc.returncode, stdout, stderr)
    return done, time.monotonic() - start


def write_fake_mnist(directory, n_train, n_test):
    """Random 28x28 images and labels as gzipped IDX files under Fashion-MNIST's names;
    returns the directory."""
    from autograd import data

    directory.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for split, n in (("train", n_train), ("test", n_test)):
        for name, array in zip(data.SPLITS[split], (
                rng.integers(0, 256, (n, 28, 28), dtype=np.uint8),
                rng.integers(0, 10, n, dtype=np.uint8))):
            header = struct.pack(">HBB", 0, 0x08, array.ndim)
            header += struct.pack(f">{array.ndim}I", *array.shape)
            (directory / (name + ".gz")).write_bytes(gzip.compress(header + array.tobytes()))
    return directory


class Branches(nn.Module):
    """Two linear branches; with ``use_b`` False the second is left unused (a rank that
    skips a parameter)."""

    def __init__(self):
        super().__init__()
        self.a, self.b = nn.Linear(4, 3), nn.Linear(4, 3)
        self.use_b = True

    def forward(self, x):
        return self.a(x) + self.b(x) if self.use_b else self.a(x)
