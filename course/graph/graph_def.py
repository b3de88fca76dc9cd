"""A Graph as TensorFlow's `GraphDef` protobuf: what `tf.summary.FileWriter` hands TensorBoard's Graphs tab.

Each operation becomes a NodeDef with TensorFlow's conventions: inputs named `op` (output 0) or
`op:i`, control inputs `^op`, the device, and the attributes that have a protobuf form (dtypes,
shapes, numbers, strings and lists of them, constant values; a constant of more than
`MAX_CONSTANT` elements keeps its dtype and shape only). Ops without a `dtype` attribute get `T`,
their first output's dtype, as TensorFlow's arithmetic ops have. With `add_shapes=True` every node
also carries `_output_shapes`, which TensorBoard prints on the edges. The protobuf classes come
from the `tensorboard` package.
"""
import types

import numpy as np
import torch

from course.framework.shapes import TensorShape
from course.summary import require_tensorboard

__all__ = ["to_graph_def", "MAX_CONSTANT"]

MAX_CONSTANT = 1000
_DT = {torch.float32: "DT_FLOAT", torch.float64: "DT_DOUBLE", torch.float16: "DT_HALF", torch.bfloat16: "DT_BFLOAT16",
       torch.int32: "DT_INT32", torch.int64: "DT_INT64", torch.int16: "DT_INT16", torch.int8: "DT_INT8",
       torch.uint8: "DT_UINT8", torch.bool: "DT_BOOL", torch.complex64: "DT_COMPLEX64",
       torch.complex128: "DT_COMPLEX128"}


def _protos():
    require_tensorboard()                            # the ImportError that says how to install it
    from tensorboard.compat.proto import (attr_value_pb2, graph_pb2, node_def_pb2, tensor_pb2, tensor_shape_pb2,
                                          types_pb2)
    from tensorboard.util import tensor_util
    return types.SimpleNamespace(AttrValue=attr_value_pb2.AttrValue, GraphDef=graph_pb2.GraphDef,
                                 NodeDef=node_def_pb2.NodeDef, TensorProto=tensor_pb2.TensorProto,
                                 Shape=tensor_shape_pb2.TensorShapeProto, DataType=types_pb2.DataType,
                                 tensor_proto=tensor_util.make_tensor_proto)


def _shape_proto(shape, pb):
    shape = shape if isinstance(shape, TensorShape) else TensorShape(shape)
    if shape.rank is None:
        return pb.Shape(unknown_rank=True)
    return pb.Shape(dim=[pb.Shape.Dim(size=-1 if d is None else int(d)) for d in shape.as_list()])


def _attr(value, pb):
    """The AttrValue for a Python attribute value, or None when it has no protobuf form."""
    AttrValue = pb.AttrValue
    if isinstance(value, torch.dtype):
        return AttrValue(type=pb.DataType.Value(_DT[value])) if value in _DT else None
    if isinstance(value, TensorShape):
        return AttrValue(shape=_shape_proto(value, pb))
    if isinstance(value, (np.ndarray, np.generic)):
        array = np.asarray(value)
        if array.size > MAX_CONSTANT:                # dtype and shape only: the Graphs tab needs no weights
            dtype = pb.tensor_proto(np.zeros(0, array.dtype)).dtype
            return AttrValue(tensor=pb.TensorProto(dtype=dtype, tensor_shape=_shape_proto(array.shape, pb)))
        return AttrValue(tensor=pb.tensor_proto(array))
    if isinstance(value, bool):
        return AttrValue(b=value)
    if isinstance(value, int):
        return AttrValue(i=value)
    if isinstance(value, float):
        return AttrValue(f=value)
    if isinstance(value, str):
        return AttrValue(s=value.encode())
    if isinstance(value, (list, tuple)) and value:
        if all(isinstance(v, bool) for v in value):
            return AttrValue(list=AttrValue.ListValue(b=list(value)))
        if all(isinstance(v, int) for v in value):
            return AttrValue(list=AttrValue.ListValue(i=list(value)))
        if all(isinstance(v, (int, float)) for v in value):
            return AttrValue(list=AttrValue.ListValue(f=[float(v) for v in value]))
        if all(isinstance(v, str) for v in value):
            return AttrValue(list=AttrValue.ListValue(s=[v.encode() for v in value]))
    return None                                      # None, optimizer objects, ops: the engine's own business


def _input_name(tensor):
    return tensor.op.name if tensor.value_index == 0 else f"{tensor.op.name}:{tensor.value_index}"


def to_graph_def(graph, add_shapes=False):
    """`graph` (a course.graph.Graph) as a GraphDef protobuf."""
    pb = _protos()
    nodes = []
    for op in graph.get_operations():
        node = pb.NodeDef(name=op.name, op=op.type, device=op.device or "",
                          input=[_input_name(t) for t in op.inputs] + [f"^{c.name}" for c in op.control_inputs])
        for key, value in op.attrs.items():
            converted = None if key.startswith("_") else _attr(value, pb)
            if converted is not None:
                node.attr[key].CopyFrom(converted)
        if "dtype" not in op.attrs and op.outputs and op.outputs[0].dtype in _DT:
            node.attr["T"].CopyFrom(_attr(op.outputs[0].dtype, pb))
        if add_shapes and op.outputs:
            shapes = [_shape_proto(t.shape, pb) for t in op.outputs]
            node.attr["_output_shapes"].CopyFrom(pb.AttrValue(list=pb.AttrValue.ListValue(shape=shapes)))
        nodes.append(node)
    return pb.GraphDef(node=nodes)
