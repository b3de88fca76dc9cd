"""Eager values that behave like TensorFlow's: `.numpy()` always works, and they print like TF's.

`EagerTensor` is a torch.Tensor subclass. Any torch op on it returns an `EagerTensor` again, so
user code written for TensorFlow (`loss.numpy()` on a value that requires grad, or on a CUDA
tensor) works. Engines work on plain tensors internally and wrap only what they hand back, because
the subclass dispatch costs a few microseconds per op.

Where TensorFlow's operators differ from torch's, the subclass follows TensorFlow:
- a numpy array or a list on the other side of `+ - * / @ == < ...` is converted to a tensor
  of this tensor's dtype, on its device (`tf_tensor - numpy_array` works, also on a GPU), with
  TF's conversion rules (below);
- integer `/` integer is true division into float64 (float32 for 8/16-bit ints), as `tf.divide`;
- `.shape` is a `tf.TensorShape` (a tuple, so torch reads it too): `x.shape.as_list()` works;
- `variable += 1` raises TensorFlow's error that points at `assign_add`;
- dtypes are never promoted, as in TF: two tensors of different dtypes are TF's
  InvalidArgumentError ("cannot compute AddV2 as input #1(zero-based) was expected to be a int32
  tensor but is a float tensor"), a Python float next to an integer tensor its TypeError ("Cannot
  convert 0.5 to EagerTensor of dtype int32"; `+`, `@` and `/` report the mismatch instead, as TF's
  dtype-hinted conversion does), and numpy values are cast to the tensor's dtype.
Conversion follows `tf.constant`: python floats -> float32, python ints -> int32 (int64 when
they do not fit), numpy arrays keep their dtype (`to_tensor`); `convert` is the Keras-style
variant that also turns float64 into float32 (Keras' floatx).
"""
import operator

import numpy as np
import torch

import course.device
from course.framework import dtypes
from course.framework.convert import (TRUEDIV, as_plain, default_int_array, floatx_array, no_dispatch,
                                      python_defaults)
from course.framework.dtypes import as_torch_dtype
from course.framework.shapes import TensorShape, shape_text
from course.tape.indexing import getitem_plain, has_negative_step

__all__ = ["Tensor", "EagerTensor", "as_eager", "to_numpy", "convert", "to_tensor", "wrap"]


def _wrap(ret):
    """Plain torch tensors in an op's result become EagerTensors; anything else passes through."""
    if type(ret) is torch.Tensor:
        return ret.as_subclass(EagerTensor)
    if isinstance(ret, (tuple, list)) and any(type(r) is torch.Tensor for r in ret):
        out = [_wrap(r) for r in ret]
        # namedtuple / structseq (torch.max)
        return type(ret)(*out) if hasattr(type(ret), "_fields") else type(ret)(out)
    return ret


wrap = _wrap

_T = torch.Tensor
# The functions torch calls for Python's binary operators (x + y, 2 - x, x == y, ...).
_OPERATORS = {getattr(_T, name) for name in (
    "add", "sub", "mul", "div", "remainder", "pow", "matmul", "ne", "lt", "le", "gt", "ge",
    "__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__", "__rtruediv__", "__div__",
    "__rdiv__", "__floordiv__", "__rfloordiv__", "__mod__", "__rmod__", "__pow__", "__rpow__", "__matmul__",
    "__rmatmul__", "__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__", "__and__", "__rand__", "__or__",
    "__ror__", "__xor__", "__rxor__") if hasattr(_T, name)}
_DIVISIONS = {getattr(_T, n) for n in ("div", "__div__", "__rdiv__", "__truediv__", "__rtruediv__") if hasattr(_T, n)}


_NUMPY_OPERATORS = {np.add: operator.add, np.subtract: operator.sub, np.multiply: operator.mul,
                    np.true_divide: operator.truediv, np.floor_divide: operator.floordiv,
                    np.remainder: operator.mod, np.power: operator.pow, np.matmul: operator.matmul,
                    np.equal: operator.eq, np.not_equal: operator.ne, np.less: operator.lt,
                    np.less_equal: operator.le, np.greater: operator.gt, np.greater_equal: operator.ge,
                    np.bitwise_and: operator.and_, np.bitwise_or: operator.or_, np.bitwise_xor: operator.xor}


