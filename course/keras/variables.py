"""Keras 3 variables: `layer.kernel.name == 'kernel'`, `.path == 'dense/kernel'`, and Keras' repr.

A `KerasVariable` is a `tf.Variable` (so tapes, optimizers and `torch.nn.Module`s treat it as
one) that prints and is named as Keras 3 prints and names its own variables:
`<Variable path=dense/kernel, shape=(2, 3), dtype=float32, value=[[...]]>`. Its `_name` keeps the
full path, so messages that quote `_name` still say which layer a weight belongs to.
"""
import torch

from course.framework import dtypes
from course.tape.tensor import to_numpy
from course.tape.variables import Variable

__all__ = ["KerasVariable"]


class KerasVariable(Variable):
    """A layer weight named as in Keras 3 (`name` is the last part of `path`)."""

    def __new__(cls, initializer=None, shape=None, dtype=None, trainable=True, name=None, **kwargs):
        if initializer is not None and callable(initializer) and shape is not None:
            initializer = initializer(tuple(shape), dtype=dtype or "float32")
        return super().__new__(cls, initializer, trainable=trainable, name=name or "variable", dtype=dtype)

    @property
    def name(self):
        return self._name.rsplit("/", 1)[-1]

    @property
    def path(self):
        return self._name

    def assign(self, value, *args, **kwargs):
        """Keras 3's assign returns the new value as a tensor (not an UnreadVariable)."""
        out = super().assign(value, *args, **kwargs)
        return self.read_value() if isinstance(out, Variable) else out     # graph mode: the graph's op

    def assign_add(self, value, *args, **kwargs):
        out = super().assign_add(value, *args, **kwargs)
        return self.read_value() if isinstance(out, Variable) else out     # graph mode: the graph's op

    def assign_sub(self, value, *args, **kwargs):
        out = super().assign_sub(value, *args, **kwargs)
        return self.read_value() if isinstance(out, Variable) else out     # graph mode: the graph's op

    def __repr__(self, *, tensor_contents=None):
        dtype = dtypes.name(torch.Tensor.dtype.__get__(self))
        return (f"<Variable path={self._name}, shape={tuple(self.shape)}, dtype={dtype}, "
                f"value={to_numpy(self)}>")

    def __reduce_ex__(self, proto):
        return (_rebuild, (to_numpy(self).copy(), self._trainable, self._name))

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        out = KerasVariable(to_numpy(self).copy(), trainable=self._trainable, name=self._name)
        memo[id(self)] = out
        return out


def _rebuild(array, trainable, name):
    return KerasVariable(array, trainable=trainable, name=name)
