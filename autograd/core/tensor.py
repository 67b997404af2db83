"""The Tensor: an ndarray, whether it wants a gradient, and the node that produced it.

This module is the data model only and imports nothing above it. The layers above install
what they own: ``autograd.core.backward`` installs ``Tensor.backward``, and the op library
(``ops.tensor_methods``) installs the operators and the method forms of ops, and fills the
dispatch tables below through which numpy ufuncs and functions called on a Tensor reach the
ops. That dispatch is what lets a VJP written with numpy run on Tensors under
``create_graph=True``.
"""

import weakref

import numpy as np

from autograd.core.grad_mode import is_grad_enabled

_default_dtype = np.dtype(np.float32)

# numpy name -> op, filled by the op library: numpy calls on a Tensor dispatch through these.
UFUNCS: dict = {}
FUNCTIONS: dict = {}
# Ufuncs and numpy functions whose result carries no gradient (comparisons, indices, shapes):
# they run on the data and return plain arrays.
COMPARISONS = {
    "greater", "greater_equal", "less", "less_equal", "equal", "not_equal", "sign",
    "isfinite", "isnan", "isinf", "signbit", "logical_and", "logical_or", "logical_not",
}
NO_GRADIENT_FUNCTIONS = {
    "ndim", "shape", "size", "result_type", "may_share_memory", "shares_memory", "argmax",
    "argmin", "argsort", "argwhere", "nonzero", "flatnonzero", "count_nonzero", "any", "all",
    "array_equal", "array_equiv", "allclose", "isclose", "iscomplexobj", "isrealobj",
    "searchsorted", "unique", "isscalar", "ravel_multi_index", "unravel_index",
}


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
    if dtype is not None and dtype.kind not in "biuf":
        raise TypeError(f"Tensor: dtype {dtype} is not supported; tensors hold booleans, "
                        "integers or real floating point numbers")
    if isinstance(data, Tensor):
        data = data.data
    if isinstance(data, (np.ndarray, np.generic)):
        if data.dtype.kind not in "biuf":
            # Strings and objects have no arithmetic, and the VJPs are written for real
            # numbers (a complex gradient would need conjugates): refuse rather than be wrong.
            raise TypeError(f"Tensor: arrays of dtype {data.dtype} are not supported; tensors "
                            "hold booleans, integers or real floating point numbers")
        if isinstance(data, np.generic):
            return np.asarray(data, dtype=dtype)
        return data if dtype is None else data.astype(dtype, copy=False)
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

    # _post_hooks is set only on the leaves that get one (see register_post_accumulate_grad_hook).
    __slots__ = ("data", "grad", "requires_grad", "_node", "_version", "_hooks", "_post_hooks",
                 "__weakref__")
    __array_priority__ = 1000

    def __init__(self, data, requires_grad=False, dtype=None):
        data = _to_array(data, None if dtype is None else np.dtype(dtype))
        if requires_grad and data.dtype.kind != "f":
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
        if requires_grad and self.dtype.kind != "f":
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
        self.data[unwrap_index(index)] = value.data if isinstance(value, Tensor) else value
        self._version[0] += 1

    def _inplace(self, ufunc, other, what):
        """``x op= other``. A computed tensor in grad mode is rebound out of place, so its
        history stays right; a leaf that requires grad (a parameter) is refused, as in
        PyTorch: changing it in place would silently do nothing to the graph."""
        if self.requires_grad and is_grad_enabled():
            if self._node is None:
                raise RuntimeError(
                    f"{what}: in-place change of a leaf tensor that requires grad (shape "
                    f"{self.shape}); wrap the update in autograd.no_grad() (as optimizers "
                    "do), or compute a new tensor"
                )
            return UFUNCS[ufunc](self, other)  # out of place: history stays right
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

    # Comparisons give boolean ndarrays: no gradient flows through them.
    def __lt__(self, o):
        return self.data < unwrap(o)

    def __le__(self, o):
        return self.data <= unwrap(o)

    def __gt__(self, o):
        return self.data > unwrap(o)

    def __ge__(self, o):
        return self.data >= unwrap(o)

    def __eq__(self, o):
        return self.data == unwrap(o)

    def __ne__(self, o):
        return self.data != unwrap(o)

    __hash__ = object.__hash__

    # --- numpy dispatch ---------------------------------------------------------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        fn = UFUNCS.get(ufunc.__name__) if method == "__call__" and not kwargs else None
        if fn is None:
            if ufunc.__name__ in COMPARISONS and method == "__call__":
                return ufunc(*(unwrap(i) for i in inputs), **kwargs)
            return NotImplemented
        return fn(*inputs)

    def __array_function__(self, func, types, args, kwargs):
        fn = FUNCTIONS.get(func.__name__)
        if fn is not None:
            return fn(*args, **kwargs)
        if func.__name__ in NO_GRADIENT_FUNCTIONS:
            return func(*_unwrap(args), **dict(zip(kwargs, _unwrap(kwargs.values()))))
        raise TypeError(
            f"numpy.{func.__name__} is not supported on Tensors (it would drop the gradient); "
            "use the op library's function, or apply it to tensor.data outside the graph"
        )


def unwrap(x):
    """The array behind a Tensor; anything else as it is."""
    return x.data if isinstance(x, Tensor) else x


def _unwrap(values):
    """Arguments with Tensors (also inside lists and tuples) replaced by their arrays."""
    return [type(v)(_unwrap(v)) if isinstance(v, (list, tuple)) else unwrap(v) for v in values]


def unwrap_index(index):
    """An index with any Tensors in it replaced by their arrays."""
    if isinstance(index, tuple):
        return tuple(i.data if isinstance(i, Tensor) else i for i in index)
    return index.data if isinstance(index, Tensor) else index


def tensor(data, requires_grad=False, dtype=None):
    """Make a Tensor (lists and Python scalars become the default dtype, float32)."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


