"""Eager maths: elementwise ops, comparisons, reductions, matmul and casts, with TF's semantics.

Where TensorFlow and torch disagree, TensorFlow wins:
- reductions take `axis` (int, list or None = all) and `keepdims`; `axis=[]` reduces nothing;
- `reduce_sum`/`reduce_prod` keep integer dtypes (torch widens to int64);
- `reduce_mean` of integers is an integer mean, truncated toward zero (int32 [1, 2] -> 1);
- `argmax`/`argmin` default to axis 0 and return int64 (`output_type`);
- `divide` of integers is true division into float64 (float32 for 8/16-bit ints);
- `matmul` needs rank >= 2 and reports both shapes on a mismatch;
- dtypes are never promoted: a numpy array or Python value next to a tensor takes the tensor's
  dtype (numpy values are cast; a Python float never becomes an integer: TypeError), and two
  tensors of different dtypes are TF's InvalidArgumentError (`tf.cast` one of them);
- float-only ops (sqrt, exp, log, sigmoid, ...) raise TF's error for integers instead of casting;
- `maximum`/`minimum` give a tie's whole gradient to x, so `clip_by_value` has gradient 1 on its
  bounds (torch would split it).

One concept, `tf.math` in eager code, so one module (a little over 450 lines): the ops share the
operand conversion and the reduction-axis rules above.
"""
from collections import namedtuple

import numpy as np
import torch

from course import layers
from course.framework.dtypes import as_torch_dtype, name as as_dtype_name
from course.framework.errors import InvalidArgumentError
from course.framework.convert import TRUEDIV
from course.tape.tensor import (convert_operand, dtype_mismatch, integer_division_by_zero, kernel_dtype_name,
                                to_numpy, to_tensor, truediv_mismatch, wrap)

__all__ = ["add", "subtract", "multiply", "divide", "truediv", "floordiv", "floormod", "pow_", "maximum", "minimum",
           "squared_difference", "divide_no_nan", "add_n", "scalar_mul", "atan2", "xdivy",
           "square", "sqrt", "rsqrt", "exp", "expm1", "log", "log1p", "abs_", "negative", "sign", "reciprocal",
           "floor", "ceil", "round_", "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh",
           "sigmoid", "log_sigmoid", "softplus", "erf", "lgamma", "is_nan", "is_inf", "is_finite",
           "equal", "not_equal", "greater", "greater_equal", "less", "less_equal",
           "logical_and", "logical_or", "logical_xor", "logical_not",
           "reduce_sum", "reduce_mean", "reduce_max", "reduce_min", "reduce_prod", "reduce_any", "reduce_all",
           "reduce_logsumexp", "reduce_std", "reduce_variance", "reduce_euclidean_norm", "count_nonzero",
           "argmax", "argmin", "cumsum", "cumprod", "matmul", "cast", "saturate_cast", "clip_by_value",
           "clip_by_norm", "clip_by_global_norm", "global_norm", "norm", "l2_normalize", "tensordot", "einsum",
           "confusion_matrix", "top_k", "in_top_k", "axis_arg"]

_TopK = namedtuple("TopKV2", ["values", "indices"])


def _t(x):
    """A plain tensor for any input (tensors pass through, without copy)."""
    return to_tensor(x)


def _pair(x, y, op=None, hinted=False, index=1):
    """Two operands as plain tensors of one dtype, converted as TF's ops convert them: a non-tensor side
    takes the tensor side's dtype (numpy values are cast; a Python float never becomes an integer:
    TypeError), with neither a tensor the second takes the first's; two tensors of different dtypes
    are TF's InvalidArgumentError (TF never promotes). `hinted`: the op converts y with a dtype hint
    (tf.add), so a y that does not fit keeps its own dtype and the mismatch is reported instead."""
    xt, yt = isinstance(x, torch.Tensor), isinstance(y, torch.Tensor)
    if yt and not xt and not hinted:
        b = to_tensor(y)
        a = convert_operand(x, b.dtype, b.device)
    else:
        a = to_tensor(x)
        b = to_tensor(y) if yt else convert_operand(y, a.dtype, a.device, hinted=hinted)
    if a.device != b.device:
        if a.dim() == 0 and a.device.type == "cpu":
            a = a.to(b.device)
        else:
            b = b.to(a.device)
    if op is not None and a.dtype != b.dtype:
        raise dtype_mismatch(op, a.dtype, b.dtype, index)
    return a, b


