"""`tf.keras.layers`."""
from course.keras.layers import (Activation, AveragePooling2D, AvgPool2D, BatchNormalization, Conv2D, Convolution2D,
                                 Dense, Dropout, Flatten, GlobalAveragePooling2D, GlobalMaxPooling2D, Identity, Input,
                                 InputLayer, Layer, LeakyReLU, MaxPool2D, MaxPooling2D, ReLU, Reshape, Softmax)
from course.tf.keras._unsupported import module_getattr

__all__ = ["Layer", "Dense", "Activation", "Softmax", "ReLU", "LeakyReLU", "Identity", "Dropout", "Flatten",
           "Reshape", "Conv2D", "Convolution2D", "MaxPooling2D", "MaxPool2D", "AveragePooling2D", "AvgPool2D",
           "GlobalAveragePooling2D", "GlobalMaxPooling2D", "BatchNormalization", "Input", "InputLayer"]

__getattr__ = module_getattr(__name__, {"Conv1D": "Conv2D on (batch, 1, width, channels)",
                                        "Conv2DTranspose": "Conv2D", "Embedding": "Dense on one-hot inputs",
                                        "LSTM": "Dense layers", "GRU": "Dense layers", "SimpleRNN": "Dense layers",
                                        "LayerNormalization": "BatchNormalization",
                                        "Rescaling": "dividing the data by 255.0 before fit",
                                        "experimental": "the layers listed in dir(layers)",
                                        "Lambda": "a subclassed Layer with call()",
                                        "Concatenate": "a subclassed Model", "Add": "a subclassed Model"})
