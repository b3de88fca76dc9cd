"""`tf.keras.activations`."""
from course.keras.activations import (elu, exponential, gelu, get, hard_sigmoid, leaky_relu, linear, log_softmax, mish,
                                      relu, relu6, selu, serialize, sigmoid, silu, softmax, softplus, softsign, swish,
                                      tanh)
from course.tf._unsupported import module_getattr

__all__ = ["get", "serialize", "relu", "sigmoid", "softmax", "tanh", "linear", "elu", "selu", "softplus", "softsign",
           "swish", "silu", "gelu", "exponential", "leaky_relu", "relu6", "log_softmax", "hard_sigmoid", "mish"]

__getattr__, __dir__ = module_getattr(__name__, globals())
