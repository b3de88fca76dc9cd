"""Eager ops that move values around: reshape, transpose, concat, gather, one_hot, where, pad, ...

TensorFlow's conventions: `tf.shape`/`tf.size`/`tf.rank` return int32 tensors; `one_hot` gives
zeros for out-of-range indices; `unique` keeps first-appearance order; `gather` takes any index
shape; `pad` takes `[[before, after], ...]` per axis (CONSTANT, REFLECT or SYMMETRIC).
"""
from collections import namedtuple

import numpy as np
import torch

from course.tape.creation import as_shape_arg
from course.framework.dtypes import as_torch_dtype
from course.framework.errors import InvalidArgumentError
from course.tape.math_ops import _pair, axis_arg
from course.tape.string_shapes import accepts_strings
from course.tape.tensor import to_numpy, to_tensor, wrap

__all__ = ["reshape", "transpose", "expand_dims", "squeeze", "concat", "stack", "unstack", "gather", "gather_nd",
           "one_hot", "where", "shape", "shape_n", "size", "rank", "tile", "slice_", "split", "pad", "reverse",
           "boolean_mask", "broadcast_to", "sort", "argsort", "unique", "meshgrid", "sequence_mask",
           "stop_gradient", "roll", "repeat", "matrix_transpose", "newaxis", "scatter_nd", "tensor_scatter_nd_update",
           "is_tensor", "get_static_value", "ensure_shape"]

newaxis = None
_Unique = namedtuple("Unique", ["y", "idx"])


def _t(x):
    return to_tensor(x)


@accepts_strings                        # tf.string tensors: course.tape.string_shapes
def reshape(tensor, shape, name=None):
    t = _t(tensor)
    dims = as_shape_arg(shape)
    known = int(np.prod([d for d in dims if d != -1])) if dims else 1
    if (-1 not in dims and known != t.numel()) or (-1 in dims and (known == 0 or t.numel() % known)):
        raise InvalidArgumentError(f"Input to reshape is a tensor with {t.numel()} values, but the requested shape "
                                   + (f"has {known}" if -1 not in dims else f"requires a multiple of {known}")
                                   + f" (shape {tuple(t.shape)} to {list(dims)}: the product of the new shape must "
                                     f"equal the number of values).")
    return wrap(t.reshape(dims))


@accepts_strings
def transpose(a, perm=None, conjugate=False, name="transpose"):
    t = _t(a)
    perm = tuple(reversed(range(t.dim()))) if perm is None else as_shape_arg(perm, "perm")
    out = t.permute(perm)
    return wrap(out.conj() if conjugate else out)


def matrix_transpose(a, name="matrix_transpose", conjugate=False):
    t = _t(a)
    return wrap(t.transpose(-1, -2).conj() if conjugate else t.transpose(-1, -2))


@accepts_strings
def expand_dims(input, axis, name=None):
    return wrap(_t(input).unsqueeze(int(axis_arg(axis))))


@accepts_strings
def squeeze(input, axis=None, name=None):
    t = _t(input)
    ax = axis_arg(axis)
    if ax is None:
        return wrap(t.squeeze())
    dims = (ax,) if isinstance(ax, int) else ax
    for d in dims:
        if t.shape[d] != 1:
            raise InvalidArgumentError(f"Can not squeeze dim[{d}], expected a dimension of 1, got {t.shape[d]} "
                                       f"(shape {tuple(t.shape)}).")
    return wrap(t.squeeze(dims))


def _same_dtype(values):
    ts = [to_tensor(v) for v in values]
    if not ts:
        raise ValueError("Expected a non-empty list of tensors.")
    dtype = next((t.dtype for t, v in zip(ts, values) if isinstance(v, torch.Tensor)), ts[0].dtype)
    device = next((t.device for t, v in zip(ts, values) if isinstance(v, torch.Tensor)), ts[0].device)
    return [t.to(device=device, dtype=dtype) for t in ts]


@accepts_strings
def concat(values, axis, name="concat"):
    if isinstance(values, torch.Tensor):
        values = list(values.unbind(0))
    ts = _same_dtype(list(values))
    try:
        return wrap(torch.cat(ts, dim=int(axis_arg(axis))))
    except RuntimeError:
        raise InvalidArgumentError(_concat_message(ts, int(axis_arg(axis)))) from None


