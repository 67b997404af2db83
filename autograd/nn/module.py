"""``Module`` and ``Parameter`` (the containers are in ``autograd.nn.containers``).

A Module finds its parameters, buffers and sub-modules from its attributes: assigning a
``Parameter`` registers a parameter, assigning a ``Module`` registers a child, and
``register_buffer`` registers state that is saved but not trained (BatchNorm's running
statistics). Attributes are ordinary instance attributes, so reading them costs nothing.

>>> class MLP(nn.Module):
...     def __init__(self):
...         super().__init__()
...         self.fc1, self.fc2 = nn.Linear(784, 128), nn.Linear(128, 10)
...     def forward(self, x):
...         return self.fc2(ops.relu(self.fc1(x)))
"""

from collections import OrderedDict

import numpy as np

from autograd.core.tensor import Tensor, get_default_dtype
from autograd.jit import trace
from autograd.jit.trace import host_call


class Parameter(Tensor):
    """A Tensor a Module trains: ``requires_grad=True`` and, unless ``dtype`` says otherwise,
    the default float dtype (float32), whatever the dtype of ``data``.

    >>> w = nn.Parameter(np.zeros((3, 4)))        # float32, requires_grad=True
    """

    __slots__ = ()

    def __init__(self, data, requires_grad=True, dtype=None):
        if dtype is None:
            dtype = get_default_dtype()
        super().__init__(data, requires_grad=requires_grad, dtype=dtype)
        if not self.data.flags.writeable:  # np.broadcast_to, a read-only memory map, ...
            self.data = self.data.copy()  # optimizers and load_state_dict write in place

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


def _float_dtype(dtype):
    dtype = get_default_dtype() if dtype is None else np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"expected a floating dtype for parameters, got {dtype}")
    return dtype


