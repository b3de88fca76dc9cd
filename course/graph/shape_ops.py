"""Ops that rearrange values: reshape, transpose, concat, stack, squeeze, slicing, one_hot, where, tile, pad.

    r = tf.reshape(x, [-1, 28, 28, 1])     # static shape (?, 28, 28, 1): checked when built
    y = x[:, 1:]                            # StridedSlice

Their gradient functions are in `array_grad` (SelectV2's in `math_grad`); the ops here that only
gradients build (ReshapeLike, ConcatGrad, Unpack1, StridedSliceGrad, TileGrad, PadGrad) are registered
beside the ops.
"""
import math

import numpy as np
import torch

from course.framework import dtypes as _dt
from course.framework.convert import as_plain
from course.framework.shapes import TensorShape, brackets, broadcast, shape_error
from course.graph.array_ops import (constant, convert_to_tensor, identity, make_op, partial_shape_value,
                                    static_shape_from)
from course.graph.graph import Tensor
from course.graph.registry import one_output, register_op
from course.tape import array_ops as _eager_arrays
from course.tape.slicing import getitem

__all__ = ["reshape", "transpose", "concat", "stack", "shape", "size", "rank", "expand_dims", "squeeze", "one_hot",
           "where", "strided_slice_of", "static_shape_from", "unstack", "split", "slice_", "tile", "pad"]


# -- shapes ---------------------------------------------------------------------------------------
def _reshape_infer(op):
    x = op.inputs[0]
    target = op.attrs.get("shape")
    if target is None:                                   # shape known (in part) only at run time
        partial = partial_shape_value(op.inputs[1])
        if partial is None:
            return one_output(TensorShape(None), x.dtype)
        out = [None if d is None or d < 0 else d for d in partial]
        have = x.shape.num_elements()
        if partial.count(-1) == 1 and None not in partial and have is not None:
            known = math.prod(d for d in partial if d != -1)
            if known and have % known == 0:
                out[partial.index(-1)] = have // known
        return one_output(TensorShape(out), x.dtype)
    if sum(d == -1 for d in target) > 1:
        raise shape_error(op, "Cannot infer the shape: only one dimension of the new shape can be -1; got "
                              f"{target}", [x.shape])
    known = math.prod(d for d in target if d != -1)
    have = x.shape.num_elements()
    out = list(target)
    if -1 in target:
        if have is not None:
            if known == 0 or have % known:
                raise shape_error(op, f"Cannot reshape a tensor with {have} elements to shape {target}", [x.shape])
            out[target.index(-1)] = have // known
        else:
            out[target.index(-1)] = None
    elif have is not None and have != known:
        raise shape_error(op, f"Cannot reshape a tensor with {have} elements to shape {target} ({known} elements)",
                          [x.shape])
    return one_output(TensorShape(out), x.dtype)


def reshape(tensor, shape, name=None):
    """Same values in a new shape; one dimension may be -1 (inferred)."""
    tensor = convert_to_tensor(tensor)
    static = static_shape_from(shape)
    if static is None:
        return make_op("Reshape", [tensor, convert_to_tensor(shape, torch.int32)], {}, name or "Reshape").outputs[0]
    return make_op("Reshape", [tensor], {"shape": static}, name or "Reshape").outputs[0]


def _reshape_kernel(op):
    target = op.attrs.get("shape")
    if target is None:
        return lambda x, s: x.reshape(s.tolist())
    target = tuple(target)
    return lambda x: x.reshape(target)


register_op("Reshape", infer=_reshape_infer, kernel=_reshape_kernel)


register_op("ReshapeLike", infer=lambda op: one_output(op.inputs[1].shape, op.inputs[0].dtype),
            kernel=lambda op: (lambda g, x: g.reshape(x.shape)),
            doc="Reshape the first input to the (run-time) shape of the second; TF writes Reshape(g, Shape(x)).")


