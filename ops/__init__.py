"""The op library: every op registers its forward and VJP through ``autograd.core.defop``.

The modules below are the derivative sheet, one topic each. Importing ``ops`` also installs
Tensor's operators and the method forms of ops (``ops.tensor_methods``) and fills the
numpy-dispatch tables, which is what makes every VJP differentiable under create_graph.
"""

from ops.elementwise import (
    add, sub, mul, div, neg, pow, exp, log, sqrt, abs, sin, cos, tanh, erf, maximum, minimum,
    where, clip, astype, log1p, expm1, square, logaddexp,
)
from ops.activations import sigmoid, relu, leaky_relu, elu, gelu, softplus, silu
from ops.reductions import logsumexp, max, mean, min, norm, prod, std, sum, var
from ops.cumulative import cumsum
from ops.sorting import argmax, argmin, argsort, sort, topk
from ops.shape import (
    broadcast_to, chunk, concatenate, expand_dims, flatten, flip, pad, repeat, reshape, split,
    squeeze, stack, swapaxes, tile, transpose, tril, triu,
)
from ops.indexing import gather, getitem, one_hot, scatter_add, take_along_axis
from ops.linalg import matmul, einsum
from ops.products import dot, inner, outer, tensordot, vdot
from ops.functional import softmax, log_softmax, linear, dropout, embedding
from ops.losses import cross_entropy, nll_loss
from ops.pointwise_losses import (
    binary_cross_entropy, binary_cross_entropy_with_logits, huber_loss, kl_div, l1_loss,
    mse_loss, smooth_l1_loss,
)
from ops.conv import conv1d, conv2d, conv_transpose2d
from ops.pool import max_pool2d, avg_pool2d, adaptive_avg_pool2d, global_avg_pool2d
from ops.normalization import batch_norm, layer_norm
from ops.attention import scaled_dot_product_attention
from ops.recurrent import gru_sequence, lstm_sequence, rnn_sequence
from ops import tensor_methods  # noqa: F401  (installs Tensor's operators and methods)

__all__ = [
    "add", "sub", "mul", "div", "neg", "pow", "exp", "log", "sqrt", "abs", "sin", "cos",
    "tanh", "sigmoid", "relu", "leaky_relu", "elu", "erf", "gelu", "softplus", "maximum",
    "minimum", "where", "clip", "astype", "log1p", "expm1", "square", "logaddexp", "silu",
    "logsumexp", "max", "mean", "min", "norm", "prod", "std", "sum", "var", "cumsum",
    "argmax", "argmin", "argsort", "sort", "topk", "broadcast_to", "chunk", "concatenate",
    "expand_dims", "flatten", "flip", "pad", "repeat", "reshape", "split", "squeeze", "stack",
    "swapaxes", "tile", "transpose", "tril", "triu", "gather", "getitem", "one_hot",
    "scatter_add", "take_along_axis", "matmul", "einsum", "dot", "inner", "outer",
    "tensordot", "vdot", "softmax", "log_softmax", "linear", "dropout", "embedding",
    "cross_entropy", "nll_loss", "mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss",
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div", "conv1d", "conv2d",
    "conv_transpose2d", "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "global_avg_pool2d",
    "batch_norm", "layer_norm",
    "scaled_dot_product_attention", "gru_sequence", "lstm_sequence", "rnn_sequence",
]