class Module:
    """Base class of every layer: holds parameters, buffers and sub-modules.

    Subclasses call ``super().__init__()`` first, assign their Parameters and sub-modules
    as attributes and define ``forward``; calling the module calls ``forward``.
    """

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "training", True)

    # --- registration -------------------------------------------------------------------
    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"{type(self).__name__}: call super().__init__() before assigning attributes"
            )
        if isinstance(value, Parameter):
            self._unregister(name, keep=self._parameters)  # a replacement keeps its place
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._unregister(name, keep=self._modules)
            self._modules[name] = value
        elif name in self._parameters:
            # Anything but None would silently drop the parameter from parameters() and
            # state_dict(): the optimizer and the checkpoint would lose it.
            self._refuse(value, name, "parameter", "an nn.Parameter",
                         "; wrap it in nn.Parameter to replace the parameter, or change it in "
                         "place under autograd.no_grad()")
        elif name in self._modules:
            self._refuse(value, name, "child module", "a Module")
        elif name in self._buffers:
            if isinstance(value, np.generic):  # buf + 1 on a 0-d array gives a numpy scalar
                value = np.asarray(value)
            self._refuse(value, name, "buffer", "an ndarray", allowed=np.ndarray)
            self._buffers[name] = value
        object.__setattr__(self, name, value)

    def _refuse(self, value, name, kind, expected, hint="", allowed=()):
        if value is not None and not isinstance(value, allowed):
            raise TypeError(f"{type(self).__name__}: cannot assign a {type(value).__name__} as "
                            f"{kind} {name!r} ({expected} or None expected){hint}")
        if kind == "parameter":
            self._parameters[name] = None  # an absent optional parameter, as PyTorch
        elif kind == "child module":
            self._modules[name] = None

    def _unregister(self, name, keep=None):
        for registry in (self._parameters, self._buffers, self._modules):
            if registry is not keep:
                registry.pop(name, None)
        self._non_persistent.discard(name)

    def __delattr__(self, name):
        self._unregister(name)
        object.__delattr__(self, name)

    def add_module(self, name, module):
        """Register ``module`` (a Module, or None for an absent one) as child ``name``."""
        cls = type(self).__name__
        if not isinstance(name, str):
            raise TypeError(f"{cls}: a module name must be a str, got {type(name).__name__}")
        if not name or "." in name:  # the dotted state_dict names would become ambiguous
            raise KeyError(f"{cls}: a module name must be non-empty and contain no '.', "
                           f"got {name!r}")
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{cls}: {name!r} must be a Module, got {type(module).__name__}")
        if name not in self._modules and hasattr(self, name):
            raise KeyError(f"{cls}: attribute {name!r} already exists")
        setattr(self, name, module)
        if module is None:
            self._modules[name] = None

    def register_parameter(self, name, param):
        """Register ``param`` (a Parameter or None, for an absent optional parameter)."""
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter: {name!r} must be a Parameter or None, got "
                            f"{type(param).__name__}")
        setattr(self, name, param)
        if param is None:
            self._parameters[name] = None

    def register_buffer(self, name, array, persistent=True):
        """Register an ndarray that is part of the state (saved, loaded) but not trained."""
        if array is not None:
            array = np.asarray(array.data if isinstance(array, Tensor) else array)
        self._unregister(name)
        object.__setattr__(self, name, array)
        self._buffers[name] = array
        if not persistent:
            self._non_persistent.add(name)

    def set_buffer(self, name, array):
        """Replace buffer ``name`` by ``array``."""
        if name not in self._buffers:
            raise KeyError(f"{type(self).__name__}: no buffer named {name!r}")
        object.__setattr__(self, name, array)
        self._buffers[name] = array

    # --- traversal ----------------------------------------------------------------------
    def named_modules(self, prefix=""):
        """(name, module) for this module and every descendant, depth first, each once."""
        seen = set()
        stack = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            children = [(f"{name}.{k}" if name else k, m)
                        for k, m in module._modules.items() if m is not None]
            stack.extend(reversed(children))

    def modules(self):
        for _, m in self.named_modules():
            yield m

    def named_children(self):
        """(name, module) for each direct sub-module; one registered twice comes once."""
        seen = set()
        for name, m in self._modules.items():
            if m is not None and id(m) not in seen:
                seen.add(id(m))
                yield name, m

    def children(self):
        for _, m in self.named_children():
            yield m

    def named_parameters(self, prefix="", recurse=True):
        """(dotted name, Parameter) pairs; a parameter shared by two modules comes once."""
        seen = set()
        modules = self.named_modules(prefix) if recurse else [(prefix, self)]
        for mod_name, module in modules:
            for name, p in module._parameters.items():
                if p is None or id(p) in seen:
                    continue
                seen.add(id(p))
                yield (f"{mod_name}.{name}" if mod_name else name), p

    def parameters(self, recurse=True):
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix=""):
        for mod_name, module in self.named_modules(prefix):
            for name, b in module._buffers.items():
                if b is not None:
                    yield (f"{mod_name}.{name}" if mod_name else name), b

    def buffers(self):
        for _, b in self.named_buffers():
            yield b

    def num_parameters(self):
        """How many numbers the parameters hold."""
        return sum(p.size for p in self.parameters())

    def apply(self, fn):
        """Call ``fn(module)`` on every descendant and then on this module; returns self."""
        for m in list(self.modules())[::-1]:
            fn(m)
        return self

    # --- modes and gradients ------------------------------------------------------------
    def train(self, mode=True):
        """Set training mode (Dropout drops, BatchNorm uses batch statistics); returns self."""
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self):
        """Set evaluation mode: ``train(False)``."""
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        """Set ``requires_grad`` of every parameter (False freezes them: backward leaves
        them without a gradient and the optimizers skip them); returns self.

        >>> model.backbone.requires_grad_(False)      # fine-tune the head only
        """
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    @host_call
    def zero_grad(self):
        """Forget every parameter's gradient."""
        for p in self.parameters():
            p.grad = None

    def to(self, dtype):
        """Cast every parameter and float buffer to ``dtype`` in place; returns self."""
        dtype = _float_dtype(dtype)
        for p in self.parameters():
            if p.dtype != dtype:
                p.data = p.data.astype(dtype)
                p.grad = None
                p._version[0] += 1
        for m in self.modules():
            for name, b in list(m._buffers.items()):
                if b is not None and b.dtype.kind == "f" and b.dtype != dtype:
                    m.set_buffer(name, b.astype(dtype))
        return self

    # --- state --------------------------------------------------------------------------
    def state_dict(self):
        """OrderedDict of dotted name -> ndarray copy, for every parameter and persistent
        buffer (parameters first within each module, as PyTorch)."""
        state = OrderedDict()
        for mod_name, module in self.named_modules():
            pre = f"{mod_name}." if mod_name else ""
            for name, p in module._parameters.items():
                if p is not None:
                    state[pre + name] = p.data.copy()
            for name, b in module._buffers.items():
                if b is not None and name not in module._non_persistent:
                    state[pre + name] = np.array(b, copy=True)
        return state

    def _state_targets(self):
        """dotted name -> (module, attribute name, is parameter)."""
        targets = OrderedDict()
        for mod_name, module in self.named_modules():
            pre = f"{mod_name}." if mod_name else ""
            for name, p in module._parameters.items():
                if p is not None:
                    targets[pre + name] = (module, name, True)
            for name, b in module._buffers.items():
                if b is not None and name not in module._non_persistent:
                    targets[pre + name] = (module, name, False)
        return targets

    def load_state_dict(self, state, strict=True):
        """Copy ``state`` (name -> array) into the parameters and buffers, in place.

        Values are cast to each parameter's dtype. A shape mismatch is always an error, and
        so is a non-numeric value or a fraction for an integer buffer; with ``strict``
        (default) so are missing and unexpected keys. Every entry is checked before any is
        written: on an error nothing is changed. Returns ``(missing, unexpected)`` key lists.
        """
        targets = self._state_targets()
        missing = [k for k in targets if k not in state]
        unexpected = [k for k in state if k not in targets]
        problems = []
        if strict and missing:
            problems.append(f"missing keys {missing}")
        if strict and unexpected:
            problems.append(f"unexpected keys {unexpected}")
        values = {}
        for key, (module, name, _) in targets.items():
            if key not in state:
                continue
            value = state[key]
            value = np.asarray(value.data if isinstance(value, Tensor) else value)
            current = getattr(module, name)
            current = current.data if isinstance(current, Tensor) else current
            if value.shape != current.shape:
                problems.append(
                    f"shape mismatch for {key!r}: expected {current.shape}, got {value.shape}"
                )
            elif value.dtype.kind not in "biuf":
                problems.append(f"{key!r} has dtype {value.dtype}, expected a number array")
            elif current.dtype.kind in "biu" and value.dtype.kind == "f" and \
                    not np.array_equal(value, np.trunc(value)):  # 2.0 -> 2, not 2.5 -> 2
                problems.append(f"{key!r} has non-integer values of dtype {value.dtype}, "
                                f"expected integers (the buffer is {current.dtype})")
            else:
                # Cast (a copy) now, so that the writes below cannot fail halfway.
                values[key] = value.astype(current.dtype, copy=True)
        if problems:
            raise ValueError(
                f"{type(self).__name__}.load_state_dict: " + "; ".join(problems)
            )
        for key, value in values.items():
            module, name, is_param = targets[key]
            if not is_param:
                module.set_buffer(name, value)
                continue
            param = getattr(module, name)
            if param.data.flags.writeable:
                param.data[...] = value  # in place: views of the data see the new weights
            else:
                param.data = value
            param._version[0] += 1
        return missing, unexpected

    # --- calling and printing -----------------------------------------------------------
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} has no forward()")

    def __call__(self, *args, **kwargs):
        if trace.ACTIVE is not None:  # a compiled step replays only in this train/eval mode
            trace.ACTIVE.note_module(self)
        return self.forward(*args, **kwargs)

    def extra_repr(self):
        """The part inside the parentheses of this module's repr line."""
        return ""

    def __repr__(self):
        lines = []
        for name, m in self._modules.items():
            child = repr(m).replace("\n", "\n  ")
            lines.append(f"({name}): {child}")
        extra = self.extra_repr()
        if not lines:
            return f"{type(self).__name__}({extra})"
        body = "\n  ".join(([extra] if extra else []) + lines)
        return f"{type(self).__name__}(\n  {body}\n)"
