"""A traced `tf.function` signature: `ConcreteFunction`, its `FuncGraph`, and the cache keys.

A call's arguments become a key: tensors (and numpy arrays) by dtype and shape, Variables and
other objects by identity, Python values by value (so `f(x, 2)` and `f(x, 3)` are two traces, as
in TF). `reduce_retracing` relaxes two keys into one whose differing dimensions are None.
"""
import numpy as np
import torch

from course.framework import dtypes as _dt
from course.graph.autograph.operators import BOOL_MESSAGE, OperatorNotAllowedInGraphError
from course.graph import math_ops
from course.graph.graph import Graph, Tensor
from course.graph.plan import build_plan, compile_plan
from course.graph.resource_ops import SIDE_EFFECTS
from course.graph.runtime import Runtime
from course.framework import nest
from course.tape.function import TensorSpec
from course.tape.gradient_tape import autograd_wanted
from course.framework.shapes import TensorShape
from course.tape.tensor import wrap
from course.tape.variables import Variable

__all__ = ["ConcreteFunction", "FuncGraph", "V2Graph", "tf2_str", "encode", "relax", "fits", "is_tensor"]


def tf2_str(shape):
    """'(None, 2)': how TF2 prints a static shape."""
    shape = TensorShape(shape) if not isinstance(shape, TensorShape) else shape
    if shape.rank is None:
        return "<unknown>"
    return "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


class V2Graph(Graph):
    """`tf.Graph()` in a TF2 program: a TF1 graph that prints shapes as TF2 does ('(None, 2)'), and
    where `tf.Variable(...)` makes a graph variable (initialised by running its initializer)."""

    shape_str = staticmethod(tf2_str)


class FuncGraph(V2Graph):
    """The graph of one traced signature: `inputs` (placeholders), `outputs`, `captures`."""

    @staticmethod
    def tensor_equality(x, y, equal):
        """`x == y` / `x != y` inside tf.function: elementwise ops, as TF2's tensors compare."""
        return math_ops.equal(x, y) if equal else math_ops.not_equal(x, y)

    def on_bool(self, tensor):
        # AutoGraph converts `if`/`while` on a tensor; a bool() it did not convert is TF's error
        raise OperatorNotAllowedInGraphError(BOOL_MESSAGE)

    def __init__(self, name):
        super().__init__()
        self.name = name
        self.inputs, self.outputs, self.structured_outputs = [], [], None

    @property
    def variables(self):
        seen = {}
        for op in self.get_operations():
            if op.type == "ReadVariableOp" or op.type.endswith("VariableOp"):
                seen.setdefault(id(op.attrs["variable"]), op.attrs["variable"])
        return tuple(seen.values())


# -- signatures ----------------------------------------------------------------------------------------
def is_tensor(v):
    return (isinstance(v, torch.Tensor) and not isinstance(v, Variable)) or isinstance(v, (np.ndarray, np.generic))


def _spec_of(v, name=None):
    if isinstance(v, np.generic):                   # a numpy scalar is a 0-d tensor to tf.function, as an array is
        v = np.asarray(v)
    if isinstance(v, np.ndarray):
        return TensorSpec(v.shape, v.dtype if v.dtype != np.float64 else torch.float64, name)
    return TensorSpec(tuple(v.shape), v.dtype, name)


def encode(v):
    """The part of the cache key for one argument (tensors by spec, Python values by value)."""
    if is_tensor(v):
        s = _spec_of(v)
        return ("T", s.dtype, tuple(s.shape))
    if isinstance(v, Variable):
        return ("V", id(v))
    if isinstance(v, (list, tuple)):
        return (type(v).__name__, tuple(encode(x) for x in v))
    if isinstance(v, dict):
        return ("dict", tuple((k, encode(v[k])) for k in sorted(v, key=repr)))
    try:
        hash(v)
        return ("P", type(v), v)
    except TypeError:
        return ("O", id(v))


def relax(a, b):
    """The most specific key both keys fit (dimensions that differ become None), or None."""
    if a[0] == "T" and b[0] == "T":
        if a[1] != b[1] or len(a[2]) != len(b[2]):
            return None
        return ("T", a[1], tuple(x if x == y else None for x, y in zip(a[2], b[2])))
    if a[0] != b[0] or len(a) != len(b):
        return None
    if isinstance(a[1], tuple) and a[0] in ("list", "tuple", "dict"):
        if len(a[1]) != len(b[1]):
            return None
        parts = []
        for x, y in zip(a[1], b[1]):
            if a[0] == "dict":
                if x[0] != y[0]:
                    return None
                r = relax(x[1], y[1])
                parts.append(None if r is None else (x[0], r))
            else:
                parts.append(relax(x, y))
        return None if any(p is None for p in parts) else (a[0], tuple(parts))
    return a if a == b else None