def _convert_like(value, like):
    """A non-tensor bound or operand next to tensor `like`, converted to its dtype as TF does."""
    return convert_operand(value, like.dtype, like.device)


_FLOAT_TYPES = "bfloat16, half, float, double, complex64, complex128"


def _float_input(t, op, allowed=_FLOAT_TYPES):
    """TF's error for a float-only op (tf.sqrt, tf.exp, tf.nn.softmax, ...) given integers or bools."""
    if not (t.dtype.is_floating_point or t.dtype.is_complex):
        raise InvalidArgumentError(None, None, f"Value for attr 'T' of {kernel_dtype_name(t.dtype)} is not in the list "
                                   f"of allowed values: {allowed} [Op:{op}]. tf.cast the input to a float dtype "
                                   f"first (e.g. tf.cast(x, tf.float32)).")
    return t


def axis_arg(axis, ndim=None):
    """TF's axis argument -> None (all), an int, or a tuple of ints (negative allowed)."""
    if axis is None:
        return None
    if isinstance(axis, torch.Tensor):
        axis = to_numpy(axis).tolist()
    elif isinstance(axis, np.ndarray):
        axis = axis.tolist()
    if isinstance(axis, (list, tuple)):
        return tuple(int(a) for a in axis)
    return int(axis)


def _binary(fn, op, hinted=False):
    def f(x, y, name=None):
        a, b = _pair(x, y, op, hinted)
        return wrap(fn(a, b))
    return f


def _logical(fn, op):
    def f(x, y, name=None):
        a, b = (_t(v) if isinstance(v, torch.Tensor) else to_tensor(v, torch.bool) for v in (x, y))
        for k, v in enumerate((a, b)):
            if v.dtype != torch.bool:
                raise dtype_mismatch(op, torch.bool, v.dtype, k)
        return wrap(fn(a, b.to(a.device)))
    return f


def _max_min(pick, ge):
    """TF's Maximum/Minimum: a tie's whole gradient goes to x (torch splits it in halves)."""
    class MaxMin(torch.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            ctx.save_for_backward(a, b)
            return pick(a, b)

        @staticmethod
        def backward(ctx, grad):
            a, b = ctx.saved_tensors
            to_x = ge(a, b)
            zero = torch.zeros((), dtype=grad.dtype, device=grad.device)
            gx = _sum_to(torch.where(to_x, grad, zero), a.shape) if ctx.needs_input_grad[0] else None
            gy = _sum_to(torch.where(to_x, zero, grad), b.shape) if ctx.needs_input_grad[1] else None
            return gx, gy

    def f(a, b):
        if torch.is_grad_enabled() and (a.requires_grad or b.requires_grad):
            return MaxMin.apply(a, b)
        return pick(a, b)
    return f


def _sum_to(g, shape):
    """g summed down to `shape` (the inverse of broadcasting)."""
    if tuple(g.shape) == tuple(shape):
        return g
    lead = g.dim() - len(shape)
    dims = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1 and g.shape[lead + i] != 1)
    return g.sum(dim=dims, keepdim=True).reshape(shape) if dims else g.reshape(shape)


_maximum = _max_min(torch.maximum, torch.ge)
_minimum = _max_min(torch.minimum, torch.le)

add = _binary(torch.add, "AddV2", hinted=True)
subtract = _binary(torch.sub, "Sub")
multiply = _binary(torch.mul, "Mul")
maximum = _binary(_maximum, "Maximum")
minimum = _binary(_minimum, "Minimum")
atan2 = _binary(torch.atan2, "Atan2")
logical_and = _logical(torch.logical_and, "LogicalAnd")
logical_or = _logical(torch.logical_or, "LogicalOr")
logical_xor = _logical(torch.logical_xor, "LogicalXor")
equal = _binary(torch.eq, "Equal")
not_equal = _binary(torch.ne, "NotEqual")
greater = _binary(torch.gt, "Greater")
greater_equal = _binary(torch.ge, "GreaterEqual")
less = _binary(torch.lt, "Less")
less_equal = _binary(torch.le, "LessEqual")
pow_ = _binary(torch.pow, "Pow")


