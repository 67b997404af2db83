"""The Optimizer base: parameter groups, per-parameter state, zero_grad and state_dict.

Subclasses write ``_update(p, g, state, options)`` on ndarrays; the base class walks the
groups, skips parameters without a gradient, adds the L2 term ``weight_decay * p`` to the
gradient (unless the subclass decays the parameter itself, as AdamW), creates state lazily
and marks each updated parameter as changed in place (so a graph recorded before the step
refuses to backpropagate through the old values).

Subclasses also write ``_fused_update``: the same update in one pass of a numba kernel
(optim/kernels.py), weight decay included, bit for bit the numpy path's result. The base
class takes it for C-contiguous float32 and float64 parameters whose gradient and state
match them (nearly always), and the numpy ``_update`` otherwise.
"""

import numbers

import numpy as np

from autograd.core.grad_mode import enable_grad
from autograd.core.tensor import Tensor
from autograd.jit.trace import host_call


class Optimizer:
    """Base class of the optimizers: updates Tensors in place from their ``.grad``.

    Parameters
    ----------
    params : iterable of Tensor, or iterable of dict
        The Tensors to optimize, or parameter groups: dicts with a ``"params"`` entry and
        any per-group options (``lr``, ``weight_decay``, ...) that override ``defaults``.
    defaults : dict
        Option values for groups that do not set them.

    Attributes
    ----------
    param_groups : list of dict
        One dict per group: ``"params"`` (a list of Tensors) and the group's options. Change
        ``group["lr"]`` to change the learning rate (that is what the schedulers do).
    state : dict
        Per-parameter state (numpy arrays and the step count), keyed by the Tensor.

    Examples
    --------
    >>> opt = optim.SGD([{"params": [w]}, {"params": [b], "lr": 0.1}], lr=0.01)
    >>> loss.backward(); opt.step(); opt.zero_grad()
    """

    # True where _update shrinks the parameter itself (AdamW's decoupled decay); otherwise
    # step() hands _update the gradient of the L2 penalty added: g + weight_decay * p.
    decoupled_weight_decay = False
    # False: every update takes the numpy path (``_update``), as for layouts and dtypes the
    # fused kernels do not take. Set on an instance to compare the two (tests, benchmarks).
    use_fused_kernels = True

    def __init__(self, params, defaults):
        self.defaults = dict(defaults)
        self.param_groups = []
        self.state = {}
        self._scratch_buffers = {}  # (name, dtype) -> flat work array, shared by all params
        self._check_options(self.defaults)
        if isinstance(params, Tensor):
            raise TypeError(
                f"{self._name}: params must be an iterable of Tensors or of dicts, got a "
                "single Tensor; pass [tensor]"
            )
        if isinstance(params, dict):
            raise TypeError(f"{self._name}: params must be an iterable of Tensors or of dicts, "
                            "got a dict; pass [dict] for a single parameter group")
        try:
            params = list(params)
        except TypeError:
            raise TypeError(f"{self._name}: params must be an iterable of Tensors or of dicts, "
                            f"got {type(params).__name__}") from None
        if not params:
            raise ValueError(f"{self._name}: got an empty parameter list")
        if all(isinstance(p, dict) for p in params):
            groups = params
        elif any(isinstance(p, dict) for p in params):
            raise TypeError(f"{self._name}: params mixes Tensors and parameter-group dicts")
        else:
            groups = [{"params": params}]
        for group in groups:
            self.add_param_group(group)
        if not any(group["params"] for group in self.param_groups):
            raise ValueError(f"{self._name}: got an empty parameter list")

    @property
    def _name(self):
        return type(self).__name__

    def __repr__(self):
        lines = [f"{self._name} ("]
        for i, group in enumerate(self.param_groups):
            opts = ", ".join(f"{k}={v}" for k, v in group.items() if k != "params")
            lines.append(f"  group {i}: {len(group['params'])} params, {opts}")
        return "\n".join(lines + [")"])

    # --- groups and validation -----------------------------------------------------------
    def add_param_group(self, group):
        """Add a group: a dict with ``"params"`` and options overriding the defaults."""
        if not isinstance(group, dict) or "params" not in group:
            raise TypeError(f"{self._name}: a parameter group must be a dict with a 'params' "
                            f"entry, got {type(group).__name__}")
        params = group["params"]
        if isinstance(params, (set, frozenset)):
            raise TypeError(f"{self._name}: a group's params must be an ordered sequence (the "
                            "order gives the state_dict's indices), got a set")
        params = [params] if isinstance(params, Tensor) else list(params)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        for i, p in enumerate(params):
            self._check_param(p, i, seen)
            seen.add(id(p))
        group = {**self.defaults, **group, "params": params}
        self._check_options(group)
        self.param_groups.append(group)

    def _check_param(self, p, i, seen):
        if not isinstance(p, Tensor):
            hint = (" (use model.parameters(), not named_parameters())"
                    if isinstance(p, tuple) else "")
            raise TypeError(f"{self._name}: parameter {i} is a {type(p).__name__}, "
                            f"not a Tensor{hint}")
        if not p.is_leaf:
            raise ValueError(f"{self._name}: parameter {i} (shape {p.shape}) is not a leaf "
                             "tensor (it was computed from others); optimize the leaves")
        if id(p) in seen:
            raise ValueError(f"{self._name}: parameter {i} (shape {p.shape}) appears more than "
                             "once; each parameter may belong to one group only")

    def _check_options(self, options):
        """Raise TypeError or ValueError on a bad option value; subclasses extend it."""
        for key in ("lr", "weight_decay", "eps"):
            if key in options:
                self._require(options, key, lambda v: v >= 0, ">= 0")

    def _require(self, options, key, ok, what):
        value = options[key]
        if not isinstance(value, numbers.Real):
            raise TypeError(f"{self._name}: {key} must be a number, got {type(value).__name__}")
        if not ok(value):
            raise ValueError(f"{self._name}: {key} must be {what}, got {value!r}")

    # --- the step ------------------------------------------------------------------------
    @host_call
    def zero_grad(self, set_to_none=True):
        """Forget every parameter's gradient (``p.grad = None``), or zero it in place."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none or p.grad is None:
                    p.grad = None
                else:
                    grad = p.grad.data if isinstance(p.grad, Tensor) else p.grad
                    grad[...] = 0

    @host_call
    def step(self, closure=None):
        """Update every parameter that requires grad and has a gradient; frozen ones
        (``requires_grad`` False) and ones without a gradient are left alone.

        ``closure``, if given, re-evaluates the model and returns the loss; it runs (with
        gradient recording on) before the update and its loss is returned.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        # Every parameter is checked before any is updated: an error never leaves a half step.
        updates = []
        index = 0
        for group in self.param_groups:
            options = self._group_options(group)
            for p in group["params"]:
                g = self._gradient(p, index)
                index += 1
                if g is not None:
                    updates.append((p, g, options))
        fused = self.use_fused_kernels
        for p, g, options in updates:
            data = p.data
            state = self.state.get(p)
            if state is None:
                state = self.state[p] = {"step": 0}
            done = fused and _fits_kernels(data, g, state) and \
                self._fused_update(data, g, state, options)
            if not done:
                weight_decay = options.get("weight_decay", 0)
                if weight_decay != 0 and not self.decoupled_weight_decay:
                    (decayed,) = self._scratch(data, name="weight_decay")
                    np.multiply(data, weight_decay, out=decayed)
                    decayed += g
                    g = decayed
                self._update(data, g, state, options)
            p._version[0] += 1  # changed in place: stale graphs must not reuse it
        return loss

    def _gradient(self, p, index):
        """``p``'s gradient as an ndarray, or None when ``p`` is frozen (``requires_grad``
        False: a ``.grad`` left from before freezing is stale) or has no gradient; raises
        when ``p`` cannot take the update."""
        g = p.grad
        if g is None or not p.requires_grad:
            return None
        if isinstance(g, Tensor):  # left by backward(create_graph=True)
            g = g.data
        if g.shape != p.data.shape:
            raise ValueError(f"{self._name}: a parameter of shape {p.data.shape} has a "
                             f"gradient of shape {g.shape}")
        if not p.data.flags.writeable:
            raise ValueError(f"{self._name}: parameter {index} (shape {p.shape}) holds a "
                             "read-only array; give the optimizer writable parameters (an "
                             "nn.Parameter copies read-only data)")
        return g

    def _group_options(self, group):
        """The group's options as Python floats, bools and tuples, read once per step.

        Python scalars keep float32 arithmetic in float32 (numpy scalars would promote it).
        """
        return {k: _as_python(v) for k, v in group.items() if k != "params"}

    def _update(self, p, g, state, options):
        """The update in numpy: any layout, any float dtype; ``g`` includes the L2 term."""
        raise NotImplementedError

    def _fused_update(self, p, g, state, options):
        """The same update in one of optim/kernels.py's passes, weight decay included;
        returns True, or False (having changed nothing) to leave this one to ``_update``.
        Only called when ``_fits_kernels``: ``p``, ``g`` and the state arrays C-contiguous,
        all float32 or all float64."""
        return False

    def _scratch(self, p, n=1, name="work"):
        """``n`` work arrays shaped and typed like ``p``, shared by all parameters; each
        ``name`` has its own memory."""
        size = p.size * n
        buf = self._scratch_buffers.get((name, p.dtype))
        if buf is None or buf.size < size:
            buf = self._scratch_buffers[name, p.dtype] = np.empty(size, dtype=p.dtype)
        return [buf[i * p.size:(i + 1) * p.size].reshape(p.shape) for i in range(n)]

    # --- state_dict ----------------------------------------------------------------------
    def state_dict(self):
        """The optimizer's state as a flat dict of numpy arrays and numbers.

        Keys are ``"optimizer"`` (the class name), ``"param_groups.<i>.<option>"`` (with
        ``"param_groups.<i>.params"`` the indices of the group's parameters) and
        ``"state.<index>.<name>"``. It can be written with ``np.savez(path, **d)`` and read
        back with ``np.load(path)`` (no pickle needed). Arrays are copies.
        """
        out = {"optimizer": self._name}
        index = 0
        for i, group in enumerate(self.param_groups):
            indices = []
            for p in group["params"]:
                for key, value in self.state.get(p, {}).items():
                    out[f"state.{index}.{key}"] = (value.copy() if isinstance(value, np.ndarray)
                                                   else value)
                indices.append(index)
                index += 1
            out[f"param_groups.{i}.params"] = np.array(indices, dtype=np.int64)
            for key, value in group.items():
                if key != "params":
                    out[f"param_groups.{i}.{key}"] = value
        return out

    def load_state_dict(self, state_dict):
        """Restore a ``state_dict()`` (a dict or an ``np.load`` result) from an optimizer of
        the same class over parameters of the same shapes, in the same groups."""
        name = f"{self._name}.load_state_dict"
        d = dict(state_dict)
        kind = d.pop("optimizer", None)
        if kind is not None and str(np.asarray(kind)) != self._name:
            raise ValueError(f"{name}: the state is from a {np.asarray(kind)}, not a {self._name}")
        groups = {}
        states = {}
        for key, value in d.items():
            parts = key.split(".")
            if len(parts) != 3 or parts[0] not in ("param_groups", "state") or \
                    not parts[1].isdigit():
                raise ValueError(f"{name}: unexpected key {key!r}")
            n = int(parts[1])
            (states if parts[0] == "state" else groups).setdefault(n, {})[parts[2]] = value
        if sorted(groups) != list(range(len(self.param_groups))):
            raise ValueError(f"{name}: the state has {len(groups)} parameter groups, the "
                             f"optimizer has {len(self.param_groups)}")
        params = {}  # saved index -> parameter
        new_groups = []
        for i, group in enumerate(self.param_groups):
            saved = groups[i]
            if "params" not in saved:
                raise ValueError(f"{name}: missing key 'param_groups.{i}.params'")
            indices = [int(k) for k in np.asarray(saved.pop("params")).reshape(-1)]
            if len(indices) != len(group["params"]):
                raise ValueError(f"{name}: group {i} has {len(group['params'])} parameters, "
                                 f"the state has {len(indices)}")
            params.update(zip(indices, group["params"]))
            new_group = {**group, **{k: _from_saved(v) for k, v in saved.items()}}
            self._check_options(new_group)
            new_groups.append(new_group)
        new_state = {}
        for n, saved in states.items():
            p = params.get(n)
            if p is None:
                raise ValueError(f"{name}: state for parameter {n}, which no group lists")
            new_state[p] = entry = {}
            for key, value in saved.items():
                value = np.asarray(value)
                if key == "step":
                    entry[key] = int(value)
                elif value.shape != p.shape:
                    raise ValueError(f"{name}: 'state.{n}.{key}' has shape {value.shape}, "
                                     f"the parameter has shape {p.shape}")
                else:
                    entry[key] = np.array(value, dtype=p.dtype)  # a copy, in the param's dtype
        self.param_groups[:] = new_groups
        self.state = new_state


