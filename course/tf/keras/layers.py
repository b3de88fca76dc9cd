"""`tf.keras.layers`."""
from course.keras.layers import (Activation, Add, Average, AveragePooling2D, AvgPool2D, BatchNormalization,
                                 Concatenate, Conv2D, Convolution2D, Dense, Dropout, Flatten, GlobalAveragePooling2D,
                                 GlobalMaxPooling2D, Identity, Input, InputLayer, Lambda, Layer, LeakyReLU, MaxPool2D,
                                 Maximum, MaxPooling2D, Minimum, Multiply, Normalization, RandomBrightness,
                                 RandomContrast, RandomCrop, RandomFlip, RandomRotation, RandomTranslation, RandomZoom,
                                 ReLU, Rescaling, Reshape, Resizing, Softmax, Subtract)
from course.tf._unsupported import module_getattr

__all__ = ["Layer", "Dense", "Activation", "Softmax", "ReLU", "LeakyReLU", "Identity", "Dropout", "Flatten",
           "Reshape", "Conv2D", "Convolution2D", "MaxPooling2D", "MaxPool2D", "AveragePooling2D", "AvgPool2D",
           "GlobalAveragePooling2D", "GlobalMaxPooling2D", "BatchNormalization", "Input", "InputLayer",
           "Rescaling", "Resizing", "Normalization", "RandomFlip", "RandomRotation", "RandomZoom", "RandomTranslation",
           "RandomCrop", "RandomContrast", "RandomBrightness", "Lambda", "Add", "Subtract", "Multiply", "Average",
           "Maximum", "Minimum", "Concatenate"]

__getattr__, __dir__ = module_getattr(__name__, globals(), hints={
    "Conv1D": "Use Conv2D on (batch, 1, width, channels) instead.",
    "Conv2DTranspose": "Use Conv2D instead.",
    "Embedding": "Use Dense on one-hot inputs instead.",
    "LSTM": "Use Dense layers instead.",
    "GRU": "Use Dense layers instead.",
    "SimpleRNN": "Use Dense layers instead.",
    "LayerNormalization": "Use BatchNormalization instead.",
    "experimental": "See dir(tf.keras.layers) for the supported layers.",
})
