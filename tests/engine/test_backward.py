"""The backward pass: graph shapes, accumulation, order, freeing, hooks, deep chains."""

import gc
import time
import weakref

import numpy as np
import pytest

import autograd as ag
import ops
from autograd import Tensor, no_grad


def leaf(*shape, seed=0):
    return Tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=True)


def test_api_example():
    x = Tensor(np.random.randn(4, 3), requires_grad=True)
    w = ag.tensor([[1.0], [2.0], [3.0]], requires_grad=True)
    loss = ops.relu(x @ w).mean()
    loss.backward()
    assert x.grad.shape == (4, 3) and x.grad.dtype == np.float64
    assert w.grad.shape == (3, 1) and w.grad.dtype == np.float32
    mask = (x.data @ w.data.astype(np.float64)) > 0
    np.testing.assert_allclose(x.grad, mask * w.data.T / 4, rtol=1e-6)


def test_diamond_sums_both_paths():
    x = leaf(3)
    a = x * 2
    b = ops.exp(x)
    (a * b).sum().backward()
    # d/dx (2x e^x) = 2 e^x + 2x e^x
    np.testing.assert_allclose(x.grad, 2 * np.exp(x.data) * (1 + x.data))


def test_reuse_of_one_tensor():
    x = leaf(4)
    (x + x + x * x).sum().backward()
    np.testing.assert_allclose(x.grad, 2 + 2 * x.data)


def test_node_gradient_summed_before_its_vjp_runs():
    x = leaf(3)
    calls = []
    h = ops.tanh(x)
    h.register_hook(lambda g: calls.append(g.copy()))
    (h * 2 + h * 3).sum().backward()
    assert len(calls) == 1  # the hook sees the total once, not one call per use
    np.testing.assert_allclose(calls[0], 5 * np.ones(3))


def test_leaf_gradients_accumulate_across_calls():
    x = leaf(3)
    (x * 2).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad, 5 * np.ones(3))
    x.zero_grad()
    assert x.grad is None


def test_leaf_grads_do_not_alias_each_other():
    x, y = leaf(3), leaf(3, seed=1)
    (x + y).sum().backward()
    assert not np.shares_memory(x.grad, y.grad)
    x.grad *= 2  # an optimizer scaling one gradient in place must not touch the other
    np.testing.assert_allclose(y.grad, np.ones(3))


def test_seed_gradient_is_not_aliased():
    x = leaf(3)
    seed = np.ones(3)
    (x * 1.0).backward(seed)
    assert not np.shares_memory(x.grad, seed)


def test_non_scalar_backward_needs_grad():
    x = leaf(3)
    with pytest.raises(RuntimeError, match="only for a scalar output.*\\(3,\\)"):
        (x * 2).backward()
    y = x * 2
    y.backward(np.arange(3.0))
    np.testing.assert_allclose(x.grad, 2 * np.arange(3.0))


def test_backward_grad_of_wrong_shape():
    x = leaf(3)
    with pytest.raises(RuntimeError, match="grad of shape \\(2,\\) does not match output \\(3,\\)"):
        (x * 2).backward(np.ones(2))


def test_backward_on_tensor_without_grad():
    with pytest.raises(RuntimeError, match="does not require grad"):
        Tensor(np.ones(3)).sum().backward()


def test_second_backward_through_freed_graph_names_retain_graph():
    x = leaf(3)
    y = (ops.exp(x)).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time.*retain_graph=True"):
        y.backward()


def test_retain_graph_allows_second_backward():
    x = leaf(3)
    y = ops.exp(x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad, 2 * np.exp(x.data))


def test_order_is_deterministic():
    def run():
        x = leaf(5)
        seen = []
        hs = [ops.sin(x * (k + 1)) for k in range(6)]
        for k, h in enumerate(hs):
            h.register_hook(lambda g, k=k: seen.append(k))
        sum(hs[1:], hs[0]).sum().backward()
        return seen

    assert run() == run()


def test_graph_is_freed_after_backward():
    x = leaf(1000)
    y = ops.exp(x * 2)
    probe = weakref.ref(y._node)
    loss = y.sum()
    loss.backward()
    del y, loss
    gc.collect()
    # the node is gone with its tensor (no cycles); had it survived, it must hold nothing
    node = probe()
    assert node is None or (node.out is None and node.parents == ())


def test_no_reference_cycles_keep_a_graph_alive():
    gc.collect()
    gc.disable()
    try:
        x = leaf(10)
        y = ops.tanh(x * 3 + 1)
        probe = weakref.ref(y._node)
        del y  # without backward: only reference counting may free it
        assert probe() is None
    finally:
        gc.enable()


def test_no_grad_records_nothing():
    x = leaf(3)
    with no_grad():
        y = x * 2
    assert not y.requires_grad and y.is_leaf and y._node is None


