"""Constants, placeholders, identities, fills and casts (part of TF's array_ops), with their gradients.

    x = tf.placeholder(tf.float32, shape=(None, 2), name='x-input')   # fed at run time
    c = tf.constant([[1.0, 2.0]])                                       # a value stored in the graph
    r = tf.reshape(x, [-1, 1, 2])                                       # static shape (?, 1, 2)
"""
import math

import numpy as np
import torch

from course.framework import dtypes as _dt
from course.framework.convert import infer_dtype
from course.framework.errors import InvalidArgumentError, node_note
from course.framework.shapes import TensorShape, as_shape
from course.graph.graph import Tensor, get_default_graph, graph_of
from course.graph.registry import (ConstKernel, feed_missing_message, one_output,
                                   register_op)

__all__ = ["convert_to_tensor", "constant", "placeholder", "placeholder_with_default", "identity", "stop_gradient",
           "fill", "zeros", "ones", "zeros_like", "ones_like", "cast", "to_float", "to_double", "to_int32",
           "to_int64", "group", "no_op", "Print",
           "static_shape_from", "make_op", "holds_tensor", "partial_shape_value"]


def make_op(op_type, inputs, attrs=None, name=None, graph=None):
    """Create an op in the inputs' graph (or `graph`, or the default) and return the op."""
    g = graph or graph_of(inputs)
    return g.create_op(op_type, inputs, attrs, name)


def _same_as_input(op):
    return one_output(op.inputs[0].shape, op.inputs[0].dtype)


# -- conversion ----------------------------------------------------------------------------------
def convert_to_tensor(value, dtype=None, name=None, preferred_dtype=None, graph=None):
    """A graph Tensor for `value`: tensors pass through (dtype checked), Variables give their
    value, anything else becomes a `Const` op of `dtype` (or the dtype TF infers)."""
    if isinstance(value, Tensor):
        if dtype is not None and value.dtype != _dt.as_torch_dtype(dtype):
            raise ValueError(f"Tensor conversion requested dtype {_dt.name(_dt.as_torch_dtype(dtype))} for Tensor with "
                             f"dtype {_dt.name(value.dtype)}: {value!r}. Use tf.cast(x, dtype) to convert it.")
        return value
    to_tensor = getattr(value, "_graph_tensor", None)
    if to_tensor is not None:
        return convert_to_tensor(to_tensor(), dtype, name)
    if isinstance(value, (list, tuple)) and holds_tensor(value):
        return _autopack(value, dtype, name or "packed")
    if dtype is None and preferred_dtype is not None:
        try:
            return constant(value, preferred_dtype, name=name or "Const", graph=graph)
        except (TypeError, ValueError):
            pass
    return constant(value, dtype, name=name or "Const", graph=graph)


def _symbolic(value):
    return isinstance(value, Tensor) or hasattr(value, "_graph_tensor")


def holds_tensor(value):
    """Whether a (nested) list or tuple holds a graph tensor or Variable, e.g. [tf.shape(x)[0], -1]."""
    return any(_symbolic(v) or isinstance(v, (list, tuple)) and holds_tensor(v) for v in value)


def _first_dtype(value):
    for v in value:
        if _symbolic(v):
            return convert_to_tensor(v).dtype
        if isinstance(v, (list, tuple)):
            found = _first_dtype(v)
            if found is not None:
                return found
    return None


def _autopack(value, dtype, name):
    """TF's auto-packing: a list mixing tensors and numbers is a `Pack` of its elements, in the first
    tensor's dtype (`tf.reshape(x, [tf.shape(x)[0], -1])`, `tf.zeros([batch, 10])`)."""
    dtype = _dt.as_torch_dtype(dtype) if dtype is not None else _first_dtype(value)
    parts = [_autopack(v, dtype, "packed") if isinstance(v, (list, tuple)) and holds_tensor(v)
             else convert_to_tensor(v, dtype) for v in value]
    return make_op("Pack", parts, {"axis": 0}, name).outputs[0]


