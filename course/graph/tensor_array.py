"""`tf.TensorArray`: a list of same-shaped tensors that a loop fills one index at a time.

    ta = tf.TensorArray(tf.float32, size=0, dynamic_size=True)
    for i in tf.range(n):
        ta = ta.write(i, x * tf.cast(i, tf.float32))      # write returns the new array: keep it
    y = ta.stack()                                        # (n, *x.shape)

Every operation returns a new TensorArray (TF2's semantics); its value is one dense tensor of shape
(size, *element_shape), its *flow*, so it can be a loop variable of `tf.while_loop` and gradients
flow through it like through any tensor. Until the first write with an unknown element shape the
flow is (size, 0); the write gives it the element's shape. In eager code the same kernels run on
eager tensors now; in a graph they are the ops `TensorListReserve`, `TensorListSetItem`, ...
"""
import torch

from course.framework import dtypes as _dt
from course.framework.errors import InvalidArgumentError
from course.framework.shapes import TensorShape, as_shape
from course.graph.array_ops import convert_to_tensor, make_op
from course.graph import graph as _graph
from course.graph.graph import Tensor
from course.graph.registry import NotDifferentiable, RegisterGradient, register_op
from course.tape.tensor import to_tensor, wrap

__all__ = ["TensorArray"]

_UNKNOWN = TensorShape(None)


# -- kernels: the same torch functions for eager values and graph ops --------------------------------------
def _blank(buf):
    return buf.dim() == 2 and buf.shape[1] == 0


def _reserve(size, element_shape, dtype):
    shape = list(element_shape) if element_shape.rank is not None and element_shape.is_fully_defined() else [0]
    return torch.zeros([int(size)] + shape, dtype=dtype, device=_device(size))


def _device(t):
    return t.device if isinstance(t, torch.Tensor) else None


def _write(buf, index, value, dynamic):
    i, value = int(index), value.to(buf.dtype)
    if _blank(buf) and tuple(value.shape) != (0,):
        buf = torch.zeros((buf.shape[0],) + tuple(value.shape), dtype=buf.dtype, device=buf.device)
    if i < 0:
        raise InvalidArgumentError(f"Tried to write to index {i} of a TensorArray: indices must be >= 0.")
    if i >= buf.shape[0]:
        if not dynamic:
            raise InvalidArgumentError(f"Tried to write to index {i} but array is not resizeable and size is: "
                                       f"{buf.shape[0]}. Create it with dynamic_size=True, or a larger size.")
        pad = torch.zeros((i + 1 - buf.shape[0],) + tuple(buf.shape[1:]), dtype=buf.dtype, device=buf.device)
        buf = torch.cat([buf, pad])
    if tuple(value.shape) != tuple(buf.shape[1:]):
        raise InvalidArgumentError(f"Could not write to TensorArray index {i} because the value shape is "
                                   f"{list(value.shape)} which is incompatible with the TensorArray's inferred "
                                   f"element shape: {list(buf.shape[1:])}.")
    return torch.cat([buf[:i], value.unsqueeze(0), buf[i + 1:]])


def _read(buf, index):
    i = int(index)
    if not 0 <= i < buf.shape[0]:
        raise InvalidArgumentError(f"Tried to read from index {i} but array size is: {buf.shape[0]}.")
    return buf[i]


def _grad_in(grad, buf_in, index):
    """d(buf_in) of a write at `index`: the output's gradient without row `index`, cut to buf_in's size."""
    if _blank(buf_in) or grad.dim() == 0:
        return torch.zeros_like(buf_in)
    g = grad[:buf_in.shape[0]].clone()
    if int(index) < g.shape[0]:
        g[int(index)] = 0
    return g


def _read_grad(buf, index, grad):
    out = torch.zeros_like(buf)
    out[int(index)] = grad
    return out


# -- graph ops ----------------------------------------------------------------------------------------------
def _flow(op):
    return [(_UNKNOWN, op.attrs["dtype"] if "dtype" in op.attrs else op.inputs[0].dtype)]


register_op("TensorListReserve", infer=_flow,
            kernel=lambda op: (lambda size: _reserve(size, op.attrs["element_shape"], op.attrs["dtype"])))
register_op("TensorListSetItem", infer=_flow, kernel=lambda op: (lambda b, i, v: _write(b, i, v, op.attrs["dynamic"])))
register_op("TensorListGetItem", infer=lambda op: [(op.attrs["element_shape"], op.inputs[0].dtype)],
            kernel=lambda op: _read)
