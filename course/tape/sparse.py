"""`tf.sparse.SparseTensor` basics: TF's COO encoding (indices, values, dense_shape) and the common ops.

A `SparseTensor` holds int64 `indices` (N, rank), `values` (N,) and an int64 `dense_shape`, as TF
does, and prints as TF prints it. The ops (`to_dense`, `from_dense`, `reorder`, `add`,
`reduce_sum`, `sparse_dense_matmul`, `transpose`, `slice`, `retain`, `*` and `/` by a scalar or a
dense tensor) compute through dense torch tensors or index arithmetic; they are for the tensor
guide's sizes, not for large sparse models. Anything else raises the facade's unsupported error.
"""
import numpy as np
import torch

from course.framework import dtypes
from course.framework.shapes import TensorShape
from course.tape.tensor import to_numpy, to_tensor, wrap
from course.framework.convert import as_plain

__all__ = ["SparseTensor", "to_dense", "from_dense", "reorder", "add", "reduce_sum", "sparse_dense_matmul",
           "transpose", "slice_", "retain"]


class SparseTensor:
    """`tf.sparse.SparseTensor(indices, values, dense_shape)`: values at the given coordinates, zeros elsewhere."""

    def __init__(self, indices, values, dense_shape):
        self._indices = as_plain(to_tensor(indices, torch.int64)).reshape(-1, len(to_numpy(to_tensor(dense_shape))))
        self._values = as_plain(to_tensor(values))
        self._shape = as_plain(to_tensor(dense_shape, torch.int64)).reshape(-1)
        if self._indices.shape[0] != self._values.shape[0]:
            raise ValueError(f"SparseTensor: {self._indices.shape[0]} indices but {self._values.shape[0]} values; "
                             f"give one value per index row.")

    @property
    def indices(self):
        return wrap(self._indices)

    @property
    def values(self):
        return wrap(self._values)

    @property
    def dense_shape(self):
        return wrap(self._shape)

    @property
    def shape(self):
        return TensorShape(self._shape.tolist())

    @property
    def dtype(self):
        return dtypes.as_dtype(self._values.dtype)

    def get_shape(self):
        return self.shape

    def _with_values(self, values):
        return SparseTensor(self._indices, values, self._shape)

    def __mul__(self, other):            # a scalar, or a dense tensor read at the stored coordinates
        return self._with_values(self._values * _at(other, self))

    __rmul__ = __mul__

    def __truediv__(self, other):
        return self._with_values(self._values / _at(other, self))

    def __repr__(self):
        return (f"SparseTensor(indices={str(self.indices)}, values={str(self.values)}, "
                f"dense_shape={str(self.dense_shape)})")

    __str__ = __repr__


def _at(other, sp):
    t = as_plain(to_tensor(other))
    if t.dim() == 0:
        return t
    dense = t.expand(tuple(sp._shape.tolist()))
    return dense[tuple(sp._indices.t())]


def _check(sp, what):
    if not isinstance(sp, SparseTensor):
        raise TypeError(f"{what} expects a tf.sparse.SparseTensor; got {type(sp).__name__}. Convert a dense "
                        f"tensor with tf.sparse.from_dense.")


def to_dense(sp_input, default_value=None, validate_indices=True, name=None):
    _check(sp_input, "tf.sparse.to_dense")
    fill = 0 if default_value is None else default_value
    out = torch.full(tuple(sp_input._shape.tolist()), fill, dtype=sp_input._values.dtype,
                     device=sp_input._values.device)
    if sp_input._indices.numel():
        out[tuple(sp_input._indices.t().to(out.device))] = sp_input._values
    return wrap(out)


def from_dense(tensor, name=None):
    """The non-zero entries of `tensor`, in row-major order."""
    t = as_plain(to_tensor(tensor))
    idx = torch.nonzero(t != 0)
    return SparseTensor(idx, t[tuple(idx.t())], list(t.shape))


def reorder(sp_input, name=None):
    """Indices in row-major (canonical) order, as TF's ops expect."""
    _check(sp_input, "tf.sparse.reorder")
    if sp_input._indices.shape[0] == 0:
        return sp_input
    strides = torch.tensor(np.cumprod([1] + sp_input._shape.tolist()[::-1][:-1])[::-1].copy(), dtype=torch.int64)
    order = torch.argsort((sp_input._indices.cpu() * strides).sum(1))
    return SparseTensor(sp_input._indices[order], sp_input._values[order], sp_input._shape)


def add(a, b, threshold=0, name=None):
    """sparse + sparse -> sparse (entries summed, canonical order); sparse + dense -> dense."""
    if isinstance(a, SparseTensor) and isinstance(b, SparseTensor):
        dense = as_plain(to_dense(a)) + as_plain(to_dense(b))
        keep = (a._indices.tolist(), b._indices.tolist())
        coords = sorted({tuple(i) for group in keep for i in group})
        idx = torch.tensor(coords, dtype=torch.int64).reshape(-1, a._shape.numel())
        values = dense[tuple(idx.t())] if coords else dense.reshape(-1)[:0]
        if threshold:
            mask = values.abs() >= threshold
            idx, values = idx[mask], values[mask]
        return SparseTensor(idx, values, a._shape)
    sp, dense = (a, b) if isinstance(a, SparseTensor) else (b, a)
    return wrap(as_plain(to_dense(sp)) + as_plain(to_tensor(dense)))


def reduce_sum(sp_input, axis=None, keepdims=None, output_is_sparse=False, name=None):
    _check(sp_input, "tf.sparse.reduce_sum")
    dense = as_plain(to_dense(sp_input))
    out = dense.sum(dtype=dense.dtype) if axis is None else \
        dense.sum(dim=axis, keepdim=bool(keepdims), dtype=dense.dtype)      # TF keeps int32 (torch would widen)
    return from_dense(out) if output_is_sparse else wrap(out)


def sparse_dense_matmul(sp_a, b, adjoint_a=False, adjoint_b=False, name=None):
    _check(sp_a, "tf.sparse.sparse_dense_matmul")
    a = as_plain(to_dense(sp_a))
    b = as_plain(to_tensor(b))
    a = a.transpose(-1, -2).conj() if adjoint_a else a
    b = b.transpose(-1, -2).conj() if adjoint_b else b
    return wrap(a @ b)


def transpose(sp_input, perm=None, name=None):
    _check(sp_input, "tf.sparse.transpose")
    rank = sp_input._shape.numel()
    perm = list(range(rank))[::-1] if perm is None else [int(p) for p in perm]
    return reorder(SparseTensor(sp_input._indices[:, perm], sp_input._values, sp_input._shape[perm]))


def slice_(sp_input, start, size, name=None):
    _check(sp_input, "tf.sparse.slice")
    start = torch.tensor([int(s) for s in start], dtype=torch.int64)
    end = torch.minimum(start + torch.tensor([int(s) for s in size], dtype=torch.int64), sp_input._shape.cpu())
    idx = sp_input._indices.cpu()
    keep = ((idx >= start) & (idx < end)).all(1)
    return SparseTensor(idx[keep] - start, sp_input._values[keep.to(sp_input._values.device)], end - start)


def retain(sp_input, to_retain):
    _check(sp_input, "tf.sparse.retain")
    keep = as_plain(to_tensor(to_retain)).bool()
    return SparseTensor(sp_input._indices[keep], sp_input._values[keep.to(sp_input._values.device)],
                        sp_input._shape)