def partial_shape_value(t):
    """What the graph knows of the 1-D shape tensor `t` before it runs: a list of ints (-1 kept) and
    None for the entries known only at run time, or None when even its length is unknown. TF's
    `constant_value_as_shape`: `[tf.shape(x)[0], 784]` gives [None, 784] for x of shape (?, 28, 28)."""
    op = t.op
    if op.type == "Const":
        value = op.attrs["value"]
        return [int(v) for v in value.reshape(-1)] if value.ndim == 1 else None
    if op.type == "Shape" and op.inputs[0].shape.rank is not None:
        return list(op.inputs[0].shape)
    if op.type == "Pack" and op.attrs["axis"] == 0 and all(x.shape.rank == 0 for x in op.inputs):
        return [_scalar_value(x) for x in op.inputs]
    n = t.shape[0] if t.shape.rank == 1 else None
    return None if n is None else [None] * n


def _scalar_value(t):
    """The value of the int scalar `t` if the graph knows it (a Const, or a static dim read off tf.shape)."""
    op = t.op
    if op.type == "Const":
        return int(op.attrs["value"])
    if op.type == "StridedSlice" and op.inputs[0].op.type == "Shape":
        key = op.attrs["key"]
        dims = op.inputs[0].op.inputs[0].shape
        if len(key) == 1 and isinstance(key[0], int) and dims.rank is not None and -dims.rank <= key[0] < dims.rank:
            return dims[key[0]]
    return None


def _as_array(value, dtype):
    """numpy array of `value` in torch dtype `dtype` (None: TF's inference), refusing lossy casts."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    want = infer_dtype(value) if dtype is None else _dt.as_torch_dtype(dtype)
    arr = np.asarray(value)
    if arr.dtype == object:
        raise TypeError(f"Cannot convert {value!r} to a tensor of dtype {_dt.name(want)}: it is not a number "
                        "or a rectangular nested list of numbers.")
    if _dt.is_integer(want) or want == torch.bool:
        if arr.dtype.kind == "f" and not np.all(np.mod(arr, 1) == 0):
            raise TypeError(f"Expected {_dt.name(want)}, got {value!r} of type '{type(value).__name__}' instead "
                            f"(it has a fractional part); use a float dtype or tf.cast.")
    return arr.astype(_dt.numpy_dtype(want), copy=False), want


def constant(value, dtype=None, shape=None, name="Const", verify_shape=False, graph=None):
    """A `Const` op holding `value` (a number, nested list or array), optionally reshaped."""
    arr, want = _as_array(value, dtype)
    if shape is not None:
        shape = [int(d) for d in (shape if not isinstance(shape, int) else [shape])]
        n = int(np.prod(shape))
        if arr.size == 1:
            arr = np.full(shape, arr.reshape(()), dtype=arr.dtype)
        elif arr.size == n:
            if verify_shape and list(arr.shape) != shape:
                raise TypeError(f"Expected Tensor's shape: {tuple(shape)}, got {arr.shape}.")
            arr = arr.reshape(shape)
        elif arr.size > n:
            raise TypeError(f"Too many elements provided. Needed at most {n}, but received {arr.size}.")
        else:
            raise TypeError(f"Expected {n} elements for shape {shape} but received {arr.size}; give one value to "
                            "fill the shape or exactly as many values as it holds.")
    arr = np.array(arr, order="C", copy=True)
    arr.setflags(write=False)
    g = graph or get_default_graph()
    return g.create_op("Const", [], {"value": arr, "dtype": want}, name).outputs[0]


register_op("Const", infer=lambda op: one_output(TensorShape(op.attrs["value"].shape), op.attrs["dtype"]),
            make=lambda op, rt, device: ConstKernel(torch.as_tensor(np.array(op.attrs["value"]), device=device)),
            doc="A value stored in the graph; made into a device tensor once per session.")


# -- placeholders ---------------------------------------------------------------------------------
def placeholder(dtype, shape=None, name=None):
    """A value that must be fed: `sess.run(..., feed_dict={x: array})`. `None` dims are any size."""
    shape = TensorShape(None) if shape is None else as_shape(shape)
    return get_default_graph().create_op("Placeholder", [], {"dtype": _dt.as_torch_dtype(dtype), "shape": shape},
                                         name or "Placeholder").outputs[0]


def _unfed(op, rt, device):
    def kernel():
        raise InvalidArgumentError(None, op, feed_missing_message(op) + node_note(op))
    return kernel


register_op("Placeholder", infer=lambda op: one_output(op.attrs["shape"], op.attrs["dtype"]), make=_unfed)


def placeholder_with_default(input, shape, name=None):   # noqa: A002 (TF's argument name)
    """Like `placeholder`, but evaluates to `input` when not fed."""
    value = convert_to_tensor(input)
    shape = as_shape(shape)
    if not shape.is_compatible_with(value.shape):
        raise ValueError(f"placeholder_with_default: the default value has shape {value.shape}, which is not "
                         f"compatible with the requested shape {shape}.")
    return make_op("PlaceholderWithDefault", [value], {"shape": shape}, name or "PlaceholderWithDefault").outputs[0]


register_op("PlaceholderWithDefault", infer=lambda op: one_output(op.attrs["shape"], op.inputs[0].dtype),
            kernel=lambda op: (lambda x: x), alias=True)


# -- identity-like ----------------------------------------------------------------------------------
def identity(input, name=None):   # noqa: A002
    input = convert_to_tensor(input)
    return make_op("Identity", [input], None, name or "Identity").outputs[0]


def stop_gradient(input, name=None):   # noqa: A002
    input = convert_to_tensor(input)
    return make_op("StopGradient", [input], None, name or "StopGradient").outputs[0]


register_op("Identity", infer=_same_as_input, kernel=lambda op: (lambda x: x), alias=True)
register_op("StopGradient", infer=_same_as_input, kernel=lambda op: (lambda x: x), alias=True)


def Print(input_, data, message=None, first_n=None, summarize=None, name=None):   # noqa: N802 (TF's name)
    """TF1's debugging identity: returns `input_`, printing `message` and `data` when it runs."""
    data = [convert_to_tensor(d) for d in data]
    return make_op("Print", [convert_to_tensor(input_)] + data,
                   {"message": message or "", "first_n": first_n or -1, "summarize": summarize or 3},
                   name or "Print").outputs[0]


