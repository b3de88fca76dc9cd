"""`tf.keras.saving`: Keras 3's saving names (course.keras.saving, course.keras.registration)."""
from course.keras import load_model
from course.keras.registration import get_registered_name, get_registered_object, register_keras_serializable
from course.keras.saving.saving_api import save_model
from course.tf._unsupported import module_getattr

__all__ = ["load_model", "save_model", "register_keras_serializable", "get_registered_name", "get_registered_object"]

__getattr__, __dir__ = module_getattr(__name__, globals())
