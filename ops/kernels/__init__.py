"""Numba kernels. They know nothing of Tensor: ndarrays in, ndarrays out."""
