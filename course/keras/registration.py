"""`keras.saving.register_keras_serializable`: custom classes and functions found by name on load.

A registered object is stored under 'package>name' (Keras' key, written as the `registered_name` of
a saved layer), so `load_model` finds it without `custom_objects`. `safe_mode` is also tracked here:
loading code stored in a file (a `Lambda`'s Python lambda) is refused unless the caller passed
`safe_mode=False` or called `keras.config.enable_unsafe_deserialization()`.
"""
import contextlib
import contextvars

__all__ = ["register_keras_serializable", "get_registered_name", "get_registered_object", "REGISTRY",
           "safe_mode_scope", "in_safe_mode", "enable_unsafe_deserialization"]

REGISTRY = {}                       # 'package>name' -> class or function
_NAMES = {}                         # object -> 'package>name'
_SAFE_MODE = contextvars.ContextVar("course_keras_safe_mode", default=None)
_UNSAFE_EVERYWHERE = [False]


def register_keras_serializable(package="Custom", name=None):
    """Decorator: register a class (with get_config) or a function under 'package>name'."""
    def decorate(obj):
        key = f"{package}>{name or obj.__name__}"
        if key in REGISTRY and REGISTRY[key] is not obj:
            raise ValueError(f"{key} has already been registered to {REGISTRY[key]}")
        if isinstance(obj, type) and not hasattr(obj, "get_config"):
            raise ValueError("Cannot register a class that does not have a get_config() method.")
        REGISTRY[key], _NAMES[obj] = obj, key
        return obj
    return decorate


def get_registered_name(obj):
    return _NAMES.get(obj, getattr(obj, "__name__", type(obj).__name__))


def get_registered_object(name, custom_objects=None, module_objects=None):
    for table in (custom_objects or {}, REGISTRY, module_objects or {}):
        if name in table:
            return table[name]
    return None


@contextlib.contextmanager
def safe_mode_scope(safe_mode=True):
    token = _SAFE_MODE.set(safe_mode)
    try:
        yield
    finally:
        _SAFE_MODE.reset(token)


def in_safe_mode():
    """True unless unsafe loading was asked for (safe_mode=False, or enable_unsafe_deserialization())."""
    if _UNSAFE_EVERYWHERE[0]:
        return False
    return _SAFE_MODE.get() is not False


def enable_unsafe_deserialization():
    """`keras.config.enable_unsafe_deserialization()`: allow loading code from files from now on."""
    _UNSAFE_EVERYWHERE[0] = True
