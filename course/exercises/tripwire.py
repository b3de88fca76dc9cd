"""Forbidden calls seen at run time, on the learner's side, while the learner's function runs.

The verdict on forbidden calls comes from the source (`course.exercises.forbidden`); this is the
cheap second look that also catches names built at run time (`getattr(torch, "soft" + "max")`).
During one call of the learner's function, every function a rule names (patterns expanded over the
modules below, tensor methods on `torch.Tensor`) is replaced by a wrapper that notes the use when
its caller is the learner's code, not the library calling itself; the originals come back when the
call ends. What it notes is reported as data, like everything else from the learner's side.

    with watching(["torch.*softmax*"], ["softmax"]) as used:
        learner_function(z)
    used          # ['torch.softmax']
"""
from __future__ import annotations

import contextlib
import fnmatch
import importlib
import sys
import sysconfig
from pathlib import Path

__all__ = ["watching"]

_PACKAGE = str(Path(__file__).resolve().parent.parent)
_LIBRARY = tuple({sysconfig.get_paths()[k] for k in ("stdlib", "purelib", "platlib")})
# Where patterns are looked for: the modules a lesson's code reaches functions through.
_OWNERS = ("torch", "torch.nn", "torch.nn.functional", "torch.special", "torch.linalg", "course.tf", "course.tf.nn",
           "course.tf.math", "course.tf.keras.activations", "course.tf.keras.layers", "course.tf.train",
           "course.tf.compat.v1", "course.tf.compat.v1.nn", "course.tf.compat.v1.train", "course.tape.nn",
           "course.tape.math_ops", "course.keras.activations", "course.keras.ops", "course.keras.layers",
           "course.graph", "course.graph.nn_ops", "course.graph.conv_ops", "course.layers", "course.scratch",
           "course.scratch.activations", "course.scratch.conv", "course.scratch.dense", "course.scratch.dropout",
           "course.scratch.losses", "course.scratch.mlp", "course.scratch.norm", "course.scratch.pool", "scipy.special")
_cache: dict = {}


def _object(dotted: str):
    """The module or attribute at `dotted`, importing the longest module prefix; None if absent."""
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except Exception:
            continue
        for name in parts[i:]:
            obj = getattr(obj, name, None)
            if obj is None:
                return None
        return obj
    return None


def _targets(names, methods) -> list:
    """(owner, attribute, dotted name) for every callable the rules name."""
    key = (tuple(names), tuple(methods))
    if key in _cache:
        return _cache[key]
    found = {}
    for pattern in names:
        if "*" in pattern:
            prefix = pattern.split("*")[0]
            for owner_name in _OWNERS:
                if not (prefix.startswith(owner_name + ".") or (owner_name + ".").startswith(prefix)):
                    continue
                owner = sys.modules.get(owner_name) or _object(owner_name)
                if owner is None:
                    continue
                for attr in dir(owner):
                    dotted = f"{owner_name}.{attr}"
                    if fnmatch.fnmatchcase(dotted, pattern) and _function(getattr(owner, attr, None)):
                        found[(id(owner), attr)] = (owner, attr, dotted)
        else:
            owner_name, _, attr = pattern.rpartition(".")
            owner = _object(owner_name) if owner_name else None
            if owner is not None and _function(getattr(owner, attr, None)):
                found[(id(owner), attr)] = (owner, attr, pattern)
    tensor = _object("torch.Tensor")
    for method in methods:
        if tensor is not None and callable(getattr(tensor, method, None)):
            found[(id(tensor), method)] = (tensor, method, f"the tensor method .{method}()")
    _cache[key] = list(found.values())
    return _cache[key]


def _function(obj) -> bool:
    # Classes stay as they are: replacing one would break isinstance and subclassing meanwhile.
    return callable(obj) and not isinstance(obj, type)


def _from_learner(frame) -> bool:
    name = frame.f_code.co_filename if frame is not None else ""
    return not (name.startswith(_PACKAGE) or name.startswith(_LIBRARY) or name.startswith("<frozen"))


@contextlib.contextmanager
def watching(names, methods):
    """Inside the block, calls from the learner's code to what the rules name are listed in the
    yielded list."""
    used: list[str] = []
    saved = []
    for owner, attr, dotted in _targets(names, methods):
        # A class attribute may live on a base class: then restoring means removing the override.
        own = attr in vars(owner)
        original = vars(owner)[attr] if own else None

        def wrapper(*args, __original=getattr(owner, attr), __dotted=dotted, **kwargs):
            if _from_learner(sys._getframe(1)) and __dotted not in used:
                used.append(__dotted)
            return __original(*args, **kwargs)

        try:
            setattr(owner, attr, wrapper)
        except (AttributeError, TypeError):
            continue
        saved.append((owner, attr, own, original))
    try:
        yield used
    finally:
        for owner, attr, own, original in reversed(saved):
            try:
                if own:
                    setattr(owner, attr, original)
                else:
                    delattr(owner, attr)
            except (AttributeError, TypeError):
                pass
