"""Module, Parameter, Sequential, ModuleList: registration, traversal, modes, state, repr."""

import re

import numpy as np
import pytest

import ops
from autograd import Tensor, nn, no_grad


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 4)
        self.act = nn.ReLU()
        self.scale = nn.Parameter(np.ones(4))
        self.register_buffer("steps", np.zeros((), dtype=np.int64))

    def forward(self, x):
        return self.act(self.fc(x)) * self.scale


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = Block()
        self.head = nn.Sequential(nn.Linear(4, 2), nn.Tanh())
        self.shared = self.block.fc  # the same module twice: its parameters come once

    def forward(self, x):
        return self.head(self.block(x))


def test_parameter_defaults():
    p = nn.Parameter(np.zeros((2, 3)))
    assert isinstance(p, Tensor) and p.requires_grad and p.is_leaf
    assert p.dtype == np.float32  # the default dtype, whatever the data's dtype
    assert nn.Parameter([1, 2]).dtype == np.float32
    assert nn.Parameter(np.zeros(2), dtype=np.float64).dtype == np.float64
    assert repr(p).startswith("Parameter containing:\nTensor(")


def test_parameter_hooks_work():
    p = nn.Parameter(np.ones(3))
    p.register_hook(lambda g: g * 2)
    (p * 3).sum().backward()
    np.testing.assert_allclose(p.grad, 6.0)


def test_named_parameters_order_and_sharing():
    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == ["block.scale", "block.fc.weight", "block.fc.bias", "head.0.weight",
                     "head.0.bias"]
    assert len(list(net.parameters())) == 5
    assert net.num_parameters() == 4 + 12 + 4 + 8 + 2
    assert [n for n, _ in net.block.named_parameters(recurse=False)] == ["scale"]


def test_children_modules_and_buffers():
    net = Net()
    assert [type(m).__name__ for m in net.children()] == ["Block", "Sequential", "Linear"]
    assert [n for n, _ in net.named_modules()] == ["", "block", "block.fc", "block.act", "head",
                                                  "head.0", "head.1"]
    assert [n for n, _ in net.named_buffers()] == ["block.steps"]
    net.block.steps = np.ones((), dtype=np.int64)  # assigning an array keeps it a buffer
    assert net.state_dict()["block.steps"] == 1


def test_reassigning_an_attribute_unregisters_it():
    block = Block()
    block.scale = None  # an absent parameter, as PyTorch
    block.fc = None
    assert [n for n, _ in block.named_parameters()] == []
    assert list(block.state_dict()) == ["steps"]
    del block.act
    assert list(block.children()) == []
    del block.scale, block.fc
    block.fc = "a plain attribute again"


def test_assigning_a_tensor_to_a_parameter_attribute_raises():
    """It used to replace the parameter by a plain attribute: gone from parameters() and
    state_dict(), so the optimizer and the checkpoint silently lost it."""
    fc = nn.Linear(3, 2)
    weight = fc.weight
    message = ("Linear: cannot assign a Tensor as parameter 'weight' (an nn.Parameter or None "
               "expected)")
    with pytest.raises(TypeError, match=re.escape(message)):
        fc.weight = Tensor(np.zeros((3, 2), dtype=np.float32))
    with pytest.raises(TypeError, match="cannot assign a ndarray as parameter 'bias'"):
        fc.bias = np.zeros(2, dtype=np.float32)
    assert fc.weight is weight
    assert [n for n, _ in fc.named_parameters()] == ["weight", "bias"]
    fc.weight = nn.Parameter(np.zeros((3, 2)))  # a new Parameter replaces the old one
    assert list(fc.state_dict()) == ["weight", "bias"] and not fc.weight.data.any()


def test_assigning_a_non_module_to_a_child_or_a_non_array_to_a_buffer_raises():
    block = Block()
    with pytest.raises(TypeError, match=re.escape(
            "Block: cannot assign a str as child module 'fc' (a Module or None expected)")):
        block.fc = "not a module"
    with pytest.raises(TypeError, match=re.escape(
            "Block: cannot assign a Tensor as buffer 'steps' (an ndarray or None expected)")):
        block.steps = Tensor(np.zeros(()))
    block.steps = block.steps + 1  # a numpy scalar: kept as a 0-d array buffer
    assert isinstance(block.steps, np.ndarray) and block.state_dict()["steps"] == 1
    assert [n for n, _ in block.named_children()] == ["fc", "act"]


