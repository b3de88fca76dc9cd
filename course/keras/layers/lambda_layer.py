"""`keras.layers.Lambda`: a function as a layer, saved and loaded as Keras 3 does.

A Python lambda is saved as Keras saves it: its bytecode (`marshal`, base64), defaults and closure
values. Loading that is running code from the file, so it is refused by default with Keras'
message; `load_model(..., safe_mode=False)` (or `keras.config.enable_unsafe_deserialization()`)
allows it for files you trust. Bytecode is specific to one Python version: a file written by
another one gets an error saying so. A named function is saved by name (registered with
`register_keras_serializable`, or passed in `custom_objects`) and needs no unsafe loading.
"""
import builtins
import codecs
import inspect
import marshal
import sys
import types

from course.keras.layers.base import Layer
from course.keras.registration import get_registered_name, get_registered_object, in_safe_mode
from course.tape.tensor import as_eager
from course.framework.convert import as_plain

__all__ = ["Lambda"]

_REFUSED = ("Requested the deserialization of a `Lambda` layer whose `function` is a Python lambda. This carries "
            "a potential risk of arbitrary code execution and thus it is disallowed by default. If you trust the "
            "source of the artifact, you can override this error by passing `safe_mode=False` to the loading "
            "function, or calling `keras.config.enable_unsafe_deserialization().")   # sic: Keras' own text


def _serialize_function(fn):
    if isinstance(fn, types.LambdaType) and fn.__name__ == "<lambda>":
        code = codecs.encode(marshal.dumps(fn.__code__), "base64").decode("ascii")
        closure = tuple(c.cell_contents for c in fn.__closure__) if fn.__closure__ else None
        return {"class_name": "__lambda__", "config": {"code": code, "defaults": fn.__defaults__,
                                                       "closure": closure}}
    if callable(fn):
        name = get_registered_name(fn)
        return {"module": getattr(fn, "__module__", None), "class_name": "function",
                "config": getattr(fn, "__name__", name), "registered_name": name}
    raise ValueError(f"Invalid input type for serialization. Received: {fn} of type {type(fn)}.")


def _load_lambda(config, safe_mode):
    if safe_mode:
        raise ValueError(_REFUSED)
    try:
        code = marshal.loads(codecs.decode(config["code"].encode("ascii"), "base64"))
    except (ValueError, EOFError, TypeError) as exc:
        raise ValueError(f"This Lambda's bytecode cannot be read by Python {sys.version.split()[0]} ({exc}): "
                         f"marshal bytecode is specific to the Python version that saved it. Load the file with "
                         f"that Python, or rebuild the Lambda in code and load the weights only.") from None
    closure = config.get("closure")
    cells = tuple(types.CellType(v) for v in closure) if closure else None
    defaults = tuple(config["defaults"]) if config.get("defaults") is not None else None
    return types.FunctionType(code, {"__builtins__": builtins}, "<lambda>", defaults, cells)


def _deserialize_function(entry, custom_objects, safe_mode):
    if callable(entry) or entry is None:
        return entry
    if isinstance(entry, dict) and entry.get("class_name") == "__lambda__":
        return _load_lambda(entry["config"], safe_mode)
    if isinstance(entry, dict) and entry.get("class_name") == "function":
        for key in (entry.get("registered_name"), entry.get("config")):
            fn = get_registered_object(key, custom_objects) if key else None
            if fn is not None:
                return fn
        raise ValueError(f"Could not locate function '{entry.get('config')}'. Make sure custom classes and "
                         f"functions are decorated with `@keras.saving.register_keras_serializable()` or passed "
                         f"in custom_objects.")
    return entry


class Lambda(Layer):
    """Wraps `function(inputs, **arguments)` as a layer (with `training`/`mask` if it takes them)."""

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        if not callable(function):
            raise TypeError(f"Lambda needs a function; got {type(function).__name__}.")
        self.function, self.arguments, self.mask = function, dict(arguments or {}), mask
        self._lambda_output_shape = output_shape
        try:
            params = inspect.signature(function).parameters
        except (TypeError, ValueError):
            params = {}
        self._takes_training = "training" in params

    def call(self, inputs, training=None):
        kwargs = dict(self.arguments)
        if self._takes_training:
            kwargs["training"] = training
        out = self.function(as_eager(inputs) if hasattr(inputs, "dim") else inputs, **kwargs)
        return as_plain(out) if hasattr(out, "dim") else out

    def get_config(self):
        config = {**super().get_config(), "function": _serialize_function(self.function)}
        shape = self._lambda_output_shape
        if shape is not None:
            config["output_shape"] = _serialize_function(shape) if callable(shape) else list(shape)
        if self.mask is not None:
            config["mask"] = _serialize_function(self.mask) if callable(self.mask) else self.mask
        config["arguments"] = self.arguments
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None, safe_mode=None):
        safe = in_safe_mode() if safe_mode is None else safe_mode is not False
        config = dict(config)
        config.pop("dtype", None)
        config["function"] = _deserialize_function(config["function"], custom_objects, safe)
        if "output_shape" in config:
            shape = _deserialize_function(config["output_shape"], custom_objects, safe)
            config["output_shape"] = tuple(shape) if isinstance(shape, list) else shape
        if "mask" in config:
            config["mask"] = _deserialize_function(config["mask"], custom_objects, safe)
        return cls(**config)