def _concat_message(ts, axis):
    """TF's ConcatOp text for the first pair of inputs that disagree off the concat axis."""
    first = ts[0]
    for k, t in enumerate(ts[1:], 1):
        if t.dim() != first.dim():
            return (f"ConcatOp : Ranks of all input tensors should match: shape[0] = {_dims(first)} vs. "
                    f"shape[{k}] = {_dims(t)}")
        for d in range(first.dim()):
            if d != axis % first.dim() and t.shape[d] != first.shape[d]:
                return (f"ConcatOp : Dimension {d} in both shapes must be equal: shape[0] = {_dims(first)} vs. "
                        f"shape[{k}] = {_dims(t)}")
    return f"ConcatOp : inputs of shapes {[_dims(t) for t in ts]} cannot be joined on axis {axis}"


def _dims(t):
    return "[" + ",".join(str(d) for d in t.shape) + "]"


@accepts_strings
def stack(values, axis=0, name="stack"):
    ts = _same_dtype(list(values))
    if len({tuple(t.shape) for t in ts}) > 1:
        raise InvalidArgumentError(f"Shapes of all inputs must match for tf.stack; got "
                                   f"{[tuple(t.shape) for t in ts]}.")
    return wrap(torch.stack(ts, dim=int(axis)))


@accepts_strings
def unstack(value, num=None, axis=0, name="unstack"):
    return [wrap(p) for p in _t(value).unbind(int(axis))]


@accepts_strings
def gather(params, indices, validate_indices=None, axis=None, batch_dims=0, name=None):
    """params[..., indices, ...] along `axis` (0): shape params[:axis] + indices.shape + params[axis+1:]."""
    p, idx = _t(params), _t(indices).long()
    axis = 0 if axis is None else int(axis_arg(axis)) % p.dim()
    if batch_dims:
        raise NotImplementedError("tf.gather with batch_dims != 0 is not supported here; use tf.gather_nd or "
                                  "index each batch row with tf.gather in a loop.")
    if idx.numel() and (idx.min() < -p.shape[axis] or idx.max() >= p.shape[axis]):
        bad = ((idx < -p.shape[axis]) | (idx >= p.shape[axis])).reshape(-1).nonzero()[0].item()
        where = "" if idx.dim() == 0 else "[" + ",".join(str(i) for i in np.unravel_index(bad, tuple(idx.shape))) + "]"
        raise InvalidArgumentError(f"indices{where} = {int(idx.reshape(-1)[bad])} is not in [0, {p.shape[axis]}) "
                                   f"(tf.gather on an axis of size {p.shape[axis]})")
    out = p.index_select(axis, idx.reshape(-1).to(p.device) % p.shape[axis])
    return wrap(out.reshape(p.shape[:axis] + idx.shape + p.shape[axis + 1:]))


def gather_nd(params, indices, batch_dims=0, name=None):
    """params[indices[..., 0], indices[..., 1], ...]: the last axis of indices indexes params' first axes."""
    p, idx = _t(params), _t(indices).long().to(_t(params).device)
    if batch_dims:
        raise NotImplementedError("tf.gather_nd with batch_dims != 0 is not supported here.")
    return wrap(p[tuple(idx[..., i] for i in range(idx.shape[-1]))])


def scatter_nd(indices, updates, shape, name=None):
    """A zero tensor of `shape` with `updates` added at `indices` (duplicates sum, as TF)."""
    idx, upd = _t(indices).long(), _t(updates)
    out = torch.zeros(as_shape_arg(shape), dtype=upd.dtype, device=upd.device)
    return wrap(out.index_put_(tuple(idx[..., i] for i in range(idx.shape[-1])), upd, accumulate=True))


def tensor_scatter_nd_update(tensor, indices, updates, name=None):
    t, idx, upd = _t(tensor).clone(), _t(indices).long(), _t(updates)
    return wrap(t.index_put_(tuple(idx[..., i] for i in range(idx.shape[-1])), upd.to(t.dtype)))


def one_hot(indices, depth, on_value=None, off_value=None, axis=None, dtype=None, name=None):
    """(..., depth) with on_value at each index and off_value elsewhere; out-of-range rows are all off."""
    idx = _t(indices).long()
    if dtype is not None:
        want = as_torch_dtype(dtype)
    elif on_value is not None:
        want = to_tensor(on_value).dtype
    elif off_value is not None:
        want = to_tensor(off_value).dtype
    else:
        want = torch.float32
    on = to_tensor(1 if on_value is None else on_value, want, device=idx.device)
    off = to_tensor(0 if off_value is None else off_value, want, device=idx.device)
    hot = idx.unsqueeze(-1) == torch.arange(int(depth), device=idx.device)      # (..., depth)
    out = torch.where(hot, on, off)
    if axis is not None and int(axis) != -1:
        out = torch.movedim(out, -1, int(axis))
    return wrap(out)


