"""Keras 3's own file formats, read and written without pickle.

`.keras` is a zip of three members:
    config.json        the model's class and config (layers, build shapes, compile settings)
    metadata.json      {"keras_version": ..., "date_saved": ...}
    model.weights.h5   every weight as an HDF5 dataset at a path Keras derives from the model:
                       Sequential/Functional: layers/<layer name>/vars/<i>
                       subclassed models:     <attribute name>/vars/<i>  (then layers/<name> for the rest)
                       the optimizer:         optimizer/vars/<i>  (iterations, learning_rate, slots)
`.weights.h5` is the same HDF5 file on its own. A model saved by Keras 3 with the layers
supported here loads here with the same predictions, and the other way round.

Writes are atomic (a temporary file, then os.replace); loading checks the zip members, parses
JSON only, and reports a corrupt or foreign file in one clear error. A file is read within
limits: no member may expand more than 100-fold past 64 MiB (a zip bomb), config.json is at most
32 MiB and 100 levels deep, and a model rebuilt from a config may not ask for more weight values
than its weights file holds (checked before memory is allocated).
"""
import datetime
import inspect
import json
import os
import tempfile
import zipfile
import zlib

import numpy as np
import torch

from course.keras import losses as losses_module
from course.keras import metrics as metrics_module
from course.keras import optimizers as optimizers_module
from course.atomic_file import atomic_write
from course.keras.hdf5_guard import _h5py, open_checked
from course.keras.layers import CLASSES as LAYER_CLASSES
from course.keras.registration import REGISTRY, get_registered_name, safe_mode_scope
from course.keras.layers.base import Layer, no_dispatch, to_snake_case, weight_budget

__all__ = ["save_model", "load_model", "save_weights", "load_weights", "serialize_layer", "deserialize_layer",
           "serialize_model", "KERAS_VERSION", "SavingError"]

MAX_CONFIG_BYTES = 32 << 20     # a model config is kilobytes; this leaves room for thousands of layers
MAX_CONFIG_DEPTH = 100          # JSON nesting; a Keras config nests a few levels per sub-model
ZIP_EXPANSION, ZIP_FLOOR = 100, 64 << 20    # Keras stores members uncompressed: ratio 1
KERAS_VERSION = "3.15.1"        # the Keras release whose format this writes (read back by Keras >= 3.0)
_CONFIG, _METADATA, _WEIGHTS = "config.json", "metadata.json", "model.weights.h5"


class SavingError(ValueError):
    """A file that is not a readable Keras 3 model or weights file."""


# -- configs ----------------------------------------------------------------------------------------
def serialize_layer(layer):
    """{"module", "class_name", "config", "registered_name"[, "build_config"]} as Keras writes a layer."""
    from course.keras.model import Model
    if isinstance(layer, Model):
        return serialize_model(layer, compile_config=False)
    name = type(layer).__name__
    if LAYER_CLASSES.get(name) is not type(layer):
        entry = {"module": type(layer).__module__, "class_name": name, "config": layer.get_config(),
                 "registered_name": get_registered_name(type(layer))}
    else:
        entry = {"module": "keras.layers", "class_name": name, "config": layer.get_config(), "registered_name": None}
    if layer._own_weights or name == "Flatten":
        if layer._build_input_shape is not None:
            entry["build_config"] = {"input_shape": list(layer._build_input_shape)}
    return entry


def _model_classes():
    from course.keras.functional import Functional
    from course.keras.sequential import Sequential
    return {"Sequential": Sequential, "Functional": Functional, "Model": Functional}


def serialize_model(model, compile_config=True):
    from course.keras.functional import Functional
    from course.keras.sequential import Sequential
    if isinstance(model, Sequential):
        entry = {"module": "keras", "class_name": "Sequential", "config": model.get_config(), "registered_name": None}
        if model._build_input_shape is not None:
            entry["build_config"] = {"input_shape": list(model._build_input_shape)}
    elif isinstance(model, Functional):
        entry = {"module": "keras.src.models.functional", "class_name": "Functional", "config": model.get_config(),
                 "registered_name": "Functional", "build_config": {"input_shape": None}}
    else:
        name = type(model).__name__
        entry = {"module": None, "class_name": name, "config": model.get_config(),
                 "registered_name": get_registered_name(type(model))}
        if model._build_input_shape is not None:
            entry["build_config"] = {"input_shape": list(model._build_input_shape)}
    if compile_config:
        entry["compile_config"] = model._compile_config if model.compiled else {}
    return entry


