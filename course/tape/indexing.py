"""TensorFlow's indexing with negative steps (`x[::-1]`, `x[5:1:-2]`), on plain torch tensors.

torch refuses a negative slice step; TF walks backwards. `getitem_plain` applies the key with every
negative-step slice opened to `:`, then picks that axis' indices (Python's own `range(n)[s]`, so
the bounds follow Python's and TF's rules) with `index_select`, which keeps gradients. An eager
tensor's `__getitem__` (course.tape.tensor) and `tf.strided_slice` (course.tape.slicing) use it.
"""
import torch

from course.framework.convert import as_plain

__all__ = ["has_negative_step", "getitem_plain"]


def _scalar(v):
    """A Python int from an int or a one-element tensor (a step or bound given as a tensor)."""
    return int(as_plain(v, detach=True)) if isinstance(v, torch.Tensor) else v


def _step_of(s):
    return _scalar(s.step)


def has_negative_step(key):
    items = key if isinstance(key, tuple) else (key,)
    return any(isinstance(k, slice) and k.step is not None and _step_of(k) < 0 for k in items)


def getitem_plain(plain, key):
    """`plain[key]` as TF indexes (numpy's basic indexing, negative steps included); a plain tensor."""
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
            k = slice(_scalar(k.start), _scalar(k.stop), _step_of(k))
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
    return out
