"""Fusing chains of elementwise ops into generated numba loops.

An op registered with a ``scalar`` formula (``defop(..., scalar=("tanh(x)", ("g * (1 - out
* out)",)))``) can join a group: consecutive op events of one shape and dtype whose array
inputs all have that shape. A group becomes two generated loops over the elements:

- forward: reads the group's outside inputs once, computes every member per element in
  registers, and writes only the outputs something outside the group reads;
- backward: recomputes the members per element, then runs their VJP formulas newest first
  (the engine's order), and writes one gradient per outside input that needs one, summed
  over its uses in the group.

So a chain of n ops costs one pass over memory each way instead of n (and no temporaries),
and one call instead of n Python calls.
"""

import ast
import math
import sys

import numba
import numpy as np

_KERNELS = {}  # generated source -> compiled function (a retrace reuses the machine code)
_FUNCTIONS = {name: getattr(math, name) for name in (
    "exp", "log", "tanh", "sin", "cos", "sqrt", "log1p", "expm1", "erf", "fabs")}
MIN_GROUP = 2  # a single op gains nothing from a loop of its own


def _refcount_when_free():
    held = {0: np.empty(1)}
    buf = held.get(0)
    return sys.getrefcount(buf)  # the dict, ``buf`` and getrefcount's argument


_FREE = _refcount_when_free()


def fusible(op_event, shape_of):
    """Whether an op event can join a group: a scalar formula, a float output, numeric
    params, and inputs that are arrays of the output's shape and dtype, or numbers."""
    if op_event.op.scalar is None or op_event.dtype.kind != "f":
        return False
    if not all(isinstance(v, (int, float)) for v in op_event.params.values()):
        return False
    for s in op_event.sources:
        if s.kind == "const" and isinstance(s.value, (int, float)) and not isinstance(
                s.value, bool):
            continue
        if shape_of(s) != (op_event.shape, op_event.dtype):
            return False
    return True


class _Renamer(ast.NodeTransformer):
    def __init__(self, names):
        self.names = names

    def visit_Name(self, node):
        if node.id in self.names:
            return ast.copy_location(ast.Name(self.names[node.id], ast.Load()), node)
        if node.id not in _FUNCTIONS:
            raise ValueError(f"unknown name {node.id!r} in a scalar formula")
        return node


def _expr(formula, names):
    tree = _Renamer(names).visit(ast.parse(formula, mode="eval"))
    return ast.unparse(tree)


