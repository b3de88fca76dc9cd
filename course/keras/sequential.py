"""`Sequential`: a stack of layers, each feeding the next.

The input shape comes from an `Input(...)` first entry, from `input_shape=` on the first layer
(Keras then adds an InputLayer), or from the first batch. Once it is known every layer is built
at once, so `summary()` and `count_params()` work before training, as in Keras.
"""
from course.keras.layers.base import Layer
from course.keras.layers.conversion import first
from course.keras.layers.functional import InputLayer
from course.keras.layers.symbolic import KerasTensor, dry_run_shape
from course.keras.model import Model
from course.keras.saving.serialization import deserialize_layer, register_model_class, serialize_layer

__all__ = ["Sequential"]


class Sequential(Model):
    def __init__(self, layers=None, trainable=True, name=None):
        super().__init__(trainable=trainable, name=name)
        self._stack = []                 # layers after the InputLayer
        self._input_layer = None
        for layer in layers or []:
            self.add(layer)

    def add(self, layer, rebuild=True):
        """Append a layer (or an `Input(...)`); builds it now when the input shape is known."""
        if isinstance(layer, KerasTensor):
            layer = layer.layer
        if isinstance(layer, InputLayer):
            if self._stack or self._input_layer is not None:
                raise ValueError("Sequential: an Input/InputLayer can only be the first entry.")
            self._input_layer = layer
            self._build_from_input()
            return
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential.add expects a layer (e.g. Dense(10)); got {layer!r} "
                            f"of type {type(layer).__name__}.")
        if not self._stack and self._input_layer is None and layer._input_shape_arg is not None:
            self._input_layer = InputLayer(batch_shape=layer._input_shape_arg)
        self._stack.append(layer)
        self.add_module(str(len(self._stack) - 1), layer)
        if self._input_layer is not None:
            self._build_from_input()

    def pop(self, rebuild=True):
        if not self._stack:
            raise IndexError("Sequential.pop: there are no layers to remove.")
        layer = self._stack.pop()
        del self._modules[str(len(self._stack))]
        return layer

    def _sublayers(self):
        return list(self._stack)

    def _build_from_input(self):
        """Build every layer not built yet by a dry run from the input shape; record output shapes."""
        shape = self._input_layer.batch_shape
        for layer in self._stack:
            if layer.built and layer._output_shape is not None and layer._build_input_shape is not None:
                shape = layer._output_shape
                continue
            layer._build_input_shape = shape
            shape = dry_run_shape(layer, shape)
            layer._output_shape = (shape[0] if isinstance(shape, tuple) else None,) + tuple(shape[1:])
        self._build_input_shape = self._input_layer.batch_shape
        self._output_shape = shape
        self.built = bool(self._stack)

    def build(self, input_shape=None):
        if input_shape is None:
            if self._input_layer is None:
                raise ValueError("Sequential.build needs an input shape, e.g. model.build((None, 784)).")
            input_shape = self._input_layer.batch_shape
        if self._input_layer is None:
            self._input_layer = InputLayer(batch_shape=(None,) + tuple(input_shape)[1:])
        self._build_from_input()

    def _maybe_build(self, x):
        if not self.built:
            self.build((None,) + tuple(first(x).shape[1:]))

    def call(self, inputs, training=None, mask=None):
        x = inputs
        for layer in self._stack:
            x = layer(x, training=training)
        return x

    def _forward(self, x, training):
        if not self.built:
            self._maybe_build(x)
        for layer in self._stack:
            x = layer._run(x, training=training)
        return x

    @property
    def input_shape(self):
        return self._input_layer.batch_shape if self._input_layer is not None else None

    @property
    def inputs(self):
        return [self._input_layer.output] if self._input_layer is not None else None

    def get_config(self):
        layers = []
        if self._input_layer is not None:
            layers.append(serialize_layer(self._input_layer))
        layers += [serialize_layer(l) for l in self._stack]
        config = {**Layer.get_config(self), "layers": layers}
        if self._build_input_shape is not None:
            config["build_input_shape"] = list(self._build_input_shape)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        model = cls(name=config.get("name"), trainable=config.get("trainable", True))
        for entry in config.get("layers", []):
            model.add(deserialize_layer(entry, custom_objects))
        if not model.built and config.get("build_input_shape"):
            model.build(tuple(config["build_input_shape"]))
        return model


register_model_class(Sequential, "Sequential", "keras")
