"""`tf.keras.models`."""
from course.keras import Model, Sequential, load_model
from course.keras.saving import save_model
from course.tf.keras._unsupported import module_getattr

__all__ = ["Sequential", "Model", "load_model", "save_model"]

__getattr__ = module_getattr(__name__, {"clone_model": "building the model again and model.set_weights(...)",
                                        "model_from_json": "load_model('model.keras')"})
