"""``DistributedDataParallel``: one model replica per rank, gradients averaged during backward.

At construction every rank checks that all ranks hold the same parameters (names, shapes,
dtypes), then takes rank 0's values, so the replicas start equal. Each replica then runs
forward and backward on its own batch; gradients are averaged over the ranks so that every
replica takes the same optimizer step and the replicas stay equal.

The averaging starts during backward. The parameters are grouped into buckets in reverse
order of ``module.parameters()`` (roughly the order in which backward finishes their
gradients). A hook on each parameter (``Tensor.register_post_accumulate_grad_hook``) marks its
gradient final; when a bucket's gradients are all final it is copied into one flat array and
its ``Iallreduce`` starts, while backward goes on with the layers below. The reductions are
waited for in the hook of the last parameter, so when ``backward()`` returns the ``.grad`` of
every parameter holds the average over the ranks. Buckets start strictly in order (bucket 2
waits for bucket 1 to start), so the collectives are issued in the same order on every rank
whatever the order in which hooks fire.

How much of a started allreduce happens while backward computes depends on the MPI library:
MPICH moves a non-blocking collective on only inside MPI calls, unless its asynchronous
progress thread is on (``MPIR_CVAR_ASYNC_PROGRESS=1``, which spends a core per rank). The
default bucket size is PyTorch's, 25 MB; ``benchmarks/README.md`` has the measurements
behind it.

A parameter that gets no gradient in some backward (a branch not taken) never marks its
bucket ready: call ``synchronize()`` after such a backward (it sends the gradients still
pending, zeros for missing ones); otherwise the next forward raises, as in PyTorch.
"""

import contextlib
import math
import time
import weakref

import numpy as np

from autograd.core.grad_mode import is_grad_enabled
from autograd.core.tensor import Tensor
from autograd.distributed.comm import init
from autograd.nn.module import Module

__all__ = ["DistributedDataParallel"]

# id(parameter) -> weak reference to the _Reducer that averages its gradient: two wrappers
# on one parameter would average its gradient twice. A reducer holds its parameters, so an
# id reused by a new parameter belongs to a dead reducer.
_OWNER = {}


class _Bucket:
    """Parameters whose gradients one allreduce sums, in one flat array: the gradients one
    after another, then one flag per parameter, 1 where this rank has a gradient (the sum
    of the flags tells whether any rank has one)."""

    __slots__ = ("bounds", "flat", "names", "params", "ready", "request")

    def __init__(self, named):
        self.names = [name for name, _ in named]
        self.params = [p for _, p in named]
        self.bounds = np.cumsum([0] + [p.size for p in self.params]).tolist()
        self.flat = np.empty(self.bounds[-1] + len(self.params), dtype=self.params[0].dtype)
        self.ready = set()  # positions of the parameters whose gradient is final
        self.request = None

    def complete(self):
        return len(self.ready) == len(self.params)

    def pack(self):
        flags = self.flat[self.bounds[-1] :]
        for i, p in enumerate(self.params):
            g, view = p.grad, self.flat[self.bounds[i] : self.bounds[i + 1]]
            if g is None:
                view[...] = 0
                flags[i] = 0
            elif isinstance(g, Tensor):
                raise RuntimeError(
                    f"DistributedDataParallel: parameter {self.names[i]!r} has a Tensor "
                    "gradient (backward with create_graph=True); averaging gradients that are "
                    "themselves differentiable is not supported"
                )
            else:
                view[...] = g.reshape(-1)  # (shape) -> (size,)
                flags[i] = 1

    def unpack(self, world_size):
        """Write the averages into ``.grad``; a gradient no rank has stays None."""
        flags = self.flat[self.bounds[-1] :]
        for i, p in enumerate(self.params):
            if flags[i] == 0:
                continue
            total = self.flat[self.bounds[i] : self.bounds[i + 1]].reshape(p.shape)
            g = p.grad
            if isinstance(g, np.ndarray) and g.flags.writeable and g.shape == p.shape:
                np.divide(total, world_size, out=g)
            else:
                p.grad = total / world_size


def _make_buckets(named, cap_bytes):
    """Consecutive parameters of one dtype, a bucket closing once it holds ``cap_bytes``."""
    buckets, current, size = [], [], 0
    for name, p in named:
        if current and (size >= cap_bytes or p.dtype != current[0][1].dtype):
            buckets.append(_Bucket(current))
            current, size = [], 0
        current.append((name, p))
        size += p.data.nbytes
    if current:
        buckets.append(_Bucket(current))
    return buckets


def _hook(reducer_ref, b, i):
    # A weak reference: the engine keeps hooks as long as the parameter lives, and a
    # dropped wrapper must neither be kept alive nor go on averaging.
    def average_when_ready(param):
        reducer = reducer_ref()
        if reducer is not None:
            reducer.grad_ready(b, i)

    return average_when_ready


