"""`tf.keras.backend`."""
from course.keras.backend import backend, clear_session, epsilon, floatx, image_data_format
from course.tf._unsupported import module_getattr

__all__ = ["clear_session", "epsilon", "floatx", "image_data_format", "backend"]

__getattr__, __dir__ = module_getattr(__name__, globals(), hints={
    "set_floatx": "Only float32 is supported.",
    "get_session": "Write eager code, or use tf.compat.v1.Session for graphs.",
})
