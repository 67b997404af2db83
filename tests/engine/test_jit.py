"""autograd.jit: a compiled step gives the eager step's numbers, and refuses what it cannot
replay faithfully with an error naming the cause."""

import copy

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import autograd as ag
import ops
import optim
from autograd import Tensor, nn
from autograd.models import CNN, build_model

OPTIMIZERS = {
    "sgd": lambda p: optim.SGD(p, lr=0.1),
    "sgd-nesterov-decay": lambda p: optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True,
                                              weight_decay=1e-3),
    "momentum": lambda p: optim.Momentum(p, lr=0.05),
    "adam": lambda p: optim.Adam(p, lr=1e-2),
    "adam-amsgrad-decay": lambda p: optim.Adam(p, lr=1e-2, amsgrad=True, weight_decay=1e-2),
    "adamw": lambda p: optim.AdamW(p, lr=1e-2),
    "rmsprop": lambda p: optim.RMSprop(p, lr=1e-3, momentum=0.5),
    "adagrad": lambda p: optim.Adagrad(p, lr=1e-2),
}
ACTIVATIONS = [nn.ReLU, nn.Tanh, nn.Sigmoid, nn.GELU]


def _step(model, opt, x, y):
    opt.zero_grad()
    loss = ops.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
    return loss


def _twins(model, make_opt):
    twin = copy.deepcopy(model)
    return (model, make_opt(list(model.parameters()))), (twin, make_opt(list(twin.parameters())))


def _assert_same(a, b, dtype):
    tol = 1e-6 if dtype == np.float32 else 1e-12
    for (name, p), q in zip(a.named_parameters(), b.parameters()):
        np.testing.assert_allclose(p.data, q.data, rtol=tol, atol=tol, err_msg=name)


def _run(model, make_opt, batches, dtype):
    (m1, o1), (m2, o2) = _twins(model, make_opt)
    compiled = ag.jit(_step)
    for x, y in batches:
        got = compiled(m1, o1, x, y)
        want = _step(m2, o2, x, y)
        np.testing.assert_allclose(got.data, want.data, rtol=1e-6 if dtype == np.float32
                                   else 1e-12)
    _assert_same(m1, m2, dtype)
    return compiled


def _batches(rng, n, shape, classes, dtype, count=5):
    return [(Tensor(rng.standard_normal((n,) + shape).astype(dtype)),
             rng.integers(0, classes, n)) for _ in range(count)]


@settings(max_examples=12, deadline=None)
@given(widths=st.lists(st.integers(1, 12), min_size=1, max_size=3),
       activation=st.sampled_from(ACTIVATIONS), bias=st.booleans(),
       optimizer=st.sampled_from(sorted(OPTIMIZERS)),
       dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 2**16))
def test_compiled_mlp_steps_match_eager(widths, activation, bias, optimizer, dtype, seed):
    rng = np.random.default_rng(seed)
    layers, width = [], 6
    for w in widths:
        layers += [nn.Linear(width, w, bias=bias), activation()]
        width = w
    model = nn.Sequential(*layers, nn.Linear(width, 3)).to(dtype)
    compiled = _run(model, OPTIMIZERS[optimizer], _batches(rng, 4, (6,), 3, dtype), dtype)
    assert compiled.traces == 2  # calls 3 to 5 replayed


@pytest.mark.parametrize("name", ["cnn", "cnn-bn", "gru"])
def test_compiled_models_of_the_training_command_match_eager(name):
    ag.manual_seed(0)
    model = (CNN(batch_norm=True, dropout=0.3, side=8) if name == "cnn-bn"
             else build_model(name, image_shape=(1, 8, 8)))
    rng = np.random.default_rng(1)
    (m1, o1), (m2, o2) = _twins(model, lambda p: optim.Adam(p, lr=1e-3))
    compiled = ag.jit(_step)
    for i, (x, y) in enumerate(_batches(rng, 6, (1, 8, 8), 10, np.float32)):
        ag.manual_seed(i)  # the same dropout masks for both
        got = compiled(m1, o1, x, y)
        ag.manual_seed(i)
        want = _step(m2, o2, x, y)
        np.testing.assert_allclose(got.data, want.data, rtol=1e-6)
    _assert_same(m1, m2, np.float32)
    for name_, a in m1.named_buffers():  # batch-norm running statistics
        np.testing.assert_allclose(a, dict(m2.named_buffers())[name_], rtol=1e-6)
    assert compiled.traces == 2


