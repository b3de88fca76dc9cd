"""Eager ops that make tensors: `tf.constant`, `tf.zeros`, `tf.range`, ... on course.device.get().

Dtype defaults follow TensorFlow: python floats become float32, python ints int32, numpy arrays
keep their dtype; `tf.range` of ints is int32; `tf.linspace` of ints is float64.
"""
import numpy as np
import torch

import course.device
from course.framework.dtypes import as_dtype, as_torch_dtype
from course.tape.ragged import RaggedTensor
from course.tape.string_shapes import accepts_strings
from course.tape.string_tensor import StringTensor, is_string_value, string_constant
from course.tape.tensor import EagerTensor, to_numpy, to_tensor, wrap
from course.tape.variables import Variable
from course.framework.convert import as_plain

__all__ = ["constant", "convert_to_tensor", "zeros", "ones", "zeros_like", "ones_like", "fill", "range_",
           "linspace", "eye", "identity", "shape_list", "as_shape_arg"]


def as_shape_arg(shape, what="shape"):
    """A shape argument (list, tuple, TensorShape, int, 1-D tensor) as a tuple of ints."""
    if isinstance(shape, torch.Tensor):
        shape = to_numpy(shape).reshape(-1).tolist()
    elif isinstance(shape, np.ndarray):
        shape = shape.reshape(-1).tolist()
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    try:
        dims = tuple(int(d) for d in shape)
    except TypeError:
        raise TypeError(f"{what} must be a list of ints (e.g. [2, 3]); got {shape!r}.") from None
    return dims


shape_list = as_shape_arg


def constant(value, dtype=None, shape=None, name=None):
    """`tf.constant`: a tensor holding `value` (numpy arrays keep their dtype; python floats are float32)."""
    if is_string_value(value, dtype):
        return string_constant(value, shape)         # numpy bytes underneath (course.tape.string_tensor)
    t = to_tensor(value, dtype)
    if isinstance(value, torch.Tensor):
        t = t.detach().clone()
    if shape is not None:
        shape = as_shape_arg(shape)
        if t.numel() == 1:
            t = t.reshape(()).expand(shape).clone()
        elif t.numel() == int(np.prod(shape)):
            t = t.reshape(shape)
        else:
            raise TypeError(f"Eager execution of tf.constant with unsupported shape. Tensor of shape "
                            f"{tuple(t.shape)} has {t.numel()} elements, but got `shape` {shape} with "
                            f"{int(np.prod(shape))} elements. Pass a value with that many elements or one scalar.")
    return wrap(t)


def convert_to_tensor(value, dtype=None, dtype_hint=None, name=None):
    """`tf.convert_to_tensor`: like `tf.constant`, but a tensor is returned as it is (no copy).

    A tensor whose dtype differs from `dtype` is an error, as in TensorFlow (use `tf.cast`)."""
    if isinstance(value, (StringTensor, RaggedTensor)):
        return value
    if is_string_value(value, dtype):
        return string_constant(value)
    if isinstance(value, torch.Tensor):
        if dtype is not None and value.dtype != as_torch_dtype(dtype):
            raise ValueError(f"Tensor conversion requested dtype {as_dtype(dtype).name} for Tensor with dtype "
                             f"{as_dtype(value.dtype).name}: {value!r}. Use tf.cast(x, dtype) to change a tensor's "
                             f"dtype.")
        if isinstance(value, Variable):
            return value.read_value() if not value.requires_grad else value.clone()   # a Tensor, still differentiable
        return value if isinstance(value, EagerTensor) else wrap(value)
    if dtype is None and dtype_hint is not None:
        try:
            return wrap(to_tensor(value, dtype_hint))
        except (TypeError, ValueError):
            pass
    return wrap(to_tensor(value, dtype))


def zeros(shape, dtype=torch.float32, name=None, layout=None):
    return wrap(torch.zeros(as_shape_arg(shape), dtype=as_torch_dtype(dtype), device=course.device.get()))


def ones(shape, dtype=torch.float32, name=None, layout=None):
    return wrap(torch.ones(as_shape_arg(shape), dtype=as_torch_dtype(dtype), device=course.device.get()))


