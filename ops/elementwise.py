"""Elementwise ops (the activations are in ``ops.activations``). Every binary op broadcasts
like numpy; the engine un-broadcasts.

Each VJP is written with numpy operators and ufuncs so that it also runs on Tensors
(``create_graph=True``). Masks (``x > 0``) are plain boolean arrays: no gradient flows
through a comparison.
"""

import numpy as np

from autograd.core.registry import call, defop
from ops.activations import sigmoid
from ops.kernels.special import erf as _erf_ufunc

__all__ = [
    "add", "sub", "mul", "div", "neg", "pow", "exp", "log", "sqrt", "abs", "sin", "cos",
    "tanh", "erf", "maximum", "minimum", "where", "clip", "astype", "log1p", "expm1", "square",
    "logaddexp",
]


def _broadcast_error(name, a, b):
    return ValueError(
        f"{name}: shapes {np.shape(a)} and {np.shape(b)} cannot be broadcast together"
    )


def _binary(ufunc, name, a, b):
    try:
        return ufunc(a, b)
    except ValueError:
        raise _broadcast_error(name, a, b) from None


# --- arithmetic -----------------------------------------------------------------------
# The four arithmetic forwards inline _binary's try: they are the hottest calls in any
# model, and this saves a Python frame per call (see benchmarks/overhead.py).
def add_forward(a, b):
    try:
        return np.add(a, b), None
    except ValueError:
        raise _broadcast_error("add", a, b) from None


def add_vjp(g, ctx):
    return g, g


add = defop("add", add_forward, add_vjp, scalar=('a + b', ('g', 'g')), doc="a + b.  VJP: (g, g)")


def sub_forward(a, b):
    try:
        return np.subtract(a, b), None
    except ValueError:
        raise _broadcast_error("sub", a, b) from None


def sub_vjp(g, ctx):
    return g, -g


sub = defop("sub", sub_forward, sub_vjp, scalar=('a - b', ('g', '-g')), doc="a - b.  VJP: (g, -g)")


def mul_forward(a, b):
    try:
        return np.multiply(a, b), None
    except ValueError:
        raise _broadcast_error("mul", a, b) from None


def mul_vjp(g, ctx):
    a, b = ctx.inputs
    return (g * b if ctx.needs[0] else None), (g * a if ctx.needs[1] else None)


mul = defop("mul", mul_forward, mul_vjp,
            scalar=('a * b', ('g * b', 'g * a')),
            doc="a * b.  VJP: (g b, g a)")


def div_forward(a, b):
    try:
        return np.divide(a, b), None
    except ValueError:
        raise _broadcast_error("div", a, b) from None


def div_vjp(g, ctx):
    a, b = ctx.inputs
    ga = g / b if ctx.needs[0] else None
    gb = -g * ctx.out / b if ctx.needs[1] else None
    return ga, gb


div = defop("div", div_forward, div_vjp,
            scalar=('a / b', ('g / b', '-g * a / (b * b)')),
            doc="a / b.  VJP: (g / b, -g a / b**2)")


def neg_forward(x):
    return np.negative(x), None


def neg_vjp(g, ctx):
    return (-g,)


neg = defop("neg", neg_forward, neg_vjp, scalar=('-x', ('-g',)), doc="-x.  VJP: -g")


def pow_forward(a, b):
    return _binary(np.power, "pow", a, b), None


def pow_vjp(g, ctx):
    a, b = ctx.inputs
    ga = g * b * a ** (b - 1) if ctx.needs[0] else None
    gb = None
    if ctx.needs[1]:
        # d(a**b)/db = a**b log a; where a <= 0 the real power has no such derivative,
        # and the convention (as in PyTorch for a == 0) is a zero gradient.
        positive = a > 0
        safe_a = np.where(positive, a, 1)
        gb = np.where(positive, g * ctx.out * np.log(safe_a), 0.0)
    return ga, gb


pow = defop("pow", pow_forward, pow_vjp, doc="a ** b.  VJP: (g b a**(b-1), g a**b log a)")


# --- unary functions ------------------------------------------------------------------
def exp_forward(x):
    return np.exp(x), None


