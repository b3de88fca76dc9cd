"""String tensors (`tf.constant("héllo")`, `dtype=tf.string`): the value type the `tf.strings` ops
(course.tape.strings), ragged tensors and tf.data work on.

torch has no string tensors, so a `StringTensor` is honestly what TF's is underneath: a numpy
object array of `bytes` (text is stored UTF-8 encoded, as TF stores it). It lives on the CPU, has
no gradient, and prints, indexes, compares and converts as TF's does (`.numpy()` gives `b'...'` for a
scalar and an object array otherwise).
"""
import numpy as np
import torch

from course.framework import dtypes
from course.framework.shapes import TensorShape, shape_text
from course.tape.tensor import to_numpy, wrap

__all__ = ["StringTensor", "is_string_value", "string_constant", "object_array", "to_bytes"]


def to_bytes(v):
    if isinstance(v, bytes):
        return v
    if isinstance(v, str):
        return v.encode("utf-8")
    if isinstance(v, np.bytes_):
        return bytes(v)
    raise TypeError(f"A tf.string tensor holds str or bytes; got {type(v).__name__} {v!r}. "
                    f"Convert numbers with tf.strings.as_string.")


def object_array(value):
    if isinstance(value, StringTensor):
        return value._array
    arr = np.asarray(value, dtype=object) if not isinstance(value, np.ndarray) else value
    if arr.dtype.kind in "US":
        arr = arr.astype(object)
    out = np.empty(arr.shape, dtype=object)
    for idx, v in np.ndenumerate(arr):
        out[idx] = to_bytes(v)
    return out


def is_string_value(value, dtype=None):
    """True when `tf.constant(value, dtype)` makes a string tensor."""
    if isinstance(value, StringTensor) or (dtype is not None and dtypes.as_dtype(dtype) == dtypes.string):
        return True
    if isinstance(value, (str, bytes, np.str_, np.bytes_)):
        return True
    if isinstance(value, np.ndarray):
        return value.dtype.kind in "US" or (value.dtype == object and value.size > 0
                                            and isinstance(value.flat[0], (str, bytes)))
    while isinstance(value, (list, tuple)) and value:
        value = value[0]
    return isinstance(value, (str, bytes))


class StringTensor:
    """A `tf.Tensor` of dtype `tf.string`: bytes in a numpy object array (see the module docstring)."""

    _tf_tensor_like = True        # isinstance(s, tf.Tensor) holds, as in TF
    __array_priority__ = 100

    def __init__(self, value):
        self._array = object_array(value)

    dtype = dtypes.string
    device = "/job:localhost/replica:0/task:0/device:CPU:0"

    @property
    def shape(self):
        return TensorShape(self._array.shape)

    def get_shape(self):
        return self.shape

    @property
    def ndim(self):
        return self._array.ndim

    def dim(self):
        return self._array.ndim

    def to(self, *args, **kwargs):            # bytes live on the CPU; moving them is a no-op
        return self

    def detach(self):
        return self

    def unsqueeze(self, axis):
        return StringTensor(np.expand_dims(self._array, axis))

    def numpy(self):
        return self._array[()] if self._array.ndim == 0 else self._array.copy()

    def __array__(self, dtype=None, copy=None):
        return self._array if dtype is None else self._array.astype(dtype)

    def __len__(self):
        if self._array.ndim == 0:
            raise TypeError("Scalar tensor has no `len()`")
        return len(self._array)

    def __iter__(self):
        if self._array.ndim == 0:
            raise TypeError("Cannot iterate over a scalar tensor.")
        return (StringTensor(a) for a in self._array)

    def __getitem__(self, key):
        if isinstance(key, torch.Tensor):
            key = to_numpy(key)
        return StringTensor(self._array[key])

    def __eq__(self, other):
        return wrap(torch.from_numpy(np.asarray(self._array == object_array(other), dtype=bool)))

    def __ne__(self, other):
        return wrap(torch.from_numpy(np.asarray(self._array != object_array(other), dtype=bool)))

    __hash__ = object.__hash__

    def __add__(self, other):            # TF's Add op concatenates strings
        return StringTensor(np.frompyfunc(lambda a, b: a + b, 2, 1)(self._array, object_array(other)))

    def __radd__(self, other):
        return StringTensor(np.frompyfunc(lambda a, b: a + b, 2, 1)(object_array(other), self._array))

    def __bool__(self):
        raise TypeError("A string tensor has no truth value; compare it first (s == b'...').")

    def __repr__(self):
        body = repr(self._array[()]) if self._array.ndim == 0 else repr(self._array)
        body = "\n" + body if "\n" in body else body        # TF starts a multi-line array on its own line
        return f"<tf.Tensor: shape={shape_text(self._array.shape)}, dtype=string, numpy={body}>"

    def __format__(self, format_spec):           # f"{s}" shows the value, as TF's tensors do
        return format(repr(self._array[()]) if self._array.ndim == 0 else str(self._array), format_spec)

    def __str__(self):
        body = repr(self._array[()]) if self._array.ndim == 0 else str(self._array)
        body = "\n" + body if "\n" in body else body
        return f"tf.Tensor({body}, shape={shape_text(self._array.shape)}, dtype=string)"


def string_constant(value, shape=None):
    arr = object_array(value)
    if shape is not None:
        shape = tuple(int(d) for d in shape)
        arr = np.full(shape, arr[()], dtype=object) if arr.size == 1 else arr.reshape(shape)
    return StringTensor(arr)
