"""Conv2D and 2-D pooling on channels-last images (NHWC), with TensorFlow's SAME padding.

Conv2D:  y[n, i, j, o] = activation(Σ_{di, dj, c} x[n, i·s+di, j·s+dj, c] · W[di, dj, c, o] + b[o]),
         W of shape (kh, kw, in, filters) as Keras stores it.
Output size per axis: VALID ceil((n - k + 1) / s), SAME ceil(n / s).
"""
import numbers

import course.layers as K
from course.keras import activations as activations_module
from course.keras import initializers as initializers_module
from course.keras import regularizers as regularizers_module
from course.keras.layers.base import Layer
from course.keras.layers.conversion import plain
from course.keras.layers.core import _shape_text

__all__ = ["Conv2D", "MaxPooling2D", "AveragePooling2D", "GlobalAveragePooling2D", "GlobalMaxPooling2D",
           "MaxPool2D", "AvgPool2D", "Convolution2D"]


def _padding(padding, who):
    p = str(padding).lower()
    if p not in ("valid", "same"):
        raise ValueError(f"{who}: padding must be 'valid' or 'same'; got {padding!r}.")
    return p


def _check_image(layer, inputs):
    if inputs.dim() != 4:
        shape = tuple(inputs.shape)
        hint = (f" Add Reshape({shape[1:] + (1,)}) first (one channel, channels last)."
                if inputs.dim() == 3 else " Images are (batch, height, width, channels) here (channels last).")
        raise ValueError(f"{type(layer).__name__} expects input of shape (batch, height, width, channels); "
                         f"got {_shape_text(shape)}.{hint}")


class Conv2D(Layer):
    """2-D convolution (cross-correlation, as in TensorFlow) over NHWC images."""

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", kernel_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if data_format not in (None, "channels_last"):
            raise NotImplementedError("Conv2D(data_format='channels_first') is not supported; images are NHWC here.")
        if groups != 1 or kernel_constraint is not None or bias_constraint is not None:
            raise NotImplementedError("Conv2D: groups != 1 and constraints are not supported.")
        if isinstance(filters, bool) or not isinstance(filters, numbers.Integral) or filters <= 0:
            raise ValueError(f"Invalid value for argument `filters`. Expected a strictly positive integer. Received "
                             f"filters={filters!r} ({type(filters).__name__}). In a saved config, fix the layer's "
                             "'filters'.")
        self.filters = int(filters)
        self.kernel_size = K.pair(kernel_size, "kernel_size")
        self.strides = K.pair(strides, "strides")
        self.padding = _padding(padding, "Conv2D")
        self.dilation_rate = K.pair(dilation_rate, "dilation_rate")
        self.activation = activations_module.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers_module.get(kernel_initializer)
        self.bias_initializer = initializers_module.get(bias_initializer)
        self.kernel_regularizer = regularizers_module.get(kernel_regularizer)
        self.bias_regularizer = regularizers_module.get(bias_regularizer)

    def build(self, input_shape):
        if input_shape is not None and len(input_shape) != 4:
            hint = (f" Add Reshape({tuple(input_shape[1:]) + (1,)}) first (one channel, channels last)."
                    if len(input_shape) == 3 else " Images are (batch, height, width, channels) here (channels last).")
            raise ValueError(f"Conv2D expects input of shape (batch, height, width, channels); got "
                             f"{_shape_text(input_shape)}.{hint}")
        channels = input_shape[-1]
        self.kernel = self.add_weight(self.kernel_size + (channels, self.filters), self.kernel_initializer,
                                      name="kernel", regularizer=self.kernel_regularizer)
        self.bias = (self.add_weight((self.filters,), self.bias_initializer, name="bias",
                                     regularizer=self.bias_regularizer) if self.use_bias else None)

    def call(self, inputs):
        _check_image(self, inputs)
        y = K.conv2d(inputs, plain(self.kernel), None, self.strides, self.padding.upper(), self.dilation_rate)
        if self.bias is not None:
            y = y + plain(self.bias)       # TF's Conv2D then BiasAdd: a traced step computes the same bits
        return self.activation(y)                                           # (N, H', W', filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_size": tuple(self.kernel_size),
                "strides": tuple(self.strides), "padding": self.padding, "data_format": "channels_last",
                "dilation_rate": tuple(self.dilation_rate), "groups": 1,
                "activation": activations_module.serialize(self.activation), "use_bias": self.use_bias,
                "kernel_initializer": initializers_module.serialize(self.kernel_initializer),
                "bias_initializer": initializers_module.serialize(self.bias_initializer),
                "kernel_regularizer": regularizers_module.serialize(self.kernel_regularizer),
                "bias_regularizer": regularizers_module.serialize(self.bias_regularizer),
                "activity_regularizer": regularizers_module.serialize(self.activity_regularizer),
                "kernel_constraint": None, "bias_constraint": None}


class _Pooling2D(Layer):
    _kernel = None

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(**kwargs)
        if data_format not in (None, "channels_last"):
            raise NotImplementedError(f"{type(self).__name__}(data_format='channels_first') is not supported.")
        self.pool_size = K.pair(pool_size, "pool_size")
        self.strides = K.pair(strides, "strides") if strides is not None else self.pool_size
        self.padding = _padding(padding, type(self).__name__)

    def call(self, inputs):
        _check_image(self, inputs)
        return type(self)._kernel(inputs, self.pool_size, self.strides, self.padding.upper())   # (N, H', W', C)

    def get_config(self):
        return {**super().get_config(), "pool_size": tuple(self.pool_size), "padding": self.padding,
                "strides": tuple(self.strides), "data_format": "channels_last"}


class MaxPooling2D(_Pooling2D):
    """Maximum over each pool_size window (stride defaults to pool_size)."""
    _kernel = staticmethod(K.max_pool2d)


class AveragePooling2D(_Pooling2D):
    """Mean over each window; with 'same', padded positions are not counted (as TensorFlow)."""
    _kernel = staticmethod(K.avg_pool2d)


class _GlobalPooling2D(Layer):
    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.keepdims = bool(keepdims)

    def get_config(self):
        return {**super().get_config(), "data_format": "channels_last", "keepdims": self.keepdims}


class GlobalAveragePooling2D(_GlobalPooling2D):
    def call(self, inputs):
        _check_image(self, inputs)
        return inputs.mean(dim=(1, 2), keepdim=self.keepdims)             # (N, C)


class GlobalMaxPooling2D(_GlobalPooling2D):
    def call(self, inputs):
        _check_image(self, inputs)
        return inputs.amax(dim=(1, 2), keepdim=self.keepdims)             # (N, C)


MaxPool2D, AvgPool2D, Convolution2D = MaxPooling2D, AveragePooling2D, Conv2D