def transpose(a, perm=None, name="transpose", conjugate=False):
    a = convert_to_tensor(a)
    if perm is None:
        if a.shape.rank is None:
            raise ValueError("transpose without perm needs a tensor of known rank.")
        perm = list(range(a.shape.rank))[::-1]
    perm = static_shape_from(perm)
    return make_op("Transpose", [a], {"perm": perm}, name).outputs[0]


def _transpose_infer(op):
    x, perm = op.inputs[0], op.attrs["perm"]
    if x.shape.rank is None:
        return one_output(TensorShape(None), x.dtype)
    if sorted(perm) != list(range(x.shape.rank)):
        raise shape_error(op, f"perm {perm} is not a permutation of the {x.shape.rank} dimensions")
    return one_output(TensorShape([x.shape[p] for p in perm]), x.dtype)


register_op("Transpose", infer=_transpose_infer,
            kernel=lambda op: (lambda x, _p=tuple(op.attrs["perm"]): x.permute(_p)))


def _norm_axis(axis, rank, op=None):
    if rank is None:
        return axis
    if not -rank <= axis < rank:
        raise ValueError(f"axis {axis} is out of range for a tensor of rank {rank}" +
                         (f" in '{op.name}'" if op else "") + ".")
    return axis % rank


def concat(values, axis, name="concat"):
    values = [convert_to_tensor(v) for v in values]
    if len(values) == 1:
        return identity(values[0], name=name)
    dtype = values[0].dtype
    for v in values[1:]:
        if v.dtype != dtype:
            raise TypeError(f"concat: all values must have the same dtype; got {_dt.name(dtype)} and "
                            f"{_dt.name(v.dtype)}. Use tf.cast first.")
    return make_op("ConcatV2", values, {"axis": int(axis)}, name).outputs[0]


def _concat_infer(op):
    shapes = [t.shape for t in op.inputs]
    rank = next((s.rank for s in shapes if s.rank is not None), None)
    if rank is None:
        return one_output(TensorShape(None), op.inputs[0].dtype)
    axis = _norm_axis(op.attrs["axis"], rank, op)
    out = [None] * rank
    total = 0
    for s in shapes:
        if s.rank is None:
            total = None
            continue
        if s.rank != rank:
            raise shape_error(op, f"Shape must be rank {rank} but is rank {s.rank}", shapes)
        for i, d in enumerate(s):
            if i == axis:
                total = None if (total is None or d is None) else total + d
            elif d is not None:
                if out[i] is not None and out[i] != d:
                    raise shape_error(op, f"Dimension {i} in both shapes must be equal, but are {out[i]} and {d}",
                                      shapes)
                out[i] = d
    out[axis] = total
    return one_output(TensorShape(out), op.inputs[0].dtype)


def _concat_kernel(op):
    axis = op.attrs["axis"]
    return lambda *xs: torch.cat(xs, axis)


register_op("ConcatV2", infer=_concat_infer, kernel=_concat_kernel)


def _concat_grad_kernel(op):
    axis, index = op.attrs["axis"], op.attrs["index"]

    def kernel(g, *xs):
        start = sum(x.shape[axis] for x in xs[:index])
        return g.narrow(axis, start, xs[index].shape[axis])
    return kernel


register_op("ConcatGrad", infer=lambda op: one_output(op.inputs[1 + op.attrs["index"]].shape, op.inputs[0].dtype),
            kernel=_concat_grad_kernel, doc="The slice of a concat's gradient that belongs to input `index`.")


def stack(values, axis=0, name="stack"):
    values = [convert_to_tensor(v) for v in values]
    return make_op("Pack", values, {"axis": int(axis)}, name).outputs[0]


def _pack_infer(op):
    s = op.inputs[0].shape
    for t in op.inputs[1:]:
        if not s.is_compatible_with(t.shape):
            raise shape_error(op, f"Shapes must be equal rank, but are {brackets(s)} and {brackets(t.shape)}")
        s = s.merge_with(t.shape)
    if s.rank is None:
        return one_output(s, op.inputs[0].dtype)
    axis = _norm_axis(op.attrs["axis"], s.rank + 1, op)
    dims = list(s)
    dims.insert(axis, len(op.inputs))
    return one_output(TensorShape(dims), op.inputs[0].dtype)


