"""`tf.keras.config`: the switches the facade has (floatx is always float32)."""
from course.keras.backend import backend, epsilon, floatx
from course.keras.registration import enable_unsafe_deserialization
from course.tf._unsupported import module_getattr

__all__ = ["enable_unsafe_deserialization", "floatx", "epsilon", "backend"]


__getattr__, __dir__ = module_getattr(__name__, globals(), hints={
    "set_floatx": "Only float32 is supported.",
})
