"""`tf.keras.losses`."""
from course.keras.losses import (BinaryCrossentropy, CategoricalCrossentropy, Hinge, Loss, MeanAbsoluteError,
                                 MeanSquaredError, SparseCategoricalCrossentropy, SquaredHinge, binary_crossentropy,
                                 categorical_crossentropy, get, hinge, mae, mean_absolute_error, mean_squared_error,
                                 mse, serialize, sparse_categorical_crossentropy, squared_hinge)
from course.tf.keras._unsupported import module_getattr

__all__ = ["Loss", "SparseCategoricalCrossentropy", "CategoricalCrossentropy", "BinaryCrossentropy",
           "MeanSquaredError", "MeanAbsoluteError", "Hinge", "SquaredHinge", "sparse_categorical_crossentropy",
           "categorical_crossentropy", "binary_crossentropy", "mean_squared_error", "mean_absolute_error", "mse",
           "mae", "hinge", "squared_hinge", "get", "serialize"]

__getattr__ = module_getattr(__name__, {"Huber": "MeanSquaredError", "KLDivergence": "CategoricalCrossentropy",
                                        "CategoricalHinge": "Hinge", "LogCosh": "MeanSquaredError"})