def test_a_new_shape_traces_again_and_eval_mode_is_a_guard():
    model = nn.Sequential(nn.Linear(4, 8), nn.Dropout(0.5), nn.Linear(8, 2))
    calls = []

    @ag.jit
    def forward(x):
        calls.append(1)
        return model(x)

    x = Tensor(np.ones((3, 4), np.float32))
    for _ in range(3):
        forward(x)
    assert len(calls) == 2
    forward(Tensor(np.ones((5, 4), np.float32)))
    assert len(calls) == 3
    model.eval()
    out = forward(x)  # eval mode: no dropout, traced anew
    assert len(calls) == 4
    np.testing.assert_array_equal(out.data, model(x).data)


def test_gradients_reach_arguments_that_require_grad_and_a_scheduler_steps():
    w = Tensor(np.array([1.0, -2.0, 3.0]), requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    sched = optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)

    @ag.jit
    def step(x):
        opt.zero_grad()
        loss = (ops.tanh(x * w) ** 2).sum()
        loss.backward()
        optim.clip_grad_norm_([w], 0.5)
        opt.step()
        sched.step()
        return loss

    w2 = Tensor(w.data.copy(), requires_grad=True)
    opt2 = optim.SGD([w2], lr=0.1)
    sched2 = optim.lr_scheduler.StepLR(opt2, step_size=1, gamma=0.5)
    for i in range(5):
        x = Tensor(np.array([0.5, 0.25, -1.0]) * (i + 1), requires_grad=True)
        x2 = Tensor(x.data.copy(), requires_grad=True)
        step(x)
        opt2.zero_grad()
        (ops.tanh(x2 * w2) ** 2).sum().backward()
        optim.clip_grad_norm_([w2], 0.5)
        opt2.step()
        sched2.step()
        np.testing.assert_allclose(x.grad, x2.grad, rtol=1e-13)
        np.testing.assert_allclose(w.data, w2.data, rtol=1e-13)
    assert opt.param_groups[0]["lr"] == opt2.param_groups[0]["lr"] == 0.1 * 0.5**5


def test_inference_under_no_grad_and_outputs_in_structures():
    model = nn.Linear(3, 2)

    @ag.jit
    def predict(x):
        with ag.no_grad():
            y = model(x)
        return {"y": y, "parts": (y.sum(), None)}

    x = Tensor(np.arange(6.0, dtype=np.float32).reshape(2, 3))
    for _ in range(3):
        out = predict(x)
    np.testing.assert_array_equal(out["y"].data, model(x).data)
    assert out["parts"][1] is None and not out["y"].requires_grad


# --- what a compiled step refuses ------------------------------------------------------
def _refused(fn, *args, match):
    compiled = ag.jit(fn)
    with pytest.raises(ag.TraceError, match=match):
        for _ in range(3):
            compiled(*args)


def test_reading_a_value_in_python_is_refused():
    x = Tensor(np.ones(3), requires_grad=True)
    _refused(lambda x: (x * 2).sum().item(), x, match=r"\.item\(\).*shape \(\)")
    _refused(lambda x: x * 2 if (x.sum() > 0) else x, x, match="as a Python bool")
    _refused(lambda x: float(x.sum()), x, match=r"float\(\)")


def test_writing_in_place_and_grad_and_create_graph_are_refused():
    def write(x):
        y = x * 2
        y[0] = 1.0
        return y
    _refused(write, Tensor(np.ones(3)), match=r"writes into a tensor in place")
    x = Tensor(np.ones(3), requires_grad=True)
    _refused(lambda x: ag.grad((x * x).sum(), [x]), x, match="autograd.grad inside")
    _refused(lambda x: (x * x).sum().backward(create_graph=True), x, match="create_graph")


def test_values_made_in_python_that_change_are_refused():
    def noisy(x):
        return x + Tensor(np.random.standard_normal(3))
    _refused(noisy, Tensor(np.ones(3)), match=r"add.*input 1 was a tensor of shape \(3,\) "
                                                r"from outside the step.*other values")
    lr = [0.1]

    def scaled(x):
        lr[0] *= 2
        return x * lr[0]
    _refused(scaled, Tensor(np.ones(3)), match=r"mul.*constant float 0.2.*constant float 0.4")


def test_python_control_flow_on_values_is_refused():
    state = {"n": 0}

    def branchy(x):
        state["n"] += 1
        return ops.tanh(x) if state["n"] % 2 else ops.sigmoid(x)
    _refused(branchy, Tensor(np.ones(3)), match="event 0 .*sigmoid.*first call ran tanh")


def test_gradient_hooks_are_refused():
    w = Tensor(np.ones(3), requires_grad=True)
    w.register_hook(lambda g: g * 2)
    _refused(lambda x: (x * w).sum().backward(), Tensor(np.ones(3)), match="gradient hooks")


