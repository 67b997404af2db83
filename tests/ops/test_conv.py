"""Convolutions: gradients over drawn geometry (float64, hypothesis), second order, forward
against the direct loops in tests/naive.py, float32 against float64, bad geometry."""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import autograd as ag
import ops
import ops.conv
from autograd import Tensor
from autograd.testing import gradcheck, gradgradcheck
from ops.kernels import policy
from ops.kernels.im2col import conv_out_size
from tests import naive
from tests.helpers import check_forward, gradchecks


def _channels(draw, max_channels):
    """(C_in, C_out, groups), depthwise included."""
    if draw(st.booleans()):  # depthwise
        c = draw(st.integers(1, max_channels))
        return c, c, c
    groups = draw(st.integers(1, 2))
    c = groups * draw(st.integers(1, max_channels // groups))
    return c, groups * draw(st.integers(1, max_channels // groups)), groups


@st.composite
def conv_cases(draw, max_side=6, max_channels=4):
    """Geometry of conv2d(x, w): x (N, C, H, W), w (O, C/G, kh, kw), stride, padding,
    dilation, groups, with at least one output position (built so, not filtered)."""
    c, o, groups = _channels(draw, max_channels)
    k = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    least = [max(1, dilation[i] * (k[i] - 1) + 1 - 2 * padding[i]) for i in range(2)]
    h, w = (draw(st.integers(least[i], max(least[i], max_side))) for i in range(2))
    return {
        "x": (draw(st.integers(1, 2)), c, h, w),
        "w": (o, c // groups) + k,
        "b": (o,),
        "params": {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups},
    }


@st.composite
def transpose_cases(draw, max_side=4, max_channels=4):
    """Geometry of conv_transpose2d(x, w): x (N, C_in, H, W), w (C_in, C_out/G, kh, kw),
    with a non-empty output (padding drawn below the bound that would empty it)."""
    c, o, groups = _channels(draw, max_channels)
    size = (draw(st.integers(1, max_side)), draw(st.integers(1, max_side)))
    k = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    extra = tuple(draw(st.integers(0, max(stride[i], dilation[i]) - 1)) for i in range(2))
    room = [(size[i] - 1) * stride[i] + dilation[i] * (k[i] - 1) + extra[i] for i in range(2)]
    padding = tuple(draw(st.integers(0, min(2, room[i] // 2))) for i in range(2))
    return {
        "x": (draw(st.integers(1, 2)), c) + size,
        "w": (c, o // groups) + k,
        "b": (o,),
        "params": {
            "stride": stride,
            "padding": padding,
            "output_padding": extra,
            "dilation": dilation,
            "groups": groups,
        },
    }


def _arrays(case, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(case[k]).astype(dtype) for k in ("x", "w", "b")]


# --- gradients ----------------------------------------------------------------------------
@gradchecks("conv2d", "conv_transpose2d", "conv2d_weight_grad")
@given(conv_cases(), st.booleans())
def test_conv2d_gradients(case, with_bias):
    x, w, b = _arrays(case)
    params = case["params"]
    # conv2d's VJP runs conv_transpose2d (gx) and conv2d_weight_grad (gw)
    if with_bias:
        assert gradcheck(lambda x, w, b: ops.conv2d(x, w, b, **params), [x, w, b])
    else:
        assert gradcheck(lambda x, w: ops.conv2d(x, w, **params), [x, w])


@gradchecks("conv_transpose2d", "conv2d", "conv2d_weight_grad")
@given(transpose_cases(), st.booleans())
def test_conv_transpose2d_gradients(case, with_bias):
    x, w, b = _arrays(case)
    params = case["params"]
    if with_bias:
        assert gradcheck(lambda x, w, b: ops.conv_transpose2d(x, w, b, **params), [x, w, b])
    else:
        assert gradcheck(lambda x, w: ops.conv_transpose2d(x, w, **params), [x, w])


@gradchecks("conv2d_weight_grad")
@given(conv_cases())
def test_conv2d_weight_grad_gradients(case):
    x, w, _ = _arrays(case)
    params = case["params"]
    y = ops.conv2d(x, w, **params).data
    g = np.random.default_rng(3).standard_normal(y.shape)
    kernel = case["w"][2:]
    assert gradcheck(
        lambda x, g: ops.conv.conv2d_weight_grad(x, g, kernel_size=kernel, **params), [x, g]
    )


@st.composite
def conv1d_cases(draw):
    """x (N, C, L), w (O, C/G, k), b (O,) and stride, padding, dilation, groups."""
    groups = draw(st.integers(1, 2))
    c, o = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    n, length, k = draw(st.integers(1, 2)), draw(st.integers(1, 6)), draw(st.integers(1, 3))
    stride, padding, dilation = (
        draw(st.integers(1, 3)),
        draw(st.integers(0, 2)),
        draw(st.integers(1, 2)),
    )
    assume(conv_out_size(length, k, stride, padding, dilation) >= 1)
    rng = np.random.default_rng(draw(st.integers(0, 9)))
    arrays = [rng.standard_normal(s) for s in ((n, c, length), (o, c // groups, k), (o,))]
    return arrays, (stride, padding, dilation, groups)


@gradchecks("conv1d")
@given(conv1d_cases())
def test_conv1d_gradients(case):
    (x, w, b), geometry = case
    assert gradcheck(lambda x, w, b: ops.conv1d(x, w, b, *geometry), [x, w, b])


@settings(max_examples=8)
@given(conv1d_cases())
def test_conv1d_second_order(case):
    (x, w, b), geometry = case
    assert gradgradcheck(lambda x, w, b: ops.conv1d(x, w, b, *geometry), [x, w, b])


@settings(max_examples=8)
@given(conv_cases(max_side=4, max_channels=2))
def test_conv2d_second_order(case):
    x, w, b = _arrays(case)
    params = case["params"]
    assert gradgradcheck(lambda x, w, b: ops.conv2d(x, w, b, **params), [x, w, b])


@settings(max_examples=8)
@given(transpose_cases(max_side=3, max_channels=2))
def test_conv_transpose2d_second_order(case):
    x, w, b = _arrays(case)
    params = case["params"]
    assert gradgradcheck(lambda x, w, b: ops.conv_transpose2d(x, w, b, **params), [x, w, b])


@pytest.mark.parametrize("parallel", [False, True])
@pytest.mark.parametrize("chunk_bytes", [1, 700])
def test_batch_chunks_match_one_chunk(monkeypatch, chunk_bytes, parallel):
    # big inputs are unfolded a few samples at a time, and conv2d then saves no columns;
    # 1 byte -> one sample per chunk, 700 -> uneven chunks
    case = {
        "x": (5, 4, 6, 5),
        "w": (6, 2, 3, 2),
        "b": (6,),
        "params": {"stride": (2, 1), "padding": (1, 0), "dilation": (1, 2), "groups": 2},
    }
    arrays = _arrays(case)

    def outputs():
        x, w, b = (Tensor(a, requires_grad=True) for a in arrays)
        y = ops.conv2d(x, w, b, **case["params"])
        z = ops.conv_transpose2d(
            y, w, stride=(2, 1), padding=(1, 0), output_padding=(1, 0), dilation=(1, 2), groups=2
        )
        return [y.data, z.data] + list(ag.grad((z * z).sum(), [x, w, b]))

    whole = outputs()
    monkeypatch.setattr(policy, "CHUNK_BYTES", chunk_bytes)
    monkeypatch.setattr(policy, "PARALLEL", parallel)
    for a, r in zip(whole, outputs()):
        np.testing.assert_allclose(a, r, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("groups", [1, 2])
@pytest.mark.parametrize("chunk_bytes", [None, 1])
@pytest.mark.parametrize("largest", [0, float("inf")])
def test_per_sample_and_one_gemm_agree(monkeypatch, largest, chunk_bytes, groups):
    # the GEMMs of conv2d, of its input gradient and of its weight gradient run one per
    # sample (largest inf; with one group the bias rides in the GEMM on a row of ones) or
    # one over the batch with channel-first copies (largest 0); both against the direct
    # loops, strided, with the forward's columns reused (one chunk) and unfolded again (a
    # sample a chunk)
    monkeypatch.setattr(policy, "PER_SAMPLE_GEMM_MAX_MNK", largest)
    if chunk_bytes is not None:
        monkeypatch.setattr(policy, "CHUNK_BYTES", chunk_bytes)
    rng = np.random.default_rng(13)
    x, w, b = (rng.standard_normal(s) for s in ((3, 4, 7, 6), (6, 4 // groups, 3, 2), (6,)))
    params = {"stride": (2, 1), "padding": (1, 0), "dilation": (1, 2), "groups": groups}
    xt, wt, bt = (Tensor(a, requires_grad=True) for a in (x, w, b))
    out = ops.conv2d(xt, wt, bt, **params)
    np.testing.assert_allclose(out.data, naive.conv2d(x, w, b, **params), rtol=1e-10,
                               atol=1e-12)
    g = rng.standard_normal(out.shape)
    out.backward(g)
    # <g, conv(x, w)> is linear in w: its gradient in w[i] is <g, conv(x, e_i)>
    expected = np.zeros(w.size)
    for i in range(w.size):
        e = np.zeros(w.size)
        e[i] = 1.0
        expected[i] = np.sum(g * naive.conv2d(x, e.reshape(w.shape), **params))
    np.testing.assert_allclose(wt.grad, expected.reshape(w.shape), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(xt.grad, naive.conv_transpose2d(
        g, w, stride=(2, 1), padding=(1, 0), dilation=(1, 2), groups=groups),
        rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(bt.grad, g.sum(axis=(0, 2, 3)), rtol=1e-12)


@pytest.mark.parametrize("largest", [0, float("inf")])
def test_second_order_per_sample_and_one_gemm(monkeypatch, largest):
    # under create_graph the VJP runs on Tensors: both GEMM layouts, and the shared copy
    monkeypatch.setattr(policy, "PER_SAMPLE_GEMM_MAX_MNK", largest)
    rng = np.random.default_rng(15)
    x, w, b = rng.standard_normal((2, 2, 5, 4)), rng.standard_normal((3, 2, 3, 2)), np.ones(3)
    assert gradgradcheck(lambda x, w, b: ops.conv2d(x, w, b, padding=1, stride=(1, 2)),
                         [x, w, b])


def test_backward_copies_g_channel_first_once(monkeypatch):
    # with one GEMM over the batch, the input and the weight gradient both need g
    # channel-first: conv2d's VJP makes that copy once, and shares it
    monkeypatch.setattr(policy, "PER_SAMPLE_GEMM_MAX_MNK", 0)
    copies = []
    channels_first = ops.conv._channels_first

    def counting(y, groups):
        out = channels_first(y, groups)
        copies.append(out.__array_interface__["data"][0])
        return out
    monkeypatch.setattr(ops.conv, "_channels_first", counting)
    rng = np.random.default_rng(14)
    x = Tensor(rng.standard_normal((2, 3, 6, 6)), requires_grad=True)
    w = Tensor(rng.standard_normal((4, 3, 3, 3)), requires_grad=True)
    out = ops.conv2d(x, w, padding=1)
    out.backward(rng.standard_normal(out.shape))
    assert len(copies) == 2 and copies[0] == copies[1]  # asked twice, copied once
    assert ops.conv._shared.memo is None  # nothing kept after the VJP


def test_second_order_in_chunks(monkeypatch):
    monkeypatch.setattr(policy, "CHUNK_BYTES", 1)
    rng = np.random.default_rng(6)
    x, w, b = rng.standard_normal((3, 2, 4, 3)), rng.standard_normal((2, 1, 2, 2)), np.ones(2)
    params = {"stride": (1, 2), "padding": 1, "groups": 2}
    assert gradgradcheck(lambda x, w, b: ops.conv2d(x, w, b, **params), [x, w, b])


# --- padding='same' -------------------------------------------------------------------------
def _same_reference(x, w, b=None, dilation=(1, 1), groups=1):
    """PyTorch's 'same': d (k - 1) zeros in all per dim, the odd one at the end, then an
    unpadded convolution."""
    widths = [(0, 0), (0, 0)]
    for k, d in zip(w.shape[2:], dilation):
        total = d * (k - 1)
        widths.append((total // 2, total - total // 2))
    return naive.conv2d(np.pad(x, widths), w, b, dilation=dilation, groups=groups)


@st.composite
def same_cases(draw):
    """conv2d geometry for padding='same': odd and even kernels, dilation 1-2, any size
    the dilated kernel fits in once padded."""
    c, o, groups = _channels(draw, 3)
    k = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    size = (draw(st.integers(1, 5)), draw(st.integers(1, 5)))
    return {"x": (draw(st.integers(1, 2)), c) + size, "w": (o, c // groups) + k, "b": (o,),
            "params": {"padding": "same", "dilation": dilation, "groups": groups}}


@given(same_cases(), st.booleans())
def test_same_padding_matches_asymmetric_reference(case, with_bias):
    x, w, b = _arrays(case, seed=4)
    b = b if with_bias else None
    p = case["params"]
    out = ops.conv2d(x, w, b, **p)
    assert out.shape == x.shape[:1] + w.shape[:1] + x.shape[2:]

    def reference(x, w, b=None, padding=None, dilation=(1, 1), groups=1):
        return _same_reference(x, w, b, dilation, groups)

    arrays = (x, w) if b is None else (x, w, b)
    check_forward(ops.conv2d, reference, *arrays, **p, rtol=1e-5, atol=1e-5)


@given(same_cases())
def test_same_padding_gradients(case):
    x, w, b = _arrays(case)
    p = case["params"]
    assert gradcheck(lambda x, w, b: ops.conv2d(x, w, b, **p), [x, w, b])


@settings(max_examples=8)
@given(same_cases())
def test_same_padding_second_order(case):
    x, w, b = _arrays(case)
    p = case["params"]
    assert gradgradcheck(lambda x, w, b: ops.conv2d(x, w, b, **p), [x, w, b])


def test_same_padding_in_one_dimension():
    rng = np.random.default_rng(7)
    x, w, b = rng.standard_normal((2, 4, 7)), rng.standard_normal((6, 2, 4)), np.ones(6)
    out = ops.conv1d(x, w, b, padding="same", dilation=2, groups=2)
    expected = _same_reference(x[:, :, None], w[:, :, None], b, (1, 2), 2)[:, :, 0]
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-12)
    assert gradgradcheck(lambda x, w: ops.conv1d(x, w, None, 1, "same", 2, 2), [x, w])
    # 'valid' is no padding, as in PyTorch
    np.testing.assert_array_equal(ops.conv1d(x, w, padding="valid", groups=2).data,
                                  ops.conv1d(x, w, groups=2).data)


# --- forward --------------------------------------------------------------------------------
@given(conv_cases(), st.booleans())
def test_conv2d_matches_naive(case, with_bias):
    x, w, b = _arrays(case, seed=1)
    b = b if with_bias else None
    out = ops.conv2d(x, w, b, **case["params"])
    np.testing.assert_allclose(
        out.data, naive.conv2d(x, w, b, **case["params"]), rtol=1e-12, atol=1e-12
    )


@given(transpose_cases(), st.booleans())
def test_conv_transpose2d_matches_naive(case, with_bias):
    x, w, b = _arrays(case, seed=1)
    b = b if with_bias else None
    out = ops.conv_transpose2d(x, w, b, **case["params"])
    np.testing.assert_allclose(
        out.data, naive.conv_transpose2d(x, w, b, **case["params"]), rtol=1e-12, atol=1e-12
    )


@given(conv1d_cases())
def test_conv1d_matches_naive(case):
    (x, w, b), (stride, padding, dilation, groups) = case
    # float32 and float64, each keeping its dtype
    check_forward(ops.conv1d, naive.conv1d, x, w, b, stride=stride, padding=padding,
                  dilation=dilation, groups=groups, rtol=1e-5, atol=1e-5)


@given(conv_cases())
def test_float32_matches_float64(case):
    x, w, b = _arrays(case, seed=2)
    params = case["params"]
    tensors = [Tensor(a.astype(np.float32), requires_grad=True) for a in (x, w, b)]
    out32 = ops.conv2d(*tensors, **params)
    out64 = ops.conv2d(x, w, b, **params)
    assert out32.dtype == np.float32
    np.testing.assert_allclose(out32.data, out64.data, rtol=1e-4, atol=1e-5)
    g = np.random.default_rng(3).standard_normal(out64.shape)
    grads32 = ag.grad(out32, tensors, g.astype(np.float32))
    inputs64 = [Tensor(a, requires_grad=True) for a in (x, w, b)]
    grads64 = ag.grad(ops.conv2d(*inputs64, **params), inputs64, g)
    for g32, g64 in zip(grads32, grads64):
        assert g32.dtype == np.float32
        np.testing.assert_allclose(g32, g64, rtol=1e-4, atol=1e-4)


def test_float32_transpose_matches_float64():
    rng = np.random.default_rng(4)
    x, w, b = (
        rng.standard_normal((2, 4, 5, 6)),
        rng.standard_normal((4, 3, 3, 2)),
        rng.standard_normal(6),
    )
    params = {"stride": 2, "padding": 1, "output_padding": 1, "dilation": 1, "groups": 2}
    out32 = ops.conv_transpose2d(*(a.astype(np.float32) for a in (x, w, b)), **params)
    assert out32.dtype == np.float32
    np.testing.assert_allclose(
        out32.data, ops.conv_transpose2d(x, w, b, **params).data, rtol=1e-4, atol=1e-5
    )


def test_the_first_layer_shape():
    # a 1-channel image through a 5x5 kernel, as in LeNet
    x, w = np.random.default_rng(5).standard_normal((2, 1, 12, 12)), np.ones((3, 1, 5, 5))
    np.testing.assert_allclose(
        ops.conv2d(x, w, padding=2).data, naive.conv2d(x, w, padding=2), rtol=1e-12, atol=1e-12
    )


def test_params_by_position_and_inputs_by_keyword():
    rng = np.random.default_rng(9)
    x, w, b = rng.standard_normal((1, 2, 5, 5)), rng.standard_normal((4, 1, 3, 3)), np.ones(4)
    expected = naive.conv2d(x, w, b, 2, 1, 1, 2)
    for out in (ops.conv2d(x, w, b, 2, 1, 1, 2), ops.conv2d(x, w, b=b, stride=2, padding=1,
                                                            groups=2)):
        np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-12)
    # nested lists are arrays too
    np.testing.assert_allclose(ops.conv2d(x.tolist(), w.tolist(), b.tolist(), 2, 1, 1, 2).data,
                               expected, rtol=1e-12, atol=1e-12)


def test_weight_gradient_reuses_the_forward_columns(monkeypatch):
    # conv2d saves x's columns and hands them to conv2d_weight_grad: one unfolding in all
    calls = []
    unfold = ops.conv._unfold
    monkeypatch.setattr(ops.conv, "_unfold", lambda *a: calls.append(a) or unfold(*a))
    rng = np.random.default_rng(10)
    x = Tensor(rng.standard_normal((2, 3, 6, 6)), requires_grad=True)
    w = Tensor(rng.standard_normal((4, 3, 3, 3)), requires_grad=True)
    out = ops.conv2d(x, w, padding=1)
    out.backward(np.ones(out.shape))
    assert len(calls) == 1
    np.testing.assert_allclose(w.grad, ops.conv.conv2d_weight_grad(
        x.data, np.ones(out.shape), (3, 3), padding=1).data, rtol=1e-12)


def test_weight_grad_ignores_an_unfolding_that_does_not_fit():
    rng = np.random.default_rng(11)
    x, y = rng.standard_normal((2, 3, 5, 5)), rng.standard_normal((2, 4, 3, 3))
    expected = ops.conv.conv2d_weight_grad(x, y, (3, 3)).data
    for wrong in (np.zeros((1, 27, 18), np.float32), np.zeros((1, 27, 17)), np.zeros(3)):
        np.testing.assert_allclose(ops.conv.conv2d_weight_grad(x, y, 3, unfolded=wrong).data,
                                   expected, rtol=1e-12)
    with pytest.raises(ValueError, match=r"conv2d_weight_grad: y \(2, 4, 3, 2\) is not the "
                                         r"output shape \(2, 4, 3, 3\)"):
        ops.conv.conv2d_weight_grad(x, y[..., :2], (3, 3))


@pytest.mark.parametrize("x_shape, w_shape", [((2, 3, 5, 5), (0, 3, 3, 3)),
                                              ((2, 0, 5, 5), (4, 0, 3, 3)),
                                              ((0, 3, 5, 5), (4, 3, 3, 3))])
def test_empty_channels_and_batches(x_shape, w_shape):
    x, w = Tensor(np.ones(x_shape), requires_grad=True), Tensor(np.ones(w_shape),
                                                               requires_grad=True)
    b = Tensor(np.ones(w_shape[0]), requires_grad=True)
    out = ops.conv2d(x, w, b)
    assert out.shape == (x_shape[0], w_shape[0], 3, 3)
    np.testing.assert_array_equal(out.data, np.full(out.shape, 1.0 + 9 * x_shape[1]))
    out.sum().backward()
    assert x.grad.shape == x_shape and w.grad.shape == w_shape
    np.testing.assert_array_equal(b.grad, np.full(w_shape[0], 9.0 * x_shape[0]))


@pytest.mark.filterwarnings("ignore:Using padding='same'")
def test_gradients_match_torch():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    rng = np.random.default_rng(12)
    cases = [
        ("conv2d", (2, 4, 7, 6), (6, 2, 3, 2),
         {"stride": (2, 1), "padding": (1, 0), "dilation": (1, 2), "groups": 2}),
        ("conv2d", (2, 3, 5, 6), (4, 3, 2, 4), {"padding": "same", "dilation": (2, 1)}),
        ("conv1d", (2, 4, 9), (6, 2, 4), {"padding": "same", "dilation": 2, "groups": 2}),
        ("conv_transpose2d", (2, 4, 3, 4), (4, 3, 2, 3),
         {"stride": (2, 1), "padding": (1, 0), "output_padding": (1, 2), "dilation": (1, 3),
          "groups": 2}),
    ]
    for name, x_shape, w_shape, kwargs in cases:
        b_size = w_shape[1] * kwargs.get("groups", 1) if name == "conv_transpose2d" else w_shape[0]
        arrays = [rng.standard_normal(s) for s in (x_shape, w_shape, (b_size,))]
        ours = [Tensor(a, requires_grad=True) for a in arrays]
        theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
        out, expected = getattr(ops, name)(*ours, **kwargs), getattr(F, name)(*theirs, **kwargs)
        np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-10, atol=1e-12)
        g = rng.standard_normal(out.shape)
        out.backward(g)
        expected.backward(torch.tensor(g))
        for a, t in zip(ours, theirs):
            np.testing.assert_allclose(a.grad, t.grad.numpy(), rtol=1e-10, atol=1e-12,
                                       err_msg=name)
