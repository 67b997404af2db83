"""Shape ops: they move elements around, so each VJP moves the gradient back.

Seven primitives have VJPs here: ``reshape``, ``transpose``, ``broadcast_to`` (views),
``concatenate``, ``stack``, constant ``pad``, and ``tril``/``triu`` (whose VJP is the same
mask applied to g). The rest are written with primitives, so they
need no gradient code of their own: ``swapaxes`` is a transpose; ``squeeze``, ``expand_dims``
and ``flatten`` are reshapes; ``flip``, ``split``, non-constant ``pad`` and ``repeat`` with
per-element counts are indexing (``getitem``, whose scatter-add VJP accumulates repeated
elements); ``tile`` and ``repeat`` with one count are a broadcast between two reshapes;
``chunk`` is a ``split``.
Non-Tensor parameters (shapes, axes) are keyword parameters, so a VJP returns one gradient
per Tensor input.
"""

import numpy as np

from autograd.core.registry import defop
from autograd.core.tensor import Tensor
from ops.indexing import getitem

__all__ = [
    "broadcast_to", "concatenate", "expand_dims", "flatten", "flip", "pad", "repeat", "reshape",
    "split", "squeeze", "stack", "swapaxes", "tile", "transpose", "chunk", "tril", "triu",
]


def _array_like(x):
    """Tensors stay; anything else becomes an ndarray (so ``.shape`` and ``.ndim`` work)."""
    return x if isinstance(x, Tensor) else np.asarray(x)


def _is_int(v):
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


def _axis(axis, ndim, name, shape):
    """One axis as a non-negative int, with errors naming the op and the shape."""
    if not _is_int(axis):
        raise TypeError(f"{name}: axis must be an integer, got {axis!r}")
    if not -ndim <= axis < ndim:
        raise ValueError(f"{name}: axis {axis} is out of bounds for an array of shape {shape}")
    return int(axis) % ndim


def _axis_tuple(axis, name):
    if _is_int(axis):
        return (axis,)
    try:
        return tuple(axis)
    except TypeError:
        raise TypeError(f"{name}: axis must be an int or a tuple of ints, got {axis!r}") from None


def _axes(axis, ndim, name, shape):
    """An int or a sequence of ints as a tuple of distinct non-negative axes."""
    axes = _axis_tuple(axis, name)
    out = tuple(_axis(a, ndim, name, shape) for a in axes)
    if len(set(out)) != len(out):
        raise ValueError(f"{name}: repeated axis in {axis}")
    return out


# --- views: reshape, transpose, broadcast_to ------------------------------------------
def reshape_forward(x, /, shape):
    """Give x a new shape (an int or a tuple; one entry may be -1)."""
    shape = (int(shape),) if _is_int(shape) else tuple(shape)
    try:
        return np.reshape(x, shape), None
    except (ValueError, TypeError):
        raise ValueError(
            f"reshape: cannot reshape array of shape {np.shape(x)} (size {np.size(x)}) into "
            f"shape {shape}"
        ) from None


def reshape_vjp(g, ctx):
    return (g.reshape(ctx.inputs[0].shape),)


reshape = defop("reshape", reshape_forward, reshape_vjp, view=True,
                doc="Give x a new shape (one entry may be -1).  VJP: g reshaped back")


def transpose_forward(x, axes=None):
    if axes is not None and not all(_is_int(a) for a in axes):
        raise TypeError(f"transpose: axes must be integers, got {axes!r}")
    ndim = np.ndim(x)
    axes = tuple(reversed(range(ndim))) if axes is None else axes
    # Negative axes become positive first: the VJP inverts the permutation with argsort.
    if sorted(a + ndim if a < 0 else a for a in axes) != list(range(ndim)):
        raise ValueError(f"transpose: axes {axes} don't match an array of shape {np.shape(x)}")
    axes = tuple(int(a) % ndim for a in axes)
    return np.transpose(x, axes), axes