def test_inplace_update_of_a_parameter_in_grad_mode_raises():
    """``p += x`` used to rebind ``p`` out of place: the module kept its old weights (or,
    for ``module.weight += x``, dropped the parameter) without a word."""
    fc = nn.Linear(3, 2)
    weight = fc.weight
    with pytest.raises(RuntimeError, match=re.escape(
            "+=: in-place change of a leaf tensor that requires grad (shape (3, 2))")):
        fc.weight += 1
    assert fc.weight is weight and list(fc.state_dict()) == ["weight", "bias"]
    for p in fc.parameters():
        p.grad = np.ones_like(p.data)
    for op in ("-=", "*=", "/="):
        with pytest.raises(RuntimeError, match=re.escape(f"{op}: in-place change of a leaf")):
            for p in fc.parameters():
                exec(f"p {op} 0.5", {}, {"p": p})
    before = [p.data.copy() for p in fc.parameters()]
    with no_grad():
        for p in fc.parameters():
            p -= 0.1 * p.grad
    for p, old in zip(fc.parameters(), before):
        np.testing.assert_allclose(p.data, old - 0.1)
    assert fc.weight is weight
    frozen = nn.Parameter(np.ones(2), requires_grad=False)
    frozen += 1  # nothing is recorded for a parameter that does not require grad
    np.testing.assert_array_equal(frozen.data, 2)


def test_attribute_before_init_is_an_error():
    class Bad(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(2, 2)

    with pytest.raises(AttributeError, match=r"Bad: call super\(\).__init__\(\) before"):
        Bad()


def test_train_eval_and_zero_grad():
    net = Net()
    assert net.training and net.block.fc.training
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    net(Tensor(np.ones((2, 3), dtype=np.float32))).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_requires_grad_freezes_and_unfreezes_every_parameter():
    net = Net()
    assert net.block.requires_grad_(False) is net.block
    assert [n for n, p in net.named_parameters() if p.requires_grad] == ["head.0.weight",
                                                                         "head.0.bias"]
    net(Tensor(np.ones((2, 3), dtype=np.float32))).sum().backward()
    assert net.block.fc.weight.grad is None and net.head[0].weight.grad is not None
    net.requires_grad_()
    assert all(p.requires_grad for p in net.parameters())


def test_add_module_checks_names_and_values():
    net = Net()
    net.add_module("extra", nn.ReLU())
    assert [n for n, _ in net.named_children()][-1] == "extra"
    with pytest.raises(KeyError, match="Net: a module name must be non-empty and contain no"):
        net.add_module("a.b", nn.ReLU())
    with pytest.raises(KeyError, match="Net: attribute 'train' already exists"):
        net.add_module("train", nn.ReLU())
    with pytest.raises(TypeError, match="Net: 'act' must be a Module, got int"):
        net.add_module("act", 3)
    with pytest.raises(TypeError, match="Net: a module name must be a str, got int"):
        net.add_module(1, nn.ReLU())


def test_call_runs_forward_and_base_forward_raises():
    x = Tensor(np.ones((5, 3), dtype=np.float32))
    assert Net()(x).shape == (5, 2)
    with pytest.raises(NotImplementedError, match="Module has no forward"):
        nn.Module()(x)


def test_state_dict_round_trip_copies():
    a, b = Net(), Net()
    state = a.state_dict()
    assert list(state) == ["block.scale", "block.steps", "block.fc.weight", "block.fc.bias",
                           "head.0.weight", "head.0.bias"]
    state["block.fc.weight"][...] = 7  # a copy: the module keeps its values
    assert not np.all(a.block.fc.weight.data == 7)
    b.load_state_dict(a.state_dict())
    for (_, p), (_, q) in zip(a.named_parameters(), b.named_parameters()):
        np.testing.assert_array_equal(p.data, q.data)
    x = Tensor(np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32))
    np.testing.assert_array_equal(a(x).data, b(x).data)


def test_load_state_dict_keeps_parameter_objects_and_dtype():
    net = Net()
    weight = net.block.fc.weight
    state = {k: np.asarray(v, dtype=np.float64) for k, v in Net().state_dict().items()}
    net.load_state_dict(state)
    assert net.block.fc.weight is weight and weight.dtype == np.float32
    np.testing.assert_allclose(weight.data, state["block.fc.weight"])


