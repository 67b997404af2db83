"""Each optimizer against hand-derived numbers on f(x) = x**2 (so g = 2 x), x0 = 1.

The parameter is x = [1, -1]: every optimizer here is odd in the gradient, so the second
entry must stay the negative of the first; the expected values below are for the first.
Gradients are set by hand (``x.grad = 2 * x.data``) so that only the optimizer is tested.
"""

import math
import re

import numpy as np
import pytest

import optim
from autograd import Tensor, nn


def run(make, steps, dtype=np.float64):
    x = Tensor(np.array([1.0, -1.0], dtype=dtype), requires_grad=True)
    data = x.data
    opt = make([x])
    xs = []
    for _ in range(steps):
        x.grad = 2 * x.data
        opt.step()
        assert x.data is data, "the update must happen in place"
        assert x.data.dtype == dtype
        np.testing.assert_array_equal(x.data[1], -x.data[0])
        xs.append(float(x.data[0]))
    return xs


def close(got, expected, rtol=1e-12):
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=1e-15)


# --- SGD and Momentum ---------------------------------------------------------------------
def test_sgd_plain():
    # x <- x - 0.1 * 2x = 0.8 x
    close(run(lambda p: optim.SGD(p, lr=0.1), 3), [0.8, 0.64, 0.512])


def test_sgd_weight_decay():
    # d = 2x + 0.1x = 2.1x, x <- 0.79 x
    close(run(lambda p: optim.SGD(p, lr=0.1, weight_decay=0.1), 3), [0.79, 0.6241, 0.493039])


def test_sgd_momentum():
    # t1: g=2,    b=2 (first step: the buffer is the gradient),  x = 1 - 0.2 = 0.8
    # t2: g=1.6,  b=0.9*2 + 1.6 = 3.4,                           x = 0.8 - 0.34 = 0.46
    # t3: g=0.92, b=0.9*3.4 + 0.92 = 3.98,                       x = 0.46 - 0.398 = 0.062
    close(run(lambda p: optim.SGD(p, lr=0.1, momentum=0.9), 3), [0.8, 0.46, 0.062])


def test_momentum_is_heavy_ball():
    close(run(lambda p: optim.Momentum(p, lr=0.1), 3), [0.8, 0.46, 0.062])


def test_sgd_dampening():
    # t1: g=2,    b=2 (no dampening on the first step),   x = 0.8
    # t2: g=1.6,  b=0.9*2 + 0.5*1.6 = 2.6,                x = 0.8 - 0.26 = 0.54
    # t3: g=1.08, b=0.9*2.6 + 0.5*1.08 = 2.88,            x = 0.54 - 0.288 = 0.252
    close(run(lambda p: optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.5), 3),
          [0.8, 0.54, 0.252])


def test_sgd_nesterov():
    # t1: g=2,      b=2,                        d = 2 + 0.9*2 = 3.8,             x = 0.62
    # t2: g=1.24,   b=1.8 + 1.24 = 3.04,        d = 1.24 + 2.736 = 3.976,        x = 0.2224
    # t3: g=0.4448, b=2.736 + 0.4448 = 3.1808,  d = 0.4448 + 2.86272 = 3.30752,  x = -0.108352
    close(run(lambda p: optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True), 3),
          [0.62, 0.2224, -0.108352])


def test_sgd_nesterov_weight_decay():
    # d = 2.5x; t1: b=2.5, d=2.5+1.25=3.75, x=0.625
    # t2: d=1.5625, b=1.25+1.5625=2.8125, d=1.5625+1.40625=2.96875, x=0.328125
    # t3: d=0.8203125, b=2.2265625, d=0.8203125+1.11328125=1.93359375, x=0.134765625
    close(run(lambda p: optim.SGD(p, lr=0.1, momentum=0.5, nesterov=True, weight_decay=0.5),
              3), [0.625, 0.328125, 0.134765625])


