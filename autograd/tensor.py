"""The Tensor: an ndarray, whether it wants a gradient, and the node that produced it.

Operators and methods are one-line calls into the op library (``ops``). Numpy ufuncs and a
few numpy functions applied to a Tensor dispatch into the op library too, which is what lets
every VJP run on Tensors under ``create_graph=True``.
"""

import weakref

import numpy as np

from autograd.grad_mode import is_grad_enabled

_default_dtype = np.dtype(np.float32)


def set_default_dtype(dtype):
    """Set the dtype that Python scalars and lists become (float32 unless changed)."""
    global _default_dtype
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"set_default_dtype: expected a floating dtype, got {dtype}")
    _default_dtype = dtype


def get_default_dtype():
    return _default_dtype


def _to_array(data, dtype):
    if isinstance(data, Tensor):
        data = data.data
    if isinstance(data, np.ndarray):
        return data if dtype is None else data.astype(dtype, copy=False)
    if isinstance(data, np.generic):
        return np.asarray(data, dtype=dtype)
    if isinstance(data, (bool, int, float, list, tuple)):
        arr = np.asarray(data)
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"Tensor: cannot make a tensor from {type(data).__name__} {data!r}")
        if dtype is None and arr.dtype.kind == "f":
            dtype = _default_dtype  # like PyTorch: Python floats -> default dtype, ints stay
        return arr if dtype is None else arr.astype(dtype)
    raise TypeError(
        f"Tensor: data must be an ndarray, a Tensor, a number or a (nested) list, "
        f"got {type(data).__name__}"
    )


