"""`tf.cond`, `tf.case`, `tf.switch_case` and `tf.while_loop` as graph ops holding functions.

    y = tf.cond(x > 0, lambda: x * 2, lambda: -x)          # one `If` op; both branches are traced
    i, s = tf.while_loop(lambda i, s: i < n, lambda i, s: (i + 1, s + i), [0, 0.0])   # one `While` op

As in TensorFlow 2, each branch (and a loop's `cond` and `body`) is traced once into its own small
graph (`subgraph.SubFunction`), kept as an attribute of the op. When the op runs, its kernel runs the
chosen branch, or the body while the condition holds, with the executor of the session running it.
Outside any graph (eager code) these functions are plain Python, as TF2's are.

Gradients are built symbolically, like every gradient of this engine:
* `If`/`Case`: the gradient op is another `If`/`Case` on the same predicate whose branches are the
  gradient graphs of the forward branches (built into each branch's graph by `tf.gradients`);
* `While`: the forward loop records the loop variables that enter each iteration; `WhileGrad` then
  runs the body's gradient graph over them in reverse (TensorFlow keeps the same values in stacks).
  A random op inside a branch or body is drawn again when its gradient runs.
`If`/`While` are the stateful forms (a branch has a side effect such as `assign` or `tf.print`);
`StatelessIf`/`StatelessWhile` the others, as in TensorFlow.
"""
import torch

from course.framework import dtypes as _dt
from course.framework import nest
from course.framework.shapes import TensorShape, as_shape
from course.graph import graph as _graph
from course.graph.dispatch import GRAPH_FORMS
from course.graph.range_ops import range_
from course.graph.array_ops import constant, convert_to_tensor, identity, zeros_like
from course.graph.gradients import gradients
from course.graph.graph import Tensor, get_default_graph, graph_of
from course.graph.math_ops import add, less, logical_and
from course.graph.registry import RegisterGradient, register_op
from course.graph.resource_ops import SIDE_EFFECTS, mark_copies
from course.graph.subgraph import (BranchGraph, SubFunction, SubPlan, assigned_variables, has_side_effects,
                                   hoisted_reads, most_specific, placeholder_in)
from course.tape import control as _eager

__all__ = ["cond", "case", "switch_case", "while_loop", "while_loop_v1", "building", "cond_state", "flatten_values",
           "trace", "trace_loop_body", "bind_captures", "check_loop_outputs", "probe_outputs", "zeros_of",
           "element_placeholders"]

SIDE_EFFECTS.update({"If", "Case", "While"})


def building(*values):
    """True while a graph is being built or when a value is a graph tensor."""
    return bool(_graph._graph_stack) or any(isinstance(v, Tensor) for v in nest.flatten(list(values)))


# -- loop variables and branch results: tensors, numbers and TensorArrays ----------------------------------
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


# -- If / Case ----------------------------------------------------------------------------------------------
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


def _trace_branches(fns, name):
    outer = get_default_graph()
    graphs, outs = [], []
    for i, fn in enumerate(fns):
        g = BranchGraph(outer, f"{name}_branch{i}")
        with g.as_default():
            outs.append(fn())
        graphs.append(g)
    return outer, graphs, outs


def _emit(kind, index, graphs, flats, name, labels):
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
    _, graphs, outs = _trace_branches(fns, name)
    for k, out in enumerate(outs[1:], 1):
        try:
            nest.assert_same_structure(outs[0], out, check_types=False)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{labels[0]} and {labels[k]} arguments to {labels[-1]} must have the same number, "
                             f"type, and overall structure of return values.\n\n{exc}") from None
    flats = [flatten_values(out if out is not None else [])[0] for out in outs]
    results, op = _emit(kind, index, graphs, flats, name, labels)
    return flatten_values(outs[0])[1](results) if outs[0] is not None else op


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
    _, graphs, outs = _trace_branches(fns, name)
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
        for flat, (leaves, _) in zip(flats, parts):
            flat.extend(leaves)
        slots.append((k, len(parts[0][0]), parts[0][1]))
    labels = tuple(f"branch {i}" if len(fns) > 2 else ("if", "else")[i] for i in range(len(fns))) + ("if",)
    if not slots:
        if any(has_side_effects(g) for g in graphs):
            _emit("If", pred, graphs, flats, name, labels)
        return tuple(result)
    tensors, _ = _emit("If", pred, graphs, flats, name, labels)
    pos = 0
    for k, count, rebuild in slots:
        result[k] = rebuild(tensors[pos:pos + count])
        pos += count
    return tuple(result)


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