def where(condition, x=None, y=None, name=None):
    """With x and y: elementwise choice (broadcasting). Alone: the (N, rank) int64 indices of True."""
    c = _t(condition)
    if x is None and y is None:
        return wrap(torch.nonzero(c.bool()))
    if x is None or y is None:
        raise ValueError("tf.where needs both x and y, or neither.")
    a, b = _pair(x, y)
    return wrap(torch.where(c.bool().to(a.device), a, b))


@accepts_strings
def shape(input, out_type=torch.int32, name=None):
    return wrap(torch.tensor(tuple(_t(input).shape), dtype=as_torch_dtype(out_type), device=_t(input).device))


def shape_n(input, out_type=torch.int32, name=None):
    return [shape(v, out_type) for v in input]


@accepts_strings
def size(input, out_type=torch.int32, name=None):
    return wrap(torch.tensor(_t(input).numel(), dtype=as_torch_dtype(out_type), device=_t(input).device))


@accepts_strings
def rank(input, name=None):
    return wrap(torch.tensor(_t(input).dim(), dtype=torch.int32, device=_t(input).device))


@accepts_strings
def tile(input, multiples, name=None):
    return wrap(_t(input).repeat(as_shape_arg(multiples, "multiples")))


def slice_(input_, begin, size, name=None):
    """input_[begin[i] : begin[i] + size[i]] on every axis; size -1 means 'to the end'."""
    t = _t(input_)
    begin, size = as_shape_arg(begin, "begin"), as_shape_arg(size, "size")
    index = tuple(slice(b, None if s == -1 else b + s) for b, s in zip(begin, size))
    return wrap(t[index])