def check_optimizer(name, optimizer):
    """TypeError naming ``name`` (a scheduler) unless ``optimizer`` is an Optimizer."""
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{name}: expected an Optimizer, got {type(optimizer).__name__}")


def per_group(name, option, value, optimizer):
    """``value`` (a number, or one number per parameter group) as a list of floats."""
    n = len(optimizer.param_groups)
    values = list(value) if isinstance(value, (list, tuple)) else [value] * n
    if len(values) != n:
        raise ValueError(f"{name}: expected {n} values of {option} (one per parameter group), "
                         f"got {len(values)}")
    for v in values:
        if not isinstance(v, numbers.Real) or isinstance(v, bool) or not v >= 0:
            raise ValueError(f"{name}: {option} must be a number >= 0, got {v!r}")
    return [float(v) for v in values]


def _from_saved(value):
    """A group option as saved (or as np.load gives it back) -> a Python value."""
    if isinstance(value, (list, tuple)):
        return tuple(_from_saved(v) for v in value)
    if isinstance(value, (np.ndarray, np.generic)):
        value = np.asarray(value)
        return value.item() if value.ndim == 0 else tuple(v.item() for v in value.reshape(-1))
    return value


_ALREADY_PYTHON = frozenset((float, bool, str))
_KERNEL_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _fits_kernels(p, g, state):
    """Whether the fused kernels can update ``p``: it, ``g`` and its state arrays are
    C-contiguous (a flat view of each is the array itself) and of one dtype, float32 or
    float64. Anything else (a transposed parameter, float16, a float64 gradient of a
    float32 parameter, a read-only gradient) takes the numpy path. A read-only ``g`` would
    work but would cost every kernel another compiled specialisation."""
    dtype = p.dtype
    if dtype not in _KERNEL_DTYPES or g.dtype != dtype or not p.flags.c_contiguous:
        return False
    flags = g.flags
    if not (flags.c_contiguous and flags.writeable):
        return False
    for value in state.values():
        if isinstance(value, np.ndarray) and (value.dtype != dtype
                                              or not value.flags.c_contiguous):
            return False
    return True


def _as_python(value):
    if type(value) in _ALREADY_PYTHON or value is None:  # nearly all options, checked fast
        return value
    if isinstance(value, (bool, str)):
        return value
    if isinstance(value, (tuple, list)):
        return tuple(_as_python(v) for v in value)
    return float(value) if isinstance(value, numbers.Real) else value
