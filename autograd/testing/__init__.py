"""Gradient checking for the library's tests and for users' own ops.

>>> from autograd.testing import gradcheck
>>> gradcheck(lambda x: ops.tanh(x) * x, [np.random.randn(3, 4)])
"""

from autograd.testing.gradcheck import GradcheckError, gradcheck, gradgradcheck
from autograd.testing import strategies

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError", "strategies"]