def transpose_vjp(g, ctx):
    return (np.transpose(g, tuple(int(i) for i in np.argsort(ctx.saved))),)


transpose = defop("transpose", transpose_forward, transpose_vjp, view=True,
                  doc="Permute the axes (reverse them when axes is None).  "
                      "VJP: g permuted by the inverse permutation")


def swapaxes(x, a, b):
    """Exchange axes a and b (a transpose, so a view).  VJP: g with a and b exchanged"""
    x = _array_like(x)
    perm = list(range(x.ndim))
    i, j = _axis(a, x.ndim, "swapaxes", x.shape), _axis(b, x.ndim, "swapaxes", x.shape)
    perm[i], perm[j] = j, i
    return transpose(x, perm)


def broadcast_to_forward(x, /, shape):
    shape = (int(shape),) if _is_int(shape) else tuple(shape)
    try:
        return np.broadcast_to(x, shape), None
    except (ValueError, TypeError):
        raise ValueError(f"broadcast_to: cannot broadcast shape {np.shape(x)} to {shape}") from None


def broadcast_to_vjp(g, ctx):
    return (g,)  # the engine sums g back down to the input's shape


broadcast_to = defop("broadcast_to", broadcast_to_forward, broadcast_to_vjp, view=True,
                     doc="Broadcast x to shape (a read-only view).  "
                         "VJP: g summed over the broadcast axes")


# --- reshapes: squeeze, expand_dims, flatten --------------------------------------------
def squeeze(x, axis=None):
    """Remove axes of length 1 (all of them when axis is None).  VJP: g reshaped back"""
    x = _array_like(x)
    if axis is None:
        return reshape(x, tuple(n for n in x.shape if n != 1))
    axes = _axes(axis, x.ndim, "squeeze", x.shape)
    for a in axes:
        if x.shape[a] != 1:
            raise ValueError(
                f"squeeze: cannot remove axis {a} of length {x.shape[a]} from an array of "
                f"shape {x.shape}; only axes of length 1 can be squeezed"
            )
    return reshape(x, tuple(n for i, n in enumerate(x.shape) if i not in axes))


def expand_dims(x, axis):
    """Insert axes of length 1 at ``axis`` (int or tuple) of the result.  VJP: g reshaped back"""
    x = _array_like(x)
    ndim = x.ndim + len(_axis_tuple(axis, "expand_dims"))
    axes = _axes(axis, ndim, "expand_dims", x.shape)
    sizes = iter(x.shape)
    return reshape(x, tuple(1 if i in axes else next(sizes) for i in range(ndim)))


def flatten(x):
    """x as a 1-D tensor (a view when possible, unlike ndarray.flatten).  VJP: g reshaped back"""
    return reshape(x, (-1,))


# --- joining: concatenate, stack --------------------------------------------------------
def _tensor_list(x, name):
    try:
        tensors = list(x)
    except TypeError:
        raise TypeError(f"{name}: expected a sequence of tensors, got {type(x).__name__}") from None
    if not tensors:
        raise ValueError(f"{name}: need at least one tensor")
    return tensors


def concatenate_forward(*xs, axis=0):
    shapes = [np.shape(x) for x in xs]
    ndim = len(shapes[0])
    if ndim == 0:
        raise ValueError("concatenate: zero-dimensional arrays cannot be concatenated")
    axis = _axis(axis, ndim, "concatenate", shapes[0])
    for s in shapes[1:]:
        if len(s) != ndim:
            raise ValueError(
                f"concatenate: shapes {shapes[0]} and {s} have different numbers of dimensions"
            )
        for i in range(ndim):
            if i != axis and s[i] != shapes[0][i]:
                raise ValueError(
                    f"concatenate: shapes {shapes[0]} and {s} don't match along axis {i}"
                )
    # Where each input's gradient starts and stops along axis.
    bounds = np.cumsum([0] + [s[axis] for s in shapes]).tolist()
    return np.concatenate(xs, axis=axis), (axis, bounds)


