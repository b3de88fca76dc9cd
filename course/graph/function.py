"""`tf.function`: trace the Python body once per input signature into a graph, then run the graph.

    @tf.function
    def step(x):
        print("tracing", x)          # Python runs while tracing only: Tensor("x:0", shape=(2,), ...)
        tf.print("running", x)       # a PrintV2 op: prints on every call
        return x * 2

The first call with a new signature (see `concrete_function`) runs the body on placeholders named
after the arguments, inside a `FuncGraph`; ops build graph nodes (`course.graph.dispatch`), eager
Variables are read and written through `ReadVariableOp`/`AssignVariableOp`, and a GradientTape in
the body builds its gradients as graph ops. The graph is pruned to the outputs plus every op with
a side effect, kept in program order (TF's automatic control dependencies), and compiled once
(`plan.compile_plan`); later calls with a compatible signature only run it.

Variables may be created on the first trace only: as TensorFlow does, a trace that creates some is
followed by a second trace, which must create none. A body that reaches an op with no graph form
yet runs eagerly instead, for that function only, after one warning naming the op.
"""
import functools
import inspect
import warnings
import weakref

import numpy as np
import torch

from course.graph.array_ops import convert_to_tensor, identity, placeholder
from course.graph.autograph import convert as convert_for_tracing
from course.graph.concrete_function import ConcreteFunction, FuncGraph, encode, fits, is_tensor, relax, tf2_str
from course.graph.dispatch import NoGraphForm
from course.graph.graph import Tensor
from course.graph.resource_ops import mark_copies
from course.framework import dtypes as _dt
from course.framework import nest
from course.tape import tensor as _tensor
from course.tape.function import TensorSpec
from course.tape.tensor import EagerTensor, to_tensor, wrap
from course.framework.convert import as_plain

__all__ = ["function", "Function", "run_functions_eagerly", "functions_run_eagerly", "TensorSpec"]

_RUN_EAGERLY = [False]
_tracing = []                    # Functions being traced now, innermost last
_VARIABLE_ERROR = ("tf.function only supports singleton tf.Variables created on the first call. Make sure the "
                   "tf.Variable is only created once or created outside tf.function. See "
                   "https://www.tensorflow.org/guide/function#creating_tfvariables for more information.")


def run_functions_eagerly(run_eagerly):
    """`tf.config.run_functions_eagerly(True)`: every tf.function runs its Python body on each call."""
    _RUN_EAGERLY[0] = bool(run_eagerly)


def functions_run_eagerly():
    return _RUN_EAGERLY[0]


def _note_variable(v):
    if _tracing:
        _tracing[-1].append(v)


_tensor.variable_creation_hooks.append(_note_variable)


def _eager_args(value):
    """numpy arrays in the arguments become tensors, as tf.function converts them."""
    return nest.map_structure(lambda v: wrap(to_tensor(v)) if isinstance(v, (np.ndarray, np.generic)) else v, value)


def _constant_output(v):
    """A Python number, bool or numpy value returned by a traced function comes back as a tensor, as TF
    returns it (a Const of the graph); None and other objects are returned as they are."""
    if isinstance(v, (bool, int, float, np.ndarray, np.generic)):
        return identity(convert_to_tensor(v))
    return v


def _eager_result(value):
    def one(v):
        if isinstance(v, torch.Tensor):
            return v if isinstance(v, EagerTensor) else wrap(v)
        if isinstance(v, (np.ndarray, np.generic, int, float, bool)):
            return wrap(to_tensor(v))
        return v
    return nest.map_structure(one, value)


def _signature_error(specs, names, args, kwargs, reason):
    params = ", ".join(f"{n}: {_spec_repr(s)}" for n, s in zip(names, specs))
    return TypeError(f"Binding inputs to tf.function failed due to `{reason}`. Received args: {tuple(args)!r} and "
                     f"kwargs: {kwargs!r} for signature: ({params}).")


