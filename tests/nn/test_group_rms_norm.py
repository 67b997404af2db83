"""GroupNorm and RMSNorm: forward against numpy, gradients (first and second order),
PyTorch agreement, errors."""

import re

import numpy as np
import pytest

from autograd import Tensor, nn
from tests.nn.common import layer_gradcheck, layer_gradgradcheck

rng = np.random.default_rng(0)


def group_norm_reference(x, groups, weight=None, bias=None, eps=1e-5):
    """x (N, C, ...) in float64: each (sample, group) to zero mean, unit biased variance."""
    x = x.astype(np.float64)
    g = x.reshape(x.shape[0], groups, -1)
    g = (g - g.mean(axis=-1, keepdims=True)) / np.sqrt(g.var(axis=-1, keepdims=True) + eps)
    out = g.reshape(x.shape)
    channels = (-1,) + (1,) * (x.ndim - 2)
    if weight is not None:
        out = out * weight.reshape(channels) + bias.reshape(channels)
    return out


def rms_norm_reference(x, k, weight=None, eps=1e-6):
    x = x.astype(np.float64)
    axes = tuple(range(x.ndim - k, x.ndim))
    out = x / np.sqrt((x * x).mean(axis=axes, keepdims=True) + eps)
    return out if weight is None else out * weight


def _randomise(module):
    for p in module.parameters():
        p.data[...] = rng.standard_normal(p.shape)


TOL = {np.float32: dict(rtol=1e-5, atol=1e-5), np.float64: dict(rtol=1e-12, atol=1e-12)}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("groups, shape", [(2, (3, 4)), (1, (2, 4, 5)), (4, (2, 4, 3, 2)),
                                           (2, (2, 4, 3, 2))])
def test_group_norm_forward(groups, shape, dtype):
    gn = nn.GroupNorm(groups, 4, dtype=dtype)
    _randomise(gn)
    x = (rng.standard_normal(shape) * 3 + 1).astype(dtype)
    out = gn(Tensor(x))
    assert out.dtype == dtype and out.shape == shape
    expected = group_norm_reference(x, groups, gn.weight.data, gn.bias.data)
    np.testing.assert_allclose(out.data, expected, **TOL[dtype])
    gn.eval()  # no running statistics: eval mode computes the same
    np.testing.assert_allclose(gn(Tensor(x)).data, out.data)


def test_group_norm_gradients_and_options():
    gn = nn.GroupNorm(2, 4, dtype=np.float64)
    _randomise(gn)
    layer_gradcheck(gn, rng.standard_normal((2, 4, 3)))
    plain = nn.GroupNorm(2, 4, affine=False, dtype=np.float64)
    assert list(plain.parameters()) == []
    x = rng.standard_normal((2, 4, 2, 2))
    np.testing.assert_allclose(plain(Tensor(x)).data, group_norm_reference(x, 2), atol=1e-12)
    layer_gradcheck(plain, x)
    assert repr(gn) == "GroupNorm(2, 4, eps=1e-05, affine=True)"
    assert [p.shape for p in gn.parameters()] == [(4,), (4,)]


def test_group_norm_second_order():
    gn = nn.GroupNorm(2, 4, dtype=np.float64)
    _randomise(gn)
    layer_gradgradcheck(gn, rng.standard_normal((2, 4, 2)))