register_op("Pack", infer=_pack_infer, kernel=lambda op: (lambda *xs, _a=op.attrs["axis"]: torch.stack(xs, _a)))


register_op("Unpack1", infer=lambda op: _pack_part_infer(op),
            kernel=lambda op: (lambda g, _a=op.attrs["axis"], _i=op.attrs["index"]: g.select(_a, _i)),
            doc="Element `index` along `axis` (one output of TF's Unpack).")


def _pack_part_infer(op):
    s = op.inputs[0].shape
    if s.rank is None:
        return one_output(s, op.inputs[0].dtype)
    dims = list(s)
    del dims[op.attrs["axis"] % s.rank]
    return one_output(TensorShape(dims), op.inputs[0].dtype)


def shape(input, name=None, out_type=torch.int32):   # noqa: A002
    input = convert_to_tensor(input)
    if input.shape.is_fully_defined():
        return constant(list(input.shape), out_type, name=name or "Shape", graph=input.graph)
    return make_op("Shape", [input], {"out_type": _dt.as_torch_dtype(out_type)}, name or "Shape").outputs[0]


register_op("Shape", infer=lambda op: one_output(TensorShape([op.inputs[0].shape.rank]), op.attrs["out_type"]),
            make=lambda op, rt, device: (lambda x, _t=op.attrs["out_type"]:
                torch.tensor(x.shape, dtype=_t, device=device)))


def size(input, name=None, out_type=torch.int32):   # noqa: A002
    input = convert_to_tensor(input)
    return make_op("Size", [input], {"out_type": _dt.as_torch_dtype(out_type)}, name or "Size").outputs[0]


register_op("Size", infer=lambda op: one_output(TensorShape([]), op.attrs["out_type"]),
            make=lambda op, rt, device: (lambda x, _t=op.attrs["out_type"]:
                torch.tensor(x.numel(), dtype=_t, device=device)))


def rank(input, name=None):   # noqa: A002
    input = convert_to_tensor(input)
    if input.shape.rank is not None:
        return constant(input.shape.rank, torch.int32, name=name or "Rank", graph=input.graph)
    return make_op("Rank", [input], {}, name or "Rank").outputs[0]


register_op("Rank", infer=lambda op: one_output(TensorShape([]), torch.int32),
            make=lambda op, rt, device: (lambda x: torch.tensor(x.dim(), dtype=torch.int32, device=device)))


# -- dims -------------------------------------------------------------------------------------------------
def expand_dims(input, axis=None, name=None, dim=None):   # noqa: A002
    input = convert_to_tensor(input)
    axis = dim if axis is None else axis
    return make_op("ExpandDims", [input], {"axis": int(axis)}, name or "ExpandDims").outputs[0]


def _expand_infer(op):
    s = op.inputs[0].shape
    if s.rank is None:
        return one_output(s, op.inputs[0].dtype)
    axis = _norm_axis(op.attrs["axis"], s.rank + 1, op)
    dims = list(s)
    dims.insert(axis, 1)
    return one_output(TensorShape(dims), op.inputs[0].dtype)


register_op("ExpandDims", infer=_expand_infer, kernel=lambda op: (lambda x, _a=op.attrs["axis"]: x.unsqueeze(_a)))


def squeeze(input, axis=None, name=None, squeeze_dims=None):   # noqa: A002
    input = convert_to_tensor(input)
    axis = squeeze_dims if axis is None else axis
    axes = None if axis is None else ([axis] if isinstance(axis, int) else list(axis))
    return make_op("Squeeze", [input], {"axes": axes}, name or "Squeeze").outputs[0]


