"""Reductions (`reduce_sum/mean/max/min/prod/all/any`) and `argmax/argmin`, with their gradient ops.

    tf.reduce_mean(x)                                   # over every axis -> shape ()
    tf.reduce_sum(x, axis=1, keepdims=True)             # (N, C) -> (N, 1)
    tf.reduce_sum(x, reduction_indices=[1])             # TF1's old names still work

The gradient of a reduction spreads the incoming gradient back over the reduced axes: a sum
copies it (TF: Reshape + Tile), a mean also divides by the count, a max sends it to the
positions that held the maximum (shared equally between ties, as TF does). Those spreading ops
(ReduceGrad, ReduceExtremeGrad) are registered here; the gradient functions are in `math_grad`.
"""
import torch

from course.framework import dtypes as _dt
from course.framework.shapes import TensorShape, shape_error
from course.graph.array_ops import cast, convert_to_tensor, make_op, static_shape_from
from course.graph.math_ops import not_equal
from course.graph.registry import one_output, register_op

__all__ = ["reduce_sum", "reduce_mean", "reduce_max", "reduce_min", "reduce_prod", "reduce_all", "reduce_any",
           "reduce_logsumexp", "argmax", "argmin", "count_nonzero"]


def _axes_attr(axis, reduction_indices, keepdims, keep_dims):
    if axis is not None and reduction_indices is not None:
        raise ValueError("Give axis or reduction_indices (its old name), not both.")
    axis = reduction_indices if axis is None else axis
    if keepdims is not None and keep_dims is not None:
        raise ValueError("Give keepdims or keep_dims (its old name), not both.")
    keep = bool(keepdims if keepdims is not None else (keep_dims or False))
    if axis is None:
        return None, keep
    if hasattr(axis, "op"):
        axis = static_shape_from(axis)
        if axis is None:
            raise NotImplementedError("Reduction axes must be known when the graph is built (a Python int or list, "
                                      "or a tf.constant).")
    axes = [int(axis)] if not isinstance(axis, (list, tuple)) else [int(a) for a in axis]
    return axes, keep


def _norm(op, axes, rank):
    if axes is None or rank is None:
        return axes
    out = []
    for a in axes:
        if not -rank <= a < rank:
            raise shape_error(op, f"Invalid reduction dimension {a} for input with {rank} dimensions")
        out.append(a % rank)
    return sorted(set(out))


def _reduce_infer(op):
    x = op.inputs[0]
    axes, keep = _norm(op, op.attrs["axes"], x.shape.rank), op.attrs["keepdims"]
    dtype = torch.bool if op.type in ("All", "Any") else (op.attrs.get("out") or x.dtype)
    if x.shape.rank is None:
        return one_output(TensorShape(None), dtype)
    if axes is None:
        return one_output(TensorShape([1] * x.shape.rank if keep else []), dtype)
    dims = [(1 if i in axes else d) for i, d in enumerate(x.shape) if keep or i not in axes]
    return one_output(TensorShape(dims), dtype)


def _reduce(op_type, input_tensor, axis, keepdims, name, reduction_indices, keep_dims, default_name):
    x = convert_to_tensor(input_tensor)
    axes, keep = _axes_attr(axis, reduction_indices, keepdims, keep_dims)
    if axes is not None and x.shape.rank is not None:
        axes = [a % x.shape.rank if -x.shape.rank <= a < x.shape.rank else a for a in axes]
    return make_op(op_type, [x], {"axes": axes, "keepdims": keep}, name or default_name).outputs[0]


def reduce_sum(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None, keep_dims=None):
    return _reduce("Sum", input_tensor, axis, keepdims, name, reduction_indices, keep_dims, "Sum")


def reduce_mean(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None, keep_dims=None):
    return _reduce("Mean", input_tensor, axis, keepdims, name, reduction_indices, keep_dims, "Mean")


def reduce_max(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None, keep_dims=None):
    return _reduce("Max", input_tensor, axis, keepdims, name, reduction_indices, keep_dims, "Max")


def reduce_min(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None, keep_dims=None):
    return _reduce("Min", input_tensor, axis, keepdims, name, reduction_indices, keep_dims, "Min")


def reduce_prod(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None, keep_dims=None):
    return _reduce("Prod", input_tensor, axis, keepdims, name, reduction_indices, keep_dims, "Prod")