def test_load_state_dict_errors_name_the_keys():
    net = Net()
    state = net.state_dict()
    before = net.block.fc.weight.data.copy()
    bad = dict(state)
    del bad["head.0.bias"]
    bad["head.2.weight"] = np.zeros(3)
    bad["block.fc.weight"] = np.zeros((4, 3))
    with pytest.raises(ValueError) as info:
        net.load_state_dict(bad)
    message = str(info.value)
    assert "missing keys ['head.0.bias']" in message
    assert "unexpected keys ['head.2.weight']" in message
    assert "shape mismatch for 'block.fc.weight': expected (3, 4), got (4, 3)" in message
    np.testing.assert_array_equal(net.block.fc.weight.data, before)  # nothing was loaded


def test_load_state_dict_checks_every_entry_before_writing_any():
    """A float for an integer buffer used to be truncated silently; a failure while writing
    used to leave the model half loaded."""
    net = Net()
    before = net.state_dict()
    state = Net().state_dict()
    state["block.steps"] = np.array(2.5)
    with pytest.raises(ValueError, match=re.escape(
            "'block.steps' has non-integer values of dtype float64, expected integers (the "
            "buffer is int64)")):
        net.load_state_dict(state)
    state["block.steps"] = np.array("2")
    with pytest.raises(ValueError, match="'block.steps' has dtype <U1, expected a number array"):
        net.load_state_dict(state)
    for key, value in net.state_dict().items():
        np.testing.assert_array_equal(value, before[key])


def test_load_state_dict_into_read_only_parameter_data():
    net = Net()
    frozen = np.zeros((4, 2), dtype=np.float32)
    frozen.flags.writeable = False
    net.head[0].weight.data = frozen  # e.g. weights memory-mapped read-only
    source = Net()
    net.load_state_dict(source.state_dict())
    for (_, p), (_, q) in zip(net.named_parameters(), source.named_parameters()):
        np.testing.assert_array_equal(p.data, q.data)
    assert not frozen.any()


def test_load_state_dict_not_strict():
    net = Net()
    state = net.state_dict()
    del state["head.0.bias"]
    state["extra"] = np.zeros(1)
    missing, unexpected = net.load_state_dict(state, strict=False)
    assert missing == ["head.0.bias"] and unexpected == ["extra"]
    state["head.0.weight"] = np.zeros(2)
    with pytest.raises(ValueError, match=re.escape("shape mismatch for 'head.0.weight'")):
        net.load_state_dict(state, strict=False)


def test_to_casts_parameters_and_float_buffers():
    model = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    model.to(np.float64)
    assert all(p.dtype == np.float64 for p in model.parameters())
    assert model[1].running_mean.dtype == np.float64
    assert model[1].num_batches_tracked.dtype == np.int64
    assert model(Tensor(np.ones((4, 3)))).dtype == np.float64


def test_repr_is_nested_like_pytorch():
    net = Net()
    assert repr(net) == (
        "Net(\n"
        "  (block): Block(\n"
        "    (fc): Linear(in_features=3, out_features=4, bias=True)\n"
        "    (act): ReLU()\n"
        "  )\n"
        "  (head): Sequential(\n"
        "    (0): Linear(in_features=4, out_features=2, bias=True)\n"
        "    (1): Tanh()\n"
        "  )\n"
        "  (shared): Linear(in_features=3, out_features=4, bias=True)\n"
        ")"
    )
    assert repr(nn.ReLU()) == "ReLU()"


def test_apply_visits_every_module():
    seen = []
    Net().apply(lambda m: seen.append(type(m).__name__))
    assert seen[-1] == "Net" and sorted(seen) == sorted(
        ["Net", "Block", "Linear", "ReLU", "Sequential", "Linear", "Tanh"])


def test_module_works_with_ops_on_its_output():
    out = ops.mean(Net()(Tensor(np.ones((2, 3), dtype=np.float32))))
    out.backward()
    assert out.shape == ()


def test_deepcopy_gives_an_independent_model():
    import copy

    net = Net()
    clone = copy.deepcopy(net)
    assert isinstance(clone.block.fc.weight, nn.Parameter)
    assert clone.block.fc.weight is not net.block.fc.weight
    assert clone.shared is clone.block.fc  # sharing survives the copy
    clone.block.fc.weight.data[...] = 0
    assert net.block.fc.weight.data.any()