def squared_difference(x, y, name=None):
    a, b = _pair(x, y, "SquaredDifference")
    return wrap((a - b) ** 2)


def divide(x, y, name=None):
    """x / y; integers divide into float64 (float32 for 8/16-bit ints), as TF's truediv."""
    a, b = _pair(x, y, None, hinted=True)
    if a.dtype != b.dtype:
        raise truediv_mismatch(a.dtype, b.dtype)
    if a.dtype in TRUEDIV:
        a, b = a.to(TRUEDIV[a.dtype]), b.to(TRUEDIV[a.dtype])
    return wrap(torch.div(a, b))


truediv = divide


def _integer_division(fn, op):
    def f(x, y, name=None):
        a, b = _pair(x, y, op)
        if not (b.dtype.is_floating_point or b.dtype.is_complex) and bool((b == 0).any()):
            raise integer_division_by_zero(op)            # TF's error (torch's differs on CPU and GPU)
        return wrap(fn(a, b))
    return f


floordiv = _integer_division(lambda a, b: torch.div(a, b, rounding_mode="floor"), "FloorDiv")
floormod = _integer_division(torch.remainder, "FloorMod")     # python-style: the result has the divisor's sign


def divide_no_nan(x, y, name=None):
    """x / y, and 0 wherever y == 0 (integers divide as in tf.divide: into float64)."""
    a, b = _pair(x, y, "DivNoNan")
    if a.dtype in TRUEDIV:
        a, b = a.to(TRUEDIV[a.dtype]), b.to(TRUEDIV[a.dtype])
    safe = torch.where(b == 0, torch.ones_like(b), b)
    return wrap(torch.where(b == 0, torch.zeros_like(a / safe), a / safe))


def xdivy(x, y, name=None):
    a, b = _pair(x, y, "Xdivy")
    return wrap(torch.where(a == 0, torch.zeros_like(a / b), a / b))


def add_n(inputs, name=None):
    """The elementwise sum of a list of same-shaped tensors."""
    if not inputs:
        raise ValueError("tf.add_n needs a non-empty list of tensors.")
    first = _t(inputs[0])
    inputs = [first] + [_t(v) if isinstance(v, torch.Tensor) else _convert_like(v, first) for v in inputs[1:]]
    for k, v in enumerate(inputs[1:], 1):
        if v.dtype != first.dtype:
            raise dtype_mismatch("AddN", first.dtype, v.dtype, k)
    out = inputs[0]
    for v in inputs[1:]:
        out = out + v
    return wrap(out)


def scalar_mul(scalar, x, name=None):
    return multiply(x, scalar)


def _unary(fn, op=None, allowed=_FLOAT_TYPES):
    """An elementwise op; with `op` it takes floats only and raises TF's error for integers."""
    def f(x, name=None):
        t = _t(x)
        if op is not None:
            _float_input(t, op, allowed)
        return wrap(fn(t))
    return f


def _zero_safe(fn, grad_of):
    """fn whose gradient is TF's kernel's: exactly 0 where the incoming gradient is 0, even where the
    local derivative is infinite (sqrt, rsqrt and reciprocal at 0). So tf.where(x > 0, tf.sqrt(x), x)
    has gradient 1 at x = 0 as in TF, where torch's 0 * inf would give NaN."""
    class ZeroSafe(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = fn(x)
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, dy):
            (y,) = ctx.saved_tensors
            g = grad_of(y, dy)
            return torch.where(dy == 0, torch.zeros_like(g), g)

    def f(x):
        if torch.is_grad_enabled() and x.requires_grad:
            return ZeroSafe.apply(x)
        return fn(x)
    return f


