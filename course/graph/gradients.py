"""`tf.gradients`: the backward pass built as graph ops, before anything runs.

    dw1, dw2 = tf.gradients(loss, [w1, w2])      # new ops under 'gradients/'

Reverse-mode differentiation on the graph, as TensorFlow's `gradients_util` does it:
1. keep the ops that lie on a path from some x to some y;
2. seed each y with `grad_ys` (default ones of y's shape);
3. visit those ops from last-created to first (a reverse topological order); for each, sum the
   gradients its outputs received (AddN) and call the gradient function registered for its
   type (`@RegisterGradient`), which *builds ops* returning one gradient per input;
4. the gradient of x is the sum of what reached it (None when no path connects it to y).
Only floating-point tensors carry gradients (an integer y, or a path through an integer cast,
gives None, as in TF). Running the returned tensors evaluates the backward
ops like any other ops -- no autograd tape is involved. The gradient functions are registered by
`math_grad`, `array_grad` and `nn_grad`, imported here so they are in place before any backward pass.
"""
from course.framework import dtypes as _dt
from course.graph import array_grad, math_grad, nn_grad  # noqa: F401  (they register the gradient functions)
from course.graph.array_ops import constant, convert_to_tensor, ones_like, zeros_like
from course.graph.graph import graph_of
from course.graph.math_ops import add_n
from course.graph.registry import get_gradient_function

__all__ = ["gradients", "AggregationMethod", "UnconnectedGradients"]


class AggregationMethod:
    ADD_N = 0
    DEFAULT = 0
    EXPERIMENTAL_TREE = 1
    EXPERIMENTAL_ACCUMULATE_N = 2


class UnconnectedGradients:
    NONE = "none"
    ZERO = "zero"


def _as_list(v):
    return list(v) if isinstance(v, (list, tuple)) else [v]


def _x_tensor(x):
    ref = getattr(x, "_ref", None)
    if ref is not None:
        return ref()                   # a Variable: differentiate w.r.t. its storage, through every read
    return convert_to_tensor(x)


def gradients(ys, xs, grad_ys=None, name="gradients", colocate_gradients_with_ops=False, gate_gradients=False,
              aggregation_method=None, stop_gradients=None, unconnected_gradients=UnconnectedGradients.NONE):
    """Symbolic d(sum of ys)/d(x) for each x in xs; a list of tensors (None where unconnected)."""
    ys = [convert_to_tensor(y) for y in _as_list(ys)]
    xs = [_x_tensor(x) for x in _as_list(xs)]
    g = graph_of(ys + xs)
    grad_ys = [None] * len(ys) if grad_ys is None else _as_list(grad_ys)
    if len(grad_ys) != len(ys):
        raise ValueError(f"Passed {len(grad_ys)} grad_ys for {len(ys)} ys.")
    stop_ops = {convert_to_tensor(s).op for s in _as_list(stop_gradients)} if stop_gradients is not None else set()

    # 1. the ops between xs and ys
    x_set = set(xs)
    forward, stack = set(), [c for x in xs for c in x._consumers]
    while stack:
        op = stack.pop()
        if op not in forward:
            forward.add(op)
            stack.extend(c for t in op.outputs for c in t._consumers)
    between, stack = set(), [y.op for y in ys]
    while stack:
        op = stack.pop()
        if op in between or op not in forward:
            continue
        between.add(op)
        stack.extend(t.op for t in op.inputs)

    with g.as_default(), g.name_scope(name or "gradients"):
        # 2. seeds
        received = {}
        for i, (y, gy) in enumerate(zip(ys, grad_ys)):
            if gy is None:
                if not _dt.is_floating(y.dtype):
                    continue                               # TF: an integer y carries no gradient (x gets None)
                gy = (constant(1, y.dtype, shape=list(y.shape), name=f"grad_ys_{i}") if y.shape.is_fully_defined()
                      else ones_like(y, name=f"grad_ys_{i}"))
            else:
                gy = convert_to_tensor(gy, dtype=y.dtype)
            received.setdefault(y, []).append(gy)

        # 3. backwards through the ops
        for op in sorted(between, key=lambda o: o._id, reverse=True):
            if op in stop_ops:
                continue
            if not any(t.op in between or t in x_set for t in op.inputs):
                continue                                   # an x's own op: nothing further back
            out_grads = []
            for t in op.outputs:
                parts = received.get(t)
                out_grads.append(None if not parts else _sum(parts, t))
            if all(og is None for og in out_grads):
                continue
            fn = get_gradient_function(op)
            if fn is None:                                 # NotDifferentiable
                continue
            with g.name_scope(op.name + "_grad"):
                in_grads = list(fn(op, *out_grads))
            if len(in_grads) != len(op.inputs):
                raise ValueError(f"The gradient function of {op.type} returned {len(in_grads)} gradients for "
                                 f"{len(op.inputs)} inputs.")
            for t, gi in zip(op.inputs, in_grads):
                if gi is not None and (t.op in between or t in x_set) and _dt.is_floating(t.dtype):
                    received.setdefault(t, []).append(gi)

        # 4. results
        out = []
        for x in xs:
            parts = received.get(x)
            if parts:
                out.append(_sum(parts, x))
            elif unconnected_gradients == UnconnectedGradients.ZERO:
                out.append(zeros_like(x))
            else:
                out.append(None)
    return out


def _sum(parts, t):
    if len(parts) == 1:
        return parts[0]
    return add_n(parts, name="AddN")

