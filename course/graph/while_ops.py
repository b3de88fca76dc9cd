"""`tf.while_loop` as a `While` graph op holding its `cond` and `body` functions.

    i, s = tf.while_loop(lambda i, s: i < n, lambda i, s: (i + 1, s + i), [0, 0.0])   # one `While` op

As in TensorFlow 2, `cond` and `body` are each traced once into their own small graph
(`subgraph.SubFunction`), kept as attributes of the op. When the op runs, its kernel runs the body
while the condition holds, with the executor of the session running it. Outside any graph (eager
code) the loop is plain Python, as TF2's is.

Gradient: the forward loop records the loop variables that enter each iteration; `WhileGrad` then
runs the body's gradient graph over them in reverse (TensorFlow keeps the same values in stacks). A
random op inside a body is drawn again when its gradient runs. `While` is the stateful form (the body
has a side effect such as `assign` or `tf.print`); `StatelessWhile` the other, as in TensorFlow.
"""
import torch

from course.framework import dtypes as _dt
from course.framework import nest
from course.framework.shapes import TensorShape, as_shape
from course.graph.array_ops import constant, convert_to_tensor, identity, zeros_like
from course.graph.control_flow_util import bind_captures, building, flatten_values, trace, trace_loop_body
from course.graph.gradients import gradients
from course.graph.graph import graph_of
from course.graph.math_ops import add, less, logical_and
from course.graph.registry import RegisterGradient, register_op
from course.graph.resource_ops import SIDE_EFFECTS
from course.graph.subgraph import SubFunction, SubPlan, has_side_effects, placeholder_in

__all__ = ["while_loop", "while_loop_v1", "check_loop_outputs"]

SIDE_EFFECTS.add("While")


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
    """TF1's `tf.while_loop` (its argument order; one loop variable comes back bare by default). TF1 code
    is graph mode: loop variables given as Python numbers still make a `While` op in the default graph."""
    with graph_of(nest.flatten(loop_vars)).as_default():
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