class _Reducer:
    """The buckets and the state of the current backward's averaging."""

    def __init__(self, group, named, cap_bytes):
        self.group = group
        self.buckets = _make_buckets(named, cap_bytes)
        self.next_launch = 0  # buckets below this one have started their allreduce
        self.active = False  # a backward has started averaging and not finished
        self.enabled = True  # False inside no_sync()
        self.rounds = 0
        self.wait_seconds = 0.0
        for bucket in self.buckets:
            for name, p in zip(bucket.names, bucket.params):
                owner = _OWNER.get(id(p))
                if owner is not None and owner() is not None:
                    raise ValueError(
                        f"DistributedDataParallel: parameter {name!r} (shape {p.shape}) "
                        "already belongs to another DistributedDataParallel; its gradient "
                        "would be averaged twice"
                    )
        for b, bucket in enumerate(self.buckets):
            for i, p in enumerate(bucket.params):
                _OWNER[id(p)] = weakref.ref(self)
                p.register_post_accumulate_grad_hook(_hook(weakref.ref(self), b, i))

    def grad_ready(self, b, i):
        if not self.enabled:
            return
        bucket = self.buckets[b]
        if i in bucket.ready:
            raise RuntimeError(
                f"DistributedDataParallel: parameter {bucket.names[i]!r} got a gradient from "
                "a second backward before the first backward's gradients were all averaged "
                "(some parameters got none); call synchronize() after each backward, or "
                "accumulate inside no_sync()"
            )
        self.active = True
        bucket.ready.add(i)
        # No MPI_Test here to push the started buckets on: on the 2-core machine three such
        # calls during the CNN's backward cost 5-8 ms a step, more than the whole allreduce.
        if bucket.complete():
            self.launch_ready()

    def launch_ready(self):
        while self.next_launch < len(self.buckets) and self.buckets[self.next_launch].complete():
            bucket = self.buckets[self.next_launch]
            bucket.pack()
            bucket.request = self.group.allreduce_sum_(bucket.flat)
            self.next_launch += 1
        if self.next_launch == len(self.buckets):
            self.finish()

    def finish(self):
        start = time.perf_counter()
        self.group.wait([b.request for b in self.buckets],
                        f"averaging the gradients of backward {self.rounds + 1}")
        self.wait_seconds += time.perf_counter() - start
        for bucket in self.buckets:
            bucket.unpack(self.group.size)
            bucket.ready.clear()
            bucket.request = None
        self.next_launch = 0
        self.active = False
        self.rounds += 1

    def synchronize(self):
        if not self.active:
            return
        for bucket in self.buckets:
            bucket.ready.update(range(len(bucket.params)))
        self.launch_ready()

    def pending_names(self):
        return [name for bucket in self.buckets
                for i, name in enumerate(bucket.names) if i not in bucket.ready]


def _contiguous_broadcast(group, arrays, what):
    """Broadcast rank 0's values into ``arrays`` in place, whatever their memory layout."""
    staged = [a if a.flags.c_contiguous and a.flags.writeable else np.ascontiguousarray(a)
              for a in arrays]
    group.broadcast_(staged, what)
    for a, s in zip(arrays, staged):
        if s is not a:
            a[...] = s


