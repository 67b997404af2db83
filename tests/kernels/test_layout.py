"""The channel-first to NCHW copy (with the bias) against numpy's transpose, threaded and
serial."""

import numpy as np
import pytest

from ops.kernels.layout import nchw_from_channels_first


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("with_bias", [False, True])
@pytest.mark.parametrize("parallel", [False, True])
def test_matches_numpy_transpose(dtype, with_bias, parallel):
    rng = np.random.default_rng(0)
    for o, n, p in [(5, 3, 7), (1, 1, 1), (4, 6, 0), (0, 2, 3), (33, 17, 49)]:
        src = rng.standard_normal((o, n, p)).astype(dtype)
        bias = rng.standard_normal(o).astype(dtype) if with_bias else None
        out = np.full((n, o, p), np.nan, dtype)
        nchw_from_channels_first(src, bias, out, parallel=parallel)
        expected = src.transpose(1, 0, 2) + (0 if bias is None else bias[:, None])
        np.testing.assert_array_equal(out, expected)
