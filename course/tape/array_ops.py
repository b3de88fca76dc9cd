"""Eager ops that move values around: reshape, transpose, concat, gather, one_hot, where, pad, ...

TensorFlow's conventions: `tf.shape`/`tf.size`/`tf.rank` return int32 tensors; `one_hot` gives
zeros for out-of-range indices; `unique` keeps first-appearance order; `gather` takes any index
shape; `pad` takes `[[before, after], ...]` per axis (CONSTANT, REFLECT or SYMMETRIC).
"""
from collections import namedtuple

import numpy as np
import torch

from course.framework.convert import as_plain
from course.tape.creation import as_shape_arg
from course.framework.dtypes import as_dtype, as_torch_dtype
from course.framework.errors import InvalidArgumentError
from course.tape.math_ops import _pair, axis_arg
from course.tape.string_shapes import accepts_strings
from course.tape.tensor import convert_operand, dtype_mismatch, kernel_dtype_name, to_numpy, to_tensor, wrap

__all__ = ["reshape", "transpose", "expand_dims", "squeeze", "concat", "stack", "unstack", "gather", "gather_nd",
           "one_hot", "where", "shape", "shape_n", "size", "rank", "tile", "slice_", "split", "pad", "reverse",
           "boolean_mask", "broadcast_to", "sort", "argsort", "unique", "meshgrid", "sequence_mask",
           "stop_gradient", "roll", "repeat", "matrix_transpose", "newaxis", "scatter_nd", "tensor_scatter_nd_update",
           "tensor_scatter_nd_add", "tensor_scatter_nd_sub", "tensor_scatter_nd_max", "tensor_scatter_nd_min",
           "unique_with_counts",
           "is_tensor", "get_static_value", "ensure_shape"]

newaxis = None
_Unique = namedtuple("Unique", ["y", "idx"])


def _t(x):
    return to_tensor(x)


@accepts_strings                        # tf.string tensors: course.tape.string_shapes
def reshape(tensor, shape, name=None):
    t = _t(tensor)
    dims = as_shape_arg(shape)
    if dims.count(-1) > 1:
        first = dims.index(-1)
        raise InvalidArgumentError(None, None, f"Only one input size may be -1, not both {first} and "
                                   f"{dims.index(-1, first + 1)} [Op:Reshape]")
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
    return wrap(torch.conj_physical(out) if conjugate and out.is_complex() else out)


def matrix_transpose(a, name="matrix_transpose", conjugate=False):
    t = _t(a).transpose(-1, -2)
    return wrap(torch.conj_physical(t) if conjugate and t.is_complex() else t)


@accepts_strings
def expand_dims(input, axis, name=None):
    t, axis = _t(input), int(axis_arg(axis))
    if not -t.dim() - 1 <= axis <= t.dim():
        raise InvalidArgumentError(None, None, f"Tried to expand dim index {axis} for tensor with {t.dim()} "
                                   f"dimensions. [Op:ExpandDims]")
    return wrap(t.unsqueeze(axis))


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


def _same_dtype(values, op):
    """A list of values as tensors of one dtype, as TF's ops take them (args_to_matching_eager): the
    first tensor's dtype (else the first value's), other values converted to it (numpy cast, Python
    values must fit: TypeError), a tensor of another dtype TF's InvalidArgumentError."""
    if not values:
        raise ValueError("Expected a non-empty list of tensors.")
    first = next((v for v in values if isinstance(v, torch.Tensor)), None)
    like = to_tensor(first if first is not None else values[0])
    out = []
    for k, v in enumerate(values):
        t = to_tensor(v) if isinstance(v, torch.Tensor) else convert_operand(v, like.dtype, like.device)
        if t.dtype != like.dtype:
            raise dtype_mismatch(op, like.dtype, t.dtype, k)
        out.append(t.to(like.device))
    return out


