"""`tf.py_function`: run Python (eager ops, numpy, anything) on tensors, also as a decorator.

The inputs arrive as eager tensors (so `.numpy()` works), ops inside are recorded by an enclosing
GradientTape (TF's py_function is differentiable too), and each result is converted to its `Tout`
dtype: a numpy value or Python number is cast, a tensor of another dtype is TF's ValueError.
`Tout=[]` means the function returns nothing (the call returns []). Strings work (`tf.string`).
"""
import functools

import torch

from course.framework import dtypes
from course.tape.creation import convert_to_tensor
from course.tape.string_tensor import StringTensor

__all__ = ["py_function"]


def _output(value, tout):
    if tout is not None and dtypes.as_dtype(tout) == dtypes.string:
        return value if isinstance(value, StringTensor) else convert_to_tensor(value, dtypes.string)
    if isinstance(value, (torch.Tensor, StringTensor)):
        return convert_to_tensor(value, tout)           # another dtype: TF's ValueError, as TF raises it
    return convert_to_tensor(value, tout)


def _input(value):
    return value if isinstance(value, (torch.Tensor, StringTensor)) else convert_to_tensor(value)


def py_function(func=None, inp=None, Tout=None, name=None):
    """`tf.py_function(func, inp, Tout)`, or `@tf.py_function(Tout=...)` on a function."""
    if inp is None and func is not None and not callable(func):
        raise TypeError(f"py_function: func must be callable; got {type(func).__name__}.")
    if inp is None:                                      # decorator form
        def decorate(fn):
            @functools.wraps(fn)
            def wrapper(*args):
                return py_function(fn, list(args), Tout, name)
            return wrapper
        return decorate(func) if func is not None else decorate
    out = func(*[_input(v) for v in inp])
    if isinstance(Tout, (list, tuple)):
        if len(Tout) == 0:
            return []
        values = list(out) if isinstance(out, (list, tuple)) else [out]
        if len(values) != len(Tout):
            raise ValueError(f"py_function: the function returned {len(values)} values for {len(Tout)} Tout "
                             f"dtypes; return one value per Tout entry.")
        return [_output(v, t) for v, t in zip(values, Tout)]
    if Tout is None:
        return None if out is None else _output(out, None)
    return _output(out, Tout)
