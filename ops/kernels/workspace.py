"""Reusable memory for the kernels' large arrays: ``empty(shape, dtype)`` like ``np.empty``.

Why: a fresh large numpy array is fresh memory from the OS, and the first write to each
page faults. When the kernels' or BLAS's threads take those faults together on transparent
huge pages, the write is many times slower than a write to memory that is already mapped
(figures in benchmarks/README.md).

So the kernels take their large outputs and temporaries from a pool of blocks. A block is
handed out again once no array uses it any more, which its reference count tells: every
array made from a block keeps a reference to it through ``.base``, so a block whose only
references are the pool's own is free, whoever held its arrays and however long. Blocks are
matched by exact size, which is what a training loop asks for again and again, and the
least recently used ones leave the pool (to be freed when their arrays are) once it holds
more than ``MAX_POOL_BYTES``.
"""

import math
import sys
import threading

import numpy as np

__all__ = ["empty"]

# Smaller arrays come from numpy's allocator, which malloc serves from memory it reuses.
MIN_BYTES = 1 << 20
MAX_POOL_BYTES = 512 << 20

_lock = threading.Lock()
_blocks = []  # 1-D uint8 arrays, least recently used first


def _references(blocks, i):
    return sys.getrefcount(blocks[i])


# What _references reports for a block only the pool holds, measured the same way, so the
# interpreter's own temporary references cancel out.
_FREE = _references([np.empty(1, np.uint8)], 0)


def empty(shape, dtype):
    """An uninitialised array of ``shape`` and ``dtype``, C-contiguous, from the pool when
    it is large (the caller writes every element, as with ``np.empty``)."""
    dtype = np.dtype(dtype)
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    nbytes = math.prod(shape) * dtype.itemsize  # math.prod: np.prod takes ~4 us a call
    if nbytes < MIN_BYTES:
        return np.empty(shape, dtype)
    with _lock:
        for i in range(len(_blocks)):
            if _blocks[i].nbytes == nbytes and _references(_blocks, i) == _FREE:
                block = _blocks.pop(i)
                break
        else:
            block = np.empty(nbytes, np.uint8)
            _trim(MAX_POOL_BYTES - nbytes)
        _blocks.append(block)
    return block.view(dtype).reshape(shape)


def _trim(budget):
    """Drop the least recently used blocks until the pool holds at most ``budget`` bytes."""
    held = sum(block.nbytes for block in _blocks)
    while _blocks and held > budget:
        held -= _blocks.pop(0).nbytes


def clear():
    """Let go of every block (arrays still using one keep it alive until they go)."""
    with _lock:
        _blocks.clear()
