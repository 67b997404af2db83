"""Containers: ``Sequential``, ``ModuleList``, ``ModuleDict`` and ``ParameterList``.

Each registers what it holds, so the parameters inside reach ``parameters()``,
``state_dict()`` and the optimizers; a plain Python list or dict of layers would hide them.

>>> heads = nn.ModuleDict({"digits": nn.Linear(128, 10), "parity": nn.Linear(128, 2)})
>>> scales = nn.ParameterList([nn.Parameter(np.ones(4)) for _ in range(3)])
"""

from collections import OrderedDict
from collections.abc import Mapping

from autograd.nn.module import Module, Parameter

__all__ = ["ModuleDict", "ModuleList", "ParameterList", "Sequential"]


def _index(container, index, what):
    """``index`` (an int, maybe negative) as a position in ``container``, or IndexError."""
    n = len(container)
    if not -n <= index < n:
        raise IndexError(
            f"{type(container).__name__}: index {index} is out of range for {n} {what}"
        )
    return index % n


class Sequential(Module):
    """Modules applied one after another.

    >>> model = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    >>> model[0], len(model), model[1:]
    """

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], (dict, OrderedDict)):
            for name, m in modules[0].items():
                self.add_module(str(name), m)
        else:
            for i, m in enumerate(modules):
                self.add_module(str(i), m)

    def add_module(self, name, module):
        if not isinstance(module, Module):  # None, allowed elsewhere, would break forward
            raise TypeError(
                f"{type(self).__name__}: {name!r} must be a Module, got {type(module).__name__}"
            )
        super().add_module(name, module)

    def append(self, module):
        self.add_module(str(len(self._modules)), module)
        return self

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, index):
        items = list(self._modules.items())
        if isinstance(index, slice):
            return type(self)(OrderedDict(items[index]))
        return items[_index(self, index, "modules")][1]

    def forward(self, x):
        for module in self._modules.values():
            x = module(x)
        return x


class ModuleList(Sequential):
    """A list of modules whose parameters are registered; it has no forward of its own.

    >>> blocks = nn.ModuleList([nn.Linear(64, 64) for _ in range(4)])
    >>> for block in blocks:
    ...     x = ops.relu(block(x))
    """

    def __init__(self, modules=()):
        super().__init__(*modules)

    def extend(self, modules):
        for m in modules:
            self.append(m)
        return self

    def __getitem__(self, index):
        if isinstance(index, slice):
            return ModuleList(list(self._modules.values())[index])
        return super().__getitem__(index)

    def forward(self, *args, **kwargs):
        raise NotImplementedError("ModuleList has no forward(); iterate over it instead")


class ModuleDict(Module):
    """A dict of modules whose parameters are registered, in insertion order, under their
    keys (``state_dict`` names ``"<key>.weight"``, ...); it has no forward of its own.

    Keys are non-empty strings without ``"."`` that do not clash with Module attributes
    (``"train"`` would hide the method), as in PyTorch.

    >>> heads = nn.ModuleDict({"digits": nn.Linear(128, 10), "parity": nn.Linear(128, 2)})
    >>> logits = heads["digits"](features)
    >>> heads["size"] = nn.Linear(128, 3)
    """

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def _check_key(self, key):
        if key not in self._modules:
            raise KeyError(f"ModuleDict: no module under {key!r}; keys are {list(self._modules)}")

    def __getitem__(self, key):
        self._check_key(key)
        return self._modules[key]

    def __setitem__(self, key, module):
        if not isinstance(module, Module):
            raise TypeError(f"ModuleDict: {key!r} must be a Module, got {type(module).__name__}")
        self.add_module(key, module)

    def __delitem__(self, key):
        self._check_key(key)
        delattr(self, key)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key):
        return key in self._modules

    def keys(self):
        return self._modules.keys()

    def values(self):
        return self._modules.values()

    def items(self):
        return self._modules.items()

    def pop(self, key):
        module = self[key]
        del self[key]
        return module

    def clear(self):
        for key in list(self._modules):
            del self[key]

    def update(self, modules):
        """Add or replace modules from a mapping or an iterable of (key, module) pairs."""
        pairs = modules.items() if isinstance(modules, (Mapping, ModuleDict)) else modules
        for i, pair in enumerate(pairs):
            if not (isinstance(pair, (tuple, list)) and len(pair) == 2):
                raise TypeError(f"ModuleDict.update: element {i} should be a (key, module) "
                                f"pair, got {type(pair).__name__}")
            self[pair[0]] = pair[1]

    def forward(self, *args, **kwargs):
        raise NotImplementedError("ModuleDict has no forward(); call its modules instead")


class ParameterList(Module):
    """A list of Parameters, registered as ``"0"``, ``"1"``, ... (so they reach
    ``parameters()``, ``state_dict()`` and the optimizers); it has no forward of its own.

    >>> scales = nn.ParameterList([nn.Parameter(np.ones(4)) for _ in range(3)])
    >>> scales.append(nn.Parameter(np.zeros(4)))
    >>> out = sum(x * s for s in scales)
    """

    def __init__(self, values=None):
        super().__init__()
        if values is not None:
            self.extend(values)

    def _check(self, index, param):
        if not isinstance(param, Parameter):
            hint = "; wrap it in nn.Parameter" if hasattr(param, "shape") else ""
            raise TypeError(f"ParameterList: element {index} must be an nn.Parameter, got "
                            f"{type(param).__name__}{hint}")
        return param

    def append(self, param):
        n = len(self._parameters)
        setattr(self, str(n), self._check(n, param))
        return self

    def extend(self, params):
        for p in params:
            self.append(p)
        return self

    def __len__(self):
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters.values())

    def __getitem__(self, index):
        params = list(self._parameters.values())
        if isinstance(index, slice):
            return ParameterList(params[index])
        return params[_index(self, index, "parameters")]

    def __setitem__(self, index, param):
        i = _index(self, index, "parameters")
        setattr(self, str(i), self._check(i, param))

    def forward(self, *args, **kwargs):
        raise NotImplementedError("ParameterList has no forward(); use its parameters instead")

    def __repr__(self):
        lines = [f"({i}): Parameter of shape {p.shape}, {p.dtype}"
                 for i, p in enumerate(self._parameters.values())]
        if not lines:
            return "ParameterList()"
        return "ParameterList(\n  " + "\n  ".join(lines) + "\n)"
