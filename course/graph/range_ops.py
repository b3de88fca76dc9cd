"""`tf.range` as a graph op (`Range`): start, limit and delta may be tensors known only when it runs.

    r = tf.range(n)            # inside tf.function with a tensor n: shape (None,), int32
    for i in tf.range(n):      # AutoGraph loops on a counter instead of building r (see autograph)
"""
import math

import torch

from course.framework import dtypes as _dt
from course.framework.errors import InvalidArgumentError
from course.framework.shapes import TensorShape
from course.graph.array_ops import cast, convert_to_tensor, make_op
from course.graph.graph import Tensor
from course.graph.registry import NotDifferentiable, register_op

__all__ = ["range_"]


def _dtype(values, dtype):
    if dtype is not None:
        return _dt.as_torch_dtype(dtype)
    tensors = [v for v in values if isinstance(v, Tensor)]
    floats = [t.dtype for t in tensors if _dt.is_floating(t.dtype)]
    if floats:
        return floats[0]
    if any(isinstance(v, float) for v in values):
        return torch.float32
    if any(t.dtype == torch.int64 for t in tensors):
        return torch.int64
    return torch.int32


def _infer(op):
    consts = [getattr(t.op, "attrs", {}).get("value") if t.op.type == "Const" else None for t in op.inputs]
    n = None
    if all(c is not None for c in consts):
        start, limit, delta = (float(c) for c in consts)
        n = max(0, math.ceil((limit - start) / delta)) if delta else None
    return [(TensorShape([n]), op.attrs["Tidx"])]


def _kernel(op):
    dtype = op.attrs["Tidx"]

    def kernel(start, limit, delta):
        if float(delta) == 0:
            raise InvalidArgumentError("Requires delta != 0: tf.range(start, limit, delta) needs a non-zero delta.")
        wide = torch.float64 if dtype.is_floating_point else torch.int64
        return torch.arange(start.item(), limit.item(), delta.item(), dtype=wide, device=start.device).to(dtype)
    return kernel


register_op("Range", infer=_infer, kernel=_kernel, doc="start, start+delta, ... below limit (above it for delta < 0).")
NotDifferentiable("Range")


def range_(start, limit=None, delta=1, dtype=None, name="range"):
    """TF's `tf.range(limit)` / `tf.range(start, limit, delta, dtype)` as a `Range` op."""
    if limit is None:
        start, limit = 0, start
    want = _dtype((start, limit, delta), dtype)
    ts = [convert_to_tensor(v, dtype=want) if not isinstance(v, Tensor) else v for v in (start, limit, delta)]
    ts = [t if t.dtype == want else cast(t, want) for t in ts]
    return make_op("Range", ts, {"Tidx": want}, name or "range").outputs[0]

