"""The entry of a functional model: `Input(shape)` and the `InputLayer` behind it.

Calling layers on what `Input` returns (a KerasTensor, see symbolic.py) records the graph
`Model(inputs, outputs)` replays.
"""
from course.keras.layers.base import Layer
from course.keras.layers.symbolic import KerasTensor

__all__ = ["Input", "InputLayer"]


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
