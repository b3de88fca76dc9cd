"""Keras initializer names over `course.initializers` (the maths lives there), plus Keras configs.

`get` accepts what Keras accepts (a name, a class, an instance, a saved config dict, a callable);
`serialize` writes the config dict Keras 3 puts in a `.keras` file.
"""
import inspect

import course.initializers as I
from course.initializers import (Constant, GlorotNormal, GlorotUniform, HeNormal, HeUniform, Initializer,
                                 LecunNormal, LecunUniform, Ones, Orthogonal, RandomNormal, RandomUniform,
                                 TruncatedNormal, VarianceScaling, Zeros)

__all__ = ["Initializer", "Zeros", "Ones", "Constant", "RandomNormal", "RandomUniform", "TruncatedNormal",
           "VarianceScaling", "GlorotNormal", "GlorotUniform", "HeNormal", "HeUniform", "LecunNormal",
           "LecunUniform", "Orthogonal", "get", "serialize"]

# Keras 3 writes these extra (always-null) keys for the variance-scaling family.
_AXES_KEYS = {"input_axes": None, "output_axes": None}
_WITH_AXES = ("GlorotNormal", "GlorotUniform", "HeNormal", "HeUniform", "LecunNormal", "LecunUniform",
              "VarianceScaling")


def _from_config(cls, config):
    """Keras writes keys some classes here do not take (always null, e.g. the variance-scaling axes)."""
    accepted = inspect.signature(cls.__init__).parameters
    return cls(**{k: v for k, v in config.items() if k in accepted})


def get(identifier):
    """An initializer (callable `(shape, dtype)`) from anything Keras accepts."""
    return I.INITIALIZERS.get(identifier, from_config=_from_config)


def serialize(init):
    """Keras 3's config dict for an initializer."""
    name = type(init).__name__
    if name not in I.INITIALIZERS.classes:
        raise ValueError(f"Cannot save initializer {init!r}: only {sorted(I.INITIALIZERS.classes)} can be written "
                         "to a .keras file.")
    config = dict(init.get_config())
    if name in _WITH_AXES:
        config.update(_AXES_KEYS)
    return {"module": "keras.initializers", "class_name": name, "config": config, "registered_name": None}
