"""Elementwise arithmetic, matmul, clip_by_value and the Tensor operators.

    y = tf.matmul(x, w) + b        # MatMul, then AddV2 with numpy broadcasting
    loss = -tf.reduce_mean(y_ * tf.log(tf.clip_by_value(y, 1e-10, 1.0)))

A binary op converts a Python number or array on either side to the other side's dtype (as
TensorFlow does), broadcasts shapes statically, and raises TF's shape error when they cannot
broadcast. Their gradients are in `math_grad`; the ops here that only gradients build
(SumToShape, BroadcastLike, SafeLog, MaximumMinimumGrad, ClipByValueGrad) are registered beside
the ops they differentiate.
"""
import functools

import torch

from course import layers
from course.framework import dtypes as _dt
from course.framework.convert import true_division_dtype
from course.framework.shapes import TensorShape, broadcast, dims_error, shape_error
from course.graph.array_ops import cast, convert_to_tensor, make_op
from course.graph.graph import Tensor
from course.graph.registry import one_output, register_op
from course.graph.shape_ops import strided_slice_of

__all__ = ["add", "subtract", "multiply", "divide", "truediv", "realdiv", "floordiv", "mod", "pow", "maximum",
           "minimum", "negative", "log", "exp", "square", "sqrt", "rsqrt", "abs", "reciprocal",
           "log1p", "sign", "floor",
           "equal", "not_equal", "less", "less_equal", "greater", "greater_equal", "logical_and", "logical_or",
           "logical_not", "matmul", "add_n", "clip_by_value", "binary"]


# -- binary ops ----------------------------------------------------------------------------------
def _is_graph_value(v):
    return isinstance(v, Tensor) or hasattr(v, "_graph_tensor")


def _pair(op_type, x, y):
    """Both operands as tensors of one dtype: a non-tensor side takes the tensor side's dtype."""
    if _is_graph_value(x) or not _is_graph_value(y):
        x = convert_to_tensor(x, name="x")
        y = convert_to_tensor(y, dtype=None if _is_graph_value(y) else x.dtype, name="y", graph=x.graph)
    else:
        y = convert_to_tensor(y, name="y")
        x = convert_to_tensor(x, dtype=y.dtype, name="x", graph=y.graph)
    if x.dtype != y.dtype:
        raise TypeError(f"Input 'y' of '{op_type}' Op has type {_dt.name(y.dtype)} that does not match type "
                        f"{_dt.name(x.dtype)} of argument 'x'. Use tf.cast to make them the same.")
    return x, y


def binary(op_type, x, y, name):
    """Build `op_type(x, y)`, converting a non-tensor side to the tensor side's dtype."""
    x, y = _pair(op_type, x, y)
    return make_op(op_type, [x, y], None, name).outputs[0]


def _broadcast_infer(op):
    x, y = op.inputs
    return one_output(broadcast(op, x.shape, y.shape), x.dtype)


def _compare_infer(op):
    x, y = op.inputs
    return one_output(broadcast(op, x.shape, y.shape), torch.bool)


_BINARY = {"AddV2": torch.add, "Sub": torch.sub, "Mul": torch.mul, "RealDiv": torch.div, "Maximum": torch.maximum,
           "Minimum": torch.minimum, "Pow": torch.pow, "FloorDiv": torch.floor_divide, "FloorMod": torch.remainder}
_COMPARE = {"Equal": torch.eq, "NotEqual": torch.ne, "Less": torch.lt, "LessEqual": torch.le, "Greater": torch.gt,
            "GreaterEqual": torch.ge, "LogicalAnd": torch.logical_and, "LogicalOr": torch.logical_or}
for _t, _f in _BINARY.items():
    register_op(_t, infer=_broadcast_infer, kernel=lambda op, _f=_f: _f)
for _t, _f in _COMPARE.items():
    register_op(_t, infer=_compare_infer, kernel=lambda op, _f=_f: _f)


def add(x, y, name=None):
    return binary("AddV2", x, y, name or "Add")


