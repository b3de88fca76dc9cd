"""`tf.Module`: a container that finds the Variables in its attributes.

`module.trainable_variables` walks the attributes (sorted by name, as TensorFlow does), into
lists, tuples, dicts and sub-modules, and collects each Variable once. Objects that are not
`tf.Module`s but expose `variables`/`trainable_variables` (Keras layers) count as sub-modules.
"""
import contextlib
import re

from course.tape.tensor import Variable

__all__ = ["Module", "name_scope"]


@contextlib.contextmanager
def name_scope(name, *args, **kwargs):
    """`tf.name_scope`: accepted; names carry no meaning in eager mode."""
    yield name


def _snake(name):
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _walk(obj, seen, depth=0):
    """Yield Variables and sub-modules reachable from obj's attributes, each once."""
    if depth > 50 or id(obj) in seen:
        return
    seen.add(id(obj))
    if isinstance(obj, Variable):
        yield obj
        return
    if isinstance(obj, dict):
        for key in sorted(obj, key=str):
            yield from _walk(obj[key], seen, depth + 1)
    elif isinstance(obj, (list, tuple)):
        for item in obj:
            yield from _walk(item, seen, depth + 1)
    elif isinstance(obj, Module) and depth > 0:
        yield obj
        yield from _walk_attributes(obj, seen, depth + 1)
    elif depth > 0 and not isinstance(obj, Module) and hasattr(type(obj), "trainable_variables") \
            and hasattr(type(obj), "variables"):
        yield obj                      # a Keras layer or model: it knows its own variables


def _walk_attributes(module, seen, depth):
    for key in sorted(vars(module)):
        if key.startswith("_Module__") or key in ("_name", "_scope_name"):
            continue
        yield from _walk(vars(module)[key], seen, depth)


class Module:
    """Base class for objects that own Variables (`tf.Module`)."""

    def __init__(self, name=None):
        self._name = name if name is not None else _snake(type(self).__name__)

    @property
    def name(self):
        return self._name

    @property
    def name_scope(self):
        return name_scope(self._name)

    def _flatten(self):
        return list(_walk_attributes(self, {id(self)}, 1))

    @property
    def variables(self):
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
