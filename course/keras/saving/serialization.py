"""Layers and models to and from Keras 3's config entries (`{"module", "class_name", "config", ...}`).

No model class is imported here: `Sequential` and `Functional` register themselves
(`register_model_class`), a model is recognised as Keras recognises one (it has
`get_compile_config`), and each class says what it stores through `get_config` and
`get_build_config`.
"""
import inspect

import torch

from course.keras.layers import CLASSES as LAYER_CLASSES
from course.keras.layers.symbolic import dry_run_shape
from course.keras.layers.weight_budget import weight_budget
from course.keras.registration import REGISTRY, get_registered_name
from course.keras.saving.configs import SavingError

__all__ = ["register_model_class", "builtin_model_name", "is_model", "serialize_layer", "serialize_model",
           "deserialize_layer", "deserialize_model", "rebuild"]

_MODEL_CLASSES = {}      # Keras class name -> class ("Model" with layers in its config is a Functional)
_MODEL_ENTRIES = {}      # class -> (class_name, module, registered_name) as Keras writes them


def register_model_class(cls, class_name, module, registered_name=None, aliases=()):
    """Record one of Keras' own model classes (and names it is read back from)."""
    _MODEL_ENTRIES[cls] = (class_name, module, registered_name)
    for name in (class_name, *aliases):
        _MODEL_CLASSES[name] = cls
    return cls


def _builtin_entry(model):
    for klass in type(model).__mro__:
        if klass in _MODEL_ENTRIES:
            return _MODEL_ENTRIES[klass]
    return None


def builtin_model_name(model):
    """'Sequential' or 'Functional' for Keras' own model classes (and their subclasses), else None."""
    entry = _builtin_entry(model)
    return entry[0] if entry else None


def is_model(obj):
    """A model, not a plain layer: Keras' own test (it has a compile config)."""
    return hasattr(obj, "get_compile_config")


# -- writing ------------------------------------------------------------------------------------------
def serialize_layer(layer):
    """{"module", "class_name", "config", "registered_name"[, "build_config"]} as Keras writes a layer."""
    if is_model(layer):
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


def serialize_model(model, compile_config=True):
    known = _builtin_entry(model)
    if known is not None:
        class_name, module, registered = known
    else:
        class_name, module, registered = type(model).__name__, None, get_registered_name(type(model))
    entry = {"module": module, "class_name": class_name, "config": model.get_config(), "registered_name": registered}
    build = model.get_build_config()
    if build is not None:
        entry["build_config"] = build
    if compile_config:
        entry["compile_config"] = model.get_compile_config() if model.compiled else {}
    return entry


# -- reading ------------------------------------------------------------------------------------------
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
        return _MODEL_CLASSES[name].from_config(entry["config"], custom_objects)
    cls = custom.get(name) or custom.get(entry.get("registered_name") or "") or \
        REGISTRY.get(entry.get("registered_name") or "") or LAYER_CLASSES.get(name)
    if cls is None:
        raise SavingError(f"Unknown layer class {name!r} in the saved config. Supported layers: "
                          f"{', '.join(sorted(LAYER_CLASSES))}; "
                          f"for your own classes pass custom_objects={{'{name}': {name}}}.")
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
        shape = [tuple(s) for s in build] if build and isinstance(build[0], (list, tuple)) else tuple(build)
        layer._output_shape = dry_run_shape(layer, shape)            # a merge layer's input is a list of shapes
        layer._build_input_shape = shape
    return layer


def deserialize_model(entry, custom_objects):
    name = entry.get("class_name")
    if name in _MODEL_CLASSES:
        return _MODEL_CLASSES[name].from_config(entry["config"], custom_objects)
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


def rebuild(entry, custom_objects, values, source):
    """The model `entry` describes, built with at most `values` weight values (what its file holds);
    a config that cannot be built is reported as a SavingError naming `source`."""
    try:
        with weight_budget(values, source, SavingError):
            return deserialize_model(entry, custom_objects)
    except SavingError:
        raise
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise SavingError(f"{source}: the saved model config cannot be rebuilt: {type(exc).__name__}: {exc}") from exc
