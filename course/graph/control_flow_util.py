"""What `tf.cond`, `tf.while_loop` and a dataset loop share: tracing a function into a branch graph.

    flat, rebuild = flatten_values(loop_vars)      # graph-ready leaves (a TensorArray is its flow tensor)
    g, phs, out, outs, rebuild = trace(fn, outer, "body", specs, rebuild)
    caps, inputs = bind_captures([cond_graph, body_graph], [cond_phs, body_phs])

A branch (or a loop's `cond` and `body`) is traced once into its own small graph (`subgraph.BranchGraph`)
whose placeholders stand for the values it receives; the outer tensors it reads become captures, which
`bind_captures` turns into extra inputs of the op that holds the graphs.
"""
from course.framework import nest
from course.graph import graph as _graph
from course.graph.array_ops import convert_to_tensor, identity
from course.graph.graph import Tensor
from course.graph.resource_ops import mark_copies
from course.graph.subgraph import BranchGraph, assigned_variables, hoisted_reads, placeholder_in

__all__ = ["building", "flatten_values", "trace", "trace_loop_body", "bind_captures"]


def building(*values):
    """True while a graph is being built or when a value is a graph tensor."""
    return bool(_graph._graph_stack) or any(isinstance(v, Tensor) for v in nest.flatten(list(values)))


def flatten_values(structure):
    """(flat graph-ready leaves, rebuild): a TensorArray leaf flattens to its flow tensor."""
    leaves = nest.flatten(structure)
    flat, makers = [], []
    for v in leaves:
        to_flow = getattr(v, "_cf_flow", None)
        flat.append(to_flow() if to_flow is not None else v)
        makers.append(getattr(v, "_cf_rebuild", None))

    def rebuild(values):
        values = [m(x) if m is not None else x for m, x in zip(makers, values)]
        return nest.pack_sequence_as(structure, values)
    return flat, rebuild


def trace(fn, outer, name, specs, arg_rebuild, no_hoist=()):
    """Trace `fn` into a BranchGraph of `outer`; specs: [(dtype, shape)] of its inputs."""
    g = BranchGraph(outer, name)
    g.no_hoist = set(no_hoist)
    with g.as_default():
        phs = [placeholder_in(g, dtype, shape, f"{name}_arg{i}") for i, (dtype, shape) in enumerate(specs)]
        out = fn(*arg_rebuild(phs))
        flat, rebuild = flatten_values(out if out is not None else [])
        outs = [identity(convert_to_tensor(v)) for v in flat]
    g.inputs, g.outputs = phs, outs
    mark_copies(g)
    return g, phs, out, outs, rebuild


def trace_loop_body(fn, outer, name, specs):
    """Trace a loop body; (traced, no_hoist). A Variable the body writes must be read inside it on
    every iteration, not once before the loop: such reads are kept in (the body traced again)."""
    traced = trace(fn, outer, name, specs, lambda phs: phs)
    no_hoist = hoisted_reads(traced[0]) & assigned_variables(traced[0])
    if no_hoist:
        traced = trace(fn, outer, name, specs, lambda phs: phs, no_hoist)
    return traced, no_hoist


def bind_captures(graphs, extra_inputs):
    """The outer tensors the graphs captured, in one order; each graph's inputs extended to match."""
    caps, seen = [], set()
    for g in graphs:
        for t in g.captures:
            if t.op.graph is g.outer and id(t) not in seen:       # ids: `t in list` would be elementwise ==
                seen.add(id(t))
                caps.append(t)
    inputs = []
    for g, own in zip(graphs, extra_inputs):
        ins = list(own)
        for t in caps:
            p = g.captures.get(t)
            ins.append(p if p is not None else placeholder_in(g, t.dtype, t.shape, "unused_capture"))
        inputs.append(ins)
    return caps, inputs