# -- While -------------------------------------------------------------------------------------------------
def _while_make(op, rt, device):
    cond_fn, body_fn, n = op.attrs["cond"], op.attrs["body"], op.attrs["num_loop_vars"]
    plans = {}

    def kernel(*args):
        if not plans:
            plans["cond"], plans["body"] = SubPlan(cond_fn, rt), SubPlan(body_fn, rt)
        state, caps = list(args[:n]), args[n:]
        history = [] if op.attrs.get("_record") else None
        while bool(plans["cond"](*state, *caps)[0]):
            if history is not None:
                history.append(state)
            state = list(plans["body"](*state, *caps))
        if history is not None:
            rt.state[op] = history                      # WhileGrad of this run reads it
        return None if not state else state[0] if len(state) == 1 else tuple(state)
    return kernel


for _type in ("While", "StatelessWhile"):
    register_op(_type, infer=lambda op: list(zip(op.attrs["output_shapes"], op.attrs["T"][:op.attrs["num_loop_vars"]])),
                make=_while_make, stateful=True,
                doc="Run attr `body` on the loop variables while attr `cond` holds.")


def _less_specific(shape, invariant):
    """TF's _ShapeLessThanOrEqual: `shape` fits `invariant` (its known dims agree)."""
    if invariant.rank is None:
        return True
    if shape.rank != invariant.rank:
        return False
    return all(b is None or a == b for a, b in zip(shape, invariant))


def _flatten_up_to(structure, shapes):
    """The shapes of `shapes` matching the leaves of `structure` (a TensorShape is a tuple, not a nest)."""
    if not nest.is_nested(structure):
        return [shapes]
    if isinstance(structure, dict):
        return [s for k in sorted(structure) for s in _flatten_up_to(structure[k], shapes[k])]
    if len(structure) != len(shapes):
        return [None] * (len(nest.flatten(structure)) + 1)           # a length mismatch, reported by the caller
    return [s for v, sh in zip(structure, shapes) for s in _flatten_up_to(v, sh)]


def _invariants(flat, shape_invariants, loop_vars):
    if shape_invariants is None:
        return [t.shape for t in flat]
    inv = _flatten_up_to(loop_vars, shape_invariants)
    if len(inv) != len(flat):
        raise ValueError(f"shape_invariants has {len(inv)} shapes for {len(flat)} loop variables; give one "
                         "TensorShape per tensor of loop_vars, in the same structure.")
    out = []
    for t, s in zip(flat, inv):
        s = TensorShape(None) if s is None else as_shape(s)
        if not _less_specific(t.shape, s):
            raise ValueError(f"The shape invariant specified for {t.name} is not compatible with the initial shape "
                             f"of the loop variable. It enters the loop with shape {t.shape}, but the specified "
                             f"shape invariant is {s}.")
        out.append(s)
    return out


def while_loop(cond, body, loop_vars, shape_invariants=None, parallel_iterations=10, back_prop=True,
               swap_memory=False, maximum_iterations=None, name=None):
    """Repeat `loop_vars = body(*loop_vars)` while `cond(*loop_vars)`; a `While` op in a graph (TF2 order
    of arguments). `maximum_iterations` stops after that many; `shape_invariants` lets shapes vary."""
    if not callable(cond) or not callable(body):
        raise TypeError("cond and body must be callable.")
    packed = isinstance(loop_vars, (list, tuple)) and not hasattr(loop_vars, "_fields")
    if not building(*nest.flatten(loop_vars), maximum_iterations):
        return _eager_while(cond, body, loop_vars, packed, maximum_iterations)
    flat, rebuild = flatten_values(loop_vars)
    outer = graph_of(flat)
    with outer.as_default():
        return _while(outer, cond, body, loop_vars, flat, rebuild, packed, shape_invariants, maximum_iterations,
                      parallel_iterations, name)


