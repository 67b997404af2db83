"""Normalisation ops: ``batch_norm`` and ``layer_norm``, each one fused op with a closed-form VJP.

Each VJP reuses the forward's saved ``xhat`` and ``inv_std``; its ``graph_vjp``, run under
``create_graph=True``, recomputes them from the input Tensor so that the gradient stays
differentiable in ``x`` (second derivatives are exact). Both share one gradient formula.
"""

import numpy as np

from autograd.core.registry import defop
from autograd.core.tensor import unwrap

__all__ = ["batch_norm", "layer_norm"]


# --- batch_norm -----------------------------------------------------------------------
def _bn_axes(ndim):
    return (0,) + tuple(range(2, ndim))


def _channel_shape(ndim, c):
    """(C,) -> (1, C, 1, ...), broadcasting against (N, C, ...)."""
    return (1, c) + (1,) * (ndim - 2)


def _check_bn(x, weight, bias, mean, var):
    if np.ndim(x) < 2:
        raise ValueError(
            f"batch_norm: expected input of shape (N, C, ...) with at least 2 dims, got "
            f"shape {np.shape(x)}"
        )
    c = np.shape(x)[1]
    for name, a in (("weight", weight), ("bias", bias), ("running_mean", mean),
                    ("running_var", var)):
        if a is not None and np.shape(a) != (c,):
            raise ValueError(
                f"batch_norm: {name} of shape {np.shape(a)} does not match the {c} channels "
                f"of input shape {np.shape(x)}; expected ({c},)"
            )


def batch_moments(x):
    """Per-channel mean and biased variance of x (N, C, ...) over every axis but 1."""
    axes = _bn_axes(x.ndim)
    mean = x.mean(axis=axes)
    xc = x - mean.reshape(_channel_shape(x.ndim, x.shape[1]))
    xc *= xc
    return mean, xc.mean(axis=axes)


def batch_norm_forward(x, weight, bias, training=True, running_mean=None, running_var=None,
                       momentum=0.1, eps=1e-5, num_batches_tracked=None):
    """x (N, C, ...); weight, bias, running_mean, running_var (C,) -> out (N, C, ...).

    The running statistics (and the 0-d count ``num_batches_tracked``) are read and updated
    here, in the op, in place: a compiled step replays the update with the arrays the module
    holds. ``momentum`` None is the cumulative average, 1 / (batches counted), as PyTorch."""
    _check_bn(x, weight, bias, running_mean, running_var)
    if training:
        mean, var = batch_moments(x)
        if num_batches_tracked is not None:
            num_batches_tracked += 1
        if momentum is None:
            momentum = 1.0 / float(num_batches_tracked)
        if running_mean is not None:
            running_mean *= 1 - momentum
            running_mean += momentum * mean
        if running_var is not None:
            m = x.size // x.shape[1]
            running_var *= 1 - momentum
            running_var += momentum * var * (m / max(m - 1, 1))
    else:
        # Copies: a later training step changes the running statistics in place.
        mean, var = running_mean.copy(), running_var.copy()
    shape = _channel_shape(x.ndim, x.shape[1])
    inv_std = (1.0 / np.sqrt(np.asarray(var, dtype=x.dtype) + eps)).astype(x.dtype)
    xhat = x - np.asarray(mean, dtype=x.dtype).reshape(shape)
    xhat *= inv_std.reshape(shape)
    out = xhat * weight.reshape(shape) if weight is not None else xhat.copy()
    if bias is not None:
        out += bias.reshape(shape)
    return out, (xhat, inv_std, mean)


def _batch_norm_grads(g, ctx, xhat, inv_std):
    """g (N, C, ...), xhat like x, inv_std (1, C, 1, ...) -> gx (N, C, ...), gweight (C,),
    gbias (C,)."""
    x, weight, _ = ctx.inputs
    axes = _bn_axes(x.ndim)
    shape = _channel_shape(x.ndim, x.shape[1])
    w = weight.reshape(shape) if weight is not None else None
    gb = g.sum(axis=axes, keepdims=True)
    gw = (g * xhat).sum(axis=axes, keepdims=True)
    gx = None
    if ctx.needs[0]:
        scale = inv_std if w is None else w * inv_std
        if ctx.params.get("training", True):
            m = x.size // x.shape[1]
            gx = scale * (g - gb / m - xhat * (gw / m))
        else:
            gx = g * scale
    gweight = gw.reshape(x.shape[1]) if ctx.needs[1] else None
    gbias = gb.reshape(x.shape[1]) if ctx.needs[2] else None
    return gx, gweight, gbias


def batch_norm_vjp(g, ctx):
    x = ctx.inputs[0]
    xhat, inv_std, _ = ctx.saved
    return _batch_norm_grads(g, ctx, xhat, inv_std.reshape(_channel_shape(x.ndim, x.shape[1])))


def batch_norm_graph_vjp(g, ctx):
    """xhat and inv_std recomputed from x, so that d(gx)/dx is right."""
    x = ctx.inputs[0]
    eps = ctx.params.get("eps", 1e-5)
    axes = _bn_axes(x.ndim)
    shape = _channel_shape(x.ndim, x.shape[1])
    if ctx.params.get("training", True):
        xc = x - x.mean(axis=axes, keepdims=True)
        inv_std = ((xc * xc).mean(axis=axes, keepdims=True) + eps) ** -0.5
    else:  # the statistics are constants: the saved ones
        _, inv_std, mean = ctx.saved
        xc = x - np.asarray(mean, dtype=x.dtype).reshape(shape)
        inv_std = inv_std.reshape(shape)
    return _batch_norm_grads(g, ctx, xc * inv_std, inv_std)


