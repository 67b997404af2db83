"""The kernels' memory pool: a block is handed out again only when no array uses it."""

import threading

import numpy as np
import pytest

from ops.kernels import workspace

BIG = (512, 1024)  # 2 MB of float32, above workspace.MIN_BYTES


@pytest.fixture(autouse=True)
def empty_pool():
    workspace.clear()
    yield
    workspace.clear()


def test_shape_dtype_and_layout():
    for dtype in (np.float32, np.float64, np.int64):
        a = workspace.empty(BIG, dtype)
        assert a.shape == BIG and a.dtype == dtype and a.flags.c_contiguous
        a[...] = 7  # writable everywhere
    small = workspace.empty((3, 4), np.float32)
    assert small.shape == (3, 4) and small.base is None  # plain numpy below MIN_BYTES


def test_a_block_in_use_is_not_handed_out():
    a = workspace.empty(BIG, np.float32)
    b = workspace.empty(BIG, np.float32)
    assert not np.shares_memory(a, b)


def test_a_released_block_is_reused():
    a = workspace.empty(BIG, np.float32)
    address = a.__array_interface__["data"][0]
    del a
    b = workspace.empty(BIG, np.float32)
    assert b.__array_interface__["data"][0] == address


def test_any_view_keeps_its_block_in_use():
    a = workspace.empty(BIG, np.float32)
    view = a[1:].T.reshape(-1)[::3]
    del a
    b = workspace.empty(BIG, np.float32)
    assert not np.shares_memory(view, b)
    view_of_bytes = np.frombuffer(b, dtype=np.uint8)
    del b
    c = workspace.empty(BIG, np.float32)
    assert not np.shares_memory(view_of_bytes, c)


def test_same_bytes_other_shape_reuses_the_block():
    a = workspace.empty(BIG, np.float32)
    address = a.__array_interface__["data"][0]
    del a
    b = workspace.empty((BIG[0] // 2, BIG[1]), np.float64)
    assert b.__array_interface__["data"][0] == address


def test_the_pool_stays_within_its_budget(monkeypatch):
    monkeypatch.setattr(workspace, "MAX_POOL_BYTES", 5 * 2**20)
    kept = [workspace.empty(BIG, np.float32) for _ in range(6)]  # 6 x 2 MB in use
    assert sum(b.nbytes for b in workspace._blocks) <= 5 * 2**20
    for a in kept:  # arrays the pool let go of still work
        a[...] = 1.0
    assert all(float(a.sum()) == a.size for a in kept)


def test_threads_never_share_a_block():
    # every array handed out while others are alive must not overlap any of them
    live, lock, failures, addresses = [], threading.Lock(), [], set()

    def worker():
        mine = []
        for _ in range(100):
            a = workspace.empty(BIG, np.float32)
            with lock:
                if any(np.shares_memory(a, b) for b in live):
                    failures.append(a)
                live.append(a)
                addresses.add(a.__array_interface__["data"][0])
                mine.append(a)
                if len(mine) > 3:  # let one go: its block may be handed out again
                    old = mine.pop(0)
                    live[:] = [b for b in live if b is not old]
                    del old
            del a

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures
    assert len(addresses) < 100  # blocks were reused, not 400 fresh allocations