register_op("TensorListStack", infer=lambda op: [(op.attrs["shape"], op.inputs[0].dtype)],
            kernel=lambda op: (lambda b: b), alias=True)
register_op("TensorListFromTensor", infer=_flow, kernel=lambda op: (lambda v: v), alias=True)
register_op("TensorListGather", infer=lambda op: [(op.attrs["shape"], op.inputs[0].dtype)],
            kernel=lambda op: (lambda b, idx: b[idx.long()]))
register_op("TensorListConcat", infer=lambda op: [(op.attrs["shape"], op.inputs[0].dtype)],
            kernel=lambda op: (lambda b: b.reshape((-1,) + tuple(b.shape[2:]))))
register_op("TensorListLength", infer=lambda op: [(TensorShape([]), torch.int32)],
            kernel=lambda op: (lambda b: torch.tensor(b.shape[0], dtype=torch.int32, device=b.device)))
register_op("TensorListGradIn", infer=lambda op: [(_UNKNOWN, op.inputs[0].dtype)], kernel=lambda op: _grad_in)
register_op("TensorListReadGrad", infer=lambda op: [(_UNKNOWN, op.inputs[0].dtype)], kernel=lambda op: _read_grad)
register_op("TensorListGatherGrad", infer=lambda op: [(_UNKNOWN, op.inputs[0].dtype)],
            kernel=lambda op: (lambda b, idx, g: torch.zeros_like(b).index_add(0, idx.long(), g)))
register_op("TensorListConcatGrad", infer=lambda op: [(_UNKNOWN, op.inputs[0].dtype)],
            kernel=lambda op: (lambda b, g: g.reshape(b.shape)))
for _t in ("TensorListReserve", "TensorListLength", "TensorListGradIn", "TensorListReadGrad", "TensorListGatherGrad",
           "TensorListConcatGrad"):
    NotDifferentiable(_t)


def _op(op_type, inputs, attrs=None, name=None):
    return make_op(op_type, inputs, attrs or {}, name or op_type).outputs[0]


@RegisterGradient("TensorListSetItem")
def _set_item_grad(op, grad):
    buf, index, _ = op.inputs
    return [_op("TensorListGradIn", [grad, buf, index]), None,
            _op("TensorListGetItem", [grad, index], {"element_shape": op.inputs[2].shape})]


@RegisterGradient("TensorListGetItem")
def _get_item_grad(op, grad):
    return [_op("TensorListReadGrad", [op.inputs[0], op.inputs[1], grad]), None]


@RegisterGradient("TensorListStack")
@RegisterGradient("TensorListFromTensor")
def _pass_grad(op, grad):
    return [grad]


@RegisterGradient("TensorListGather")
def _gather_grad(op, grad):
    return [_op("TensorListGatherGrad", [op.inputs[0], op.inputs[1], grad]), None]


@RegisterGradient("TensorListConcat")
def _concat_grad(op, grad):
    return [_op("TensorListConcatGrad", [op.inputs[0], grad])]


