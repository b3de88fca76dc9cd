"""`tf.keras`: Keras 3's names, on the course.keras engine."""
from course.keras import Input, Model, Sequential
from course.tf.keras import (activations, backend, callbacks, config, datasets, initializers, layers, losses, metrics,
                             models, ops, optimizers, regularizers, saving, utils)
from course.tf._unsupported import module_getattr

__all__ = ["Sequential", "Model", "Input", "layers", "models", "optimizers", "losses", "metrics", "callbacks",
           "datasets", "utils", "initializers", "regularizers", "activations", "backend", "ops", "saving", "config"]

__getattr__, __dir__ = module_getattr(__name__, globals(), hints={
    "applications": "Use a model built from keras.layers instead.",
    "preprocessing": "Preprocess with numpy, or use tf.data.Dataset.",
    "mixed_precision": "Only float32 is supported.",
})