def _accepted(cls):
    names = set()
    for klass in cls.__mro__:
        if klass in (object, torch.nn.Module):
            continue
        init = klass.__dict__.get("__init__")
        if init is not None:
            names |= set(inspect.signature(init).parameters)
    return names - {"self", "args", "kwargs"}


def deserialize_layer(entry, custom_objects=None):
    """A layer (or nested model) from Keras' config entry; unknown options with non-default values are refused."""
    if not isinstance(entry, dict) or "class_name" not in entry:
        raise SavingError(f"Not a Keras layer config: {str(entry)[:200]}")
    name = entry["class_name"]
    custom = (custom_objects or {})
    if name in ("Sequential", "Functional") or (name == "Model" and "layers" in entry.get("config", {})):
        return _model_classes()[name].from_config(entry["config"], custom_objects)
    cls = custom.get(name) or custom.get(entry.get("registered_name") or "") or \
        REGISTRY.get(entry.get("registered_name") or "") or LAYER_CLASSES.get(name)
    if cls is None:
        raise SavingError(f"Unknown layer class {name!r} in the saved config. Supported layers: "
                          f"{', '.join(sorted(LAYER_CLASSES))}; for your own classes pass custom_objects={{'{name}': {name}}}.")
    config = dict(entry.get("config", {}))
    if cls in LAYER_CLASSES.values():
        accepted = _accepted(cls)
        for key in list(config):
            if key not in accepted:
                value = config.pop(key)
                if value not in (None, False, 1, "channels_last", [1, 1]) and not (
                        isinstance(value, dict) and value.get("class_name") == "DTypePolicy"):
                    raise SavingError(f"Layer {config.get('name', name)!r} ({name}) uses {key}={value!r}, which is "
                                      "not supported here.")
    takes_custom = "custom_objects" in inspect.signature(cls.from_config).parameters      # Lambda's functions
    layer = cls.from_config(config, custom_objects=custom_objects) if takes_custom else cls.from_config(config)
    build = (entry.get("build_config") or {}).get("input_shape")
    if build is not None and not layer.built and hasattr(layer, "_build_input_shape"):
        from course.keras.layers.functional import dry_run_shape
        layer._output_shape = dry_run_shape(layer, tuple(build))
        layer._build_input_shape = tuple(build)
    return layer


def _deserialize_model(entry, custom_objects):
    name = entry.get("class_name")
    classes = _model_classes()
    if name in classes:
        return classes[name].from_config(entry["config"], custom_objects)
    cls = (custom_objects or {}).get(name) or (custom_objects or {}).get(entry.get("registered_name") or "") or \
        REGISTRY.get(entry.get("registered_name") or "")
    if cls is None:
        raise SavingError(f"The file holds a subclassed model {name!r}; pass its class to load it: "
                          f"load_model(path, custom_objects={{'{name}': {name}}}).")
    config = dict(entry.get("config") or {})
    config.pop("dtype", None)
    try:
        model = cls.from_config(config) if "from_config" in cls.__dict__ else cls(**config)
    except TypeError:
        model = cls()
    shape = (entry.get("build_config") or {}).get("input_shape")
    if shape is not None:
        model.build(tuple(shape))
    return model


# -- the weights file: Keras' paths -------------------------------------------------------------------
def weight_path(model, weight):
    """Keras 3's `variable.path` of one of `model`'s weights: 'sequential/dense/kernel'."""
    return f"{model.name}/{getattr(weight, 'path', None) or weight.name.split(':')[0]}"


