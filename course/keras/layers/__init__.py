"""Keras layers (channels-last), on the shared kernels of `course.layers`."""
from course.keras.layers.base import Layer
from course.keras.layers.convolutional import (AveragePooling2D, AvgPool2D, Conv2D, Convolution2D,
                                               GlobalAveragePooling2D, GlobalMaxPooling2D, MaxPool2D, MaxPooling2D)
from course.keras.layers.core import (Activation, Dense, Dropout, Flatten, Identity, LeakyReLU, ReLU, Reshape,
                                      Softmax)
from course.keras.layers.functional import Input, InputLayer
from course.keras.layers.lambda_layer import Lambda
from course.keras.layers.merging import Add, Average, Concatenate, Maximum, Minimum, Multiply, Subtract
from course.keras.layers.normalization import BatchNormalization
from course.keras.layers.preprocessing import (Normalization, RandomBrightness, RandomContrast, RandomCrop,
                                               RandomFlip, RandomRotation, RandomTranslation, RandomZoom, Rescaling,
                                               Resizing)

__all__ = ["Layer", "Dense", "Activation", "Softmax", "ReLU", "LeakyReLU", "Identity", "Dropout", "Flatten",
           "Reshape", "Conv2D", "Convolution2D", "MaxPooling2D", "MaxPool2D", "AveragePooling2D", "AvgPool2D",
           "GlobalAveragePooling2D", "GlobalMaxPooling2D", "BatchNormalization", "Input", "InputLayer",
           "Rescaling", "Resizing", "Normalization", "RandomFlip", "RandomRotation", "RandomZoom", "RandomTranslation",
           "RandomCrop", "RandomContrast", "RandomBrightness", "Lambda", "Add", "Subtract", "Multiply", "Average",
           "Maximum", "Minimum", "Concatenate"]

CLASSES = {name: globals()[name] for name in __all__ if isinstance(globals()[name], type)}
