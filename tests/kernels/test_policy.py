"""The kernel policy: thread counts, the threaded run, and the size rules."""

import os
import sys
import threading

import numpy as np
import pytest

from ops.kernels import policy
from ops.kernels.config import njit


@njit
def _fill(start, stop, out, value):
    for i in range(start, stop):
        out[i] = value + i


def test_threaded_run_covers_the_range_once():
    out = np.full(1000, -1.0)
    policy.run(_fill, out.size, (out, 0.5), family="pool", work=0, parallel=True)
    np.testing.assert_array_equal(out, np.arange(1000) + 0.5)


def test_fewer_items_than_threads():
    for n in (0, 1, 2):
        out = np.full(n, -1.0)
        policy.run(_fill, n, (out, 0.0), family="pool", work=0, parallel=True)
        np.testing.assert_array_equal(out, np.arange(n))


def test_size_decides_unless_forced(monkeypatch):
    small, large = policy.MIN_PARALLEL_WORK["im2col"] - 1, policy.MIN_PARALLEL_WORK["im2col"]
    assert policy.threads_for("im2col", small) == 1
    assert policy.threads_for("im2col", large) == policy.get_num_threads() == 3
    assert policy.threads_for("im2col", small, parallel=True) == 3
    assert policy.threads_for("im2col", large, parallel=False) == 1
    monkeypatch.setattr(policy, "PARALLEL", False)
    assert policy.threads_for("im2col", large) == 1


def test_set_num_threads():
    try:
        policy.set_num_threads(1)
        assert policy.get_num_threads() == 1
        assert policy.threads_for("im2col", 2**30) == 1
    finally:
        policy.set_num_threads(3)
    for bad in (0, -2, 1.5, "2", True):
        with pytest.raises(ValueError, match="set_num_threads"):
            policy.set_num_threads(bad)
    assert policy.get_num_threads() == 3


def test_kernel_errors_reach_the_caller():
    def kernel(start, stop):
        if start > 0:
            raise FloatingPointError(f"chunk at {start}")

    with pytest.raises(FloatingPointError, match="chunk at"):
        policy.run(kernel, 100, (), family="pool", work=0, parallel=True)


def test_callers_on_several_threads_at_once():
    outs = [np.full(5000, -1.0) for _ in range(6)]

    def call(i):
        for _ in range(20):
            policy.run(_fill, 5000, (outs[i], float(i)), family="pool", work=0, parallel=True)

    threads = [threading.Thread(target=call, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i, out in enumerate(outs):
        np.testing.assert_array_equal(out, np.arange(5000) + i)


def test_a_finished_call_keeps_no_reference_to_its_arrays():
    out = np.zeros(1000)
    before = sys.getrefcount(out)
    for _ in range(10):
        policy.run(_fill, out.size, (out, 0.0), family="pool", work=0, parallel=True)
    assert sys.getrefcount(out) == before  # workspace.py reuses blocks by reference count


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_threaded_run_in_a_forked_child():
    out = np.zeros(1000)
    policy.run(_fill, out.size, (out, 0.0), family="pool", work=0, parallel=True)  # helpers up
    pid = os.fork()
    if pid == 0:  # the child has none of the parent's helper threads
        code = 1
        try:
            policy.run(_fill, out.size, (out, 1.0), family="pool", work=0, parallel=True)
            code = 0 if np.array_equal(out, np.arange(1000) + 1.0) else 1
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_which_convolutions_chunk_the_batch(monkeypatch):
    monkeypatch.setattr(policy, "CHUNK_BYTES", 1000)
    assert policy.batch_chunks(5, 400) == [(0, 2), (2, 4), (4, 5)]
    assert policy.batch_chunks(3, 5000) == [(0, 1), (1, 2), (2, 3)]  # one sample at least
    assert policy.batch_chunks(4, 0) == [(0, 4)]
