"""DistributedDataParallel's bookkeeping in one process, on a stand-in process group (no MPI
needed): buckets, their order and timing during backward, unused parameters, no_sync, and
the checks at construction. Averaging across real ranks is in test_mpi.py."""

import numpy as np
import pytest

import ops
from autograd import Tensor, nn, no_grad
from autograd.distributed import DistributedDataParallel
from tests.distributed.common import Branches, LoopbackGroup


class ThreeLayers(nn.Module):
    """Linear 4 -> 8 -> 8 -> 3; records the buckets launched when backward reaches the
    first layer's output."""

    def __init__(self, group=None):
        super().__init__()
        self.fc1, self.fc2, self.fc3 = nn.Linear(4, 8), nn.Linear(8, 8), nn.Linear(8, 3)
        self.group = group
        self.launched_before_fc1 = None

    def forward(self, x):
        h = self.fc1(x)
        if self.group is not None and h.requires_grad:
            def seen(g):
                self.launched_before_fc1 = len(self.group.launched)

            h.register_hook(seen)
        return self.fc3(ops.relu(self.fc2(ops.relu(h))))


def loss_of(model, seed=0):
    rng = np.random.default_rng(seed)
    x = Tensor(rng.standard_normal((5, 4)).astype(np.float32))
    return ops.cross_entropy(model(x), rng.integers(0, 3, 5))


def fresh(seed=0, group=None):
    nn.init.seed(seed)
    return ThreeLayers(group)


def test_gradients_equal_the_plain_model_and_buckets_go_last_layer_first():
    group = LoopbackGroup(size=2)
    reference, model = fresh(), fresh(group=group)
    ddp = DistributedDataParallel(model, bucket_cap_mb=1e-6, group=group)  # one per param
    assert ddp.bucket_names() == [["fc3.bias"], ["fc3.weight"], ["fc2.bias"], ["fc2.weight"],
                                  ["fc1.bias"], ["fc1.weight"]]
    loss_of(reference).backward()
    loss_of(ddp).backward()
    for (name, p), q in zip(model.named_parameters(), reference.parameters()):
        np.testing.assert_allclose(p.grad, q.grad, rtol=1e-6, err_msg=name)
    assert len(group.launched) == 6
    # Overlap: fc3's and fc2's buckets started before backward reached fc1.
    assert model.launched_before_fc1 == 4


def test_a_bucket_closes_at_the_cap_and_at_a_dtype_change():
    nn.init.seed(0)
    model = nn.Sequential(nn.Linear(100, 10), nn.Linear(10, 10), nn.Linear(10, 2, dtype=np.float64))
    # 0.004 MB = 4194 bytes: 10x10 float32 + 10 (440 bytes) then 100x10 float32 (4000)...
    ddp = DistributedDataParallel(model, bucket_cap_mb=0.004, group=LoopbackGroup())
    assert ddp.bucket_names() == [["2.bias", "2.weight"],
                                  ["1.bias", "1.weight", "0.bias", "0.weight"]]
    one = DistributedDataParallel(fresh(), bucket_cap_mb=25, group=LoopbackGroup())
    assert len(one.bucket_names()) == 1


def test_an_unused_parameter_needs_synchronize_and_keeps_no_gradient():
    group = LoopbackGroup()
    nn.init.seed(0)
    model = Branches()
    ddp = DistributedDataParallel(model, bucket_cap_mb=1e-6, group=group)
    model.use_b = False
    loss_of(ddp).backward()
    assert len(group.launched) == 0  # b's buckets come first and never became ready
    with pytest.raises(RuntimeError, match=r"b\.bias.*b\.weight.*synchronize\(\)"):
        loss_of(ddp)
    ddp.synchronize()
    assert len(group.launched) == 4
    assert model.b.weight.grad is None and model.b.bias.grad is None
    assert model.a.weight.grad is not None
    ddp.synchronize()  # nothing pending: a no-op
    assert len(group.launched) == 4
    loss_of(ddp)  # the next forward is allowed again


def test_no_sync_accumulates_locally_then_averages_the_sum():
    group = LoopbackGroup()
    reference, model = fresh(), fresh()
    ddp = DistributedDataParallel(model, group=group)
    with ddp.no_sync():
        loss_of(ddp, seed=1).backward()
    assert group.launched == []
    loss_of(ddp, seed=2).backward()
    assert len(group.launched) == 1
    loss_of(reference, seed=1).backward()
    loss_of(reference, seed=2).backward()
    for p, q in zip(model.parameters(), reference.parameters()):
        np.testing.assert_allclose(p.grad, q.grad, rtol=1e-6)