# TensorFlow's op for each operator (named in its dtype-mismatch error), and the operators whose
# right-hand side TF converts with a dtype *hint* (x + 0.5 on an int tensor: the 0.5 stays a float
# and the kernel reports the mismatch) rather than a required dtype (x - 0.5: TypeError).
_OP_NAMES = {"add": "AddV2", "sub": "Sub", "mul": "Mul", "div": "RealDiv", "truediv": "RealDiv",
             "floordiv": "FloorDiv", "remainder": "FloorMod", "mod": "FloorMod", "pow": "Pow", "matmul": "MatMul",
             "eq": "Equal", "ne": "NotEqual", "lt": "Less", "le": "LessEqual", "gt": "Greater",
             "ge": "GreaterEqual", "and": "BitwiseAnd", "or": "BitwiseOr", "xor": "BitwiseXor"}
_HINTED = {"AddV2", "MatMul", "RealDiv"}


def _op_info(func):
    """(TF op name, reversed?) for one of torch's operator functions."""
    name = func.__name__.strip("_")
    reflected = func.__name__.startswith("__r") and name[1:] in _OP_NAMES
    name = name[1:] if reflected else name
    return _OP_NAMES.get(name, name), reflected


_OP_INFO = {f: _op_info(f) for f in _OPERATORS}
_EQUALITY = {f for f in _OPERATORS if _OP_INFO[f][0] in ("Equal", "NotEqual")}

# TensorFlow's kernel names for dtypes (its "expected to be a float tensor" messages)
_KERNEL_NAMES = {torch.float32: "float", torch.float64: "double", torch.float16: "half"}


def kernel_dtype_name(dtype):
    return _KERNEL_NAMES.get(dtype) or dtypes.name(dtype)


def dtype_mismatch(op, expected, got, index=1):
    """TF's InvalidArgumentError for an op whose inputs have different dtypes (TF never promotes)."""
    from course.framework.errors import InvalidArgumentError
    return InvalidArgumentError(None, None, f"cannot compute {op} as input #{index}(zero-based) was expected to be a "
                                f"{kernel_dtype_name(expected)} tensor but is a {kernel_dtype_name(got)} tensor "
                                f"[Op:{op}]. TensorFlow does not convert dtypes for you: tf.cast one operand to the "
                                f"other's dtype.")


def truediv_mismatch(x_dtype, y_dtype):
    """TF's TypeError for `x / y` with two dtypes."""
    return TypeError(f"`x` and `y` must have the same dtype, got tf.{dtypes.name(x_dtype)} != "
                     f"tf.{dtypes.name(y_dtype)}.")


def integer_division_by_zero(op):
    from course.framework.errors import InvalidArgumentError
    return InvalidArgumentError(None, None, f"Integer division by zero [Op:{op}]")


def cannot_convert(value, dtype):
    return TypeError(f"Cannot convert {_short(value)} to EagerTensor of dtype {dtypes.name(dtype)}")


def convert_operand(value, like_dtype, device=None, hinted=False):
    """A non-tensor operand next to a tensor of `like_dtype`, as TF converts it: numpy values are cast;
    Python values must fit the dtype (no float -> int, no number -> bool), else TypeError, or, for an
    op that converts with a dtype hint, their own dtype (the caller then reports the mismatch)."""
    if isinstance(value, (np.ndarray, np.generic)):
        return to_tensor(value, like_dtype, device=device)
    try:
        return to_tensor(value, like_dtype, device=device)
    except TypeError:
        if not hinted:
            raise
        return to_tensor(value, device=device)