def test_clearing_grad_by_hand_is_replayed_and_other_grad_writes_are_refused():
    w = Tensor(np.array([1.0, 2.0]), requires_grad=True)

    @ag.jit
    def grad_of(x):
        w.grad = None
        (w * x).sum().backward()

    for i in range(4):
        grad_of(Tensor(np.array([3.0, 4.0]) * i))
        np.testing.assert_array_equal(w.grad, [3.0 * i, 4.0 * i])

    def assign(x):
        w.grad = np.zeros(2)
    _refused(assign, Tensor(np.ones(2)), match=r"assigns \.grad")


def test_a_compiled_step_holds_only_its_reusable_buffers_between_calls():
    """No activations stay alive between calls (a tape once kept every op's output); what
    stays is the fused loop's output and gradient arrays, written again at the next call."""
    import gc
    import tracemalloc

    w = Tensor(np.ones(1), requires_grad=True)
    x = Tensor(np.ones((1000, 1000)))  # 8 MB; each intermediate of the step as large

    @ag.jit
    def step(x):
        w.grad = None
        (ops.tanh(x * w) * 2.0).sum().backward()

    tracemalloc.start()
    try:
        held = []
        for calls in (4, 4):
            for _ in range(calls):
                step(x)
            gc.collect()
            held.append(tracemalloc.get_traced_memory()[0])
    finally:
        tracemalloc.stop()
    assert held[0] < 20e6, f"{held[0] / 1e6:.1f} MB still held after the calls"
    assert abs(held[1] - held[0]) < 1e6  # the same buffers, not new ones


def test_array_parameters_taken_from_arguments_are_read_at_every_call():
    """embedding's indices and an index array are op parameters, not inputs: a replay must
    read them from the call's arguments (the language models depend on it)."""
    weight = Tensor(np.arange(12.0).reshape(6, 2), requires_grad=True)

    @ag.jit
    def step(ids, rows):
        weight.grad = None
        out = ops.embedding(ids, weight)[rows]
        (out * out).sum().backward()
        return out

    rng = np.random.default_rng(0)
    for _ in range(4):
        ids, rows = rng.integers(0, 6, (3, 4)), rng.integers(0, 3, 2)
        got = step(ids, rows)
        np.testing.assert_array_equal(got.data, weight.data[ids][rows])
        want = np.zeros_like(weight.data)
        np.add.at(want, ids[rows], 2 * weight.data[ids][rows])
        np.testing.assert_array_equal(weight.grad, want)


def test_a_compiled_function_called_inside_another_one_is_traced_into_it():
    w = Tensor(np.array([2.0]), requires_grad=True)
    inner = ag.jit(lambda x: ops.tanh(x * w))
    for _ in range(3):
        inner(Tensor(np.ones(1)))  # compiled on its own first

    @ag.jit
    def outer(x):
        w.grad = None
        (inner(x) * 3.0).sum().backward()

    for i in range(4):
        outer(Tensor(np.array([0.1 * i])))
        np.testing.assert_allclose(w.grad, 3 * 0.1 * i / np.cosh(0.2 * i) ** 2, rtol=1e-12)
    w.register_post_accumulate_grad_hook(lambda t: None)
    with pytest.raises(ag.TraceError, match="got gradient hooks after it was compiled"):
        outer(Tensor(np.array([0.5])))


@pytest.mark.parametrize("padding", [0, 1])
def test_relu_then_max_pool_runs_as_pool_then_relu_with_the_same_numbers(padding):
    rng = np.random.default_rng(0)
    # Rounded values: ties inside windows, and whole windows of negatives.
    x0 = np.round(rng.standard_normal((2, 3, 6, 6)), 1) - 0.3
    g = rng.standard_normal(ops.max_pool2d(x0, 2, padding=padding).shape)

    def step(x):
        y = ops.max_pool2d(ops.relu(x * 1.0), 2, padding=padding)
        y.backward(g)
        return y

    compiled = ag.jit(step)
    for _ in range(3):
        x = Tensor(x0.copy(), requires_grad=True)
        got = compiled(x)
    (program,) = [c.program for cs in compiled._compiled.values() for c in cs]
    assert [e.op.name for e in program.ops] == ["mul", "max_pool2d", "relu"]
    want_x = Tensor(x0.copy(), requires_grad=True)
    want = step(want_x)
    np.testing.assert_array_equal(got.data, want.data)
    np.testing.assert_array_equal(x.grad, want_x.grad)