def _squeeze_infer(op):
    s, axes = op.inputs[0].shape, op.attrs["axes"]
    if s.rank is None:
        return one_output(s, op.inputs[0].dtype)
    if axes is None:
        if any(d is None for d in s):
            return one_output(TensorShape(None), op.inputs[0].dtype)
        return one_output(TensorShape([d for d in s if d != 1]), op.inputs[0].dtype)
    axes = [_norm_axis(a, s.rank, op) for a in axes]
    for a in axes:
        if s[a] not in (1, None):
            raise shape_error(op, f"Can not squeeze dim[{a}], expected a dimension of 1, got {s[a]}")
    return one_output(TensorShape([d for i, d in enumerate(s) if i not in axes]), op.inputs[0].dtype)


def _squeeze_kernel(op):
    axes = op.attrs["axes"]
    if axes is None:
        return lambda x: x.squeeze()
    axes = tuple(axes)
    return lambda x: x.squeeze(axes)


register_op("Squeeze", infer=_squeeze_infer, kernel=_squeeze_kernel)


def one_hot(indices, depth, on_value=None, off_value=None, axis=None, dtype=None, name=None):
    indices = convert_to_tensor(indices)
    dtype = _dt.as_torch_dtype(dtype) if dtype is not None else torch.float32
    attrs = {"depth": int(depth), "on": 1 if on_value is None else on_value,
             "off": 0 if off_value is None else off_value,
             "axis": -1 if axis is None else int(axis), "dtype": dtype}
    return make_op("OneHot", [indices], attrs, name or "one_hot").outputs[0]


def _one_hot_infer(op):
    s = op.inputs[0].shape
    if s.rank is None:
        return one_output(s, op.attrs["dtype"])
    dims = list(s)
    axis = op.attrs["axis"]
    dims.insert(len(dims) if axis == -1 else axis, op.attrs["depth"])
    return one_output(TensorShape(dims), op.attrs["dtype"])


def _one_hot_kernel(op):
    a = op.attrs

    def kernel(i):
        valid = (i >= 0) & (i < a["depth"])
        hot = torch.nn.functional.one_hot(i.long().clamp(0, a["depth"] - 1), a["depth"]) * valid.unsqueeze(-1)
        out = torch.where(hot.bool(), torch.tensor(a["on"], dtype=a["dtype"], device=i.device),
                          torch.tensor(a["off"], dtype=a["dtype"], device=i.device))
        return out if a["axis"] == -1 else out.movedim(-1, a["axis"])
    return kernel


register_op("OneHot", infer=_one_hot_infer, kernel=_one_hot_kernel)


def where(condition, x=None, y=None, name=None):
    """tf.where(cond, x, y): elementwise choice (x and y required; TF1's index form is not supported)."""
    if x is None or y is None:
        raise NotImplementedError("tf.where(condition) without x and y (the index form) is not supported; "
                                  "use tf.where(condition, x, y).")
    condition = convert_to_tensor(condition)
    x = convert_to_tensor(x)
    y = convert_to_tensor(y, dtype=x.dtype)
    return make_op("SelectV2", [condition, x, y], {}, name or "Select").outputs[0]


def _select_infer(op):
    c, x, y = (t.shape for t in op.inputs)
    return one_output(broadcast(op, broadcast(op, c, x), y), op.inputs[1].dtype)


register_op("SelectV2", infer=_select_infer, kernel=lambda op: torch.where)


# -- indexing ----------------------------------------------------------------------------------------------
def strided_slice_of(tensor, key):
    """`tensor[key]` for ints, slices (negative steps too, as TF), Ellipsis and None (tf.newaxis)."""
    key = key if isinstance(key, tuple) else (key,)
    norm = []
    for k in key:
        if isinstance(k, Tensor):
            raise NotImplementedError(f"Indexing with a Tensor ({k.name}) is not supported; use tf.gather, or a "
                                      "Python int or slice.")
        if isinstance(k, slice):
            for part in (k.start, k.stop, k.step):
                if part is not None and not isinstance(part, (int, np.integer)):
                    raise NotImplementedError("Slice bounds must be Python ints (or None) in graph mode; "
                                              f"got {part!r}.")
            if k.step is not None and k.step == 0:
                raise ValueError("slice step cannot be zero")
            norm.append(slice(k.start, k.stop, k.step))
        elif k is Ellipsis or k is None or isinstance(k, (int, np.integer)):
            norm.append(int(k) if isinstance(k, (int, np.integer)) else k)
        else:
            raise TypeError(f"Only integers, slices (`:`), ellipsis (`...`), tf.newaxis (`None`) are valid "
                            f"indices; got {k!r}.")
    return make_op("StridedSlice", [tensor], {"key": tuple(norm)}, "strided_slice").outputs[0]