def split(value, num_or_size_splits, axis=0, num=None, name="split"):
    """A list of pieces along `axis`: n equal pieces, or pieces of the given sizes (one may be -1)."""
    t = _t(value)
    axis = int(axis_arg(axis))
    n = t.shape[axis]
    if isinstance(num_or_size_splits, (int, np.integer)):
        k = int(num_or_size_splits)
        if n % k:
            raise InvalidArgumentError(f"Number of ways to split should evenly divide the split dimension, but got "
                                       f"split_dim {axis} (size = {n}) and num_split {k}.")
        sizes = [n // k] * k
    else:
        sizes = list(as_shape_arg(num_or_size_splits, "num_or_size_splits"))
        if -1 in sizes:
            sizes[sizes.index(-1)] = n - sum(s for s in sizes if s != -1)
        if sum(sizes) != n:
            raise InvalidArgumentError(f"Determined shape must either match input shape along split_dim exactly if "
                                       f"fully specified, or be less than the size of the input along split_dim if "
                                       f"not fully specified. Got sizes {sizes} for an axis of size {n}.")
    return [wrap(p) for p in torch.split(t, sizes, dim=axis)]


def _pad_index(n, before, after, mode, device):
    """Source positions for a padded axis of length n (REFLECT excludes the edge, SYMMETRIC repeats it)."""
    i = torch.arange(-before, n + after, device=device)
    if mode == "REFLECT":
        period = 2 * (n - 1) if n > 1 else 1
        i = i.abs() % period
        return torch.where(i >= n, period - i, i)
    period = 2 * n
    i = torch.where(i < 0, -i - 1, i) % period
    return torch.where(i >= n, period - 1 - i, i)


def pad(tensor, paddings, mode="CONSTANT", constant_values=0, name=None):
    t = _t(tensor)
    pads = to_numpy(paddings).tolist() if isinstance(paddings, torch.Tensor) else [list(p) for p in paddings]
    if len(pads) != t.dim():
        raise InvalidArgumentError(f"tf.pad needs one [before, after] pair per axis: the input has rank {t.dim()} "
                                   f"but paddings has {len(pads)} rows.")
    mode = mode.upper()
    if mode == "CONSTANT":
        flat = [int(v) for pair in reversed(pads) for v in pair]
        return wrap(torch.nn.functional.pad(t, flat, value=float(to_numpy(constant_values))
                                            if isinstance(constant_values, torch.Tensor) else constant_values))
    if mode not in ("REFLECT", "SYMMETRIC"):
        raise ValueError(f"tf.pad mode must be CONSTANT, REFLECT or SYMMETRIC; got {mode!r}.")
    out = t
    for axis, (before, after) in enumerate(pads):
        if before or after:
            out = out.index_select(axis, _pad_index(t.shape[axis], int(before), int(after), mode, t.device))
    return wrap(out)


@accepts_strings
def reverse(tensor, axis, name=None):
    ax = axis_arg(axis)
    return wrap(torch.flip(_t(tensor), (ax,) if isinstance(ax, int) else ax))


@accepts_strings
def boolean_mask(tensor, mask, axis=None, name="boolean_mask"):
    t, m = _t(tensor), _t(mask).bool()
    axis = 0 if axis is None else int(axis)
    flat = t.reshape(t.shape[:axis] + (-1,) + t.shape[axis + m.dim():]) if m.dim() > 1 else t
    return wrap(flat[(slice(None),) * axis + (m.reshape(-1).to(t.device),)])


def broadcast_to(input, shape, name=None):
    return wrap(_t(input).expand(as_shape_arg(shape)).clone())


def sort(values, axis=-1, direction="ASCENDING", name=None):
    return wrap(torch.sort(_t(values), dim=int(axis), descending=direction.upper() == "DESCENDING", stable=True)[0])


def argsort(values, axis=-1, direction="ASCENDING", stable=False, name=None):
    idx = torch.sort(_t(values), dim=int(axis), descending=direction.upper() == "DESCENDING", stable=True)[1]
    return wrap(idx.to(torch.int32))


def unique(x, out_idx=torch.int32, name=None):
    """Unique(y, idx): the distinct values of a 1-D tensor in order of first appearance, and x = y[idx]."""
    t = _t(x)
    values, inverse = torch.unique(t, sorted=True, return_inverse=True)
    first = torch.full((values.numel(),), t.numel(), dtype=torch.long, device=t.device)
    first.scatter_reduce_(0, inverse, torch.arange(t.numel(), device=t.device), reduce="amin")
    order = torch.argsort(first)                       # sorted-unique position -> appearance rank
    rank = torch.empty_like(order)
    rank[order] = torch.arange(order.numel(), device=t.device)
    return _Unique(wrap(values[order]), wrap(rank[inverse].to(as_torch_dtype(out_idx))))


def meshgrid(*args, **kwargs):
    indexing = kwargs.get("indexing", "xy")
    return [wrap(g) for g in torch.meshgrid(*[_t(a) for a in args], indexing=indexing)]


def sequence_mask(lengths, maxlen=None, dtype=torch.bool, name=None):
    n = _t(lengths)
    m = int(n.max().item()) if maxlen is None else int(maxlen)
    return wrap((torch.arange(m, device=n.device) < n.unsqueeze(-1)).to(as_torch_dtype(dtype)))


def stop_gradient(input, name=None):
    return wrap(_t(input).detach())


def roll(input, shift, axis, name=None):
    s, a = axis_arg(shift), axis_arg(axis)
    return wrap(torch.roll(_t(input), s, a))


def repeat(input, repeats, axis=None, name=None):
    t = _t(input)
    r = _t(repeats) if isinstance(repeats, (list, tuple, np.ndarray, torch.Tensor)) else int(repeats)
    if axis is None:
        return wrap(torch.repeat_interleave(t.reshape(-1), r))
    return wrap(torch.repeat_interleave(t, r, dim=int(axis)))


def is_tensor(x):
    """True for tensors and Variables (TF's tf.is_tensor)."""
    return isinstance(x, torch.Tensor)


def get_static_value(tensor, partial=False):
    """The value as a numpy array (eager values are always known)."""
    return to_numpy(tensor) if isinstance(tensor, torch.Tensor) else tensor


def ensure_shape(x, shape, name=None):
    """x unchanged, after checking its shape against `shape` (None dimensions match anything)."""
    from course.framework.shapes import TensorShape
    t = _t(x)
    if not TensorShape(shape).is_compatible_with(tuple(t.shape)):
        raise InvalidArgumentError(f"Shape of tensor {tuple(t.shape)} is not compatible with expected shape "
                                   f"{TensorShape(shape)}.")
    return x if isinstance(x, torch.Tensor) else wrap(t)