class Tensor:
    """An n-dimensional array that records the ops applied to it.

    >>> x = Tensor(np.random.randn(4, 3), requires_grad=True)
    >>> (x * x).sum().backward()
    >>> x.grad                         # 2 x, same shape and dtype as x.data
    """

    __slots__ = ("data", "grad", "requires_grad", "_node", "_version", "_hooks", "__weakref__")
    __array_priority__ = 1000

    def __init__(self, data, requires_grad=False, dtype=None):
        data = _to_array(data, None if dtype is None else np.dtype(dtype))
        if requires_grad and data.dtype.kind not in "fc":
            raise TypeError(
                f"Tensor: only floating point tensors can require grad, got dtype {data.dtype}"
            )
        self.data = data
        self.grad = None
        self.requires_grad = bool(requires_grad)
        self._node = None
        self._version = [0]
        self._hooks = None

    @classmethod
    def _make(cls, data, node, requires_grad, version=None):
        t = object.__new__(cls)
        t.data = data
        t.grad = None
        t.requires_grad = requires_grad
        t._node = node
        t._version = [0] if version is None else version
        t._hooks = None
        return t

    # --- attributes -------------------------------------------------------------------
    shape = property(lambda self: self.data.shape)
    dtype = property(lambda self: self.data.dtype)
    ndim = property(lambda self: self.data.ndim)
    size = property(lambda self: self.data.size)
    is_leaf = property(lambda self: self._node is None)
    T = property(lambda self: _ops.transpose(self))

    def __len__(self):
        return len(self.data)

    def __repr__(self):
        body = np.array2string(self.data, prefix="Tensor(", separator=", ")
        extra = ", requires_grad=True" if self.requires_grad else ""
        return f"Tensor({body}, dtype={self.dtype}{extra})"

    def __bool__(self):
        return bool(self.data)

    def __float__(self):
        return float(self.data)

    def __int__(self):
        return int(self.data)

    def __array__(self, dtype=None, copy=None):
        return self.data if dtype is None else self.data.astype(dtype)

    # --- autograd ---------------------------------------------------------------------
    def backward(self, grad=None, retain_graph=False, create_graph=False):
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad``."""
        _engine.backward(self, grad, retain_graph, create_graph)

    def detach(self):
        """The same data, cut from the graph."""
        return Tensor._make(self.data, None, False, self._version)

    def numpy(self):
        return self.data

    def item(self):
        return self.data.item()

    def zero_grad(self):
        self.grad = None

    def requires_grad_(self, requires_grad=True):
        if requires_grad and self.dtype.kind not in "fc":
            raise TypeError(f"requires_grad_: a tensor of dtype {self.dtype} cannot require grad")
        self.requires_grad = bool(requires_grad)
        return self

    def retain_grad(self):
        """Keep ``.grad`` on this non-leaf tensor after backward."""
        if self._node is not None:
            self._node.retained = weakref.ref(self)

    def register_hook(self, fn):
        """Call ``fn(grad)`` when this tensor's gradient is computed; a non-None return
        replaces the gradient."""
        if not self.requires_grad:
            raise RuntimeError("register_hook: the tensor does not require grad")
        owner = self._node if self._node is not None else self
        if isinstance(owner, Tensor):
            self._hooks = (self._hooks or []) + [fn]
        else:
            owner.hooks = (owner.hooks or []) + [fn]
        return fn

    # --- in place: only where no recorded gradient can go wrong ------------------------
    def _check_inplace(self, what, value=None):
        wants = self.requires_grad or (isinstance(value, Tensor) and value.requires_grad)
        if wants and is_grad_enabled():
            raise RuntimeError(
                f"{what}: in-place change of a tensor that requires grad (shape {self.shape}); "
                "use an out-of-place op, or wrap the update in autograd.no_grad()"
            )

    def __setitem__(self, index, value):
        self._check_inplace("setitem", value)
        self.data[_ops.unwrap_index(index)] = value.data if isinstance(value, Tensor) else value
        self._version[0] += 1

    def _inplace(self, ufunc, other, what):
        if self.requires_grad and is_grad_enabled():
            return getattr(_ops, ufunc)(self, other)  # out of place: history stays right
        self._check_inplace(what, other)
        other = other.data if isinstance(other, Tensor) else other
        getattr(np, ufunc)(self.data, other, out=self.data, casting="same_kind")
        self._version[0] += 1
        return self

    def __iadd__(self, o):
        return self._inplace("add", o, "+=")

    def __isub__(self, o):
        return self._inplace("subtract", o, "-=")

    def __imul__(self, o):
        return self._inplace("multiply", o, "*=")

    def __itruediv__(self, o):
        return self._inplace("divide", o, "/=")

    # --- operators --------------------------------------------------------------------
    def __add__(self, o):
        return _ops.add(self, o)

    def __radd__(self, o):
        return _ops.add(o, self)

    def __sub__(self, o):
        return _ops.sub(self, o)

    def __rsub__(self, o):
        return _ops.sub(o, self)

    def __mul__(self, o):
        return _ops.mul(self, o)

    def __rmul__(self, o):
        return _ops.mul(o, self)

    def __truediv__(self, o):
        return _ops.div(self, o)

    def __rtruediv__(self, o):
        return _ops.div(o, self)

    def __pow__(self, o):
        return _ops.pow(self, o)

    def __rpow__(self, o):
        return _ops.pow(o, self)

    def __matmul__(self, o):
        return _ops.matmul(self, o)

    def __rmatmul__(self, o):
        return _ops.matmul(o, self)

    def __neg__(self):
        return _ops.neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _ops.abs(self)

    def __getitem__(self, index):
        return _ops.getitem(self, index)

    # Comparisons give boolean ndarrays: no gradient flows through them.
    def __lt__(self, o):
        return self.data < _data(o)

    def __le__(self, o):
        return self.data <= _data(o)

    def __gt__(self, o):
        return self.data > _data(o)

    def __ge__(self, o):
        return self.data >= _data(o)

    def __eq__(self, o):
        return self.data == _data(o)

    def __ne__(self, o):
        return self.data != _data(o)

    __hash__ = object.__hash__

    # --- numpy dispatch ---------------------------------------------------------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        fn = _ops.UFUNCS.get(ufunc.__name__) if method == "__call__" and not kwargs else None
        if fn is None:
            if ufunc.__name__ in _ops.COMPARISONS and method == "__call__":
                return ufunc(*(_data(i) for i in inputs), **kwargs)
            return NotImplemented
        return fn(*inputs)

    def __array_function__(self, func, types, args, kwargs):
        fn = _ops.FUNCTIONS.get(func.__name__)
        if fn is None:
            return NotImplemented
        return fn(*args, **kwargs)

    # --- method forms of ops ----------------------------------------------------------
    def sum(self, axis=None, keepdims=False):
        return _ops.sum(self, axis, keepdims)

    def mean(self, axis=None, keepdims=False):
        return _ops.mean(self, axis, keepdims)

    def max(self, axis=None, keepdims=False):
        return _ops.max(self, axis, keepdims)

    def min(self, axis=None, keepdims=False):
        return _ops.min(self, axis, keepdims)

    def var(self, axis=None, keepdims=False, ddof=0):
        return _ops.var(self, axis, keepdims, ddof=ddof)

    def std(self, axis=None, keepdims=False, ddof=0):
        return _ops.std(self, axis, keepdims, ddof=ddof)

    def reshape(self, *shape):
        return _ops.reshape(self, shape[0] if len(shape) == 1 else shape)

    def transpose(self, *axes):
        return _ops.transpose(self, (axes[0] if len(axes) == 1 else axes) or None)

    def swapaxes(self, a, b):
        return _ops.swapaxes(self, a, b)

    def flatten(self):
        return _ops.flatten(self)

    def squeeze(self, axis=None):
        return _ops.squeeze(self, axis)

    def expand_dims(self, axis):
        return _ops.expand_dims(self, axis)

    def broadcast_to(self, shape):
        return _ops.broadcast_to(self, shape)

    def astype(self, dtype):
        return _ops.astype(self, dtype)

    def exp(self):
        return _ops.exp(self)

    def log(self):
        return _ops.log(self)

    def sqrt(self):
        return _ops.sqrt(self)

    def tanh(self):
        return _ops.tanh(self)

    def sigmoid(self):
        return _ops.sigmoid(self)

    def relu(self):
        return _ops.relu(self)

    def abs(self):
        return _ops.abs(self)

    def clip(self, lo, hi):
        return _ops.clip(self, lo, hi)

    def softmax(self, axis=-1):
        return _ops.softmax(self, axis)

    def log_softmax(self, axis=-1):
        return _ops.log_softmax(self, axis)


def _data(x):
    return x.data if isinstance(x, Tensor) else x


def tensor(data, requires_grad=False, dtype=None):
    """Make a Tensor (lists and Python scalars become the default dtype, float32)."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


import ops as _ops  # noqa: E402  (ops imports Tensor: import it once Tensor exists)
from autograd import engine as _engine  # noqa: E402
