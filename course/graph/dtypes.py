"""dtypes of graph tensors: torch dtypes, named the way TensorFlow names them in messages.

`tf.float32` is `torch.float32` throughout the kit. TensorFlow's conversion rules for Python
values are kept: a Python float becomes float32, a Python int int32 (int64 when it does not fit),
a numpy array keeps its dtype (float64 stays float64).
"""
import numpy as np
import torch

from course.tape.dtypes import as_torch_dtype

__all__ = ["as_dtype", "name", "proto_name", "numpy_dtype", "infer", "is_floating", "is_integer", "FLOATS"]

_NAMES = {torch.float16: "float16", torch.bfloat16: "bfloat16", torch.float32: "float32",
          torch.float64: "float64", torch.int8: "int8", torch.int16: "int16", torch.int32: "int32",
          torch.int64: "int64", torch.uint8: "uint8", torch.bool: "bool", torch.complex64: "complex64",
          torch.complex128: "complex128"}
# The names TensorFlow's C++ runtime uses in its messages ("with dtype float").
_PROTO = {**_NAMES, torch.float16: "half", torch.float32: "float", torch.float64: "double"}
FLOATS = (torch.float16, torch.bfloat16, torch.float32, torch.float64)


def as_dtype(dtype) -> torch.dtype:
    """A torch dtype from tf/torch/numpy dtypes, Python types or names ('float32', 'float')."""
    return as_torch_dtype(dtype)


def name(dtype) -> str:
    """'float32' for torch.float32, as TF's `dtype.name`."""
    return _NAMES.get(dtype, str(dtype).replace("torch.", ""))


def proto_name(dtype) -> str:
    """'float' for torch.float32, as TF's runtime writes it in error messages."""
    return _PROTO.get(dtype, name(dtype))


def numpy_dtype(dtype) -> np.dtype:
    if dtype == torch.bfloat16:
        return np.dtype(np.float32)
    return np.dtype(name(dtype))


def is_floating(dtype) -> bool:
    return dtype in FLOATS


def is_integer(dtype) -> bool:
    return dtype in (torch.int8, torch.int16, torch.int32, torch.int64, torch.uint8)


def infer(value) -> torch.dtype:
    """The dtype `tf.constant(value)` would give (no dtype argument)."""
    if isinstance(value, torch.Tensor):
        return value.dtype
    if isinstance(value, bool):
        return torch.bool
    if isinstance(value, int):
        return torch.int32 if -2**31 <= value < 2**31 else torch.int64
    if isinstance(value, float):
        return torch.float32
    if isinstance(value, (np.ndarray, np.generic)):
        return as_torch_dtype(value.dtype)
    arr = np.asarray(value)
    if arr.dtype == np.float64:                  # a (nested) list of Python floats
        return torch.float32
    if arr.dtype == np.int64:                    # a list of Python ints
        return torch.int32 if arr.size == 0 or (arr.min() >= -2**31 and arr.max() < 2**31) else torch.int64
    if arr.dtype == object or arr.dtype.kind in "US":
        raise TypeError(f"Cannot convert {value!r} to a tensor: only numbers and (nested) lists of numbers "
                        "can become graph constants.")
    return as_torch_dtype(arr.dtype)
