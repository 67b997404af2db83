"""The fused updates (optim/kernels.py) against the slow references of naive_updates.py and
against the optimizers' numpy path, bit for bit, from random states, in float32 and float64;
and the layouts and dtypes the kernels do not take, which must still train."""

import os
import subprocess
import sys
import zlib

import numpy as np
import pytest

import optim
from autograd import Tensor
from optim.optimizer import _fits_kernels
from tests.optim import naive_updates as naive

CASES = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.1, "weight_decay": 0.03}),
    ("SGD", {"lr": 0.1, "momentum": 0.9}),
    ("SGD", {"lr": 0.05, "momentum": 0.7, "dampening": 0.3, "weight_decay": 0.01}),
    ("SGD", {"lr": 0.05, "momentum": 0.8, "nesterov": True, "weight_decay": 0.02}),
    ("Momentum", {"lr": 0.05}),
    ("Adam", {}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.02, "betas": (0.5, 0.7), "eps": 1e-3, "amsgrad": True,
              "weight_decay": 0.05}),
    ("AdamW", {"lr": 0.01}),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.0}),
    ("AdamW", {"lr": 0.03, "weight_decay": 0.3, "amsgrad": True}),
    ("RMSprop", {"lr": 0.01}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.9, "weight_decay": 0.1}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.6}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.8, "centered": True, "eps": 1e-4}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.7, "centered": True, "weight_decay": 0.1}),
    ("Adagrad", {"lr": 0.1}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.05, "weight_decay": 0.1,
                 "initial_accumulator_value": 0.2, "eps": 1e-6}),
]
IDS = [f"{name}-{i}" for i, (name, _) in enumerate(CASES)]
SHAPES = [(6, 5), (7,), (), (2, 3, 4), (0, 3)]


def random_state(name, kwargs, p, rng):
    """A state as if ``p`` had taken a few steps already (every array the update reads)."""
    def r(scale=1.0, positive=False):
        x = scale * rng.standard_normal(p.shape)
        return np.asarray(np.abs(x) if positive else x, dtype=p.dtype)  # 0-d stays an array

    state = {"step": int(rng.integers(1, 6))}
    if name in ("SGD", "Momentum") and kwargs.get("momentum", name == "Momentum"):
        state["momentum_buffer"] = r()
    elif name in ("Adam", "AdamW"):
        state["exp_avg"], state["exp_avg_sq"] = r(0.1), r(0.01, positive=True)
        if kwargs.get("amsgrad"):
            state["max_exp_avg_sq"] = r(0.01, positive=True)
    elif name == "RMSprop":
        state["square_avg"] = r(0.1, positive=True)
        if kwargs.get("centered"):
            state["grad_avg"] = r(0.1)
            state["square_avg"] += state["grad_avg"] * state["grad_avg"]  # variance > 0
        if kwargs.get("momentum"):
            state["momentum_buffer"] = r()
    elif name == "Adagrad":
        state["sum"] = r(positive=True)
    return state


def naive_step(name, kwargs, p, g, state):
    """(new p, new state) from naive_updates.py; ``state`` is left alone."""
    opt = getattr(optim, name)([Tensor(np.zeros(1), requires_grad=True)], **kwargs)
    o = {k: v for k, v in opt.param_groups[0].items() if k != "params"}
    step = state.get("step", 0) + 1
    new = {"step": step}
    wd = o["weight_decay"]
    if name in ("SGD", "Momentum"):
        buf = state.get("momentum_buffer")
        p, buf = naive.sgd(p, g, buf, lr=o["lr"], momentum=o["momentum"],
                           dampening=o["dampening"], nesterov=o["nesterov"], weight_decay=wd)
        if o["momentum"] != 0:
            new["momentum_buffer"] = buf
    elif name in ("Adam", "AdamW"):
        zeros = np.zeros_like(p)
        m, v = state.get("exp_avg", zeros), state.get("exp_avg_sq", zeros)
        v_max = state.get("max_exp_avg_sq", zeros) if o["amsgrad"] else None
        p, m, v, v_max = naive.adam(p, g, m, v, v_max, step, lr=o["lr"], betas=o["betas"],
                                    eps=o["eps"], weight_decay=wd, amsgrad=o["amsgrad"],
                                    decoupled=name == "AdamW")
        new.update(exp_avg=m, exp_avg_sq=v)
        if o["amsgrad"]:
            new["max_exp_avg_sq"] = v_max
    elif name == "RMSprop":
        zeros = np.zeros_like(p)
        s, a, b = (state.get(k, zeros) for k in ("square_avg", "grad_avg", "momentum_buffer"))
        p, s, a, b = naive.rmsprop(p, g, s, a, b, lr=o["lr"], alpha=o["alpha"], eps=o["eps"],
                                   weight_decay=wd, momentum=o["momentum"],
                                   centered=o["centered"])
        new["square_avg"] = s
        if o["centered"]:
            new["grad_avg"] = a
        if o["momentum"] > 0:
            new["momentum_buffer"] = b
    else:
        total = state.get("sum", np.full_like(p, o["initial_accumulator_value"]))
        p, total = naive.adagrad(p, g, total, step, lr=o["lr"], lr_decay=o["lr_decay"],
                                 eps=o["eps"], weight_decay=wd)
        new["sum"] = total
    return p, new