def subtract(x, y, name=None):
    return binary("Sub", x, y, name or "Sub")


def multiply(x, y, name=None):
    return binary("Mul", x, y, name or "Mul")


def truediv(x, y, name=None):
    """x / y; integers are divided as float64 (float32 for 8/16-bit ints), as TF's truediv."""
    x, y = _pair("RealDiv", x, y)
    if _dt.is_integer(x.dtype):
        to = true_division_dtype(x.dtype)
        x, y = cast(x, to), cast(y, to)
    return make_op("RealDiv", [x, y], None, name or "truediv").outputs[0]


def divide(x, y, name=None):
    return truediv(x, y, name=name or "truediv")


def realdiv(x, y, name=None):
    return binary("RealDiv", x, y, name or "RealDiv")


def floordiv(x, y, name=None):
    return binary("FloorDiv", x, y, name or "floordiv")


def mod(x, y, name=None):
    return binary("FloorMod", x, y, name or "mod")


def pow(x, y, name=None):   # noqa: A001 (TF's name)
    return binary("Pow", x, y, name or "Pow")


def maximum(x, y, name=None):
    return binary("Maximum", x, y, name or "Maximum")


def minimum(x, y, name=None):
    return binary("Minimum", x, y, name or "Minimum")


def equal(x, y, name=None):
    return binary("Equal", x, y, name or "Equal")


def not_equal(x, y, name=None):
    return binary("NotEqual", x, y, name or "NotEqual")


def less(x, y, name=None):
    return binary("Less", x, y, name or "Less")


def less_equal(x, y, name=None):
    return binary("LessEqual", x, y, name or "LessEqual")


def greater(x, y, name=None):
    return binary("Greater", x, y, name or "Greater")


def greater_equal(x, y, name=None):
    return binary("GreaterEqual", x, y, name or "GreaterEqual")


def logical_and(x, y, name=None):
    return binary("LogicalAnd", x, y, name or "LogicalAnd")


def logical_or(x, y, name=None):
    return binary("LogicalOr", x, y, name or "LogicalOr")


def _sum_to(g, x):
    return g if g.shape == x.shape else g.sum_to_size(x.shape)


register_op("SumToShape", infer=lambda op: one_output(op.inputs[1].shape, op.inputs[0].dtype),
            kernel=lambda op: _sum_to,
            doc="Sum a broadcast gradient back to the run-time shape of the second input.")


register_op("BroadcastLike", infer=lambda op: one_output(op.inputs[1].shape, op.inputs[0].dtype),
            kernel=lambda op: (lambda g, x: g.expand(x.shape)))


register_op("SafeLog", infer=lambda op: one_output(op.inputs[0].shape, op.inputs[0].dtype),
            kernel=lambda op: (lambda x: torch.where(x > 0, torch.log(torch.where(x > 0, x, 1)), 0)),
            doc="log(x) where x > 0, else 0 (the exponent's gradient of Pow, as TF computes it).")


def _select_grad_kernel(op):
    cmp = torch.ge if op.attrs["op"] == "Maximum" else torch.le
    if op.attrs["which"] == "x":
        return lambda g, x, y: torch.where(cmp(x, y), g, 0.0)
    return lambda g, x, y: torch.where(cmp(x, y), 0.0, g)


register_op("MaximumMinimumGrad", infer=lambda op: one_output(op.inputs[0].shape, op.inputs[0].dtype),
            kernel=_select_grad_kernel,
            doc="The gradient of Maximum/Minimum for one input: grad where that input was chosen (ties go to x).")


