"""Keras 3's own file formats, read and written without pickle.

    saving_api.py      save_model / load_model / save_weights / load_weights: the file name picks the format
    keras_zip.py       `.keras`: config.json, metadata.json and model.weights.h5 in a zip
    weights_h5.py      the weights file (`.weights.h5`, or inside `.keras`) at Keras' paths
    legacy_h5.py       the legacy HDF5 model file (`.h5`)
    configs.py         JSON configs read within limits; compile settings applied
    serialization.py   layers and models to and from config entries
"""
from course.keras.saving.configs import KERAS_VERSION, SavingError
from course.keras.saving.saving_api import load_model, load_weights, save_model, save_weights

__all__ = ["save_model", "load_model", "save_weights", "load_weights", "SavingError", "KERAS_VERSION"]