@accepts_strings
def concat(values, axis, name="concat"):
    if isinstance(values, torch.Tensor):
        values = list(values.unbind(0))
    ts = _same_dtype(list(values), "ConcatV2")
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
    values = list(values)
    axis = int(axis_arg(axis))
    if axis == 0 and values and not any(isinstance(v, torch.Tensor) for v in values):
        try:                                      # TF converts a list of plain values as one constant
            return wrap(to_tensor(values))
        except (TypeError, ValueError):
            pass
    ts = _same_dtype(values, "Pack")
    if len({tuple(t.shape) for t in ts}) > 1:
        raise InvalidArgumentError(f"Shapes of all inputs must match for tf.stack; got "
                                   f"{[tuple(t.shape) for t in ts]}.")
    rank = ts[0].dim() + 1
    if not -rank <= axis < rank:
        raise ValueError(f"Argument `axis` = {axis} not in range [{-rank}, {rank})")
    return wrap(torch.stack(ts, dim=axis))


@accepts_strings
def unstack(value, num=None, axis=0, name="unstack"):
    t = _t(value)
    axis = int(axis_arg(axis))
    if not -max(t.dim(), 1) <= axis < max(t.dim(), 1):
        raise ValueError(f"Argument `axis` = {axis} not in range [{-t.dim()}, {t.dim()})")
    if num is not None and int(num) != t.shape[axis]:
        raise InvalidArgumentError(None, None, f"Input shape axis {axis % t.dim()} must equal {int(num)}, got shape "
                                   f"{_dims(t)} [Op:Unpack]")
    return [wrap(p) for p in t.unbind(axis)]


def _indices(indices, op, param="Tindices", allowed="int16, int32, int64"):
    """Index values as an int64 tensor; float indices are TF's error (it never rounds an index)."""
    idx = _t(indices)
    if idx.dtype.is_floating_point or idx.dtype.is_complex or idx.dtype == torch.bool:
        raise InvalidArgumentError(None, None, f"Value for attr '{param}' of {kernel_dtype_name(idx.dtype)} is not in "
                                   f"the list of allowed values: {allowed} [Op:{op}]")
    return idx.long()


@accepts_strings
def gather(params, indices, validate_indices=None, axis=None, batch_dims=0, name=None):
    """params[..., indices, ...] along `axis` (default batch_dims): shape params[:axis] +
    indices.shape[batch_dims:] + params[axis+1:]. Indices outside [0, n) are TF's error (on its CPU)."""
    p, idx = _t(params), _indices(indices, "GatherV2")
    batch_dims = int(batch_dims)
    if batch_dims < 0:
        batch_dims += idx.dim()
    axis = batch_dims if axis is None else int(axis_arg(axis))
    if axis < 0:
        axis += p.dim()
    if not 0 <= batch_dims <= min(idx.dim(), axis) or not 0 <= axis < p.dim():
        raise ValueError(f"tf.gather: batch_dims ({batch_dims}) must be in [0, rank(indices) = {idx.dim()}] and at "
                         f"most axis ({axis}), and axis in [0, rank(params) = {p.dim()}).")
    if tuple(p.shape[:batch_dims]) != tuple(idx.shape[:batch_dims]):
        raise InvalidArgumentError(f"params.shape[:{batch_dims}] = {list(p.shape[:batch_dims])} must equal "
                                   f"indices.shape[:{batch_dims}] = {list(idx.shape[:batch_dims])} (batch_dims).")
    n = p.shape[axis]
    if idx.numel() and (idx.min() < 0 or idx.max() >= n):
        bad = ((idx < 0) | (idx >= n)).reshape(-1).nonzero()[0].item()
        where = "" if idx.dim() == 0 else "[" + ",".join(str(i) for i in np.unravel_index(bad, tuple(idx.shape))) + "]"
        raise InvalidArgumentError(f"indices{where} = {int(idx.reshape(-1)[bad])} is not in [0, {n}) "
                                   f"(tf.gather on an axis of size {n})")
    idx = idx.to(p.device)
    if not batch_dims:
        out = p.index_select(axis, idx.reshape(-1))
        return wrap(out.reshape(p.shape[:axis] + idx.shape + p.shape[axis + 1:]))
    # batched: flatten the batch axes, then gather each batch row's indices along `axis`
    batch = tuple(p.shape[:batch_dims])
    nb = int(np.prod(batch)) if batch else 1
    pf = p.reshape((nb,) + tuple(p.shape[batch_dims:]))
    ix = idx.reshape((nb,) + tuple(idx.shape[batch_dims:]))
    a = axis - batch_dims + 1                               # the gather axis within pf
    pre, post = tuple(pf.shape[1:a]), tuple(pf.shape[a + 1:])
    inner = tuple(ix.shape[1:])
    # out[b, pre..., inner..., post...] = pf[b, pre..., ix[b, inner...], post...]
    g = ix.reshape((nb,) + (1,) * len(pre) + (-1,) + (1,) * len(post))
    g = g.expand((nb,) + pre + (g.shape[len(pre) + 1],) + post)
    out = torch.gather(pf, a, g)
    return wrap(out.reshape(batch + pre + inner + post))


