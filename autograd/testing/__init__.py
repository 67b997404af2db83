"""Gradient checking for the library's tests and for users' own ops.

>>> from autograd.testing import gradcheck
>>> gradcheck(lambda x: ops.tanh(x) * x, [np.random.randn(3, 4)])

``autograd.testing.strategies`` (hypothesis strategies for property tests) is imported on
first use, so ``gradcheck`` works without hypothesis installed (it is a dev extra).
"""

import importlib

from autograd.testing.gradcheck import GradcheckError, gradcheck, gradgradcheck

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError", "strategies"]


def __getattr__(name):
    if name == "strategies":
        return importlib.import_module("autograd.testing.strategies")
    raise AttributeError(f"module 'autograd.testing' has no attribute {name!r}")