_REAL = "bfloat16, half, float, double"
square = _unary(torch.square)
sqrt = _unary(_zero_safe(torch.sqrt, lambda y, dy: dy * 0.5 / y.conj()), "Sqrt")
rsqrt = _unary(_zero_safe(torch.rsqrt, lambda y, dy: dy * -0.5 * (y * y * y).conj()), "Rsqrt")
exp = _unary(torch.exp, "Exp")
expm1 = _unary(torch.expm1, "Expm1")
log = _unary(torch.log, "Log")
log1p = _unary(torch.log1p, "Log1p")
abs_ = _unary(torch.abs)
negative = _unary(torch.neg)
sign = _unary(torch.sign)
reciprocal = _unary(_zero_safe(torch.reciprocal, lambda y, dy: -dy * (y * y).conj()), "Reciprocal")
floor = _unary(torch.floor, "Floor", _REAL)
ceil = _unary(torch.ceil, "Ceil", _REAL)
round_ = _unary(torch.round)                 # half to even, as TF
sin = _unary(torch.sin, "Sin")
cos = _unary(torch.cos, "Cos")
tan = _unary(torch.tan, "Tan")
asin = _unary(torch.asin, "Asin")
acos = _unary(torch.acos, "Acos")
atan = _unary(torch.atan, "Atan")
sinh = _unary(torch.sinh, "Sinh")
cosh = _unary(torch.cosh, "Cosh")
tanh = _unary(torch.tanh, "Tanh")
sigmoid = _unary(torch.sigmoid, "Sigmoid")
softplus = _unary(torch.nn.functional.softplus, "Softplus", _REAL)
log_sigmoid = _unary(torch.nn.functional.logsigmoid, "Softplus", _REAL)
erf = _unary(torch.erf, "Erf", _REAL)
lgamma = _unary(torch.lgamma, "Lgamma", _REAL)
is_nan = _unary(torch.isnan, "IsNan", _REAL)
is_inf = _unary(torch.isinf, "IsInf", _REAL)
is_finite = _unary(torch.isfinite, "IsFinite", _REAL)


def logical_not(x, name=None):
    t = _t(x)
    if t.dtype != torch.bool:
        raise InvalidArgumentError(None, None, f"cannot compute LogicalNot as input #0(zero-based) was expected to be "
                                   f"a bool tensor but is a {kernel_dtype_name(t.dtype)} tensor [Op:LogicalNot]")
    return wrap(torch.logical_not(t))


# --- reductions --------------------------------------------------------------------------------
def _reduce(x, axis, keepdims, fn, op=None, empty=None):
    """Apply fn(t, dims, keepdim) with TF's axis conventions (None = all; [] = none). With `op` the
    reduction takes numbers only (TF has no Sum/Mean/Max of bools); `empty(t)` is the identity value
    for reducing over an axis of length 0 (TF's -inf for max, +inf for min)."""
    t = _t(x)
    if op is not None and t.dtype == torch.bool:
        raise InvalidArgumentError(None, None, f"Value for attr 'T' of bool is not in the list of allowed values: "
                                   f"float, double, int32, uint8, int16, int8, complex64, int64, bfloat16, half "
                                   f"[Op:{op}]. tf.cast the booleans to a number first (e.g. tf.cast(mask, "
                                   f"tf.int32)).")
    ax = axis_arg(axis)
    if ax == ():
        return wrap(t.clone())
    if ax is None:
        dims = tuple(range(t.dim()))
    else:
        dims = (ax,) if isinstance(ax, int) else ax
        for d in dims:
            if not -t.dim() <= d < t.dim():
                raise InvalidArgumentError(f"Invalid reduction dimension {d} for input with {t.dim()} dimensions "
                                           f"(shape {tuple(t.shape)}); axis must be in [-{t.dim()}, {t.dim()}).")
        normal = [d % t.dim() for d in dims]
        if len(set(normal)) != len(normal):
            dup = next(d for d in normal if normal.count(d) > 1)
            raise InvalidArgumentError(f"Invalid reduction arguments: Axes contains duplicate dimension: {dup}")
    if t.dim() == 0:
        return wrap(t.clone())
    if empty is not None and any(t.shape[d] == 0 for d in dims):
        keep = [1 if (i in dims or i - t.dim() in dims) else n for i, n in enumerate(t.shape)]
        shape = keep if keepdims else [n for i, n in enumerate(t.shape) if not (i in dims or i - t.dim() in dims)]
        return wrap(torch.full(shape, empty(t), dtype=t.dtype, device=t.device))
    return wrap(fn(t, dims, bool(keepdims)))


