"""Static shapes of graph tensors, and TensorFlow's build-time shape errors.

A graph tensor knows its shape before anything runs, with `None` for a dimension only known at
run time (the batch size of a placeholder). Ops check their inputs' shapes when they are created,
so a mismatch fails where the graph is built, naming the op and both shapes:

    Dimensions must be equal, but are 3 and 4 for 'MatMul' (op: 'MatMul') with input shapes: [?,3], [4,1].
"""
from course.tape.shape import TensorShape, as_shape

__all__ = ["TensorShape", "as_shape", "brackets", "tf1_str", "broadcast", "shape_error", "dims_error", "unknown",
           "same_or_unknown"]


def brackets(shape) -> str:
    """'[?,3]' -- how TF's shape functions print a shape; '?' for an unknown rank."""
    shape = as_shape(shape)
    if shape.rank is None:
        return "?"
    return "[" + ",".join("?" if d is None else str(d) for d in shape) + "]"


def tf1_str(shape) -> str:
    """'(?, 2)' -- how TF1 printed a TensorShape."""
    shape = as_shape(shape)
    if shape.rank is None:
        return "<unknown>"
    return "(" + ", ".join("?" if d is None else str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def unknown():
    return TensorShape(None)


def shape_error(op, message, shapes=None):
    """ValueError in TF's format: "<message> for 'name' (op: 'Type') with input shapes: [..], [..]."."""
    shapes = [t.shape for t in op.inputs] if shapes is None else shapes
    with_shapes = f" with input shapes: {', '.join(brackets(s) for s in shapes)}" if shapes else ""
    return ValueError(f"{message} for '{op.name}' (op: '{op.type}'){with_shapes}.")


def dims_error(op, a, b, shapes=None):
    return shape_error(op, f"Dimensions must be equal, but are {a} and {b}", shapes)


def broadcast(op, a, b):
    """The static shape of `a (op) b` under numpy broadcasting; raises TF's error when impossible."""
    a, b = as_shape(a), as_shape(b)
    if a.rank is None or b.rank is None:
        return unknown()
    n = max(len(a), len(b))
    da, db = [1] * (n - len(a)) + list(a), [1] * (n - len(b)) + list(b)
    out = []
    for x, y in zip(da, db):
        if x == 1:
            out.append(y)
        elif y == 1:
            out.append(x)
        elif x is None or y is None:
            out.append(x if y is None else y)      # a known dim > 1 wins; both unknown stay unknown
        elif x == y:
            out.append(x)
        else:
            raise dims_error(op, x, y, [a, b])
    return TensorShape(out)


def same_or_unknown(a, b) -> bool:
    """True when two static shapes are provably equal (same rank, every dimension known and equal)."""
    a, b = as_shape(a), as_shape(b)
    return a.is_fully_defined() and b.is_fully_defined() and tuple(a) == tuple(b)
