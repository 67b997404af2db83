"""Tools for debugging and seeing training: anomaly detection, a profiler, graph drawing
and activation checkpointing. They stand on the engine alone (``autograd.core``)."""

from autograd.tools.anomaly import detect_anomaly
from autograd.tools.checkpoint import checkpoint
from autograd.tools.graph import render_dot, to_dot
from autograd.tools.profiler import profile

__all__ = ["detect_anomaly", "checkpoint", "profile", "render_dot", "to_dot"]
