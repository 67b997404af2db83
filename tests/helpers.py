"""Shared test helpers: the gradient-test ledger and forward checks against numpy."""

import numpy as np

from autograd import Tensor

# Names of registered ops that have a hypothesis gradient test. tests/test_registry.py
# fails when an op in the registry is missing from here.
GRADCHECKED: set = set()


def gradchecks(*op_names):
    """Mark a test as the gradient property test of the named registered ops."""
    GRADCHECKED.update(op_names)

    def mark(test):
        return test

    return mark


TOLERANCE = {np.dtype(np.float32): dict(rtol=1e-5, atol=1e-6),
             np.dtype(np.float64): dict(rtol=1e-12, atol=1e-12)}


def check_forward(op, reference, *arrays, rtol=None, atol=None, **kwargs):
    """op(*Tensors, **kwargs) matches reference(*arrays, **kwargs) in float32 and float64,
    and keeps the input dtype."""
    for dtype in (np.float32, np.float64):
        xs = [np.asarray(a, dtype=dtype) if np.asarray(a).dtype.kind == "f" else a
              for a in arrays]
        out = op(*[Tensor(x) if isinstance(x, np.ndarray) else x for x in xs], **kwargs)
        expected = reference(*xs, **kwargs)
        tol = dict(TOLERANCE[np.dtype(dtype)])
        if rtol is not None:
            tol["rtol"] = rtol if dtype == np.float32 else min(rtol, 1e-10)
        if atol is not None:
            tol["atol"] = atol if dtype == np.float32 else min(atol, 1e-10)
        assert out.dtype == np.dtype(dtype), f"{op}: dtype {out.dtype} for {dtype} input"
        np.testing.assert_allclose(out.data, expected, **tol)


def check_unary(op, reference, strategy, kinks=()):
    """Hypothesis over ``strategy``: op's gradient and second derivative (float64, away from
    ``kinks``) and its forward against numpy's ``reference`` (float32 and float64)."""
    from hypothesis import given

    from autograd.testing import gradcheck, gradgradcheck
    from autograd.testing import strategies as st_ag

    @given(strategy)
    def gradients(x):
        st_ag.assume_away_from(x, kinks, margin=1e-3)
        assert gradcheck(op, [x])
        assert gradgradcheck(op, [x])

    @given(strategy)
    def forward(x):
        check_forward(op, reference, x, rtol=2e-5, atol=1e-6)

    return gradients, forward