# -- unary ops -------------------------------------------------------------------------------------
_UNARY = {"Neg": torch.neg, "Log": torch.log, "Exp": torch.exp, "Square": torch.square, "Sqrt": torch.sqrt,
          "Rsqrt": torch.rsqrt, "Abs": torch.abs, "Reciprocal": torch.reciprocal, "Log1p": torch.log1p,
          "Sign": torch.sign, "LogicalNot": torch.logical_not, "Floor": torch.floor, "Ceil": torch.ceil,
          "Round": torch.round,                   # half to even, as TF's Round
          "Sin": torch.sin, "Cos": torch.cos, "Tan": torch.tan, "Asin": torch.asin, "Acos": torch.acos,
          "Atan": torch.atan, "Sinh": torch.sinh, "Cosh": torch.cosh, "Erf": torch.erf, "Expm1": torch.expm1}
for _t, _f in _UNARY.items():
    register_op(_t, infer=lambda op: one_output(op.inputs[0].shape, op.inputs[0].dtype), kernel=lambda op, _f=_f: _f)


def _unary(op_type, x, name):
    x = convert_to_tensor(x)
    return make_op(op_type, [x], None, name or op_type).outputs[0]


def negative(x, name=None):
    return _unary("Neg", x, name)


def log(x, name=None):
    return _unary("Log", x, name)


def exp(x, name=None):
    return _unary("Exp", x, name)


def square(x, name=None):
    return _unary("Square", x, name)


def sqrt(x, name=None):
    return _unary("Sqrt", x, name)


def rsqrt(x, name=None):
    return _unary("Rsqrt", x, name)


def abs(x, name=None):   # noqa: A001
    return _unary("Abs", x, name)


def reciprocal(x, name=None):
    return _unary("Reciprocal", x, name)


def log1p(x, name=None):
    return _unary("Log1p", x, name)


def sign(x, name=None):
    return _unary("Sign", x, name)


def floor(x, name=None):
    return _unary("Floor", x, name)


def logical_not(x, name=None):
    return _unary("LogicalNot", x, name)


def _unary_function(op_type, tf_name):
    def f(x, name=None):
        return _unary(op_type, x, name)
    f.__name__ = f.__qualname__ = tf_name
    f.__doc__ = f"tf.{tf_name}: elementwise {op_type} (graph op)."
    return f


ceil, round, sin, cos, tan, asin, acos, atan, sinh, cosh, erf, expm1 = (   # noqa: A001 (TF's names)
    _unary_function(t, n) for t, n in (("Ceil", "ceil"), ("Round", "round"), ("Sin", "sin"), ("Cos", "cos"),
                                       ("Tan", "tan"), ("Asin", "asin"), ("Acos", "acos"), ("Atan", "atan"),
                                       ("Sinh", "sinh"), ("Cosh", "cosh"), ("Erf", "erf"), ("Expm1", "expm1")))


# -- matmul ------------------------------------------------------------------------------------------
def matmul(a, b, transpose_a=False, transpose_b=False, adjoint_a=False, adjoint_b=False, a_is_sparse=False,
           b_is_sparse=False, output_type=None, grad_a=False, grad_b=False, name=None):
    """a @ b for matrices (MatMul) or batches of matrices (BatchMatMulV2), with optional transposes."""
    a = convert_to_tensor(a, name="a")
    b = convert_to_tensor(b, dtype=None if _is_graph_value(b) else a.dtype, name="b", graph=a.graph)
    ta, tb = bool(transpose_a or adjoint_a), bool(transpose_b or adjoint_b)
    if a.dtype != b.dtype:
        raise TypeError(f"Input 'b' of 'MatMul' Op has type {_dt.name(b.dtype)} that does not match type "
                        f"{_dt.name(a.dtype)} of argument 'a'. Use tf.cast to make them the same.")
    batched = (a.shape.rank or 2) > 2 or (b.shape.rank or 2) > 2
    return make_op("BatchMatMulV2" if batched else "MatMul", [a, b], {"transpose_a": ta, "transpose_b": tb},
                   name or ("MatMul" if not batched else "MatMul")).outputs[0]


