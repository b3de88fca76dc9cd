"""Eager values that behave like TensorFlow's: `.numpy()` always works, and they print like TF's.

`EagerTensor` is a torch.Tensor subclass. Any torch op on it returns an `EagerTensor` again, so
user code written for TensorFlow (`loss.numpy()` on a value that requires grad, or on a CUDA
tensor) works. Engines work on plain tensors internally and wrap only what they hand back, because
the subclass dispatch costs a few microseconds per op.
"""
import numpy as np
import torch

__all__ = ["EagerTensor", "Variable", "as_eager", "as_plain", "to_numpy", "convert"]


def _wrap(ret):
    """Plain torch tensors in an op's result become EagerTensors; anything else passes through."""
    if type(ret) is torch.Tensor:
        return ret.as_subclass(EagerTensor)
    if isinstance(ret, (tuple, list)) and any(type(r) is torch.Tensor for r in ret):
        out = [_wrap(r) for r in ret]
        return type(ret)(*out) if hasattr(type(ret), "_fields") else type(ret)(out)  # namedtuple / structseq (torch.max)
    return ret


def _eager_torch_function(func, types, args=(), kwargs=None):
    with torch._C.DisableTorchFunctionSubclass():
        ret = func(*args, **(kwargs or {}))
    if func in torch.overrides.get_default_nowrap_functions():
        return ret
    return _wrap(ret)


def to_numpy(t) -> np.ndarray:
    """A numpy copy-or-view of any tensor: detached, on the CPU. Non-tensors go through np.asarray."""
    if isinstance(t, torch.Tensor):
        with torch._C.DisableTorchFunctionSubclass():
            t = t.detach()
            if t.device.type != "cpu":
                t = t.cpu()
            if t.dtype == torch.bfloat16:
                t = t.float()
            return torch.Tensor.numpy(t)
    return np.asarray(t)


_TF_DTYPE_NAMES = {torch.float32: "float32", torch.float64: "float64", torch.float16: "float16",
                   torch.bfloat16: "bfloat16", torch.int32: "int32", torch.int64: "int64", torch.int16: "int16",
                   torch.int8: "int8", torch.uint8: "uint8", torch.bool: "bool", torch.complex64: "complex64"}


def _tf_repr(t, kind="tf.Tensor", extra=""):
    arr = to_numpy(t)
    shape = "(" + ", ".join(str(d) for d in arr.shape) + ("," if arr.ndim == 1 else "") + ")"
    body = np.array2string(arr, separator=", ", prefix="numpy=")
    dtype = _TF_DTYPE_NAMES.get(t.dtype, str(t.dtype).replace("torch.", ""))
    return f"<{kind}: {extra}shape={shape}, dtype={dtype}, numpy={'array(' + body + ')' if arr.ndim else body}>"


class EagerTensor(torch.Tensor):
    """A torch tensor with TensorFlow's eager manners (`.numpy()`, TF-style repr)."""

    __torch_function__ = classmethod(lambda cls, func, types, args=(), kwargs=None:
                                     _eager_torch_function(func, types, args, kwargs))

    def numpy(self):
        return to_numpy(self)

    def __repr__(self, *, tensor_contents=None):
        return _tf_repr(self)

    def __array__(self, dtype=None, copy=None):
        arr = to_numpy(self)
        return arr.astype(dtype, copy=False) if dtype is not None else arr

    # TensorFlow spells some tensor attributes differently.
    @property
    def ndim(self):
        with torch._C.DisableTorchFunctionSubclass():
            return torch.Tensor.dim(self)