def assert_same_state(got, expected):
    assert set(got) == set(expected)
    for key, value in expected.items():
        assert got[key].dtype == value.dtype if key != "step" else got[key] == value
        np.testing.assert_array_equal(got[key], value, err_msg=key)


def copy_state(state):
    return {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in state.items()}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name, kwargs", CASES, ids=IDS)
def test_fused_matches_the_reference_and_the_numpy_path_bit_for_bit(name, kwargs, dtype):
    rng = np.random.default_rng(zlib.crc32(f"{name}{kwargs}{dtype.__name__}".encode()))
    init = [np.asarray(rng.standard_normal(s), dtype=dtype) for s in SHAPES]
    fused_params = [Tensor(a.copy(), requires_grad=True) for a in init]
    numpy_params = [Tensor(a.copy(), requires_grad=True) for a in init]
    fused = getattr(optim, name)(fused_params, **kwargs)
    numpy_path = getattr(optim, name)(numpy_params, **kwargs)
    numpy_path.use_fused_kernels = False
    expected_p = [a.copy() for a in init]
    expected_state = [{} for _ in init]
    for i, a in enumerate(init[:3]):  # the others start without state
        expected_state[i] = random_state(name, kwargs, a, rng)
        fused.state[fused_params[i]] = copy_state(expected_state[i])
        numpy_path.state[numpy_params[i]] = copy_state(expected_state[i])
    for _ in range(3):
        grads = [np.asarray(rng.standard_normal(s), dtype=dtype) for s in SHAPES]
        for params in (fused_params, numpy_params):
            for p, g in zip(params, grads):
                p.grad = g.copy()
            assert all(_fits_kernels(p.data, p.grad, {}) for p in params)
        fused.step()
        numpy_path.step()
        for i, g in enumerate(grads):
            expected_p[i], expected_state[i] = naive_step(name, kwargs, expected_p[i], g,
                                                          expected_state[i])
            for params, opt in ((fused_params, fused), (numpy_params, numpy_path)):
                p = params[i]
                np.testing.assert_array_equal(p.data, expected_p[i])
                assert p.data.dtype == dtype
                assert_same_state(opt.state[p], expected_state[i])


@pytest.mark.parametrize("name, kwargs", [CASES[4], CASES[8], CASES[11], CASES[16], CASES[18]],
                         ids=["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"])
def test_nan_and_inf_gradients_go_through_both_paths_alike(name, kwargs):
    g = np.array([np.nan, np.inf, -np.inf, 1.0, 0.0], dtype=np.float32)
    results = []
    for fused in (True, False):
        p = Tensor(np.linspace(-1, 1, 5).astype(np.float32), requires_grad=True)
        opt = getattr(optim, name)([p], **kwargs)
        opt.use_fused_kernels = fused
        for grad in (g, g[::-1].copy(), np.ones(5, np.float32)):
            p.grad = grad
            with np.errstate(all="ignore"):
                opt.step()
        results.append((p.data, copy_state(opt.state[p])))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    assert_same_state(results[0][1], results[1][1])


