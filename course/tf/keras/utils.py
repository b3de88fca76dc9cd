"""`tf.keras.utils`."""
from course.tape.random import set_seed as set_random_seed    # tf.random.set_seed + Python + numpy
from course.keras.directory_datasets import image_dataset_from_directory, text_dataset_from_directory
from course.keras.encoding import normalize, to_categorical
from course.keras.get_file import get_file
from course.keras.registration import register_keras_serializable
from course.tf._unsupported import module_getattr

__all__ = ["to_categorical", "normalize", "set_random_seed", "get_file", "register_keras_serializable",
           "image_dataset_from_directory", "text_dataset_from_directory"]

__getattr__, __dir__ = module_getattr(__name__, globals(), hints={
    "plot_model": "Use model.summary() instead.",
})
