"""The symbolic side of the functional API: `Input`, `InputLayer`, and calling a layer on a KerasTensor.

Calling a layer on a KerasTensor builds the layer for that shape and works out the output
shape by a dry run on one zero sample (exact for every layer, no shape rules to keep in sync).
"""
import torch

import course.device
from course.keras.layers.base import KerasTensor, Layer, call_context, no_dispatch

__all__ = ["Input", "InputLayer", "KerasTensor", "call_symbolic", "dry_run_shape"]


class InputLayer(Layer):
    """The entry of a model: holds the input shape (batch first, None when free)."""

    def __init__(self, shape=None, batch_size=None, dtype=None, sparse=None, batch_shape=None,
                 input_tensor=None, optional=False, name=None, input_shape=None, ragged=None, **kwargs):
        if shape is None and input_shape is not None:
            shape = input_shape
        if batch_shape is None:
            if shape is None:
                raise ValueError("InputLayer needs a shape, e.g. Input(shape=(28, 28)) (without the batch axis).")
            shape = (shape,) if isinstance(shape, int) else tuple(shape)
            batch_shape = (batch_size,) + shape
        super().__init__(name=name, **kwargs)
        self.batch_shape = tuple(None if d is None else int(d) for d in batch_shape)
        self._dtype = dtype or "float32"
        self.built = True
        self._output_shape = self.batch_shape
        self.output = KerasTensor(self.batch_shape, self._dtype, layer=self, name=self.name)

    def call(self, inputs):
        return inputs

    def get_config(self):
        return {"batch_shape": list(self.batch_shape), "dtype": self._dtype, "sparse": False, "ragged": False,
                "name": self.name, "optional": False}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("sparse", "ragged", "optional"):
            config.pop(key, None)
        return cls(batch_shape=config.pop("batch_shape", None), dtype=config.pop("dtype", None), **config)


def Input(shape=None, batch_size=None, dtype=None, sparse=None, batch_shape=None, name=None, tensor=None,
          optional=False):
    """A symbolic input (a KerasTensor) for the functional API or a Sequential model's first entry."""
    return InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, batch_shape=batch_shape, name=name).output


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