def reduce_all(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None, keep_dims=None):
    return _reduce("All", input_tensor, axis, keepdims, name, reduction_indices, keep_dims, "All")


def reduce_any(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None, keep_dims=None):
    return _reduce("Any", input_tensor, axis, keepdims, name, reduction_indices, keep_dims, "Any")


def _reduce_kernel(op):
    axes, keep = op.attrs["axes"], op.attrs["keepdims"]
    rank = op.inputs[0].shape.rank
    kind = op.type
    if axes is not None and not axes:
        return lambda x: x                                 # reducing over no axis changes nothing
    if axes is None and not keep:
        whole = {"Sum": torch.sum, "Mean": _mean, "Max": torch.amax, "Min": torch.amin, "Prod": torch.prod,
                 "All": torch.all, "Any": torch.any}[kind]
        return whole
    if axes is None:
        dims = None if rank is None else tuple(range(rank))
    else:
        dims = tuple(axes)

    def kernel(x):
        d = dims if dims is not None else tuple(range(x.dim()))
        if kind == "Sum":
            return torch.sum(x, d, keep)
        if kind == "Mean":
            return _mean(x, d, keep)
        if kind == "Max":
            return torch.amax(x, d, keep)
        if kind == "Min":
            return torch.amin(x, d, keep)
        out = x
        for a in sorted(d, reverse=True):
            out = {"Prod": torch.prod, "All": torch.all, "Any": torch.any}[kind](out, a, keep)
        return out
    return kernel


def _mean(x, dims=None, keep=False):
    if x.is_floating_point():
        return torch.mean(x) if dims is None else torch.mean(x, dims, keep)
    total = torch.sum(x) if dims is None else torch.sum(x, dims, keep)   # integer mean truncates, as in TF
    n = x.numel() // max(total.numel(), 1)
    return torch.div(total, n, rounding_mode="trunc").to(x.dtype)


for _t in ("Sum", "Mean", "Max", "Min", "Prod", "All", "Any"):
    register_op(_t, infer=_reduce_infer, kernel=_reduce_kernel)


def reduce_logsumexp(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None, keep_dims=None):
    """log(sum(exp(x))) over the axes, computed without overflow (the max is taken out first)."""
    x = convert_to_tensor(input_tensor)
    if not x.dtype.is_floating_point:
        raise TypeError(f"tf.reduce_logsumexp needs a float tensor; got {_dt.name(x.dtype)} ({x.name}). "
                        f"Cast it with tf.cast(x, tf.float32).")
    return _reduce("LogSumExp", x, axis, keepdims, name, reduction_indices, keep_dims, "ReduceLogSumExp")


def _logsumexp_kernel(op):
    axes, keep = op.attrs["axes"], op.attrs["keepdims"]
    return lambda x: torch.logsumexp(x, tuple(range(x.dim())) if axes is None else tuple(axes), keep)


register_op("LogSumExp", infer=_reduce_infer, kernel=_logsumexp_kernel)


# -- gradients ---------------------------------------------------------------------------------------
def _kept_shape(x_shape, axes):
    return [1 if (axes is None or i in axes) else d for i, d in enumerate(x_shape)]


