"""Eager Variables inside a graph, and `tf.print` as an op: what a traced `tf.function` needs.

A TF2 `tf.Variable` lives outside any graph. When a traced function reads one, the graph gets a
`ReadVariableOp` whose kernel reads the variable's storage when the graph runs (so a later call
sees the updated value), and `v.assign(x)` adds an `AssignVariableOp` writing into it. The graph
holds the variable object itself, as TensorFlow's function graph captures the variable's handle.

`tf.print` becomes `PrintV2`, which prints when the graph runs (every call), not when it is built.

Ops with side effects (`SIDE_EFFECTS`) are kept by a traced function even when nothing uses their
output, and run in program order (TensorFlow's automatic control dependencies).
"""
import torch

from course.framework.convert import as_plain
from course.framework.shapes import TensorShape, tf1_str
from course.graph.array_ops import convert_to_tensor, make_op
from course.graph.graph import Tensor, get_default_graph
from course.graph.registry import NotDifferentiable, RegisterGradient, one_output, register_op
from course.tape import tensor as _tensor
from course.tape.control import print_ as _eager_print

__all__ = ["read_variable", "assign_variable", "print_v2", "SIDE_EFFECTS", "variable_reads"]

SIDE_EFFECTS = {"AssignVariableOp", "AssignAddVariableOp", "AssignSubVariableOp", "PrintV2", "Assert",
                "Assign", "AssignAdd", "AssignSub", "ApplyGradientDescent", "ApplyMomentum", "ApplyAdam",
                "ApplyRMSProp", "ApplyAdagrad", "Print"}


def _storage(var):
    return as_plain(var)                          # same storage, still attached to autograd


def _read_make(op, rt, device):
    var, copy = op.attrs["variable"], op.attrs.get("_copy", False)
    if copy:                                      # assigned later in the graph while still in use
        return lambda: _storage(var).clone()
    return lambda: _storage(var)


register_op("ReadVariableOp", infer=lambda op: one_output(op.attrs["shape"], op.attrs["dtype"]), make=_read_make,
            doc="The current value of an eager tf.Variable captured by a traced function.")


@RegisterGradient("ReadVariableOp")
def _read_grad(op, grad):
    return []


def read_variable(var, graph=None):
    """A `ReadVariableOp` of eager Variable `var` in `graph` (default: the default graph)."""
    g = graph or get_default_graph()
    op = g.create_op("ReadVariableOp", [], {"variable": var, "shape": TensorShape(tuple(var.shape)),
                                            "dtype": var.dtype})
    return op.outputs[0]


def variable_reads(graph, var):
    """Every read of `var` in `graph` (gradients with respect to `var` are summed over them)."""
    reads = [op.outputs[0] for op in graph.get_operations()
             if op.type == "ReadVariableOp" and op.attrs["variable"] is var]
    seen = {id(t) for t in reads}
    for outer, inner in getattr(graph, "captures", {}).items():     # a cond/loop branch: reads made outside it
        if outer.op.type == "ReadVariableOp" and outer.op.attrs["variable"] is var and id(inner) not in seen:
            seen.add(id(inner))
            reads.append(inner)
    return reads


def _assign_make(op, rt, device):
    var, mode = op.attrs["variable"], op.attrs["mode"]

    def assign(value):
        with torch.no_grad():
            target = _storage(var)
            if mode == "set":
                target.copy_(value)
            elif mode == "add":
                target.add_(value)
            else:
                target.sub_(value)
    return assign


for _type in ("AssignVariableOp", "AssignAddVariableOp", "AssignSubVariableOp"):
    register_op(_type, infer=lambda op: [], make=_assign_make, stateful=True,
                doc="Write into an eager tf.Variable when the graph runs.")
    NotDifferentiable(_type)


def assign_variable(var, value, mode="set", name=None):
    """`v.assign(value)` (mode 'set', 'add' or 'sub') inside a graph: an AssignVariableOp."""
    value = convert_to_tensor(value, dtype=var.dtype)
    if not value.shape.is_compatible_with(TensorShape(tuple(var.shape))):
        raise ValueError(f"Cannot assign a value of shape {tf1_str(value.shape)} to variable '{var.name}' of shape "
                         f"{tuple(var.shape)}.")
    op_type = {"set": "AssignVariableOp", "add": "AssignAddVariableOp", "sub": "AssignSubVariableOp"}[mode]
    make_op(op_type, [value], {"variable": var, "mode": mode, "dtype": var.dtype}, name or op_type,
            graph=get_default_graph())
    return var


def mark_copies(graph):
    """A read that something uses after a later assign to the same variable must copy the value
    (TF reads a value; here a read is the live storage)."""
    assigns = {}
    for op in graph.get_operations():
        if op.type in ("AssignVariableOp", "AssignAddVariableOp", "AssignSubVariableOp"):
            assigns.setdefault(id(op.attrs["variable"]), []).append(op._id)
    for op in graph.get_operations():
        if op.type != "ReadVariableOp":
            continue
        later = [i for i in assigns.get(id(op.attrs["variable"]), ()) if i > op._id]
        if later and any(c._id > later[0] for c in op.outputs[0]._consumers):
            op.attrs["_copy"] = True


# -- tf.print -----------------------------------------------------------------------------------------
def _print_make(op, rt, device):
    template, options = op.attrs["template"], op.attrs["options"]

    def run(*values):
        it = iter(values)
        items = [_tensor.wrap(next(it)) if slot else value for slot, value in template]
        _eager_print(*items, **options)
    return run


register_op("PrintV2", infer=lambda op: [], make=_print_make, stateful=True,
            doc="tf.print: prints its inputs every time the graph runs.")
NotDifferentiable("PrintV2")


def print_v2(*inputs, output_stream=None, summarize=3, sep=" ", end="\n", name=None):
    """`tf.print` in a graph: the tensors become inputs of a PrintV2 op, the rest stays text."""
    template, tensors = [], []
    for v in inputs:
        if isinstance(v, Tensor) or isinstance(v, torch.Tensor):
            t = convert_to_tensor(v)
            template.append((True, None))
            tensors.append(t)
        else:
            template.append((False, v))
    options = {"output_stream": output_stream, "summarize": summarize, "sep": sep, "end": end}
    return make_op("PrintV2", tensors, {"template": template, "options": options}, name or "PrintV2",
                   graph=get_default_graph())

