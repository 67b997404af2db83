"""Activation functions: sigmoid, relu, leaky_relu, elu, gelu, softplus and silu.

Elementwise ops like those of ``ops.elementwise``, with the same conventions: each VJP is
written with numpy operators and ufuncs so that it also runs on Tensors
(``create_graph=True``), and masks (``x > 0``) are plain boolean arrays. relu runs on the
one-pass kernels of ``ops.kernels.activation`` where they apply.
"""

import numpy as np

from autograd.core.registry import call, defop
from ops.kernels import activation, workspace
from ops.kernels.special import erf as _erf_ufunc

__all__ = ["sigmoid", "relu", "leaky_relu", "elu", "gelu", "softplus", "silu"]


def sigmoid_forward(x):
    # exp(-|x|) never overflows: 1/(1+e) for x >= 0, e/(1+e) for x < 0.
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1, e) / (1 + e), None


def sigmoid_vjp(g, ctx):
    return (g * ctx.out * (1 - ctx.out),)


sigmoid = defop("sigmoid", sigmoid_forward, sigmoid_vjp,
                scalar=("1 / (1 + exp(-x)) if x >= 0 else exp(x) / (1 + exp(x))",
                        ("g * out * (1 - out)",)),
                doc="1 / (1 + e**-x), stable for large |x|.  VJP: g s (1 - s)")


def relu_forward(x):
    if not activation.takes(x):
        return np.maximum(x, 0), None
    # One pass into a reused block (np.maximum's NaN-aware loop and fresh pages cost 4x)
    out = workspace.empty(x.shape, x.dtype)
    activation.relu(x.reshape(-1), out.reshape(-1))  # any shape -> flat, views
    return out, None


def relu_vjp(g, ctx):
    x = ctx.inputs[0]
    if not activation.takes(g, x):  # Tensors under create_graph, or other dtypes and layouts
        return (g * (x > 0),)
    # g * [x > 0] in one pass, without the boolean temporary
    gx = workspace.empty(g.shape, g.dtype)
    activation.relu_grad(g.reshape(-1), x.reshape(-1), gx.reshape(-1))  # any shape -> flat
    return (gx,)


relu = defop("relu", relu_forward, relu_vjp,
             scalar=('x if x > 0 else 0 * x', ('g if x > 0 else 0 * g',)),
             doc="max(x, 0).  VJP: g [x > 0]")


def leaky_relu_forward(x, negative_slope=0.01):
    return np.where(x > 0, x, x * negative_slope), None


def leaky_relu_vjp(g, ctx):
    slope = np.where(ctx.inputs[0] > 0, 1.0, ctx.params.get("negative_slope", 0.01))
    return (g * slope.astype(g.dtype),)


leaky_relu = defop("leaky_relu", leaky_relu_forward, leaky_relu_vjp,
                   scalar=("x if x > 0 else x * negative_slope",
                           ("g if x > 0 else g * negative_slope",)),
                   doc="x if x > 0 else slope x.  VJP: g (1 if x > 0 else slope)")



def elu_forward(x, alpha=1.0):
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0))), None


def elu_vjp(g, ctx):
    alpha = ctx.params.get("alpha", 1.0)
    return (np.where(ctx.inputs[0] > 0, g, g * (ctx.out + alpha)),)


elu = defop("elu", elu_forward, elu_vjp,
             doc="x if x > 0 else alpha (e**x - 1).  VJP: g (1 if x > 0 else out + alpha)")



_SQRT_2_OVER_PI = float(np.sqrt(2 / np.pi))  # a Python float keeps float32 float32


def gelu_forward(x, approximate="none"):
    if approximate == "tanh":
        return 0.5 * x * (1 + np.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x**3))), None
    if approximate != "none":
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return 0.5 * x * (1 + _erf_ufunc(x / np.sqrt(2).astype(x.dtype))), None


def gelu_vjp(g, ctx):
    x = ctx.inputs[0]
    if ctx.params.get("approximate", "none") == "tanh":
        inner = _SQRT_2_OVER_PI * (x + 0.044715 * x**3)
        t = np.tanh(inner)
        d_inner = _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x)
        return (g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * d_inner),)
    cdf = 0.5 * (1 + _erf_ufunc(x * (1 / np.sqrt(2))))  # dispatches to the erf op on Tensors
    pdf = np.exp(-0.5 * x * x) * (1 / np.sqrt(2 * np.pi))
    return (g * (cdf + x * pdf),)


gelu = defop("gelu", gelu_forward, gelu_vjp,
              doc="x Phi(x) (Phi the normal CDF).  VJP: g (Phi(x) + x phi(x))")



def softplus_forward(x):
    return np.logaddexp(0, x).astype(x.dtype, copy=False), None


def softplus_vjp(g, ctx):
    x = ctx.inputs[0]
    return (g * call(sigmoid, x),)


softplus = defop("softplus", softplus_forward, softplus_vjp,
                 doc="log(1 + e**x), stable for large |x|.  VJP: g sigmoid(x)")


def silu_forward(x):
    return x * sigmoid_forward(x)[0], None


def silu_vjp(g, ctx):
    x = ctx.inputs[0]
    s = call(sigmoid, x)  # recomputed from x, so the gradient stays differentiable
    return (g * s * (1 + x * (1 - s)),)


silu = defop("silu", silu_forward, silu_vjp,
             doc="x sigmoid(x) (swish).  VJP: g s (1 + x (1 - s)), s = sigmoid(x)")
