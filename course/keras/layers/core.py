"""Dense, Activation, Softmax, Dropout, Flatten and Reshape: Keras semantics, `course.layers` kernels.

Dense:   y = activation(x W + b),  W of shape (in, out) as Keras stores it (torch's Linear is (out, in)).
Dropout: zero each element with probability `rate` in training, scale the rest by 1/(1-rate).
Flatten: (N, d1, d2, ...) -> (N, d1·d2·...) in channels-last order, as Keras.
"""
import math
import numbers

import torch

import course.layers as K
from course.keras import activations as activations_module
from course.keras import initializers as initializers_module
from course.keras import regularizers as regularizers_module
from course.framework.shapes import shape_text
from course.keras.layers.base import Layer
from course.keras.layers.call_context import call_context
from course.keras.layers.conversion import plain

__all__ = ["Dense", "Activation", "Softmax", "Dropout", "Flatten", "Reshape", "ReLU", "LeakyReLU", "Identity"]


def _shape_text(shape):
    """(32, 28, 28), or (None, 28, 28) while shapes are worked out on a zero sample."""
    shape = tuple(shape)
    return shape_text((None,) + shape[1:] if call_context.dry_run and shape else shape)


class Dense(Layer):
    """Fully connected layer: y = activation(x W + b), W (in, out)."""

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None, lora_rank=None,
                 **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if isinstance(units, bool) or not isinstance(units, numbers.Integral) or units <= 0:   # Keras: no "3", no 3.5
            raise ValueError(f"Received an invalid value for `units`, expected a positive integer. Received: "
                             f"units={units!r} ({type(units).__name__}). Dense needs a whole number such as "
                             "Dense(10); in a saved config, fix the layer's 'units'.")
        if kernel_constraint is not None or bias_constraint is not None or lora_rank is not None:
            raise NotImplementedError("Dense: kernel/bias constraints and LoRA are not supported here; "
                                      "leave them unset.")
        self.units = int(units)
        self.activation = activations_module.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers_module.get(kernel_initializer)
        self.bias_initializer = initializers_module.get(bias_initializer)
        self.kernel_regularizer = regularizers_module.get(kernel_regularizer)
        self.bias_regularizer = regularizers_module.get(bias_regularizer)

    def build(self, input_shape):
        if input_shape is not None and len(input_shape) != 2:
            raise ValueError(self._rank_message(input_shape))
        features = input_shape[-1]
        self.kernel = self.add_weight((features, self.units), self.kernel_initializer, name="kernel",
                                      regularizer=self.kernel_regularizer)
        self.bias = (self.add_weight((self.units,), self.bias_initializer, name="bias",
                                     regularizer=self.bias_regularizer) if self.use_bias else None)

    def _rank_message(self, shape):
        hint = " Add Flatten() first." if len(shape) > 2 else " Give each sample as a vector (batch, features)."
        return f"Dense expects input of shape (batch, features); got {_shape_text(shape)}.{hint}"

    def call(self, inputs):
        if inputs.dim() != 2:
            raise ValueError(self._rank_message(tuple(inputs.shape)))
        kernel = plain(self.kernel)
        if inputs.shape[1] != kernel.shape[0]:
            raise ValueError(f"Dense layer {self.name!r} was built for {kernel.shape[0]} input features; "
                             f"got input of shape {tuple(inputs.shape)}. Check the layer before it (a different "
                             "image size or a missing Flatten?).")
        return self.activation(K.dense(inputs, kernel, plain(self.bias)))       # (N, units)

    def get_config(self):
        return {**super().get_config(), "units": self.units,
                "activation": activations_module.serialize(self.activation), "use_bias": self.use_bias,
                "kernel_initializer": initializers_module.serialize(self.kernel_initializer),
                "bias_initializer": initializers_module.serialize(self.bias_initializer),
                "kernel_regularizer": regularizers_module.serialize(self.kernel_regularizer),
                "bias_regularizer": regularizers_module.serialize(self.bias_regularizer),
                "kernel_constraint": None, "bias_constraint": None, "quantization_config": None}


class Activation(Layer):
    """Applies an activation function by name or callable."""

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations_module.get(activation)

    def call(self, inputs):
        return self.activation(inputs)

    def get_config(self):
        return {**super().get_config(), "activation": activations_module.serialize(self.activation)}


class Softmax(Layer):
    """softmax along `axis` (default the last)."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis

    def call(self, inputs, mask=None):
        return activations_module.softmax(inputs, axis=self.axis)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


class ReLU(Layer):
    """max(x, 0), with Keras' optional max_value, negative_slope and threshold."""

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        self.max_value, self.negative_slope, self.threshold = max_value, negative_slope, threshold

    def call(self, inputs):
        return activations_module.relu(inputs, self.negative_slope, self.max_value, self.threshold)

    def get_config(self):
        return {**super().get_config(), "max_value": self.max_value, "negative_slope": self.negative_slope,
                "threshold": self.threshold}


class LeakyReLU(Layer):
    def __init__(self, negative_slope=0.3, **kwargs):
        super().__init__(**kwargs)
        self.negative_slope = negative_slope

    def call(self, inputs):
        return activations_module.leaky_relu(inputs, self.negative_slope)

    def get_config(self):
        return {**super().get_config(), "negative_slope": self.negative_slope}


class Identity(Layer):
    def call(self, inputs):
        return inputs


class Dropout(Layer):
    """Inverted dropout with Keras' `rate` (the fraction dropped; TF1's keep_prob = 1 - rate)."""

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not 0 <= float(rate) < 1:
            raise ValueError(f"Dropout rate must be in [0, 1) (the fraction to drop); got {rate}.")
        if noise_shape is not None:
            raise NotImplementedError("Dropout(noise_shape=...) is not supported; leave it None.")
        self.rate, self.seed = float(rate), seed
        self._generator = None

    def call(self, inputs, training=None):
        if not training or self.rate == 0:
            return inputs
        if self.seed is not None and self._generator is None:
            self._generator = torch.Generator(device=inputs.device).manual_seed(int(self.seed))
        return K.dropout(inputs, self.rate, training=True, generator=self._generator)

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed, "noise_shape": None}


class Flatten(Layer):
    """(N, d1, d2, ...) -> (N, d1·d2·...), channels-last order."""

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        if data_format not in (None, "channels_last"):
            raise NotImplementedError("Flatten(data_format='channels_first') is not supported; images are NHWC here.")

    def call(self, inputs):
        return K.flatten(inputs) if inputs.dim() != 2 else inputs        # (N, features)

    def get_config(self):
        return {**super().get_config(), "data_format": "channels_last"}


class Reshape(Layer):
    """Reshape each sample to `target_shape` (one entry may be -1); the batch axis stays."""

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        self.target_shape = tuple(int(d) for d in target_shape)
        if sum(d == -1 for d in self.target_shape) > 1:
            raise ValueError(f"Reshape: at most one -1 in target_shape; got {self.target_shape}.")

    def call(self, inputs):
        per_sample = math.prod(inputs.shape[1:])
        known = math.prod(d for d in self.target_shape if d != -1)
        if (-1 in self.target_shape and per_sample % known) or (-1 not in self.target_shape and known != per_sample):
            raise ValueError(f"Reshape {self.name!r}: cannot reshape samples of shape {tuple(inputs.shape[1:])} "
                             f"({per_sample} values) to {self.target_shape} ({known} values).")
        return inputs.reshape(inputs.shape[0], *self.target_shape)      # (N, *target_shape)

    def get_config(self):
        return {**super().get_config(), "target_shape": tuple(self.target_shape)}