def _print_kernel(op):
    state = {"n": 0}
    msg, first_n, k = op.attrs["message"], op.attrs["first_n"], op.attrs["summarize"]

    def kernel(x, *data):
        if first_n < 0 or state["n"] < first_n:
            state["n"] += 1
            shown = " ".join(str(np.asarray(d.detach().cpu()).reshape(-1)[:k].tolist()) for d in data)
            print(f"{msg}{shown}")
        return x
    return kernel


register_op("Print", infer=_same_as_input, kernel=_print_kernel, stateful=True)


def static_shape_from(shape):
    """A Python list from a shape given as a list/tuple/TensorShape/ndarray (None: not static)."""
    if isinstance(shape, Tensor):
        op = shape.op
        return [int(v) for v in op.attrs["value"].reshape(-1)] if op.type == "Const" else None
    if isinstance(shape, (int, np.integer)):
        return [int(shape)]
    if holds_tensor(shape):
        return None
    return [(-1 if d is None else int(d)) for d in shape]


# -- filled tensors -----------------------------------------------------------------------------------
_CONST_LIMIT = 1 << 14      # bigger constant fills become Fill ops (computed per run, not stored)


def fill(dims, value, name=None):
    value = convert_to_tensor(value)
    static = static_shape_from(dims)
    if static is None:
        return make_op("Fill", [convert_to_tensor(dims, torch.int32), value], {}, name or "Fill").outputs[0]
    return make_op("Fill", [value], {"shape": static}, name or "Fill").outputs[0]


def _fill_infer(op):
    if "shape" in op.attrs:
        return one_output(TensorShape(op.attrs["shape"]), op.inputs[-1].dtype)
    dims = partial_shape_value(op.inputs[0])
    return one_output(TensorShape(None if dims is None else [d if d is None or d >= 0 else None for d in dims]),
                      op.inputs[-1].dtype)


