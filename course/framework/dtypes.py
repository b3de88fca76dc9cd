"""TensorFlow dtypes (`tf.float32`, ...) as thin objects over torch dtypes.

`tf.float32` is a `DType`: it has TensorFlow's attributes (`name`, `as_numpy_dtype`, `is_floating`,
`min`, `max`, `size`, ...) and it compares and hashes equal to the torch dtype behind it, so
`x.dtype == tf.float32` holds for a tensor whose `dtype` is `torch.float32`, and a dict keyed by
torch dtypes finds `tf.float32`. It prints as TF's (`repr` is `tf.float32`, `str` is
`<dtype: 'float32'>`). It is not a `torch.dtype` (torch does not allow subclasses): engines turn
any dtype argument into a torch dtype with `as_torch_dtype` before calling torch.

The trade-off for `x.dtype` of an eager tensor or Variable: it stays torch's (`torch.float32`).
They subclass torch.Tensor, and torch's argument parser accepts only a real `torch.dtype`
(checked before any `__torch_function__` dispatch), so a `DType` there would break
`y.to(x.dtype)`, `torch.zeros(3, dtype=x.dtype)`, `torch.finfo(x.dtype)` and `x.sum(dtype=...)` in
torch-style code on facade tensors (the lessons contrast both styles, and the 2026 prototype of
the override broke exactly these). What TF's guides show still holds where it matters:
`x.dtype == tf.float32` (and hashing, `in`), the repr/str of tensors and Variables
(`dtype=float32`), `print(tf.float32)` -> `<dtype: 'float32'>`; for TF's dtype object of a
tensor write `tf.as_dtype(x.dtype)` (prints `<dtype: 'float32'>`, has `.name`, `.is_floating`).
A `DType` also answers what torch code asks of a dtype (`is_floating_point`, `is_complex`,
`is_signed`, `itemsize`), so code written against either reads it.

Also here: TF's names of dtypes (`name`, and `proto_name` for the runtime's messages). The dtype
`tf.constant(value)` infers for a Python value is `course.framework.convert.infer_dtype`.
"""
import numpy as np
import torch

__all__ = ["DType", "as_dtype", "as_torch_dtype", "DTYPES", "float16", "bfloat16", "float32", "float64",
           "half", "double", "int8", "int16", "int32", "int64", "uint8", "bool_", "complex64", "complex128",
           "string", "is_integer", "is_floating", "tf_dtype_of", "name", "proto_name", "numpy_dtype", "FLOATS"]

DTYPES = {
    "float16": torch.float16, "half": torch.float16, "bfloat16": torch.bfloat16,
    "float32": torch.float32, "float": torch.float32, "float64": torch.float64, "double": torch.float64,
    "int8": torch.int8, "int16": torch.int16, "int32": torch.int32, "int64": torch.int64,
    "uint8": torch.uint8, "bool": torch.bool, "complex64": torch.complex64, "complex128": torch.complex128,
}


class DType:
    """One TensorFlow dtype; equal (and hash-equal) to its torch dtype, its numpy dtype and its name."""

    __slots__ = ("name", "_torch")

    def __init__(self, name: str, torch_dtype):
        self.name = name
        self._torch = torch_dtype

    # --- TensorFlow's DType attributes -------------------------------------------------------
    @property
    def as_numpy_dtype(self):
        return np.bool_ if self.name == "bool" else getattr(np, self.name, object)

    @property
    def as_torch(self):
        return self._torch

    @property
    def base_dtype(self):
        return self

    @property
    def real_dtype(self):
        return {"complex64": float32, "complex128": float64}.get(self.name, self)

    @property
    def is_floating(self):
        return self._torch is not None and self._torch.is_floating_point

    @property
    def is_integer(self):
        return self._torch is not None and not self._torch.is_floating_point and not self._torch.is_complex \
            and self._torch is not torch.bool

    @property
    def is_bool(self):
        return self._torch is torch.bool

    @property
    def is_complex(self):
        return self._torch is not None and self._torch.is_complex

    @property
    def is_unsigned(self):
        return self._torch in (torch.uint8, torch.bool)

    @property
    def size(self):
        return self._torch.itemsize if self._torch is not None else 1

    @property
    def min(self):
        return self._limits().min

    @property
    def max(self):
        return self._limits().max

    def _limits(self):
        if self.is_floating:
            return torch.finfo(self._torch)
        if self.is_integer:
            return torch.iinfo(self._torch)
        raise TypeError(f"tf.{self.name} has no min/max; ask a floating or integer dtype.")

    # --- what torch code asks of a torch.dtype (x.dtype of an eager tensor is a DType) ---------
    @property
    def is_floating_point(self):
        return self._torch is not None and self._torch.is_floating_point

    @property
    def is_signed(self):
        return self._torch is not None and self._torch.is_signed

    @property
    def itemsize(self):
        return self.size

    def to_real(self):
        return self.real_dtype

    def to_complex(self):
        return {"float32": complex64, "float64": complex128}.get(self.name, self)

    def is_compatible_with(self, other):
        return self == other

    # --- identity ----------------------------------------------------------------------------
    def __eq__(self, other):
        if isinstance(other, DType):
            return self.name == other.name
        if other is None:
            return False
        try:
            return as_torch_dtype(other) is self._torch
        except TypeError:
            return False

    def __ne__(self, other):
        return not self.__eq__(other)

    def __hash__(self):
        return hash(self._torch)

    def __repr__(self):
        return f"tf.{self.name}"          # TF 2.21: repr(tf.float32) == 'tf.float32'

    def __str__(self):
        return f"<dtype: '{self.name}'>"  # and print(tf.float32) shows <dtype: 'float32'>

    def __reduce__(self):
        return (as_dtype, (self.name,))