# --- Adam and AdamW -----------------------------------------------------------------------
def test_adam():
    # lr=0.1, betas=(0.9, 0.999), eps=0.5 (large, so that it shows)
    # t1: g=2, m=0.2, v=0.004, bc1=0.1, bc2=0.001: x = 1 - 0.1 * 2 / (2 + 0.5) = 0.92
    # t2: g=1.84, m=0.18 + 0.184 = 0.364, v=0.003996 + 0.0033856 = 0.0073816,
    #     bc1=0.19, bc2=0.001999
    x2 = 0.92 - 0.1 * (0.364 / 0.19) / (math.sqrt(0.0073816 / 0.001999) + 0.5)
    # t3: bc1=0.271, bc2=1 - 0.999**3 = 0.002997001
    g3 = 2 * x2
    m3 = 0.9 * 0.364 + 0.1 * g3
    v3 = 0.999 * 0.0073816 + 0.001 * g3**2
    x3 = x2 - 0.1 * (m3 / 0.271) / (math.sqrt(v3 / 0.002997001) + 0.5)
    close(run(lambda p: optim.Adam(p, lr=0.1, eps=0.5), 3), [0.92, x2, x3])


def test_adam_constant_gradient_moves_lr_per_step():
    # bias correction makes m_hat = g and v_hat = g**2 exactly for a constant gradient
    x = Tensor(np.array([0.0, 0.0]), requires_grad=True)
    opt = optim.Adam([x], lr=0.01, eps=0.0)
    for t in range(1, 21):
        x.grad = np.array([3.0, -0.5])
        opt.step()
        close(x.data, [-0.01 * t, 0.01 * t], rtol=1e-10)


def test_adam_l2_weight_decay():
    # d = 2x + 0.5x = 2.5x; t1: m_hat = 2.5, sqrt(v_hat) = 2.5: x = 1 - 0.1 * 2.5 / 3
    x1 = 1 - 0.25 / 3
    d2 = 2.5 * x1
    m2 = 0.9 * 0.25 + 0.1 * d2
    v2 = 0.999 * 0.00625 + 0.001 * d2**2
    x2 = x1 - 0.1 * (m2 / 0.19) / (math.sqrt(v2 / 0.001999) + 0.5)
    close(run(lambda p: optim.Adam(p, lr=0.1, eps=0.5, weight_decay=0.5), 2), [x1, x2])


def test_adamw_decoupled_weight_decay():
    # weight_decay=0.1: x <- x * (1 - 0.1*0.1) = 0.99 x, then Adam with the gradient 2x
    # taken before the step.  t1: x = 0.99 - 0.08 = 0.91
    # t2: g=1.82, x = 0.91 * 0.99 = 0.9009, m = 0.18 + 0.182 = 0.362,
    #     v = 0.003996 + 0.0033124 = 0.0073084
    x2 = 0.9009 - 0.1 * (0.362 / 0.19) / (math.sqrt(0.0073084 / 0.001999) + 0.5)
    close(run(lambda p: optim.AdamW(p, lr=0.1, eps=0.5, weight_decay=0.1), 2), [0.91, x2])


def test_adamw_default_weight_decay():
    assert optim.AdamW([Tensor(np.zeros(1), requires_grad=True)]).defaults["weight_decay"] == 1e-2


def test_adam_amsgrad():
    # lr=0.5, betas=(0.5, 0.5), eps=0
    # t1: g=2, m=1, v=2, v_max=2, bc1=bc2=0.5: x = 1 - 0.5 * 2 / 2 = 0.5
    # t2: g=1, m=0.5 + 0.5 = 1, v=1 + 0.5 = 1.5 < v_max = 2, bc1=bc2=0.75:
    #     x = 0.5 - 0.5 * (1/0.75) / sqrt(2/0.75) = 0.5 - sqrt(1/6)
    # (plain Adam uses v = 1.5: x = 0.5 - 0.5 * (1/0.75) / sqrt(1.5/0.75) = 0.5 - sqrt(2)/3)
    kw = {"lr": 0.5, "betas": (0.5, 0.5), "eps": 0.0}
    close(run(lambda p: optim.Adam(p, amsgrad=True, **kw), 2), [0.5, 0.5 - math.sqrt(1 / 6)])
    close(run(lambda p: optim.Adam(p, **kw), 2), [0.5, 0.5 - math.sqrt(2) / 3])


