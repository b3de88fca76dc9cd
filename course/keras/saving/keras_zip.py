"""The `.keras` file: a zip of three members, read and written without pickle.

    config.json        the model's class and config (layers, build shapes, compile settings)
    metadata.json      {"keras_version": ..., "date_saved": ...}
    model.weights.h5   every weight, at Keras' paths (see weights_h5.py)

A model saved by Keras 3 with the layers supported here loads here with the same predictions, and
the other way round. Writes are atomic (a temporary file, then os.replace); loading checks the zip
members, parses JSON only, and reports a corrupt or foreign file in one clear error. A file is read
within limits: no member may expand more than 100-fold past 64 MiB (a zip bomb), config.json is at
most 32 MiB and 100 levels deep (configs.py), and a model rebuilt from a config may not ask for more
weight values than its weights file holds (checked before memory is allocated).
"""
import datetime
import json
import os
import tempfile
import zipfile
import zlib

from course.atomic_file import atomic_write
from course.keras.hdf5_guard import open_checked
from course.keras.registration import safe_mode_scope
from course.keras.saving import weights_h5
from course.keras.saving.configs import KERAS_VERSION, MAX_CONFIG_BYTES, SavingError, compile_saved, parse_config
from course.keras.saving.serialization import rebuild, serialize_model

__all__ = ["save_keras", "load_keras", "load_weights_from_keras", "ZIP_EXPANSION", "ZIP_FLOOR"]

ZIP_EXPANSION, ZIP_FLOOR = 100, 64 << 20    # Keras stores members uncompressed: ratio 1
_CONFIG, _METADATA, _WEIGHTS = "config.json", "metadata.json", "model.weights.h5"


def save_keras(model, filepath):
    """Write `model` as a Keras 3 `.keras` zip, atomically."""
    config = json.dumps(serialize_model(model))
    metadata = json.dumps({"keras_version": KERAS_VERSION,
                           "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S")})

    def write(tmp):
        weights_tmp = tmp + ".h5"
        try:
            weights_h5.write_h5(model, weights_tmp, include_optimizer=True)
            with zipfile.ZipFile(tmp, "w") as z:
                z.writestr(_METADATA, metadata)
                z.writestr(_CONFIG, config)
                z.write(weights_tmp, _WEIGHTS)
        finally:
            if os.path.exists(weights_tmp):
                os.remove(weights_tmp)
    atomic_write(filepath, write)


def _open_keras_zip(filepath):
    if os.path.isdir(filepath):
        raise SavingError(f"{filepath} is a folder, not a '.keras' file. Pass the path of the file model.save() "
                          "wrote (a zip archive).")
    if not os.path.exists(filepath):
        raise FileNotFoundError(f"No such file: {filepath}")
    try:
        z = zipfile.ZipFile(filepath)
    except zipfile.BadZipFile:
        raise SavingError(f"{filepath} is not a Keras 3 '.keras' file (not a zip archive; corrupt, truncated, or "
                          "an old HDF5 '.h5' model?). Save it again with model.save('name.keras').") from None
    names = set(z.namelist())
    missing = {_CONFIG, _WEIGHTS} - names
    if missing:
        z.close()
        raise SavingError(f"{filepath} is a zip but not a Keras 3 model: it lacks {sorted(missing)} "
                          f"(has {sorted(names)[:6]}).")
    return z


_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError)


def _member(z, name, filepath):
    """The zip entry `name`, refused if it is a decompression bomb."""
    info = z.getinfo(name)
    if info.file_size > ZIP_FLOOR and info.file_size > ZIP_EXPANSION * max(info.compress_size, 1):
        raise SavingError(f"Not allowed: {filepath}: member {name!r} declares {info.file_size:,} bytes but stores "
                          f"only {info.compress_size:,}; refusing a decompression bomb (Keras stores members "
                          "uncompressed). Save the model again with model.save().")
    return info


def _read_config(z, filepath):
    info = _member(z, _CONFIG, filepath)
    where = f"{filepath}: config.json"
    if info.file_size > MAX_CONFIG_BYTES:
        raise SavingError(f"{where} is {info.file_size:,} bytes; a model config is at most {MAX_CONFIG_BYTES:,}. "
                          "The file is corrupt or not a Keras model.")
    try:
        with z.open(info) as f:
            raw = f.read(MAX_CONFIG_BYTES + 1)           # never more, whatever the header says
    except _ZIP_ERRORS as exc:
        raise SavingError(f"{where} is unreadable ({exc}); the file is corrupt.") from None
    return parse_config(raw, where)


def _extract_weights(z, filepath, folder):
    """The weights member copied to `folder`, at most the size its header declares."""
    info = _member(z, _WEIGHTS, filepath)
    out = os.path.join(folder, _WEIGHTS)
    try:
        with z.open(info) as src, open(out, "wb") as dst:
            written = 0
            while chunk := src.read(1 << 20):
                written += len(chunk)
                if written > info.file_size:
                    raise SavingError(f"{filepath}: member {_WEIGHTS!r} holds more than the {info.file_size:,} "
                                      "bytes it declares; the file is corrupt or hostile.")
                dst.write(chunk)
    except _ZIP_ERRORS as exc:
        raise SavingError(f"{filepath}: the weights member is unreadable ({exc}); the file is corrupt.") from None
    return out


def load_keras(filepath, custom_objects=None, compile=True, safe_mode=True):
    """A model from a `.keras` file (saved here or by Keras 3), weights and optimizer state included."""
    with _open_keras_zip(filepath) as z, tempfile.TemporaryDirectory() as tmp:
        entry = _read_config(z, filepath)
        f, values = open_checked(_extract_weights(z, filepath, tmp), filepath, SavingError)
        with f:
            with safe_mode_scope(safe_mode):         # a Lambda's stored code loads only with safe_mode=False
                model = rebuild(entry, custom_objects, values, filepath)
            compile_config = entry.get("compile_config") or {}
            if compile and compile_config:
                compile_saved(model, compile_config, filepath)
            weights_h5.read_h5(model, f, load_optimizer=compile and bool(compile_config), source=filepath)
    return model


def load_weights_from_keras(model, filepath, skip_mismatch=False):
    """Load into `model` the weights inside a `.keras` file."""
    with _open_keras_zip(filepath) as z, tempfile.TemporaryDirectory() as tmp:
        f, _ = open_checked(_extract_weights(z, filepath, tmp), filepath, SavingError)
        with f:
            weights_h5.read_h5(model, f, skip_mismatch=skip_mismatch, source=filepath)
