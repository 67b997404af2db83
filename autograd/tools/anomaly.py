"""``detect_anomaly()``: the first NaN or inf an op produces, in its forward or its VJP,
raises an error naming the op and the line of user code that called it."""

import inspect
import sys

import numpy as np

from autograd.core.registry import Observer
from autograd.core.tensor import Tensor

# Frames of these packages are skipped when showing where an op was called.
_LIBRARY = ("autograd", "ops", "optim", "numpy")


def _user_frame():
    """The innermost frame of the caller's code, as 'file:line in function: source'."""
    frame = sys._getframe(2)
    while frame is not None:
        if frame.f_globals.get("__name__", "").split(".")[0] not in _LIBRARY:
            info = inspect.getframeinfo(frame, context=1)
            source = info.code_context[0].strip() if info.code_context else ""
            return f"{info.filename}:{info.lineno} in {info.function}: {source}"
        frame = frame.f_back
    return "(no frame outside the library)"


def _bad(a):
    a = a.data if isinstance(a, Tensor) else a
    if not isinstance(a, np.ndarray) or a.dtype.kind != "f" or np.isfinite(a).all():
        return None
    return "nan" if np.isnan(a).any() else "inf"


class detect_anomaly(Observer):
    """Context manager: check every op's output and every VJP's gradients for NaN/inf.

    A forward output is reported only when the op's inputs were finite (the NaN was made
    here, not passed along); a gradient, with where its op was called. Each op call costs
    a stack capture and a finiteness check while active: use it to debug, not to train.

    >>> with ag.detect_anomaly():
    ...     loss = model(x).sum()
    ...     loss.backward()          # RuntimeError: detect_anomaly: log produced nan ...
    """

    def forward(self, op, args, out, start, end):
        where = _user_frame()
        if out._node is not None:
            out._node.trace = where
        kind = _bad(out)
        if kind and not any(_bad(a) for a in args):
            raise RuntimeError(
                f"detect_anomaly: {op.name} produced {kind} in its output of shape "
                f"{out.shape} from finite inputs; called at {where}"
            )

    def backward(self, node, grads, start, end):
        for i, g in enumerate(grads):
            kind = _bad(g) if g is not None else None
            if kind:
                where = getattr(node, "trace", None) or "(called before detect_anomaly)"
                raise RuntimeError(
                    f"detect_anomaly: the VJP of {node.op.name} returned {kind} in the "
                    f"gradient of its input {i} (shape {np.shape(g)}); the op was called at "
                    f"{where}"
                )