def check_loop_outputs(flat, outs, invariants):
    """TF's errors for a loop variable whose dtype changes, or whose shape leaves its invariant."""
    for t_in, t_out, s in zip(flat, outs, invariants):
        if t_out.dtype != t_in.dtype:
            raise TypeError(f"Loop var {t_in.name} enters the loop with type {_dt.name(t_in.dtype)} but has type "
                            f"{_dt.name(t_out.dtype)} after 1 iteration. {t_in.name} type should remain constant.")
        if not _less_specific(t_out.shape, s):
            raise ValueError(f"Input tensor `{t_in.name}` enters the loop with shape {s}, but has shape "
                             f"{t_out.shape} after one iteration. To allow the shape to vary across iterations, use "
                             "the `shape_invariants` argument of tf.while_loop to specify a less-specific shape.")


def _while(outer, cond, body, loop_vars, flat, rebuild, packed, shape_invariants, maximum_iterations,
           parallel_iterations, name):
    flat = [convert_to_tensor(v) for v in flat]
    invariants = _invariants(flat, shape_invariants, loop_vars)
    counted = maximum_iterations is not None
    if counted:
        max_iter = convert_to_tensor(maximum_iterations, dtype=torch.int32)
        flat = [constant(0, torch.int32, name="loop_counter")] + flat
        invariants = [TensorShape([])] + invariants
    specs = [(t.dtype, s) for t, s in zip(flat, invariants)]
    user = (lambda phs: rebuild(phs[1:])) if counted else rebuild

    def call(fn, phs):
        args = user(phs)
        return fn(*args) if packed else fn(args)

    def cond_fn(*phs):
        pred = convert_to_tensor(call(cond, list(phs)))
        if counted:
            pred = logical_and(less(phs[0], max_iter), pred)
        return pred

    def body_fn(*phs):
        out = call(body, list(phs))
        if packed and len(loop_vars) == 1 and not isinstance(out, (list, tuple)):
            out = [out]
        try:
            nest.assert_same_structure(loop_vars, out, check_types=False)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"body of tf.while_loop must return the same structure as loop_vars.\n\n{exc}") from None
        return ([add(phs[0], 1)] if counted else []) + flatten_values(out)[0]

    (bg, bphs, _, bouts, _), no_hoist = trace_loop_body(body_fn, outer, (name or "while") + "_body", specs)
    cg, cphs, _, couts, _ = trace(cond_fn, outer, (name or "while") + "_cond", specs, lambda phs: phs, no_hoist)
    if len(couts) != 1 or couts[0].dtype != torch.bool or couts[0].shape.rank not in (0, None):
        raise ValueError(f"cond of tf.while_loop must return a scalar boolean; got {couts}.")
    check_loop_outputs(flat, bouts, invariants)
    caps, (cins, bins) = bind_captures([cg, bg], [cphs, bphs])
    stateful = has_side_effects(cg) or has_side_effects(bg)
    op = outer.create_op(("" if stateful else "Stateless") + "While", flat + caps,
                         {"cond": SubFunction(cg, cins, couts), "body": SubFunction(bg, bins, bouts),
                          "num_loop_vars": len(flat), "T": [t.dtype for t in flat + caps],
                          "output_shapes": invariants, "parallel_iterations": parallel_iterations},
                         name or "while")
    return rebuild(list(op.outputs[1:] if counted else op.outputs))


def while_loop_v1(cond, body, loop_vars, shape_invariants=None, parallel_iterations=10, back_prop=True,
                  swap_memory=False, name=None, maximum_iterations=None, return_same_structure=False):
    """TF1's `tf.while_loop` (its argument order; one loop variable comes back bare by default)."""
    out = while_loop(cond, body, loop_vars, shape_invariants, parallel_iterations, back_prop, swap_memory,
                     maximum_iterations, name)
    if not return_same_structure and isinstance(out, (list, tuple)) and len(nest.flatten(out)) == 1:
        return nest.flatten(out)[0]
    return out


