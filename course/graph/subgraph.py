"""Graphs inside ops: the branches of `tf.cond` and the body of `tf.while_loop`.

A control-flow op holds functions as attributes, as TensorFlow 2's `If` and `While` ops do. Each is
a `SubFunction`: a small graph (`BranchGraph`) with its own input placeholders and outputs.

    with BranchGraph(outer).as_default() as g:      # what tf.cond does with true_fn
        y = x * 2                                   # x is a tensor of the outer graph: captured

A tensor of an enclosing graph used inside is *captured*: the branch graph gets a placeholder for
it, and the op in the outer graph gets the outer tensor as an extra input. Reads of eager Variables
are made in the outermost graph and captured too, so a GradientTape inside a tf.function finds them
(`resource_ops.variable_reads`); a variable assigned inside the branch is read inside instead.

`SubPlan` runs a SubFunction on values: the executor of the session that runs the op (a compiled
plan, or node by node under `Session(executor="interpreter")`), sharing that session's variables.
"""
import torch

from course.framework import dtypes as _dt
from course.framework.shapes import TensorShape
from course.graph.graph import Graph, Tensor
from course.graph.plan import Interpreter, build_plan, compile_plan, wrap_error
from course.graph.registry import REGISTRY
from course.graph.resource_ops import SIDE_EFFECTS

__all__ = ["BranchGraph", "SubFunction", "SubPlan", "most_specific", "has_side_effects", "root_graph",
           "assigned_variables", "hoisted_reads"]

_ASSIGNS = ("AssignVariableOp", "AssignAddVariableOp", "AssignSubVariableOp")


def root_graph(g):
    """The outermost graph enclosing `g` (itself when it is not a branch)."""
    while isinstance(g, BranchGraph):
        g = g.outer
    return g


class BranchGraph(Graph):
    """A function graph nested in `outer`; tensors of enclosing graphs are captured on use."""

    def __init__(self, outer, name="branch"):
        super().__init__()
        self.outer, self.name = outer, name
        self.inputs, self.outputs = [], []
        self.captures = {}                 # outer Tensor -> placeholder of this graph
        self.no_hoist = set()              # ids of variables read here, not outside (a loop assigns them)
        self.seed = outer.seed
        self.shape_str = outer.shape_str
        self.tensor_equality = outer.tensor_equality

    def on_bool(self, tensor):
        self.outer.on_bool(tensor)

    def lifts(self, g):
        """graph_of(): tensors of this graph and of enclosing graphs all build ops here."""
        s = self
        while True:
            if s is g:
                return True
            if not isinstance(s, BranchGraph):
                return False
            s = s.outer

    def capture(self, t):
        if t.op.graph is self:
            return t
        if t in self.captures:
            return self.captures[t]
        if not self.lifts(t.op.graph):
            raise ValueError(f"Tensor {t.name} belongs to a graph that does not enclose this "
                             f"{self.name!r} function; build it inside the same tf.function or tf.Graph.")
        outer_t = t if t.op.graph is self.outer else self.outer.capture(t)
        p = Graph.create_op(self, "Placeholder", [], {"dtype": t.dtype, "shape": t.shape},
                            "capture_" + t.op.name.replace("/", "_")).outputs[0]
        self.captures[t] = p
        self.captures.setdefault(outer_t, p)
        return p

    def _assigned_here(self, var):
        return any(op.type in _ASSIGNS and op.attrs.get("variable") is var for op in self._ops)

    def create_op(self, op_type, inputs, attrs=None, name=None):
        var = attrs.get("variable") if op_type == "ReadVariableOp" else None
        if var is not None and id(var) not in self.no_hoist and not self._assigned_here(var):
            outer_read = self.outer.create_op(op_type, [], attrs, name)
            return _CapturedRead(self, outer_read)
        refs = REGISTRY[op_type].refs if op_type in REGISTRY else ()
        inputs = [t if i in refs else self.capture(t) for i, t in enumerate(inputs)]   # a TF1 variable to write
        return super().create_op(op_type, inputs, attrs, name)                          # stays the variable


