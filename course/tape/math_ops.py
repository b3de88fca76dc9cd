"""Eager maths: elementwise ops, comparisons, reductions, matmul and casts, with TF's semantics.

Where TensorFlow and torch disagree, TensorFlow wins:
- reductions take `axis` (int, list or None = all) and `keepdims`; `axis=[]` reduces nothing;
- `reduce_sum`/`reduce_prod` keep integer dtypes (torch widens to int64);
- `reduce_mean` of integers is an integer mean, truncated toward zero (int32 [1, 2] -> 1);
- `argmax`/`argmin` default to axis 0 and return int64 (`output_type`);
- `divide` of integers is true division into float64 (float32 for 8/16-bit ints);
- `matmul` needs rank >= 2 and reports both shapes on a mismatch.
A numpy array or python value next to a tensor takes the tensor's dtype, as in TF.

One concept, `tf.math` in eager code, so one module (a little over 450 lines): the ops share the
operand conversion and the reduction-axis rules above.
"""
from collections import namedtuple

import numpy as np
import torch

from course import layers
from course.framework.dtypes import as_torch_dtype
from course.framework.errors import InvalidArgumentError
from course.framework.convert import TRUEDIV
from course.tape.tensor import to_numpy, to_tensor, wrap

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


def _pair(x, y):
    """Two operands as plain tensors; a non-tensor side takes the tensor side's dtype (TF's rule)."""
    xt, yt = isinstance(x, torch.Tensor), isinstance(y, torch.Tensor)
    if xt and not yt:
        return to_tensor(x), _convert_like(y, x)
    if yt and not xt:
        return _convert_like(x, y), to_tensor(y)
    a, b = to_tensor(x), to_tensor(y)
    if a.device != b.device:
        if a.dim() == 0 and a.device.type == "cpu":
            a = a.to(b.device)
        else:
            b = b.to(a.device)
    return a, b


def _convert_like(value, like):
    arr = np.asarray(value) if not isinstance(value, (int, float, bool)) else value
    kind = np.asarray(arr).dtype.kind
    if kind == "f" and not (like.dtype.is_floating_point or like.dtype.is_complex):
        return to_tensor(value, device=like.device)
    if kind == "b" and like.dtype != torch.bool:
        return to_tensor(value, device=like.device)
    return to_tensor(value, like.dtype, device=like.device)


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


def _binary(fn):
    def op(x, y, name=None):
        a, b = _pair(x, y)
        return wrap(fn(a, b))
    return op


add = _binary(torch.add)
subtract = _binary(torch.sub)
multiply = _binary(torch.mul)
maximum = _binary(torch.maximum)
minimum = _binary(torch.minimum)
atan2 = _binary(torch.atan2)
logical_and = _binary(torch.logical_and)
logical_or = _binary(torch.logical_or)
logical_xor = _binary(torch.logical_xor)
equal = _binary(torch.eq)
not_equal = _binary(torch.ne)
greater = _binary(torch.gt)
greater_equal = _binary(torch.ge)
less = _binary(torch.lt)
less_equal = _binary(torch.le)
floormod = _binary(torch.remainder)          # python-style: the result has the divisor's sign
pow_ = _binary(torch.pow)


def squared_difference(x, y, name=None):
    a, b = _pair(x, y)
    return wrap((a - b) ** 2)


def divide(x, y, name=None):
    """x / y; integers divide into float64 (float32 for 8/16-bit ints), as TF's truediv."""
    a, b = _pair(x, y)
    if a.dtype in TRUEDIV and b.dtype in TRUEDIV:
        a, b = a.to(TRUEDIV[a.dtype]), b.to(TRUEDIV[a.dtype])
    return wrap(torch.div(a, b))


truediv = divide


def floordiv(x, y, name=None):
    a, b = _pair(x, y)
    return wrap(torch.div(a, b, rounding_mode="floor"))


def divide_no_nan(x, y, name=None):
    """x / y, and 0 wherever y == 0."""
    a, b = _pair(x, y)
    safe = torch.where(b == 0, torch.ones_like(b), b)
    return wrap(torch.where(b == 0, torch.zeros_like(a / safe), a / safe))