def test_a_differentiable_gradient_is_refused_by_name():
    ddp = DistributedDataParallel(fresh(), group=LoopbackGroup())
    with pytest.raises(RuntimeError, match=r"fc3\.bias.*create_graph"):
        loss_of(ddp).backward(create_graph=True)


def test_a_parameter_wrapped_twice_is_refused():
    model = fresh()
    first = DistributedDataParallel(model, group=LoopbackGroup())
    with pytest.raises(ValueError, match=r"'bias' \(shape \(8,\)\) already belongs to "
                                         "another DistributedDataParallel"):
        DistributedDataParallel(model.fc1, group=LoopbackGroup())
    del first
    DistributedDataParallel(model, group=LoopbackGroup())  # the old wrapper is gone


def _spec(model):
    return [[name, list(p.shape), str(p.dtype)] for name, p in model.named_parameters()]


def test_parameter_shapes_that_differ_across_ranks_are_refused_at_start():
    nn.init.seed(0)
    other = nn.Sequential(nn.Linear(4, 16), nn.Linear(16, 3))
    mine = nn.Sequential(nn.Linear(4, 8), nn.Linear(8, 3))
    with pytest.raises(ValueError) as info:
        DistributedDataParallel(mine, group=LoopbackGroup(others=[_spec(other)]))
    message = str(info.value)
    assert "parameter '0.weight' has shape (4, 8) on rank 0, shape (4, 16) on rank 1" in message
    assert "parameter '1.weight' has shape (8, 3) on rank 0, shape (16, 3) on rank 1" in message


def test_missing_parameters_dtypes_and_order_are_named():
    nn.init.seed(0)
    mine = nn.Sequential(nn.Linear(4, 3))
    no_bias = nn.Sequential(nn.Linear(4, 3, bias=False))
    with pytest.raises(ValueError, match=r"'0\.bias' has shape \(3,\) on rank 0, no such "
                                         r"parameter on rank 1"):
        DistributedDataParallel(mine, group=LoopbackGroup(others=[_spec(no_bias)]))
    wide = nn.Sequential(nn.Linear(4, 3, dtype=np.float64))
    with pytest.raises(ValueError, match=r"'0\.weight' has shape \(4, 3\) float32 on rank 0, "
                                         r"shape \(4, 3\) float64 on rank 1"):
        DistributedDataParallel(mine, group=LoopbackGroup(others=[_spec(wide)]))
    with pytest.raises(ValueError, match="different orders"):
        DistributedDataParallel(mine, group=LoopbackGroup(others=[_spec(mine)[::-1]]))


def test_bad_arguments():
    with pytest.raises(TypeError, match="must be an autograd.nn.Module"):
        DistributedDataParallel(lambda x: x, group=LoopbackGroup())
    for cap in (0, -1.0, float("nan"), "1"):
        with pytest.raises(ValueError, match="bucket_cap_mb"):
            DistributedDataParallel(fresh(), bucket_cap_mb=cap, group=LoopbackGroup())


def test_the_wrapper_delegates_to_the_module():
    group = LoopbackGroup()
    model = fresh()
    ddp = DistributedDataParallel(model, group=group)
    assert list(ddp.parameters()) == list(model.parameters())
    assert list(ddp.state_dict()) == ["module." + k for k in model.state_dict()]
    ddp.eval()
    assert not model.training
    out = ddp(Tensor(np.ones((2, 4), np.float32)))
    np.testing.assert_array_equal(out.data, model(Tensor(np.ones((2, 4), np.float32))).data)


def test_buffers_are_copied_from_rank_0_before_every_forward_in_both_modes():
    """Otherwise BatchNorm's running statistics drift apart across ranks, evaluations differ
    and early stopping could stop one rank and not the other (a hang)."""
    group = LoopbackGroup()
    nn.init.seed(0)
    ddp = DistributedDataParallel(nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3)),
                                  group=group)
    x = Tensor(np.ones((2, 4), np.float32))
    before = len(group.broadcasts)
    ddp(x)
    ddp.eval()
    with no_grad():
        ddp(x)
    assert group.broadcasts[before:] == ["copying rank 0's buffers before forward"] * 2
    plain = DistributedDataParallel(fresh(), group=LoopbackGroup())  # no buffers: no copies
    plain(Tensor(np.ones((2, 4), np.float32)))
    assert all("before forward" not in w for w in plain.group.broadcasts)
