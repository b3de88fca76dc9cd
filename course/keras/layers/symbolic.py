"""The symbolic side of the functional API: `KerasTensor`, and calling a layer on one.

Calling a layer on a KerasTensor builds the layer for that shape and works out the output
shape by a dry run on one zero sample (exact for every layer, no shape rules to keep in sync).
"""
import torch

import course.device
from course.framework.convert import no_dispatch
from course.keras.layers.call_context import call_context

__all__ = ["KerasTensor", "dry_run_shape", "call_symbolic"]


class KerasTensor:
    """A symbolic value of the functional API: a shape (batch None), a dtype, and where it came from."""

    def __init__(self, shape, dtype="float32", *, layer=None, parents=(), name=None):
        self.shape = tuple(shape)
        self.dtype = dtype
        self.layer = layer              # the layer whose output this is (InputLayer for inputs)
        self.parents = parents          # the KerasTensors the layer was called on
        self.name = name

    @property
    def ndim(self):
        return len(self.shape)

    def __repr__(self):
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}, name={self.name}>"


def dry_run_shape(layer, input_shape):
    """Build `layer` for `input_shape` and return its output shape (batch kept as given, None stays None)."""
    shapes = input_shape if isinstance(input_shape, list) else [input_shape]
    device = course.device.get()
    zeros = [torch.zeros((1,) + tuple(1 if d is None else d for d in s[1:]), device=device) for s in shapes]
    x = zeros if isinstance(input_shape, list) else zeros[0]
    ctx = call_context
    saved = ctx.depth, ctx.training, ctx.losses, ctx.dry_run
    ctx.depth, ctx.training, ctx.losses, ctx.dry_run = saved[0] + 1, False, [], True
    try:
        with torch.no_grad(), no_dispatch():
            y = layer._run(x, training=False)
    finally:
        ctx.depth, ctx.training, ctx.losses, ctx.dry_run = saved
    batch = shapes[0][0]
    if isinstance(y, (list, tuple)):
        return [(batch,) + tuple(t.shape[1:]) for t in y]
    return (batch,) + tuple(y.shape[1:])


def call_symbolic(layer, inputs, *args, **kwargs):
    """`layer(keras_tensor)`: record the call, return the output KerasTensor(s)."""
    if args or set(kwargs) - {"training", "mask"}:
        raise NotImplementedError(f"{layer.name}: only a layer's main input can be symbolic here; "
                                  f"got extra arguments {list(kwargs) or len(args)}.")
    parents = tuple(inputs) if isinstance(inputs, (list, tuple)) else (inputs,)
    shape = [p.shape for p in parents] if isinstance(inputs, (list, tuple)) else inputs.shape
    out_shape = dry_run_shape(layer, shape)
    layer._build_input_shape = shape
    layer._output_shape = out_shape
    if isinstance(out_shape, list):
        raise NotImplementedError(f"{layer.name}: layers with several outputs are not supported in functional models.")
    return KerasTensor(out_shape, "float32", layer=layer, parents=parents, name=layer.name)
