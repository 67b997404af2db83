"""Data-parallel training over MPI: one process (rank) per core or host, one model replica
each, gradients averaged during backward.

Needs the ``dist`` extra (``pip install -e ".[dist]"``: mpi4py and MPICH); the rest of the
library works without it, and this package imports without it (mpi4py is imported, and MPI
initialised, by the first call that needs it).

>>> from autograd import distributed as dist
>>> model = dist.DistributedDataParallel(build_model())    # rank 0's weights everywhere
>>> batches = dist.DistributedBatchIterator(x, y, batch_size=32, seed=0)
>>> for xb, yb in batches: ...                             # backward averages the gradients

Run with ``mpiexec -n 2 python script.py`` (``mpiexec -f hosts -n 4 ...`` across hosts), or
the training command: ``mpiexec -n 2 python -m autograd.train --model cnn --distributed``.
"""

from autograd.distributed.comm import (
    DEFAULT_TIMEOUT,
    DistributedError,
    ProcessGroup,
    get_rank,
    get_world_size,
    init,
    is_available,
    is_initialized,
)
from autograd.distributed.ddp import DistributedDataParallel
from autograd.distributed.sampler import DistributedBatchIterator, DistributedSampler

__all__ = [
    "DEFAULT_TIMEOUT",
    "DistributedBatchIterator",
    "DistributedDataParallel",
    "DistributedError",
    "DistributedSampler",
    "ProcessGroup",
    "get_rank",
    "get_world_size",
    "init",
    "is_available",
    "is_initialized",
]