# --- RMSprop ------------------------------------------------------------------------------
def test_rmsprop():
    # alpha=0.5, eps=1, lr=0.1.  t1: g=2, s=0.5*4=2: x = 1 - 0.1 * 2 / (sqrt(2) + 1)
    x1 = 1 - 0.2 / (math.sqrt(2) + 1)
    s2 = 1 + 0.5 * (2 * x1) ** 2
    x2 = x1 - 0.1 * 2 * x1 / (math.sqrt(s2) + 1)
    close(run(lambda p: optim.RMSprop(p, lr=0.1, alpha=0.5, eps=1.0), 2), [x1, x2])


def test_rmsprop_centered():
    # alpha=0.5, eps=0, lr=0.1.  t1: g=2, s=2, a=1, sqrt(s - a**2) = 1: x = 1 - 0.2 = 0.8
    # t2: g=1.6, s=1 + 0.5*2.56 = 2.28, a=0.5 + 0.8 = 1.3, s - a**2 = 0.59
    x2 = 0.8 - 0.16 / math.sqrt(0.59)
    close(run(lambda p: optim.RMSprop(p, lr=0.1, alpha=0.5, eps=0.0, centered=True), 2),
          [0.8, x2])


def test_rmsprop_momentum_and_weight_decay():
    # d = 2x + 0.5x = 2.5x, alpha=0.5, eps=0, momentum=0.5, lr=0.1
    # t1: d=2.5, s=3.125, b = 2.5/sqrt(3.125) = sqrt(2),  x = 1 - 0.1*sqrt(2)
    x1 = 1 - 0.1 * math.sqrt(2)
    d2 = 2.5 * x1
    s2 = 0.5 * 3.125 + 0.5 * d2**2
    b2 = 0.5 * math.sqrt(2) + d2 / math.sqrt(s2)
    x2 = x1 - 0.1 * b2
    make = lambda p: optim.RMSprop(p, lr=0.1, alpha=0.5, eps=0.0, momentum=0.5,
                                   weight_decay=0.5)
    close(run(make, 2), [x1, x2])


# --- Adagrad ------------------------------------------------------------------------------
def test_adagrad():
    # lr=0.1, eps=0.  t1: g=2, s=4: x = 1 - 0.1 * 2/2 = 0.9
    # t2: g=1.8, s=4 + 3.24 = 7.24: x = 0.9 - 0.1 * 1.8 / sqrt(7.24)
    x2 = 0.9 - 0.18 / math.sqrt(7.24)
    close(run(lambda p: optim.Adagrad(p, lr=0.1, eps=0.0), 2), [0.9, x2])


def test_adagrad_lr_decay():
    # lr_decay=1: the step size is lr / (1 + (t-1)) = 0.1, 0.05
    x2 = 0.9 - 0.05 * 1.8 / math.sqrt(7.24)
    close(run(lambda p: optim.Adagrad(p, lr=0.1, lr_decay=1.0, eps=0.0), 2), [0.9, x2])


def test_adagrad_initial_accumulator_and_eps():
    # s starts at 5, eps=1.  t1: s = 9: x = 1 - 0.1 * 2 / (3 + 1) = 0.95
    # t2: g=1.9, s = 9 + 3.61 = 12.61
    x2 = 0.95 - 0.19 / (math.sqrt(12.61) + 1)
    make = lambda p: optim.Adagrad(p, lr=0.1, initial_accumulator_value=5.0, eps=1.0)
    close(run(make, 2), [0.95, x2])


def test_adagrad_weight_decay():
    # d = 2.5x.  t1: s = 6.25: x = 1 - 0.1 * 2.5/2.5 = 0.9
    # t2: d = 2.25, s = 6.25 + 5.0625 = 11.3125
    close(run(lambda p: optim.Adagrad(p, lr=0.1, eps=0.0, weight_decay=0.5), 2),
          [0.9, 0.9 - 0.225 / math.sqrt(11.3125)])


