"""The graph side of AutoGraph's statements: a tensor `if` over the statement's variables, and what a
loop needs to know before it is traced (the dtype/shape a body gives a variable it defines; a
dataset's element placeholders).
"""
import torch

from course.framework import dtypes as _dt
from course.framework import nest
from course.graph.array_ops import constant, convert_to_tensor
from course.graph.cond_ops import emit_branches, trace_branches
from course.graph.control_flow_util import flatten_values
from course.graph.graph import Tensor, get_default_graph
from course.graph.subgraph import BranchGraph, has_side_effects, placeholder_in

__all__ = ["cond_state", "probe_outputs", "zeros_of", "element_placeholders"]


def probe_outputs(fn):
    """Run `fn` in a scratch graph and return, per output, (dtype, static shape) or None (not a tensor);
    None when it fails. The scratch graph is dropped (AutoGraph's look at what a loop body defines)."""
    g = BranchGraph(get_default_graph(), "probe")
    try:
        with g.as_default():
            out = fn()
    except Exception:                  # the real trace reports it, with the user's traceback
        return None
    return [(v.dtype, v.shape) if isinstance(v, Tensor) else None for v in out]


def zeros_of(dtype, shape):
    return constant(0, dtype, shape=list(shape), name="zeros")


def element_placeholders(dataset):
    """Placeholders of a dataset's element structure, in the current graph (for a probe)."""
    spec = dataset.element_spec
    leaves = [placeholder_in(get_default_graph(), _dt.as_torch_dtype(s.dtype), s.shape, "element")
              for s in nest.flatten(spec)]
    return nest.pack_sequence_as(spec, leaves)


def cond_state(pred, fns, names, undefined, name="cond"):
    """AutoGraph's tensor `if`: each branch returns the statement's variables (a tuple, one per name).
    A variable that is the same object in every branch passes through; one that differs becomes an
    output (it must be a tensor or number in each); one that is undefined in some branch (an instance
    of undefined[0]) becomes undefined[1](name, the branch that lacks it)."""
    pred = convert_to_tensor(pred)
    if pred.dtype != torch.bool or pred.shape.rank not in (0, None):
        raise ValueError(f"The condition of an `if` on a tensor must be a scalar boolean tensor; got {pred!r}. "
                         "Reduce it (tf.reduce_all, tf.reduce_any) or compare it to a value.")
    _, graphs, outs = trace_branches(fns, name)
    result, flats, slots = list(outs[0]), [[] for _ in outs], []
    for k, var in enumerate(names):
        values = [out[k] for out in outs]
        if all(v is values[0] for v in values):
            continue
        kinds = [isinstance(v, undefined[0]) for v in values]
        if any(kinds):
            result[k] = undefined[1](var, "else" if not kinds[0] else "main")
            continue
        parts = [flatten_values(v) for v in values]
        try:
            for v in values[1:]:
                nest.assert_same_structure(values[0], v, check_types=False)
        except (ValueError, TypeError):
            raise ValueError(f"'{var}' must have the same nested structure in the main and else branches of an "
                             "`if` on a tensor.") from None
        for b, (leaves, _) in enumerate(parts[1:], 1):
            for a, other in zip(parts[0][0], leaves):
                if isinstance(a, Tensor) and isinstance(other, Tensor) and a.dtype != other.dtype:
                    raise TypeError(f"'{var}' has dtype {_dt.name(a.dtype)} in the main branch, but dtype "
                                    f"{_dt.name(other.dtype)} in the {'else' if len(fns) == 2 else f'branch {b}'} "
                                    "branch")
        for flat, (leaves, _) in zip(flats, parts):
            flat.extend(leaves)
        slots.append((k, len(parts[0][0]), parts[0][1]))
    labels = tuple(f"branch {i}" if len(fns) > 2 else ("if", "else")[i] for i in range(len(fns))) + ("if",)
    if not slots:
        if any(has_side_effects(g) for g in graphs):
            emit_branches("If", pred, graphs, flats, name, labels)
        return tuple(result)
    tensors, _ = emit_branches("If", pred, graphs, flats, name, labels)
    pos = 0
    for k, count, rebuild in slots:
        result[k] = rebuild(tensors[pos:pos + count])
        pos += count
    return tuple(result)
