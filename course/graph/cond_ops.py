"""`tf.cond`, `tf.case` and `tf.switch_case` as `If`/`Case` graph ops holding one function per branch.

    y = tf.cond(x > 0, lambda: x * 2, lambda: -x)          # one `If` op; both branches are traced

As in TensorFlow 2, each branch is traced once into its own small graph (`subgraph.SubFunction`), kept
as an attribute of the op. When the op runs, its kernel runs the chosen branch with the executor of
the session running it. Outside any graph (eager code) these functions are plain Python, as TF2's are.

The gradient of an `If`/`Case` is another `If`/`Case` on the same predicate whose branches are the
gradient graphs of the forward branches (built into each branch's graph by `tf.gradients`).
`If`/`Case` are the stateful forms (a branch has a side effect such as `assign` or `tf.print`);
`StatelessIf`/`StatelessCase` the others, as in TensorFlow.
"""
import torch

from course.framework import dtypes as _dt
from course.framework import nest
from course.graph.array_ops import convert_to_tensor, identity, zeros_like
from course.graph.control_flow_util import bind_captures, building, flatten_values
from course.graph.gradients import gradients
from course.graph.graph import get_default_graph, graph_of
from course.graph.registry import RegisterGradient, register_op
from course.graph.resource_ops import SIDE_EFFECTS
from course.graph.subgraph import BranchGraph, SubFunction, SubPlan, has_side_effects, most_specific, placeholder_in
from course.tape import control as _eager

__all__ = ["cond", "case", "switch_case", "trace_branches", "emit_branches"]

SIDE_EFFECTS.update({"If", "Case"})


def _branch_infer(op):
    return list(zip(op.attrs["output_shapes"], op.attrs["Tout"]))


def _branch_make(op, rt, device):
    fns = op.attrs["branches"]
    plans = [None] * len(fns)
    n, binary = len(op.outputs), op.type.endswith("If")

    def kernel(index, *args):
        i = (0 if bool(index) else 1) if binary else int(index)
        if not 0 <= i < len(fns):
            i = len(fns) - 1                           # TF: an index out of range runs the last (default) branch
        if plans[i] is None:
            plans[i] = SubPlan(fns[i], rt)
        out = plans[i](*args)
        return None if n == 0 else out[0] if n == 1 else out
    return kernel


for _type in ("If", "StatelessIf", "Case", "StatelessCase"):
    register_op(_type, infer=_branch_infer, make=_branch_make, stateful=True,
                doc="Run one of the functions in attr `branches`, chosen by input 0.")


def trace_branches(fns, name):
    """Trace each of `fns` (callables of no argument) into its own branch graph: (outer, graphs, outputs)."""
    outer = get_default_graph()
    graphs, outs = [], []
    for i, fn in enumerate(fns):
        g = BranchGraph(outer, f"{name}_branch{i}")
        with g.as_default():
            outs.append(fn())
        graphs.append(g)
    return outer, graphs, outs


def emit_branches(kind, index, graphs, flats, name, labels):
    """Convert each branch's flat values to tensors in its graph and add the If/Case op over them."""
    tensors = []
    for g, flat in zip(graphs, flats):
        with g.as_default():
            tensors.append([identity(convert_to_tensor(v)) for v in flat])
    for k, ts in enumerate(tensors[1:], 1):
        for a, b in zip(tensors[0], ts):
            if a.dtype != b.dtype:
                raise TypeError(f"{labels[0]} and {labels[k]} arguments to {labels[-1]} must have the same number, "
                                f"type, and overall structure of return values.\n\n{labels[0]} output: {a}\n"
                                f"{labels[k]} output: {b}\n\nError details:\n{a} and {b} have different types "
                                f"({_dt.name(a.dtype)} and {_dt.name(b.dtype)}). Cast one of them (tf.cast).")
    for g, ts in zip(graphs, tensors):
        g.outputs = ts
    caps, inputs = bind_captures(graphs, [[] for _ in graphs])
    funcs = [SubFunction(g, ins, ts) for g, ins, ts in zip(graphs, inputs, tensors)]
    shapes = []
    for j, t in enumerate(tensors[0]):
        s = t.shape
        for other in tensors[1:]:
            s = most_specific(s, other[j].shape)
        shapes.append(s)
    stateful = any(has_side_effects(g) for g in graphs)
    op = graphs[0].outer.create_op(("" if stateful else "Stateless") + kind, [index] + caps,
                                   {"branches": funcs, "Tout": [t.dtype for t in tensors[0]], "output_shapes": shapes},
                                   name)
    return list(op.outputs), op


def _branches_op(kind, index, fns, name, labels):
    """Trace `fns` (callables of no argument) and add one If/Case op choosing between their results."""
    _, graphs, outs = trace_branches(fns, name)
    for k, out in enumerate(outs[1:], 1):
        try:
            nest.assert_same_structure(outs[0], out, check_types=False)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{labels[0]} and {labels[k]} arguments to {labels[-1]} must have the same number, "
                             f"type, and overall structure of return values.\n\n{exc}") from None
    flats = [flatten_values(out if out is not None else [])[0] for out in outs]
    results, op = emit_branches(kind, index, graphs, flats, name, labels)
    return flatten_values(outs[0])[1](results) if outs[0] is not None else op


