"""The callables a loaded SavedModel offers: restored tf.functions and signatures (TF's serving form).

A restored function calls the saved trace whose signature fits its arguments (it never retraces); a
signature takes keyword arguments and returns a dict of named tensors, and prints as TensorFlow prints it.
"""
from collections.abc import Mapping

import torch

from course.framework import dtypes as _dt
from course.framework import nest
from course.framework.convert import as_plain
from course.framework.shapes import TensorShape
from course.graph.concrete_function import encode, fits, is_tensor, tf2_str
from course.tape.function import TensorSpec
from course.tape.tensor import to_tensor, wrap

__all__ = ["RestoredFunction", "SignatureFunction", "SignatureMap"]


def _spec_text(spec):
    name = "None" if spec.name is None else repr(spec.name)
    return f"TensorSpec(shape={tf2_str(TensorShape(spec.shape))}, dtype=tf.{_dt.name(spec.dtype)}, name={name})"


class RestoredFunction:
    """A loaded tf.function: calls the saved trace whose signature fits the arguments."""

    def __init__(self, name, defaults=None):
        self.__name__ = name
        self.concrete_functions = []
        self._defaults = dict(defaults or {})        # the Python defaults of the saved function's arguments

    def _convert(self, value, key):
        if key[0] == "T" and not isinstance(value, torch.Tensor):
            try:
                return wrap(to_tensor(value, key[1]))
            except (TypeError, ValueError):
                return value
        if key[0] in ("list", "tuple") and isinstance(value, (list, tuple)) and len(value) == len(key[1]):
            return type(value)(self._convert(v, k) for v, k in zip(value, key[1]))
        return value

    def __call__(self, *args, **kwargs):
        if not self.concrete_functions:
            raise ValueError("Found zero restored functions for caller function.")
        for cf in self.concrete_functions:
            names = cf._arg_names
            if len(args) > len(names) or any(k not in names[len(args):] for k in kwargs):
                continue
            values = list(args) + [kwargs[n] if n in kwargs else self._defaults[n] for n in names[len(args):]
                                   if n in kwargs or n in self._defaults]
            if len(values) != len(names):
                continue
            values = [self._convert(v, k) for v, k in zip(values, cf._keys)]
            if all(fits(encode(v), k) for v, k in zip(values, cf._keys)):
                return cf._call_flat([as_plain(v) for v in nest.flatten(values) if is_tensor(v)])
        got = [_spec_text(TensorSpec(tuple(v.shape), v.dtype)) if isinstance(v, torch.Tensor) else repr(v)
               for v in args]
        options = "\n".join(
            f"  Option {i + 1}: ({', '.join(f'{n}: {_key_text(k)}' for n, k in zip(cf._arg_names, cf._keys))})"
            for i, cf in enumerate(self.concrete_functions))
        raise TypeError(f"Could not find matching concrete function to call loaded from the SavedModel. Got: "
                        f"({', '.join(got)}) and kwargs {sorted(kwargs)}. Expected these arguments to match one of "
                        f"the following {len(self.concrete_functions)} option(s):\n{options}")

    def __repr__(self):
        return f"<RestoredFunction {self.__name__!r} with {len(self.concrete_functions)} traced signature(s)>"


def _key_text(key):
    if key[0] == "T":
        return _spec_text(TensorSpec(key[2], key[1]))
    return repr(key[2]) if key[0] == "P" else key[0]


class SignatureFunction:
    """A signature: keyword arguments in, a dict of named tensors out (TF's serving form)."""

    def __init__(self, cf, output_keys):
        self._cf, self._keys = cf, list(output_keys)
        self.name = cf.name

    @property
    def structured_input_signature(self):
        return (), {n: TensorSpec(k[2], k[1], n) for n, k in zip(self._cf._arg_names, self._cf._keys)}

    def _as_dict(self, out):
        if isinstance(out, dict):
            return {str(k): v for k, v in out.items()}
        if isinstance(out, (list, tuple)):
            return {f"output_{i}": v for i, v in enumerate(out)}
        return {"output_0": out}

    @property
    def structured_outputs(self):
        out = self._as_dict(self._cf.structured_outputs)
        return {k: TensorSpec(tuple(out[k].shape), out[k].dtype, k) for k in self._keys}

    @property
    def inputs(self):
        return list(self._cf.inputs)

    @property
    def outputs(self):
        return list(self._cf.outputs)

    def __call__(self, *args, **kwargs):
        if args:
            raise TypeError(f"signature function {self.name!r} takes keyword arguments only (the inputs' names: "
                            f"{list(self._cf._arg_names)}); got {len(args)} positional argument(s).")
        names = list(self._cf._arg_names)
        if sorted(kwargs) != sorted(names):
            raise TypeError(f"signature function {self.name!r} expects the arguments {names}; got {sorted(kwargs)}.")
        values = []
        for n, k in zip(names, self._cf._keys):
            v = kwargs[n]
            t = v if isinstance(v, torch.Tensor) else wrap(to_tensor(v, k[1]))
            if not fits(encode(t), k):
                raise TypeError(f"Binding inputs to signature {self.name!r} failed: argument {n!r} is "
                                f"{_spec_text(TensorSpec(tuple(t.shape), t.dtype))}, expected {_key_text(k)}.")
            values.append(t)
        return self._as_dict(self._cf._call_flat([as_plain(v) for v in values]))

    def pretty_printed_signature(self, verbose=True):
        ins = "\n".join(f"  {n} (KEYWORD_ONLY): {_spec_text(s)}" for n, s in self.structured_input_signature[1].items())
        outs = ", ".join(f"['{k}', {_spec_text(s)}]" for k, s in self.structured_outputs.items())
        captured = self._cf.graph.variables
        caps = "\n".join(f"  {id(v)}: TensorSpec(shape=(), dtype=tf.resource, name=None)" for v in captured)
        return f"Input Parameters:\n{ins}\nOutput Type:\n  Dict[{outs}]\nCaptures:\n{caps or '  None'}"

    def __repr__(self):
        return f"ConcreteFunction {self.pretty_printed_signature()}"


class SignatureMap(Mapping):
    def __init__(self, items):
        self._items = dict(items)

    def __getitem__(self, key):
        return self._items[key]

    def __iter__(self):
        return iter(self._items)

    def __len__(self):
        return len(self._items)

    def __repr__(self):
        return f"_SignatureMap({self._items!r})"