class Variable(EagerTensor, torch.nn.Parameter):
    """`tf.Variable`: a mutable, named leaf tensor; also a `torch.nn.Parameter`.

    Being a Parameter, it registers in `nn.Module`s and works with `torch.optim`; being an
    EagerTensor, results computed from it expose `.numpy()`. `trainable=False` variables do not
    require grad (BatchNorm's moving statistics, step counters).
    """

    def __new__(cls, initial_value=None, trainable=True, name=None, dtype=None, shape=None, **kwargs):
        if initial_value is None:
            raise ValueError("tf.Variable needs an initial_value (a tensor, array, number or a callable returning one).")
        if callable(initial_value):
            initial_value = initial_value()
        data = convert(initial_value, dtype)
        with torch._C.DisableTorchFunctionSubclass():
            data = data.detach().clone() if isinstance(initial_value, torch.Tensor) else data
            data = data.as_subclass(torch.Tensor)
        requires = bool(trainable) and (data.is_floating_point() or data.is_complex())
        v = torch.Tensor._make_subclass(cls, data, requires)
        v._name = name or "Variable"
        v._trainable = bool(trainable)
        return v

    def __init__(self, *args, **kwargs):
        pass

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        with torch._C.DisableTorchFunctionSubclass():
            data = self.detach().clone()
        out = type(self)(data, trainable=self._trainable, name=self._name)
        memo[id(self)] = out
        return out

    def __reduce_ex__(self, proto):
        return (_rebuild_variable, (to_numpy(self).copy(), self._trainable, self._name))

    __torch_function__ = EagerTensor.__torch_function__

    @property
    def name(self):
        return f"{self._name}:0"

    @property
    def trainable(self):
        return self._trainable

    def assign(self, value, use_locking=None, name=None, read_value=True):
        """In place: var = value (shape and dtype must match)."""
        value = convert(value, self.dtype, device=self.device)
        if tuple(value.shape) != tuple(self.shape):
            raise ValueError(f"Cannot assign a value of shape {tuple(value.shape)} to variable '{self._name}' "
                             f"of shape {tuple(self.shape)}.")
        with torch.no_grad(), torch._C.DisableTorchFunctionSubclass():
            torch.Tensor.copy_(self, value)
        return self

    def assign_add(self, delta, use_locking=None, name=None, read_value=True):
        with torch.no_grad(), torch._C.DisableTorchFunctionSubclass():
            torch.Tensor.add_(self, convert(delta, self.dtype, device=self.device))
        return self

    def assign_sub(self, delta, use_locking=None, name=None, read_value=True):
        with torch.no_grad(), torch._C.DisableTorchFunctionSubclass():
            torch.Tensor.sub_(self, convert(delta, self.dtype, device=self.device))
        return self

    def read_value(self):
        with torch._C.DisableTorchFunctionSubclass():
            return torch.Tensor.clone(self).detach().as_subclass(EagerTensor)

    def value(self):
        return self

    def __repr__(self, *, tensor_contents=None):
        return _tf_repr(self, "tf.Variable", f"'{self.name}' ")


def _rebuild_variable(array, trainable, name):
    return Variable(array, trainable=trainable, name=name)


_NP_FLOATS = (np.float64,)


def convert(value, dtype=None, *, device=None) -> torch.Tensor:
    """Anything array-like -> a torch tensor (float64 numpy/python floats become float32, TF's floatx).

    `dtype` may be a torch dtype, a numpy dtype or a string ('float32', 'int64', ...).
    """
    from course.tape.dtypes import as_torch_dtype   # local: dtypes imports nothing heavy, avoids a cycle
    want = as_torch_dtype(dtype) if dtype is not None else None
    if isinstance(value, torch.Tensor):
        t = value
    else:
        arr = np.asarray(value)
        if want is None and arr.dtype in _NP_FLOATS:
            arr = arr.astype(np.float32)
        elif want is None and arr.dtype == np.int64 and not isinstance(value, np.ndarray):
            arr = arr.astype(np.int32)      # TF: tf.constant(3) is int32
        t = torch.from_numpy(np.ascontiguousarray(arr))
    if want is not None and t.dtype != want:
        t = t.to(want)
    if device is not None and t.device != torch.device(device):
        t = t.to(device)
    return t


def as_eager(t):
    """Wrap a plain tensor (no copy) so that it has TF manners."""
    return t.as_subclass(EagerTensor) if type(t) is torch.Tensor else t


def as_plain(t):
    """The plain torch tensor behind an EagerTensor or Variable (no copy, still on the autograd graph)."""
    return t.as_subclass(torch.Tensor) if isinstance(t, torch.Tensor) and type(t) is not torch.Tensor else t