def _layer_entries(model):
    """[(path, layer)] for every layer with a group in the file, in Keras' path scheme."""
    out, visited = [], set()

    def visit(obj, path):
        if id(obj) in visited:
            return
        visited.add(id(obj))
        out.append((path, obj))
        for child_path, child in _children(obj):
            visit(child, f"{path}/{child_path}" if path else child_path)

    def container(prefix, items):
        """Keras names the layers of a list by class (dense, dense_1, ...), not by their own names."""
        used = {}
        for layer in items:
            if not isinstance(layer, Layer):
                continue
            base = to_snake_case(type(layer).__name__)
            used[base] = used.get(base, -1) + 1
            name = base if used[base] == 0 else f"{base}_{used[base]}"
            if id(layer) not in visited:
                yield f"{prefix}/{name}", layer

    def _children(obj):
        from course.keras.functional import Functional
        from course.keras.model import Model
        from course.keras.sequential import Sequential
        if isinstance(obj, (Sequential, Functional)):
            yield from container("layers", obj.layers)
            return
        items = {name: getattr(obj, name) for name in obj._tracked}
        if isinstance(obj, Model):
            items["layers"] = obj._sublayers()
        for attr in sorted(items):
            value = items[attr]
            if isinstance(value, Layer):
                if id(value) not in visited:
                    yield attr, value
            elif isinstance(value, (list, tuple)):
                yield from container(attr, value)

    visit(model, "")
    return out


def _own_vars(layer):
    """A layer's variables in Keras' store order: trainable ones first, then the others."""
    own = layer._own_weights
    return [w for w in own if w._trainable] + [w for w in own if not w._trainable]


def _write_h5(model, path, include_optimizer):
    h5py = _h5py()
    with h5py.File(path, "w") as f:
        for prefix, layer in _layer_entries(model):
            group = f.create_group(f"{prefix}/vars" if prefix else "vars")
            group.attrs["name"] = layer.name
            for i, var in enumerate(_own_vars(layer)):
                group.create_dataset(str(i), data=var.numpy())
        opt = getattr(model, "optimizer", None)
        if include_optimizer and opt is not None and opt._rule.state:
            group = f.create_group("optimizer/vars")
            group.attrs["name"] = opt.name
            group.create_dataset("0", data=np.asarray(opt._rule.iterations, dtype=np.int64))
            group.create_dataset("1", data=np.asarray(float(opt._lr_var), dtype=np.float32))
            for index, slot, var in opt._keras_slots(model.trainable_variables):
                state = opt._rule.state.get(var)
                value = state[slot] if state is not None and slot in state else torch.zeros_like(var)
                with no_dispatch():
                    group.create_dataset(str(index), data=value.detach().cpu().numpy())


def _read_h5(model, f, *, skip_mismatch=False, load_optimizer=False, source="file"):
    """Copy the weights of the open, checked HDF5 file `f` into `model`. Every weight is read and
    checked first and assigned only after, so a file that does not fit changes nothing."""
    problems, ready = [], []
    for prefix, layer in _layer_entries(model):
        own = _own_vars(layer)
        if not own:
            continue
        key = f"{prefix}/vars" if prefix else "vars"
        group = f.get(key)
        if not isinstance(group, _h5py().Group):
            problems.append(f"no weights for layer {layer.name!r} (expected group {key!r})")
            continue
        stored = list(group.keys())
        if len(stored) != len(own) or not all(isinstance(group.get(str(i)), _h5py().Dataset) for i in range(len(own))):
            problems.append(f"layer {layer.name!r} has {len(own)} weights, the file has {len(stored)} at {key!r}")
            continue
        for i, var in enumerate(own):
            value = np.asarray(group[str(i)])
            if value.shape != tuple(var.shape):
                problems.append(f"{key}/{i}: file shape {value.shape}, layer {layer.name!r} weight "
                                f"{var._name} shape {tuple(var.shape)}")
                continue
            ready.append((var, value.astype(np.float32) if value.dtype != np.float32 else value))
    if problems and not skip_mismatch:
        raise SavingError(f"The weights in {source} do not fit this model (nothing was loaded):\n  - " +
                          "\n  - ".join(problems) +
                          "\nBuild the same architecture (same layers, units and input shape) before loading.")
    optimizer = None
    if load_optimizer and "optimizer/vars" in f and getattr(model, "optimizer", None) is not None:
        optimizer = _optimizer_state(model, f["optimizer/vars"])
    for var, value in ready:
        var.assign(value)
    if optimizer is not None:
        _set_optimizer_state(model, optimizer)