def unusual_parameters():
    """(label, parameter data, gradient) the kernels do not take."""
    rng = np.random.default_rng(5)
    a = rng.standard_normal((5, 4))
    return [
        ("transposed", a.T.astype(np.float32, order="K"), rng.standard_normal((4, 5))
         .astype(np.float32)),
        ("strided", a.astype(np.float32)[:, ::2], rng.standard_normal((5, 2)).astype(np.float32)),
        ("float16", a.astype(np.float16), rng.standard_normal((5, 4)).astype(np.float16)),
        ("float64 gradient", a.astype(np.float32), rng.standard_normal((5, 4))),
        ("transposed gradient", a.astype(np.float32),
         rng.standard_normal((4, 5)).astype(np.float32).T),
        ("read-only gradient", a.astype(np.float32),
         np.broadcast_to(np.float32(0.5), (5, 4))),
    ]


@pytest.mark.parametrize("name, kwargs", [CASES[4], CASES[8], CASES[11], CASES[16], CASES[18]],
                         ids=["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"])
@pytest.mark.parametrize("label, data, grad", unusual_parameters(),
                         ids=[u[0] for u in unusual_parameters()])
def test_unusual_layouts_and_dtypes_take_the_numpy_path(name, kwargs, label, data, grad):
    assert not _fits_kernels(data, grad, {})
    p = Tensor(data.copy(order="K"), requires_grad=True)
    # the reference: a float64 contiguous twin on the numpy path
    twin = Tensor(np.ascontiguousarray(data, dtype=np.float64), requires_grad=True)
    opt, twin_opt = getattr(optim, name)([p], **kwargs), getattr(optim, name)([twin], **kwargs)
    twin_opt.use_fused_kernels = False
    for _ in range(3):
        p.grad, twin.grad = grad, np.asarray(grad, dtype=np.float64)
        opt.step()
        twin_opt.step()
    assert p.data.dtype == data.dtype
    tol = 1e-2 if data.dtype == np.float16 else 1e-5
    np.testing.assert_allclose(p.data, twin.data, rtol=tol, atol=tol)


def test_a_state_array_of_another_layout_takes_the_numpy_path():
    """A state loaded or set by hand in Fortran order is updated in place, not a copy."""
    p = Tensor(np.ones((3, 4), np.float32), requires_grad=True)
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    buf = np.asfortranarray(np.full((3, 4), 2.0, np.float32))
    opt.state[p] = {"step": 1, "momentum_buffer": buf}
    p.grad = np.ones((3, 4), np.float32)
    opt.step()
    assert opt.state[p]["momentum_buffer"] is buf
    np.testing.assert_allclose(buf, 2.8)
    np.testing.assert_allclose(p.data, 1 - 0.28)


def test_kernels_compile_only_for_the_optimizer_and_dtype_used():
    code = (
        "import numpy as np, optim\n"
        "from optim import kernels\n"
        "from autograd import Tensor\n"
        "p = Tensor(np.ones(3, np.float32), requires_grad=True)\n"
        "opt = optim.Adam([p]); p.grad = np.ones(3, np.float32); opt.step(); opt.step()\n"
        "print(*(len(getattr(kernels, name).signatures) for name in\n"
        "        ('adam', 'adam_amsgrad', 'sgd', 'sgd_momentum', 'rmsprop', 'adagrad')))\n"
    )
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True,
                         text=True, timeout=300, env={**os.environ, "PYTHONPATH": root})
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["1", "0", "0", "0", "0", "0"]


@pytest.mark.parametrize("name", ["Adam", "RMSprop", "Adagrad"])
def test_zero_over_zero_gives_nan_as_numpy_does(name):
    """eps = 0 and a zero gradient: 0 / 0 in the update. numpy gives nan (with a warning);
    the kernels must too, not raise ZeroDivisionError as numba's Python error model would."""
    results = []
    for fused in (True, False):
        p = Tensor(np.ones(4, np.float32), requires_grad=True)
        opt = getattr(optim, name)([p], lr=0.1, eps=0.0)
        opt.use_fused_kernels = fused
        p.grad = np.zeros(4, np.float32)
        with np.errstate(all="ignore"):
            opt.step()
        results.append(p.data)
    assert np.isnan(results[0]).all()
    np.testing.assert_array_equal(results[0], results[1])
