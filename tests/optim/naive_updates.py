"""Slow, obvious references of the optimizers' updates: one element at a time, in numpy
scalars of the parameter's dtype, each formula written out as in PyTorch's documentation
(with the order of operations of optim/: the fused kernels must agree bit for bit).

Each takes the parameter, gradient and state arrays (any shape, one dtype) and returns the
new ones as fresh arrays; ``step`` is the step being taken (1 on the first).
"""

import math

import numpy as np


def _elements(*arrays):
    flat = [np.array(a, copy=True).reshape(-1) for a in arrays]
    return flat, range(flat[0].size)


def _shaped(like, *flat):
    return [f.reshape(np.shape(like)) for f in flat]


def sgd(p, g, buf, *, lr, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0):
    """``buf`` None: the first step (the buffer starts as the gradient)."""
    c = p.dtype.type
    first = buf is None
    (p1, g1, b1), elements = _elements(p, g, p if first else buf)
    for i in elements:
        d = g1[i]
        if weight_decay != 0:
            d = p1[i] * c(weight_decay) + d
        if momentum != 0:
            if first:
                b1[i] = d
            elif dampening != 0:
                b1[i] = b1[i] * c(momentum) + d * c(1 - dampening)
            else:
                b1[i] = b1[i] * c(momentum) + d
            d = b1[i] * c(momentum) + d if nesterov else b1[i]
        p1[i] = p1[i] - d * c(lr)
    return _shaped(p, p1, b1)


def adam(p, g, m, v, v_max, step, *, lr, betas, eps, weight_decay=0.0, decoupled=False,
         amsgrad=False):
    c = p.dtype.type
    beta1, beta2 = betas
    bias1, bias2 = 1 - beta1**step, 1 - beta2**step
    (p1, g1, m1, v1, vm1), elements = _elements(p, g, m, v, v if v_max is None else v_max)
    for i in elements:
        d = g1[i]
        if weight_decay != 0 and not decoupled:
            d = p1[i] * c(weight_decay) + d
        if weight_decay != 0 and decoupled:
            p1[i] = p1[i] * c(1 - lr * weight_decay)
        m1[i] = m1[i] + (d - m1[i]) * c(1 - beta1)
        v1[i] = v1[i] * c(beta2) + d * d * c(1 - beta2)
        v_hat = v1[i]
        if amsgrad:
            vm1[i] = np.maximum(vm1[i], v1[i])
            v_hat = vm1[i]
        # lr * m/bias1 / (sqrt(v_hat/bias2) + eps), with sqrt(bias2) taken into the scalars
        denom = np.sqrt(v_hat) + c(eps * math.sqrt(bias2))
        p1[i] = p1[i] - m1[i] / denom * c(lr * math.sqrt(bias2) / bias1)
    return _shaped(p, p1, m1, v1, vm1)


def rmsprop(p, g, square_avg, grad_avg, buf, *, lr, alpha, eps, weight_decay=0.0,
            momentum=0.0, centered=False):
    c = p.dtype.type
    (p1, g1, s1, a1, b1), elements = _elements(p, g, square_avg, grad_avg, buf)
    for i in elements:
        d = g1[i]
        if weight_decay != 0:
            d = p1[i] * c(weight_decay) + d
        s1[i] = s1[i] * c(alpha) + d * d * c(1 - alpha)
        variance = s1[i]
        if centered:
            a1[i] = a1[i] + (d - a1[i]) * c(1 - alpha)
            variance = s1[i] - a1[i] * a1[i]
        step = d / (np.sqrt(variance) + c(eps))
        if momentum > 0:
            b1[i] = b1[i] * c(momentum) + step
            step = b1[i]
        p1[i] = p1[i] - step * c(lr)
    return _shaped(p, p1, s1, a1, b1)


def adagrad(p, g, total, step, *, lr, lr_decay=0.0, eps=1e-10, weight_decay=0.0):
    c = p.dtype.type
    (p1, g1, s1), elements = _elements(p, g, total)
    clr = lr / (1 + (step - 1) * lr_decay)
    for i in elements:
        d = g1[i]
        if weight_decay != 0:
            d = p1[i] * c(weight_decay) + d
        s1[i] = s1[i] + d * d
        p1[i] = p1[i] - d / (np.sqrt(s1[i]) + c(eps)) * c(clr)
    return _shaped(p, p1, s1)
