"""Compile every numba kernel into numba's cache once, so that later processes load it:

    python -m autograd.warm                    # float32 and float64
    python -m autograd.warm --dtypes float32

The op library's kernels (``ops.kernels.warm``: convolution, pooling, recurrent steps, ...)
and the optimizers' fused updates (``optim.kernels``). Run it once after installing jitgrad,
and after upgrading numba. Without it nothing breaks: each kernel compiles on its first call
and is cached then (a few seconds on the first training step).
"""

import sys
import time

import numpy as np

import optim
from autograd.core import Tensor
from ops.kernels import warm as op_kernels

__all__ = ["warm"]

# Each configuration reaches one fused kernel (SGD's momentum kernel from its second step).
OPTIMIZERS = {
    "sgd": lambda p: optim.SGD(p, lr=0.1),
    "sgd momentum": lambda p: optim.SGD(p, lr=0.1, momentum=0.9),
    "adam": lambda p: optim.Adam(p),
    "adam amsgrad": lambda p: optim.Adam(p, amsgrad=True),
    "rmsprop": lambda p: optim.RMSprop(p),
    "adagrad": lambda p: optim.Adagrad(p),
}


def _optimizers(dtype):
    for make in OPTIMIZERS.values():
        p = Tensor(np.ones(4, dtype), requires_grad=True)
        opt = make([p])
        for _ in range(2):
            p.grad = np.ones(4, dtype)
            opt.step()


def warm(dtypes=op_kernels.DTYPES, log=None):
    """Compile (or load) every kernel for each of ``dtypes``; returns {(family, dtype):
    seconds}. ``log``: a function given one line per family, or None."""
    seconds = op_kernels.warm(dtypes, log)
    for dtype in dtypes:
        start = time.perf_counter()
        _optimizers(np.dtype(dtype))
        took = seconds["optimizer updates", dtype] = time.perf_counter() - start
        if log is not None:
            log(f"{'optimizer updates':24s} {dtype:8s} {took:6.2f} s")
    return seconds


def main(argv=None):
    return op_kernels.main(argv, prog="python -m autograd.warm", warm=warm)


if __name__ == "__main__":
    sys.exit(main())
