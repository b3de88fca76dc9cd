"""`tf.keras.metrics`."""
from course.keras.metrics import (Accuracy, BinaryAccuracy, BinaryCrossentropy, CategoricalAccuracy,
                                  CategoricalCrossentropy, Mean, MeanAbsoluteError, MeanMetricWrapper,
                                  MeanSquaredError, Metric, Precision, Recall, RootMeanSquaredError,
                                  SparseCategoricalAccuracy, SparseCategoricalCrossentropy,
                                  SparseTopKCategoricalAccuracy,
                                  Sum, TopKCategoricalAccuracy, get)
from course.tf._unsupported import module_getattr

__all__ = ["Metric", "Mean", "Sum", "MeanMetricWrapper", "Accuracy", "BinaryAccuracy", "CategoricalAccuracy",
           "SparseCategoricalAccuracy", "TopKCategoricalAccuracy", "SparseTopKCategoricalAccuracy", "MeanSquaredError",
           "MeanAbsoluteError", "RootMeanSquaredError", "SparseCategoricalCrossentropy", "CategoricalCrossentropy",
           "BinaryCrossentropy", "Precision", "Recall", "get"]

__getattr__, __dir__ = module_getattr(__name__, globals(), hints={
    "AUC": "Use Precision and Recall instead.",
    "F1Score": "Use Precision and Recall instead.",
})