def _fill_kernel(op):
    if "shape" in op.attrs:
        shp = tuple(op.attrs["shape"])
        return lambda v: v.expand(shp).clone()
    return lambda d, v: v.expand(d.tolist()).clone()


register_op("Fill", infer=_fill_infer, kernel=_fill_kernel)


def _filled(shape, dtype, value, name):
    dtype = _dt.as_torch_dtype(dtype)
    static = static_shape_from(shape)
    if static is not None and math.prod(static) <= _CONST_LIMIT:
        return constant(np.full(static, value, dtype=_dt.numpy_dtype(dtype)), dtype, name=name)
    return fill(shape, constant(value, dtype), name=name)


def zeros(shape, dtype=torch.float32, name=None):
    return _filled(shape, dtype, 0, name or "zeros")


def ones(shape, dtype=torch.float32, name=None):
    return _filled(shape, dtype, 1, name or "ones")


def zeros_like(tensor, dtype=None, name=None, optimize=True):
    tensor = convert_to_tensor(tensor)
    return make_op("ZerosLike", [tensor], {"dtype": _dt.as_torch_dtype(dtype) if dtype else tensor.dtype},
                   name or "zeros_like").outputs[0]


def ones_like(tensor, dtype=None, name=None, optimize=True):
    tensor = convert_to_tensor(tensor)
    return make_op("OnesLike", [tensor], {"dtype": _dt.as_torch_dtype(dtype) if dtype else tensor.dtype},
                   name or "ones_like").outputs[0]


register_op("ZerosLike", infer=lambda op: one_output(op.inputs[0].shape, op.attrs["dtype"]),
            kernel=lambda op: (lambda x, _t=op.attrs["dtype"]: torch.zeros_like(x, dtype=_t)))
register_op("OnesLike", infer=lambda op: one_output(op.inputs[0].shape, op.attrs["dtype"]),
            kernel=lambda op: (lambda x, _t=op.attrs["dtype"]: torch.ones_like(x, dtype=_t)))


# -- dtype ----------------------------------------------------------------------------------------------
def cast(x, dtype, name=None):
    x = convert_to_tensor(x)
    dtype = _dt.as_torch_dtype(dtype)
    if x.dtype == dtype:
        return x
    return make_op("Cast", [x], {"DstT": dtype}, name or "Cast").outputs[0]


def to_float(x, name="ToFloat"):
    """TF1's deprecated shorthands for tf.cast (still in tf.compat.v1): to_float, to_double, to_int32,
    to_int64."""
    return cast(x, torch.float32, name=name)


def to_double(x, name="ToDouble"):
    return cast(x, torch.float64, name=name)


def to_int32(x, name="ToInt32"):
    return cast(x, torch.int32, name=name)


def to_int64(x, name="ToInt64"):
    return cast(x, torch.int64, name=name)


register_op("Cast", infer=lambda op: one_output(op.inputs[0].shape, op.attrs["DstT"]),
            kernel=lambda op: (lambda x, _t=op.attrs["DstT"]: x.to(_t)))


# -- grouping ----------------------------------------------------------------------------------------------
def no_op(name=None):
    return get_default_graph().create_op("NoOp", [], {}, name or "NoOp")


def group(*inputs, **kwargs):
    """An op that runs all `inputs` (ops or tensors); returns the NoOp."""
    name = kwargs.pop("name", None)
    if kwargs:
        raise TypeError(f"group() got unexpected keyword arguments {sorted(kwargs)}.")
    flat = []

    def walk(x):
        if isinstance(x, (list, tuple)):
            for v in x:
                walk(v)
        elif isinstance(x, dict):
            for v in x.values():
                walk(v)
        elif x is not None:
            flat.append(x)
    walk(inputs)
    g = graph_of(flat)
    with g.control_dependencies(flat):
        return g.create_op("NoOp", [], {}, name or "NoOp")


register_op("NoOp", infer=lambda op: [], kernel=lambda op: (lambda: None))
