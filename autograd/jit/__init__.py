"""Compiling a step: ``autograd.jit`` traces a Python function (forward, loss, backward,
optimizer update) and replays it as a flat program on arrays.

- ``trace``: recording one eager run as a tape of op, backward and host-call events;
- ``plan``: comparing two tapes and building the replayable program from one;
- ``rewrite``: changes to a tape that only the whole step allows (relu then max-pool);
- ``fusion``: generated numba loops for chains of elementwise ops;
- ``function``: ``jit`` itself, signatures, guards and the cache of programs.
"""

from autograd.jit.function import jit
from autograd.jit.trace import TraceError, host_call

__all__ = ["jit", "host_call", "TraceError"]
