"""Helpers for the layer tests."""

import numpy as np

from autograd import Tensor
from autograd.testing import gradcheck, gradgradcheck


def _layer_function(layer, n, call, output):
    """(fn, params): ``fn(*inputs, *param_copies)`` runs ``output(call(layer, *inputs))``
    with each parameter attribute of ``layer`` bound to the given copy of that parameter
    (a parameter shared by several sub-modules, to the same copy), then restores them.
    gradcheck differentiates and perturbs its own copies of what it is given; this makes
    the layer use them."""
    call = call or (lambda module, *ts: module(*ts))
    params = list(layer.parameters())
    index = {id(p): i for i, p in enumerate(params)}
    slots = [(module, name, index[id(p)]) for _, module in layer.named_modules()
             for name, p in module._parameters.items() if p is not None]

    def fn(*ts):
        copies = ts[n:]
        for module, name, i in slots:  # bypass Module.__setattr__: no re-registration
            object.__setattr__(module, name, copies[i])
        try:
            return output(call(layer, *ts[:n]))
        finally:
            for module, name, i in slots:
                object.__setattr__(module, name, params[i])

    return fn, params


def _float_inputs(inputs):
    return [Tensor(np.array(x), requires_grad=True) if np.asarray(x).dtype.kind == "f" else x
            for x in inputs]


def layer_gradcheck(layer, *inputs, call=None, output=lambda out: out, **kwargs):
    """gradcheck of ``output(call(layer, *inputs))`` (``call`` defaults to ``layer(*inputs)``)
    with respect to every float input and every parameter of ``layer``, in float64; the
    layer is left as it was."""
    fn, params = _layer_function(layer, len(inputs), call, output)
    return gradcheck(fn, _float_inputs(inputs) + params, **kwargs)


def layer_gradgradcheck(layer, *inputs, call=None, output=lambda out: out, **kwargs):
    """gradgradcheck (second derivatives) of the same, over inputs and parameters."""
    fn, params = _layer_function(layer, len(inputs), call, output)
    return gradgradcheck(fn, _float_inputs(inputs) + params, **kwargs)


def torch_state(module):
    """A torch module's state as ndarrays, 2-D weights transposed to this library's (in, out)
    layout (conv weights keep PyTorch's layout, which this library shares)."""
    return {k: (v.T if v.ndim == 2 else v)
            for k, v in ((k, v.detach().numpy()) for k, v in module.state_dict().items())}