def test_group_norm_matches_torch():
    torch = pytest.importorskip("torch")
    t = torch.nn.GroupNorm(3, 6, eps=1e-3).double()
    gn = nn.GroupNorm(3, 6, eps=1e-3, dtype=np.float64)
    with torch.no_grad():
        t.weight.copy_(torch.tensor(rng.standard_normal(6)))
        t.bias.copy_(torch.tensor(rng.standard_normal(6)))
    gn.load_state_dict({k: v.numpy() for k, v in t.state_dict().items()})
    x = rng.standard_normal((2, 6, 3, 3))
    g = rng.standard_normal(x.shape)
    xt = torch.tensor(x, requires_grad=True)
    t(xt).backward(torch.tensor(g))
    xa = Tensor(x, requires_grad=True)
    out = gn(xa)
    out.backward(g)
    np.testing.assert_allclose(out.data, t(xt).detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(xa.grad, xt.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(gn.weight.grad, t.weight.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(gn.bias.grad, t.bias.grad.numpy(), atol=1e-12)


def test_group_norm_bad_input():
    with pytest.raises(ValueError, match="GroupNorm: num_channels 6 must be a positive multiple "
                                         "of num_groups 4"):
        nn.GroupNorm(4, 6)
    with pytest.raises(ValueError, match=re.escape(
            "GroupNorm(2, 4, eps=1e-05, affine=True): expected input of shape (N, 4, ...), got "
            "shape (2, 3, 5)")):
        nn.GroupNorm(2, 4)(Tensor(np.zeros((2, 3, 5), dtype=np.float32)))
    with pytest.raises(ValueError, match=re.escape("got shape (4,)")):
        nn.GroupNorm(2, 4)(Tensor(np.zeros(4, dtype=np.float32)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("normalized_shape, shape", [(4, (3, 4)), ((2, 3), (2, 5, 2, 3)),
                                                     (5, (5,))])
def test_rms_norm_forward(normalized_shape, shape, dtype):
    norm = nn.RMSNorm(normalized_shape, eps=1e-6, dtype=dtype)
    _randomise(norm)
    x = rng.standard_normal(shape).astype(dtype)
    out = norm(Tensor(x))
    assert out.dtype == dtype and out.shape == shape
    k = 1 if isinstance(normalized_shape, int) else len(normalized_shape)
    np.testing.assert_allclose(out.data, rms_norm_reference(x, k, norm.weight.data), **TOL[dtype])


def test_rms_norm_default_eps_is_the_dtype_epsilon():
    x = np.full((1, 3), 1e-5)
    for dtype in (np.float32, np.float64):
        out = nn.RMSNorm(3, dtype=dtype)(Tensor(x.astype(dtype)))
        eps = np.finfo(dtype).eps
        np.testing.assert_allclose(out.data, rms_norm_reference(x, 1, eps=eps), rtol=1e-5)


def test_rms_norm_gradients_and_options():
    norm = nn.RMSNorm((2, 3), dtype=np.float64)
    _randomise(norm)
    layer_gradcheck(norm, rng.standard_normal((2, 2, 3)))
    layer_gradgradcheck(norm, rng.standard_normal((2, 2, 3)))
    plain = nn.RMSNorm(3, elementwise_affine=False, dtype=np.float64)
    assert list(plain.parameters()) == []
    layer_gradcheck(plain, rng.standard_normal((4, 3)))
    assert repr(plain) == "RMSNorm((3,), eps=None, elementwise_affine=False)"


def test_rms_norm_matches_torch():
    torch = pytest.importorskip("torch")
    t = torch.nn.RMSNorm((2, 3)).double()
    with torch.no_grad():
        t.weight.copy_(torch.tensor(rng.standard_normal((2, 3))))
    norm = nn.RMSNorm((2, 3), dtype=np.float64)
    norm.load_state_dict({k: v.numpy() for k, v in t.state_dict().items()})
    x = rng.standard_normal((4, 2, 3)) * 1e-3
    g = rng.standard_normal(x.shape)
    xt = torch.tensor(x, requires_grad=True)
    t(xt).backward(torch.tensor(g))
    xa = Tensor(x, requires_grad=True)
    out = norm(xa)
    out.backward(g)
    np.testing.assert_allclose(out.data, t(xt).detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(xa.grad, xt.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(norm.weight.grad, t.weight.grad.numpy(), rtol=1e-10)


def test_rms_norm_bad_input():
    with pytest.raises(ValueError, match=re.escape(
            "RMSNorm((3, 4), eps=None, elementwise_affine=True): expected input of shape "
            "(..., 3, 4), got shape (2, 4, 3)")):
        nn.RMSNorm((3, 4))(Tensor(np.zeros((2, 4, 3), dtype=np.float32)))
    with pytest.raises(ValueError, match="RMSNorm: normalized_shape must be positive sizes"):
        nn.RMSNorm(0)


@pytest.mark.parametrize("make, message", [
    (lambda: nn.GroupNorm(2.0, 4), "GroupNorm: num_groups must be an integer, got float 2.0"),
    (lambda: nn.GroupNorm(2, 4.5), "GroupNorm: num_channels must be an integer, got float 4.5"),
    (lambda: nn.RMSNorm((2, 3.5)), "RMSNorm: normalized_shape[1] must be an integer, got float "
                                   "3.5"),
])
def test_fractional_sizes_are_refused_not_truncated(make, message):
    with pytest.raises(TypeError, match=re.escape(message)):
        make()