def fits(key, general):
    """Does a call's key fit a (possibly relaxed) traced key?"""
    if key[0] == "T" and general[0] == "T":
        return key[1] == general[1] and len(key[2]) == len(general[2]) and \
            all(g is None or g == k for k, g in zip(key[2], general[2]))
    if key[0] != general[0] or len(key) != len(general):
        return False
    if key[0] in ("list", "tuple"):
        return len(key[1]) == len(general[1]) and all(fits(k, g) for k, g in zip(key[1], general[1]))
    if key[0] == "dict":
        return len(key[1]) == len(general[1]) and \
            all(k[0] == g[0] and fits(k[1], g[1]) for k, g in zip(key[1], general[1]))
    return key == general


class ConcreteFunction:
    """One traced signature: its `graph`, `structured_input_signature`, and a compiled plan."""

    def __init__(self, function, graph, arg_names, keys, placeholders, out_structure, out_tensors):
        self.graph = graph
        self._function = function
        self._arg_names, self._keys = arg_names, keys
        self.inputs = list(placeholders)
        self.outputs = [t for t in out_tensors if isinstance(t, Tensor)]
        self.structured_outputs = out_structure
        self._out_flat = out_tensors
        side = [op for op in graph.get_operations() if op.type in SIDE_EFFECTS]
        self._rt = Runtime()
        plan = build_plan(self._rt, self.outputs + side, self.inputs, rebuild=lambda v: v)
        compile_plan(plan, raw=True)
        self._step, self._n_out = plan.step, len(self.outputs)
        self.plan = plan

    @property
    def name(self):
        return self.graph.name

    @property
    def structured_input_signature(self):
        args = tuple(self._structured(k, n) for k, n in zip(self._keys, self._arg_names))
        return args, {}

    @staticmethod
    def _structured(key, name):
        if key[0] == "T":
            return TensorSpec(key[2], key[1], name)
        if key[0] in ("list", "tuple"):
            out = [ConcreteFunction._structured(k, name) for k in key[1]]
            return out if key[0] == "list" else tuple(out)
        if key[0] == "dict":
            return {k: ConcreteFunction._structured(v, name) for k, v in key[1]}
        if key[0] == "P":
            return key[2]
        return None

    def _call_flat(self, values):
        grad = torch.enable_grad() if autograd_wanted() else torch.no_grad()
        with grad:
            raw = self._step(*values)
        it = iter(raw[:self._n_out])
        flat = [wrap(next(it)) if isinstance(t, Tensor) else t for t in self._out_flat]
        return nest.pack_sequence_as(self.structured_outputs, flat) if self.structured_outputs is not None \
            else None

    def __call__(self, *args, **kwargs):
        return self._function(*args, **kwargs)

    def pretty_printed_signature(self, verbose=True):
        lines = ["Input Parameters:"]
        for name, key in zip(self._arg_names, self._keys):
            lines.append(f"  {name} (POSITIONAL_OR_KEYWORD): {_key_text(key)}")
        lines.append("Output Type:")
        outs = [f"TensorSpec(shape={tf2_str(t.shape)}, dtype=tf.{_dt.name(t.dtype)}, name=None)"
                for t in self.outputs]
        lines.append("  " + (outs[0] if len(outs) == 1 and len(self._out_flat) == 1 else
                             ("None" if not self._out_flat else repr(self.structured_outputs))))
        lines.append("Captures:")
        vars_ = self.graph.variables
        lines.append("  None" if not vars_ else "\n".join(f"  {id(v)}: TensorSpec(shape=(), dtype=tf.resource, "
                                                          "name=None)" for v in vars_))
        return "\n".join(lines)

    def __repr__(self):
        return f"ConcreteFunction {self.pretty_printed_signature()}"

    __str__ = __repr__


def _key_text(key):
    if key[0] == "T":
        return f"TensorSpec(shape={tf2_str(TensorShape(key[2]))}, dtype=tf.{_dt.name(key[1])}, name=None)"
    if key[0] == "P":
        return f"Literal[{key[2]!r}]"
    if key[0] in ("list", "tuple"):
        inner = ", ".join(_key_text(k) for k in key[1])
        return f"{key[0].capitalize()}[{inner}]"
    return repr(key)
