"""`tf.keras.losses`."""
from course.keras.losses import (BinaryCrossentropy, CategoricalCrossentropy, Hinge, Loss, MeanAbsoluteError,
                                 MeanSquaredError, SparseCategoricalCrossentropy, SquaredHinge, binary_crossentropy,
                                 categorical_crossentropy, get, hinge, mae, mean_absolute_error, mean_squared_error,
                                 mse, serialize, sparse_categorical_crossentropy, squared_hinge)
from course.tf._unsupported import module_getattr

__all__ = ["Loss", "SparseCategoricalCrossentropy", "CategoricalCrossentropy", "BinaryCrossentropy",
           "MeanSquaredError", "MeanAbsoluteError", "Hinge", "SquaredHinge", "sparse_categorical_crossentropy",
           "categorical_crossentropy", "binary_crossentropy", "mean_squared_error", "mean_absolute_error", "mse",
           "mae", "hinge", "squared_hinge", "get", "serialize"]

__getattr__, __dir__ = module_getattr(__name__, globals(), hints={
    "Huber": "Use MeanSquaredError instead.",
    "KLDivergence": "Use CategoricalCrossentropy instead.",
    "CategoricalHinge": "Use Hinge instead.",
    "LogCosh": "Use MeanSquaredError instead.",
})
