"""Transformer encoder: ``TransformerEncoderLayer`` (self-attention and a feed-forward block,
each with a residual connection and layer norm) and ``TransformerEncoder`` (a stack of
copies of one layer), as PyTorch's ``nn.TransformerEncoderLayer`` / ``nn.TransformerEncoder``.

Sub-modules carry PyTorch's names (``self_attn``, ``linear1``, ``linear2``, ``norm1``,
``norm2``, ``dropout``, ``dropout1``, ``dropout2``; ``layers.0``, ... and ``norm``), so a
PyTorch state dict loads once its 2-D weights are transposed to this library's (in, out).
"""

import copy

import numpy as np

import ops
from autograd.core.tensor import unwrap
from autograd.nn.attention import MultiheadAttention
from autograd.nn.containers import ModuleList
from autograd.nn.layers import GELU, Dropout, Linear, ReLU, shape_of
from autograd.nn.module import Module
from autograd.nn.norm import LayerNorm

__all__ = ["TransformerEncoder", "TransformerEncoderLayer"]

_ACTIVATIONS = {"relu": ReLU, "gelu": GELU}


class TransformerEncoderLayer(Module):
    """Self-attention then a feed-forward block, each added back to its input.

    ``norm_first=False`` (post-norm, the original Transformer)::

        x = norm1(x + dropout1(self_attn(x, x, x)))
        x = norm2(x + dropout2(linear2(dropout(activation(linear1(x))))))

    ``norm_first=True`` (pre-norm) normalises each block's input instead:
    ``x = x + dropout1(self_attn(norm1(x), ...))`` and likewise for the feed-forward block.

    Parameters
    ----------
    d_model : int
        Features of each position (the attention's ``embed_dim``).
    nhead : int
        Attention heads; must divide ``d_model``.
    dim_feedforward : int
        Width of the feed-forward block's hidden layer.
    dropout : float
        Dropout probability on the attention weights, inside the feed-forward block and on
        each block's output, in training mode only.
    activation : {"relu", "gelu"} or callable
        The feed-forward block's non-linearity (a callable maps a Tensor to a Tensor).
    layer_norm_eps : float
        ``eps`` of both layer norms.
    batch_first : bool
        Input (N, L, d_model) when True, (L, N, d_model) when False; unbatched input is
        (L, d_model) either way.
    norm_first : bool
        Pre-norm when True, post-norm when False.
    bias : bool
        Biases in the linear layers, the attention and the layer norms.

    >>> layer = nn.TransformerEncoderLayer(64, 4, dim_feedforward=128, batch_first=True)
    >>> layer(x, is_causal=True).shape          # x (N, L, 64) -> (N, L, 64)
    """

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu",
                 layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True,
                 dtype=None):
        super().__init__()
        if isinstance(activation, str):
            if activation not in _ACTIVATIONS:
                raise ValueError(f"TransformerEncoderLayer: activation must be 'relu', 'gelu' "
                                 f"or a callable, got {activation!r}")
            activation = _ACTIVATIONS[activation]()
        elif not callable(activation):
            raise TypeError(f"TransformerEncoderLayer: activation must be 'relu', 'gelu' or a "
                            f"callable, got {type(activation).__name__}")
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first, dtype=dtype)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, dtype=dtype)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, dtype=dtype)
        self.norm_first, self.batch_first = bool(norm_first), bool(batch_first)
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.activation = activation

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal=False):
        """src (L, N, E), or (N, L, E) with ``batch_first``, or (L, E) -> the same shape.

        ``src_mask`` (L, L) or (N * nhead, L, L) and ``src_key_padding_mask`` (N, L) follow
        ``MultiheadAttention``: boolean True = may NOT attend, or float added to the scores.
        ``is_causal`` blocks attention to later positions.
        """
        shape = shape_of(src)
        d_model = self.self_attn.embed_dim
        if len(shape) not in (2, 3) or shape[-1] != d_model:
            layout = "(N, L, {0})" if self.batch_first else "(L, N, {0})"
            raise ValueError(
                f"TransformerEncoderLayer(d_model={d_model}): expected input of shape "
                f"{layout.format(d_model)} or (L, {d_model}), got shape {shape}"
            )
        x = src
        unbatched = len(shape) == 2
        if unbatched:  # (L, E) -> a batch of one in the layout the attention expects
            x = ops.expand_dims(x, 0 if self.batch_first else 1)
            if src_key_padding_mask is not None:  # (L,) -> (1, L)
                src_key_padding_mask = np.asarray(unwrap(src_key_padding_mask))[None]
        if self.norm_first:
            x = x + self._attention_block(self.norm1(x), src_mask, src_key_padding_mask,
                                          is_causal)
            x = x + self._feedforward_block(self.norm2(x))
        else:
            x = self.norm1(x + self._attention_block(x, src_mask, src_key_padding_mask,
                                                     is_causal))
            x = self.norm2(x + self._feedforward_block(x))
        return ops.squeeze(x, 0 if self.batch_first else 1) if unbatched else x

    def _attention_block(self, x, attn_mask, key_padding_mask, is_causal):
        out, _ = self.self_attn(x, x, x, key_padding_mask=key_padding_mask,
                                attn_mask=attn_mask, is_causal=is_causal)
        return self.dropout1(out)

    def _feedforward_block(self, x):
        return self.dropout2(self.linear2(self.dropout(self.activation(self.linear1(x)))))

    def extra_repr(self):
        return f"norm_first={self.norm_first}" if self.norm_first else ""


class TransformerEncoder(Module):
    """``num_layers`` copies of ``encoder_layer`` applied in turn (each with its own
    parameters), then ``norm`` when given (e.g. a LayerNorm after pre-norm layers).

    >>> layer = nn.TransformerEncoderLayer(64, 4, batch_first=True, norm_first=True)
    >>> encoder = nn.TransformerEncoder(layer, 6, norm=nn.LayerNorm(64))
    >>> encoder(x, mask=causal_mask).shape          # x (N, L, 64) -> (N, L, 64)
    """

    def __init__(self, encoder_layer, num_layers, norm=None):
        super().__init__()
        if num_layers < 1:
            raise ValueError(f"TransformerEncoder: num_layers must be positive, got {num_layers}")
        self.layers = ModuleList([copy.deepcopy(encoder_layer) for _ in range(num_layers)])
        self.num_layers = int(num_layers)
        self.norm = norm

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal=False):
        """src -> the same shape; the masks and ``is_causal`` go to every layer."""
        x = src
        for layer in self.layers:
            x = layer(x, src_mask=mask, src_key_padding_mask=src_key_padding_mask,
                      is_causal=is_causal)
        return x if self.norm is None else self.norm(x)