def _operand(other, like, func=None, reflected=None):
    """The other side of a binary operator, converted as TF converts it (see `convert_operand`); a
    tensor of another dtype is TF's error. `reflected`: the operand stood left of the operator."""
    op, was_reflected = _OP_INFO.get(func, (None, False))
    reflected = was_reflected if reflected is None else reflected
    if isinstance(other, (np.ndarray, np.generic, list, tuple)):
        other = convert_operand(other, like.dtype, like.device, hinted=op in _HINTED and not reflected)
    elif isinstance(other, (bool, int, float, complex)):
        if not python_converts(np.asarray(other), like.dtype):
            if op not in _HINTED or reflected:
                raise cannot_convert(other, like.dtype)
            other = to_tensor(other, device=like.device)
    if isinstance(other, torch.Tensor):
        if other.device != like.device and other.dim() > 0:
            with no_dispatch():
                other = other.to(like.device)
        if op is not None and other.dtype != like.dtype:
            if op == "RealDiv":
                raise truediv_mismatch(like.dtype, other.dtype)
            raise dtype_mismatch(op, like.dtype, other.dtype)
    return other


def _true_division(func, args, kwargs):
    a, b = args[0], args[1]
    if kwargs and kwargs.get("rounding_mode") is not None:
        return args
    def is_int(v):
        return isinstance(v, (int, np.integer)) and not isinstance(v, bool) or \
            (isinstance(v, torch.Tensor) and v.dtype in TRUEDIV)
    if is_int(a) and is_int(b):
        tensor = a if isinstance(a, torch.Tensor) else b
        to = TRUEDIV[tensor.dtype]
        with no_dispatch():
            return tuple(v.to(to) if isinstance(v, torch.Tensor) else v for v in args)
    return args


def _numpy_kwargs(kwargs):
    """numpy calls `x.mean(axis=None, dtype=None, out=None)` on array-likes: speak torch instead."""
    kwargs = dict(kwargs)
    if kwargs.get("out", 0) is None:
        del kwargs["out"]
    if "axis" in kwargs:
        axis = kwargs.pop("axis")
        if axis is not None:
            kwargs["dim"] = axis
    if "dtype" in kwargs and kwargs["dtype"] is None:
        del kwargs["dtype"]
    if "ddof" in kwargs:
        kwargs["correction"] = kwargs.pop("ddof")
    return kwargs


# Filled by course.tape.gradient_tape: the tapes recording now, and what to tell them when an op
# reads Variables (TF's tapes watch every trainable variable read while they record).
RECORDING = []
variable_read_hooks = []
# Filled by course.graph.dispatch: while a graph is being built (GRAPH_STACK is the graph engine's
# stack of default graphs) an operator on an eager tensor or Variable adds graph ops instead.
GRAPH_STACK = []
graph_hooks = {}
variable_creation_hooks = []     # called with each new Variable (tf.function checks where it was made)


def _eager_torch_function(func, types, args=(), kwargs=None):
    if GRAPH_STACK and graph_hooks:
        out = graph_hooks["torch_function"](func, args, kwargs)
        if out is not NotImplemented:
            return out
    if RECORDING and variable_read_hooks:
        read = [a for a in args if getattr(type(a), "_tf_variable", False)]
        if read:
            variable_read_hooks[0](read)
    if func in _OPERATORS and len(args) == 2 and isinstance(args[0], torch.Tensor):
        if args[1] is None and func in _EQUALITY:
            return _OP_INFO[func][0] == "NotEqual"            # TF: tensor == None is False
        args = (args[0], _operand(args[1], args[0], func))
        if func in _DIVISIONS:
            args = _true_division(func, args, kwargs)
    elif args and any(type(a) is np.ndarray for a in args):
        like = next((a for a in args if isinstance(a, torch.Tensor)), None)
        if like is not None:
            args = tuple(_operand(a, like) if type(a) is np.ndarray else a for a in args)
    with no_dispatch():
        try:
            ret = func(*args, **(kwargs or {}))
        except RuntimeError as exc:
            if func in _OPERATORS and "must match the size of tensor" in str(exc):
                if func in _EQUALITY:        # TF's == and != answer False / True for shapes that cannot broadcast
                    return _wrap(torch.tensor(_OP_INFO[func][0] == "NotEqual", device=args[0].device))
                raise _incompatible(args) from None            # TF's text for a failed broadcast
            if "ZeroDivisionError" in str(exc):
                raise integer_division_by_zero(_OP_INFO.get(func, ("FloorDiv",))[0]) from None
            raise
    if func in torch.overrides.get_default_nowrap_functions():
        return ret
    return _wrap(ret)


