"""Multi-head attention over the fused ``ops.scaled_dot_product_attention``."""

import math

import numpy as np

import ops
from autograd.nn import init
from autograd.nn.layers import Linear, empty_param, shape_of, size_arg
from autograd.nn.module import Module
from autograd.core.tensor import unwrap
from ops.attention import attention_dropout_mask, attention_masks, attention_weights

__all__ = ["MultiheadAttention"]


class MultiheadAttention(Module):
    """Multi-head scaled dot-product attention, as PyTorch's ``nn.MultiheadAttention``.

    Inputs are (L, N, E) — or (N, L, E) with ``batch_first`` — for the query and (S, N, kdim),
    (S, N, vdim) for key and value. The projections are stored ``(in, out)`` for ``x @ w``:
    ``in_proj_weight`` (E, 3E) holds the q, k, v projections side by side (when kdim and
    vdim equal E; else ``q_proj_weight``, ``k_proj_weight``, ``v_proj_weight``), and
    ``out_proj`` is a Linear(E, E).

    Masks follow PyTorch's module: ``key_padding_mask`` (N, S) and ``attn_mask`` (L, S) or
    (N * num_heads, L, S), boolean True = may NOT attend, or float added to the scores;
    ``is_causal`` blocks keys after each query's position.

    ``dropout`` zeroes each attention weight with that probability in training mode (the
    rest scaled by 1 / (1 - dropout)), with masks from the generator of
    ``autograd.nn.init`` (``nn.init.seed`` makes them reproducible); eval mode uses every
    weight. The weights returned with ``need_weights`` are the ones applied, dropout
    included, as PyTorch's.

    >>> mha = nn.MultiheadAttention(64, 4, batch_first=True)
    >>> out, _ = mha(x, x, x, is_causal=True)           # x (N, L, 64) -> (N, L, 64)
    """

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, batch_first=False,
                 kdim=None, vdim=None, dtype=None):
        super().__init__()
        if isinstance(dropout, bool) or not 0 <= dropout < 1:
            raise ValueError(f"MultiheadAttention: dropout must be in [0, 1), got {dropout!r}")
        self.dropout = float(dropout)
        name = "MultiheadAttention"
        embed_dim = size_arg(name, "embed_dim", embed_dim)
        num_heads = size_arg(name, "num_heads", num_heads)
        if embed_dim < 1 or num_heads < 1 or embed_dim % num_heads:
            raise ValueError(
                f"{name}: embed_dim {embed_dim} must be a positive multiple of num_heads "
                f"{num_heads}"
            )
        self.embed_dim, self.num_heads = embed_dim, num_heads
        self.head_dim = self.embed_dim // self.num_heads
        self.kdim = self.embed_dim if kdim is None else size_arg(name, "kdim", kdim)
        self.vdim = self.embed_dim if vdim is None else size_arg(name, "vdim", vdim)
        self.batch_first = batch_first
        e = self.embed_dim
        self.packed = self.kdim == e and self.vdim == e
        if self.packed:
            self.in_proj_weight = empty_param((e, 3 * e), dtype)
        else:
            self.q_proj_weight = empty_param((e, e), dtype)
            self.k_proj_weight = empty_param((self.kdim, e), dtype)
            self.v_proj_weight = empty_param((self.vdim, e), dtype)
        self.register_parameter("in_proj_bias", empty_param(3 * e, dtype) if bias else None)
        self.out_proj = Linear(e, e, bias=bias, dtype=dtype)
        self.reset_parameters()

    def reset_parameters(self):
        """Xavier-uniform projections and zero biases, as PyTorch."""
        if self.packed:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            for w in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                init.xavier_uniform_(w)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)

    def _projections(self):
        e = self.embed_dim
        if self.packed:
            w = self.in_proj_weight
            ws = (w[:, :e], w[:, e: 2 * e], w[:, 2 * e:])
        else:
            ws = (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight)
        b = self.in_proj_bias
        bs = (None,) * 3 if b is None else (b[:e], b[e: 2 * e], b[2 * e:])
        return ws, bs

    def _check(self, query, key, value):
        layout = "(N, {0}, {1})" if self.batch_first else "({0}, N, {1})"
        shapes = [shape_of(t) for t in (query, key, value)]
        wants = [(self.embed_dim, "L"), (self.kdim, "S"), (self.vdim, "S")]
        ok = all(len(s) == 3 and s[-1] == d for s, (d, _) in zip(shapes, wants))
        n_axis = 0 if self.batch_first else 1
        s_axis = 1 - n_axis
        if ok:
            ok = shapes[0][n_axis] == shapes[1][n_axis] == shapes[2][n_axis] and (
                shapes[1][s_axis] == shapes[2][s_axis])
        if not ok:
            expected = ", ".join(layout.format(t, d) for d, t in wants)
            raise ValueError(
                f"{self!r}: expected query, key, value of shapes {expected}, got "
                f"{shapes[0]}, {shapes[1]}, {shapes[2]}"
            )

    def _combined_mask(self, key_padding_mask, attn_mask, n, L, S):
        """PyTorch's module masks -> one mask for the op (True = may attend, or additive),
        broadcasting to (N, heads, L, S)."""
        masks = []
        if attn_mask is not None:
            m = np.asarray(unwrap(attn_mask))
            if m.shape == (L, S):
                m = m[None, None]
            elif m.shape == (n * self.num_heads, L, S):
                m = m.reshape(n, self.num_heads, L, S)
            else:
                raise ValueError(
                    f"{self!r}: attn_mask of shape {m.shape}, expected ({L}, {S}) or "
                    f"({n * self.num_heads}, {L}, {S})"
                )
            masks.append(m)
        if key_padding_mask is not None:
            m = np.asarray(unwrap(key_padding_mask))
            if m.shape != (n, S):
                raise ValueError(
                    f"{self!r}: key_padding_mask of shape {m.shape}, expected ({n}, {S})"
                )
            masks.append(m[:, None, None, :])
        if not masks:
            return None
        if all(m.dtype == bool for m in masks):
            blocked = masks[0] if len(masks) == 1 else masks[0] | masks[1]
            return ~blocked
        additive = 0.0
        for m in masks:
            additive = additive + (np.where(m, -np.inf, 0.0) if m.dtype == bool else m)
        return np.asarray(additive)

    def forward(self, query, key, value, key_padding_mask=None, attn_mask=None,
                is_causal=False, need_weights=False, average_attn_weights=True):
        """-> (output like query, attention weights or None).

        With ``need_weights`` the weights come back as an ndarray without gradient:
        (N, L, S) averaged over heads, or (N, heads, L, S).
        """
        self._check(query, key, value)
        if not self.batch_first:  # (L, N, E) -> (N, L, E)
            query, key, value = (ops.transpose(t, (1, 0, 2)) for t in (query, key, value))
        n, L, _ = query.shape
        S = key.shape[1]
        h, d = self.num_heads, self.head_dim
        (wq, wk, wv), (bq, bk, bv) = self._projections()
        q, k, v = (ops.transpose(ops.reshape(ops.linear(x, w, b), (n, x.shape[1], h, d)),
                                 (0, 2, 1, 3))  # (N, len, E) -> (N, heads, len, d)
                   for x, w, b in ((query, wq, bq), (key, wk, bk), (value, wv, bv)))
        mask = self._combined_mask(key_padding_mask, attn_mask, n, L, S)
        dropout_mask = None
        if self.training and self.dropout:
            dropout_mask = attention_dropout_mask((n, h, L, S), self.dropout, q.dtype,
                                                  init.get_rng())
        out = ops.scaled_dot_product_attention(q, k, v, mask=mask, is_causal=is_causal,
                                               dropout_mask=dropout_mask)
        out = ops.reshape(ops.transpose(out, (0, 2, 1, 3)), (n, L, self.embed_dim))
        out = self.out_proj(out)  # (N, L, E)
        if not self.batch_first:
            out = ops.transpose(out, (1, 0, 2))
        weights = None
        if need_weights:
            keep, add = attention_masks(mask, is_causal, L, S, q.dtype)
            weights = attention_weights(q.data, k.data, keep, add, 1.0 / math.sqrt(d))
            if dropout_mask is not None:
                weights = weights * dropout_mask
            if average_attn_weights:
                weights = weights.mean(axis=1)
        return out, weights

    def extra_repr(self):
        s = f"embed_dim={self.embed_dim}, num_heads={self.num_heads}"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.kdim != self.embed_dim or self.vdim != self.embed_dim:
            s += f", kdim={self.kdim}, vdim={self.vdim}"
        if self.in_proj_bias is None:
            s += ", bias=False"
        return s + (", batch_first=True" if self.batch_first else "")
