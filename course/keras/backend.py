"""`keras.backend`: the few session-wide settings Keras code reads."""
from course.keras.layers.base import clear_session

__all__ = ["clear_session", "epsilon", "floatx", "image_data_format", "backend"]


def epsilon():
    """The fuzz factor Keras uses in cross-entropies (1e-7)."""
    return 1e-7


def floatx():
    """Keras' default float type: float64 inputs are cast to it."""
    return "float32"


def image_data_format():
    """Images are (batch, height, width, channels) here, as Keras' default."""
    return "channels_last"


def backend():
    return "torch"
