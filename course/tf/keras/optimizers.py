"""`tf.keras.optimizers`."""
from course.keras.optimizers import SGD, Adagrad, Adam, AdamW, Optimizer, RMSprop, get, schedules, serialize
from course.tf.keras._unsupported import module_getattr

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "get", "serialize", "schedules"]

__getattr__ = module_getattr(__name__, {"Adadelta": "Adam", "Adamax": "Adam", "Nadam": "Adam", "Ftrl": "Adagrad",
                                        "legacy": "the Keras 3 optimizers in this module"})