def _incompatible(args):
    from course.framework.errors import InvalidArgumentError
    dims = ["[" + ",".join(str(d) for d in a.shape) + "]" for a in args[:2] if isinstance(a, torch.Tensor)]
    return InvalidArgumentError(None, None, f"Incompatible shapes: {' vs. '.join(dims)}")


def to_numpy(t) -> np.ndarray:
    """A numpy copy-or-view of any tensor: detached, on the CPU. Non-tensors go through np.asarray."""
    if isinstance(t, torch.Tensor):
        with no_dispatch():
            t = t.detach()
            if t.device.type != "cpu":
                t = t.cpu()
            if t.dtype == torch.bfloat16:
                t = t.float()
            return torch.Tensor.numpy(t)
    return np.asarray(t)


def _tf_repr(t, kind="tf.Tensor", extra="", sep=","):
    """TF's repr: <tf.Tensor: shape=(2,), dtype=float32, numpy=array([1., 2.], dtype=float32)>."""
    arr = to_numpy(t)
    dtype = dtypes.name(t.dtype)
    body = repr(arr) if arr.ndim else str(arr[()])
    body = "\n" + body if "\n" in body else body          # TF starts a multi-line array on its own line
    head = f"{kind}:" if not extra else f"{kind} {extra}"
    return f"<{head} shape={shape_text(arr.shape)}{sep} dtype={dtype}, numpy={body}>"