def _lowest(t):
    return -float("inf") if t.dtype.is_floating_point else torch.iinfo(t.dtype).min


def _highest(t):
    return float("inf") if t.dtype.is_floating_point else torch.iinfo(t.dtype).max


def reduce_sum(input_tensor, axis=None, keepdims=False, name=None):
    return _reduce(input_tensor, axis, keepdims, lambda t, d, k: torch.sum(t, dim=d, keepdim=k, dtype=t.dtype), "Sum")


def reduce_mean(input_tensor, axis=None, keepdims=False, name=None):
    """Mean over `axis`; integers give the integer mean truncated toward zero (TF)."""
    def fn(t, dims, keep):
        if t.dtype.is_floating_point or t.dtype.is_complex:
            return torch.mean(t, dim=dims, keepdim=keep)
        n = 1
        for d in dims:
            n *= t.shape[d]
        total = torch.sum(t, dim=dims, keepdim=keep, dtype=torch.int64)
        return torch.div(total, max(n, 1), rounding_mode="trunc").to(t.dtype)
    return _reduce(input_tensor, axis, keepdims, fn, "Mean")


def reduce_max(input_tensor, axis=None, keepdims=False, name=None):
    return _reduce(input_tensor, axis, keepdims, lambda t, d, k: torch.amax(t, dim=d, keepdim=k), "Max", _lowest)


def reduce_min(input_tensor, axis=None, keepdims=False, name=None):
    return _reduce(input_tensor, axis, keepdims, lambda t, d, k: torch.amin(t, dim=d, keepdim=k), "Min", _highest)


def reduce_prod(input_tensor, axis=None, keepdims=False, name=None):
    def fn(t, dims, keep):
        out = t
        for d in sorted((d % t.dim() for d in dims), reverse=True):
            out = torch.prod(out, dim=d, keepdim=keep, dtype=t.dtype)
        return out
    return _reduce(input_tensor, axis, keepdims, fn, "Prod")


def _bools(x, op):
    t = _t(x) if isinstance(x, torch.Tensor) else to_tensor(x, torch.bool)
    if t.dtype != torch.bool:
        raise dtype_mismatch(op, torch.bool, t.dtype, 0)
    return t


def reduce_any(input_tensor, axis=None, keepdims=False, name=None):
    return _reduce(_bools(input_tensor, "Any"), axis, keepdims, lambda t, d, k: torch.any(t, dim=d, keepdim=k))


def reduce_all(input_tensor, axis=None, keepdims=False, name=None):
    return _reduce(_bools(input_tensor, "All"), axis, keepdims, lambda t, d, k: torch.all(t, dim=d, keepdim=k))


def reduce_logsumexp(input_tensor, axis=None, keepdims=False, name=None):
    return _reduce(input_tensor, axis, keepdims, lambda t, d, k: torch.logsumexp(t, dim=d, keepdim=k))


def _real_or_complex(x):
    t = _t(x)
    if not (t.dtype.is_floating_point or t.dtype.is_complex):
        raise TypeError(f"Input must be either real or complex. Received integer type "
                        f"<dtype: '{as_dtype_name(t.dtype)}'>.")
    return t


def reduce_variance(input_tensor, axis=None, keepdims=False, name=None):
    """Population variance (divides by N, as TF)."""
    return _reduce(_real_or_complex(input_tensor), axis, keepdims,
                   lambda t, d, k: torch.var(t, dim=d, keepdim=k, correction=0))


def reduce_std(input_tensor, axis=None, keepdims=False, name=None):
    """Population standard deviation (divides by N, as TF)."""
    return _reduce(_real_or_complex(input_tensor), axis, keepdims,
                   lambda t, d, k: torch.std(t, dim=d, keepdim=k, correction=0))