def zeros_like(input, dtype=None, name=None, layout=None):
    x = to_tensor(input)
    return wrap(torch.zeros_like(x, dtype=as_torch_dtype(dtype) if dtype is not None else None))


def ones_like(input, dtype=None, name=None, layout=None):
    x = to_tensor(input)
    return wrap(torch.ones_like(x, dtype=as_torch_dtype(dtype) if dtype is not None else None))


def fill(dims, value, name=None, layout=None):
    """`tf.fill`: a tensor of shape `dims` full of `value` (dtype from value: 3 -> int32, 3.0 -> float32)."""
    v = to_tensor(value)
    return wrap(v.reshape(()).expand(as_shape_arg(dims, "dims")).clone())


def range_(start, limit=None, delta=1, dtype=None, name="range"):
    """`tf.range(limit)` / `tf.range(start, limit, delta)`; int32 for ints, float32 if any is a float."""
    if limit is None:
        start, limit = 0, start
    values = [to_numpy(v).item() if isinstance(v, torch.Tensor) else v for v in (start, limit, delta)]
    args = (start, limit, delta)
    if dtype is not None:
        want = as_torch_dtype(dtype)
        for v in args:                       # TF converts each argument to dtype: 0.5 is no int32
            if not isinstance(v, (torch.Tensor, np.ndarray, np.generic)):
                to_tensor(v, want)
    else:
        # TF's inference: the widest of the arguments' own dtypes (numpy int64/float64 count as such)
        kinds = [v.dtype if isinstance(v, torch.Tensor) else to_tensor(v).dtype for v in args]
        order = [torch.int32, torch.int64, torch.float32, torch.float64]
        want = max((k for k in kinds if k in order), key=order.index, default=torch.int32)
    from course.framework.errors import InvalidArgumentError
    if values[2] == 0:
        raise InvalidArgumentError("Requires delta != 0: tf.range(start, limit, delta) needs a non-zero delta.")
    if (values[2] > 0 and values[0] > values[1]) or (values[2] < 0 and values[0] < values[1]):
        relation = "start <= limit when delta > 0" if values[2] > 0 else "start >= limit when delta < 0"
        raise InvalidArgumentError(None, None, f"Requires {relation}: {values[0]}/{values[1]} [Op:Range]")
    t = torch.arange(*values, dtype=torch.float64 if want.is_floating_point else torch.int64)
    return wrap(t.to(device=course.device.get(), dtype=want))


def linspace(start, stop, num, name=None, axis=0):
    """`tf.linspace`: `num` evenly spaced values from start to stop inclusive (float64 for int inputs)."""
    a, b = to_tensor(start), to_tensor(stop)
    dtype = a.dtype if a.dtype.is_floating_point else torch.float64
    a, b = a.to(dtype), b.to(dtype)
    n = int(to_numpy(num)) if isinstance(num, torch.Tensor) else int(num)
    steps = torch.linspace(0, 1, n, dtype=dtype, device=a.device)           # (num,)
    if a.dim() == 0 and b.dim() == 0:
        out = a + (b - a) * steps if n > 1 else a.reshape(1)
        if n > 1:
            out[-1] = b
        return wrap(out)
    shape = (n,) + (1,) * max(a.dim(), b.dim())
    out = a + (b - a) * steps.reshape(shape)                                 # (num, ...)
    return wrap(torch.movedim(out, 0, axis))


def eye(num_rows, num_columns=None, batch_shape=None, dtype=torch.float32, name=None):
    e = torch.eye(int(num_rows), int(num_columns if num_columns is not None else num_rows),
                  dtype=as_torch_dtype(dtype), device=course.device.get())
    if batch_shape is not None:
        e = e.expand(*as_shape_arg(batch_shape), *e.shape).clone()
    return wrap(e)


@accepts_strings
def identity(input, name=None):
    """`tf.identity`: the same values (a new tensor on the same autograd graph)."""
    x = input if isinstance(input, torch.Tensor) else to_tensor(input)
    return wrap(as_plain(x).clone())