def _eager_while(cond, body, loop_vars, packed, maximum_iterations):
    state = loop_vars
    n = 0
    while maximum_iterations is None or n < int(maximum_iterations):
        go = cond(*state) if packed else cond(state)
        if not (bool(go.numpy()) if hasattr(go, "numpy") else bool(go)):
            break
        out = body(*state) if packed else body(state)
        if packed and len(loop_vars) == 1 and not isinstance(out, (list, tuple)):
            out = [out]
        state = type(loop_vars)(out) if packed and isinstance(loop_vars, tuple) else out
        n += 1
    return state


def _while_grad_make(op, rt, device):
    fwd, grad_fn = op.attrs["forward"], op.attrs["grad_body"]
    n, float_vars, float_caps = fwd.attrs["num_loop_vars"], op.attrs["float_vars"], op.attrs["float_caps"]
    plan = []

    def kernel(*args):
        if not plan:
            plan.append(SubPlan(grad_fn, rt))
        n_in = len(fwd.inputs)
        caps = args[n:n_in]
        g_vars = list(args[n_in + len(fwd.outputs):])
        g_caps = [None] * len(float_caps)
        for state in reversed(rt.state.get(fwd, [])):
            res = plan[0](*state, *caps, *g_vars)
            g_vars = list(res[:len(float_vars)])
            for k, g in enumerate(res[len(float_vars):]):
                g_caps[k] = g if g_caps[k] is None else g_caps[k] + g
        g_caps = [torch.zeros_like(caps[j - n]) if g is None else g for g, j in zip(g_caps, float_caps)]
        out = g_vars + g_caps
        return None if not out else out[0] if len(out) == 1 else tuple(out)
    return kernel


register_op("WhileGrad", infer=lambda op: [(op.attrs["forward"].inputs[j].shape, op.attrs["forward"].inputs[j].dtype)
                                           for j in op.attrs["float_vars"] + op.attrs["float_caps"]],
            make=_while_grad_make, stateful=True,
            doc="Gradients of a While op's inputs: its body's gradient graph run over the recorded iterations.")


@RegisterGradient("While")
@RegisterGradient("StatelessWhile")
def _while_grad(op, *grads):
    n = op.attrs["num_loop_vars"]
    body = op.attrs["body"]
    float_vars = [j for j in range(n) if _dt.is_floating(op.inputs[j].dtype)]
    float_caps = [j for j in range(n, len(op.inputs)) if _dt.is_floating(op.inputs[j].dtype)]
    if not float_vars and not float_caps:
        return [None] * len(op.inputs)
    key = "_grad_body"
    grad_fn = op.attrs.get(key)
    if grad_fn is None:
        g = body.graph
        with g.as_default():
            gys = [placeholder_in(g, body.outputs[j].dtype, body.outputs[j].shape, "grad_y") for j in float_vars]
            xs = [body.inputs[j] for j in float_vars + float_caps]
            gs = gradients([body.outputs[j] for j in float_vars], xs, grad_ys=gys) if float_vars else [None] * len(xs)
            gs = [zeros_like(x) if gr is None else identity(gr) for x, gr in zip(xs, gs)]
        grad_fn = op.attrs[key] = SubFunction(g, list(body.inputs) + gys, gs, effects=False)
    op.attrs["_record"] = True
    gys = [grads[j] if grads[j] is not None else zeros_like(op.outputs[j]) for j in float_vars]
    grad_op = op.graph.create_op("WhileGrad", list(op.inputs) + list(op.outputs) + gys,
                                 {"forward": op, "grad_body": grad_fn, "float_vars": float_vars,
                                  "float_caps": float_caps}, op.name + "_grad")
    result = [None] * len(op.inputs)
    for k, j in enumerate(float_vars + float_caps):
        result[j] = grad_op.outputs[k]
    return result


GRAPH_FORMS.update({"cond": cond, "case": case, "switch_case": switch_case, "while_loop": while_loop,
                    "range": range_})
