"""`tf.keras.models`."""
from course.keras import Model, Sequential, load_model
from course.keras.saving.saving_api import save_model
from course.tf._unsupported import module_getattr

__all__ = ["Sequential", "Model", "load_model", "save_model"]

__getattr__, __dir__ = module_getattr(__name__, globals(), hints={
    "clone_model": "Build the model again and copy the weights with model.set_weights(other.get_weights()).",
    "model_from_json": "Use load_model('model.keras') instead.",
})
