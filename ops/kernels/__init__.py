"""Numba kernels. They know nothing of Tensor: ndarrays in, ndarrays out.

``set_num_threads(n)`` / ``get_num_threads()`` set and read the threads the kernels use
(ops/kernels/policy.py); ``python -m autograd.warm`` compiles them into numba's cache once.
"""

from ops.kernels.policy import get_num_threads, set_num_threads

__all__ = ["get_num_threads", "set_num_threads"]