def _slice_shape(shape, key):
    if shape.rank is None:
        return TensorShape(None)
    dims = list(shape)
    n_real = sum(1 for k in key if k is not None and k is not Ellipsis)
    if n_real > len(dims):
        raise ValueError(f"Too many indices ({n_real}) for a tensor of shape {shape}.")
    out, i = [], 0
    for k in key:
        if k is Ellipsis:
            take = len(dims) - n_real
            out.extend(dims[i:i + take])
            i += take
        elif k is None:
            out.append(1)
        elif isinstance(k, int):
            if dims[i] is not None and not -dims[i] <= k < dims[i]:
                raise ValueError(f"slice index {k} of dimension {i} out of bounds for shape {shape}.")
            i += 1
        else:
            out.append(None if dims[i] is None else len(range(*k.indices(dims[i]))))
            i += 1
    out.extend(dims[i:])
    return TensorShape(out)


def _backwards(key):
    return any(isinstance(k, slice) and k.step is not None and k.step < 0 for k in key)


def _slice_kernel(op):
    key = op.attrs["key"]
    if _backwards(key):                       # torch refuses negative steps: the eager engine's TF slicing
        return lambda x: as_plain(getitem(x, key))
    return lambda x: x[key]


register_op("StridedSlice",
            infer=lambda op: one_output(_slice_shape(op.inputs[0].shape, op.attrs["key"]), op.inputs[0].dtype),
            kernel=_slice_kernel)


def _slice_grad_kernel(op):
    key = op.attrs["key"]

    def kernel(x, g):
        out = torch.zeros_like(x, dtype=g.dtype)
        if _backwards(key):                   # scatter g back to the positions the slice read
            where = getitem(torch.arange(x.numel(), device=x.device).reshape(x.shape), key)
            return out.reshape(-1).index_add_(0, as_plain(where).reshape(-1),
                                              g.reshape(-1)).reshape(x.shape)
        out[key] = g
        return out
    return kernel


register_op("StridedSliceGrad", infer=lambda op: one_output(op.inputs[0].shape, op.inputs[1].dtype),
            kernel=_slice_grad_kernel)


# -- unstack, split, slice: slices of known extent (StridedSlice ops, whose gradient scatters back) ----------
def _ints(values, what):
    if isinstance(values, Tensor) or any(isinstance(v, Tensor) for v in np.ravel(np.asarray(values, object))):
        raise NotImplementedError(f"{what} given as a tensor is not supported in graphs here; give Python ints.")
    return [int(v) for v in np.ravel(values)]


def _along(axis, rank, index):
    return (slice(None),) * axis + (index,)


def unstack(value, num=None, axis=0, name="unstack"):
    """The `num` slices of `value` along `axis` (the axis removed): a list of tensors."""
    value = convert_to_tensor(value)
    rank = value.shape.rank
    if rank is None:
        raise ValueError(f"Cannot infer argument `num` from shape {value.shape}")
    axis = _norm_axis(int(axis), rank)
    n = value.shape[axis] if num is None else int(num)
    if n is None:
        raise ValueError(f"Cannot infer argument `num` from shape {value.shape}. Give num=... or a tensor whose "
                         f"dimension {axis} is known.")
    return [strided_slice_of(value, _along(axis, rank, i)) for i in range(n)]