class Group:
    """A fused chain: its members (op indices), outside inputs, and what it writes.

    ``inputs``: the outside sources in order (arrays of the group's shape, or numbers);
    ``writes``: members whose outputs are read outside the group;
    ``grad_in``: members whose outputs may receive a gradient from outside;
    ``grad_out``: indices into ``inputs`` that get a gradient."""

    def __init__(self, members, ops, read_outside, grad_in):
        self.members = members
        self.shape, self.dtype = ops[members[0]].shape, ops[members[0]].dtype
        self.inputs, self.input_key = [], {}
        inside = set(members)
        for k in members:
            for s in ops[k].sources:
                if s.kind == "tmp" and s.index in inside:
                    continue
                key = _source_key(s)
                if key not in self.input_key:
                    self.input_key[key] = len(self.inputs)
                    self.inputs.append(s)
        self.writes = [k for k in members if k in read_outside]
        self.grad_in = [k for k in members if k in grad_in]
        needs = set()
        for k in members:
            for s, need in zip(ops[k].sources, ops[k].needs):
                if need and not (s.kind == "tmp" and s.index in inside):
                    needs.add(self.input_key[_source_key(s)])
        self.grad_out = sorted(needs)
        self.forward_kernel = self.backward_kernel = None
        self._ops = ops
        self._buffers = {}  # the last call's outputs, reused once nothing else holds them

    # --- code generation -----------------------------------------------------------------
    def _members_code(self, indent):
        """Per element: read the inputs and compute every member into t<k>."""
        ops, lines = self._ops, []
        cast = f"np.{self.dtype.name}"
        for j, s in enumerate(self.inputs):
            is_array = not (s.kind == "const" and isinstance(s.value, (int, float)))
            lines.append(f"v{j} = in{j}[i]" if is_array else None)
        lines = [line for line in lines if line]
        inside = set(self.members)
        for k in self.members:
            e = ops[k]
            names = self._names(e, inside)
            names.update({p: f"{cast}(p{k}_{p})" for p in e.params})
            lines.append(f"t{k} = {_expr(e.op.scalar[0], names)}")
        return [indent + line for line in lines]

    def _names(self, e, inside):
        names = {}
        for name, s in zip(_ordered_inputs(e.op), e.sources):
            names[name] = (f"t{s.index}" if s.kind == "tmp" and s.index in inside
                           else f"v{self.input_key[_source_key(s)]}")
        return names

    def _signature(self):
        args = []
        for j, s in enumerate(self.inputs):
            args.append(f"in{j}" if not (s.kind == "const" and isinstance(s.value, (int, float)))
                        else f"v{j}")
        for k in self.members:
            args += [f"p{k}_{p}" for p in self._ops[k].params]
        return args

    def _compile(self, lines, name):
        source = "\n".join(lines)
        kernel = _KERNELS.get(source)
        if kernel is None:
            namespace = {"np": np, **_FUNCTIONS}
            exec(compile(source, f"<autograd.jit fused {name}>", "exec"), namespace)
            kernel = numba.njit(fastmath=False, error_model="numpy")(namespace[name])
            _KERNELS[source] = kernel
        return kernel

    def build(self):
        cast = f"np.{self.dtype.name}"
        scalars = [f"    v{j} = {cast}(v{j})" for j, s in enumerate(self.inputs)
                   if s.kind == "const" and isinstance(s.value, (int, float))]
        args = self._signature()
        out_args = [f"out{k}" for k in self.writes]
        lines = [f"def fused_forward(n, {', '.join(args + out_args)}):", *scalars,
                 "    for i in range(n):", *self._members_code(" " * 8)]
        lines += [f"        out{k}[i] = t{k}" for k in self.writes]
        self.forward_kernel = self._compile(lines, "fused_forward")
        self.param_values = tuple(v for k in self.members for v in self._ops[k].params.values())
        self.size = int(np.prod(self.shape))
        if not self.grad_out:
            return self
        gin = [f"gin{k}" for k in self.grad_in]
        gout = [f"gout{j}" for j in self.grad_out]
        lines = [f"def fused_backward(n, {', '.join(args + gin + gout)}):", *scalars,
                 f"    zero = {cast}(0)", "    for i in range(n):",
                 *self._members_code(" " * 8)]
        body = [f"g{k} = zero" for k in self.members]
        body += [f"a{j} = zero" for j in self.grad_out]
        body += [f"g{k} = gin{k}[i]" for k in self.grad_in]
        inside = set(self.members)
        for k in reversed(self.members):
            e = self._ops[k]
            names = self._names(e, inside)
            names.update({"g": f"g{k}", "out": f"t{k}"})
            names.update({p: f"{cast}(p{k}_{p})" for p in e.params})
            for formula, s, need in zip(e.op.scalar[1], e.sources, e.needs):
                if not need:
                    continue
                target = (f"g{s.index}" if s.kind == "tmp" and s.index in inside
                          else f"a{self.input_key[_source_key(s)]}")
                body.append(f"{target} = {target} + ({_expr(formula, names)})")
        body += [f"gout{j}[i] = a{j}" for j in self.grad_out]
        lines += [" " * 8 + line for line in body]
        self.backward_kernel = self._compile(lines, "fused_backward")
        return self

    # --- running ---------------------------------------------------------------------------
    def _buffer(self, key):
        """An array of the group's shape for output ``key``: last call's, when only this
        group still holds it (its reference count says so; a returned tensor, a view or a
        gradient handed to ``.grad`` keeps it taken), else a new one."""
        buf = self._buffers.get(key)
        if buf is not None and sys.getrefcount(buf) == _FREE:
            return buf
        buf = self._buffers[key] = np.empty(self.shape, self.dtype)
        return buf

    def forward(self, inputs):
        """inputs: arrays (any layout) or numbers -> {member: output array}."""
        flat = [np.ascontiguousarray(a).reshape(-1) if isinstance(a, np.ndarray) else a
                for a in inputs]
        outs = {k: self._buffer(("out", k)) for k in self.writes}
        self.forward_kernel(self.size, *flat, *self.param_values,
                            *(o.reshape(-1) for o in outs.values()))
        return outs, flat

    def backward(self, flat, grads_in):
        """grads_in: {member: gradient or None} -> {input index: gradient}."""
        n = self.size
        zeros = None
        gin = []
        for k in self.grad_in:
            g = grads_in.get(k)
            if g is None:
                zeros = np.zeros(n, self.dtype) if zeros is None else zeros
                gin.append(zeros)
            else:
                gin.append(np.ascontiguousarray(g, dtype=self.dtype).reshape(-1))
        gout = {j: self._buffer(("grad", j)) for j in self.grad_out}
        self.backward_kernel(n, *flat, *self.param_values, *gin,
                             *(g.reshape(-1) for g in gout.values()))
        return gout


def _ordered_inputs(op):
    return [name for name in op.signature.parameters if name in op.input_names]


def _source_key(s):
    if s.kind in ("arg", "tmp"):
        return (s.kind, s.index)
    return (s.kind, id(s.value))


def find_groups(ops, shape_of, breaks):
    """Runs of consecutive fusible op events (no backward or host event between them:
    ``breaks`` holds the op indices after which one happened)."""
    groups, run = [], []
    for k, e in enumerate(ops):
        can = fusible(e, shape_of)
        first = ops[run[0]] if run else None
        joins = (can and first is not None and run[-1] not in breaks
                 and (e.shape, e.dtype) == (first.shape, first.dtype))
        if joins:
            run.append(k)
            continue
        if len(run) >= MIN_GROUP:
            groups.append(run)
        run = [k] if can else []
    if len(run) >= MIN_GROUP:
        groups.append(run)
    return groups
