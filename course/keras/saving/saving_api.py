"""`save_model`, `load_model`, `save_weights`, `load_weights`: the file name picks the format.

    name.keras        Keras 3's zip (keras_zip.py)
    name.h5 / .hdf5   the legacy HDF5 model file (legacy_h5.py)
    name.weights.h5   the weights alone (weights_h5.py)
"""
import os

from course.atomic_file import atomic_write
from course.keras.hdf5_guard import open_checked
from course.keras.saving import keras_zip, legacy_h5, weights_h5
from course.keras.saving.configs import SavingError

__all__ = ["save_model", "load_model", "save_weights", "load_weights"]


def _is_legacy(filepath):
    return filepath.endswith((".h5", ".hdf5")) and not filepath.endswith(".weights.h5")


def save_model(model, filepath, overwrite=True, **kwargs):
    """Write `model` as a Keras 3 `.keras` zip, or as a legacy `.h5` file; atomically."""
    filepath = os.fspath(filepath)
    legacy = _is_legacy(filepath)
    if not filepath.endswith(".keras") and not legacy:
        raise ValueError(f"model.save: the file name must end in '.keras' (Keras 3 format) or '.h5' (the legacy "
                         f"HDF5 format); got {filepath!r}. For weights only use model.save_weights('name.weights.h5').")
    if os.path.exists(filepath) and not overwrite:
        raise FileExistsError(f"{filepath} exists; pass overwrite=True to replace it.")
    if not model.built:
        raise ValueError(f"Model {model.name!r} is not built, so it has no weights to save yet; give it an input "
                         "shape or call it on data first.")
    if legacy:
        return legacy_h5.save_model_h5(model, filepath)
    keras_zip.save_keras(model, filepath)


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """A model from a `.keras` file (saved here or by Keras 3), weights and optimizer state included,
    or from a legacy `.h5` file."""
    filepath = os.fspath(filepath)
    if filepath.endswith((".h5", ".hdf5")):
        if not os.path.exists(filepath):
            raise FileNotFoundError(f"No such file: {filepath}")
        return legacy_h5.load_model_h5(filepath, custom_objects, compile=compile)
    return keras_zip.load_keras(filepath, custom_objects, compile=compile, safe_mode=safe_mode)


def save_weights(model, filepath, overwrite=True):
    """Write the weights to a Keras 3 `.weights.h5` file (atomically)."""
    filepath = os.fspath(filepath)
    if not filepath.endswith(".weights.h5"):
        raise ValueError(f"save_weights: the file name must end in '.weights.h5' (Keras 3); got {filepath!r}.")
    if os.path.exists(filepath) and not overwrite:
        raise FileExistsError(f"{filepath} exists; pass overwrite=True to replace it.")
    atomic_write(filepath, lambda tmp: weights_h5.write_h5(model, tmp, include_optimizer=True))


def load_weights(model, filepath, skip_mismatch=False):
    """Load weights from a `.weights.h5` file or from the weights inside a `.keras` file."""
    filepath = os.fspath(filepath)
    if not os.path.exists(filepath):
        raise FileNotFoundError(f"No such file: {filepath}")
    if filepath.endswith(".keras"):
        return keras_zip.load_weights_from_keras(model, filepath, skip_mismatch=skip_mismatch)
    if not filepath.endswith(".h5"):
        raise ValueError(f"load_weights: expected a '.weights.h5' or '.keras' file; got {filepath!r}.")
    if not model.built:
        raise ValueError(f"Model {model.name!r} is not built: its weights do not exist yet. Build it first (an Input, "
                         "input_shape=..., or one call on data), then load_weights.")
    f, _ = open_checked(filepath, filepath, SavingError)
    with f:
        weights_h5.read_h5(model, f, skip_mismatch=skip_mismatch, source=filepath)
