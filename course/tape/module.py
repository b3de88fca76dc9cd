"""`tf.Module`: a container that finds the Variables in its attributes.

`module.trainable_variables` walks the attributes as TensorFlow does: a module's own variables
first (attributes sorted by name; into lists, tuples and dicts, dict keys sorted), then each
sub-module's in the order met; each Variable once. `submodules` is in the same order. Objects that are not
`tf.Module`s but expose `variables`/`trainable_variables` (Keras layers) count as sub-modules.
"""
import contextlib
import re

from course.tape.variables import Variable
from course.tape.trackable import notify_attach

__all__ = ["Module", "name_scope"]


@contextlib.contextmanager
def name_scope(name, *args, **kwargs):
    """`tf.name_scope`: accepted; names carry no meaning in eager mode."""
    yield name


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

    def __setattr__(self, name, value):
        object.__setattr__(self, name, value)
        notify_attach(self, name, value)          # a checkpoint restored earlier may hold this attribute's value

    @property
    def name(self):
        return self._name

    @property
    def name_scope(self):
        return name_scope(self._name)

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
        return method

    # No __repr__: TF's tf.Module prints as a plain Python object (<__main__.Net object at 0x...>).