def reduce_euclidean_norm(input_tensor, axis=None, keepdims=False, name=None):
    return _reduce(input_tensor, axis, keepdims,
                   lambda t, d, k: torch.sqrt(torch.sum(t * t, dim=d, keepdim=k)).to(t.dtype))


def count_nonzero(input, axis=None, keepdims=None, dtype=torch.int64, name=None):
    out = _reduce(_t(input) != 0, axis, bool(keepdims), lambda t, d, k: torch.sum(t, dim=d, keepdim=k))
    return wrap(out.to(as_torch_dtype(dtype)))


def _arg(fn, input, axis, output_type):
    t = _t(input)
    axis = 0 if axis is None else int(axis_arg(axis))
    if t.dim() == 0:
        raise InvalidArgumentError("argmax/argmin need a tensor of rank >= 1; got a scalar.")
    return wrap(fn(t, dim=axis).to(as_torch_dtype(output_type)))


def argmax(input, axis=None, output_type=torch.int64, name=None):
    """Index of the largest value along `axis` (default 0, as TF), as int64."""
    return _arg(torch.argmax, input, axis, output_type)


def argmin(input, axis=None, output_type=torch.int64, name=None):
    """Index of the smallest value along `axis` (default 0, as TF), as int64."""
    return _arg(torch.argmin, input, axis, output_type)


def _scan(fn, x, axis, exclusive, reverse):
    t = _t(x)
    axis = int(axis_arg(axis))
    if reverse:
        t = torch.flip(t, (axis,))
    out = fn(t, dim=axis)
    if exclusive:
        first = torch.full_like(t.narrow(axis, 0, 1), 0 if fn is torch.cumsum else 1)
        out = torch.cat([first, out.narrow(axis, 0, t.shape[axis] - 1)], dim=axis)
    if reverse:
        out = torch.flip(out, (axis,))
    return wrap(out.to(t.dtype))


def cumsum(x, axis=0, exclusive=False, reverse=False, name=None):
    return _scan(torch.cumsum, x, axis, exclusive, reverse)


def cumprod(x, axis=0, exclusive=False, reverse=False, name=None):
    return _scan(torch.cumprod, x, axis, exclusive, reverse)


# --- matmul, casts, clipping ---------------------------------------------------------------------
def matmul(a, b, transpose_a=False, transpose_b=False, adjoint_a=False, adjoint_b=False, a_is_sparse=False,
           b_is_sparse=False, output_type=None, grad_a=False, grad_b=False, name=None):
    """a @ b over the last two axes (batched over the rest); both must have rank >= 2, as in TF."""
    x, y = _pair(a, b, "MatMul", hinted=True)
    if x.dim() < 2 or y.dim() < 2:
        raise InvalidArgumentError(f"In[0] and In[1] must have rank >= 2 for tf.matmul; got shapes {tuple(x.shape)} "
                                   f"and {tuple(y.shape)}. Reshape vectors to (1, n) or (n, 1), or use tf.tensordot.")
    if transpose_a or adjoint_a:
        x = x.transpose(-1, -2).conj() if adjoint_a else x.transpose(-1, -2)
    if transpose_b or adjoint_b:
        y = y.transpose(-1, -2).conj() if adjoint_b else y.transpose(-1, -2)
    if x.shape[-1] != y.shape[-2]:
        raise InvalidArgumentError(f"Matrix size-incompatible: In[0]: [{','.join(map(str, x.shape))}], "
                                   f"In[1]: [{','.join(map(str, y.shape))}] (the last axis of a must equal the "
                                   f"second-to-last axis of b)")
    if x.dtype != y.dtype:
        raise InvalidArgumentError(f"tf.matmul needs both operands of one dtype; got {x.dtype} and {y.dtype}. "
                                   f"Use tf.cast(x, tf.float32) on one of them.")
    if x.device.type == "cuda" and not (x.dtype.is_floating_point or x.dtype.is_complex):
        out = torch.matmul(x.double(), y.double()).round().to(x.dtype)     # CUDA has no integer matmul
    else:
        out = layers.matmul(x, y)
    return wrap(out if output_type is None else out.to(as_torch_dtype(output_type)))


