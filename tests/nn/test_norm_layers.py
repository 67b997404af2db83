"""BatchNorm1d, BatchNorm2d, LayerNorm: forward, running statistics, eval mode, gradients."""

import re
import warnings

import numpy as np
import pytest

from autograd import Tensor, nn, no_grad
from tests.nn.common import layer_gradcheck, torch_state

rng = np.random.default_rng(0)


def batch_norm_reference(x, weight, bias, eps=1e-5):
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    x = x.astype(np.float64)
    xhat = (x - x.mean(axis=axes, keepdims=True)) / np.sqrt(x.var(axis=axes, keepdims=True) + eps)
    return xhat * weight.reshape(shape) + bias.reshape(shape)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layer, shape", [(nn.BatchNorm1d, (6, 3)), (nn.BatchNorm1d, (4, 3, 5)),
                                          (nn.BatchNorm2d, (4, 3, 2, 5))])
def test_batch_norm_training_forward(layer, shape, dtype):
    bn = layer(3, dtype=dtype)
    bn.weight.data[...] = rng.standard_normal(3)
    bn.bias.data[...] = rng.standard_normal(3)
    x = (rng.standard_normal(shape) * 3 + 1).astype(dtype)
    out = bn(Tensor(x))
    assert out.dtype == dtype
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(out.data, batch_norm_reference(x, bn.weight.data, bn.bias.data),
                               rtol=tol, atol=tol)


def test_batch_norm_running_stats_and_eval():
    bn = nn.BatchNorm2d(2, momentum=0.1, dtype=np.float64)
    batches = [rng.standard_normal((4, 2, 3, 3)) * (i + 1) + i for i in range(3)]
    mean, var = np.zeros(2), np.ones(2)
    for x in batches:
        bn(Tensor(x))
        m = x.size // 2
        mean = 0.9 * mean + 0.1 * x.mean(axis=(0, 2, 3))
        var = 0.9 * var + 0.1 * x.var(axis=(0, 2, 3)) * m / (m - 1)  # unbiased, as PyTorch
    np.testing.assert_allclose(bn.running_mean, mean)
    np.testing.assert_allclose(bn.running_var, var)
    assert bn.num_batches_tracked == 3
    bn.eval()
    x = rng.standard_normal((2, 2, 3, 3))
    out = bn(Tensor(x))
    expected = (x - mean[None, :, None, None]) / np.sqrt(var[None, :, None, None] + 1e-5)
    np.testing.assert_allclose(out.data, expected)
    np.testing.assert_allclose(bn.running_mean, mean)  # eval leaves the statistics alone
    assert bn.num_batches_tracked == 3


def test_batch_norm_cumulative_average_and_no_tracking():
    bn = nn.BatchNorm1d(2, momentum=None, dtype=np.float64)
    batches = [rng.standard_normal((5, 2)) + i for i in range(4)]
    for x in batches:
        bn(Tensor(x))
    np.testing.assert_allclose(bn.running_mean, np.mean([x.mean(axis=0) for x in batches], 0))
    free = nn.BatchNorm1d(2, track_running_stats=False, affine=False, dtype=np.float64)
    assert list(free.state_dict()) == [] and list(free.parameters()) == []
    x = rng.standard_normal((5, 2))
    free.eval()  # no running statistics: eval mode still normalises with the batch's own
    np.testing.assert_allclose(free(Tensor(x)).data, batch_norm_reference(x, np.ones(2),
                                                                          np.zeros(2)))


def test_batch_norm_updates_stats_under_no_grad():
    bn = nn.BatchNorm1d(2)
    with no_grad():
        bn(Tensor(rng.standard_normal((4, 2)).astype(np.float32) + 5))
    assert np.all(bn.running_mean > 0.3)


def test_batch_norm_state_dict_has_buffers_and_round_trips():
    bn = nn.BatchNorm2d(3)
    assert list(bn.state_dict()) == ["weight", "bias", "running_mean", "running_var",
                                     "num_batches_tracked"]
    bn(Tensor(rng.standard_normal((2, 3, 2, 2)).astype(np.float32)))
    other = nn.BatchNorm2d(3)
    other.load_state_dict(bn.state_dict())
    np.testing.assert_array_equal(other.running_var, bn.running_var)
    assert other.num_batches_tracked == 1


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("layer, shape", [(nn.BatchNorm1d, (4, 3)), (nn.BatchNorm2d, (3, 2, 2, 2))])
def test_batch_norm_gradients(layer, shape, training):
    bn = layer(shape[1], dtype=np.float64)
    bn.weight.data[...] = rng.standard_normal(shape[1])
    bn.running_mean[...] = rng.standard_normal(shape[1])
    bn.running_var[...] = rng.random(shape[1]) + 0.5
    bn.train(training)
    layer_gradcheck(bn, rng.standard_normal(shape))


