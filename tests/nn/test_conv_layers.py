"""Conv1d, Conv2d, ConvTranspose2d and the pooling layers: forward against naive numpy or the
functional ops, gradients, errors, PyTorch in float64 when it is installed."""

import math
import re

import numpy as np
import pytest

import ops
from autograd import Tensor, nn
from tests.nn.common import layer_gradcheck

pytestmark = pytest.mark.skipif(
    not all(hasattr(ops, name) for name in ("conv2d", "max_pool2d", "avg_pool2d")),
    reason="ops.conv2d / max_pool2d / avg_pool2d not available yet",
)
rng = np.random.default_rng(0)


def conv_reference(x, w, b, stride, padding, dilation, groups):
    """Direct loops over output pixels, in float64."""
    n = x.shape[0]
    c_out, cg, kh, kw = w.shape
    x = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (padding[0],) * 2, (padding[1],) * 2))
    oh = (x.shape[2] - dilation[0] * (kh - 1) - 1) // stride[0] + 1
    ow = (x.shape[3] - dilation[1] * (kw - 1) - 1) // stride[1] + 1
    out = np.zeros((n, c_out, oh, ow))
    per_group = c_out // groups
    for o in range(c_out):
        g = o // per_group
        for i in range(oh):
            for j in range(ow):
                rows = i * stride[0] + dilation[0] * np.arange(kh)
                cols = j * stride[1] + dilation[1] * np.arange(kw)
                patch = x[:, g * cg:(g + 1) * cg][:, :, rows][:, :, :, cols]
                out[:, o, i, j] = (patch * w[o]).sum(axis=(1, 2, 3))
    return out if b is None else out + b[None, :, None, None]


