"""`tf.keras.optimizers`."""
from course.keras.optimizers import SGD, Adagrad, Adam, AdamW, Optimizer, RMSprop, get, schedules, serialize
from course.tf._unsupported import module_getattr

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "get", "serialize", "schedules"]

__getattr__, __dir__ = module_getattr(__name__, globals(), hints={
    "Adadelta": "Use Adam instead.",
    "Adamax": "Use Adam instead.",
    "Nadam": "Use Adam instead.",
    "Ftrl": "Use Adagrad instead.",
    "legacy": "Use the Keras 3 optimizers of tf.keras.optimizers.",
})