def cast(x, dtype, name=None):
    """`tf.cast`: x as `dtype` (floats to ints truncate toward zero, as TF)."""
    t = _t(x)
    return wrap(t.to(as_torch_dtype(dtype)))


def saturate_cast(value, dtype, name=None):
    t, want = _t(value), as_torch_dtype(dtype)
    if not want.is_floating_point and want != torch.bool:
        info = torch.iinfo(want)
        t = t.clamp(info.min, info.max)
    return wrap(t.to(want))


def clip_by_value(t, clip_value_min, clip_value_max, name=None):
    """TF's min(max-bound) then max(min-bound): every value in [min, max] (ends included) has gradient 1."""
    x = _t(t)
    lo, hi = (_t(v) if isinstance(v, torch.Tensor) else _convert_like(v, x) for v in (clip_value_min, clip_value_max))
    for bound in (hi, lo):
        if bound.dtype != x.dtype:
            raise dtype_mismatch("Minimum" if bound is hi else "Maximum", x.dtype, bound.dtype)
    return wrap(_maximum(_minimum(x, hi.to(x.device)), lo.to(x.device)))


def global_norm(t_list, name=None):
    """sqrt(sum of squares of every element of every tensor in t_list); None entries are skipped. The
    tensors must share one dtype, which the norm has (as TF's)."""
    parts = [_t(v) for v in t_list if v is not None]
    if not parts:
        return wrap(torch.zeros(()))
    for k, p in enumerate(parts[1:], 1):
        if p.dtype != parts[0].dtype:
            raise dtype_mismatch("Pack", parts[0].dtype, p.dtype, k)
    _float_input(parts[0], "L2Loss", _REAL)
    sums = [torch.sum(p * p) for p in parts]
    return wrap(torch.sqrt(torch.stack([s.to(sums[0].device) for s in sums]).sum()))


def clip_by_norm(t, clip_norm, axes=None, name=None):
    """t * clip_norm / max(||t||, clip_norm), the norm over `axes` (all by default)."""
    x = _float_input(_t(t), "Sqrt")
    ax = axis_arg(axes)
    dims = tuple(range(x.dim())) if ax is None else ((ax,) if isinstance(ax, int) else ax)
    l2sum = torch.sum(x * x, dim=dims, keepdim=True) if dims else x * x
    positive = l2sum > 0                                 # TF's guard: no NaN gradient for an all-zero t
    l2 = torch.where(positive, torch.sqrt(torch.where(positive, l2sum, torch.ones_like(l2sum))), l2sum)
    c = _t(clip_norm) if isinstance(clip_norm, torch.Tensor) else _convert_like(clip_norm, x)
    return wrap(x * c / _maximum(l2, c.to(x.device)))


def clip_by_global_norm(t_list, clip_norm, use_norm=None, name=None):
    """(clipped list, global norm): every tensor scaled by clip_norm / max(global_norm, clip_norm); with
    an infinite norm every value is NaN, as in TF."""
    t_list = list(t_list)
    g = _t(use_norm) if use_norm is not None else _t(global_norm(t_list))
    if not g.dtype.is_floating_point:
        g = g.float()
    c = _t(clip_norm).to(g.dtype) if isinstance(clip_norm, torch.Tensor) else float(clip_norm)
    scale = c * torch.minimum(1.0 / g, torch.ones((), dtype=g.dtype, device=g.device) / c)
    scale = scale + (g - g)                                  # NaN when the norm is inf or NaN
    out = [None if v is None else wrap(_t(v) * scale.to(device=_t(v).device, dtype=_t(v).dtype)) for v in t_list]
    return out, wrap(g)


