"""Helpers for the layer tests."""

import numpy as np

from autograd import Tensor
from autograd.testing import gradcheck


def layer_gradcheck(layer, *inputs, call=None, output=lambda out: out, **kwargs):
    """gradcheck of ``output(call(layer, *inputs))`` (``call`` defaults to ``layer(*inputs)``)
    with respect to every float input and every parameter of ``layer`` (float64; gradcheck
    perturbs the parameters in place)."""
    call = call or (lambda module, *ts: module(*ts))
    tensors = [Tensor(np.array(x), requires_grad=True) if np.asarray(x).dtype.kind == "f" else x
               for x in inputs]
    params = list(layer.parameters())
    n = len(tensors)

    def fn(*ts):
        return output(call(layer, *ts[:n]))

    return gradcheck(fn, tensors + params, **kwargs)


def torch_state(module):
    """A torch module's state as ndarrays, 2-D weights transposed to this library's (in, out)
    layout (conv weights keep PyTorch's layout, which this library shares)."""
    return {k: (v.T if v.ndim == 2 else v)
            for k, v in ((k, v.detach().numpy()) for k, v in module.state_dict().items())}