class Function:
    """A `tf.function`-decorated callable: a cache of ConcreteFunctions, one per signature."""

    def __init__(self, python_function, input_signature=None, jit_compile=None, reduce_retracing=False, name=None,
                 autograph=True):
        self._python_function = python_function
        self.input_signature = None if input_signature is None else list(input_signature)
        self.jit_compile = jit_compile
        self.reduce_retracing = bool(reduce_retracing)
        self._name = name or getattr(python_function, "__name__", "function")
        self._autograph = autograph
        self._concrete = {}              # key -> ConcreteFunction
        self._general = []               # (relaxed key, ConcreteFunction) for reduce_retracing
        self._trace_count = 0
        self._eager_only = None          # the op that had no graph form, once one was met
        self._has_traced_variables = False
        self._bound = weakref.WeakKeyDictionary()
        self._signature = inspect.signature(python_function)
        functools.update_wrapper(self, python_function)

    @property
    def python_function(self):
        return self._python_function

    def __get__(self, instance, owner):
        """A method: one Function (and one trace cache) per instance, as TF keeps them."""
        if instance is None:
            return self
        try:
            bound = self._bound.get(instance)
        except TypeError:
            bound = None
        if bound is None:
            bound = Function(self._python_function.__get__(instance, owner), self.input_signature, self.jit_compile,
                             self.reduce_retracing, self._name, self._autograph)
            try:
                self._bound[instance] = bound
            except TypeError:
                pass
        return bound

    # -- calling --------------------------------------------------------------------------------------
    def __call__(self, *args, **kwargs):
        if _RUN_EAGERLY[0] or self._eager_only or _tracing:
            return self._run_eagerly(args, kwargs)
        names, values = self._bind(args, kwargs)
        keys = tuple(encode(v) for v in values)
        concrete = self._concrete.get(keys) or self._compatible(keys)
        if concrete is None:
            try:
                concrete = self._trace(names, values, self._relaxed(keys))
            except NoGraphForm as exc:
                self._fall_back(exc)
                return self._run_eagerly(args, kwargs)
        return concrete._call_flat([as_plain(v) for v in nest.flatten(values) if is_tensor(v)])

    def _run_eagerly(self, args, kwargs):
        return _eager_result(self._python_function(*_eager_args(list(args)), **_eager_args(kwargs)))

    def _fall_back(self, exc):
        self._eager_only = exc.op_name
        warnings.warn(f"tf.function {self._name!r} runs eagerly: its body uses {exc.op_name}, which has no graph "
                      "form in this course's graph engine yet. Results are the same; there is no tracing (Python "
                      "side effects run on every call).", RuntimeWarning, stacklevel=3)

    def _bind(self, args, kwargs):
        if self.input_signature is not None:
            return self._bind_signature(args, kwargs)
        bound = self._signature.bind(*args, **kwargs)
        bound.apply_defaults()
        names, values = [], []
        for name, value in bound.arguments.items():
            kind = self._signature.parameters[name].kind
            if kind is inspect.Parameter.VAR_POSITIONAL:
                names.extend(f"{name}_{i}" for i in range(len(value)))
                values.extend(value)
            elif kind is inspect.Parameter.VAR_KEYWORD:
                names.extend(value)
                values.extend(value.values())
            else:
                names.append(name)
                values.append(value)
        return names, [self._as_tensor_arg(v) for v in values]

    @staticmethod
    def _as_tensor_arg(v):
        if isinstance(v, (np.ndarray, np.generic)):
            return wrap(to_tensor(v))
        if isinstance(v, (list, tuple, dict)):
            return nest.map_structure(lambda x: wrap(to_tensor(x)) if isinstance(x, (np.ndarray, np.generic)) else x,
                                      v)
        return v

    def _bind_signature(self, args, kwargs):
        specs = self.input_signature
        params = [p for p in self._signature.parameters.values()]
        pnames = [p.name for p in params]
        values = list(args) + [kwargs[p.name] for p in params[len(args):len(specs)] if p.name in kwargs]
        if len(values) != len(specs) or len(args) > len(specs):
            raise _signature_error(specs, pnames, args, kwargs, f"expected {len(specs)} arguments, got {len(values)}")
        out = []
        for spec, value in zip(specs, values):
            t = value if isinstance(value, torch.Tensor) else to_tensor(value)
            got = TensorSpec(tuple(t.shape), t.dtype)
            if t.dtype != spec.dtype or not spec.shape.is_compatible_with(tuple(t.shape)):
                reason = f"Can not cast {_spec_repr(got)} to {_spec_repr(spec)}"
                raise _signature_error(specs, pnames, args, kwargs, reason)
            out.append(wrap(t) if type(t) is torch.Tensor else t)
        names = [spec.name or p.name for spec, p in zip(specs, params)]
        return names, out

    def _compatible(self, keys):
        for general, concrete in self._general:
            if len(general) == len(keys) and all(fits(k, g) for k, g in zip(keys, general)):
                return concrete
        return None

    def _relaxed(self, keys):
        if self.input_signature is not None:
            return tuple(("T", s.dtype, tuple(s.shape)) for s in self.input_signature)
        if not self.reduce_retracing:
            return keys
        for general, _ in self._general:
            if len(general) == len(keys):
                parts = [relax(k, g) for k, g in zip(keys, general)]
                if all(p is not None for p in parts):
                    return tuple(parts)
        return keys

    # -- tracing ----------------------------------------------------------------------------------
    def _trace(self, names, values, keys):
        concrete, created = self._trace_once(names, values, keys)
        if created:
            if self._has_traced_variables or self._trace_count > 1:
                raise ValueError(_VARIABLE_ERROR)
            self._has_traced_variables = True
            concrete, created = self._trace_once(names, values, keys)   # as TF: trace again, creating none
            if created:
                raise ValueError(_VARIABLE_ERROR)
        self._concrete[keys] = concrete
        self._general.append((keys, concrete))
        return concrete

    def _trace_once(self, names, values, keys):
        graph = FuncGraph(self._name)
        created = []
        self._trace_count += 1
        with graph.as_default():
            it = iter(keys)
            leaves = []

            def symbolic(value, key, name):
                if key[0] == "T":
                    p = placeholder(key[1], list(key[2]), name=name)
                    leaves.append(p)
                    return p
                if key[0] in ("list", "tuple"):
                    parts = [symbolic(v, k, name) for v, k in zip(value, key[1])]
                    return parts if key[0] == "list" else type(value)(parts) if not hasattr(value, "_fields") \
                        else type(value)(*parts)
                if key[0] == "dict":
                    return {k: symbolic(value[k], sub, name) for k, sub in key[1]}
                return value

            args = [symbolic(v, next(it), n) for v, n in zip(values, names)]
            call_args, call_kwargs = self._unbind(names, args)
            _tracing.append(created)
            try:
                body = convert_for_tracing(self._python_function) if self._autograph else self._python_function
                out = body(*call_args, **call_kwargs)
            finally:
                _tracing.pop()
            flat = nest.flatten(out) if out is not None else []
            flat = [identity(t) if isinstance(t, Tensor) else _constant_output(t) for t in flat]
        graph.structured_outputs = out
        mark_copies(graph)
        return ConcreteFunction(self, graph, names, keys, leaves, out, flat), created

    def _unbind(self, names, args):
        """Arguments (now symbolic) back into the call's positional and keyword form."""
        if self.input_signature is not None:
            return args, {}
        params = self._signature.parameters
        call_args, call_kwargs, i = [], {}, 0
        for name, p in params.items():
            if p.kind is inspect.Parameter.VAR_POSITIONAL:
                while i < len(names) and names[i].startswith(f"{name}_"):
                    call_args.append(args[i])
                    i += 1
            elif p.kind is inspect.Parameter.VAR_KEYWORD:
                while i < len(names):
                    call_kwargs[names[i]] = args[i]
                    i += 1
            elif i < len(names) and names[i] == name:
                if p.kind is inspect.Parameter.KEYWORD_ONLY:
                    call_kwargs[name] = args[i]
                else:
                    call_args.append(args[i])
                i += 1
        return call_args, call_kwargs

    # -- introspection --------------------------------------------------------------------------------
    def get_concrete_function(self, *args, **kwargs):
        """The ConcreteFunction for these arguments (tensors or tf.TensorSpecs), traced if needed."""
        if self.input_signature is not None and not args and not kwargs:
            args = tuple(self.input_signature)
        names, values = self._bind_specs(args, kwargs)
        keys = tuple(encode_spec(v) for v in values)
        concrete = self._concrete.get(keys) or self._compatible(keys)
        if concrete is None:
            stand_ins = [_stand_in(v) for v in values]
            concrete = self._trace(names, stand_ins, self._relaxed(keys))
        return concrete

    def _bind_specs(self, args, kwargs):
        if self.input_signature is not None:
            names = [s.name or p for s, p in zip(self.input_signature, self._signature.parameters)]
            return names, list(args)
        bound = self._signature.bind(*args, **kwargs)
        bound.apply_defaults()
        return list(bound.arguments), [self._as_tensor_arg(v) for v in bound.arguments.values()]

    def experimental_get_tracing_count(self):
        return self._trace_count

    def pretty_printed_concrete_signatures(self, verbose=True):
        seen = []
        for _, c in self._general:
            if c not in seen:
                seen.append(c)
        return "\n\n".join(c.pretty_printed_signature(verbose) for c in seen)

    def __repr__(self):
        return f"<course.graph.function.Function object at {id(self):#x}>"


