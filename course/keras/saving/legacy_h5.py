"""Keras' legacy HDF5 model file (`model.save("m.h5")`), which Keras 3 still reads and writes.

One HDF5 file: attributes `model_config` (the model's JSON), `training_config` (compile settings,
each object as `{class_name, config}`), `keras_version`, `backend`; a group `model_weights` with
one group per layer (sorted by name) holding its weights under their paths
(`sequential/dense/kernel`), listed in the attribute `weight_names` in the legacy order (trainable
first). Keras also stores the optimizer's slots in `optimizer_weights`; they are not written here
and are ignored when read, so a loaded model compiles with a fresh optimizer. Writes are atomic.
"""
import json

import numpy as np

from course.atomic_file import atomic_write
from course.keras.hdf5_guard import h5py_module, open_checked
from course.keras.saving.configs import KERAS_VERSION, MAX_CONFIG_BYTES, SavingError, compile_saved, parse_config
from course.keras.saving.serialization import rebuild, serialize_model
from course.keras.saving.weights_h5 import weight_path

__all__ = ["save_model_h5", "load_model_h5"]


def _legacy(entry):
    """A Keras 3 serialized object as the legacy format writes it: {class_name, config}."""
    return {"class_name": entry["class_name"], "config": entry["config"]} if isinstance(entry, dict) else entry


def _layer_weights(layer):
    return list(layer.trainable_weights) + list(layer.non_trainable_weights)   # the legacy order


def save_model_h5(model, filepath):
    """Write `model` as a legacy `.h5` file."""
    h5py, entry, keras_version = h5py_module(), serialize_model(model), KERAS_VERSION
    cc = entry.get("compile_config") or {}
    training = None
    if cc:
        training = {"loss": _legacy(cc.get("loss")), "loss_weights": cc.get("loss_weights"),
                    "metrics": [_legacy(m) for m in cc.get("metrics") or [] if m is not None] or None,
                    "weighted_metrics": [_legacy(m) for m in cc.get("weighted_metrics") or [] if m is not None]
                    or None, "run_eagerly": False, "steps_per_execution": 1, "jit_compile": False,
                    "optimizer_config": _legacy(cc.get("optimizer"))}

    def write(tmp):
        with h5py.File(tmp, "w") as f:
            f.attrs["backend"] = "torch"
            f.attrs["keras_version"] = keras_version
            f.attrs["model_config"] = json.dumps({"class_name": entry["class_name"], "config": entry["config"]})
            if training is not None:
                f.attrs["training_config"] = json.dumps(training)
            group = f.create_group("model_weights")
            group.attrs["layer_names"] = np.array([layer.name.encode() for layer in model.layers], dtype=object)
            group.attrs["backend"] = "torch"
            group.attrs["keras_version"] = keras_version
            for layer in sorted(model.layers, key=lambda layer: layer.name):
                layer_group = group.create_group(layer.name)
                weights = _layer_weights(layer)
                layer_group.attrs["weight_names"] = np.array([weight_path(model, w).encode() for w in weights],
                                                             dtype=object) if weights else np.array([])
                for w in weights:
                    layer_group.create_dataset(weight_path(model, w), data=w.numpy())
            group.create_group("top_level_model_weights").attrs["weight_names"] = np.array([])
    atomic_write(filepath, write)


def _names(attr):
    return [n.decode() if isinstance(n, bytes) else str(n) for n in attr]


def _config_attr(f, name, filepath, *, model=True):
    """The JSON attribute `name` parsed with the .keras config's limits. HDF5 stores attributes
    uncompressed, so a big one is as big on disk; a fixed-size one is refused before it is read."""
    size = f.attrs.get_id(name).get_storage_size()
    if size > MAX_CONFIG_BYTES:
        raise SavingError(f"{filepath}: attribute {name!r} is {size:,} bytes; a model config is at most "
                          f"{MAX_CONFIG_BYTES:,}. The file is corrupt or not a Keras model.")
    raw = f.attrs[name]
    if isinstance(raw, np.ndarray) and raw.shape == ():
        raw = raw[()]
    if not isinstance(raw, (str, bytes)):
        raise SavingError(f"{filepath}: attribute {name!r} should be JSON text; got {type(raw).__name__}. The file "
                          "is corrupt or not a Keras model.")
    return parse_config(raw, f"{filepath}: attribute {name!r}", model=model)


def _part(parent, key, filepath, kind):
    """`parent[key]`, checked to be a `kind` ('Group' or 'Dataset'), or a SavingError naming what is missing."""
    h5py = h5py_module()
    obj = parent.get(key) if isinstance(key, str) and key else None
    if not isinstance(obj, getattr(h5py, kind)):
        where = f"{parent.name.rstrip('/')}/{key}"
        why = "every legacy .h5 model file has one" if key == "model_weights" else "the file's own lists name it"
        raise SavingError(f"{filepath}: the HDF5 {kind.lower()} {where!r} is missing or is not a {kind.lower()}, "
                          f"though {why}. The file is corrupt or was not written by model.save('name.h5').")
    return obj


def _names_attr(obj, attr, filepath):
    if attr not in obj.attrs:
        raise SavingError(f"{filepath}: {obj.name!r} lacks the attribute {attr!r} that lists its contents; the file is "
                          "corrupt or was not written by model.save('name.h5').")
    return _names(np.atleast_1d(obj.attrs[attr]))


def load_model_h5(filepath, custom_objects=None, compile=True):
    """A model from a legacy `.h5` file written here or by Keras (2 or 3)."""
    error = SavingError
    f, values = open_checked(filepath, filepath, error)
    with f:
        if "model_config" not in f.attrs:
            raise error(f"{filepath} holds no model_config: it is a weights-only file. Build the model and call "
                        f"model.load_weights(...) instead.")
        entry = _config_attr(f, "model_config", filepath)
        training = _config_attr(f, "training_config", filepath, model=False) if (
            compile and "training_config" in f.attrs) else None
        group = _part(f, "model_weights", filepath, "Group")
        stored = {}                                  # layer name -> its weight datasets, all present
        for name in _names_attr(group, "layer_names", filepath):
            layer_group = _part(group, name, filepath, "Group")
            weights = [_part(layer_group, w, filepath, "Dataset")
                       for w in _names_attr(layer_group, "weight_names", filepath)]
            if weights:
                stored[name] = weights
        saved = list(stored)
        model = rebuild(entry, custom_objects, values, filepath)
        layers = [layer for layer in model.layers if _layer_weights(layer)]
        if len(saved) != len(layers):
            raise error(f"{filepath}: the file has weights for {len(saved)} layers, the model {len(layers)}.")
        ready = []                                   # everything checked first, assigned after
        for name, layer in zip(saved, layers):
            values = [np.asarray(ds) for ds in stored[name]]
            targets = _layer_weights(layer)
            if [v.shape for v in values] != [tuple(t.shape) for t in targets]:
                raise error(f"{filepath}: layer {name!r} holds weights of shapes {[v.shape for v in values]}; the "
                            f"model's {layer.name!r} needs {[tuple(t.shape) for t in targets]}.")
            ready.extend(zip(targets, values))
        for target, value in ready:
            target.assign(value)
    if training:                                     # the .keras compile config, but "optimizer_config"
        compile_saved(model, {**training, "optimizer": training.get("optimizer_config")}, filepath)
        model.optimizer._built_from_file = True      # Keras 3.15 builds it (iterations, learning_rate) and
    return model                                     # its summary() shows "Optimizer params: 2 (12.00 B)"