def test_batch_norm_matches_torch():
    torch = pytest.importorskip("torch")
    t = torch.nn.BatchNorm2d(3).double()
    bn = nn.BatchNorm2d(3, dtype=np.float64)
    for _ in range(3):
        x = rng.standard_normal((4, 3, 2, 2)) * 2 + 1
        np.testing.assert_allclose(bn(Tensor(x)).data, t(torch.tensor(x)).detach().numpy(),
                                   atol=1e-12)
    state = torch_state(t)
    for key, value in bn.state_dict().items():
        np.testing.assert_allclose(value, state[key], atol=1e-12)
    bn.eval()
    t.eval()
    np.testing.assert_allclose(bn(Tensor(x)).data, t(torch.tensor(x)).detach().numpy(),
                               atol=1e-12)


def test_batch_norm_bad_input_names_layer_and_shapes():
    with pytest.raises(ValueError, match=re.escape(
            "BatchNorm2d(3, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True): "
            "expected input of shape (N, 3, H, W), got shape (2, 4, 5, 5)")):
        nn.BatchNorm2d(3)(Tensor(np.zeros((2, 4, 5, 5), dtype=np.float32)))
    with pytest.raises(ValueError, match=re.escape("expected input of shape (N, 3) or (N, 3, L), "
                                                   "got shape (2, 3, 4, 4)")):
        nn.BatchNorm1d(3)(Tensor(np.zeros((2, 3, 4, 4), dtype=np.float32)))
    with pytest.raises(ValueError, match="expected more than 1 value per channel"):
        nn.BatchNorm1d(3)(Tensor(np.zeros((1, 3), dtype=np.float32)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_layer_norm_forward(dtype):
    ln = nn.LayerNorm((3, 4), dtype=dtype)
    ln.weight.data[...] = rng.standard_normal((3, 4))
    ln.bias.data[...] = rng.standard_normal((3, 4))
    x = rng.standard_normal((2, 3, 4)).astype(dtype)
    out = ln(Tensor(x))
    x64 = x.astype(np.float64)
    mean = x64.mean(axis=(1, 2), keepdims=True)
    std = np.sqrt(x64.var(axis=(1, 2), keepdims=True) + 1e-5)
    expected = (x64 - mean) / std * ln.weight.data + ln.bias.data
    assert out.dtype == dtype
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(out.data, expected, rtol=tol, atol=tol)


def test_layer_norm_gradients_and_options():
    ln = nn.LayerNorm(4, dtype=np.float64)
    ln.weight.data[...] = rng.standard_normal(4)
    layer_gradcheck(ln, rng.standard_normal((3, 4)))
    plain = nn.LayerNorm(4, elementwise_affine=False, dtype=np.float64)
    assert list(plain.parameters()) == []
    layer_gradcheck(plain, rng.standard_normal((2, 2, 4)))
    assert [n for n, _ in nn.LayerNorm(4, bias=False).named_parameters()] == ["weight"]
    assert repr(ln) == "LayerNorm((4,), eps=1e-05, elementwise_affine=True)"


def test_layer_norm_bad_input():
    with pytest.raises(ValueError, match=re.escape(
            "LayerNorm((3, 4), eps=1e-05, elementwise_affine=True): expected input of shape "
            "(..., 3, 4), got shape (2, 4, 3)")):
        nn.LayerNorm((3, 4))(Tensor(np.zeros((2, 4, 3), dtype=np.float32)))


@pytest.mark.parametrize("layer, shape", [(nn.BatchNorm1d, (0, 3)), (nn.BatchNorm1d, (2, 3, 0)),
                                          (nn.BatchNorm2d, (0, 3, 2, 2)),
                                          (nn.BatchNorm2d, (2, 3, 0, 4))])
def test_batch_norm_on_an_empty_batch_keeps_the_running_statistics(layer, shape):
    """As PyTorch: an empty output, the statistics untouched (not NaN), zero gradients."""
    bn = layer(3)
    bn.running_mean[...] = [1, 2, 3]
    bn.running_var[...] = [4, 5, 6]
    x = Tensor(np.zeros(shape, dtype=np.float32), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "mean of empty slice"
        out = bn(x)
        out.sum().backward()
    assert out.shape == shape
    np.testing.assert_array_equal(bn.running_mean, [1, 2, 3])
    np.testing.assert_array_equal(bn.running_var, [4, 5, 6])
    assert bn.num_batches_tracked == 1  # counted, as PyTorch counts it
    assert x.grad.shape == shape
    np.testing.assert_array_equal(bn.weight.grad, 0)
    np.testing.assert_array_equal(bn.bias.grad, 0)
    untracked = layer(3, track_running_stats=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert untracked(x).shape == shape
        assert bn.eval()(x).shape == shape


def test_batch_norm_on_an_empty_batch_matches_torch():
    torch = pytest.importorskip("torch")
    t = torch.nn.BatchNorm2d(3).double()
    bn = nn.BatchNorm2d(3, dtype=np.float64)
    x = rng.standard_normal((4, 3, 2, 2))
    bn(Tensor(x))
    t(torch.tensor(x))
    empty = np.zeros((0, 3, 2, 2))
    assert bn(Tensor(empty)).shape == tuple(t(torch.tensor(empty)).shape)
    state = torch_state(t)
    for key, value in bn.state_dict().items():
        np.testing.assert_allclose(value, state[key], atol=1e-12)