def _spec_repr(spec):
    return f"TensorSpec(shape={tf2_str(spec.shape)}, dtype=tf.{_dt.name(spec.dtype)}, name={spec.name!r})"


def encode_spec(v):
    if isinstance(v, TensorSpec):
        return ("T", v.dtype if isinstance(v.dtype, torch.dtype) else _dt.as_torch_dtype(v.dtype),
                tuple(v.shape) if v.shape.rank is not None else ())
    return encode(v)


def _stand_in(v):
    """A value with the spec's dtype and shape for tracing (its numbers are never used)."""
    if isinstance(v, TensorSpec):
        shape = [1 if d is None else d for d in v.shape]
        return wrap(torch.zeros(shape, dtype=_dt.as_torch_dtype(v.dtype)))
    return v


def function(func=None, input_signature=None, autograph=True, jit_compile=None, reduce_retracing=False,
             experimental_implements=None, experimental_autograph_options=None, experimental_attributes=None,
             experimental_relax_shapes=None, experimental_compile=None, experimental_follow_type_hints=None):
    """`@tf.function` or `@tf.function(input_signature=[...], reduce_retracing=True)`: see the module docstring."""
    relax_shapes = reduce_retracing or bool(experimental_relax_shapes)

    def decorate(f):
        return Function(f, input_signature=input_signature, jit_compile=jit_compile, reduce_retracing=relax_shapes,
                        autograph=autograph)
    return decorate if func is None else decorate(func)