def concatenate_vjp(g, ctx):
    axis, bounds = ctx.saved
    lead = (slice(None),) * axis
    return tuple(
        g[lead + (slice(bounds[i], bounds[i + 1]),)] if need else None
        for i, need in enumerate(ctx.needs)
    )


_concatenate = defop("concatenate", concatenate_forward, concatenate_vjp,
                     doc="Join along an existing axis.  VJP: g sliced back into each input's part")


def concatenate(tensors, axis=0):
    """Join tensors along an existing axis (axis=None: flatten them first).
    VJP: each input gets its slice of g"""
    tensors = _tensor_list(tensors, "concatenate")
    if axis is None:
        tensors, axis = [flatten(t) for t in tensors], 0
    return _concatenate(*tensors, axis=axis)


def stack_forward(*xs, axis=0):
    shapes = [np.shape(x) for x in xs]
    for i, s in enumerate(shapes):
        if s != shapes[0]:
            raise ValueError(
                f"stack: input {i} has shape {s} but input 0 has shape {shapes[0]}; all "
                "inputs must have the same shape"
            )
    axis = _axis(axis, len(shapes[0]) + 1, "stack", shapes[0])
    return np.stack(xs, axis=axis), axis


def stack_vjp(g, ctx):
    lead = (slice(None),) * ctx.saved
    return tuple(g[lead + (i,)] if need else None for i, need in enumerate(ctx.needs))


_stack = defop("stack", stack_forward, stack_vjp,
               doc="Join along a new axis.  VJP: input i gets g[..., i, ...] at that axis")


def stack(tensors, axis=0):
    """Join same-shaped tensors along a new axis.  VJP: input i gets g[..., i, ...]"""
    return _stack(*_tensor_list(tensors, "stack"), axis=axis)


