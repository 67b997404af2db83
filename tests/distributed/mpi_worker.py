"""The rank side of test_mpi.py: ``mpiexec -n 2 python -m tests.distributed.mpi_worker CASE``.

Each case checks what it can on the ranks themselves (an AssertionError aborts the job) and
prints ``ok ...`` lines from rank 0 for the test to read.
"""

import os
import sys

import numpy as np

import ops
import optim
from autograd import Tensor, nn
from autograd import distributed as dist
from tests.distributed.common import Branches


def small_cnn():
    """conv 1->2 3x3 pad 1, ReLU, max-pool 2, fc 32 -> 3, on 8x8 images."""
    return nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(2 * 4 * 4, 3))


def small_mlp():
    return nn.Sequential(nn.Flatten(), nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 3))


OPTIMIZERS = {
    "sgd": lambda params: optim.SGD(params, lr=0.1, momentum=0.9),
    "adam": lambda params: optim.Adam(params, lr=0.01),
}


def step(model, opt, xb, yb):
    loss = ops.cross_entropy(model(Tensor(xb)), yb)
    opt.zero_grad()
    loss.backward()
    opt.step()


def flat_params(model):
    return np.concatenate([p.data.ravel() for p in model.parameters()])


def same_on_every_rank(group, array, what):
    everyone = group.allgather_json(array.tolist(), what)
    assert all(e == everyone[0] for e in everyone), f"{what} differs across ranks"


def equivalence():
    """2 ranks with batch B each take the same steps as 1 process with batch 2B."""
    group = dist.init(timeout=120)
    assert group.size == 2, group.size
    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 1, 8, 8))
    y = rng.integers(0, 3, 40)
    for model_name, build in (("mlp", small_mlp), ("cnn", small_cnn)):
        for opt_name, make_opt in OPTIMIZERS.items():
            nn.init.seed(100 + group.rank)  # different weights: the wrapper takes rank 0's
            model = build().to(np.float64)
            nn.init.seed(100)
            reference = build().to(np.float64)  # one process, rank 0's initial weights
            ddp = dist.DistributedDataParallel(model, bucket_cap_mb=1e-4)
            assert len(ddp.bucket_names()) > 1
            opt, ref_opt = make_opt(ddp.parameters()), make_opt(reference.parameters())
            batches = dist.DistributedBatchIterator(x, y, batch_size=4, seed=5)
            ref_batches = dist.DistributedBatchIterator(x, y, batch_size=8, seed=5,
                                                        num_replicas=1, rank=0)
            steps = 0
            for _ in range(2):  # two epochs: the second reshuffled alike
                for (xb, yb), (xr, yr) in zip(batches, ref_batches, strict=True):
                    step(ddp, opt, xb, yb)
                    step(reference, ref_opt, xr, yr)
                    steps += 1
            got, want = flat_params(model), flat_params(reference)
            np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
            same_on_every_rank(group, got, "the parameters")
            if group.rank == 0:
                print(f"ok equivalence {model_name} {opt_name} {steps} steps, max difference "
                      f"{np.abs(got - want).max():.2e}", flush=True)


def unused_on_one_rank():
    """Rank 0 leaves ``b`` unused, rank 1 uses it: after synchronize() both hold the same
    averages, rank 1's gradient of b halved."""
    group = dist.init(timeout=120)
    x = np.random.default_rng(group.rank).standard_normal((5, 4))
    nn.init.seed(0)
    plain = Branches().to(np.float64)  # the gradients of this rank alone, for comparison
    plain.use_b = group.rank == 1
    plain(Tensor(x)).sum().backward()
    local = {n: np.zeros(q.shape) if q.grad is None else q.grad
             for n, q in plain.named_parameters()}
    nn.init.seed(0)
    model = Branches().to(np.float64)
    ddp = dist.DistributedDataParallel(model, bucket_cap_mb=1e-6)
    model.use_b = group.rank == 1
    ddp(Tensor(x)).sum().backward()
    ddp.synchronize()
    everyone = group.allgather_json({n: g.tolist() for n, g in local.items()}, "local grads")
    for name, p in model.named_parameters():
        expected = sum(np.array(e[name]) for e in everyone) / group.size
        np.testing.assert_allclose(p.grad, expected, rtol=1e-12, err_msg=name)
    if group.rank == 0:
        print("ok unused parameter averaged after synchronize", flush=True)


def buffers_and_no_sync():
    group = dist.init(timeout=120)
    nn.init.seed(group.rank)
    model = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3))
    model[1].running_mean[...] = group.rank + 1.0
    ddp = dist.DistributedDataParallel(model)
    np.testing.assert_array_equal(model[1].running_mean, 1.0)  # rank 0's buffer
    opt = optim.SGD(ddp.parameters(), lr=0.1)
    x = np.random.default_rng(group.rank).standard_normal((6, 4)).astype(np.float32)
    with ddp.no_sync():
        ddp(Tensor(x)).sum().backward()
    ddp(Tensor(x[::-1].copy())).sum().backward()  # averages the sums of both backward passes
    opt.step()
    same_on_every_rank(group, flat_params(model), "the parameters after no_sync")
    if group.rank == 0:
        print(f"ok buffers and no_sync, {ddp.wait_seconds:.4f} s waiting", flush=True)


def mismatch():
    dist.init(timeout=30)
    hidden = 8 if dist.get_rank() == 0 else 16
    dist.DistributedDataParallel(nn.Sequential(nn.Linear(4, hidden), nn.Linear(hidden, 3)))
    print("mismatch was not refused", flush=True)


def fail(how):
    """Rank 1 fails at its third step; rank 0 goes on until the job is ended."""
    group = dist.init(timeout=120)
    nn.init.seed(0)
    model = small_mlp()
    ddp = dist.DistributedDataParallel(model)
    opt = optim.SGD(ddp.parameters(), lr=0.1)
    rng = np.random.default_rng(group.rank)
    for k in range(1000):
        if k == 2:  # the ranks have started in step: a short timeout from here on
            dist.init(timeout=float(os.environ.get("JITGRAD_TEST_TIMEOUT", "120")))
        if group.rank == 1 and k == 2:
            if how == "raise":
                raise ValueError("rank 1 fails on purpose")
            os._exit(3)
        step(ddp, opt, rng.standard_normal((4, 1, 8, 8)).astype(np.float32),
             rng.integers(0, 3, 4))
    print("rank 0 finished although rank 1 failed", flush=True)


CASES = {
    "correctness": lambda: (equivalence(), unused_on_one_rank(), buffers_and_no_sync()),
    "mismatch": mismatch,
    "raise": lambda: fail("raise"),
    "exit": lambda: fail("exit"),
}

if __name__ == "__main__":
    CASES[sys.argv[1]]()