def norm(tensor, ord="euclidean", axis=None, keepdims=None, name=None):
    """`tf.norm`: vector norms over `axis` (all elements by default); 'fro' / 'euclidean' / 1 / 2 / inf.
    The euclidean norm is sqrt(sum(x**2)) as in TF, so its gradient at 0 is NaN there too."""
    x = _t(tensor)
    ax = axis_arg(axis)
    if ord in ("euclidean", "fro") or (ord == 2 and not (isinstance(ax, tuple) and len(ax) == 2)):
        dims = tuple(range(x.dim())) if ax is None else ((ax,) if isinstance(ax, int) else ax)
        sq = x * x.conj() if x.is_complex() else x * x
        return wrap(torch.sqrt(torch.sum(sq, dim=dims, keepdim=bool(keepdims))))
    if ax is None:
        out = torch.linalg.vector_norm(x.reshape(-1), ord=ord)
        return wrap(out.reshape((1,) * x.dim()) if keepdims else out)
    if isinstance(ax, tuple) and len(ax) == 2:
        return wrap(torch.linalg.matrix_norm(x, ord=ord, dim=ax, keepdim=bool(keepdims)))
    return wrap(torch.linalg.vector_norm(x, ord=ord, dim=ax, keepdim=bool(keepdims)))


def l2_normalize(x, axis=None, epsilon=1e-12, name=None, dim=None):
    """x / sqrt(max(sum(x**2, axis), epsilon))."""
    t = _t(x)
    ax = axis_arg(axis if axis is not None else dim)
    dims = tuple(range(t.dim())) if ax is None else ((ax,) if isinstance(ax, int) else ax)
    sq = torch.sum(t * t, dim=dims, keepdim=True)
    return wrap(t * torch.rsqrt(torch.clamp(sq, min=epsilon)))


def tensordot(a, b, axes, name=None):
    x, y = _pair(a, b)
    if isinstance(axes, torch.Tensor):
        axes = to_numpy(axes).tolist()
    return wrap(torch.tensordot(x, y, dims=axes if not isinstance(axes, (list, tuple)) else
                                ([axes[0]] if isinstance(axes[0], int) else list(axes[0]),
                                 [axes[1]] if isinstance(axes[1], int) else list(axes[1]))))


def einsum(equation, *inputs, **kwargs):
    return wrap(torch.einsum(equation, *[_t(v) for v in inputs]))


def confusion_matrix(labels, predictions, num_classes=None, weights=None, dtype=torch.int32, name=None):
    """(num_classes, num_classes) counts: rows are true labels, columns predictions (TF's layout)."""
    y, p = _t(labels).long().reshape(-1), _t(predictions).long().reshape(-1)
    n = int(num_classes) if num_classes is not None else int(max(y.max().item(), p.max().item())) + 1
    w = _t(weights).reshape(-1) if weights is not None else torch.ones_like(y)
    out = torch.zeros(n * n, dtype=w.dtype, device=y.device).index_add_(0, y * n + p, w)
    return wrap(out.reshape(n, n).to(as_torch_dtype(dtype)))


def top_k(input, k=1, sorted=True, index_type=torch.int32, name=None):
    """TopKV2(values, indices): the k largest entries along the last axis (indices int32)."""
    t = _t(input)
    values, indices = torch.topk(t, int(k), dim=-1, largest=True, sorted=True)
    return _TopK(wrap(values), wrap(indices.to(as_torch_dtype(index_type))))


def in_top_k(targets, predictions, k, name=None):
    """For each row, is the target's prediction among the k largest? (TF2 argument order.) Ties at the
    boundary count as in; a row with a non-finite prediction or a target outside [0, classes) is False,
    as TF's kernel says (it cannot tell)."""
    return wrap(in_top_k_kernel(_t(predictions), _t(targets), int(k)))


def in_top_k_kernel(p, y, k):
    """TF's InTopKV2 on plain tensors: predictions p (N, C), targets y (N,) -> bool (N,)."""
    y = y.long().to(p.device)
    known = (y >= 0) & (y < p.shape[1])
    target_score = p.gather(1, torch.where(known, y, 0).reshape(-1, 1))        # (N, 1)
    higher = (p > target_score).sum(dim=1)                                     # (N,)
    return (higher < k) & known & torch.isfinite(p).all(dim=1)