def gather_nd(params, indices, batch_dims=0, name=None):
    """params[indices[..., 0], indices[..., 1], ...]: the last axis of indices indexes params' first axes
    (after the first `batch_dims` axes, which params and indices share)."""
    p = _t(params)
    idx = _indices(indices, "GatherNd").to(p.device)
    b = int(batch_dims)
    if idx.dim() < 1 or idx.shape[-1] > p.dim() - b or tuple(p.shape[:b]) != tuple(idx.shape[:b]):
        raise InvalidArgumentError(f"tf.gather_nd: indices of shape {list(idx.shape)} do not index params of shape "
                                   f"{list(p.shape)} with batch_dims={b} (indices.shape[-1] must be at most "
                                   f"rank(params) - batch_dims, and the batch axes must match).")
    depth = idx.shape[-1]
    sizes = torch.tensor(p.shape[b:b + depth], device=p.device)
    if idx.numel() and ((idx < 0) | (idx >= sizes)).any():
        bad = ((idx < 0) | (idx >= sizes)).any(-1).reshape(-1).nonzero()[0].item()
        pos = np.unravel_index(bad, tuple(idx.shape[:-1])) if idx.dim() > 1 else ()
        raise InvalidArgumentError(f"indices[{','.join(str(i) for i in pos)}] = "
                                   f"[{', '.join(str(int(v)) for v in idx.reshape(-1, depth)[bad])}] does not index "
                                   f"into param shape [{','.join(str(d) for d in p.shape)}]")
    if not b:
        return wrap(p[tuple(idx[..., i] for i in range(depth))])
    batch = tuple(p.shape[:b])
    nb = int(np.prod(batch))
    pf = p.reshape((nb,) + tuple(p.shape[b:]))
    ix = idx.reshape(nb, -1, depth)                                     # (nb, m, depth)
    rows = torch.arange(nb, device=p.device).unsqueeze(1).expand(nb, ix.shape[1])
    out = pf[(rows,) + tuple(ix[..., i] for i in range(depth))]          # (nb, m, rest...)
    return wrap(out.reshape(batch + tuple(idx.shape[b:-1]) + tuple(p.shape[b + depth:])))


def scatter_nd(indices, updates, shape, name=None):
    """A zero tensor of `shape` with `updates` added at `indices` (duplicates sum, as TF)."""
    idx, upd = _t(indices).long(), _t(updates)
    out = torch.zeros(as_shape_arg(shape), dtype=upd.dtype, device=upd.device)
    return wrap(out.index_put_(tuple(idx[..., i] for i in range(idx.shape[-1])), upd, accumulate=True))


def tensor_scatter_nd_update(tensor, indices, updates, name=None):
    t, idx, upd = _t(tensor).clone(), _t(indices).long(), _t(updates)
    return wrap(t.index_put_(tuple(idx[..., i] for i in range(idx.shape[-1])), upd.to(t.dtype)))


