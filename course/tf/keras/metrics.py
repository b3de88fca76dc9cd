"""`tf.keras.metrics`."""
from course.keras.metrics import (Accuracy, BinaryAccuracy, BinaryCrossentropy, CategoricalAccuracy,
                                  CategoricalCrossentropy, Mean, MeanAbsoluteError, MeanMetricWrapper,
                                  MeanSquaredError, Metric, Precision, Recall, RootMeanSquaredError,
                                  SparseCategoricalAccuracy, SparseCategoricalCrossentropy, SparseTopKCategoricalAccuracy,
                                  Sum, TopKCategoricalAccuracy, get)
from course.tf.keras._unsupported import module_getattr

__all__ = ["Metric", "Mean", "Sum", "MeanMetricWrapper", "Accuracy", "BinaryAccuracy", "CategoricalAccuracy",
           "SparseCategoricalAccuracy", "TopKCategoricalAccuracy", "SparseTopKCategoricalAccuracy", "MeanSquaredError",
           "MeanAbsoluteError", "RootMeanSquaredError", "SparseCategoricalCrossentropy", "CategoricalCrossentropy",
           "BinaryCrossentropy", "Precision", "Recall", "get"]

__getattr__ = module_getattr(__name__, {"AUC": "Precision and Recall", "F1Score": "Precision and Recall"})