def _matmul_infer(op):
    a, b = op.inputs
    ta, tb = op.attrs["transpose_a"], op.attrs["transpose_b"]
    if a.shape.rank is None or b.shape.rank is None:
        return one_output(TensorShape(None), a.dtype)
    if op.type == "MatMul" and (a.shape.rank != 2 or b.shape.rank != 2):
        bad = a.shape if a.shape.rank != 2 else b.shape
        raise shape_error(op, f"Shape must be rank 2 but is rank {bad.rank}")
    if a.shape.rank < 2 or b.shape.rank < 2:
        raise shape_error(op, "Shape must be at least rank 2 for a batched matmul")
    m, k1 = (a.shape[-1], a.shape[-2]) if ta else (a.shape[-2], a.shape[-1])
    k2, n = (b.shape[-1], b.shape[-2]) if tb else (b.shape[-2], b.shape[-1])
    if k1 is not None and k2 is not None and k1 != k2:
        raise dims_error(op, k1, k2)
    batch = []
    if op.type == "BatchMatMulV2":
        batch = list(broadcast(op, TensorShape(list(a.shape)[:-2]), TensorShape(list(b.shape)[:-2])))
    return one_output(TensorShape(batch + [m, n]), a.dtype)


def _matmul_kernel(op):
    ta, tb = op.attrs["transpose_a"], op.attrs["transpose_b"]
    if op.type == "MatMul":
        mm = torch.mm
        if ta:                                                # a transposed input: torch.mm
            return (lambda a, b: mm(a.t(), b.t())) if tb else (lambda a, b: mm(a.t(), b))
        b_shape = op.inputs[1].shape
        rows, cols = (b_shape[0], b_shape[1]) if b_shape.rank == 2 else (None, None)
        k, n = (cols, rows) if tb else (rows, cols)
        return layers.matmul_kernel(k, n, transpose_b=tb)
    tr = lambda x, t: x.transpose(-1, -2) if t else x   # noqa: E731
    return lambda a, b: torch.matmul(tr(a, ta), tr(b, tb))


register_op("MatMul", infer=_matmul_infer, kernel=_matmul_kernel)
register_op("BatchMatMulV2", infer=_matmul_infer, kernel=_matmul_kernel)


# -- sums and clipping ---------------------------------------------------------------------------------
def add_n(inputs, name=None):
    inputs = [convert_to_tensor(t) for t in inputs]
    if len(inputs) == 1:
        return inputs[0]
    return make_op("AddN", inputs, None, name or "AddN").outputs[0]


def _add_n_infer(op):
    s = op.inputs[0].shape
    for t in op.inputs[1:]:
        if not s.is_compatible_with(t.shape):
            raise shape_error(op, "Shapes must be equal")
        s = s.merge_with(t.shape)
    return one_output(s, op.inputs[0].dtype)


def _add_n(*xs):
    return functools.reduce(torch.add, xs)


register_op("AddN", infer=_add_n_infer, kernel=lambda op: (torch.add if len(op.inputs) == 2 else _add_n))


def clip_by_value(t, clip_value_min, clip_value_max, name=None):
    """min(max(t, lo), hi). One ClipByValue op; its gradient passes where lo <= t <= hi, which is
    what TF's Minimum/Maximum pair (and its ClipByValue kernel) give, ties included."""
    t = convert_to_tensor(t)
    attrs, inputs = {}, [t]
    for key, v in (("min", clip_value_min), ("max", clip_value_max)):
        if _is_graph_value(v):
            attrs[key] = None
            inputs.append(convert_to_tensor(v, dtype=t.dtype))
        else:
            attrs[key] = float(v) if t.dtype.is_floating_point else int(v)
    return make_op("ClipByValue", inputs, attrs, name or "clip_by_value").outputs[0]


def _clip_infer(op):
    s = op.inputs[0].shape
    for extra in op.inputs[1:]:
        if extra.shape.rank not in (None, 0) and not broadcast(op, s, extra.shape) == s:
            raise shape_error(op, "clip_value_min and clip_value_max must broadcast to the shape of t")
    return one_output(s, op.inputs[0].dtype)


