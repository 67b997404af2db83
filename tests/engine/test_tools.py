"""detect_anomaly, profile, to_dot and checkpoint."""

import json
import shutil
import tracemalloc

import numpy as np
import pytest
from hypothesis import given

import autograd as ag
import ops
from autograd import Tensor, nn
from autograd.core.registry import Op
from autograd.testing import gradcheck
from autograd.testing import strategies as st_ag
from tests.helpers import gradchecks


# --- detect_anomaly ----------------------------------------------------------------------
def test_anomaly_names_the_forward_op_and_the_calling_line():
    x = Tensor(np.array([1.0, -1.0]), requires_grad=True)
    with pytest.raises(RuntimeError) as info:
        with ag.detect_anomaly():
            y = x * 2
            ops.sqrt(y - 1)  # the line to be named
    message = str(info.value)
    assert "detect_anomaly: sqrt produced nan" in message
    assert "test_tools.py" in message and "ops.sqrt(y - 1)" in message
    assert Op.__call__ is not None and not ag.core.registry.OBSERVERS


def test_anomaly_passes_a_nan_along_without_blaming_the_next_op():
    x = Tensor(np.array([np.nan, 1.0]), requires_grad=True)
    with ag.detect_anomaly():
        (x * 2).sum()  # the NaN came in with x: nothing raised


def test_anomaly_names_the_vjp_that_made_a_nan_and_where_its_op_was_called():
    def forward(x):
        return x * 1.0, None

    def vjp(g, ctx):
        return (g * np.nan,)

    broken = ag.defop("test_broken_vjp", forward, vjp, doc="x.  VJP: (deliberately nan)")
    x = Tensor(np.ones(3), requires_grad=True)
    with pytest.raises(RuntimeError) as info:
        with ag.detect_anomaly():
            loss = broken(x).sum()  # created here
            loss.backward()
    message = str(info.value)
    assert "the VJP of test_broken_vjp returned nan" in message
    assert "loss = broken(x).sum()" in message


# --- profile --------------------------------------------------------------------------------
def test_profile_counts_calls_and_times_both_passes(tmp_path):
    x = Tensor(np.random.default_rng(0).standard_normal((8, 4)), requires_grad=True)
    with ag.profile() as p:
        for _ in range(3):
            ops.tanh(x @ x.T).sum().backward()
    totals = p.totals()
    assert totals["matmul"]["calls"] == 3 and totals["tanh"]["calls"] == 3
    assert totals["matmul"]["backward"] > 0 and totals["tanh"]["forward"] > 0
    table = p.table()
    assert table.splitlines()[0].startswith("| op | calls")
    assert {"matmul", "tanh", "sum", "transpose"} <= {row.split("|")[1].strip()
                                                       for row in table.splitlines()[2:]}
    trace = json.loads(open(p.export_chrome_trace(tmp_path / "t.json")).read())
    events = trace["traceEvents"]
    assert len(events) == len(p.events) and all(e["ph"] == "X" and e["dur"] >= 0
                                                for e in events)
    assert {e["cat"] for e in events} == {"forward", "backward"}
    ops.tanh(x)  # after the block: nothing recorded
    assert len(p.events) == len(events)


# --- to_dot ----------------------------------------------------------------------------------
def test_to_dot_names_parameters_and_ops(tmp_path):
    nn.init.seed(0)
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    loss = ops.cross_entropy(model(Tensor(np.ones((5, 4)))), np.array([0, 1, 0, 1, 1]))
    dot = ag.to_dot(loss, params=model.named_parameters(), path=tmp_path / "g.dot")
    assert dot.startswith("digraph") and dot == (tmp_path / "g.dot").read_text()
    for name in ("0.weight", "0.bias", "2.weight", "cross_entropy", "relu", "linear"):
        assert name in dot, name
    assert dot.count("->") >= 6
    if shutil.which("dot"):
        ag.render_dot(dot, tmp_path / "g.svg")
        assert (tmp_path / "g.svg").read_text().lstrip().startswith("<?xml")
    with pytest.raises(ValueError, match="has no graph"):
        ag.to_dot(Tensor(np.ones(2)))


# --- checkpoint ---------------------------------------------------------------------------------
def _deep_mlp(depth, width):
    nn.init.seed(1)
    return [nn.Sequential(nn.Linear(width, width), nn.Tanh()) for _ in range(depth)]


def _loss(blocks, x, use_checkpoint, segment=4):
    """Checkpointed, only each segment's input is kept: 4 of the 32 activations."""
    h = x
    for i in range(0, len(blocks), segment):
        run = nn.Sequential(*blocks[i:i + segment])
        h = ag.checkpoint(run, h) if use_checkpoint else run(h)
    return (h * h).mean()


def test_checkpoint_gives_the_same_gradients_and_a_lower_peak():
    blocks = _deep_mlp(depth=16, width=256)
    params = [p for b in blocks for p in b.parameters()]
    x = Tensor(np.random.default_rng(2).standard_normal((256, 256)), requires_grad=True)
    peaks, grads = {}, {}
    for use in (False, True):
        for p in params:
            p.grad = None
        x.grad = None
        tracemalloc.start()
        _loss(blocks, x, use).backward()
        peaks[use] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        grads[use] = [x.grad.copy()] + [p.grad.copy() for p in params]
    for a, b in zip(grads[False], grads[True]):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-9)
    kept = sum(g.nbytes for g in grads[True])  # the .grad arrays both runs end up holding
    assert peaks[True] - kept < 0.5 * (peaks[False] - kept), (peaks, kept)


@gradchecks("checkpoint")
@given(st_ag.arrays(st_ag.shapes(max_dims=2)), st_ag.arrays(st_ag.shapes(max_dims=2)))
def test_checkpoint_gradients(x, y):
    def segment(a, b):
        return ops.tanh(a) * ops.exp(b * 0.5).sum()
    assert gradcheck(lambda a, b: ag.checkpoint(segment, a, b), [x, y])