class _CapturedRead:
    """What create_op returns for a hoisted variable read: the captured value as the op's output."""

    def __init__(self, graph, outer_op):
        self.outputs = (graph.capture(outer_op.outputs[0]),)
        self.graph, self.type, self.name, self.attrs = graph, outer_op.type, outer_op.name, outer_op.attrs


class SubFunction:
    """A function held by an op: its graph, input placeholders (in the op's input order) and outputs."""

    def __init__(self, graph, inputs, outputs, effects=True):
        self.graph, self.inputs, self.outputs = graph, list(inputs), list(outputs)
        self.effects = effects             # run the graph's side effects too (a gradient graph does not)

    @property
    def name(self):
        return self.graph.name

    def __repr__(self):
        return f"<SubFunction {self.name!r}: {len(self.inputs)} inputs, {len(self.outputs)} outputs>"


def assigned_variables(graph):
    """ids of the eager Variables that ops of `graph` (or of the functions its ops hold) write."""
    found = set()
    for op in graph.get_operations():
        if op.type in SIDE_EFFECTS:
            for v in [op.attrs.get("variable")] + list(op.attrs.get("variables", ())):
                if v is not None:
                    found.add(id(v))
        for value in op.attrs.values():
            for fn in value if isinstance(value, list) else [value]:
                if isinstance(fn, SubFunction):
                    found |= assigned_variables(fn.graph)
    return found


def hoisted_reads(graph):
    """ids of the Variables whose reads `graph` captured from outside."""
    return {id(t.op.attrs["variable"]) for t in graph.captures if t.op.type == "ReadVariableOp"}


def has_side_effects(graph):
    return any(op.type in SIDE_EFFECTS for op in graph.get_operations())


def most_specific(a, b):
    """The static shape both `a` and `b` fit (differing dimensions become None)."""
    a, b = TensorShape(a), TensorShape(b)
    if a.rank is None or b.rank is None or a.rank != b.rank:
        return TensorShape(None)
    return TensorShape([x if x == y else None for x, y in zip(a, b)])


class _RawInterpreter(Interpreter):
    """The teaching executor, returning torch values (the op's kernel hands them on)."""

    def run(self, *raw):
        plan = self.plan
        env = {t: convert(value) for (t, convert), value in zip(plan.feeds, raw)}
        for node in plan.nodes:
            self.env = env
            try:
                out = self.run_node(node)
            except Exception as exc:
                raise wrap_error(node.op, exc) from exc
            outs = node.op.outputs
            for t, v in zip(outs, (out,) if len(outs) == 1 else (out or ())):
                env.setdefault(t, v)
        self.env = {}
        return tuple(env[f] if isinstance(f, Tensor) else None for f in plan.fetches)


class SubPlan:
    """`fn` bound to a session's runtime: `plan(*values)` -> a tuple of output values."""

    def __init__(self, fn, rt):
        side = [op for op in fn.graph.get_operations() if op.type in SIDE_EFFECTS] if fn.effects else []
        plan = build_plan(rt, list(fn.outputs) + side, list(fn.inputs), rebuild=lambda v: v)
        if getattr(rt, "executor", "compiled") == "interpreter":
            plan.step, plan.executor = _RawInterpreter(plan), "interpreter"
        else:
            compile_plan(plan, raw=True)
        self.plan, self.n = plan, len(fn.outputs)

    def __call__(self, *values):
        return self.plan.step(*values)[:self.n]


def placeholder_in(graph, dtype, shape, name):
    return Graph.create_op(graph, "Placeholder", [], {"dtype": dtype, "shape": TensorShape(shape)}, name).outputs[0]


def is_float(t):
    return _dt.is_floating(t.dtype) if isinstance(t, Tensor) else torch.is_floating_point(t)