def xdivy(x, y, name=None):
    a, b = _pair(x, y)
    return wrap(torch.where(a == 0, torch.zeros_like(a / b), a / b))


def add_n(inputs, name=None):
    """The elementwise sum of a list of same-shaped tensors."""
    inputs = [_t(v) for v in inputs]
    if not inputs:
        raise ValueError("tf.add_n needs a non-empty list of tensors.")
    out = inputs[0]
    for v in inputs[1:]:
        out = out + v
    return wrap(out)


def scalar_mul(scalar, x, name=None):
    return multiply(x, scalar)


def _unary(fn, float_only=False):
    def op(x, name=None):
        t = _t(x)
        if float_only and not (t.dtype.is_floating_point or t.dtype.is_complex):
            t = t.to(torch.float32)
        return wrap(fn(t))
    return op


square = _unary(torch.square)
sqrt = _unary(torch.sqrt, True)
rsqrt = _unary(torch.rsqrt, True)
exp = _unary(torch.exp, True)
expm1 = _unary(torch.expm1, True)
log = _unary(torch.log, True)
log1p = _unary(torch.log1p, True)
abs_ = _unary(torch.abs)
negative = _unary(torch.neg)
sign = _unary(torch.sign)
reciprocal = _unary(torch.reciprocal, True)
floor = _unary(torch.floor)
ceil = _unary(torch.ceil)
round_ = _unary(torch.round)                 # half to even, as TF
sin = _unary(torch.sin, True)
cos = _unary(torch.cos, True)
tan = _unary(torch.tan, True)
asin = _unary(torch.asin, True)
acos = _unary(torch.acos, True)
atan = _unary(torch.atan, True)
sinh = _unary(torch.sinh, True)
cosh = _unary(torch.cosh, True)
tanh = _unary(torch.tanh, True)
sigmoid = _unary(torch.sigmoid, True)
softplus = _unary(torch.nn.functional.softplus, True)
log_sigmoid = _unary(torch.nn.functional.logsigmoid, True)
erf = _unary(torch.erf, True)
lgamma = _unary(torch.lgamma, True)
is_nan = _unary(torch.isnan)
is_inf = _unary(torch.isinf)
is_finite = _unary(torch.isfinite)
logical_not = _unary(torch.logical_not)


# --- reductions --------------------------------------------------------------------------------
def _reduce(x, axis, keepdims, fn):
    """Apply fn(t, dims, keepdim) with TF's axis conventions (None = all; [] = none)."""
    t = _t(x)
    ax = axis_arg(axis)
    if ax == ():
        return wrap(t.clone())
    if ax is None:
        dims = tuple(range(t.dim()))
    else:
        dims = (ax,) if isinstance(ax, int) else ax
        for d in dims:
            if not -max(t.dim(), 1) <= d < max(t.dim(), 1):
                raise InvalidArgumentError(f"Invalid reduction dimension {d} for input with {t.dim()} dimensions "
                                           f"(shape {tuple(t.shape)}); axis must be in [-{t.dim()}, {t.dim()}).")
    if t.dim() == 0:
        return wrap(t.clone())
    return wrap(fn(t, dims, bool(keepdims)))


def reduce_sum(input_tensor, axis=None, keepdims=False, name=None):
    def fn(t, dims, keep):
        dtype = t.dtype if t.dtype != torch.bool else torch.int64
        return torch.sum(t, dim=dims, keepdim=keep, dtype=dtype)
    return _reduce(input_tensor, axis, keepdims, fn)


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
    return _reduce(input_tensor, axis, keepdims, fn)


def reduce_max(input_tensor, axis=None, keepdims=False, name=None):
    return _reduce(input_tensor, axis, keepdims, lambda t, d, k: torch.amax(t, dim=d, keepdim=k))


def reduce_min(input_tensor, axis=None, keepdims=False, name=None):
    return _reduce(input_tensor, axis, keepdims, lambda t, d, k: torch.amin(t, dim=d, keepdim=k))


