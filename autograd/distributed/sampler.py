"""Sharding a dataset over ranks: each rank a disjoint part of every epoch.

``DistributedSampler`` gives the sample indices of one rank, as PyTorch's; the
``DistributedBatchIterator`` cuts them into mini-batches of arrays, like
``autograd.data.BatchIterator`` on one process.

The epoch's permutation depends only on ``(seed, epoch)``, so every rank draws the same one
without talking to the others, and rank ``r`` of ``R`` takes positions ``r, r + R, ...`` of
it. With a batch of ``B`` per rank, step ``k`` of the ``R`` ranks together then covers
positions ``k R B .. (k + 1) R B - 1`` of the permutation: exactly the batch of ``R B`` that a
single process (``num_replicas=1``, batch ``R B``) takes at step ``k``, which is what makes
data-parallel training equal to training on one process with the larger batch.
"""

import operator

import numpy as np

__all__ = ["DistributedBatchIterator", "DistributedSampler"]


def _group_rank_and_size(num_replicas, rank, what):
    if num_replicas is None or rank is None:
        from autograd.distributed.comm import init

        group = init()
        num_replicas = group.size if num_replicas is None else num_replicas
        rank = group.rank if rank is None else rank
    try:
        num_replicas, rank = operator.index(num_replicas), operator.index(rank)
    except TypeError:
        raise TypeError(f"{what}: num_replicas and rank must be integers, got "
                        f"{num_replicas!r} and {rank!r}") from None
    if num_replicas < 1 or not 0 <= rank < num_replicas:
        raise ValueError(f"{what}: need num_replicas >= 1 and 0 <= rank < num_replicas, got "
                         f"num_replicas={num_replicas}, rank={rank}")
    return num_replicas, rank


class DistributedSampler:
    """The indices of one rank's share of each epoch of ``n`` samples.

    Every epoch is a permutation of ``range(n)`` drawn from ``(seed, epoch)`` (or
    ``range(n)`` itself when ``shuffle=False``); rank ``r`` takes every ``num_replicas``-th
    index from position ``r``. So that all ranks take the same number of steps, an ``n``
    that the ranks do not divide is padded by repeating the permutation's first indices, or,
    with ``drop_last=True``, cut to a multiple of ``num_replicas``.

    Parameters
    ----------
    n : int or sized
        The number of samples (or anything with a ``len``, e.g. the data array).
    num_replicas, rank : int, optional
        Default: the size of the job and this process's rank (``autograd.distributed.init``).
    shuffle : bool
        Draw a new permutation every epoch (the same on every rank).
    seed : int
        With the epoch, picks the permutation; must be the same on every rank.
    drop_last : bool
        Drop the tail instead of padding.

    Examples
    --------
    >>> sampler = DistributedSampler(len(x), seed=0)
    >>> for epoch in range(epochs):
    ...     sampler.set_epoch(epoch)            # otherwise every epoch has the same order
    ...     idx = np.fromiter(sampler, int)     # this rank's len(sampler) indices
    """

    def __init__(self, n, num_replicas=None, rank=None, shuffle=True, seed=0, drop_last=False):
        if not isinstance(n, (int, np.integer)):
            n = len(n)
        n = int(n)
        if n < 0:
            raise ValueError(f"DistributedSampler: n must be >= 0, got {n}")
        self.num_replicas, self.rank = _group_rank_and_size(
            num_replicas, rank, "DistributedSampler"
        )
        if drop_last and 0 < n < self.num_replicas:
            raise ValueError(
                f"DistributedSampler: {n} samples cannot give each of {self.num_replicas} "
                "ranks one with drop_last=True"
            )
        self.n, self.shuffle, self.seed, self.drop_last = n, bool(shuffle), int(seed), drop_last
        self.epoch = 0
        per_rank = n // self.num_replicas if drop_last else -(-n // self.num_replicas)
        self.num_samples = per_rank
        self.total_size = per_rank * self.num_replicas

    def set_epoch(self, epoch):
        """Use the permutation of ``epoch`` from now on (call it on every rank alike)."""
        self.epoch = operator.index(epoch)

    def global_order(self):
        """The whole epoch's order, padded or cut to ``total_size``: rank ``r``'s indices
        are ``global_order()[r::num_replicas]``."""
        if self.shuffle:
            order = np.random.default_rng([self.seed, self.epoch]).permutation(self.n)
        else:
            order = np.arange(self.n)
        # np.resize repeats from the start, even when the padding is longer than n.
        return np.resize(order, self.total_size) if self.n else order

    def indices(self):
        """This rank's indices for the current epoch, an int64 array of ``len(self)``."""
        return self.global_order()[self.rank :: self.num_replicas]

    def __iter__(self):
        return iter(self.indices().tolist())

    def __len__(self):
        return self.num_samples

    def __repr__(self):
        return (f"DistributedSampler(n={self.n}, num_replicas={self.num_replicas}, "
                f"rank={self.rank}, shuffle={self.shuffle}, seed={self.seed}, "
                f"drop_last={self.drop_last}, epoch={self.epoch})")


class DistributedBatchIterator:
    """Mini-batches of this rank's share of equally long arrays: ``autograd.data.BatchIterator``
    over a ``DistributedSampler``.

    Every ``iter()`` is the next epoch (0, 1, ...), reshuffled, as a BatchIterator does;
    ``set_epoch`` picks the epoch explicitly. All ranks get the same number of batches, of
    the same sizes, so they step in lockstep; only the last batch may be smaller than
    ``batch_size``.

    Parameters
    ----------
    *arrays : array_like
        Equally long arrays (images, labels, ...), indexed along their first axis.
    batch_size : int
        Samples per batch on this rank (the step's batch is ``num_replicas`` times that).
    shuffle, seed, drop_last, num_replicas, rank
        As for ``DistributedSampler``.

    Examples
    --------
    >>> batches = DistributedBatchIterator(x, y, batch_size=32, seed=0)
    >>> len(batches)                     # batches per epoch, the same on every rank
    >>> for xb, yb in batches: ...
    """

    def __init__(self, *arrays, batch_size=32, shuffle=True, seed=0, drop_last=False,
                 num_replicas=None, rank=None):
        if not arrays:
            raise ValueError("DistributedBatchIterator: give at least one array")
        lengths = [len(a) for a in arrays]
        if len(set(lengths)) > 1:
            raise ValueError(f"DistributedBatchIterator: arrays of lengths {lengths} differ")
        try:
            size = operator.index(batch_size)
        except TypeError:
            raise TypeError(f"DistributedBatchIterator: batch_size must be an integer, got "
                            f"{batch_size!r}") from None
        if size < 1:
            raise ValueError(f"DistributedBatchIterator: batch_size must be >= 1, got {size}")
        self.arrays = arrays
        self.batch_size = size
        self.sampler = DistributedSampler(lengths[0], num_replicas, rank, shuffle, seed,
                                          drop_last)
        self._next_epoch = 0

    def set_epoch(self, epoch):
        """Make the next pass epoch ``epoch``."""
        self._next_epoch = operator.index(epoch)

    def __len__(self):
        return (len(self.sampler) + self.batch_size - 1) // self.batch_size

    def indices(self):
        """The index array of each batch of the next epoch (and move on to the one after)."""
        self.sampler.set_epoch(self._next_epoch)
        self._next_epoch += 1
        idx = self.sampler.indices()
        return [idx[i : i + self.batch_size] for i in range(0, len(idx), self.batch_size)]

    def __iter__(self):
        for idx in self.indices():
            yield tuple(a[idx] for a in self.arrays)
