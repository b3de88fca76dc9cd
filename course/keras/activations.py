"""Keras activations by name, on plain torch tensors.

`softmax` and `sigmoid` remember their input as `out._keras_logits`, as Keras 3 does on
TensorFlow, so that a cross-entropy on their output can use the logits (a log of a saturated
softmax would otherwise lose everything below float32's resolution).
"""
import torch
import torch.nn.functional as F

from course.framework.identifiers import Registry

__all__ = ["get", "serialize", "relu", "sigmoid", "softmax", "tanh", "linear", "elu", "selu", "softplus",
           "softsign", "swish", "silu", "gelu", "exponential", "leaky_relu", "relu6", "log_softmax",
           "hard_sigmoid", "mish"]


def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """max(x, 0), with Keras' optional slope below 0 and cap."""
    if negative_slope == 0.0 and max_value is None and threshold == 0.0:
        return torch.relu(x)
    y = torch.where(x >= threshold, x, negative_slope * (x - threshold))
    return y.clamp(max=max_value) if max_value is not None else y


def softmax(x, axis=-1):
    """exp(x_i) / sum_j exp(x_j) along `axis`; the logits ride along for cross-entropy."""
    out = torch.softmax(x, dim=axis)
    out._keras_logits = x
    return out


def sigmoid(x):
    """1 / (1 + exp(-x)); the logits ride along for binary cross-entropy."""
    out = torch.sigmoid(x)
    out._keras_logits = x
    return out


def log_softmax(x, axis=-1):
    return torch.log_softmax(x, dim=axis)


def tanh(x):
    return torch.tanh(x)


def linear(x):
    return x


def elu(x, alpha=1.0):
    return F.elu(x, alpha)


def selu(x):
    return F.selu(x)


def softplus(x):
    return F.softplus(x)


def softsign(x):
    return F.softsign(x)


def swish(x):
    return F.silu(x)


silu = swish


def gelu(x, approximate=False):
    return F.gelu(x, approximate="tanh" if approximate else "none")


def exponential(x):
    return torch.exp(x)


def leaky_relu(x, negative_slope=0.2):
    return F.leaky_relu(x, negative_slope)


def relu6(x):
    return F.relu6(x)


def hard_sigmoid(x):
    """Keras 3: relu6(x + 3) / 6."""
    return F.relu6(x + 3.0) / 6.0


def mish(x):
    return F.mish(x)


_BY_NAME = {f.__name__: f for f in (relu, sigmoid, softmax, tanh, linear, elu, selu, softplus, softsign, swish,
                                    gelu, exponential, leaky_relu, relu6, log_softmax, hard_sigmoid, mish)}
_BY_NAME["silu"] = swish


ACTIVATIONS = Registry("activation function", _BY_NAME, classes={}, ignore_case=True, none=linear)


def get(identifier):
    """A callable from a name ('relu'), None (linear) or a callable (returned as is)."""
    return ACTIVATIONS.get(identifier)


def serialize(fn) -> str:
    """The name Keras writes in a layer config ('relu', 'linear', ...)."""
    name = getattr(fn, "__name__", None)
    if name in _BY_NAME or name == "silu":
        return name
    raise ValueError(f"Cannot save activation {fn!r}: only the built-in activations {sorted(_BY_NAME)} can be "
                     "written to a .keras file.")