def _spread_kernel(op):
    """ReduceGrad(g, x): g broadcast back over the reduced axes (divided by the count for a mean)."""
    axes, keep, mean = op.attrs["axes"], op.attrs["keepdims"], op.attrs["mean"]
    if axes is None and not keep:                           # a scalar: the common loss case
        if mean:
            return _scalar_mean_spread()
        return lambda g, x: g.expand(x.shape)

    def kernel(g, x):
        if not keep and g.dim() != x.dim():
            g = g.reshape(_kept_shape(x.shape, axes))
        if mean:
            g = g / (x.numel() // max(g.numel(), 1))
        return g.expand(x.shape)
    return kernel


def _scalar_mean_spread():
    """g / numel(x) broadcast to x's shape. In a training step g is the same constant (the folded
    grad_ys) every call, so the quotient is kept while g (same tensor, unchanged) and numel(x) are:
    one division saved per step. Never kept where autograd records (a tape around a traced call)."""
    memo = [(None, -1, -1, None)]                           # (g, g's version, numel(x), g / numel(x)), swapped whole

    def kernel(g, x):
        n = x.numel()
        mg, version, mn, q = memo[0]
        if g is mg and g._version == version and n == mn:
            return q.expand(x.shape)
        q = g / n
        keep = not (torch.is_grad_enabled() or g.requires_grad or g.is_inference())
        memo[0] = (g, g._version, n, q) if keep else (None, -1, -1, None)
        return q.expand(x.shape)
    return kernel


register_op("ReduceGrad", infer=lambda op: one_output(op.inputs[1].shape, op.inputs[0].dtype), kernel=_spread_kernel,
            doc="The gradient of Sum/Mean: TF builds it from Reshape, Tile and (for Mean) RealDiv.")


def _extreme_grad_kernel(op):
    axes, keep = op.attrs["axes"], op.attrs["keepdims"]

    def kernel(g, x, y):
        shape = _kept_shape(x.shape, axes)
        if not keep:
            g, y = g.reshape(shape), y.reshape(shape)
        hit = (x == y).to(g.dtype)                                  # where the max (min) was
        d = tuple(range(x.dim())) if axes is None else tuple(axes)
        return g * hit / torch.sum(hit, d, True)                    # shared equally between ties
    return kernel


def _logsumexp_grad_kernel(op):
    axes, keep = op.attrs["axes"], op.attrs["keepdims"]

    def kernel(g, x, y):                                            # d lse / dx = softmax(x) over the axes
        if not keep:
            shape = _kept_shape(x.shape, axes)
            g, y = g.reshape(shape), y.reshape(shape)
        return g * torch.exp(x - y)
    return kernel


register_op("LogSumExpGrad", infer=lambda op: one_output(op.inputs[1].shape, op.inputs[0].dtype),
            kernel=_logsumexp_grad_kernel, doc="The gradient of LogSumExp: g times the softmax over the axes.")


register_op("ReduceExtremeGrad", infer=lambda op: one_output(op.inputs[1].shape, op.inputs[0].dtype),
            kernel=_extreme_grad_kernel, doc="The gradient of Max/Min: to the arg-max positions, ties sharing.")


# -- arg max / min -----------------------------------------------------------------------------------------
def _arg(op_type, input, axis, name, dimension, output_type):   # noqa: A002
    x = convert_to_tensor(input)
    axis = dimension if axis is None else axis
    axis = 0 if axis is None else int(axis)
    if x.shape.rank is not None:
        if not -x.shape.rank <= axis < x.shape.rank:
            raise ValueError(f"{op_type}: axis {axis} is out of range for a tensor of rank {x.shape.rank}.")
        axis %= x.shape.rank
    return make_op(op_type, [x], {"axis": axis, "out": _dt.as_torch_dtype(output_type)}, name or op_type).outputs[0]


def argmax(input, axis=None, name=None, dimension=None, output_type=torch.int64):   # noqa: A002
    """Index of the largest value along `axis` (TF1 default axis 0), int64 by default."""
    return _arg("ArgMax", input, axis, name, dimension, output_type)


def argmin(input, axis=None, name=None, dimension=None, output_type=torch.int64):   # noqa: A002
    return _arg("ArgMin", input, axis, name, dimension, output_type)


def _arg_infer(op):
    s = op.inputs[0].shape
    if s.rank is None:
        return one_output(s, op.attrs["out"])
    return one_output(TensorShape([d for i, d in enumerate(s) if i != op.attrs["axis"]]), op.attrs["out"])


def _arg_kernel(op):
    f = torch.argmax if op.type == "ArgMax" else torch.argmin
    axis, out = op.attrs["axis"], op.attrs["out"]
    if out == torch.int64:
        return lambda x: f(x, axis)
    return lambda x: f(x, axis).to(out)


register_op("ArgMax", infer=_arg_infer, kernel=_arg_kernel)
register_op("ArgMin", infer=_arg_infer, kernel=_arg_kernel)


def count_nonzero(input_tensor, axis=None, keepdims=None, dtype=torch.int64, name=None, reduction_indices=None,
                  keep_dims=None):
    x = convert_to_tensor(input_tensor)
    return reduce_sum(cast(not_equal(x, 0), dtype), axis, keepdims, name, reduction_indices, keep_dims)