_batch_norm = defop(
    "batch_norm", batch_norm_forward, batch_norm_vjp, graph_vjp=batch_norm_graph_vjp,
    doc="(x - mean) / sqrt(var + eps) * w + b over axis 1.  VJP (training): "
        "gx = w inv_std (g - mean(g) - xhat mean(g xhat)), gw = sum(g xhat), gb = sum(g)",
)


def batch_norm(x, weight=None, bias=None, running_mean=None, running_var=None, training=True,
               momentum=0.1, eps=1e-5, num_batches_tracked=None):
    """Batch normalisation over axis 1 (channels) of x (N, C, ...).

    In training the batch's own mean and (biased) variance normalise x, and when
    ``running_mean``/``running_var`` (ndarrays of shape (C,)) are given they are updated in
    place, outside the graph: ``r = (1 - momentum) r + momentum s``, with the unbiased
    batch variance for ``running_var`` (as PyTorch). In eval (``training=False``) the
    running statistics normalise x.

    VJP (training): ``gx = w inv_std (g - mean(g) - xhat mean(g xhat))``,
    ``gw = sum(g xhat)``, ``gb = sum(g)`` (sums and means over every axis but 1).

    >>> out = ops.batch_norm(x, w, b, running_mean, running_var, training=True)
    """
    running_mean, running_var = unwrap(running_mean), unwrap(running_var)
    xd = unwrap(x)
    if not training:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: training=False needs running_mean and running_var")
    elif np.ndim(xd) >= 2 and np.size(xd) == np.shape(xd)[1]:
        raise ValueError(
            f"batch_norm: expected more than 1 value per channel when training, got input "
            f"shape {np.shape(xd)}"
        )
    if momentum is None and (not training or num_batches_tracked is None):
        raise ValueError("batch_norm: momentum=None (a cumulative average) needs "
                         "num_batches_tracked and training=True")
    return _batch_norm(x, weight, bias, training=bool(training), running_mean=running_mean,
                       running_var=running_var, momentum=momentum, eps=eps,
                       num_batches_tracked=num_batches_tracked)


# --- layer_norm -----------------------------------------------------------------------
def _ln_axes(x, normalized_shape, name="layer_norm"):
    k, shape = len(normalized_shape), tuple(x.shape)
    if k == 0 or len(shape) < k or shape[len(shape) - k:] != tuple(normalized_shape):
        raise ValueError(
            f"{name}: input of shape {shape} does not end in normalized_shape "
            f"{tuple(normalized_shape)}"
        )
    return tuple(range(len(shape) - k, len(shape)))


def layer_norm_forward(x, weight, bias, normalized_shape=None, eps=1e-5):
    """x (..., *normalized_shape); weight, bias (*normalized_shape) -> out like x."""
    axes = _ln_axes(x, normalized_shape)
    for name, a in (("weight", weight), ("bias", bias)):
        if a is not None and np.shape(a) != tuple(normalized_shape):
            raise ValueError(
                f"layer_norm: {name} of shape {np.shape(a)} does not match normalized_shape "
                f"{tuple(normalized_shape)}"
            )
    mean = x.mean(axis=axes, keepdims=True)
    xhat = x - mean
    var = (xhat * xhat).mean(axis=axes, keepdims=True)
    inv_std = (1.0 / np.sqrt(var + eps)).astype(x.dtype, copy=False)
    xhat *= inv_std
    out = xhat * weight if weight is not None else xhat.copy()
    if bias is not None:
        out += bias
    return out, (xhat, inv_std)


def _layer_norm_grads(g, ctx, xhat, inv_std):
    """g like x -> gx like x; gweight, gbias like g (the engine sums the leading axes)."""
    x, weight, _ = ctx.inputs
    axes = _ln_axes(x, ctx.params["normalized_shape"])
    gx = None
    if ctx.needs[0]:
        gxhat = g * weight if weight is not None else g
        gx = inv_std * (gxhat - gxhat.mean(axis=axes, keepdims=True)
                        - xhat * (gxhat * xhat).mean(axis=axes, keepdims=True))
    gweight = g * xhat if ctx.needs[1] else None
    return gx, gweight, (g if ctx.needs[2] else None)


def layer_norm_vjp(g, ctx):
    return _layer_norm_grads(g, ctx, *ctx.saved)


def layer_norm_graph_vjp(g, ctx):
    """xhat and inv_std recomputed from x, so that d(gx)/dx is right."""
    x = ctx.inputs[0]
    axes = _ln_axes(x, ctx.params["normalized_shape"])
    xc = x - x.mean(axis=axes, keepdims=True)
    inv_std = ((xc * xc).mean(axis=axes, keepdims=True) + ctx.params.get("eps", 1e-5)) ** -0.5
    return _layer_norm_grads(g, ctx, xc * inv_std, inv_std)


_layer_norm = defop(
    "layer_norm", layer_norm_forward, layer_norm_vjp, graph_vjp=layer_norm_graph_vjp,
    doc="(x - mean) / sqrt(var + eps) * w + b over the last axes.  VJP: "
        "gx = inv_std (gxhat - mean(gxhat) - xhat mean(gxhat xhat)) with gxhat = g w, "
        "gw = sum(g xhat), gb = sum(g)",
)


def layer_norm(x, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalise x over its trailing ``normalized_shape`` axes, then scale and shift.

    VJP: ``gx = inv_std (gxhat - mean(gxhat) - xhat mean(gxhat xhat))`` with
    ``gxhat = g w``; ``gw = sum(g xhat)``, ``gb = sum(g)`` over the leading axes.

    >>> out = ops.layer_norm(x, (8,), w, b)      # x (..., 8)
    """
    if isinstance(normalized_shape, (int, np.integer)):
        normalized_shape = (int(normalized_shape),)
    return _layer_norm(x, weight, bias, normalized_shape=tuple(normalized_shape), eps=eps)
