"""`tf.gather` as a graph op (TF's `GatherV2`), with its gradient.

    y = tf.gather(params, indices, axis=0)   # shape params[:axis] + indices.shape + params[axis+1:]

Out-of-range indices fail when the op runs (InvalidArgumentError naming the node), not when it is
built; so in a traced function an unused gather that would fail is pruned and never fails, as in
TensorFlow's guide to graphs.
"""
import torch

from course.graph.array_ops import constant, convert_to_tensor, make_op
from course.graph.registry import one_output, register_op
from course.framework.shapes import TensorShape

__all__ = ["gather", "gather_v1"]


def gather(params, indices, validate_indices=None, axis=None, batch_dims=0, name=None):
    """TF2's signature; `axis` a Python int (default 0)."""
    if batch_dims:
        raise NotImplementedError("tf.gather with batch_dims != 0 has no graph form here.")
    p = convert_to_tensor(params)
    idx = convert_to_tensor(indices)
    rank = p.shape.rank
    axis = 0 if axis is None else int(axis)
    if rank is not None:
        axis %= rank
    return make_op("GatherV2", [p, idx, constant(axis, torch.int32, name="axis")], {"axis": axis},
                   name or "GatherV2").outputs[0]


def _gather_infer(op):
    p, idx = op.inputs[0].shape, op.inputs[1].shape
    if p.rank is None or idx.rank is None:
        return one_output(TensorShape(None), op.inputs[0].dtype)
    a = op.attrs["axis"]
    return one_output(TensorShape(list(p)[:a] + list(idx) + list(p)[a + 1:]), op.inputs[0].dtype)


def _gather_kernel(op):
    a = op.attrs["axis"]

    def kernel(p, idx, _axis):
        idx = idx.long()
        n = p.shape[a]
        if idx.numel() and (idx.min() < 0 or idx.max() >= n):
            bad = int(idx.max() if idx.max() >= n else idx.min())
            raise IndexError(f"indices[...] = {bad} is not in [0, {n}) for tf.gather on an axis of size {n}.")
        out = p.index_select(a, idx.reshape(-1).to(p.device))
        return out.reshape(p.shape[:a] + idx.shape + p.shape[a + 1:])
    return kernel


register_op("GatherV2", infer=_gather_infer, kernel=_gather_kernel, doc="params[..., indices, ...] along axis.")


def _scatter_kernel(op):
    a = op.attrs["axis"]

    def kernel(grad, p, idx):
        idx = idx.long().reshape(-1).to(grad.device)
        g = grad.reshape(p.shape[:a] + (idx.numel(),) + p.shape[a + 1:])
        return torch.zeros_like(p).index_add_(a, idx, g)
    return kernel


register_op("GatherGrad", infer=lambda op: one_output(op.inputs[1].shape, op.inputs[0].dtype), kernel=_scatter_kernel,
            doc="d params of GatherV2: the gradient added back at each index (repeats sum).")


def gather_v1(params, indices, validate_indices=None, name=None, axis=None, batch_dims=0):
    """TF1's argument order (`name` before `axis`) of `gather`."""
    return gather(params, indices, validate_indices, axis, batch_dims, name)