def _scatter_reduce(reduce):
    def op(tensor, indices, updates, name=None):
        t, idx = _t(tensor), _t(indices).long().to(_t(tensor).device)
        upd = _t(updates) if isinstance(updates, torch.Tensor) else convert_operand(updates, t.dtype, t.device)
        key = tuple(idx[..., i] for i in range(idx.shape[-1]))
        if reduce == "add":
            return wrap(t.index_put(key, upd, accumulate=True))
        if reduce == "sub":
            return wrap(t.index_put(key, -upd, accumulate=True))
        # max / min: the indexed leading axes flattened into one, then one scatter_reduce (duplicates fold in)
        depth, rest = idx.shape[-1], tuple(t.shape[idx.shape[-1]:])
        row = torch.zeros(idx.shape[:-1], dtype=torch.long, device=t.device)
        for d in range(depth):
            row = row * t.shape[d] + idx[..., d]
        src = upd.reshape((-1,) + rest).to(t.dtype)
        where = row.reshape((-1,) + (1,) * len(rest)).expand(src.shape)
        out = t.reshape((-1,) + rest).scatter_reduce(0, where, src, "amax" if reduce == "max" else "amin")
        return wrap(out.reshape(t.shape))
    op.__name__ = f"tensor_scatter_nd_{reduce}"
    op.__doc__ = f"`tf.tensor_scatter_nd_{reduce}`: a copy of tensor with updates {reduce}-combined at indices."
    return op


tensor_scatter_nd_add = _scatter_reduce("add")
tensor_scatter_nd_sub = _scatter_reduce("sub")
tensor_scatter_nd_max = _scatter_reduce("max")
tensor_scatter_nd_min = _scatter_reduce("min")


def one_hot(indices, depth, on_value=None, off_value=None, axis=None, dtype=None, name=None):
    """(..., depth) with on_value at each index and off_value elsewhere; out-of-range rows are all off."""
    idx = _indices(indices, "OneHot", "TI", "uint8, int8, int32, int64")
    if on_value is not None and off_value is not None and dtype is None:
        on_dt, off_dt = to_tensor(on_value).dtype, to_tensor(off_value).dtype
        if on_dt != off_dt:
            raise TypeError(f"dtype {as_dtype(on_dt)} of on_value does not match dtype {as_dtype(off_dt)} of "
                            f"off_value")
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
    if x is None and y is None:
        return wrap(torch.nonzero(_t(condition).bool()))
    if x is None or y is None:
        raise ValueError("tf.where needs both x and y, or neither.")
    c = _t(condition) if isinstance(condition, torch.Tensor) else to_tensor(condition, torch.bool)
    if c.dtype != torch.bool:
        raise dtype_mismatch("SelectV2", torch.bool, c.dtype, 0)
    a, b = _pair(x, y, "SelectV2", index=2)
    return wrap(torch.where(c.to(a.device), a, b))


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
    t, reps = _t(input), as_shape_arg(multiples, "multiples")
    if len(reps) != t.dim():
        raise InvalidArgumentError(None, None, f"Expected multiples argument to be a vector of length {t.dim()} but "
                                   f"got length {len(reps)} [Op:Tile]")
    return wrap(t.repeat(reps))


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


def pad_source_index(n, before, after, mode, device):
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
    limit = 0 if mode == "REFLECT" else 1          # REFLECT pads less than the axis, SYMMETRIC up to it
    for axis, (before, after) in enumerate(pads):
        if max(int(before), int(after)) > t.shape[axis] - 1 + limit:
            must, fails = ("less than", "not less than") if limit == 0 else ("no greater than", "greater than")
            raise InvalidArgumentError(None, None, f"paddings must be {must} the dimension size: {int(before)}, "
                                       f"{int(after)} {fails} {t.shape[axis]} [Op:MirrorPad]")
    out = t
    for axis, (before, after) in enumerate(pads):
        if before or after:
            out = out.index_select(axis, pad_source_index(t.shape[axis], int(before), int(after), mode, t.device))
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


_UniqueWithCounts = namedtuple("UniqueWithCounts", ["y", "idx", "count"])


def unique_with_counts(x, out_idx=torch.int32, name=None):
    """UniqueWithCounts(y, idx, count): `unique`, and how often each distinct value occurs."""
    y, idx = unique(x, out_idx)
    count = torch.bincount(as_plain(idx).long(), minlength=y.shape[0]).to(as_torch_dtype(out_idx))
    return _UniqueWithCounts(y, idx, wrap(count))


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
