"""Sequential, ModuleList, ModuleDict, ParameterList: registration, indexing, errors."""

import re

import numpy as np
import pytest

import optim
from autograd import Tensor, nn


def test_sequential_indexing_and_containers():
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert len(seq) == 3 and isinstance(seq[-1], nn.Linear)
    assert isinstance(seq[1:], nn.Sequential) and len(seq[1:]) == 2
    assert [type(m).__name__ for m in seq] == ["Linear", "ReLU", "Linear"]
    seq.append(nn.Sigmoid())
    assert len(seq) == 4 and len(list(seq.parameters())) == 4
    with pytest.raises(IndexError, match="Sequential: index 9 is out of range for 4 modules"):
        seq[9]
    with pytest.raises(TypeError, match="Sequential: '0' must be a Module, got int"):
        nn.Sequential(3)
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    assert len(list(layers.parameters())) == 6 and len(layers[:2]) == 2
    x = Tensor(np.ones((1, 2), dtype=np.float32))
    for layer in layers:
        x = layer(x)
    with pytest.raises(NotImplementedError):
        layers(x)
    assert layers.extend([nn.ReLU()]) is layers and isinstance(layers[-1], nn.ReLU)


def test_module_dict_registers_its_modules_in_order():
    heads = nn.ModuleDict({"digits": nn.Linear(4, 10), "parity": nn.Linear(4, 2)})
    heads["size"] = nn.Linear(4, 3)
    assert list(heads) == ["digits", "parity", "size"] and len(heads) == 3
    assert "parity" in heads and "colour" not in heads
    assert list(heads.state_dict())[:2] == ["digits.weight", "digits.bias"]
    assert len(list(heads.parameters())) == 6
    assert [k for k, _ in heads.items()] == list(heads.keys())
    assert isinstance(heads["size"], nn.Linear) and heads["size"] is list(heads.values())[2]
    x = Tensor(np.ones((2, 4), dtype=np.float32))
    assert heads["digits"](x).shape == (2, 10)
    replacement = nn.Linear(4, 10)
    heads["digits"] = replacement  # replacing keeps the position
    assert list(heads) == ["digits", "parity", "size"] and heads["digits"] is replacement
    assert heads.pop("parity").out_features == 2
    del heads["size"]
    assert list(heads) == ["digits"]
    heads.update([("a", nn.ReLU()), ("b", nn.Tanh())])
    assert list(heads) == ["digits", "a", "b"]
    heads.clear()
    assert len(heads) == 0 and list(heads.parameters()) == []
    nested = nn.Sequential(nn.ModuleDict({"fc": nn.Linear(2, 2)}))
    assert list(nested.state_dict()) == ["0.fc.weight", "0.fc.bias"]


def test_module_dict_errors():
    heads = nn.ModuleDict({"a": nn.ReLU()})
    with pytest.raises(KeyError, match=re.escape("ModuleDict: no module under 'b'; keys are "
                                                 "['a']")):
        heads["b"]
    with pytest.raises(KeyError, match="ModuleDict: attribute 'train' already exists"):
        heads["train"] = nn.ReLU()
    with pytest.raises(KeyError, match="contain no '.'"):
        heads["x.y"] = nn.ReLU()
    with pytest.raises(TypeError, match="ModuleDict: 'c' must be a Module, got int"):
        heads["c"] = 3
    with pytest.raises(TypeError, match="ModuleDict.update: element 0 should be a"):
        nn.ModuleDict(["ab"])
    with pytest.raises(NotImplementedError, match="ModuleDict has no forward"):
        heads(Tensor(np.ones(2)))


def test_parameter_list_registers_and_trains_its_parameters():
    scales = nn.ParameterList([nn.Parameter(np.full(2, 2.0)) for _ in range(2)])
    scales.append(nn.Parameter(np.full(2, 3.0)))
    assert len(scales) == 3 and [n for n, _ in scales.named_parameters()] == ["0", "1", "2"]
    assert scales[-1].data[0] == 3 and len(scales[1:]) == 2
    replacement = nn.Parameter(np.ones(2))
    scales[0] = replacement
    assert scales[0] is replacement and list(scales.state_dict()) == ["0", "1", "2"]
    opt = optim.SGD(scales.parameters(), lr=0.5)
    loss = sum((s * s).sum() for s in scales)  # d/ds = 2 s
    loss.backward()
    opt.step()
    np.testing.assert_allclose([s.data[0] for s in scales], [0, 0, 0])
    assert repr(nn.ParameterList([nn.Parameter(np.ones((2, 3)))])) == (
        "ParameterList(\n  (0): Parameter of shape (2, 3), float32\n)")


def test_parameter_list_errors():
    scales = nn.ParameterList()
    with pytest.raises(TypeError, match="ParameterList: element 0 must be an nn.Parameter, got "
                                        "Tensor; wrap it in nn.Parameter"):
        scales.append(Tensor(np.ones(2)))
    with pytest.raises(IndexError, match="ParameterList: index 0 is out of range for 0 "
                                         "parameters"):
        scales[0]
    with pytest.raises(NotImplementedError, match="ParameterList has no forward"):
        scales()