class EagerTensor(torch.Tensor):
    """A torch tensor with TensorFlow's eager manners (`.numpy()`, TF-style repr and shape)."""

    __torch_function__ = classmethod(lambda cls, func, types, args=(), kwargs=None:
                                     _eager_torch_function(func, types, args, kwargs))

    def numpy(self):
        """The value as numpy: an ndarray, or a numpy scalar for a 0-d tensor (as TF returns)."""
        arr = to_numpy(self)
        return arr[()] if arr.ndim == 0 else arr

    def __repr__(self, *, tensor_contents=None):
        return _tf_repr(self)

    def __str__(self):
        arr = to_numpy(self)
        dtype = dtypes.name(self.dtype)
        body = str(arr) if arr.ndim else str(arr[()])
        body = "\n" + body if "\n" in body else body
        return f"tf.Tensor({body}, shape={shape_text(arr.shape)}, dtype={dtype})"

    def __array__(self, dtype=None, copy=None):
        arr = to_numpy(self)
        return arr.astype(dtype, copy=False) if dtype is not None else arr

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        """`array + tensor` gives a tensor (as in TF); other numpy functions give arrays."""
        op = _NUMPY_OPERATORS.get(ufunc)
        if op is not None and method == "__call__" and not kwargs and len(inputs) == 2:
            a, b = (_operand(v, self) if not isinstance(v, torch.Tensor) else v for v in inputs)
            return op(a, b)
        inputs = [to_numpy(v) if isinstance(v, torch.Tensor) else v for v in inputs]
        return getattr(ufunc, method)(*inputs, **kwargs)

    # numpy's np.mean(x), np.max(x), ... call these methods with numpy keywords (axis, out, ddof).
    def _numpy_method(name):
        method = getattr(torch.Tensor, name)
        def f(self, *args, **kwargs):
            return method(self, *args, **(_numpy_kwargs(kwargs) if kwargs else kwargs))
        f.__name__ = name
        return f

    for _name in ("mean", "sum", "prod", "max", "min", "std", "var", "argmax", "argmin", "all", "any"):
        locals()[_name] = _numpy_method(_name)
    del _name, _numpy_method

    # `x + [1.0, 2.0]`: torch's operators refuse Python lists before any dispatch, TF converts them.
    def _list_operand(name):
        method = getattr(torch.Tensor, name)
        reflected = name.startswith("__r")
        def f(self, other):
            # TF's conversion and dtype check happen here, not only in __torch_function__: torch turns a
            # TypeError raised under some operators into NotImplemented (and Python then reports
            # "unsupported operand type(s)"), and reports 0.5 + x as x.add(0.5), losing which side 0.5 was.
            if not GRAPH_STACK:
                other = _operand(other, self, method, reflected)
            return method(self, other)
        f.__name__ = name
        return f

    for _name in ("__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__",
                  "__rtruediv__", "__floordiv__", "__rfloordiv__", "__mod__", "__rmod__", "__pow__", "__rpow__",
                  "__matmul__", "__rmatmul__", "__lt__", "__le__", "__gt__", "__ge__", "__eq__", "__ne__"):
        locals()[_name] = _list_operand(_name)
    del _name, _list_operand
    __hash__ = torch.Tensor.__hash__          # defining __eq__ would otherwise make tensors unhashable

    def __format__(self, format_spec):
        """f"{loss:.3f}" formats the value, as TF does (numpy's formatting)."""
        return format(self.numpy(), format_spec)

    # float(loss) on a value that requires grad: TF has no such notion, so no warning either.
    def __float__(self):
        with no_dispatch():
            return torch.Tensor.__float__(torch.Tensor.detach(self))

    def __bool__(self):
        """`if tensor:` as TF's (numpy's truth value): one element is its value, several are numpy's
        ValueError (torch's was a RuntimeError)."""
        return bool(self.numpy())

    def __int__(self):
        with no_dispatch():
            return torch.Tensor.__int__(torch.Tensor.detach(self))

    def __getitem__(self, key):
        """x[::-1] walks backwards as in TF (torch refuses negative steps): course.tape.indexing."""
        items = key if type(key) is tuple else (key,)
        if not GRAPH_STACK and any(type(k) is slice and k.step is not None and not (isinstance(k.step, int)
                                                                                    and k.step > 0) for k in items):
            if has_negative_step(key):
                return _wrap(getitem_plain(as_plain(self), key))
        return torch.Tensor.__getitem__(self, key)

    # TensorFlow spells some tensor attributes differently.
    @property
    def ndim(self):
        with no_dispatch():
            return torch.Tensor.dim(self)

    @property
    def shape(self):
        with no_dispatch():
            return TensorShape(torch.Tensor.size(self))

    def get_shape(self):
        return self.shape

    def set_shape(self, shape):
        if not self.shape.is_compatible_with(shape):
            raise ValueError(f"Tensor's shape {self.shape} is not compatible with supplied shape {TensorShape(shape)}.")


class _TensorType(type):
    def __instancecheck__(cls, obj):
        if getattr(type(obj), "_tf_tensor_like", False):        # string tensors (course.tape.string_tensor)
            return True
        return isinstance(obj, torch.Tensor) and not getattr(type(obj), "_tf_variable", False)

    def __subclasscheck__(cls, sub):
        return isinstance(sub, type) and issubclass(sub, torch.Tensor) and not getattr(sub, "_tf_variable", False)


class Tensor(metaclass=_TensorType):
    """`tf.Tensor` for isinstance checks: any torch tensor that is not a Variable (as in TF, where a
    `tf.Variable` is not a `tf.Tensor`). Make tensors with `tf.constant` or `tf.convert_to_tensor`."""

    def __new__(cls, *args, **kwargs):
        raise TypeError("tf.Tensor cannot be instantiated directly; use tf.constant(value) or "
                        "tf.convert_to_tensor(value).")


def _stack_tensors(value, want, device):
    """A (nested) list holding tensors -> one stacked tensor (as tf.convert_to_tensor packs it)."""
    parts = [to_tensor(v, want, device=device) for v in value]
    with no_dispatch():
        kinds = {p.dtype for p in parts}
        if len(kinds) > 1:
            common = parts[0].dtype
            for p in parts[1:]:
                common = torch.promote_types(common, p.dtype)
            parts = [p.to(common) for p in parts]
        return torch.stack([as_plain(p) for p in parts])


