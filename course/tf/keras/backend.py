"""`tf.keras.backend`."""
from course.keras.backend import backend, clear_session, epsilon, floatx, image_data_format
from course.tf.keras._unsupported import module_getattr

__all__ = ["clear_session", "epsilon", "floatx", "image_data_format", "backend"]

__getattr__ = module_getattr(__name__, {"set_floatx": "float32 (the only float type supported)",
                                        "get_session": "eager code, or course.tf.compat.v1.Session for graphs"})
