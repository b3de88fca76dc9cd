"""The Keras-style engine: layers, models, `compile`/`fit`/`evaluate`/`predict`, callbacks, saving.

Layers are `torch.nn.Module`s holding `course.tape.Variable` weights in Keras' layouts; the
loops run on plain tensors and call hooks (`callbacks.py`). The TensorFlow-shaped names users
import live in `course.tf.keras`; this package is the implementation.
"""
from course.keras import activations, callbacks, initializers, losses, metrics, optimizers, regularizers
from course.keras import layers
from course.keras.functional import Functional
from course.keras.layers import Input, InputLayer, Layer
from course.keras.layers.base import clear_session
from course.keras.model import Model
from course.keras.sequential import Sequential

__all__ = ["Model", "Sequential", "Functional", "Input", "InputLayer", "Layer", "layers", "activations",
           "callbacks", "initializers", "losses", "metrics", "optimizers", "regularizers", "clear_session",
           "load_model"]


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """Load a `.keras` file saved here or by Keras 3 (see `course.keras.saving`)."""
    from course.keras.saving import load_model as _load
    return _load(filepath, custom_objects=custom_objects, compile=compile, safe_mode=safe_mode)
