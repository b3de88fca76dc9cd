"""TensorFlow's slicing: negative steps (`x[::-1]`, `x[5:1:-2]`) and `tf.strided_slice` with its masks.

torch refuses a negative slice step; TF walks backwards. `getitem` applies the key with every
negative-step slice opened to `:`, then picks that axis' indices (Python's own `range(n)[s]`, so
the bounds follow Python's and TF's rules) with `index_select`, which keeps gradients.
"""
import torch

from course.tape.creation import as_shape_arg
from course.tape.tensor import to_numpy, wrap
from course.framework.convert import as_plain

__all__ = ["has_negative_step", "getitem", "strided_slice"]


def _step_of(s):
    step = s.step
    if isinstance(step, torch.Tensor):
        step = int(to_numpy(step))
    return step


def has_negative_step(key):
    items = key if isinstance(key, tuple) else (key,)
    return any(isinstance(k, slice) and k.step is not None and _step_of(k) < 0 for k in items)


def _int(v):
    return int(to_numpy(v)) if isinstance(v, torch.Tensor) else v


def getitem(t, key):
    """`t[key]` as TF: like numpy's basic indexing, negative steps included."""
    plain = as_plain(t)
    items = list(key) if isinstance(key, tuple) else [key]
    consumed = sum(1 for k in items if k is not None and k is not Ellipsis)
    opened, picks, out_axis, in_axis = [], [], 0, 0
    for k in items:
        if k is Ellipsis:
            n = plain.dim() - consumed
            opened.append(k)
            out_axis += n
            in_axis += n
        elif k is None:
            opened.append(k)
            out_axis += 1
        elif isinstance(k, slice):
            k = slice(_int(k.start), _int(k.stop), _step_of(k))
            if k.step is not None and k.step < 0:
                picks.append((out_axis, list(range(plain.shape[in_axis])[k])))
                k = slice(None)
            opened.append(k)
            out_axis += 1
            in_axis += 1
        else:
            opened.append(k)
            in_axis += 1
    out = plain[tuple(opened)]
    for axis, index in picks:
        out = out.index_select(axis, torch.tensor(index, dtype=torch.long, device=out.device))
    return wrap(out)


def _bits(mask, i):
    return bool(int(mask) >> i & 1)


def strided_slice(input_, begin, end, strides=None, begin_mask=0, end_mask=0, ellipsis_mask=0, new_axis_mask=0,
                  shrink_axis_mask=0, var=None, name=None):
    """`tf.strided_slice`: the key spec i is begin[i]:end[i]:strides[i], changed by the bit i of each mask."""
    begin, end = as_shape_arg(begin, "begin"), as_shape_arg(end, "end")
    strides = as_shape_arg(strides, "strides") if strides is not None else (1,) * len(begin)
    if not len(begin) == len(end) == len(strides):
        raise ValueError(f"begin, end and strides must have the same length; got {len(begin)}, {len(end)} "
                         f"and {len(strides)}.")
    key = []
    for i, (b, e, s) in enumerate(zip(begin, end, strides)):
        if s == 0:
            raise ValueError("strides[%d] must be non-zero" % i)
        if _bits(ellipsis_mask, i):
            key.append(Ellipsis)
        elif _bits(new_axis_mask, i):
            key.append(None)
        elif _bits(shrink_axis_mask, i):
            key.append(b)
        else:
            key.append(slice(None if _bits(begin_mask, i) else b, None if _bits(end_mask, i) else e, s))
    return getitem(input_, tuple(key))