def reduce_prod(input_tensor, axis=None, keepdims=False, name=None):
    def fn(t, dims, keep):
        out = t
        for d in sorted((d % t.dim() for d in dims), reverse=True):
            out = torch.prod(out, dim=d, keepdim=keep, dtype=t.dtype)
        return out
    return _reduce(input_tensor, axis, keepdims, fn)


def reduce_any(input_tensor, axis=None, keepdims=False, name=None):
    return _reduce(_t(input_tensor).bool(), axis, keepdims, lambda t, d, k: torch.any(t, dim=d, keepdim=k))


def reduce_all(input_tensor, axis=None, keepdims=False, name=None):
    return _reduce(_t(input_tensor).bool(), axis, keepdims, lambda t, d, k: torch.all(t, dim=d, keepdim=k))


def reduce_logsumexp(input_tensor, axis=None, keepdims=False, name=None):
    return _reduce(input_tensor, axis, keepdims, lambda t, d, k: torch.logsumexp(t, dim=d, keepdim=k))


def reduce_variance(input_tensor, axis=None, keepdims=False, name=None):
    """Population variance (divides by N, as TF)."""
    return _reduce(input_tensor, axis, keepdims, lambda t, d, k: torch.var(t, dim=d, keepdim=k, correction=0))


def reduce_std(input_tensor, axis=None, keepdims=False, name=None):
    """Population standard deviation (divides by N, as TF)."""
    return _reduce(input_tensor, axis, keepdims, lambda t, d, k: torch.std(t, dim=d, keepdim=k, correction=0))


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
    x, y = _pair(a, b)
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
    x = _t(t)
    lo = _convert_like(clip_value_min, x) if not isinstance(clip_value_min, torch.Tensor) else _t(clip_value_min)
    hi = _convert_like(clip_value_max, x) if not isinstance(clip_value_max, torch.Tensor) else _t(clip_value_max)
    return wrap(torch.minimum(torch.maximum(x, lo.to(x.dtype)), hi.to(x.dtype)))


def global_norm(t_list, name=None):
    """sqrt(sum of squares of every element of every tensor in t_list); None entries are skipped."""
    parts = [torch.sum(_t(v).float() ** 2) for v in t_list if v is not None]
    return wrap(torch.sqrt(torch.stack(parts).sum()) if parts else torch.zeros(()))


def clip_by_norm(t, clip_norm, axes=None, name=None):
    """t * clip_norm / max(||t||, clip_norm), the norm over `axes` (all by default)."""
    x = _t(t)
    ax = axis_arg(axes)
    dims = tuple(range(x.dim())) if ax is None else ((ax,) if isinstance(ax, int) else ax)
    l2 = torch.sqrt(torch.sum(x * x, dim=dims, keepdim=True)) if dims else x.abs()
    c = _convert_like(clip_norm, x)
    return wrap(x * c / torch.maximum(l2, c))


def clip_by_global_norm(t_list, clip_norm, use_norm=None, name=None):
    """(clipped list, global norm): every tensor scaled by clip_norm / max(global_norm, clip_norm)."""
    t_list = list(t_list)
    g = _t(use_norm if use_norm is not None else global_norm(t_list)).float()
    scale = float(clip_norm) / torch.clamp(g, min=float(clip_norm))          # 1 when the norm is small enough
    out = [None if v is None else wrap(_t(v) * scale.to(_t(v).dtype)) for v in t_list]
    return out, wrap(g)


def norm(tensor, ord="euclidean", axis=None, keepdims=None, name=None):
    """`tf.norm`: vector norms over `axis` (all elements by default); 'fro' / 'euclidean' / 1 / 2 / inf."""
    x = _t(tensor)
    ax = axis_arg(axis)
    if ord in ("euclidean", "fro"):
        ord = 2 if (ax is None or isinstance(ax, int)) else "fro"
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
    """For each row, is the target's prediction among the k largest? (TF2 argument order)."""
    p, y = _t(predictions), _t(targets).long()
    target_score = p.gather(1, y.reshape(-1, 1))                  # (N, 1)
    higher = (p > target_score).sum(dim=1)                        # (N,)
    return wrap((higher < int(k)) & torch.isfinite(target_score.reshape(-1)))