def cond(pred, true_fn=None, false_fn=None, strict=False, name=None, fn1=None, fn2=None):
    """`true_fn()` if `pred` else `false_fn()`: plain Python on eager values, an `If` op in a graph."""
    true_fn, false_fn = true_fn or fn1, false_fn or fn2
    if not callable(true_fn):
        raise TypeError("true_fn must be callable.")
    if not callable(false_fn):
        raise TypeError("false_fn must be callable.")
    if not building(pred):
        return _eager.cond(pred, true_fn, false_fn)
    with graph_of([pred]).as_default():
        pred = convert_to_tensor(pred)
        if pred.dtype != torch.bool or pred.shape.rank not in (0, None):
            raise ValueError(f"tf.cond: pred must be a scalar boolean tensor; got {pred!r}. Reduce it "
                             "(tf.reduce_all, tf.reduce_any) or compare it to a value.")
        return _branches_op("If", pred, [true_fn, false_fn], name or "cond", ("true_fn", "false_fn", "tf.cond"))


def switch_case(branch_index, branch_fns, default=None, name="switch_case"):
    """Run `branch_fns[branch_index]()` (out of range: `default`, else the last branch): a `Case` op."""
    if isinstance(branch_fns, dict):
        keys = sorted(branch_fns)
        if keys != list(range(len(keys))):
            raise ValueError(f"branch_fns keys must be 0..{len(keys) - 1} when a dict is given; got {keys}.")
        fns = [branch_fns[k] for k in keys]
    else:
        fns = [f[1] if isinstance(f, tuple) else f for f in branch_fns]
    if not fns or not all(callable(f) for f in fns):
        raise TypeError("branch_fns must be a non-empty list (or dict) of callables.")
    if not building(branch_index):
        return _eager.switch_case(branch_index, branch_fns, default)
    if default is not None:
        fns = fns + [default]
    with graph_of([branch_index]).as_default():
        index = convert_to_tensor(branch_index)
        if index.dtype not in (torch.int32, torch.int64):
            raise TypeError(f"branch_index must be an int32 or int64 scalar tensor; got {_dt.name(index.dtype)}.")
        names = tuple(f"branch_fns[{i}]" for i in range(len(fns))) + ("tf.switch_case",)
        return _branches_op("Case", index, fns, name or "switch_case", names)


def case(pred_fn_pairs, default=None, exclusive=False, strict=False, name="case"):
    """The function paired with the first true predicate (else `default`): nested `If` ops, as in TF."""
    pairs = list(pred_fn_pairs.items() if isinstance(pred_fn_pairs, dict) else pred_fn_pairs)
    if not building(*[p for p, _ in pairs]):
        return _eager.case(pred_fn_pairs, default, exclusive, strict, name)
    if default is None:
        pairs, default = pairs[:-1], pairs[-1][1]     # TF: the last function runs when no predicate holds

    def chain(k):
        if k == len(pairs):
            return default()
        pred, fn = pairs[k]
        return cond(pred, fn, lambda: chain(k + 1), name=name)
    return chain(0)


def _branch_grad_fn(fn, float_out, float_in):
    """A SubFunction computing, in `fn`'s graph, the gradients of its float inputs."""
    g = fn.graph
    with g.as_default():
        gys = [placeholder_in(g, fn.outputs[i].dtype, fn.outputs[i].shape, "grad_y") for i in float_out]
        ys = [fn.outputs[i] for i in float_out]
        xs = [fn.inputs[j] for j in float_in]
        gs = gradients(ys, xs, grad_ys=gys) if ys and xs else [None] * len(xs)
        gs = [zeros_like(x) if gr is None else identity(gr) for x, gr in zip(xs, gs)]
    return SubFunction(g, list(fn.inputs) + gys, gs, effects=False)


def _floats(tensors):
    return [i for i, t in enumerate(tensors) if _dt.is_floating(t.dtype)]


@RegisterGradient("If")
@RegisterGradient("StatelessIf")
@RegisterGradient("Case")
@RegisterGradient("StatelessCase")
def _branches_grad(op, *grads):
    args = list(op.inputs[1:])
    float_out, float_in = _floats(op.outputs), _floats(args)
    if not float_in:
        return [None] * len(op.inputs)
    key = ("_grad_fns", tuple(float_out))
    fns = op.attrs.get(key)
    if fns is None:
        fns = op.attrs[key] = [_branch_grad_fn(fn, float_out, float_in) for fn in op.attrs["branches"]]
    gys = [grads[i] if grads[i] is not None else zeros_like(op.outputs[i]) for i in float_out]
    shapes = [args[j].shape for j in float_in]
    grad_op = op.graph.create_op(op.type.replace("Stateless", "").replace("If", "StatelessIf").replace(
        "Case", "StatelessCase"), [op.inputs[0]] + args + gys,
        {"branches": fns, "Tout": [args[j].dtype for j in float_in], "output_shapes": shapes}, op.name + "_grad")
    result = [None] * len(op.inputs)
    for k, j in enumerate(float_in):
        result[1 + j] = grad_op.outputs[k]
    return result