def split(x, indices_or_sections, axis=0):
    """Split x along ``axis`` into a list of tensors, numpy style: an int N gives N equal
    parts, a sequence of indices gives the parts between them.  VJP: the parts' g joined"""
    x = _array_like(x)
    if x.ndim == 0:
        raise ValueError("split: a 0-d array cannot be split")
    axis = _axis(axis, x.ndim, "split", x.shape)
    n = x.shape[axis]
    cuts = np.asarray(indices_or_sections.data if isinstance(indices_or_sections, Tensor)
                      else indices_or_sections)
    if cuts.size == 0:  # [] gives x back whole, as in numpy
        cuts = cuts.astype(int)
    if cuts.dtype.kind not in "iu" or cuts.ndim > 1:
        raise TypeError(
            f"split: indices_or_sections must be an int or a 1-D sequence of ints, got "
            f"{indices_or_sections!r}"
        )
    if cuts.ndim == 0:
        sections = int(cuts)
        if sections <= 0 or n % sections:
            raise ValueError(
                f"split: axis {axis} of length {n} (array of shape {x.shape}) does not split "
                f"into {sections} equal sections"
            )
        cuts = np.arange(1, sections) * (n // sections)
    # Python slice semantics between consecutive cuts, as numpy: negative cuts count from
    # the end and out-of-range cuts give empty parts.
    starts, stops = [0] + cuts.tolist(), cuts.tolist() + [n]
    lead = (slice(None),) * axis
    return [getitem(x, lead + (slice(a, b),)) for a, b in zip(starts, stops)]


# --- pad, flip, repeat, tile ------------------------------------------------------------
def _pad_widths(pad_width, shape):
    """numpy's pad_width forms (int, (n,), (before, after), per axis) as ((b, a), ...)."""
    widths = np.asarray(pad_width)
    if widths.size == 0:  # () for a 0-d x: nothing to pad, whatever dtype asarray guessed
        widths = widths.astype(int)
    if widths.dtype.kind not in "iu":
        raise TypeError(f"pad: pad_width must be integers, got {pad_width!r}")
    if (widths < 0).any():
        raise ValueError(f"pad: pad widths must be non-negative, got {pad_width!r}")
    if not shape:
        return ()  # a 0-d array has no axis to pad: numpy gives it back unchanged
    try:
        widths = np.broadcast_to(widths, (len(shape), 2))
    except ValueError:
        message = f"pad: pad_width {pad_width!r} does not fit an array of shape {shape}"
        raise ValueError(message) from None
    return tuple((int(b), int(a)) for b, a in widths)


def pad_forward(x, /, widths, value=0):
    # Where x sits inside the padded output: the VJP cuts g back to this window.
    window = tuple(slice(b, b + n) for (b, _), n in zip(widths, np.shape(x)))
    # np.pad rejects an empty widths tuple, which is what a 0-d x has.
    return np.pad(x, widths or 0, mode="constant", constant_values=value), window


def pad_vjp(g, ctx):
    return (g[ctx.saved],)


_pad = defop("pad", pad_forward, pad_vjp,
             doc="Pad with a constant.  VJP: g cut back to the window where x sits")

_GATHER_MODES = ("edge", "reflect", "symmetric", "wrap")


def pad(x, pad_width, mode="constant", constant_values=0):
    """Pad x numpy style; mode 'constant' (constant_values gets no gradient), 'edge',
    'reflect', 'symmetric' or 'wrap'.  VJP: g cut back to x, copies' gradients added in"""
    x = _array_like(x)
    widths = _pad_widths(pad_width, x.shape)
    if mode != "constant" and mode not in _GATHER_MODES:
        raise ValueError(
            f"pad: mode {mode!r} is not supported; use 'constant', {', '.join(_GATHER_MODES)}"
        )
    if mode == "constant" or not any(b or a for b, a in widths):
        value = constant_values.data if isinstance(constant_values, Tensor) else constant_values
        return _pad(x, widths=widths, value=value)
    # These modes only copy elements of x, so pad gathers them, one axis at a time, with the
    # index numpy's own pad gives arange(n) in that mode; getitem's scatter-add VJP then adds
    # the gradients of all copies of an element.
    for axis, (before, after) in enumerate(widths):
        if before or after:
            if x.shape[axis] == 0:
                raise ValueError(
                    f"pad: cannot pad empty axis {axis} of an array of shape {x.shape} in mode "
                    f"{mode!r}"
                )
            index = np.pad(np.arange(x.shape[axis]), (before, after), mode=mode)
            x = getitem(x, (slice(None),) * axis + (index,))
    return x


def flip(x, axis=None):
    """Reverse the order of elements along ``axis`` (all axes when None).  VJP: g flipped"""
    x = _array_like(x)
    axes = range(x.ndim) if axis is None else _axes(axis, x.ndim, "flip", x.shape)
    return getitem(x, tuple(slice(None, None, -1) if i in axes else slice(None)
                            for i in range(x.ndim)))


def repeat(x, repeats, axis=None):
    """Repeat each element ``repeats`` times along ``axis`` (of the flattened x when None);
    repeats is an int or one count per element.  VJP: g summed over each element's copies"""
    x = _array_like(x)
    if axis is None:
        x, axis = flatten(x), 0
    axis = _axis(axis, x.ndim, "repeat", x.shape)
    counts = np.asarray(repeats.data if isinstance(repeats, Tensor) else repeats)
    n = x.shape[axis]
    if counts.dtype.kind not in "iu" or counts.ndim > 1:
        raise TypeError(f"repeat: repeats must be an int or a 1-D sequence of ints, got "
                        f"{repeats!r}")
    if (counts < 0).any():
        raise ValueError(f"repeat: repeats must be non-negative, got {repeats!r}")
    if counts.size == 1:
        k = int(counts.reshape(()))
        # (..., n, ...) -> (..., n, 1, ...) -> (..., n, k, ...) -> (..., n * k, ...)
        before, after = x.shape[:axis], x.shape[axis + 1:]
        column = reshape(x, before + (n, 1) + after)
        return reshape(broadcast_to(column, before + (n, k) + after), before + (n * k,) + after)
    if counts.shape != (n,):
        raise ValueError(
            f"repeat: {counts.size} repeats don't match axis {axis} of length {n} (array of "
            f"shape {x.shape})"
        )
    return getitem(x, (slice(None),) * axis + (np.repeat(np.arange(n), counts),))


def tile(x, reps):
    """Repeat the whole of x ``reps`` times along each axis, numpy style.
    VJP: g summed over the tiles"""
    x = _array_like(x)
    reps = (reps,) if _is_int(reps) else tuple(reps)
    if not all(_is_int(r) for r in reps):
        raise TypeError(f"tile: reps must be integers, got {reps!r}")
    if any(r < 0 for r in reps):
        raise ValueError(f"tile: reps must be non-negative, got {reps!r}")
    ndim = max(x.ndim, len(reps))
    reps = (1,) * (ndim - len(reps)) + reps
    shape = (1,) * (ndim - x.ndim) + x.shape
    # (s0, s1, ...) -> (1, s0, 1, s1, ...) -> (r0, s0, r1, s1, ...) -> (r0 s0, r1 s1, ...)
    spaced = reshape(x, tuple(v for s in shape for v in (1, s)))
    tiled = broadcast_to(spaced, tuple(v for r, s in zip(reps, shape) for v in (r, s)))
    return reshape(tiled, tuple(r * s for r, s in zip(reps, shape)))


def chunk(x, chunks, axis=0):
    """PyTorch's chunk: ``x`` split along ``axis`` into pieces of ceil(n / chunks) elements
    (the last may be smaller, and fewer than ``chunks`` pieces come back when n is not
    enough to fill them).  VJP: the pieces' g joined"""
    x = _array_like(x)
    if not _is_int(chunks) or chunks <= 0:
        raise ValueError(f"chunk: chunks must be a positive integer, got {chunks!r}")
    if x.ndim == 0:
        raise ValueError("chunk: a 0-d array cannot be chunked")
    n = x.shape[_axis(axis, x.ndim, "chunk", x.shape)]
    step = max(-(-n // chunks), 1)  # ceil(n / chunks); an empty axis gives one empty piece
    return split(x, list(range(step, n, step)), axis=axis)


# --- triangles --------------------------------------------------------------------------
def _triangle_forward(name, keep, x, k):
    if np.ndim(x) == 0:
        raise ValueError(f"{name}: expected an array of at least 1 dim, got a 0-d array")
    if not _is_int(k):
        raise TypeError(f"{name}: k must be an integer, got {k!r}")
    return keep(x, k=int(k)), None


def tril_forward(x, k=0):
    return _triangle_forward("tril", np.tril, x, k)


def tril_vjp(g, ctx):
    # The mask is the same at every step; a 1-D x was broadcast to rows, which the engine
    # sums back.
    return (np.tril(g, k=ctx.params.get("k", 0)),)


tril = defop("tril", tril_forward, tril_vjp,
             doc="Lower triangle of the last two axes: zero above diagonal k (numpy: a 1-D x "
                 "is a row repeated).  VJP: tril(g, k)")


def triu_forward(x, k=0):
    return _triangle_forward("triu", np.triu, x, k)


def triu_vjp(g, ctx):
    return (np.triu(g, k=ctx.params.get("k", 0)),)


triu = defop("triu", triu_forward, triu_vjp,
             doc="Upper triangle of the last two axes: zero below diagonal k (numpy: a 1-D x "
                 "is a row repeated).  VJP: triu(g, k)")


FUNCTIONS = {
    "reshape": reshape, "transpose": transpose, "swapaxes": swapaxes,
    "broadcast_to": broadcast_to, "squeeze": squeeze, "expand_dims": expand_dims,
    "ravel": flatten, "concatenate": concatenate, "stack": stack, "split": split, "pad": pad,
    "flip": flip, "repeat": repeat, "tile": tile, "tril": tril, "triu": triu,
}
