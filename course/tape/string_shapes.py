"""Shape ops on string tensors: `tf.reshape`, `tf.concat`, `tf.gather`, `tf.shape`, ... take `tf.string`.

The numeric ops live in course.tape.array_ops; each of those listed in `STRING_FORMS` first hands a
string tensor (course.tape.string_tensor) to its numpy form here, which moves the bytes as TF moves them.
"""
import functools

import numpy as np
import torch

from course.tape.string_tensor import StringTensor
from course.tape.tensor import to_numpy, wrap

__all__ = ["accepts_strings", "STRING_FORMS"]


def _arr(x):
    return x._array if isinstance(x, StringTensor) else np.asarray(StringTensor(x)._array)


def _ints(v):
    return [int(d) for d in (to_numpy(v).reshape(-1) if isinstance(v, torch.Tensor) else np.asarray(v).reshape(-1))]


def _axis(v):
    return int(to_numpy(v)) if isinstance(v, torch.Tensor) else int(v)


def _int_tensor(values, out_type=torch.int32):
    from course.framework.dtypes import as_torch_dtype
    return wrap(torch.tensor(values, dtype=as_torch_dtype(out_type)))


STRING_FORMS = {
    "reshape": lambda t, shape, name=None: StringTensor(_arr(t).reshape(_ints(shape))),
    "transpose": lambda a, perm=None, conjugate=False, name=None: StringTensor(
        np.transpose(_arr(a), None if perm is None else _ints(perm))),
    "expand_dims": lambda input, axis, name=None: StringTensor(np.expand_dims(_arr(input), _axis(axis))),
    "squeeze": lambda input, axis=None, name=None: StringTensor(
        np.squeeze(_arr(input), None if axis is None else tuple(_ints(axis)))),
    "concat": lambda values, axis, name=None: StringTensor(np.concatenate([_arr(v) for v in values], _axis(axis))),
    "stack": lambda values, axis=0, name=None: StringTensor(np.stack([_arr(v) for v in values], _axis(axis))),
    "unstack": lambda value, num=None, axis=0, name=None: [
        StringTensor(a) for a in np.moveaxis(_arr(value), _axis(axis), 0)],
    "gather": lambda params, indices, validate_indices=None, axis=None, batch_dims=0, name=None: StringTensor(
        np.take(_arr(params), to_numpy(indices) if isinstance(indices, torch.Tensor) else np.asarray(indices),
                axis=0 if axis is None else _axis(axis))),
    "shape": lambda input, out_type=torch.int32, name=None: _int_tensor(list(_arr(input).shape), out_type),
    "size": lambda input, out_type=torch.int32, name=None: _int_tensor(int(_arr(input).size), out_type),
    "rank": lambda input, name=None: _int_tensor(_arr(input).ndim),
    "tile": lambda input, multiples, name=None: StringTensor(np.tile(_arr(input), _ints(multiples))),
    "reverse": lambda tensor, axis, name=None: StringTensor(np.flip(_arr(tensor), tuple(_ints(axis)))),
    "boolean_mask": lambda tensor, mask, axis=None, name=None: StringTensor(
        _arr(tensor)[to_numpy(mask).astype(bool) if isinstance(mask, torch.Tensor) else np.asarray(mask, bool)]),
    "identity": lambda input, name=None: StringTensor(_arr(input).copy()),
}


def _has_strings(value):
    if isinstance(value, StringTensor):
        return True
    if isinstance(value, (list, tuple)) and value:
        return any(isinstance(v, StringTensor) for v in value)
    return False


def accepts_strings(fn):
    """Route a call whose first argument is (or holds) a string tensor to the op's numpy form."""
    string_form = STRING_FORMS[fn.__name__.rstrip("_")]

    @functools.wraps(fn)
    def op(first, *args, **kwargs):
        if _has_strings(first):
            return string_form(first, *args, **kwargs)
        return fn(first, *args, **kwargs)
    return op
