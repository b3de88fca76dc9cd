"""The facade's answer to a TensorFlow name it does not have: a clear error, not a deep AttributeError.

`UnsupportedName` is both NotImplementedError (what it means) and AttributeError (so `hasattr`,
`getattr(m, name, default)` and IPython's display probes keep working). Dunder names are left to
Python's normal lookup.
"""
__all__ = ["UnsupportedName", "module_getattr"]


class UnsupportedName(NotImplementedError, AttributeError):
    """A TensorFlow name that course.tf does not provide."""


def module_getattr(module, alternatives=None):
    """A module-level `__getattr__` raising UnsupportedName with the nearest supported alternative."""
    alternatives = alternatives or {}

    def __getattr__(name):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        hint = alternatives.get(name)
        raise UnsupportedName(f"{module}.{name} is not supported by course.tf"
                              + (f"; use {hint} instead." if hint else "; see the supported names in "
                                 f"dir({module.rsplit('.', 1)[-1]})."))
    return __getattr__