def test_no_grad_as_decorator_and_enable_grad_inside():
    x = leaf(3)

    @no_grad()
    def f():
        a = x * 2
        with ag.enable_grad():
            b = x * 2
        return a, b

    a, b = f()
    assert not a.requires_grad and b.requires_grad
    assert ag.is_grad_enabled()


def test_no_grad_is_thread_local():
    import threading

    result = {}
    x = leaf(2)

    def worker():
        result["y"] = (x * 2).requires_grad

    with no_grad():
        t = threading.Thread(target=worker)
        t.start()
        t.join()
    assert result["y"] is True


def test_hooks_can_replace_gradients():
    x = leaf(3)
    x.register_hook(lambda g: g * 10)
    (x * 2).sum().backward()
    np.testing.assert_allclose(x.grad, 20 * np.ones(3))

    y = leaf(3)
    h = y * 1.0
    h.register_hook(lambda g: g * 0)
    (h * 5).sum().backward()
    np.testing.assert_allclose(y.grad, np.zeros(3))


def test_retain_grad_on_intermediate():
    x = leaf(3)
    h = x * 2
    h.retain_grad()
    (h * h).sum().backward()
    np.testing.assert_allclose(h.grad, 2 * h.data)


def test_detach_cuts_the_graph():
    x = leaf(3)
    y = (x * 2).detach()
    assert not y.requires_grad
    z = x * y
    z.sum().backward()
    np.testing.assert_allclose(x.grad, 2 * x.data)


def test_broadcast_gradients_reduced_to_input_shape():
    a = leaf(4, 1, 3)
    b = leaf(5, 1, seed=1)
    (a * b).sum().backward()
    assert a.grad.shape == (4, 1, 3) and b.grad.shape == (5, 1)
    np.testing.assert_allclose(a.grad, np.broadcast_to(b.data.sum(), (4, 1, 3)))
    np.testing.assert_allclose(b.grad, np.full((5, 1), a.data.sum()))


def test_mixed_dtypes_give_each_input_its_own_dtype():
    a = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    b = Tensor(np.ones(3), requires_grad=True)
    y = a * b
    assert y.dtype == np.float64
    y.sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64


def test_python_scalars_keep_float32():
    a = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    assert (a * 2.5 + 1).dtype == np.float32


def _chain_backward_seconds(n):
    x = Tensor(np.array([0.5]), requires_grad=True)
    gc.disable()  # CPython's cycle collector walking n live nodes is not what is measured
    try:
        y = x
        for _ in range(n):
            y = y * 1.0
        start = time.perf_counter()
        y.sum().backward()
        return time.perf_counter() - start, x
    finally:
        gc.enable()


def test_deep_chain_of_a_million_ops_backprops():
    seconds, x = _chain_backward_seconds(1_000_000)
    np.testing.assert_allclose(x.grad, [1.0])


def test_backward_time_is_linear_in_depth():
    small = min(_chain_backward_seconds(20_000)[0] for _ in range(3))
    large = min(_chain_backward_seconds(160_000)[0] for _ in range(2))
    assert large / small < 8 * 2.5, (small, large)  # 8x the ops; far from quadratic (64x)


def test_post_accumulate_hooks_fire_once_the_leaf_gradient_is_final():
    """A leaf's hook runs as soon as its last consumer has run, before earlier nodes."""
    order = []
    w1 = Tensor(np.ones(3), requires_grad=True)
    w2 = Tensor(np.full(3, 2.0), requires_grad=True)
    w1.register_post_accumulate_grad_hook(lambda t: order.append(("w1", t.grad.copy())))
    w2.register_post_accumulate_grad_hook(lambda t: order.append(("w2", t.grad.copy())))
    x = Tensor(np.arange(3.0))
    h = (x * w1).exp()              # w1's only consumer: an early node
    y = (h * w2 + w2).sum()          # w2's consumers: the late nodes
    y.register_hook(lambda g: order.append(("y", None)))
    probe = h.register_hook(lambda g: order.append(("h", None)))  # runs between w2 and w1
    y.backward()
    names = [n for n, _ in order]
    assert names == ["y", "w2", "h", "w1"], names
    np.testing.assert_allclose(dict(order)["w2"], np.exp(x.data) + 1)
    np.testing.assert_allclose(dict(order)["w1"], 2 * x.data * np.exp(x.data))
    assert probe is not None


def test_post_accumulate_hooks_see_accumulated_grads_and_refuse_non_leaves():
    w = Tensor(np.ones(2), requires_grad=True)
    seen = []
    w.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.copy()))
    (w * 3).sum().backward()
    (w * 3).sum().backward()
    np.testing.assert_allclose(seen[-1], [6.0, 6.0])
    with pytest.raises(RuntimeError, match="only a leaf"):
        (w * 2).register_post_accumulate_grad_hook(lambda t: None)
