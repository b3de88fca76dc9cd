"""`tf.Module`: a container that finds the Variables in its attributes; `tf.name_scope` in eager code.

`module.trainable_variables` walks the attributes as TensorFlow does: a module's own variables
first (attributes sorted by name; into lists, tuples and dicts, dict keys sorted), then each
sub-module's in the order met; each Variable once. `submodules` is in the same order. Objects that are not
`tf.Module`s but expose `variables`/`trainable_variables` (Keras layers) count as sub-modules.

Names: as in TF2's eager mode, a `tf.Variable` made inside `with tf.name_scope("a"):` is named
"a/<name>:0"; a module's `name_scope` is the scope it was built in plus its name ("net/dense/"), and
`@tf.Module.with_name_scope` runs a method inside it, so variables made there are "net/dense/w:0".
"""
import functools
import re

from course.tape import tensor as _tensor
from course.tape.variables import Variable
from course.tape.trackable import notify_attach

__all__ = ["Module", "name_scope"]

_scopes = [""]                      # the current eager name scope ("" or "outer/inner/"), innermost last


class name_scope:                   # noqa: N801 - TF's name
    """`tf.name_scope(name)`: Variables made inside are named "<scope>/<name>:0"; `with` gives the scope
    string ("outer/"). A name ending in "/" is taken as the whole scope, as in TF."""

    def __init__(self, name, *args, **kwargs):
        if name is not None and not isinstance(name, str):
            raise TypeError(f"name_scope expects a string name; got {type(name).__name__} {name!r}.")
        self._name = name

    @property
    def name(self):
        return self._name

    def _scope(self):
        if not self._name:
            return ""
        return self._name if self._name.endswith("/") else _scopes[-1] + self._name + "/"

    def __enter__(self):
        scope = self._scope()
        _scopes.append(scope)
        return scope

    def __exit__(self, *exc):
        _scopes.pop()
        return False


def _prefix_variable(v):
    """A plain tf.Variable made inside a name scope takes the scope as prefix (Keras variables keep
    their own paths)."""
    if _scopes[-1] and type(v) is Variable:
        v._name = _scopes[-1] + v._name


_tensor.variable_creation_hooks.append(_prefix_variable)


def _snake(name):
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _leaves(obj, depth=0):
    """The leaves of an attribute value, as tf.nest flattens it (dict keys sorted, lists in order)."""
    if depth > 50:
        return
    if isinstance(obj, dict):
        for key in sorted(obj, key=str):
            yield from _leaves(obj[key], depth + 1)
    elif isinstance(obj, (list, tuple)):
        for item in obj:
            yield from _leaves(item, depth + 1)
    else:
        yield obj


def _is_container(obj):
    """A tf.Module, or a Keras layer/model (it knows its own variables)."""
    return isinstance(obj, Module) or (not isinstance(obj, Variable) and hasattr(type(obj), "trainable_variables")
                                       and hasattr(type(obj), "variables"))


def _flatten_module(module, seen):
    """TF's order: this module's own leaves (attributes sorted by name), then each sub-module's, in the
    order they were met; every object once."""
    children = []
    for key in sorted(vars(module)):
        if key.startswith("_Module__") or key in ("_name", "_scope_name"):
            continue
        for leaf in _leaves(vars(module)[key]):
            if id(leaf) in seen or not (isinstance(leaf, Variable) or _is_container(leaf)):
                continue
            seen.add(id(leaf))
            yield leaf
            if isinstance(leaf, Module):
                children.append(leaf)
    for child in children:
        yield from _flatten_module(child, seen)


class Module:
    """Base class for objects that own Variables (`tf.Module`)."""

    _is_tf_module = True                 # how checkpoints recognise one (course.tape.trackable)

    def __init__(self, name=None):
        self._name = name if name is not None else _snake(type(self).__name__)
        self._scope_name = _scopes[-1] + self._name + "/"      # TF: the scope it was built in, plus its name

    def __setattr__(self, name, value):
        object.__setattr__(self, name, value)
        notify_attach(self, name, value)          # a checkpoint restored earlier may hold this attribute's value

    @property
    def name(self):
        return self._name

    @property
    def name_scope(self):
        """`with module.name_scope:` names variables "<module scope>/<name>:0"."""
        return name_scope(getattr(self, "_scope_name", self._name + "/"))

    def _flatten(self):
        return list(_flatten_module(self, {id(self)}))

    @property
    def variables(self):
        """This module's variables, then its sub-modules' (TF's breadth-then-depth order)."""
        out, seen = [], set()
        for item in self._flatten():
            group = [item] if isinstance(item, Variable) else (
                [] if isinstance(item, Module) else list(item.variables))
            for v in group:
                if id(v) not in seen:
                    seen.add(id(v))
                    out.append(v)
        return tuple(out)

    @property
    def trainable_variables(self):
        return tuple(v for v in self.variables if getattr(v, "trainable", True))

    @property
    def non_trainable_variables(self):
        return tuple(v for v in self.variables if not getattr(v, "trainable", True))

    @property
    def submodules(self):
        return tuple(item for item in self._flatten() if not isinstance(item, Variable))

    @classmethod
    def with_name_scope(cls, method):
        """Decorator: run `method` inside its module's name scope."""
        @functools.wraps(method)
        def wrapped(self, *args, **kwargs):
            with self.name_scope:
                return method(self, *args, **kwargs)
        return wrapped

    # No __repr__: TF's tf.Module prints as a plain Python object (<__main__.Net object at 0x...>).
