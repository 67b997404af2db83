"""state_dict: plain arrays and numbers, savable with np.savez, resuming bit for bit."""

import numpy as np
import pytest

import optim
from autograd import Tensor

CONFIGS = {
    "SGD": lambda p: optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.01),
    "Momentum": lambda p: optim.Momentum(p, lr=0.1),
    "Adam": lambda p: optim.Adam(p, lr=0.01, amsgrad=True, weight_decay=0.01),
    "AdamW": lambda p: optim.AdamW(p, lr=0.01),
    "RMSprop": lambda p: optim.RMSprop(p, lr=0.01, momentum=0.9, centered=True),
    "Adagrad": lambda p: optim.Adagrad(p, lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1),
}


def make_params(dtype=np.float32):
    rng = np.random.default_rng(1)
    return [Tensor(rng.standard_normal(s).astype(dtype), requires_grad=True)
            for s in [(3, 4), (4,), (2,)]]


def grads_for(params, step):
    rng = np.random.default_rng(100 + step)
    # the last parameter gets no gradient at first: its state starts later
    return [None if (i == 2 and step < 2) else rng.standard_normal(p.shape).astype(p.dtype)
            for i, p in enumerate(params)]


def run(opt, params, steps):
    for t in steps:
        for p, g in zip(params, grads_for(params, t)):
            p.grad = g
        opt.step()


def split_groups(make, params):
    opt = make([{"params": params[:2]}, {"params": params[2:], "lr": 0.05}])
    return opt


@pytest.mark.parametrize("name", CONFIGS)
def test_resume_through_npz_gives_identical_steps(name, tmp_path):
    make = CONFIGS[name]
    params = make_params()
    opt = split_groups(make, params)
    run(opt, params, range(3))
    path = tmp_path / "opt.npz"
    np.savez(path, **opt.state_dict())

    resumed_params = [Tensor(p.data.copy(), requires_grad=True) for p in params]
    resumed = split_groups(make, resumed_params)
    resumed.param_groups[0]["lr"] = 123.0  # overwritten by the saved groups
    with np.load(path, allow_pickle=False) as saved:
        resumed.load_state_dict(saved)
    assert resumed.param_groups[0]["lr"] == opt.param_groups[0]["lr"]
    assert resumed.param_groups[1]["lr"] == 0.05

    run(opt, params, range(3, 6))
    run(resumed, resumed_params, range(3, 6))
    for p, q in zip(params, resumed_params):
        assert q.dtype == np.float32
        np.testing.assert_array_equal(p.data, q.data)


@pytest.mark.parametrize("name", CONFIGS)
def test_state_dict_holds_only_arrays_and_numbers(name):
    params = make_params()
    opt = CONFIGS[name](params)
    run(opt, params, range(3))
    d = opt.state_dict()
    assert d["optimizer"] == name
    for key, value in d.items():
        assert isinstance(value, (np.ndarray, bool, int, float, str, tuple)), key
        assert np.asarray(value).dtype != object, key
    assert d["state.0.step"] == 3
    assert "state.2.step" in d and d["state.2.step"] == 1


def test_state_dict_arrays_are_copies():
    params = make_params()
    opt = optim.Adam(params)
    run(opt, params, range(3))
    d = opt.state_dict()
    snapshot = d["state.0.exp_avg"].copy()
    run(opt, params, range(3, 4))
    np.testing.assert_array_equal(d["state.0.exp_avg"], snapshot)


def test_loaded_state_is_not_aliased_to_the_dict():
    params = make_params()
    opt = optim.SGD(params, lr=0.1, momentum=0.9)
    run(opt, params, range(3))
    d = opt.state_dict()
    other = optim.SGD(make_params(), lr=0.1, momentum=0.9)
    other.load_state_dict(d)
    buf = next(iter(other.state.values()))["momentum_buffer"]
    assert not np.shares_memory(buf, d["state.0.momentum_buffer"])


def test_load_from_another_optimizer_class_fails():
    params = make_params()
    sgd = optim.SGD(params, lr=0.1)
    with pytest.raises(ValueError, match="Adam.*SGD"):
        optim.Adam(params).load_state_dict(sgd.state_dict())


def test_load_with_wrong_shapes_fails():
    params = make_params()
    opt = optim.Adam(params)
    run(opt, params, range(3))
    other = optim.Adam([Tensor(np.zeros((4, 3), np.float32), requires_grad=True),
                        Tensor(np.zeros(4, np.float32), requires_grad=True),
                        Tensor(np.zeros(2, np.float32), requires_grad=True)])
    with pytest.raises(ValueError, match=r"state.0.exp_avg.*\(3, 4\).*\(4, 3\)"):
        other.load_state_dict(opt.state_dict())


def test_load_with_other_groups_fails():
    d = split_groups(CONFIGS["Adam"], make_params()).state_dict()
    with pytest.raises(ValueError, match="the state has 2 parameter groups, the optimizer has 1"):
        optim.Adam(make_params()).load_state_dict(d)
    params = make_params()
    other = optim.Adam([{"params": params[:1]}, {"params": params[1:]}])
    with pytest.raises(ValueError, match="group 0 has 1 parameters, the state has 2"):
        other.load_state_dict(d)


def test_load_with_unexpected_key_fails_and_changes_nothing():
    params = make_params()
    opt = optim.Adam(params)
    run(opt, params, range(2))
    d = opt.state_dict()
    d["bogus"] = 1
    fresh = optim.Adam(make_params(), lr=0.5)
    with pytest.raises(ValueError, match="unexpected key 'bogus'"):
        fresh.load_state_dict(d)
    assert fresh.state == {} and fresh.param_groups[0]["lr"] == 0.5


def test_load_with_bad_option_fails():
    params = make_params()
    d = optim.Adam(params).state_dict()
    d["param_groups.0.lr"] = -1.0
    with pytest.raises(ValueError, match="Adam: lr must be >= 0"):
        optim.Adam(make_params()).load_state_dict(d)
