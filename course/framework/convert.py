"""The conversion rules every engine shares: how Python and numpy values get TensorFlow's dtypes,
Keras' floatx, integer true division, and the plain torch tensor behind a tensor subclass.

- `infer_dtype(value)` / `python_array(value)`: what `tf.constant(value)` gives without a dtype: a
  Python float is float32, a Python int int32 (int64 when it does not fit), a bool bool; numpy
  arrays and scalars keep their dtype (float64 stays float64).
- Keras' floatx (`FLOATX`, `floatx_array`, `as_plain(..., floatx=True)`): float64 inputs become
  float32 where a layer or a training loop takes them.
- `true_division_dtype(dtype)`: integer / integer divides as float64 (float32 for 8/16-bit
  integers), as `tf.math.truediv` does; None for any other dtype.
- `as_plain(t, ...)` and `no_dispatch()`: engines compute on plain `torch.Tensor`s because
  dispatch through a subclass's `__torch_function__` costs microseconds per op; `as_plain` gives
  the plain tensor behind an EagerTensor or Variable (no copy unless asked) and `no_dispatch` is
  the context that switches that dispatch off for a block.
"""
import numpy as np
import torch

from course.framework.dtypes import as_torch_dtype

__all__ = ["no_dispatch", "as_plain", "FLOATX", "floatx_array", "TRUEDIV", "true_division_dtype",
           "default_int_array", "python_defaults", "python_array", "infer_dtype"]

# torch ops on EagerTensors/Variables run as on plain tensors inside `with no_dispatch():`.
no_dispatch = torch._C.DisableTorchFunctionSubclass

FLOATX = torch.float32             # Keras' floatx

# TensorFlow's true-division table: integer / integer gives a float of this dtype.
TRUEDIV = {torch.uint8: torch.float32, torch.int8: torch.float32, torch.int16: torch.float32,
           torch.int32: torch.float64, torch.int64: torch.float64}


def as_plain(t, *, detach=False, clone=False, dtype=None, device=None, floatx=False):
    """The plain torch tensor behind an EagerTensor, a Variable or any tensor subclass.

    Without options it is the same storage, still on the autograd graph (no copy). `detach=True`
    leaves the graph; `floatx=True` casts float64 to float32 (Keras' floatx); `dtype` casts;
    `device` moves; `clone=True` guarantees a copy that shares nothing with `t`. Anything that is
    not a tensor (None, numbers, arrays) comes back unchanged.
    """
    if not isinstance(t, torch.Tensor):
        return t
    with no_dispatch():
        out = t.as_subclass(torch.Tensor) if type(t) is not torch.Tensor else t
        if detach:
            out = out.detach()
        if floatx and out.dtype == torch.float64:
            out = out.to(FLOATX)
        if dtype is not None:
            want = as_torch_dtype(dtype)
            if out.dtype != want:
                out = out.to(want)
        if device is not None and out.device != torch.device(device):
            out = out.to(device)
        if clone:
            out = out.clone()
    return out


def floatx_array(arr: np.ndarray) -> np.ndarray:
    """Keras' floatx for numpy data: a float64 array becomes float32; any other array is returned as is."""
    return arr.astype(np.float32) if arr.dtype == np.float64 else arr


def true_division_dtype(dtype):
    """The float dtype that integer / integer of `dtype` divides in (TF's truediv); None if not an integer."""
    return TRUEDIV.get(dtype)


def default_int_array(arr: np.ndarray) -> np.ndarray:
    """TF's default for Python ints: int32 when every value fits, else the array as it is (int64)."""
    if arr.size and (arr.max() > 2**31 - 1 or arr.min() < -2**31):
        return arr
    return arr.astype(np.int32)


def python_defaults(arr: np.ndarray) -> np.ndarray:
    """An array numpy made from Python values, given TF's dtypes: floats float32, ints int32 (int64
    when one does not fit)."""
    if arr.dtype == np.float64:                  # a (nested) list of Python floats
        return arr.astype(np.float32)
    if arr.dtype.kind in "iu":                   # Python ints (numpy integer scalars in a list too, as in TF)
        return default_int_array(arr)
    return arr


def python_array(value) -> np.ndarray:
    """`value` as a numpy array with the dtype `tf.constant(value)` gives it: Python values get
    `python_defaults`, numpy arrays and numpy scalars keep their dtype. Ragged input raises numpy's
    ValueError."""
    arr = np.asarray(value)
    return arr if isinstance(value, (np.ndarray, np.generic)) else python_defaults(arr)


def infer_dtype(value) -> torch.dtype:
    """The torch dtype `tf.constant(value)` gives without a dtype argument (see `python_array`)."""
    if isinstance(value, torch.Tensor):
        return value.dtype
    if isinstance(value, (np.ndarray, np.generic)) and value.dtype != object and value.dtype.kind not in "US":
        return as_torch_dtype(value.dtype)       # before the Python types: np.float64 is a float
    if isinstance(value, bool):
        return torch.bool
    if isinstance(value, int):
        return torch.int32 if -2**31 <= value < 2**31 else torch.int64
    if isinstance(value, float):
        return torch.float32
    arr = python_array(value)
    if arr.dtype == object or arr.dtype.kind in "US":
        raise TypeError(f"Cannot convert {value!r} to a tensor: only numbers and (nested) lists of numbers "
                        "can become graph constants.")
    return as_torch_dtype(arr.dtype)
