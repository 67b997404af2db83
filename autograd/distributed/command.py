"""What ``python -m autograd.train --distributed`` changes, kept here so that the training
command needs only a few lines for it.

    mpiexec -n 2 python -m autograd.train --model cnn --distributed

Every rank loads the data and builds the model; the model is wrapped in
``DistributedDataParallel`` (rank 0's initial weights everywhere) and each rank trains on its
share of every epoch (``DistributedBatchIterator``), ``--batch-size`` images per rank and
step. Every rank evaluates the whole validation and test sets (the replicas are equal, so
they agree, and early stopping stops them all at the same epoch), and only rank 0 prints and
writes files (TensorBoard logs included).
"""

import os
import signal
import sys

from autograd import nn
from autograd.distributed.comm import init
from autograd.distributed.ddp import DistributedDataParallel
from autograd.distributed.sampler import DistributedBatchIterator

__all__ = ["DistributedRun"]


class DistributedRun:
    """This rank's part in a data-parallel run of the training command.

    Made from the parsed arguments, before anything is loaded: it joins the MPI job
    (``init``: an uncaught exception on any rank then aborts them all), silences stdout
    and the progress bar on ranks other than 0, and, with more than one rank, gives Ctrl-C
    its default action: mpiexec passes it to every rank, and the ranks would not stop at
    the same batch, so a graceful stop would leave one rank waiting for the others; they all
    end at once instead, without writing files.
    """

    def __init__(self, args):
        try:
            self.group = init()
        except ImportError as e:
            raise SystemExit(f"error: --distributed: {e}") from None
        self.rank, self.size = self.group.rank, self.group.size
        self.is_root = self.rank == 0
        self.seed = args.seed
        if self.size > 1 and signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
            signal.signal(signal.SIGINT, signal.SIG_DFL)
        if not self.is_root:
            args.no_progress = True  # plain progress lines go to stdout, silenced here
            args.tensorboard = False  # event logs are files: rank 0's only
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 (for the life of the process)
        print(f"data-parallel over {self.size} rank{'s' if self.size > 1 else ''}: batch "
              f"{args.batch_size} per rank, {args.batch_size * self.size} per step", flush=True)

    def wrap(self, model):
        """``model`` wrapped for data-parallel training; Dropout masks then come from a
        generator seeded by ``(seed, rank)``, so the ranks drop different units."""
        wrapped = DistributedDataParallel(model, group=self.group)
        nn.init.seed([self.seed, self.rank])
        return wrapped

    def batches(self, train, batch_size):
        """This rank's mini-batches of ``train = (x, y)``, reshuffled every epoch."""
        return DistributedBatchIterator(*train, batch_size=batch_size, seed=self.seed,
                                        num_replicas=self.size, rank=self.rank)
