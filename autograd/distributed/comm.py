"""The process group: MPI's world communicator, waits that time out instead of hanging, and
aborting the whole job when one rank fails.

mpi4py is imported here only when a function needs it, so ``import autograd.distributed``
works without it; the first call that needs MPI raises an ImportError saying what to install.
Importing mpi4py initialises MPI: run under ``mpiexec -n N`` for N ranks, or as a plain
process for one.

Why waits poll: a blocking ``MPI_Wait`` never returns when a peer has died (unless the
launcher kills the job first), so every wait here polls its requests with ``Test`` until a
deadline. While polling, a rank also answers "are you there?" messages on a second
communicator; when a wait times out, the rank asks every other rank and names the ones that
did not answer (exited, crashed or stuck elsewhere) in its error.
"""

import importlib.util
import json
import sys
import time
import traceback

import numpy as np

__all__ = [
    "DEFAULT_TIMEOUT",
    "DistributedError",
    "ProcessGroup",
    "get_rank",
    "get_world_size",
    "init",
    "is_available",
    "is_initialized",
]

# Seconds a collective may take before it counts as hung. It must cover the slowest
# legitimate gap between ranks: the first step's numba compilation, an evaluation that one
# rank runs alone.
DEFAULT_TIMEOUT = 300.0

_PING, _PONG = 1, 2  # tags on the control communicator
_SPIN_SECONDS = 2e-3  # poll without sleeping this long: most collectives finish by then
_MAX_PAUSE = 1e-3  # then sleep between polls, doubling up to this, to leave the core free
_ANSWER_EVERY = 5e-3  # how often a waiting rank looks for "are you there?" messages

_group = None


class DistributedError(RuntimeError):
    """A collective failed or timed out: the message names this rank and the ranks at fault."""


def is_available():
    """Whether mpi4py is installed (without importing it, which would initialise MPI)."""
    return importlib.util.find_spec("mpi4py") is not None


def _mpi():
    try:
        from mpi4py import MPI
    except ImportError as e:
        raise ImportError(
            "autograd.distributed needs mpi4py and an MPI library: pip install -e '.[dist]' "
            f"(mpi4py and mpich) ({e})"
        ) from e
    return MPI


class ProcessGroup:
    """The ranks of one job (MPI's ``COMM_WORLD``) and the collectives ``autograd.distributed``
    uses, each waited on with ``timeout``. Made by ``init()``; not constructed directly."""

    def __init__(self, timeout=DEFAULT_TIMEOUT):
        MPI = _mpi()
        self.set_timeout(timeout)
        world = MPI.COMM_WORLD
        self.rank, self.size = world.Get_rank(), world.Get_size()
        self._answers = []  # (request, buffer) of pongs still being sent
        self._next_answer = 0.0
        # Collectives run on a duplicate of COMM_WORLD and pings on another, so neither can
        # match the other's messages, nor those of user code on COMM_WORLD.
        self.comm, self.ctrl = None, None
        comm, request = world.Idup()
        self.wait([request], "creating the communicator (a rank did not start)")
        ctrl, request = world.Idup()
        self.wait([request], "creating the communicator (a rank did not start)")
        self.comm, self.ctrl = comm, ctrl

    def __repr__(self):
        return f"ProcessGroup(rank={self.rank}, size={self.size}, timeout={self.timeout:g})"

    def set_timeout(self, timeout):
        timeout = float(timeout)
        if not timeout > 0:  # also refuses nan
            raise ValueError(f"autograd.distributed.init: timeout must be > 0 s, got {timeout}")
        self.timeout = timeout

    # --- waiting ------------------------------------------------------------------------
    def wait(self, requests, what):
        """Wait until every request in ``requests`` completes; a DistributedError naming
        ``what`` and the silent ranks after ``timeout`` seconds."""
        MPI = _mpi()
        start = time.monotonic()
        deadline, spin_until = start + self.timeout, start + _SPIN_SECONDS
        pause = 0.0
        while not MPI.Request.Testall(requests):
            now = time.monotonic()
            if now >= self._next_answer:
                self._answer_pings()
                self._next_answer = now + _ANSWER_EVERY
            if now >= deadline:
                raise DistributedError(self._timeout_message(what))
            if now >= spin_until:
                time.sleep(pause)
                pause = min(2 * pause or 1e-5, _MAX_PAUSE)

    def _answer_pings(self):
        if self.ctrl is None:
            return
        MPI = _mpi()
        status = MPI.Status()
        while self.ctrl.Iprobe(source=MPI.ANY_SOURCE, tag=_PING, status=status):
            source = status.Get_source()
            buf = np.empty(1, np.int64)
            self.ctrl.Recv(buf, source=source, tag=_PING)
            self._answers.append((self.ctrl.Isend(buf, dest=source, tag=_PONG), buf))
        self._answers = [(r, b) for r, b in self._answers if not r.Test()]

    def silent_ranks(self, grace):
        """The other ranks that do not answer within ``grace`` seconds. A rank answers while
        it waits in one of this group's collectives."""
        MPI = _mpi()
        others = [r for r in range(self.size) if r != self.rank]
        pending = {}
        for r in others:
            try:
                ping = np.array([self.rank], np.int64)
                pong = np.empty(1, np.int64)
                pending[r] = (self.ctrl.Irecv(pong, source=r, tag=_PONG), pong,
                              self.ctrl.Isend(ping, dest=r, tag=_PING), ping)
            except MPI.Exception:  # a dead peer may refuse the connection outright
                pass
        answered = set()
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and len(answered) < len(pending):
            self._answer_pings()
            for r, (recv, *_) in pending.items():
                try:
                    if r not in answered and recv.Test():
                        answered.add(r)
                except MPI.Exception:
                    pass
            time.sleep(1e-3)
        return [r for r in others if r not in answered]

    def _timeout_message(self, what):
        head = (f"rank {self.rank} of {self.size}: {what} did not complete within "
                f"{self.timeout:g} s")
        if self.ctrl is None:
            return head
        silent = self.silent_ranks(grace=min(5.0, max(0.5, self.timeout / 10)))
        if silent:
            ranks = ", ".join(map(str, silent))
            return (f"{head}; rank{'s' if len(silent) > 1 else ''} {ranks} did not answer "
                    "(exited, crashed, or busy elsewhere for longer than the timeout)")
        return (f"{head}; every other rank answered, so they are alive but waiting on other "
                "collectives: the ranks ran different code (e.g. different numbers of batches "
                "or of backward passes)")

    # --- collectives --------------------------------------------------------------------
    def broadcast_(self, arrays, what, root=0):
        """Overwrite each array (C-contiguous) on every rank with its value on ``root``."""
        requests = [self.comm.Ibcast(a, root=root) for a in arrays]
        self.wait(requests, what)

    def allgather_json(self, obj, what):
        """Every rank's ``obj`` (anything JSON can hold), as a list indexed by rank."""
        MPI = _mpi()
        data = np.frombuffer(json.dumps(obj).encode(), dtype=np.uint8)
        counts = np.empty(self.size, np.int64)
        self.wait([self.comm.Iallgather(np.array([data.size], np.int64), counts)], what)
        displs = np.concatenate([[0], np.cumsum(counts)[:-1]])
        received = np.empty(int(counts.sum()), np.uint8)
        request = self.comm.Iallgatherv(
            data, [received, counts.tolist(), displs.tolist(), MPI.BYTE]
        )
        self.wait([request], what)
        return [json.loads(received[d : d + c].tobytes()) for d, c in zip(displs, counts)]

    def allreduce_sum_(self, array):
        """Start summing ``array`` over the ranks, in place; returns the request."""
        return self.comm.Iallreduce(_mpi().IN_PLACE, array, op=_mpi().SUM)

    def abort(self, code=1):
        """End every rank of the job now (MPI_Abort)."""
        _mpi().COMM_WORLD.Abort(code)


