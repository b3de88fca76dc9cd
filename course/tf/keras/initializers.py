"""`tf.keras.initializers`."""
from course.keras.initializers import (Constant, GlorotNormal, GlorotUniform, HeNormal, HeUniform, Initializer,
                                       LecunNormal, LecunUniform, Ones, Orthogonal, RandomNormal, RandomUniform,
                                       TruncatedNormal, VarianceScaling, Zeros, get, serialize)
from course.initializers import (constant, glorot_normal, glorot_uniform, he_normal, he_uniform, lecun_normal,
                                 lecun_uniform, ones, random_normal, random_uniform, truncated_normal, zeros)
from course.tf._unsupported import module_getattr

__all__ = ["Initializer", "Zeros", "Ones", "Constant", "RandomNormal", "RandomUniform", "TruncatedNormal",
           "VarianceScaling", "GlorotNormal", "GlorotUniform", "HeNormal", "HeUniform", "LecunNormal", "LecunUniform",
           "Orthogonal", "get", "serialize", "constant", "glorot_normal", "glorot_uniform", "he_normal", "he_uniform",
           "lecun_normal", "lecun_uniform", "ones", "random_normal", "random_uniform", "truncated_normal", "zeros"]

__getattr__, __dir__ = module_getattr(__name__, globals(), hints={
    "Identity": "Use Orthogonal instead.",
})
