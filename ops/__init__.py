"""The op library: every op registers its forward and VJP through ``autograd.core.defop``.

The modules below are the derivative sheet, one topic each. Importing ``ops`` also installs
Tensor's operators and the method forms of ops (``ops.tensor_methods``) and fills the
numpy-dispatch tables, which is what makes every VJP differentiable under create_graph.
"""

from ops.elementwise import (
    add, sub, mul, div, neg, pow, exp, log, sqrt, abs, sin, cos, tanh, sigmoid, relu,
    leaky_relu, elu, erf, gelu, softplus, maximum, minimum, where, clip, astype,
)
from ops.reductions import logsumexp, max, mean, min, norm, std, sum, var
from ops.shape import (
    broadcast_to, concatenate, expand_dims, flatten, flip, pad, repeat, reshape, split,
    squeeze, stack, swapaxes, tile, transpose,
)
from ops.indexing import getitem, scatter_add
from ops.linalg import matmul, einsum
from ops.functional import softmax, log_softmax, linear, dropout, embedding
from ops.losses import cross_entropy, nll_loss, mse_loss, binary_cross_entropy_with_logits
from ops.conv import conv1d, conv2d, conv_transpose2d
from ops.pool import max_pool2d, avg_pool2d, global_avg_pool2d
from ops.normalization import batch_norm, layer_norm
from ops.attention import scaled_dot_product_attention
from ops.recurrent import gru_sequence, lstm_sequence, rnn_sequence
from ops import tensor_methods  # noqa: F401  (installs Tensor's operators and methods)

__all__ = [
    "add", "sub", "mul", "div", "neg", "pow", "exp", "log", "sqrt", "abs", "sin", "cos",
    "tanh", "sigmoid", "relu", "leaky_relu", "elu", "erf", "gelu", "softplus", "maximum",
    "minimum", "where", "clip", "astype", "logsumexp", "max", "mean", "min", "norm", "std",
    "sum", "var", "broadcast_to", "concatenate", "expand_dims", "flatten", "flip", "pad",
    "repeat", "reshape", "split", "squeeze", "stack", "swapaxes", "tile", "transpose",
    "getitem", "scatter_add", "matmul", "einsum", "softmax", "log_softmax", "linear",
    "dropout", "embedding", "cross_entropy", "nll_loss", "mse_loss",
    "binary_cross_entropy_with_logits", "conv1d", "conv2d", "conv_transpose2d",
    "max_pool2d", "avg_pool2d", "global_avg_pool2d", "batch_norm", "layer_norm",
    "scaled_dot_product_attention", "gru_sequence", "lstm_sequence", "rnn_sequence",
]