# --- behaviour common to all --------------------------------------------------------------
ALL = [
    lambda p: optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1),
    lambda p: optim.Momentum(p, lr=0.1),
    lambda p: optim.Adam(p, lr=0.1, weight_decay=0.1, amsgrad=True),
    lambda p: optim.AdamW(p, lr=0.1),
    lambda p: optim.RMSprop(p, lr=0.1, momentum=0.5, centered=True, weight_decay=0.1),
    lambda p: optim.Adagrad(p, lr=0.1, lr_decay=0.1, weight_decay=0.1),
]
NAMES = ["SGD", "Momentum", "Adam", "AdamW", "RMSprop", "Adagrad"]


@pytest.mark.parametrize("make", ALL, ids=NAMES)
def test_float32_stays_float32_and_matches_float64(make):
    got32 = run(make, 5, dtype=np.float32)
    got64 = run(make, 5, dtype=np.float64)
    np.testing.assert_allclose(got32, got64, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("make", ALL, ids=NAMES)
def test_state_keeps_the_parameter_dtype(make):
    x = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    opt = make([x])
    x.grad = np.ones(3, dtype=np.float32)
    opt.step()
    for value in opt.state[x].values():
        if isinstance(value, np.ndarray):
            assert value.dtype == np.float32


@pytest.mark.parametrize("make", ALL, ids=NAMES)
def test_params_without_grad_are_skipped(make):
    a = Tensor(np.ones(2), requires_grad=True)
    b = Tensor(np.ones(2), requires_grad=True)
    opt = make([a, b])
    a.grad = np.ones(2)
    opt.step()
    np.testing.assert_array_equal(b.data, [1.0, 1.0])
    assert b not in opt.state
    assert not np.array_equal(a.data, [1.0, 1.0])


@pytest.mark.parametrize("make", ALL, ids=NAMES)
def test_step_does_not_change_the_gradient(make):
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    opt = make([x])
    x.grad = g = np.array([0.5, -0.5])
    for _ in range(2):
        opt.step()
    np.testing.assert_array_equal(g, [0.5, -0.5])


def test_parameter_groups_have_their_own_options():
    a = Tensor(np.ones(1), requires_grad=True)
    b = Tensor(np.ones(1), requires_grad=True)
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    a.grad, b.grad = np.ones(1), np.ones(1)
    opt.step()
    close(a.data, [0.9])
    close(b.data, [0.5])
    opt.param_groups[0]["lr"] = 0.2  # what a scheduler does
    opt.step()
    close(a.data, [0.7])


def test_add_param_group():
    a = Tensor(np.ones(1), requires_grad=True)
    b = Tensor(np.ones(1), requires_grad=True)
    opt = optim.Adam([a], lr=0.1)
    opt.add_param_group({"params": b, "lr": 0.2})
    assert opt.param_groups[1]["betas"] == (0.9, 0.999)
    assert opt.param_groups[1]["params"] == [b]


def test_zero_grad():
    a = Tensor(np.ones(2), requires_grad=True)
    opt = optim.SGD([a], lr=0.1)
    a.grad = g = np.ones(2)
    opt.zero_grad(set_to_none=False)
    assert a.grad is g
    np.testing.assert_array_equal(g, [0.0, 0.0])
    opt.zero_grad()
    assert a.grad is None


def test_real_backward_and_closure():
    x = Tensor(np.array([1.0, -1.0]), requires_grad=True)
    opt = optim.SGD([x], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (x * x).sum()
        loss.backward()
        return loss

    assert float(opt.step(closure).data) == 2.0
    close(x.data, [0.8, -0.8])


def test_gradient_left_as_a_tensor_by_create_graph():
    x = Tensor(np.array([1.0, -1.0]), requires_grad=True)
    (x * x).sum().backward(create_graph=True)
    assert isinstance(x.grad, Tensor)
    optim.SGD([x], lr=0.1).step()
    close(x.data, [0.8, -0.8])


def test_a_graph_recorded_before_the_step_refuses_backward():
    x = Tensor(np.array([1.0, -1.0]), requires_grad=True)
    loss = (x * x).sum()
    loss.backward(retain_graph=True)
    optim.SGD([x], lr=0.1).step()
    with pytest.raises(RuntimeError, match="modified in place"):
        loss.backward()


def test_gradient_of_the_wrong_shape():
    x = Tensor(np.zeros(3), requires_grad=True)
    x.grad = np.ones(1)
    with pytest.raises(ValueError, match=r"Adam: a parameter of shape \(3,\) has a gradient "
                                         r"of shape \(1,\)"):
        optim.Adam([x]).step()


def read_only(array):
    array = np.array(array)
    array.flags.writeable = False
    return array


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"])
def test_parameters_made_from_read_only_arrays_train(name):
    """nn.Parameter copies an array it cannot write (np.load(mmap_mode='r'),
    np.broadcast_to, ...); the optimizers used to fail with numpy's "output array is
    read-only"."""
    data = read_only(np.ones(3, dtype=np.float32))
    p = nn.Parameter(data)
    assert p.data.flags.writeable and not data.flags.writeable
    opt = getattr(optim, name)([p], lr=0.1)
    p.grad = np.ones(3, dtype=np.float32)
    opt.step()
    assert np.all(p.data < 1)
    np.testing.assert_array_equal(data, 1)  # the caller's array is untouched
    writable = np.ones(2, dtype=np.float32)
    assert nn.Parameter(writable).data is writable  # writable arrays are still shared


def test_a_read_only_tensor_is_refused_before_any_update():
    a = Tensor(np.ones(2), requires_grad=True)
    b = Tensor(read_only(np.ones(3)), requires_grad=True)
    a.grad, b.grad = np.ones(2), np.ones(3)
    opt = optim.SGD([a, b], lr=0.1)
    with pytest.raises(ValueError, match=re.escape(
            "SGD: parameter 1 (shape (3,)) holds a read-only array; give the optimizer "
            "writable parameters")):
        opt.step()
    np.testing.assert_array_equal(a.data, 1)  # nothing was updated


def test_a_wrong_gradient_shape_is_refused_before_any_update():
    a = Tensor(np.ones(2), requires_grad=True)
    b = Tensor(np.ones(3), requires_grad=True)
    a.grad, b.grad = np.ones(2), np.ones(1)
    with pytest.raises(ValueError, match="SGD: a parameter of shape"):
        optim.SGD([a, b], lr=0.1).step()
    np.testing.assert_array_equal(a.data, 1)


OPTIMIZERS = [("SGD", {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.1}),
              ("Adam", {"lr": 0.1, "weight_decay": 0.1}), ("AdamW", {"lr": 0.1}),
              ("RMSprop", {"lr": 0.1, "weight_decay": 0.1}),
              ("Adagrad", {"lr": 0.1, "weight_decay": 0.1})]


@pytest.mark.parametrize("name, kwargs", OPTIMIZERS, ids=[n for n, _ in OPTIMIZERS])
def test_frozen_parameters_are_skipped(name, kwargs):
    """A parameter that does not require grad (frozen, even with a stale .grad) or has no
    gradient is left alone, weight decay included; it used to be refused outright."""
    trained = Tensor(np.ones(2), requires_grad=True)
    frozen = Tensor(np.ones(2), requires_grad=True)
    no_grad_yet = Tensor(np.ones(2), requires_grad=True)
    opt = getattr(optim, name)([trained, frozen, no_grad_yet,
                                Tensor(np.ones(3))], **kwargs)  # built frozen: accepted
    trained.grad, frozen.grad = np.ones(2), np.ones(2)
    frozen.requires_grad_(False)  # frozen after a backward: its .grad is stale
    opt.step()
    assert np.all(trained.data < 1)
    np.testing.assert_array_equal(frozen.data, 1)
    np.testing.assert_array_equal(no_grad_yet.data, 1)
    assert set(map(id, opt.state)) == {id(trained)}  # no state for the skipped ones
