"""Merging layers: `Add()([a, b])`, `Subtract`, `Multiply`, `Average`, `Maximum`, `Minimum` and
`Concatenate(axis=-1)`, each called on a list of tensors.

A residual block's skip connection is `Add()([x, f(x)])` in the functional API, a two-branch network
joins with `Concatenate()([a, b])`. As in Keras 3, the elementwise layers take a list (one element is
returned as it is; `Subtract` exactly two), the batch sizes must agree and the other axes must be equal
or 1 (broadcast); `Concatenate` needs every axis but its own to match.
"""
import torch

from course.keras.layers.base import Layer

__all__ = ["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate"]


def _check_list(layer, inputs):
    if not isinstance(inputs, (list, tuple)) or not inputs:
        what = f"a tensor of shape {tuple(inputs.shape)}" if hasattr(inputs, "shape") else type(inputs).__name__
        raise ValueError(f"Layer {layer.name!r}: a merge layer should be called on a list of inputs, e.g. "
                         f"{type(layer).__name__}()([x, y]); got {what}.")


def _check_shapes(layer, shapes):
    batches = {s[0] for s in shapes if s[0] is not None}
    if len(batches) > 1:
        raise ValueError(f"Layer {layer.name!r}: cannot merge tensors with different batch sizes. Received tensors "
                         f"with shapes {[tuple(s) for s in shapes]}.")
    rest = [tuple(s[1:]) for s in shapes]
    for a in rest[1:]:
        b = rest[0]
        if len(a) != len(b) or any(x != y and 1 not in (x, y) for x, y in zip(a, b)):
            raise ValueError(f"Layer {layer.name!r}: inputs have incompatible shapes. Received shapes {b} and {a} "
                             f"(batch axis left out); give every input of {type(layer).__name__} the same shape.")


class _Elementwise(Layer):
    """A list of tensors of one shape (axes of size 1 broadcast), merged pairwise by `_merge`."""

    def _merge(self, a, b):
        raise NotImplementedError

    def call(self, inputs):
        _check_list(self, inputs)
        _check_shapes(self, [tuple(t.shape) for t in inputs])
        out = inputs[0]
        for t in inputs[1:]:
            out = self._merge(out, t)
        return out


class Add(_Elementwise):
    """The elementwise sum of a list of tensors of one shape."""

    def _merge(self, a, b):
        return a + b


class Multiply(_Elementwise):
    """The elementwise product of a list of tensors of one shape."""

    def _merge(self, a, b):
        return a * b


class Maximum(_Elementwise):
    """The elementwise maximum of a list of tensors of one shape."""

    def _merge(self, a, b):
        return torch.maximum(a, b)


class Minimum(_Elementwise):
    """The elementwise minimum of a list of tensors of one shape."""

    def _merge(self, a, b):
        return torch.minimum(a, b)


class Average(Add):
    """The elementwise mean of a list of tensors of one shape."""

    def call(self, inputs):
        return super().call(inputs) / len(inputs)


class Subtract(_Elementwise):
    """`a - b` for exactly two tensors of one shape."""

    def call(self, inputs):
        _check_list(self, inputs)
        if len(inputs) != 2:
            raise ValueError(f"A `Subtract` layer should be called on exactly 2 inputs. Received: input_shape="
                             f"{[tuple(t.shape) for t in inputs]}")
        return super().call(inputs)

    def _merge(self, a, b):
        return a - b


class Concatenate(Layer):
    """The tensors of a list joined along `axis` (default the last); every other axis must match."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = int(axis)

    def call(self, inputs):
        if not isinstance(inputs, (list, tuple)) or not inputs:
            shape = tuple(inputs.shape) if hasattr(inputs, "shape") else type(inputs).__name__
            raise ValueError(f"A `Concatenate` layer should be called on a list of at least 1 input. Received: "
                             f"input_shape={shape}")
        shapes = [tuple(t.shape) for t in inputs]
        rank = len(shapes[0])
        axis = self.axis % rank if -rank <= self.axis < rank else None
        if axis is None or any(len(s) != rank or s[:axis] + s[axis + 1:] != shapes[0][:axis] + shapes[0][axis + 1:]
                               for s in shapes):
            raise ValueError(f"A `Concatenate` layer requires inputs with matching shapes except for the "
                             f"concatenation axis. Received: input_shape={shapes}")
        return torch.cat(list(inputs), dim=axis)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}