def pool_reference(x, k, s, p, reduce):
    n, c = x.shape[:2]
    fill = -np.inf if reduce is np.max else 0.0
    x = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (p[0],) * 2, (p[1],) * 2),
               constant_values=fill)
    oh, ow = (x.shape[2] - k[0]) // s[0] + 1, (x.shape[3] - k[1]) // s[1] + 1
    out = np.zeros((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            window = x[:, :, i * s[0]:i * s[0] + k[0], j * s[1]:j * s[1] + k[1]]
            out[:, :, i, j] = reduce(window, axis=(2, 3))
    return out


CONV_CASES = [
    {"in_channels": 2, "out_channels": 3, "kernel_size": 3},
    {"in_channels": 4, "out_channels": 2, "kernel_size": (2, 3), "stride": (2, 1), "padding": 1},
    {"in_channels": 4, "out_channels": 6, "kernel_size": 2, "dilation": (1, 2), "groups": 2,
     "bias": False},
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kwargs", CONV_CASES)
def test_conv2d_forward(kwargs, dtype):
    conv = nn.Conv2d(**kwargs, dtype=dtype)
    x = rng.standard_normal((2, kwargs["in_channels"], 6, 5)).astype(dtype)
    out = conv(Tensor(x))
    assert out.dtype == dtype
    b = None if conv.bias is None else conv.bias.data
    expected = conv_reference(x, conv.weight.data, b, conv.stride, conv.padding, conv.dilation,
                              conv.groups)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(out.data, expected, rtol=tol, atol=tol)


@pytest.mark.parametrize("kwargs", CONV_CASES)
def test_conv2d_gradients(kwargs):
    conv = nn.Conv2d(**kwargs, dtype=np.float64)
    layer_gradcheck(conv, rng.standard_normal((2, kwargs["in_channels"], 5, 4)))


def test_conv2d_matches_torch():
    torch = pytest.importorskip("torch")
    from tests.nn.common import torch_state
    t = torch.nn.Conv2d(4, 6, (3, 2), stride=2, padding=(1, 0), groups=2).double()
    conv = nn.Conv2d(4, 6, (3, 2), stride=2, padding=(1, 0), groups=2, dtype=np.float64)
    conv.load_state_dict(torch_state(t))
    x = rng.standard_normal((2, 4, 7, 6))
    np.testing.assert_allclose(conv(Tensor(x)).data, t(torch.tensor(x)).detach().numpy(),
                               atol=1e-12)


def test_conv2d_init_shapes_and_repr():
    conv = nn.Conv2d(3, 8, 5, padding=2)
    assert conv.weight.shape == (8, 3, 5, 5) and conv.bias.shape == (8,)
    assert conv.weight.dtype == np.float32
    bound = 1 / math.sqrt(3 * 25)
    assert np.abs(conv.weight.data).max() <= bound and np.abs(conv.bias.data).max() <= bound
    assert repr(conv) == "Conv2d(3, 8, kernel_size=(5, 5), stride=(1, 1), padding=(2, 2))"
    assert repr(nn.Conv2d(4, 4, 1, groups=2, bias=False)) == (
        "Conv2d(4, 4, kernel_size=(1, 1), stride=(1, 1), groups=2, bias=False)")


def test_conv2d_bad_input_and_arguments():
    conv = nn.Conv2d(3, 8, 3)
    with pytest.raises(ValueError, match=re.escape("Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1)"
                                                   "): expected input of shape (N, 3, H, W), got "
                                                   "shape (2, 4, 8, 8)")):
        conv(Tensor(np.zeros((2, 4, 8, 8), dtype=np.float32)))
    with pytest.raises(ValueError, match=re.escape("got shape (3, 8, 8)")):
        conv(Tensor(np.zeros((3, 8, 8), dtype=np.float32)))
    with pytest.raises(ValueError, match="Conv2d: in_channels 3 and out_channels 8 must both be "
                                         "divisible by groups 2"):
        nn.Conv2d(3, 8, 3, groups=2)
    with pytest.raises(ValueError, match="Conv2d: kernel_size must be an int or a pair"):
        nn.Conv2d(3, 8, (3, 3, 3))


@pytest.mark.parametrize("args, kwargs, error, message", [
    # a kernel of 0 once raised ZeroDivisionError from the initialisation
    ((3, 4, 0), {}, ValueError, "Conv2d: kernel_size must be >= 1, got 0"),
    ((3, 4, (3, 0)), {}, ValueError, r"Conv2d: kernel_size must be >= 1, got \(3, 0\)"),
    # negative sizes once gave numpy's "negative dimensions are not allowed"
    ((-3, 4, 3), {}, ValueError, "Conv2d: in_channels must be >= 0, got -3"),
    ((3, -4, 3), {}, ValueError, "Conv2d: out_channels must be >= 0, got -4"),
    ((3, 4, -1), {}, ValueError, "Conv2d: kernel_size must be >= 1, got -1"),
    # these were accepted and failed only at the first forward
    ((3, 4, 3), {"stride": 0}, ValueError, "Conv2d: stride must be >= 1, got 0"),
    ((3, 4, 3), {"padding": -1}, ValueError, "Conv2d: padding must be >= 0, got -1"),
    ((3, 4, 3), {"dilation": 0}, ValueError, "Conv2d: dilation must be >= 1, got 0"),
    ((3, 4, 3), {"groups": 0}, ValueError, "Conv2d: groups must be >= 1, got 0"),
    ((3.0, 4, 3), {}, TypeError, "Conv2d: in_channels must be an int, got 3.0"),
    ((3, 4, 2.5), {}, TypeError, "Conv2d: kernel_size must be an int or a pair of ints, got 2.5"),
])
def test_conv2d_bad_sizes_name_the_layer_and_argument(args, kwargs, error, message):
    with pytest.raises(error, match=message):
        nn.Conv2d(*args, **kwargs)


def test_conv2d_without_channels_builds_and_runs():
    # as in PyTorch; the initialisation has nothing to draw
    conv = nn.Conv2d(0, 4, 3, dtype=np.float64)
    assert conv.weight.shape == (4, 0, 3, 3)
    np.testing.assert_array_equal(conv.bias.data, np.zeros(4))
    out = conv(Tensor(np.zeros((2, 0, 5, 5))))
    assert out.shape == (2, 4, 3, 3)
    assert nn.Conv2d(3, 0, 3)(Tensor(np.zeros((2, 3, 5, 5), np.float32))).shape == (2, 0, 3, 3)


POOL_CASES = [{"kernel_size": 2}, {"kernel_size": 3, "stride": 1, "padding": 1},
              {"kernel_size": (2, 3), "stride": (1, 2)}]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kwargs", POOL_CASES)
@pytest.mark.parametrize("layer, reduce", [(nn.MaxPool2d, np.max), (nn.AvgPool2d, np.mean)])
def test_pool_forward(layer, reduce, kwargs, dtype):
    pool = layer(**kwargs)
    x = rng.standard_normal((2, 3, 6, 7)).astype(dtype)
    out = pool(Tensor(x))
    assert out.dtype == dtype
    expected = pool_reference(x, pool.kernel_size, pool.stride, pool.padding, reduce)
    np.testing.assert_allclose(out.data, expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("kwargs", POOL_CASES)
@pytest.mark.parametrize("layer", [nn.MaxPool2d, nn.AvgPool2d])
def test_pool_gradients(layer, kwargs):
    x = rng.permutation(2 * 2 * 5 * 6).reshape(2, 2, 5, 6) / 10.0  # distinct: no max ties
    layer_gradcheck(layer(**kwargs), x)


def test_pool_repr_and_bad_input():
    pool = nn.MaxPool2d(2)
    assert repr(pool) == "MaxPool2d(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0))"
    with pytest.raises(ValueError, match=re.escape("MaxPool2d(kernel_size=(2, 2), stride=(2, 2), "
                                                   "padding=(0, 0)): expected input of shape "
                                                   "(N, C, H, W), got shape (4, 4)")):
        pool(Tensor(np.zeros((4, 4))))
    with pytest.raises(ValueError, match=re.escape("AvgPool2d(kernel_size=(3, 3)")):
        nn.AvgPool2d(3)(Tensor(np.zeros((1, 1, 4))))


@pytest.mark.parametrize("layer", [nn.MaxPool2d, nn.AvgPool2d])
def test_pool_bad_sizes_name_the_layer_and_argument(layer):
    name = layer.__name__
    # 2.5 once raised "'float' object is not iterable"; 0 and -1 built a layer that failed
    # at its first forward
    with pytest.raises(TypeError, match=f"{name}: kernel_size must be an int or a pair of "
                                        "ints, got 2.5"):
        layer(2.5)
    with pytest.raises(ValueError, match=f"{name}: kernel_size must be >= 1, got 0"):
        layer(0)
    with pytest.raises(ValueError, match=f"{name}: stride must be >= 1, got -1"):
        layer(2, stride=-1)
    with pytest.raises(ValueError, match=f"{name}: padding must be >= 0, got -1"):
        layer(2, padding=-1)


# --- Conv1d, padding='same', ConvTranspose2d, AdaptiveAvgPool2d ------------------------------
@pytest.mark.parametrize("kwargs", [
    {"in_channels": 2, "out_channels": 3, "kernel_size": 3},
    {"in_channels": 4, "out_channels": 6, "kernel_size": 2, "stride": 2, "padding": 1,
     "dilation": 2, "groups": 2},
    {"in_channels": 2, "out_channels": 4, "kernel_size": 4, "padding": "same", "bias": False},
])
def test_conv1d_matches_the_functional_op(kwargs):
    conv = nn.Conv1d(**kwargs, dtype=np.float64)
    assert conv.weight.shape == (kwargs["out_channels"], kwargs["in_channels"]
                                 // kwargs.get("groups", 1), kwargs["kernel_size"])
    x = rng.standard_normal((2, kwargs["in_channels"], 9))
    expected = ops.conv1d(x, conv.weight.data, None if conv.bias is None else conv.bias.data,
                          stride=kwargs.get("stride", 1), padding=kwargs.get("padding", 0),
                          dilation=kwargs.get("dilation", 1), groups=kwargs.get("groups", 1))
    np.testing.assert_array_equal(conv(Tensor(x)).data, expected.data)
    layer_gradcheck(conv, x)


@pytest.mark.parametrize("kernel_size, dilation", [(3, 1), (4, 1), ((2, 5), (2, 1))])
def test_conv2d_same_padding(kernel_size, dilation):
    conv = nn.Conv2d(3, 4, kernel_size, padding="same", dilation=dilation, dtype=np.float64)
    x = rng.standard_normal((2, 3, 6, 5))
    out = conv(Tensor(x))
    assert out.shape == (2, 4, 6, 5)
    np.testing.assert_array_equal(out.data, ops.conv2d(x, conv.weight.data, conv.bias.data,
                                                       padding="same", dilation=dilation).data)
    layer_gradcheck(conv, x)
    assert "padding='same'" in repr(conv)


def test_conv_padding_strings_are_checked():
    with pytest.raises(ValueError, match=r"Conv2d: padding='same' needs stride 1"):
        nn.Conv2d(3, 4, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match=r"Conv1d: padding must be .* got 'full'"):
        nn.Conv1d(3, 4, 3, padding="full")
    with pytest.raises(TypeError, match=r"ConvTranspose2d: padding must be an int or a pair"):
        nn.ConvTranspose2d(3, 4, 3, padding="same")
    assert nn.Conv2d(3, 4, 3, padding="valid")(Tensor(np.zeros((1, 3, 5, 5),
                                                               np.float32))).shape == (1, 4, 3, 3)


TRANSPOSE_CASES = [
    {"in_channels": 2, "out_channels": 3, "kernel_size": 3},
    {"in_channels": 4, "out_channels": 6, "kernel_size": (2, 3), "stride": (2, 1),
     "padding": (1, 0), "output_padding": (1, 0), "groups": 2},
    {"in_channels": 2, "out_channels": 2, "kernel_size": 2, "stride": 1, "dilation": 3,
     "output_padding": 2, "bias": False},
]


@pytest.mark.parametrize("kwargs", TRANSPOSE_CASES)
def test_conv_transpose2d_matches_the_functional_op(kwargs):
    layer = nn.ConvTranspose2d(**kwargs, dtype=np.float64)
    groups = kwargs.get("groups", 1)
    assert layer.weight.shape == ((kwargs["in_channels"], kwargs["out_channels"] // groups)
                                  + layer.kernel_size)
    x = rng.standard_normal((2, kwargs["in_channels"], 4, 3))
    b = None if layer.bias is None else layer.bias.data
    expected = ops.conv_transpose2d(x, layer.weight.data, b, layer.stride, layer.padding,
                                    layer.output_padding, layer.dilation, groups)
    np.testing.assert_array_equal(layer(Tensor(x)).data, expected.data)
    layer_gradcheck(layer, x)


def test_conv_transpose2d_output_size_and_init():
    layer = nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1, dtype=np.float64)
    x = Tensor(rng.standard_normal((1, 4, 5, 5)))
    assert layer(x).shape == (1, 2, 9, 9)
    assert layer(x, output_size=(10, 9)).shape == (1, 2, 10, 9)
    assert layer(x, output_size=(1, 2, 10, 10)).shape == (1, 2, 10, 10)  # N, C ignored
    with pytest.raises(ValueError, match=r"output_size \(11, 9\) is not reachable .* between "
                                         r"\(9, 9\) and \(10, 10\)"):
        layer(x, output_size=(11, 9))
    with pytest.raises(ValueError, match=r"ConvTranspose2d: output_padding \(2, 2\) must be "
                                         r"smaller than stride \(2, 2\)"):
        nn.ConvTranspose2d(4, 2, 3, stride=2, output_padding=2)
    # PyTorch's fan_in for a transposed weight (in, out // groups, kh, kw): out/groups*kh*kw
    bound = 1 / math.sqrt(2 * 9)
    assert np.abs(layer.weight.data).max() <= bound and np.abs(layer.bias.data).max() <= bound
    assert repr(layer) == ("ConvTranspose2d(4, 2, kernel_size=(3, 3), stride=(2, 2), "
                           "padding=(1, 1))")


@pytest.mark.parametrize("size", [1, (3, 2), (None, 4), (7, 5)])
def test_adaptive_avg_pool2d_layer(size):
    pool = nn.AdaptiveAvgPool2d(size)
    x = rng.standard_normal((2, 3, 6, 5))
    np.testing.assert_array_equal(pool(Tensor(x)).data, ops.adaptive_avg_pool2d(x, size).data)
    layer_gradcheck(pool, x)


def test_adaptive_avg_pool2d_layer_errors_and_repr():
    assert repr(nn.AdaptiveAvgPool2d((3, None))) == "AdaptiveAvgPool2d(output_size=(3, None))"
    with pytest.raises(ValueError, match="AdaptiveAvgPool2d: output_size must be >= 1, got 0"):
        nn.AdaptiveAvgPool2d(0)
    with pytest.raises(ValueError, match=re.escape("AdaptiveAvgPool2d(output_size=(2, 2)): "
                                                   "expected input of shape (N, C, H, W)")):
        nn.AdaptiveAvgPool2d(2)(Tensor(np.zeros((3, 4, 4))))


def test_avg_pool2d_count_include_pad():
    pool = nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
    out = pool(Tensor(np.ones((1, 1, 3, 3))))
    np.testing.assert_allclose(out.data, np.ones((1, 1, 3, 3)))
    assert repr(pool).endswith("count_include_pad=False)")


@pytest.mark.filterwarnings("ignore:Using padding='same'")
def test_new_layers_match_torch():
    torch = pytest.importorskip("torch")
    from tests.nn.common import torch_state
    x2, x1 = rng.standard_normal((2, 4, 7, 6)), rng.standard_normal((2, 4, 9))
    pairs = [
        (torch.nn.Conv1d(4, 6, 4, padding="same", dilation=2, groups=2),
         nn.Conv1d(4, 6, 4, padding="same", dilation=2, groups=2, dtype=np.float64), x1, {}),
        (torch.nn.Conv2d(4, 2, (2, 3), padding="same"),
         nn.Conv2d(4, 2, (2, 3), padding="same", dtype=np.float64), x2, {}),
        (torch.nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2),
         nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2,
                            dtype=np.float64), x2, {}),
        (torch.nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1),
         nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1, dtype=np.float64), x2,
         {"output_size": (14, 12)}),
        (torch.nn.AdaptiveAvgPool2d((3, 4)), nn.AdaptiveAvgPool2d((3, 4)), x2, {}),
    ]
    for theirs, ours, x, kwargs in pairs:
        theirs = theirs.double()
        ours.load_state_dict(torch_state(theirs))
        tx = torch.tensor(x, requires_grad=True)
        t = Tensor(x, requires_grad=True)
        expected, out = theirs(tx, **kwargs), ours(t, **kwargs)
        np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-10, atol=1e-12)
        g = rng.standard_normal(out.shape)
        expected.backward(torch.tensor(g))
        out.backward(g)
        np.testing.assert_allclose(t.grad, tx.grad.numpy(), rtol=1e-10, atol=1e-12)
        for (name, p), (_, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
            np.testing.assert_allclose(p.grad, tp.grad.numpy(), rtol=1e-10, atol=1e-12,
                                       err_msg=name)