class DistributedDataParallel(Module):
    """Data-parallel training over the ranks of an MPI job, as PyTorch's class of that name.

    Wrap the model on every rank, then train as usual: each rank runs its own batch (a
    ``DistributedSampler`` gives each rank a disjoint one), and when ``backward()`` returns
    every parameter's ``.grad`` is the average over the ranks, so every rank's optimizer
    takes the same step.

    Parameters
    ----------
    module : Module
        The model, built identically on every rank. Its parameters are checked against the
        other ranks' (a difference in names, shapes or dtypes raises ValueError naming the
        parameter and each rank's shape) and then set to rank 0's values.
    bucket_cap_mb : float
        A bucket closes once it holds this many megabytes (2**20 bytes) of gradients (25, as
        PyTorch: the training command's CNN, 1.7 MB, is one bucket). Smaller buckets start
        their allreduce earlier during backward, which pays where the MPI library moves data
        in the background and communication is slow (between hosts); larger ones pay the
        per-message cost less often.
    broadcast_buffers : bool
        Copy rank 0's buffers (BatchNorm's running statistics) to every rank at the start
        of every forward, in training and in evaluation alike (as PyTorch), so that the
        replicas agree: an evaluation on every rank then gives every rank the same figures,
        and decisions taken from them (early stopping) the same steps. A forward on one
        rank alone must then go through ``.module``. Buffers are always copied once at
        construction.
    group : ProcessGroup, optional
        From ``autograd.distributed.init()`` (called with its defaults when omitted).

    Attributes
    ----------
    module : Module
        The wrapped model (save and load through it: this wrapper's ``state_dict`` keys
        start with ``module.``).
    wait_seconds : float
        Time spent blocked waiting for the gradient allreduces, summed over backward passes
        (the communication that backward did not hide).

    Examples
    --------
    Run with ``mpiexec -n 2 python train.py``:

    >>> model = DistributedDataParallel(build_model())
    >>> opt = optim.SGD(model.parameters(), lr=0.1)
    >>> batches = DistributedBatchIterator(x, y, batch_size=32, seed=0)
    >>> for xb, yb in batches:
    ...     loss = ops.cross_entropy(model(Tensor(xb)), yb)
    ...     opt.zero_grad()
    ...     loss.backward()            # .grad averaged over the ranks on return
    ...     opt.step()
    """

    def __init__(self, module, bucket_cap_mb=25.0, broadcast_buffers=True, group=None):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel: module must be an autograd.nn.Module, "
                            f"got {type(module).__name__}")
        if isinstance(bucket_cap_mb, bool) or not isinstance(bucket_cap_mb, (int, float)) \
                or not (math.isfinite(bucket_cap_mb) and bucket_cap_mb > 0):
            raise ValueError(f"DistributedDataParallel: bucket_cap_mb must be a finite number "
                             f"> 0, got {bucket_cap_mb!r}")
        group = init() if group is None else group
        self.module = module
        self.group = group
        self.broadcast_buffers = bool(broadcast_buffers)
        named = list(module.named_parameters())
        _check_same_parameters(group, named)
        _contiguous_broadcast(group, [p.data for _, p in named], "copying rank 0's parameters")
        for _, p in named:
            p._version[0] += 1  # changed in place, as load_state_dict does
        self._sync_buffers("copying rank 0's buffers")
        trainable = [(name, p) for name, p in named if p.requires_grad]
        # Reverse order: backward finishes the last layers' gradients first.
        self._reducer = _Reducer(group, trainable[::-1], bucket_cap_mb * 2**20)

    @property
    def wait_seconds(self):
        return self._reducer.wait_seconds

    def bucket_names(self):
        """The parameter names of each bucket, in the order their allreduces start."""
        return [list(bucket.names) for bucket in self._reducer.buckets]

    def forward(self, *args, **kwargs):
        if is_grad_enabled() and self._reducer.active:
            pending = self._reducer.pending_names()
            raise RuntimeError(
                "DistributedDataParallel: the last backward did not average every gradient: "
                f"{pending} got none, so their buckets never started (and the optimizer may "
                "have stepped on unaveraged gradients); call synchronize() after backward "
                "when some parameters can go unused"
            )
        if self.broadcast_buffers:
            self._sync_buffers("copying rank 0's buffers before forward")
        return self.module(*args, **kwargs)

    def synchronize(self):
        """Finish averaging the last backward's gradients: needed only when some parameter
        got no gradient in it (its bucket then sends zeros for it); otherwise a no-op."""
        self._reducer.synchronize()

    @contextlib.contextmanager
    def no_sync(self):
        """Backward passes inside accumulate gradients locally without averaging them; the
        first backward after the block averages the accumulated sums.

        >>> with model.no_sync():
        ...     model(x1).sum().backward()
        >>> model(x2).sum().backward()       # averages the gradients of both batches
        """
        previous = self._reducer.enabled
        self._reducer.enabled = False
        try:
            yield self
        finally:
            self._reducer.enabled = previous

    def _sync_buffers(self, what):
        buffers = [b for _, b in self.module.named_buffers()]
        if buffers and self.group.size > 1:
            _contiguous_broadcast(self.group, buffers, what)

    def extra_repr(self):
        return f"rank={self.group.rank}, world_size={self.group.size}"


def _check_same_parameters(group, named):
    """Refuse to start unless every rank has the same parameter names, shapes and dtypes, in
    the same order (the buckets' layouts must match)."""
    mine = [[name, list(p.shape), str(p.dtype)] for name, p in named]
    everyone = group.allgather_json(mine, "comparing the ranks' parameters")
    if all(theirs == everyone[0] for theirs in everyone):
        return
    tables = [{name: (tuple(shape), dtype) for name, shape, dtype in theirs}
              for theirs in everyone]
    names = list(dict.fromkeys(name for theirs in everyone for name, _, _ in theirs))
    problems = []
    for name in names:
        specs = [table.get(name) for table in tables]
        if all(s == specs[0] for s in specs):
            continue
        dtypes_differ = len({s[1] for s in specs if s is not None}) > 1
        per_rank = ", ".join(
            ("no such parameter" if s is None
             else f"shape {s[0]}" + (f" {s[1]}" if dtypes_differ else "")) + f" on rank {r}"
            for r, s in enumerate(specs)
        )
        problems.append(f"parameter {name!r} has {per_rank}")
    if not problems:
        orders = ", ".join(f"rank {r}: {[n for n, _, _ in theirs]}"
                           for r, theirs in enumerate(everyone))
        problems.append(f"the parameters come in different orders ({orders})")
    shown = problems[:5] + ([f"and {len(problems) - 5} more"] if len(problems) > 5 else [])
    raise ValueError(
        "DistributedDataParallel: the ranks' models differ, refusing to start: "
        + "; ".join(shown)
    )