def split(value, num_or_size_splits, axis=0, num=None, name="split"):
    """Pieces of `value` along `axis`: `n` equal ones for an int n, else pieces of the given sizes (one
    size may be -1: the rest)."""
    value = convert_to_tensor(value)
    rank = value.shape.rank
    if rank is None:
        raise NotImplementedError("tf.split of a tensor of unknown rank is not supported here.")
    axis = _norm_axis(int(axis), rank)
    dim = value.shape[axis]
    if isinstance(num_or_size_splits, (int, np.integer)):
        n = int(num_or_size_splits)
        if dim is None:
            raise NotImplementedError(f"tf.split into {n} pieces along dimension {axis}, whose size is only known "
                                      "at run time, is not supported here; give sizes, or split a known dimension.")
        if n <= 0 or dim % n:
            raise ValueError(f"Dimension size must be evenly divisible by {n} but is {dim}\n\tNumber of ways to "
                             "split should evenly divide the split dimension")
        sizes = [dim // n] * n
    else:
        sizes = _ints(num_or_size_splits, "size_splits")
        if sizes.count(-1) > 1:
            raise ValueError("size_splits can only have one -1")
        if -1 in sizes:
            if dim is None:
                raise NotImplementedError("tf.split with a -1 size along a dimension known only at run time is not "
                                          "supported here.")
            sizes[sizes.index(-1)] = dim - sum(d for d in sizes if d != -1)
        if dim is not None and (sum(sizes) != dim or min(sizes) < 0):
            raise ValueError(f"can't split axis of size {dim} into pieces of size "
                             f"[{','.join(str(d) for d in sizes)}]")
    out, start = [], 0
    for d in sizes:
        out.append(strided_slice_of(value, _along(axis, rank, slice(start, start + d))))
        start += d
    return out


def slice_(input_, begin, size, name=None):
    """`input_[begin[i] : begin[i] + size[i]]` in each dimension; a size of -1 takes the rest (TF's tf.slice)."""
    input_ = convert_to_tensor(input_)
    begin, size = _ints(begin, "begin"), _ints(size, "size")
    if len(begin) != len(size) or (input_.shape.rank is not None and len(begin) != input_.shape.rank):
        raise ValueError(f"Expected begin and size arguments to be 1-D tensors of size {input_.shape.rank}, but got "
                         f"shapes ({len(begin)},) and ({len(size)},) instead.")
    key = tuple(slice(b, None if s == -1 else b + s) for b, s in zip(begin, size))
    return strided_slice_of(input_, key)


# -- tile and pad ------------------------------------------------------------------------------------
def _static_ints(value, what, op_name):
    """A list (of lists) of Python ints known when the graph is built (a list, an array or a Const)."""
    if isinstance(value, Tensor):
        if value.op.type != "Const":
            raise NotImplementedError(f"{op_name}: `{what}` must be known when the graph is built (a Python list "
                                      f"or a constant); got {value.name}, computed at run time.")
        value = value.op.attrs["value"]
    return np.asarray(as_plain(value), dtype=np.int64).tolist()


def tile(input, multiples, name=None):   # noqa: A002
    """`input` repeated `multiples[i]` times along axis i (one multiple per axis)."""
    x = convert_to_tensor(input)
    reps = _static_ints(multiples, "multiples", "tf.tile")
    if not isinstance(reps, list) or (x.shape.rank is not None and len(reps) != x.shape.rank):
        raise ValueError(f"tf.tile needs one multiple per axis: the input {x.name} has shape {x.shape} (rank "
                         f"{x.shape.rank}) but multiples is {reps}. Give a list of {x.shape.rank} ints.")
    if any(r < 0 for r in reps):
        raise ValueError(f"tf.tile: multiples must be >= 0; got {reps}.")
    return make_op("Tile", [x], {"multiples": reps}, name or "Tile").outputs[0]


def _tile_infer(op):
    s, reps = op.inputs[0].shape, op.attrs["multiples"]
    if s.rank is None:
        return one_output(TensorShape([None] * len(reps)), op.inputs[0].dtype)
    return one_output(TensorShape([None if d is None else d * r for d, r in zip(s, reps)]), op.inputs[0].dtype)


def _tile_grad_kernel(op):
    reps = op.attrs["multiples"]

    def kernel(g, x):                           # g viewed as (m0, d0, m1, d1, ...), summed over the m axes
        split = [v for r, d in zip(reps, x.shape) for v in (r, d)]
        return g.reshape(split).sum(dim=tuple(range(0, 2 * len(reps), 2))) if reps else g
    return kernel


register_op("Tile", infer=_tile_infer, kernel=lambda op: (lambda x: x.repeat(op.attrs["multiples"])))
register_op("TileGrad", infer=lambda op: one_output(op.inputs[1].shape, op.inputs[0].dtype),
            kernel=_tile_grad_kernel, doc="The gradient of Tile: the tiles' gradients summed.")


def pad(tensor, paddings, mode="CONSTANT", name=None, constant_values=0):
    """`tensor` with paddings[i] = [before, after] values added on axis i: constant_values (CONSTANT), or a
    mirror of the edge (REFLECT leaves the edge out, SYMMETRIC repeats it)."""
    x = convert_to_tensor(tensor)
    pads = _static_ints(paddings, "paddings", "tf.pad")
    mode = str(mode).upper()
    if mode not in ("CONSTANT", "REFLECT", "SYMMETRIC"):
        raise ValueError(f"tf.pad: mode must be CONSTANT, REFLECT or SYMMETRIC (any case); got {mode!r}.")
    if (not isinstance(pads, list) or any(not isinstance(p, list) or len(p) != 2 for p in pads)
            or (x.shape.rank is not None and len(pads) != x.shape.rank)):
        raise ValueError(f"tf.pad needs one [before, after] pair per axis: the input {x.name} has shape {x.shape} "
                         f"but paddings is {pads}.")
    if any(v < 0 for p in pads for v in p):
        raise ValueError(f"tf.pad: paddings must be >= 0; got {pads}.")
    if isinstance(constant_values, Tensor):
        if constant_values.op.type != "Const":
            raise NotImplementedError("tf.pad: constant_values must be known when the graph is built.")
        constant_values = constant_values.op.attrs["value"]
    value = np.asarray(as_plain(constant_values)).item()            # a Python number for the kernel
    return make_op("Pad", [x], {"paddings": pads, "mode": mode, "value": value}, name or "Pad").outputs[0]


def _pad_infer(op):
    s, pads = op.inputs[0].shape, op.attrs["paddings"]
    if s.rank is None:
        return one_output(TensorShape([None] * len(pads)), op.inputs[0].dtype)
    return one_output(TensorShape([None if d is None else d + a + b for d, (a, b) in zip(s, pads)]),
                      op.inputs[0].dtype)


def _pad_kernel(op):
    a = op.attrs
    return lambda x: as_plain(_eager_arrays.pad(x, a["paddings"], a["mode"], a["value"]))


def _pad_grad_kernel(op):
    pads, mode = op.attrs["paddings"], op.attrs["mode"]

    def kernel(g, x):
        if mode == "CONSTANT":                  # the padding had no input: keep the middle
            return g[tuple(slice(a, a + n) for (a, _), n in zip(pads, x.shape))]
        for axis, (before, after) in enumerate(pads):   # a mirrored position adds to its source
            if before or after:
                n = x.shape[axis]
                source = _eager_arrays.pad_source_index(n, before, after, mode, g.device)
                shape = list(g.shape)
                shape[axis] = n
                g = torch.zeros(shape, dtype=g.dtype, device=g.device).index_add_(axis, source, g)
        return g
    return kernel


register_op("Pad", infer=_pad_infer, kernel=_pad_kernel)
register_op("PadGrad", infer=lambda op: one_output(op.inputs[1].shape, op.inputs[0].dtype),
            kernel=_pad_grad_kernel, doc="The gradient of Pad: the middle (CONSTANT), or mirrored positions added.")
