"""Slow, obvious references for the convolution kernels and ops: direct loops in float64.

Written from the definitions, sharing no code with ops/ or ops/kernels/, so a bug in the
fast path cannot hide in its own reference.
"""

import numpy as np


def _pair(v):
    return (v, v) if np.isscalar(v) else tuple(v)


def out_size(size, k, s, p, d):
    return (size + 2 * p - d * (k - 1) - 1) // s + 1


def conv2d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """x (N, C, H, W), w (O, C/G, kh, kw), b (O,) -> (N, O, oh, ow), float64.

    ``out[n, o, i, j] = b[o] + sum_{c, p, q} w[o, c, p, q] *
    x[n, G(o) * C/G + c, i*sh + p*dh - ph, j*sw + q*dw - pw]`` with x = 0 outside.
    """
    (sh, sw), (ph, pw), (dh, dw) = _pair(stride), _pair(padding), _pair(dilation)
    n_batch, _, height, width = x.shape
    n_out, cg, kh, kw = w.shape
    og = n_out // groups
    oh, ow = out_size(height, kh, sh, ph, dh), out_size(width, kw, sw, pw, dw)
    out = np.zeros((n_batch, n_out, oh, ow))
    for n in range(n_batch):
        for o in range(n_out):
            first = (o // og) * cg
            for i in range(oh):
                for j in range(ow):
                    total = 0.0 if b is None else float(b[o])
                    for c in range(cg):
                        for p in range(kh):
                            for q in range(kw):
                                r, s = i * sh + p * dh - ph, j * sw + q * dw - pw
                                if 0 <= r < height and 0 <= s < width:
                                    total += float(w[o, c, p, q]) * float(x[n, first + c, r, s])
                    out[n, o, i, j] = total
    return out


def conv_transpose2d(x, w, b=None, stride=1, padding=0, output_padding=0, dilation=1, groups=1):
    """x (N, C_in, H, W), w (C_in, C_out/G, kh, kw), b (C_out,) -> (N, C_out, H_out, W_out).

    Every input element scatters ``x[n, c, i, j] * w[c, o, p, q]`` to output position
    ``(i*sh + p*dh - ph, j*sw + q*dw - pw)``; positions outside the output are dropped.
    """
    (sh, sw), (ph, pw), (dh, dw) = _pair(stride), _pair(padding), _pair(dilation)
    oph, opw = _pair(output_padding)
    n_batch, n_in, height, width = x.shape
    _, og, kh, kw = w.shape
    cg = n_in // groups
    out_h = (height - 1) * sh - 2 * ph + dh * (kh - 1) + oph + 1
    out_w = (width - 1) * sw - 2 * pw + dw * (kw - 1) + opw + 1
    out = np.zeros((n_batch, og * groups, out_h, out_w))
    for n in range(n_batch):
        for c in range(n_in):
            first = (c // cg) * og
            for i in range(height):
                for j in range(width):
                    for o in range(og):
                        for p in range(kh):
                            for q in range(kw):
                                r, s = i * sh + p * dh - ph, j * sw + q * dw - pw
                                if 0 <= r < out_h and 0 <= s < out_w:
                                    out[n, first + o, r, s] += float(x[n, c, i, j]) * float(
                                        w[c, o, p, q]
                                    )
    if b is not None:
        out += np.asarray(b, dtype=np.float64).reshape(-1, 1, 1)
    return out


def conv1d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """x (N, C, L), w (O, C/G, k) -> (N, O, L_out), via conv2d on a height of 1."""
    out = conv2d(
        x[:, :, None, :], w[:, :, None, :], b, (1, stride), (0, padding), (1, dilation), groups
    )
    return out[:, :, 0, :]


def im2col(x, kernel_size, stride, padding, dilation):
    """x (N, C, H, W) -> cols (C, kh, kw, N, oh, ow), element by element."""
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel_size, stride, padding, dilation
    n_batch, n_chan, height, width = x.shape
    oh, ow = out_size(height, kh, sh, ph, dh), out_size(width, kw, sw, pw, dw)
    cols = np.zeros((n_chan, kh, kw, n_batch, oh, ow), dtype=x.dtype)
    for c in range(n_chan):
        for p in range(kh):
            for q in range(kw):
                for n in range(n_batch):
                    for i in range(oh):
                        for j in range(ow):
                            r, s = i * sh + p * dh - ph, j * sw + q * dw - pw
                            if 0 <= r < height and 0 <= s < width:
                                cols[c, p, q, n, i, j] = x[n, c, r, s]
    return cols


def col2im(cols, input_size, stride, padding, dilation):
    """cols (C, kh, kw, N, oh, ow) -> x (N, C, H, W): each entry added where im2col read it."""
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    n_chan, kh, kw, n_batch, oh, ow = cols.shape
    height, width = input_size
    x = np.zeros((n_batch, n_chan, height, width), dtype=np.float64)
    for c in range(n_chan):
        for p in range(kh):
            for q in range(kw):
                for n in range(n_batch):
                    for i in range(oh):
                        for j in range(ow):
                            r, s = i * sh + p * dh - ph, j * sw + q * dw - pw
                            if 0 <= r < height and 0 <= s < width:
                                x[n, c, r, s] += cols[c, p, q, n, i, j]
    return x