# -- the Python object -------------------------------------------------------------------------------------
class TensorArray:
    """TF's `tf.TensorArray(dtype, size=None, dynamic_size=None, ..., element_shape=None)`."""

    def __init__(self, dtype, size=None, dynamic_size=None, clear_after_read=None, tensor_array_name=None,
                 handle=None, flow=None, infer_shape=True, element_shape=None, colocate_with_first_write_call=True,
                 name=None):
        self._dtype = _dt.as_torch_dtype(dtype)
        self._dynamic = bool(dynamic_size)
        self._shape_box = [_UNKNOWN if element_shape is None else as_shape(element_shape)]
        if flow is not None:
            self._flow = flow
            return
        if size is None:
            if not self._dynamic:
                raise ValueError("Size must be provided if handle is not provided: give size=, or "
                                 "size=0 with dynamic_size=True.")
            size = 0
        if isinstance(size, Tensor) or _graph_mode():
            size = convert_to_tensor(size, dtype=torch.int32)
            self._flow = _op("TensorListReserve", [size], {"element_shape": self._shape_box[0], "dtype": self._dtype},
                             name or "TensorArrayV2")
        else:
            n = int(size.numpy()) if hasattr(size, "numpy") else int(size)
            self._flow = wrap(_reserve(n, self._shape_box[0], self._dtype).to(_eager_device()))

    # what tf.while_loop and tf.cond carry: the flow tensor
    def _cf_flow(self):
        return self._flow

    def _cf_rebuild(self, flow):
        return self._new(flow)

    def _new(self, flow):
        out = TensorArray.__new__(TensorArray)
        out._dtype, out._dynamic, out._shape_box, out._flow = self._dtype, self._dynamic, self._shape_box, flow
        return out

    @property
    def flow(self):
        return self._flow

    @property
    def dtype(self):
        from course.framework.dtypes import as_dtype
        return as_dtype(self._dtype)

    @property
    def dynamic_size(self):
        return self._dynamic

    @property
    def element_shape(self):
        return self._shape_box[0]

    def _graph(self, *values):
        return isinstance(self._flow, Tensor) or any(isinstance(v, Tensor) for v in values)

    def _merge_shape(self, shape):
        known = self._shape_box[0]
        shape = as_shape(shape)
        if known.rank is not None and not known.is_compatible_with(shape):
            raise ValueError(f"Inconsistent shapes: saw {shape} but expected {known} (and infer_shape=True). Write "
                             "values of one shape into a TensorArray.")
        self._shape_box[0] = shape if known.rank is None else known.merge_with(shape)

    def _stacked_shape(self):
        e = self._shape_box[0]
        return _UNKNOWN if e.rank is None else TensorShape([None] + list(e))

    def write(self, index, value, name=None):
        if self._graph(index, value):
            value = convert_to_tensor(value, dtype=self._dtype)
            self._merge_shape(value.shape)
            index = convert_to_tensor(index, dtype=torch.int32)
            return self._new(_op("TensorListSetItem", [self._graph_flow(), index, value], {"dynamic": self._dynamic},
                                 name))
        value = to_tensor(value, dtype=self._dtype)
        self._merge_shape(tuple(value.shape))
        return self._new(wrap(_write(self._flow, _int(index), value, self._dynamic)))

    def read(self, index, name=None):
        if self._graph(index):
            index = convert_to_tensor(index, dtype=torch.int32)
            return _op("TensorListGetItem", [self._graph_flow(), index], {"element_shape": self._shape_box[0]}, name)
        return wrap(_read(self._flow, _int(index)))

    def stack(self, name=None):
        if self._graph():
            return _op("TensorListStack", [self._graph_flow()], {"shape": self._stacked_shape()}, name)
        return wrap(self._flow)

    def gather(self, indices, name=None):
        if self._graph(indices):
            indices = convert_to_tensor(indices, dtype=torch.int32)
            return _op("TensorListGather", [self._graph_flow(), indices], {"shape": self._stacked_shape()}, name)
        return wrap(self._flow[to_tensor(indices).long()])

    def concat(self, name=None):
        if self._graph():
            e = self._shape_box[0]
            shape = _UNKNOWN if e.rank is None else TensorShape([None] + list(e)[1:])
            return _op("TensorListConcat", [self._graph_flow()], {"shape": shape}, name)
        return wrap(self._flow.reshape((-1,) + tuple(self._flow.shape[2:])))

    def unstack(self, value, name=None):
        if self._graph(value):
            value = convert_to_tensor(value, dtype=self._dtype)
            if value.shape.rank:
                self._merge_shape(list(value.shape)[1:])
            return self._new(_op("TensorListFromTensor", [value], {"dtype": self._dtype}, name))
        value = to_tensor(value, dtype=self._dtype)
        self._merge_shape(tuple(value.shape[1:]))
        return self._new(wrap(value))

    def scatter(self, indices, value, name=None):
        out = self
        for k, i in enumerate(_indices(indices)):
            out = out.write(i, value[k])
        return out

    def size(self, name=None):
        if self._graph():
            return _op("TensorListLength", [self._graph_flow()], {}, name)
        return wrap(torch.tensor(self._flow.shape[0], dtype=torch.int32))

    def identity(self):
        return self._new(self._flow)

    def close(self, name=None):
        return None

    def mark_used(self):
        return None

    def _graph_flow(self):
        return convert_to_tensor(self._flow)

    def __repr__(self):
        return f"<TensorArray dtype={_dt.name(self._dtype)} element_shape={self._shape_box[0]}>"


def _int(index):
    return int(index.numpy()) if hasattr(index, "numpy") else int(index)


def _indices(indices):
    if hasattr(indices, "numpy"):
        return [int(i) for i in indices.numpy().reshape(-1)]
    return [int(i) for i in indices]


def _graph_mode():
    return bool(_graph._graph_stack)


def _eager_device():
    import course.device
    return course.device.get()
