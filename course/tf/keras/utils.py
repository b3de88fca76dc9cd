"""`tf.keras.utils`."""
from course.device import seed as set_random_seed
from course.keras.encoding import normalize, to_categorical
from course.tf.keras._unsupported import module_getattr

__all__ = ["to_categorical", "normalize", "set_random_seed"]

__getattr__ = module_getattr(__name__, {"plot_model": "model.summary()",
                                        "image_dataset_from_directory": "course.data or tf.data.Dataset"})