float16 = half = DType("float16", torch.float16)
bfloat16 = DType("bfloat16", torch.bfloat16)
float32 = DType("float32", torch.float32)
float64 = double = DType("float64", torch.float64)
int8 = DType("int8", torch.int8)
int16 = DType("int16", torch.int16)
int32 = DType("int32", torch.int32)
int64 = DType("int64", torch.int64)
uint8 = DType("uint8", torch.uint8)
bool_ = DType("bool", torch.bool)
complex64 = DType("complex64", torch.complex64)
complex128 = DType("complex128", torch.complex128)
string = DType("string", None)        # exists so that `tf.string` resolves; no tensor op accepts it

_BY_TORCH = {d._torch: d for d in (float16, bfloat16, float32, float64, int8, int16, int32, int64, uint8,
                                   bool_, complex64, complex128)}


def tf_dtype_of(t):
    """The DType of a torch tensor (its torch dtype where TF has no such dtype, e.g. uint16)."""
    td = torch.Tensor.dtype.__get__(t)
    return _BY_TORCH.get(td, td)


def as_torch_dtype(dtype) -> torch.dtype:
    """torch dtype from a torch dtype, a `DType`, a numpy dtype/type, a python type or a TF-style name."""
    if isinstance(dtype, torch.dtype):
        return dtype
    if isinstance(dtype, DType):
        if dtype._torch is None:
            raise TypeError(f"tf.{dtype.name} tensors are not supported here; use a numeric dtype.")
        return dtype._torch
    if dtype is float:
        return torch.float32
    if dtype is int:
        return torch.int32
    if dtype is bool:
        return torch.bool
    name = getattr(dtype, "name", None) or (dtype if isinstance(dtype, str) else None)
    if name is None:
        try:
            name = np.dtype(dtype).name
        except TypeError:
            name = None
    if isinstance(name, str) and name.startswith("tf."):
        name = name[3:]
    if name in DTYPES:
        return DTYPES[name]
    raise TypeError(f"Unknown dtype {dtype!r}; expected one of {sorted(DTYPES)}, tf.float32 and friends, "
                    f"or a torch/numpy dtype.")


def as_dtype(dtype) -> DType:
    """`tf.as_dtype`: the `DType` for any dtype-like value (torch, numpy, name, DType)."""
    if isinstance(dtype, DType):
        return dtype
    if dtype == "string" or dtype is str:
        return string
    return _BY_TORCH[as_torch_dtype(dtype)]


FLOATS = (torch.float16, torch.bfloat16, torch.float32, torch.float64)
_INTEGERS = (torch.int8, torch.int16, torch.int32, torch.int64, torch.uint8)


def is_floating(dtype) -> bool:
    """True for the real floating dtypes (any dtype-like value; False for what is no dtype)."""
    try:
        return as_torch_dtype(dtype) in FLOATS
    except TypeError:
        return False


def is_integer(dtype) -> bool:
    """True for the integer dtypes (bool is not one, as in TF)."""
    try:
        return as_torch_dtype(dtype) in _INTEGERS
    except TypeError:
        return False


# --- names: TF's `dtype.name`, and the names TF's C++ runtime writes in its messages ---------------
_NAMES = {d._torch: d.name for d in _BY_TORCH.values()}
_PROTO = {**_NAMES, torch.float16: "half", torch.float32: "float", torch.float64: "double"}


def name(dtype) -> str:
    """'float32' for torch.float32 (or tf.float32), as TF's `dtype.name`."""
    return _NAMES.get(dtype, str(dtype).replace("torch.", ""))


def proto_name(dtype) -> str:
    """'float' for torch.float32, as TF's runtime writes it in error messages ("with dtype float")."""
    return _PROTO.get(dtype, name(dtype))


def numpy_dtype(dtype) -> np.dtype:
    """The numpy dtype of a torch dtype; bfloat16, which numpy lacks, reads as float32."""
    if dtype == torch.bfloat16:
        return np.dtype(np.float32)
    return np.dtype(name(dtype))