def _abort_on_uncaught(group):
    """An excepthook that prints the traceback under this rank's name, then aborts the job:
    without it the other ranks would wait for this one until their timeout."""

    def abort_job(exc_type, exc, tb):
        try:
            # One write of the whole report, and a moment for mpiexec to forward it: the
            # abort tears the job's output streams down, and a report written piecewise lost
            # its tail.
            sys.stdout.flush()
            sys.stderr.write(
                f"rank {group.rank} of {group.size} failed:\n"
                + "".join(traceback.format_exception(exc_type, exc, tb))
                + f"rank {group.rank} of {group.size}: uncaught {exc_type.__name__}; aborting "
                f"all {group.size} ranks\n"
            )
            sys.stderr.flush()
            time.sleep(0.5)
        finally:
            group.abort(1)

    sys.excepthook = abort_job


def init(timeout=None, abort_on_exception=True):
    """Join the job's ranks (once per process; later calls return the same group).

    Parameters
    ----------
    timeout : float, optional
        Seconds any collective may wait for the other ranks before raising a
        ``DistributedError`` that names the ranks that did not answer (default
        ``DEFAULT_TIMEOUT``, 300 s). Given to a later call, it replaces the group's.
    abort_on_exception : bool
        With more than one rank, install a ``sys.excepthook`` that prints an uncaught
        exception under this rank's name and then ends every rank with ``MPI_Abort``, so
        that one rank's failure stops the job at once instead of leaving the others waiting.

    Returns
    -------
    ProcessGroup
        ``.rank``, ``.size`` and the collectives.

    Examples
    --------
    >>> group = autograd.distributed.init()      # under: mpiexec -n 2 python script.py
    >>> group.rank, group.size
    (0, 2)
    """
    global _group
    if _group is None:
        _group = ProcessGroup(DEFAULT_TIMEOUT if timeout is None else timeout)
        if abort_on_exception and _group.size > 1:
            _abort_on_uncaught(_group)
    elif timeout is not None:
        _group.set_timeout(timeout)
    return _group


def is_initialized():
    return _group is not None


def get_rank():
    """This process's rank (0 for the first); initialises the group if needed."""
    return init().rank


def get_world_size():
    """The number of ranks in the job; initialises the group if needed."""
    return init().size
