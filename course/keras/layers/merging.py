"""Merging layers: `Add()([a, b, ...])`, the elementwise sum of a list of tensors.

A residual block's skip connection is `Add()([x, f(x)])` in the functional API. As in Keras 3, the
layer takes a list (one element is returned as it is), the batch sizes must agree, and the other axes
must be equal or 1 (broadcast).
"""
from course.keras.layers.base import Layer

__all__ = ["Add"]


def _check_shapes(name, shapes):
    batches = {s[0] for s in shapes if s[0] is not None}
    if len(batches) > 1:
        raise ValueError(f"Layer {name!r}: cannot merge tensors with different batch sizes. Received tensors with "
                         f"shapes {[tuple(s) for s in shapes]}.")
    rest = [tuple(s[1:]) for s in shapes]
    for a in rest[1:]:
        b = rest[0]
        if len(a) != len(b) or any(x != y and 1 not in (x, y) for x, y in zip(a, b)):
            raise ValueError(f"Layer {name!r}: inputs have incompatible shapes. Received shapes {b} and {a} "
                             f"(batch axis left out); give every input of Add the same shape.")


class Add(Layer):
    """The elementwise sum of a list of tensors of one shape (axes of size 1 broadcast)."""

    def call(self, inputs):
        if not isinstance(inputs, (list, tuple)) or not inputs:
            what = f"a tensor of shape {tuple(inputs.shape)}" if hasattr(inputs, "shape") else type(inputs).__name__
            raise ValueError(f"Layer {self.name!r}: a merge layer should be called on a list of inputs, e.g. "
                             f"Add()([x, y]); got {what}.")
        _check_shapes(self.name, [tuple(t.shape) for t in inputs])
        out = inputs[0]
        for t in inputs[1:]:
            out = out + t
        return out
