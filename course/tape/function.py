"""`@tf.function` in eager mode: the Python function runs as it is, on every call.

TensorFlow traces the function into a graph once per input signature and then runs the graph;
here there is no graph, so the function body runs each call (a `print` inside prints every time,
where TF prints only while tracing). What stays TensorFlow-like: numpy arguments become tensors,
results come back as tensors, `input_signature` is checked, and the decorator works with and
without arguments and on methods.
"""
import functools

import numpy as np
import torch

from course.tape import nest
from course.tape.dtypes import as_dtype, as_torch_dtype
from course.tape.shape import TensorShape
from course.tape.tensor import EagerTensor, to_tensor, wrap

__all__ = ["function", "Function", "TensorSpec", "run_functions_eagerly", "functions_run_eagerly"]


class TensorSpec:
    """`tf.TensorSpec(shape, dtype=tf.float32, name=None)`: what a tensor argument must look like."""

    def __init__(self, shape, dtype=torch.float32, name=None):
        self.shape = TensorShape(shape)
        self.dtype = as_dtype(dtype)
        self.name = name

    @classmethod
    def from_tensor(cls, tensor, name=None):
        return cls(tuple(tensor.shape), tensor.dtype, name)

    def is_compatible_with(self, value):
        if isinstance(value, TensorSpec):
            return self.dtype == value.dtype and self.shape.is_compatible_with(value.shape)
        t = value if isinstance(value, torch.Tensor) else to_tensor(value, as_torch_dtype(self.dtype))
        return t.dtype == as_torch_dtype(self.dtype) and self.shape.is_compatible_with(tuple(t.shape))

    def __eq__(self, other):
        return isinstance(other, TensorSpec) and (self.shape, self.dtype, self.name) == (other.shape, other.dtype,
                                                                                          other.name)

    def __hash__(self):
        return hash((tuple(self.shape), self.dtype, self.name))

    def __repr__(self):
        return f"TensorSpec(shape={self.shape}, dtype={self.dtype!r}, name={self.name!r})"


def run_functions_eagerly(run_eagerly):
    """Accepted for compatibility: functions always run eagerly here."""


def functions_run_eagerly():
    return True


def _to_tensors(value):
    """numpy arrays in the arguments become tensors, as tf.function converts them."""
    return nest.map_structure(lambda v: wrap(to_tensor(v)) if isinstance(v, (np.ndarray, np.generic)) else v, value)


def _result(value):
    def one(v):
        if isinstance(v, torch.Tensor):
            return v if isinstance(v, EagerTensor) else wrap(v)
        if isinstance(v, (np.ndarray, np.generic, int, float, bool)) and not isinstance(v, type(None)):
            return wrap(to_tensor(v))
        return v
    return nest.map_structure(one, value)


class Function:
    """A `tf.function`-decorated callable (runs the Python function eagerly)."""

    def __init__(self, python_function, input_signature=None, jit_compile=None, reduce_retracing=False, name=None,
                 **options):
        self._python_function = python_function
        self.input_signature = None if input_signature is None else list(input_signature)
        self.jit_compile = jit_compile
        self.reduce_retracing = reduce_retracing
        self._options = options
        self._calls = 0
        functools.update_wrapper(self, python_function)

    @property
    def python_function(self):
        return self._python_function

    def _check_signature(self, args):
        sig = self.input_signature
        flat_specs, flat_args = nest.flatten(sig), nest.flatten(list(args[:len(sig)]))
        if len(args) > len(sig):
            raise TypeError(f"{self.__name__}: input_signature has {len(sig)} entries but the call passed "
                            f"{len(args)} positional arguments.")
        for spec, value in zip(flat_specs, flat_args):
            if isinstance(spec, TensorSpec) and not spec.is_compatible_with(value):
                t = value if isinstance(value, torch.Tensor) else to_tensor(value)
                raise ValueError(f"{self.__name__}: argument of shape {tuple(t.shape)} and dtype "
                                 f"{as_dtype(t.dtype)!r} does not match its input_signature entry {spec}.")

    def __call__(self, *args, **kwargs):
        if self.input_signature is not None:
            self._check_signature(args)
        self._calls += 1
        return _result(self._python_function(*_to_tensors(list(args)), **_to_tensors(kwargs)))

    def __get__(self, instance, owner):
        if instance is None:
            return self
        bound = Function(self._python_function.__get__(instance, owner), None, self.jit_compile,
                         self.reduce_retracing, **self._options)
        bound.input_signature = self.input_signature
        return bound

    def get_concrete_function(self, *args, **kwargs):
        """The same callable (there is no graph to specialise)."""
        return self

    def experimental_get_tracing_count(self):
        return 0

    def __repr__(self):
        return f"<tf.function {getattr(self._python_function, '__qualname__', self._python_function)!s} (eager)>"


def function(func=None, input_signature=None, autograph=True, jit_compile=None, reduce_retracing=False,
             experimental_implements=None, experimental_autograph_options=None, experimental_attributes=None,
             experimental_relax_shapes=None, experimental_compile=None, experimental_follow_type_hints=None):
    """`@tf.function` or `@tf.function(input_signature=[...])`: see the module docstring."""
    def decorate(f):
        return Function(f, input_signature=input_signature, jit_compile=jit_compile,
                        reduce_retracing=reduce_retracing)
    return decorate if func is None else decorate(func)
