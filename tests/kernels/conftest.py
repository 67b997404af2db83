"""The kernel tests run with 3 kernel threads, whatever the machine has, so that a threaded
run really splits its work (more threads than cores is fine: they take turns)."""

import pytest

from ops.kernels import policy


@pytest.fixture(autouse=True, scope="module")
def three_threads():
    policy.set_num_threads(3)
    try:
        yield
    finally:
        policy.set_num_threads(None)