def _clip_kernel(op):
    lo, hi = op.attrs["min"], op.attrs["max"]
    if lo is not None and hi is not None:
        return lambda t: torch.clamp(t, lo, hi)
    if lo is None and hi is None:
        return lambda t, a, b: torch.minimum(torch.maximum(t, a), b)
    if lo is None:
        return lambda t, a: torch.clamp(torch.maximum(t, a), max=hi)
    return lambda t, b: torch.minimum(torch.clamp(t, min=lo), b)


register_op("ClipByValue", infer=_clip_infer, kernel=_clip_kernel)


def _clip_grad_kernel(op):
    lo, hi = op.attrs["min"], op.attrs["max"]
    if lo is not None and hi is not None:
        return _clip_grad_const(lo, hi)
    return lambda g, t, *bounds: torch.where(_within(t, lo, hi, bounds), g, 0.0)


def _within(t, lo, hi, bounds):
    bounds = list(bounds)
    a = bounds.pop(0) if lo is None else lo
    b = bounds.pop(0) if hi is None else hi
    return (t >= a) & (t <= b)


def _clip_grad_const(lo, hi):
    """g where lo <= t <= hi (clamp leaves t as it is), else 0; a NaN's gradient is 0, as in TF.
    A floating g goes through masked_fill instead of where(mask, g, 0.0): the same values without
    wrapping the Python 0.0 in a tensor (about 2 us of a 75 us seed003 step)."""
    def kernel(g, t):
        if g.is_floating_point() and g.shape == t.shape:
            return g.masked_fill(torch.clamp(t, lo, hi) != t, 0)
        return torch.where(torch.clamp(t, lo, hi) == t, g, 0.0)
    return kernel


register_op("ClipByValueGrad", infer=lambda op: one_output(op.inputs[0].shape, op.inputs[0].dtype),
            kernel=_clip_grad_kernel,
            doc="grad where lo <= t <= hi, else 0.")


# -- Tensor operators ---------------------------------------------------------------------------------
def _install_operators():
    ops = {
        "__add__": lambda a, b: binary("AddV2", a, b, "add"), "__radd__": lambda a, b: binary("AddV2", b, a, "add"),
        "__sub__": lambda a, b: binary("Sub", a, b, "sub"), "__rsub__": lambda a, b: binary("Sub", b, a, "sub"),
        "__mul__": lambda a, b: binary("Mul", a, b, "mul"), "__rmul__": lambda a, b: binary("Mul", b, a, "mul"),
        "__truediv__": lambda a, b: truediv(a, b, "truediv"), "__rtruediv__": lambda a, b: truediv(b, a, "truediv"),
        "__floordiv__": lambda a, b: floordiv(a, b, "floordiv"),
        "__rfloordiv__": lambda a, b: floordiv(b, a, "floordiv"),
        "__mod__": lambda a, b: mod(a, b, "mod"), "__rmod__": lambda a, b: mod(b, a, "mod"),
        "__pow__": lambda a, b: pow(a, b, "pow"), "__rpow__": lambda a, b: pow(b, a, "pow"),
        "__matmul__": lambda a, b: matmul(a, b, name="matmul"), "__rmatmul__": lambda a, b: matmul(b, a, name="matmul"),
        "__lt__": lambda a, b: less(a, b, "Less"), "__le__": lambda a, b: less_equal(a, b, "LessEqual"),
        "__gt__": lambda a, b: greater(a, b, "Greater"), "__ge__": lambda a, b: greater_equal(a, b, "GreaterEqual"),
        "__and__": lambda a, b: logical_and(a, b, "and"), "__rand__": lambda a, b: logical_and(b, a, "and"),
        "__or__": lambda a, b: logical_or(a, b, "or"), "__ror__": lambda a, b: logical_or(b, a, "or"),
        "__neg__": lambda a: negative(a), "__abs__": lambda a: abs(a), "__invert__": lambda a: logical_not(a),
        "__getitem__": strided_slice_of,
    }
    for k, f in ops.items():
        setattr(Tensor, k, f)
    return ops


TENSOR_OPERATORS = _install_operators()
