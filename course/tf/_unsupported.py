"""The facade's answer to a name it does not have: a clear error naming the nearest supported one.

Every facade module ends with

    __getattr__, __dir__ = _unsupported.module_getattr(__name__, globals(), lazy={...}, hints={...})

`lazy` maps names to modules imported on first use (`tf.optimizers` -> 'course.tf.keras.optimizers';
a package's own submodules, `tf.keras` or `tf.distribute`, are found without listing them); `hints`
maps names to advice (`'Session': 'use tf.compat.v1.Session (course run --v1)'`). Any other
missing name raises `UnsupportedError`, which is both a NotImplementedError (what the design asks)
and an AttributeError (so `hasattr`, `getattr(tf, name, default)` and IPython's display probes keep
working). Dunder names get a plain AttributeError.
"""
import difflib
import importlib
import importlib.util
import pkgutil

__all__ = ["UnsupportedError", "module_getattr", "unsupported", "facade_name"]


class UnsupportedError(NotImplementedError, AttributeError):
    """A TensorFlow name that course.tf does not provide."""


def facade_name(module_name: str) -> str:
    """'course.tf.keras.layers' -> 'tf.keras.layers' (how users spell it)."""
    return "tf" + module_name[len("course.tf"):] if module_name.startswith("course.tf") else module_name


def unsupported(module_name, name, candidates=(), hint=None) -> UnsupportedError:
    """The error for `module.name`: what is missing, the nearest supported names, what to do."""
    full = f"{facade_name(module_name)}.{name}"
    text = f"{full} is not supported by course.tf (TensorFlow on PyTorch)."
    if hint:
        text += f" {hint}"
    else:
        lower = {c.lower(): c for c in candidates}
        close = difflib.get_close_matches(name.lower(), list(lower), n=3, cutoff=0.6)
        if close:
            names = ", ".join(f"{facade_name(module_name)}.{lower[c]}" for c in close)
            text += f" Nearest supported: {names}."
        else:
            text += f" See dir({facade_name(module_name)}) for what is available."
    err = UnsupportedError(text)
    err.name = name
    return err


def _import(target):
    """The module `target`, or the attribute its last part names on its parent; None if neither exists."""
    try:
        return importlib.import_module(target)
    except ModuleNotFoundError as exc:
        if not exc.name or not (target == exc.name or target.startswith(exc.name + ".")):
            raise                     # the module exists but something it imports is missing: a real error
    parent, _, attr = target.rpartition(".")
    if not parent:
        return None
    owner = _import(parent)
    return getattr(owner, attr, None) if owner is not None else None


def module_getattr(module_name, namespace, lazy=None, hints=None):
    """(__getattr__, __dir__) for a facade module: lazy submodules, hints, then UnsupportedError."""
    lazy = dict(lazy or {})
    hints = dict(hints or {})

    def __getattr__(name):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(f"module {module_name!r} has no attribute {name!r}")
        if name in lazy:
            target = lazy[name]
            value = _import(target)
            if value is None:
                raise unsupported(module_name, name, hint=f"({target} is missing from this copy of course.)")
            namespace[name] = value
            return value
        if "__path__" in namespace and importlib.util.find_spec(f"{module_name}.{name}") is not None:
            value = importlib.import_module(f"{module_name}.{name}")       # a submodule not imported yet
            namespace[name] = value
            return value
        public = [n for n in namespace if not n.startswith("_")] + list(lazy)
        raise unsupported(module_name, name, public, hints.get(name))

    def __dir__():
        names = set(n for n in namespace if not n.startswith("_")) | set(lazy)
        if "__path__" in namespace:
            names |= {m.name for m in pkgutil.iter_modules(namespace["__path__"]) if not m.name.startswith("_")}
        return sorted(names)

    return __getattr__, __dir__