def _optimizer_state(model, group):
    """The optimizer's saved state, read and checked (None: another configuration, start it fresh as Keras warns)."""
    opt = model.optimizer
    variables = model.trainable_variables
    rows = opt._keras_slots(variables)
    if len(group.keys()) != 2 + len(rows) or not all(isinstance(group.get(str(i)), _h5py().Dataset)
                                                     for i in range(2 + len(rows))):
        return None
    iterations, lr = np.asarray(group["0"]), np.asarray(group["1"])
    if iterations.size != 1 or lr.size != 1:
        return None
    positions = {id(v): i for i, v in enumerate(variables)}
    state = {"form": "keras", "iterations": int(iterations.reshape(())), "state": {}}
    for index, slot, var in rows:
        value = np.asarray(group[str(index)])
        if value.shape != tuple(var.shape):
            return None
        st = state["state"].setdefault(positions[id(var)], {"step": state["iterations"]})
        st[slot] = torch.from_numpy(value)
    return state, float(lr.reshape(()))


def _set_optimizer_state(model, saved):
    state, lr = saved
    opt, variables = model.optimizer, model.trainable_variables
    opt._rule.iterations = state["iterations"]
    opt._lr_var.assign(torch.as_tensor(lr, dtype=torch.float32))
    opt._rule._order, opt._rule._known, opt._rule.state = [], set(), {}
    opt._rule.load_state_dict(state)
    for v in variables:                       # attach the slots to the variables now, in this order
        opt._rule._see(v)


# -- public API ----------------------------------------------------------------------------------------
def save_model(model, filepath, overwrite=True, **kwargs):
    """Write `model` as a Keras 3 `.keras` zip, or as a legacy `.h5` file (course.keras.legacy_h5); atomically."""
    filepath = os.fspath(filepath)
    legacy = filepath.endswith((".h5", ".hdf5")) and not filepath.endswith(".weights.h5")
    if not filepath.endswith(".keras") and not legacy:
        raise ValueError(f"model.save: the file name must end in '.keras' (Keras 3 format) or '.h5' (the legacy "
                         f"HDF5 format); got {filepath!r}. For weights only use model.save_weights('name.weights.h5').")
    if os.path.exists(filepath) and not overwrite:
        raise FileExistsError(f"{filepath} exists; pass overwrite=True to replace it.")
    if not model.built:
        raise ValueError(f"Model {model.name!r} is not built, so it has no weights to save yet; give it an input "
                         "shape or call it on data first.")
    if legacy:
        from course.keras.legacy_h5 import save_model_h5
        return save_model_h5(model, filepath)
    config = json.dumps(serialize_model(model))
    metadata = json.dumps({"keras_version": KERAS_VERSION,
                           "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S")})

    def write(tmp):
        weights_tmp = tmp + ".h5"
        try:
            _write_h5(model, weights_tmp, include_optimizer=True)
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


def parse_config(raw, where, *, model=True):
    """A model config (or, with model=False, any JSON object) from JSON text/bytes: size, nesting and
    shape checked, as one SavingError."""
    if len(raw) > MAX_CONFIG_BYTES:
        raise SavingError(f"{where} is {len(raw):,} bytes; a model config is at most {MAX_CONFIG_BYTES:,}. "
                          "The file is corrupt or not a Keras model.")
    try:
        entry = json.loads(raw)
    except RecursionError:
        raise SavingError(f"{where} is nested more than {MAX_CONFIG_DEPTH} levels deep; a Keras config never is. "
                          "The file is corrupt or hostile.") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise SavingError(f"{where} is not valid JSON ({exc}); the file is corrupt. Save the model again.") from None
    stack = [(entry, 1)]
    while stack:                                   # no recursion: the depth limit is the point
        value, depth = stack.pop()
        if depth > MAX_CONFIG_DEPTH:
            raise SavingError(f"{where} is nested more than {MAX_CONFIG_DEPTH} levels deep; a Keras config never "
                              "is. The file is corrupt or hostile.")
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    if not model and not isinstance(entry, dict):
        raise SavingError(f"{where} should hold a JSON object; got {type(entry).__name__}. The file is corrupt.")
    if model and (not isinstance(entry, dict) or not isinstance(entry.get("class_name"), str) or not isinstance(
            entry.get("config", {}), (dict, type(None)))):
        shown = type(entry).__name__ if not isinstance(entry, dict) else f"an object with keys {sorted(entry)[:6]}"
        raise SavingError(f"{where} should hold a Keras model config, a JSON object with 'class_name' and "
                          f"'config'; got {shown}. The file is corrupt or not a Keras model.")
    return entry


