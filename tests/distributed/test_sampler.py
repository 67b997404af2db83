"""DistributedSampler and DistributedBatchIterator, with the ranks given explicitly (no MPI)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograd.distributed import DistributedBatchIterator, DistributedSampler


def shares(n, replicas, **kwargs):
    return [DistributedSampler(n, replicas, r, **kwargs).indices() for r in range(replicas)]


@given(st.integers(0, 60), st.integers(1, 5), st.booleans(), st.booleans(), st.integers(0, 3))
def test_ranks_take_disjoint_equal_shares_of_one_permutation(n, replicas, shuffle, drop_last,
                                                             seed):
    if drop_last and 0 < n < replicas:
        return  # refused: tested below
    parts = shares(n, replicas, shuffle=shuffle, drop_last=drop_last, seed=seed)
    assert len({len(p) for p in parts}) == 1
    order = DistributedSampler(n, replicas, 0, shuffle=shuffle, drop_last=drop_last,
                               seed=seed).global_order()
    for r, part in enumerate(parts):
        np.testing.assert_array_equal(part, order[r::replicas])
    taken = np.concatenate(parts)
    if drop_last:
        assert len(taken) == n - n % replicas
        assert len(set(taken.tolist())) == len(taken)  # disjoint
    else:
        assert set(taken.tolist()) == set(range(n))  # every sample, padding repeats a few
        assert len(taken) == -(-n // replicas) * replicas
        assert len(taken) - len(set(taken.tolist())) == len(taken) - n  # only the padding
    if not shuffle:
        np.testing.assert_array_equal(order, np.resize(np.arange(n), len(order)) if n else [])


def test_padding_repeats_the_first_indices_even_past_n():
    np.testing.assert_array_equal(
        np.concatenate(shares(2, 5, shuffle=False)), [0, 1, 0, 1, 0]
    )


def test_set_epoch_reshuffles_the_same_way_on_every_rank():
    a = DistributedSampler(100, 2, 0, seed=3)
    b = DistributedSampler(100, 2, 1, seed=3)
    first = (a.indices(), b.indices())
    a.set_epoch(1)
    b.set_epoch(1)
    second = (a.indices(), b.indices())
    assert not np.array_equal(first[0], second[0])
    assert set(np.concatenate(second).tolist()) == set(range(100))
    a.set_epoch(0)
    np.testing.assert_array_equal(a.indices(), first[0])  # epochs reproduce
    assert list(a) == first[0].tolist() and len(a) == 50
    other_seed = DistributedSampler(100, 2, 0, seed=4)
    assert not np.array_equal(other_seed.indices(), first[0])


def test_step_k_of_all_ranks_is_step_k_of_one_process_with_the_larger_batch():
    x = np.arange(50)
    ranks = [DistributedBatchIterator(x, batch_size=4, seed=1, num_replicas=2, rank=r)
             for r in range(2)]
    single = DistributedBatchIterator(x, batch_size=8, seed=1, num_replicas=1, rank=0)
    assert len(ranks[0]) == len(ranks[1]) == len(single) == 7
    for epoch in range(2):
        per_rank = [list(it) for it in ranks]
        for k, (big,) in enumerate(single):
            (b0,), (b1,) = per_rank[0][k], per_rank[1][k]
            assert len(b0) == len(b1)  # lockstep, down to the last batch's size
            assert sorted(np.concatenate([b0, b1])) == sorted(big)
    # The last step of an epoch of 50 over 2 x 4: 50 = 6 x 8 + 2 -> one sample per rank.
    assert [len(b) for (b,) in ranks[0]] == [4] * 6 + [1]


def test_the_batch_iterator_moves_to_the_next_epoch_on_every_pass():
    it = DistributedBatchIterator(np.arange(20), batch_size=5, seed=0, num_replicas=2, rank=0)
    first, second = [b for (b,) in it], [b for (b,) in it]
    assert not all(np.array_equal(a, b) for a, b in zip(first, second))
    it.set_epoch(0)
    assert all(np.array_equal(a, b) for a, b in zip(first, [b for (b,) in it]))
    x, y = np.arange(20) * 10, np.arange(20)
    for xb, yb in DistributedBatchIterator(x, y, batch_size=3, num_replicas=2, rank=1):
        np.testing.assert_array_equal(xb, yb * 10)  # the arrays stay aligned


def test_bad_arguments_name_the_class_and_values():
    with pytest.raises(ValueError, match=r"DistributedSampler: 3 samples cannot give each of "
                                         r"4 ranks one with drop_last=True"):
        DistributedSampler(3, 4, 0, drop_last=True)
    with pytest.raises(ValueError, match=r"0 <= rank < num_replicas, got num_replicas=2, "
                                         r"rank=2"):
        DistributedSampler(10, 2, 2)
    with pytest.raises(ValueError, match="num_replicas=0"):
        DistributedSampler(10, 0, 0)
    with pytest.raises(TypeError, match="must be integers"):
        DistributedSampler(10, 2.0, 0)
    with pytest.raises(ValueError, match="n must be >= 0"):
        DistributedSampler(-1, 1, 0)
    with pytest.raises(ValueError, match=r"lengths \[3, 4\] differ"):
        DistributedBatchIterator(np.zeros(3), np.zeros(4), num_replicas=1, rank=0)
    with pytest.raises(ValueError, match="batch_size must be >= 1, got 0"):
        DistributedBatchIterator(np.zeros(3), batch_size=0, num_replicas=1, rank=0)
    with pytest.raises(TypeError, match="batch_size must be an integer"):
        DistributedBatchIterator(np.zeros(3), batch_size=2.5, num_replicas=1, rank=0)