def exp_vjp(g, ctx):
    return (g * ctx.out,)


exp = defop("exp", exp_forward, exp_vjp, scalar=('exp(x)', ('g * out',)), doc="e**x.  VJP: g e**x")


def log_forward(x):
    return np.log(x), None


def log_vjp(g, ctx):
    return (g / ctx.inputs[0],)


log = defop("log", log_forward, log_vjp,
            scalar=('log(x)', ('g / x',)),
            doc="Natural log.  VJP: g / x")


def log1p_forward(x):
    return np.log1p(x), None


def log1p_vjp(g, ctx):
    return (g / (1 + ctx.inputs[0]),)


log1p = defop("log1p", log1p_forward, log1p_vjp,
              doc="log(1 + x), exact for tiny x.  VJP: g / (1 + x)")


def expm1_forward(x):
    return np.expm1(x), None


def expm1_vjp(g, ctx):
    return (g * (ctx.out + 1),)


expm1 = defop("expm1", expm1_forward, expm1_vjp,
              doc="e**x - 1, exact for tiny x.  VJP: g (out + 1) = g e**x")


def square_forward(x):
    return np.square(x), None


def square_vjp(g, ctx):
    return (g * (2 * ctx.inputs[0]),)


square = defop("square", square_forward, square_vjp,
               scalar=('x * x', ('2 * g * x',)),
               doc="x**2.  VJP: 2 g x")


def sqrt_forward(x):
    return np.sqrt(x), None


def sqrt_vjp(g, ctx):
    return (g * 0.5 / ctx.out,)


sqrt = defop("sqrt", sqrt_forward, sqrt_vjp,
             scalar=('sqrt(x)', ('g / (2 * out)',)),
             doc="Square root.  VJP: g / (2 sqrt x)")


def abs_forward(x):
    return np.abs(x), None


def abs_vjp(g, ctx):
    return (g * np.sign(ctx.inputs[0]),)


abs = defop("abs", abs_forward, abs_vjp, doc="|x|.  VJP: g sign(x) (0 at x = 0)")


def sin_forward(x):
    return np.sin(x), None


def sin_vjp(g, ctx):
    return (g * np.cos(ctx.inputs[0]),)


sin = defop("sin", sin_forward, sin_vjp,
            scalar=('sin(x)', ('g * cos(x)',)),
            doc="sin x.  VJP: g cos x")


def cos_forward(x):
    return np.cos(x), None


def cos_vjp(g, ctx):
    return (-g * np.sin(ctx.inputs[0]),)


cos = defop("cos", cos_forward, cos_vjp,
            scalar=('cos(x)', ('-g * sin(x)',)),
            doc="cos x.  VJP: -g sin x")


def tanh_forward(x):
    return np.tanh(x), None


def tanh_vjp(g, ctx):
    return (g * (1 - ctx.out * ctx.out),)


tanh = defop("tanh", tanh_forward, tanh_vjp,
             scalar=('tanh(x)', ('g * (1 - out * out)',)),
             doc="tanh x.  VJP: g (1 - tanh(x)**2)")


def erf_forward(x):
    return _erf_ufunc(x), None


def erf_vjp(g, ctx):
    x = ctx.inputs[0]
    return (g * (2 / np.sqrt(np.pi)) * np.exp(-x * x),)


erf = defop("erf", erf_forward, erf_vjp, doc="Error function.  VJP: g 2/sqrt(pi) e**(-x**2)")


def logaddexp_forward(a, b):
    return _binary(np.logaddexp, "logaddexp", a, b), None


def logaddexp_vjp(g, ctx):
    # The two softmax weights e**a / (e**a + e**b) = sigmoid(a - b), from a - b rather than
    # e**(a - out): next to a large out, float32 cannot hold out's fractional digits.
    a, b = ctx.inputs
    ga = g * call(sigmoid, a - b) if ctx.needs[0] else None
    gb = g * call(sigmoid, b - a) if ctx.needs[1] else None
    return ga, gb


logaddexp = defop("logaddexp", logaddexp_forward, logaddexp_vjp,
                  doc="log(e**a + e**b), stable.  VJP: (g sigmoid(a - b), g sigmoid(b - a))")