def rebuild(entry, custom_objects, values, source):
    """The model `entry` describes, built with at most `values` weight values (what its file holds);
    a config that cannot be built is reported as a SavingError naming `source`."""
    try:
        with weight_budget(values, source, SavingError):
            return _deserialize_model(entry, custom_objects)
    except SavingError:
        raise
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise SavingError(f"{source}: the saved model config cannot be rebuilt: {type(exc).__name__}: {exc}") from exc


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


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """A model from a `.keras` file (saved here or by Keras 3), weights and optimizer state included."""
    filepath = os.fspath(filepath)
    if filepath.endswith((".h5", ".hdf5")):
        if not os.path.exists(filepath):
            raise FileNotFoundError(f"No such file: {filepath}")
        from course.keras.legacy_h5 import load_model_h5
        return load_model_h5(filepath, custom_objects, compile=compile)
    with _open_keras_zip(filepath) as z, tempfile.TemporaryDirectory() as tmp:
        entry = _read_config(z, filepath)
        f, values = open_checked(_extract_weights(z, filepath, tmp), filepath, SavingError)
        with f:
            with safe_mode_scope(safe_mode):         # a Lambda's stored code loads only with safe_mode=False
                model = rebuild(entry, custom_objects, values, filepath)
            compile_config = entry.get("compile_config") or {}
            if compile and compile_config:
                compile_saved(model, compile_config, filepath)
            _read_h5(model, f, load_optimizer=compile and bool(compile_config), source=filepath)
    return model


def compile_saved(model, cc, source):
    """compile() `model` as its file says; a malformed compile config is a SavingError naming `source`."""
    if not isinstance(cc, dict):
        raise SavingError(f"{source}: the saved compile config should be a JSON object; got {type(cc).__name__}. "
                          "Load with compile=False and compile the model yourself.")
    try:
        _compile_from_config(model, cc)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise SavingError(f"{source}: the saved compile config cannot be used ({type(exc).__name__}: {exc}). Load "
                          "with compile=False and compile the model yourself.") from exc


def _compile_from_config(model, cc):
    optimizer = optimizers_module.get(cc.get("optimizer") or "rmsprop")
    loss = cc.get("loss")
    if isinstance(loss, dict):
        loss = losses_module.get(loss)
    metrics = cc.get("metrics")
    if isinstance(metrics, list):                    # strings and built-in metric configs; functions were not stored
        metrics = [metrics_module.get(m) if isinstance(m, dict) else m for m in metrics if m is not None]
    model.compile(optimizer=optimizer, loss=loss, metrics=metrics)


def save_weights(model, filepath, overwrite=True):
    """Write the weights to a Keras 3 `.weights.h5` file (atomically)."""
    filepath = os.fspath(filepath)
    if not filepath.endswith(".weights.h5"):
        raise ValueError(f"save_weights: the file name must end in '.weights.h5' (Keras 3); got {filepath!r}.")
    if os.path.exists(filepath) and not overwrite:
        raise FileExistsError(f"{filepath} exists; pass overwrite=True to replace it.")
    atomic_write(filepath, lambda tmp: _write_h5(model, tmp, include_optimizer=True))


def load_weights(model, filepath, skip_mismatch=False):
    """Load weights from a `.weights.h5` file or from the weights inside a `.keras` file."""
    filepath = os.fspath(filepath)
    if not os.path.exists(filepath):
        raise FileNotFoundError(f"No such file: {filepath}")
    if filepath.endswith(".keras"):
        with _open_keras_zip(filepath) as z, tempfile.TemporaryDirectory() as tmp:
            f, _ = open_checked(_extract_weights(z, filepath, tmp), filepath, SavingError)
            with f:
                _read_h5(model, f, skip_mismatch=skip_mismatch, source=filepath)
        return
    if not filepath.endswith(".h5"):
        raise ValueError(f"load_weights: expected a '.weights.h5' or '.keras' file; got {filepath!r}.")
    if not model.built:
        raise ValueError(f"Model {model.name!r} is not built: its weights do not exist yet. Build it first (an Input, "
                         "input_shape=..., or one call on data), then load_weights.")
    f, _ = open_checked(filepath, filepath, SavingError)
    with f:
        _read_h5(model, f, skip_mismatch=skip_mismatch, source=filepath)
