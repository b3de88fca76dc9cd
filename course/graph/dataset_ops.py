"""A `for` loop over a `tf.data.Dataset` inside a traced function: the `DatasetFor` op.

    @tf.function
    def total(ds):
        s = tf.constant(0.0)
        for x in ds:                 # AutoGraph: one DatasetFor op, the body traced once
            s += tf.reduce_sum(x)
        return s

As in TensorFlow, the loop runs in the graph: each call of the function iterates the dataset again
(a shuffled dataset gives a new order each call) and Python in the body runs once, while tracing.
The body is a `SubFunction` of (element..., loop variables..., captures...); a `break` adds a test
run before each element. Not differentiable (TensorFlow's dataset loops are not either, w.r.t.
the dataset).
"""
import torch

from course.framework import dtypes as _dt
from course.framework import nest
from course.graph.array_ops import convert_to_tensor
from course.graph.control_flow_ops import bind_captures, check_loop_outputs, flatten_values, trace, trace_loop_body
from course.graph.graph import get_default_graph
from course.graph.registry import NotDifferentiable, register_op
from course.graph.resource_ops import SIDE_EFFECTS
from course.graph.subgraph import SubFunction, SubPlan, has_side_effects

__all__ = ["dataset_loop"]

SIDE_EFFECTS.add("DatasetFor")


def _make(op, rt, device):
    body_fn, test_fn, n = op.attrs["body"], op.attrs["test"], op.attrs["num_loop_vars"]
    dataset = op.attrs["dataset"]
    plans = {}

    def kernel(*args):
        if not plans:
            plans["body"] = SubPlan(body_fn, rt)
            plans["test"] = SubPlan(test_fn, rt) if test_fn is not None else None
        state, caps = list(args[:n]), args[n:]
        for element in dataset:
            if plans["test"] is not None and not bool(plans["test"](*state, *caps)[0]):
                break
            leaves = [v if isinstance(v, torch.Tensor) else torch.as_tensor(v) for v in nest.flatten(element)]
            state = list(plans["body"](*leaves, *state, *caps))
        return None if not state else state[0] if len(state) == 1 else tuple(state)
    return kernel


register_op("DatasetFor", infer=lambda op: list(zip(op.attrs["output_shapes"], op.attrs["T"])), make=_make,
            stateful=True, doc="Run attr `body` on each element of attr `dataset`, carrying the loop variables.")
NotDifferentiable("DatasetFor")


def dataset_loop(dataset, step, loop_vars, test=None, name="dataset_for"):
    """Build a DatasetFor op: `step(element, *loop_vars)` -> new loop_vars, for each element
    (while `test(*loop_vars)` holds, when given). Returns the final loop_vars (a list)."""
    outer = get_default_graph()
    flat, rebuild = flatten_values(list(loop_vars))
    flat = [convert_to_tensor(v) for v in flat]
    spec = dataset.element_spec
    leaves = nest.flatten(spec)
    elem_specs = [(_dt.as_torch_dtype(s.dtype), s.shape) for s in leaves]
    var_specs = [(t.dtype, t.shape) for t in flat]

    def body(*phs):
        element = nest.pack_sequence_as(spec, list(phs[:len(leaves)]))
        return flatten_values(list(step(element, *rebuild(list(phs[len(leaves):])))))[0]

    (bg, bphs, _, bouts, _), no_hoist = trace_loop_body(body, outer, name + "_body", elem_specs + var_specs)
    check_loop_outputs(flat, bouts, [t.shape for t in flat])
    graphs, own = [bg], [bphs]
    if test is not None:
        tg, tphs, _, touts, _ = trace(lambda *phs: test(*rebuild(list(phs))), outer, name + "_test", var_specs,
                                      lambda phs: phs, no_hoist)
        graphs.append(tg)
        own.append(tphs)
    caps, inputs = bind_captures(graphs, own)
    body_fn = SubFunction(bg, inputs[0], bouts)
    test_fn = SubFunction(graphs[1], inputs[1], touts) if test is not None else None
    op = outer.create_op("DatasetFor", flat + caps,
                         {"dataset": dataset, "body": body_fn, "test": test_fn, "num_loop_vars": len(flat),
                          "T": [t.dtype for t in flat], "output_shapes": [t.shape for t in flat],
                          "_stateful": any(has_side_effects(g) for g in graphs)}, name)
    return rebuild(list(op.outputs))