# --- two-input selections ---------------------------------------------------------------
def maximum_forward(a, b):
    return _binary(np.maximum, "maximum", a, b), None


def _select_vjp(g, ctx, first_wins):
    # Ties split the gradient equally between the two inputs, as for max/min reductions. A
    # NaN wins the selection (numpy propagates it), so a NaN input takes the gradient.
    a, b = ctx.inputs
    a_nan, b_nan = np.isnan(a), np.isnan(b)
    share = np.where(first_wins(a, b), 1.0, np.where(a == b, 0.5, 0.0))
    share = np.where(a_nan, np.where(b_nan, 0.5, 1.0), np.where(b_nan, 0.0, share))
    share = share.astype(g.dtype)
    return (g * share if ctx.needs[0] else None), (g * (1 - share) if ctx.needs[1] else None)


def maximum_vjp(g, ctx):
    return _select_vjp(g, ctx, np.greater)


maximum = defop("maximum", maximum_forward, maximum_vjp,
                doc="Elementwise max.  VJP: g to the larger input (to a NaN), split on ties")


def minimum_forward(a, b):
    return _binary(np.minimum, "minimum", a, b), None


def minimum_vjp(g, ctx):
    return _select_vjp(g, ctx, np.less)


minimum = defop("minimum", minimum_forward, minimum_vjp,
                doc="Elementwise min.  VJP: g to the smaller input, split on ties")


def where_forward(cond, a, b):
    cond = np.asarray(cond)
    if cond.dtype != bool:
        raise TypeError(f"where: condition must be boolean, got dtype {cond.dtype}")
    try:
        return np.where(cond, a, b), None
    except ValueError:
        raise ValueError(
            f"where: shapes {cond.shape}, {np.shape(a)} and {np.shape(b)} cannot be "
            "broadcast together"
        ) from None


def where_vjp(g, ctx):
    cond = ctx.inputs[0]
    zero = np.zeros((), dtype=g.dtype)
    ga = np.where(cond, g, zero) if ctx.needs[1] else None
    gb = np.where(cond, zero, g) if ctx.needs[2] else None
    return None, ga, gb


where = defop("where", where_forward, where_vjp,
              doc="a where cond else b.  VJP: (None, g [cond], g [not cond])")


def clip_forward(x, lo=None, hi=None, /):
    return np.clip(x, lo, hi), None


def clip_vjp(g, ctx):
    """numpy's clip is minimum(maximum(x, lo), hi), bounds broadcasting against x: each
    element's g goes to whichever of x, lo, hi it came from (to hi where lo > hi)."""
    x, lo, hi = ctx.inputs
    from_lo = (x < lo) if lo is not None else np.zeros((), dtype=bool)
    from_hi = (np.where(from_lo, lo, x) > hi) if hi is not None else np.zeros((), dtype=bool)
    from_x = ~(from_lo | from_hi)
    glo = g * (from_lo & ~from_hi) if lo is not None and ctx.needs[1] else None
    ghi = g * from_hi if hi is not None and ctx.needs[2] else None
    return g * from_x, glo, ghi


clip = defop("clip", clip_forward, clip_vjp,
             doc="x limited to [lo, hi] (either may be None; bounds broadcast and may be "
                 "Tensors).  VJP: g to x where lo <= x <= hi, to lo below, to hi above")



def astype_forward(x, /, dtype):
    return x.astype(dtype), None


def astype_vjp(g, ctx):
    return (g,)


astype = defop("astype", astype_forward, astype_vjp,
               doc="Cast to dtype.  VJP: g cast back to the input's dtype")

UFUNCS = {
    "add": add, "subtract": sub, "multiply": mul, "divide": div, "true_divide": div,
    "negative": neg, "power": pow, "exp": exp, "log": log, "sqrt": sqrt, "absolute": abs,
    "sin": sin, "cos": cos, "tanh": tanh, "maximum": maximum, "minimum": minimum, "erf": erf,
    "log1p": log1p, "expm1": expm1, "square": square, "logaddexp": logaddexp,
}
FUNCTIONS = {"where": where, "clip": clip}
