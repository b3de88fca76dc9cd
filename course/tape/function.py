"""`tf.TensorSpec`: the dtype and shape a tensor argument must have (tf.function, tf.data).

`tf.function` itself traces into a graph, so it lives with the graph engine
(`course.graph.function`); the eager engine only describes tensors here.
"""
import torch

from course.framework.dtypes import as_dtype, as_torch_dtype
from course.framework.shapes import TensorShape
from course.tape.tensor import to_tensor

__all__ = ["TensorSpec"]


class TensorSpec:
    """`tf.TensorSpec(shape, dtype=tf.float32, name=None)`: what a tensor argument must look like."""

    def __init__(self, shape, dtype=torch.float32, name=None):
        self.shape = TensorShape(shape)
        self.dtype = as_dtype(dtype)
        self.name = name

    @classmethod
    def from_tensor(cls, tensor, name=None):
        return cls(tuple(tensor.shape), tensor.dtype, name)

    def is_compatible_with(self, value):
        if isinstance(value, TensorSpec):
            return self.dtype == value.dtype and self.shape.is_compatible_with(value.shape)
        t = value if isinstance(value, torch.Tensor) else to_tensor(value, as_torch_dtype(self.dtype))
        return t.dtype == as_torch_dtype(self.dtype) and self.shape.is_compatible_with(tuple(t.shape))

    def __eq__(self, other):
        return isinstance(other, TensorSpec) and (self.shape, self.dtype, self.name) == (other.shape, other.dtype,
                                                                                          other.name)

    def __hash__(self):
        return hash((tuple(self.shape), self.dtype, self.name))

    def __repr__(self):
        return f"TensorSpec(shape={self.shape}, dtype={self.dtype!r}, name={self.name!r})"