def to_tensor(value, dtype=None, *, device=None) -> torch.Tensor:
    """`tf.constant`'s conversion: a plain torch tensor on `device` (default: course.device.get()).

    Python floats -> float32, python ints -> int32 (int64 if too large), bools -> bool; numpy
    arrays and numpy scalars keep their dtype (float64 stays float64, as in TensorFlow). A tensor
    passes through (cast to `dtype` when given). Lists holding tensors are stacked.
    """
    want = as_torch_dtype(dtype) if dtype is not None else None
    if isinstance(value, torch.Tensor):
        t = as_plain(value)
        if device is not None and t.device != torch.device(device):
            t = t.to(device)
    else:
        device = device if device is not None else course.device.get()
        if isinstance(value, (list, tuple)) and value and any(isinstance(v, (torch.Tensor, list, tuple))
                    for v in value) \
                and _holds_tensor(value):
            t = _stack_tensors(value, want, device)
        else:
            try:
                arr = np.asarray(value)
            except ValueError:                                    # numpy's "inhomogeneous shape"
                err = ValueError("Can't convert non-rectangular Python sequence to Tensor.")    # TF's text
                err.add_note("Every row must have the same length; for rows of different lengths use "
                             "tf.ragged.constant.")                  # shown in the traceback, not in str()
                raise err from None
            if arr.dtype == object or arr.dtype.kind in "USV":
                raise TypeError(f"Cannot convert {_short(value)} to a numeric tensor: this op takes numbers. Strings "
                                f"are tf.string tensors (tf.constant, tf.strings ops); rows of different lengths "
                                f"are tf.ragged.constant.")
            if not isinstance(value, (np.ndarray, np.generic)):
                if want is not None and not python_converts(arr, want):
                    raise TypeError(f"Cannot convert {_short(value)} to EagerTensor of dtype "
                                    f"{dtypes.name(want)}")
                if want is None:
                    arr = python_defaults(arr)
            if arr.dtype.byteorder == ">":
                arr = arr.astype(arr.dtype.newbyteorder("="))
            t = torch.from_numpy(_contiguous(arr))
            if t.device != torch.device(device):
                t = t.to(device, non_blocking=False)
    if want is not None and t.dtype != want:
        t = t.to(want)
    return t


def python_converts(arr, want):
    """Does TF convert Python values (numpy's `arr` of them) to dtype `want`? Python floats never become
    integers (not even 2.0) and Python numbers never become bools; numpy values always convert (cast)."""
    if arr.size == 0 or want.is_floating_point or want.is_complex:
        return True
    if want == torch.bool:
        return arr.dtype.kind == "b"
    return arr.dtype.kind not in "fc"


def _contiguous(arr):
    """A C-contiguous, writeable array of the same shape (np.ascontiguousarray turns 0-d into 1-d)."""
    return arr if arr.flags.c_contiguous and arr.flags.writeable else np.array(arr, order="C", copy=True)


def _holds_tensor(value):
    return any(isinstance(v, torch.Tensor) or (isinstance(v, (list, tuple)) and _holds_tensor(v)) for v in value)


def _short(value, limit=60):
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def convert(value, dtype=None, *, device=None) -> torch.Tensor:
    """Anything array-like -> a torch tensor (float64 numpy/python floats become float32, Keras' floatx).

    `dtype` may be a torch dtype, a `tf.` dtype, a numpy dtype or a string ('float32', 'int64', ...).
    """
    want = as_torch_dtype(dtype) if dtype is not None else None
    if isinstance(value, torch.Tensor):
        t = value
    else:
        arr = np.asarray(value)
        if want is None:
            arr = floatx_array(arr)
            if arr.dtype == np.int64 and not isinstance(value, np.ndarray):
                arr = default_int_array(arr)     # TF: tf.constant(3) is int32
        t = torch.from_numpy(_contiguous(arr))
    if want is not None and t.dtype != want:
        t = t.to(want)
    if device is not None and t.device != torch.device(device):
        t = t.to(device)
    return t


def as_eager(t):
    """Wrap a plain tensor (no copy) so that it has TF manners."""
    return t.as_subclass(EagerTensor) if type(t) is torch.Tensor else t

